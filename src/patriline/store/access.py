"""The rows of the access model: users (:class:`Actor`), cases and their approvals.

The policy that rules on them (roles, permissions, which actions need a case) is
:mod:`patriline.casework.access`; the store only keeps and reads these rows.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Actor", "Approval", "Case"]


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
    #: criminal | missing_person | remains_identification | quality_control (see
    #: :data:`patriline.store.schema.CASE_TYPES`; a row from before migration 0004 reads
    #: ``"criminal"``).
    case_type: str = "criminal"
    closed_at: str | None = None
    closed_by: str | None = None
    closed_reason: str | None = None

    @property
    def familial_approved(self) -> bool:
        return self.familial_approved_by is not None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def to_dict(self) -> dict[str, object]:
        """The case as plain data (its live approval as a dict)."""
        out: dict[str, object] = {k: v for k, v in self.__dict__.items() if k != "approval"}
        out["approval"] = self.approval.to_dict() if self.approval else None
        out["closed"] = self.closed
        return out
