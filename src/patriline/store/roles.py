"""Least privilege in PostgreSQL: the privileges of the role the service connects as.

Migrations run as the role that owns the tables (``patriline db upgrade --db OWNER_URL``);
the service connects as another role, set up by :func:`grant_service_role`
(``patriline db grant``), which may

* SELECT, INSERT, UPDATE and DELETE the data tables (every table of
  :data:`patriline.store.schema.metadata` but the two below) and use their sequences;
* only SELECT and INSERT ``audit_log`` (no UPDATE, DELETE, TRUNCATE, REFERENCES or
  TRIGGER; the triggers of migration 0003 also refuse UPDATE, DELETE and TRUNCATE of it
  to everyone, the owner included);
* only SELECT ``alembic_version`` (the trigger of migration 0005 refuses a change to
  anyone but the owner);
* USAGE of the schema but not CREATE, and it owns nothing: no DDL.

The privileges are set exactly (everything on the store's tables is revoked from the
role first), and checked afterwards with ``has_*_privilege``, so a role that also holds
more through another membership is refused, not reported as least-privileged. Run it
again after every ``db upgrade``: a new revision may add tables. The SQL is
:func:`service_role_sql`; ``docs/service.md`` ("Database roles") prints it for a DBA.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from patriline.errors import AccessDenied, InputError, NotFound
from patriline.store.engine import normalize_url
from patriline.store.migrate import VERSION_TABLE
from patriline.store.schema import metadata

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = [
    "APPEND_ONLY",
    "READ_ONLY",
    "GrantReport",
    "data_tables",
    "grant_service_role",
    "service_role_sql",
    "upgrade_store",
]

#: Tables the service role may only read and append to.
APPEND_ONLY = ("audit_log",)
#: Tables the service role may only read.
READ_ONLY = (VERSION_TABLE,)

#: Privileges the service role must not hold, per table (checked after granting).
_FORBIDDEN = {
    "audit_log": ("UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"),
    VERSION_TABLE: ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"),
}
_COLUMN_LEVEL = ("SELECT", "INSERT", "UPDATE", "REFERENCES")


@dataclass(frozen=True)
class GrantReport:
    """What :func:`grant_service_role` set: for ``role`` in ``database``.``schema``."""

    role: str
    database: str
    schema: str
    owner: str
    read_write: tuple[str, ...]
    append_only: tuple[str, ...]
    read_only: tuple[str, ...]
    sequences: tuple[str, ...]
    statements: tuple[str, ...]


def data_tables() -> tuple[str, ...]:
    """The tables the service reads and writes (all of the schema's but the guarded)."""
    return tuple(sorted(t for t in metadata.tables if t not in APPEND_ONLY + READ_ONLY))


def _serial_sequences() -> tuple[tuple[str, str], ...]:
    """(table, column) of every auto-increment integer key (a sequence in PostgreSQL)."""
    out = []
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True:
                out.append((table.name, column.name))
    return tuple(sorted(out))


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    if not name or "\x00" in name or len(name.encode()) > 63:
        raise InputError(f"not a PostgreSQL identifier: {name!r} (1 to 63 bytes, no NUL)")
    return '"' + name.replace('"', '""') + '"'


def service_role_sql(
    role: str, *, schema: str = "public", sequences: tuple[str, ...] | None = None
) -> list[str]:
    """The statements that give ``role`` the service's privileges, no more.

    ``sequences``: the sequences of the auto-increment keys (default: PostgreSQL's names,
    ``<table>_<column>_seq``).
    """
    r, s = ident(role), ident(schema)
    if sequences is None:
        sequences = tuple(f"{t}_{c}_seq" for t, c in _serial_sequences())

    def q(names: tuple[str, ...]) -> str:
        return ", ".join(f"{s}.{ident(n)}" for n in names)

    everything = tuple(sorted(data_tables() + APPEND_ONLY + READ_ONLY))
    statements = [
        f"REVOKE ALL ON TABLE {q(everything)} FROM {r}",
        f"REVOKE CREATE ON SCHEMA {s} FROM {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {q(data_tables())} TO {r}",
        f"GRANT SELECT, INSERT ON TABLE {q(APPEND_ONLY)} TO {r}",
        f"GRANT SELECT ON TABLE {q(READ_ONLY)} TO {r}",
    ]
    if sequences:
        statements += [
            f"REVOKE ALL ON SEQUENCE {q(sequences)} FROM {r}",
            f"GRANT USAGE ON SEQUENCE {q(sequences)} TO {r}",
        ]
    return statements


def grant_service_role(owner_url: str | Path, role: str) -> GrantReport:
    """Give the existing PostgreSQL role ``role`` the service's privileges on the store
    at ``owner_url`` (a connection as the owner of its tables; the store is upgraded
    first, as by any open). Idempotent; raises :class:`InputError` for a SQLite store or
    a role that would keep more (superuser, CREATEROLE, member of the owner, owner of a
    table, CREATE on the schema), :class:`NotFound` for a role that does not exist and
    :class:`AccessDenied` when ``owner_url`` does not connect as the owner."""
    from patriline.store.database import Database

    ident(role)
    if not normalize_url(owner_url).startswith("postgresql"):
        raise InputError(
            "database roles are PostgreSQL's: a SQLite store is guarded by its file's "
            "permissions (0600) and by its audit triggers"
        )
    with Database.open(owner_url) as db:
        try:
            with db.write() as conn:
                return _grant(conn, role)
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0]
            raise AccessDenied(f"cannot set the privileges of role {role!r}: {reason}") from None


def _one(conn: Connection, sql: str, **params: object) -> object:
    return conn.execute(text(sql), params).scalar()


def _grant(conn: Connection, role: str) -> GrantReport:
    me = str(_one(conn, "SELECT current_user"))
    database = str(_one(conn, "SELECT current_database()"))
    schema = str(_one(conn, "SELECT current_schema()"))
    found = conn.execute(
        text("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    if found is None:
        raise NotFound(
            f"no PostgreSQL role {role!r}: create it first, e.g. "
            f"CREATE ROLE {ident(role)} LOGIN PASSWORD '…'",
            field="role",
        )
    table = f"{ident(schema)}.{ident('audit_log')}"
    owner = str(
        _one(
            conn,
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = CAST(:t AS regclass)",
            t=table,
        )
    )
    if not _one(conn, "SELECT pg_has_role(current_user, :o, 'USAGE')", o=owner):
        raise AccessDenied(
            f"connect as the owner of the store's tables ({owner}), not as {me}", field="db"
        )
    if role in (me, owner):
        raise InputError(
            f"the service role must not be the owner of the tables ({role}): "
            "create a separate login role for the service",
            field="role",
        )
    rolsuper, createrole = found
    if rolsuper:
        raise InputError(f"role {role!r} is a superuser: it would bypass every privilege")
    if createrole:
        raise InputError(
            f"role {role!r} has CREATEROLE (it could give itself other roles' rights): "
            f"ALTER ROLE {ident(role)} NOCREATEROLE first"
        )
    if _one(conn, "SELECT pg_has_role(:r, :o, 'MEMBER')", r=role, o=owner):
        raise InputError(
            f"role {role!r} is a member of the tables' owner {owner!r}: it would inherit "
            f"the owner's rights (REVOKE {ident(owner)} FROM {ident(role)})"
        )
    sequences = []
    for t, c in _serial_sequences():
        seq = _one(
            conn, "SELECT pg_get_serial_sequence(:t, :c)", t=f"{ident(schema)}.{ident(t)}", c=c
        )
        if seq is not None:  # schema-qualified; keep the bare name
            sequences.append(
                str(
                    _one(
                        conn, "SELECT relname FROM pg_class WHERE oid = CAST(:s AS regclass)", s=seq
                    )
                )
            )
    statements = service_role_sql(role, schema=schema, sequences=tuple(sequences))
    if not _one(conn, "SELECT has_database_privilege(:r, current_database(), 'CONNECT')", r=role):
        statements.insert(0, f"GRANT CONNECT ON DATABASE {ident(database)} TO {ident(role)}")
    for statement in statements:
        conn.exec_driver_sql(statement)
    _check(conn, role, schema)
    return GrantReport(
        role=role,
        database=database,
        schema=schema,
        owner=owner,
        read_write=data_tables(),
        append_only=APPEND_ONLY,
        read_only=READ_ONLY,
        sequences=tuple(sequences),
        statements=tuple(statements),
    )


def _check(conn: Connection, role: str, schema: str) -> None:
    """Refuse (roll back) when ``role`` still holds more than the service needs."""
    excess: list[str] = []
    for table, privileges in _FORBIDDEN.items():
        qualified = f"{ident(schema)}.{ident(table)}"
        for p in privileges:
            fn = "has_any_column_privilege" if p in _COLUMN_LEVEL else "has_table_privilege"
            if _one(conn, f"SELECT {fn}(:r, :t, :p)", r=role, t=qualified, p=p):
                excess.append(f"{p} on {table}")
    if _one(conn, "SELECT has_schema_privilege(:r, :s, 'CREATE')", r=role, s=schema):
        excess.append(f"CREATE on schema {schema}")
    owned = conn.execute(
        text(
            "SELECT relname FROM pg_class WHERE relnamespace = CAST(:s AS regnamespace)"
            " AND relowner = CAST(:r AS regrole) ORDER BY relname"
        ),
        {"s": ident(schema), "r": ident(role)},
    ).scalars()
    excess += [f"owner of {name}" for name in owned]
    if excess:
        raise InputError(
            f"role {role!r} would still hold {', '.join(excess)} (through PUBLIC or another "
            "role it belongs to): take that away, then run db grant again",
            field="role",
        )


def upgrade_store(owner_url: str | Path) -> tuple[str | None, str | None]:
    """Migrate the store at ``owner_url`` (as the owner of its tables) to this version's
    schema: (the revision it was at, the revision it is at now); equal if up to date."""
    from patriline.store import migrate
    from patriline.store.database import Database

    with Database.open(owner_url) as db:
        now = migrate.head_revision()
        return (db.upgraded_from or now), now
