"""Query plans of a :class:`~patriline.search.index.SearchIndex`: which base rows a query
verifies (exact hash, pigeonhole blocks or the full scan; see the index module docstring).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from patriline.search._distance_kernels import BIG
from patriline.search._index_build import FREQ_BINS, hash_cols
from patriline.search._scan_kernels import SCAN_CHUNK, ScanPlan, scan_mask

if TYPE_CHECKING:
    from patriline.search.index import SearchIndex


def candidates(
    index: SearchIndex, q: np.ndarray, k: int, min_loci: int, mm: int, ms: int
) -> tuple[str, np.ndarray]:
    """Base rows to verify for encoded query ``q``, and the plan that chose them.

    ``k`` is the number of mismatches the hash indexes must allow (``min(mm, ms)``).
    """
    n_base = index.values.shape[1]
    if n_base == 0:
        return "empty", np.empty(0, dtype=np.int64)
    if _query_complete(index, q) and (k == 0 or k < len(index.blocks)):
        qm = q.reshape(-1, 1)
        if k == 0:
            found = [
                _lookup(
                    index.exact_hash,
                    index.exact_rows,
                    hash_cols(qm, index.layout, list(index.index_cols))[0],
                )
            ]
            plan = "exact-hash"
        else:
            found = [
                _lookup(
                    index.block_hash[b],
                    index.block_rows[b],
                    hash_cols(qm, index.layout, list(bc))[0],
                )
                for b, bc in enumerate(index.blocks)
            ]
            found = sorted(found, key=len)[: k + 1]
            plan = "pigeonhole"
        rows = np.unique(np.concatenate([*found, index.residual]).astype(np.int64))
        return plan, rows[index.alive[rows] != 0]
    return "full-scan", full_scan(index, q, min_loci, mm, ms)


def full_scan(index: SearchIndex, q: np.ndarray, min_loci: int, mm: int, ms: int) -> np.ndarray:
    """Active base rows that may be within the bounds (the scan kernel, no hash index)."""
    loci = index.locus_table
    simple: list[int] = []
    pairs: list[int] = []
    other_s: list[int] = []
    other_c: list[int] = []
    seg = loci.i1 >= 0 and q[loci.i1] >= 0 and q[loci.i2] >= 0
    for start, c in zip(loci.starts.tolist(), loci.copies.tolist(), strict=True):
        first = int(q[start])
        if first in (-1, -3):
            continue
        if seg and start == loci.i2:
            continue
        if c == 1 and first >= 0:
            simple.append(start)
        elif c == 2 and first >= 0 and int(q[start + 1]) >= 0:
            pairs.append(start)
        else:
            other_s.append(start)
            other_c.append(c)
    # Columns where the query's value is rarest first: unrelated blocks stop sooner.
    simple.sort(key=lambda c: (_value_share(index, c, int(q[c])), c))
    plan = ScanPlan(
        np.array(simple, dtype=np.int64),
        np.array(pairs, dtype=np.int64),
        np.array(other_s, dtype=np.int64),
        np.array(other_c, dtype=np.int64),
        loci.i1 if seg else -1,
        loci.i2 if seg else -1,
        min_loci,
        min(mm, BIG),
        min(ms, BIG),
    )
    n = index.values.shape[1]
    out = np.empty(n, dtype=np.int64)
    counts = np.zeros((n + SCAN_CHUNK - 1) // SCAN_CHUNK, dtype=np.int64)
    scan_mask(index.values, index.alive, q, plan, out, counts)
    parts = [
        out[c * SCAN_CHUNK : c * SCAN_CHUNK + int(k)] for c, k in enumerate(counts.tolist()) if k
    ]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _query_complete(index: SearchIndex, q: np.ndarray) -> bool:
    """Whether the query is typed in full on the index columns (so the hashes apply)."""
    if len(index.index_cols) == 0:
        return False
    v = q[index.index_cols]
    ok = (v >= 0) | (v == -2)
    strict = np.isin(index.index_cols, [index.locus_table.i1, index.locus_table.i2])
    return bool(np.all(ok & (~strict | (v >= 0))))


def _value_share(index: SearchIndex, column: int, value: int) -> float:
    """Share of (sampled) rows holding ``value`` in ``column``."""
    if index.col_freq.size == 0 or not 0 <= value < FREQ_BINS:
        return 0.0
    return float(index.col_freq[column, value])


def _lookup(hashes: np.ndarray, rows: np.ndarray, key: np.uint64) -> np.ndarray:
    lo = int(np.searchsorted(hashes, key, side="left"))
    hi = int(np.searchsorted(hashes, key, side="right"))
    return np.asarray(rows[lo:hi], dtype=np.int64)
