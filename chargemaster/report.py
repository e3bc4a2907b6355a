"""Write the report workbook a finance analyst reads in the morning.

Sheets: Summary (headline, findings by rule with a chart, by family and department, run facts),
Issues (an Excel table, each Cell a link to the line), one worklist per kind of work, the
Chargemaster (every line, cells with findings highlighted), Changes (with --baseline), Rules.

All Excel details live here. Text is always written as text (never a formula, number or link),
illegal XML characters are removed, a sheet past Excel's row limit continues on another, and
the file is written beside the target and moved into place only when complete.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from .catalog import FINDING_COLUMNS, FINDING_HEADERS, RULES
from .output import atomic_write
from .pipeline import Result
from .reader import column_letter
from .rules import worklist_rules

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_LINKS = 65_530  # per worksheet; Excel ignores (and may repair) beyond it
# Past this many cells a sheet is a filtered range, not a table (Excel slows on huge tables).
TABLE_MAX_CELLS = 5_000_000
MAX_CELL_CHARS = 32_767
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FILLS = {"error": "#F8CBAD", "warning": "#FFE699", "info": "#DDEBF7"}
_RANK = {"error": 0, "warning": 1, "info": 2}
CODED_HEADERS = [
    "Severity",
    "HCPCS (coded)",
    "Modifiers (coded)",
    "Revenue Code (coded)",
    "Code Source",
    "Rules",
]
SUGGESTION_HEADERS = ["Row", "Charge Code", "Description", "Rank", "HCPCS", "Score", "Reason"]
INVALID_CODE_RULES = worklist_rules("Invalid codes")  # declared per rule in the registry
# HCPCS findings that make a static code not valid (for the Summary's headline share).
_BAD_CODE_RULES = {
    "HCPCS-MALFORMED",
    "HCPCS-LOCAL",
    "HCPCS-UNKNOWN",
    "HCPCS-DELETED",
    "HCPCS-NOT-YET-EFFECTIVE",
}


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
    if pd.api.types.is_string_dtype(values) and values.dtype != object:  # all text or missing
        text = values.str.replace(_ILLEGAL, "", regex=True)
        long = text.str.len().gt(MAX_CELL_CHARS).fillna(False)
        if long.any():
            text = text.mask(long, text.str[: MAX_CELL_CHARS - 1] + "…")
        keep = text.notna() & text.ne("")
        return text.astype("object").where(keep, None).tolist()
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


def _fit_widths(headers: Sequence[str], columns: Sequence[Sequence[Any]], cap: int = 60):
    """Column widths fit to the header and the first values, capped."""
    widths = []
    for h, col in zip(headers, columns, strict=True):
        sample = col[:2000]
        longest = max((len(str(v)) for v in sample if v is not None), default=0)
        widths.append(min(max(len(h), longest) + 2, cap))
    return widths


class _NoIndex(dict):
    """A mapping that forgets what is stored in it."""

    def __setitem__(self, key, value) -> None:
        pass


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
        self.header = self.book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
        self.title = self.book.add_format({"bold": True, "font_size": 14})
        self.label = self.book.add_format({"bold": True})
        self.big = self.book.add_format(
            {"bold": True, "font_size": 13, "align": "left", "num_format": "#,##0"}
        )
        self.percent = self.book.add_format(
            {"bold": True, "font_size": 13, "align": "left", "num_format": "0.0%"}
        )
        self.link = self.book.add_format({"font_color": "#0563C1", "underline": 1})
        self.fills = {k: self.book.add_format({"bg_color": v}) for k, v in _FILLS.items()}
        self.tables = 0
        self.sheets_continued: list[str] = []
        self.links_dropped = 0
        self.plain_ranges: list[str] = []  # sheets too large for a table: autofilter only

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
        *,
        widths: Sequence[int] | None = None,
        decorate: Callable[[int, Sequence[Any]], dict[int, tuple[Any, str | None]]] | None = None,
    ) -> list[str]:
        """A sheet holding one Excel table (autofilter, frozen header, widths fit to content)
        from cleaned columns; it continues on 'name (2)' past Excel's row limit.

        Rows go through write_row: with strings_to_formulas/urls/numbers off, a string is
        always written as a string. ``decorate(i, row)`` gives, for the i-th data row, the
        cells to write with a format and/or as an internal link: {column: (format, url)}.
        """
        widths = widths or _fit_widths(headers, columns)
        used: list[str] = []
        ws, r = None, EXCEL_MAX_ROWS
        for i, row in enumerate(zip(*columns, strict=True)):
            if r >= EXCEL_MAX_ROWS:
                if ws is not None:
                    self._close_table(ws, headers, r)
                sheet_name = name if not used else f"{name} ({len(used) + 1})"
                ws = self._new_sheet(sheet_name, headers, widths)
                used.append(sheet_name)
                r = 1
            special = decorate(i, row) if decorate is not None else None
            if not special:
                ws.write_row(r, 0, row)
            else:  # plain runs through write_row; formatted or linked cells one by one
                start = 0
                for c in sorted(special):
                    if c > start:
                        ws.write_row(r, start, row[start:c])
                    fmt, url = special[c]
                    if url and isinstance(row[c], str):
                        ws.write_url(r, c, url, fmt or self.link, string=row[c])
                    else:
                        self.put(ws, r, c, row[c], fmt)
                    start = c + 1
                if start < len(row):
                    ws.write_row(r, start, row[start:])
            r += 1
        if ws is None:
            ws = self._new_sheet(name, headers, widths)
            used.append(name)
            r = 1
        self._close_table(ws, headers, r)
        self.sheets_continued += used[1:]
        return used

    def _new_sheet(self, name: str, headers: Sequence[str], widths: Sequence[int]):
        ws = self.book.add_worksheet(name)
        ws.write_row(0, 0, headers, self.header)
        for c, width in enumerate(widths):
            ws.set_column(c, c, width)
        ws.freeze_panes(1, 0)
        return ws

    def _close_table(self, ws, headers: Sequence[str], end: int) -> None:
        """Make rows 0..end-1 an Excel table (ListObject); past TABLE_MAX_CELLS an autofilter.

        xlsxwriter refuses add_table() in constant_memory mode because the call writes the
        header cells, which that mode may have flushed already. Our header row is written
        (identically) before any data, and the table part itself is built at close from the
        options alone, so the guard is lifted for the call.
        """
        last = max(end - 1, 1)  # a table needs a data row: an empty one gets a blank row
        if (last + 1) * len(headers) > TABLE_MAX_CELLS:
            ws.autofilter(0, 0, last, len(headers) - 1)
            self.plain_ranges.append(ws.name)
            return
        self.tables += 1
        options = {
            "name": f"T{self.tables}_{re.sub(r'[^A-Za-z0-9]', '', ws.name)[:40]}",
            "columns": [{"header": h} for h in headers],
            "style": "Table Style Light 1",
        }
        ws.constant_memory = False
        # add_table records every cell of the range to catch overlapping tables (ours never
        # overlap): at 100k lines that index alone would cost ~300 MB, so it is not kept.
        ws.table_cells = _NoIndex()
        try:
            ws.add_table(0, 0, last, len(headers) - 1, options)
        finally:
            ws.constant_memory = True
            # The header cells add_table re-wrote sit beside the last (unflushed) data row;
            # the flush at close writes that row only and drops them.
            ws.table.pop(0, None)


@dataclass
class _View:
    """What several sheets need: findings joined to their lines, and where each line sits."""

    result: Result
    findings: pd.DataFrame  # with line info columns added
    on_lines: pd.Series  # bool: the finding is on a chargemaster line
    line_severity: pd.Series  # row -> highest severity
    header_index: dict[str, int]  # input header -> 0-based column

    def line_targets(self, rows: pd.Series, columns: pd.Series) -> list[str | None]:
        """internal:'Chargemaster'!C12 for each (source row, column); None off the lines."""
        frame = self.result.lines.frame
        positions = frame.index.get_indexer(rows.fillna(-1).astype("int64"))
        letters = {h: column_letter(j + 1) for h, j in self.header_index.items()}
        out: list[str | None] = []
        for pos, column in zip(positions, columns, strict=True):
            if pos < 0:
                out.append(None)
                continue
            sheet_no, offset = divmod(int(pos), EXCEL_MAX_ROWS - 1)
            sheet = "Chargemaster" if sheet_no == 0 else f"Chargemaster ({sheet_no + 1})"
            out.append(f"internal:'{sheet}'!{letters.get(column, 'A')}{offset + 2}")
        return out


def _view(result: Result) -> _View:
    f = result.findings.copy()
    frame = result.lines.frame
    on_lines = f["row"].notna() & ~f["cell"].fillna("").str.contains("!", regex=False)
    on_lines &= f["row"].isin(frame.index)
    rows = f["row"].where(on_lines).fillna(-1).astype("int64")
    for name, source in (
        ("description", "description"),
        ("department", "department"),
        ("revenue_code", "revenue_code"),
        ("family", "family"),
        ("hcpcs", "coded_hcpcs"),
        ("price", "price"),
    ):
        f[name] = frame[source].reindex(rows).to_numpy()
    sev = f.loc[on_lines, ["row", "severity"]].copy()
    sev["rank"] = sev["severity"].map(_RANK)
    line_sev = sev.sort_values("rank").drop_duplicates("row").set_index("row")["severity"]
    header_index = {h: j for j, h in enumerate(result.table.headers)}
    return _View(result, f, on_lines, line_sev, header_index)


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
    view = _view(result)
    summary = w.book.add_worksheet("Summary")
    _issues(w, view)
    _worklists(w, view)
    _chargemaster(w, view)
    if result.changes is not None:
        from .changes import CHANGE_HEADERS

        frame = result.changes
        w.table("Changes", CHANGE_HEADERS, [clean_column(frame[c]) for c in CHANGE_HEADERS])
    _rules(w, result)
    _skipped_rows(w, result)
    _summary(w, summary, view)
    w.book.close()


def _issues(w: _Writer, view: _View) -> list[str]:
    f = view.findings
    columns = [clean_column(f[c]) for c in FINDING_COLUMNS]
    columns[2] = [None if v is None else int(v) for v in columns[2]]  # Row
    header_row = view.result.table.header_row
    on_line = view.line_targets(f["row"].where(view.on_lines), f["column"])
    header_links = {
        h: f"internal:'Chargemaster'!{column_letter(j + 1)}1" for h, j in view.header_index.items()
    }
    targets = [
        t if t is not None else (header_links.get(c) if r == header_row else None)
        for t, r, c in zip(on_line, f["row"].fillna(0), f["column"], strict=True)
    ]
    links = {"n": 0}

    def decorate(i, row):
        special = {0: (w.fills.get(row[0]), None)}
        if targets[i] and row[3]:
            if links["n"] < EXCEL_MAX_LINKS:
                special[3] = (w.link, targets[i])
                links["n"] += 1
            else:
                w.links_dropped += 1
        return special

    widths = _fit_widths(FINDING_HEADERS, columns)
    widths[-1] = min(max(widths[-1], 60), 110)
    return w.table("Issues", FINDING_HEADERS, columns, widths=widths, decorate=decorate)


def _worklist(w: _Writer, name: str, frame: pd.DataFrame, spec: list[tuple[str, str]]) -> None:
    headers = [h for h, _ in spec]
    columns = [clean_column(frame[c]) if len(frame) else [] for _, c in spec]
    for j, (_, c) in enumerate(spec):
        if c in ("row", "Row", "Rank") and len(frame):
            columns[j] = [None if v is None else int(v) for v in columns[j]]
    w.table(name, headers, columns)


def _worklists(w: _Writer, view: _View) -> None:
    f = view.findings
    lines = f[view.on_lines]
    frame = view.result.lines.frame

    def pick(rules: list[str], source: pd.DataFrame = lines) -> pd.DataFrame:
        return source[source["rule"].isin(rules)]

    _worklist(
        w,
        "Missing HCPCS",
        pick(["HCPCS-MISSING"]),
        [
            ("Row", "row"),
            ("Charge Code", "charge_code"),
            ("Description", "description"),
            ("Department", "department"),
            ("Revenue Code", "revenue_code"),
            ("Family", "family"),
            ("Price", "price"),
            ("Suggested", "suggested"),
            ("Message", "message"),
        ],
    )
    _worklist(
        w,
        "Invalid codes",
        pick(INVALID_CODE_RULES),
        [
            ("Severity", "severity"),
            ("Rule", "rule"),
            ("Row", "row"),
            ("Cell", "cell"),
            ("Charge Code", "charge_code"),
            ("Description", "description"),
            ("Column", "column"),
            ("Value", "value"),
            ("Suggested", "suggested"),
            ("Message", "message"),
        ],
    )
    _worklist(
        w,
        "Rev-HCPCS mismatch",
        pick(["HCPCS-REVCODE-MISMATCH"]),
        [
            ("Row", "row"),
            ("Charge Code", "charge_code"),
            ("Description", "description"),
            ("Revenue Code", "revenue_code"),
            ("HCPCS", "hcpcs"),
            ("Message", "message"),
        ],
    )
    prices = [r for r in RULES if r.startswith("PRICE-")]
    _worklist(
        w,
        "Prices",
        pick(prices),
        [
            ("Severity", "severity"),
            ("Rule", "rule"),
            ("Row", "row"),
            ("Charge Code", "charge_code"),
            ("Description", "description"),
            ("HCPCS", "hcpcs"),
            ("Price", "price"),
            ("Value", "value"),
            ("Message", "message"),
        ],
    )
    below = view.result.below_fee
    if below is not None:  # a fee schedule was loaded: the lines priced under Medicare, by gap
        _worklist(
            w,
            "Below Medicare",
            below,
            [
                ("Row", "row"),
                ("Charge Code", "charge_code"),
                ("Description", "description"),
                ("HCPCS", "hcpcs"),
                ("Modifiers", "modifiers"),
                ("Price Column", "price_column"),
                ("Price", "price"),
                ("Medicare Rate", "rate"),
                ("Gap per Unit", "gap"),
                ("Source", "source"),
            ],
        )
    _worklist(
        w,
        "Repairs",
        # The audit: every repaired cell (storage repairs appear in Issues once per column).
        view.result.lines.repairs,
        [
            ("Rule", "rule"),
            ("Row", "row"),
            ("Cell", "cell"),
            ("Charge Code", "charge_code"),
            ("Column", "column"),
            ("Original", "value"),
            ("Repaired", "suggested"),
            ("Message", "message"),
        ],
    )
    _worklist(
        w,
        "Code map",
        f[f["rule"].str.startswith("MAP-")],
        [
            ("Severity", "severity"),
            ("Rule", "rule"),
            ("Map Row", "row"),
            ("Cell", "cell"),
            ("Charge Code", "charge_code"),
            ("Value", "value"),
            ("Message", "message"),
        ],
    )
    suggestions = view.result.suggestions
    if suggestions is None:
        suggestions = pd.DataFrame(columns=SUGGESTION_HEADERS)
    _worklist(w, "Suggestions", suggestions, [(c, c) for c in SUGGESTION_HEADERS])
    static = frame[frame["code_source"].eq("code map")].assign(row=lambda d: d.index)
    _worklist(
        w,
        "Static coding applied",
        static,
        [
            ("Row", "row"),
            ("Charge Code", "charge_code"),
            ("Description", "description"),
            ("Revenue Code", "revenue_code"),
            ("HCPCS", "coded_hcpcs"),
            ("Modifiers", "coded_modifiers"),
        ],
    )
    soft = frame[frame["soft"]].assign(row=lambda d: d.index)
    _worklist(
        w,
        "Soft-coded",
        soft,
        [
            ("Row", "row"),
            ("Charge Code", "charge_code"),
            ("Description", "description"),
            ("Department", "department"),
            ("Revenue Code", "revenue_code"),
            ("HCPCS", "coded_hcpcs"),
        ],
    )


def _rules_by_row(view: _View) -> pd.Series:
    f = view.findings[view.on_lines]
    if f.empty:
        return pd.Series(dtype="str")
    pairs = f[["row", "rule"]].drop_duplicates().sort_values(["row", "rule"])
    return pairs.groupby("row")["rule"].agg(" ".join)


def _chargemaster(w: _Writer, view: _View) -> list[str]:
    result = view.result
    table, frame = result.table, result.lines.frame
    data, prices = table.data, result.lines.prices
    columns = [frame.index.tolist()]
    for h in table.headers:
        if h in prices.columns:  # a price that parses is written as a number finance can sum
            as_number, as_text = clean_column(prices[h]), clean_column(data[h])
            columns.append(
                [n if n is not None else t for n, t in zip(as_number, as_text, strict=True)]
            )
        else:
            columns.append(clean_column(data[h]))
    rules = _rules_by_row(view).reindex(frame.index)
    severity = view.line_severity.reindex(frame.index)
    for s in (
        severity,
        frame["coded_hcpcs"],
        frame["coded_modifiers"],
        frame["revenue_code"],
        frame["code_source"],
        rules,
    ):
        columns.append(clean_column(s))
    headers = ["Row", *table.headers, *CODED_HEADERS]
    # The cells findings name, with the highest severity on each.
    f = view.findings[view.on_lines & view.findings["column"].isin(view.header_index)]
    marks: dict[int, dict[int, str]] = {}
    for row, col, sev in zip(f["row"], f["column"], f["severity"], strict=True):
        cells = marks.setdefault(frame.index.get_loc(int(row)), {})
        c = view.header_index[col] + 1
        if c not in cells or _RANK[sev] < _RANK[cells[c]]:
            cells[c] = sev
    sev_col = len(table.headers) + 1

    def decorate(i, row):
        special = {c: (w.fills[sev], None) for c, sev in marks.get(i, {}).items()}
        if row[sev_col] is not None:
            special[sev_col] = (w.fills[row[sev_col]], None)
        return special

    widths = [8] + [min(max(len(h) + 2, 10), 40) for h in table.headers] + [9, 14, 16, 18, 12, 30]
    return w.table("Chargemaster", headers, columns, widths=widths, decorate=decorate)


def _rules(w: _Writer, result: Result) -> None:
    sev = result.config.severity
    rules = list(RULES.values())
    columns = [
        [r.id for r in rules],
        [sev.get(r.id, r.severity.value) for r in rules],
        [r.group for r in rules],
        [r.title for r in rules],
        ["active" if not r.pending else f"not yet: needs {r.pending}" for r in rules],
    ]
    w.table("Rules", ["Rule", "Severity", "Group", "Title", "Status"], columns)


def _counts_by(f: pd.DataFrame, key: str, label: str) -> pd.DataFrame:
    g = f.assign(**{key: f[key].fillna(label)}).groupby([key, "severity"]).size()
    table = g.unstack(fill_value=0).reindex(columns=["error", "warning", "info"], fill_value=0)
    table["total"] = table.sum(axis=1)
    return table.sort_values(["error", "total"], ascending=False)


def _summary(w: _Writer, ws, view: _View) -> None:
    result = view.result
    s, f, frame = result.stats, view.findings, result.lines.frame
    ws.set_column(0, 0, 40)
    ws.set_column(1, 4, 11)
    ws.set_column(5, 5, 48)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # printed (and rendered to PDF) one page wide
    w.put(ws, 0, 0, f"Chargemaster report: {Path(s['input']).name}", w.title)
    counts = {sev: int(f["severity"].eq(sev).sum()) for sev in ("error", "warning", "info")}
    ancillary = frame["ancillary"] & frame["active"]
    bad_code_rows = set(f.loc[f["rule"].isin(_BAD_CODE_RULES), "row"].dropna().astype(int))
    valid = ancillary & frame["coded_hcpcs"].notna() & ~frame.index.isin(list(bad_code_rows))
    share = valid.sum() / ancillary.sum() if ancillary.sum() else None
    headline = [
        ("Lines checked", s["lines"], None),
        ("Errors", counts["error"], w.fills["error"]),
        ("Warnings", counts["warning"], w.fills["warning"]),
        ("Info", counts["info"], w.fills["info"]),
        ("Lines statically coded by this run", s["statically_coded"], None),
    ]
    r = 2
    for label, value, fmt in headline:
        w.put(ws, r, 0, label, fmt or w.label)
        w.put(ws, r, 1, value, w.big)
        r += 1
    w.put(ws, r, 0, "Ancillary lines with a valid static code", w.label)
    w.put(ws, r, 1, share, w.percent)
    w.put(ws, r, 2, f"{int(valid.sum()):,} of {int(ancillary.sum()):,} active ancillary lines")
    r += 1
    if s.get("below_medicare") is not None:
        money = s["below_medicare"]
        w.put(ws, r, 0, "Lines priced below Medicare", w.label)
        w.put(ws, r, 1, money["lines"], w.big)
        w.put(ws, r, 2, f"total gap per unit ${money['gap_per_unit']:,.2f} (sheet Below Medicare)")
        r += 1
    r += 1

    # Findings by rule, with a bar chart beside it.
    w.put(ws, r, 0, "Findings by rule", w.label)
    r += 1
    for c, h in enumerate(["Rule", "Count", "Severity", "Title"]):
        w.put(ws, r, c, h, w.header)
    first = r + 1
    by_rule = f["rule"].value_counts()
    sev = result.config.severity
    ordered = sorted(
        (rid for rid in RULES if by_rule.get(rid, 0)),
        key=lambda rid: (_RANK[sev.get(rid, RULES[rid].severity.value)], -by_rule[rid], rid),
    )
    for rid in ordered:
        r += 1
        level = sev.get(rid, RULES[rid].severity.value)
        w.put(ws, r, 0, rid, w.fills[level])
        w.put(ws, r, 1, int(by_rule[rid]))
        w.put(ws, r, 2, level)
        w.put(ws, r, 3, RULES[rid].title)
    r += 1
    w.put(ws, r, 0, "Total (rows of Issues)", w.label)
    w.put(ws, r, 1, len(f), w.label)
    if ordered:
        chart = w.book.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": "Findings",
                "categories": ["Summary", first, 0, first + len(ordered) - 1, 0],
                "values": ["Summary", first, 1, first + len(ordered) - 1, 1],
                "fill": {"color": "#4472C4"},
            }
        )
        chart.set_title({"name": "Findings by rule"})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True})
        chart.set_size({"width": 620, "height": max(260, 22 * len(ordered) + 80)})
        ws.insert_chart(2, 7, chart)
    r += 2

    on_lines = f[view.on_lines]
    for title, key, label in (
        ("Findings by revenue-code family", "family", "(no family)"),
        ("Findings by department", "department", "(no department)"),
    ):
        if key == "department" and not result.table.col("department"):
            continue
        w.put(ws, r, 0, title, w.label)
        r += 1
        for c, h in enumerate([key.capitalize(), "Errors", "Warnings", "Info", "Total"]):
            w.put(ws, r, c, h, w.header)
        table = _counts_by(on_lines, key, label) if len(on_lines) else pd.DataFrame()
        for name, row in table.head(40).iterrows():
            r += 1
            w.put(ws, r, 0, str(name).replace("_", " "))
            for c, k in enumerate(["error", "warning", "info", "total"], start=1):
                w.put(ws, r, c, int(row[k]))
        r += 2

    w.put(ws, r, 0, "Run facts", w.label)
    r += 1
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
        changes = result.changes["Change"].value_counts()
        text = ", ".join(
            f"{int(changes.get(k, 0))} {k}"
            for k in (
                "line added",
                "line removed",
                "line changed",
                "new finding",
                "resolved finding",
            )
        )
        facts.append(("Changes since the baseline (sheet Changes)", text))
    if w.sheets_continued:
        facts.append(("Sheets continued past Excel's row limit", ", ".join(w.sheets_continued)))
    if w.plain_ranges:
        facts.append(
            ("Sheets filtered as ranges (too large for Excel tables)", ", ".join(w.plain_ranges))
        )
    if w.links_dropped:
        facts.append(("Issues without a link (Excel allows 65,530 per sheet)", w.links_dropped))
    for label, value in facts:
        w.put(ws, r, 0, label, w.label)
        w.put(ws, r, 1, value)
        r += 1
    r += 1
    w.put(ws, r, 0, "Reference", w.label)
    for line in s["reference"]:
        w.put(ws, r, 1, line)
        r += 1
    if not s["cpt_checked"]:
        w.put(ws, r, 1, "CPT: checked by shape only (no OPPS Addendum B or CPT list loaded)")
        r += 1
    _columns_block(w, ws, r + 1, result)


COLUMN_HEADERS = ["Column", "Header", "Role", "Decided by", "Evidence"]


def _columns_block(w: _Writer, ws, r: int, result: Result) -> int:
    """The Summary's Columns table: how every column of the input was read, and why."""
    from .reader import ROLE_LABELS

    w.put(ws, r, 0, "Columns", w.label)
    r += 1
    for c, h in enumerate(COLUMN_HEADERS):
        w.put(ws, r, c, h, w.header)
    for entry in result.stats.get("columns", []):
        r += 1
        role = entry["role"]
        label = ROLE_LABELS.get(role, role.replace("_", " ")) if role else "(not used)"
        values = [entry["letter"], entry["header"], label, entry["decided_by"] or ""]
        for c, v in enumerate([*values, entry["evidence"] or ""]):
            w.put(ws, r, c, v)
    return r + 1


SKIPPED_HEADERS = ["Row", "Kind", "Text"]


def _skipped_rows(w: _Writer, result: Result) -> None:
    """Every row below the header that was not read as a line: nothing is lost in silence."""
    listing = result.table.skipped_rows
    if listing is None or len(listing) == 0:
        return
    w.table(
        "Skipped rows",
        SKIPPED_HEADERS,
        [
            [int(v) for v in listing["row"]],
            clean_column(listing["kind"]),
            clean_column(listing["text"]),
        ],
    )
