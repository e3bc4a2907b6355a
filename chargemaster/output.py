"""Write output files atomically: a temporary file beside the target, moved into place only when
complete, so a run killed half-way leaves the previous night's file intact.

Before anything is written every output is checked (``check_outputs``): its folder exists and is
writable, it is not a folder, a device or a link to one, not one of the run's inputs (the
chargemaster, code map, config, reference files) and not another output of the same run. A new
file gets the permissions the user's umask gives (0644 under umask 022), a replaced one keeps
those of the file it replaces, so a cron job writing to a shared folder stays readable.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import OutputError

NAME_MAX = 255


def _same(a: Path, b: Path) -> bool:
    try:
        a, b = Path(a), Path(b)
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except (OSError, ValueError):
        return False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def check_target(path: Path, protect: Iterable[Path] = (), what: str = "output") -> Path:
    """Refuse an output path that cannot or must not be written; nothing is touched."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if len(path.name.encode("utf-8", "surrogateescape")) > NAME_MAX - 40:
        raise OutputError(
            f"{path}: the {what} file name is too long ({len(path.name)} characters); "
            "choose a shorter one"
        )
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{path}: cannot write there: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise OutputError(f"{path}: the {what} folder {folder} does not exist")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name for the {what}")
    if path.exists() or path.is_symlink():
        try:
            mode = os.stat(path).st_mode
        except OSError:  # a dangling link: replacing it writes a regular file where it was
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            raise OutputError(
                f"{path}: is not a regular file (a device, pipe or a link to one); "
                f"choose another {what} path"
            )
    for other in protect:
        if other is not None and _same(path, other):
            raise OutputError(
                f"{path}: the {what} would overwrite an input file ({other}); choose another"
            )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: cannot write in {folder} (permission denied)")
    return path


def check_outputs(outputs: dict[str, Path | None], inputs: Iterable[Path | None]) -> None:
    """Every output against every input and against the other outputs, before the run."""
    inputs = [Path(p) for p in inputs if p is not None]
    seen: list[tuple[str, Path]] = []
    for what, path in outputs.items():
        if path is None:
            continue
        check_target(path, inputs, what)
        for other_what, other in seen:
            if _same(path, other):
                raise OutputError(
                    f"{path}: given both as the {other_what} and the {what}; "
                    "give each output its own path"
                )
        seen.append((what, Path(path)))


def _temp_prefix(path: Path) -> str:
    name = path.name
    if len(name) > 100:  # keep the temporary name within the file system's limit
        digest = hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:10]
        name = f"{name[:60]}~{digest}"
    return f".{name}."


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError behind an exception (xlsxwriter wraps them in its own types)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError):
            return exc
        inner = [a for a in getattr(exc, "args", ()) if isinstance(a, OSError)]
        if inner:
            return inner[0]
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def atomic_write(path: Path, write: Callable[[Path], None], protect: Iterable[Path] = ()) -> Path:
    """Call ``write(tmp)`` and move ``tmp`` to ``path``; never touches a ``protect``-ed file."""
    path = Path(path)
    check_target(path, protect)
    folder = path.parent if str(path.parent) else Path(".")
    prefix, suffix = _temp_prefix(path), f".tmp{path.suffix[:12]}"
    for stale in folder.glob(f"{glob_escape(prefix)}*{glob_escape(suffix)}"):  # a killed run's
        stale.unlink(missing_ok=True)
    mode = _mode_for(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write in {folder} ({exc.strerror})") from None
    try:
        write(Path(tmp))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OutputError:
        raise
    except Exception as exc:
        cause = _os_error(exc)
        if cause is None:
            raise
        reason = cause.strerror or str(cause)
        raise OutputError(f"{path}: cannot write ({reason})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
