"""Lineage search against a store: access, the index kept beside it, hit checks, audit.

The engine (:mod:`patriline.search`) computes on plain data: the index, ranking, the
bounds and limits. This use case holds what needs the store and the user:

1. access — an exact query needs ``search_exact`` in the case; any near-match
   (familial) query, ``max_mismatches > 0`` or ``max_steps > 0``, needs
   ``search_familial`` and a live approval of the case, by a supervisor who did not
   open it, naming the trace and covering the bounds (one use of it); the limits of
   ``reference/data/search_policy.toml`` hold for every search;
2. the :class:`~patriline.search.index.SearchIndex` kept beside the store is opened
   (built on first use) and brought up to date from the store's change feed
   (:func:`open_index`);
3. hits are checked against the store's canonical profiles, ranked
   (:mod:`patriline.search.rank`), anything the store no longer holds as active
   (expunged, inactive) is dropped, and the ``top`` best are returned;
4. one audit entry records the parameters and the result counts (never the trace).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from patriline.errors import AccessDenied, InputError, NotFound
from patriline.haplotype import Haplotype
from patriline.search._index_files import IndexCorruptError, current_generation, remove_stale
from patriline.search.api import (
    PairResult,
    SearchResult,
    check_limits,
    disagreeing,
    parse_bounds,
    parse_query,
    search_result,
    trace_digest,
    typed_copies,
)
from patriline.search.index import DEFAULT_MIN_LOCI, Hits, SearchIndex
from patriline.search.rank import rank
from patriline.stats.mutation import StepwiseModel
from patriline.store import Database

if TYPE_CHECKING:
    from patriline.casework.session import Session

__all__ = [
    "REBUILD_SHARE",
    "index_dir",
    "open_index",
    "pairs",
    "purge_index",
    "search",
    "search_many",
]

#: Rebuild the index when the unindexed delta exceeds this share of the indexed rows.
REBUILD_SHARE = 0.10
_OPEN: dict[str, SearchIndex] = {}


def _store(session_or_store: Session | Database) -> Database:
    return session_or_store if isinstance(session_or_store, Database) else session_or_store.store


def refuse(
    session: Session, action: str, case: str | None, reason: str, **result: Any
) -> AccessDenied:
    """Audit a refusal (``access_denied``) of the session's user; the error to raise."""
    return session.refuse(action, case, reason, **result)


# ------------------------------------------------------------------------ the index
def index_dir(session_or_store: Session | Database) -> Path:
    """Where the index of a store lives: beside a SQLite file, else under a cache folder.

    ``PATRILINE_INDEX_DIR`` overrides the parent folder for server databases.
    The folder is created 0700 and its files 0600 (whatever the umask) when saved.
    """
    db = _store(session_or_store)
    if db.dialect == "sqlite":
        path = db.engine.url.database
        if path and path != ":memory:":
            return Path(path + ".search")
    digest = hashlib.sha256(str(db.engine.url.render_as_string(hide_password=True)).encode())
    base = Path(os.environ.get("PATRILINE_INDEX_DIR") or Path.home() / ".cache" / "patriline")
    return base / f"search-{digest.hexdigest()[:16]}"


def _build(db: Database, root: Path) -> SearchIndex:
    seq = db.change_seq()
    ids, encoded = db.encoded()
    idx = SearchIndex.build(ids, encoded, seq=seq)
    idx.save(root)
    return SearchIndex.open(root)


def _rebuild_limit(idx: SearchIndex) -> float:
    return max(1000, REBUILD_SHARE * idx.values.shape[1])


def open_index(session_or_store: Session | Database, *, rebuild: bool = False) -> SearchIndex:
    """The search index of a store, built if absent and synchronised with its change feed.

    The index is rebuilt (deterministically, rows sorted by specimen ID) when asked,
    when its files do not form one consistent generation (torn save, tampering: see
    :mod:`patriline.search._index_files`), when its layout differs from the store's,
    when it holds a removed (expunged) row, or when the additions since it was saved
    exceed ``REBUILD_SHARE`` of it — decided from the change feed before any haplotype
    is read; a smaller delta is read in one batched query.
    """
    db = _store(session_or_store)
    root = index_dir(db)
    root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):
        idx = None if rebuild else _OPEN.get(str(root))
        if idx is not None and current_generation(root) != idx.generation:
            idx = None  # another process saved a new generation: read its files
        if idx is None and not rebuild and current_generation(root) is not None:
            try:
                idx = SearchIndex.open(root)
            except IndexCorruptError:
                idx = None  # rebuilt from the store below
        if idx is not None and idx.layout.columns != db.layout.columns:
            idx = None
        changes = None
        if idx is not None and idx.seq <= db.change_seq():
            changes = db.changes_since(idx.seq)
            added = {s for _q, s, op in changes if op == "add"}
            if len(added) + idx.delta_values.shape[1] > _rebuild_limit(idx):
                idx = None  # a large delta: rebuild at once, not row by row
        if idx is None or idx.seq > db.change_seq():
            idx = _build(db, root)
        elif idx.sync(db, changes) or idx.n_active < idx.n_rows:
            if idx.n_active < idx.n_rows or idx.delta_values.shape[1] > _rebuild_limit(idx):
                # Expunged rows are only masked by a sync: rebuild so that their profiles
                # and IDs leave the index files (docs/safeguards.md).
                idx = _build(db, root)
            else:
                idx.save(root)
        _OPEN[str(root)] = idx
        # A save killed before its clean-up leaves an older generation (which may hold
        # expunged profiles) or a torn one: remove it now.
        remove_stale(root, keep=idx.generation)
        return idx


def purge_index(session_or_store: Session | Database) -> None:
    """Bring the index kept beside the store (if one exists) up to date, so that expunged
    profiles leave its files now, not at the next search (called after expungement).
    Every older generation (and any torn save) is removed with them."""
    if index_dir(session_or_store).exists():
        open_index(session_or_store)


# ------------------------------------------------------------------------ queries
def _active(db: Database, specimens: Sequence[str]) -> set[str]:
    if len(specimens) > 500:
        return set(specimens) & set(db.active_specimens())
    out = set()
    for s in specimens:
        try:
            if db.specimen_info(s).active:
                out.add(s)
        except NotFound:
            continue
    return out


def _checked_hits(
    db: Database,
    idx: SearchIndex,
    trace: Haplotype,
    mm: int | None,
    ms: int | None,
    min_loci: int,
) -> tuple[SearchIndex, Hits]:
    """The index's hits, re-checked against the store's canonical profiles (one batched
    read); a disagreement rebuilds the index, and one left after it is refused."""
    hits = idx.query(trace, max_mismatches=mm, max_steps=ms, min_loci=min_loci)
    if disagreeing(trace, hits, db.haplotypes_of(hits.ids), mm, ms, min_loci):
        # The index does not hold what the store holds: never name a man from it.
        idx = open_index(db, rebuild=True)
        hits = idx.query(trace, max_mismatches=mm, max_steps=ms, min_loci=min_loci)
        bad = disagreeing(trace, hits, db.haplotypes_of(hits.ids), mm, ms, min_loci)
        if bad:
            raise IndexCorruptError(
                f"search index {index_dir(db)}: hit {bad[0]!r} disagrees with the store's "
                "profile even after a rebuild; no result returned"
            )
    return idx, hits


def _search_one(
    db: Database,
    idx: SearchIndex,
    trace: Haplotype,
    mm: int | None,
    ms: int | None,
    min_loci: int,
    top: int,
    explain: bool,
    model: StepwiseModel | None,
    reference_model: Any,
) -> SearchResult:
    idx, hits = _checked_hits(db, idx, trace, mm, ms, min_loci)
    active = _active(db, hits.ids)
    kept = [s for s in hits.ids if s in active]
    ranked = rank(
        trace,
        [(s, idx.haplotype(s)) for s in kept],
        model=model,
        with_explain=explain,
        reference_model=reference_model,
    )
    return search_result(idx, hits, trace, ranked, mm, ms, min_loci, top, model, reference_model)


def search(
    session: Session,
    case: str,
    query: Haplotype | str,
    *,
    max_mismatches: int | None = None,
    max_steps: int | None = None,
    min_loci: int = DEFAULT_MIN_LOCI,
    top: int = 20,
    explain: bool = False,
    model: StepwiseModel | None = None,
    reference_model: Any = None,
) -> SearchResult:
    """Search the store for the paternal relatives of one trace, ranked.

    Parameters
    ----------
    session, case
        The store with the acting user, and the case searched in.
    query
        The trace: a :class:`Haplotype` or ``"DYS19=14,DYS389I=13,…"``.
    max_mismatches, max_steps
        Bounds on mismatching locus copies and total repeat steps. Both ``None``: an
        exact search. Only ``max_steps`` given: no bound on mismatches.
    min_loci
        Fewest locus copies compared for a hit.
    top
        Candidates returned (``total`` counts all hits).
    explain
        Add the per-locus comparison to every candidate.
    model, reference_model
        The stepwise model used for ranking; a population model or trace frequency
        for likelihood ratios (optional; see :mod:`patriline.search.rank`).
    """
    return search_many(
        session, case, [query], max_mismatches=max_mismatches, max_steps=max_steps,
        min_loci=min_loci, top=top, explain=explain, model=model, reference_model=reference_model,
    )[0]  # fmt: skip


def search_many(
    session: Session,
    case: str,
    queries: Sequence[Haplotype | str],
    *,
    max_mismatches: int | None = None,
    max_steps: int | None = None,
    min_loci: int = DEFAULT_MIN_LOCI,
    top: int = 20,
    explain: bool = False,
    model: StepwiseModel | None = None,
    reference_model: Any = None,
) -> list[SearchResult]:
    """:func:`search` for many traces (one access check, one audit entry per trace).

    Limits (``reference/data/search_policy.toml``): ``min_loci`` and ``top`` within the
    policy; every trace typed at the kit's floor of locus copies; an exact search with
    more hits than the cap is refused; a familial search uses one search of a live
    approval of the case that names the trace and covers the bounds.
    """
    from patriline.reference.policy import search_policy

    policy = search_policy()
    mm, ms = parse_bounds(max_mismatches, max_steps)
    if min_loci < 0 or top < 1:
        raise InputError("min_loci must not be negative and top must be at least 1")
    check_limits(policy, min_loci, top)
    traces = [parse_query(q) for q in queries]
    familial = (mm or 0) > 0 or (ms or 0) > 0
    action = "search_familial" if familial else "search_exact"
    db = session.store
    loaded = session.authorize(action, case)
    for i, trace in enumerate(traces):
        typed = typed_copies(trace)
        floor = policy.trace_floor(trace.kit)
        if typed < floor:
            label = f"trace {i + 1}" if len(traces) > 1 else "the trace"
            raise refuse(
                session, action, case,
                f"{label} has {typed} locus copies typed ({', '.join(trace.loci) or 'none'}); "
                f"a search needs at least {floor} ({policy.floor_source}"
                f"{'; kit ' + trace.kit if trace.kit else ''}; search_policy.toml)",
                trace_sha256=trace_digest(trace),
            )  # fmt: skip
    approval_ids: list[int | None] = [None] * len(traces)
    if familial:
        approval_ids = [
            session.use_approval(
                case,
                kind="search",
                trace_sha256=trace_digest(t),
                max_mismatches=mm,
                max_steps=ms,
                min_loci=min_loci,
            )
            for t in traces
        ]
    idx = open_index(db)
    out = []
    for trace, approval in zip(traces, approval_ids, strict=True):
        res = _search_one(db, idx, trace, mm, ms, min_loci, top, explain, model, reference_model)
        # The audit log holds no genetic data: the trace is named by its digest.
        params = {k: v for k, v in res.query.items() if k != "haplotype"}
        params["trace_sha256"] = trace_digest(trace)
        if approval is not None:
            params["approval"] = approval
        if not familial and res.total > policy.max_exact_hits:
            raise refuse(
                session, action, loaded.id if loaded else case,
                f"exact search refused: {res.total} stored profiles match the trace, more "
                f"than the cap of {policy.max_exact_hits} (search_policy.toml); the trace "
                "is too weak to single out a lineage — type more loci",
                hits=res.total, **params,
            )  # fmt: skip
        session.audit(
            action,
            case=case,
            params=params,
            result={
                "hits": res.total,
                "returned": [c.specimen for c in res.candidates],
                "engine": res.provenance["engine"],
            },
        )
        out.append(res)
    return out


def pairs(
    session: Session,
    case: str,
    *,
    max_mismatches: int = 2,
    min_loci: int = DEFAULT_MIN_LOCI,
) -> PairResult:
    """Pairs of stored profiles: only the duplicate review (issue 12 item 7).

    A list of all pairs within ``max_mismatches`` is a map of who is related to whom
    across the whole database, which is not a casework product: with
    ``max_mismatches > 0`` it is refused (audited) and the aggregate is
    :func:`patriline.casework.workflow.pairs_summary`; with ``max_mismatches == 0`` it is
    :func:`patriline.casework.workflow.duplicate_pairs` (an admin, in a
    ``quality_control`` case).
    """
    from patriline.casework import workflow

    if max_mismatches < 0 or min_loci < 0:
        raise InputError("max_mismatches and min_loci must not be negative")
    if max_mismatches > 0:
        raise session.refuse(
            "search_familial",
            case,
            "a list of all pairs of stored profiles within "
            f"{max_mismatches} mismatches is a map of who is related to whom and is not "
            "built; the aggregate (cluster sizes, exposure) is pairs_summary, and the list "
            "of exact duplicates (max_mismatches 0) is for an admin in a quality_control case",
            max_mismatches=max_mismatches,
        )
    return workflow.duplicate_pairs(session, case, min_loci=min_loci)
