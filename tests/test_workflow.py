"""The case workflow of the lab service (issue 12): case types and closing, ownership,
approval requests and the supervisor's queue, background import jobs, transparency
counts and pair aggregates. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from patriline.casework import Session
from patriline.errors import AccessDenied, ConflictError, InputError, NotFound
from patriline.haplotype import parse_haplotype_string
from patriline.search.api import trace_digest
from patriline.store import Database, audit, migrate
from plugins.postgres import record
from plugins.search import FATHER, profile

pytestmark = pytest.mark.usefixtures("index_dir_fixture")

SON = profile(DYS458="18")
COUSIN = profile(DYS458="18", DYS439="13")


@pytest.fixture
def lab_fixture(store_fixture: Any) -> Any:
    """Analysts ann and bob, supervisors sue and sam, auditor aud; three profiles."""
    db = store_fixture
    admin = Session(db, "admin")
    for name, role in (
        ("ann", "analyst"),
        ("bob", "analyst"),
        ("sue", "supervisor"),
        ("sam", "supervisor"),
        ("aud", "auditor"),
    ):
        admin.add_user(name, role)
    Session(db, "ann").import_records(
        [
            record("father", FATHER, person="F"),
            record("son", SON, person="S"),
            record("cousin", COUSIN, person="C"),
        ]
    )
    return db


def _denials(db: Any) -> list[Any]:
    return [e for e in db.read_audit() if e.action == "access_denied"]


def _csv(path: Path, n: int, *, start: int = 0, bad_line: int | None = None) -> Path:
    """``n`` distinct profiles J<i> (line ``bad_line`` gets an impossible DYS19 value)."""
    lines = ["specimen,category,DYS19,DYS390,DYS391,DYS392,DYS393,DYS385"]
    for i in range(start, start + n):
        dys19 = "abc" if bad_line is not None and len(lines) + 1 == bad_line else str(10 + i % 9)
        lines.append(
            f"J{i},arrestee,{dys19},{20 + (i // 9) % 9},{8 + (i // 81) % 6},"
            f'{10 + (i // 486) % 7},{12 + (i // 3402) % 5},"11,{12 + (i // 17010) % 4}"'
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- case types, closing
def test_open_case__type_recorded_and_checked(lab_fixture: Any) -> None:
    db = lab_fixture
    ann = Session(db, "ann")
    assert ann.open_case("C1", purpose="p", legal_basis="b").case_type == "criminal"
    got = ann.open_case("M1", purpose="p", legal_basis="b", case_type="missing_person")
    assert got.case_type == "missing_person" and ann.case("M1").case_type == "missing_person"
    with pytest.raises(InputError, match="unknown case type 'civil'"):
        ann.open_case("X1", purpose="p", legal_basis="b", case_type="civil")
    assert [e.params["case_type"] for e in db.read_audit() if e.action == "case_open"] == [
        "criminal",
        "missing_person",
    ]
    assert Session(db, "admin").verify_audit().ok


def test_close_case__reading_only_afterwards(lab_fixture: Any) -> None:
    db = lab_fixture
    ann = Session(db, "ann")
    ann.open_case("C1", purpose="p", legal_basis="b")
    assert ann.search("C1", FATHER).total == 1
    with pytest.raises(InputError, match="reason"):
        ann.close_case("C1", "  ")
    closed = ann.close_case("C1", "solved")
    assert closed.closed and closed.closed_by == "ann" and closed.closed_reason == "solved"
    assert ann.case("C1").closed_at == closed.closed_at
    n = len(_denials(db))
    with pytest.raises(AccessDenied, match="is closed"):
        Session(db, "sue").close_case("C1", "again")
    with pytest.raises(AccessDenied, match="is closed"):
        ann.search("C1", FATHER)
    with pytest.raises(AccessDenied, match="is closed"):
        Session(db, "sue").approve_case(
            "C1", trace_sha256=trace_digest(parse_haplotype_string(FATHER)), max_mismatches=1
        )
    assert len(_denials(db)) == n + 3
    # reading: the record and its audit entries
    read = [e.action for e in Session(db, "aud").audit_entries(case="C1")]
    assert read[:3] == ["case_open", "search_exact", "case_close"]
    assert Session(db, "admin").verify_audit().ok


def test_close_case__binding_verifies_on_a_store_upgraded_from_0003(store_url_fixture: str) -> None:
    """A case opened under revision 0003 is bound without the 0004 columns; upgrading
    and closing it keeps the chain verifying, and an edit of a close column is caught."""
    from alembic import command

    db = Database.create(store_url_fixture, "admin")
    try:
        with db.write() as conn:
            command.downgrade(migrate._config(conn), "0003")
        with db.write() as conn:  # what the 0003 code wrote: no case_type, no close columns
            conn.execute(
                sa.text(
                    "INSERT INTO cases (id, purpose, legal_basis, opened_by, opened_at) "
                    "VALUES ('OLD', 'p', 'b', 'admin', '2026-01-01T00:00:00+00:00')"
                )
            )
            audit.append(conn, user="admin", role="admin", action="case_open", case="OLD",
                         bind=[("cases", "OLD")])  # fmt: skip
    finally:
        db.close()
    db = Database.open(store_url_fixture)  # upgrades to 0004
    try:
        s = Session(db, "admin")
        assert s.verify_audit().ok
        assert s.case("OLD").case_type == "criminal"
        s.open_case("NEW", purpose="p", legal_basis="b", case_type="quality_control")
        s.close_case("OLD", "archived")
        assert s.verify_audit().ok
        with db.write() as conn:
            conn.execute(sa.text("UPDATE cases SET closed_reason = 'other' WHERE id = 'OLD'"))
        bad = s.verify_audit()
        assert not bad.ok and bad.table == "cases" and "OLD" in (bad.key or "")
        with db.write() as conn:  # clearing a bound type is caught too
            conn.execute(sa.text("UPDATE cases SET closed_reason = 'archived' WHERE id = 'OLD'"))
            conn.execute(sa.text("UPDATE cases SET case_type = NULL WHERE id = 'NEW'"))
        bad = s.verify_audit()
        assert not bad.ok and bad.table == "cases" and "NEW" in (bad.key or "")
    finally:
        db.close()


# ---------------------------------------------------------------- the matrix
ACTIONS: dict[str, Callable[[Session, str, Path], Any]] = {
    "search": lambda s, case, _f: s.search(case, FATHER),
    "request_approval": lambda s, case, _f: s.request_approval(
        case, trace=FATHER, max_mismatches=2, reason="lineage lead"
    ),
    "import": lambda s, case, f: s.wait_job(
        s.start_import_job(f, category="arrestee", case=case).id, 30
    ),
    "report_read": lambda s, case, _f: s.case(case),
    "close": lambda s, case, _f: s.close_case(case, "done"),
}


def _allowed(user: str, action: str, state: str) -> bool:
    if action == "report_read":
        return True  # reading a case's record: every role, open or closed
    if state == "closed" or user == "aud":
        return False
    if action == "request_approval":
        return user == "ann"  # only the opener asks
    return user in ("ann", "sue", "admin")


@pytest.mark.parametrize("state", ["open", "closed"])
def test_matrix__role_action_case_state(lab_fixture: Any, tmp_path: Path, state: str) -> None:
    """ann's cases: ann (own), bob (another analyst's), sue, admin, aud; every refusal is
    an audited access_denied naming the action and the case."""
    db = lab_fixture
    for i, user in enumerate(("ann", "bob", "sue", "admin", "aud")):
        for action, run in ACTIONS.items():
            case = f"K-{user}-{action}"
            Session(db, "ann").open_case(case, purpose="p", legal_basis="b")
            if state == "closed":
                Session(db, "sue").close_case(case, "closed for the test")
            before = len(_denials(db))
            f = _csv(tmp_path / f"{case}.csv", 3, start=100 * i + 10 * len(action))
            if _allowed(user, action, state):
                got = run(Session(db, user), case, f)
                if action == "import":
                    assert got.status == "done", (user, action, got.error)
                assert len(_denials(db)) == before, (user, action, state)
            else:
                with pytest.raises(AccessDenied):
                    run(Session(db, user), case, f)
                denied = _denials(db)
                assert len(denied) == before + 1, (user, action, state)
                assert denied[-1].user == user and denied[-1].params["case"] == case
    assert Session(db, "admin").verify_audit().ok


# ---------------------------------------------------------------- approval requests
def test_approval_flow__request_queue_decide_never_own(lab_fixture: Any) -> None:
    db = lab_fixture
    ann, sue, sam = Session(db, "ann"), Session(db, "sue"), Session(db, "sam")
    ann.open_case("C1", purpose="p", legal_basis="b")
    sam.open_case("C2", purpose="p", legal_basis="b")
    with pytest.raises(AccessDenied, match="needs approval"):
        ann.search("C1", FATHER, max_mismatches=2)
    with pytest.raises(InputError, match="bounds"):
        ann.request_approval("C1", trace=FATHER, reason="lead")
    with pytest.raises(InputError, match="reason"):
        ann.request_approval("C1", trace=FATHER, max_mismatches=2, reason=" ")
    r1 = ann.request_approval("C1", trace=FATHER, max_mismatches=2, reason="no exact match")
    assert r1.status == "pending" and r1.requested_by == "ann"
    assert r1.trace_sha256 == trace_digest(parse_haplotype_string(FATHER))
    r2 = sam.request_approval("C2", trace=SON, max_mismatches=1, reason="lead")
    # a supervisor's queue: never her own case's, never her own requests
    assert [r.id for r in sue.approval_queue()] == [r1.id, r2.id]
    assert [r.id for r in sam.approval_queue()] == [r1.id]
    assert [r.id for r in ann.approval_queue()] == [r1.id]  # an analyst: her own requests
    assert Session(db, "bob").approval_queue() == []
    n = len(_denials(db))
    with pytest.raises(AccessDenied):
        Session(db, "aud").approval_queue()
    with pytest.raises(AccessDenied, match="four eyes"):
        sam.decide_request(r2.id, approve=True, reason="mine")
    with pytest.raises(AccessDenied):
        ann.decide_request(r1.id, approve=True, reason="mine")
    assert len(_denials(db)) == n + 3
    assert sam.approval_request(r2.id).status == "pending"
    done = sue.decide_request(r1.id, approve=True, reason="serious offence")
    assert done.status == "approved" and done.decided_by == "sue" and done.approval_id
    a = db.approvals("C1")[0]
    assert (a.id, a.trace_sha256, a.max_mismatches, a.approved_by) == (
        done.approval_id,
        r1.trace_sha256,
        2,
        "sue",
    )
    # search enforcement is the approval's: the trace and bounds, nothing more
    assert ann.search("C1", FATHER, max_mismatches=2).total == 3
    with pytest.raises(AccessDenied, match="covers"):
        ann.search("C1", FATHER, max_mismatches=3)
    with pytest.raises(ConflictError, match="already approved"):
        sam.decide_request(r1.id, approve=False, reason="late")
    assert sue.approval_queue() == [sam.approval_request(r2.id)]
    refused = sue.decide_request(r2.id, approve=False, reason="not proportionate")
    assert (refused.status, refused.decision_reason) == ("refused", "not proportionate")
    assert db.approvals("C2") == []
    actions = [e.action for e in db.read_audit()]
    assert actions.count("approval_request") == 2 and "approval_refuse" in actions
    approve_entry = [e for e in db.read_audit() if e.action == "case_approve"][-1]
    assert approve_entry.params["request"] == r1.id
    assert Session(db, "admin").verify_audit().ok


def test_approval_flow__withdraw_and_close(lab_fixture: Any) -> None:
    db = lab_fixture
    ann, bob, sue = Session(db, "ann"), Session(db, "bob"), Session(db, "sue")
    ann.open_case("C1", purpose="p", legal_basis="b")
    r1 = ann.request_approval("C1", trace=FATHER, max_mismatches=1, reason="lead")
    with pytest.raises(NotFound):
        bob.withdraw_request(r1.id)
    with pytest.raises(AccessDenied, match="only the requester"):
        sue.withdraw_request(r1.id)
    assert ann.withdraw_request(r1.id).status == "withdrawn"
    with pytest.raises(ConflictError, match="already withdrawn"):
        sue.decide_request(r1.id, approve=True, reason="late")
    with pytest.raises(AccessDenied, match="opened by another"):
        bob.request_approval("C1", trace=FATHER, max_mismatches=1, reason="not mine")
    r2 = ann.request_approval("C1", trace=FATHER, max_mismatches=1, reason="again")
    ann.close_case("C1", "suspect identified otherwise")
    assert ann.approval_request(r2.id).status == "withdrawn"
    assert sue.approval_queue() == []
    with pytest.raises(AccessDenied, match="is closed"):
        ann.request_approval("C1", trace=FATHER, max_mismatches=1, reason="closed")
    assert Session(db, "admin").verify_audit().ok


# ---------------------------------------------------------------- jobs
def test_import_job__done_with_progress_and_result(lab_fixture: Any, tmp_path: Path) -> None:
    db = lab_fixture
    ann = Session(db, "ann")
    started = ann.start_import_job(_csv(tmp_path / "ok.csv", 50), category="arrestee")
    assert started.status == "queued" and not started.finished
    done = ann.wait_job(started.id, 60)
    assert done.status == "done", done.error
    assert (done.done, done.total) == (50, 50)
    assert done.result is not None and done.result["summary"]["added"] == 50
    assert done.result["validation"]["rejected"] == []
    assert "J7" in db.active_specimens()
    assert [j.id for j in ann.list_jobs()] == [started.id]
    assert Session(db, "bob").list_jobs() == []
    with pytest.raises(NotFound):
        Session(db, "bob").job(started.id)
    assert Session(db, "admin").job(started.id).status == "done"
    with pytest.raises(ConflictError, match="already done"):
        ann.cancel_job(started.id)
    assert Session(db, "admin").verify_audit().ok


def test_import_job__bad_file_fails_and_writes_nothing(lab_fixture: Any, tmp_path: Path) -> None:
    db = lab_fixture
    ann = Session(db, "ann")
    before = sorted(db.active_specimens())
    bad = _csv(tmp_path / "bad.csv", 40, bad_line=30)
    failed = ann.wait_job(ann.start_import_job(bad, category="arrestee").id, 60)
    assert failed.status == "failed" and failed.finished
    assert failed.error is not None and failed.error["error"]["code"] == "input_error"
    assert failed.error["error"]["details"]["line"] == 30
    assert "bad.csv" in failed.error["error"]["message"]
    assert sorted(db.active_specimens()) == before
    last = [e for e in db.read_audit() if e.action == "import"][-1]
    assert last.result["added"] == 0 and "error" in last.result
    with pytest.raises(InputError, match="no such file"):
        ann.start_import_job(tmp_path / "missing.csv", category="arrestee")
    with pytest.raises(AccessDenied):
        Session(db, "aud").start_import_job(bad, category="arrestee")
    assert Session(db, "admin").verify_audit().ok


def test_import_job__cancelled_writes_nothing(lab_fixture: Any, tmp_path: Path) -> None:
    db = lab_fixture
    ann = Session(db, "ann")
    before = sorted(db.active_specimens())
    big = _csv(tmp_path / "big.csv", 20000)
    started = ann.start_import_job(big, category="arrestee")
    asked = ann.cancel_job(started.id)
    assert asked.cancel_requested
    got = ann.wait_job(started.id, 120)
    assert got.status == "cancelled" and got.error is not None
    assert got.error["error"]["code"] == "cancelled"
    assert sorted(db.active_specimens()) == before
    last = [e for e in db.read_audit() if e.action == "import"][-1]
    assert last.result["cancelled"] is True and last.result["added"] == 0
    assert Session(db, "admin").verify_audit().ok


# ---------------------------------------------------------------- transparency
def test_transparency__counts_what_was_done(lab_fixture: Any, tmp_path: Path) -> None:
    db = lab_fixture
    ann, sue = Session(db, "ann"), Session(db, "sue")
    base = {m.month: m for m in Session(db, "aud").transparency()}
    ann.open_case("C1", purpose="p", legal_basis="b")
    ann.open_case("M1", purpose="p", legal_basis="b", case_type="missing_person")
    ann.search("C1", FATHER)  # exact: 1 hit
    ann.search("M1", SON)  # exact: 1 hit
    r = ann.request_approval("C1", trace=FATHER, max_mismatches=2, reason="lead")
    sue.decide_request(r.id, approve=True, reason="ok")
    ann.search("C1", FATHER, max_mismatches=2)  # familial: 3 hits
    r2 = ann.request_approval("M1", trace=SON, max_mismatches=1, reason="lead")
    sue.decide_request(r2.id, approve=False, reason="no")
    with pytest.raises(AccessDenied):
        Session(db, "aud").search("C1", FATHER)
    ann.wait_job(ann.start_import_job(_csv(tmp_path / "t.csv", 5), category="arrestee").id, 60)
    sue.expunge("J1", "court order")
    ann.close_case("M1", "found")
    months = Session(db, "aud").transparency()
    month = months[-1].month
    got = Session(db, "aud").transparency(month=month)[0].to_dict()
    was = base[month].to_dict() if month in base else {}

    def delta(key: str) -> int:
        return int(got[key]) - int(was.get(key, 0))

    assert delta("searches") == 3 and delta("familial_searches") == 1
    assert delta("hits") == 5
    assert got["searches_by_case_type"] == {"criminal": 2, "missing_person": 1}
    assert delta("approvals_granted") == 1 and delta("approvals_refused") == 1
    assert delta("approval_requests") == 2 and delta("refusals") == 1
    assert delta("imports") == 1 and delta("expungements") == 1
    assert delta("cases_opened") == 2 and delta("cases_closed") == 1
    text = repr(months)
    for name in ("father", "son", "J1", "C1", "M1", "ann", "sue"):
        assert f"'{name}'" not in text  # counts only: no specimen, case or user
    with pytest.raises(InputError, match="YYYY-MM"):
        Session(db, "aud").transparency(month="2026-13")
    assert Session(db, "aud").transparency(month="1999-01")[0].searches == 0
    assert Session(db, "admin").verify_audit().ok


# ---------------------------------------------------------------- pairs
@pytest.fixture
def grid_fixture(lab_fixture: Any) -> Any:
    """120 profiles on a 10 x 12 grid of two loci, plus duplicates: dup1 and dup2 of g0,
    dup3 of g5 (123 profiles besides the fixture's three)."""
    db = lab_fixture
    Session(db, "admin").expunge("cousin", "test")  # only the grid is stored
    Session(db, "admin").expunge("son", "test")
    Session(db, "admin").expunge("father", "test")
    grid = {f"g{i}": profile(DYS19=str(10 + i % 10), DYS390=str(20 + i // 10)) for i in range(120)}
    grid |= {"dup1": grid["g0"], "dup2": grid["g0"], "dup3": grid["g5"]}
    Session(db, "ann").import_records([record(k, v) for k, v in grid.items()])
    Session(db, "admin").open_case("QC1", purpose="p", legal_basis="b", case_type="quality_control")
    Session(db, "admin").open_case("CR1", purpose="p", legal_basis="b")
    return db


def test_pairs_summary__aggregates_only(grid_fixture: Any) -> None:
    db = grid_fixture
    got = Session(db, "aud").pairs_summary(max_mismatches=1)
    assert (got.profiles, got.pairs) == (123, 1266)
    assert got.pairs_by_mismatches == {0: 4, 1: 1262}
    assert got.clusters == {123: 1} and got.exposure == 1.0
    exact = Session(db, "ann").pairs_summary(max_mismatches=0)
    assert exact.pairs_by_mismatches == {0: 4}
    assert exact.clusters == {1: 118, 2: 1, 3: 1} and exact.profiles_in_clusters == 5
    text = json.dumps(exact.to_dict())
    assert '"g0"' not in text and "dup" not in text
    last = db.read_audit()[-1]
    assert last.action == "stats" and last.params["pairs_summary"] is True
    assert "dup" not in json.dumps(last.result)


def test_pairs_summary__small_store_refused(lab_fixture: Any) -> None:
    with pytest.raises(AccessDenied, match="needs at least 100"):
        Session(lab_fixture, "aud").pairs_summary(max_mismatches=1)


def test_duplicate_pairs__admin_in_quality_control_case_only(grid_fixture: Any) -> None:
    db = grid_fixture
    admin = Session(db, "admin")
    got = admin.duplicate_pairs("QC1")
    assert sorted((p["a"], p["b"]) for p in got.pairs) == [
        ("dup1", "dup2"),
        ("dup1", "g0"),
        ("dup2", "g0"),
        ("dup3", "g5"),
    ]
    assert admin.pairs("QC1", max_mismatches=0).pairs == got.pairs  # the old use case
    Session(db, "sue").open_case("QC2", purpose="p", legal_basis="b", case_type="quality_control")
    n = len(_denials(db))
    with pytest.raises(AccessDenied, match="quality_control case"):
        admin.duplicate_pairs("CR1")
    with pytest.raises(AccessDenied, match="for an admin"):
        Session(db, "sue").duplicate_pairs("QC2")
    with pytest.raises(AccessDenied, match="opened by another"):
        Session(db, "ann").duplicate_pairs("QC1")
    # a bulk map of who is related to whom is not built, whoever asks
    with pytest.raises(AccessDenied, match="not built"):
        admin.pairs("QC1", max_mismatches=1)
    assert len(_denials(db)) == n + 4
    admin.close_case("QC1", "reviewed")
    with pytest.raises(AccessDenied, match="is closed"):
        admin.duplicate_pairs("QC1")
    entry = [e for e in db.read_audit() if e.params.get("duplicates")][-1]
    assert entry.action == "search_exact" and entry.case == "QC1"
    assert entry.result["returned"] == ["dup1", "dup2", "dup3", "g0", "g5"]
    assert admin.verify_audit().ok
