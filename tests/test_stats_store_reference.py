"""A store used as a reference population stays under the store's safeguards (SQLite and
PostgreSQL): a user is needed, a profile's frequency is a search in a case, reads are audited."""

from __future__ import annotations

from typing import Any

import pytest

from patriline.casework import Session
from patriline.errors import AccessDenied, InputError
from patriline.haplotype import parse_haplotype_string
from patriline.stats.reference_set import load_reference
from plugins.postgres import records

QUERY = "DYS19=10,DYS390=20,DYS385=11,12"


@pytest.fixture
def reference_store_fixture(store_fixture: Any) -> Any:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).add_user("ann", "analyst")
    Session(db, admin).add_user("aud", "auditor")
    Session(db, db.actor("ann")).import_records(records(30), category="reference")
    Session(db, db.actor("ann")).open_case("C1", purpose="test", legal_basis="test")
    return db


def _stats_entries(db: Any) -> list[Any]:
    return [e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "stats"]


def test_load_reference__store_is_read_only_through_a_session(
    reference_store_fixture: Any,
) -> None:
    """The engine never reads a store: an open store or a store URL is refused, nothing
    is read or audited; a store is read through a session (a user of the store)."""
    db = reference_store_fixture
    with pytest.raises(InputError, match=r"Session\.reference"):
        load_reference(db)
    with pytest.raises(InputError, match=r"Session\.reference"):
        load_reference(db.url)
    assert _stats_entries(db) == []


def test_load_reference__fit_reads_are_audited(reference_store_fixture: Any) -> None:
    db = reference_store_fixture
    # A store-wide fit needs 100 profiles (statistics_policy.toml): 30 + 90 more.
    Session(db, db.actor("ann")).import_records(records(90, start=30), category="reference")
    ref = Session(db, "ann").reference(purpose="fit")
    assert ref.encoded.n_rows == 120
    entries = _stats_entries(db)
    assert len(entries) == 1
    assert entries[0].user == "ann" and entries[0].result["rows"] == 120


def test_frequency_summary__store_needs_a_case(reference_store_fixture: Any) -> None:
    db = reference_store_fixture
    query = parse_haplotype_string(QUERY)
    with pytest.raises(AccessDenied, match="give the case"):
        Session(db, "ann").frequency(query, methods=("counting",))
    out = Session(db, "ann").frequency(query, methods=("counting",), case="C1")
    assert out["n"] == 30 and out["count"] == 1
    entries = _stats_entries(db)
    assert entries[-1].case == "C1" and entries[-1].params["use"] == "frequency"


def test_frequency_summary__auditor_may_not_probe_a_profile(reference_store_fixture: Any) -> None:
    """An auditor reads the audit log but must not learn whether a profile is stored."""
    db = reference_store_fixture
    with pytest.raises(AccessDenied):
        Session(db, "aud").frequency(
            parse_haplotype_string(QUERY), methods=("counting",), case="C1"
        )
