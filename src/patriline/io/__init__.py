"""Readers and writers: wide CSV/TSV, GeneMapper ID/ID-X export, YHRD-style tables, canonical JSON.

``read(path)`` detects the format from the extension and the header and returns a
:class:`ReadResult`; ``write(records, path)`` picks the format from the extension.
Formats are described in ``docs/formats.md``; the one list of them is the registry
:mod:`patriline.io.formats` (a new format: one module declaring a :class:`Format`, one
entry there). Every input row is either accepted as a
:class:`Record` or reported as a :class:`Problem` (strict mode raises
:class:`ReadError` at the first one); file-level problems (unreadable file, wrong
encoding, empty file, bad header) raise :class:`ReadError` in both modes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from patriline.errors import InputError
from patriline.io import formats
from patriline.io._text import no_gc, read_text
from patriline.io.encoded import EncodedRead, read_encoded, write_encoded
from patriline.io.model import Format, Problem, Reader, ReadError, ReadResult, Record, Writer
from patriline.reference import Catalog, Kit, default_catalog

__all__ = [
    "FORMATS",
    "EncodedRead",
    "Format",
    "Problem",
    "ReadError",
    "ReadResult",
    "Reader",
    "Record",
    "Writer",
    "check_format",
    "detect_format",
    "formats",
    "read",
    "read_encoded",
    "write",
    "write_encoded",
]

#: The built-in formats' names (the live list: :func:`patriline.io.formats.formats`).
FORMATS = tuple(f.name for f in formats.BUILTIN)


def check_format(fmt: str) -> str:
    """The canonical format name; raises :class:`InputError` for an unknown one."""
    return formats.get(fmt).name


def detect_format(path: str | Path, text: str) -> str:
    """The format of a file, from its name (``.json``, ``*.yhrd.*``, ``*.gm.*``) and header."""
    return formats.detect(path, text).name


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
    zero_null: bool = False,
    ignore_columns: Sequence[str] = (),
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
    zero_null, ignore_columns
        Wide CSV only: a ``0`` cell is a null allele (tables written from R); these
        headers are plain fields, never loci (a derived ``DYS385sum``).

    Returns
    -------
    ReadResult
        ``rows == accepted + rejected rows``: nothing is silently dropped.
    """
    catalog = catalog or default_catalog()
    kit_obj = _resolve_kit(kit, catalog)
    text = read_text(path)
    fmt = formats.get(format) if format else formats.detect(path, text)
    options: dict[str, Any] = {}
    if zero_null or ignore_columns:
        if fmt.name != "csv":
            raise InputError(
                f"{path}: --zero-null and --ignore-column apply to wide CSV files, not {fmt.name}",
            )
        options = {"zero_null": zero_null, "ignore_columns": frozenset(ignore_columns)}
    with no_gc():
        return fmt.read(path, strict=strict, catalog=catalog, kit=kit_obj, text=text, **options)


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
    if format:
        fmt = formats.get(format)
    else:
        fmt = formats.by_file_name(path) or formats.get(formats.FALLBACK)
    items: Sequence[Record] = list(records)
    try:
        return fmt.write(items, path, loci=loci, catalog=catalog)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
