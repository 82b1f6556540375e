"""User rows: the low-level writers (who may write them: :mod:`patriline.casework.users`).

Each writer writes its row and appends the audit entry it is given in one transaction,
binding the user row (its role grants power) to that entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from patriline.errors import ConflictError, NotFound
from patriline.store import audit as _audit
from patriline.store.access import Actor
from patriline.store.schema import users

if TYPE_CHECKING:
    from patriline.store.database import Database

__all__ = ["insert_user", "list_users", "update_role"]


def list_users(db: Database) -> list[Actor]:
    with db.read() as conn:
        return [Actor(r.name, r.role) for r in conn.execute(select(users).order_by(users.c.name))]


def insert_user(
    db: Database, name: str, role: str, *, created_by: str, entry: _audit.AuditRecord
) -> Actor:
    """Write the user ``name`` and ``entry``; :class:`ConflictError` if the name is taken."""
    with db.write() as conn:
        if conn.execute(select(users.c.name).where(users.c.name == name)).first() is not None:
            raise ConflictError(f"user {name!r} already exists")
        conn.execute(
            insert(users).values(
                name=name, role=role, created_at=_audit.now(), created_by=created_by
            )
        )
        _audit.append_record(conn, entry.but(bind=[("users", name)]))
    return Actor(name, role)


def update_role(db: Database, name: str, role: str, *, entry: _audit.AuditRecord) -> Actor:
    """Give ``name`` the role ``role`` and append ``entry`` (its params get ``was``)."""
    with db.write() as conn:
        old = conn.execute(select(users.c.role).where(users.c.name == name)).scalar_one_or_none()
        if old is None:
            raise NotFound(f"no user {name!r} in this store")
        conn.execute(update(users).where(users.c.name == name).values(role=role))
        params = {**(entry.params or {}), "was": old}
        _audit.append_record(conn, entry.but(params=params, bind=[("users", name)]))
    return Actor(name, role)
