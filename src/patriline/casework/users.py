"""Users and roles (``user_admin``: admins only); every change audited and bound."""

from __future__ import annotations

from typing import TYPE_CHECKING

from patriline.casework.access import ROLES, Action
from patriline.errors import InputError
from patriline.store import users as _users
from patriline.store.access import Actor

if TYPE_CHECKING:
    from patriline.casework.session import Session

__all__ = ["add_user", "set_role", "users"]


def _role(role: str) -> None:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")


def add_user(session: Session, name: str, role: str) -> Actor:
    """Add a user with ``role`` (admin only); audited."""
    _role(role)
    if not name.strip():
        raise InputError("a user name may not be empty")
    session.authorize(Action.USER_ADMIN)
    entry = session.entry(Action.USER_ADMIN, params={"add": name, "role": role})
    return _users.insert_user(session.store, name, role, created_by=session.user, entry=entry)


def set_role(session: Session, name: str, role: str) -> Actor:
    """Change a user's role (admin only); audited and bound to the chain."""
    _role(role)
    session.authorize(Action.USER_ADMIN)
    entry = session.entry(Action.USER_ADMIN, params={"set_role": name, "role": role})
    return _users.update_role(session.store, name, role, entry=entry)


def users(session: Session) -> list[Actor]:
    """The users of the store and their roles, by name."""
    return _users.list_users(session.store)
