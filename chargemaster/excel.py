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

import contextlib
import ctypes
import datetime as dt
import functools
import io
import logging
import math
import multiprocessing
import os
import pickle
import queue
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import weakref
import zipfile
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
import xlsxwriter.workbook
import xlsxwriter.worksheet

try:
    from isal import isal_zlib
except ImportError:  # zipfile's zlib then
    isal_zlib = None
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
# A table written in a forked child needs at least this many rows to pay for the fork.
PARALLEL_MIN_ROWS = 20_000
log = logging.getLogger(__name__)


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
        floats = values.to_numpy(dtype="float64", na_value=np.nan)
        missing, infinite = np.isnan(floats), np.isinf(floats)
        if not (missing.any() or infinite.any()):
            return floats.tolist()
        out = floats.astype(object)  # Python floats, then what clean makes of the others
        out[missing] = None
        for i in np.flatnonzero(infinite).tolist():
            out[i] = str(floats[i].item())
        return out.tolist()
    arrow = None
    if pd.api.types.is_string_dtype(values) and values.dtype != object:  # all text or missing
        arrow = pa.array(values)  # no copy for Arrow-backed text
        empty = pc.equal(arrow, "")
        if pc.any(empty).as_py():
            arrow = pc.if_else(empty, pa.scalar(None, arrow.type), arrow)
        out = arrow.to_pylist()
    else:
        out = values.tolist()
        if set(map(type, out)) <= _TEXT_OR_NONE:
            if "" in out:
                out = [v or None for v in out]
        else:  # the common values inline, anything else through clean
            out = [
                (v or None)
                if v.__class__ is str
                else None
                if v is None or v.__class__ is float and v != v
                else clean(v)
                for v in out
            ]
    if arrow is not None:  # the checks in Arrow, without a Python string each
        illegal = pc.any(pc.match_substring_regex(arrow, _ILLEGAL_RE2)).as_py()
        longest = pc.max(pc.utf8_length(arrow)).as_py() or 0
    else:
        present = [v for v in out if v.__class__ is str]
        # One search over the column joined (a newline is legal) instead of one per cell.
        illegal = ILLEGAL.search("\n".join(present))
        longest = max(map(len, present), default=0)
    if illegal or longest > MAX_CELL_CHARS:
        return [clean_text(v) or None if v.__class__ is str else v for v in out]
    return out


_TEXT_OR_NONE = {str, type(None)}
# ILLEGAL in RE2's syntax (Arrow's regular expressions): the same characters.
_ILLEGAL_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]"


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


def int_column(values: pd.Series) -> list[Any]:
    """as_int(clean_column(values)): a numeric column of whole numbers (row numbers, ranks)
    converted at once, missing values as None; any other column as as_int reads it."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        floats = values.to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(floats)
        present = floats[~missing]
        if (np.abs(present) < 2**62).all() and (np.floor(present) == present).all():
            out = np.where(missing, 0, floats).astype(np.int64).astype(object)
            out[missing] = None
            return out.tolist()
    return as_int(clean_column(values))


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
class _Plan:
    """A table's rows as the writer takes them (Book._plan)."""

    headers: list[str]
    widths: list[int]
    column_formats: dict[int, Any]
    columns: Sequence[Sequence[Any]]
    n: int
    styles: dict[int, Any]
    links: dict[int, Sequence[str | None]]
    writer: Any
    fast: bool
    per_sheet: int  # rows past the header (the module's limit, read when planned)


@dataclass
class _Child:
    """A table's rows being written by a forked child (Book.table_in_child)."""

    pid: int
    pipe: int
    name: str
    headers: list[str]
    columns: Sequence[Sequence[Any]]
    args: dict[str, Any]

    def wait(self) -> dict[str, Any] | None:
        """What the child wrote (its state), None if it failed in any way."""
        chunks = []
        try:
            with os.fdopen(self.pipe, "rb") as pipe:
                while chunk := pipe.read(1 << 16):
                    chunks.append(chunk)
        finally:
            _, status = os.waitpid(self.pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            log.debug("child %d: exit status %d", self.pid, status)
            return None
        try:
            return pickle.loads(b"".join(chunks))
        except Exception:
            log.debug("child %d: unreadable state", self.pid, exc_info=True)
            return None

    def abandon(self) -> None:
        """Stop the child (the run failed elsewhere); its file goes with the workbook's."""
        try:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        with contextlib.suppress(OSError):
            os.close(self.pipe)


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
        # A folder of its own for xlsxwriter's temporary files: whatever happens, close (or
        # discard) removes it whole, and a sheet written in a child leaves its file there.
        _remove_stale_folders()
        self.tmpdir = tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-")
        # A book dropped without close or discard (an error elsewhere) still takes it along.
        weakref.finalize(self, shutil.rmtree, self.tmpdir, ignore_errors=True)
        self.book = xlsxwriter.Workbook(
            str(self.path),
            {**OPTIONS, "constant_memory": self.constant_memory, "tmpdir": self.tmpdir},
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
        # With isal installed, its deflate (ISA-L) does the same work in a quarter of the time
        # (100k lines: 0.33 s -> 0.08 s, 14.0 MB -> 13.5 MB) through zipfile's own calls.
        plain = xlsxwriter.workbook.ZipFile
        xlsxwriter.workbook.ZipFile = functools.partial(plain, compresslevel=1)
        compressor, crc = zipfile._get_compressor, zipfile.crc32
        if isal_zlib is not None:
            zipfile._get_compressor = _isal_compressor
            zipfile.crc32 = isal_zlib.crc32
        # Deleting a temporary file costs the file system a few milliseconds a megabyte here
        # (ext4 mounted with discard: about 0.35 s of the 100k report's 220 MB); unlink
        # releases the GIL, so one thread deletes while this one goes on zipping.
        deleter = _Deleter(self.tmpdir)
        modules = (xlsxwriter.workbook, xlsxwriter.worksheet)
        plain_os = [m.os for m in modules]
        for m in modules:
            m.os = deleter.os
        if self.constant_memory and _ColumnXml.fits(xlsxwriter.__version__):
            for ws in self.book.worksheets():
                _copy_rows_as_bytes(ws, deleter.remove)
        try:
            self.book.close()
        finally:
            xlsxwriter.workbook.ZipFile = plain
            zipfile._get_compressor, zipfile.crc32 = compressor, crc
            for m, o in zip(modules, plain_os, strict=True):
                m.os = o
            deleter.join()

    def discard(self) -> None:
        """Remove the temporary files of a workbook that will not be closed (a failed run)."""
        for ws in self.book.worksheets():
            fh = getattr(ws, "row_data_fh", None)
            if fh is not None and not fh.closed:
                fh.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)

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
        styles: dict[int, dict[int, Any]] | None = None,
        links: dict[int, Sequence[str | None]] | None = None,
        severity: int | None = None,
    ) -> list[str]:
        """A sheet holding one Excel table (autofilter, frozen header, widths fit to content)
        from cleaned columns; it continues on 'name (2)' past Excel's row limit.

        With strings_to_formulas/urls/numbers off, a string is always written as a string.
        ``formats`` gives a column its number format by name ('currency', 'count'), applied
        to the cells written without a format of their own. ``styles``: {column: {row: format}}
        for the cells written with a format of their own (a severity fill keeps the column's
        number format). ``links``: {column: target per row} makes a cell an internal link
        (Excel's limit of links per sheet kept: the rest are counted in ``links_dropped``).
        ``severity``: the column filled by its value (error, warning, info) through
        conditional formats.
        """
        plan = self._plan(headers, columns, widths, formats, styles, links)
        used: list[str] = []
        start = 0
        while True:
            stop = min(start + plan.per_sheet, plan.n)
            sheet_name = name if not used else f"{name} ({len(used) + 1})"
            ws = self._new_sheet(sheet_name, plan.headers, plan.widths, plan.column_formats)
            used.append(sheet_name)
            self._write_rows(ws, plan, start, stop)
            self._close_table(ws, plan.headers, 1 + stop - start, severity)
            start = stop
            if start >= plan.n:
                break
        self.sheets_continued += used[1:]
        return used

    def _plan(self, headers, columns, widths, formats, styles, links) -> _Plan:
        headers = table_headers(headers)
        widths = list(widths or fit_widths(headers, columns))
        column_formats = {c: self.named[f] for c, f in (formats or {}).items()}
        for c, f in (formats or {}).items():
            if f == "currency":  # "$1,234,567.89" is wider than the raw number
                widths[c] = max(widths[c], 14)
        n = len(columns[0]) if len(columns) else 0
        if any(len(col) != n for col in columns):
            raise ValueError("table columns differ in length")
        styles = {c: _Sparse(cells) for c, cells in (styles or {}).items() if cells}
        fast = self.constant_memory and _ColumnXml.fits(xlsxwriter.__version__)
        writer = _ColumnXml(self, column_formats, len(headers)) if fast else None
        return _Plan(
            headers,
            widths,
            column_formats,
            columns,
            n,
            styles,
            links or {},
            writer,
            fast,
            EXCEL_MAX_ROWS - 1,
        )

    def _write_rows(self, ws, plan: _Plan, start: int, stop: int) -> None:
        links_left = EXCEL_MAX_LINKS  # Excel's limit is per sheet
        for a in range(start, stop, CHUNK):
            b = min(a + CHUNK, stop)
            values = [_take(col, a, b) for col in plan.columns]
            chunk_styles = {c: cells.between(a, b) for c, cells in plan.styles.items()}
            chunk_links, links_left = self._kept_links(plan.links, values, a, b, links_left)
            r0 = 1 + a - start
            if plan.writer is not None:
                plan.writer.write(ws, r0, values, chunk_styles, chunk_links)
                continue
            for k, row in enumerate(zip(*values, strict=True)):
                special = _special(k, chunk_styles, chunk_links)
                self._write_row(ws, r0 + k, row, special, plan.column_formats)

    def index_formats(self, formats=None, styles=None, links=None) -> None:
        """Give every format a table with these formats, styles and links can write its
        index now (the header, the column formats, the cells' own formats and their
        combinations with the column's number format, the link format). A table written in
        a child process must find them all indexed: an index the child gave a new format
        would not exist in this process's styles. Called at the same point whether the
        table is then written here or in a child, the workbook is the same either way."""
        self.header._get_xf_index()
        column_formats = {c: self.named[f] for c, f in (formats or {}).items()}
        for f in column_formats.values():
            f._get_xf_index()
        for c, cells in (styles or {}).items():
            seen = {id(f): f for f in cells.values()}
            for f in seen.values():
                f._get_xf_index()
                self._with_number_format(f, column_formats.get(c))._get_xf_index()
        for c, targets in (links or {}).items():
            if any(targets):
                self.link._get_xf_index()
                if c in column_formats:
                    column_formats[c]._get_xf_index()

    def table_in_child(
        self,
        name: str,
        headers: Sequence[str],
        columns: Sequence[Sequence[Any]],
        *,
        widths: Sequence[int] | None = None,
        formats: dict[int, str] | None = None,
        styles: dict[int, dict[int, Any]] | None = None,
        links: dict[int, Sequence[str | None]] | None = None,
        severity: int | None = None,
    ) -> _Child | None:
        """Start writing ``table(name, ...)``'s rows in a forked child process; ``join_child``
        later adds the sheet (in the order of the join) from them. None where that cannot be
        done safely or would not pay (see ``parallel_allowed``): the caller writes the table
        itself. The formats the table can use must have been indexed (``index_formats``)."""
        args = dict(widths=widths, formats=formats, styles=styles, links=links, severity=severity)
        n = len(columns[0]) if len(columns) else 0
        if not self.parallel_allowed(n):
            return None
        plan = self._plan(headers, columns, widths, formats, styles, links)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        for ws in self.book.worksheets():  # nothing buffered a child could write twice
            if ws.fh is not None and not ws.fh.closed:
                ws.fh.flush()
        read, write = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return None
        if pid == 0:  # the child: never returns
            os.close(read)
            code = 1
            try:
                _die_with(parent)
                code = self._child_rows(name, plan, write)
            finally:
                os._exit(code)
        os.close(write)
        return _Child(pid, read, name, list(headers), columns, args)

    def parallel_allowed(self, n: int) -> bool:
        """A table may be written in a forked child: Linux (fork is safe with our threads
        idle), xlsxwriter's constant-memory internals known (_ColumnXml.fits), enough rows to
        pay for the fork, one sheet (no row-limit split), not already inside a worker process
        (batch runs inputs in parallel: the cores are taken) and more than one core."""
        return (
            sys.platform.startswith("linux")
            and hasattr(os, "fork")
            and self.constant_memory
            and _ColumnXml.fits(xlsxwriter.__version__)
            and PARALLEL_MIN_ROWS <= n <= EXCEL_MAX_ROWS - 1
            and multiprocessing.parent_process() is None
            and (os.cpu_count() or 1) > 1
        )

    def _child_rows(self, name: str, plan: _Plan, pipe: int) -> int:
        """In the child: the table's rows (header row included) into a file of its own in
        the workbook's temporary folder; what the sheet's state became, pickled to pipe.
        Returns the exit code: 3 when a format had no index yet (the parent then writes)."""
        with contextlib.suppress(Exception):  # else Arrow's pool as it is
            pa.set_cpu_count(1)  # the parent goes on with its own work on the other core
        t0, cpu0 = time.perf_counter(), time.process_time()
        indexed = len(self.header.xf_format_indices)
        dropped = self.links_dropped
        ws = self._new_sheet(name, plan.headers, plan.widths, plan.column_formats)
        self._write_rows(ws, plan, 0, plan.n)
        ws._write_single_row(ws.previous_row)  # the row xlsxwriter still holds
        ws.fh.flush()
        if len(self.header.xf_format_indices) != indexed:
            return 3
        state = {
            "file": ws.row_data_filename,
            "dims": (ws.dim_rowmin, ws.dim_rowmax, ws.dim_colmin, ws.dim_colmax),
            "previous_row": ws.previous_row,
            "hyperlinks": ws.hyperlinks,
            "hlink_count": ws.hlink_count,
            "fast_links": ws.__dict__.get("_fast_links", []),
            "links_dropped": self.links_dropped - dropped,
            "seconds": (time.perf_counter() - t0, time.process_time() - cpu0),
        }
        data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(pipe, "wb") as out:
            out.write(data)
        return 0

    def join_child(self, child: _Child) -> list[str]:
        """The sheet whose rows ``child`` wrote, added here (header, widths, the rows, the
        table); if the child failed, written here instead, the same."""
        state = child.wait()
        if state is None:
            log.debug("sheet %s: the child writing it failed; written here", child.name)
            return self.table(child.name, child.headers, child.columns, **child.args)
        wall, cpu = state["seconds"]
        log.debug("sheet %s: rows written by a child in %.3f s (CPU %.3f s)", child.name, wall, cpu)
        a = child.args
        plan = self._plan(
            child.headers, child.columns, a["widths"], a["formats"], a["styles"], a["links"]
        )
        ws = self._new_sheet(child.name, plan.headers, plan.widths, plan.column_formats)
        # The child's file holds the header row too: the one held here is dropped, and the
        # worksheet takes the child's file as its row data.
        ws.table.clear()
        ws.row_data_fh.close()
        os.remove(ws.row_data_filename)
        ws.row_data_filename = state["file"]
        ws.row_data_fh = ws.fh = open(state["file"], "a+", encoding="utf-8")  # noqa: SIM115
        ws.dim_rowmin, ws.dim_rowmax, ws.dim_colmin, ws.dim_colmax = state["dims"]
        ws.previous_row = state["previous_row"]
        ws.hyperlinks = state["hyperlinks"]
        ws.hlink_count = state["hlink_count"]
        if state["fast_links"]:
            _fast_links(ws).extend(state["fast_links"])
        self.links_dropped += state["links_dropped"]
        self._close_table(ws, plan.headers, 1 + plan.n, a["severity"])
        return [child.name]

    def _kept_links(self, links, values, a: int, b: int, left: int):
        """The chunk's link targets ({column: target or None per row}) within the sheet's
        link budget, counted row by row over the cells that hold a value."""
        kept: dict[int, list[str | None]] = {}
        wanted = 0
        for c, targets in links.items():
            urls = [
                u if u and v is not None else None
                for u, v in zip(targets[a:b], values[c], strict=True)
            ]
            kept[c] = urls
            wanted += len(urls) - urls.count(None)
        if wanted <= left:
            return kept, left - wanted
        self.links_dropped += wanted - left
        for k in range(b - a):  # past the budget: the first cells in row order keep theirs
            for urls in kept.values():
                if urls[k] is not None:
                    if left > 0:
                        left -= 1
                    else:
                        urls[k] = None
        return kept, left

    def _write_row(self, ws, r: int, row: Sequence[Any], special, column_formats) -> None:
        """One row through xlsxwriter's own cell writers (the rows _ColumnXml leaves to it)."""
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


CHUNK = 50_000  # rows built at a time: a million-line sheet never lives whole as XML


def _take(column: Sequence[Any], a: int, b: int) -> list[Any]:
    if isinstance(column, LazyColumn):
        return column.make(a, b)
    part = column[a:b]
    return part if isinstance(part, list) else list(part)


def _special(k: int, styles, links) -> dict[int, tuple[Any, str | None]]:
    """Row k's cells with a format and/or a link of their own: {column: (format, target)}."""
    special: dict[int, tuple[Any, str | None]] = {}
    for c, cells in styles.items():
        if k in cells:
            special[c] = (cells[k], None)
    for c, urls in links.items():
        if urls[k]:
            special[c] = (special.get(c, (None,))[0], urls[k])
    return special


class _Sparse:
    """{row: format} of one column, read a chunk of rows at a time."""

    def __init__(self, cells: dict[int, Any]) -> None:
        self.rows = np.array(sorted(cells), dtype=np.int64)
        self.cells = cells

    def between(self, a: int, b: int) -> dict[int, Any]:
        """The chunk's cells, keyed by row within the chunk."""
        lo, hi = np.searchsorted(self.rows, [a, b])
        return {int(r) - a: self.cells[int(r)] for r in self.rows[lo:hi]}


# A string xlsxwriter would rewrite (control characters as _xHHHH_, a literal _xHHHH_ escaped).
_NEEDS_ESCAPE = re.compile(r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]")
# A text starting with whitespace (xlsxwriter's test is Python's \s) among texts joined by NUL.
_AFTER_NUL_SPACE = re.compile(r"\x00\s")
_ATTRIBUTE_SPECIAL = re.compile('["&<>\n]')
_EXACT_INT = 2**53  # integers below this print the same as '%.16G' of their float
MAX_INLINE = 16_383  # longer text goes through xlsxwriter's UTF-16 length check
_PRESERVE = ' xml:space="preserve"'


def _attributes(texts: list[str]) -> list[str]:
    """Texts as xlsxwriter escapes attribute values, escaped together (joined by NUL)."""
    joined = "\x00".join(texts)
    if not _ATTRIBUTE_SPECIAL.search(joined):
        return texts
    if joined.count("\x00") != len(texts) - 1:  # a NUL inside a text: one by one
        return [_attribute(t) for t in texts]
    return _attribute(joined).split("\x00")


def _attribute(text: str) -> str:
    text = text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return text.replace(">", "&gt;").replace("\n", "&#xA;")


def _may_need_escape(joined: str, m: int) -> bool:
    """Whether some of m texts joined by NUL may hold what xlsxwriter escapes (or a NUL);
    False is exact. Control characters are found in the UTF-8 bytes with everything
    harmless deleted (printable ASCII, tab, newline, any byte of a multi-byte character):
    what is left is the m - 1 separators, unless a text holds one."""
    if _ESCAPE_LITERAL.search(joined):
        return True
    left = joined.encode("utf-8", "surrogatepass").translate(None, _HARMLESS_BYTES)
    return len(left) != m - 1 or "\ufffe" in joined or "\uffff" in joined


_ESCAPE_LITERAL = re.compile(r"_x[0-9a-fA-F]{4}_")
_HARMLESS_BYTES = b"\t\n" + bytes(range(0x20, 0x100))


def _edge_space(texts: list[str], joined: str) -> set[int]:
    """The texts starting or ending with whitespace (they take xml:space="preserve"). Found
    in the texts joined by NUL: leading whitespace follows a NUL, trailing whitespace precedes
    one (a NUL in the text reversed), each text's place by its offset; where most texts have
    it (codes padded with spaces), text by text."""
    backwards = joined[::-1]
    lead: list[int] = []
    trail: list[int] = []
    many = len(texts) // 8
    for found, text in ((lead, joined), (trail, backwards)):
        for match in _AFTER_NUL_SPACE.finditer(text):
            found.append(match.start() + 1)
            if len(lead) + len(trail) > many:
                return {k for k, t in enumerate(texts) if t and (t[0].isspace() or t[-1].isspace())}
    if joined[:1].isspace():
        lead.append(0)
    if backwards[:1].isspace():
        trail.append(0)
    if not lead and not trail:
        return set()
    sizes = np.fromiter(map(len, texts), np.int64, len(texts)) + 1
    starts = np.concatenate([[0], np.cumsum(sizes[:-1])])
    at = np.array(lead + [len(joined) - 1 - p for p in trail], dtype=np.int64)
    return set((np.searchsorted(starts, at, side="right") - 1).tolist())


def _text_cells(opening: str, numbers, xf: str, patch, values: list[Any], slow) -> list[str]:
    """Inline-string cells of a column whose values are text or None ("" for None), each in
    format xf but the rows ``patch`` gives their own; rows xlsxwriter must write itself are
    added to ``slow``. The checks run once over the column's text joined by NUL (which no
    text written here holds: it is escaped, so left to xlsxwriter)."""
    m = len(values)
    texts = values if None not in values else ["" if v is None else v for v in values]
    joined = "\x00".join(texts)
    if _may_need_escape(joined, m):
        slow.update(k for k, v in enumerate(texts) if _NEEDS_ESCAPE.search(v))
        texts = ["" if k in slow else v for k, v in enumerate(texts)]
        joined = "\x00".join(texts)
    if "" in values:  # xlsxwriter writes an empty text cell, or none, as its writer decides
        slow.update(k for k, v in enumerate(values) if v == "")
    if len(joined) > MAX_INLINE and max(map(len, texts)) > MAX_INLINE:
        slow.update(k for k, v in enumerate(texts) if len(v) > MAX_INLINE)
    preserve = _edge_space(texts, joined)
    escaped = texts
    if "&" in joined or "<" in joined or ">" in joined:
        joined = joined.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        escaped = joined.split("\x00")
    # Most texts of a column padded with spaces: preserved is the shape to patch from.
    padded = len(preserve) > m // 2
    if padded:
        preserve = {k for k in range(m) if k not in preserve}  # now: the rows not preserved
    middle = f'"{xf} t="inlineStr"><is><t{_PRESERVE if padded else ""}>'
    if texts is values:  # no None
        cells = [
            f"{opening}{n}{middle}{e}</t></is></c>" for n, e in zip(numbers, escaped, strict=True)
        ]
    else:
        cells = [
            f"{opening}{n}{middle}{e}</t></is></c>" if v is not None else ""
            for n, e, v in zip(numbers, escaped, values, strict=True)
        ]
    for k in preserve.union(patch):  # the few cells of another shape
        if values[k] is not None:
            x, e = patch.get(k, xf), escaped[k]
            p = _PRESERVE if (k in preserve) != padded else ""
            cells[k] = f'{opening}{numbers[k]}"{x} t="inlineStr"><is><t{p}>{e}</t></is></c>'
    return cells


def _number_cells(opening: str, numbers, xf: str, patch, values: list[Any], slow) -> list[str]:
    """Number cells ('%.16G', as xlsxwriter) of a column of ints, floats or None."""
    ints = [v for v in values if v.__class__ is int]
    floats = {v for v in values if v.__class__ is float}
    if not all(map(math.isfinite, floats)):  # xlsxwriter refuses NaN and infinity
        slow.update(
            k for k, v in enumerate(values) if v.__class__ is float and not math.isfinite(v)
        )
    if 0.0 in floats:  # -0.0 prints as "-0", and a dict cannot tell it from 0.0
        values = [f"{v:.16G}" if v.__class__ is float and v == 0 else v for v in values]
        floats.discard(0.0)
    # Each distinct float printed once (prices repeat); ints print as themselves below 2**53.
    printed: dict[Any, str] = {v: f"{v:.16G}" for v in floats}
    if ints and max(max(ints), -min(ints)) >= _EXACT_INT:
        printed.update((v, f"{v:.16G}") for v in ints)
    get = printed.get
    middle = f'"{xf}><v>'
    cells = [
        f"{opening}{n}{middle}{get(v, v)}</v></c>" if v is not None else ""
        for n, v in zip(numbers, values, strict=True)
    ]
    for k, x in patch.items():
        if values[k] is not None:
            cells[k] = f'{opening}{numbers[k]}"{x}><v>{get(values[k], values[k])}</v></c>'
    return cells


class _ColumnXml:
    """Table rows written straight into a constant-memory worksheet's row data as XML,
    built a chunk of rows at a time, a column at a time.

    xlsxwriter spends ~5 µs of Python per cell (argument checks, a cell tuple, attribute
    escaping, one file write per cell); at 100,000 lines the report's tables hold millions of
    cells. This writes the same XML xlsxwriter writes in constant-memory mode (inline strings,
    numbers as %.16G, the column's format where a cell has none), each column's cells in one
    pass with the checks done once over the column, and leaves every row holding another
    value (dates, over-long text, text xlsxwriter escapes as _xHHHH_) to xlsxwriter's own
    writers. Internal links are written as the <hyperlink> elements xlsxwriter writes, where
    it writes them, without one Url object per link.
    """

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

    def write(self, ws, r0: int, values, styles, links) -> None:
        """Rows r0.. of ws from the chunk's columns; styles {column: {row: format}}, links
        {column: target or None per row}, rows counted from the chunk's first."""
        m = len(values[0]) if values else 0
        if m == 0:
            return
        numbers = list(map(str, range(r0 + 1, r0 + m + 1)))
        slow: set[int] = set()
        cells, linked = [], []
        self.full = False  # some column has a value on every row: no row is empty
        for c, column in enumerate(values):
            cell, link = self._column(c, column, numbers, styles.get(c), links.get(c), slow)
            cells.append(cell)
            if link[0]:
                linked.append(link)
        link_rows, link_xml = linked[0] if len(linked) == 1 else ([], [])
        if len(linked) > 1:  # row by row, then column by column, as xlsxwriter writes them
            merged = sorted(
                (k, c, x)
                for c, (rows, xml) in enumerate(linked)
                for k, x in zip(rows, xml, strict=True)
            )
            link_rows, link_xml = [k for k, _, _ in merged], [x for _, _, x in merged]
        if self.full:  # every row has a cell: the row's pieces side by side, w per row
            cells.insert(0, [f'<row r="{n}">' for n in numbers])
            cells.append(["</row>"] * m)
            pieces = list(chain.from_iterable(zip(*cells, strict=True)))
            w = len(cells)
        else:
            bodies = list(map("".join, zip(*cells, strict=True))) if len(cells) > 1 else cells[0]
            pieces = [
                f'<row r="{n}">{b}</row>' if b else "" for n, b in zip(numbers, bodies, strict=True)
            ]
            w = 1
        begin = 0
        for cut in [*sorted(slow), m]:
            if cut > begin:
                ws._write_single_row(r0 + begin)  # xlsxwriter's row in hand (the header) first
                # A few hundred rows at a time: most such runs are ASCII, which is written
                # without re-encoding, where one non-ASCII character would widen a whole chunk.
                for a in range(begin, cut, 256):
                    ws.fh.write("".join(pieces[a * w : min(a + 256, cut) * w]))
                last = r0 + cut - 1
                ws.previous_row = last  # xlsxwriter continues after the rows written here
                ws.dim_rowmax = max(ws.dim_rowmax or 0, last)
                ws.dim_colmax = max(ws.dim_colmax or 0, len(self.letters) - 1)
                xml = link_xml[bisect_left(link_rows, begin) : bisect_left(link_rows, cut)]
                if xml:
                    ws.hlink_count += len(xml)
                    _fast_links(ws).append((r0 + begin, "".join(xml)))
            if cut < m:  # a row xlsxwriter writes itself, with its own links
                row = [col[cut] for col in values]
                special = _special(cut, styles, links)
                self.book._write_row(ws, r0 + cut, row, special, self.column_formats)
            begin = cut + 1

    def _column(self, c: int, values: list[Any], numbers, styles, urls, slow: set[int]):
        """One column's cell XML ("" where no cell) and its links as (row, column, XML)."""
        column_format = self.column_formats.get(c)
        fmts: dict[int, Any] = {}
        for k, f in (styles or {}).items():
            fmts[k] = self.book._with_number_format(f, column_format)
        ok: list[int] = []  # the chunk's rows whose cell here is an internal link
        xml: list[str] = []  # their <hyperlink> elements
        if urls is not None:
            ks = [k for k, u in enumerate(urls) if u is not None]
            if any(values[k].__class__ is not str for k in ks):
                values = list(values)
                for k in ks:
                    if values[k].__class__ is not str and values[k].__class__ is not bool:
                        values[k] = f"{values[k]}"  # a linked number shows as its text
                ks = [k for k in ks if values[k].__class__ is str]  # a flag is not a link
            ok = [k for k in ks if urls[k].startswith("internal:") and len(urls[k]) <= 255]
            if len(ok) < len(ks):  # xlsxwriter's own checks, relationships and warnings
                slow.update(set(ks) - set(ok))
            places = _attributes([urls[k][9:] for k in ok])
            shown = _attributes([values[k] for k in ok])
            letter = self.letters[c]
            xml = [
                f'<hyperlink ref="{letter}{numbers[k]}" location="{p}" display="{t}"/>'
                for k, p, t in zip(ok, places, shown, strict=True)
            ]
        # The column's format, and the cells with one of their own: a link keeps its cell's
        # own format, else the column's, else the link's.
        xf_of: dict[int, str] = {}
        patch: dict[int, str] = {}
        for k, f in fmts.items():
            if id(f) not in xf_of:
                xf_of[id(f)] = f' s="{f._get_xf_index()}"'
            patch[k] = xf_of[id(f)]
        if ok:
            link = column_format or self.book.link
            link_xf = f' s="{link._get_xf_index()}"'
            for k in ok:
                if k not in patch:
                    patch[k] = link_xf
        xf = self.column_xf[c]
        m = len(values)
        if len(patch) > m // 2:  # most cells are links: theirs is the format to patch from
            shared = max(set(patch.values()), key=list(patch.values()).count)
            patch = {k: x for k, x in patch.items() if x != shared} | {
                k: xf for k in range(m) if k not in patch
            }
            xf = shared
        opening = f'<c r="{self.letters[c]}'
        kinds = set(map(type, values))
        self.full = self.full or type(None) not in kinds
        kinds.discard(type(None))
        if not kinds:
            cells = [""] * m
        elif kinds == {str}:
            cells = _text_cells(opening, numbers, xf, patch, values, slow)
        elif kinds <= {int, float}:
            cells = _number_cells(opening, numbers, xf, patch, values, slow)
        else:
            cells = self._mixed(opening, numbers, xf, patch, values, kinds, slow)
        for k in fmts:
            if values[k] is None:  # a formatted empty cell
                cells[k] = f'{opening}{numbers[k]}"{patch.get(k, xf)}/>'
        return cells, (ok, xml)

    @staticmethod
    def _mixed(opening, numbers, xf, patch, values, kinds, slow) -> list[str]:
        parts = []
        if str in kinds:
            text = [v if v.__class__ is str else None for v in values]
            parts.append(_text_cells(opening, numbers, xf, patch, text, slow))
        if int in kinds or float in kinds:
            number = [v if v.__class__ is int or v.__class__ is float else None for v in values]
            parts.append(_number_cells(opening, numbers, xf, patch, number, slow))
        if bool in kinds:
            parts.append(
                [
                    f'{opening}{n}"{patch.get(k, xf)} t="b"><v>{int(v)}</v></c>'
                    if v.__class__ is bool
                    else ""
                    for k, (n, v) in enumerate(zip(numbers, values, strict=True))
                ]
            )
        other = kinds - {str, int, float, bool}
        if other:
            slow.update(k for k, v in enumerate(values) if v.__class__ in other)
        if not parts:
            return [""] * len(values)
        if len(parts) == 1:
            return parts[0]
        if len(parts) == 2:  # one of the two is "" on each row
            return [a or b for a, b in zip(*parts, strict=True)]
        return ["".join(p) for p in zip(*parts, strict=True)]


def _isal_compressor(compress_type, compresslevel=None):
    """zipfile's compressor for a deflated part, from ISA-L (any other kind: zipfile's own)."""
    if compress_type == zipfile.ZIP_DEFLATED:
        level = 1 if compresslevel is None else min(max(compresslevel, 0), 3)
        return isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)
    return _PLAIN_COMPRESSOR(compress_type, compresslevel)


_PLAIN_COMPRESSOR = zipfile._get_compressor


def _copy_rows_as_bytes(ws, remove=os.unlink) -> None:
    """Have ws copy its row data into the sheet's XML as bytes when the workbook is closed.

    xlsxwriter reads the constant-memory row data back as text (decoding it) and writes it
    again (encoding it): for the report's hundred-odd megabytes of rows, a third of a second
    to get the same bytes back."""
    plain = ws._write_optimized_sheet_data

    def copy() -> None:
        if ws.dim_rowmin is None or ws.row_data_fh is None:
            plain()
            return
        ws._xml_start_tag("sheetData")
        ws.row_data_fh.flush()
        ws.fh.flush()  # what is written as text so far goes first
        with open(ws.row_data_filename, "rb") as rows:
            shutil.copyfileobj(rows, ws.fh.buffer, 1 << 20)
        ws.row_data_fh.close()
        remove(ws.row_data_filename)
        ws._xml_end_tag("sheetData")

    ws._write_optimized_sheet_data = copy


_FOLDER_PREFIX = "chargemaster-xlsx-"


STALE_AFTER_S = 24 * 3600


def _remove_stale_folders() -> None:
    """Remove the temporary folders of runs killed outright (kill -9, power loss: nothing of
    theirs could clean up), known by the process id in their name no longer running and by a
    day without change: a temporary folder shared with another PID namespace (a container)
    may belong to a live run whose process id means nothing here, and no run lasts a day."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(tempfile.gettempdir()):
            if not entry.name.startswith(_FOLDER_PREFIX):
                continue
            pid = entry.name[len(_FOLDER_PREFIX) :].split("-", 1)[0]
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime > time.time() - STALE_AFTER_S:
                    continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:  # no such process: the folder is an orphan
                shutil.rmtree(entry.path, ignore_errors=True)
            except OSError:  # alive (another user's): not ours to touch
                pass


def _die_with(parent: int) -> None:
    """In a forked child: be killed when the parent dies (a run killed mid-write leaves no
    child writing rows nobody will read), through Linux's prctl(PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before that was set
        os._exit(1)


class _Deleter:
    """Files removed by one background thread, in order; ``join`` waits for them all and
    then removes the folder they were in (and anything left in it, even after an error)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.jobs: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="xlsx-deleter", daemon=True)
        self.thread.start()
        self.os = _OsDeleting(self.remove)

    def remove(self, path: str) -> None:
        self.jobs.put(os.fspath(path))

    def _run(self) -> None:
        while (path := self.jobs.get()) is not None:
            with contextlib.suppress(OSError):  # gone, or left to the folder's removal below
                os.remove(path)
        shutil.rmtree(self.folder, ignore_errors=True)

    def join(self) -> None:
        self.jobs.put(None)
        self.thread.join()


class _OsDeleting:
    """The os module as xlsxwriter's modules see it while a workbook closes: remove and
    unlink handed to the deleter thread, everything else os itself."""

    def __init__(self, remove: Callable[[str], None]) -> None:
        self.remove = self.unlink = remove

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


_OPEN, _CLOSE = "<hyperlinks>", "</hyperlinks>"


def _fast_links(ws) -> list[tuple[int, str]]:
    """The <hyperlink> XML written for ws's fast rows, (first row, xml) in row order; on the
    first, ws's _write_hyperlinks is wrapped to write them among xlsxwriter's own."""
    held = ws.__dict__.get("_fast_links")
    if held is None:
        held = ws._fast_links = []
        plain = ws._write_hyperlinks

        def write_hyperlinks() -> None:
            own = ws.hyperlinks
            if not own:
                if held:
                    ws.fh.write(_OPEN + "".join(x for _, x in held) + _CLOSE)
                return
            # xlsxwriter's own links (rows it wrote) in row order among the fast ones: each run
            # of its rows written by its own method, the wrapping element taken off.
            pieces = [(r, x) for r, x in held]
            keys = sorted(own)
            fh = ws.fh
            try:
                for key in keys:
                    buf = io.StringIO()
                    ws.fh, ws.hyperlinks = buf, {key: own[key]}
                    plain()
                    pieces.append((key, buf.getvalue()[len(_OPEN) : -len(_CLOSE)]))
            finally:
                ws.fh, ws.hyperlinks = fh, own
            pieces.sort(key=lambda p: p[0])
            fh.write(_OPEN + "".join(x for _, x in pieces) + _CLOSE)

        ws._write_hyperlinks = write_hyperlinks
    return held


@dataclass
class Clipped:
    """What a workbook could not hold whole."""

    cells: list[tuple[int, str, int]] = field(default_factory=list)  # (row, column, length)
    columns: list[str] = field(default_factory=list)  # headers past the last column
