"""The coded chargemaster: the input in its own layout with repaired and attached codes, ready
to load back into the patient-accounting system.

Same columns, headers and order as the input, from the header row down (non-item rows kept in
place). Only code cells change: a repaired revenue code, HCPCS or modifier, and a code (with
its modifiers) the code map attached. Every other cell is written as it was read.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from .errors import OutputError
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


def write_coded(result: Result, path: Path) -> Path:
    """Write the coded chargemaster to ``path`` (.xlsx or .csv by extension), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise OutputError(f"{path}: the coded output must end in .xlsx or .csv")
    table = result.table
    grid = next(g for g in read_grids(table.path) if g.sheet == table.sheet)
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

    protect = [table.path] + ([result.options.code_map] if result.options.code_map else [])
    if suffix == ".csv":

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                out = csv.writer(fh)
                out.writerow(header_cells)
                for cells in body():
                    out.writerow([cell_text(v) for v in cells])
    else:

        def write(tmp: Path) -> None:
            _write_xlsx(tmp, table.sheet or "Chargemaster", header_cells, body())

    return atomic_write(path, write, protect)


def _write_xlsx(path: Path, sheet: str, header: list[str], rows) -> None:
    book = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "constant_memory": True,
        },
    )
    book.set_properties(
        {
            "title": "Coded chargemaster",
            "author": "chargemaster",
            "created": dt.datetime(2000, 1, 1),
        }
    )
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    ws = book.add_worksheet(sheet[:31])
    ws.write_row(0, 0, header)
    for r, cells in enumerate(rows, start=1):
        for c, value in enumerate(cells):
            _put(ws, r, c, value, date)
    book.close()


def _put(ws, r: int, c: int, value: Any, date) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        ws.write_boolean(r, c, value)
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value)
    elif isinstance(value, dt.datetime):
        ws.write_datetime(r, c, value, date)
    elif isinstance(value, dt.date):
        ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
    else:
        ws.write_string(r, c, str(value))
