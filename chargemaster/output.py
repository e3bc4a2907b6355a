"""Write output files atomically: a temporary file beside the target, moved into place only when
complete, so a run killed half-way leaves the previous night's file intact."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import OutputError


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == Path(b).resolve()
    except OSError:
        return False


def atomic_write(path: Path, write: Callable[[Path], None], protect: Iterable[Path] = ()) -> Path:
    """Call ``write(tmp)`` and move ``tmp`` to ``path``; never touches a ``protect``-ed file."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{path}: cannot write there: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise OutputError(f"{path}: the output folder {folder} does not exist")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name for the output")
    for other in protect:
        if _same(path, other):
            raise OutputError(f"{path}: the output would overwrite an input file; choose another")
    prefix, suffix = f".{path.name}.", f".tmp{path.suffix}"
    for stale in folder.glob(f"{prefix}*{suffix}"):  # left by a run that was killed
        stale.unlink(missing_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write in {folder} ({exc.strerror})") from None
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
