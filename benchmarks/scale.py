"""Benchmark of the structured simulator at national scale (issue 15).

Targets: 100,000,000 men x 30 generations on one machine within 24 GB, out of core
through the Parquet shards, in <= 10 min; the LocalCluster speed-up with 1 vs 2 workers
on 10,000,000 men; memory per worker. From the measured per-worker throughput: what a
700,000,000-man country needs (workers, memory, hours). See docs/scale.md.

Run: ``python benchmarks/scale.py [--males N] [--dask-males N] [--workers 1,2]``
(defaults: 10 M out of core, 10 M on Dask with 1 and 2 workers; ``--males 100000000``
for the full figure: about 30 GB of disk for shards and scratch).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from _common import peak_rss_gb, read_bandwidth_gbs, report

from patriline.simulate import SimConfig
from patriline.simulate.regions import Region
from patriline.simulate.structured import CountryConfig, simulate_country

COUNTRY = 700_000_000
GENERATIONS = 30


def _config(males: int, regions: int, seed: int = 1) -> CountryConfig:
    per = males // regions
    table = tuple(
        Region(f"R{i:02d}", per + (1 if i < males % regions else 0)) for i in range(regions)
    )
    base = SimConfig(males=males, generations=GENERATIONS, kit="yfiler_plus", seed=seed)
    return CountryConfig(base, table, 0.05, "nearest")


def _disk_gb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e9


def _worker_peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--males", type=int, default=10_000_000)
    parser.add_argument("--dask-males", type=int, default=10_000_000)
    parser.add_argument("--regions", type=int, default=20)
    parser.add_argument("--workers", default="1,2", help="LocalCluster sizes, e.g. 1,2 ('' skips)")
    parser.add_argument("--dir", type=Path, default=None, help="where shards go (default /tmp)")
    args = parser.parse_args()
    bandwidth = read_bandwidth_gbs(1 << 28)
    root = Path(tempfile.mkdtemp(prefix="patriline-scale-", dir=args.dir))
    simulate_country(_config(20_000, 2), root / "warm")  # numba kernels compiled and cached
    baseline = peak_rss_gb()
    rows = []
    try:
        # 1. out of core, one process
        out = root / "one"
        t = time.perf_counter()
        manifest = simulate_country(_config(args.males, args.regions), out)
        dt = time.perf_counter() - t
        men_gens = manifest["total_men"]
        target_s = 600 * args.males / 100_000_000
        rows.append(
            {
                "what": f"simulate {args.males:,} living men x {GENERATIONS} generations, "
                f"{args.regions} regions, m = 0.05 nearest, out of core (one process)",
                "value": f"{dt:.1f} s ({men_gens / dt / 1e6:.2f} M men-generations/s)",
                "target": f"100 M in <= 600 s (<= {target_s:.0f} s at this size, linear)",
                "ok": dt <= target_s,
            }
        )
        rows.append(
            {
                "what": "peak RSS of that process",
                "value": f"{peak_rss_gb():.2f} GB",
                "target": "<= 24 GB at 100 M",
                "ok": peak_rss_gb() <= 24,
            }
        )
        rows.append(
            {
                "what": "shards on disk (links of every generation, kept haplotypes)",
                "value": f"{_disk_gb(out):.2f} GB, {len(manifest['shards'])} shards",
                "target": None,
                "ok": None,
            }
        )
        shutil.rmtree(out, ignore_errors=True)
        one_rate = men_gens / dt

        # 2. Dask LocalCluster, 1 and 2 workers
        times: dict[int, float] = {}
        for w in [int(x) for x in args.workers.split(",") if x.strip()]:
            from patriline.simulate.distributed import dask_client, dask_mapper

            out = root / f"dask{w}"
            with dask_client(f"local:{w}") as client:
                # warm every worker (imports, cached numba kernels) before timing
                simulate_country(_config(20_000, 2 * w), root / "warm", mapper=dask_mapper(client))
                t = time.perf_counter()
                m = simulate_country(
                    _config(args.dask_males, args.regions), out, mapper=dask_mapper(client)
                )
                times[w] = time.perf_counter() - t
                peaks = client.run(_worker_peak_gb)
            rows.append(
                {
                    "what": f"Dask LocalCluster, {w} worker(s), {args.dask_males:,} men",
                    "value": f"{times[w]:.1f} s ({m['total_men'] / times[w] / 1e6:.2f} M "
                    f"men-generations/s); peak memory per worker "
                    f"{max(peaks.values()):.2f} GB",
                    "target": None,
                    "ok": None,
                }
            )
            shutil.rmtree(out, ignore_errors=True)
        if 1 in times and 2 in times:
            rows.append(
                {
                    "what": "speed-up 2 workers vs 1",
                    "value": f"{times[1] / times[2]:.2f}x",
                    "target": "-> 2x on 2 free cores",
                    "ok": None,
                }
            )
        # 3. the country on paper, from the one-process throughput
        total = COUNTRY * (GENERATIONS + 1)
        # memory grows with the region of a step: baseline + bytes per man x region size
        per_man = (peak_rss_gb() - baseline) / (args.males / args.regions)
        per_worker_gb = baseline + per_man * COUNTRY / 20
        for w in (16, 64, 256):
            hours = total / (one_rate * w * 0.7) / 3600
            rows.append(
                {
                    "what": f"700 M men x 30 generations on {w} workers (20 regions or more, "
                    "70 % parallel efficiency assumed)",
                    "value": f"{hours:.2f} h",
                    "target": None,
                    "ok": None,
                }
            )
        rows.append(
            {
                "what": "memory per worker for 35 M-man regions (700 M / 20): baseline + "
                "measured bytes per man of a region x 35 M (upper bound: RSS counts the "
                "memory-mapped scratch pages)",
                "value": f"{per_worker_gb:.1f} GB ({baseline:.2f} GB + {per_man * 1e9:.0f} B/man)",
                "target": None,
                "ok": None,
            }
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report("scale", rows, bandwidth)


if __name__ == "__main__":
    main()
