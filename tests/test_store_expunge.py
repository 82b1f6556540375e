"""Expungement and retention: rows removed, change feed, tombstone without genetic data."""

from __future__ import annotations

import datetime as dt

import pytest

from patriline.casework import Session
from patriline.errors import AccessDenied, InputError, NotFound
from patriline.store import Database, Link, new_identity_key
from plugins.postgres import record, records


def test_expunge__removes_rows_identity_links_and_feeds_remove(store_fixture: Database) -> None:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records(
        [
            record("A", "DYS19=14,DYS390=24", person="P"),
            record("B", "DYS19=13"),
            record("C", "DYS19=12", person="P"),
        ],
    )
    Session(db, admin).insert_links([Link("P", "B")], source="church book")
    Session(db, admin).set_identity("P", {"name": "X"}, new_identity_key())
    seq = db.change_seq()
    rep = Session(db, admin).expunge("A", "acquitted")
    assert not rep.person_removed  # P still has specimen C
    with pytest.raises(NotFound):
        db.haplotype("A")
    rep = Session(db, admin).expunge("C", "acquitted")
    assert rep.person_removed and rep.identity_removed and rep.links_removed == 1
    assert db.links() == [] and "P" not in db.persons()
    assert db.changes_since(seq) == [(seq + 1, "A", "remove"), (seq + 2, "C", "remove")]
    ids, enc = db.encoded()
    assert ids == ["B"] and enc.n_rows == 1
    tomb = [e for e in Session(db, admin).audit_entries() if e.action == "expunge"]
    assert tomb[-1].params == {"specimen": "C", "reason": "acquitted", "via": "local"}
    assert "DYS19" not in str(tomb[-1].to_dict())
    assert db.verify_audit().ok


def test_expunge__reimport_is_a_conflict(store_fixture: Database) -> None:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records(records(3))
    Session(db, admin).expunge("S1", "court order")
    s = Session(db, admin).import_records(records(3))
    assert (s.added, s.unchanged, s.conflicts) == (0, 2, 1)
    assert "expunged" in s.conflict_details[0].reason


def test_expunge__errors(store_fixture: Database) -> None:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records(records(1))
    Session(db, admin).add_user("ana", "analyst")
    with pytest.raises(AccessDenied):
        Session(db, db.actor("ana")).expunge("S0", "x")
    with pytest.raises(InputError, match="reason"):
        Session(db, admin).expunge("S0", " ")
    with pytest.raises(NotFound, match="'nope'"):
        Session(db, admin).expunge("nope", "x")


def test_apply_retention__expunges_only_past_dates(store_fixture: Database) -> None:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records(
        [
            record("old", "DYS19=14", retention_until="2020-01-01"),
            record("edge", "DYS19=15", retention_until="2025-06-01"),
            record("new", "DYS19=16", retention_until="2099-01-01"),
            record("none", "DYS19=17"),
        ],
    )
    reports = Session(db, admin).apply_retention(dt.date(2025, 6, 1))
    assert [r.specimen for r in reports] == ["old"]
    assert sorted(db.active_specimens()) == ["edge", "new", "none"]
    assert [r.specimen for r in Session(db, admin).apply_retention("2025-06-02")] == ["edge"]
    actions = [e.action for e in Session(db, admin).audit_entries()]
    assert actions.count("retention") == 4  # 2 expungements + 2 summaries


def test_apply_retention__future_today_is_an_input_error(store_fixture: Database) -> None:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records([record("new", "DYS19=16", retention_until="2099-01-01")])
    future = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(InputError, match="future"):
        Session(db, admin).apply_retention(future.isoformat())
    assert db.active_specimens() == ["new"]


def test_retention_due__dry_run_removes_nothing_and_is_audited(store_fixture: Database) -> None:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records(
        [record("old", "DYS19=14", retention_until="2020-01-01"), record("none", "DYS19=17")]
    )
    assert Session(db, admin).retention_due("2025-06-01") == ["old"]
    assert sorted(db.active_specimens()) == ["none", "old"]
    last = Session(db, admin).audit_entries()[-1]
    assert last.action == "retention" and last.params["dry_run"] is True
