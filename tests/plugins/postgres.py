"""PostgreSQL fixtures (owned by the store): a throwaway cluster started by the tests.

``store_url_fixture`` is parametrized over ``sqlite`` and ``postgresql``: it yields the URL
of a fresh, empty database (no store in it yet: call ``Database.create(url, admin)``).

The PostgreSQL server is, in order: ``PATRILINE_TEST_PG`` (a server URL such as
``postgresql://user@host:5432/postgres``; a database per test is created on it), or a
cluster started once per session with ``initdb``/``pg_ctl`` from
``/usr/lib/postgresql/*/bin`` (or ``PATH``) in a temporary directory, listening on a
free port and a Unix socket there. As root, the cluster runs as the ``postgres`` OS user
(``initdb`` refuses root). Without binaries the PostgreSQL cases are skipped, except
under ``CI=true``, where they fail.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from patriline.haplotype import parse_haplotype_string
from patriline.io.model import Record

_counter = itertools.count()


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL tests must run under CI=true: {reason}")
    pytest.skip(reason)


class PgCluster:
    """A running PostgreSQL server and how to make databases on it."""

    def __init__(self, admin_url: str, base_url: str) -> None:
        self.admin_url = admin_url  # to the maintenance database
        self.base_url = base_url  # with a {db} placeholder

    def new_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            self.admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.base_url.format(db=name)


def _start_cluster(tmp: Path) -> tuple[PgCluster, list[str]]:
    bindir = _pg_bin()
    if bindir is None:
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
    assert bindir is not None
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            _unavailable("running as root but runuser is missing (initdb refuses root)")
        shutil.chown(tmp, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
        os.chmod(tmp, 0o755)
        prefix = [str(runuser), "-u", "postgres", "--"]
    user = "postgres"
    port = _free_port()
    run = subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        _unavailable(f"initdb failed: {run.stderr.strip()[-500:]}")
    opts = f"-p {port} -k {sock} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    start = subprocess.run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(tmp / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        capture_output=True,
        text=True,
    )
    if start.returncode != 0:
        log = (tmp / "log").read_text() if (tmp / "log").exists() else ""
        _unavailable(f"pg_ctl start failed: {start.stderr.strip()} {log[-500:]}")
    stop = [
        *prefix,
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-m",
        "immediate",
        "-w",
        "-t",
        "20",
        "stop",
    ]
    base = f"postgresql+psycopg://{user}@/{{db}}?host={sock}&port={port}"
    return PgCluster(base.format(db="postgres"), base), stop


@pytest.fixture(scope="session")
def pg_cluster_fixture() -> Iterator[PgCluster]:
    """A PostgreSQL server for the session (``PATRILINE_TEST_PG`` or a throwaway cluster)."""
    env = os.environ.get("PATRILINE_TEST_PG")
    if env:
        from sqlalchemy.engine import make_url

        url = make_url(
            env.replace("postgresql://", "postgresql+psycopg://", 1)
            if env.startswith("postgresql://")
            else env
        )
        base = (
            url.set(database="DBNAME")
            .render_as_string(hide_password=False)
            .replace("DBNAME", "{db}")
        )
        yield PgCluster(url.render_as_string(hide_password=False), base)
        return
    tmp = Path(tempfile.mkdtemp(prefix="plpg"))
    cluster, stop = _start_cluster(tmp)
    try:
        yield cluster
    finally:
        subprocess.run(stop, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a fresh empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    cluster: PgCluster = request.getfixturevalue("pg_cluster_fixture")
    return cluster.new_database(f"t{os.getpid()}_{next(_counter)}")


@pytest.fixture
def store_fixture(store_url_fixture: str) -> Iterator[object]:
    """A new store (SQLite and PostgreSQL) whose admin is the user ``admin``."""
    from patriline.store import Database

    db = Database.create(store_url_fixture, "admin")
    try:
        yield db
    finally:
        db.close()


# -- helpers for store tests: records built directly, without a reader --------------


def record(specimen: str, text: str, line: int = 2, **fields: str) -> Record:
    person = fields.pop("person", None)
    kit = fields.pop("kit", None)
    return Record(specimen, parse_haplotype_string(text), line, kit, person, dict(fields))


def records(n: int, start: int = 0) -> list[Record]:
    """``n`` distinct small profiles ``S<i>``."""
    return [
        record(
            f"S{i}",
            f"DYS19={10 + i % 10},DYS390={20 + (i // 10) % 10},DYS385=11,{12 + i % 7}",
            i + 2,
        )
        for i in range(start, start + n)
    ]
