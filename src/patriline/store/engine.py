"""Engines for the two back-ends: SQLite (embedded default) and PostgreSQL (servers).

SQLite runs in WAL mode (readers never block the writer) with every write transaction
started as ``BEGIN IMMEDIATE``, so two writers serialise at the start of a transaction
instead of failing half-way; a writer that cannot get the lock within ``busy_timeout``
gets :class:`~patriline.errors.DatabaseBusy` and nothing of its work is written.
PostgreSQL write transactions take one transaction-scoped advisory lock, which keeps the
audit hash chain and the change-feed counter linear.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import QueuePool, StaticPool

from patriline._files import FILE_MODE, make_private
from patriline.errors import DatabaseBusy, InputError, StoreUnavailable

__all__ = [
    "WRITE_LOCK",
    "is_busy",
    "is_unreachable",
    "make_engine",
    "normalize_url",
    "unreachable",
    "write_transaction",
]

#: Key of the PostgreSQL advisory lock held by every write transaction.
WRITE_LOCK = 0x7A7121E

DEFAULT_BUSY_TIMEOUT = float(os.environ.get("PATRILINE_BUSY_TIMEOUT", "30"))


def normalize_url(url: str | Path) -> str:
    """A SQLAlchemy URL: a bare path means a SQLite file; ``postgresql://`` uses psycopg 3."""
    text_url = str(url)
    if text_url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + text_url.split("://", 1)[1]
    if "://" not in text_url:
        return "sqlite:///" + str(Path(text_url).expanduser().resolve())
    try:
        parsed = make_url(text_url)
    except ArgumentError as exc:
        raise InputError(f"not a database URL: {text_url!r} ({exc})") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(
            f"database URL {text_url!r}: only SQLite files and postgresql:// URLs are supported"
        )
    return text_url


def read_only_sqlite_url(path: str) -> str:
    """A URL that opens the SQLite file ``path`` read-only, creating nothing beside it.

    With no (non-empty) ``-wal`` file beside it the file is opened ``immutable``: no
    locks, no ``-shm``, nothing written (an evidence copy on read-only media). With one,
    ``mode=ro`` reads the WAL too (SQLite then needs its ``-shm``), so committed entries
    still in the WAL are not missed.
    """
    from urllib.parse import quote

    wal = Path(path + "-wal")
    flags = "mode=ro" if wal.exists() and wal.stat().st_size > 0 else "mode=ro&immutable=1"
    return f"sqlite:///file:{quote(path)}?{flags}&uri=true"


def make_engine(
    url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, read_only: bool = False
) -> Engine:
    """Create the engine for a normalized URL, with the SQLite transaction set-up
    (``read_only``: :func:`read_only_sqlite_url`, no WAL switch, nothing created)."""
    if url.startswith("sqlite"):
        memory = make_url(url).database in (None, "", ":memory:")
        if read_only and not memory:
            url = read_only_sqlite_url(str(make_url(url).database))
        elif not memory:
            private_sqlite_file(str(make_url(url).database))
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
            poolclass=StaticPool if memory else QueuePool,
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            if not memory and not read_only:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Foreign keys are enforced by PostgreSQL; in SQLite the library keeps them
            # (enforcing them would double the cost of a bulk import).
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cur.execute("PRAGMA cache_size=-200000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("patriline_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if read_only:
        return create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"options": "-c default_transaction_read_only=on"},
        )
    return create_engine(url, pool_pre_ping=True)


#: Files SQLite keeps beside a store (it creates them with the store file's mode).
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def private_sqlite_file(path: str) -> None:
    """Create the SQLite file ``path`` as ``0600`` before SQLite writes to it, and take
    group/other access away from an existing one and its ``-wal``/``-shm``/``-journal``.

    SQLite creates its journal, WAL and shared-memory files with the mode of the store
    file, so a private store file keeps them private whatever the umask.
    """
    if path.startswith("file:"):
        return
    if not os.path.exists(path):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            pass
        except OSError:
            return  # let SQLite report the error for the path
        else:
            os.fchmod(fd, FILE_MODE)
            os.close(fd)
    for name in (path, *(path + s for s in SQLITE_SIDECARS)):
        if os.path.exists(name):
            make_private(name)


def is_busy(exc: BaseException) -> bool:
    """True for SQLite 'database is locked/busy' errors."""
    if isinstance(exc, OperationalError):
        msg = str(exc.orig).lower()
        return "locked" in msg or "busy" in msg
    return False


def is_unreachable(exc: BaseException) -> bool:
    """True when a PostgreSQL server went away or cannot be reached: the connection was
    cut (server stopped or restarted, backend terminated) or could not be made."""
    if not isinstance(exc, DBAPIError) or not type(exc.orig).__module__.startswith("psycopg"):
        return False
    if exc.connection_invalidated:
        return True
    import psycopg

    orig = exc.orig
    if isinstance(exc, InterfaceError) or isinstance(orig, psycopg.InterfaceError):
        return True  # "the connection is closed" / "the connection is lost"
    if isinstance(orig, psycopg.errors.AdminShutdown | psycopg.errors.CrashShutdown):
        return True
    # no SQLSTATE: raised by libpq (connection failed or lost), not by the server
    return isinstance(orig, psycopg.OperationalError) and getattr(orig, "sqlstate", None) is None


def unreachable(exc: BaseException) -> StoreUnavailable:
    """The :class:`StoreUnavailable` error for a cut or failed server connection."""
    orig = getattr(exc, "orig", exc)
    reason = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return StoreUnavailable(
        f"the store's database server is unreachable ({reason}); "
        "a write under way was not committed: retry when the server is back",
        reason=reason,
    )


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction: all of it is committed, or nothing (busy → DatabaseBusy)."""
    try:
        with engine.connect() as conn:
            conn.execution_options(patriline_write=True)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK})
                yield conn
    except DBAPIError as exc:
        if is_busy(exc):
            raise DatabaseBusy("database busy, retry") from None
        if is_unreachable(exc):
            raise unreachable(exc) from None
        raise


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction (a consistent snapshot)."""
    try:
        with engine.connect() as conn, conn.begin():
            yield conn
    except DBAPIError as exc:
        if is_busy(exc):
            raise DatabaseBusy("database busy, retry") from None
        if is_unreachable(exc):
            raise unreachable(exc) from None
        raise
