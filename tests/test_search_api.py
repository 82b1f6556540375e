"""Search through the store: access, audit, expungement, incremental index, ranking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from patriline.casework import Session
from patriline.casework.searching import index_dir, open_index
from patriline.errors import AccessDenied, InputError
from patriline.haplotype import parse_haplotype_string
from patriline.search.api import pairs_digest
from patriline.search.rank import rank
from plugins.approvals import approve
from plugins.postgres import record
from plugins.search import FATHER, profile

pytestmark = pytest.mark.usefixtures("index_dir_fixture")


@pytest.fixture
def searchable_fixture(store_fixture: Any) -> Any:
    """A store with a small lineage, an analyst, a supervisor and an approved case."""
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).add_user("ann", "analyst")
    Session(db, admin).add_user("sue", "supervisor")
    ann = db.actor("ann")
    recs = [
        record("father", FATHER),
        record("son", profile(DYS458="18")),
        record("cousin", profile(DYS458="18", DYS19="15")),
        record("other", profile(DYS390="22", DYS391="10", DYS392="11")),
    ]
    Session(db, ann).import_records(recs)
    Session(db, ann).open_case("C1", purpose="test", legal_basis="test")
    Session(db, ann).open_case("C2", purpose="unapproved", legal_basis="test")
    # Familial approvals name the trace and bounds searched (and one pairs run).
    approve(db, "sue", "C1", FATHER, max_mismatches=2)
    approve(db, "sue", "C1", profile(DYS458="18"), max_steps=5)
    approve(db, "sue", "C1", max_mismatches=2)
    return db


def test_search__exact_is_an_analyst_right_and_audited(searchable_fixture: Any) -> None:
    db = searchable_fixture
    before = len(Session(db, db.actor("admin")).audit_entries())
    res = Session(db, "ann").search("C2", FATHER)
    assert [c.specimen for c in res.candidates] == ["father"]
    assert (
        Session(db, "ann").search("C2", FATHER).to_dict()["candidates"][0]["specimen"] == "father"
    )
    assert res.candidates[0].mismatches == 0
    entries = Session(db, db.actor("admin")).audit_entries()
    mine = [e for e in entries if e.action == "search_exact"]
    assert mine and mine[-1].result["hits"] == 1 and mine[-1].params["max_mismatches"] == 0
    assert len(entries) > before


def test_search__familial_needs_approved_case(searchable_fixture: Any) -> None:
    db = searchable_fixture
    with pytest.raises(AccessDenied, match="approval"):
        Session(db, "ann").search("C2", FATHER, max_mismatches=2)
    with pytest.raises(AccessDenied):
        Session(db, "ann").pairs("C2", max_mismatches=1)
    res = Session(db, "ann").search("C1", FATHER, max_mismatches=2)
    assert [c.specimen for c in res.candidates] == ["father", "son", "cousin"]


def test_search__ranked_by_mutation_model(searchable_fixture: Any) -> None:
    db = searchable_fixture
    res = Session(db, "ann").search("C1", profile(DYS458="18"), max_steps=5, explain=True)
    assert res.candidates[0].specimen == "son"
    assert res.candidates[0].meioses_mode == 1
    lo, hi = res.candidates[0].meioses_90
    assert lo <= 1 <= hi
    scores = [c.score for c in res.candidates]
    assert scores == sorted(scores, reverse=True)
    loci = {row["locus"]: row for row in res.candidates[1].loci}
    assert loci["DYS458"]["status"] == "differs"


def test_search__expunged_never_returned(searchable_fixture: Any) -> None:
    db = searchable_fixture
    assert "son" in {
        c.specimen for c in Session(db, "ann").search("C1", FATHER, max_mismatches=2).candidates
    }
    Session(db, db.actor("sue")).expunge("son", "court order")
    res = Session(db, "ann").search("C1", FATHER, max_mismatches=2)
    assert "son" not in {c.specimen for c in res.candidates}
    # a fresh process (no cached index) reads the saved index and agrees
    idx = open_index(db, rebuild=True)
    assert "son" not in {s for s in idx.query(FATHER, max_mismatches=2).ids}


def test_open_index__incremental_import(searchable_fixture: Any) -> None:
    db = searchable_fixture
    open_index(db)
    Session(db, db.actor("ann")).import_records([record("grandson", profile(DYS439="13"))])
    res = Session(db, "ann").search("C1", FATHER, max_mismatches=1)
    assert "grandson" in {c.specimen for c in res.candidates}
    idx = open_index(db)
    assert idx.seq == db.change_seq()
    if db.dialect == "sqlite":
        assert index_dir(db) == Path(str(db.engine.url.database) + ".search")


def test_pairs__duplicates_only(searchable_fixture: Any) -> None:
    """The pair list is the duplicate review: k = 0, an admin, a quality_control case."""
    db = searchable_fixture
    with pytest.raises(AccessDenied, match="not built"):
        Session(db, "ann").pairs("C1", max_mismatches=1)
    Session(db, "ann").import_records([record("father-again", FATHER)])
    admin = Session(db, db.actor("admin"))
    admin.open_case("QC", purpose="duplicates", legal_basis="test", case_type="quality_control")
    got = admin.pairs("QC", max_mismatches=0)
    assert [(p["a"], p["b"]) for p in got.pairs] == [("father", "father-again")]
    entry = admin.audit_entries(limit=1)[0]
    assert entry.params["duplicates"] is True
    assert entry.result["returned"] == ["father", "father-again"]
    assert entry.result["pairs_sha256"] == pairs_digest(list(reversed(got.pairs)))


def test_search__bad_bounds_are_input_errors(searchable_fixture: Any) -> None:
    with pytest.raises(InputError, match="max_steps"):
        Session(searchable_fixture, "ann").search("C1", FATHER, max_steps=-1)
    with pytest.raises(InputError, match="query haplotype"):
        Session(searchable_fixture, "ann").search("C1", "DYS19=fourteen")


def test_rank__father_above_third_cousin() -> None:
    """A father (1 meiosis, 0-1 differences) ranks above a third cousin (8 meioses, several
    differences); independent check: the posterior modes follow the number of differences."""
    trace = parse_haplotype_string(FATHER)
    father = parse_haplotype_string(profile(DYS458="18"))
    cousin3 = parse_haplotype_string(profile(DYS458="18", DYS19="15", DYS439="11"))
    ranked = rank(trace, [("cousin3", cousin3), ("father", father)])
    assert [r.specimen for r in ranked] == ["father", "cousin3"]
    assert ranked[0].meioses_mode < ranked[1].meioses_mode


def test_rank_one__lr_against_unrelated_man() -> None:
    """With a trace frequency the LR is added; independent check: LR = numerator / p,
    the numerator being the same marginal likelihood (Σ_m π(m) P(differences | m)) that
    the score holds before its population-model term is taken off."""
    import math

    from patriline.haplotype import compare
    from patriline.search.rank import rank_one
    from patriline.stats.allele_model import default_allele_model

    trace = parse_haplotype_string(FATHER)
    son = parse_haplotype_string(profile(DYS458="18"))
    r = rank_one("son", trace, son, reference_model=1e-4)
    assert r.lr is not None
    log_pop = default_allele_model().log_frequency(trace, compare(trace, son))
    assert log_pop < 0
    assert math.isclose(r.lr, math.exp(r.score + log_pop) / 1e-4, rel_tol=1e-9)
    assert r.to_dict()["lr"] == r.lr


def test_search__provenance_describes_the_model_that_ran(searchable_fixture: Any) -> None:
    """Class: provenance that names another model than the one that ran (issue 14 item 22,
    issue 11 item 4). The rates are YHRD father-son counts, not Ballantyne 2010; a
    non-default model is recorded as such."""
    from patriline.stats.mutation import StepwiseModel

    model = StepwiseModel(two_step_share=0.1, max_meioses=20, rate_uncertainty=False)
    res = Session(searchable_fixture, "ann").search("C1", FATHER, model=model)
    described = res.provenance["models"]["mutation"]
    assert described == model.describe()
    assert described["two_step_share"] == 0.1 and described["meioses"] == [1, 20]
    assert described["rates"]["integration"] == "point rates"
    assert "YHRD-malan" in described["rates"]["sources"]
    assert "Ballantyne" not in json.dumps(described)
    assert res.provenance["models"]["reference"] is None
    with_lr = Session(searchable_fixture, "ann").search("C1", FATHER, reference_model=1e-3)
    assert with_lr.provenance["models"]["reference"] == {
        "kind": "stated trace frequency",
        "value": 1e-3,
    }
