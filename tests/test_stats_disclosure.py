"""Statistics over the whole store publish only what at least k men share, and need a store
of a minimum size (SQLite and PostgreSQL); a case's trace frequency stays a search.

Issue 17 item 5: an auditor fitted 22 clusters to a small store and got 22 centres that
were exact stored haplotypes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from patriline.casework import Session
from patriline.cli import main
from patriline.errors import DisclosureRefused
from patriline.simulate.exposure import ExposureRow, pool_rows
from patriline.stats.disclosure import fit_disclosure, statistics_policy
from patriline.stats.reference_set import design_matrix
from patriline.stats.summary import fit_reference
from plugins.postgres import record, records

LOCI = ("DYS19", "DYS390", "DYS389I", "DYS389II", "DYS391", "DYS392")
MODAL = ((14, 24, 13, 29, 11, 13), (15, 23, 14, 30, 10, 12), (13, 25, 12, 28, 11, 14))


def _families(n: int, seed: int = 5) -> list[Any]:
    """``n`` men of three paternal families, each allele one step off the family's modal
    profile with probability 0.4: most haplotypes are held by one or two men."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        alleles = np.array(MODAL[i % 3]) + rng.choice([-1, 0, 0, 0, 0, 1], size=len(LOCI))
        text = ",".join(f"{name}={a}" for name, a in zip(LOCI, alleles.tolist(), strict=True))
        out.append(record(f"S{i}", text, i + 2))
    return out


def _holders(db: Any) -> Counter[tuple[int, ...]]:
    """Naive twin: men per distinct haplotype on LOCI, straight from the stored profiles."""
    _, enc = db.encoded()
    cols = [enc.layout.slice_of(n).start for n in LOCI]
    return Counter(tuple(int(v) // 10 for v in enc.values[cols, j]) for j in range(enc.n_rows))


@pytest.fixture
def small_store_fixture(store_fixture: Any) -> Any:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).add_user("ann", "analyst")
    Session(db, admin).add_user("aud", "auditor")
    Session(db, db.actor("ann")).import_records(_families(30), category="reference")
    Session(db, db.actor("ann")).open_case("C1", purpose="test", legal_basis="test")
    return db


@pytest.fixture
def large_store_fixture(store_fixture: Any) -> Any:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).add_user("aud", "auditor")
    Session(db, db.actor("admin")).import_records(_families(150), category="reference")
    return db


def test_policy__k_and_minimum_from_the_data_file() -> None:
    policy = statistics_policy()
    assert (policy.k, policy.min_profiles) == (5, 100)
    assert "statistics_policy.toml" in policy.source


def test_fit__small_store_refused_and_audited(small_store_fixture: Any) -> None:
    db = small_store_fixture
    with pytest.raises(DisclosureRefused, match=r"holds 30 profiles.*at least 100"):
        Session(db, "aud").reference(purpose="fit")
    entries = [e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "stats"]
    assert len(entries) == 1 and "refused" in entries[0].result


def test_fit__cli_auditor_22_clusters_on_small_store(
    small_store_fixture: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.json"
    url = db_url(small_store_fixture)
    code = main(["fit", url, "--user", "aud", "--clusters", "22", "--out", str(out)])
    assert code == 3
    assert "at least 100" in capsys.readouterr().err and not out.exists()


def db_url(db: Any) -> str:
    url = str(db.url)
    return url.removeprefix("sqlite:///")


def test_fit__store_centres_are_shared_by_k_men(large_store_fixture: Any) -> None:
    db = large_store_fixture
    ref = Session(db, "aud").reference(purpose="fit")
    design = design_matrix(ref, list(LOCI))
    selection = fit_reference(ref, design, range(1, 13))
    k = statistics_policy().k
    holders = _holders(db)
    assert max(holders.values()) >= k  # some haplotypes are shared by k men or more
    assert selection.withheld, "many clusters on 150 men must disclose small groups"
    for c, row in selection.withheld.items():
        assert c not in selection.fits and row["note"].startswith("withheld: ")
    for f in selection.fits.values():
        for centre, tau in zip(f.y.tolist(), f.tau.tolist(), strict=True):
            assert holders.get(tuple(centre), 0) == 0 or holders[tuple(centre)] >= k
            assert 150 * tau >= k
    best = selection.best
    assert best.provenance["disclosure"]["k"] == k
    assert sorted(r["clusters"] for r in selection.table()) == list(range(1, 13))
    # Unfiltered, the same data do publish rare stored haplotypes as centres (the leak).
    from patriline.stats.dlmix import fit_range

    raw = fit_range(design.x, design.weights, [12], design.columns)
    assert fit_disclosure(raw.best.y, raw.best.tau, design.x, design.weights)


def test_fit__cli_output_has_no_rare_centre(
    large_store_fixture: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = large_store_fixture
    out = tmp_path / "m.json"
    argv = ["fit", db_url(db), "--user", "aud", "--clusters", "1-12", "--loci", ",".join(LOCI)]
    assert main([*argv, "--starts", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "withheld:" in text
    doc = json.loads(out.read_text())
    holders = _holders(db)
    k = statistics_policy().k
    order = [doc["columns"].index(n) for n in LOCI]
    for centre in doc["y"]:
        key = tuple(int(centre[i]) for i in order)
        assert holders.get(key, 0) == 0 or holders[key] >= k


def test_frequency__case_trace_allowed_on_small_store_without_specimens(
    small_store_fixture: Any,
) -> None:
    db = small_store_fixture
    query = _families(30)[0].haplotype  # the profile of S0
    out = Session(db, "ann").frequency(query, methods=("counting", "kappa"), case="C1")
    assert out["n"] == 30 and out["count"] >= 1
    text = json.dumps(out)
    assert not any(f'"S{i}"' in text for i in range(30))


def test_exposure__small_store_refused(small_store_fixture: Any) -> None:
    from patriline.simulate import SimConfig, simulate

    country = simulate(SimConfig(males=2000, generations=5, kit="yfiler", seed=1))
    with pytest.raises(DisclosureRefused, match="exposure report"):
        Session(small_store_fixture, small_store_fixture.actor("aud")).exposure("yfiler", country)


def test_pool_rows__every_row_k_lineages_totals_kept() -> None:
    rows = [
        ExposureRow(1, 80, 2.0, 0.5, 160.0),
        ExposureRow(2, 12, 3.0, 0.6, 36.0),
        ExposureRow(3, 3, 4.0, 0.7, 12.0),
        ExposureRow(5, 1, 5.0, 0.8, 5.0),
        ExposureRow(9, 1, 9.0, 0.9, 9.0),
    ]
    pooled = pool_rows(rows, 5)
    assert all(r.lineages >= 5 for r in pooled)
    assert sum(r.lineages for r in pooled) == 97
    assert sum(r.expected_outside_total for r in pooled) == pytest.approx(222.0)
    top = pooled[-1]
    assert (top.stored_men, top.stored_men_max, top.lineages) == (3, 9, 5)
    assert top.p_any_outside == pytest.approx((0.7 * 3 + 0.8 + 0.9) / 5)
    assert [r.stored_men for r in pooled] == [1, 2, 3]


def test_records_helper_store_of_120_is_large_enough(store_fixture: Any) -> None:
    db = store_fixture
    Session(db, db.actor("admin")).import_records(records(120))
    ref = Session(db, "admin").reference(purpose="fit")
    assert ref.store_wide and ref.encoded.n_rows == 120
