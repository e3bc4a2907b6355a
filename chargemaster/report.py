"""Write the report workbook a finance analyst reads, and works in, in the morning.

Sheets: Summary (headline, "Fix first", findings by rule with a chart, by family and department,
run facts), Issues (each Cell a link to the line), one worklist per kind of work, the
Chargemaster (every line, cells with findings highlighted), Changes (with --baseline), Rules.

Each sheet's content is computed here as a ``Sheet`` (headers, columns, formats, links, fills)
by a function of the run alone; ``SHEETS`` lists them in order and ``_write`` hands each to the
shared Excel layer (``excel.py``). To add a sheet, write a ``def my_sheet(view) -> Sheet | None``
and insert ``my_sheet`` in ``SHEETS`` where it belongs (return None to leave it out). Issues and
the worklists carry ``Status``, ``Owner`` and ``Comment`` for the analyst; with --baseline what
was written there last night is carried to the same finding (``WORK_HEADERS``, ``work_key``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import excel
from .catalog import FINDING_COLUMNS, FINDING_HEADERS, RULES
from .excel import Book, as_int, clean_column, fit_widths
from .output import atomic_write
from .pipeline import Result
from .reader import column_letter
from .rules import worklist_rules

log = logging.getLogger(__name__)
CLOCK = time.perf_counter  # what each sheet's time is read from (benchmarks/stages.py: CPU)
_RANK = {"error": 0, "warning": 1, "info": 2}
CODED_HEADERS = [
    "Severity",
    "HCPCS (coded)",
    "Modifiers (coded)",
    "Revenue Code (coded)",
    "Code Source",
    "Rules",
]
WORK_HEADERS = ["Status", "Owner", "Comment"]
SUGGESTION_HEADERS = ["Row", "Charge Code", "Description", "Rank", "HCPCS", "Score", "Reason"]
INVALID_CODE_RULES = worklist_rules("Invalid codes")  # declared per rule in the registry
PRICE_RULES = [r for r in RULES if r.startswith("PRICE-")]
REPAIR_RULES = [r for r in RULES if r.endswith("-REPAIRED")]
# HCPCS findings that make a static code not valid (for the Summary's headline share).
_BAD_CODE_RULES = {
    "HCPCS-MALFORMED",
    "HCPCS-LOCAL",
    "HCPCS-UNKNOWN",
    "HCPCS-DELETED",
    "HCPCS-NOT-YET-EFFECTIVE",
}
# Where the work on a rule is done: the first worklist listing it (else Issues).
WORKLIST_OF = {
    "HCPCS-MISSING": "Missing HCPCS",
    "HCPCS-REVCODE-MISMATCH": "Rev-HCPCS mismatch",
    **dict.fromkeys(INVALID_CODE_RULES, "Invalid codes"),
    **dict.fromkeys(PRICE_RULES, "Prices"),
    "PRICE-BELOW-FEE-SCHEDULE": "Below Medicare",
    **dict.fromkeys(REPAIR_RULES, "Repairs"),
    **{r: "Code map" for r in RULES if r.startswith("MAP-")},
}


def default_output(chargemaster: Path) -> Path:
    chargemaster = Path(chargemaster)
    return chargemaster.with_name(f"{chargemaster.stem}.report.xlsx")


def identity(charge_code: Any, row: Any) -> str:
    """A line as the analyst knows it: its charge code, else its row."""
    if isinstance(charge_code, str) and charge_code.strip():
        return charge_code.strip()
    if row is None or (isinstance(row, float) and row != row) or row is pd.NA or row == "":
        return ""
    try:
        return f"row {int(float(row))}"
    except (TypeError, ValueError):
        return f"row {row}"


def work_key(sheet: str, rule: Any, charge_code: Any, row: Any, column: Any) -> str:
    """What an analyst's note is attached to: sheet, rule, line identity, column."""
    return "|".join([sheet, str(rule or ""), identity(charge_code, row), str(column or "").strip()])


@dataclass
class Sheet:
    """One sheet's content, ready for the writer."""

    name: str
    headers: list[str]
    columns: list[list[Any]]
    widths: list[int] | None = None
    formats: dict[int, str] = field(default_factory=dict)  # column -> 'currency' | 'count'
    links: dict[int, list[str | None]] = field(default_factory=dict)  # column -> target per row
    severity: int | None = None  # the column filled by its value (conditional formats)
    cell_fills: dict[int, dict[int, str]] = field(default_factory=dict)  # row -> {col: sev}
    # column -> number format name per row, for a column that mixes prices and text.
    cell_formats: dict[int, list[str | None]] = field(default_factory=dict)


@dataclass
class _View:
    """What several sheets need: findings joined to their lines, and where each line sits."""

    result: Result
    findings: pd.DataFrame  # with line info columns added
    on_lines: pd.Series  # bool: the finding is on a chargemaster line
    line_severity: pd.Series  # row -> highest severity
    header_index: dict[str, int]  # input header -> 0-based column
    notes: dict[str, tuple[str, str, str]]  # work_key -> (Status, Owner, Comment)

    def line_targets(self, rows: pd.Series, columns: pd.Series | None = None) -> list[str | None]:
        """internal:'Chargemaster'!C12 for each (source row, column); None off the lines."""
        frame = self.result.lines.frame
        positions = frame.index.get_indexer(
            pd.to_numeric(rows, errors="coerce").fillna(-1).astype("int64")
        )
        letters = {h: column_letter(j + 1) for h, j in self.header_index.items()}
        n = len(positions)
        if columns is None:
            named = ["A"] * n
        else:  # a Series read as one list (iterating one of Arrow text goes value by value)
            names = columns.tolist() if hasattr(columns, "tolist") else list(columns)
            named = [letters.get(c, "A") for c in names]
        per_sheet = excel.EXCEL_MAX_ROWS - 1
        sheet_no, offset = np.divmod(positions, per_sheet)
        if positions.max(initial=0) < per_sheet:  # one Chargemaster sheet
            return [
                f"internal:'Chargemaster'!{c}{o}" if p >= 0 else None
                for p, c, o in zip(positions.tolist(), named, (offset + 2).tolist(), strict=True)
            ]
        return [
            (
                f"internal:'{'Chargemaster' if s == 0 else f'Chargemaster ({s + 1})'}'!{c}{o}"
                if p >= 0
                else None
            )
            for p, s, c, o in zip(
                positions.tolist(), sheet_no.tolist(), named, (offset + 2).tolist(), strict=True
            )
        ]


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
    ):
        f[name] = frame[source].reindex(rows).to_numpy()
    f["price"] = _line_prices(result).reindex(rows).to_numpy()
    sev = f.loc[on_lines, ["row", "severity"]].copy()
    sev["rank"] = sev["severity"].map(_RANK)
    line_sev = sev.sort_values("rank").drop_duplicates("row").set_index("row")["severity"]
    header_index = {h: j for j, h in enumerate(result.table.headers)}
    notes = getattr(result, "notes", None) or {}
    return _View(result, f, on_lines, line_sev, header_index, notes)


def _line_prices(result: Result) -> pd.Series:
    """Each line's price as a number (its first price column), NaN when it does not parse."""
    frame, prices = result.lines.frame, result.lines.prices
    col = result.table.col("price")
    if col and col in prices.columns:
        return pd.to_numeric(prices[col], errors="coerce").reindex(frame.index)
    return pd.Series(float("nan"), index=frame.index)


def write_report(result: Result, path: Path, protect: list[Path] | None = None) -> Path:
    """Write the report to ``path`` atomically; returns the path."""
    guard = [result.options.chargemaster, *(protect or [])]
    if result.options.code_map:
        guard.append(result.options.code_map)
    return atomic_write(path, lambda tmp: _write(result, tmp), guard)


def _write(result: Result, path: Path) -> None:
    timings = result.stats.setdefault("timings", {})

    def took(name: str, t0: float) -> None:
        timings[f"write {name}"] = round(CLOCK() - t0, 3)
        log.debug("write %s: %.3f s", name, timings[f"write {name}"])

    t0 = CLOCK()
    book = Book(path, "Chargemaster report")
    child = None
    try:
        view = _view(result)
        summary = book.book.add_worksheet("Summary")
        written: dict[str, list[str]] = {}
        took("(findings joined to lines)", t0)
        # The Chargemaster sheet depends on the lines alone: its rows are written by a forked
        # child (where Book.parallel_allowed) while this process writes the sheets before it.
        t0 = CLOCK()
        lines = chargemaster_sheet(view)
        lines_args = _sheet_args(book, lines)
        book.index_formats(lines_args["formats"], lines_args["styles"], lines_args["links"])
        child = book.table_in_child(lines.name, lines.headers, lines.columns, **lines_args)
        took("(Chargemaster prepared" + (", child started)" if child else ")"), t0)
        for build in SHEETS:
            t0 = CLOCK()
            if build is chargemaster_sheet:
                if child is not None:
                    written[lines.name], child = book.join_child(child), None
                else:
                    written[lines.name] = book.table(
                        lines.name, lines.headers, lines.columns, **lines_args
                    )
                took(lines.name, t0)
                continue
            sheet = build(view)
            if sheet is not None:
                written[sheet.name] = _put_sheet(book, sheet)
                took(sheet.name, t0)
        t0 = CLOCK()
        _summary(book, summary, view, written)
        took("Summary", t0)
    except BaseException:
        if child is not None:
            child.abandon()
        book.discard()
        raise
    t0 = CLOCK()
    book.close()
    took("(XML assembled and zipped)", t0)


def _sheet_args(book: Book, sheet: Sheet) -> dict[str, Any]:
    """Book.table's keyword arguments for a sheet."""
    # A cell's own format: its severity fill, else (replacing it) its number format by name.
    styles: dict[int, dict[int, Any]] = {}
    for i, cells in sheet.cell_fills.items():
        for c, sev in cells.items():
            styles.setdefault(c, {})[i] = book.fills[sev]
    for c, names in sheet.cell_formats.items():
        named = styles.setdefault(c, {})
        for i in np.flatnonzero(pd.notna(np.asarray(names, dtype=object))).tolist():
            named[i] = book.named[names[i]]
    return dict(
        widths=sheet.widths,
        formats=sheet.formats,
        styles=styles,
        links=sheet.links,
        severity=sheet.severity,
    )


def _put_sheet(book: Book, sheet: Sheet) -> list[str]:
    return book.table(sheet.name, sheet.headers, sheet.columns, **_sheet_args(book, sheet))


def display_key(sheet: str, row: dict[str, Any]) -> str:
    """The note key of a row as the sheet shows it (so last night's report gives it back):
    Rule, the line (Charge Code, else Row or Map Row), and Column (else HCPCS)."""
    column = row.get("Column")
    if column is None or column == "":
        column = row.get("HCPCS")
    line_row = row.get("Row") if row.get("Row") not in (None, "") else row.get("Map Row")
    return work_key(sheet, row.get("Rule"), row.get("Charge Code"), line_row, column)


def _work_columns(
    view: _View, sheet: str, headers: list[str], columns: list[list[Any]]
) -> list[list[Any]]:
    """Status, Owner, Comment: empty, or what the analyst wrote on the same finding last night."""
    n = len(columns[0]) if columns else 0
    if not view.notes or n == 0:
        return [[None] * n for _ in WORK_HEADERS]
    wanted = [
        h for h in ("Rule", "Charge Code", "Row", "Map Row", "Column", "HCPCS") if h in headers
    ]
    picked = [columns[headers.index(h)] for h in wanted]
    got = [
        view.notes.get(display_key(sheet, dict(zip(wanted, values, strict=True))))
        for values in zip(*picked, strict=True)
    ]
    return [[g[j] if g else None for g in got] for j in range(len(WORK_HEADERS))]


# ----- Issues and worklists ------------------------------------------------------------------


def issues_sheet(view: _View) -> Sheet:
    f = view.findings
    columns = [
        excel.int_column(f[c]) if j == 2 else clean_column(f[c])  # Row
        for j, c in enumerate(FINDING_COLUMNS)
    ]
    # A price finding's value is the price: a number in currency format when it parses.
    value = pd.to_numeric(
        f["value"].astype("str").str.replace(r"[$,\s]", "", regex=True), errors="coerce"
    )
    is_price = f["rule"].isin(PRICE_RULES) & value.notna() & value.abs().lt(float("inf"))
    columns[6] = [float(v) if p else t for v, p, t in zip(value, is_price, columns[6], strict=True)]
    header_row = view.result.table.header_row
    on_line = view.line_targets(f["row"].where(view.on_lines), f["column"])
    header_links = {
        h: f"internal:'Chargemaster'!{column_letter(j + 1)}1" for h, j in view.header_index.items()
    }
    targets = [
        t if t is not None else (header_links.get(c) if r == header_row else None)
        for t, r, c in zip(on_line, f["row"].fillna(0), f["column"], strict=True)
    ]
    columns += _work_columns(view, "Issues", FINDING_HEADERS, columns)
    headers = [*FINDING_HEADERS, *WORK_HEADERS]
    widths = fit_widths(headers, columns)
    widths[8] = min(max(widths[8], 60), 110)
    widths[9:] = [12, 14, 40]
    return Sheet(
        "Issues",
        headers,
        columns,
        widths=widths,
        links={3: targets},
        severity=0,
        cell_formats={6: ["currency" if p else None for p in is_price]},
    )


def _worklist(
    view: _View,
    name: str,
    frame: pd.DataFrame,
    spec: list[tuple[str, str]],
) -> Sheet:
    headers = [h for h, _ in spec] + WORK_HEADERS
    columns = [
        []
        if not len(frame)
        else excel.int_column(frame[c])
        if c in ("row", "Row", "Rank")
        else clean_column(frame[c])
        for _, c in spec
    ]
    formats: dict[int, str] = {}
    links: dict[int, list[str | None]] = {}
    for j, (h, _) in enumerate(spec):
        if h == "Price":
            formats[j] = "currency"
    names = [c for _, c in spec]
    on_cdm = "row" in names and name != "Code map"  # Map Row is a row of the code map
    if on_cdm and "charge_code" in names and len(frame):
        # The charge code links to its line (to the cell named, when there is one).
        cols = frame["column"] if "column" in frame.columns else None
        links[names.index("charge_code")] = view.line_targets(frame["row"], cols)
    columns += _work_columns(view, name, [h for h, _ in spec], columns)
    sheet = Sheet(name, headers, columns, formats=formats, links=links)
    if "severity" in names:
        sheet.severity = names.index("severity")
    return sheet


def _on_lines(view: _View, rules: list[str]) -> pd.DataFrame:
    lines = view.findings[view.on_lines]
    return lines[lines["rule"].isin(rules)]


def missing_hcpcs_sheet(view: _View) -> Sheet:
    spec = [
        ("Row", "row"),
        ("Charge Code", "charge_code"),
        ("Description", "description"),
        ("Department", "department"),
        ("Revenue Code", "revenue_code"),
        ("Family", "family"),
        ("Price", "price"),
        ("Suggested", "suggested"),
        ("Message", "message"),
    ]
    return _worklist(view, "Missing HCPCS", _on_lines(view, ["HCPCS-MISSING"]), spec)


def by_line(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings on lines, one row per line (in row order): its highest severity, the rules
    that fired (catalog order), the column of its most severe finding (where its link goes)
    and the first suggestion."""
    order = {rid: k for k, rid in enumerate(RULES)}
    f = findings.assign(
        _rank=findings["severity"].map(_RANK), _order=findings["rule"].map(order)
    ).sort_values(["row", "_rank", "_order"], kind="stable")
    first = f.drop_duplicates("row").set_index("row")
    pairs = f.drop_duplicates(["row", "rule"]).sort_values(["row", "_order"], kind="stable")
    rules: dict[Any, str] = {}
    for row, rule in zip(pairs["row"].tolist(), pairs["rule"].tolist(), strict=True):
        rules[row] = f"{rules[row]} {rule}" if row in rules else rule
    suggested = f.dropna(subset=["suggested"]).drop_duplicates("row").set_index("row")
    out = pd.DataFrame(
        {
            "row": first.index,
            "severity": first["severity"].to_numpy(),
            "rules": [rules[r] for r in first.index],
            "column": first["column"].to_numpy(),
        }
    )
    out["suggested"] = suggested["suggested"].reindex(first.index).to_numpy()
    return out


def invalid_codes_sheet(view: _View) -> Sheet:
    """One row per line with invalid codes: the rules that fired and the line's codes side by
    side (each finding's message is on Issues; the charge code links to the worst cell)."""
    lines = by_line(_on_lines(view, INVALID_CODE_RULES))
    frame = view.result.lines.frame
    at = lines["row"].to_numpy()
    for name, source in (
        ("charge_code", "charge_code"),
        ("description", "description"),
        ("revenue_code", "revenue_code"),
        ("hcpcs", "coded_hcpcs"),
        ("modifiers", "coded_modifiers"),
    ):
        lines[name] = frame[source].reindex(at).to_numpy()
    # A code that could not be read as one (a malformed revenue code) has no coded value:
    # the line shows the value its finding names, as written.
    found = _on_lines(view, INVALID_CODE_RULES)
    for name, role in (("revenue_code", "revenue_code"), ("hcpcs", "hcpcs")):
        header = view.result.table.col(role)
        named = found[found["column"].eq(header) & found["value"].fillna("").ne("")]
        written = named.drop_duplicates("row").set_index("row")["value"]
        lines[name] = lines[name].where(lines[name].notna(), written.reindex(at).to_numpy())
    spec = [
        ("Severity", "severity"),
        ("Rules", "rules"),
        ("Row", "row"),
        ("Charge Code", "charge_code"),
        ("Description", "description"),
        ("Revenue Code", "revenue_code"),
        ("HCPCS", "hcpcs"),
        ("Modifiers", "modifiers"),
        ("Suggested", "suggested"),
    ]
    return _worklist(view, "Invalid codes", lines, spec)


def revcode_mismatch_sheet(view: _View) -> Sheet:
    spec = [
        ("Row", "row"),
        ("Charge Code", "charge_code"),
        ("Description", "description"),
        ("Revenue Code", "revenue_code"),
        ("HCPCS", "hcpcs"),
        ("Message", "message"),
    ]
    frame = _on_lines(view, ["HCPCS-REVCODE-MISMATCH"])
    return _worklist(view, "Rev-HCPCS mismatch", frame, spec)


def prices_sheet(view: _View) -> Sheet:
    spec = [
        ("Severity", "severity"),
        ("Rule", "rule"),
        ("Row", "row"),
        ("Charge Code", "charge_code"),
        ("Description", "description"),
        ("HCPCS", "hcpcs"),
        ("Price", "price"),
        ("Value", "value"),
        ("Message", "message"),
    ]
    return _worklist(view, "Prices", _on_lines(view, PRICE_RULES), spec)


def below_medicare_sheet(view: _View) -> Sheet | None:
    below = view.result.below_fee
    if below is None:  # no fee schedule loaded
        return None
    spec = [
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
    ]
    sheet = _worklist(view, "Below Medicare", below, spec)
    sheet.formats |= {7: "currency", 8: "currency"}
    return sheet


def repair_lines(rep: pd.DataFrame) -> pd.DataFrame:
    """One row per repaired line: rules (catalog order), row, charge code and first repaired
    column, repairs joined. A line with a modifier split out of its code cell is read repair by
    repair; every other line with column operations, since at a million lines the repairs run
    past a million rows and Python objects for each were the run's peak memory."""
    if not len(rep):
        return _repair_lines_one_by_one(rep)
    rep = rep.sort_values("row", kind="stable").reset_index(drop=True)
    split = rep["rule"].eq("MODIFIER-REPAIRED") & rep["value"].eq(rep["suggested"])
    unusual = split.fillna(True) | rep[["rule", "column", "value", "suggested"]].isna().any(axis=1)
    by_one = rep["row"].isin(rep.loc[unusual.astype(bool), "row"].unique())
    if not (~by_one).any():
        return _repair_lines_one_by_one(rep)
    lines = _repair_lines_by_column(rep[~by_one])
    if by_one.any():
        lines = pd.concat([lines, _repair_lines_one_by_one(rep[by_one])], ignore_index=True)
        lines = lines.sort_values("row", kind="stable", ignore_index=True)
    return lines


def _joined_by_row(rows: np.ndarray, text: pd.Series, sep: str) -> list[str]:
    """text joined per run of equal rows (rows sorted), in Arrow: no Python object per item."""
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    offsets = pa.array(np.r_[starts, len(rows)], pa.int32())
    items = pa.array(text.astype("str"), pa.large_string())
    if isinstance(items, pa.ChunkedArray):  # pandas may hold the text in several chunks
        items = items.combine_chunks()
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, items), pa.scalar(sep, items.type))
    return joined.to_pylist()


def _repair_lines_by_column(rep: pd.DataFrame) -> pd.DataFrame:
    text = rep["column"].astype("str") + ": " + rep["value"].astype("str") + " → "
    text = text + rep["suggested"].astype("str")
    rows = rep["row"].to_numpy()
    rules = rep[["row", "rule"]].drop_duplicates()
    rank = pd.Index(list(RULES)).get_indexer(rules["rule"])  # catalog order; unknown last
    rules = rules.assign(rank=np.where(rank < 0, len(RULES), rank))
    rules = rules.sort_values(["row", "rank"], kind="stable")
    first = rep.drop_duplicates("row", keep="first")
    # Held as Python objects (the writer reads them so) rather than converted to text again.
    return pd.DataFrame(
        {
            "rules": _joined_by_row(rules["row"].to_numpy(), rules["rule"], " "),
            "row": first["row"].tolist(),
            "charge_code": first["charge_code"].tolist(),
            "repairs": _joined_by_row(rows, text, "; "),
            "column": first["column"].tolist(),
        },
        dtype=object,
    ).astype({"row": first["row"].dtype})


def _repair_lines_one_by_one(rep: pd.DataFrame) -> pd.DataFrame:
    """repair_lines for the lines whose repairs need reading in turn (a modifier split out)."""
    texts: dict[Any, list[str]] = {}
    rules: dict[Any, list[str]] = {}
    first: dict[Any, tuple[Any, Any]] = {}  # row -> (charge code, first repaired column)
    if len(rep):
        rep = rep.sort_values("row", kind="stable")
        for rule, row, column, code, value, repaired in zip(
            *(rep[c].tolist() for c in ("rule", "row", "column", "charge_code", "value")),
            rep["suggested"].tolist(),
            strict=True,
        ):
            items = texts.setdefault(row, [])
            if rule == "MODIFIER-REPAIRED" and value == repaired:  # split out of the code cell
                tail = f" + {repaired}"
                for k in range(len(items) - 1, -1, -1):  # onto its code cell's repair
                    if items[k].startswith(f"{column}: "):
                        items[k] += tail
                        break
                else:
                    items.append(f"{column}: modifier {repaired} split out")
            else:
                items.append(f"{column}: {value} → {repaired}")
            if rule not in rules.setdefault(row, []):
                rules[row].append(rule)
            first.setdefault(row, (code, column))
    rows = list(texts)
    lines = pd.DataFrame(
        {
            "rules": [" ".join(sorted(rules[r], key=list(RULES).index)) for r in rows],
            "row": rows,
            "charge_code": [first[r][0] for r in rows],
            "repairs": ["; ".join(texts[r]) for r in rows],
            "column": [first[r][1] for r in rows],
        }
    )
    return lines


def repairs_sheet(view: _View) -> Sheet:
    """The audit of every repaired cell, line by line: each line once, its repairs as
    'Column: original → repaired' (a modifier split out of the code cell as '+ 26' after
    its code's repair)."""
    lines = repair_lines(view.result.lines.repairs)
    spec = [
        ("Rules", "rules"),
        ("Row", "row"),
        ("Charge Code", "charge_code"),
        ("Repairs", "repairs"),
    ]
    return _worklist(view, "Repairs", lines, spec)


def code_map_sheet(view: _View) -> Sheet:
    f = view.findings
    spec = [
        ("Severity", "severity"),
        ("Rule", "rule"),
        ("Map Row", "row"),
        ("Cell", "cell"),
        ("Charge Code", "charge_code"),
        ("Value", "value"),
        ("Message", "message"),
    ]
    return _worklist(view, "Code map", f[f["rule"].str.startswith("MAP-")], spec)


def suggestions_sheet(view: _View) -> Sheet:
    suggestions = view.result.suggestions
    if suggestions is None:
        suggestions = pd.DataFrame(columns=SUGGESTION_HEADERS)
    frame = suggestions.rename(columns={"Row": "row", "Charge Code": "charge_code"})
    spec = [(h, {"Row": "row", "Charge Code": "charge_code"}.get(h, h)) for h in SUGGESTION_HEADERS]
    return _worklist(view, "Suggestions", frame, spec)


def static_coding_sheet(view: _View) -> Sheet:
    frame = view.result.lines.frame
    static = frame[frame["code_source"].eq("code map")].assign(row=lambda d: d.index)
    spec = [
        ("Row", "row"),
        ("Charge Code", "charge_code"),
        ("Description", "description"),
        ("Revenue Code", "revenue_code"),
        ("HCPCS", "coded_hcpcs"),
        ("Modifiers", "coded_modifiers"),
    ]
    return _worklist(view, "Static coding applied", static, spec)


def soft_coded_sheet(view: _View) -> Sheet:
    frame = view.result.lines.frame
    soft = frame[frame["soft"]].assign(row=lambda d: d.index)
    spec = [
        ("Row", "row"),
        ("Charge Code", "charge_code"),
        ("Description", "description"),
        ("Department", "department"),
        ("Revenue Code", "revenue_code"),
        ("HCPCS", "coded_hcpcs"),
    ]
    return _worklist(view, "Soft-coded", soft, spec)


# ----- Chargemaster, Changes, Rules ----------------------------------------------------------


def _rules_by_row(view: _View) -> pd.Series:
    f = view.findings[view.on_lines]
    if f.empty:
        return pd.Series(dtype="str")
    pairs = f[["row", "rule"]].drop_duplicates().sort_values(["row", "rule"])
    joined: dict[Any, str] = {}  # a loop: a groupby join costs a Python call per line anyway
    for row, rule in zip(pairs["row"].tolist(), pairs["rule"].tolist(), strict=True):
        joined[row] = f"{joined[row]} {rule}" if row in joined else rule
    return pd.Series(joined, dtype="object")


def report_headers(input_headers: list[str]) -> list[str]:
    """The Chargemaster sheet's headers: an input column named like one of the report's own
    (Row, Severity, Rules, ...) is marked '(input)' so every table column is unambiguous."""
    reserved = {h.lower() for h in ["Row", *CODED_HEADERS]}
    return ["Row", *(f"{h} (input)" if h.lower() in reserved else h for h in input_headers)]


def _price_cells(number: pd.Series, text: pd.Series, start: int, stop: int) -> list[Any]:
    """A price that parses as the number; one that does not, or parses to infinity ("1e999"),
    as written."""
    as_number = clean_column(number.iloc[start:stop])
    as_text = clean_column(text.iloc[start:stop])
    return [
        n if n is not None and not isinstance(n, str) else t
        for n, t in zip(as_number, as_text, strict=True)
    ]


def chargemaster_sheet(view: _View) -> Sheet:
    result = view.result
    table, frame = result.table, result.lines.frame
    data, prices = table.data, result.lines.prices
    room = excel.EXCEL_MAX_COLS - 1 - len(CODED_HEADERS)
    inputs = table.headers[:room]  # past XFD: reported as CELL-OVERSIZE
    # Columns are cleaned a chunk at a time as they are written (excel.LazyColumn): at a
    # million lines, whole lists of cells would be the run's peak memory.
    columns: list[Any] = [frame.index.tolist()]
    formats = {}
    for j, h in enumerate(inputs, start=1):
        if h in prices.columns:  # a price that parses is written as a number finance can sum
            columns.append(excel.LazyColumn(partial(_price_cells, prices[h], data[h]), len(data)))
            formats[j] = "currency"
        else:
            columns.append(excel.lazy_clean(data[h]))
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
        columns.append(excel.lazy_clean(s))
    headers = [*report_headers(inputs), *CODED_HEADERS]
    # The cells findings name, with the highest severity on each.
    f = view.findings[view.on_lines & view.findings["column"].isin(view.header_index)]
    marks: dict[int, dict[int, str]] = {}
    positions = frame.index.get_indexer(f["row"].astype("int64"))
    for pos, col, sev in zip(positions, f["column"], f["severity"], strict=True):
        c = view.header_index[col] + 1
        if c > len(inputs):
            continue
        cells = marks.setdefault(int(pos), {})
        if c not in cells or _RANK[sev] < _RANK[cells[c]]:
            cells[c] = sev
    sev_col = len(inputs) + 1
    widths = [8] + [min(max(len(h) + 2, 10), 40) for h in headers[1:sev_col]]
    widths += [9, 14, 16, 18, 12, 30]
    return Sheet(
        "Chargemaster",
        headers,
        columns,
        widths=widths,
        formats=formats,
        severity=sev_col,
        cell_fills=marks,
    )


def changes_sheet(view: _View) -> Sheet | None:
    frame = view.result.changes
    if frame is None:
        return None
    from .changes import CHANGE_HEADERS

    columns = [clean_column(frame[c]) for c in CHANGE_HEADERS]
    formats = {}
    for j, h in enumerate(CHANGE_HEADERS):
        if h in ("Row", "Baseline Row"):
            columns[j] = as_int(columns[j])
    # Prices before and after as numbers in currency format, like everywhere else.
    is_price = frame["Field"].eq("Price").fillna(False).tolist()
    for h in ("Before", "After"):
        j = CHANGE_HEADERS.index(h)
        columns[j] = [_number(v) if p else v for v, p in zip(columns[j], is_price, strict=True)]
    return Sheet("Changes", list(CHANGE_HEADERS), columns, formats=formats)


def _number(v: Any) -> Any:
    try:
        x = float(str(v).replace(",", "").replace("$", ""))
    except (TypeError, ValueError):
        return v
    return x if x == x and abs(x) != float("inf") else v


def rule_status(view: _View) -> dict[str, str]:
    """What the Rules sheet says of each rule: active, not yet, or did not run (and why)."""
    f = view.findings
    skipped = f[f["rule"].eq("RULE-SKIPPED")]
    did_not_run = {}
    for value, message in zip(skipped["value"], skipped["message"], strict=True):
        if value in RULES:
            did_not_run.setdefault(value, message)
    status = {}
    for r in RULES.values():
        if r.pending:
            status[r.id] = f"not yet: needs {r.pending}"
        elif r.id in did_not_run:
            status[r.id] = f"did not run: {did_not_run[r.id]}"
        else:
            status[r.id] = "active"
    return status


def rules_sheet(view: _View) -> Sheet:
    sev = view.result.config.severity
    rules = list(RULES.values())
    status = rule_status(view)
    counts = view.findings["rule"].value_counts()
    columns = [
        [r.id for r in rules],
        [sev.get(r.id, r.severity.value) for r in rules],
        [r.group for r in rules],
        [r.title for r in rules],
        [status[r.id] for r in rules],
        [int(counts.get(r.id, 0)) for r in rules],
    ]
    headers = ["Rule", "Severity", "Group", "Title", "Status", "Findings"]
    return Sheet("Rules", headers, columns, formats={5: "count"})


SKIPPED_HEADERS = ["Row", "Kind", "Text"]


def skipped_rows_sheet(view: _View) -> Sheet | None:
    """Every row below the header that was not read as a line: nothing is lost in silence."""
    listing = getattr(view.result.table, "skipped_rows", None)
    if listing is None or len(listing) == 0:
        return None
    columns = [
        [int(v) for v in listing["row"]],
        clean_column(listing["kind"]),
        clean_column(listing["text"]),
    ]
    return Sheet("Skipped rows", SKIPPED_HEADERS, columns)


# The sheets after Summary, in order. Add one by inserting its builder here.
SHEETS: list[Callable[[_View], Sheet | None]] = [
    issues_sheet,
    missing_hcpcs_sheet,
    invalid_codes_sheet,
    revcode_mismatch_sheet,
    prices_sheet,
    below_medicare_sheet,
    repairs_sheet,
    code_map_sheet,
    suggestions_sheet,
    static_coding_sheet,
    soft_coded_sheet,
    chargemaster_sheet,
    changes_sheet,
    rules_sheet,
    skipped_rows_sheet,
]


# ----- Summary -------------------------------------------------------------------------------


def fix_first(view: _View) -> pd.DataFrame:
    """Errors then warnings by rule: lines affected and the dollars on them, largest first."""
    f = view.findings[view.findings["severity"].isin(["error", "warning"])]
    rows = []
    for rule, part in f.groupby("rule", sort=False):
        on = part[view.on_lines.reindex(part.index, fill_value=False)]
        lines = on.drop_duplicates("row")
        dollars = float(pd.to_numeric(lines["price"], errors="coerce").fillna(0).sum())
        rows.append(
            {
                "severity": part["severity"].iloc[0],
                "rule": rule,
                "findings": len(part),
                "lines": len(lines),
                "dollars": round(dollars, 2),
                "where": WORKLIST_OF.get(rule, "Issues"),
            }
        )
    out = pd.DataFrame(rows, columns=["severity", "rule", "findings", "lines", "dollars", "where"])
    if out.empty:
        return out
    out["rank"] = out["severity"].map(_RANK)
    out = out.sort_values(
        ["rank", "dollars", "lines", "rule"], ascending=[True, False, False, True]
    )
    return out.drop(columns="rank").reset_index(drop=True)


def family_label(view: _View) -> pd.Series:
    """A finding's revenue-code family; without one, its revenue-code group (or why not)."""
    f = view.findings
    rev = f["revenue_code"].astype("object")
    rev_text = rev.where(rev.notna(), "").astype("str")
    label = f["family"].astype("object")
    label = label.where(label.notna() & label.ne("nan"), None)
    no_family = label.isna()
    group = "rev " + rev_text.str[:3] + "x (no family)"
    label = label.mask(no_family & rev_text.str.len().ge(3), group)
    label = label.mask(no_family & rev_text.str.len().lt(3), "(no revenue code)")
    return label.where(view.on_lines, "(not on a line)")


def _counts_by(f: pd.DataFrame, key: str) -> pd.DataFrame:
    g = f.groupby([key, "severity"]).size()
    table = g.unstack(fill_value=0).reindex(columns=["error", "warning", "info"], fill_value=0)
    table["total"] = table.sum(axis=1)
    return table.sort_values(["error", "total"], ascending=False)


def _summary(w: Book, ws, view: _View, written: dict[str, list[str]]) -> None:
    result = view.result
    s, f, frame = result.stats, view.findings, result.lines.frame
    ws.set_column(0, 0, 40)
    ws.set_column(1, 4, 13)
    ws.set_column(5, 5, 48)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # printed (and rendered to PDF) one page wide
    w.put(ws, 0, 0, f"Chargemaster report: {Path(s['input']).name}", w.title_format)
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

    # What to fix first: errors then warnings, the rules with the most money on them first.
    first = fix_first(view)
    w.put(ws, r, 0, "Fix first", w.label)
    w.put(ws, r, 1, "errors, then warnings; dollars = sum of the prices of the lines affected")
    r += 1
    for c, h in enumerate(["Rule", "Severity", "Lines affected", "Dollars", "Findings", "Work in"]):
        w.put(ws, r, c, h, w.header)
    for item in first.itertuples():
        r += 1
        w.put(ws, r, 0, item.rule, w.fills[item.severity])
        w.put(ws, r, 1, item.severity)
        w.put(ws, r, 2, item.lines, w.count)
        w.put(ws, r, 3, item.dollars, w.currency)
        w.put(ws, r, 4, item.findings, w.count)
        if item.where in written:
            ws.write_url(r, 5, f"internal:'{item.where}'!A1", w.link, string=item.where)
        else:
            w.put(ws, r, 5, item.where)
    if first.empty:
        r += 1
        w.put(ws, r, 0, "(no errors or warnings)")
    r += 2

    # Findings by rule, with a bar chart beside it.
    w.put(ws, r, 0, "Findings by rule", w.label)
    r += 1
    for c, h in enumerate(["Rule", "Count", "Severity", "Title"]):
        w.put(ws, r, c, h, w.header)
    first_row = r + 1
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
        w.put(ws, r, 1, int(by_rule[rid]), w.count)
        w.put(ws, r, 2, level)
        w.put(ws, r, 3, RULES[rid].title)
    r += 1
    w.put(ws, r, 0, "Total (rows of Issues)", w.label)
    w.put(ws, r, 1, len(f), w.big)
    if ordered:
        chart = w.book.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": "Findings",
                "categories": ["Summary", first_row, 0, first_row + len(ordered) - 1, 0],
                "values": ["Summary", first_row, 1, first_row + len(ordered) - 1, 1],
                "fill": {"color": "#4472C4"},
            }
        )
        chart.set_title({"name": "Findings by rule"})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True})
        chart.set_size({"width": 620, "height": max(260, 22 * len(ordered) + 80)})
        ws.insert_chart(2, 7, chart)
    r += 2

    labelled = f.assign(family=family_label(view))
    on_lines = labelled[view.on_lines]
    on_lines = on_lines.assign(department=on_lines["department"].fillna("(no department)"))
    for title, key, frame_ in (
        ("Findings by revenue-code family", "family", labelled),
        ("Findings by department", "department", on_lines),
    ):
        if key == "department" and not result.table.col("department"):
            continue
        w.put(ws, r, 0, title, w.label)
        r += 1
        for c, h in enumerate([key.capitalize(), "Errors", "Warnings", "Info", "Total"]):
            w.put(ws, r, c, h, w.header)
        table = _counts_by(frame_, key) if len(frame_) else pd.DataFrame()
        for name, row in table.head(40).iterrows():
            r += 1
            w.put(ws, r, 0, str(name).replace("_", " "))
            for c, k in enumerate(["error", "warning", "info", "total"], start=1):
                w.put(ws, r, c, int(row[k]), w.count)
        if len(table) > 40:
            r += 1
            w.put(ws, r, 0, f"(and {len(table) - 40:,} more)")
        r += 2

    w.put(ws, r, 0, "Run facts", w.label)
    r += 1
    skipped = ", ".join(f"{v:,} {k}" for k, v in s["skipped_detail"].items()) or "none"
    facts: list[tuple[str, Any]] = [
        ("Input file", s["input"]),
        ("Input SHA-256", s["input_sha256"]),
        ("Sheet", s["sheet"] or "(text file)"),
        ("Header row", s["header_row"]),
        ("Lines read", s["lines"]),
        ("Active lines", s["active_lines"]),
        (
            "  made inactive by this run",
            ", ".join(f"{v:,} {k}" for k, v in s.get("retired_lines", {}).items()) or "none",
        ),
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
    if s.get("baseline"):
        facts.append(("Baseline", s["baseline"]))
    if result.changes is not None:
        changes = result.changes["Change"].value_counts()
        text = ", ".join(
            f"{int(changes.get(k, 0)):,} {k}"
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
        facts.append(("Rows without a link (Excel allows 65,530 per sheet)", w.links_dropped))
    for label, value in facts:
        w.put(ws, r, 0, label, w.label)
        is_count = isinstance(value, int) and label not in ("Header row",)
        w.put(ws, r, 1, value, w.count if is_count else None)
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


def _columns_block(w: Book, ws, r: int, result: Result) -> int:
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
