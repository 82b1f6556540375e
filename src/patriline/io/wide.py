"""Wide CSV/TSV: one row per specimen, one column per locus (or per locus copy).

Reading accepts ``,``, ``;`` and tab delimiters (sniffed from the header), UTF-8 with or
without BOM, UTF-16 from Excel, CRLF, quoted cells, trailing spaces, empty cells, any
spelling of a locus the catalog knows, ``DYS385`` as ``11,14`` or as ``DYS385a`` /
``DYS385b`` columns, and ``DYS389II-I`` columns (converted to DYS389II by adding
DYS389I). The same machinery reads the YHRD-style table (:mod:`patriline.io.yhrd`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from patriline._files import private_open
from patriline.haplotype import Allele, AlleleKind, Haplotype, format_tenths
from patriline.io._build import Collector, RowBuilder, _key, plan_header
from patriline.io._columnar import chunks, columnar_ok, compiled_chunk
from patriline.io._text import header_line, iter_rows, read_text, sniff_delimiter
from patriline.io.model import Format, Problem, ReadResult, Record
from patriline.reference import Catalog, Kit

__all__ = ["FORMAT", "allele_text", "read_table", "read_wide", "write_table", "write_wide"]


def read_table(
    text: str,
    path: str,
    fmt: str,
    *,
    strict: bool,
    catalog: Catalog,
    kit: Kit | None,
    id_column: int | None = None,
    null_words: frozenset[str] = frozenset(),
    generate_ids: bool = False,
    default_delimiter: str = ",",
    ignore_columns: frozenset[str] = frozenset(),
) -> ReadResult:
    """Read a table with a header row (shared by the wide CSV and YHRD-style readers).

    ``ignore_columns`` (header names, compared as the catalog compares them) are kept as
    plain fields, never read as loci (a derived ``DYS385sum`` column)."""
    ignore = frozenset(_key(h) for h in ignore_columns)
    delimiter = sniff_delimiter(header_line(text), default_delimiter)
    rows = iter_rows(text, delimiter, path)
    try:
        header_no, headers = next(rows)
    except StopIteration:
        from patriline.io.model import ReadError

        raise ReadError(Problem(path, None, "empty file")) from None
    if generate_ids:
        id_column = None
        columns = plan_header(["id", *headers], path, header_no, catalog, ignore=ignore)[1:]
    else:
        columns = plan_header(headers, path, header_no, catalog, id_column=id_column, ignore=ignore)
    collector = Collector(path, fmt, strict)
    builder = RowBuilder(collector, catalog, kit, null_words=null_words)
    n = len(columns)
    spec_i = next((i for i, c in enumerate(columns) if c.role == "specimen"), None)
    spec_header = columns[spec_i].header if spec_i is not None else None
    person_i = next((i for i, c in enumerate(columns) if c.role == "person"), None)
    kit_i = next((i for i, c in enumerate(columns) if c.role == "kit"), None)
    field_cols = [(i, c.header) for i, c in enumerate(columns) if c.role == "field"]
    locus_cols = [(i, c) for i, c in enumerate(columns) if c.role in ("allele", "copy", "diff")]

    def slow(line: int, specimen: str, cells: list[str]) -> None:
        """The row-wise path: every check, every problem named."""
        cells = [c.strip() for c in cells]
        builder.build(
            line,
            specimen,
            [(c, cells[i]) for i, c in locus_cols],
            person=cells[person_i] if person_i is not None else "",
            kit_text=cells[kit_i] if kit_i is not None else "",
            fields={h: cells[i] for i, h in field_cols if cells[i]},
            specimen_column=spec_header,
        )

    if not columnar_ok(columns):
        for index, (line, cells) in enumerate(rows, start=1):
            specimen = cells[spec_i] if spec_i is not None else f"H{index}"
            if len(cells) > n and any(cells[n:]):
                collector.rows += 1
                collector.reject([ragged_problem(path, line, len(cells), n, specimen)])
                continue
            slow(line, specimen, cells + [""] * (n - len(cells)))
        return collector.result()
    seen = builder.seen
    pop_header = next((h for _, h in field_cols if h.strip().lower() == "population"), None)
    records = collector.records
    compiled = None
    if fmt == "csv" and not generate_ids and not null_words:
        compiled = compiled_chunk(text, path, delimiter, columns, builder)
    parts = (
        [compiled]
        if compiled is not None
        else chunks(text, path, delimiter, columns, builder, id_generator=generate_ids)
    )
    for chunk in parts:
        names = [pc.column.locus for pc in chunk.parsed]
        meta = chunk.meta
        per_row = zip(*(pc.cells for pc in chunk.parsed), strict=True) if names else None
        for r, line in enumerate(chunk.lines):
            vals = next(per_row) if per_row is not None else ()
            specimen = chunk.specimens[r]
            if chunk.ragged[r]:
                row = chunk.rows[r]
                collector.rows += 1
                collector.reject([ragged_problem(path, line, len(row), n, specimen)])
                continue
            if chunk.flagged[r] or not specimen or specimen in seen:
                slow(line, specimen, chunk.rows[r])
                continue
            collector.rows += 1
            alleles = dict(zip(names, vals, strict=True))  # Haplotype drops MISSING
            kit_obj = chunk.kits[r]
            kit_id = kit_obj.id if kit_obj is not None else None
            fields = {h: v for i, h in field_cols if (v := meta[i][r])}
            person = meta[person_i][r] if person_i is not None else ""
            seen[specimen] = line
            if pop_header is not None and fields.get(pop_header):
                builder.population_of[specimen] = fields[pop_header]
            records.append(
                Record(
                    specimen,
                    Haplotype(alleles, kit_id),  # type: ignore[arg-type]
                    line,
                    kit_id,
                    person or None,
                    fields,
                )
            )
    return collector.result()


def ragged_problem(path: str, line: int, got: int, n: int, specimen: str) -> Problem:
    """A row with more (non-empty) cells than the header."""
    return Problem(
        path,
        line,
        f"row has {got} cells but the header has {n} (a delimiter inside an unquoted cell?)",
        specimen=specimen or None,
    )


def read_wide(
    path: str | Path,
    *,
    strict: bool = True,
    catalog: Catalog,
    kit: Kit | None = None,
    text: str | None = None,
    zero_null: bool = False,
    ignore_columns: frozenset[str] = frozenset(),
) -> ReadResult:
    """Read a wide CSV/TSV file (see module docstring). ``zero_null``: a ``0`` cell is a
    null allele (as in tables written from R or YHRD); ``ignore_columns``: headers read
    as plain fields (see :func:`read_table`)."""
    text = read_text(path) if text is None else text
    tab = Path(path).suffix.lower() in (".tsv", ".txt", ".tab")
    return read_table(
        text,
        str(path),
        "csv",
        strict=strict,
        catalog=catalog,
        kit=kit,
        null_words=frozenset({"0"}) if zero_null else frozenset(),
        default_delimiter="\t" if tab else ",",
        ignore_columns=ignore_columns,
    )


def allele_text(allele: Allele, *, sep: str = ",", null: str = "null", copies: int = 1) -> str:
    """An allele as written in tables: ``14``, ``15.2``, ``11,14``, ``null``, ``OL`` or ``""``.

    At a locus of ``copies`` copies a partly typed allele is written with ``-`` for each
    copy not called, comma-separated whatever ``sep`` (``11,-``), so it reads back
    partial rather than as the homozygote ``11,11``."""
    if allele.partial(copies):
        return allele.text(copies)
    if allele.kind is AlleleKind.VALUE:
        return sep.join(format_tenths(v) for v in allele.values)
    if allele.kind is AlleleKind.NULL:
        return null
    if allele.kind is AlleleKind.OFF_LADDER:
        return "OL"
    return ""


def columns_for(
    records: Sequence[Record], loci: Iterable[str] | None, catalog: Catalog
) -> list[str]:
    """Locus columns to write: ``loci`` (canonical names), else every typed locus, catalog order."""
    if loci is not None:
        wanted = [catalog.locus(n).name for n in loci]
        allowed = set(wanted)
        for r in records:
            extra = [n for n in r.haplotype.alleles if n not in allowed]
            if extra:
                from patriline.errors import InputError

                raise InputError(
                    f"specimen {r.specimen}: loci {', '.join(extra)} are not among the "
                    "columns to write"
                )
        order = {n: i for i, n in enumerate(catalog.all_loci)}
        return sorted(dict.fromkeys(wanted), key=lambda n: order[n])
    present: set[str] = set()
    for r in records:
        present.update(r.haplotype.alleles)
    return [n for n in catalog.all_loci if n in present]


def write_table(
    records: Sequence[Record],
    path: str | Path,
    *,
    delimiter: str,
    loci: Iterable[str] | None,
    catalog: Catalog,
    id_header: str = "specimen",
    sep: str = ",",
    null: str = "null",
    meta: bool = True,
) -> int:
    """Write records as a table with a header row; returns the number of records."""
    names = columns_for(records, loci, catalog)
    has_person = meta and any(r.person for r in records)
    has_kit = meta and any(r.kit for r in records)
    field_names: list[str] = []
    for r in records:
        for k in r.fields:
            if k not in field_names:
                field_names.append(k)
    header = [id_header]
    if has_person:
        header.append("person")
    if has_kit:
        header.append("kit")
    header += field_names + names
    cache: dict[tuple[Allele, int], str] = {}
    copies = {n: catalog.locus(n).copies for n in names}
    with private_open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
        w.writerow(header)
        for r in records:
            row = [r.specimen]
            if has_person:
                row.append(r.person or "")
            if has_kit:
                row.append(r.kit or "")
            row += [r.fields.get(k, "") for k in field_names]
            alleles = r.haplotype.alleles
            for n in names:
                a = alleles.get(n)
                if a is None:
                    row.append("")
                    continue
                key = (a, copies[n])
                t = cache.get(key)
                if t is None:
                    t = cache[key] = allele_text(a, sep=sep, null=null, copies=copies[n])
                row.append(t)
            w.writerow(row)
    return len(records)


def write_wide(
    records: Sequence[Record],
    path: str | Path,
    *,
    loci: Iterable[str] | None = None,
    catalog: Catalog,
) -> int:
    """Write wide CSV (``,``) or, for a ``.tsv``/``.txt`` path, tab-separated."""
    delimiter = "\t" if Path(path).suffix.lower() in (".tsv", ".txt", ".tab") else ","
    return write_table(records, path, delimiter=delimiter, loci=loci, catalog=catalog)


FORMAT = Format(
    "csv",
    read_wide,
    write_wide,
    aliases=("tsv", "wide"),
    description="wide CSV/TSV/semicolon: one row per specimen, one column per locus",
)  # no patterns, no sniffing: the format of every file no other format claims
