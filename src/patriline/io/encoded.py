"""Fast paths between files and the encoded form (:mod:`patriline.encoding`).

:func:`read_encoded` reads a wide CSV straight into the ``int16`` columns the store and
the search engine keep, without building a :class:`~patriline.haplotype.Haplotype`
per row: each column's distinct cells are parsed once (with the same rules as
:func:`patriline.io.read`) and the column is filled by a table look-up. Other formats,
and files with per-copy or ``DYS389II-I`` columns, go through :func:`read` and
:func:`~patriline.encoding.encode`; the result is the same either way.

:func:`write_encoded` writes encoded rows as wide CSV (the simulator's output path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from patriline._files import private_open
from patriline.encoding import DTYPE, EXTRA, MISSING, Encoded, Layout, encode, encode_allele
from patriline.haplotype import Allele, AlleleError, AlleleKind
from patriline.io._build import Collector, Column, RowBuilder, plan_header
from patriline.io._columnar import chunks, compiled_chunk
from patriline.io._text import header_line, iter_rows, no_gc, read_text, sniff_delimiter
from patriline.io.model import Problem, ReadError
from patriline.io.wide import allele_text, ragged_problem
from patriline.reference import Catalog, Kit, default_catalog

__all__ = ["EncodedRead", "read_encoded", "write_encoded"]

_CHUNK = 200_000


@dataclass
class EncodedRead:
    """What :func:`read_encoded` returns: accepted specimens in file order, and problems.

    ``ids[i]`` is the specimen of column ``encoded.values[:, i]``; ``lines[i]`` its line.
    The non-locus columns come along, aligned with ``ids``: ``persons[i]`` (``""`` when
    the file gives none), ``kits[i]`` (the kit ID, or None) and ``fields`` (every other
    non-locus column by header, stripped text, ``""`` when empty), as in
    :class:`~patriline.io.model.Record`.
    """

    file: str
    rows: int
    ids: list[str]
    lines: list[int]
    encoded: Encoded
    problems: list[Problem]
    persons: list[str] = field(default_factory=list)
    kits: list[str | None] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)
    format: str | None = None


def read_encoded(
    path: str | Path,
    layout: Layout,
    *,
    format: str | None = None,
    strict: bool = True,
    kit: str | Kit | None = None,
    catalog: Catalog | None = None,
    engine: str = "auto",
) -> EncodedRead:
    """Read a file straight into the encoded form under ``layout``.

    Same checks and problems as :func:`patriline.io.read`; in addition a typed locus
    that ``layout`` has no column for is a problem of its row. Wide CSV files with
    whole-locus columns take the columnar path; ``engine`` chooses how their cells are
    split and parsed: ``"compiled"`` (numba, :mod:`patriline.io._kernels`), ``"python"``,
    or ``"auto"`` (compiled for files of 2 MB and more). The results are identical.
    """
    from patriline.io import _resolve_kit, check_format, detect_format, read

    catalog = catalog or default_catalog()
    kit_obj = _resolve_kit(kit, catalog)
    name = str(path)
    text = read_text(path)
    fmt = check_format(format) if format else detect_format(path, text)
    head = header_line(text)
    tab = Path(path).suffix.lower() in (".tsv", ".txt", ".tab")
    delimiter = sniff_delimiter(head, "\t" if tab else ",")
    columns = None
    if fmt == "csv":
        first = next(iter_rows(head, delimiter, name))
        columns = plan_header(first[1], name, first[0], catalog)
    if columns is None or any(c.role in ("copy", "diff") for c in columns):
        res = read(path, format=fmt, strict=strict, kit=kit_obj, catalog=catalog)
        recs = res.records
        problems = list(res.problems)
        keep, known = [], set(layout.loci)
        for r in recs:
            outside = [n for n in r.haplotype.alleles if n not in known]
            if outside:
                p = Problem(
                    name, r.line, "locus not in the layout", specimen=r.specimen, locus=outside[0]
                )
                if strict:
                    raise ReadError(p)
                problems.append(p)
            else:
                keep.append(r)
        enc = encode([r.haplotype for r in keep], layout)
        headers = list(dict.fromkeys(h for r in keep for h in r.fields))
        return EncodedRead(
            name,
            res.rows,
            [r.specimen for r in keep],
            [r.line for r in keep],
            enc,
            problems,
            [r.person or "" for r in keep],
            [r.kit or r.haplotype.kit for r in keep],
            {h: [r.fields.get(h, "") for r in keep] for h in headers},
            res.format,
        )
    with no_gc():
        return _fast_csv(text, name, delimiter, columns, layout, strict, catalog, kit_obj, engine)


def _fast_csv(
    text: str,
    name: str,
    delimiter: str,
    columns: list[Column],
    layout: Layout,
    strict: bool,
    catalog: Catalog,
    kit: Kit | None,
    engine: str = "auto",
) -> EncodedRead:
    """Columnar read of a wide CSV with whole-locus columns (see :func:`read_encoded`)."""
    collector = Collector(name, "csv", strict)
    builder = RowBuilder(collector, catalog, kit)
    n = len(columns)
    spec_i = next(i for i, c in enumerate(columns) if c.role == "specimen")
    spec_header = columns[spec_i].header
    kit_i = next((i for i, c in enumerate(columns) if c.role == "kit"), None)
    person_i = next((i for i, c in enumerate(columns) if c.role == "person"), None)
    field_cols = [(i, c.header) for i, c in enumerate(columns) if c.role == "field"]
    persons: list[str] = []
    kits: list[str | None] = []
    fields: dict[str, list[str]] = {h: [] for _, h in field_cols}
    locus_cols = [(i, c) for i, c in enumerate(columns) if c.role == "allele"]
    in_layout = set(layout.loci)
    ids: list[str] = []
    lines: list[int] = []
    blocks: list[np.ndarray] = []
    extras: dict[tuple[int, str], Allele] = {}
    seen = builder.seen
    compiled = compiled_chunk(text, name, delimiter, columns, builder, engine=engine)
    parts = [compiled] if compiled is not None else chunks(text, name, delimiter, columns, builder)
    for chunk in parts:
        m = len(chunk.lines)
        values = np.full((layout.n_columns, m), MISSING, dtype=DTYPE)
        outside = np.zeros(m, dtype=bool)
        chunk_extras: dict[int, list[tuple[str, Allele]]] = {}
        for pc in chunk.parsed:
            locus = pc.column.locus
            assert locus is not None
            width = catalog.locus(locus).copies
            if locus not in in_layout:
                typed = np.array([_typed(o) for o in pc.objs], dtype=bool)
                outside |= typed[pc.idx]
                continue
            table = np.full((len(pc.objs), width), MISSING, dtype=DTYPE)
            extra_u = np.zeros(len(pc.objs), dtype=bool)
            for u, obj in enumerate(pc.objs):
                if isinstance(obj, Allele):
                    vals, extra = encode_allele(obj, width)
                    table[u] = vals
                    extra_u[u] = extra
            values[layout.slice_of(locus), :] = table[pc.idx].T
            for hit in np.nonzero(extra_u[pc.idx])[0]:
                allele = pc.objs[int(pc.idx[hit])]
                assert isinstance(allele, Allele)
                chunk_extras.setdefault(int(hit), []).append((locus, allele))
        keep = np.zeros(m, dtype=bool)
        kept: list[int] = []
        for r, line in enumerate(chunk.lines):
            specimen = chunk.specimens[r]
            if chunk.ragged[r]:
                collector.rows += 1
                row = chunk.rows[r]
                collector.reject([ragged_problem(name, line, len(row), n, specimen)])
                continue
            if chunk.flagged[r] or not specimen or specimen in seen:
                row = chunk.rows[r]  # the row-wise path: every rule, every problem named
                before = len(collector.records)
                cells = [(col, row[j].strip()) for j, col in locus_cols]
                kit_text = row[kit_i].strip() if kit_i is not None else ""
                person = chunk.meta[person_i][r] if person_i is not None else ""
                builder.build(
                    line,
                    specimen,
                    cells,
                    person=person,
                    kit_text=kit_text,
                    specimen_column=spec_header,
                )
                if len(collector.records) == before:
                    continue
                record = collector.records.pop()
                off = [k for k in record.haplotype.alleles if k not in in_layout]
                if off:
                    del seen[specimen]
                    collector.reject(
                        [Problem(name, line, "locus not in the layout", None, specimen, off[0])]
                    )
                    continue
                kit_id = record.kit
                values[:, r] = MISSING
                chunk_extras.pop(r, None)
                for locus_name, allele in record.haplotype.alleles.items():
                    sl = layout.slice_of(locus_name)
                    vals, extra = encode_allele(allele, sl.stop - sl.start)
                    values[sl, r] = vals
                    if extra:
                        chunk_extras.setdefault(r, []).append((locus_name, allele))
            else:
                collector.rows += 1
                kit_of_row = chunk.kits[r]
                kit_id = kit_of_row.id if kit_of_row is not None else None
                if outside[r]:
                    locus = next(
                        pc.column.locus
                        for pc in chunk.parsed
                        if pc.column.locus not in in_layout and _typed(pc.objs[int(pc.idx[r])])
                    )
                    collector.reject(
                        [Problem(name, line, "locus not in the layout", None, specimen, locus)]
                    )
                    continue
            seen[specimen] = line
            keep[r] = True
            kept.append(r)
            kits.append(kit_id)
            for locus_name, allele in chunk_extras.get(r, ()):
                extras[(len(ids), locus_name)] = allele
            ids.append(specimen)
            lines.append(line)
        blocks.append(values[:, keep])
        if person_i is not None:
            persons.extend(map(chunk.meta[person_i].__getitem__, kept))
        for i, h in field_cols:
            fields[h].extend(map(chunk.meta[i].__getitem__, kept))
    data = np.concatenate(blocks, axis=1) if blocks else np.empty((layout.n_columns, 0), DTYPE)
    encoded = Encoded(layout, np.ascontiguousarray(data), extras)
    if person_i is None:
        persons = [""] * len(ids)
    return EncodedRead(
        name, collector.rows, ids, lines, encoded, collector.problems, persons, kits, fields, "csv"
    )


def _typed(got: Allele | AlleleError) -> bool:
    return isinstance(got, Allele) and got.kind is not AlleleKind.MISSING


def write_encoded(
    ids: Sequence[str],
    encoded: Encoded,
    path: str | Path,
    extra_columns: Mapping[str, Sequence[object]] | None = None,
) -> int:
    """Write encoded rows as wide CSV (``specimen``, extra columns, one column per locus).

    Each column's distinct codes are formatted once. Returns the number of rows written.
    """
    layout = encoded.layout
    n = encoded.n_rows
    if len(ids) != n:
        raise ValueError(f"{len(ids)} ids for {n} encoded rows")
    extra_columns = dict(extra_columns or {})
    for k, v in extra_columns.items():
        if len(v) != n:
            raise ValueError(f"extra column {k!r} has {len(v)} values for {n} rows")
    out_cols: list[list[str]] = [[_quote(str(x)) for x in ids]]
    out_cols += [[_quote(str(x)) for x in v] for v in extra_columns.values()]
    for locus in layout.loci:
        sl = layout.slice_of(locus)
        block = np.ascontiguousarray(encoded.values[sl].T)
        keys = np.zeros(n, dtype=np.int64)  # one integer per cell: base-65536 digits
        for copy in range(block.shape[1]):
            keys = (keys << 16) | (block[:, copy].astype(np.int64) + 32768)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        texts = [_quote(_cell_text(block[f])) for f in first.tolist()]  # '11,-': partial
        col = list(map(texts.__getitem__, inverse.ravel().tolist()))
        for (r, name_), a in encoded.extras.items():
            if name_ == locus:
                col[r] = _quote(allele_text(a))
        out_cols.append(col)
    header = ",".join(_quote(h) for h in ["specimen", *extra_columns, *layout.loci])
    with private_open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(header + "\n")
        for start in range(0, n, 100_000):  # in blocks: bounded memory for the joined text
            rows = zip(*(c[start : start + 100_000] for c in out_cols), strict=True)
            fh.write("\n".join(map(",".join, rows)))
            fh.write("\n")
    return n


def _quote(text: str) -> str:
    """A CSV cell as the csv module writes it (quoted when it holds , " or a line end)."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _cell_text(row: np.ndarray) -> str:
    from patriline.encoding import _decode_cell

    if int(row[0]) == EXTRA:
        return ""
    return allele_text(_decode_cell(row), copies=len(row))
