"""Numba kernels: the full column-wise scan of the search engine (no API here).

Comparison rules and the meaning of flagged rows: :mod:`._distance_kernels`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from patriline.search._distance_kernels import BIG, diff_cost, locus_cost, two_copy_cost

#: Rows per block of the full scan (small, so that blocks with no candidate stop early).
SCAN_BLOCK = 512
#: Rows per parallel task of the full scan (a multiple of SCAN_BLOCK).
SCAN_CHUNK = 64 * SCAN_BLOCK


class ScanPlan(NamedTuple):
    """What the full scan compares for one query, and the bounds (see :func:`scan_mask`)."""

    simple_cols: np.ndarray
    pair_starts: np.ndarray
    other_starts: np.ndarray
    other_copies: np.ndarray
    seg_i1: int
    seg_i2: int
    min_loci: int
    max_mism: int
    max_steps: int


@njit(cache=True)
def _scan_block(
    values: np.ndarray,
    alive: np.ndarray,
    q: np.ndarray,
    plan: ScanPlan,
    out: np.ndarray,
    pos: int,
    lo: int,
    hi: int,
    comp: np.ndarray,
    mism: np.ndarray,
    steps: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
) -> int:
    """Scan rows ``lo:hi``; write the passing rows at ``out[pos:]``; return how many."""
    simple_cols = plan.simple_cols
    pair_starts = plan.pair_starts
    other_starts = plan.other_starts
    other_copies = plan.other_copies
    seg_i1 = plan.seg_i1
    seg_i2 = plan.seg_i2
    max_mism = plan.max_mism
    max_steps = plan.max_steps
    m = hi - lo
    bounded = max_mism < BIG or max_steps < BIG
    cap_m = np.int16(min(max_mism, 30000))
    cap_s = np.int16(min(max_steps, 30000))
    for t in range(m):
        comp[t] = 0
        mism[t] = 0
        steps[t] = 0
    for k in range(simple_cols.shape[0]):
        col = values[simple_cols[k]]
        v = np.int16(q[simple_cols[k]])
        # Branch-free int16 form of diff_cost (vectorises); null and EXTRA cost 1.
        for t in range(m):
            a = col[lo + t]
            isval = np.int16(a >= 0)
            bad = np.int16((a == -2) | (a == -4))
            d = np.int16(np.int16(abs(np.int16(a - v))) * isval)
            comp[t] = np.int16(comp[t] + (isval | bad))
            mism[t] = np.int16(mism[t] + (np.int16(d > 0) | bad))
            steps[t] = np.int16(steps[t] + np.int16((d + 9) // 10) + bad)
        if bounded and k >= 3 and k % 2 == 1:
            # Counts only grow: once no row of the block is within the bounds, stop.
            live = np.int32(0)
            for t in range(m):
                live += np.int32(mism[t] <= cap_m) & np.int32(steps[t] <= cap_s)
            if live == 0:
                return 0
    for k in range(pair_starts.shape[0]):
        s = pair_starts[k]
        x0 = np.int32(q[s])
        x1 = np.int32(q[s + 1])
        c0 = values[s]
        c1 = values[s + 1]
        for t in range(m):
            y0 = np.int32(c0[lo + t])
            y1 = np.int32(c1[lo + t])
            if y0 >= 0 and y1 >= 0:
                mm, ss = two_copy_cost(x0, x1, y0, y1)
                comp[t] += 2
                mism[t] += mm
                steps[t] += ss
            else:
                bx[0] = x0
                bx[1] = x1
                by[0] = y0
                by[1] = y1
                a, mm, ss, _f = locus_cost(bx, by, 2)
                comp[t] += a
                mism[t] += mm
                steps[t] += ss
    if seg_i1 >= 0:
        qseg = np.int32(q[seg_i2]) - np.int32(q[seg_i1])
        q2 = np.int32(q[seg_i2])
        ca = values[seg_i1]
        cb = values[seg_i2]
        for t in range(m):
            r1 = np.int32(ca[lo + t])
            r2 = np.int32(cb[lo + t])
            if r2 >= 0:
                # On the segment when the row has both parts, else on DYS389II itself.
                mm, ss = diff_cost(abs(qseg - (r2 - r1)) if r1 >= 0 else abs(q2 - r2))
                comp[t] += 1
                mism[t] += mm
                steps[t] += ss
            elif r2 == -2 or r2 == -4:
                comp[t] += 1
                mism[t] += 1
                steps[t] += 1
    for k in range(other_starts.shape[0]):
        s = other_starts[k]
        c = other_copies[k]
        for j in range(c):
            bx[j] = q[s + j]
        for t in range(m):
            for j in range(c):
                by[j] = values[s + j, lo + t]
            a, mm, ss, _f = locus_cost(bx, by, c)
            comp[t] += a
            mism[t] += mm
            steps[t] += ss
    n_out = 0
    for t in range(m):
        if (
            comp[t] >= plan.min_loci
            and mism[t] <= max_mism
            and steps[t] <= max_steps
            and alive[lo + t] != 0
        ):
            out[pos + n_out] = lo + t
            n_out += 1
    return n_out


@njit(parallel=True, cache=True)
def scan_mask(
    values: np.ndarray,
    alive: np.ndarray,
    q: np.ndarray,
    plan: ScanPlan,
    out: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Full column-wise scan for the rows that may be within the bounds.

    Rows are taken in chunks of ``SCAN_CHUNK`` rows; chunk ``c`` writes its passing rows
    at ``out[c * SCAN_CHUNK:]`` and their number at ``counts[c]`` (no pass over a mask).

    In ``plan``, ``simple_cols`` are single-copy columns where the query has a value
    (scanned with a branch-free, vectorisable ``int16`` loop); ``pair_starts`` two-copy
    loci where the query has two values; ``other_*`` every other locus the query has
    typed (generic path). When ``seg_i1 >= 0`` the query has values at DYS389I and
    DYS389II (column ``seg_i2``, not listed elsewhere) and DYS389II is compared on the
    segment where the row allows. Rows flagged by :func:`locus_cost` pass on bounds (the
    caller re-checks them). Blocks of ``SCAN_BLOCK`` rows stop early once no row can be
    within bounds.
    """
    n = values.shape[1]
    nchunks = (n + SCAN_CHUNK - 1) // SCAN_CHUNK
    for ch in prange(nchunks):
        comp = np.empty(SCAN_BLOCK, dtype=np.int16)
        mism = np.empty(SCAN_BLOCK, dtype=np.int16)
        steps = np.empty(SCAN_BLOCK, dtype=np.int16)
        bx = np.empty(3, dtype=np.int64)
        by = np.empty(3, dtype=np.int64)
        pos = ch * SCAN_CHUNK
        end = min(n, pos + SCAN_CHUNK)
        written = 0
        for lo in range(pos, end, SCAN_BLOCK):
            hi = min(end, lo + SCAN_BLOCK)
            written += _scan_block(
                values, alive, q, plan, out, pos + written, lo, hi, comp, mism, steps, bx, by
            )
        counts[ch] = written
