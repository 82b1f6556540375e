"""Benchmark of the population simulator (issue 4).

Targets: 10,000,000 living males x 27 loci (Yfiler Plus) through 30 explicit generations
in <= 60 s and <= 8 GB peak; the malan-based study set-up (about 500,000 men, VRS 0.2,
100 constant + 150 growth generations, 3 living generations, two kits) in <= 60 s.

Run: ``python benchmarks/simulate.py [--males N]`` (the default is the full size).
"""

from __future__ import annotations

import argparse
import time

from _common import peak_rss_gb, read_bandwidth_gbs, report

from patriline.simulate import SimConfig, reach, simulate
from patriline.simulate.config import STUDY_KITS, study_config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--males", type=int, default=10_000_000)
    parser.add_argument("--study-males", type=int, default=500_000)
    args = parser.parse_args()
    bandwidth = read_bandwidth_gbs(1 << 28)
    # warm the numba kernels (cached on disk after the first run)
    simulate(SimConfig(males=1000, generations=3, seed=0))
    rows = []

    t = time.perf_counter()
    pop = simulate(SimConfig(males=args.males, generations=30, kit="yfiler_plus", seed=1))
    dt = time.perf_counter() - t
    n_cols = pop.layout.n_columns
    rows.append(
        {
            "what": f"simulate {args.males:,} living males x {n_cols} columns x 30 generations",
            "value": f"{dt:.1f} s",
            "target": "<= 60 s",
            "ok": dt <= 60,
        }
    )
    del pop
    rows.append(
        {
            "what": "peak RSS after the large run",
            "value": f"{peak_rss_gb():.2f} GB",
            "target": "<= 8 GB",
            "ok": peak_rss_gb() <= 8,
        }
    )

    kits = list(STUDY_KITS)
    cfg = study_config(args.study_males, seed=1)
    t = time.perf_counter()
    study = simulate(cfg)
    dt_sim = time.perf_counter() - t
    rows.append(
        {
            "what": f"study set-up: {args.study_males:,} men, 250 generations, VRS 0.2",
            "value": f"{dt_sim:.1f} s",
            "target": "<= 60 s",
            "ok": dt_sim <= 60,
        }
    )
    t = time.perf_counter()
    result = reach(study, kits, [0.005, 0.05], living_generations=3, n_queries=2000, seed=1)
    dt_reach = time.perf_counter() - t
    rows.append(
        {
            "what": "reach on the study population (2 kits x 2 shares, 3 living generations)",
            "value": f"{dt_reach:.1f} s",
            "target": None,
            "ok": None,
        }
    )
    report("simulate", rows, bandwidth)
    print(result.table())


if __name__ == "__main__":
    main()
