"""A session: one store and the acting user, resolved from the store.

Every use case of :mod:`patriline.casework` takes a session. It holds the rules
"authorize → read → compute → audit" in one place: :meth:`Session.authorize` checks the
user's role (read from the store at each check, so a stale or forged ``Actor`` cannot
act with a role it does not have) and audits a refusal; :meth:`Session.audit` appends one
hash-chained entry naming the user, the case and how the user reached the store
(``via``: ``"local"`` for the CLI or a library on the store, ``"service"`` for an
authenticated request to the lab service).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from patriline.store import Actor, Case, Database

__all__ = ["Session"]

#: How a session reaches the store, recorded in every audit entry it writes.
VIA = ("local", "service")


class Session:
    """The store and the acting user (see the module docstring).

    Parameters
    ----------
    store
        An open :class:`~patriline.store.Database`.
    user
        The acting user's name (or an ``Actor``, of which only the name is used: the
        role always comes from the store). :class:`~patriline.errors.NotFound` if the
        store has no such user.
    via
        ``"local"`` or ``"service"``.
    """

    def __init__(self, store: Database, user: str | Actor, *, via: str = "local") -> None:
        if via not in VIA:
            raise ValueError(f"via must be one of {VIA}")
        self.store = store
        self.actor = store.actor(user.name if isinstance(user, Actor) else user)
        self.via = via

    @classmethod
    @contextmanager
    def open(cls, url: str | Path, user: str, *, via: str = "local") -> Iterator[Session]:
        """Open the store at ``url`` for ``user``; the store is closed on exit."""
        store = Database.open(url)
        try:
            yield cls(store, user, via=via)
        finally:
            store.close()

    @property
    def user(self) -> str:
        return self.actor.name

    # ------------------------------------------------------------------ the two rules
    def authorize(self, action: str, case: str | Case | None = None) -> Case | None:
        """Check that the user may do ``action`` (in ``case``); return the case.

        Raises :class:`~patriline.errors.AccessDenied` with the reason; the refusal is
        audited (``access_denied``).
        """
        return self.store.authorize(self.actor, action, case)

    def audit(
        self,
        action: str,
        *,
        case: str | Case | None = None,
        purpose: str | None = None,
        params: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
    ) -> int:
        """Append one audit entry for the user (its own transaction); its ID."""
        return self.store.audit(
            self.actor,
            action,
            case=case,
            purpose=purpose,
            params=params,
            result=result,
        )

    # ------------------------------------------------------------------ store-side use cases
    # users, cases and approvals, audit reads, imports, links, identities, expungement:
    # thin methods delegating to casework.users, .cases, .auditing, .imports, .links,
    # .identities and .expunge.

    # ------------------------------------------------------------------ engine use cases
    # searching, expansion, statistics against the store, reports: thin methods
    # delegating to casework.searching, .expansion, .statistics and .reports.
