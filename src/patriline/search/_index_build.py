"""Building a :class:`~patriline.search.index.SearchIndex`: index columns, pigeonhole
blocks, hashes and the arrays the index is made of (see the index module docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from patriline.encoding import Encoded, Layout
from patriline.errors import InputError
from patriline.reference import default_catalog
from patriline.search._distance_kernels import LocusTable
from patriline.search._hash_kernels import hash_rows
from patriline.search._index_files import FORMAT_VERSION, extras_to_json

_HASH_SEED = 0x5EED
#: Values 0..FREQ_BINS-1 (tenths of a repeat) have a share in the column frequencies.
FREQ_BINS = 1024
_FREQ_SAMPLE = 200_000
#: Kits tried as index columns, when none is named.
_INDEX_KITS = ("minimal", "swgdam", "yfiler", "ppy23", "yfiler_plus", "rm13", "ppy12")


def locus_table(layout: Layout) -> LocusTable:
    """First column and copies of each locus of ``layout``, and its DYS389 columns."""
    starts = np.array([layout.slice_of(n).start for n in layout.loci], dtype=np.int64)
    copies = np.array(layout.copies, dtype=np.int64)
    d = layout.dys389
    i1, i2 = d if d is not None else (-1, -1)
    return LocusTable(starts, copies, i1, i2)


def _complete_bits(values: np.ndarray, layout: Layout) -> np.ndarray:
    """Per row, a bit per column that is typed in full (value or null; DYS389 a value)."""
    n_cols = layout.n_columns
    if n_cols > 64:
        raise ValueError("layouts of more than 64 columns are not supported by the index")
    d = layout.dys389
    strict = set(d) if d is not None else set()
    out = np.zeros(values.shape[1], dtype=np.uint64)
    step = 1 << 20
    for lo in range(0, values.shape[1], step):
        chunk = values[:, lo : lo + step]
        acc = np.zeros(chunk.shape[1], dtype=np.uint64)
        for c in range(n_cols):
            v = chunk[c]
            ok = v >= 0 if c in strict else (v >= 0) | (v == -2)
            acc |= ok.astype(np.uint64) << np.uint64(c)
        out[lo : lo + step] = acc
    return out


def _mask_of(cols: Sequence[int]) -> np.uint64:
    m = 0
    for c in cols:
        m |= 1 << int(c)
    return np.uint64(m)


def _choose_index_kit(layout: Layout, bits: np.ndarray) -> tuple[str | None, list[int]]:
    """The kit with most columns among those typed in full by >= 90 % of rows."""
    catalog = default_catalog()
    best: tuple[int, float, str | None, list[int]] = (0, 0.0, None, [])
    n = max(len(bits), 1)
    for kit_id in _INDEX_KITS:
        try:
            kit = catalog.kit(kit_id)
        except KeyError:
            continue
        if not all(locus in layout.loci for locus in kit.loci):
            continue
        cols = sorted(c for locus in kit.loci for c in range(*_span(layout, locus)))
        mask = _mask_of(cols)
        share = float(np.count_nonzero((bits & mask) == mask)) / n
        if share >= 0.9 and (len(cols), share) > (best[0], best[1]):
            best = (len(cols), share, kit.id, cols)
    if best[2] is None:  # no kit fits: no hashed columns, every query scans
        return None, []
    return best[2], best[3]


def _span(layout: Layout, locus: str) -> tuple[int, int]:
    sl = layout.slice_of(locus)
    return sl.start, sl.stop


def _blocks_of(layout: Layout, cols: list[int], n_blocks: int) -> list[list[int]]:
    """Split the index columns into blocks of whole loci, balanced by column count."""
    loci: list[list[int]] = []
    for c in cols:
        if loci and layout.columns[loci[-1][0]][0] == layout.columns[c][0]:
            loci[-1].append(c)
        else:
            loci.append([c])
    blocks: list[list[int]] = [[] for _ in range(min(n_blocks, len(loci)))]
    for i, group in enumerate(loci):
        blocks[i % len(blocks)].extend(group)
    return [sorted(b) for b in blocks]


def hash_cols(values: np.ndarray, layout: Layout, cols: list[int] | np.ndarray) -> np.ndarray:
    """Row hashes over ``cols``; DYS389II always as II − I (the index columns hold DYS389I
    whenever they hold DYS389II, and hashed rows have values in both), so that a block
    agrees exactly when :func:`~patriline.haplotype.compare` finds no mismatch in it."""
    cols_arr = np.asarray(cols, dtype=np.int64)
    d = layout.dys389
    seg_pos = -1
    if d is not None and d[1] in set(cols_arr.tolist()):
        seg_pos = int(np.flatnonzero(cols_arr == d[1])[0])
    i1 = d[0] if d is not None else -1
    return hash_rows(values, cols_arr, seg_pos, i1, _HASH_SEED)


def column_frequencies(values: np.ndarray) -> np.ndarray:
    """Share of each value (0..1023 tenths) per column, over an even sample of rows."""
    n = values.shape[1]
    out = np.zeros((values.shape[0], FREQ_BINS), dtype=np.float32)
    if n == 0:
        return out
    rows = np.linspace(0, n - 1, min(n, _FREQ_SAMPLE)).astype(np.int64)
    sample = np.asarray(values[:, rows])
    for c in range(values.shape[0]):
        v = sample[c]
        v = v[(v >= 0) & (v < FREQ_BINS)]
        out[c] = np.bincount(v, minlength=FREQ_BINS)[:FREQ_BINS] / len(rows)
    return out


def build_parts(
    ids: Sequence[str] | np.ndarray,
    encoded: Encoded,
    *,
    index_kit: str | None,
    n_blocks: int,
    seq: int,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The manifest and arrays of a new index (see :meth:`SearchIndex.build`)."""
    layout = encoded.layout
    if len(ids) != encoded.n_rows:
        raise ValueError(f"{len(ids)} ids for {encoded.n_rows} rows")
    if isinstance(ids, np.ndarray) and ids.dtype.kind == "S":
        id_arr = ids  # UTF-8 bytes already (large inputs)
    else:
        id_arr = np.array([s.encode() for s in ids] if len(ids) else [], dtype="S")
    if len(id_arr) and not bool(np.all(id_arr[1:] > id_arr[:-1])):
        order = np.argsort(id_arr, kind="stable")
        id_arr = id_arr[order]
        if len(id_arr) > 1 and not bool(np.all(id_arr[1:] > id_arr[:-1])):
            dup = id_arr[1:][id_arr[1:] == id_arr[:-1]][0].decode()
            raise InputError(f"specimen {dup!r} appears twice in the index input")
        values = np.ascontiguousarray(encoded.values[:, order])
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        extras = {(int(inverse[r]), loc): a for (r, loc), a in encoded.extras.items()}
    else:
        values = np.ascontiguousarray(encoded.values)
        extras = dict(encoded.extras)
    bits = _complete_bits(values, layout)
    if index_kit is not None:
        kit = default_catalog().kit(index_kit)
        cols = sorted(c for locus in kit.loci for c in range(*_span(layout, locus)))
        kit_id: str | None = kit.id
    else:
        kit_id, cols = _choose_index_kit(layout, bits)
    d = layout.dys389
    if d is not None and d[1] in cols and d[0] not in cols:
        cols = [c for c in cols if c != d[1]]  # DYS389II is hashed on II − I only
    blocks = _blocks_of(layout, cols, n_blocks) if cols else []
    complete = (bits & _mask_of(cols)) == _mask_of(cols) if cols else np.zeros(len(bits), bool)
    residual = np.flatnonzero(~complete).astype(np.int64)
    full_rows = np.flatnonzero(complete).astype(np.int32)
    arrays: dict[str, np.ndarray] = {
        "ids": id_arr,
        "values": values,
        "alive": np.ones(values.shape[1], dtype=np.uint8),
        "residual": residual,
        "col_freq": column_frequencies(values),
    }
    sub = values[:, full_rows] if len(full_rows) < values.shape[1] else values
    for name, bcols in [("exact", cols), *[(f"block{b}", bl) for b, bl in enumerate(blocks)]]:
        h = hash_cols(sub, layout, bcols)
        order = np.argsort(h, kind="stable")
        arrays[f"{name}_hash"] = h[order]
        arrays[f"{name}_rows"] = full_rows[order]
    manifest = {
        "format": FORMAT_VERSION,
        "layout": layout.to_json(),
        "count": int(values.shape[1]),
        "seq": int(seq),
        "built_seq": int(seq),
        "index_kit": kit_id,
        "index_cols": [int(c) for c in cols],
        "blocks": [[int(c) for c in b] for b in blocks],
        "extras": extras_to_json(extras),
    }
    return manifest, arrays
