"""Access model: each role's refusals, case binding, four-eyes familial approval, identities."""

from __future__ import annotations

import pytest

from patriline.casework import Session
from patriline.casework.access import ACTIONS, PERMISSIONS
from patriline.errors import AccessDenied, ConflictError, InputError, NotFound
from patriline.store import Actor, Database, new_identity_key
from plugins.approvals import approve
from plugins.postgres import records
from plugins.search import FATHER


@pytest.fixture
def roles_fixture(store_fixture: Database) -> Database:
    db = store_fixture
    admin = db.actor("admin")
    for name, role in [
        ("ana", "analyst"),
        ("sue", "supervisor"),
        ("sam", "supervisor"),
        ("aud", "auditor"),
    ]:
        Session(db, admin).add_user(name, role)
    Session(db, admin).import_records(records(3))
    Session(db, db.actor("ana")).open_case("C1", purpose="robbery", legal_basis="warrant 7")
    return db


@pytest.mark.parametrize(
    "role,refused",
    [
        ("analyst", {"expunge", "retention", "audit_read", "user_admin", "case_approve"}),
        ("auditor", set(ACTIONS) - {"audit_read", "stats"}),
        ("supervisor", {"user_admin"}),
        ("admin", set()),
    ],
)
def test_authorize__role_refusals(roles_fixture: Database, role: str, refused: set[str]) -> None:
    db = roles_fixture
    name = {"analyst": "ana", "auditor": "aud", "supervisor": "sue", "admin": "admin"}[role]
    actor = db.actor(name)
    for action in ACTIONS:
        case = "C1" if action != "search_familial" else None
        if action in refused:
            with pytest.raises(AccessDenied, match=f"role {role}"):
                Session(db, actor).authorize(action, case)
        elif action not in ("search_familial", "expand"):  # both need a familial approval
            Session(db, actor).authorize(action, case)
    assert set(ACTIONS) - PERMISSIONS[role] == refused


def test_authorize__case_actions_need_a_case(roles_fixture: Database) -> None:
    ana = roles_fixture.actor("ana")
    with pytest.raises(AccessDenied, match="needs a case"):
        Session(roles_fixture, ana).authorize("search_exact")
    with pytest.raises(AccessDenied, match="'C9' does not exist"):
        Session(roles_fixture, ana).authorize("read_identity", "C9")
    assert Session(roles_fixture, ana).authorize("search_exact", "C1").purpose == "robbery"  # type: ignore[union-attr]


def test_authorize__familial_needs_approval_by_another_supervisor(roles_fixture: Database) -> None:
    db = roles_fixture
    with pytest.raises(AccessDenied, match="needs approval"):
        Session(db, db.actor("ana")).authorize("search_familial", "C1")
    with pytest.raises(AccessDenied, match="may not case_approve"):
        approve(db, "ana", "C1", FATHER, max_mismatches=1)
    Session(db, db.actor("sue")).open_case("C2", purpose="p", legal_basis="l")
    with pytest.raises(AccessDenied, match="another supervisor"):
        approve(db, "sue", "C2", FATHER, max_mismatches=1)
    approved = approve(db, "sam", "C2", FATHER, max_mismatches=1)
    assert approved.familial_approved_by == "sam"
    assert Session(db, db.actor("sue")).authorize("search_familial", "C2").id == "C2"  # type: ignore[union-attr]
    # an analyst acts only in the cases she opened (issue 12)
    with pytest.raises(AccessDenied, match="opened by another user"):
        Session(db, db.actor("ana")).authorize("search_familial", "C2")


def test_authorize__forged_role_is_ignored(roles_fixture: Database) -> None:
    with pytest.raises(AccessDenied, match="role analyst"):
        Session(roles_fixture, Actor("ana", "admin")).authorize("expunge")
    # not a user of the store: no session at all (before the casework layer, AccessDenied
    # "not a user" from Database.authorize)
    with pytest.raises(NotFound, match="no user 'eve'"):
        Session(roles_fixture, Actor("eve", "admin")).authorize("import")


def test_add_user__errors(roles_fixture: Database) -> None:
    admin = roles_fixture.actor("admin")
    with pytest.raises(InputError, match="unknown role"):
        Session(roles_fixture, admin).add_user("x", "god")
    with pytest.raises(ConflictError, match="already exists"):
        Session(roles_fixture, admin).add_user("ana", "analyst")
    with pytest.raises(NotFound, match="no user 'nobody'"):
        roles_fixture.actor("nobody")


def test_identity__encrypted_roundtrip_within_case(roles_fixture: Database) -> None:
    db = roles_fixture
    key = new_identity_key()
    Session(db, db.actor("ana")).set_identity("S1", {"name": "John Doe", "born": "1970"}, key)
    with db.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT payload FROM identities").scalar_one()
    assert b"John" not in bytes(raw)
    assert Session(db, db.actor("ana")).identity("C1", "S1", key) == {
        "name": "John Doe",
        "born": "1970",
    }
    with pytest.raises(InputError, match="wrong key"):
        Session(db, db.actor("ana")).identity("C1", "S1", new_identity_key())
    with pytest.raises(AccessDenied):
        Session(db, db.actor("aud")).identity("C1", "S1", key)
    with pytest.raises(AccessDenied, match="needs an open case"):
        Session(db, db.actor("ana")).identity("nocase", "S1", key)
    reads = [
        e
        for e in Session(db, db.actor("admin")).audit_entries(case="C1")
        if e.action == "read_identity"
    ]
    assert len(reads) == 2 and reads[0].params == {"person": "S1", "via": "local"}
    assert "John" not in str([e.to_dict() for e in Session(db, db.actor("admin")).audit_entries()])


def test_authorize__refusals_are_audited(roles_fixture: Database) -> None:
    """A refused search is on the record: who asked for what, in which case, and why not."""
    db = roles_fixture
    with pytest.raises(AccessDenied):
        Session(db, db.actor("aud")).authorize("search_exact", "C1")
    with pytest.raises(AccessDenied):
        Session(db, db.actor("ana")).authorize("search_exact", None)  # no case
    denied = [
        e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "access_denied"
    ]
    assert [(e.user, e.role, e.params["action"], e.params["case"]) for e in denied] == [
        ("aud", "auditor", "search_exact", "C1"),
        ("ana", "analyst", "search_exact", None),
    ]
    assert denied[0].case == "C1" and "auditor" in denied[0].result["reason"]
    assert db.verify_audit().ok
