"""Tests of the population simulator: config, genealogy, mutation, founders, output."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patriline.encoding import MISSING
from patriline.errors import InputError, NotFound
from patriline.reference import default_catalog
from patriline.simulate import (
    SimConfig,
    database_sample,
    load_population,
    loci_for_kits,
    meioses,
    simulate,
    trace_sample,
    write_population,
)
from patriline.simulate._kernels import apply_steps, sort_copies


@pytest.fixture(scope="module")
def small_pop_fixture():
    return simulate(SimConfig(males=3000, generations=30, vrs=0.2, keep_generations=3, seed=11))


def test_size_history__constant_then_growth_ends_at_males() -> None:
    cfg = SimConfig(males=1000, generations=5, growth=0.1, growth_generations=3)
    sizes = cfg.size_history()
    assert len(sizes) == 1 + 5 + 3
    assert sizes[-1] == 1000
    assert sizes[-2] == round(1000 / 1.1)
    assert (sizes[:6] == sizes[0]).all()
    assert sizes[0] == round(1000 / 1.1**3)


def test_size_history__explicit_sizes() -> None:
    cfg = SimConfig(males=1, sizes=(10, 20, 30))
    assert cfg.size_history().tolist() == [10, 10, 20, 30]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"males": -5}, "males must"),  # messages name fields; the CLI shows flags
        ({"males": 10, "generations": -1}, "generations must"),
        ({"males": 10, "growth": 1.5, "growth_generations": 2}, "growth must"),
        ({"males": 10, "vrs": -0.1}, "vrs must"),
        ({"males": 10, "two_step": 1.2}, "two-step"),
        ({"males": 10, "kit": "nokit"}, "unknown kit"),
        ({"males": 10, "generations": 0}, "at least one generation"),
        ({"males": 10, "generations": 2, "keep_generations": 9}, "keep-generations"),
    ],
)
def test_simconfig__bad_input_raises_input_error(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        SimConfig(**kwargs)


def test_simulate__same_seed_identical_output() -> None:
    cfg = SimConfig(males=2000, generations=15, vrs=0.3, seed=5)
    a, b = simulate(cfg), simulate(cfg)
    assert np.array_equal(a.parent, b.parent)
    assert np.array_equal(a.encoded().values, b.encoded().values)
    c = simulate(SimConfig(males=2000, generations=15, vrs=0.3, seed=6))
    assert not np.array_equal(a.parent, c.parent)


def test_simulate__genealogy_is_consistent(small_pop_fixture) -> None:
    pop = small_pop_fixture
    gen = pop.generation_array()
    sons = np.arange(pop.offsets[1], len(pop.parent))
    # every father lies in the generation just before his son
    assert (gen[pop.parent[sons]] == gen[sons] - 1).all()
    assert (pop.parent[: pop.sizes[0]] == -1).all()
    assert pop.encoded().values.shape == (27, 3000)


def test_simulate__multicopy_sorted_and_within_bounds(small_pop_fixture) -> None:
    pop = small_pop_fixture
    cat = default_catalog()
    v = pop.encoded().values
    for name in pop.layout.loci:
        sl = pop.layout.slice_of(name)
        loc = cat.locus(name)
        assert (v[sl] >= loc.allele_min * 10).all() and (v[sl] <= loc.allele_max * 10).all()
        if sl.stop - sl.start > 1:
            assert (np.diff(v[sl], axis=0) >= 0).all()


def test_simulate__founders_are_diverse_msprime() -> None:
    """msprime founders: mean squared repeat difference of two founders equals
    ``2 mu Ne`` (SMM, +-1 steps, pair coalescence time Exp(Ne) in a haploid coalescent;
    theory, Ohta & Kimura 1973), averaged over 20 independent trees; slow loci only, so
    the allele bounds hardly matter. Monomorphic founders are all alike."""
    cat = default_catalog()
    ratios = []
    for seed in range(20):
        pop = simulate(
            SimConfig(males=200, generations=1, keep_generations=2, founder_ne=500, seed=seed)
        )
        f = pop.haplotypes[0].astype(np.float64) / 10
        for c, (name, _) in enumerate(pop.layout.columns):
            loc = cat.locus(name)
            if loc.copies > 1 or loc.rate > 0.003:
                continue
            d2 = ((f[c][:, None] - f[c][None, :]) ** 2).mean() * 200 / 199
            ratios.append(d2 / (2 * loc.copy_rate * 500))
    assert 0.7 < float(np.mean(ratios)) < 1.3
    mono = simulate(
        SimConfig(males=2000, generations=1, keep_generations=2, founders="monomorphic", seed=3)
    )
    assert len(np.unique(mono.haplotypes[0].T, axis=0)) == 1


def _naive_meioses(pop, a: int, b: int) -> int | None:
    """Obviously-correct reference: all ancestors of a with their depth, then walk b up."""
    depth_a = {}
    x, d = a, 0
    while x >= 0:
        depth_a[x] = d
        x, d = int(pop.parent[x]), d + 1
    y, d = b, 0
    while y >= 0:
        if y in depth_a:
            return depth_a[y] + d
        y, d = int(pop.parent[y]), d + 1
    return None


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_meioses__equals_naive_walk(small_pop_fixture, i: int, j: int) -> None:
    pop = small_pop_fixture
    n = len(pop.parent)
    a, b = i % n, j % n
    assert pop.meioses(a, b) == _naive_meioses(pop, a, b)
    assert pop.meioses(a, b) == pop.meioses(b, a)


def test_meioses__father_son_and_brothers(small_pop_fixture) -> None:
    pop = small_pop_fixture
    son = int(pop.living[10])
    father = int(pop.parent[son])
    assert meioses(pop, pop.person_id(son), pop.person_id(father)) == 1
    assert pop.meioses(son, son) == 0
    brothers = np.flatnonzero(pop.parent == father)
    if len(brothers) > 1:
        assert pop.meioses(int(brothers[0]), int(brothers[1])) == 2
    with pytest.raises(NotFound):
        pop.meioses("M99999999999", son)
    with pytest.raises(NotFound):
        pop.meioses("X12", son)


def test_apply_steps__reflects_at_bounds() -> None:
    col = np.array([100, 200, 150], dtype=np.int16)
    apply_steps(col, np.array([0, 1, 2]), np.array([-20, 10, 10]), 90, 200)
    assert col.tolist() == [100, 190, 160]  # 80 -> 100 (reflect at 90), 210 -> 190


def test_sort_copies__sorts_each_row() -> None:
    v = np.array([[3, 1, 5], [2, 4, 5], [9, 9, 9]], dtype=np.int16)
    sort_copies(v, 0, 2)
    assert v.tolist() == [[2, 1, 5], [3, 4, 5], [9, 9, 9]]


def test_database_sample__uniform_share_and_concentrated(small_pop_fixture) -> None:
    pop = small_pop_fixture
    db = database_sample(pop, 0.1, seed=1)
    assert len(db) == 300 and len(np.unique(db)) == 300
    assert np.isin(db, pop.living).all()
    conc = database_sample(pop, 0.1, concentration=5.0, seed=1)
    assert len(conc) == 300

    def families(ids: np.ndarray) -> int:
        return len(np.unique(pop.parent[pop.parent[ids]]))

    # over-sampling whole families: fewer distinct grandfathers than a uniform sample
    assert families(conc) < families(db)
    with pytest.raises(InputError, match="share"):
        database_sample(pop, 1.5)


def test_trace_sample__excludes_database_and_drops_loci(small_pop_fixture) -> None:
    pop = small_pop_fixture
    db = database_sample(pop, 0.5, seed=2)
    donors, enc = trace_sample(pop, 200, exclude=db, dropout=0.3, seed=4)
    assert not np.isin(donors, db).any()
    missing_loci = (enc.values == MISSING).mean()
    assert 0.2 < missing_loci < 0.4
    # multi-copy loci drop out as a whole
    sl = pop.layout.slice_of("DYS385")
    assert ((enc.values[sl.start] == MISSING) == (enc.values[sl.start + 1] == MISSING)).all()
    full = trace_sample(pop, 5, dropout=0.0, seed=4)[1]
    assert (full.values != MISSING).all()


def test_write_population__importable_and_reloads(tmp_path, small_pop_fixture) -> None:
    from patriline.io import read

    pop = small_pop_fixture
    summary = write_population(pop, tmp_path / "out")
    out = tmp_path / "out"
    result = read(out / "haplotypes.csv")
    assert result.rows == 9000 and not result.problems
    rec = result.records[0]
    assert rec.person == "M" + rec.specimen[1:]
    gid = pop.parse_person(rec.person)
    assert rec.haplotype["DYS19"].values[0] == pop.values_of(np.array([gid]))[0, 0]
    links = (out / "links.csv").read_text().splitlines()
    assert links[0] == "son,father" and len(links) - 1 == summary["links_written"] == 6000
    son, father = links[1].split(",")
    assert pop.meioses(son, father) == 1
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == 11 and prov["parameters"]["vrs"] == 0.2
    assert prov["software"]["version"] and prov["kind"] == "simulate"
    males = (out / "males.csv").read_text().splitlines()
    assert males[0] == "person,generation,alive,father,lineage" and len(males) == 9001
    last = males[-1].split(",")
    assert last[1] == str(pop.n_generations) and last[2] == "1"
    assert pop.meioses(last[0], last[3]) == 1
    assert pop.founder_of(np.array([pop.parse_person(last[0])]))[0] == pop.parse_person(last[4])
    again = load_population(out)
    assert again.meioses(son, father) == 1
    assert np.array_equal(again.encoded().values, pop.encoded().values)


def test_loci_for_kits__union_in_catalog_order() -> None:
    loci = loci_for_kits(["yfiler_plus", "ppy23"])
    assert "DYS549" in loci and "DYS460" in loci
    assert list(loci) == [n for n in default_catalog().all_loci if n in set(loci)]
    with pytest.raises(InputError, match="unknown kit"):
        loci_for_kits(["nope"])


def test_simulate__dys389_step_counts_once_in_compare() -> None:
    """A DYS389I mutation shifts DYS389II too (II contains I), so the II - I segment is
    unchanged and ``compare`` counts one mismatch, not two."""
    from patriline.encoding import decode
    from patriline.haplotype import compare

    pop = simulate(SimConfig(males=20_000, generations=5, keep_generations=2, seed=9))
    i, ii = pop.layout.dys389
    sons = pop.living
    fathers = pop.father_of(sons)
    vs, vf = pop.values_of(sons), pop.values_of(fathers)
    changed_i = np.flatnonzero(vs[i] != vf[i])
    assert len(changed_i) > 20
    seg_same = (vs[ii] - vs[i])[changed_i] == (vf[ii] - vf[i])[changed_i]
    assert seg_same.mean() > 0.95
    enc = pop.encoded()
    j = int(changed_i[0])
    hs = decode(enc, [j])[0]
    g = pop.n_generations - 1
    hf = decode(pop.encoded(generation=g), [int(fathers[j] - pop.offsets[g])])[0]
    assert hf["DYS389I"] != hs["DYS389I"]
    cmp = compare(hs, hf)
    assert cmp["DYS389I"].mismatches == 1
    assert cmp["DYS389II"].mismatches == int(not seg_same[0])


def test_study_config__is_the_published_setup() -> None:
    """The malan-based reach study (ystr-facts.md): WF, VRS 0.2, 100 constant generations
    then 2 % growth for 150, 3 living generations, Yfiler Plus and PPY23 loci."""
    from patriline.reference import default_catalog
    from patriline.simulate.config import STUDY_KITS, study_config

    cfg = study_config(males=400_000, seed=3)
    assert (cfg.males, cfg.seed) == (400_000, 3)
    assert (cfg.generations, cfg.growth, cfg.growth_generations) == (100, 0.02, 150)
    assert (cfg.vrs, cfg.keep_generations, cfg.founders) == (0.2, 3, "monomorphic")
    catalog = default_catalog()
    wanted = {n for k in STUDY_KITS for n in catalog.kit(k).loci}
    assert set(cfg.loci or ()) == wanted
