"""A PostgreSQL server that goes away mid-command gives ``StoreUnavailable``, never a
traceback: a backend terminated from a second connection, one terminated by the server
in the middle of a CLI command, and a server that is not there at all."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text

from patriline.cli import main
from patriline.errors import StoreUnavailable
from patriline.store import Database
from patriline.store.schema import users

pytestmark = pytest.mark.postgres


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _new_url(pg_cluster_fixture: object, name: str) -> str:
    import os

    return pg_cluster_fixture.new_database(f"{name}_{os.getpid()}")  # type: ignore[attr-defined]


def test_read__backend_terminated_mid_transaction(pg_cluster_fixture: object) -> None:
    url = _new_url(pg_cluster_fixture, "cut")
    Database.create(url, "admin").close()
    with Database.open(url) as db:
        unreachable = pytest.raises(StoreUnavailable, match="database server is unreachable")
        with unreachable, db.read() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with psycopg.connect(_psycopg_url(url), autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            conn.execute(select(users.c.name)).all()
        # the pool drops the dead connection: the next command works again
        assert [u.name for u in db.users()] == ["admin"]


def test_cli__server_kills_the_backend_mid_command(
    pg_cluster_fixture: object, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``user add`` and ``import`` write rows and an audit entry in one transaction; a
    trigger terminates the backend in between. The CLI names the cause, exits with
    StoreUnavailable's code, prints no traceback (``--json``: the JSON error), and
    nothing was written."""
    url = _new_url(pg_cluster_fixture, "kill")
    Database.create(url, "boss").close()
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION kill_me() RETURNS trigger AS $$ BEGIN "
            "PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        for table in ("users", "import_batches"):
            conn.execute(f"CREATE TRIGGER kill_me BEFORE INSERT ON {table} EXECUTE FUNCTION kill_me()")  # fmt: skip
    csv_file = tmp_path / "h.csv"
    csv_file.write_text("specimen,DYS19,DYS390\nA1,14,24\n", encoding="utf-8")
    common = ["--db", url, "--user", "boss"]
    for argv in (["user", "add", "ann", "--role", "analyst"], ["import", str(csv_file), "--json"]):
        code = main([*argv, *common])
        out, err = capsys.readouterr()
        assert code == StoreUnavailable.exit_code == 7, err
        assert err.startswith("error: the store's database server is unreachable")
        assert "Traceback" not in err + out
        if "--json" in argv:
            assert json.loads(out)["error"]["code"] == "store_unavailable"
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        for table in ("users", "import_batches"):
            conn.execute(f"DROP TRIGGER kill_me ON {table}")
    with Database.open(url) as db:
        assert [u.name for u in db.users()] == ["boss"]
        assert db.active_specimens() == []
        assert db.verify_audit().ok


def test_cli__no_server(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://nobody@/patriline?host={tmp_path}&port=1"
    code = main(["info", "--db", url])
    _, err = capsys.readouterr()
    assert code == StoreUnavailable.exit_code
    assert err.startswith("error: the store's database server is unreachable")
    assert "Traceback" not in err
