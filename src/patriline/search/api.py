"""Lineage search against a store: access, index, ranking, final filter and audit.

``search(db, actor, case, query, ...)`` is what ``Database.search`` delegates to:

1. access — an exact query needs ``search_exact`` in the case; any near-match
   (familial) query, ``max_mismatches > 0`` or ``max_steps > 0``, needs
   ``search_familial`` and a live approval of the case, by a supervisor who did not
   open it, naming the trace and covering the bounds (one use of it); the limits of
   ``reference/data/search_policy.toml`` hold for every search;
2. the :class:`~patriline.search.index.SearchIndex` kept beside the store is opened
   (built on first use) and brought up to date from the store's change feed;
3. hits are ranked (:mod:`patriline.search.rank`), anything the store no longer holds
   as active (expunged, inactive) is dropped, and the ``top`` best are returned;
4. one audit entry records the parameters and the result counts.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from patriline import __version__
from patriline.errors import InputError, NotFound
from patriline.haplotype import Haplotype, compare, parse_haplotype_string
from patriline.provenance import document as provenance_document
from patriline.search._index_files import IndexCorruptError, current_generation, remove_stale
from patriline.search.index import DEFAULT_MIN_LOCI, Hits, SearchIndex
from patriline.search.rank import Ranked, loci_warning, rank
from patriline.stats.allele_model import default_allele_model
from patriline.stats.mutation import StepwiseModel

__all__ = [
    "PairResult",
    "SearchResult",
    "index_dir",
    "open_index",
    "pairs",
    "pairs_digest",
    "purge_index",
    "search",
    "search_many",
    "trace_digest",
]

#: Rebuild the index when the unindexed delta exceeds this share of the indexed rows.
REBUILD_SHARE = 0.10
_OPEN: dict[str, SearchIndex] = {}


@dataclass(frozen=True)
class SearchResult:
    """The answer to one query: ranked candidates, counts and provenance."""

    query: dict[str, Any]
    candidates: list[Ranked]
    total: int
    provenance: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "candidates": [c.to_dict() for c in self.candidates],
            "total": self.total,
            "warnings": self.warnings,
            "provenance": self.provenance,
        }

    def __post_init__(self) -> None:
        # The query's bounds are the parameters of its provenance document.
        if "parameters" in self.provenance:
            self.provenance["parameters"].update(self.query)


@dataclass(frozen=True)
class PairResult:
    """All-vs-all pairs within the bounds."""

    pairs: list[dict[str, Any]]
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"pairs": self.pairs, "provenance": self.provenance}


# ------------------------------------------------------------------------ the index
def index_dir(db: Any) -> Path:
    """Where the index of ``db`` lives: beside a SQLite file, else under a cache folder.

    ``PATRILINE_INDEX_DIR`` overrides the parent folder for server databases.
    The folder is created 0700 and its files 0600 (whatever the umask) when saved.
    """
    if getattr(db, "dialect", None) == "sqlite":
        path = db.engine.url.database
        if path and path != ":memory:":
            return Path(path + ".search")
    digest = hashlib.sha256(str(db.engine.url.render_as_string(hide_password=True)).encode())
    base = Path(os.environ.get("PATRILINE_INDEX_DIR") or Path.home() / ".cache" / "patriline")
    return base / f"search-{digest.hexdigest()[:16]}"


def _build(db: Any, root: Path) -> SearchIndex:
    seq = db.change_seq()
    ids, encoded = db.encoded()
    idx = SearchIndex.build(ids, encoded, seq=seq)
    idx.save(root)
    return SearchIndex.open(root)


def _rebuild_limit(idx: SearchIndex) -> float:
    return max(1000, REBUILD_SHARE * idx.values.shape[1])


def open_index(db: Any, *, rebuild: bool = False) -> SearchIndex:
    """The search index of ``db``, built if absent and synchronised with its change feed.

    The index is rebuilt (deterministically, rows sorted by specimen ID) when asked,
    when its files do not form one consistent generation (torn save, tampering: see
    :mod:`patriline.search._index_files`), when its layout differs from the store's,
    when it holds a removed (expunged) row, or when the additions since it was saved
    exceed ``REBUILD_SHARE`` of it — decided from the change feed before any haplotype
    is read; a smaller delta is read in one batched query.
    """
    root = index_dir(db)
    root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):
        idx = None if rebuild else _OPEN.get(str(root))
        if idx is not None and _on_disk(root) != idx.generation:
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


def purge_index(db: Any) -> None:
    """Bring the index kept beside ``db`` (if one exists) up to date, so that expunged
    profiles leave its files now, not at the next search (called after expungement).
    Every older generation (and any torn save) is removed with them."""
    root = index_dir(db)
    if root.exists():
        open_index(db)


def _on_disk(root: Path) -> str | None:
    return current_generation(root)


# ------------------------------------------------------------------------ queries
def _actor(db: Any, actor: Any) -> Any:
    return db.actor(actor) if isinstance(actor, str) else actor


def _parse_query(query: Haplotype | str) -> Haplotype:
    if isinstance(query, Haplotype):
        return query
    try:
        return parse_haplotype_string(query)
    except (ValueError, KeyError) as exc:
        raise InputError(f"query haplotype: {exc}") from None


def _bounds(max_mismatches: int | None, max_steps: int | None) -> tuple[int | None, int | None]:
    """Default: exact (0 mismatches) unless a step bound is given, then no mismatch bound."""
    if max_mismatches is None and max_steps is None:
        return 0, None
    for name, v in (("max_mismatches", max_mismatches), ("max_steps", max_steps)):
        if v is not None and v < 0:
            raise InputError(f"{name} must not be negative (got {v})")
    return max_mismatches, max_steps


def _active(db: Any, specimens: Sequence[str]) -> set[str]:
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


def trace_digest(trace: Haplotype) -> str:
    """SHA-256 of the trace's canonical text: how audit entries name a trace (an entry
    never holds the profile itself)."""
    return hashlib.sha256(str(trace).encode()).hexdigest()


def _provenance(
    idx: SearchIndex, plan: str, checked: int, model: StepwiseModel | None, reference_model: Any
) -> dict[str, Any]:
    # The one provenance document (patriline.provenance); SearchResult adds the query
    # bounds to its parameters. The ranking models describe themselves.
    return provenance_document(
        "search",
        {"engine": plan},
        inputs={
            "store_change_seq": idx.seq,
            "index": {
                "rows": idx.n_rows,
                "active": idx.n_active,
                "change_seq": idx.seq,
                "index_kit": idx.manifest.get("index_kit"),
            },
        },
        models={
            "mutation": (model or StepwiseModel()).describe(),
            "population": default_allele_model().describe(),
            "reference": _describe_reference(reference_model),
        },
    ) | {"engine": plan, "candidates_checked": checked}


def _describe_reference(reference_model: Any) -> dict[str, Any] | None:
    """The population model behind likelihood ratios, as recorded (None: no LR asked)."""
    if reference_model is None:
        return None
    if isinstance(reference_model, int | float):
        return {"kind": "stated trace frequency", "value": float(reference_model)}
    out: dict[str, Any] = {"kind": type(reference_model).__name__}
    for name in ("source", "size", "clusters", "n_observations"):
        value = getattr(reference_model, name, None)
        if isinstance(value, str | int | float):
            out[name] = value
    return out


def _disagreeing(
    db: Any, trace: Haplotype, hits: Hits, mm: int | None, ms: int | None, min_loci: int
) -> list[str]:
    """Hits whose stored (canonical) profile, read in one batch, does not give the
    counts the index reported, or is not within the bounds (expunged ones are absent
    and dropped later as inactive)."""
    if not hits.ids:
        return []
    stored = db.haplotypes_of(hits.ids)
    bad = []
    for i, s in enumerate(hits.ids):
        h = stored.get(s)
        if h is None:
            continue
        c = compare(trace, h)
        got = (c.loci_compared, c.mismatches, c.steps)
        if got != (int(hits.compared[i]), int(hits.mismatches[i]), int(hits.steps[i])) or not (
            c.loci_compared >= min_loci
            and (mm is None or c.mismatches <= mm)
            and (ms is None or c.steps <= ms)
        ):
            bad.append(s)
    return bad


def _search_one(
    db: Any,
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
    hits = idx.query(trace, max_mismatches=mm, max_steps=ms, min_loci=min_loci)
    if _disagreeing(db, trace, hits, mm, ms, min_loci):
        # The index does not hold what the store holds: never name a man from it.
        idx = open_index(db, rebuild=True)
        hits = idx.query(trace, max_mismatches=mm, max_steps=ms, min_loci=min_loci)
        bad = _disagreeing(db, trace, hits, mm, ms, min_loci)
        if bad:
            raise IndexCorruptError(
                f"search index {index_dir(db)}: hit {bad[0]!r} disagrees with the store's "
                "profile even after a rebuild; no result returned"
            )
    active = _active(db, hits.ids)
    kept = [s for s in hits.ids if s in active]
    ranked = rank(
        trace,
        [(s, idx.haplotype(s)) for s in kept],
        model=model,
        with_explain=explain,
        reference_model=reference_model,
    )
    query = {
        "haplotype": str(trace),
        "max_mismatches": mm,
        "max_steps": ms,
        "min_loci": min_loci,
        "top": top,
    }
    return SearchResult(
        query,
        ranked[:top],
        len(ranked),
        _provenance(idx, hits.plan, hits.candidates_checked, model, reference_model),
        [w for w in [loci_warning(ranked[:top])] if w],
    )


def search(
    db: Any,
    actor: Any,
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
    db, actor, case
        The store, the acting user (name or ``Actor``) and the case searched in.
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
        db, actor, case, [query], max_mismatches=max_mismatches, max_steps=max_steps,
        min_loci=min_loci, top=top, explain=explain, model=model, reference_model=reference_model,
    )[0]  # fmt: skip


def search_many(
    db: Any,
    actor: Any,
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
    mm, ms = _bounds(max_mismatches, max_steps)
    if min_loci < 0 or top < 1:
        raise InputError("min_loci must not be negative and top must be at least 1")
    _check_limits(policy, min_loci, top)
    traces = [_parse_query(q) for q in queries]
    familial = (mm or 0) > 0 or (ms or 0) > 0
    action = "search_familial" if familial else "search_exact"
    who = _actor(db, actor)
    loaded = db.authorize(who, action, case)
    for i, trace in enumerate(traces):
        typed = typed_copies(trace)
        floor = policy.trace_floor(trace.kit)
        if typed < floor:
            label = f"trace {i + 1}" if len(traces) > 1 else "the trace"
            raise db.refuse(
                who, action, case,
                f"{label} has {typed} locus copies typed ({', '.join(trace.loci) or 'none'}); "
                f"a search needs at least {floor} ({policy.floor_source}"
                f"{'; kit ' + trace.kit if trace.kit else ''}; search_policy.toml)",
                trace_sha256=trace_digest(trace),
            )  # fmt: skip
    approval_ids: list[int | None] = [None] * len(traces)
    if familial:
        approval_ids = [
            db.use_approval(
                who,
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
            raise db.refuse(
                who, action, loaded.id if loaded else case,
                f"exact search refused: {res.total} stored profiles match the trace, more "
                f"than the cap of {policy.max_exact_hits} (search_policy.toml); the trace "
                "is too weak to single out a lineage — type more loci",
                hits=res.total, **params,
            )  # fmt: skip
        db.audit(
            who,
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


def typed_copies(trace: Haplotype) -> int:
    """Locus copies typed in ``trace``, counted as a comparison counts them."""
    from patriline.haplotype import compare

    return compare(trace, trace).loci_compared


def _check_limits(policy: Any, min_loci: int, top: int | None) -> None:
    if min_loci < policy.loci_floor:
        raise InputError(
            f"min_loci {min_loci} is below the floor of {policy.loci_floor} locus copies "
            f"({policy.floor_source}; search_policy.toml)"
        )
    if top is not None and top > policy.max_top:
        raise InputError(
            f"top {top} is above the cap of {policy.max_top} candidates (search_policy.toml)"
        )


def pairs_digest(rows: Sequence[dict[str, Any]]) -> str:
    """SHA-256 of the pair list as canonical JSON (sorted pairs, sorted keys): the
    ``pairs_sha256`` of the audit entry, so a kept result can be matched to its entry."""
    ordered = sorted(rows, key=lambda r: (r["a"], r["b"]))
    text = json.dumps(ordered, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def pairs(
    db: Any,
    actor: Any,
    case: str,
    *,
    max_mismatches: int = 2,
    min_loci: int = DEFAULT_MIN_LOCI,
) -> PairResult:
    """All pairs of active specimens within ``max_mismatches`` (lineage clustering).

    A familial operation over the whole registry: the case needs a live approval of
    kind ``pairs`` covering ``max_mismatches`` and ``min_loci`` (one use). Audited.
    """
    from patriline.reference.policy import search_policy

    if max_mismatches < 0 or min_loci < 0:
        raise InputError("max_mismatches and min_loci must not be negative")
    _check_limits(search_policy(), min_loci, None)
    who = _actor(db, actor)
    db.authorize(who, "search_familial", case)
    approval = db.use_approval(
        who, case, kind="pairs", trace_sha256=None, max_mismatches=max_mismatches,
        max_steps=None, min_loci=min_loci,
    )  # fmt: skip
    idx = open_index(db)
    found = idx.pairs(max_mismatches=max_mismatches, min_loci=min_loci)
    active = _active(db, sorted(set(found.a) | set(found.b)))
    rows: list[dict[str, Any]] = [
        {"a": a, "b": b, "loci_compared": int(c), "mismatches": int(m), "steps": int(s)}
        for a, b, c, m, s in zip(
            found.a, found.b, found.compared, found.mismatches, found.steps, strict=True
        )
        if a in active and b in active
    ]
    prov = {
        "software": f"patriline {__version__}",
        "engine": "pigeonhole pairs",
        "max_mismatches": max_mismatches,
        "min_loci": min_loci,
        "index": {"rows": idx.n_rows, "active": idx.n_active, "change_seq": idx.seq},
    }
    db.audit(
        who,
        "search_familial",
        case=case,
        params={
            "pairs": True,
            "max_mismatches": max_mismatches,
            "min_loci": min_loci,
            "approval": approval,
        },
        result={
            "pairs": len(rows),
            # Who was exposed, and a digest an auditor can match against a kept result.
            "returned": sorted({r["a"] for r in rows} | {r["b"] for r in rows}),
            "pairs_sha256": pairs_digest(rows),
        },
    )
    return PairResult(rows, prov)
