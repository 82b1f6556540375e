"""Readers and writers: wide CSV/TSV, GeneMapper ID/ID-X export, YHRD-style tables, canonical JSON.

``read(path)`` detects the format from the extension and the header and returns a
:class:`ReadResult`; ``write(records, path)`` picks the format from the extension.
Formats are described in ``docs/formats.md``. Every input row is either accepted as a
:class:`Record` or reported as a :class:`Problem` (strict mode raises
:class:`ReadError` at the first one); file-level problems (unreadable file, wrong
encoding, empty file, bad header) raise :class:`ReadError` in both modes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from patriline.errors import InputError
from patriline.io._text import header_line, no_gc, read_text
from patriline.io.encoded import EncodedRead, read_encoded, write_encoded
from patriline.io.genemapper import looks_like_genemapper, read_genemapper, write_genemapper
from patriline.io.jsonfmt import read_json, write_json
from patriline.io.model import Problem, Reader, ReadError, ReadResult, Record
from patriline.io.wide import read_wide, write_wide
from patriline.io.yhrd import read_yhrd, write_yhrd
from patriline.reference import Catalog, Kit, default_catalog

__all__ = [
    "FORMATS",
    "EncodedRead",
    "Problem",
    "ReadError",
    "ReadResult",
    "Record",
    "check_format",
    "detect_format",
    "read",
    "read_encoded",
    "write",
    "write_encoded",
]

FORMATS = ("csv", "genemapper", "yhrd", "json")
_COUNT_HEADERS = {"n", "count", "counts", "frequency", "freq"}

_READERS: dict[str, Reader] = {
    "csv": read_wide,
    "genemapper": read_genemapper,
    "yhrd": read_yhrd,
    "json": read_json,
}
_WRITERS: dict[str, Callable[..., int]] = {
    "csv": write_wide,
    "genemapper": write_genemapper,
    "yhrd": write_yhrd,
    "json": write_json,
}


def check_format(fmt: str) -> str:
    """The canonical format name; raises :class:`InputError` for an unknown one."""
    key = fmt.strip().lower()
    key = {"tsv": "csv", "wide": "csv", "gm": "genemapper", "gmidx": "genemapper"}.get(key, key)
    if key not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
    return key


def _format_from_name(path: str | Path) -> str | None:
    name = Path(path).name.lower()
    if name.endswith(".json"):
        return "json"
    if ".yhrd" in name:
        return "yhrd"
    if ".gm." in name or ".genemapper." in name:
        return "genemapper"
    return None


def detect_format(path: str | Path, text: str) -> str:
    """The format of a file, from its name (``.json``, ``*.yhrd.*``, ``*.gm.*``) and header."""
    by_name = _format_from_name(path)
    if by_name:
        return by_name
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "json"
    header = header_line(text)
    if looks_like_genemapper(header):
        return "genemapper"
    from patriline.io._build import SPECIMEN_NAMES, _key
    from patriline.io._text import sniff_delimiter

    keys = [_key(h) for h in header.split(sniff_delimiter(header))]
    if keys and keys[0] in ("haplotype", "haplotypeid", "hid"):
        return "yhrd"
    if not SPECIMEN_NAMES & set(keys) and _COUNT_HEADERS & set(keys):
        return "yhrd"
    return "csv"


def _resolve_kit(kit: str | Kit | None, catalog: Catalog) -> Kit | None:
    if kit is None or isinstance(kit, Kit):
        return kit
    return catalog.kit(kit)  # UnknownKitError is an InputError


def read(
    path: str | Path,
    *,
    format: str | None = None,
    strict: bool = True,
    kit: str | Kit | None = None,
    catalog: Catalog | None = None,
) -> ReadResult:
    """Read specimens from a file in any supported format.

    Parameters
    ----------
    path
        The file.
    format
        ``"csv"`` (wide CSV/TSV/semicolon), ``"genemapper"``, ``"yhrd"`` or ``"json"``;
        None detects it from the name and header (:func:`detect_format`).
    strict
        True: raise :class:`ReadError` at the first problem. False: return every valid
        record and a :class:`Problem` for every rejected row.
    kit
        A kit (identifier, alias or :class:`~patriline.reference.Kit`): loci outside it
        are a problem, and records carry it unless a ``kit`` column says otherwise.
    catalog
        The locus catalog (default: :func:`~patriline.reference.default_catalog`).

    Returns
    -------
    ReadResult
        ``rows == accepted + rejected rows``: nothing is silently dropped.
    """
    catalog = catalog or default_catalog()
    kit_obj = _resolve_kit(kit, catalog)
    text = read_text(path)
    fmt = check_format(format) if format else detect_format(path, text)
    with no_gc():
        return _READERS[fmt](path, strict=strict, catalog=catalog, kit=kit_obj, text=text)


def write(
    records: Iterable[Record],
    path: str | Path,
    *,
    format: str | None = None,
    loci: Iterable[str] | None = None,
    catalog: Catalog | None = None,
) -> int:
    """Write records; returns how many were written.

    ``format`` defaults from the name: ``.json`` → json, ``*.yhrd.*`` → yhrd,
    ``*.gm.*``/``*.genemapper.*`` → genemapper, anything else → wide CSV (tab-separated
    for ``.tsv``/``.txt``). ``loci`` fixes the locus columns (default: every typed locus).
    """
    catalog = catalog or default_catalog()
    fmt = check_format(format) if format else (_format_from_name(path) or "csv")
    items: Sequence[Record] = list(records)
    try:
        return _WRITERS[fmt](items, path, loci=loci, catalog=catalog)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
