"""The coded chargemaster: the input in its own layout with repaired and attached codes, ready
to load back into the patient-accounting system.

Same columns, headers and order as the input, from the header row down (non-item rows kept in
place). Only code cells change: a repaired revenue code, HCPCS or modifier, and a code (with
its modifiers) the code map attached. Every other cell is written as it was read.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from .errors import OutputError
from .excel import EXCEL_MAX_COLS, Book
from .fields import REVENUE_FIELDS
from .output import atomic_write
from .pipeline import Result
from .reader import cell_text, read_grids


def code_cell_updates(result: Result) -> dict[tuple[int, str], str]:
    """(source row, column) -> the new text of each code cell that changes."""
    lines, table = result.lines, result.table
    frame = lines.frame
    updates: dict[tuple[int, str], str] = {}
    mod_cols = table.fields.get("modifiers", [])
    hcpcs_cols = table.fields.get("hcpcs", [])

    def put(mask: pd.Series, column: str, values: pd.Series) -> None:
        for row, value in values[mask.fillna(False).astype(bool)].items():
            if isinstance(value, str) and value:
                updates[(int(row), column)] = value

    revenue = [c for f in REVENUE_FIELDS for c in table.fields.get(f, [])]
    for col in revenue + mod_cols:
        put(lines.repaired[col], col, lines.coded[col])
    for col in hcpcs_cols:
        split = lines.split_modifiers[col].notna()
        # A modifier split off the code needs a modifier column to go to; else keep the cell.
        keep = split & (not mod_cols)
        put(lines.repaired[col] & ~keep, col, lines.coded[col])
        if mod_cols:
            first = mod_cols[0]
            empty = table.data[first].isna() | table.data[first].str.strip().eq("")
            put(split & empty, first, lines.split_modifiers[col])
    attached = frame["code_source"].eq("code map")
    for col in hcpcs_cols:
        put(attached & frame["hcpcs_col"].eq(col), col, frame["coded_hcpcs"])
    if mod_cols:
        put(attached & frame["coded_modifiers"].notna(), mod_cols[0], frame["coded_modifiers"])
    return updates


# A spreadsheet opening a CSV runs a cell that starts with one of these as a formula (CSV
# injection, OWASP): such a cell is written with a leading apostrophe, which Excel shows as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run: a formula-like start is neutralised; numbers such as
    -5 or +1.5 are left alone (Excel reads them as numbers, never as formulas)."""
    if text and text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def write_coded(result: Result, path: Path, protect: list[Path] | None = None) -> Path:
    """Write the coded chargemaster to ``path`` (.xlsx or .csv by extension), atomically,
    from the very bytes the run read and checked (never from the file as it is now)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise OutputError(f"{path}: the coded output must end in .xlsx or .csv")
    table = result.table
    grid = next(g for g in read_grids(table.path, result.source) if g.sheet == table.sheet)
    rows = grid.rows[table.header_row - 1 :]
    while len(rows) > 1 and not any(cell_text(v).strip() for v in rows[-1]):
        rows = rows[:-1]
    headers = table.headers
    width = len(headers)
    updates = code_cell_updates(result)
    position = {h: j for j, h in enumerate(headers)}
    changes: dict[int, dict[int, str]] = {}
    for (row, column), value in updates.items():
        changes.setdefault(row, {})[position[column]] = value
    header_cells = [cell_text(v) for v in rows[0]] + [""] * (width - len(rows[0]))

    def body():
        for i, raw in enumerate(rows[1:]):
            source_row = table.header_row + 1 + i
            cells = list(raw) + [""] * (width - len(raw))
            for j, value in changes.get(source_row, {}).items():
                cells[j] = value
            yield cells

    guard = [table.path, *(protect or [])]
    if result.options.code_map:
        guard.append(result.options.code_map)
    if suffix == ".csv":
        # The input's own delimiter, encoding and line ends when it was a text file.
        delimiter = table.delimiter or ","
        encoding = {"utf-8+cp1252": "utf-8", "": "utf-8"}.get(table.encoding, table.encoding)
        newline = "\r\n" if result.source and b"\r\n" in result.source[:65536] else "\n"
        if not table.delimiter:
            newline = "\r\n"  # RFC 4180, what Excel writes

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding=encoding, errors="replace") as fh:
                out = csv.writer(fh, delimiter=delimiter, lineterminator=newline)
                out.writerow([csv_safe(c) for c in header_cells])
                for cells in body():
                    out.writerow([csv_safe(cell_text(v)) for v in cells])
    else:

        def write(tmp: Path) -> None:
            _write_xlsx(tmp, table.sheet or "Chargemaster", header_cells, body())

    return atomic_write(path, write, guard)


def _write_xlsx(path: Path, sheet: str, header: list[str], rows) -> None:
    book = Book(path, "Coded chargemaster")
    ws = book.book.add_worksheet(sheet[:31])
    width = min(len(header), EXCEL_MAX_COLS)
    for c, value in enumerate(header[:width]):
        book.put(ws, 0, c, value)
    for r, cells in enumerate(rows, start=1):
        for c, value in enumerate(cells[:width]):
            if value is None or value == "":
                continue
            book.put(ws, r, c, value)
    book.close()
