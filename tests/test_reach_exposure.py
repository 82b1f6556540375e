"""Exposure report (``reach --db``): the posterior computation and the store path."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from patriline.casework import Session
from patriline.encoding import Encoded, Layout
from patriline.errors import InputError
from patriline.simulate import SimConfig, database_sample, simulate
from patriline.simulate.exposure import exposure
from patriline.simulate.reach import haplotype_classes, kit_view


@pytest.fixture(scope="module")
def country_fixture():
    return simulate(SimConfig(males=5000, generations=40, vrs=0.2, kit="yfiler", seed=8))


def test_exposure__equals_direct_posterior(country_fixture) -> None:
    """Rows recomputed by hand: P(S=s|c) ∝ (#classes of size s) * Binom(c; s, p)."""
    pop = country_fixture
    db = database_sample(pop, 0.1, seed=1)
    stored = pop.encoded(rows=db - pop.living[0])
    rep = exposure(stored, "yfiler", pop)
    assert rep.stored_typed == 500 and rep.share == pytest.approx(0.1)
    sizes = np.bincount(haplotype_classes(pop.encoded().values, kit_view(pop, "yfiler")))
    row1 = next(r for r in rep.rows if r.stored_men == 1)
    post = np.array(
        [np.sum(sizes == s) * stats.binom.pmf(1, s, 0.1) for s in range(sizes.max() + 1)]
    )
    post /= post.sum()
    assert row1.expected_outside_per_lineage == pytest.approx(
        float((post * (np.arange(len(post)) - 1)).sum())
    )
    assert sum(r.lineages * r.stored_men for r in rep.rows) == 500
    assert 0 <= row1.p_any_outside <= 1
    assert "expected men outside" in rep.table()


def test_exposure__partial_profiles_not_counted(country_fixture) -> None:
    pop = country_fixture
    enc = pop.encoded(rows=np.arange(100))
    enc.values[0, :10] = -1
    rep = exposure(enc, "yfiler", pop)
    assert rep.stored_typed == 90 and rep.stored_not_fully_typed == 10


def test_exposure__store_larger_than_country(country_fixture) -> None:
    big = Encoded(Layout.for_kit("yfiler"), np.full((17, 6000), 150, dtype=np.int16))
    with pytest.raises(InputError, match="larger --males"):
        exposure(big, "yfiler", country_fixture)


def test_reach_db_cli__exposure_report_from_store(tmp_path, capsys) -> None:
    """End to end: simulate, import into an SQLite store, ``reach --db --json``."""
    from patriline.cli import main
    from patriline.store import Database

    assert (
        main(
            [
                "simulate",
                "--males",
                "800",
                "--generations",
                "20",
                "--kit",
                "yfiler",
                "--seed",
                "3",
                "--out",
                str(tmp_path / "sim"),
            ]
        )
        == 0
    )
    url = str(tmp_path / "store.db")
    with Database.create(url, "ada") as store:
        Session(store, store.actor("ada")).import_file(tmp_path / "sim" / "haplotypes.csv")
    capsys.readouterr()
    code = main(
        [
            "reach",
            "--db",
            url,
            "--user",
            "ada",
            "--males",
            "8000",
            "--generations",
            "20",
            "--kit",
            "yfiler",
            "--seed",
            "3",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    rep = json.loads(out)["reports"][0]
    assert rep["stored_typed"] == 800 and rep["share"] == pytest.approx(0.1)
    assert rep["expected_outside_total"] > 0
