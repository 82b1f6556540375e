"""The tamper matrix: every way of changing the record is found by ``verify``, and named.

Issue 17 item 3. Each case runs on SQLite and PostgreSQL. The attacker has write access
to the store and goes past its append-only guards explicitly (``plugins.tamper``); the
forged rows in ``users``/``cases`` need no bypass at all — they are caught by the chain
binding. The table "tampering → what verify reports" is written to
``verification/output/audit_tamper.md`` (and shown in ``docs/safeguards.md``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from patriline.casework import Session
from patriline.cli import main
from patriline.store import Database
from patriline.store.audit import BOUND, Anchor, bound_row_hash
from patriline.store.schema import approvals, audit_log, cases, import_batches, meta, users
from plugins.postgres import records
from plugins.tamper import attacker, rechain

OUTPUT = Path(__file__).resolve().parents[1] / "verification" / "output" / "audit_tamper.md"
_ROWS: dict[tuple[str, str], str] = {}


def _populated(url: str) -> tuple[Database, Anchor]:
    """admin, a batch of 3 specimens, analyst ana, supervisor sup, case C1 approved by sup."""
    db = Database.create(url, "admin")
    admin = db.actor("admin")
    Session(db, admin).import_records(records(3))  # entry 3
    Session(db, admin).add_user("ana", "analyst")  # 4
    Session(db, admin).add_user("sup", "supervisor")  # 5
    ana = db.actor("ana")
    Session(db, ana).open_case("C1", purpose="burglary 12/2024", legal_basis="CPA s.63")  # 6
    Session(db, ana).open_case("C2", purpose="robbery 01/2025", legal_basis="CPA s.63")  # 7
    Session(db, db.actor("sup")).approve_case("C1", trace_sha256="a" * 64, max_mismatches=2)  # 8
    for i in range(3):  # 9, 10, 11
        Session(db, ana).audit("search_exact", case="C1", params={"q": i}, result={"hits": i})
    assert db.verify_audit().ok
    return db, db.audit_anchor()


def _edit(db: Database) -> None:
    with attacker(db) as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 9).values(user="mallory"))


def _delete(db: Database) -> None:
    with attacker(db) as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == 9))


def _reorder(db: Database) -> None:
    with attacker(db) as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 9).values(id=-1))
        conn.execute(update(audit_log).where(audit_log.c.id == 10).values(id=9))
        conn.execute(update(audit_log).where(audit_log.c.id == -1).values(id=10))


def _truncate(db: Database) -> None:
    with attacker(db) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE audit_log")
        else:
            conn.execute(delete(audit_log))
        conn.execute(delete(meta).where(meta.c.key == "audit_head"))


def _rewrite(db: Database) -> None:
    """Edit entry 9 and recompute every hash, the head and the bound rows."""
    with attacker(db) as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == 9).values(user="mallory"))
        rechain(conn)


def _forge_approval(db: Database) -> None:
    """Approve C2 by hand, copying C1's (genuine) binding columns: no guard to bypass."""
    with db.engine.begin() as conn:
        c1 = conn.execute(cases.select().where(cases.c.id == "C1")).mappings().one()
        conn.execute(
            update(cases)
            .where(cases.c.id == "C2")
            .values(
                familial_approved_by="sup",
                familial_approved_at=c1["familial_approved_at"],
                audit_id=c1["audit_id"],
                audit_hash=c1["audit_hash"],
            )
        )


def _forge_approval_rehashed(db: Database) -> None:
    """Approve C2 by hand and recompute its ``audit_hash`` from entry 7 (public rules)."""
    with db.engine.begin() as conn:
        conn.execute(
            update(cases)
            .where(cases.c.id == "C2")
            .values(familial_approved_by="sup", familial_approved_at="2026-12-01T00:00:00")
        )
        c2 = conn.execute(cases.select().where(cases.c.id == "C2")).mappings().one()
        h7 = conn.execute(select(audit_log.c.hash).where(audit_log.c.id == 7)).scalar_one()
        conn.execute(
            update(cases)
            .where(cases.c.id == "C2")
            .values(audit_hash=bound_row_hash(h7, BOUND["cases"], c2))
        )


def _insert_approval(db: Database) -> None:
    """A live approval for C2 inserted by hand, copying C1's genuine approval row and its
    binding columns (the approvals table decides familial searches)."""
    with db.engine.begin() as conn:
        a1 = conn.execute(approvals.select().where(approvals.c.case_id == "C1")).mappings().one()
        conn.execute(insert(approvals).values({**a1, "id": a1["id"] + 1, "case_id": "C2"}))


def _change_role(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(users).where(users.c.name == "ana").values(role="admin"))


def _insert_user(db: Database) -> None:
    with db.engine.begin() as conn:
        ana = conn.execute(users.select().where(users.c.name == "ana")).mappings().one()
        conn.execute(
            insert(users).values({**ana, "name": "mallory", "role": "supervisor"})  # copied binding
        )


def _insert_batch(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            insert(import_batches).values(
                kind="haplotypes",
                software_version="x",
                user="mallory",
                created_at="2026-01-01",
                rows=0,
                added=0,
                unchanged=0,
                conflicts=0,
                rejected=0,
            )
        )


@dataclass(frozen=True)
class Tamper:
    name: str
    act: Callable[[Database], None]
    reason: str  # a substring of what verify must say
    bad_id: int | None = None
    table: str | None = None
    key: str | None = None
    needs_anchor: bool = False


MATRIX = [
    Tamper("edit an entry (9)", _edit, "entry 9 was altered", 9),
    Tamper("delete an entry (9)", _delete, "entry 9 is missing", 9),
    Tamper("reorder two entries (9, 10)", _reorder, "entry 9 does not link", 9),
    Tamper("truncate the log (and its head)", _truncate, "the audit log is empty", 1),
    Tamper(
        "rewrite the chain with recomputed head and bound rows",
        _rewrite,
        "entry 11 no longer has the anchored hash",
        11,
        needs_anchor=True,
    ),
    Tamper(
        "forged approval of case C2 (copied binding)",
        _forge_approval,
        "cases row 'C2' names audit entry 8 but entry 7 wrote it last",
        7,
        "cases",
        "'C2'",
    ),
    Tamper(
        "forged approval of case C2 (audit_hash recomputed)",
        _forge_approval_rehashed,
        "cases row 'C2' differs from what audit entry 7 recorded",
        7,
        "cases",
        "'C2'",
    ),
    Tamper(
        "inserted approval of case C2 (copied binding)",
        _insert_approval,
        "approvals row '2' was written by no audit entry",
        8,
        "approvals",
        "'2'",
    ),
    Tamper(
        "changed role (ana → admin)",
        _change_role,
        "users row 'ana' differs from what audit entry 4 recorded",
        4,
        "users",
        "'ana'",
    ),
    Tamper(
        "inserted user (mallory, copied binding)",
        _insert_user,
        "users row 'mallory' was written by no audit entry",
        4,
        "users",
        "'mallory'",
    ),
    Tamper(
        "inserted import batch",
        _insert_batch,
        "import batch 2 has no 'import' audit entry",
        None,
        "import_batches",
        "2",
    ),
]


@pytest.fixture(scope="module", autouse=True)
def _write_table() -> Iterator[None]:
    yield
    if not _ROWS:
        return
    lines = ["| tampering | engine | `audit verify` reports |", "|---|---|---|"]
    for (name, engine), found in sorted(_ROWS.items(), key=lambda kv: (_order(kv[0][0]), kv[0])):
        lines.append(f"| {name} | {engine} | {found} |")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n" + "\n".join(lines))


def _order(name: str) -> int:
    return next(i for i, t in enumerate(MATRIX) if t.name == name)


@pytest.mark.parametrize("tamper", MATRIX, ids=[t.name.split(" (")[0] for t in MATRIX])
def test_tamper_matrix__verify_fails_and_names_it(store_url_fixture: str, tamper: Tamper) -> None:
    db, anchor = _populated(store_url_fixture)
    try:
        tamper.act(db)
        alone = db.verify_audit()
        res = db.verify_audit([anchor])
    finally:
        db.close()
    if tamper.needs_anchor:
        assert alone.ok  # the chain alone cannot tell: that is what anchors are for
    else:
        assert not alone.ok
        assert alone.reason is not None and tamper.reason in alone.reason, alone.reason
    assert not res.ok and res.reason is not None and tamper.reason in res.reason, res.reason
    assert (res.first_bad_id, res.table, res.key) == (tamper.bad_id, tamper.table, tamper.key)
    engine = make_url(db.url).get_backend_name()
    where = f"entry {res.first_bad_id}" if res.table is None else f"{res.table} {res.key}"
    reason = re.sub(r" \(anchor taken [^)]*\)", "", res.reason)
    _ROWS[(tamper.name, engine)] = (
        f"{'only with `--anchor`: ' if tamper.needs_anchor else ''}{where}: {reason}"
    )


@pytest.mark.parametrize("tamper", MATRIX[:4] + MATRIX[5:], ids=lambda t: t.name.split(" (")[0])
def test_tamper_matrix__cli_exits_1_with_the_reason(
    store_url_fixture: str,
    tamper: Tamper,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, _anchor = _populated(store_url_fixture)
    tamper.act(db)
    db.close()
    monkeypatch.setenv("PATRILINE_DB", store_url_fixture)
    capsys.readouterr()
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "audit log BROKEN" in err and tamper.reason in err.replace("\n", " ")


# -- the guards in the database itself -------------------------------------------------


def _refused(conn: Connection, sql: str) -> str:
    with pytest.raises(DBAPIError) as info, conn.begin_nested():
        conn.exec_driver_sql(sql)
    return str(info.value.orig)


def test_guard__sqlite_triggers_refuse_update_and_delete(tmp_path: Path) -> None:
    db, _ = _populated(str(tmp_path / "g.db"))
    with db.engine.connect() as conn, conn.begin() as tx:
        assert "append-only (UPDATE refused)" in _refused(
            conn, "UPDATE audit_log SET purpose = 'm' WHERE id = 3"
        )
        assert "append-only (DELETE refused)" in _refused(conn, "DELETE FROM audit_log")
        assert "only moves forward" in _refused(
            conn, "UPDATE meta SET value = '3:' || substr(value, 4) WHERE key = 'audit_head'"
        )
        assert "cannot be deleted" in _refused(conn, "DELETE FROM meta WHERE key = 'audit_head'")
        tx.rollback()
    assert db.verify_audit().ok and db.verify_audit().entries == 11
    db.close()


@pytest.mark.postgres
def test_guard__postgres_application_role_cannot_update_delete_or_truncate(
    pg_cluster_fixture: object,
) -> None:
    """The application connects as a non-superuser role: the log only grows.

    First with the grants the application needs (SELECT, INSERT on ``audit_log``:
    the privileges refuse), then with every privilege granted, as a careless set-up
    might (the triggers refuse, TRUNCATE included). The role still works normally.
    """
    name = f"guard_{uuid.uuid4().hex[:10]}"
    url = pg_cluster_fixture.new_database(name)  # type: ignore[attr-defined]
    db, _ = _populated(url)
    role = f"app_{name}"
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        conn.exec_driver_sql(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'
        )
        conn.exec_driver_sql(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
        conn.exec_driver_sql(f'REVOKE UPDATE, DELETE ON audit_log FROM "{role}"')
    db.close()
    app_url = make_url(url).set(username=role).render_as_string(hide_password=False)
    app = Database.open(app_url)
    try:
        admin = app.actor("admin")
        Session(app, admin).add_user("eve", "auditor")  # the role does its normal work
        Session(app, admin).audit("stats", params={}, result={})
        with app.engine.connect() as conn, conn.begin() as tx:
            assert "permission denied" in _refused(conn, "UPDATE audit_log SET purpose = 'm'")
            assert "permission denied" in _refused(conn, "DELETE FROM audit_log")
            assert "permission denied" in _refused(conn, "TRUNCATE audit_log")
            tx.rollback()
        with Database.open(url) as su, su.engine.begin() as conn:
            conn.exec_driver_sql(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        with app.engine.connect() as conn, conn.begin() as tx:
            assert "append-only (UPDATE refused)" in _refused(
                conn, "UPDATE audit_log SET purpose = 'm'"
            )
            assert "append-only (DELETE refused)" in _refused(conn, "DELETE FROM audit_log")
            assert "append-only (TRUNCATE refused)" in _refused(conn, "TRUNCATE audit_log")
            assert "only moves forward" in _refused(
                conn, "UPDATE meta SET value = '1:x' WHERE key = 'audit_head'"
            )
            assert "TRUNCATE refused" in _refused(conn, "TRUNCATE meta")
            tx.rollback()
        res = app.verify_audit()
        assert res.ok and res.entries == 13
    finally:
        app.close()


# -- stores from before the guard ------------------------------------------------------


def test_upgrade_from_0001_binds_existing_rows(store_url_fixture: str) -> None:
    """A store at revision 0001 (users and cases unbound) gets one ``audit_guard`` entry
    binding its rows; afterwards a forged approval is caught as in a new store."""
    from alembic import command

    from patriline.store.migrate import _config

    db = Database.create(store_url_fixture, "admin")  # what an older patriline wrote
    admin = db.actor("admin")
    Session(db, admin).import_records(records(3))
    Session(db, admin).add_user("ana", "analyst")
    Session(db, admin).add_user("sup", "supervisor")
    Session(db, db.actor("ana")).open_case("C1", purpose="burglary 12/2024", legal_basis="CPA s.63")
    Session(db, db.actor("ana")).open_case("C2", purpose="robbery 01/2025", legal_basis="CPA s.63")
    before = db.verify_audit().entries
    with attacker(db) as conn:  # back to 0001, as an older patriline left it
        cfg = _config(conn)
        command.downgrade(cfg, "0001")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    db.close()
    db = Database.open(store_url_fixture)  # upgrades
    try:
        res = db.verify_audit()
        assert res.ok and res.entries == before + 1
        last = Session(db, db.actor("admin")).audit_entries(limit=1)[0]
        assert last.action == "audit_guard" and len(last.result["bound"]) == 5
        with db.engine.begin() as conn:  # approve C2 by hand: no entry wrote that
            conn.execute(update(cases).where(cases.c.id == "C2").values(familial_approved_by="sup"))
        res = db.verify_audit()
        assert not res.ok and (res.table, res.key) == ("cases", "'C2'")
    finally:
        db.close()
