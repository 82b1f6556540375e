"""Tests of the sharded population format (Parquet shards + manifest) and the region table."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pyarrow")

from patriline import __version__
from patriline.errors import InputError
from patriline.simulate import SimConfig, load_population
from patriline.simulate.regions import Region, read_regions, read_shares
from patriline.simulate.shards import iter_link_shards, load_sharded, read_manifest
from patriline.simulate.structured import CountryConfig, simulate_country

REGIONS = (
    Region("north", 900),
    Region("centre", 1500, growth=0.05, parent="P1"),
    Region("south", 600),
)


@pytest.fixture(scope="module")
def country_dir_fixture(tmp_path_factory):
    out = tmp_path_factory.mktemp("country")
    base = SimConfig(
        males=1,
        generations=12,
        growth=0.02,
        growth_generations=4,
        vrs=0.2,
        kit="yfiler",
        keep_generations=2,
        seed=21,
    )
    simulate_country(CountryConfig(base, REGIONS, 0.1, "uniform", shard_rows=500), out)
    return out


def test_manifest__regions_rows_span_seed_version(country_dir_fixture) -> None:
    m = read_manifest(country_dir_fixture)
    assert m["regions"] == ["north", "centre", "south"]
    assert m["parents"] == [None, "P1", None]
    assert m["seed"] == 21 and m["version"] == __version__
    assert m["generation_span"] == [0, 16] and m["kept_generations"] == [15, 16]
    sizes = np.array(m["region_sizes"])
    assert sizes[:, -1].tolist() == [900, 1500, 600]
    assert sizes[1, 0] == round(1500 / 1.05**4)  # the region's own growth
    assert sizes[0, 0] == round(900 / 1.02**4)  # the default growth
    for e in m["shards"]:
        assert 0 < e["rows"] <= 500
    for kind in ("links", "haplotypes"):
        for g in range(1 if kind == "links" else 15, 17):
            for r in range(3):
                rows = sum(
                    e["rows"]
                    for e in m["shards"]
                    if e["kind"] == kind and e["generation"] == g and e["region"] == r
                )
                assert rows == sizes[r, g], (kind, g, r)


def test_load_sharded__genealogy_and_regions(country_dir_fixture) -> None:
    pop = load_population(country_dir_fixture)  # the existing reader accepts shards
    assert pop.regions is not None and pop.region_names == ("north", "centre", "south")
    T = pop.n_generations
    for g in range(1, T + 1):
        ids = np.arange(pop.offsets[g], pop.offsets[g + 1])
        assert (pop.generation_of(pop.parent[ids]) == g - 1).all()
    assert (pop.parent[: pop.sizes[0]] == -1).all()
    living = pop.living
    assert np.bincount(pop.region_of(living)).tolist() == [900, 1500, 600]
    # about 10 % of sons have a father from the migrant pool, 2/3 of them elsewhere
    away = (pop.region_of(living) != pop.region_of(pop.parent[living])).mean()
    assert 0.03 < away < 0.12


def test_load_sharded__sons_carry_their_fathers_haplotype(country_dir_fixture) -> None:
    """A kept son differs from his (kept) father at few columns, wherever the father
    lives: migrants' haplotypes are gathered from the father's region."""
    pop = load_sharded(country_dir_fixture)
    T = pop.n_generations
    sons = pop.living
    fathers = pop.parent[sons]
    diff = (pop.values_of(sons) != pop.values_of(fathers)).sum(axis=0)
    assert diff.max() <= 4
    assert (diff == 0).mean() > 0.5
    migrants = pop.region_of(sons) != pop.region_of(fathers)
    assert migrants.sum() > 50 and (diff[migrants] == 0).mean() > 0.5
    # while unrelated men differ a lot (the check has power)
    other = np.roll(fathers, 1)
    assert (pop.values_of(sons) != pop.values_of(other)).sum(axis=0).mean() > 2 * diff.mean()
    assert T == 16


def test_load_sharded__missing_shard_is_an_input_error(tmp_path, country_dir_fixture) -> None:
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(country_dir_fixture, d)
    m = read_manifest(d)
    victim = next(e for e in m["shards"] if e["kind"] == "haplotypes")
    (d / victim["path"]).unlink()
    with pytest.raises(InputError, match="cannot read shard"):
        load_sharded(d)


def test_iter_link_shards__one_shard_at_a_time(country_dir_fixture) -> None:
    seen = 0
    for e, person, father in iter_link_shards(country_dir_fixture):
        assert len(person) == len(father) == e["rows"] <= 500
        assert (np.diff(father) >= 0).all()  # fathers ascending within a shard
        seen += e["rows"]
    assert seen == read_manifest(country_dir_fixture)["total_men"] - sum(
        np.array(read_manifest(country_dir_fixture)["region_sizes"])[:, 0]
    )


def test_read_regions__table_and_errors(tmp_path) -> None:
    p = tmp_path / "regions.csv"
    p.write_text("region,males,growth,parent\nA,100,,P\nB,50,0.01,P\n", encoding="utf-8")
    assert read_regions(p) == (Region("A", 100, None, "P"), Region("B", 50, 0.01, "P"))
    p.write_text("region,males\nA,100\nB,ten\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"regions.csv, line 3: males 'ten'"):
        read_regions(p)
    p.write_text("region,males\nA,100\nA,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 3: region 'A' appears twice"):
        read_regions(p)
    p.write_text("name,males\nA,100\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1: missing column"):
        read_regions(p)


def test_read_shares__defaults_and_errors(tmp_path) -> None:
    p = tmp_path / "shares.csv"
    p.write_text("region,share\nA,0.25\nB,2%\n", encoding="utf-8")
    assert read_shares(p, ("A", "B", "C")) == {"A": 0.25, "B": 0.02, "C": 0.0}
    p.write_text("region,share\nZ,0.1\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: region 'Z' is not in the country"):
        read_shares(p, ("A",))
    p.write_text("region,share\nA,1.5\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"share must be in \[0, 1\]"):
        read_shares(p, ("A",))


def test_country_config__bad_input() -> None:
    base = SimConfig(males=1, generations=3)
    with pytest.raises(InputError, match="--migration must be in"):
        CountryConfig(base, REGIONS, 1.5)
    with pytest.raises(InputError, match="--migration-model"):
        CountryConfig(base, REGIONS, 0.1, "ring")
    with pytest.raises(InputError, match="at least one region"):
        CountryConfig(base, (), 0.1)


def test_manifest__is_json_with_flows(country_dir_fixture) -> None:
    m = json.loads((country_dir_fixture / "manifest.json").read_text())
    flows = np.array(m["migrant_flows"])
    sizes = np.array(m["region_sizes"])
    assert (flows.sum(axis=1) == sizes[:, 1:].sum(axis=1)).all()
