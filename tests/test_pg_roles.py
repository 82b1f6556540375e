"""Least privilege in PostgreSQL (issue 12 item 4): ``patriline db grant``.

The store is created by a non-superuser owner role (the migrations' role); the service
role gets its privileges from ``db grant`` and connects as itself: the normal store code
path works (a case is opened through ``Session``, its audit entry is written), while a raw
UPDATE, DELETE or TRUNCATE of ``audit_log``, a change of ``alembic_version`` and any DDL
fail. Even the owner's UPDATE of the audit log is refused (the 0003 triggers).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from patriline.casework import Session
from patriline.cli import main
from patriline.errors import AccessDenied
from patriline.store import Database, migrate
from patriline.store.roles import service_role_sql
from plugins.postgres import PgCluster

DOCS = Path(__file__).resolve().parents[1] / "docs" / "service.md"


@dataclass
class Roles:
    cluster: PgCluster
    database: str
    owner: str
    service: str

    @property
    def owner_url(self) -> str:
        return self.cluster.url(self.database, user=self.owner)

    @property
    def service_url(self) -> str:
        return self.cluster.url(self.database, user=self.service)


def _new(cluster: PgCluster) -> Iterator[Roles]:
    tag = uuid.uuid4().hex[:10]
    roles = Roles(cluster, f"roles_{tag}", f"own_{tag}", f"svc_{tag}")
    cluster.execute(f'CREATE ROLE "{roles.owner}" LOGIN')
    cluster.execute(f'CREATE ROLE "{roles.service}" LOGIN')
    cluster.execute(f'CREATE DATABASE "{roles.database}" OWNER "{roles.owner}"')
    Database.create(roles.owner_url, "admin").close()
    try:
        yield roles
    finally:
        cluster.terminate_backends(roles.database)
        cluster.execute(f'DROP DATABASE IF EXISTS "{roles.database}"')
        cluster.execute(f'DROP ROLE IF EXISTS "{roles.service}"')
        cluster.execute(f'DROP ROLE IF EXISTS "{roles.owner}"')


@pytest.fixture(scope="module")
def granted(pg_cluster_fixture: PgCluster) -> Iterator[Roles]:
    """A store owned by ``owner``; ``service`` set up with ``patriline db grant``."""
    for roles in _new(pg_cluster_fixture):
        assert main(["db", "grant", "--db", roles.owner_url, "--role", roles.service]) == 0
        yield roles


@pytest.fixture
def fresh(pg_cluster_fixture: PgCluster) -> Iterator[Roles]:
    """As ``granted`` but not granted yet, for one test."""
    yield from _new(pg_cluster_fixture)


def _refused(conn: Connection, sql: str) -> str:
    with pytest.raises(DBAPIError) as info, conn.begin_nested():
        conn.exec_driver_sql(sql)
    return str(info.value.orig)


pg = pytest.mark.postgres


@pg
def test_service_role__does_its_work_through_the_store(granted: Roles) -> None:
    with Session.open(granted.service_url, "admin") as session:
        session.add_user("ana", "analyst")
    with Session.open(granted.service_url, "ana") as session:
        session.open_case("C1", purpose="burglary 12/2024", legal_basis="CPA s.63")
        entries = session.store.read_audit(case="C1")
        assert [e.action for e in entries][-1:] == ["case_open"]
        assert session.store.verify_audit().ok


@pg
def test_service_role__cannot_update_delete_or_truncate_the_audit_log(granted: Roles) -> None:
    with Database.open(granted.service_url) as db, db.engine.connect() as conn:
        with conn.begin() as tx:
            for sql in (
                "UPDATE audit_log SET purpose = 'changed'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
            ):
                assert "permission denied for table audit_log" in _refused(conn, sql)
            tx.rollback()
        assert db.verify_audit().ok


@pg
def test_service_role__cannot_run_ddl(granted: Roles) -> None:
    with Database.open(granted.service_url) as db, db.engine.connect() as conn, conn.begin() as tx:
        assert "permission denied for schema public" in _refused(
            conn, "CREATE TABLE shadow (x int)"
        )
        assert "permission denied for schema public" in _refused(
            conn, "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'"
        )
        for sql in (
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
            "ALTER TABLE cases ADD COLUMN note text",
            "DROP TRIGGER audit_log_append_only ON audit_log",
            "DROP TABLE specimens",
        ):
            assert "must be owner of" in _refused(conn, sql)
        tx.rollback()


@pg
def test_service_role__cannot_change_the_schema_revision(granted: Roles) -> None:
    with Database.open(granted.service_url) as db, db.engine.connect() as conn, conn.begin() as tx:
        for sql in (
            "UPDATE alembic_version SET version_num = '9999'",
            "DELETE FROM alembic_version",
            "INSERT INTO alembic_version VALUES ('9999')",
            "TRUNCATE alembic_version",
        ):
            assert "permission denied for table alembic_version" in _refused(conn, sql)
        tx.rollback()


@pg
def test_owner__cannot_update_the_audit_log_either(granted: Roles) -> None:
    """The 0003 triggers refuse everyone; the owner may move the revision (migrations)."""
    with Database.open(granted.owner_url) as db, db.engine.connect() as conn, conn.begin() as tx:
        for sql, op in (
            ("UPDATE audit_log SET purpose = 'changed'", "UPDATE"),
            ("DELETE FROM audit_log", "DELETE"),
            ("TRUNCATE audit_log", "TRUNCATE"),
        ):
            assert f"append-only ({op} refused)" in _refused(conn, sql)
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
        tx.rollback()


@pg
def test_too_broad_a_grant__the_triggers_refuse_and_db_grant_takes_it_back(
    fresh: Roles, capsys: pytest.CaptureFixture[str]
) -> None:
    with Database.open(fresh.owner_url) as db, db.engine.begin() as conn:
        conn.exec_driver_sql(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{fresh.service}"')
        conn.exec_driver_sql(f'GRANT UPDATE (purpose) ON audit_log TO "{fresh.service}"')
    with Database.open(fresh.service_url) as db, db.engine.connect() as conn, conn.begin() as tx:
        assert "append-only (UPDATE refused)" in _refused(
            conn, "UPDATE audit_log SET purpose = 'changed'"
        )
        refused = _refused(conn, "UPDATE alembic_version SET version_num = '9999'")
        owner, service = fresh.owner, fresh.service
        assert (
            f"UPDATE on alembic_version is for the schema owner (migrations run as {owner})"
            in refused
        )
        assert f"not {service}" in refused
        assert "is for the schema owner" in _refused(conn, "TRUNCATE alembic_version")
        tx.rollback()
    capsys.readouterr()
    assert main(["db", "grant", "--db", fresh.owner_url, "--role", fresh.service, "--sql"]) == 0
    out = capsys.readouterr().out
    assert f'GRANT SELECT, INSERT ON TABLE "public"."audit_log" TO "{fresh.service}";' in out
    assert f"role {fresh.service} on {fresh.database}.public" in out
    assert "append-only audit_log, read-only alembic_version" in out
    column_update = f"SELECT has_any_column_privilege('{fresh.service}', 'audit_log', 'UPDATE')"
    assert fresh.cluster.execute(column_update, db=fresh.database) == [(False,)]
    with Database.open(fresh.service_url) as db, db.engine.connect() as conn:
        with conn.begin() as tx:
            assert "permission denied" in _refused(conn, "UPDATE audit_log SET purpose = 'x'")
            assert "permission denied" in _refused(conn, "DELETE FROM alembic_version")
            tx.rollback()
        Session(db, db.actor("admin")).audit("stats", params={}, result={})
        assert db.verify_audit().ok


@pg
def test_db_grant__refuses_a_role_that_would_keep_more(
    fresh: Roles, capsys: pytest.CaptureFixture[str]
) -> None:
    def grant(role: str, url: str | None = None) -> tuple[int, str]:
        capsys.readouterr()
        rc = main(["db", "grant", "--db", url or fresh.owner_url, "--role", role])
        return rc, capsys.readouterr().err.replace("\n", " ")

    rc, err = grant(f"nobody_{fresh.service}")
    assert rc == 4 and "no PostgreSQL role" in err and "CREATE ROLE" in err
    rc, err = grant("postgres")
    assert rc == 2 and "superuser" in err
    rc, err = grant(fresh.owner)
    assert rc == 2 and "must not be the owner" in err
    fresh.cluster.execute(f'GRANT "{fresh.owner}" TO "{fresh.service}"')
    rc, err = grant(fresh.service)
    assert rc == 2 and "member of the tables' owner" in err
    fresh.cluster.execute(f'REVOKE "{fresh.owner}" FROM "{fresh.service}"')
    fresh.cluster.execute("GRANT CREATE ON SCHEMA public TO PUBLIC", db=fresh.database)
    rc, err = grant(fresh.service)
    assert rc == 2 and "CREATE on schema public" in err
    fresh.cluster.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC", db=fresh.database)
    assert grant(fresh.service) == (0, "")
    rc, err = grant(fresh.service, url=fresh.service_url)  # not as the owner
    assert rc == 3 and f"connect as the owner of the store's tables ({fresh.owner})" in err


@pg
def test_service_role__cannot_migrate_an_older_store_the_owner_can(
    fresh: Roles, capsys: pytest.CaptureFixture[str]
) -> None:
    from alembic import command

    assert main(["db", "grant", "--db", fresh.owner_url, "--role", fresh.service]) == 0
    with Database.open(fresh.owner_url) as db, db.write() as conn:
        command.downgrade(migrate._config(conn), "0004")
    with pytest.raises(AccessDenied, match=r"revision 0004 .* needs 0005.*db upgrade --db"):
        Database.open(fresh.service_url)
    capsys.readouterr()
    assert main(["db", "upgrade", "--db", fresh.owner_url]) == 0
    assert "migrated from schema revision 0004 to 0005" in capsys.readouterr().out
    with Database.open(fresh.service_url) as db:
        assert db.info().revision == migrate.head_revision() == "0005"


def test_db_upgrade_and_grant__on_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "s.db")
    Database.create(url, "admin").close()
    capsys.readouterr()
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "up to date (schema revision 0005)" in capsys.readouterr().out
    assert main(["db", "grant", "--db", url, "--role", "svc"]) == 2
    assert "roles are PostgreSQL's" in capsys.readouterr().err


def test_docs__print_the_statements_db_grant_runs() -> None:
    text = re.sub(r"\s+", " ", DOCS.read_text(encoding="utf-8"))
    for statement in service_role_sql("patriline_service"):
        assert statement + ";" in text
