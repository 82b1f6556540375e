"""Benchmark: mixture inclusion search over many stored profiles (issue 13 item 3).

Target: p50 ≤ 50 ms for one two-man mixture against 10,000,000 profiles on 2 cores.

Data: synthetic PowerPlex Y23 profiles, each locus drawn independently from the allele
counts of Purps et al. (2014) (``reference/data/allele_frequencies.csv``; real loci are
linked, so real profiles are a little less diverse — the scan does the same work). The
mixtures are of two stored men, so both must be found.

Run: ``.venv/bin/python benchmarks/mixture.py [--rows 10000000] [--queries 25]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import peak_rss_gb, read_bandwidth_gbs, report

from patriline.encoding import Encoded, Layout, decode
from patriline.mixture import Mixture
from patriline.reference import default_catalog
from patriline.search.mixture import include
from patriline.stats.allele_model import default_allele_model


def synthetic(rows: int, seed: int) -> Encoded:
    catalog = default_catalog()
    model = default_allele_model()
    loci = [n for n in catalog.kit("ppy23").loci if n in model.counts]
    layout = Layout.for_loci(loci)
    rng = np.random.default_rng(seed)
    values = np.empty((layout.n_columns, rows), dtype=np.int16)
    for name in layout.loci:
        sl = layout.slice_of(name)
        alleles = [
            (a, n)
            for a, n in model.counts[name].items()
            if "," not in a and a != "0" and float(a) == int(float(a))
        ]
        vals = np.array([int(float(a)) * 10 for a, _ in alleles], dtype=np.int16)
        p = np.array([n for _, n in alleles], dtype=float)
        p /= p.sum()
        draws = rng.choice(vals, size=(sl.stop - sl.start, rows), p=p)
        values[sl] = np.sort(draws, axis=0)
    return Encoded(layout, values)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--queries", type=int, default=25)
    args = ap.parse_args()
    bandwidth = read_bandwidth_gbs()
    t0 = time.perf_counter()
    enc = synthetic(args.rows, seed=1)
    ids = [f"S{i}" for i in range(args.rows)] if args.rows <= 2_000_000 else None
    made = time.perf_counter() - t0
    rng = np.random.default_rng(2)
    times, hits, found_both = [], [], 0
    names = ids if ids is not None else _LazyIds(args.rows)
    for _ in range(args.queries + 1):
        a, b = (int(x) for x in rng.choice(args.rows, 2, replace=False))
        men = decode(Encoded(enc.layout, np.ascontiguousarray(enc.values[:, [a, b]])))
        mixture = Mixture.of(men)
        t = time.perf_counter()
        res = include(names, enc, mixture, min_loci=9)  # type: ignore[arg-type]
        times.append(time.perf_counter() - t)
        hits.append(len(res))
        found_both += {names[a], names[b]} <= set(res.ids)
    times = times[1:]  # the first call pays the kernel load
    p50, p90 = np.percentile(times, 50) * 1e3, np.percentile(times, 90) * 1e3
    report(
        "mixture inclusion search",
        [
            {"what": "profiles (synthetic PPY23)", "value": f"{args.rows:,} (made in {made:.1f} s)"},
            {"what": "inclusion search p50", "value": f"{p50:.1f} ms", "target": "<= 50 ms (10M)",
             "ok": bool(p50 <= 50) if args.rows >= 10_000_000 else None},
            {"what": "inclusion search p90", "value": f"{p90:.1f} ms"},
            {"what": "included profiles per mixture (median)", "value": f"{int(np.median(hits))}"},
            {"what": "mixtures with both contributors included", "value": f"{found_both}/{args.queries + 1}"},
            {"what": "peak RSS", "value": f"{peak_rss_gb():.2f} GB"},
        ],
        bandwidth,
    )  # fmt: skip


class _LazyIds:
    """Row names made on demand (a list of 10M strings would dominate memory)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> str:
        return f"S{i}"


if __name__ == "__main__":
    main()
