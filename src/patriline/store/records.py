"""Plain result types the store returns (no SQLAlchemy objects leave the store)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from patriline.links import Link

if TYPE_CHECKING:  # the readers (and numpy) load when a file is read
    from patriline.io.model import Problem

__all__ = ["Conflict", "ExpungeReport", "ImportSummary", "Link", "SpecimenInfo", "StoreInfo"]


@dataclass(frozen=True)
class SpecimenInfo:
    """What the store knows about a specimen besides its haplotype (never an identity)."""

    id: str
    person: str
    category: str
    kit: str | None
    collected_at: str | None
    agency: str | None
    legal_basis: str | None
    consent_ref: str | None
    retention_until: str | None
    batch_id: int
    active: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Conflict:
    """A specimen already stored with a different haplotype (or expunged): not overwritten."""

    specimen: str
    line: int | None
    reason: str
    stored: str | None = None
    incoming: str | None = None


@dataclass
class ImportSummary:
    """Counts of one import: ``rows == added + unchanged + conflicts + rejected``."""

    rows: int
    added: int
    unchanged: int
    conflicts: int
    rejected: int
    batch_id: int | None = None
    conflict_details: list[Conflict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "added": self.added,
            "unchanged": self.unchanged,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
        }


@dataclass(frozen=True)
class ExpungeReport:
    """What one expungement removed (IDs only: no genetic data)."""

    specimen: str
    person: str
    person_removed: bool
    identity_removed: bool
    links_removed: int
    audit_id: int
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StoreInfo:
    """Counts for ``patriline info``."""

    url: str
    dialect: str
    revision: str | None
    specimens: int
    specimens_by_category: dict[str, int]
    persons: int
    identities: int
    links: int
    cases: int
    users: int
    audit_entries: int
    batches: int
    change_seq: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
