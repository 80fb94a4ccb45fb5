"""Writing output files so that nothing is ever lost, and reading input files within bounds.

Every writer of the project goes through :func:`atomic_path` (or its helpers): the new content goes
to a temporary file in the target's folder, is flushed to disk, and replaces the target in one
``os.replace`` only when complete. An error, Ctrl-C or kill -9 part way leaves the previous file as
it was (at worst a hidden ``.NAME.*.tmp`` file next to it, removed on any Python exception).
:func:`check_output` validates an output path before any work is done.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

MAX_TEXT_BYTES = 4 << 20  # a config, script or architecture text larger than this is refused
MAX_NESTING = 64  # deepest [ / { nesting accepted in TOML and JSON (real files need 2)


class OutputError(OSError):
    """An output path cannot be written (message: which path and why, one line)."""


def check_output(path: Path | str, suffixes: Iterable[str] | None = None, what: str = "--out") -> Path:
    """`path` if a file can be written there: its folder exists and is writable, it is not a folder, and
    its extension is one of `suffixes` (without dots, case-insensitive). OutputError otherwise."""
    path = Path(path)
    if suffixes is not None:
        allowed = tuple(s.lower().lstrip(".") for s in suffixes)
        if path.suffix.lower().lstrip(".") not in allowed:
            raise OutputError(f"{what} {path}: choose a file ending in "
                              f"{' or '.join('.' + s for s in allowed)}")
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"{what} {path}: cannot write, folder {folder} does not exist")
    if path.is_dir():
        raise OutputError(f"{what} {path}: cannot write, it is a folder; give a file name")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {path}: cannot write, folder {folder} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{what} {path}: cannot write, the existing file is read-only")
    return path


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """A temporary path next to `path` (same extension) to write; it replaces `path` when the block
    ends without an exception, and is removed on any exception (KeyboardInterrupt included)."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp" + path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync(tmp)
        if path.exists():  # keep the target's permissions, not mkstemp's 0600
            try:
                os.chmod(tmp, path.stat().st_mode & 0o7777)
            except OSError:
                pass
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


@contextmanager
def atomic_open(path: Path | str, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open`` for writing, atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as f:
        yield f


def write_bytes(path: Path | str, data: bytes) -> Path:
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)


def write_text(path: Path | str, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


# --- bounded reading -----------------------------------------------------------------------------
def read_text_bounded(path: Path | str, limit: int = MAX_TEXT_BYTES, what: str = "file") -> str:
    """The file as UTF-8 text, reading at most `limit` bytes (ValueError beyond: /dev/zero, a 10 GB
    file). OSError and UnicodeDecodeError pass to the caller."""
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{what} {path} is larger than {limit >> 20} MB; not a file this program writes")
    return data.decode("utf-8")


def nesting_depth(text: str | bytes) -> int:
    """Deepest [ / { nesting of `text` (an upper bound: brackets inside strings count too)."""
    data = np.frombuffer(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text, np.uint8)
    step = (np.isin(data, (0x5B, 0x7B)).astype(np.int64) - np.isin(data, (0x5D, 0x7D)))
    if not step.size:
        return 0
    level = np.cumsum(step)
    # a closer at depth 0 is a parse error, not a negative depth: reflect the walk at zero
    level -= np.minimum(np.minimum.accumulate(level), 0)
    return int(level.max())


def check_nesting(text: str, what: str, limit: int = MAX_NESTING) -> None:
    """ValueError (one line) if `text` nests brackets deeper than `limit` (before a recursive parser
    meets it)."""
    if any(c in text for c in "[{") and nesting_depth(text) > limit:
        raise ValueError(f"{what}: brackets nested deeper than {limit} levels; not a file this program "
                         f"writes")


def short(text: str, limit: int = 40) -> str:
    """`text` quoted for a one-line message: at most `limit` characters, then '...'."""
    text = str(text)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"
