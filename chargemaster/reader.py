"""Read a chargemaster (or code map) export into a text table with source row numbers.

Real exports carry title blocks, disclaimers, several sheets, repeated page headers, section
rows and footers. This module finds the sheet and the header row, maps headers to canonical
fields, and keeps every value as text: a number cell is turned back into its digits here, and
which cells were numbers is remembered so the repair can be reported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from .errors import InputError
from .fields import IDENTIFYING, REVENUE_FIELDS, FieldSpec, map_headers, normalize_header
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

    width = max((used(r) for r in rows), default=0)
    widest = max((len(r) for r in rows), default=0)
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


def _row_fields(row: list[Any], index: dict[str, tuple[str, int]]) -> set[str]:
    found = set()
    for value in row:
        if isinstance(value, str) and value.strip():
            hit = index.get(normalize_header(value))
            if hit:
                found.add(hit[0])
    return found


def _score(found: set[str], required: tuple[str, ...]) -> tuple[int, int] | None:
    """None unless the row names every required field and one identifying field."""
    if any(f not in found for f in required):
        return None
    ident = sum(1 for f in IDENTIFYING if f in found or (f == "revenue_code" and _has_rev(found)))
    if ident < 1:
        return None
    return (ident, len(found))


def _has_rev(found: set[str]) -> bool:
    return bool(found & set(REVENUE_FIELDS))


def locate_header(
    grids: list[Grid],
    specs: list[FieldSpec],
    path: Path,
    sheet: str | None = None,
    header_row: int | None = None,
    required: tuple[str, ...] = ("description",),
) -> tuple[Grid, int]:
    """The sheet and 0-based row of the header; the best-scoring row over all sheets."""
    from .fields import alias_index

    index = alias_index(specs)
    if sheet is not None:
        names = [g.sheet for g in grids]
        chosen = [g for g in grids if g.sheet == sheet]
        if not chosen:
            raise InputError(
                f"{path}: no sheet named '{sheet}' (sheets: {', '.join(repr(n) for n in names)})"
            )
        grids = chosen
    if header_row is not None:
        grid = grids[0] if sheet is not None or len(grids) == 1 else _best_grid(grids, index)
        if header_row < 1 or header_row > len(grid.rows):
            where = f"sheet '{grid.sheet}' " if grid.sheet else ""
            raise InputError(f"{path}: {where}has no row {header_row}")
        return grid, header_row - 1
    best: tuple[tuple[int, int], int, Grid, int] | None = None
    near: list[tuple[int, str, int, set[str]]] = []
    for order, grid in enumerate(grids):
        for r, row in enumerate(grid.rows[:HEADER_SCAN_ROWS]):
            found = _row_fields(row, index)
            if found:
                near.append((len(found), grid.sheet, r + 1, found))
            score = _score(found, required)
            if score and (best is None or (score, -order) > (best[0], -best[1])):
                best = (score, order, grid, r)
    if best is None:
        raise InputError(_no_header_message(path, near, required))
    return best[2], best[3]


def _best_grid(grids: list[Grid], index: dict[str, tuple[str, int]]) -> Grid:
    def weight(g: Grid) -> int:
        return max((len(_row_fields(r, index)) for r in g.rows[:HEADER_SCAN_ROWS]), default=0)

    return max(grids, key=weight)


def _no_header_message(
    path: Path, near: list[tuple[int, str, int, set[str]]], required: tuple[str, ...]
) -> str:
    names = " and ".join(r.replace("_", " ") for r in required)
    msg = (
        f"{path}: no header row found: no row names a {names} column together with a charge "
        "code, revenue code, HCPCS/CPT or price column"
    )
    if near:
        near.sort(key=lambda t: (-t[0], t[1], t[2]))
        parts = []
        for _, sheet, row, found in near[:3]:
            where = f"sheet '{sheet}' row {row}" if sheet else f"line {row}"
            parts.append(f"{where} ({', '.join(sorted(found))})")
        msg += "; closest rows: " + "; ".join(parts)
    return msg + ". Use --sheet and --header-row to point at it, or add aliases in --config."


def _unique_headers(cells: list[str]) -> list[str]:
    seen: Counter = Counter()
    out = []
    for i, cell in enumerate(cells):
        name = " ".join(cell.split()) or f"Column {column_letter(i)}"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def read_table(
    path: Path,
    specs: list[FieldSpec],
    sheet: str | None = None,
    header_row: int | None = None,
    *,
    required: tuple[str, ...] = ("description",),
    item_fields: tuple[str, ...] = IDENTIFYING,
) -> Table:
    """Read ``path`` into a Table of its item lines, every value as text."""
    path = Path(path)
    grids = read_grids(path)
    grid, h = locate_header(grids, specs, path, sheet, header_row, required)
    rows = grid.rows
    width = max((len(r) for r in rows[h : h + 1]), default=0)
    last = len(rows)
    while last > h + 1 and not any(cell_text(v).strip() for v in rows[last - 1]):
        last -= 1
    body = rows[h + 1 : last]
    width = max([width] + [len(r) for r in body])
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
    seen: dict[str, int] = {}
    for j, cell in enumerate(header_cells):
        name = " ".join(cell.split())
        if name and name.lower() in seen:
            first = column_letter(seen[name.lower()])
            raise InputError(
                f"{path}: {where}header row {h + 1}: columns {first} and {column_letter(j)} are "
                f"both named '{name}'. Rename one so every column is unambiguous."
            )
        seen.setdefault(name.lower(), j)
    headers = _unique_headers(header_cells)
    fields, unmapped = map_headers(headers, specs)
    # Columns with neither a header nor any value are padding, not data.
    # Column-wise in one pass each: most cells are already text and are taken as they are.
    padded = (r if len(r) == width else list(r) + [""] * (width - len(r)) for r in body)
    transposed = list(zip(*padded, strict=True)) if body else [()] * width
    numeric = {}
    text = {}
    for name, values in zip(headers, transposed, strict=True):
        out, numbers = [], []
        for i, v in enumerate(values):
            if type(v) is str:
                out.append(v)
            else:
                out.append(cell_text(v))
                if type(v) in (int, float):
                    numbers.append(i)
        text[name] = out
        if numbers:
            mask = np.zeros(len(values), dtype=bool)
            mask[numbers] = True
            numeric[name] = pd.Series(mask)
    index = pd.RangeIndex(h + 2, h + 2 + len(body), name="row")
    frame = pd.DataFrame(text, index=index, dtype="str") if body else _empty(headers, index)
    for name in numeric:
        numeric[name].index = index
    filled = frame.apply(lambda s: s.str.strip().ne(""))
    blank = ~filled.any(axis=1)
    # A row with a single filled cell is a title, page number, section or footer, never a line.
    lonely = filled.sum(axis=1).eq(1)
    norm_header = [normalize_header(c) for c in header_cells]
    repeated = _repeated_header(frame, norm_header)
    key_cols = [c for f in _expand(item_fields) for c in fields.get(f, [])]
    if key_cols:
        has_key = frame[key_cols].apply(lambda s: s.str.strip().ne("")).any(axis=1)
    else:  # nothing identifies an item: any non-blank row is one
        has_key = ~blank
    item = has_key & ~repeated & ~blank & ~lonely
    skipped = Counter(
        {
            "blank rows": int(blank.sum()),
            "repeated header rows": int((repeated & ~blank).sum()),
            "section, title or footer rows": int((~item & ~blank & ~repeated).sum()),
        }
    )
    data = frame[item].replace("", pd.NA) if len(frame) else frame
    letters = {name: column_letter(j) for j, name in enumerate(headers)}
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
    )


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
            norm = frame[col].str.lower().str.replace(r"[^a-z0-9]", "", regex=True)
            same += norm.eq(norm_header[j]).astype(int)
    return same >= max(2, (named + 1) // 2)
