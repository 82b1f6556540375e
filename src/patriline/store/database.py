"""``Database``: the one object the CLI, the service and the engines talk to.

See ``docs/architecture.md`` ("store") for the contract and ``docs/store.md`` for the
schema, formats and methods.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from patriline import __version__
from patriline._files import private_dir
from patriline.encoding import EXTRA, Encoded, Layout
from patriline.errors import AccessDenied, ConflictError, InputError, NotFound
from patriline.haplotype import Haplotype, parse_haplotype_string
from patriline.io.encoded import EncodedRead
from patriline.io.model import Record
from patriline.store import audit as _audit
from patriline.store import migrate
from patriline.store.access import ACTIONS, Actor, Approval, Case, check
from patriline.store.engine import make_engine, normalize_url, read_connection, write_transaction
from patriline.store.importer import lookup
from patriline.store.records import ImportSummary, Link, SpecimenInfo, StoreInfo
from patriline.store.schema import (
    ROLES,
    approvals,
    audit_log,
    cases,
    haplotypes,
    identities,
    import_batches,
    meta,
    paternal_links,
    persons,
    removals,
    specimens,
    users,
)

__all__ = ["Database"]

Progress = Callable[[int, int], None]


class Database:
    """A patriline store (SQLite file or PostgreSQL database).

    Use :meth:`create` for a new store and :meth:`open` for an existing one; both run
    the Alembic migrations up to this version's schema.
    """

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self.dialect = engine.dialect.name
        self._layout: Layout | None = None

    # ------------------------------------------------------------------ life cycle
    @classmethod
    def create(cls, url: str | Path, admin: str, *, busy_timeout: float | None = None) -> Database:
        """Create a new store at ``url``; ``admin`` becomes its first user (role admin).

        Raises :class:`ConflictError` if ``url`` already holds a patriline store.
        """
        norm = normalize_url(url)
        if norm.startswith("sqlite"):
            path = make_url(norm).database
            if path and path != ":memory:":
                private_dir(Path(path).parent)
        engine = (
            make_engine(norm)
            if busy_timeout is None
            else make_engine(norm, busy_timeout=busy_timeout)
        )
        db = cls(norm, engine)
        try:
            with db.read() as probe:
                probe.execute(select(1))
        except DBAPIError as exc:
            engine.dispose()
            raise NotFound(f"cannot open a database at {_redact(norm)}: {exc.orig}") from None
        with db.read() as conn:
            exists = migrate.current_revision(conn) is not None
        if exists:
            engine.dispose()
            raise ConflictError(f"{url} already holds a patriline store")
        with db.write() as conn:
            migrate.upgrade(conn)
            conn.execute(
                insert(meta),
                [
                    {"key": "layout", "value": Layout.universal().to_json()},
                    {"key": "change_seq", "value": "0"},
                    {"key": "software_version", "value": __version__},
                ],
            )
            conn.execute(
                insert(users).values(
                    name=admin, role="admin", created_at=_audit.now(), created_by=None
                )
            )
            _audit.append(
                conn,
                user=admin,
                role="admin",
                action="init",
                params={"url": _redact(norm), "version": __version__},
            )
            _audit.append(
                conn,
                user=admin,
                role="admin",
                action="user_admin",
                params={"add": admin, "role": "admin"},
                bind=[("users", admin)],
            )
        return db

    @classmethod
    def open(cls, url: str | Path, *, busy_timeout: float | None = None) -> Database:
        """Open an existing store (upgrading its schema if it is older than this version)."""
        norm = normalize_url(url)
        if norm.startswith("sqlite"):
            path = make_url(norm).database
            if path and path != ":memory:" and not Path(path).exists():
                raise NotFound(f"no store at {url} (create one with: patriline init {url})")
        engine = (
            make_engine(norm)
            if busy_timeout is None
            else make_engine(norm, busy_timeout=busy_timeout)
        )
        db = cls(norm, engine)
        try:
            with db.read() as conn:
                rev = migrate.current_revision(conn)
        except DBAPIError as exc:
            engine.dispose()
            raise NotFound(f"cannot open a store at {_redact(norm)}: {exc.orig}") from None
        if rev is None:
            engine.dispose()
            raise NotFound(
                f"{url} is not a patriline store (create one with: patriline init {url})"
            )
        if rev != migrate.head_revision():
            with db.write() as conn:
                migrate.upgrade(conn)
        return db

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self) -> Any:
        """Context manager: one write transaction (all or nothing)."""
        return write_transaction(self.engine)

    def read(self) -> Any:
        """Context manager: one read transaction."""
        return read_connection(self.engine)

    @property
    def layout(self) -> Layout:
        """The layout of the stored ``encoded`` column (the universal layout at creation)."""
        if self._layout is None:
            with self.read() as conn:
                self._layout = Layout.from_json(
                    conn.execute(select(meta.c.value).where(meta.c.key == "layout")).scalar_one()
                )
        return self._layout

    # ------------------------------------------------------------------ access
    def actor(self, name: str) -> Actor:
        """The user ``name`` with their role; :class:`NotFound` if there is no such user."""
        with self.read() as conn:
            role = conn.execute(
                select(users.c.role).where(users.c.name == name)
            ).scalar_one_or_none()
        if role is None:
            raise NotFound(
                f"no user {name!r} in this store (an admin adds one: patriline user add {name} --role analyst)"
            )
        return Actor(name, role)

    def _case(self, conn: Connection, case: str) -> Case | None:
        r = conn.execute(select(cases).where(cases.c.id == case)).first()
        if r is None:
            return None
        # Approved = a live approval: not revoked, not expired (uses are checked per search).
        live = conn.execute(
            select(approvals.c.id)
            .where(
                approvals.c.case_id == case,
                approvals.c.revoked.is_(False),
                approvals.c.expires_at > _audit.now(),
            )
            .order_by(approvals.c.id.desc())
        ).first()
        a = self._approvals(conn, case, [live[0]])[0] if live else None
        return Case(
            r.id,
            r.purpose,
            r.legal_basis,
            r.opened_by,
            r.opened_at,
            a.approved_by if a else None,
            a.approved_at if a else None,
            a,
        )

    def refuse(
        self, actor: Actor, action: str, case: str | None, reason: str, **result: Any
    ) -> AccessDenied:
        """Audit a refusal (``access_denied``) and return the error to raise."""
        self.audit(
            actor,
            "access_denied",
            case=case if case and self._has_case(case) else None,
            params={"action": action, "case": case},
            result={"reason": reason, **result},
        )
        return AccessDenied(reason)

    def _has_case(self, case: str) -> bool:
        with self.read() as conn:
            return conn.execute(select(cases.c.id).where(cases.c.id == case)).first() is not None

    def authorize(self, actor: Actor, action: str, case: str | Case | None = None) -> Case | None:
        """Check that ``actor`` may do ``action`` (in ``case``); return the case.

        The role is read from the store, not trusted from ``actor``. Raises
        :class:`AccessDenied` with the reason; a refusal of a user of the store is
        itself audited (action ``access_denied``, with the action and case asked for).
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        case_id = case.id if isinstance(case, Case) else case
        with self.read() as conn:
            role = conn.execute(
                select(users.c.role).where(users.c.name == actor.name)
            ).scalar_one_or_none()
            loaded = self._case(conn, case_id) if case_id else None
        if role is None:
            raise AccessDenied(f"user {actor.name!r} is not a user of this store")
        try:
            check(Actor(actor.name, role), action, loaded, case_name=case_id)
        except AccessDenied as exc:
            # Refusals are part of the record oversight bodies read: who tried what, where.
            self.audit(
                Actor(actor.name, role),
                "access_denied",
                case=loaded,
                params={"action": action, "case": case_id},
                result={"reason": str(exc)},
            )
            raise
        return loaded

    def add_user(self, actor: Actor, name: str, role: str) -> Actor:
        """Add a user (admin only); audited."""
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        if not name.strip():
            raise InputError("a user name may not be empty")
        self.authorize(actor, "user_admin")
        with self.write() as conn:
            if conn.execute(select(users.c.name).where(users.c.name == name)).first() is not None:
                raise ConflictError(f"user {name!r} already exists")
            conn.execute(
                insert(users).values(
                    name=name, role=role, created_at=_audit.now(), created_by=actor.name
                )
            )
            _audit.append(
                conn,
                user=actor.name,
                role=actor.role,
                action="user_admin",
                params={"add": name, "role": role},
                bind=[("users", name)],
            )
        return Actor(name, role)

    def set_role(self, actor: Actor, name: str, role: str) -> Actor:
        """Change a user's role (admin only); audited and bound to the chain."""
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        self.authorize(actor, "user_admin")
        with self.write() as conn:
            old = conn.execute(
                select(users.c.role).where(users.c.name == name)
            ).scalar_one_or_none()
            if old is None:
                raise NotFound(f"no user {name!r} in this store")
            conn.execute(update(users).where(users.c.name == name).values(role=role))
            _audit.append(
                conn,
                user=actor.name,
                role=actor.role,
                action="user_admin",
                params={"set_role": name, "role": role, "was": old},
                bind=[("users", name)],
            )
        return Actor(name, role)

    def users(self) -> list[Actor]:
        with self.read() as conn:
            return [
                Actor(r.name, r.role) for r in conn.execute(select(users).order_by(users.c.name))
            ]

    # ------------------------------------------------------------------ cases
    def open_case(self, actor: Actor, case: str, *, purpose: str, legal_basis: str) -> Case:
        """Open a case with its purpose and legal basis (both required); audited."""
        if not case.strip() or not purpose.strip() or not legal_basis.strip():
            raise InputError("a case needs an ID, a purpose and a legal basis")
        self.authorize(actor, "case_open")
        with self.write() as conn:
            if self._case(conn, case) is not None:
                raise ConflictError(f"case {case!r} already exists")
            at = _audit.now()
            conn.execute(
                insert(cases).values(
                    id=case,
                    purpose=purpose,
                    legal_basis=legal_basis,
                    opened_by=actor.name,
                    opened_at=at,
                )
            )
            _audit.append(
                conn,
                user=actor.name,
                role=actor.role,
                action="case_open",
                case=case,
                purpose=purpose,
                params={"legal_basis": legal_basis},
                bind=[("cases", case)],
            )
        return Case(case, purpose, legal_basis, actor.name, at)

    def approve_case(
        self,
        actor: Actor,
        case: str,
        *,
        familial: bool = True,
        kind: str = "search",
        trace_sha256: str | None = None,
        max_mismatches: int | None = None,
        max_steps: int | None = None,
        min_loci: int | None = None,
    ) -> Case:
        """Approve familial search in ``case`` for one trace and bounds; audited.

        A supervisor (or admin) other than the opener. ``kind="search"`` names the trace
        (``trace_sha256``, :func:`patriline.search.api.trace_digest`) and the bounds
        (``None`` = no bound; at least one bound must be given); ``kind="pairs"`` allows
        all-vs-all pairs within ``max_mismatches``. The approval expires and is used up
        as ``reference/data/search_policy.toml`` says; the row and its audit entry are
        written in one transaction (``audit_id``). Returns the case with the new
        approval (``Case.approval``).
        """
        from patriline.reference.policy import search_policy

        policy = search_policy()
        if not familial:
            raise InputError("only familial-search approval exists (--familial)")
        self.authorize(actor, "case_approve")
        if kind not in ("search", "pairs"):
            raise InputError(f"unknown approval kind {kind!r}; kinds: search, pairs")
        if kind == "search":
            if not trace_sha256 or len(trace_sha256) != 64:
                raise InputError(
                    "a familial approval names its trace: --trace-sha256 (64 hex digits) "
                    "or --haplotype"
                )
            if max_mismatches is None and max_steps is None:
                raise InputError(
                    "a familial approval names its bounds: --max-mismatches/--max-steps"
                )
        else:
            if trace_sha256 is not None or max_steps is not None:
                raise InputError("a pairs approval has no trace and no step bound")
            if max_mismatches is None:
                raise InputError("a pairs approval names its bound: --max-mismatches")
        for name, v in (("max_mismatches", max_mismatches), ("max_steps", max_steps)):
            if v is not None and v < 0:
                raise InputError(f"{name} must not be negative (got {v})")
        floor = min_loci if min_loci is not None else policy.loci_floor
        if floor < policy.loci_floor:
            raise InputError(
                f"min_loci {floor} is below the floor of {policy.loci_floor} locus copies "
                f"({policy.floor_source}; search_policy.toml)"
            )
        with self.write() as conn:
            c = self._case(conn, case)
            if c is None:
                raise NotFound(f"no case {case!r}")
            if c.opened_by == actor.name:
                raise AccessDenied(
                    f"case {case!r} was opened by {actor.name!r}; another supervisor must approve it"
                )
            at = _audit.now()
            expires = (
                _dt.datetime.fromisoformat(at) + _dt.timedelta(days=policy.approval_valid_days)
            ).isoformat()
            uses = policy.approval_max_uses if kind == "search" else policy.pairs_max_uses
            terms = {
                "kind": kind,
                "trace_sha256": trace_sha256,
                "max_mismatches": max_mismatches,
                "max_steps": max_steps,
                "min_loci": floor,
            }
            conn.execute(
                update(cases)
                .where(cases.c.id == case)
                .values(familial_approved_by=actor.name, familial_approved_at=at)
            )
            new_id = conn.execute(
                insert(approvals)
                .values(
                    case_id=case,
                    **terms,
                    approved_by=actor.name,
                    approved_at=at,
                    expires_at=expires,
                    uses_left=uses,
                    used=0,
                    revoked=False,
                )
                .returning(approvals.c.id)
            ).scalar_one()
            # The approval row and the case row are bound to this entry (audit_id,
            # audit_hash), so a forged approval names itself in `audit verify`.
            _audit.append(
                conn,
                user=actor.name,
                role=actor.role,
                action="case_approve",
                case=case,
                purpose=c.purpose,
                params={"familial": True, **terms, "expires_at": expires, "uses": uses},
                bind=[("cases", case), ("approvals", int(new_id))],
            )
        new = self.approvals(case, ids=[int(new_id)])[0]
        return Case(c.id, c.purpose, c.legal_basis, c.opened_by, c.opened_at, actor.name, at, new)

    def approvals(self, case: str, *, ids: Sequence[int] | None = None) -> list[Approval]:
        """The approvals of ``case`` (all, live or not), oldest first."""
        with self.read() as conn:
            return self._approvals(conn, case, ids)

    def _approvals(
        self, conn: Connection, case: str, ids: Sequence[int] | None = None
    ) -> list[Approval]:
        q = select(approvals).where(approvals.c.case_id == case)
        if ids is not None:
            q = q.where(approvals.c.id.in_(list(ids)))
        return [
            Approval(
                int(r.id),
                r.case_id,
                r.kind,
                r.trace_sha256,
                r.max_mismatches,
                r.max_steps,
                int(r.min_loci),
                r.approved_by,
                r.approved_at,
                r.expires_at,
                int(r.uses_left),
                int(r.used),
                bool(r.revoked),
                r.audit_id,
            )
            for r in conn.execute(q.order_by(approvals.c.id))
        ]

    def use_approval(
        self,
        actor: Actor,
        case: str,
        *,
        kind: str,
        trace_sha256: str | None,
        max_mismatches: int | None,
        max_steps: int | None,
        min_loci: int,
    ) -> int:
        """Use one search of a live approval of ``case`` that covers the request; its ID.

        Refused (:class:`AccessDenied`, audited as ``access_denied``) when no approval of
        the case covers the trace and bounds, or every covering one is expired, revoked
        or used up.
        """
        now = _audit.now()
        reason = None
        with self.write() as conn:
            rows = [
                a
                for a in self._approvals(conn, case)
                if a.covers(kind, trace_sha256, max_mismatches, max_steps, min_loci)
            ]
            live = [a for a in rows if not a.revoked and a.expires_at > now and a.uses_left > 0]
            for a in live:
                done = conn.execute(
                    update(approvals)
                    .where(approvals.c.id == a.id, approvals.c.uses_left > 0)
                    .values(uses_left=approvals.c.uses_left - 1, used=approvals.c.used + 1)
                ).rowcount
                if done:
                    return a.id
            what = (
                "this trace and these bounds" if kind == "search" else "pairs within these bounds"
            )
            if not rows:
                reason = (
                    f"no familial approval of case {case!r} covers {what} "
                    f"(max mismatches {max_mismatches}, max steps {max_steps}, min loci "
                    f"{min_loci}); a second supervisor approves the trace: patriline case "
                    "approve CASE --familial --haplotype … --max-mismatches …"
                )
            else:
                states = sorted(
                    {
                        "revoked" if a.revoked else "expired" if a.expires_at <= now else "used up"
                        for a in rows
                    }
                )
                reason = (
                    f"the familial approval of case {case!r} for {what} is "
                    f"{' / '.join(states)}; a new approval is needed"
                )
        raise self.refuse(actor, "search_familial", case, reason, trace_sha256=trace_sha256)

    def revoke_approvals(self, actor: Actor, case: str) -> int:
        """Revoke every live approval of ``case`` (a supervisor); audited; the count."""
        self.authorize(actor, "case_approve")
        with self.write() as conn:
            if self._case(conn, case) is None:
                raise NotFound(f"no case {case!r}")
            n = conn.execute(
                update(approvals)
                .where(approvals.c.case_id == case, approvals.c.revoked.is_(False))
                .values(revoked=True)
            ).rowcount
            _audit.append(
                conn,
                user=actor.name,
                role=actor.role,
                action="case_approve",
                case=case,
                params={"revoke": True},
                result={"revoked": int(n)},
            )
        return int(n)

    def case_hits(self, case: str) -> set[str]:
        """Specimens returned by the audited searches of ``case`` (``search_*`` entries)."""
        with self.read() as conn:
            rows = conn.execute(
                select(audit_log.c.result).where(
                    audit_log.c.case_id == case,
                    audit_log.c.action.in_(["search_exact", "search_familial"]),
                )
            ).all()
        out: set[str] = set()
        for (text,) in rows:
            out.update(json.loads(text).get("returned") or ())
        return out

    def require_case_hits(
        self, actor: Actor, action: str, case: str, specimens: Sequence[str]
    ) -> None:
        """Refuse (audited) unless every one of ``specimens`` was a hit of a search in ``case``."""
        missing = sorted(set(specimens) - self.case_hits(case))
        if missing:
            raise self.refuse(
                actor,
                action,
                case,
                f"{action} in case {case!r} reads only hits of that case's searches; "
                f"not a hit: {', '.join(missing)}",
            )

    def case(self, case: str) -> Case:
        with self.read() as conn:
            c = self._case(conn, case)
        if c is None:
            raise NotFound(f"no case {case!r}")
        return c

    # ------------------------------------------------------------------ audit
    def audit(
        self,
        actor: Actor,
        action: str,
        *,
        case: str | Case | None = None,
        purpose: str | None = None,
        params: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
    ) -> int:
        """Append one hash-chained audit entry (its own transaction); return its ID.

        The role recorded is read from the store, not trusted from ``actor``; a name
        that is not a user of the store raises :class:`AccessDenied`.
        """
        case_id = case.id if isinstance(case, Case) else case
        if purpose is None and isinstance(case, Case):
            purpose = case.purpose
        with self.write() as conn:
            role = conn.execute(
                select(users.c.role).where(users.c.name == actor.name)
            ).scalar_one_or_none()
            if role is None:
                raise AccessDenied(f"user {actor.name!r} is not a user of this store")
            if purpose is None and case_id:
                c = self._case(conn, case_id)
                purpose = c.purpose if c else None
            return _audit.append(
                conn,
                user=actor.name,
                role=role,
                action=action,
                case=case_id,
                purpose=purpose,
                params=params,
                result=result,
            )

    def verify_audit(self, anchors: Sequence[_audit.Anchor] = ()) -> _audit.VerifyResult:
        """Check the audit hash chain (and that it still extends each of ``anchors``);
        name the first broken entry."""
        with self.read() as conn:
            return _audit.verify(conn, anchors)

    def audit_anchor(self) -> _audit.Anchor:
        """The verified chain head, to keep outside the store (``audit anchor``)."""
        with self.read() as conn:
            return _audit.anchor(conn)

    def audit_entries(
        self, actor: Actor, *, case: str | None = None, limit: int | None = None
    ) -> list[_audit.AuditEntry]:
        """Audit entries (auditors, supervisors, admins); the read itself is audited."""
        self.authorize(actor, "audit_read")
        with self.read() as conn:
            out = _audit.read(conn, case=case, limit=limit)
        self.audit(
            actor, "audit_read", params={"case": case, "limit": limit}, result={"entries": len(out)}
        )
        return out

    # ------------------------------------------------------------------ import
    def import_records(
        self,
        actor: Actor,
        records: Sequence[Record],
        *,
        file: str = "<records>",
        file_hash: str | None = None,
        format: str | None = None,
        rows: int | None = None,
        problems: Sequence[Any] = (),
        lenient: bool = False,
        rejects: str | Path | None = None,
        category: str | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """Import records (see :func:`patriline.store.imports.import_records`)."""
        from patriline.store.imports import import_records

        return import_records(
            self,
            actor,
            records,
            file=file,
            file_hash=file_hash,
            format=format,
            rows=rows,
            problems=problems,
            lenient=lenient,
            rejects=rejects,
            category=category,
            progress=progress,
        )

    def import_encoded(
        self,
        actor: Actor,
        read: EncodedRead,
        *,
        file_hash: str | None = None,
        lenient: bool = False,
        rejects: str | Path | None = None,
        category: str | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """Import a :func:`patriline.io.read_encoded` result read under :attr:`layout`
        (see :func:`patriline.store.imports.import_encoded`)."""
        from patriline.store.imports import import_encoded

        return import_encoded(
            self,
            actor,
            read,
            file_hash=file_hash,
            lenient=lenient,
            rejects=rejects,
            category=category,
            progress=progress,
        )

    def import_file(
        self,
        actor: Actor,
        path: str | Path,
        *,
        format: str | None = None,
        lenient: bool = False,
        rejects: str | Path | None = None,
        category: str | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """Read ``path`` (:func:`patriline.io.read_encoded`) and import it (atomic unless lenient)."""
        from patriline.store.imports import import_file

        return import_file(
            self,
            actor,
            path,
            format=format,
            lenient=lenient,
            rejects=rejects,
            category=category,
            progress=progress,
        )

    # ------------------------------------------------------------------ data for engines
    def encoded(self, layout: Layout | None = None) -> tuple[list[str], Encoded]:
        """IDs and encoded haplotypes of all active specimens, in change-feed order.

        ``layout`` defaults to the store's (universal) layout; another layout takes its
        columns from the stored ones (loci the store does not have are MISSING).
        """
        with self.read() as conn:
            rows = conn.execute(
                select(haplotypes.c.specimen, haplotypes.c.encoded)
                .join(specimens, specimens.c.id == haplotypes.c.specimen)
                .where(specimens.c.active.is_(True))
                .order_by(haplotypes.c.seq)
            ).all()
            return self._encoded_rows(conn, rows, layout)

    def encoded_of(
        self, specimen_ids: Iterable[str], layout: Layout | None = None
    ) -> tuple[list[str], Encoded]:
        """IDs and encoded haplotypes of the given specimens (active or not; absent ones
        left out), read from the stored encoded rows in one query per 5,000 specimens —
        no text is parsed except for alleles held aside (EXTRA)."""
        from patriline.store.importer import _IN_CHUNK

        wanted = list(dict.fromkeys(specimen_ids))
        with self.read() as conn:
            rows = []
            for i in range(0, len(wanted), _IN_CHUNK):
                rows += conn.execute(
                    select(haplotypes.c.specimen, haplotypes.c.encoded).where(
                        haplotypes.c.specimen.in_(wanted[i : i + _IN_CHUNK])
                    )
                ).all()
            return self._encoded_rows(conn, rows, layout)

    def _encoded_rows(
        self, conn: Connection, rows: Sequence[Any], layout: Layout | None
    ) -> tuple[list[str], Encoded]:
        stored = self.layout
        ids = [r[0] for r in rows]
        ncol = stored.n_columns
        if rows:
            flat = np.frombuffer(b"".join(r[1] for r in rows), dtype="<i2")
            matrix = flat.astype(np.int16).reshape(len(rows), ncol)
        else:
            matrix = np.zeros((0, ncol), dtype=np.int16)
        extra_rows = [int(i) for i in np.flatnonzero((matrix == EXTRA).any(axis=1))]
        texts = dict(
            lookup(
                conn,
                haplotypes.c.specimen,
                [ids[i] for i in extra_rows],
                haplotypes.c.canonical,
            )
        )
        target = layout or stored
        if target == stored:
            values = np.ascontiguousarray(matrix.T)
        else:
            values = np.full((target.n_columns, len(rows)), -1, dtype=np.int16)
            src = {c: i for i, c in enumerate(stored.columns)}
            for j, col in enumerate(target.columns):
                if col in src:
                    values[j] = matrix[:, src[col]]
        extras = {}
        copies = dict(zip(target.loci, target.copies, strict=True))
        for i in extra_rows:
            h = parse_haplotype_string(texts[ids[i]])
            for name, allele in h.alleles.items():
                if name in copies and len(allele.values) > copies[name]:
                    extras[(i, name)] = allele
        return ids, Encoded(target, values, extras)

    def haplotype(self, specimen: str) -> Haplotype:
        """The haplotype of ``specimen`` (:class:`NotFound` if absent or expunged)."""
        with self.read() as conn:
            r = conn.execute(
                select(haplotypes.c.canonical, specimens.c.kit)
                .join(specimens, specimens.c.id == haplotypes.c.specimen)
                .where(haplotypes.c.specimen == specimen)
            ).first()
        if r is None:
            raise NotFound(f"no specimen {specimen!r} in the store")
        h = parse_haplotype_string(r[0]) if r[0] else Haplotype({})
        return Haplotype(h.alleles, r[1])

    def active_specimens(self) -> list[str]:
        with self.read() as conn:
            return [
                r[0]
                for r in conn.execute(
                    select(specimens.c.id)
                    .where(specimens.c.active.is_(True))
                    .order_by(specimens.c.id)
                )
            ]

    def specimen_info(self, specimen: str) -> SpecimenInfo:
        with self.read() as conn:
            r = conn.execute(select(specimens).where(specimens.c.id == specimen)).first()
        if r is None:
            raise NotFound(f"no specimen {specimen!r} in the store")
        return SpecimenInfo(
            r.id,
            r.person,
            r.category,
            r.kit,
            r.collected_at,
            r.agency,
            r.legal_basis,
            r.consent_ref,
            r.retention_until,
            r.batch_id,
            bool(r.active),
        )

    def person_of(self, specimen: str) -> str:
        return self.specimen_info(specimen).person

    def specimens_of(self, person: str) -> list[str]:
        """Active specimens of ``person`` (empty if none)."""
        with self.read() as conn:
            return [
                r[0]
                for r in conn.execute(
                    select(specimens.c.id)
                    .where(specimens.c.person == person, specimens.c.active.is_(True))
                    .order_by(specimens.c.id)
                )
            ]

    def persons(self) -> list[str]:
        with self.read() as conn:
            return [r[0] for r in conn.execute(select(persons.c.id).order_by(persons.c.id))]

    def links(self) -> list[Link]:
        with self.read() as conn:
            return [
                Link(r.son, r.father, r.source, float(r.confidence))
                for r in conn.execute(select(paternal_links).order_by(paternal_links.c.son))
            ]

    def lineage_links(self, persons: Sequence[str], generations: int) -> list[Link]:
        """The links of the expansion region around ``persons`` (recursive CTEs; its cost
        follows the region, not the registry). See :func:`patriline.store.lineage.lineage_links`."""
        from patriline.store.lineage import lineage_links

        return lineage_links(self, persons, generations)

    def active_specimens_of(self, persons: Iterable[str]) -> dict[str, list[str]]:
        """``{person: active specimens ordered by ID}`` for many persons (batched)."""
        from patriline.store.lineage import active_specimens_of

        return active_specimens_of(self, persons)

    def haplotypes_of(self, specimen_ids: Iterable[str]) -> dict[str, Haplotype]:
        """``{specimen: haplotype}`` for many specimens (batched; absent ones left out)."""
        from patriline.store.lineage import haplotypes_of

        return haplotypes_of(self, specimen_ids)

    def insert_links(
        self, actor: Actor, links: Iterable[Link], *, source: str, file_hash: str | None = None
    ) -> dict[str, int]:
        """Insert paternal links atomically (persons created as needed); audited.

        A son already linked to the same father is ``unchanged``; to another father it is a
        :class:`ConflictError` (nothing is written), as is a link that closes a cycle of
        fathers (checked on the links concerned only, see :mod:`patriline.store.links`).
        Returns ``{"rows", "added", "unchanged"}``.
        """
        from patriline.store.links import insert_links

        return insert_links(self, actor, list(links), source=source, file_hash=file_hash)

    def change_seq(self) -> int:
        with self.read() as conn:
            return int(
                conn.execute(select(meta.c.value).where(meta.c.key == "change_seq")).scalar_one()
            )

    def changes_since(self, seq: int) -> list[tuple[int, str, str]]:
        """Change-feed events after ``seq``: ``(seq, specimen, "add" | "remove")`` in order."""
        with self.read() as conn:
            adds = conn.execute(
                select(haplotypes.c.seq, haplotypes.c.specimen).where(haplotypes.c.seq > seq)
            ).all()
            rems = conn.execute(
                select(removals.c.seq, removals.c.specimen).where(removals.c.seq > seq)
            ).all()
        out = [(int(s), sp, "add") for s, sp in adds] + [(int(s), sp, "remove") for s, sp in rems]
        out.sort()
        return out

    # ------------------------------------------------------------------ identity, expungement
    def set_identity(
        self, actor: Actor, person: str, data: dict[str, Any], key: str | bytes
    ) -> None:
        """Store identity data for ``person``, encrypted with the store's data key that
        ``key`` unwraps (envelope encryption); audited."""
        from patriline.store.identity import set_identity

        set_identity(self, actor, person, data, key)

    def import_identities(
        self, actor: Actor, path: str | Path, key: str | bytes, *, lenient: bool = False
    ) -> Any:
        """Encrypt and store the identities of a CSV file (``person`` + field columns):
        atomic unless ``lenient``, one audit entry; see
        :func:`patriline.store.identity.import_identities`."""
        from patriline.store.identity import import_identities

        return import_identities(self, actor, path, key, lenient=lenient)

    def identity(
        self, actor: Actor, case: str | Case, person: str, key: str | bytes
    ) -> dict[str, Any]:
        """Decrypt the identity of ``person`` within ``case``; audited."""
        from patriline.store.identity import read_identity

        return read_identity(self, actor, case, person, key)

    def register_identity_key(self, actor: Actor, key: str | bytes) -> str:
        """Record ``actor``'s public identity key (:mod:`patriline.store.identity`)."""
        from patriline.store.identity import register_identity_key

        return register_identity_key(self, actor, key)

    def grant_identity_key(self, actor: Actor, user: str, key: str | bytes) -> None:
        """Wrap the store's identity data key for ``user`` (``user_admin``, a holder)."""
        from patriline.store.identity import grant_identity_key

        grant_identity_key(self, actor, user, key)

    def revoke_identity_key(self, actor: Actor, user: str) -> None:
        """Remove ``user``'s wrapped identity data key (``user_admin``)."""
        from patriline.store.identity import revoke_identity_key

        revoke_identity_key(self, actor, user)

    def expunge(self, actor: Actor, specimen: str, reason: str) -> Any:
        """Remove a specimen and what derives from it; see :mod:`patriline.store.expunge`.

        The search index kept beside the store (if any) is brought up to date at once,
        so the profile leaves its files too.
        """
        from patriline.store.expunge import expunge

        report = expunge(self, actor, specimen, reason)
        _purge_index(self)
        return report

    def apply_retention(self, actor: Actor, today: Any = None) -> Any:
        """Expunge every specimen whose retention date has passed (and purge the index)."""
        from patriline.store.expunge import apply_retention

        reports = apply_retention(self, actor, today)
        if reports:
            _purge_index(self)
        return reports

    # ------------------------------------------------------------------ info
    def info(self) -> StoreInfo:
        """Counts of specimens by category, persons, links, cases, audit entries."""
        from patriline.store.schema import audit_log

        def n(conn: Connection, table: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

        with self.read() as conn:
            by_cat = {
                r[0]: int(r[1])
                for r in conn.execute(
                    select(specimens.c.category, func.count()).group_by(specimens.c.category)
                )
            }
            return StoreInfo(
                url=_redact(self.url),
                dialect=self.dialect,
                revision=migrate.current_revision(conn),
                specimens=sum(by_cat.values()),
                specimens_by_category=by_cat,
                persons=n(conn, persons),
                identities=n(conn, identities),
                links=n(conn, paternal_links),
                cases=n(conn, cases),
                users=n(conn, users),
                audit_entries=n(conn, audit_log),
                batches=n(conn, import_batches),
                change_seq=int(
                    conn.execute(
                        select(meta.c.value).where(meta.c.key == "change_seq")
                    ).scalar_one()
                ),
            )


def _purge_index(db: Database) -> None:
    # Until expungement moves to patriline.casework.expunge (which calls it itself).
    from patriline.casework.searching import purge_index

    purge_index(db)


def _redact(url: str) -> str:
    """The URL without a password (for audit entries and ``info``)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # pragma: no cover - normalize_url has validated it
        return url
