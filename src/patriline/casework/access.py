"""The access policy: who may do what, and which actions need a case.

Roles (see ``docs/safeguards.md``):

* **analyst** — imports, opens cases, searches and expands *within a case she opened*,
  reads identity data within such a case, exports, requests a familial approval and
  closes her cases.
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
person. An approval (:class:`~patriline.store.access.Approval`) names one trace (its
SHA-256) and the bounds searched within, expires and is used up
(``reference/data/search_policy.toml``); an expansion needs a live approval of its case too.

A session's *scopes* (:data:`SCOPES`; an API token carries some, a browser session or a
local session all) limit what its role allows, never widen it: :data:`SCOPE_ACTIONS`
(``docs/service.md`` §Scopes).

The rows the policy reads (:class:`~patriline.store.Actor`, :class:`~patriline.store.Case`,
approvals) are the store's; a case is *owned* by its opener (an analyst acts only in her
cases; reading aggregates and the audit log is not acting in a case) and a *closed* case
allows reading its record and report, nothing else. The rule is here, and
:meth:`patriline.casework.Session.authorize` is the one place that applies it.
"""

from __future__ import annotations

from enum import StrEnum

from patriline.errors import AccessDenied
from patriline.store.access import Actor, Case
from patriline.store.schema import ROLES

__all__ = [
    "ACTIONS",
    "ANY_CASE_ROLES",
    "CASE_ACTIONS",
    "CLOSED_CASE_ACTIONS",
    "PERMISSIONS",
    "READ_ACTIONS",
    "ROLES",
    "SCOPES",
    "SCOPE_ACTIONS",
    "Action",
    "check",
    "check_scopes",
    "scope_needed",
]


class Action(StrEnum):
    """An action the policy rules on (its value is what the audit log records)."""

    IMPORT = "import"
    SEARCH_EXACT = "search_exact"
    SEARCH_FAMILIAL = "search_familial"
    READ_IDENTITY = "read_identity"
    EXPAND = "expand"
    EXPORT = "export"
    EXPUNGE = "expunge"
    RETENTION = "retention"
    AUDIT_READ = "audit_read"
    USER_ADMIN = "user_admin"
    CASE_OPEN = "case_open"
    CASE_APPROVE = "case_approve"
    CASE_CLOSE = "case_close"
    APPROVAL_REQUEST = "approval_request"
    STATS = "stats"


#: Every action, as the strings the audit log records.
ACTIONS: tuple[str, ...] = tuple(a.value for a in Action)

_ANALYST = {
    Action.IMPORT,
    Action.SEARCH_EXACT,
    Action.SEARCH_FAMILIAL,
    Action.READ_IDENTITY,
    Action.EXPAND,
    Action.EXPORT,
    Action.CASE_OPEN,
    Action.CASE_CLOSE,
    Action.APPROVAL_REQUEST,
    Action.STATS,
}
_SUPERVISOR = _ANALYST | {Action.CASE_APPROVE, Action.EXPUNGE, Action.RETENTION, Action.AUDIT_READ}

#: role → actions it may perform.
PERMISSIONS: dict[str, frozenset[Action]] = {
    "analyst": frozenset(_ANALYST),
    "supervisor": frozenset(_SUPERVISOR),
    "auditor": frozenset({Action.AUDIT_READ, Action.STATS}),
    "admin": frozenset(_SUPERVISOR | {Action.USER_ADMIN}),
}

#: Actions that must name a case (searching people and reading who they are).
CASE_ACTIONS: frozenset[Action] = frozenset(
    {
        Action.SEARCH_EXACT,
        Action.SEARCH_FAMILIAL,
        Action.READ_IDENTITY,
        Action.EXPAND,
        Action.CASE_CLOSE,
    }
)


#: The scopes of an API token (a browser session and a local session have all of them).
SCOPES: tuple[str, ...] = ("read", "search", "admin")

_READ = frozenset({Action.STATS, Action.AUDIT_READ})

#: scope → actions it allows (within what the role allows). ``read`` also covers reading
#: cases and approval requests (not actions of the policy: see :meth:`Session.require_scope`).
SCOPE_ACTIONS: dict[str, frozenset[Action]] = {
    "read": _READ,
    "search": _READ
    | {
        Action.CASE_OPEN,
        Action.CASE_CLOSE,
        Action.APPROVAL_REQUEST,
        Action.IMPORT,
        Action.SEARCH_EXACT,
        Action.SEARCH_FAMILIAL,
        Action.EXPAND,
        Action.READ_IDENTITY,
        Action.EXPORT,
    },
    "admin": _READ | {Action.CASE_APPROVE, Action.EXPUNGE, Action.RETENTION, Action.USER_ADMIN},
}


def scope_needed(action: str) -> str:
    """The narrowest scope that allows ``action`` (``read`` < ``search`` < ``admin``)."""
    act = action_of(action)
    for scope in SCOPES:
        if act in SCOPE_ACTIONS[scope]:
            return scope
    raise ValueError(f"no scope allows {act}")  # pragma: no cover - every action has one


def check_scopes(scopes: frozenset[str], action: str) -> None:
    """Raise :class:`AccessDenied` naming the scope needed unless one of ``scopes``
    allows ``action``."""
    act = action_of(action)
    if any(act in SCOPE_ACTIONS.get(s, frozenset()) for s in scopes):
        return
    have = ", ".join(s for s in SCOPES if s in scopes) or "none"
    raise AccessDenied(
        f"{act} needs the {scope_needed(act)!r} scope; this session's scopes: {have}",
        scope=scope_needed(act),
    )


#: Roles that act in any case; every other role acts only in the cases its user opened.
ANY_CASE_ROLES: frozenset[str] = frozenset({"supervisor", "admin"})

#: What a closed case still allows: reading its record, its audit entries and its report.
CLOSED_CASE_ACTIONS: frozenset[Action] = frozenset({Action.STATS, Action.EXPORT, Action.AUDIT_READ})

#: Reads that are not acting in a case (aggregates, the audit log): no ownership rule.
READ_ACTIONS: frozenset[Action] = frozenset({Action.STATS, Action.AUDIT_READ})


def action_of(action: str) -> Action:
    """``action`` as an :class:`Action`; :class:`ValueError` naming the known ones."""
    try:
        return Action(action)
    except ValueError:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}") from None


def check(actor: Actor, action: str, case: Case | None, *, case_name: str | None = None) -> None:
    """Raise :class:`AccessDenied` (with the reason) unless ``actor`` may do ``action``.

    ``actor`` must carry the role read from the store (the session does that); ``case``
    is the loaded case (None when none was given or it does not exist; ``case_name`` is
    what was asked for, for the message).
    """
    act = action_of(action)
    allowed = PERMISSIONS.get(actor.role, frozenset())
    if act not in allowed:
        raise AccessDenied(f"user {actor.name!r} (role {actor.role}) may not {act}")
    if case is not None:
        # Ownership: an analyst acts only in the cases she opened (supervisors and
        # admins in any case); a closed case allows reading its record and report only.
        if (
            actor.role not in ANY_CASE_ROLES
            and act not in READ_ACTIONS
            and case.opened_by != actor.name
        ):
            raise AccessDenied(
                f"case {case.id!r} was opened by another user; user {actor.name!r} "
                f"(role {actor.role}) may {act} only in cases she opened"
            )
        if case.closed and act not in CLOSED_CASE_ACTIONS:
            raise AccessDenied(
                f"case {case.id!r} is closed (by {case.closed_by} at {case.closed_at}); "
                f"no {act} in it"
            )
    if act in CASE_ACTIONS:
        if case is None:
            if case_name:
                raise AccessDenied(f"{act} needs an open case; case {case_name!r} does not exist")
            raise AccessDenied(f"{act} needs a case (purpose and legal basis); open one first")
        if act in (Action.SEARCH_FAMILIAL, Action.EXPAND) and not case.familial_approved:
            what = "familial search" if act == Action.SEARCH_FAMILIAL else "expansion"
            raise AccessDenied(
                f"{what} in case {case.id!r} needs approval by a supervisor other than the "
                "one who opened it, live (not expired or revoked) and naming the trace and "
                "bounds (patriline case approve CASE --familial --haplotype … --max-mismatches …)"
            )
