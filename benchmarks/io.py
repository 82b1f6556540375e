"""Benchmark the readers and writers on a Yfiler Plus wide CSV (issue 2).

Targets: reading a 1,000,000-row Yfiler Plus wide CSV in ≲ 10 s (``read``), and the
store's import reaching 100,000 profiles/s (``read_encoded``, the fast path the store
calls). Writing (``write_encoded``, the simulator's path) is timed too.

Run: ``python benchmarks/io.py [--rows N]`` (default 1,000,000; needs ~3 GB RAM).
"""

from __future__ import annotations

import argparse
import gc
import tempfile
from pathlib import Path

import numpy as np
from _common import peak_rss_gb, read_bandwidth_gbs, report, timed

from patriline.encoding import Encoded, Layout
from patriline.io import read, read_encoded, write_encoded
from patriline.reference import default_catalog


def synthetic(n: int, seed: int = 1) -> tuple[list[str], Encoded]:
    """``n`` Yfiler Plus profiles: alleles drawn around each locus's range midpoint."""
    catalog = default_catalog()
    layout = Layout.for_kit("yfiler_plus", catalog)
    rng = np.random.default_rng(seed)
    values = np.empty((layout.n_columns, n), dtype=np.int16)
    for locus in layout.loci:
        loc = catalog.locus(locus)
        sl = layout.slice_of(locus)
        mid = (loc.allele_min + loc.allele_max) / 2
        draws = np.clip(
            np.rint(rng.normal(mid, 1.5, size=(sl.stop - sl.start, n))),
            loc.allele_min,
            loc.allele_max,
        )
        values[sl] = np.sort(draws, axis=0).astype(np.int16) * 10
    # a few intermediates and missing cells, as in real data
    values[layout.slice_of("DYS458").start, rng.random(n) < 0.02] += 2
    values[layout.slice_of("DYS576").start, rng.random(n) < 0.01] = -1
    return [f"S{i:07d}" for i in range(n)], Encoded(layout, values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.rows
    bandwidth = read_bandwidth_gbs()
    ids, enc = synthetic(n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "yfiler_plus.csv"
        t_write, _ = timed(lambda: write_encoded(ids, enc, path))
        size_mb = path.stat().st_size / 1e6
        rows.append(
            {
                "what": f"write_encoded {n:,} rows ({size_mb:.0f} MB)",
                "value": f"{t_write:.2f} s ({n / t_write:,.0f} rows/s)",
            }
        )
        layout = enc.layout
        t_fast, fast = timed(lambda: read_encoded(path, layout))
        assert fast.problems == [] and np.array_equal(fast.encoded.values, enc.values)
        rate = n / t_fast
        rows.append(
            {
                "what": f"read_encoded {n:,} rows",
                "value": f"{t_fast:.2f} s ({rate:,.0f} profiles/s)",
                "target": "100,000 profiles/s (store import)",
                "ok": rate >= 100_000,
            }
        )
        del fast
        gc.collect()
        t_read, res = timed(lambda: read(path))
        assert res.accepted == n
        scaled = t_read * 1_000_000 / n
        rows.append(
            {
                "what": f"read (records) {n:,} rows",
                "value": f"{t_read:.2f} s ({n / t_read:,.0f} rows/s; {scaled:.1f} s per 1M)",
                "target": "≲ 10 s per 1,000,000 rows",
                "ok": scaled <= 10,
            }
        )
        del res
        gc.collect()
    rows.append(
        {
            "what": "peak RSS",
            "value": f"{peak_rss_gb():.2f} GB",
            "target": "< 6 GB",
            "ok": peak_rss_gb() < 6,
        }
    )
    report("io", rows, bandwidth)


if __name__ == "__main__":
    main()
