"""Shared by the benchmark scripts: the machine's memory-bandwidth baseline and reporting.

Every benchmark prints its figures beside the target from its issue and the read
bandwidth measured in the same run, so figures from different machines compare.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def read_bandwidth_gbs(nbytes: int = 1 << 30, repeats: int = 5) -> float:
    """Single-pass read bandwidth in GB/s: best of ``repeats`` numpy sums over ``nbytes``."""
    a = np.ones(nbytes // 8, dtype=np.int64)
    a.sum()  # touch pages
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a.sum()
        best = min(best, time.perf_counter() - t)
    return nbytes / best / 1e9


def timed(fn: Callable[[], Any], repeats: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeats`` calls, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far (GB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": os.getloadavg(),
    }


def report(name: str, rows: list[dict[str, Any]], bandwidth: float | None = None) -> None:
    """Print a figure table (and a JSON line) for one benchmark."""
    print(f"== {name} ==")
    if bandwidth is not None:
        print(f"memory read bandwidth (numpy sum, same run): {bandwidth:.2f} GB/s")
    for r in rows:
        target = f"  target: {r['target']}" if r.get("target") else ""
        ok = "" if r.get("ok") is None else ("  [meets target]" if r["ok"] else "  [MISSES target]")
        print(f"  {r['what']}: {r['value']}{target}{ok}")
    print(
        "JSON "
        + json.dumps(
            {"benchmark": name, "bandwidth_gbs": bandwidth, "machine": machine(), "rows": rows},
            default=str,
        )
    )
