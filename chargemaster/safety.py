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

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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
        found = None
        tail = b""
        with archive.open(member) as fh:
            while True:
                block = fh.read(_CHUNK)
                if not block:
                    break
                data = tail + block
                cut = max(data.rfind(b"<"), 0)  # no reference is split across two reads
                body, tail = data[:cut], data[cut:]
                found = _merge(found, cell_refs(body))
            found = _merge(found, cell_refs(tail))
        if found is None:
            continue
        low_col, high_col, low_row, high_row, far = found
        width = high_col - low_col + 1
        height = high_row - low_row + 1
        if width * height > MAX_CELLS:
            raise InputError(
                f"{path}: refused: a worksheet's used range spans {height:,} rows x {width:,} "
                f"columns ({width * height:,} cells, up to column {far}, row {high_row:,}): "
                "a stray cell far from the data? Delete the empty rows and columns past the "
                "chargemaster (or export it as .csv) and run again"
            )


Refs = tuple[int, int, int, int, str]  # lowest and highest column, row; the far column's letters


def _merge(a: Refs | None, b: Refs | None) -> Refs | None:
    if a is None or b is None:
        return a if b is None else b
    far = a[4] if a[1] >= b[1] else b[4]
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3]), far


_WORD = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_":
    _WORD[_c] = True
_WINDOW = 12  # bytes after r=": up to 3 letters, 7 digits and the closing quote, and slack


def cell_refs(data: bytes) -> Refs | None:
    """The span of the cell references ``_REF`` finds in a piece of sheet XML, or None.

    Located and decoded with array operations: a sheet of a million cells holds a million
    references, and a Python object for each (``_REF.findall``) costs more than calamine's
    whole parse of the sheet.
    """
    if len(data) < 3:
        return None
    a = np.frombuffer(data, dtype=np.uint8)
    eq = np.flatnonzero(a[1:-1] == 0x3D) + 1  # the '=' of r="
    pos = eq[(a[eq - 1] == 0x72) & (a[eq + 1] == 0x22)] - 1
    pos = pos[(pos == 0) | ~_WORD[a[np.maximum(pos - 1, 0)]]]  # \b: the 'r' starts a word
    if not pos.size:
        return None
    start = pos + 3
    fits = start + _WINDOW <= len(a)
    if fits.all():
        win = sliding_window_view(a, _WINDOW)[start]
    else:  # references in the last bytes: their windows come from a padded copy of the end
        cut = max(len(a) - 2 * _WINDOW, 0)
        tail = np.concatenate([a[cut:], np.zeros(_WINDOW, dtype=np.uint8)])
        end = sliding_window_view(tail, _WINDOW)[start[~fits] - cut]
        win = (
            np.concatenate([sliding_window_view(a, _WINDOW)[start[fits]], end])
            if fits.any()
            else end
        )
    # [A-Z]{1,3}: the run of leading capitals (a fourth capital means no match)
    letters = np.zeros(len(win), dtype=np.int8)
    run = np.ones(len(win), dtype=bool)
    for k in range(4):
        run &= (win[:, k] - np.uint8(0x41)) < 26
        letters += run
    best = None
    for n in (1, 2, 3):  # one pass per letter count: the digits start at a fixed offset
        same = letters == n
        sub = win if same.all() else win[same]  # most sheets have fewer than 27 columns
        if not len(sub):
            continue
        digits = sub[:, n : n + 8] - np.uint8(0x30)
        count = np.zeros(len(sub), dtype=np.int8)
        row = np.zeros(len(sub), dtype=np.int32)  # 7 digits fit
        run = np.ones(len(sub), dtype=bool)
        for k in range(8):
            run &= digits[:, k] < 10
            count += run
            if k < 7:
                row = np.where(run, row * 10 + digits[:, k], row)
        # [0-9]{1,7}" : an eighth digit, or anything but the quote after the digits, fails
        ok = (count >= 1) & (count <= 7)
        ok &= sub[np.arange(len(sub)), n + np.minimum(count, 7)] == 0x22
        if not ok.any():
            continue
        if not ok.all():
            sub, row = sub[ok], row[ok]
        col = np.zeros(len(sub), dtype=np.int64)
        for k in range(n):
            col = col * 26 + (sub[:, k].astype(np.int64) - 0x40)
        far = bytes(sub[int(np.argmax(col)), :n]).decode("ascii")
        best = _merge(best, (int(col.min()), int(col.max()), int(row.min()), int(row.max()), far))
    return best
