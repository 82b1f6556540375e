"""Reading the audit log (auditors, supervisors, admins): every read is itself audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from patriline.casework.access import Action
from patriline.errors import InputError
from patriline.store.audit import Anchor, AuditEntry, VerifyResult

if TYPE_CHECKING:
    from patriline.casework.session import Session

__all__ = ["audit_anchor", "audit_entries", "verify_audit"]


def audit_entries(
    session: Session,
    *,
    case: str | None = None,
    limit: int | None = None,
    by_user: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[AuditEntry]:
    """Audit entries, oldest first: of ``case``, by ``by_user``, of ``action``, at or
    after ``since`` and before ``until`` (ISO dates or times, UTC; a date ``until``
    covers that whole day); the newest ``limit`` of those. The read is audited."""
    session.authorize(Action.AUDIT_READ)
    for name, value in (("since", since), ("until", until)):
        if value is not None and not _iso(value):
            raise InputError(
                f"{name} {value!r}: give an ISO date or time (2026-12-04, 2026-12-04T10:00)",
                field=name,
                value=value,
            )
    filtered = any(x is not None for x in (by_user, action, since, until))
    out = session.store.read_audit(case=case, limit=None if filtered else limit)
    if filtered:
        end = until + "T99" if until is not None and "T" not in until else until
        out = [
            e
            for e in out
            if (by_user is None or e.user == by_user)
            and (action is None or e.action == action)
            and (since is None or e.at >= since)
            and (end is None or e.at < end)
        ]
        if limit is not None:
            out = out[-limit:] if limit > 0 else []
    params = {"case": case, "limit": limit, "by_user": by_user, "action": action,
              "since": since, "until": until}  # fmt: skip
    session.audit(
        Action.AUDIT_READ,
        params={k: v for k, v in params.items() if v is not None or k in ("case", "limit")},
        result={"entries": len(out)},
    )
    return out


def _iso(text: str) -> bool:
    from datetime import date, datetime

    try:
        (datetime if "T" in text else date).fromisoformat(text)
    except ValueError:
        return False
    return True


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
