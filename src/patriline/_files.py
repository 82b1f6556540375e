"""Private files: everything patriline writes that holds profiles or identities.

A store, a reject list, an export, a report, a simulated population or a key file is
created readable and writable by its owner only (files ``0600``, directories ``0700``),
whatever the process umask, so another account of the machine cannot read it
(docs/safeguards.md, "Files"). The mode is set when the file is created (``os.open``
with the mode, then ``fchmod`` before the first byte, since the umask can only remove
bits and an existing file keeps its old mode), never afterwards.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any

from patriline.errors import InputError

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "is_private",
    "make_private",
    "private_dir",
    "private_open",
    "write_private",
]

#: Mode of every file patriline writes that holds profiles or identities.
FILE_MODE = 0o600
#: Mode of every directory patriline creates for such files.
DIR_MODE = 0o700


def private_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``open(path, mode, **kwargs)`` for writing, the file created (or reset to) ``0600``.

    ``mode`` is ``"w"``, ``"a"``, ``"x"`` (text) or the same with ``"b"``.
    """
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    if "a" in mode:
        flags |= os.O_APPEND
    elif "x" in mode:
        flags |= os.O_EXCL
    else:
        flags |= os.O_TRUNC
    fd = os.open(os.fspath(path), flags, FILE_MODE)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, FILE_MODE)
        return open(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: str | os.PathLike[str], data: str | bytes, **kwargs: Any) -> None:
    """``Path.write_text``/``write_bytes`` for a private file (``0600``)."""
    if isinstance(data, bytes):
        with private_open(path, "wb") as fh:
            fh.write(data)
    else:
        with private_open(path, "w", encoding=kwargs.get("encoding", "utf-8")) as fh:
            fh.write(data)


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) as ``0700``; an existing directory is left as is
    unless patriline creates it now (parents that exist keep their mode)."""
    p = Path(path)
    missing = []
    q = p
    while not q.exists():
        missing.append(q)
        if q.parent == q:
            break
        q = q.parent
    for d in reversed(missing):
        d.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(d, DIR_MODE)
    return p


def is_private(path: str | os.PathLike[str]) -> bool:
    """True if no account other than the owner may read or write ``path``."""
    return not (os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def make_private(path: str | os.PathLike[str]) -> None:
    """Take group and other access away from an existing file (a store of an older version).

    Raises :class:`~patriline.errors.InputError` naming the file when this account may not
    change its mode (another account owns it).
    """
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return
    try:
        os.chmod(path, mode & ~(stat.S_IRWXG | stat.S_IRWXO))
    except PermissionError:
        raise InputError(
            f"{path}: readable by other accounts (mode {mode:04o}) and not ours to make private; "
            f"its owner should run: chmod 600 {path}"
        ) from None
