"""GeneMapper ID / ID-X genotype export: long format, one row per sample × marker.

Tab-separated with a header holding at least ``Sample Name``, ``Marker`` and
``Allele 1`` … ``Allele n`` (other columns, e.g. ``Sample File``, ``Panel``,
``Size n``, ``Height n``, are ignored). A specimen's rows need not be contiguous; its
``line`` is the line of its first row. Allele cells of one marker are joined (``11`` and
``14`` at DYS385 → ``11,14``; two values at a single-copy marker → a duplication).
Non-Y-STR markers of Y kits (``Yindel``, ``AMEL``) are kept in :attr:`Record.fields`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from patriline._files import private_open
from patriline.io._build import Collector, Column, RowBuilder, role_of, suggest
from patriline.io._text import header_line, iter_rows, read_text, sniff_delimiter
from patriline.io.model import Format, Problem, ReadError, ReadResult, Record
from patriline.io.wide import allele_text, columns_for
from patriline.reference import Catalog, Kit, UnknownLocusError

__all__ = ["FORMAT", "looks_like_genemapper", "read_genemapper", "write_genemapper"]

_OTHER_MARKERS = {"YINDEL", "AMEL", "AMELOGENIN", "DYS3YINDEL"}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def looks_like_genemapper(header: str) -> bool:
    keys = {_key(h) for h in re.split(r"[\t,;]", header)}
    return "samplename" in keys and "marker" in keys and "allele1" in keys


def read_genemapper(
    path: str | Path,
    *,
    strict: bool = True,
    catalog: Catalog,
    kit: Kit | None = None,
    text: str | None = None,
) -> ReadResult:
    """Read a GeneMapper genotype export (see module docstring)."""
    name = str(path)
    text = read_text(path) if text is None else text
    rows = iter_rows(text, sniff_delimiter(header_line(text), "\t"), name)
    header_no, headers = next(rows)
    keys = [_key(h) for h in headers]
    missing = [h for h, k in (("Sample Name", "samplename"), ("Marker", "marker")) if k not in keys]
    if missing or "allele1" not in keys:
        need = ", ".join(missing + ([] if "allele1" in keys else ["Allele 1"]))
        raise ReadError(Problem(name, header_no, f"not a GeneMapper export: no column {need}"))
    si, mi = keys.index("samplename"), keys.index("marker")
    allele_idx = sorted(
        (int(k[6:]), i) for i, k in enumerate(keys) if re.fullmatch(r"allele\d+", k)
    )
    allele_cols = [i for _, i in allele_idx]
    # group rows by specimen, in order of first appearance
    samples: dict[str, list[tuple[int, str, str]]] = {}
    first_line: dict[str, int] = {}
    for line, cells in rows:
        row = cells + [""] * (len(headers) - len(cells))
        specimen = row[si]
        texts = [row[i] for i in allele_cols if row[i]]
        samples.setdefault(specimen, []).append((line, row[mi], ",".join(texts)))
        first_line.setdefault(specimen, line)
    collector = Collector(name, "genemapper", strict)
    builder = RowBuilder(collector, catalog, kit)
    columns: dict[str, Column | UnknownLocusError] = {}
    for specimen, entries in samples.items():
        line0 = first_line[specimen]
        found: list[tuple[Column, str]] = []
        fields: dict[str, str] = {}
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        for line, marker, value in entries:
            col = columns.get(marker)
            if col is None:
                try:
                    col = role_of(marker, catalog)
                except UnknownLocusError as exc:
                    col = exc
                columns[marker] = col
            if isinstance(col, UnknownLocusError) or col.role not in ("allele", "copy", "diff"):
                if _key(marker).upper() in _OTHER_MARKERS:
                    fields[marker] = value
                    continue
                suggestion = (
                    suggest(marker, catalog) if isinstance(col, UnknownLocusError) else None
                )
                problems.append(
                    Problem(
                        name,
                        line,
                        "unknown marker",
                        "Marker",
                        specimen or None,
                        marker,
                        value,
                        suggestion,
                    )
                )
                continue
            slot = f"{col.locus}#{col.role}#{col.copy}"
            if slot in seen:
                problems.append(
                    Problem(
                        name,
                        line,
                        f"marker listed twice for this specimen (first on line {seen[slot]})",
                        "Marker",
                        specimen or None,
                        col.locus,
                        value,
                    )
                )
                continue
            seen[slot] = line
            found.append((col, value))
        if problems:
            collector.rows += 1
            collector.reject(problems)
            continue
        builder.build(line0, specimen, found, fields=fields, specimen_column="Sample Name")
    return collector.result()


def write_genemapper(
    records: Sequence[Record],
    path: str | Path,
    *,
    loci: Iterable[str] | None = None,
    catalog: Catalog,
) -> int:
    """Write a GeneMapper-style export: ``Sample Name``, ``Marker``, ``Allele 1..n`` (tab)."""
    names = columns_for(records, loci, catalog)
    width = 2
    for r in records:
        for a in r.haplotype.alleles.values():
            width = max(width, len(a.values))
    with private_open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(["Sample Name", "Marker", *[f"Allele {i + 1}" for i in range(width)]])
        for r in records:
            alleles = r.haplotype.alleles
            typed = [n for n in names if n in alleles]
            if not typed:  # keep the specimen: one empty row
                w.writerow([r.specimen, names[0] if names else "DYS19"] + [""] * width)
            for n in typed:
                a = alleles[n]
                text = allele_text(a, copies=catalog.locus(n).copies)
                parts = text.split(",") if a.values else [text]
                w.writerow([r.specimen, n, *parts] + [""] * (width - len(parts)))
            for k, v in r.fields.items():
                if _key(k).upper() in _OTHER_MARKERS:
                    w.writerow([r.specimen, k, *v.split(",")])
    return len(records)


FORMAT = Format(
    "genemapper",
    read_genemapper,
    write_genemapper,
    aliases=("gm", "gmidx"),
    patterns=("*.gm.*", "*.genemapper.*"),
    sniff=lambda text: looks_like_genemapper(header_line(text)),
    description="GeneMapper ID/ID-X export: one row per specimen and marker",
)
