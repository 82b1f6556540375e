"""The format registry: the one list of file formats :func:`patriline.io.read`,
:func:`patriline.io.write`, :func:`~patriline.io.detect_format` and
:func:`~patriline.io.check_format` use.

A new file format is one module that declares ``FORMAT = Format(...)``
(:class:`~patriline.io.model.Format`: name, aliases, file-name patterns, a sniffing
function, reader and writer) plus one entry in :data:`BUILTIN` below -- or, from outside
the package, one call to :func:`register`.

Detection tries the formats in reverse order of registration (the most recently
registered, most specific first): file-name patterns first, then each format's ``sniff``
on the text; a file no format claims is wide CSV (:data:`FALLBACK`).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from patriline.errors import InputError
from patriline.io import genemapper, jsonfmt, wide, yhrd
from patriline.io.model import Format

__all__ = [
    "BUILTIN",
    "FALLBACK",
    "by_file_name",
    "detect",
    "formats",
    "get",
    "register",
    "unregister",
]

#: The formats shipped with patriline, in the order ``--format`` help lists them.
BUILTIN: tuple[Format, ...] = (wide.FORMAT, genemapper.FORMAT, yhrd.FORMAT, jsonfmt.FORMAT)
#: The format of a file no other format claims (by name or content).
FALLBACK = "csv"

_REGISTRY: list[Format] = list(BUILTIN)


def formats() -> tuple[Format, ...]:
    """Every registered format, in registration order."""
    return tuple(_REGISTRY)


def register(fmt: Format) -> Format:
    """Add a format (its name and aliases must be new); returns it."""
    taken = {n for f in _REGISTRY for n in (f.name, *f.aliases)}
    clash = sorted(taken & {fmt.name.lower(), *(a.lower() for a in fmt.aliases)})
    if clash:
        raise ValueError(f"format name already registered: {', '.join(clash)}")
    _REGISTRY.append(fmt)
    return fmt


def unregister(name: str) -> None:
    """Remove a registered format (not a built-in one)."""
    if any(f.name == name for f in BUILTIN):
        raise ValueError(f"{name!r} is a built-in format")
    _REGISTRY[:] = [f for f in _REGISTRY if f.name != name]


def get(name: str) -> Format:
    """The format called ``name`` (or an alias, any case); raises :class:`InputError`."""
    key = name.strip().lower()
    for f in _REGISTRY:
        if key == f.name.lower() or key in {a.lower() for a in f.aliases}:
            return f
    known = ", ".join(f.name for f in _REGISTRY)
    raise InputError(f"unknown format {name!r}; known formats: {known}")


def by_file_name(path: str | Path) -> Format | None:
    """The format a file's name selects (``*.json``, ``*.yhrd.*``, ``*.gm.*``), or None."""
    name = Path(path).name.lower()
    for f in reversed(_REGISTRY):
        if any(fnmatch.fnmatchcase(name, p) for p in f.patterns):
            return f
    return None


def detect(path: str | Path, text: str) -> Format:
    """The format of a file, from its name, then its text; wide CSV when none claims it."""
    found = by_file_name(path)
    if found is not None:
        return found
    for f in reversed(_REGISTRY):
        if f.sniff is not None and f.sniff(text):
            return f
    return get(FALLBACK)
