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
person. An approval (:class:`Approval`) names one trace (its SHA-256) and the bounds
searched within, expires and is used up (``reference/data/search_policy.toml``); an
expansion needs a live approval of its case too.
"""

from __future__ import annotations

from dataclasses import dataclass

from patriline.errors import AccessDenied

__all__ = [
    "ACTIONS",
    "CASE_ACTIONS",
    "PERMISSIONS",
    "Actor",
    "Approval",
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
class Approval:
    """A familial approval: one trace (or, ``kind="pairs"``, the registry) and its bounds.

    ``max_mismatches``/``max_steps`` of ``None`` mean no bound. A search is covered when
    its trace digest is the approval's and its bounds lie within the approval's.
    """

    id: int
    case: str
    kind: str
    trace_sha256: str | None
    max_mismatches: int | None
    max_steps: int | None
    min_loci: int
    approved_by: str
    approved_at: str
    expires_at: str
    uses_left: int
    used: int
    revoked: bool
    audit_id: int | None = None

    def covers(
        self, kind: str, trace_sha256: str | None, mm: int | None, ms: int | None, min_loci: int
    ) -> bool:
        """Whether a ``kind`` request for the trace with these bounds lies within this approval."""

        def within(asked: int | None, allowed: int | None) -> bool:
            return allowed is None or (asked is not None and asked <= allowed)

        return (
            self.kind == kind
            and self.trace_sha256 == trace_sha256
            and within(mm, self.max_mismatches)
            and within(ms, self.max_steps)
            and min_loci >= self.min_loci
        )

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Case:
    """A case: the reason (purpose, legal basis) that searches and identity reads are tied to."""

    id: str
    purpose: str
    legal_basis: str
    opened_by: str
    opened_at: str
    #: The newest live (unexpired, unrevoked) approval of the case, if any.
    familial_approved_by: str | None = None
    familial_approved_at: str | None = None
    approval: Approval | None = None

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
        if action in ("search_familial", "expand") and not case.familial_approved:
            what = "familial search" if action == "search_familial" else "expansion"
            raise AccessDenied(
                f"{what} in case {case.id!r} needs approval by a supervisor other than the "
                "one who opened it, live (not expired or revoked) and naming the trace and "
                "bounds (patriline case approve CASE --familial --haplotype … --max-mismatches …)"
            )
