"""Numba kernels: row hashes for the exact and pigeonhole indexes (no API here)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from patriline.search._distance_kernels import SERIAL_MAX


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


_M64 = (1 << 64) - 1
#: At most this many rows are hashed in plain Python (a query): a one-row hash must not
#: pay numba's first-dispatch start-up (0.3-0.4 s measured), which a CLI search meets.
PYTHON_MAX = 8


def _mix_py(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _hash_row_py(
    values: np.ndarray, r: int, cols: np.ndarray, seg_pos: int, seg_i1: int, seed: int
) -> int:
    """:func:`_hash_row` in Python integers (the same wrapping 64-bit arithmetic)."""
    golden = 0x9E3779B97F4A7C15
    h = _mix_py((seed + golden) & _M64)
    for k, c in enumerate(cols.tolist()):
        v = int(values[c, r])
        if k == seg_pos:
            v = v - int(values[seg_i1, r]) + 100000
        h = _mix_py((h + ((v + 1048576) & _M64) + golden) & _M64)
    return h


def hash_rows(
    values: np.ndarray, cols: np.ndarray, seg_pos: int, seg_i1: int, seed: int
) -> np.ndarray:
    """64-bit hash of each row over ``cols``; ``cols[seg_pos]`` (DYS389II) hashed as II − I."""
    out = np.empty(values.shape[1], dtype=np.uint64)
    if values.shape[1] <= PYTHON_MAX:
        for r in range(values.shape[1]):
            out[r] = _hash_row_py(values, r, cols, seg_pos, seg_i1, seed)
    elif values.shape[1] < SERIAL_MAX:
        _hash_rows_serial(values, cols, seg_pos, seg_i1, seed, out)
    else:
        _hash_rows_parallel(values, cols, seg_pos, seg_i1, seed, out)
    return out
