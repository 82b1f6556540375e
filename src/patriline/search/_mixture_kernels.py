"""Numba kernel of the mixture inclusion scan (no API here: see :mod:`.mixture`).

Values are the encoded matrix ``(n_columns, n_rows)``. ``allowed[g, v]`` says whether the
value ``v`` (tenths, ``0 <= v < NULL_SLOT``) is one of the mixture's alleles at the
``g``-th mixture locus; ``allowed[g, NULL_SLOT]`` whether null is. Rows are scanned in
blocks; for each mixture locus (fewest alleles first) only the rows of the block that
can still pass are looked at, so the work falls with every locus.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: Table width: values (tenths) below NULL_SLOT, and null at NULL_SLOT.
MAX_VALUE = 1024
NULL_SLOT = MAX_VALUE - 1
#: Rows per block.
BLOCK = 4096


#: Mixture loci scanned over every row of a block (branch-free, vectorised) before the
#: block is narrowed to the rows that can still pass.
DENSE_LOCI = 3


@njit(cache=True)
def _block(
    values: np.ndarray,
    cols: np.ndarray,
    starts: np.ndarray,
    allowed: np.ndarray,
    max_excluded: int,
    lo: int,
    hi: int,
    excluded: np.ndarray,
    compared: np.ndarray,
    flagged: np.ndarray,
) -> None:
    """Rows ``lo:hi``: the first loci over every row, then only over the rows that can
    still pass (most rows of a database fail within a few loci of a mixture), so the
    others' ``compared`` counts stop where they failed."""
    m = hi - lo
    exc = np.zeros(m, dtype=np.int32)
    comp = np.zeros(m, dtype=np.int32)
    flag = np.zeros(m, dtype=np.int32)
    bad = np.zeros(m, dtype=np.int32)
    n_groups = starts.shape[0] - 1
    dense = min(DENSE_LOCI, n_groups)
    for g in range(dense):
        allow = allowed[g]
        bad[:] = 0
        for k in range(starts[g], starts[g + 1]):
            col = values[cols[k], lo:hi]
            for t in range(m):
                v = np.int32(col[t])
                typed = np.int32((v >= 0) | (v == -2))
                idx = min(v, NULL_SLOT - 1) if v >= 0 else NULL_SLOT
                bad[t] |= typed & np.int32(allow[idx] == 0)
                comp[t] += typed
                flag[t] |= np.int32(v == -4)
        for t in range(m):
            exc[t] += bad[t]
    bad[:] = 0
    live = np.empty(m, dtype=np.int32)
    n_live = 0
    for t in range(m):
        if exc[t] <= max_excluded or flag[t]:
            live[n_live] = t
            n_live += 1
    for g in range(dense, n_groups):
        if n_live == 0:
            break
        allow = allowed[g]
        for k in range(starts[g], starts[g + 1]):
            col = values[cols[k]]
            for j in range(n_live):
                t = live[j]
                v = np.int32(col[lo + t])
                if v >= 0:
                    comp[t] += 1
                    if allow[min(v, NULL_SLOT - 1)] == 0:
                        bad[t] = 1
                elif v == -2:
                    comp[t] += 1
                    if allow[NULL_SLOT] == 0:
                        bad[t] = 1
                elif v == -4:
                    flag[t] = 1
        kept = 0
        for j in range(n_live):
            t = live[j]
            exc[t] += bad[t]
            bad[t] = 0
            if exc[t] <= max_excluded or flag[t]:
                live[kept] = t
                kept += 1
        n_live = kept
    for t in range(m):
        excluded[lo + t] = exc[t]
        compared[lo + t] = comp[t]
        flagged[lo + t] = flag[t]


@njit(parallel=True, cache=True)
def inclusion_scan(
    values: np.ndarray,
    cols: np.ndarray,
    starts: np.ndarray,
    allowed: np.ndarray,
    max_excluded: int,
    min_compared: int,
) -> np.ndarray:
    """Row indexes that may be included: at most ``max_excluded`` excluded mixture loci
    over at least ``min_compared`` locus copies, or holding a duplication (to be checked
    exactly by the caller)."""
    n = values.shape[1]
    excluded = np.empty(n, dtype=np.int16)
    compared = np.empty(n, dtype=np.int16)
    flagged = np.empty(n, dtype=np.uint8)
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in prange(n_blocks):
        lo = b * BLOCK
        _block(values, cols, starts, allowed, max_excluded, lo, min(n, lo + BLOCK),
               excluded, compared, flagged)  # fmt: skip
    keep = np.zeros(n, dtype=np.bool_)
    for i in prange(n):
        keep[i] = (excluded[i] <= max_excluded and compared[i] >= min_compared) or flagged[i] == 1
    return np.flatnonzero(keep)
