"""The structured simulator on Dask: same seed, same output for any number of workers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

pytest.importorskip("pyarrow")
pytest.importorskip("distributed")

from patriline.errors import InputError
from patriline.simulate import SimConfig
from patriline.simulate.distributed import dask_client, dask_mapper, parse_dask
from patriline.simulate.regional import regional_reach
from patriline.simulate.regions import Region
from patriline.simulate.shards import load_sharded, read_manifest
from patriline.simulate.structured import CountryConfig, simulate_country

REGIONS = tuple(Region(f"r{i}", 700 + 300 * i) for i in range(4))


def _config() -> CountryConfig:
    base = SimConfig(males=1, generations=8, vrs=0.2, kit="yfiler", keep_generations=2, seed=17)
    return CountryConfig(base, REGIONS, 0.1, "nearest", shard_rows=600)


def _digest(d: Path) -> str:
    """Every shard's bytes, and the manifest without its time stamp."""
    h = hashlib.sha256()
    for f in sorted(d.rglob("*.parquet")):
        h.update(f.relative_to(d).as_posix().encode())
        h.update(f.read_bytes())
    m = read_manifest(d)
    m.pop("provenance")
    h.update(repr(sorted(m.items())).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def serial_fixture(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    simulate_country(_config(), out)
    return out


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_simulate_country__dask_workers_same_output(tmp_path, serial_fixture, workers) -> None:
    out = tmp_path / f"w{workers}"
    with dask_client(f"local:{workers}", processes=False) as client:
        assert len(client.scheduler_info()["workers"]) == workers
        simulate_country(_config(), out, mapper=dask_mapper(client), workers=f"local:{workers}")
    assert _digest(out) == _digest(serial_fixture)
    a = regional_reach(load_sharded(out), ["yfiler"], {"r0": 0.25, "r1": 0.02}, seed=3)
    b = regional_reach(load_sharded(serial_fixture), ["yfiler"], {"r0": 0.25, "r1": 0.02}, seed=3)
    assert [r.__dict__ for r in a.rows] == [r.__dict__ for r in b.rows]


def test_simulate_country__other_seed_differs(tmp_path, serial_fixture) -> None:
    cfg = _config()
    other = CountryConfig(
        SimConfig(**{**cfg.base.to_dict(), "seed": 18}), cfg.regions, cfg.migration, cfg.model
    )
    simulate_country(other, tmp_path / "o")
    assert _digest(tmp_path / "o") != _digest(serial_fixture)


def test_parse_dask__forms() -> None:
    assert parse_dask("local") == ("local", None)
    assert parse_dask("local:3") == ("local", 3)
    assert parse_dask("tcp://10.0.0.5:8786") == ("tcp://10.0.0.5:8786", None)
    with pytest.raises(InputError, match="local:N"):
        parse_dask("local:x")
    with pytest.raises(InputError, match="at least one worker"):
        parse_dask("local:0")
