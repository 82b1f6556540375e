"""Store life cycle, migrations, links and the change feed."""

from __future__ import annotations

from pathlib import Path

import pytest

from patriline.casework import Session
from patriline.errors import ConflictError, InputError, NotFound
from patriline.store import Database, Link, migrate
from plugins.postgres import records


def test_create__twice_is_a_conflict(store_url_fixture: str) -> None:
    Database.create(store_url_fixture, "admin").close()
    with pytest.raises(ConflictError, match="already holds a patriline store"):
        Database.create(store_url_fixture, "admin")
    with Database.open(store_url_fixture) as db:
        assert (
            db.info().revision == migrate.head_revision() == "0005"
        )  # 0002 approvals, 0003 audit guard
        assert [(a.name, a.role) for a in db.users()] == [("admin", "admin")]


def test_open__not_a_store(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no store at"):
        Database.open(tmp_path / "missing.db")
    junk = tmp_path / "junk.db"
    junk.write_text("specimen,DYS19\nA,14\n" * 100)
    with pytest.raises(NotFound, match="cannot open a store"):
        Database.open(junk)
    with pytest.raises(InputError, match="only SQLite files and postgresql"):
        Database.open("mysql://x@y/z")


def test_insert_links__unchanged_and_conflict(store_fixture: Database) -> None:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records(records(3))
    res = Session(db, admin).insert_links(
        [Link("S1", "S0"), Link("S2", "F9", confidence=0.5)], source="church book"
    )
    assert res == {"rows": 2, "added": 2, "unchanged": 0}
    assert "F9" in db.persons()  # a father without a specimen is a person
    assert Session(db, admin).insert_links([Link("S1", "S0")], source="again") == {
        "rows": 1,
        "added": 0,
        "unchanged": 1,
    }
    with pytest.raises(ConflictError, match="already has another father"):
        Session(db, admin).insert_links([Link("S1", "S2"), Link("S0", "F8")], source="other")
    assert sorted((x.son, x.father, x.source, x.confidence) for x in db.links()) == [
        ("S1", "S0", "church book", 1.0),
        ("S2", "F9", "church book", 0.5),
    ]
    with pytest.raises(InputError, match="his own father"):
        Session(db, admin).insert_links([Link("S1", "S1")], source="x")


def test_changes_since__adds_then_removes(store_fixture: Database) -> None:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records(records(2))
    Session(db, admin).import_records(records(2, start=2))
    assert db.changes_since(0) == [
        (1, "S0", "add"),
        (2, "S1", "add"),
        (3, "S2", "add"),
        (4, "S3", "add"),
    ]
    Session(db, admin).expunge("S0", "test")
    assert db.changes_since(3) == [(4, "S3", "add"), (5, "S0", "remove")]
    assert db.change_seq() == 5
