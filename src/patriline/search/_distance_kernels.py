"""Numba kernels: comparison counts of two encoded rows (no API here).

Every kernel of the search engine follows the comparison rules of
:func:`patriline.haplotype.compare` as the encoding docstring restates them for columns
(:mod:`patriline.encoding`):

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

:func:`row_mismatches` is the value-only (no sentinels) mismatch count with an early
exit, for the simulator's reach analysis.

The full scan is in :mod:`._scan_kernels`, hashing in :mod:`._hash_kernels`, all-vs-all
pairs in :mod:`._pair_kernels`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

#: Fewer rows than this run on one thread (waking the thread pool costs more).
SERIAL_MAX = 4096
#: "No bound" for mismatches and steps.
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


class LocusTable(NamedTuple):
    """Where each locus of a layout sits: first column, copies, DYS389I/II columns (-1)."""

    starts: np.ndarray
    copies: np.ndarray
    i1: int
    i2: int


@njit(cache=True, inline="always")
def diff_cost(d):
    """(mismatches, steps) of two values ``d >= 0`` tenths apart (an intermediate
    allele's part-repeat counts as one step)."""
    return np.int32(d > 0), (d + 9) // 10


@njit(cache=True, inline="always")
def dys389_segmented(x, y, i1: int, i2: int) -> bool:
    """Whether DYS389II is compared on ``II - I``: the layout has both parts (``i1 >= 0``)
    and both rows have values at both.

    Branch-free (``&``, not ``and``): with short-circuit branches here the reach's
    all-pairs loops ran 3.4x slower (measured; numba/LLVM codegen). With
    ``i1 == i2 == -1`` the reads are of the last column, and the result is False.
    """
    return (i1 >= 0) & (x[i1] >= 0) & (x[i2] >= 0) & (y[i1] >= 0) & (y[i2] >= 0)


@njit(cache=True, inline="always")
def segment_cost(x, y, i1: int, i2: int):
    """(mismatches, steps) of DYS389II compared on its ``II - I`` segment."""
    return diff_cost(abs((int(x[i2]) - int(x[i1])) - (int(y[i2]) - int(y[i1]))))


@njit(cache=True, inline="always")
def two_copy_cost(x0, x1, y0, y1):
    """(mismatches, steps) of two two-copy loci with values at both copies, copies
    paired as they are or swapped, whichever has fewer (steps, mismatches)."""
    m00, s00 = diff_cost(abs(x0 - y0))
    m11, s11 = diff_cost(abs(x1 - y1))
    m01, s01 = diff_cost(abs(x0 - y1))
    m10, s10 = diff_cost(abs(x1 - y0))
    s_id = s00 + s11
    m_id = m00 + m11
    s_sw = s01 + s10
    m_sw = m01 + m10
    if s_sw < s_id or (s_sw == s_id and m_sw < m_id):
        return m_sw, s_sw
    return m_id, s_id


@njit(cache=True, inline="always")
def three_copy_cost(x0, x1, x2, y0, y1, y2):
    """(mismatches, steps) of two three-copy loci with values at every copy, under the
    pairing of copies with fewest (steps, mismatches), as :func:`locus_cost` pairs them.

    The value-only counterpart of :func:`locus_cost` for three copies, as
    :func:`two_copy_cost` is for two: straight-line code (the six pairings written out),
    as copying into buffers and calling :func:`locus_cost` made the reach's all-pairs
    loops 3.4x slower (measured).
    """
    m00, s00 = diff_cost(abs(x0 - y0))
    m01, s01 = diff_cost(abs(x0 - y1))
    m02, s02 = diff_cost(abs(x0 - y2))
    m10, s10 = diff_cost(abs(x1 - y0))
    m11, s11 = diff_cost(abs(x1 - y1))
    m12, s12 = diff_cost(abs(x1 - y2))
    m20, s20 = diff_cost(abs(x2 - y0))
    m21, s21 = diff_cost(abs(x2 - y1))
    m22, s22 = diff_cost(abs(x2 - y2))
    bm = m00 + m11 + m22
    bs = s00 + s11 + s22
    m = m00 + m12 + m21
    s = s00 + s12 + s21
    if s < bs or (s == bs and m < bm):
        bm, bs = m, s
    m = m01 + m10 + m22
    s = s01 + s10 + s22
    if s < bs or (s == bs and m < bm):
        bm, bs = m, s
    m = m01 + m12 + m20
    s = s01 + s12 + s20
    if s < bs or (s == bs and m < bm):
        bm, bs = m, s
    m = m02 + m10 + m21
    s = s02 + s10 + s21
    if s < bs or (s == bs and m < bm):
        bm, bs = m, s
    m = m02 + m11 + m20
    s = s02 + s11 + s20
    if s < bs or (s == bs and m < bm):
        bm, bs = m, s
    return bm, bs


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
    x: np.ndarray, y: np.ndarray, loci: LocusTable, bx: np.ndarray, by: np.ndarray
) -> tuple[int, int, int, int]:
    """(compared, mismatches, steps, flag) of two full rows (any stride).

    ``bx``/``by`` are scratch buffers of length 3.
    """
    i1 = loci.i1
    i2 = loci.i2
    seg = dys389_segmented(x, y, i1, i2)
    comp = 0
    mism = 0
    steps = 0
    flag = 0
    for L in range(loci.starts.shape[0]):
        s = loci.starts[L]
        c = loci.copies[L]
        if seg and s == i2:
            m, st = segment_cost(x, y, i1, i2)
            comp += 1
            mism += m
            steps += st
            continue
        if c == 1:
            u = int(x[s])
            v = int(y[s])
            if u >= 0 and v >= 0:  # fast path: two values
                m, st = diff_cost(abs(u - v))
                comp += 1
                mism += m
                steps += st
                continue
        elif c == 2:
            u0 = int(x[s])
            u1 = int(x[s + 1])
            v0 = int(y[s])
            v1 = int(y[s + 1])
            if u0 >= 0 and u1 >= 0 and v0 >= 0 and v1 >= 0:  # fast path: two values each
                m, st = two_copy_cost(u0, u1, v0, v1)
                comp += 2
                mism += m
                steps += st
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
def row_mismatches(x: np.ndarray, y: np.ndarray, loci: LocusTable, limit: int) -> int:
    """Mismatches of two rows that hold values only (no sentinels), counted as
    :func:`row_distance` counts them, stopping once above ``limit`` (the count returned
    is then some value ``> limit``).

    The value-only fast path of the simulator's reach analysis
    (:func:`patriline.simulate._kernels.match_counts`): no flags (values never tie on
    different numbers of copies compared), no scratch buffers. Checked against
    :func:`patriline.haplotype.compare` in ``tests/test_reach_rules.py``.
    """
    i1 = loci.i1
    i2 = loci.i2
    seg = dys389_segmented(x, y, i1, i2)
    mism = 0
    for L in range(loci.starts.shape[0]):
        s = loci.starts[L]
        c = loci.copies[L]
        if seg and s == i2:
            m, _ = segment_cost(x, y, i1, i2)
        elif c == 1:
            m, _ = diff_cost(abs(int(x[s]) - int(y[s])))
        elif c == 2:
            m, _ = two_copy_cost(int(x[s]), int(x[s + 1]), int(y[s]), int(y[s + 1]))
        else:
            m, _ = three_copy_cost(
                int(x[s]), int(x[s + 1]), int(x[s + 2]), int(y[s]), int(y[s + 1]), int(y[s + 2])
            )
        mism += m
        if mism > limit:
            return mism
    return mism


@njit(cache=True)
def _rows_distance_into(
    values: np.ndarray,
    rows: np.ndarray,
    q: np.ndarray,
    loci: LocusTable,
    out: np.ndarray,
    lo: int,
    hi: int,
) -> None:
    bx = np.empty(3, dtype=np.int64)
    by = np.empty(3, dtype=np.int64)
    for k in range(lo, hi):
        a, m, s, f = row_distance(q, values[:, rows[k]], loci, bx, by)
        out[k, 0] = a
        out[k, 1] = m
        out[k, 2] = s
        out[k, 3] = f


@njit(parallel=True, cache=True)
def _rows_distance_parallel(
    values: np.ndarray, rows: np.ndarray, q: np.ndarray, loci: LocusTable, out: np.ndarray
) -> None:
    n = rows.shape[0]
    nchunks = (n + 1023) // 1024
    for c in prange(nchunks):
        _rows_distance_into(values, rows, q, loci, out, c * 1024, min(n, c * 1024 + 1024))


#: At most this many rows are compared in plain Python (:func:`_row_distance_py`): the
#: hits of one exact search must not pay numba's first-dispatch start-up (0.3-0.4 s,
#: measured), which a command-line search meets in full.
PYTHON_MAX = 8


def _pair_py(x: int, y: int) -> tuple[int, int, int]:
    if x == -1 or y == -1:
        return 0, 0, 0
    if x == -2 or y == -2:
        return (1, 0, 0) if x == y else (1, 1, 1)
    d = abs(x - y)
    return (1, 0, 0) if d == 0 else (1, 1, (d + 9) // 10)


def _locus_cost_py(x: list[int], y: list[int], c: int) -> tuple[int, int, int, int]:
    """:func:`locus_cost` in Python (the same pairing rule, order and flag)."""
    if x[0] in (-1, -3) or y[0] in (-1, -3):
        return 0, 0, 0, 0
    if x[0] == -4 or y[0] == -4:
        return (c, 0, 0, 1) if x[0] == y[0] else (c, c, c, 0)
    if c == 1:
        a, m, st = _pair_py(x[0], y[0])
        return a, m, st, 0
    best_s = best_m = BIG
    best_c, flag = -1, 0
    for p in range(int(_NPERMS[c])):
        cc = mm = ss = 0
        for j in range(c):
            a, m, st = _pair_py(x[j], y[int(_PERMS[c, p, j])])
            cc, mm, ss = cc + a, mm + m, ss + st
        if ss < best_s or (ss == best_s and mm < best_m):
            best_s, best_m, best_c, flag = ss, mm, cc, 0
        elif ss == best_s and mm == best_m and cc != best_c:
            flag = 1
            best_c = max(best_c, cc)
    return best_c, best_m, best_s, flag


def _row_distance_py(x: list[int], y: list[int], loci: LocusTable) -> tuple[int, int, int, int]:
    """:func:`row_distance` in Python: same counts and flag (``tests/test_naive_twins.py``)."""
    i1, i2 = loci.i1, loci.i2
    seg = i1 >= 0 and x[i1] >= 0 and x[i2] >= 0 and y[i1] >= 0 and y[i2] >= 0
    comp = mism = steps = flag = 0
    for s, c in zip(loci.starts.tolist(), loci.copies.tolist(), strict=True):
        if seg and s == i2:
            d = abs((x[i2] - x[i1]) - (y[i2] - y[i1]))
            comp, mism, steps = comp + 1, mism + int(d > 0), steps + (d + 9) // 10
            continue
        a, m, st, f = _locus_cost_py(x[s : s + c], y[s : s + c], c)
        comp, mism, steps, flag = comp + a, mism + m, steps + st, flag | f
    return comp, mism, steps, flag


def rows_distance(
    values: np.ndarray, rows: np.ndarray, q: np.ndarray, loci: LocusTable
) -> np.ndarray:
    """``out[k] = (compared, mismatches, steps, flag)`` of query ``q`` and row ``rows[k]``.

    Few rows run on one thread (waking the thread pool costs more than the work); at most
    :data:`PYTHON_MAX` in Python.
    """
    n = rows.shape[0]
    out = np.empty((n, 4), dtype=np.int32)
    if n == 0:
        return out
    if n <= PYTHON_MAX:
        qx = [int(v) for v in q.tolist()]
        for k, r in enumerate(rows.tolist()):
            out[k] = _row_distance_py(qx, [int(v) for v in values[:, r].tolist()], loci)
        return out
    if n < SERIAL_MAX:
        _rows_distance_into(values, rows, q, loci, out, 0, n)
    else:
        _rows_distance_parallel(values, rows, q, loci, out)
    return out
