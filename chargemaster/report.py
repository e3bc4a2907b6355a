"""Write the report workbook: Summary, Issues, Chargemaster, Rules.

All Excel details live here. Text is always written as text (never a formula, never a number,
never a link), illegal XML characters are removed, and the file is written to a temporary
name beside the target and moved into place only when complete.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from .catalog import FINDING_COLUMNS, FINDING_HEADERS, RULES
from .output import atomic_write
from .pipeline import Result

EXCEL_MAX_ROWS = 1_048_576
MAX_CELL_CHARS = 32_767
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FILLS = {"error": "#F8CBAD", "warning": "#FFE699", "info": "#DDEBF7"}
CODED_HEADERS = [
    "HCPCS (coded)",
    "Modifiers (coded)",
    "Revenue Code (coded)",
    "Code Source",
    "Rules",
]


def clean(value: Any) -> Any:
    """A value as the report writes it: None for missing, text without control characters."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, str):
        if not value:
            return None
        text = _ILLEGAL.sub("", value)
        return text[: MAX_CELL_CHARS - 1] + "…" if len(text) > MAX_CELL_CHARS else text
    return value


def clean_column(values: pd.Series) -> list[Any]:
    """A column ready for write_row: None for missing or empty, strings cleaned, numbers kept."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return [None if v != v else v for v in values.astype("float64").tolist()]
    obj = values.astype("object")
    is_text = obj.map(lambda v: isinstance(v, str))
    if is_text.any():
        text = obj[is_text].astype("str").str.replace(_ILLEGAL, "", regex=True)
        long = text.str.len() > MAX_CELL_CHARS
        if long.any():
            text = text.mask(long, text.str[: MAX_CELL_CHARS - 1] + "…")
        obj = obj.mask(is_text, text)
    return [None if _missing(v) else v for v in obj.tolist()]


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v) or v == ""


class _Writer:
    def __init__(self, path: Path):
        self.book = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "constant_memory": True,
            },
        )
        # Fixed properties: the same input gives the same report (only run facts differ).
        self.book.set_properties(
            {
                "title": "Chargemaster report",
                "author": "chargemaster",
                "created": dt.datetime(2000, 1, 1),
            }
        )
        self.bold = self.book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
        self.title = self.book.add_format({"bold": True, "font_size": 14})
        self.label = self.book.add_format({"bold": True})
        self.fills = {k: self.book.add_format({"bg_color": v}) for k, v in _FILLS.items()}
        self.names: set[str] = set()

    def sheet(self, name: str):
        ws = self.book.add_worksheet(name)
        self.names.add(name)
        return ws

    def put(self, ws, r: int, c: int, value: Any, fmt=None) -> None:
        value = clean(value)
        if value is None:
            ws.write_blank(r, c, None, fmt)
        elif isinstance(value, str):
            ws.write_string(r, c, value, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(r, c, value, fmt)
        elif isinstance(value, (int, float)):
            ws.write_number(r, c, value, fmt)
        else:
            ws.write_string(r, c, str(value), fmt)

    def table(
        self,
        name: str,
        headers: Sequence[str],
        columns: Sequence[Sequence[Any]],
        widths: Sequence[int],
        first_formats: dict[str, Any] | None = None,
    ) -> list[str]:
        """A flat sheet with a frozen header and autofilter, from cleaned columns; continues on
        'name (2)' past Excel's row limit. Returns the sheet names used.

        Rows go through xlsxwriter's write_row: with strings_to_formulas/urls/numbers off, a
        string is always written as a string.
        """
        used = []
        ws, r = None, EXCEL_MAX_ROWS
        for row in zip(*columns, strict=True):
            if r >= EXCEL_MAX_ROWS:
                if ws is not None:
                    ws.autofilter(0, 0, r - 1, len(headers) - 1)
                sheet_name = name if not used else f"{name} ({len(used) + 1})"
                ws = self._header_sheet(sheet_name, headers, widths)
                used.append(sheet_name)
                r = 1
            ws.write_row(r, 0, row)
            if first_formats and row[0] in first_formats:
                ws.write_string(r, 0, row[0], first_formats[row[0]])
            r += 1
        if ws is None:
            ws = self._header_sheet(name, headers, widths)
            used.append(name)
            r = 1
        ws.autofilter(0, 0, max(r - 1, 0), len(headers) - 1)
        return used

    def _header_sheet(self, name: str, headers: Sequence[str], widths: Sequence[int]):
        ws = self.sheet(name)
        for c, h in enumerate(headers):
            ws.write_string(0, c, clean(h), self.bold)
            ws.set_column(c, c, widths[c] if c < len(widths) else 14)
        ws.freeze_panes(1, 0)
        return ws


def default_output(chargemaster: Path) -> Path:
    chargemaster = Path(chargemaster)
    return chargemaster.with_name(f"{chargemaster.stem}.report.xlsx")


def write_report(result: Result, path: Path) -> Path:
    """Write the report to ``path`` atomically; returns the path."""
    protect = [result.options.chargemaster]
    if result.options.code_map:
        protect.append(result.options.code_map)
    return atomic_write(path, lambda tmp: _write(result, tmp), protect)


def _write(result: Result, path: Path) -> None:
    w = _Writer(path)
    summary = w.sheet("Summary")
    issues_sheets = _issues(w, result)
    cdm_sheets = _chargemaster(w, result)
    if result.changes is not None:
        _changes(w, result)
    _rules(w, result)
    _summary(w, summary, result, issues_sheets, cdm_sheets)
    w.book.close()


def _issues(w: _Writer, result: Result) -> list[str]:
    f = result.findings
    columns = [clean_column(f[c]) for c in FINDING_COLUMNS]
    columns[2] = [None if v is None else int(v) for v in columns[2]]  # Row
    widths = [9, 24, 8, 10, 22, 16, 22, 14, 90]
    return w.table("Issues", FINDING_HEADERS, columns, widths, first_formats=w.fills)


def _rules_by_row(result: Result) -> pd.Series:
    f = result.findings
    on_lines = f["row"].notna() & ~f["cell"].fillna("").str.contains("!", regex=False)
    f = f[on_lines & f["row"].isin(result.lines.frame.index)]
    if f.empty:
        return pd.Series(dtype="str")
    return f.groupby("row")["rule"].agg(lambda s: " ".join(sorted(set(s))))


def _chargemaster(w: _Writer, result: Result) -> list[str]:
    table, frame = result.table, result.lines.frame
    data, prices = table.data, result.lines.prices
    columns = [frame.index.tolist()]
    for h in table.headers:
        if h in prices.columns:  # a price that parses is written as a number finance can sum
            as_text = clean_column(data[h])
            as_number = clean_column(prices[h])
            columns.append(
                [n if n is not None else t for n, t in zip(as_number, as_text, strict=True)]
            )
        else:
            columns.append(clean_column(data[h]))
    rules = _rules_by_row(result).reindex(frame.index)
    for s in (
        frame["coded_hcpcs"],
        frame["coded_modifiers"],
        frame["revenue_code"],
        frame["code_source"],
        rules,
    ):
        columns.append(clean_column(s))
    headers = ["Row", *table.headers, *CODED_HEADERS]
    widths = [8] + [min(max(len(h) + 2, 10), 40) for h in table.headers] + [14, 16, 18, 12, 30]
    return w.table("Chargemaster", headers, columns, widths)


def _changes(w: _Writer, result: Result) -> None:
    from .changes import CHANGE_HEADERS

    frame = result.changes
    columns = [clean_column(frame[c]) for c in CHANGE_HEADERS]
    w.table("Changes", CHANGE_HEADERS, columns, [16, 16, 8, 12, 14, 24, 24, 24, 70])


def _rules(w: _Writer, result: Result) -> None:
    sev = result.config.severity
    rows = [
        [
            r.id,
            sev.get(r.id, r.severity.value),
            r.group,
            r.title,
            "active" if not r.pending else f"not yet: needs {r.pending}",
        ]
        for r in RULES.values()
    ]
    columns = [list(c) for c in zip(*rows, strict=True)]
    w.table(
        "Rules", ["Rule", "Severity", "Group", "Title", "Status"], columns, [26, 10, 14, 55, 50]
    )


def _summary(w: _Writer, ws, result: Result, issues: list[str], cdm: list[str]) -> None:
    s = result.stats
    f = result.findings
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 3, 14)
    w.put(ws, 0, 0, "Chargemaster report", w.title)
    skipped = ", ".join(f"{v} {k}" for k, v in s["skipped_detail"].items()) or "none"
    facts = [
        ("Input file", s["input"]),
        ("Input SHA-256", s["input_sha256"]),
        ("Sheet", s["sheet"] or "(text file)"),
        ("Header row", s["header_row"]),
        ("Lines read", s["lines"]),
        ("Active lines", s["active_lines"]),
        ("Non-item rows skipped", s["skipped_rows"]),
        ("  of which", skipped),
        ("Ancillary active lines", s["ancillary_lines"]),
        ("Lines statically coded by this run", s["statically_coded"]),
        ("Code map", s["code_map"] or "(none)"),
        ("Usable code map entries", s["code_map_entries"]),
        ("As-of date", s["as_of"]),
        ("Configuration", s["config"]),
        ("Run time (s)", s["seconds"]),
        ("Run at", dt.datetime.now().replace(microsecond=0).isoformat(" ")),
        ("Tool version", f"chargemaster {s['version']}"),
    ]
    if result.changes is not None:
        counts = result.changes["Change"].value_counts()
        text = ", ".join(
            f"{int(counts.get(k, 0))} {k}s"
            for k in (
                "line added",
                "line removed",
                "line changed",
                "new finding",
                "resolved finding",
            )
        )
        facts.append(("Changes since the baseline (sheet Changes)", text))
    if len(issues) > 1 or len(cdm) > 1:
        facts.append(("Sheets continued past Excel's row limit", ", ".join(issues[1:] + cdm[1:])))
    r = 2
    for label, value in facts:
        w.put(ws, r, 0, label, w.label)
        w.put(ws, r, 1, value)
        r += 1
    r += 1
    w.put(ws, r, 0, "Reference", w.label)
    r += 1
    for line in s["reference"]:
        w.put(ws, r, 1, line)
        r += 1
    if not s["cpt_checked"]:
        w.put(ws, r, 1, "CPT: checked by shape only (no OPPS Addendum B or CPT list loaded)")
        r += 1
    r += 1
    w.put(ws, r, 0, "Findings by severity", w.label)
    r += 1
    for c, h in enumerate(["Severity", "Count"]):
        w.put(ws, r, c, h, w.bold)
    r += 1
    for sev in ("error", "warning", "info"):
        w.put(ws, r, 0, sev, w.fills[sev])
        w.put(ws, r, 1, int(f["severity"].eq(sev).sum()))
        r += 1
    r += 1
    w.put(ws, r, 0, "Findings by rule", w.label)
    r += 1
    for c, h in enumerate(["Rule", "Title", "Severity", "Count"]):
        w.put(ws, r, c, h, w.bold)
    r += 1
    counts = f["rule"].value_counts()
    sev = result.config.severity
    for rule_id, rule in RULES.items():
        n = int(counts.get(rule_id, 0))
        if n:
            level = sev.get(rule_id, rule.severity.value)
            w.put(ws, r, 0, rule_id, w.fills[level])
            w.put(ws, r, 1, rule.title)
            w.put(ws, r, 2, level)
            w.put(ws, r, 3, n)
            r += 1
