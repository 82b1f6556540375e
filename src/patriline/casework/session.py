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

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from patriline.casework import auditing, cases, users
from patriline.casework.access import SCOPES, Action, action_of, check, check_scopes
from patriline.errors import AccessDenied
from patriline.store import Actor, AuditRecord, Case, Database
from patriline.store import cases as _cases
from patriline.store.audit import Anchor, AuditEntry, VerifyResult
from patriline.store.records import ExpungeReport, ImportSummary

if TYPE_CHECKING:
    from patriline.casework.workflow import MonthCounts, PairsSummary
    from patriline.io.encoded import EncodedRead
    from patriline.io.model import Problem, Record
    from patriline.pedigree.links_io import LinkReadResult
    from patriline.store.identity import IdentityImport
    from patriline.store.workflow import ApprovalRequest, Job

#: A progress callback: ``(done, total)``.
Progress = Callable[[int, int], None]

if TYPE_CHECKING:
    from patriline.haplotype import Haplotype
    from patriline.pedigree.config import DonorConfig
    from patriline.pedigree.expand import Expansion
    from patriline.pedigree.hits import TopHits
    from patriline.search.api import PairResult, SearchResult
    from patriline.search.index import SearchIndex
    from patriline.simulate.exposure import ExposureReport
    from patriline.simulate.population import Population
    from patriline.stats.dlmix import DLMixFit, FitConfig, FitSelection
    from patriline.stats.mutation import StepwiseModel
    from patriline.stats.reference_set import ReferenceSet
    from patriline.stats.report import ReportRequest

__all__ = ["Session"]

#: How a session reaches the store, recorded in every audit entry it writes.

#: What a session on a read-only store (an evidence copy) may do.
READ_ONLY_ACTIONS = frozenset({Action.AUDIT_READ})

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
    scopes
        What this session may do within its role (:data:`~patriline.casework.access.SCOPES`:
        an API token's scopes); None: all of them. An empty set allows no action (a
        browser session that must first change its password or enrol a second factor).
    """

    def __init__(
        self,
        store: Database,
        user: str | Actor,
        *,
        via: str = "local",
        scopes: frozenset[str] | None = None,
    ) -> None:
        if via not in VIA:
            raise ValueError(f"via must be one of {VIA}")
        if scopes is not None and not set(scopes) <= set(SCOPES):
            raise ValueError(f"scopes must be among {SCOPES}")
        self.store = store
        self.actor = store.actor(user.name if isinstance(user, Actor) else user)
        self.via = via
        self.scopes: frozenset[str] = frozenset(SCOPES) if scopes is None else frozenset(scopes)

    @classmethod
    @contextmanager
    def open(
        cls,
        url: str | Path,
        user: str,
        *,
        via: str = "local",
        scopes: frozenset[str] | None = None,
        read_only: bool = False,
    ) -> Iterator[Session]:
        """Open the store at ``url`` for ``user``; the store is closed on exit.

        ``read_only`` (an evidence copy): only reading the audit log and the store's
        counts is possible, and those reads are not recorded in the copy (it must not
        change); every other action is refused before anything is computed."""
        store = Database.open(url, read_only=read_only)
        try:
            yield cls(store, user, via=via, scopes=scopes)
        finally:
            store.close()

    @property
    def user(self) -> str:
        return self.actor.name

    # ------------------------------------------------------------------ the two rules
    def role(self) -> str:
        """The user's role as the store has it now (:class:`AccessDenied` if removed)."""
        role = self.store.role_of(self.actor.name)
        if role is None:
            raise AccessDenied(f"user {self.actor.name!r} is not a user of this store")
        return role

    def authorize(self, action: str, case: str | Case | None = None) -> Case | None:
        """Check that the user may do ``action`` (in ``case``); return the loaded case.

        The role and the case are read from the store at each check; the session's
        scopes must allow the action too. Raises :class:`~patriline.errors.AccessDenied`
        with the reason; the refusal is audited (``access_denied``, with the action and
        case asked for).
        """
        act = action_of(action)  # ValueError for an unknown action
        if self.store.read_only and act not in READ_ONLY_ACTIONS:
            # Fail closed, before anything is computed: the refusal cannot be recorded
            # in a read-only copy, so nothing may be read that would need an entry.
            raise AccessDenied(
                f"{act} needs a writable store: this one is open read-only (an evidence "
                "copy allows info, audit verify and audit show)"
            )
        case_id = case.id if isinstance(case, Case) else case
        role = self.role()
        loaded = _cases.find_case(self.store, case_id) if case_id else None
        actor = Actor(self.actor.name, role)
        try:
            check_scopes(self.scopes, action)
            check(actor, action, loaded, case_name=case_id)
        except AccessDenied as exc:
            # Refusals are part of the record oversight bodies read: who tried what, where.
            self.audit(
                "access_denied",
                case=loaded,
                params={"action": str(action), "case": case_id},
                result={"reason": str(exc)},
            )
            raise
        return loaded

    def require_scope(self, scope: str, what: str = "this") -> None:
        """Refuse (audited, :class:`AccessDenied`) unless the session holds ``scope``
        (``search`` and ``admin`` include ``read``): for reads that are not actions of
        the policy (cases, approval requests)."""
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; scopes: {', '.join(SCOPES)}")
        if not (scope in self.scopes or (scope == "read" and self.scopes)):
            have = ", ".join(s for s in SCOPES if s in self.scopes) or "none"
            raise self.refuse(
                what, None, f"{what} needs the {scope!r} scope; this session's scopes: {have}"
            )

    def refuse(self, action: str, case: str | None, reason: str, **result: Any) -> AccessDenied:
        """Audit a refusal (``access_denied``) decided by a use case; the error to raise."""
        known = case if case and _cases.find_case(self.store, case) is not None else None
        self.audit(
            "access_denied",
            case=known,
            params={"action": str(action), "case": case},
            result={"reason": reason, **result},
        )
        return AccessDenied(reason)

    def entry(
        self,
        action: str,
        *,
        case: str | Case | None = None,
        purpose: str | None = None,
        params: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
        bind: tuple[tuple[str, Any], ...] = (),
    ) -> AuditRecord:
        """The content of an audit entry by this user (and ``via``), for a store writer
        to append in the transaction of its data write."""
        case_id = case.id if isinstance(case, Case) else case
        if purpose is None and isinstance(case, Case):
            purpose = case.purpose
        return AuditRecord(
            user=self.actor.name,
            role=self.actor.role,
            action=str(action),
            case=case_id,
            purpose=purpose,
            params=params,
            result=result,
            bind=bind,
            via=self.via,
        )

    def audit(
        self,
        action: str,
        *,
        case: str | Case | None = None,
        purpose: str | None = None,
        params: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
    ) -> int:
        """Append one audit entry for the user (its own transaction); its ID.

        The role recorded is the store's; the purpose defaults to the case's. On a
        read-only store (only :data:`READ_ONLY_ACTIONS` get this far) nothing is written
        and the ID is 0: the copy must not change.
        """
        if self.store.read_only:
            return 0
        return self.store.append_audit(
            self.entry(action, case=case, purpose=purpose, params=params, result=result)
        )

    # ------------------------------------------------------------------ store-side use cases
    # users, cases and approvals, audit reads, imports, links, identities, expungement:
    # thin methods delegating to casework.users, .cases, .auditing, .imports, .links,
    # .identities and .expunge. The heavier modules (imports, links, identities,
    # expunge: readers, numpy, cryptography) load on first use, so that opening a
    # session stays light.
    def add_user(self, name: str, role: str) -> Actor:
        return users.add_user(self, name, role)

    def set_role(self, name: str, role: str) -> Actor:
        return users.set_role(self, name, role)

    def users(self) -> list[Actor]:
        return users.users(self)

    def open_case(
        self, case: str, *, purpose: str, legal_basis: str, case_type: str = "criminal"
    ) -> Case:
        return cases.open_case(
            self, case, purpose=purpose, legal_basis=legal_basis, case_type=case_type
        )

    # ------------------------------------------------------------------ workflow
    # closing, approval requests, jobs, transparency, pair aggregates: thin methods
    # delegating to casework.workflow (loaded on first use).
    def close_case(self, case: str, reason: str) -> Case:
        from patriline.casework import workflow

        return workflow.close_case(self, case, reason)

    def request_approval(
        self,
        case: str,
        *,
        trace: str,
        max_mismatches: int | None = None,
        max_steps: int | None = None,
        min_loci: int | None = None,
        reason: str,
        kind: str = "search",
    ) -> ApprovalRequest:
        from patriline.casework import workflow

        return workflow.request_approval(
            self, case, trace=trace, max_mismatches=max_mismatches, max_steps=max_steps,
            min_loci=min_loci, reason=reason, kind=kind,
        )  # fmt: skip

    def approval_queue(self, *, status: str | None = "pending") -> list[ApprovalRequest]:
        from patriline.casework import workflow

        return workflow.approval_queue(self, status=status)

    def approval_request(self, request_id: int) -> ApprovalRequest:
        from patriline.casework import workflow

        return workflow.approval_request(self, request_id)

    def decide_request(self, request_id: int, *, approve: bool, reason: str) -> ApprovalRequest:
        from patriline.casework import workflow

        return workflow.decide_request(self, request_id, approve=approve, reason=reason)

    def withdraw_request(self, request_id: int, *, reason: str | None = None) -> ApprovalRequest:
        from patriline.casework import workflow

        return workflow.withdraw_request(self, request_id, reason=reason)

    def start_import_job(
        self,
        path: str | Path,
        *,
        category: str | None = None,
        lenient: bool = False,
        format: str | None = None,
        case: str | None = None,
    ) -> Job:
        from patriline.casework import workflow

        return workflow.start_import_job(
            self, path, category=category, lenient=lenient, format=format, case=case
        )

    def job(self, job_id: str) -> Job:
        from patriline.casework import workflow

        return workflow.job(self, job_id)

    def list_jobs(self) -> list[Job]:
        from patriline.casework import workflow

        return workflow.list_jobs(self)

    def cancel_job(self, job_id: str) -> Job:
        from patriline.casework import workflow

        return workflow.cancel_job(self, job_id)

    def wait_job(self, job_id: str, timeout: float | None = None) -> Job:
        from patriline.casework import workflow

        return workflow.wait_job(self, job_id, timeout)

    def transparency(self, *, month: str | None = None) -> list[MonthCounts]:
        from patriline.casework import workflow

        return workflow.transparency(self, month=month)

    def pairs_summary(
        self, *, max_mismatches: int = 2, min_loci: int | None = None
    ) -> PairsSummary:
        from patriline.casework import workflow

        return workflow.pairs_summary(self, max_mismatches=max_mismatches, min_loci=min_loci)

    def duplicate_pairs(self, case: str, *, min_loci: int | None = None) -> PairResult:
        from patriline.casework import workflow

        return workflow.duplicate_pairs(self, case, min_loci=min_loci)

    def approve_case(
        self,
        case: str,
        *,
        familial: bool = True,
        kind: str = "search",
        trace_sha256: str | None = None,
        max_mismatches: int | None = None,
        max_steps: int | None = None,
        min_loci: int | None = None,
    ) -> Case:
        """See :func:`patriline.casework.cases.approve_case`."""
        return cases.approve_case(
            self,
            case,
            familial=familial,
            kind=kind,
            trace_sha256=trace_sha256,
            max_mismatches=max_mismatches,
            max_steps=max_steps,
            min_loci=min_loci,
        )

    def revoke_approvals(self, case: str) -> int:
        return cases.revoke_approvals(self, case)

    def use_approval(
        self,
        case: str,
        *,
        kind: str,
        trace_sha256: str | None,
        max_mismatches: int | None,
        max_steps: int | None,
        min_loci: int,
    ) -> int:
        """See :func:`patriline.casework.cases.use_approval`."""
        return cases.use_approval(
            self,
            case,
            kind=kind,
            trace_sha256=trace_sha256,
            max_mismatches=max_mismatches,
            max_steps=max_steps,
            min_loci=min_loci,
        )

    def case(self, case: str) -> Case:
        return cases.case(self, case)

    def list_cases(self) -> list[Case]:
        return cases.list_cases(self)

    def require_case_hits(self, action: str, case: str, specimens: Sequence[str]) -> None:
        cases.require_case_hits(self, action, case, specimens)

    def audit_entries(
        self,
        *,
        case: str | None = None,
        limit: int | None = None,
        by_user: str | None = None,
        action: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[AuditEntry]:
        return auditing.audit_entries(
            self, case=case, limit=limit, by_user=by_user, action=action, since=since,
            until=until,
        )  # fmt: skip

    def verify_audit(self, anchors: Sequence[Anchor] = ()) -> VerifyResult:
        return auditing.verify_audit(self, anchors)

    def audit_anchor(self) -> Anchor:
        return auditing.audit_anchor(self)

    def import_records(
        self,
        records: Sequence[Record],
        *,
        file: str = "<records>",
        file_hash: str | None = None,
        format: str | None = None,
        rows: int | None = None,
        problems: Sequence[Problem] = (),
        lenient: bool = False,
        rejects: str | Path | None = None,
        category: str | None = None,
        progress: Progress | None = None,
        allow_conflicts: bool = False,
    ) -> ImportSummary:
        """See :func:`patriline.casework.imports.import_records`."""
        from patriline.casework import imports

        return imports.import_records(
            self,
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
            allow_conflicts=allow_conflicts,
        )

    def import_encoded(
        self,
        read: EncodedRead,
        *,
        file_hash: str | None = None,
        lenient: bool = False,
        rejects: str | Path | None = None,
        category: str | None = None,
        progress: Progress | None = None,
        allow_conflicts: bool = False,
    ) -> ImportSummary:
        """See :func:`patriline.casework.imports.import_encoded`."""
        from patriline.casework import imports

        return imports.import_encoded(
            self,
            read,
            file_hash=file_hash,
            lenient=lenient,
            rejects=rejects,
            category=category,
            progress=progress,
            allow_conflicts=allow_conflicts,
        )

    def import_file(
        self,
        path: str | Path,
        *,
        format: str | None = None,
        lenient: bool = False,
        rejects: str | Path | None = None,
        category: str | None = None,
        progress: Progress | None = None,
        allow_conflicts: bool = False,
    ) -> ImportSummary:
        """See :func:`patriline.casework.imports.import_file`."""
        from patriline.casework import imports

        return imports.import_file(
            self,
            path,
            format=format,
            lenient=lenient,
            rejects=rejects,
            category=category,
            progress=progress,
            allow_conflicts=allow_conflicts,
        )

    def insert_links(
        self, links: Iterable[Any], *, source: str, file_hash: str | None = None
    ) -> dict[str, int]:
        from patriline.casework import (
            links as linking,
        )

        return linking.insert_links(self, links, source=source, file_hash=file_hash)

    def import_links(
        self, path: str | Path, *, format: str | None = None, lenient: bool = False
    ) -> tuple[LinkReadResult, dict[str, int]]:
        from patriline.casework import (
            links as linking,
        )

        return linking.import_links(self, path, format=format, lenient=lenient)

    def set_identity(self, person: str, data: dict[str, Any], key: str | bytes) -> None:
        from patriline.casework import (
            identities,
        )

        identities.set_identity(self, person, data, key)

    def import_identities(
        self, path: str | Path, key: str | bytes, *, lenient: bool = False
    ) -> IdentityImport:
        from patriline.casework import (
            identities,
        )

        return identities.import_identities(self, path, key, lenient=lenient)

    def identity(self, case: str | Case, person: str, key: str | bytes) -> dict[str, Any]:
        from patriline.casework import (
            identities,
        )

        return identities.identity(self, case, person, key)

    def register_identity_key(self, key: str | bytes) -> str:
        from patriline.casework import (
            identities,
        )

        return identities.register_identity_key(self, key)

    def grant_identity_key(self, user: str, key: str | bytes) -> None:
        from patriline.casework import (
            identities,
        )

        identities.grant_identity_key(self, user, key)

    def revoke_identity_key(self, user: str) -> None:
        from patriline.casework import (
            identities,
        )

        identities.revoke_identity_key(self, user)

    def expunge(self, specimen: str, reason: str) -> ExpungeReport:
        from patriline.casework import expunge

        return expunge.expunge(self, specimen, reason)

    def apply_retention(self, today: date | str | None = None) -> list[ExpungeReport]:
        from patriline.casework import expunge

        return expunge.apply_retention(self, today)

    def retention_due(self, today: date | str | None = None) -> list[str]:
        from patriline.casework import expunge

        return expunge.retention_due(self, today)

    # ------------------------------------------------------------------ engine use cases
    # searching, expansion, statistics against the store, reports: thin methods
    # delegating to casework.searching, .expansion, .statistics and .reports. The
    # engines are imported on first use (a session for a store-side use case does not
    # load them), so defaults are spelled out here; tests/test_casework_engines.py
    # checks that they are the use cases' own.
    def search(
        self,
        case: str,
        query: Haplotype | str,
        *,
        max_mismatches: int | None = None,
        max_steps: int | None = None,
        min_loci: int = 9,
        top: int = 20,
        explain: bool = False,
        model: StepwiseModel | None = None,
        reference_model: Any = None,
    ) -> SearchResult:
        """Search for the paternal relatives of a trace: :func:`.searching.search`."""
        from patriline.casework import searching

        return searching.search(
            self, case, query, max_mismatches=max_mismatches, max_steps=max_steps,
            min_loci=min_loci, top=top, explain=explain, model=model,
            reference_model=reference_model,
        )  # fmt: skip

    def search_many(
        self,
        case: str,
        queries: Sequence[Haplotype | str],
        *,
        max_mismatches: int | None = None,
        max_steps: int | None = None,
        min_loci: int = 9,
        top: int = 20,
        explain: bool = False,
        model: StepwiseModel | None = None,
        reference_model: Any = None,
    ) -> list[SearchResult]:
        """Search for many traces: :func:`.searching.search_many`."""
        from patriline.casework import searching

        return searching.search_many(
            self, case, queries, max_mismatches=max_mismatches, max_steps=max_steps,
            min_loci=min_loci, top=top, explain=explain, model=model,
            reference_model=reference_model,
        )  # fmt: skip

    def pairs(self, case: str, *, max_mismatches: int = 2, min_loci: int = 9) -> PairResult:
        """Exact duplicates only (``max_mismatches=0``; an admin in a quality_control
        case); a bulk pair list is refused: :func:`.searching.pairs`."""
        from patriline.casework import searching

        return searching.pairs(self, case, max_mismatches=max_mismatches, min_loci=min_loci)

    def open_index(self, *, rebuild: bool = False) -> SearchIndex:
        """The store's search index, synchronised: :func:`.searching.open_index`."""
        from patriline.casework import searching

        return searching.open_index(self, rebuild=rebuild)

    def purge_index(self) -> None:
        """Expunged profiles leave the index files now: :func:`.searching.purge_index`."""
        from patriline.casework import searching

        searching.purge_index(self)

    def expand(
        self,
        case: str,
        specimen: str | Sequence[str],
        *,
        generations: int = 5,
        trace: Haplotype | None = None,
        config: DonorConfig | None = None,
        reason: str | None = None,
    ) -> Expansion:
        """Expand hits into their paternal trees: :func:`.expansion.expand`."""
        from patriline.casework import expansion

        return expansion.expand(
            self, case, specimen, generations=generations, trace=trace, config=config,
            reason=reason,
        )  # fmt: skip

    def expand_top_hits(
        self,
        case: str,
        trace: Haplotype,
        *,
        max_mismatches: int = 3,
        generations: int = 5,
        cap: int = 10,
        tolerance: float = 1e-9,
        config: DonorConfig | None = None,
    ) -> tuple[TopHits, Expansion]:
        """Search, then expand every hit tied at the top: :func:`.expansion.expand_top_hits`."""
        from patriline.casework import expansion

        return expansion.expand_top_hits(
            self, case, trace, max_mismatches=max_mismatches, generations=generations,
            cap=cap, tolerance=tolerance, config=config,
        )  # fmt: skip

    def reference(
        self,
        *,
        case: str | None = None,
        purpose: str = "fit",
        exclude: Sequence[str] = (),
        excluded_because: str = "",
    ) -> ReferenceSet:
        """The store as a reference population: :func:`.statistics.reference`."""
        from patriline.casework import statistics

        return statistics.reference(
            self, case=case, purpose=purpose, exclude=exclude, excluded_because=excluded_because
        )

    def fit(
        self,
        *,
        case: str | None = None,
        loci: Sequence[str] | None = None,
        clusters: Sequence[int] = range(1, 7),
        config: FitConfig | None = None,
    ) -> FitSelection:
        """dlmix fits to the store's profiles: :func:`.statistics.fit`."""
        from patriline.casework import statistics

        return statistics.fit(self, case=case, loci=loci, clusters=clusters, config=config)

    def frequency(
        self,
        query: Haplotype,
        *,
        case: str | None = None,
        model: DLMixFit | None = None,
        methods: Sequence[str] = ("counting", "kappa", "dlmix"),
        level: float = 0.95,
        fit_clusters: Sequence[int] = range(1, 7),
        population: Any = None,
        kit: str | None = None,
    ) -> dict[str, Any]:
        """A profile's frequency against the store: :func:`.statistics.frequency`."""
        from patriline.casework import statistics

        return statistics.frequency(
            self, query, case=case, model=model, methods=methods, level=level,
            fit_clusters=fit_clusters, population=population, kit=kit,
        )  # fmt: skip

    def exposure(self, kit: str, country: Population) -> ExposureReport:
        """The store's exposure report: :func:`.statistics.exposure`."""
        from patriline.casework import statistics

        return statistics.exposure(self, kit, country)

    def report(self, request: ReportRequest) -> dict[str, Any]:
        """The case report's content, checked and audited: :func:`.reports.report`."""
        from patriline.casework import reports

        return reports.report(self, request)

    def write_report(self, request: ReportRequest, out: str | Path) -> Path:
        """Build, render and write the case report: :func:`.reports.write_report`."""
        from patriline.casework import reports

        return reports.write_report(self, request, out)
