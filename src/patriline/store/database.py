"""``Database``: persistence only — the connection, repository reads, the data the
engines read, and the audit-chain primitives.

Who may do what, and what is audited, is :mod:`patriline.casework`'s (a ``Session``);
the low-level writers it calls are in ``store/users.py``, ``cases.py``, ``batches.py``,
``links.py``, ``identity.py`` and ``expunge.py``. See ``docs/architecture.md``
("store") for the contract and ``docs/store.md`` for the schema, formats and methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from patriline import __version__
from patriline._files import private_dir
from patriline.errors import AccessDenied, ConflictError, InputError, NotFound
from patriline.haplotype import Haplotype, parse_haplotype_string
from patriline.links import Link
from patriline.store import audit as _audit
from patriline.store import migrate
from patriline.store.access import Actor, Approval, Case
from patriline.store.engine import make_engine, normalize_url, read_connection, write_transaction
from patriline.store.records import SpecimenInfo, StoreInfo
from patriline.store.schema import (
    haplotypes,
    meta,
    paternal_links,
    persons,
    removals,
    specimens,
    users,
)

if TYPE_CHECKING:  # numpy loads when a matrix is read, not when a store is opened
    from patriline.encoding import Encoded, Layout

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
        #: The schema revision :meth:`open` migrated from (None: it was up to date).
        self.upgraded_from: str | None = None
        #: Opened read-only (:meth:`open` with ``read_only``): every write is refused.
        self.read_only = False

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
                    {"key": "layout", "value": _universal_layout_json()},
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
    def open(
        cls, url: str | Path, *, busy_timeout: float | None = None, read_only: bool = False
    ) -> Database:
        """Open an existing store (upgrading its schema if it is older than this version).

        ``read_only`` opens it without writing anything (a SQLite evidence copy: no
        ``-wal``/``-shm`` files created, no migration; PostgreSQL: read-only
        transactions); every write is then refused (:class:`AccessDenied`).
        """
        norm = normalize_url(url)
        if norm.startswith("sqlite"):
            path = make_url(norm).database
            if path and path != ":memory:" and not Path(path).exists():
                raise NotFound(f"no store at {url} (create one with: patriline init {url})")
        options: dict[str, Any] = {"read_only": read_only}
        if busy_timeout is not None:
            options["busy_timeout"] = busy_timeout
        engine = make_engine(norm, **options)
        db = cls(norm, engine)
        db.read_only = read_only
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
        if rev != migrate.head_revision() and read_only:
            engine.dispose()
            raise InputError(
                f"the store at {_redact(norm)} is at schema revision {rev} and this version "
                f"of patriline reads {migrate.head_revision()}; a read-only store cannot be "
                "migrated: open a writable copy of it, or use the patriline version that wrote it"
            )
        if rev != migrate.head_revision():
            try:
                with db.write() as conn:
                    migrate.upgrade(conn)
            except DBAPIError as exc:
                engine.dispose()
                if getattr(exc.orig, "sqlstate", None) != "42501":  # insufficient_privilege
                    raise
                raise AccessDenied(
                    f"the store at {_redact(norm)} is at schema revision {rev} and this "
                    f"version of patriline needs {migrate.head_revision()}; this database "
                    "role may not migrate it (least privilege): run "
                    "'patriline db upgrade --db OWNER_URL' as the owner of its tables"
                ) from None
            db.upgraded_from = rev
        return db

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self) -> Any:
        """Context manager: one write transaction (all or nothing)."""
        if self.read_only:
            raise AccessDenied(
                f"the store at {_redact(self.url)} is open read-only (an evidence copy): "
                "nothing can be written to it"
            )
        return write_transaction(self.engine)

    def read(self) -> Any:
        """Context manager: one read transaction."""
        return read_connection(self.engine)

    @property
    def layout(self) -> Layout:
        """The layout of the stored ``encoded`` column (the universal layout at creation)."""
        if self._layout is None:
            with self.read() as conn:
                from patriline.encoding import Layout

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

    def role_of(self, name: str) -> str | None:
        """The role of ``name`` now (None if not a user of the store)."""
        with self.read() as conn:
            return conn.execute(
                select(users.c.role).where(users.c.name == name)
            ).scalar_one_or_none()

    def users(self) -> list[Actor]:
        from patriline.store.users import list_users

        return list_users(self)

    # ------------------------------------------------------------------ cases
    def case(self, case: str) -> Case:
        """The case ``case`` with its newest live approval (:class:`NotFound` if none)."""
        from patriline.store.cases import find_case

        c = find_case(self, case)
        if c is None:
            raise NotFound(f"no case {case!r}")
        return c

    def approvals(self, case: str, *, ids: Sequence[int] | None = None) -> list[Approval]:
        """The approvals of ``case`` (all, live or not), oldest first."""
        from patriline.store.cases import approvals_of

        return approvals_of(self, case, ids)

    # ------------------------------------------------------------------ audit
    def append_audit(self, entry: _audit.AuditRecord) -> int:
        """Append ``entry`` in its own transaction; its ID. The role recorded is the
        store's (:class:`AccessDenied` if ``entry.user`` is not a user); the purpose
        defaults to the case's."""
        from patriline.store.cases import load_case

        with self.write() as conn:
            role = conn.execute(
                select(users.c.role).where(users.c.name == entry.user)
            ).scalar_one_or_none()
            if role is None:
                raise AccessDenied(f"user {entry.user!r} is not a user of this store")
            if entry.purpose is None and entry.case:
                c = load_case(conn, entry.case)
                entry = entry.but(purpose=c.purpose if c else None)
            return _audit.append_record(conn, entry.but(role=role))

    def read_audit(
        self, *, case: str | None = None, limit: int | None = None
    ) -> list[_audit.AuditEntry]:
        """Audit entries (of ``case``; the newest ``limit``), unaudited: casework audits it."""
        with self.read() as conn:
            return _audit.read(conn, case=case, limit=limit)

    def verify_audit(self, anchors: Sequence[_audit.Anchor] = ()) -> _audit.VerifyResult:
        """Check the audit hash chain (and that it still extends each of ``anchors``);
        name the first broken entry."""
        with self.read() as conn:
            return _audit.verify(conn, anchors)

    def audit_anchor(self) -> _audit.Anchor:
        """The verified chain head, to keep outside the store (``audit anchor``)."""
        with self.read() as conn:
            return _audit.anchor(conn)

    # ------------------------------------------------------------------ data for engines
    def encoded(
        self, layout: Layout | None = None, *, categories: Sequence[str] | None = None
    ) -> tuple[list[str], Encoded]:
        """IDs and encoded haplotypes of all active specimens, in change-feed order.

        ``layout`` defaults to the store's (universal) layout; another layout takes its
        columns from the stored ones (loci the store does not have are MISSING).
        ``categories`` keeps only specimens of those categories.
        """
        query = (
            select(haplotypes.c.specimen, haplotypes.c.encoded)
            .join(specimens, specimens.c.id == haplotypes.c.specimen)
            .where(specimens.c.active.is_(True))
            .order_by(haplotypes.c.seq)
        )
        if categories is not None:
            query = query.where(specimens.c.category.in_(list(categories)))
        with self.read() as conn:
            rows = conn.execute(query).all()
            from patriline.store.reads import encoded_rows

            return encoded_rows(conn, self.layout, rows, layout)

    def encoded_of(
        self, specimen_ids: Iterable[str], layout: Layout | None = None
    ) -> tuple[list[str], Encoded]:
        """IDs and encoded haplotypes of the given specimens (active or not; absent ones
        left out), read from the stored encoded rows in one query per 5,000 specimens —
        no text is parsed except for alleles held aside (EXTRA)."""
        from patriline.store.batches import _IN_CHUNK

        wanted = list(dict.fromkeys(specimen_ids))
        with self.read() as conn:
            rows = []
            for i in range(0, len(wanted), _IN_CHUNK):
                rows += conn.execute(
                    select(haplotypes.c.specimen, haplotypes.c.encoded).where(
                        haplotypes.c.specimen.in_(wanted[i : i + _IN_CHUNK])
                    )
                ).all()
            from patriline.store.reads import encoded_rows

            return encoded_rows(conn, self.layout, rows, layout)

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
        """What the store knows of ``specimen`` besides its haplotype (:class:`NotFound`)."""
        from patriline.store.reads import specimen_info

        return specimen_info(self, specimen)

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

    # ------------------------------------------------------------------ info
    def info(self) -> StoreInfo:
        """Counts of specimens by category, persons, links, cases, audit entries."""
        from patriline.store.reads import store_info

        return store_info(self, _redact(self.url))


def _universal_layout_json() -> str:
    from patriline.encoding import Layout

    return Layout.universal().to_json()


def _redact(url: str) -> str:
    """The URL without a password (for audit entries and ``info``)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # pragma: no cover - normalize_url has validated it
        return url
