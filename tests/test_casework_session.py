"""The casework session: the role comes from the store, refusals are audited, ``via`` is kept."""

from __future__ import annotations

import pytest

from patriline.casework import Session
from patriline.casework.access import ACTIONS, Action, check
from patriline.errors import AccessDenied, NotFound
from patriline.store import Actor, AuditEntry, Database
from plugins.postgres import records


@pytest.fixture
def session_fixture(store_fixture: Database) -> Database:
    db = store_fixture
    admin = Session(db, "admin")
    admin.add_user("ana", "analyst")
    admin.add_user("sue", "supervisor")
    admin.add_user("aud", "auditor")
    return db


def _entries(db: Database) -> list[AuditEntry]:
    return Session(db, "admin").audit_entries()


def test_session__forged_admin_actor_cannot_act_as_admin(session_fixture: Database) -> None:
    db = session_fixture
    forged = Session(db, Actor("ana", "admin"))
    assert forged.actor == Actor("ana", "analyst")
    with pytest.raises(AccessDenied, match="'ana' \\(role analyst\\) may not user_admin"):
        forged.add_user("mallory", "admin")
    with pytest.raises(AccessDenied, match="role analyst"):
        forged.set_role("ana", "admin")
    assert "mallory" not in {u.name for u in Session(db, "admin").users()}
    assert db.actor("ana").role == "analyst"


def test_session__role_is_read_at_each_check(session_fixture: Database) -> None:
    db = session_fixture
    ana = Session(db, "ana")
    with pytest.raises(AccessDenied, match="may not expunge"):
        ana.authorize("expunge")
    Session(db, "admin").set_role("ana", "supervisor")
    ana.authorize("expunge")  # the same session: the new role counts at once
    Session(db, "admin").set_role("ana", "analyst")
    with pytest.raises(AccessDenied, match="may not expunge"):
        ana.authorize("expunge")


def test_session__refusal_is_audited(session_fixture: Database) -> None:
    db = session_fixture
    with pytest.raises(AccessDenied):
        Session(db, Actor("ana", "admin")).add_user("mallory", "admin")
    denied = [e for e in _entries(db) if e.action == "access_denied"]
    assert len(denied) == 1
    e = denied[0]
    assert (e.user, e.role, e.case) == ("ana", "analyst", None)
    assert e.params == {"action": "user_admin", "case": None, "via": "local"}
    assert "may not user_admin" in e.result["reason"]
    assert db.verify_audit().ok


def test_session__refuse_names_only_an_existing_case(session_fixture: Database) -> None:
    db = session_fixture
    ana = Session(db, "ana")
    ana.open_case("C1", purpose="robbery", legal_basis="warrant 7")
    err = ana.refuse(Action.SEARCH_FAMILIAL, "C1", "not covered", trace_sha256="ab")
    assert isinstance(err, AccessDenied) and str(err) == "not covered"
    ana.refuse("search_exact", "C9", "no such case")
    denied = [e for e in _entries(db) if e.action == "access_denied"]
    assert [(e.case, e.purpose) for e in denied] == [("C1", "robbery"), (None, None)]
    assert denied[0].result == {"reason": "not covered", "trace_sha256": "ab"}
    assert denied[1].params == {"action": "search_exact", "case": "C9", "via": "local"}


def test_session__via_is_recorded(session_fixture: Database) -> None:
    db = session_fixture
    Session(db, "ana", via="service").open_case("C1", purpose="p", legal_basis="l")
    Session(db, "ana").import_records(records(2))
    Session(db, "aud", via="service").audit("stats", params={"n": 1})
    by_action = {e.action: e for e in _entries(db)}
    assert by_action["case_open"].params == {
        "legal_basis": "l",
        "case_type": "criminal",
        "via": "service",
    }
    assert by_action["import"].params["via"] == "local"
    assert by_action["stats"].params == {"n": 1, "via": "service"}
    assert by_action["stats"].role == "auditor"
    assert db.verify_audit().ok
    with pytest.raises(ValueError, match="via must be one of"):
        Session(db, "ana", via="web")


def test_session__unknown_user_and_unknown_action(session_fixture: Database) -> None:
    db = session_fixture
    with pytest.raises(NotFound, match="no user 'eve'"):
        Session(db, "eve")
    with pytest.raises(ValueError, match="unknown action 'fly'"):
        Session(db, "admin").authorize("fly")
    assert set(ACTIONS) == {a.value for a in Action}
    with pytest.raises(ValueError, match="unknown action"):
        check(Actor("admin", "admin"), "fly", None)


def test_session__open_closes_the_store(store_url_fixture: str) -> None:
    Database.create(store_url_fixture, "admin").close()
    with Session.open(store_url_fixture, "admin") as s:
        s.open_case("C1", purpose="p", legal_basis="l")
        store = s.store
    assert store.engine.pool.checkedout() == 0
    with Database.open(store_url_fixture) as again:
        assert [c.id for c in Session(again, "admin").list_cases()] == ["C1"]


def test_session__audit_reads_are_authorized_and_audited(session_fixture: Database) -> None:
    db = session_fixture
    with pytest.raises(AccessDenied, match="may not audit_read"):
        Session(db, "ana").verify_audit()
    aud = Session(db, "aud")
    assert aud.verify_audit().ok
    anchor = aud.audit_anchor()
    reads = [e for e in _entries(db) if e.action == "audit_read" and e.user == "aud"]
    assert [e.params for e in reads] == [
        {"verify": True, "anchors": 0, "via": "local"},
        {"anchor": True, "via": "local"},
    ]
    assert reads[1].result == {"entries": anchor.entries}
    assert aud.verify_audit([anchor]).ok


def test_session__cases_are_listed(session_fixture: Database) -> None:
    db = session_fixture
    ana = Session(db, "ana")
    assert ana.list_cases() == []
    ana.open_case("C2", purpose="p2", legal_basis="l2")
    ana.open_case("C1", purpose="p1", legal_basis="l1")
    assert [(c.id, c.opened_by, c.familial_approved) for c in ana.list_cases()] == [
        ("C1", "ana", False),
        ("C2", "ana", False),
    ]
    assert ana.case("C2").purpose == "p2"
    with pytest.raises(NotFound, match="no case 'C3'"):
        ana.case("C3")
