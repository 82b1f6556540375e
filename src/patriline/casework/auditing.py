"""Reading the audit log (auditors, supervisors, admins): every read is itself audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from patriline.casework.access import Action
from patriline.store.audit import Anchor, AuditEntry, VerifyResult

if TYPE_CHECKING:
    from patriline.casework.session import Session

__all__ = ["audit_anchor", "audit_entries", "verify_audit"]


def audit_entries(
    session: Session, *, case: str | None = None, limit: int | None = None
) -> list[AuditEntry]:
    """Audit entries (of ``case``; the newest ``limit``); the read is audited."""
    session.authorize(Action.AUDIT_READ)
    out = session.store.read_audit(case=case, limit=limit)
    session.audit(
        Action.AUDIT_READ, params={"case": case, "limit": limit}, result={"entries": len(out)}
    )
    return out


def verify_audit(session: Session, anchors: Sequence[Anchor] = ()) -> VerifyResult:
    """Check the hash chain (and each of ``anchors``); the check is audited with its verdict."""
    session.authorize(Action.AUDIT_READ)
    res = session.store.verify_audit(anchors)
    session.audit(
        Action.AUDIT_READ,
        params={"verify": True, "anchors": len(anchors)},
        result={"ok": res.ok, "entries": res.entries},
    )
    return res


def audit_anchor(session: Session) -> Anchor:
    """The verified chain head, to keep outside the store; audited."""
    session.authorize(Action.AUDIT_READ)
    a = session.store.audit_anchor()
    session.audit(Action.AUDIT_READ, params={"anchor": True}, result={"entries": a.entries})
    return a
