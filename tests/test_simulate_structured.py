"""Tests of the structured (regional) simulator against theory and the panmictic model.

Limits: migration 0 gives independent regions (no father elsewhere; each region's reach
is that of a separate panmictic simulation of its size); migration 1 with the uniform
(island-model) pool is the panmictic model. Theory: under Wright-Fisher with variance
in reproductive success v (fathers' weights Gamma(1/v, v), i.e. Dirichlet(1/v)), two
sons drawn from the same M fathers share a father with probability (1 + v) / (M + v).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyarrow")

from patriline.simulate import SimConfig, reach, simulate
from patriline.simulate.regional import regional_database, regional_reach
from patriline.simulate.regions import Region
from patriline.simulate.shards import load_sharded
from patriline.simulate.structured import CountryConfig, simulate_country

V = 0.2


def _country(tmp_path, name: str, regions, m: float, model: str = "uniform", **kw):
    base = SimConfig(males=1, **kw)
    out = tmp_path / name
    simulate_country(CountryConfig(base, regions, m, model), out)
    return load_sharded(out)


def _sibling_probability(fathers_a: np.ndarray, fathers_b: np.ndarray | None = None) -> float:
    """P(a random son of set a and a random (other) son of set b share a father)."""
    if fathers_b is None:
        c = np.bincount(fathers_a).astype(np.float64)
        n = len(fathers_a)
        return float((c * (c - 1)).sum() / (n * (n - 1)))
    top = max(fathers_a.max(), fathers_b.max()) + 1
    ca = np.bincount(fathers_a, minlength=top).astype(np.float64)
    cb = np.bincount(fathers_b, minlength=top).astype(np.float64)
    return float((ca * cb).sum() / (len(fathers_a) * len(fathers_b)))


@pytest.fixture(scope="module")
def genealogy_fixture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("limits")
    regions = (Region("a", 12000), Region("b", 8000), Region("c", 20000))
    kw = {"generations": 12, "vrs": V, "kit": "minimal", "founders": "monomorphic", "seed": 3}
    return {m: _country(tmp, f"m{m}", regions, m, **kw) for m in (0.0, 1.0)}


def test_migration_0__no_father_elsewhere_and_theory_per_region(genealogy_fixture) -> None:
    pop = genealogy_fixture[0.0]
    T = pop.n_generations
    for g in range(1, T + 1):
        sons = np.arange(pop.offsets[g], pop.offsets[g + 1])
        assert (pop.region_of(sons) == pop.region_of(pop.parent[sons])).all()
    for r, name in enumerate(pop.region_names):
        est = []
        for g in range(1, T + 1):
            sons = np.arange(pop.offsets[g], pop.offsets[g + 1])
            est.append(_sibling_probability(pop.parent[sons[pop.region_of(sons) == r]]))
        m_r = pop.regions.bounds[0, r + 1] - pop.regions.bounds[0, r]
        assert np.mean(est) == pytest.approx((1 + V) / (m_r + V), rel=0.03), name


def test_migration_1_uniform__panmictic_theory_across_regions(genealogy_fixture) -> None:
    """Every son, whatever his region, draws his father from the whole country."""
    pop = genealogy_fixture[1.0]
    T = pop.n_generations
    M = pop.sizes[0]
    within, across = [], []
    for g in range(1, T + 1):
        sons = np.arange(pop.offsets[g], pop.offsets[g + 1])
        reg = pop.region_of(sons)
        f = pop.parent[sons].astype(np.int64)
        within.append(_sibling_probability(f))
        across.append(_sibling_probability(f[reg == 0], f[reg == 2]))
    theory = (1 + V) / (M + V)
    assert np.mean(within) == pytest.approx(theory, rel=0.03)
    assert np.mean(across) == pytest.approx(theory, rel=0.06)
    # sons' region and father's region independent: region shares of fathers = sizes
    living = pop.living
    share_away = (pop.region_of(living) != pop.region_of(pop.parent[living])).mean()
    w = pop.regions.bounds[-2, 1:] - pop.regions.bounds[-2, :-1]
    p = w / w.sum()
    assert share_away == pytest.approx(1 - (p**2).sum(), abs=0.01)


def test_nearest__only_neighbours_and_share_m(tmp_path) -> None:
    regions = tuple(Region(f"r{i}", 5000) for i in range(4))
    pop = _country(
        tmp_path,
        "nn",
        regions,
        0.2,
        "nearest",
        generations=3,
        kit="minimal",
        founders="monomorphic",
        seed=2,
    )
    living = pop.living
    a, b = pop.region_of(living), pop.region_of(pop.parent[living])
    assert (np.abs(a - b) <= 1).all()
    assert (a != b).mean() == pytest.approx(0.2, abs=0.015)


def test_migration_0__region_reach_equals_separate_panmictic(tmp_path) -> None:
    """Each region of an m = 0 country, taken alone, has the reach of a panmictic
    simulation of its size (same distribution: 12 regions against 12 populations)."""
    kw = {"generations": 20, "vrs": V, "kit": "yfiler", "founders": "msprime"}
    regions = tuple(Region(f"R{i}", 3000) for i in range(3))
    country, alone = [], []
    for seed in range(4):
        out = tmp_path / f"c{seed}"
        simulate_country(CountryConfig(SimConfig(males=1, seed=seed, **kw), regions, 0.0), out)
        for r in regions:
            row = reach(load_sharded(out, region=r.name), ["yfiler"], [0.1], seed=seed).rows[0]
            country.append((row.p_match, row.mean_matching_men))
        for k in range(3):
            pan = simulate(SimConfig(males=3000, seed=100 + 3 * seed + k, **kw))
            row = reach(pan, ["yfiler"], [0.1], seed=seed).rows[0]
            alone.append((row.p_match, row.mean_matching_men))
    a, b = np.array(country), np.array(alone)
    se = np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
    z = (a.mean(0) - b.mean(0)) / se
    assert (np.abs(z) < 4).all(), (a.mean(0), b.mean(0), z)


def test_migration_1_uniform__study_shaped_reach_equals_panmictic(tmp_path) -> None:
    """m = 1 uniform against today's simulator on a reduced study-shaped set-up (VRS
    0.2, growth 2 %, monomorphic founders, 3 living generations, donors any living man).
    The full-size check is in docs/simulation.md."""
    kw = {
        "generations": 15,
        "growth": 0.02,
        "growth_generations": 25,
        "vrs": V,
        "kit": "yfiler_plus",
        "founders": "monomorphic",
        "keep_generations": 3,
    }
    regions = tuple(Region(f"R{i}", 2500) for i in range(4))
    rk = {"living_generations": 3, "traces": "all", "n_queries": 400}
    country, pan = [], []
    for seed in range(3):
        pop = _country(tmp_path, f"s{seed}", regions, 1.0, seed=seed, **kw)
        row = next(
            r
            for r in regional_reach(pop, ["yfiler_plus"], 0.05, seed=seed, **rk).rows
            if r.level == "country"
        )
        country.append((row.p_match, row.mean_matching_men))
        p = simulate(SimConfig(males=10000, seed=50 + seed, **kw))
        r2 = reach(p, ["yfiler_plus"], [0.05], seed=seed, **rk).rows[0]
        pan.append((r2.p_match, r2.mean_matching_men))
    a, b = np.array(country), np.array(pan)
    assert a[:, 0].mean() == pytest.approx(b[:, 0].mean(), abs=0.04)
    assert a[:, 1].mean() == pytest.approx(b[:, 1].mean(), rel=0.2)


def test_regional_reach__one_region_equals_reach() -> None:
    """On a panmictic population (one region) the regional figures are reach()'s."""
    pop = simulate(SimConfig(males=3000, generations=20, vrs=V, kit="yfiler", seed=4))
    a = regional_reach(pop, ["yfiler"], 0.1, seed=2, n_queries=500).rows
    b = reach(pop, ["yfiler"], [0.1], seed=2, n_queries=500).rows[0]
    assert len(a) == 1
    assert a[0].p_match == b.p_match and a[0].database_size == b.database_size
    assert a[0].closest_meioses == b.closest_meioses
    assert a[0].mean_matching_men == pytest.approx(b.mean_matching_men)
    assert a[0].p_within_k_given_match == pytest.approx(b.p_within_5_meioses_given_match)


def test_regional_reach__shares_by_region_and_totals(tmp_path) -> None:
    regions = (Region("dense", 4000, parent="P"), Region("x", 4000, parent="P"), Region("y", 2000))
    pop = _country(
        tmp_path,
        "sh",
        regions,
        0.02,
        generations=20,
        vrs=V,
        kit="yfiler",
        founders="monomorphic",
        seed=8,
    )
    shares = {"dense": 0.25, "x": 0.02, "y": 0.02}
    db = regional_database(pop, shares, seed=1)
    assert np.bincount(pop.region_of(pop.living[db]), minlength=3).tolist() == [1000, 80, 40]
    res = regional_reach(pop, ["yfiler"], shares, seed=1, n_queries=300)
    by = {(r.level, r.region): r for r in res.rows}
    assert set(by) == {
        ("region", "dense"),
        ("region", "x"),
        ("region", "y"),
        ("province", "P"),
        ("country", "country"),
    }
    dense, x, country = by["region", "dense"], by["region", "x"], by["country", "country"]
    assert dense.database_size == 1000 and country.database_size == 1120
    assert dense.p_within_k > x.p_within_k  # patrilocality: dense sampling finds relatives
    assert country.donors == 10000 - 1120
    w = np.array([by["region", n].donors for n in ("dense", "x", "y")])
    pm = np.array([by["region", n].p_match for n in ("dense", "x", "y")])
    assert country.p_match == pytest.approx((w * pm).sum() / w.sum())
    for r in res.rows:
        assert 0 <= r.p_within_k <= r.p_match <= 1
    assert "dense" in res.table() and "[country]" in res.table()


def test_simulate_reach_cli__regions_shards_shares_file(tmp_path, capsys) -> None:
    import json

    from patriline.cli import main

    (tmp_path / "regions.csv").write_text(
        "region,males,growth,parent\nA,1500,,P\nB,1000,0.05,P\nC,800,,\n", encoding="utf-8"
    )
    (tmp_path / "shares.csv").write_text("region,share\nA,25%\nB,0.02\n", encoding="utf-8")
    sim = ["--generations", "15", "--vrs", "0.2", "--kit", "yfiler", "--seed", "4"]
    regions = ["--regions", str(tmp_path / "regions.csv"), "--migration", "0.05"]
    out = tmp_path / "country"
    assert main(["simulate", *sim, *regions, "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["living_men"] == 3300 and doc["regions"] == ["A", "B", "C"]
    assert (out / "manifest.json").exists()
    code = main(
        [
            "reach",
            "--population",
            str(out),
            "--kit",
            "yfiler",
            "--shares-file",
            str(tmp_path / "shares.csv"),
            "--seed",
            "1",
            "--json",
            "--plot",
            str(tmp_path / "r.png"),
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    (scenario,) = doc["scenarios"]
    rows = {r["region"]: r for r in scenario["rows"]}
    assert rows["A"]["database_size"] == 375 and rows["C"]["database_size"] == 0
    assert rows["country"]["database_size"] == 395
    assert (tmp_path / "r.png").exists() and (tmp_path / "r.svg").exists()
    # the same country simulated inside reach gives the same figures
    assert (
        main(
            [
                "reach",
                *sim,
                *regions,
                "--kit",
                "yfiler",
                "--shares-file",
                str(tmp_path / "shares.csv"),
                "--json",
            ]
        )
        == 0
    )
    again = json.loads(capsys.readouterr().out)["scenarios"][0]["rows"]
    # (seed 4 for both simulation and sampling here, so compare the database sizes)
    assert [r["database_size"] for r in again] == [r["database_size"] for r in scenario["rows"]]
    # misuse is a clear error, not a traceback
    assert main(["simulate", *sim, "--out", str(tmp_path / "x")]) == 2
    assert "--males is required" in capsys.readouterr().err
    assert (
        main(
            [
                "simulate",
                *sim,
                "--regions",
                str(tmp_path / "regions.csv"),
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "--migration" in capsys.readouterr().err
