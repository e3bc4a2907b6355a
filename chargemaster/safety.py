"""What keeps a hostile or odd input from hurting the run: the bytes a run checked are the bytes
it writes from, and a workbook's used range is measured before a grid is built for it.

- ``pin(path)`` reads an input once; the reader parses those bytes and the coded output is
  written from them, so an input replaced during the run cannot mix two files.
- ``check_used_range``: a 5 KB .xlsx with one cell at XFD1048576 makes the reader allocate a
  grid of 17 billion cells and the process dies. The cell references of every worksheet part
  are scanned (streamed, ~0.3 s per 14 MB of sheet XML) and a range past ``MAX_CELLS`` is
  refused with the far cell named.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

from .errors import InputError

_PINNED: dict[str, bytes] = {}
MAX_CELLS = 50_000_000  # ~1M rows x 48 columns; each cell costs the reader tens of bytes
_CHUNK = 16 * 1024 * 1024
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')


def _key(path: Path) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def pin(path: Path) -> bytes | None:
    """Read ``path`` once for the whole run; None when it cannot be read (the reader says why)."""
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None
    _PINNED[_key(path)] = raw
    return raw


def unpin(path: Path) -> None:
    _PINNED.pop(_key(path), None)


def pinned(path: Path) -> bytes | None:
    return _PINNED.get(_key(path))


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def check_used_range(archive: zipfile.ZipFile, path: Path) -> None:
    """Refuse a worksheet whose used range (first to last cell) would not fit in memory."""
    for member in archive.infolist():
        name = member.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        cols: set[bytes] = set()
        low_row, high_row = None, 0
        tail = b""
        with archive.open(member) as fh:
            while True:
                block = fh.read(_CHUNK)
                if not block:
                    break
                data = tail + block
                cut = max(data.rfind(b"<"), 0)  # no reference is split across two reads
                body, tail = data[:cut], data[cut:]
                found = _REF.findall(body)
                if found:
                    cols.update(c for c, _ in found)
                    rows = [int(r) for _, r in found]
                    high_row = max(high_row, max(rows))
                    low_row = min(low_row or rows[0], min(rows))
            for c, r in _REF.findall(tail):
                cols.add(c)
                high_row = max(high_row, int(r))
                low_row = min(low_row or int(r), int(r))
        if not cols or low_row is None:
            continue
        numbers = [column_number(c.decode()) for c in cols]
        width = max(numbers) - min(numbers) + 1
        height = high_row - low_row + 1
        if width * height > MAX_CELLS:
            far = f"{max(cols, key=lambda c: column_number(c.decode())).decode()}"
            raise InputError(
                f"{path}: refused: a worksheet's used range spans {height:,} rows x {width:,} "
                f"columns ({width * height:,} cells, up to column {far}, row {high_row:,}): "
                "a stray cell far from the data? Delete the empty rows and columns past the "
                "chargemaster (or export it as .csv) and run again"
            )
