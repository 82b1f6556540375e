"""Numba kernels of the discrete Laplace mixture (no checks here: see :mod:`.dlmix`).

Arrays: ``x`` is ``(n, K)`` int32 repeat numbers (whole repeats), ``w`` ``(n,)`` float64
row weights (multiplicities), ``y`` ``(C, K)`` int32 centres, ``logp`` ``(C, K)`` the log
dispersions, ``logtau`` ``(C,)`` log mixture weights. Rows are split in chunks processed in
parallel; each chunk writes its own partial sums, added up afterwards.
"""

from __future__ import annotations

import numba
import numpy as np

_CHUNK = 4096
#: Let LLVM reorder sums (vectorised reductions) without assuming away infinities or NaNs.
_FAST = {"reassoc", "contract", "arcp"}


@numba.njit(cache=True)
def _log_dl_const(logp: np.ndarray) -> np.ndarray:
    """``log((1 − p)/(1 + p))`` for every cell."""
    p = np.exp(logp)
    return np.log1p(-p) - np.log1p(p)


@numba.njit(parallel=True, cache=True, fastmath=_FAST)
def estep(
    x: np.ndarray,
    w: np.ndarray,
    y: np.ndarray,
    logp: np.ndarray,
    logtau: np.ndarray,
    v: np.ndarray,
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Update the responsibilities ``v (n, C)`` in place; return the M-step statistics.

    ``x`` and ``y`` are float64 here (whole numbers), so that the loops vectorise.

    Returns ``max|v_new − v_old|``, ``max v_new``, ``W (C,)`` = Σ_i w_i v_ij and
    ``S (C, K)`` = Σ_i w_i v_ij |x_ik − y_jk| (computed with the *new* ``v``).
    """
    n, k = x.shape
    c = y.shape[0]
    const = _log_dl_const(logp)
    base = np.empty(c)
    for j in range(c):
        base[j] = logtau[j]
        for q in range(k):
            base[j] += const[j, q]
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    w_part = np.zeros((n_chunks, c))
    s_part = np.zeros((n_chunks, c, k))
    diff_part = np.zeros(n_chunks)
    vmax_part = np.zeros(n_chunks)
    for ch in numba.prange(n_chunks):
        lo = ch * _CHUNK
        hi = min(n, lo + _CHUNK)
        lp = np.empty(c)
        dmax = 0.0
        vmax = 0.0
        wp = w_part[ch]
        sp = s_part[ch]
        for i in range(lo, hi):
            top = -np.inf
            for j in range(c):
                acc = 0.0
                for q in range(k):
                    acc += abs(x[i, q] - y[j, q]) * logp[j, q]
                acc += base[j]
                lp[j] = acc
                if acc > top:
                    top = acc
            tot = 0.0
            for j in range(c):
                lp[j] = np.exp(lp[j] - top)
                tot += lp[j]
            wi = w[i] / tot
            for j in range(c):
                vij = lp[j] / tot
                dd = abs(vij - v[i, j])
                if dd > dmax:
                    dmax = dd
                if vij > vmax:
                    vmax = vij
                v[i, j] = vij
                wv = wi * lp[j]
                wp[j] += wv
                for q in range(k):
                    sp[j, q] += wv * abs(x[i, q] - y[j, q])
        diff_part[ch] = dmax
        vmax_part[ch] = vmax
    return diff_part.max(), vmax_part.max(), w_part.sum(axis=0), s_part.sum(axis=0)


@numba.njit(parallel=True, cache=True)
def suff_stats(
    x: np.ndarray, w: np.ndarray, y: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``W (C,)`` and ``S (C, K)`` for given responsibilities ``v``."""
    n, k = x.shape
    c = y.shape[0]
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    w_part = np.zeros((n_chunks, c))
    s_part = np.zeros((n_chunks, c, k))
    for ch in numba.prange(n_chunks):
        lo = ch * _CHUNK
        hi = min(n, lo + _CHUNK)
        for i in range(lo, hi):
            for j in range(c):
                wv = w[i] * v[i, j]
                w_part[ch, j] += wv
                for q in range(k):
                    s_part[ch, j, q] += wv * abs(x[i, q] - y[j, q])
    return w_part.sum(axis=0), s_part.sum(axis=0)


@numba.njit(parallel=True, cache=True, fastmath=_FAST)
def log_predict(
    x: np.ndarray, mask: np.ndarray, y: np.ndarray, logp: np.ndarray, logtau: np.ndarray
) -> np.ndarray:
    """``log P(x_i)`` under the mixture; loci with ``mask[i, q] == False`` are summed out.

    A discrete Laplace distribution sums to one, so leaving a locus out of the product is
    exactly the marginal probability of the typed loci.
    """
    n, k = x.shape
    c = y.shape[0]
    const = _log_dl_const(logp)
    out = np.empty(n)
    for i in numba.prange(n):
        top = -np.inf
        lp = np.empty(c)
        for j in range(c):
            acc = logtau[j]
            for q in range(k):
                if mask[i, q]:
                    acc += const[j, q] + abs(x[i, q] - y[j, q]) * logp[j, q]
            lp[j] = acc
            if acc > top:
                top = acc
        tot = 0.0
        for j in range(c):
            tot += np.exp(lp[j] - top)
        out[i] = top + np.log(tot)
    return out


@numba.njit(cache=True)
def weighted_histograms(
    x: np.ndarray, w: np.ndarray, v: np.ndarray, lo: np.ndarray, width: int
) -> np.ndarray:
    """``H[j, q, a]`` = Σ_i w_i v_ij [x_iq = lo_q + a] (for the centre update)."""
    n, k = x.shape
    c = v.shape[1]
    h = np.zeros((c, k, width))
    for i in range(n):
        for q in range(k):
            a = x[i, q] - lo[q]
            for j in range(c):
                h[j, q, a] += w[i] * v[i, j]
    return h


@numba.njit(cache=True)
def manhattan_matrix(x: np.ndarray) -> np.ndarray:
    """All pairwise Manhattan distances of the rows of ``x`` (small ``n`` only)."""
    n, k = x.shape
    d = np.zeros((n, n))
    for a in range(n):
        for b in range(a + 1, n):
            s = 0.0
            for q in range(k):
                s += abs(x[a, q] - x[b, q])
            d[a, b] = s
            d[b, a] = s
    return d


@numba.njit(cache=True)
def pam(d: np.ndarray, w: np.ndarray, k: int, max_swaps: int) -> np.ndarray:
    """Partitioning around medoids (Kaufman & Rousseeuw 1990, ch. 2): BUILD then SWAP.

    ``w`` weights each object (a multiplicity). Returns the medoid indices. Ties are
    broken by the lowest index, as in R's ``cluster::pam``.
    """
    n = d.shape[0]
    medoids = np.empty(k, dtype=np.int64)
    is_med = np.zeros(n, dtype=np.bool_)
    nearest = np.full(n, np.inf)
    # BUILD: first the object with least total distance, then greedy gains.
    for m in range(k):
        best_gain = -np.inf
        best = -1
        for cand in range(n):
            if is_med[cand]:
                continue
            if m == 0:
                g = 0.0
                for i in range(n):
                    g -= w[i] * d[i, cand]
            else:
                g = 0.0
                for i in range(n):
                    diff = nearest[i] - d[i, cand]
                    if diff > 0:
                        g += w[i] * diff
            if g > best_gain + 1e-12:
                best_gain = g
                best = cand
        medoids[m] = best
        is_med[best] = True
        for i in range(n):
            if d[i, best] < nearest[i]:
                nearest[i] = d[i, best]
    # SWAP: best improving exchange until none improves.
    for _ in range(max_swaps):
        first = np.full(n, np.inf)
        second = np.full(n, np.inf)
        for i in range(n):
            for m in range(k):
                dd = d[i, medoids[m]]
                if dd < first[i]:
                    second[i] = first[i]
                    first[i] = dd
                elif dd < second[i]:
                    second[i] = dd
        best_delta = -1e-10
        best_m = -1
        best_h = -1
        for m in range(k):
            med = medoids[m]
            for h in range(n):
                if is_med[h]:
                    continue
                delta = 0.0
                for i in range(n):
                    dih = d[i, h]
                    if d[i, med] == first[i]:
                        # i loses its medoid (ties: treat as losing, conservative)
                        delta += w[i] * (min(dih, second[i]) - first[i])
                    elif dih < first[i]:
                        delta += w[i] * (dih - first[i])
                if delta < best_delta:
                    best_delta = delta
                    best_m = m
                    best_h = h
        if best_m < 0:
            break
        is_med[medoids[best_m]] = False
        medoids[best_m] = best_h
        is_med[best_h] = True
    return medoids


@numba.njit(parallel=True, cache=True)
def assignment_cost(x: np.ndarray, w: np.ndarray, centres: np.ndarray) -> float:
    """Σ_i w_i min_j |x_i − centre_j|₁ (CLARA's criterion on the whole data)."""
    n, k = x.shape
    c = centres.shape[0]
    part = np.zeros(n)
    for i in numba.prange(n):
        best = np.inf
        for j in range(c):
            s = 0.0
            for q in range(k):
                s += abs(x[i, q] - centres[j, q])
            if s < best:
                best = s
        part[i] = w[i] * best
    return part.sum()
