"""Patrilocality and the limits of the structured model, at study size per country.

Run: ``python verification/national_checks.py [--per-region N] [--regions R]``.
Prints the tables quoted in docs/simulation.md and docs/scale.md, and writes
``verification/output/patrilocality.png`` (and ``.svg``).

1. m = 1 (uniform island model) against today's panmictic figures on the published
   study set-up (Olsen et al. 2025: VRS 0.2, 100 constant + 150 growth generations at
   2 %, the last 3 generations alive, monomorphic founders, donors any living man):
   the country of R regions x N living men is one panmictic population of R x N.
2. Patrilocality: the same country with m = 0.01, 0.05, 0.2, 1 (uniform), sampled at
   5 % and 10 % everywhere, and with one region at 25 % and the others at 2 % (the
   county figures); share of men outside the database findable through a relative
   (closest matching database man within 5 meioses), by region and overall.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from patriline.simulate import reach, simulate
from patriline.simulate.config import STUDY_KITS, study_config
from patriline.simulate.regional import RegionalReach, regional_reach
from patriline.simulate.regions import Region
from patriline.simulate.shards import load_sharded
from patriline.simulate.structured import CountryConfig, simulate_country

OUT = Path(__file__).resolve().parent / "output"
MIGRATION = (0.01, 0.05, 0.2, 1.0)


def _country(per_region: int, regions: int, m: float, where: Path, seed: int = 1):
    base = study_config(per_region * regions, seed=seed)
    table = tuple(Region(f"R{i:02d}", per_region) for i in range(regions))
    t = time.perf_counter()
    simulate_country(CountryConfig(base, table, m, "uniform"), where)
    pop = load_sharded(where)
    return pop, time.perf_counter() - t


def _row(res: RegionalReach, kit: str, region: str):
    return next(r for r in res.rows if r.kit == kit and r.region == region)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-region", type=int, default=25_000)
    parser.add_argument("--regions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    n, R = args.per_region, args.regions
    kits = list(STUDY_KITS)
    tmp = Path(tempfile.mkdtemp(prefix="patriline-national-"))
    print(f"country: {R} regions x {n:,} living men (final generation), study set-up")

    # 1. m = 1 against today's panmictic simulator
    pan = simulate(study_config(n * R, seed=args.seed))
    today = reach(pan, kits, [0.05], living_generations=3, traces="all", n_queries=3000, seed=1)
    del pan
    results: dict[float, dict[str, RegionalReach]] = {}
    timings = {}
    for m in MIGRATION:
        pop, dt = _country(n, R, m, tmp / f"m{m}", seed=args.seed)
        timings[m] = dt
        if m == 1.0:
            limit = regional_reach(
                pop, kits, 0.05, living_generations=3, traces="all", n_queries=300, seed=1
            )
            print("\nm = 1 (uniform) against today's simulator, 5 % database, donors any man:")
            print(
                f"{'kit':<12} {'today P(match)':>15} {'m=1 P(match)':>13} "
                f"{'today <=5|match':>16} {'m=1 <=5|match':>14}"
            )
            for kit, row in zip(kits, today.rows, strict=True):
                c = _row(limit, kit, "country")
                print(
                    f"{kit:<12} {row.p_match:>15.1%} {c.p_match:>13.1%} "
                    f"{row.p_within_5_meioses_given_match or 0:>16.1%} "
                    f"{c.p_within_k_given_match or 0:>14.1%}"
                )
        county = {f"R{i:02d}": (0.25 if i == 0 else 0.02) for i in range(R)}
        results[m] = {
            name: regional_reach(
                pop, ["yfiler_plus"], shares, living_generations=3, n_queries=300, seed=1
            )
            for name, shares in (("5 %", 0.05), ("10 %", 0.10), ("R00 25 %, rest 2 %", county))
        }
        del pop
        shutil.rmtree(tmp / f"m{m}", ignore_errors=True)
    print(
        "\nshare of men outside the database findable through a relative (<= 5 meioses), "
        "Yfiler Plus; P(match) in brackets"
    )
    print(
        f"{'m':>5} {'5 % country':>18} {'10 % country':>18} {'R00 at 25 %':>18} "
        f"{'R01 at 2 %':>18} {'county: country':>18} {'sim s':>7}"
    )
    for m in MIGRATION:
        r = results[m]

        def cell(res: RegionalReach, region: str) -> str:
            x = _row(res, "yfiler_plus", region)
            return f"{x.p_within_k:.1%} ({x.p_match:.0%})"

        print(
            f"{m:>5} {cell(r['5 %'], 'country'):>18} {cell(r['10 %'], 'country'):>18} "
            f"{cell(r['R00 25 %, rest 2 %'], 'R00'):>18} "
            f"{cell(r['R00 25 %, rest 2 %'], 'R01'):>18} "
            f"{cell(r['R00 25 %, rest 2 %'], 'country'):>18} {timings[m]:>7.0f}"
        )
    _plot(results, OUT / "patrilocality.png", n, R)


def _plot(results: dict[float, dict[str, RegionalReach]], path: Path, n: int, R: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), constrained_layout=True)
    ms = sorted(results)
    for name, region, style in (
        ("5 %", "country", "o-"),
        ("10 %", "country", "s-"),
        ("R00 25 %, rest 2 %", "R00", "^--"),
        ("R00 25 %, rest 2 %", "R01", "v--"),
        ("R00 25 %, rest 2 %", "country", "d:"),
    ):
        y = [100 * _row(results[m][name], "yfiler_plus", region).p_within_k for m in ms]
        label = f"{name}: {'whole country' if region == 'country' else region}"
        ax.plot(ms, y, style, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("migration m (share of sons raised in another region; log)")
    ax.set_ylabel("men findable through a relative ≤ 5 meioses (%)")
    ax.set_title(f"Patrilocality: {R} regions x {n:,} men, study set-up, Yfiler Plus")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    for suffix in (".png", ".svg"):
        fig.savefig(path.with_suffix(suffix), dpi=120)
    plt.close(fig)
    print(f"\nwrote {path} (.svg beside it)")


if __name__ == "__main__":
    main()
