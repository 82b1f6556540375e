"""Numba kernels of the simulator and of the reach analysis (no checks, no API: see callers)."""

from __future__ import annotations

import numba as nb
import numpy as np

from patriline.search._distance_kernels import LocusTable, row_mismatches

__all__ = [
    "apply_steps",
    "inherit",
    "match_counts",
    "match_lists",
    "meioses_pairs",
    "node_states",
    "sort_copies",
]


@nb.njit(cache=True)
def inherit(src: np.ndarray, fathers: np.ndarray, out: np.ndarray) -> None:
    """``out[c, i] = src[c, fathers[i]]`` (fathers ascending: a streaming copy)."""
    n_cols = src.shape[0]
    n = fathers.shape[0]
    for c in range(n_cols):
        s = src[c]
        o = out[c]
        for i in range(n):
            o[i] = s[fathers[i]]


@nb.njit(cache=True)
def apply_steps(col: np.ndarray, rows: np.ndarray, steps: np.ndarray, lo: int, hi: int) -> None:
    """Add ``steps`` at ``rows``, reflecting at the bounds ``lo``/``hi`` (tenths)."""
    for j in range(rows.shape[0]):
        v = col[rows[j]] + steps[j]
        if v > hi:
            v = 2 * hi - v
        if v < lo:
            v = 2 * lo - v
        col[rows[j]] = v


@nb.njit(cache=True)
def sort_copies(values: np.ndarray, start: int, copies: int) -> None:
    """Sort the ``copies`` columns from ``start`` ascending within every row (insertion sort)."""
    n = values.shape[1]
    for i in range(n):
        for a in range(start + 1, start + copies):
            v = values[a, i]
            b = a - 1
            while b >= start and values[b, i] > v:
                values[b + 1, i] = values[b, i]
                b -= 1
            values[b + 1, i] = v


@nb.njit(cache=True)
def node_states(
    parent: np.ndarray, mut_node: np.ndarray, mut_state: np.ndarray, root_state: int
) -> np.ndarray:
    """Allele of every tree node: the parent's, or that of the youngest mutation above it.

    Nodes are numbered so that a parent has a larger id than its children (msprime's
    order); mutations are in table order (older before younger on the same branch).
    """
    n = parent.shape[0]
    own = np.full(n, -1, dtype=np.int64)
    for j in range(mut_node.shape[0]):
        own[mut_node[j]] = mut_state[j]
    state = np.empty(n, dtype=np.int64)
    for u in range(n - 1, -1, -1):
        p = parent[u]
        state[u] = root_state if p < 0 else state[p]
        if own[u] >= 0:
            state[u] = own[u]
    return state


@nb.njit(cache=True)
def meioses_pairs(
    parent: np.ndarray, generation: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Meioses between males ``a[i]`` and ``b[i]`` (global ids) via their common paternal
    ancestor; -1 when none lies within the simulated time."""
    out = np.empty(a.shape[0], dtype=np.int64)
    for i in range(a.shape[0]):
        x = a[i]
        y = b[i]
        m = 0
        while x >= 0 and y >= 0 and generation[x] > generation[y]:
            x = parent[x]
            m += 1
        while x >= 0 and y >= 0 and generation[y] > generation[x]:
            y = parent[y]
            m += 1
        while x >= 0 and y >= 0 and x != y:
            x = parent[x]
            y = parent[y]
            m += 2
        out[i] = m if (x >= 0 and x == y) else -1
    return out


@nb.njit(cache=True)
def match_counts(queries: np.ndarray, db: np.ndarray, loci: LocusTable, k: int) -> np.ndarray:
    """For each query row, the number of database rows within ``k`` mismatches.

    Rows hold values only; mismatches are counted by the search's kernel
    (:func:`patriline.search._distance_kernels.row_mismatches`), so by the rules of
    :func:`patriline.haplotype.compare` (DYS389II on ``II - I``)."""
    out = np.zeros(queries.shape[0], dtype=np.int64)
    for i in range(queries.shape[0]):
        n = 0
        for j in range(db.shape[0]):
            if row_mismatches(queries[i], db[j], loci, k) <= k:
                n += 1
        out[i] = n
    return out


@nb.njit(cache=True)
def match_lists(
    queries: np.ndarray, db: np.ndarray, loci: LocusTable, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSR lists ``(indptr, indices)`` of database rows within ``k`` mismatches of each
    query (one pass over the pairs; the index array grows by doubling)."""
    indptr = np.zeros(queries.shape[0] + 1, dtype=np.int64)
    idx = np.empty(1024, dtype=np.int64)
    p = 0
    for i in range(queries.shape[0]):
        for j in range(db.shape[0]):
            if row_mismatches(queries[i], db[j], loci, k) <= k:
                if p == idx.shape[0]:
                    grown = np.empty(2 * p, dtype=np.int64)
                    grown[:p] = idx
                    idx = grown
                idx[p] = j
                p += 1
        indptr[i + 1] = p
    return indptr, idx[:p].copy()
