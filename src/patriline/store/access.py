"""The access model: who may do what, and which actions need a case.

Roles (see ``docs/safeguards.md``):

* **analyst** — imports, opens cases, searches and expands *within a case*, reads
  identity data within a case, exports.
* **supervisor** — everything an analyst may do, plus approving a case for familial
  search (never a case they opened themselves: four-eyes principle), expungement,
  retention and reading the audit log.
* **auditor** — reads the audit log and aggregate statistics; cannot search, expand,
  read identities or change data.
* **admin** — manages users and may do everything a supervisor may; the four-eyes rule
  for familial approval applies to admins too.

Familial (partial-match / lineage) searching is the most intrusive operation: following
the safeguards recommended for familial searching policies (e.g. the UK Forensic
Information Database Strategy Board protocol and the California DOJ familial search
policy), it needs a case with a stated purpose and legal basis, approved by a second
person.
"""

from __future__ import annotations

from dataclasses import dataclass

from patriline.errors import AccessDenied

__all__ = [
    "ACTIONS",
    "CASE_ACTIONS",
    "PERMISSIONS",
    "Actor",
    "Case",
    "check",
]

ACTIONS = (
    "import",
    "search_exact",
    "search_familial",
    "read_identity",
    "expand",
    "export",
    "expunge",
    "retention",
    "audit_read",
    "user_admin",
    "case_open",
    "case_approve",
    "stats",
)

_ANALYST = {
    "import",
    "search_exact",
    "search_familial",
    "read_identity",
    "expand",
    "export",
    "case_open",
    "stats",
}
_SUPERVISOR = _ANALYST | {"case_approve", "expunge", "retention", "audit_read"}

#: role → actions it may perform.
PERMISSIONS: dict[str, frozenset[str]] = {
    "analyst": frozenset(_ANALYST),
    "supervisor": frozenset(_SUPERVISOR),
    "auditor": frozenset({"audit_read", "stats"}),
    "admin": frozenset(_SUPERVISOR | {"user_admin"}),
}

#: Actions that must name a case (searching people and reading who they are).
CASE_ACTIONS = frozenset({"search_exact", "search_familial", "read_identity", "expand"})


@dataclass(frozen=True)
class Actor:
    """A user of the store and their role (get one with ``Database.actor(name)``)."""

    name: str
    role: str


@dataclass(frozen=True)
class Case:
    """A case: the reason (purpose, legal basis) that searches and identity reads are tied to."""

    id: str
    purpose: str
    legal_basis: str
    opened_by: str
    opened_at: str
    familial_approved_by: str | None = None
    familial_approved_at: str | None = None

    @property
    def familial_approved(self) -> bool:
        return self.familial_approved_by is not None


def check(actor: Actor, action: str, case: Case | None, *, case_name: str | None = None) -> None:
    """Raise :class:`AccessDenied` (with the reason) unless ``actor`` may do ``action``.

    ``case`` is the loaded case (None when none was given or it does not exist;
    ``case_name`` is what was asked for, for the message).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    allowed = PERMISSIONS.get(actor.role, frozenset())
    if action not in allowed:
        raise AccessDenied(f"user {actor.name!r} (role {actor.role}) may not {action}")
    if action in CASE_ACTIONS:
        if case is None:
            if case_name:
                raise AccessDenied(
                    f"{action} needs an open case; case {case_name!r} does not exist"
                )
            raise AccessDenied(f"{action} needs a case (purpose and legal basis); open one first")
        if action == "search_familial" and not case.familial_approved:
            raise AccessDenied(
                f"familial search in case {case.id!r} needs approval by a supervisor "
                "other than the one who opened it (patriline case approve --familial)"
            )
