"""Read a chargemaster (or code map) export into a text table with source row numbers.

Real exports carry title blocks, disclaimers, several sheets, repeated page headers, section
rows and footers. This module finds the sheet and the header row, maps headers to canonical
fields, and keeps every value as text: a number cell is turned back into its digits here, and
which cells were numbers is remembered so the repair can be reported.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import re
import tomllib
import zipfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineWorkbook

from .errors import InputError
from .fields import REVENUE_FIELDS, FieldSpec, normalize_header
from .roles import MULTIPLE, Assignment, Decision, assign_roles, money, profile
from .safety import check_used_range, pinned

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
HEADER_SCAN_ROWS = 60
csv.field_size_limit(2**31 - 1)


@dataclass
class Grid:
    """One sheet as read: rows of raw cell values, row 0 = spreadsheet row 1."""

    sheet: str
    rows: list[list[Any]]
    encoding: str = ""
    delimiter: str = ""
    filled: list[int] | None = None  # filled cells per row, computed once when needed


@dataclass
class Table:
    path: Path
    sheet: str  # "" for a CSV file
    header_row: int  # 1-based row (or CSV record) of the header
    headers: list[str]  # as written in the file (made unique), in sheet order
    data: pd.DataFrame  # item lines only; text; index = source row number
    numeric: dict[str, pd.Series]  # column -> True where the cell was stored as a number
    fields: dict[str, list[str]]  # canonical field -> columns
    unmapped: list[str]
    letters: dict[str, str]  # column -> spreadsheet column letter
    skipped: Counter = field(default_factory=Counter)  # non-item rows by kind
    encoding: str = ""
    delimiter: str = ""
    roles: list[Decision] = field(default_factory=list)  # how each column got its field
    rejected: list[Decision] = field(default_factory=list)  # names the values overruled
    skipped_rows: pd.DataFrame = field(default_factory=pd.DataFrame)  # row, kind, text
    rows_below: int = 0  # rows between the header and the last non-blank row
    parts: list = field(default_factory=list)  # other sheets that look like further parts

    def col(self, field_name: str) -> str | None:
        cols = self.fields.get(field_name)
        return cols[0] if cols else None


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_text(value: Any) -> str:
    """A cell as the text a person sees in it; integral numbers lose Excel's float '.0'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def read_grids(path: Path, raw: bytes | None = None) -> list[Grid]:
    """Every sheet of a workbook, or the one table of a delimited text file.

    ``raw``: the file's bytes when the caller has them (the bytes a run checked); otherwise the
    bytes pinned for this run (``safety.pin``), else the file is read now.
    """
    path = Path(path)
    if raw is None:
        raw = pinned(path)
    if raw is None:
        if not path.exists():
            raise InputError(f"{path}: file not found")
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not a chargemaster file")
    suffix = path.suffix.lower()
    if suffix not in EXCEL_SUFFIXES | CSV_SUFFIXES:
        raise InputError(
            f"{path}: unsupported file type '{suffix}' (use .xlsx, .xlsm, .xls, .csv or .txt)"
        )
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read the file ({exc.strerror})") from None
    if not raw:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    if suffix in EXCEL_SUFFIXES:
        return _read_workbook(path, raw)
    return [_read_delimited(path, raw)]


# A hostile workbook is refused before it is parsed: real exports compress 5-50x; a zip bomb
# compresses thousands of times. XML entity (billion laughs) bombs need a DTD, which no
# spreadsheet part has.
MAX_UNCOMPRESSED = 4 * 1024**3
MAX_RATIO = 200
RATIO_FLOOR = 50 * 1024**2  # small parts may compress as much as they like
_ZIP, _CFB = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_zip_safety(path: Path, raw: bytes | None = None) -> None:
    """Refuse a workbook whose parts would expand out of bounds or declare a DTD, or whose
    used range would not fit in memory. Any zip container: .xlsx, .xlsm, .xlsb, .ods."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw) if raw is not None else path) as archive:
            members = archive.infolist()
            total = sum(m.file_size for m in members)
            if total > MAX_UNCOMPRESSED:
                raise InputError(
                    f"{path}: refused: the workbook would expand to {total / 1024**3:.1f} GB "
                    "(a zip bomb or a corrupt file)"
                )
            for m in members:
                ratio = m.file_size // max(m.compress_size, 1)
                if m.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
                    raise InputError(
                        f"{path}: refused: part '{m.filename}' expands {ratio:,}-fold (a zip "
                        "bomb, not a spreadsheet export)"
                    )
                if m.filename.endswith((".xml", ".rels")):
                    with archive.open(m) as fh:
                        head = fh.read(4096)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise InputError(
                            f"{path}: refused: part '{m.filename}' declares a DTD (an XML entity "
                            "bomb, not a spreadsheet export)"
                        )
            check_used_range(archive, path)
    except zipfile.BadZipFile:
        raise InputError(
            f"{path}: the workbook is damaged or truncated (not a complete .xlsx); export it again"
        ) from None


def _read_workbook(path: Path, raw: bytes) -> list[Grid]:
    magic = raw[:8]
    suffix = path.suffix.lower()
    if magic.startswith(_ZIP):  # every zip-based workbook, whatever its name says
        check_zip_safety(path, raw)
    elif magic.startswith(_CFB) and suffix in (".xlsx", ".xlsm", ".xlsb"):
        # An OOXML workbook saved with a password is wrapped in a compound file.
        if "EncryptedPackage".encode("utf-16-le") in raw[: 1 << 20] or b"EncryptedPackage" in raw:
            raise InputError(
                f"{path}: the workbook is password-protected; save a copy without the password "
                "and run on that"
            )
    elif suffix in (".xlsx", ".xlsm", ".xlsb", ".ods"):
        raise InputError(
            f"{path}: not an Excel workbook (the content is not {suffix}: is it another file "
            "renamed?); export the chargemaster again as .xlsx or .csv"
        )
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        grids = []
        for name in book.sheet_names:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            grids.append(Grid(name, _trim(rows)))
    except Exception as exc:  # calamine raises its own types for corrupt/encrypted files
        if type(exc).__name__ == "PasswordError" or "password" in str(exc).lower():
            raise InputError(
                f"{path}: the workbook is password-protected; save a copy without the password "
                "and run on that"
            ) from None
        raise InputError(
            f"{path}: cannot read the workbook ({_short(exc)}); it may be damaged or truncated: "
            "export it again"
        ) from None
    return grids


TRAILING_EMPTY_KEPT = 100


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows cut after the last column that holds a value anywhere: a header padded with
    thousands of empty columns must not make a table thousands of columns wide."""

    def used(row: list[Any]) -> int:
        n = len(row)
        while n and (row[n - 1] is None or row[n - 1] == ""):
            n -= 1
        return n

    widest = max(map(len, rows), default=0)
    if widest <= TRAILING_EMPTY_KEPT:  # then no more than that many can be empty
        return rows
    width = max((used(r) for r in rows), default=0)
    # A few empty columns at the end are kept as the file has them (the coded output keeps its
    # layout); hundreds are padding.
    if widest - width <= TRAILING_EMPTY_KEPT:
        return rows
    return [r[:width] if len(r) > width else r for r in rows]


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        text, encoding = _decode_utf8(raw[3:])
        return text, "utf-8-sig" if encoding == "utf-8" else encoding
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise InputError(f"{path}: damaged UTF-16 text; export it again") from None
    if b"\x00" in raw[:4096]:
        raise InputError(
            f"{path}: not a readable text file (binary content or an unsupported encoding); "
            "export the chargemaster as .xlsx or as UTF-8 / Windows-1252 .csv"
        )
    return _decode_utf8(raw)


def _decode_utf8(raw: bytes) -> tuple[str, str]:
    """UTF-8; else each line on its own: a UTF-8 file with a few Windows-1252 lines (pasted
    from another system) keeps its UTF-8 lines right instead of turning them all to mojibake."""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    lines = raw.splitlines(keepends=True)
    out, utf8, other = [], 0, 0
    for chunk in lines:
        try:
            text = chunk.decode("utf-8")
            if not chunk.isascii():
                utf8 += 1
        except UnicodeDecodeError:
            text = chunk.decode("cp1252", errors="replace")
            other += 1
        out.append(text)
    if utf8 == 0:  # no UTF-8 at all: the whole file is Windows-1252 (or Latin-1)
        try:
            return raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            return raw.decode("latin-1"), "latin-1"
    return "".join(out), "utf-8+cp1252"


# A decimal comma ("10,50"): one or two digits after the comma, so never a thousands group.
_DECIMAL_COMMA = re.compile(
    r"^\s*[-+]?\$?\s?\d{1,3}(?:\.\d{3})*,\d{1,2}\s*$|^\s*[-+]?\$?\d+,\d{1,2}\s*$"
)


def _read_delimited(path: Path, raw: bytes | None = None) -> Grid:
    if raw is None:
        raw = path.read_bytes()
    text, encoding = _decode(raw, path)
    delimiter = _sniff_delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise InputError(f"{path}: cannot read the text file ({exc}); export it again") from None
    _check_quotes(text, rows, path, delimiter)
    rows = _trim(rows)
    if delimiter == ";":  # a European export: "10,50" is ten and a half, not 1050
        for row in rows:
            for j, cell in enumerate(row):
                if "," in cell and _DECIMAL_COMMA.match(cell):
                    row[j] = cell.strip().replace(".", "").replace(",", ".")
    return Grid("", rows, encoding, delimiter)


def _check_quotes(text: str, rows: list[list[str]], path: Path, delimiter: str) -> None:
    """An unclosed quote makes the csv module read the following lines into one cell: a cell
    holding a line break followed by what looks like another record is that, not text."""
    breaks = text.count("\n") or text.count("\r")
    if len(rows) >= breaks:  # no record spans two lines: nothing was swallowed
        return
    widths = Counter(len(r) for r in rows[:200] if len(r) > 1)
    width = widths.most_common(1)[0][0] if widths else 2
    enough = max(1, (width - 1) // 2)
    line = 1
    for row in rows:
        spans = 0
        for cell in row:
            if "\n" in cell or "\r" in cell:
                parts = cell.splitlines()
                spans += len(parts) - 1
                if any(part.count(delimiter) >= enough for part in parts[1:]):
                    raise InputError(
                        f"{path}: line {line}: a quote opened in this record is not closed, so "
                        f"the {len(parts) - 1:,} lines after it were read as one value "
                        f"(starting {parts[0][:40]!r}). Fix the quote and export again"
                    )
        line += 1 + spans


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the most of the first records into the same field count."""
    sample = text[:200_000]
    best, best_score = ",", (0, 0)
    for delimiter in (",", "\t", "|", ";"):
        try:
            records = []
            for i, rec in enumerate(
                csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            ):
                if i >= 60:
                    break
                records.append(len(rec))
        except csv.Error:
            continue
        counts = Counter(n for n in records if n > 1)
        if not counts:
            continue
        width, freq = counts.most_common(1)[0]
        if (freq, width) > best_score:
            best, best_score = delimiter, (freq, width)
    return best


SAMPLE_ROWS = 150  # rows below a candidate header that are profiled to judge it
FULL_SAMPLE_ROWS = 2500  # and below the chosen header (the first ones and as many spread out)
# Words of a header row that make it a statistics form (averages, case counts, percent
# changes), not a line list: AB 1045 "average charge" forms, "top 25" lists, variance sheets.
_SUMMARY = re.compile(
    r"\b(average|avg|ave|mean|median|percent|variance|cases|totalcases)\b|%|/case|per case",
    re.I,
)
# Sheet names of statistics and forms filed beside a chargemaster: never a part of it.
_SUMMARY_SHEET = re.compile(
    r"\btop ?\d+|common ?\d*|chang|increase|variance|ab ?1045|%|summary|calc|attestation",
    re.I,
)
# A part of the chargemaster that is not its general list (pharmacy, supplies).
_SPECIALISED = re.compile(r"pharm|drug|\brx\b|medication|suppl|\bndc\b", re.I)


@dataclass
class Candidate:
    """A sheet's header row and the reading of the columns under it."""

    grid: Grid
    row: int  # 0-based
    headers: list[str]
    assignment: Assignment
    summary: str = ""  # the header cell that makes this a statistics form, if any
    infer: bool = True  # content may decide roles (False: names only)
    _lines: int | None = field(default=None, repr=False, compare=False)

    @property
    def lines(self) -> int:
        """Rows below with two or more filled cells (an estimate of the line count); counted
        when first asked (to rank sheets or name a part), which one plain sheet never is."""
        if self._lines is None:
            self._lines = sum(1 for n in _filled_counts(self.grid)[self.row + 1 :] if n >= 2)
        return self._lines

    def valid(self, required: tuple[str, ...] = ("description",)) -> bool:
        a = self.assignment
        others = ("charge_code", "revenue_code", "hcpcs", "price")
        return (
            all(a.has(r) for r in required)
            and any(a.has(r) for r in others if r not in required)
            or (len(required) > 1 and all(a.has(r) for r in required))
        )

    @property
    def richness(self) -> int:
        weights = {"description": 3, "charge_code": 2, "revenue_code": 2, "hcpcs": 2, "price": 2}
        return sum(w for r, w in weights.items() if self.assignment.has(r))

    @property
    def specialised(self) -> bool:
        return bool(_SPECIALISED.search(self.grid.sheet + " " + " ".join(self.headers)))

    def describe(self) -> str:
        where = f"sheet '{self.grid.sheet}' " if self.grid.sheet else ""
        return f"{where}row {self.row + 1}"


def _filled_counts(grid: Grid) -> list[int]:
    if grid.filled is None:
        grid.filled = [_count_filled(row) for row in grid.rows]
    return grid.filled


def _count_filled(row: list[Any]) -> int:
    """Cells whose cell_text is not blank; text and numbers (most cells) without cell_text."""
    n = 0
    for v in row:
        kind = type(v)
        if kind is str:
            n += bool(v) and not v.isspace()  # str.strip() removes exactly what isspace sees
        elif kind is float:
            n += v == v  # NaN is blank
        elif kind is int or (v is not None and cell_text(v).strip()):
            n += 1
    return n


def _column(rows: list[list[Any]], j: int, even: bool) -> list[Any]:
    """Column ``j`` of ``rows``; ``even``: every row is that wide, else a short row reads as
    blank there."""
    if even:
        return list(map(itemgetter(j), rows))
    return [r[j] if j < len(r) else "" for r in rows]


def column_text(values: list[Any]) -> tuple[list[str], np.ndarray | None]:
    """Every cell's ``cell_text``, and where a cell was a number (None when none was)."""
    types = list(map(type, values))
    if set(types) <= {str}:  # a text column (every column of a CSV): as is
        return list(values), None
    out = list(values)
    numbers = np.zeros(len(values), dtype=bool)
    for i, t in enumerate(types):
        if t is str:
            continue
        v = values[i]
        if t is float and v.is_integer() and abs(v) < 1e15:  # cell_text's commonest case
            out[i] = str(int(v))
        else:
            out[i] = cell_text(v)
        numbers[i] = t is float or t is int
    return out, numbers if numbers.any() else None


def _filled(row: list[Any]) -> list[str]:
    return [t for t in (cell_text(v).strip() for v in row) if t]


def _looks_like_header(row: list[Any]) -> bool:
    """Two or more cells, and names rather than values: at most one number, amount or date."""
    cells = [v for v in row if cell_text(v).strip()]
    if len(cells) < 2:
        return False
    values = 0
    for v in cells:
        number = isinstance(v, (int, float, dt.date)) and not isinstance(v, bool)
        if number or (isinstance(v, str) and money(v) is not None):
            values += 1
    return values <= 1 and values * 3 < len(cells)


def _columns_below(
    rows: list[list[Any]], start: int, width: int, limit: int | None = SAMPLE_ROWS
) -> tuple[list[list[str]], int]:
    """Column values of rows below ``start`` with two or more cells: the first ``limit`` rows
    and as many again spread over the rest (sparse columns fill late), or all with no limit."""
    picked = range(start, len(rows))
    if limit is not None and len(rows) - start > 2 * limit:
        step = max(1, (len(rows) - start - limit) // limit)
        picked = [*range(start, start + limit), *range(start + limit, len(rows), step)]
    sample: list[list[str]] = [[] for _ in range(width)]
    taken = 0
    for i in picked:
        row = rows[i]
        if _count_filled(row) < 2:  # the same test as on the cells' texts
            continue
        texts = [v if type(v) is str else cell_text(v) for v in row]
        texts += [""] * (width - len(texts))
        for j in range(width):
            sample[j].append(texts[j])
        taken += 1
    return sample, taken


def _sample_texts(
    rows: list[list[Any]], start: int, texts: list[list[str]], limit: int | None
) -> tuple[list[list[str]], int]:
    """``_columns_below`` from cell texts already made: the same rows picked (a row past the
    texts is blank, so never taken), their values taken column by column."""
    picked = range(start, len(rows))
    if limit is not None and len(rows) - start > 2 * limit:
        step = max(1, (len(rows) - start - limit) // limit)
        picked = [*range(start, start + limit), *range(start + limit, len(rows), step)]
    known = len(texts[0]) if texts else 0
    keep = [i - start for i in picked if i - start < known and _count_filled(rows[i]) >= 2]
    if not keep:
        return [[] for _ in texts], 0
    get = itemgetter(*keep)
    if len(keep) == 1:
        return [[column[keep[0]]] for column in texts], 1
    return [list(get(column)) for column in texts], len(keep)


def candidate_at(
    grid: Grid,
    r: int,
    specs: list[FieldSpec],
    overrides: dict[str, list[str]] | None = None,
    infer: bool = True,
    full: bool = False,
    texts: list[list[str]] | None = None,
) -> Candidate:
    """The reading of ``grid`` with its header on row ``r`` (0-based); ``full`` profiles
    a larger sample (and sparse columns whole).

    ``texts``: the cell texts of the rows below, by column, down to the last non-blank row
    (table_from has them): the sample is taken from them instead of made again."""
    rows = grid.rows
    below = rows[r + 1 : r + 1 + SAMPLE_ROWS * 3] if full is False else rows[r + 1 :]
    width = max(len(rows[r]), max(map(len, below), default=0))
    header_cells = [cell_text(v) for v in rows[r]] + [""] * (width - len(rows[r]))
    headers = _unique_headers(header_cells)
    limit = FULL_SAMPLE_ROWS if full else SAMPLE_ROWS
    if texts is not None and len(texts) != width:  # wider blank rows below: the plain way
        texts = None
    if texts is not None:
        sample, taken = _sample_texts(rows, r + 1, texts, limit)
    else:
        sample, taken = _columns_below(rows, r + 1, width, limit)
    if full:  # a sparse column (a third price tier on 4 rows of 11,000) is read whole
        rest = rows[r + 1 :]
        narrowest = min(map(len, rest), default=0)
        for j, values in enumerate(sample):
            if sum(1 for v in values if v.strip()) < 50:
                if texts is not None:
                    # Blank cells (of short or trailing blank rows) are no value to profile.
                    sample[j] = texts[j]
                    continue
                cells = (
                    list(map(itemgetter(j), rest))
                    if j < narrowest
                    else [x[j] for x in rest if j < len(x)]
                )
                sample[j] = column_text(cells)[0]
    profiles = {h: profile(vals, taken) for h, vals in zip(headers, sample, strict=True)}
    named = {
        h: p for h, c, p in zip(headers, header_cells, profiles.values(), strict=True) if c.strip()
    }
    names = dict(zip(headers, header_cells, strict=True))
    assignment = assign_roles(headers, named, specs, _resolve(overrides, headers), infer, names)
    summary = next((c.strip() for c in header_cells if _SUMMARY.search(c)), "")
    return Candidate(grid, r, headers, assignment, summary, infer)


def _resolve(overrides: dict[str, list[str]] | None, headers: list[str]) -> dict[str, list[str]]:
    """--column ROLE=HEADER names matched to this row's headers (spacing and case ignored)."""
    if not overrides:
        return {}
    by_norm = {normalize_header(h): h for h in headers}
    out: dict[str, list[str]] = {}
    for role, names in overrides.items():
        for name in names:
            hit = by_norm.get(normalize_header(name))
            if hit:
                out.setdefault(role, []).append(hit)
    return out


def sheet_candidates(
    grid: Grid,
    specs: list[FieldSpec],
    overrides: dict[str, list[str]] | None = None,
    infer: bool = True,
    required: tuple[str, ...] = ("description",),
) -> list[Candidate]:
    """Every row of the first HEADER_SCAN_ROWS that reads as the header of a chargemaster."""
    found = []
    for r, row in enumerate(grid.rows[:HEADER_SCAN_ROWS]):
        if not _looks_like_header(row):
            continue
        c = candidate_at(grid, r, specs, overrides, infer)
        if c.valid(required):
            found.append(c)
    return found


def _best_in_sheet(cands: list[Candidate]) -> Candidate | None:
    if not cands:
        return None
    return max(cands, key=lambda c: (c.assignment.score(), -c.row))


def _rank(c: Candidate) -> tuple:
    # The general list before pharmacy/supply parts; then what it explains; then its size.
    return (not c.summary, not c.specialised, c.richness, c.lines)


def locate_header(
    grids: list[Grid],
    specs: list[FieldSpec],
    path: Path,
    sheet: str | None = None,
    header_row: int | None = None,
    required: tuple[str, ...] = ("description",),
    overrides: dict[str, list[str]] | None = None,
    infer: bool = True,
) -> tuple[Candidate, list[Candidate]]:
    """The chosen header (sheet, row, column roles) and the best header of every other sheet."""
    if sheet is not None:
        names = [g.sheet for g in grids]
        chosen = [g for g in grids if g.sheet == sheet]
        if not chosen:
            raise InputError(
                f"{path}: no sheet named '{sheet}' (sheets: {', '.join(repr(n) for n in names)})"
            )
        grids = chosen
    per_sheet = []
    for grid in grids:
        best = _best_in_sheet(sheet_candidates(grid, specs, overrides, infer, required))
        if best is not None:
            per_sheet.append(best)
    if header_row is not None:
        grid = (
            grids[0]
            if len(grids) == 1
            else max(per_sheet, key=_rank).grid
            if per_sheet
            else grids[0]
        )
        if header_row < 1 or header_row > len(grid.rows):
            where = f"sheet '{grid.sheet}' " if grid.sheet else ""
            raise InputError(f"{path}: {where}has no row {header_row}")
        chosen_c = candidate_at(grid, header_row - 1, specs, overrides, infer)
        return chosen_c, [c for c in per_sheet if c.grid is not grid]
    usable = [c for c in per_sheet if not c.summary]
    if not usable and infer and not any(c.summary for c in per_sheet):
        # Names alone, as a last resort: a header that names its columns is read even when
        # its values fit no role (the rules then say what is wrong with them).
        return locate_header(grids, specs, path, sheet, None, required, overrides, False)
    if not usable:
        raise InputError(_not_a_chargemaster(path, grids, per_sheet, required))
    best = usable[0] if len(usable) == 1 else max(usable, key=_rank)
    return best, [c for c in per_sheet if c is not best]


def _not_a_chargemaster(
    path: Path, grids: list[Grid], per_sheet: list[Candidate], required: tuple[str, ...]
) -> str:
    forms = [c for c in per_sheet if c.summary]
    if forms:
        c = max(forms, key=lambda c: c.lines)
        return (
            f"{path}: not a chargemaster line list: {c.describe()} is a summary form "
            f"('{c.summary}' column, {c.lines:,} rows), not one line per charge item. Run on "
            "the chargemaster export itself (or use --sheet and --header-row to point at it)."
        )
    sizes = [(sum(1 for r in g.rows if _filled(r)), g) for g in grids]
    lines, grid = max(sizes, key=lambda t: t[0]) if sizes else (0, None)
    widest = max((len(_filled(r)) for r in grid.rows), default=0) if grid else 0
    where = f"sheet '{grid.sheet}'" if grid is not None and grid.sheet else "the file"
    names = " and ".join(r.replace("_", " ") for r in required)
    what = "chargemaster line list" if required == ("description",) else "table of that kind"
    return (
        f"{path}: no header row found: no row names or shows a {names} column together with "
        f"a charge code, revenue code, HCPCS/CPT or price column ({where}: {lines:,} non-blank "
        f"rows, at most {widest} filled cells in a row), so this is not a {what}. Use --sheet "
        "and --header-row to point at the header, or add aliases in --config."
    )


def _unique_headers(cells: list[str]) -> list[str]:
    seen: Counter = Counter()
    out = []
    for i, cell in enumerate(cells):
        name = " ".join(cell.split()) or f"Column {column_letter(i)}"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


# Below the last line, a report may print its run parameters as label/value pairs
# ("Number of Charge Code Printed: 1946", "Price As Of : 10/01/18", "User: ...").
_LABEL = re.compile(r"^[^:]{2,60}\s?:\s*(\S.*)?$")
SKIP_KINDS = {
    "blank": "blank rows",
    "repeated": "repeated header rows",
    "single": "title or section rows",
    "report": "report block after the last line",
    "section": "section rows without codes or price",
}


def read_table(
    path: Path,
    specs: list[FieldSpec],
    sheet: str | None = None,
    header_row: int | None = None,
    *,
    required: tuple[str, ...] = ("description",),
    item_fields: tuple[str, ...] | None = None,
    columns: dict[str, list[str]] | None = None,
    infer: bool = True,
    grids: list[Grid] | None = None,
    placeholders: frozenset[str] | None = None,
) -> Table:
    """Read ``path`` into a Table of its chargemaster lines, every value as text.

    ``columns`` overrides roles (field -> header names); ``infer`` lets column content decide
    roles the names do not; ``item_fields`` (code maps) keeps only rows with one of them;
    ``placeholders`` are code cell values that mean "no code" (default: defaults.toml's).
    """
    path = Path(path)
    with gc_paused():
        grids = grids if grids is not None else read_grids(path)
        _check_overrides(columns, specs, path)
        cand, others = locate_header(
            grids, specs, path, sheet, header_row, required, columns, infer
        )
        return table_from(path, cand, others, specs, columns, infer, item_fields, placeholders)


@contextmanager
def gc_paused():
    """No cyclic garbage collection inside: reading a sheet makes a list per row and a text
    per cell, none of them in a cycle, and each collection pass walks all of them again
    (about a tenth of the read at 100,000 lines). The previous state is restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_overrides(columns: dict[str, list[str]] | None, specs: list[FieldSpec], path) -> None:
    known = {s.name for s in specs}
    for role in columns or {}:
        if role not in known:
            raise InputError(
                f"--column {role}=...: unknown role '{role}' (roles: {', '.join(sorted(known))})"
            )


def table_from(
    path: Path,
    cand: Candidate,
    others: list[Candidate],
    specs: list[FieldSpec],
    columns: dict[str, list[str]] | None = None,
    infer: bool = True,
    item_fields: tuple[str, ...] | None = None,
    placeholders: frozenset[str] | None = None,
) -> Table:
    grid, h = cand.grid, cand.row
    rows = grid.rows
    last = len(rows)
    while last > h + 1 and not any(cell_text(v).strip() for v in rows[last - 1]):
        last -= 1
    body = rows[h + 1 : last]
    width = max(len(rows[h]), max(map(len, body), default=0))
    where = f"sheet '{grid.sheet}' " if grid.sheet else ""
    if grid.delimiter:  # a delimited file: a record longer than its header shifted its values
        for i, r in enumerate(body):
            if len(r) > len(rows[h]) and any(str(v).strip() for v in r[len(rows[h]) :]):
                raise InputError(
                    f"{path}: line {h + i + 2} has {len(r)} fields but the header (line {h + 1}) "
                    f"has {len(rows[h])}: a value probably contains the delimiter "
                    f"{grid.delimiter!r} without quotes. Quote it or export the file again."
                )
    header_cells = [cell_text(v) for v in rows[h]] + [""] * (width - len(rows[h]))
    headers = _unique_headers(header_cells)
    if columns:
        resolved = _resolve(columns, headers)
        for role, names in columns.items():
            for name, hit in zip(names, resolved.get(role, []) + [None] * len(names), strict=False):
                if hit is None:
                    raise InputError(
                        f"{path}: --column {role}={name}: no column named '{name}' in {where}"
                        f"header row {h + 1} (headers: {', '.join(headers)})"
                    )
    # Column-wise in one pass each: most cells are already text and are taken as they are.
    numeric = {}
    text = {}
    even = min(map(len, body), default=width) == width
    for j, name in enumerate(headers):
        values = _column(body, j, even)
        text[name], numbers = column_text(values)
        if numbers is not None:
            numeric[name] = pd.Series(numbers)
    if cand.infer:  # the sample chose the header; every row below decides the roles
        full = candidate_at(grid, h, specs, columns, True, full=True, texts=list(text.values()))
        cand = full if full.valid() or not cand.valid() else cand
    assignment = cand.assignment
    fields = {f: [c for c in cols if c in headers] for f, cols in assignment.fields.items()}
    fields = {f: cols for f, cols in fields.items() if cols}
    used = {c for cols in fields.values() for c in cols}
    unmapped = [c for c in headers if c not in used]
    index = pd.RangeIndex(h + 2, h + 2 + len(body), name="row")
    # Arrow arrays first: the frame and the item lines below are both built from them.
    arrays = {name: pa.array(values, pa.large_string()) for name, values in text.items()}
    frame = (
        pd.DataFrame({n: pd.Series(a, index=index, dtype="str") for n, a in arrays.items()})
        if body
        else _empty(headers, index)
    )
    for name in numeric:
        numeric[name].index = index
    kind = _row_kinds(frame, [normalize_header(c) for c in header_cells])
    _refuse_print_report(path, where, frame, kind)
    if item_fields is None:  # a chargemaster: department/cost-center rows are not lines
        no_code = _default_no_code() if placeholders is None else placeholders
        kind = kind.mask(kind.eq("") & _section_rows(frame, fields, no_code), "section")
    _refuse_ambiguous_names(path, where, h, header_cells, headers, cand.assignment)
    if item_fields is not None:  # a code map: a row without a key is not an entry
        key_cols = [c for f in _expand(item_fields) for c in fields.get(f, [])]
        if key_cols:
            has_key = frame[key_cols].apply(lambda s: s.str.strip().ne("")).any(axis=1)
            kind = kind.mask(kind.eq("") & ~has_key, "single")
    item = kind.eq("")
    skipped_rows = _skipped_listing(frame, kind)
    skipped = Counter(SKIP_KINDS[k] for k in kind[~item])
    data = _item_lines(arrays, item, index) if len(frame) else frame
    letters = {name: column_letter(j) for j, name in enumerate(headers)}
    parts = _parts(cand, others)
    return Table(
        path=path,
        sheet=grid.sheet,
        header_row=h + 1,
        headers=headers,
        data=data,
        numeric={k: v[item] for k, v in numeric.items()},
        fields=fields,
        unmapped=unmapped,
        letters=letters,
        skipped=+skipped,
        encoding=grid.encoding,
        delimiter=grid.delimiter,
        roles=[d for d in assignment.decisions if d.column in headers],
        rejected=assignment.rejected,
        skipped_rows=skipped_rows,
        rows_below=len(body),
        parts=parts,
    )


def _item_lines(arrays: dict[str, pa.Array], item: pd.Series, index: pd.Index) -> pd.DataFrame:
    """The frame's rows where ``item``, blank cells as NA: ``frame[item].replace("", pd.NA)``
    done on the Arrow arrays (a filter and a null per blank) instead of pandas' take and
    replace over every cell."""
    keep = item.to_numpy(dtype=bool)
    mask = pa.array(keep)
    out = {}
    for name, values in arrays.items():
        kept = pc.filter(values, mask)
        kept = pc.if_else(pc.equal(kept, ""), pa.scalar(None, kept.type), kept)
        out[name] = pd.Series(kept, index=index[keep], dtype="str")
    return pd.DataFrame(out, index=index[keep])


_PAGE = re.compile(r"^page(\s*\d+|\s+\d+\s+of\s+\d+)?$", re.I)


def _refuse_print_report(path, where, frame: pd.DataFrame, kind: pd.Series) -> None:
    """A report printed to pages and pasted into a sheet: its header repeats on every page
    under 'PAGE n' title lines, and its columns are cut at print positions (values split
    mid-word, codes shifted between columns), so no column can be trusted."""
    repeats = int(kind.eq("repeated").sum())
    if repeats < 3:
        return
    pages = int(frame.apply(lambda s: s.str.strip().str.match(_PAGE)).any(axis=1).sum())
    if pages < 3:
        return
    raise InputError(
        f"{path}: not a chargemaster line list: {where}is a printed report pasted into a "
        f"spreadsheet ({repeats + 1} page headers, {pages} 'PAGE n' lines): its columns are cut "
        "at print positions, so values cannot be read as lines. Export the chargemaster as a "
        "list (.xlsx or .csv) instead."
    )


def _refuse_ambiguous_names(path, where, h, header_cells, headers, assignment) -> None:
    """Two columns of one name are refused when one of them is a single-valued field (which
    is the charge code?); two 'Price' columns both read as prices are kept."""
    single = {c for f, cols in assignment.fields.items() if f not in MULTIPLE for c in cols}
    seen: dict[str, int] = {}
    for j, cell in enumerate(header_cells):
        name = " ".join(cell.split())
        if not name:
            continue
        if name.lower() in seen:
            i = seen[name.lower()]
            if (
                headers[i] in single
                or headers[j] in single
                or not (
                    any(headers[i] in c and headers[j] in c for c in assignment.fields.values())
                )
            ):
                raise InputError(
                    f"{path}: {where}header row {h + 1}: columns {column_letter(i)} and "
                    f"{column_letter(j)} are both named '{name}'. Rename one so every column "
                    "is unambiguous."
                )
        seen.setdefault(name.lower(), j)


def _row_kinds(frame: pd.DataFrame, norm_header: list[str]) -> pd.Series:
    """'' for a chargemaster line, else why the row is not one (a key of SKIP_KINDS).

    A row is a line unless it is blank, repeats the header, holds a single cell (a title,
    section label or footer), or belongs to the report block after the last line.
    """
    if frame.empty:
        return pd.Series("", index=frame.index, dtype="str")
    filled = frame.apply(lambda s: s.str.strip().ne(""))
    count = filled.sum(axis=1)
    kind = pd.Series("", index=frame.index, dtype="object")
    kind[count.eq(1)] = "single"
    kind[_repeated_header(frame, norm_header)] = "repeated"
    kind[count.eq(0)] = "blank"
    # The report block: from the bottom up, rows that are blank, single cells or labelled
    # values, until the first row that is none of these.
    positions = []
    for i in range(len(frame) - 1, -1, -1):
        if kind.iat[i] in ("blank", "single", "repeated"):
            positions.append(i)
            continue
        # One row at a time: the loop stops at the last line, a few rows from the bottom.
        cells = [str(v).strip() for v in frame.iloc[i].tolist() if str(v).strip()]
        if len(cells) <= 4 and any(_LABEL.match(c) for c in cells):
            positions.append(i)
            continue
        break
    for i in positions:
        if kind.iat[i] != "blank":
            kind.iat[i] = "report"
    return kind.astype("str")


# Roles that carry a line's values; a row with none of them (and no charge code) is a section.
_VALUE_ROLES = {"revenue": REVENUE_FIELDS, "hcpcs": ("hcpcs",), "price": ("price",)}


@cache
def _default_no_code() -> frozenset[str]:
    """The "no code" placeholders of defaults.toml ([hcpcs] placeholders)."""
    from .config import DEFAULTS_TEXT

    raw = tomllib.loads(DEFAULTS_TEXT)["hcpcs"]["placeholders"]
    return frozenset(str(v).strip().upper() for v in raw)


def _section_rows(
    frame: pd.DataFrame, fields: dict[str, list[str]], no_code: frozenset[str]
) -> pd.Series:
    """True for a section row: a department or cost-center heading among the lines.

    Only when the file has columns for at least two of the line's value roles (revenue code,
    HCPCS/CPT, price): a row with none of them filled (blank, or a "no code" placeholder in a
    code column) and no charge code is a heading, not a line. A row with a price or any code
    stays a line (a package line without a code is a line).
    """
    none = pd.Series(False, index=frame.index)
    roles = {r: [c for f in fs for c in fields.get(f, [])] for r, fs in _VALUE_ROLES.items()}
    if frame.empty or sum(1 for cols in roles.values() if cols) < 2:
        return none
    filled = none.copy()
    for role, cols in roles.items():
        for col in cols:
            text = frame[col].str.strip()
            has = text.ne("")
            if role != "price":
                has &= ~text.str.upper().isin(no_code)
            filled |= has
    for col in fields.get("charge_code", []):
        filled |= frame[col].str.strip().ne("")
    return ~filled


def _skipped_listing(frame: pd.DataFrame, kind: pd.Series) -> pd.DataFrame:
    """Row, kind and text of every row not read as a line (the Skipped rows sheet)."""
    skipped = kind[kind.ne("")]
    if skipped.empty:
        return pd.DataFrame({"row": [], "kind": [], "text": []})
    sub = frame.loc[skipped.index]
    text = [" | ".join(c.strip() for c in r if c.strip())[:500] for r in sub.to_numpy()]
    return pd.DataFrame(
        {"row": skipped.index.to_numpy(), "kind": skipped.map(SKIP_KINDS).to_numpy(), "text": text}
    )


def _column_values(c: Candidate, role: str, limit: int = 5000) -> set[str]:
    cols = c.assignment.fields.get(role) or []
    if not cols:
        return set()
    j = c.headers.index(cols[0])
    out = set()
    for row in c.grid.rows[c.row + 1 : c.row + 1 + limit]:
        if j < len(row):
            t = " ".join(cell_text(row[j]).upper().split())
            if t:
                out.add(t)
    return out


_YEAR = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")


def _parts(chosen: Candidate, others: list[Candidate]) -> list[Candidate]:
    """Other sheets that look like further parts of the same chargemaster.

    Not a part: a statistics form, a copy of another year (both sheet names carry a year, or
    most of its descriptions are the chosen sheet's), a second view of the same lines.
    """
    mine = _column_values(chosen, "description")
    out = []
    for c in others:
        if c.summary or c.grid is chosen.grid or not c.valid():
            continue
        if _SUMMARY_SHEET.search(c.grid.sheet) or _has_summary_header(c.grid):
            continue
        years = _YEAR.search(c.grid.sheet), _YEAR.search(chosen.grid.sheet)
        if all(years) and years[0].group() != years[1].group():
            continue
        theirs = _column_values(c, "description")
        if theirs and mine and len(theirs & mine) >= 0.5 * len(theirs):
            continue
        out.append(c)
    return out


def _has_summary_header(grid: Grid) -> bool:
    """A header-like row of the first rows names an average, a percent or a case count."""
    for row in grid.rows[:HEADER_SCAN_ROWS]:
        if _looks_like_header(row) and any(_SUMMARY.search(cell_text(v)) for v in row):
            return True
    return False


def _expand(item_fields: tuple[str, ...]) -> list[str]:
    out = []
    for f in item_fields:
        out.extend(REVENUE_FIELDS if f == "revenue_code" else [f])
    return out


def _empty(headers: list[str], index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame({h: pd.Series([], dtype="str") for h in headers}, index=index)


def _repeated_header(frame: pd.DataFrame, norm_header: list[str]) -> pd.Series:
    """Rows that repeat the header (page headers of a printed report)."""
    if frame.empty:
        return pd.Series(False, index=frame.index)
    same = pd.Series(0, index=frame.index)
    named = 0
    for j, col in enumerate(frame.columns):
        if norm_header[j]:
            named += 1
            same += _normalizes_to(frame[col], norm_header[j])
    return same >= max(2, (named + 1) // 2)


def _normalizes_to(values: pd.Series, norm: str) -> np.ndarray:
    """1 where a cell's lower case with everything but [a-z0-9] removed is ``norm`` (as
    ``normalize_header``): one regex match per cell instead of building the stripped text."""
    junk = "[^a-z0-9]*"
    pattern = "^" + junk + junk.join(norm) + junk + "$"  # norm is [a-z0-9] only
    lower = pc.utf8_lower(pa.array(values.array))
    hit = pc.fill_null(pc.match_substring_regex(lower, pattern), False)
    return np.asarray(hit, dtype=int)


def table_from_frame(
    frame: pd.DataFrame,
    specs: list[FieldSpec],
    columns: dict[str, list[str]] | None = None,
    name: str = "<DataFrame>",
) -> Table:
    """A Table from a DataFrame already in memory: its columns are the header (row 1), its
    rows the lines below (rows 2...), read exactly as a sheet would be."""
    headers = [str(c) for c in frame.columns]
    rows = [headers, *(list(r) for r in frame.astype("object").itertuples(index=False))]
    grid = Grid("", rows)
    path = Path(name)
    _check_overrides(columns, specs, path)
    cand = candidate_at(grid, 0, specs, columns, True)
    if not cand.valid() and not columns:
        cand = candidate_at(grid, 0, specs, None, False)
    return table_from(path, cand, [], specs, columns, cand.infer)


def sheet_parts(path: Path, specs: list[FieldSpec]) -> list[str]:
    """The chosen sheet and every other sheet that looks like a further part of it."""
    grids = read_grids(Path(path))
    chosen, others = locate_header(grids, specs, Path(path))
    return [chosen.grid.sheet, *(p.grid.sheet for p in _parts(chosen, others))]


ROLE_LABELS = {
    "charge_code": "charge code",
    "description": "description",
    "revenue_code": "revenue code",
    "revenue_code_ip": "inpatient revenue code",
    "revenue_code_op": "outpatient revenue code",
    "hcpcs": "HCPCS/CPT",
    "modifiers": "modifiers",
    "price": "price",
}


def columns_table(table: Table) -> list[dict]:
    """One entry per column: letter, header as written, role, decided by, evidence."""
    by_col = {d.column: d for d in table.roles}
    rejected = {d.column: d for d in table.rejected}
    out = []
    for h in table.headers:
        d = by_col.get(h)
        note = rejected.get(h)
        evidence = d.evidence if d else ""
        if note is not None:
            named = ROLE_LABELS.get(note.role, note.role.replace("_", " "))
            evidence = f"named like a {named}, but its {note.evidence}" + (
                f"; {evidence}" if evidence else ""
            )
        out.append(
            {
                "letter": table.letters[h],
                "header": h,
                "role": d.role if d else None,
                "decided_by": d.by if d else None,
                "evidence": evidence or None,
            }
        )
    return out


def reading_findings(table: Table) -> list[pd.DataFrame]:
    """COLUMN-INFERRED, LINES-SKIPPED and SHEET-NOT-READ: how the file was read, in findings."""
    from . import findings as F

    out = []
    rejected = {d.column: d for d in table.rejected}
    for d in table.roles:
        if d.by != "content":
            continue
        label = ROLE_LABELS.get(d.role, d.role.replace("_", " "))
        named = rejected.get(d.column)
        why = (
            f"its name suggests a {ROLE_LABELS.get(named.role, named.role)}, but "
            if named is not None
            else "its name is not a known alias, but "
        )
        out.append(
            F.make(
                "COLUMN-INFERRED",
                message=f"Column '{d.column}' was read as the {label}: {why}{d.evidence}. "
                f"Set it with --column {d.role}=HEADER or [columns] in the configuration "
                "if that is wrong.",
                column=d.column,
                letter=table.letters.get(d.column),
                value=d.column,
                row=table.header_row,
            )
        )
    skipped = int(sum(table.skipped.values()))
    if skipped > 20 or (table.rows_below and skipped > 0.01 * table.rows_below):
        detail = ", ".join(f"{v:,} {k}" for k, v in table.skipped.most_common())
        out.append(
            F.make(
                "LINES-SKIPPED",
                message=f"{skipped:,} of {table.rows_below:,} rows below the header were not "
                f"read as chargemaster lines ({detail}); the Skipped rows sheet lists each one.",
                value=str(skipped),
                row=table.header_row,
            )
        )
    for part in table.parts:
        out.append(
            F.make(
                "SHEET-NOT-READ",
                message=f"Sheet '{part.grid.sheet}' looks like another part of this "
                f"chargemaster (its own header on row {part.row + 1}, about {part.lines:,} "
                f"lines) and was not read. Read it with --sheet '{part.grid.sheet}', or every "
                "part with --sheet all.",
                value=part.grid.sheet,
                row=table.header_row,
            )
        )
    return out
