"""Statistical checks of patriline's simulator against theory and a published study.

Run as a script (``python verification/simulate_checks.py [--quick] [--seeds]``;
``--seeds`` adds the spread of the study's figures over six seeds): prints each
figure beside its expectation and writes plots to ``verification/output/``. The test
suite runs the same functions at small sizes (tests/test_verification.py).

Checks
------
1. SMM repeat-number variance: two men ``m`` meioses apart (through a monomorphic
   founder) differ at a locus copy with ``E[(x_i - x_j)^2] = m * mu * E[step^2]``, with
   ``E[step^2] = (1 - p2) * 1 + p2 * 4`` (two lineages of ``t`` generations: ``2 mu t
   E[step^2]``; Ohta & Kimura 1973).
2. Father-son difference share: ``1 - prod_c (1 - mu_c)`` over locus copies.
3. VRS: the variance of the number of sons per father under Gamma(1/v, v) weights is
   ``(N - 1)(1 + v) / (N + v)`` (Dirichlet-multinomial; -> 1 + v; malan's model).
4. The malan-based reach study (Olsen et al. 2025, FSI Genetics 103320; Wright-Fisher,
   VRS 0.2, constant 100 generations then 2 % growth for 150, about 500,000 men, the
   last 3 generations alive, trace donors any living man, database members included):
   database of 5 % -> P(match) 41 % (Yfiler Plus) / 54 % (PPY23); 0.5 % -> 6 % / 10 %;
   given a match, within 5 meioses 64 % / 56 %.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from patriline.reference import default_catalog
from patriline.simulate import SimConfig, reach, simulate
from patriline.simulate.config import (
    STUDY_KITS,
    STUDY_LIVING_GENERATIONS,
    STUDY_TRACES,
    study_config,
)
from patriline.simulate.population import column_rates

OUTPUT = Path(__file__).resolve().parent / "output"

#: Published figures of the malan-based study: (kit, share) -> (P(match), P(<=5 | match)).
PUBLISHED = {
    ("yfiler_plus", 0.05): (0.41, 0.64),
    ("ppy23", 0.05): (0.54, 0.56),
    ("yfiler_plus", 0.005): (0.06, None),
    ("ppy23", 0.005): (0.10, None),
}


def _rates(pop: Any) -> np.ndarray:
    """Per-column rates; DYS389II is its own segment's rate (it also moves with DYS389I)."""
    return column_rates(pop.layout, default_catalog())


def smm_variance(
    males: int = 50_000, generations: int = 40, pairs: int = 20_000, seed: int = 1
) -> dict[str, float]:
    """Observed / expected squared repeat difference over random pairs of living men."""
    cfg = SimConfig(males=males, generations=generations, founders="monomorphic", seed=seed)
    pop = simulate(cfg)
    rng = np.random.default_rng(seed)
    living = pop.living
    a = rng.choice(living, pairs)
    b = rng.choice(living, pairs)
    keep = a != b
    a, b = a[keep], b[keep]
    m = pop.meioses_many(a, b)
    m = np.where(
        m < 0, 2 * generations, m
    )  # unrelated within T: both lineages to the founder state
    # single-copy loci only: copies stored sorted re-pair multi-copy alleles, which
    # lowers their squared differences below the per-copy theory
    single = np.array(
        [c == 1 for c in pop.layout.copies for _ in range(c)],
    )
    va = pop.values_of(a)[single].astype(np.float64)
    vb = pop.values_of(b)[single].astype(np.float64)
    d2 = ((va - vb) / 10.0) ** 2
    step2 = (1 - cfg.two_step) * 1 + cfg.two_step * 4
    full = np.array([default_catalog().locus(n).copy_rate for n, _ in pop.layout.columns])
    expected = np.outer(full[single] * step2, m)  # DYS389II moves at mu_I + segment = mu_II
    ratio = float(d2.sum() / expected.sum())
    per_pair = d2.sum(axis=0)
    se = float(per_pair.std() / expected.sum(axis=0).mean() / np.sqrt(len(a)))
    return {
        "observed": float(d2.sum() / len(a)),
        "expected": float(expected.sum() / len(a)),
        "ratio": ratio,
        "ratio_se": se,
    }


def father_son_share(males: int = 100_000, seed: int = 2) -> dict[str, float]:
    """Share of father-son pairs that differ at >= 1 locus copy vs 1 - prod(1 - mu)."""
    cfg = SimConfig(males=males, generations=20, keep_generations=2, seed=seed)
    pop = simulate(cfg)
    sons = pop.living
    fathers = pop.father_of(sons)
    differ = (pop.values_of(sons) != pop.values_of(fathers)).any(axis=0)
    expected = 1.0 - float(np.prod(1.0 - _rates(pop)))
    n = len(sons)
    return {
        "observed": float(differ.mean()),
        "expected": expected,
        "se": float(np.sqrt(expected * (1 - expected) / n)),
    }


def vrs_variance(
    vrs: float = 0.2, males: int = 50_000, generations: int = 10, seed: int = 3
) -> dict[str, float]:
    """Variance of sons per father vs ``(N - 1)(1 + v) / (N + v)``."""
    pop = simulate(
        SimConfig(males=males, generations=generations, vrs=vrs, seed=seed, founders="monomorphic")
    )
    variances = []
    for g in range(1, generations + 1):
        local = pop.parent[pop.offsets[g] : pop.offsets[g + 1]] - pop.offsets[g - 1]
        counts = np.bincount(local, minlength=int(pop.sizes[g - 1]))
        variances.append(counts.var())
    n = float(males)
    return {"observed": float(np.mean(variances)), "expected": (n - 1) * (1 + vrs) / (n + vrs)}


def malan_study(
    males: int = 500_000,
    shares: tuple[float, ...] = (0.005, 0.05),
    seed: int = 1,
    queries: int = 3000,
) -> list[dict[str, Any]]:
    """The malan-based reach study set-up; rows with our figure beside the published one."""
    kits = list(STUDY_KITS)
    cfg = study_config(males, seed)
    result = reach(
        simulate(cfg),
        kits,
        list(shares),
        living_generations=STUDY_LIVING_GENERATIONS,
        traces=STUDY_TRACES,
        n_queries=queries,
        seed=seed,
    )
    out = []
    for r in result.rows:
        pub = PUBLISHED.get((r.kit, r.share), (None, None))
        out.append(
            {
                "kit": r.kit,
                "share": r.share,
                "p_match": r.p_match,
                "published_p_match": pub[0],
                "p_within_5": r.p_within_5_meioses_given_match,
                "published_p_within_5": pub[1],
                "mean_matching_men": r.mean_matching_men,
            }
        )
    return out


def malan_study_seeds(
    seeds: tuple[int, ...] = (1, 2, 3, 4, 5, 6),
    males: int = 500_000,
    share: float = 0.05,
    queries: int = 5000,
) -> dict[tuple[str, str], dict[str, float]]:
    """Spread over seeds of the study's figures at one share, for both definitions of
    the trace donors (``"outside"`` the database, or ``"all"`` living men as the study).

    Returns ``{(kit, traces): {"p_match", "p_match_sd", "p_within_5", "p_within_5_sd"}}``
    (mean and standard deviation across seeds).
    """
    got: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for seed in seeds:
        pop = simulate(study_config(males, seed))
        for traces in ("outside", "all"):
            res = reach(
                pop,
                list(STUDY_KITS),
                [share],
                living_generations=STUDY_LIVING_GENERATIONS,
                traces=traces,
                n_queries=queries,
                seed=seed,
            )
            for r in res.rows:
                w = r.p_within_5_meioses_given_match
                got.setdefault((r.kit, traces), []).append((r.p_match, np.nan if w is None else w))
    out = {}
    for key, vals in got.items():
        a = np.array(vals)
        sd = a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(2)
        out[key] = {
            "p_match": float(a[:, 0].mean()),
            "p_match_sd": float(sd[0]),
            "p_within_5": float(a[:, 1].mean()),
            "p_within_5_sd": float(sd[1]),
        }
    return out


def _plot(
    study: list[dict[str, Any]], smm: dict[str, float], fs: dict[str, float], vrs: dict[str, float]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    OUTPUT.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    labels = [f"{r['kit']}\n{r['share']:.1%}" for r in study]
    x = np.arange(len(study))
    axes[0].bar(x - 0.2, [100 * r["p_match"] for r in study], 0.4, label="patriline")
    axes[0].bar(
        x + 0.2,
        [100 * (r["published_p_match"] or 0) for r in study],
        0.4,
        label="published (malan)",
    )
    axes[0].set_xticks(x, labels)
    axes[0].set_ylabel("P(database match) (%)")
    axes[0].legend()
    names = ["SMM variance", "father-son diff.", "VRS offspring var."]
    ratios = [smm["ratio"], fs["observed"] / fs["expected"], vrs["observed"] / vrs["expected"]]
    axes[1].bar(names, ratios)
    axes[1].axhline(1.0, color="k", lw=1)
    axes[1].set_ylabel("observed / theory")
    fig.savefig(OUTPUT / "simulate_checks.png", dpi=120)
    fig.savefig(OUTPUT / "simulate_checks.svg")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    t = time.perf_counter()
    smm = smm_variance(males=20_000 if quick else 200_000)
    print(
        f"SMM variance: observed {smm['observed']:.4f}, theory {smm['expected']:.4f}, ratio {smm['ratio']:.3f} (se {smm['ratio_se']:.3f})"
    )
    fs = father_son_share(males=50_000 if quick else 1_000_000)
    print(
        f"father-son differ: observed {fs['observed']:.4f}, theory {fs['expected']:.4f} (se {fs['se']:.4f})"
    )
    vrs = vrs_variance(males=20_000 if quick else 200_000)
    print(
        f"VRS 0.2 sons/father variance: observed {vrs['observed']:.4f}, theory {vrs['expected']:.4f}"
    )
    study = malan_study(males=100_000 if quick else 500_000)
    for r in study:
        pw = "-" if r["p_within_5"] is None else f"{r['p_within_5']:.1%}"
        pub = "-" if r["published_p_within_5"] is None else f"{r['published_p_within_5']:.0%}"
        print(
            f"study {r['kit']:<12} db {r['share']:.1%}: P(match) {r['p_match']:.1%} "
            f"(published {r['published_p_match']:.0%}); <=5 meioses | match {pw} (published {pub}); "
            f"matching men {r['mean_matching_men']:.1f}"
        )
    if "--seeds" in (argv if argv is not None else sys.argv[1:]):
        spread = malan_study_seeds(males=100_000 if quick else 500_000)
        for (kit, traces), v in sorted(spread.items()):
            print(
                f"study {kit:<12} db 5.0%, donors {traces:<7}: P(match) "
                f"{v['p_match']:.1%} (sd {v['p_match_sd']:.1%}); <=5 meioses | match "
                f"{v['p_within_5']:.1%} (sd {v['p_within_5_sd']:.1%})"
            )
    _plot(study, smm, fs, vrs)
    print(f"plots in {OUTPUT}; {time.perf_counter() - t:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
