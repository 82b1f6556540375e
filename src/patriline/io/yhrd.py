"""YHRD-style haplotype table (defined in ``docs/formats.md``).

Tab-separated (``,`` and ``;`` are sniffed too) with a header row. The first column is
the haplotype or sample identifier whatever its name; then one column per locus;
multi-copy alleles are written ``11-14``; a null allele is ``0`` (or ``null``), an
off-ladder call ``OL``, an untyped locus an empty cell or ``NA``. Optional non-locus
columns (``count``, ``frequency``, ``n``, ...) are kept in :attr:`Record.fields`.
When the first column is itself a locus (a table of haplotypes without identifiers,
like ``danes_ystr.csv``), identifiers ``H1``, ``H2``, ... (data row number) are made up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from patriline.io._text import header_line, read_text, sniff_delimiter
from patriline.io.model import Format, ReadResult, Record
from patriline.io.wide import read_table, write_table
from patriline.reference import Catalog, Kit

__all__ = ["FORMAT", "looks_like_yhrd", "read_yhrd", "write_yhrd"]

_COUNT_HEADERS = {"n", "count", "counts", "frequency", "freq"}

NULL_WORDS = frozenset({"0"})


def read_yhrd(
    path: str | Path,
    *,
    strict: bool = True,
    catalog: Catalog,
    kit: Kit | None = None,
    text: str | None = None,
) -> ReadResult:
    """Read a YHRD-style table (see module docstring)."""
    text = read_text(path) if text is None else text
    head = header_line(text)
    first = head.split(sniff_delimiter(head, "\t"))[0].strip().strip('"')
    generate = catalog.is_locus(first)
    return read_table(
        text,
        str(path),
        "yhrd",
        strict=strict,
        catalog=catalog,
        kit=kit,
        id_column=0,
        null_words=NULL_WORDS,
        generate_ids=generate,
        default_delimiter="\t",
    )


def write_yhrd(
    records: Sequence[Record],
    path: str | Path,
    *,
    loci: Iterable[str] | None = None,
    catalog: Catalog,
) -> int:
    """Write a YHRD-style table: ``Haplotype`` column, loci, then any extra fields."""
    return write_table(
        records,
        path,
        delimiter="\t",
        loci=loci,
        catalog=catalog,
        id_header="Haplotype",
        sep="-",
        null="0",
        meta=False,
    )


def looks_like_yhrd(text: str) -> bool:
    """A haplotype-ID first column, or a count column and no specimen column."""
    from patriline.io._build import SPECIMEN_NAMES, _key

    header = header_line(text)
    keys = [_key(h) for h in header.split(sniff_delimiter(header))]
    if keys and keys[0] in ("haplotype", "haplotypeid", "hid"):
        return True
    return not SPECIMEN_NAMES & set(keys) and bool(_COUNT_HEADERS & set(keys))


FORMAT = Format(
    "yhrd",
    read_yhrd,
    write_yhrd,
    patterns=("*.yhrd*",),
    sniff=looks_like_yhrd,
    description="YHRD-style haplotype table (tab-separated, optional count column)",
)
