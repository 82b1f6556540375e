"""Numba kernels of the search engine (no API here: see :mod:`patriline.search.index`).

Every kernel follows the comparison rules of :func:`patriline.haplotype.compare` as the
encoding docstring restates them for columns (:mod:`patriline.encoding`):

* a locus is skipped when either side is MISSING (-1) or OFF_LADDER (-3);
* EXTRA (-4, a duplication) against EXTRA is counted as equal and *flagged* (the caller
  re-checks flagged rows with :func:`~patriline.haplotype.compare`); EXTRA against
  anything else is ``copies`` mismatches and steps;
* copies pair up so as to minimise (steps, mismatches); where two pairings tie but
  compare a different number of copies (a partial multi-copy allele, e.g. two values at
  the three-copy DYF399S1), the larger count is returned and the row is flagged;
* DYS389II is compared on ``II - I`` when both rows have values at both parts.

Counts returned for unflagged rows are exact; for flagged rows they are bounds that
never exclude a true hit (fewer or equal mismatches and steps, more or equal copies
compared), so filtering on them and then re-checking flagged rows is exact.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

BLOCK = 4096
#: Rows per block of the full scan (small, so that blocks with no candidate stop early).
SCAN_BLOCK = 512
#: Rows per parallel task of the full scan (a multiple of SCAN_BLOCK).
SCAN_CHUNK = 64 * SCAN_BLOCK
BIG = 1 << 30

# Permutations of up to three copies, in itertools order, padded to three.
_PERMS = np.array(
    [
        [[0, 1, 2]] * 6,
        [[0, 1, 2]] * 6,
        [[0, 1, 2], [1, 0, 2]] + [[0, 1, 2]] * 4,
        [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]],
    ],
    dtype=np.int64,
)
_NPERMS = np.array([1, 1, 2, 6], dtype=np.int64)


@njit(cache=True, inline="always")
def _pair(x: int, y: int) -> tuple[int, int, int]:
    """(compared, mismatches, steps) of two copies; -1 is an absent copy, -2 null."""
    if x == -1 or y == -1:
        return 0, 0, 0
    if x == -2 or y == -2:
        if x == y:
            return 1, 0, 0
        return 1, 1, 1
    d = abs(x - y)
    if d == 0:
        return 1, 0, 0
    return 1, 1, (d + 9) // 10


@njit(cache=True)
def locus_cost(x: np.ndarray, y: np.ndarray, c: int) -> tuple[int, int, int, int]:
    """(compared, mismatches, steps, flag) of one locus with ``c`` copies (``c <= 3``)."""
    ka = int(x[0])
    kb = int(y[0])
    if ka == -1 or ka == -3 or kb == -1 or kb == -3:
        return 0, 0, 0, 0
    if ka == -4 or kb == -4:
        if ka == kb:
            return c, 0, 0, 1
        return c, c, c, 0
    if c == 1:
        a, m, s = _pair(ka, kb)
        return a, m, s, 0
    best_s = BIG
    best_m = BIG
    best_c = -1
    flag = 0
    for p in range(_NPERMS[c]):
        cc = 0
        mm = 0
        ss = 0
        for j in range(c):
            a, m, s = _pair(int(x[j]), int(y[_PERMS[c, p, j]]))
            cc += a
            mm += m
            ss += s
        if ss < best_s or (ss == best_s and mm < best_m):
            best_s = ss
            best_m = mm
            best_c = cc
            flag = 0
        elif ss == best_s and mm == best_m and cc != best_c:
            flag = 1
            if cc > best_c:
                best_c = cc
    return best_c, best_m, best_s, flag


@njit(cache=True)
def row_distance(
    x: np.ndarray,
    y: np.ndarray,
    loc_start: np.ndarray,
    loc_copies: np.ndarray,
    i1: int,
    i2: int,
    bx: np.ndarray,
    by: np.ndarray,
) -> tuple[int, int, int, int]:
    """(compared, mismatches, steps, flag) of two full rows (any stride).

    ``i1``/``i2`` are the DYS389I/DYS389II columns (-1 when absent); ``bx``/``by``
    are scratch buffers of length 3.
    """
    seg = i1 >= 0 and x[i1] >= 0 and x[i2] >= 0 and y[i1] >= 0 and y[i2] >= 0
    comp = 0
    mism = 0
    steps = 0
    flag = 0
    for L in range(loc_start.shape[0]):
        s = loc_start[L]
        c = loc_copies[L]
        if seg and s == i2:
            d = abs((int(x[i2]) - int(x[i1])) - (int(y[i2]) - int(y[i1])))
            comp += 1
            if d > 0:
                mism += 1
                steps += (d + 9) // 10
            continue
        if c == 1:
            u = int(x[s])
            v = int(y[s])
            if u >= 0 and v >= 0:  # fast path: two values
                d = abs(u - v)
                comp += 1
                if d > 0:
                    mism += 1
                    steps += (d + 9) // 10
                continue
        elif c == 2:
            u0 = int(x[s])
            u1 = int(x[s + 1])
            v0 = int(y[s])
            v1 = int(y[s + 1])
            if u0 >= 0 and u1 >= 0 and v0 >= 0 and v1 >= 0:  # fast path: two values each
                d00 = abs(u0 - v0)
                d11 = abs(u1 - v1)
                d01 = abs(u0 - v1)
                d10 = abs(u1 - v0)
                s_id = (d00 + 9) // 10 + (d11 + 9) // 10
                m_id = int(d00 > 0) + int(d11 > 0)
                s_sw = (d01 + 9) // 10 + (d10 + 9) // 10
                m_sw = int(d01 > 0) + int(d10 > 0)
                comp += 2
                if s_sw < s_id or (s_sw == s_id and m_sw < m_id):
                    mism += m_sw
                    steps += s_sw
                else:
                    mism += m_id
                    steps += s_id
                continue
        for j in range(c):
            bx[j] = x[s + j]
            by[j] = y[s + j]
        a, m, st, f = locus_cost(bx, by, c)
        comp += a
        mism += m
        steps += st
        flag |= f
    return comp, mism, steps, flag


@njit(cache=True)
def _rows_distance_into(
    values: np.ndarray,
    rows: np.ndarray,
    q: np.ndarray,
    loc_start: np.ndarray,
    loc_copies: np.ndarray,
    i1: int,
    i2: int,
    out: np.ndarray,
    lo: int,
    hi: int,
) -> None:
    bx = np.empty(3, dtype=np.int64)
    by = np.empty(3, dtype=np.int64)
    for k in range(lo, hi):
        a, m, s, f = row_distance(q, values[:, rows[k]], loc_start, loc_copies, i1, i2, bx, by)
        out[k, 0] = a
        out[k, 1] = m
        out[k, 2] = s
        out[k, 3] = f


@njit(parallel=True, cache=True)
def _rows_distance_parallel(
    values: np.ndarray,
    rows: np.ndarray,
    q: np.ndarray,
    loc_start: np.ndarray,
    loc_copies: np.ndarray,
    i1: int,
    i2: int,
    out: np.ndarray,
) -> None:
    n = rows.shape[0]
    nchunks = (n + 1023) // 1024
    for c in prange(nchunks):
        _rows_distance_into(
            values, rows, q, loc_start, loc_copies, i1, i2, out, c * 1024, min(n, c * 1024 + 1024)
        )


def rows_distance(
    values: np.ndarray,
    rows: np.ndarray,
    q: np.ndarray,
    loc_start: np.ndarray,
    loc_copies: np.ndarray,
    i1: int,
    i2: int,
) -> np.ndarray:
    """``out[k] = (compared, mismatches, steps, flag)`` of query ``q`` and row ``rows[k]``.

    Few rows run on one thread (waking the thread pool costs more than the work).
    """
    n = rows.shape[0]
    out = np.empty((n, 4), dtype=np.int32)
    if n == 0:
        return out
    if n < 4096:
        _rows_distance_into(values, rows, q, loc_start, loc_copies, i1, i2, out, 0, n)
    else:
        _rows_distance_parallel(values, rows, q, loc_start, loc_copies, i1, i2, out)
    return out


@njit(cache=True)
def _scan_block(
    values: np.ndarray,
    alive: np.ndarray,
    q: np.ndarray,
    simple_cols: np.ndarray,
    pair_starts: np.ndarray,
    other_starts: np.ndarray,
    other_copies: np.ndarray,
    seg_i1: int,
    seg_i2: int,
    min_loci: int,
    max_mism: int,
    max_steps: int,
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
                d00 = abs(x0 - y0)
                d11 = abs(x1 - y1)
                d01 = abs(x0 - y1)
                d10 = abs(x1 - y0)
                s_id = (d00 + 9) // 10 + (d11 + 9) // 10
                m_id = np.int32(d00 > 0) + np.int32(d11 > 0)
                s_sw = (d01 + 9) // 10 + (d10 + 9) // 10
                m_sw = np.int32(d01 > 0) + np.int32(d10 > 0)
                comp[t] += 2
                if s_sw < s_id or (s_sw == s_id and m_sw < m_id):
                    mism[t] += m_sw
                    steps[t] += s_sw
                else:
                    mism[t] += m_id
                    steps[t] += s_id
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
            if r1 >= 0 and r2 >= 0:
                dd = abs(qseg - (r2 - r1))
                comp[t] += 1
                mism[t] += np.int32(dd > 0)
                steps[t] += (dd + 9) // 10
            elif r2 >= 0:
                dd = abs(q2 - r2)
                comp[t] += 1
                mism[t] += np.int32(dd > 0)
                steps[t] += (dd + 9) // 10
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
            comp[t] >= min_loci
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
    simple_cols: np.ndarray,
    pair_starts: np.ndarray,
    other_starts: np.ndarray,
    other_copies: np.ndarray,
    seg_i1: int,
    seg_i2: int,
    min_loci: int,
    max_mism: int,
    max_steps: int,
    out: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Full column-wise scan for the rows that may be within the bounds.

    Rows are taken in chunks of ``SCAN_CHUNK`` rows; chunk ``c`` writes its passing rows
    at ``out[c * SCAN_CHUNK:]`` and their number at ``counts[c]`` (no pass over a mask).

    ``simple_cols`` are single-copy columns where the query has a value (scanned with a
    branch-free, vectorisable ``int16`` loop); ``pair_starts`` two-copy loci where the
    query has two values; ``other_*`` every other locus the query has typed (generic
    path). When ``seg_i1 >= 0`` the query has values at DYS389I and DYS389II (column
    ``seg_i2``, not listed elsewhere) and DYS389II is compared on the segment where the
    row allows. Rows flagged by :func:`locus_cost` pass on bounds (the caller re-checks
    them). Blocks of ``SCAN_BLOCK`` rows stop early once no row can be within bounds.
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
            written += _scan_block(
                values, alive, q, simple_cols, pair_starts, other_starts, other_copies,
                seg_i1, seg_i2, min_loci, max_mism, max_steps, out, pos + written,
                lo, min(end, lo + SCAN_BLOCK), comp, mism, steps, bx, by,
            )  # fmt: skip
        counts[ch] = written


# --------------------------------------------------------------------------------------
# Hashing (exact and pigeonhole indexes)
# --------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _mix(z: np.uint64) -> np.uint64:
    """splitmix64 finaliser (Steele, Lea & Flood 2014)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _hash_row(
    values: np.ndarray, r: int, cols: np.ndarray, seg_pos: int, seg_i1: int, seed: int
) -> np.uint64:
    golden = np.uint64(0x9E3779B97F4A7C15)
    h = _mix(np.uint64(seed) + golden)
    for k in range(cols.shape[0]):
        v = np.int64(values[cols[k], r])
        if k == seg_pos:
            v = v - np.int64(values[seg_i1, r]) + 100000
        h = _mix(h + np.uint64(v + 1048576) + golden)
    return h


@njit(parallel=True, cache=True)
def _hash_rows_parallel(
    values: np.ndarray, cols: np.ndarray, seg_pos: int, seg_i1: int, seed: int, out: np.ndarray
) -> None:
    for r in prange(values.shape[1]):
        out[r] = _hash_row(values, r, cols, seg_pos, seg_i1, seed)


@njit(cache=True)
def _hash_rows_serial(
    values: np.ndarray, cols: np.ndarray, seg_pos: int, seg_i1: int, seed: int, out: np.ndarray
) -> None:
    for r in range(values.shape[1]):
        out[r] = _hash_row(values, r, cols, seg_pos, seg_i1, seed)


def hash_rows(
    values: np.ndarray, cols: np.ndarray, seg_pos: int, seg_i1: int, seed: int
) -> np.ndarray:
    """64-bit hash of each row over ``cols``; ``cols[seg_pos]`` (DYS389II) hashed as II − I."""
    out = np.empty(values.shape[1], dtype=np.uint64)
    if values.shape[1] < 4096:
        _hash_rows_serial(values, cols, seg_pos, seg_i1, seed, out)
    else:
        _hash_rows_parallel(values, cols, seg_pos, seg_i1, seed, out)
    return out


# --------------------------------------------------------------------------------------
# All-vs-all pairs from pigeonhole groups
# --------------------------------------------------------------------------------------


@njit(cache=True)
def _group_pairs(
    rows_major: np.ndarray,
    order: np.ndarray,
    lo: int,
    hi: int,
    hashes: np.ndarray,
    b: int,
    loc_start: np.ndarray,
    loc_copies: np.ndarray,
    i1: int,
    i2: int,
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
                a, m, s, f = row_distance(
                    rows_major[i], rows_major[j], loc_start, loc_copies, i1, i2, bx, by
                )
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
    loc_start: np.ndarray,
    loc_copies: np.ndarray,
    i1: int,
    i2: int,
    min_loci: int,
    max_mism: int,
    out: np.ndarray,
    keep: np.ndarray,
) -> None:
    for g in prange(starts.shape[0]):
        _group_pairs(
            rows_major, order, starts[g], ends[g], hashes, b, loc_start, loc_copies,
            i1, i2, min_loci, max_mism, out, keep, offsets[g],
        )  # fmt: skip


def block_pairs(
    rows_major: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    hashes: np.ndarray,
    b: int,
    loc_start: np.ndarray,
    loc_copies: np.ndarray,
    i1: int,
    i2: int,
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
        rows_major, order, starts, ends, offsets[:-1], hashes, b, loc_start, loc_copies,
        i1, i2, min_loci, max_mism, out, keep,
    )  # fmt: skip
    return out[keep.view(bool)]
