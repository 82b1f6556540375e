"""Column-at-a-time parsing of wide tables: the fast path of the CSV reader.

A chunk of rows is transposed; each locus column's *distinct* cells are parsed once
(``RowBuilder._parse``, the same rules as the row-wise path) and the column is
mapped through the result at C speed. Rows with any problem (a bad cell, an unknown kit,
a locus outside the kit, no or a repeated specimen ID) are flagged and handed to the
row-wise :meth:`RowBuilder.build`, which names every problem exactly as it always does.
Files with per-copy (``DYS385a``) or ``DYS389II-I`` columns take the row-wise path.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from patriline.haplotype import Allele, AlleleError, AlleleKind
from patriline.ids import bad_ids
from patriline.io._build import Column, RowBuilder
from patriline.io.model import Problem
from patriline.reference import Kit, UnknownKitError

__all__ = ["Chunk", "ParsedColumn", "chunks", "columnar_ok", "compiled_chunk"]

CHUNK_ROWS = 100_000
#: Files smaller than this (characters) skip the compiled scan: compiling it costs ~2 s
#: once per machine, and importing numba ~1 s per process.
COMPILED_MIN_CHARS = 2_000_000
#: Texts of at least this many bytes are scanned in parallel blocks (one per numba thread).
PARALLEL_MIN_BYTES = 4_000_000


@dataclass
class ParsedColumn:
    """One locus column of a chunk: ``idx[r]`` indexes ``objs`` (the distinct parses)."""

    index: int
    column: Column
    idx: np.ndarray
    objs: list[Allele | AlleleError]

    @property
    def cells(self) -> list[Allele | AlleleError]:
        """The parse of every row's cell (built on first use)."""
        cached: list[Allele | AlleleError] | None = self.__dict__.get("_cells")
        if cached is None:
            cached = list(map(self.objs.__getitem__, self.idx.tolist()))
            self.__dict__["_cells"] = cached
        return cached


@dataclass
class Chunk:
    """Rows of a table, with the columns parsed and the rows needing the row-wise path."""

    lines: list[int]
    rows: Sequence[list[str]]
    specimens: list[str]
    #: stripped text of the person, kit and free-field columns, by column index
    meta: dict[int, list[str]]
    kits: list[Kit | None]
    flagged: np.ndarray
    ragged: np.ndarray
    parsed: list[ParsedColumn]


def columnar_ok(columns: list[Column]) -> bool:
    """True when every locus column holds a whole locus (no per-copy or II−I columns)."""
    return not any(c.role in ("copy", "diff") for c in columns)


def _raw_rows(text: str, delimiter: str, path: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    end = 0
    try:
        for cells in reader:
            start = end + 1
            end = reader.line_num
            yield start, cells
    except csv.Error as exc:
        from patriline.io._text import split_reason
        from patriline.io.model import ReadError

        raise ReadError(Problem(path, end + 1, split_reason(exc))) from None


def chunks(
    text: str,
    path: str,
    delimiter: str,
    columns: list[Column],
    builder: RowBuilder,
    *,
    id_generator: bool = False,
) -> Iterator[Chunk]:
    """Parse the data rows (after the header) chunk by chunk."""
    n = len(columns)
    raw = _raw_rows(text, delimiter, path)
    for _, cells in raw:  # skip to the header
        if any(c.strip() for c in cells):
            break
    spec_i = next((i for i, c in enumerate(columns) if c.role == "specimen"), None)
    kit_i = next((i for i, c in enumerate(columns) if c.role == "kit"), None)
    locus_cols = [(i, c) for i, c in enumerate(columns) if c.role == "allele"]
    meta_cols = [i for i, c in enumerate(columns) if c.role in ("person", "kit", "field")]
    counter = itertools.count(1)
    while True:
        block = list(itertools.islice(raw, CHUNK_ROWS))
        if not block:
            return
        lines: list[int] = []
        rows: list[list[str]] = []
        ragged_rows: list[bool] = []
        for line, cells in block:
            if len(cells) != n:
                if not any(c.strip() for c in cells):
                    continue  # a blank line
                if len(cells) < n:
                    cells = cells + [""] * (n - len(cells))
                    ragged_rows.append(False)
                elif any(c.strip() for c in cells[n:]):
                    ragged_rows.append(True)
                else:
                    cells = cells[:n]
                    ragged_rows.append(False)
            elif cells[spec_i if spec_i is not None else 0].strip() == "" and not any(
                c.strip() for c in cells
            ):
                continue
            else:
                ragged_rows.append(False)
            lines.append(line)
            rows.append(cells)
        if not rows:
            continue
        m = len(rows)
        ragged = np.array(ragged_rows, dtype=bool)
        trimmed = [r[:n] for r in rows] if ragged.any() else rows
        cols = list(zip(*trimmed, strict=True))
        if spec_i is None or id_generator:
            specimens = [f"H{next(counter)}" for _ in range(m)]
        else:
            specimens = [s.strip() for s in cols[spec_i]]
        meta = {i: [s.strip() for s in cols[i]] for i in meta_cols}
        inputs = []
        for j, col in locus_cols:
            distinct_cells = {t: u for u, t in enumerate(dict.fromkeys(cols[j]))}
            objs = [builder._parse(col, t.strip()) for t in distinct_cells]
            idx = np.fromiter(map(distinct_cells.__getitem__, cols[j]), np.int64, count=m)
            inputs.append((j, col, idx, objs))
        person_i = next((i for i, c in enumerate(columns) if c.role == "person"), None)
        yield _finish(
            lines, rows, specimens, meta, ragged, inputs, kit_i, builder, person_i=person_i
        )


def _finish(
    lines: list[int],
    rows: Sequence[list[str]],
    specimens: list[str],
    meta: dict[int, list[str]],
    flagged: np.ndarray,
    inputs: list[tuple[int, Column, np.ndarray, list[Allele | AlleleError]]],
    kit_i: int | None,
    builder: RowBuilder,
    ragged: np.ndarray | None = None,
    person_i: int | None = None,
) -> Chunk:
    """Kits per row, and the rows to re-check: bad cells, unknown kits, loci outside a kit,
    specimen or person IDs that break the ID rule (:mod:`patriline.ids`)."""
    m = len(lines)
    ragged = flagged.copy() if ragged is None else ragged
    flagged = flagged.copy()
    for ids in (specimens, meta.get(person_i) if person_i is not None else None):
        if ids is not None:
            flagged[bad_ids(ids)] = True
    kit_idx = np.zeros(m, dtype=np.int64)
    kit_objs: list[Kit | None] = [builder.kit]
    kit_of_row: list[Kit | None] = [builder.kit] * m
    if kit_i is not None:
        texts = meta[kit_i]
        distinct = {t: u for u, t in enumerate(dict.fromkeys(texts))}
        kit_objs, unknown = [], []
        for t in distinct:
            found = builder._kit(t) if t else builder.kit
            unknown.append(isinstance(found, UnknownKitError))
            kit_objs.append(builder.kit if isinstance(found, UnknownKitError) else found)
        kit_idx = np.fromiter(map(distinct.__getitem__, texts), np.int64, count=m)
        flagged |= np.array(unknown, dtype=bool)[kit_idx]
        kit_of_row = [kit_objs[u] for u in kit_idx.tolist()]
    parsed: list[ParsedColumn] = []
    for j, col, idx, objs in inputs:
        assert col.locus is not None
        error = np.array([isinstance(o, AlleleError) for o in objs], dtype=bool)
        typed = np.array(
            [isinstance(o, Allele) and o.kind is not AlleleKind.MISSING for o in objs], dtype=bool
        )
        flagged |= error[idx]
        outside = np.array([k is not None and col.locus not in k.loci for k in kit_objs])
        if outside.any():
            flagged |= typed[idx] & outside[kit_idx]
        parsed.append(ParsedColumn(j, col, idx, objs))
    return Chunk(lines, rows, specimens, meta, kit_of_row, flagged, ragged, parsed)


class _LazyRows(Sequence[list[str]]):
    """Rows of a compiled scan, split by the csv module only when a row is asked for."""

    def __init__(
        self, raw: bytes, starts: list[int], ends: list[int], delimiter: str, n: int
    ) -> None:
        self.raw, self.starts, self.ends, self.delimiter, self.n = raw, starts, ends, delimiter, n
        self.cache: dict[int, list[str]] = {}

    def __len__(self) -> int:
        return len(self.starts)

    def split(self, r: int) -> list[str]:
        text = self.raw[self.starts[r] : self.ends[r]].decode("utf-8")
        return next(csv.reader([text], delimiter=self.delimiter), [])

    def __getitem__(self, r: int) -> list[str]:  # type: ignore[override]
        hit = self.cache.get(r)
        if hit is None:
            hit = self.split(r)
            if len(hit) < self.n:
                hit = hit + [""] * (self.n - len(hit))
            self.cache[r] = hit
        return hit


def compiled_chunk(
    text: str,
    path: str,
    delimiter: str,
    columns: list[Column],
    builder: RowBuilder,
    *,
    engine: str = "auto",
) -> Chunk | None:
    """The whole table as one chunk, scanned by :func:`patriline.io._kernels.scan_wide`.

    Cells on the happy path are parsed by the kernel; flagged rows are split by the csv
    module here (blank and ragged rows found as the row-wise path finds them). Returns
    None for files the kernel cannot take (lone CR line ends, a quoted cell over lines),
    and for ``engine="python"`` or, with ``engine="auto"``, small files.
    """
    if engine == "python" or (engine == "auto" and len(text) < COMPILED_MIN_CHARS):
        return None
    import numba

    from patriline.haplotype import RANGE_MARGIN
    from patriline.io._kernels import scan_wide, scan_wide_blocks

    raw = text.encode("utf-8")
    if raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    pos = 0
    while True:  # the data start after the first non-blank line (the header)
        nl = raw.find(b"\n", pos)
        if raw[pos : (len(raw) if nl < 0 else nl)].strip():
            start = len(raw) if nl < 0 else nl + 1
            break
        if nl < 0:
            return None
        pos = nl + 1
    n = len(columns)
    spec_i = next(i for i, c in enumerate(columns) if c.role == "specimen")
    kit_i = next((i for i, c in enumerate(columns) if c.role == "kit"), None)
    meta_cols = [i for i, c in enumerate(columns) if c.role in ("specimen", "person", "kit", "field")]  # fmt: skip
    meta_slot = np.full(n, -1, dtype=np.int64)
    meta_slot[meta_cols] = np.arange(len(meta_cols))
    col_out = np.full(n, -1, dtype=np.int64)
    copies, unit = np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)
    lo, hi = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    width = 0
    locus_cols = [(j, c) for j, c in enumerate(columns) if c.role == "allele"]
    for j, col in locus_cols:
        assert col.locus is not None
        locus = builder.catalog.locus(col.locus)
        copies[j], unit[j] = locus.copies, locus.repeat_unit
        lo[j], hi[j] = locus.allele_min - RANGE_MARGIN, locus.allele_max + RANGE_MARGIN
        col_out[j] = width
        width += locus.copies
    data = np.frombuffer(raw, dtype=np.uint8)
    threads = numba.get_num_threads()
    if threads > 1 and len(raw) >= PARALLEL_MIN_BYTES:
        m, values, flags, line_no, row_start, row_end, m_start, m_end = scan_wide_blocks(
            data, start, ord(delimiter), n, meta_slot, len(meta_cols), col_out, copies, lo, hi,
            unit, width, threads,
        )  # fmt: skip
    else:
        max_rows = raw.count(b"\n", start) + 1
        m, values, flags, line_no, row_start, row_end, m_start, m_end = scan_wide(
            data, start, ord(delimiter), n, meta_slot, len(meta_cols), col_out, copies, lo, hi,
            unit, width, max_rows,
        )  # fmt: skip
    if m < 0:
        return None
    rows = _LazyRows(raw, row_start[:m].tolist(), row_end[:m].tolist(), delimiter, n)
    spans = [(m_start[k, :m].tolist(), m_end[k, :m].tolist()) for k in range(len(meta_cols))]
    meta = {
        i: [raw[a:b].decode("utf-8").strip() for a, b in zip(*spans[k], strict=True)]
        for k, i in enumerate(meta_cols)
    }
    flagged = flags[:m].astype(bool)
    ragged = np.zeros(m, dtype=bool)
    blank = np.zeros(m, dtype=bool)
    for r in np.nonzero(flagged)[0].tolist():
        cells = rows.split(r)
        if not any(c.strip() for c in cells):
            blank[r] = True
            continue
        if len(cells) > n and any(c.strip() for c in cells[n:]):
            ragged[r] = True
        cells = cells + [""] * (n - len(cells))
        rows.cache[r] = cells
        for i in meta:
            meta[i][r] = cells[i].strip()
    lines = line_no[:m].tolist()
    specimens = meta.pop(spec_i)
    inputs = []
    for j, col in locus_cols:
        block = values[int(col_out[j]) : int(col_out[j] + copies[j]), :m].astype(np.int64)
        key = np.zeros(m, dtype=np.int64)
        for k in range(block.shape[0]):  # one integer per cell: base-1024 digits of v + 8
            key = key * 1024 + np.clip(block[k] + 8, 0, 1023)
        if block.shape[0] <= 2:  # a look-up table is O(n); np.unique sorts
            present = np.zeros(1024 ** block.shape[0], dtype=bool)
            present[key] = True
            uniq = np.nonzero(present)[0]
            lut = np.zeros(present.shape[0], dtype=np.int64)
            lut[uniq] = np.arange(len(uniq))
            idx = lut[key]
        else:
            uniq, idx = np.unique(key, return_inverse=True)
        objs: list[Allele | AlleleError] = [_allele(_digits(u, block.shape[0])) for u in uniq.tolist()]  # fmt: skip
        inputs.append((j, col, idx.ravel(), objs))
    person_i = next((i for i, c in enumerate(columns) if c.role == "person"), None)
    chunk = _finish(lines, rows, specimens, meta, flagged, inputs, kit_i, builder, ragged, person_i)
    if blank.any():
        return _drop(chunk, ~blank)
    return chunk


def _digits(key: int, n: int) -> list[int]:
    """The cell values behind a base-1024 key (inverse of the key in compiled_chunk)."""
    out = []
    for _ in range(n):
        key, digit = divmod(key, 1024)
        out.append(digit - 8)
    return out[::-1]


def _allele(cells: list[int]) -> Allele:
    from patriline.haplotype import MISSING

    present = tuple(v for v in cells if v >= 0)
    return Allele(AlleleKind.VALUE, present) if present else MISSING


def _drop(chunk: Chunk, keep: np.ndarray) -> Chunk:
    """The chunk without the rows where ``keep`` is False (blank rows)."""
    rows_kept = np.nonzero(keep)[0].tolist()
    rows = _Subset(chunk.rows, rows_kept)

    def pick(xs: list) -> list:
        return [xs[r] for r in rows_kept]

    return Chunk(
        pick(chunk.lines),
        rows,
        pick(chunk.specimens),
        {i: pick(v) for i, v in chunk.meta.items()},
        pick(chunk.kits),
        chunk.flagged[keep],
        chunk.ragged[keep],
        [ParsedColumn(pc.index, pc.column, pc.idx[keep], pc.objs) for pc in chunk.parsed],
    )


class _Subset(Sequence[list[str]]):
    def __init__(self, rows: Sequence[list[str]], positions: list[int]) -> None:
        self.rows, self.positions = rows, positions

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, r: int) -> list[str]:  # type: ignore[override]
        return self.rows[self.positions[r]]
