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


def hash_rows(
    values: np.ndarray, cols: np.ndarray, seg_pos: int, seg_i1: int, seed: int
) -> np.ndarray:
    """64-bit hash of each row over ``cols``; ``cols[seg_pos]`` (DYS389II) hashed as II − I."""
    out = np.empty(values.shape[1], dtype=np.uint64)
    if values.shape[1] < SERIAL_MAX:
        _hash_rows_serial(values, cols, seg_pos, seg_i1, seed, out)
    else:
        _hash_rows_parallel(values, cols, seg_pos, seg_i1, seed, out)
    return out
