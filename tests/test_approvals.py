"""Familial approvals (issue 17 item 6, issue 14 item 11): bound to a trace and bounds,
expiring, used up, revocable; ``pairs`` and ``expand`` under approval. SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from patriline.casework import Session
from patriline.cli import main
from patriline.errors import AccessDenied, InputError
from patriline.haplotype import parse_haplotype_string
from patriline.reference.policy import search_policy
from patriline.search.api import trace_digest
from patriline.store import migrate
from patriline.store.schema import approvals
from plugins.approvals import approve
from plugins.postgres import record
from plugins.search import FATHER, profile

pytestmark = pytest.mark.usefixtures("index_dir_fixture")

SON = profile(DYS458="18")


@pytest.fixture
def cases_fixture(store_fixture: Any) -> Any:
    """A small lineage with links, an analyst, two supervisors and an open case C1."""
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).add_user("ann", "analyst")
    Session(db, admin).add_user("sue", "supervisor")
    Session(db, admin).add_user("sam", "supervisor")
    Session(db, db.actor("ann")).import_records(
        [
            record("father", FATHER, person="F"),
            record("son", SON, person="S"),
            record("other", profile(DYS390="22", DYS391="10", DYS392="11"), person="O"),
        ],
    )
    from patriline.store.records import Link

    Session(db, admin).insert_links([Link("S", "F"), Link("S2", "F")], source="test")
    Session(db, db.actor("ann")).open_case("C1", purpose="test", legal_basis="test")
    return db


def _denied(db: Any) -> list[Any]:
    return [
        e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "access_denied"
    ]


def test_migration__head_has_the_approvals_table(cases_fixture: Any) -> None:
    with cases_fixture.read() as conn:
        assert migrate.current_revision(conn) == migrate.head_revision() == "0005"
        assert conn.execute(approvals.select()).all() == []


def test_approval__names_a_trace_and_bounds(cases_fixture: Any) -> None:
    db = cases_fixture
    with pytest.raises(InputError, match="names its trace"):
        Session(db, db.actor("sue")).approve_case("C1", max_mismatches=2)
    with pytest.raises(InputError, match="names its bounds"):
        Session(db, db.actor("sue")).approve_case("C1", trace_sha256="a" * 64)
    with pytest.raises(InputError, match="below the floor"):
        approve(db, "sue", "C1", FATHER, max_mismatches=2, min_loci=3)
    with pytest.raises(AccessDenied, match="may not case_approve"):
        approve(db, "ann", "C1", FATHER, max_mismatches=2)
    Session(db, db.actor("sue")).open_case("C3", purpose="p", legal_basis="l")
    with pytest.raises(AccessDenied, match="another supervisor"):
        approve(db, "sue", "C3", FATHER, max_mismatches=2)  # four eyes
    assert db.approvals("C3") == []


def test_approval__row_and_audit_entry_in_one_transaction(cases_fixture: Any) -> None:
    db = cases_fixture
    case = approve(db, "sue", "C1", FATHER, max_mismatches=2)
    a = case.approval
    policy = search_policy()
    assert (a.approved_by, a.kind, a.max_mismatches, a.min_loci) == ("sue", "search", 2, 9)
    assert a.trace_sha256 == trace_digest(parse_haplotype_string(FATHER))
    assert (a.uses_left, a.used, a.revoked) == (policy.approval_max_uses, 0, False)
    assert a.expires_at > a.approved_at
    entry = next(e for e in Session(db, db.actor("admin")).audit_entries() if e.id == a.audit_id)
    assert entry.action == "case_approve" and entry.case == "C1"
    assert entry.params["trace_sha256"] == a.trace_sha256
    assert entry.params["expires_at"] == a.expires_at
    assert "DYS19" not in str(entry.params)  # the digest, never the profile


def test_familial__other_trace_is_refused_and_audited(cases_fixture: Any) -> None:
    """The red-team case: one approval allowed unlimited familial searches of any trace."""
    db = cases_fixture
    approve(db, "sue", "C1", FATHER, max_mismatches=2)
    assert [
        c.specimen for c in Session(db, "ann").search("C1", FATHER, max_mismatches=2).candidates
    ] == [
        "father",
        "son",
    ]
    with pytest.raises(AccessDenied, match="no familial approval of case 'C1' covers this trace"):
        Session(db, "ann").search("C1", SON, max_mismatches=2)
    entry = _denied(db)[-1]
    assert entry.params == {"action": "search_familial", "case": "C1", "via": "local"}
    assert entry.result["trace_sha256"] == trace_digest(parse_haplotype_string(SON))


def test_familial__bounds_beyond_the_approval_are_refused(cases_fixture: Any) -> None:
    db = cases_fixture
    approve(db, "sue", "C1", FATHER, max_mismatches=1, min_loci=12)
    with pytest.raises(AccessDenied, match="covers"):
        Session(db, "ann").search("C1", FATHER, max_mismatches=2, min_loci=12)
    with pytest.raises(AccessDenied, match="covers"):
        Session(db, "ann").search("C1", FATHER, max_mismatches=1, min_loci=9)
    with pytest.raises(AccessDenied, match="covers"):
        Session(db, "ann").search("C1", FATHER, max_steps=1)  # no mismatch bound: beyond 1
    got = Session(db, "ann").search("C1", FATHER, max_mismatches=1, min_loci=12)
    entry = [
        e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "search_familial"
    ][-1]
    assert entry.params["approval"] == db.approvals("C1")[0].id
    assert [c.specimen for c in got.candidates] == ["father", "son"]


def test_familial__approval_is_used_up(cases_fixture: Any) -> None:
    db = cases_fixture
    approve(db, "sue", "C1", FATHER, max_mismatches=2)
    n = search_policy().approval_max_uses
    for _ in range(n):
        Session(db, "ann").search("C1", FATHER, max_mismatches=1)
    with pytest.raises(AccessDenied, match="used up"):
        Session(db, "ann").search("C1", FATHER, max_mismatches=1)
    a = db.approvals("C1")[0]
    assert (a.uses_left, a.used) == (0, n)
    Session(db, "ann").search("C1", FATHER)  # an exact search needs no approval


def test_familial__approval_expires(cases_fixture: Any) -> None:
    db = cases_fixture
    a = approve(db, "sue", "C1", FATHER, max_mismatches=2).approval
    with db.write() as conn:
        conn.execute(
            update(approvals)
            .where(approvals.c.id == a.id)
            .values(expires_at="2000-01-01T00:00:00+00:00")
        )
    assert not db.case("C1").familial_approved
    with pytest.raises(AccessDenied, match="needs approval"):
        Session(db, "ann").search("C1", FATHER, max_mismatches=2)
    with pytest.raises(AccessDenied, match="needs approval"):
        Session(db, db.actor("ann")).expand("C1", "father", reason="named")


def test_familial__revoked_approval_allows_nothing(cases_fixture: Any) -> None:
    db = cases_fixture
    approve(db, "sue", "C1", FATHER, max_mismatches=2)
    approve(db, "sam", "C1", SON, max_mismatches=2)
    assert Session(db, db.actor("sam")).revoke_approvals("C1") == 2
    with pytest.raises(AccessDenied, match="needs approval"):
        Session(db, "ann").search("C1", SON, max_mismatches=2)
    assert all(a.revoked for a in db.approvals("C1"))
    # A new approval after the revocation counts again; the revoked ones stay revoked.
    approve(db, "sue", "C1", SON, max_mismatches=2)
    assert Session(db, "ann").search("C1", SON, max_mismatches=2).total == 2
    with pytest.raises(AccessDenied, match="revoked"):
        Session(db, "ann").search("C1", FATHER, max_mismatches=2)


def test_pairs__no_bulk_list_even_with_a_pairs_approval(cases_fixture: Any) -> None:
    """The red-team case: a trace approval allowed `pairs` over the whole registry. Now
    no approval does: a bulk map of who is related to whom is not built (issue 12 item
    7; the aggregate is pairs_summary, exact duplicates an admin's quality control)."""
    db = cases_fixture
    approve(db, "sue", "C1", FATHER, max_mismatches=2)
    approve(db, "sue", "C1", max_mismatches=1)  # kind pairs
    before = len(_denied(db))
    with pytest.raises(AccessDenied, match="not built"):
        Session(db, "ann").pairs("C1", max_mismatches=1)
    with pytest.raises(AccessDenied, match="not built"):
        Session(db, db.actor("sue")).pairs("C1", max_mismatches=2)
    with pytest.raises(InputError, match="below the floor"):
        Session(db, "admin").pairs("C1", max_mismatches=0, min_loci=0)
    assert len(_denied(db)) == before + 2
    assert all(a.used == 0 for a in db.approvals("C1"))


def test_expand__needs_approval_and_a_hit_of_the_case(cases_fixture: Any) -> None:
    """Expansion is familial searching in substance (issue 14 item 11)."""
    db = cases_fixture
    ann = db.actor("ann")
    with pytest.raises(AccessDenied, match="expansion in case 'C1' needs approval"):
        Session(db, ann).expand("C1", "son", generations=1)
    approve(db, "sue", "C1", FATHER, max_mismatches=2)
    with pytest.raises(AccessDenied, match="not a hit: son"):
        Session(db, ann).expand("C1", "son", generations=1)
    assert _denied(db)[-1].params == {"action": "expand", "case": "C1", "via": "local"}
    Session(db, "ann").search("C1", FATHER, max_mismatches=2)  # returns father and son
    e = Session(db, ann).expand("C1", "son", generations=1)
    assert {m.person for m in e.members} >= {"F", "S"}
    with pytest.raises(AccessDenied, match="not a hit: other"):
        Session(db, ann).expand("C1", ["son", "other"], generations=1)
    # An explicit reason instead of a search, kept in the audit entry.
    Session(db, ann).expand("C1", "other", generations=1, reason="named by the court order")
    entry = [x for x in Session(db, db.actor("admin")).audit_entries() if x.action == "expand"][-1]
    assert entry.params["reason"] == "named by the court order"
    assert entry.params["specimens"] == ["other"]


def test_cli_case_approve_search_revoke(
    cases_fixture: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = cases_fixture
    if db.dialect != "sqlite":
        pytest.skip("the CLI test runs on the SQLite file")
    url = db.url
    trace = FATHER.replace(";", ",")
    search_args = ["search", "--db", url, "--user", "ann", "--case", "C1", "--haplotype", trace]
    assert main([*search_args, "--max-mismatches", "1"]) == 3
    assert "needs approval" in capsys.readouterr().err
    approve_args = ["case", "approve", "C1", "--familial", "--db", url]
    assert main([*approve_args, "--user", "sue", "--haplotype", trace]) == 2
    assert "names its bounds" in capsys.readouterr().err
    assert main([*approve_args, "--user", "sue", "--haplotype", trace, "--pairs"]) == 2
    capsys.readouterr()
    code = main([*approve_args, "--user", "sue", "--haplotype", trace, "--max-mismatches", "1"])
    out = capsys.readouterr().out
    assert code == 0 and "max mismatches 1" in out and "use(s)" in out
    assert main([*search_args, "--max-mismatches", "1"]) == 0
    assert "2 hit(s)" in capsys.readouterr().out
    digest = trace_digest(parse_haplotype_string(FATHER))
    code = main([*approve_args, "--user", "sam", "--trace-sha256", digest, "--max-steps", "2"])
    assert code == 0
    capsys.readouterr()
    assert main(["case", "revoke", "C1", "--db", url, "--user", "sam"]) == 0
    assert "2 approval(s) revoked" in capsys.readouterr().out
    assert main([*search_args, "--max-mismatches", "1"]) == 3


def test_migration__0001_store_upgrades_and_old_approval_no_longer_counts(
    store_url_fixture: str,
) -> None:
    """A store at 0001 with a case-wide approval opens at the head; the old approval (no
    trace, no bounds) no longer allows familial search."""
    from alembic import command
    from sqlalchemy import insert

    from patriline.store import Database
    from patriline.store.schema import cases

    db = Database.create(store_url_fixture, "admin")
    with db.write() as conn:
        command.downgrade(migrate._config(conn), "0001")
        assert migrate.current_revision(conn) == "0001"
        conn.execute(
            insert(cases).values(
                id="OLD", purpose="p", legal_basis="l", opened_by="ann",
                opened_at="2026-01-01T00:00:00+00:00", familial_approved_by="sue",
                familial_approved_at="2026-01-02T00:00:00+00:00",
            )
        )  # fmt: skip
    db.close()
    with Database.open(store_url_fixture) as db:
        with db.read() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
        assert db.approvals("OLD") == []
        assert not db.case("OLD").familial_approved
        with pytest.raises(AccessDenied, match="needs approval"):
            Session(db, db.actor("admin")).authorize("search_familial", "OLD")
