"""Benchmark and acceptance figures of donor ranking (issue 7).

* Ranking speed: a simulated paternal tree of 2,000 men, 300 typed, Yfiler Plus (27
  locus copies); target ≤ 2 s per ranking.
* Accuracy on simulated families: share of hidden untested donors ranked in the top 5
  with a complete tree, and as links go missing (docs/pedigree.md, "Acceptance study").

Run: ``.venv/bin/python benchmarks/pedigree.py [--trials 200]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import peak_rss_gb, read_bandwidth_gbs, report, timed

from patriline.pedigree.check import donor_study, simulate_family
from patriline.pedigree.donor import rank_donors


def speed(rows: list[dict[str, object]]) -> None:
    rng = np.random.default_rng(7)
    fam = simulate_family(14, rng, mean_sons=1.9, max_men=2000)
    n = len(fam.father)
    typed = rng.choice(n, 300, replace=False)
    ped = fam.pedigree()
    haplotypes = {f"M{i}": fam.haplotypes[i] for i in typed}
    trace = fam.haplotypes[int(rng.integers(n))]
    seconds, ranking = timed(lambda: rank_donors(ped, haplotypes, trace), repeats=5)
    rows.append(
        {
            "what": f"rank {n - 300} untested of {n} men, 300 typed, {len(ranking.columns)} columns",
            "value": f"{seconds:.3f} s (best of 5)",
            "target": "<= 2 s",
            "ok": seconds <= 2.0,
        }
    )


def store_expansion(rows: list[dict[str, object]]) -> None:
    """The same kind of tree held in a SQLite store: ``Database.expand`` end to end."""
    from patriline.io.model import Record
    from patriline.store.database import Database
    from patriline.store.records import Link

    rng = np.random.default_rng(8)
    fam = simulate_family(14, rng, mean_sons=1.9, max_men=2000)
    n = len(fam.father)
    typed = rng.choice(n, 300, replace=False)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.create(str(Path(tmp) / "bench.db"), "admin")
        admin = db.actor("admin")
        db.open_case(admin, "BENCH", purpose="benchmark", legal_basis="none (synthetic)")
        db.import_records(
            admin, [Record(f"s{i}", fam.haplotypes[i], 2, person=f"M{i}") for i in typed]
        )
        links = [Link(f"M{i}", f"M{f}") for i, f in enumerate(fam.father) if f >= 0]
        db.insert_links(admin, links, source="benchmark")
        trace = fam.haplotypes[int(rng.integers(n))]
        seconds, exp = timed(
            lambda: db.expand(admin, "BENCH", f"s{typed[0]}", generations=20, trace=trace)
        )
        db.close()
    rows.append(
        {
            "what": f"Database.expand (SQLite) of {len(exp.members)} men incl. ranking",
            "value": f"{seconds:.2f} s",
        }
    )


def accuracy(rows: list[dict[str, object]], trials: int) -> None:
    scenarios: list[tuple[str, dict[str, float]]] = [
        ("complete tree", {}),
        ("10% links missing", {"missing_links": 0.10}),
        ("25% links missing", {"missing_links": 0.25}),
        ("50% links missing", {"missing_links": 0.50}),
        ("complete tree, 50% typed", {"typed_share": 0.5}),
        ("complete tree, rates x5 (RM-class kit)", {"rate_scale": 5.0}),
        ("complete tree, prior over all untested men", {"living_prior": False}),
    ]
    for label, kw in scenarios:
        r = donor_study(trials, seed=99, **kw)  # type: ignore[arg-type]
        rows.append(
            {
                "what": f"donor in top 5, {label}",
                "value": (
                    f"{r.top5:.0%} (ties at random: {r.top5_random_ties:.0%}; "
                    f"{r.mean_untested:.1f} candidates, {r.mean_members:.1f} men per tree, "
                    f"{r.trials} trials)"
                ),
                "target": ">= 80% with a complete tree" if label == "complete tree" else None,
                "ok": r.top5 >= 0.8 if label == "complete tree" else None,
            }
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=300)
    args = parser.parse_args()
    bandwidth = read_bandwidth_gbs()
    rows: list[dict[str, object]] = []
    speed(rows)
    store_expansion(rows)
    accuracy(rows, args.trials)
    rows.append({"what": "peak RSS", "value": f"{peak_rss_gb():.2f} GB"})
    report("pedigree", rows, bandwidth)
    print(
        "Scenario: one simulated lineage, 6 generations, Poisson(1.6) sons, Yfiler Plus "
        "catalog rates, 30% of men typed, donor hidden among the two youngest generations "
        "(prior uniform over them), hit = nearest typed relative, expansion G = 5."
    )


if __name__ == "__main__":
    main()
