"""Numba kernels: all-vs-all pairs from pigeonhole groups (no API here)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from patriline.search._distance_kernels import LocusTable, row_distance


@njit(cache=True)
def _group_pairs(
    rows_major: np.ndarray,
    order: np.ndarray,
    lo: int,
    hi: int,
    hashes: np.ndarray,
    b: int,
    loci: LocusTable,
    min_loci: int,
    max_mism: int,
    out: np.ndarray,
    keep: np.ndarray,
    pos: int,
) -> None:
    bx = np.empty(3, dtype=np.int64)
    by = np.empty(3, dtype=np.int64)
    for u in range(lo, hi):
        i = order[u]
        for w in range(u + 1, hi):
            j = order[w]
            keep[pos] = 0
            earlier = False
            for e in range(b):
                if hashes[e, i] == hashes[e, j]:
                    earlier = True
                    break
            if not earlier:
                a, m, s, f = row_distance(rows_major[i], rows_major[j], loci, bx, by)
                if a >= min_loci and m <= max_mism:
                    keep[pos] = 1
                    out[pos, 0] = min(i, j)
                    out[pos, 1] = max(i, j)
                    out[pos, 2] = a
                    out[pos, 3] = m
                    out[pos, 4] = s
                    out[pos, 5] = f
            pos += 1


@njit(parallel=True, cache=True)
def _block_pairs_all(
    rows_major: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    offsets: np.ndarray,
    hashes: np.ndarray,
    b: int,
    loci: LocusTable,
    min_loci: int,
    max_mism: int,
    out: np.ndarray,
    keep: np.ndarray,
) -> None:
    for g in prange(starts.shape[0]):
        _group_pairs(
            rows_major, order, starts[g], ends[g], hashes, b, loci, min_loci, max_mism,
            out, keep, offsets[g],
        )  # fmt: skip


def block_pairs(
    rows_major: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    hashes: np.ndarray,
    b: int,
    loci: LocusTable,
    min_loci: int,
    max_mism: int,
) -> np.ndarray:
    """Pairs within ``max_mism`` among rows sharing block ``b``'s hash.

    ``order[starts[g]:ends[g]]`` are the rows of group ``g`` (equal hash of block ``b``).
    A pair that also agrees on an earlier block was reported there and is skipped, so
    each pair comes out once. Every candidate pair is compared once, into a slot of its
    group; returns the kept ``(i, j, compared, mismatches, steps, flag)`` rows (int32).
    """
    sizes = (ends - starts).astype(np.int64)
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes * (sizes - 1) // 2, out=offsets[1:])
    total = int(offsets[-1])
    out = np.empty((total, 6), dtype=np.int32)
    keep = np.zeros(total, dtype=np.uint8)
    _block_pairs_all(
        rows_major, order, starts, ends, offsets[:-1], hashes, b, loci, min_loci, max_mism,
        out, keep,
    )  # fmt: skip
    return out[keep.view(bool)]
