"""The one Excel layer every workbook goes through: the report, the roll-up, the coded output.

- ``Book``: an xlsxwriter workbook with fixed properties (the same input gives the same file)
  and the shared formats (header, currency, count, severity fills, links).
- ``Book.put``: one cell; text is always text (never a formula, number or link), illegal XML
  characters are removed, a non-finite number becomes text.
- ``Book.table``: a sheet holding one Excel table (header always present, even with no rows),
  continuing on ``Name (2)`` past Excel's row limit.

Text cells over Excel's limit and columns past XFD cannot be written whole: ``clip_report``
says what was cut so the caller can report it (CELL-OVERSIZE), never silently.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.url import Url
from xlsxwriter.utility import xl_col_to_name, xl_range

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384
EXCEL_MAX_LINKS = 65_530  # per worksheet; Excel ignores (and may repair) beyond it
# Past this many cells a sheet is a filtered range, not a table (Excel slows on huge tables).
TABLE_MAX_CELLS = 5_000_000
MAX_CELL_CHARS = 32_767
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FILLS = {"error": "#F8CBAD", "warning": "#FFE699", "info": "#DDEBF7"}
CURRENCY = '"$"#,##0.00;[Red]-"$"#,##0.00'
COUNT = "#,##0"
OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def clean_text(text: str) -> str:
    text = ILLEGAL.sub("", text)
    return text[: MAX_CELL_CHARS - 1] + "…" if len(text) > MAX_CELL_CHARS else text


def clean(value: Any) -> Any:
    """A value as a workbook holds it: None for missing, text without control characters,
    numbers finite (Excel has no infinity: inf is written as the text 'inf')."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        if math.isinf(value):
            return str(value)
        return value
    if isinstance(value, str):
        return clean_text(value) if value else None
    return value


def clean_column(values: pd.Series) -> list[Any]:
    """A column ready for write_row: None for missing or empty, strings cleaned, numbers kept."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        floats = values.astype("float64")
        out = floats.tolist()
        if not floats.abs().lt(math.inf).all():  # NaN or +-inf present
            return [clean(v) for v in out]
        return out
    if pd.api.types.is_string_dtype(values) and values.dtype != object:  # all text or missing
        out = values.astype("object").where(values.notna() & values.ne(""), None).tolist()
    else:
        out = [(v or None) if v.__class__ is str else clean(v) for v in values.tolist()]
    present = [v for v in out if v.__class__ is str]
    # One search over the column joined (a newline is legal) instead of one per cell.
    if ILLEGAL.search("\n".join(present)) or max(map(len, present), default=0) > MAX_CELL_CHARS:
        return [clean_text(v) or None if v.__class__ is str else v for v in out]
    return out


class LazyColumn:
    """A column cleaned a chunk at a time as the writer reads it.

    A million-line Chargemaster sheet held as Python lists is some twenty million objects (about
    1 GB) on top of the frame it came from; built chunk by chunk, only one chunk per column
    lives at a time. ``make(start, stop)`` returns the cleaned cells of those rows.
    """

    CHUNK = 50_000

    def __init__(self, make: Callable[[int, int], list[Any]], n: int) -> None:
        self.make, self.n = make, n

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        for start in range(0, self.n, self.CHUNK):
            yield from self.make(start, min(start + self.CHUNK, self.n))


def lazy_clean(values: pd.Series) -> LazyColumn:
    """clean_column, a chunk at a time."""
    return LazyColumn(lambda a, b: clean_column(values.iloc[a:b]), len(values))


def as_int(column: Sequence[Any]) -> list[Any]:
    """Whole numbers as int (row numbers, ranks); anything else as it is."""
    out = []
    for v in column:
        if isinstance(v, float) and v.is_integer() or isinstance(v, str) and v.strip().isdigit():
            out.append(int(v))
        else:
            out.append(v)
    return out


def table_headers(headers: Sequence[str]) -> list[str]:
    """Headers an Excel table accepts: no control characters, non-empty, unique ignoring case."""
    out: list[str] = []
    seen: set[str] = set()
    for i, h in enumerate(headers):
        name = " ".join(ILLEGAL.sub("", str(h)).split())[:255] or f"Column {i + 1}"
        base, n = name, 1
        while name.lower() in seen:
            n += 1
            name = f"{base} ({n})"
        seen.add(name.lower())
        out.append(name)
    return out


def fit_widths(headers: Sequence[str], columns: Sequence[Sequence[Any]], cap: int = 60):
    """Column widths fit to the header and the first values, capped."""
    widths = []
    for h, col in zip(headers, columns, strict=True):
        sample = col[:2000]
        longest = max((len(str(v)) for v in sample if v is not None), default=0)
        widths.append(min(max(len(h), longest) + 2, cap))
    return widths


@dataclass
class Book:
    """An xlsxwriter workbook with the shared formats and the table writer."""

    path: Path
    title: str
    constant_memory: bool = True
    tables: int = 0
    sheets_continued: list[str] = field(default_factory=list)
    links_dropped: int = 0
    plain_ranges: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.book = xlsxwriter.Workbook(
            str(self.path), {**OPTIONS, "constant_memory": self.constant_memory}
        )
        # Fixed properties: the same input gives the same file (only run facts differ).
        self.book.set_properties(
            {"title": self.title, "author": "chargemaster", "created": dt.datetime(2000, 1, 1)}
        )
        add = self.book.add_format
        self.header = add({"bold": True, "bg_color": "#D9E1F2", "border": 1})
        self.title_format = add({"bold": True, "font_size": 14})
        self.label = add({"bold": True})
        self.big = add({"bold": True, "font_size": 13, "align": "left", "num_format": COUNT})
        self.percent = add({"bold": True, "font_size": 13, "align": "left", "num_format": "0.0%"})
        self.link = add({"font_color": "#0563C1", "underline": 1})
        self.currency = add({"num_format": CURRENCY})
        self.count = add({"num_format": COUNT})
        self.date = add({"num_format": "yyyy-mm-dd"})
        self.fills = {k: add({"bg_color": v}) for k, v in FILLS.items()}
        # Conditional formats take their own (differential) formats, not cell formats.
        self.severity_rules = {k: add({"bg_color": v}) for k, v in FILLS.items()}
        self.named = {"currency": self.currency, "count": self.count}
        self._fill_colors = {id(self.fills[k]): v for k, v in FILLS.items()}
        self._combined: dict[tuple[int, int], Any] = {}

    def _with_number_format(self, fmt, column_format):
        """A severity fill on a price cell keeps the currency format."""
        if fmt is None or column_format is None or id(fmt) not in self._fill_colors:
            return fmt or column_format
        key = (id(fmt), id(column_format))
        if key not in self._combined:
            self._combined[key] = self.book.add_format(
                {"bg_color": self._fill_colors[id(fmt)], "num_format": column_format.num_format}
            )
        return self._combined[key]

    def close(self) -> None:
        # Deflate level 1 instead of zlib's default 6: half the CPU of zipping the sheets for a
        # file about a fifth larger (100k lines: 0.8 s instead of 1.5 s, 14 MB instead of 12).
        # xlsxwriter opens its ZipFile with no level of its own, so it is given one here.
        plain = xlsxwriter.workbook.ZipFile
        xlsxwriter.workbook.ZipFile = functools.partial(plain, compresslevel=1)
        try:
            self.book.close()
        finally:
            xlsxwriter.workbook.ZipFile = plain

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
        elif isinstance(value, dt.datetime):
            ws.write_datetime(r, c, value, fmt or self.date)
        elif isinstance(value, dt.date):
            ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), fmt or self.date)
        else:
            ws.write_string(r, c, clean_text(str(value)), fmt)

    def table(
        self,
        name: str,
        headers: Sequence[str],
        columns: Sequence[Sequence[Any]],
        *,
        widths: Sequence[int] | None = None,
        formats: dict[int, str] | None = None,
        decorate: Callable[[int, Sequence[Any]], dict[int, tuple[Any, str | None]]] | None = None,
        severity: int | None = None,
    ) -> list[str]:
        """A sheet holding one Excel table (autofilter, frozen header, widths fit to content)
        from cleaned columns; it continues on 'name (2)' past Excel's row limit.

        Rows go through write_row: with strings_to_formulas/urls/numbers off, a string is
        always written as a string. ``formats`` gives a column its number format by name
        ('currency', 'count'), applied to the cells written without a format of their own.
        ``decorate(i, row)`` gives, for the i-th data row, the cells to write with a format
        and/or as an internal link: {column: (format, url)}. ``severity``: the column filled
        by its value (error, warning, info) through conditional formats.
        """
        headers = table_headers(headers)
        widths = list(widths or fit_widths(headers, columns))
        column_formats = {c: self.named[f] for c, f in (formats or {}).items()}
        for c, f in (formats or {}).items():
            if f == "currency":  # "$1,234,567.89" is wider than the raw number
                widths[c] = max(widths[c], 14)
        used: list[str] = []
        ws, r = None, EXCEL_MAX_ROWS
        fast = self.constant_memory and _RowXml.fits(xlsxwriter.__version__)
        rows = _RowXml(self, column_formats, len(headers)) if fast else None
        for i, row in enumerate(zip(*columns, strict=True)):
            if r >= EXCEL_MAX_ROWS:
                if ws is not None:
                    if rows is not None:
                        rows.flush(ws)
                    self._close_table(ws, headers, r, severity)
                sheet_name = name if not used else f"{name} ({len(used) + 1})"
                ws = self._new_sheet(sheet_name, headers, widths, column_formats)
                used.append(sheet_name)
                r = 1
            special = decorate(i, row) if decorate is not None else None
            if rows is None or not rows.add(ws, r, row, special):
                self._write_row(ws, r, row, special, column_formats)
            r += 1
        if ws is None:
            ws = self._new_sheet(name, headers, widths, column_formats)
            used.append(name)
            r = 1
        if rows is not None:
            rows.flush(ws)
        self._close_table(ws, headers, r, severity)
        self.sheets_continued += used[1:]
        return used

    def _write_row(self, ws, r: int, row: Sequence[Any], special, column_formats) -> None:
        """One row through xlsxwriter's own cell writers (the rows _RowXml leaves to it)."""
        if not special:
            ws.write_row(r, 0, row)
            return
        start = 0  # plain runs through write_row; formatted or linked cells one by one
        for c in sorted(special):
            if c > start:
                ws.write_row(r, start, row[start:c])
            fmt, url = special[c]
            fmt = self._with_number_format(fmt, column_formats.get(c))
            if url and isinstance(row[c], str):
                ws.write_url(r, c, url, fmt or self.link, string=row[c])
            elif url and isinstance(row[c], (int, float)) and not isinstance(row[c], bool):
                ws.write_url(r, c, url, fmt or self.link, string=f"{row[c]}")
            else:
                self.put(ws, r, c, row[c], fmt)
            start = c + 1
        if start < len(row):
            ws.write_row(r, start, row[start:])

    def _new_sheet(self, name, headers, widths, column_formats):
        ws = self.book.add_worksheet(name)
        ws.write_row(0, 0, headers, self.header)
        for c, width in enumerate(widths):
            ws.set_column(c, c, width, column_formats.get(c))
        ws.freeze_panes(1, 0)
        return ws

    def _close_table(self, ws, headers: Sequence[str], end: int, severity: int | None) -> None:
        """Make rows 0..end-1 an Excel table (ListObject); past TABLE_MAX_CELLS an autofilter.
        ``severity``: the column whose cells are filled by their value (error, warning, info),
        as conditional formats on the column rather than a format on every cell.

        xlsxwriter refuses add_table() in constant_memory mode because the call writes the
        header cells, which that mode may have flushed already. Our header row is written
        (identically) before any data, and the table part itself is built at close from the
        options alone, so the guard is lifted for the call.
        """
        last = max(end - 1, 1)  # a table needs a data row: an empty one gets a blank row
        if severity is not None:
            for level, fmt in self.severity_rules.items():
                ws.conditional_format(
                    1,
                    severity,
                    last,
                    severity,
                    {"type": "cell", "criteria": "==", "value": f'"{level}"', "format": fmt},
                )
        if (last + 1) * len(headers) > TABLE_MAX_CELLS:
            ws.autofilter(0, 0, last, len(headers) - 1)
            self.plain_ranges.append(ws.name)
            return
        self.tables += 1
        options = {
            "name": f"T{self.tables}_{re.sub(r'[^A-Za-z0-9]', '', ws.name)[:40]}",
            "columns": [{"header": h, "header_format": self.header} for h in headers],
            "style": "Table Style Light 1",
        }
        # add_table checks every cell of its range against earlier tables and merged ranges,
        # a Python loop over rows x columns (seconds at 100k rows): ours never overlap, so the
        # table is declared over the header and one row, then given its real extent.
        ws.constant_memory = False
        try:
            ws.add_table(0, 0, 1, len(headers) - 1, options)
        finally:
            ws.constant_memory = self.constant_memory
        full = xl_range(0, 0, last, len(headers) - 1)
        table = ws.tables[-1]
        table["range"] = table["a_range"] = table["autofilter"] = full
        if not self.constant_memory:
            return
        # With data rows, the header row was flushed long ago: the header cells add_table
        # re-wrote sit beside the last (unflushed) data row and would be written out of
        # order, so they are dropped. With none, row 0 is still the row in memory: add_table
        # left shared-string cells there that this mode cannot write, so the header is
        # written again as inline strings (an empty sheet keeps its header row).
        ws.table.pop(0, None)
        if end <= 1:
            ws.write_row(0, 0, headers, self.header)


# A string xlsxwriter would rewrite (control characters as _xHHHH_, a literal _xHHHH_ escaped).
_NEEDS_ESCAPE = re.compile(r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]")


class _RowXml:
    """Table rows written straight into a constant-memory worksheet's row data as XML.

    xlsxwriter spends ~5 µs of Python per cell (argument checks, a cell tuple, attribute
    escaping, one file write per cell); at 100,000 lines the report's tables hold millions of
    cells. This writes the same XML xlsxwriter writes in constant-memory mode (inline strings,
    numbers as %.16G, the column's format where a cell has none) a row at a time, and leaves
    every other value (dates, over-long text) to xlsxwriter's own writers. Links are registered
    where xlsxwriter keeps them, so its close writes them as before.
    """

    CHUNK = 2000
    # The xlsxwriter releases whose constant-memory internals this was written against; any
    # other release gets the slow path through xlsxwriter's public writers.
    VERSIONS = ("3.2.", "3.3.")

    @classmethod
    def fits(cls, version: str) -> bool:
        return version.startswith(cls.VERSIONS)

    def __init__(self, book: Book, column_formats: dict[int, Any], ncols: int) -> None:
        self.book = book
        self.column_formats = column_formats
        self.column_xf = [
            f' s="{column_formats[c]._get_xf_index()}"' if c in column_formats else ""
            for c in range(ncols)
        ]
        self.letters = [xl_col_to_name(c) for c in range(ncols)]
        self.opening = [f'<c r="{letter}' for letter in self.letters]
        self.pending: list[str] = []
        self.last = -1  # the last row held in pending

    def add(self, ws, r: int, row: Sequence[Any], special) -> bool:
        """Hold row r's XML; False (nothing held) when xlsxwriter must write it."""
        n = f'{r + 1}"'
        cells = []
        links = []
        column_xf, opening = self.column_xf, self.opening
        for c, v in enumerate(row):
            xf = column_xf[c]
            if special and c in special:
                fmt, url = special[c]
                fmt = self.book._with_number_format(fmt, self.column_formats.get(c))
                if url and v is not None and not isinstance(v, bool):
                    v = v if isinstance(v, str) else f"{v}"
                    fmt = fmt or self.book.link
                    links.append((c, url, v))
                if fmt is not None:
                    xf = f' s="{fmt._get_xf_index()}"'
                if v is None:
                    if fmt is not None:
                        cells.append(f"{opening[c]}{n}{xf}/>")
                    continue
            if v is None:
                continue
            kind = v.__class__
            if kind is str:
                if (
                    not v
                    or len(v) > 16383
                    or ((not v.isprintable() or "_x" in v) and _NEEDS_ESCAPE.search(v))
                ):
                    return self._give_back(ws)
                if "&" in v or "<" in v or ">" in v:
                    v = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                if v[0].isspace() or v[-1].isspace():
                    cells.append(
                        f'{opening[c]}{n}{xf} t="inlineStr"><is><t xml:space="preserve">'
                        f"{v}</t></is></c>"
                    )
                else:
                    cells.append(f'{opening[c]}{n}{xf} t="inlineStr"><is><t>{v}</t></is></c>')
            elif kind is int or kind is float and math.isfinite(v):  # xlsxwriter refuses NaN
                cells.append(f"{opening[c]}{n}{xf}><v>{v:.16G}</v></c>")
            elif kind is bool:
                cells.append(f'{opening[c]}{n}{xf} t="b"><v>{int(v)}</v></c>')
            else:
                return self._give_back(ws)
        if links:
            if any(len(url) > 255 for _, url, _ in links):  # xlsxwriter's checks and warning
                return self._give_back(ws)
            for c, url, text in links:
                link = Url(url)
                link._text = text
                ws.hlink_count += 1
                ws.hyperlinks[r][c] = link
        if not self.pending:
            ws._write_single_row(r)  # xlsxwriter's own row in hand (the header) goes first
        if cells:
            self.pending.append(f'<row r="{n}>{"".join(cells)}</row>')
        self.last = r
        if len(self.pending) >= self.CHUNK:
            self.flush(ws)
        return True

    def _give_back(self, ws) -> bool:
        self.flush(ws)
        return False

    def flush(self, ws) -> None:
        if not self.pending:
            return
        ws.fh.write("".join(self.pending))
        self.pending.clear()
        ws.previous_row = self.last  # xlsxwriter continues after the rows written here
        ws.dim_rowmax = max(ws.dim_rowmax or 0, self.last)
        ws.dim_colmax = max(ws.dim_colmax or 0, len(self.letters) - 1)


@dataclass
class Clipped:
    """What a workbook could not hold whole."""

    cells: list[tuple[int, str, int]] = field(default_factory=list)  # (row, column, length)
    columns: list[str] = field(default_factory=list)  # headers past the last column
