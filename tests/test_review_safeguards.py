"""Safeguard gaps found in review (SQLite and PostgreSQL): audit entries hold no genetic
data, a report cannot probe the store before the search right is checked, and an expunged
profile does not stay in the search index files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from patriline.casework import Session
from patriline.casework.searching import index_dir
from patriline.errors import AccessDenied, NotFound
from patriline.search.index import SearchIndex
from patriline.stats.report import ReportRequest
from plugins.approvals import approve
from plugins.postgres import record
from plugins.search import FATHER, profile

pytestmark = pytest.mark.usefixtures("index_dir_fixture")


@pytest.fixture
def review_store_fixture(store_fixture: Any) -> Any:
    db = store_fixture
    admin = db.actor("admin")
    for name, role in (("ann", "analyst"), ("sue", "supervisor"), ("aud", "auditor")):
        Session(db, admin).add_user(name, role)
    Session(db, db.actor("ann")).import_records(
        [
            record("father", FATHER),
            record("son", profile(DYS458="18")),
            record("other", profile(DYS390="22", DYS391="10", DYS392="11")),
        ],
        category="reference",
    )
    Session(db, db.actor("ann")).open_case("C1", purpose="test", legal_basis="test")
    approve(db, "sue", "C1", FATHER, max_mismatches=1)  # the trace and bounds searched
    return db


def _audit_text(db: Any) -> str:
    entries = Session(db, db.actor("admin")).audit_entries()
    return json.dumps([[e.params, e.result] for e in entries])


def test_search__audit_entry_holds_no_trace_profile(review_store_fixture: Any) -> None:
    db = review_store_fixture
    Session(db, "ann").search("C1", FATHER, max_mismatches=1)
    text = _audit_text(db)
    assert "DYS458" not in text and "DYS19=" not in text
    entry = [
        e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "search_familial"
    ][-1]
    trace = str(db.haplotype("father"))
    assert entry.params["trace_sha256"] == hashlib.sha256(trace.encode()).hexdigest()
    assert entry.result["returned"] == ["father", "son"]


def test_report__audit_entry_holds_no_trace_profile(review_store_fixture: Any) -> None:
    db = review_store_fixture
    Session(db, "ann").search("C1", FATHER, max_mismatches=1)  # a report reads only a case's hits
    ctx = Session(db, "ann").report(ReportRequest(case="C1", specimen="son", trace_text=FATHER))
    assert ctx["specimen"] == "son"
    assert "DYS458" not in _audit_text(db)


@pytest.mark.parametrize("specimen", ["son", "no-such-specimen"])
def test_report__auditor_cannot_probe_specimens(review_store_fixture: Any, specimen: str) -> None:
    """The same refusal whether or not the specimen is stored (no existence oracle)."""
    db = review_store_fixture
    with pytest.raises(AccessDenied, match="may not search_exact"):
        Session(db, "aud").report(ReportRequest(case="C1", specimen=specimen, trace_text=FATHER))


def test_expunge__profile_leaves_the_search_index_files(review_store_fixture: Any) -> None:
    db = review_store_fixture
    Session(db, "ann").search("C1", FATHER, max_mismatches=1)  # builds the index beside the store
    Session(db, db.actor("sue")).expunge("son", "court order")
    on_disk = SearchIndex.open(index_dir(db))
    held = [*on_disk.ids.tolist(), *(s.encode() for s in on_disk.delta_ids)]
    assert b"son" not in held
    assert sorted(held) == [b"father", b"other"]
    res = Session(db, "ann").search("C1", FATHER, max_mismatches=1)
    assert [c.specimen for c in res.candidates] == ["father"]


def test_search__index_holding_a_removed_row_is_rebuilt(review_store_fixture: Any) -> None:
    """An index the expungement could not reach (e.g. another machine's cache) drops the
    expunged profile from its files at the next search."""
    db = review_store_fixture
    Session(db, "ann").search("C1", FATHER)
    root = index_dir(db)
    stale = SearchIndex.open(root)
    Session(db, db.actor("sue")).expunge("son", "court order")
    stale.save(root)  # as if the index had not been reached
    Session(db, "ann").search("C1", FATHER)
    assert b"son" not in SearchIndex.open(root).ids.tolist()


def test_audit__role_is_read_from_the_store(review_store_fixture: Any) -> None:
    """A forged ``Actor`` gains nothing in ``authorize`` and cannot misstate its role in
    the audit log either; an unknown user cannot write audit entries."""
    from patriline.store import Actor

    db = review_store_fixture
    Session(db, Actor("ann", "admin")).search("C1", FATHER)
    entry = [
        e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "search_exact"
    ][-1]
    assert (entry.user, entry.role) == ("ann", "analyst")
    # not a user of the store: no session (was AccessDenied "not a user" from db.audit)
    with pytest.raises(NotFound, match="no user 'mallory'"):
        Session(db, Actor("mallory", "admin")).audit("stats")


def test_expunge__audit_role_is_read_from_the_store(review_store_fixture: Any) -> None:
    from patriline.store import Actor

    db = review_store_fixture
    Session(db, Actor("sue", "admin")).expunge("other", "court order")
    entry = [e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "expunge"][-1]
    assert (entry.user, entry.role) == ("sue", "supervisor")


@pytest.mark.parametrize(
    ("rows", "kind"),
    [("son,father\nS1,X9\n", "father"), ("son,father\nGF,G1\n", "cycle")],
)
def test_links_import__conflict_does_not_show_stored_links(
    store_fixture: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rows: str,
    kind: str,
) -> None:
    """``links import`` needs only the import right and no case: a probe link that
    conflicts with the store is refused without naming the stored father or the stored
    chain of fathers (those are read only by an expansion, in a case, audited)."""
    from patriline.cli import main
    from patriline.errors import ConflictError
    from patriline.store.records import Link as StoreLink

    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).add_user("ann", "analyst")
    Session(db, admin).insert_links(
        [StoreLink("S1", "F0"), StoreLink("F0", "GF"), StoreLink("G1", "S1")],
        source="registry",
    )
    probe = tmp_path / "probe.csv"
    probe.write_text(rows)
    for extra in ([], ["--lenient", "--json"]):
        code = main(["links", "import", str(probe), "--db", db.url, "--user", "ann", *extra])
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert kind in text and "probe.csv" in text
        assert "F0" not in text and "GF -> " not in text and "S1 -> " not in text
        assert code in (0, 2)
    with pytest.raises(ConflictError) as info:
        Session(db, db.actor("ann")).insert_links([StoreLink("S1", "X9")], source="probe")
    assert "F0" not in str(info.value)


def test_read_links__hide_existing_still_names_conflicts_within_the_file(tmp_path: Path) -> None:
    from patriline.pedigree.links_io import read_links

    path = tmp_path / "f.csv"
    path.write_text("son,father\nB,A\nB,C\nD,E\n")
    r = read_links(path, strict=False, existing=[("D", "Z")], hide_existing=True)
    reasons = [p.reason for p in r.problems]
    assert "already has the father A" in reasons[0]  # the file's own link
    assert "another father" in reasons[1] and "Z" not in reasons[1]  # the stored one


def test_apply_retention__profiles_leave_the_search_index_files(store_fixture: Any) -> None:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records(
        [
            record("old", FATHER, retention_until="2020-01-01"),
            record("new", profile(DYS19="15"), retention_until="2099-01-01"),
        ],
    )
    Session(db, admin).open_case("C9", purpose="test", legal_basis="test")
    Session(db, admin).search("C9", FATHER)  # builds the index
    assert [r.specimen for r in Session(db, admin).apply_retention("2025-01-01")] == ["old"]
    assert SearchIndex.open(index_dir(db)).ids.tolist() == [b"new"]
