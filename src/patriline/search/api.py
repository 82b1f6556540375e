"""Search results on plain data: the result types, bounds and limits, the hit check,
provenance and digests.

The store-bound part of a search (access, the index kept beside the store, the hit
check against the store's canonical profiles, audit) is the use case
:mod:`patriline.casework.searching`; this module never reads a store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from patriline.errors import InputError
from patriline.haplotype import Haplotype, compare, parse_haplotype_string
from patriline.provenance import document as provenance_document
from patriline.search.index import Hits, SearchIndex
from patriline.search.rank import Ranked, loci_warning
from patriline.stats.allele_model import default_allele_model
from patriline.stats.mutation import StepwiseModel

__all__ = [
    "PairResult",
    "SearchResult",
    "check_limits",
    "disagreeing",
    "pairs_digest",
    "parse_bounds",
    "parse_query",
    "search_result",
    "trace_digest",
    "typed_copies",
]


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


def parse_query(query: Haplotype | str) -> Haplotype:
    if isinstance(query, Haplotype):
        return query
    try:
        return parse_haplotype_string(query)
    except (ValueError, KeyError) as exc:
        raise InputError(f"query haplotype: {exc}") from None


def parse_bounds(
    max_mismatches: int | None, max_steps: int | None
) -> tuple[int | None, int | None]:
    """Default: exact (0 mismatches) unless a step bound is given, then no mismatch bound."""
    if max_mismatches is None and max_steps is None:
        return 0, None
    for name, v in (("max_mismatches", max_mismatches), ("max_steps", max_steps)):
        if v is not None and v < 0:
            raise InputError(f"{name} must not be negative (got {v})")
    return max_mismatches, max_steps


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


def disagreeing(
    trace: Haplotype,
    hits: Hits,
    stored: Mapping[str, Haplotype],
    mm: int | None,
    ms: int | None,
    min_loci: int,
) -> list[str]:
    """Hits whose ``stored`` (canonical) profile does not give the counts the index
    reported, or is not within the bounds (a hit absent from ``stored`` — expunged — is
    not counted here: it is dropped later as inactive)."""
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


def search_result(
    idx: SearchIndex,
    hits: Hits,
    trace: Haplotype,
    ranked: list[Ranked],
    mm: int | None,
    ms: int | None,
    min_loci: int,
    top: int,
    model: StepwiseModel | None,
    reference_model: Any,
) -> SearchResult:
    """The :class:`SearchResult` of ranked hits: the ``top`` best, the query, the
    provenance and the warnings."""
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


def typed_copies(trace: Haplotype) -> int:
    """Locus copies typed in ``trace``, counted as a comparison counts them."""
    return compare(trace, trace).loci_compared


def check_limits(policy: Any, min_loci: int, top: int | None) -> None:
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
