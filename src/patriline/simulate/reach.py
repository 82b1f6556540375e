"""Reach analysis: how far a database of some share of the living men reaches.

For each kit and database share: the share of trace donors with at least one database
man matching exactly (or within ``k`` mismatching locus copies, counted by the search's
kernel as :func:`patriline.haplotype.compare` counts them: DYS389II on its ``II - I``
segment, so a DYS389I change counts once), the meioses to the closest matching
database man, and the expected number of living men sharing a random man's profile
(Andersen & Balding 2017).

Trace donors are either the living men outside the database (``traces="outside"``,
the oversight question: who can be found through a relative) or any living man
(``traces="all"``: the donor may himself be in the database, at 0 meioses). The second
is the definition of Olsen et al. (2025), whose "match within five meioses" figures
include "the cases where the Y-STR profile originated from the donor".

References
----------
Andersen MM, Balding DJ (2017). How convincing is a matching Y-chromosome profile?
PLoS Genet 13:e1007028.

Olsen TOS, Morling N, Eriksen PS, Kampmann ML, Mogensen HS, Andersen MM (2025).
Probabilities of finding trace profile donors and their paternal relatives in Y-STR
reference databases. Forensic Sci Int Genet 103320.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from patriline.encoding import Layout
from patriline.errors import InputError
from patriline.reference import Catalog, default_catalog
from patriline.search._distance_kernels import LocusTable
from patriline.search._index_build import locus_table
from patriline.simulate._kernels import match_lists, meioses_pairs
from patriline.simulate.population import Population, provenance
from patriline.simulate.sampling import database_sample

#: Who leaves the traces: men outside the database, or any living man.
TRACE_DONORS = ("outside", "all")

__all__ = [
    "TRACE_DONORS",
    "KitView",
    "MatchingMen",
    "ReachResult",
    "ReachRow",
    "haplotype_classes",
    "kit_locus_table",
    "kit_view",
    "matching_men",
    "reach",
]


@dataclass(frozen=True)
class KitView:
    """The columns of a population's layout that a kit types."""

    kit: str
    columns: np.ndarray
    starts: np.ndarray
    copies: np.ndarray


def kit_view(population: Population, kit: str, catalog: Catalog | None = None) -> KitView:
    """Columns of ``kit`` in the population's layout; :class:`InputError` if not simulated."""
    catalog = catalog or default_catalog()
    k = catalog.kit(kit)  # UnknownKitError is an InputError
    layout = population.layout
    missing = [n for n in k.loci if n not in layout.loci]
    if missing:
        raise InputError(
            f"kit {k.id} needs loci the simulation did not type: {', '.join(missing)} "
            "(simulate a kit that covers it)"
        )
    cols: list[int] = []
    starts: list[int] = []
    copies: list[int] = []
    for name in layout.loci:
        if name in k.loci:
            sl = layout.slice_of(name)
            starts.append(len(cols))
            copies.append(sl.stop - sl.start)
            cols.extend(range(sl.start, sl.stop))
    return KitView(k.id, np.array(cols), np.array(starts), np.array(copies))


def kit_locus_table(layout: Layout, view: KitView) -> LocusTable:
    """The search's :class:`LocusTable` of the kit's columns (``view.columns`` of
    ``layout`` taken as one matrix), DYS389I/II included when the kit types both."""
    firsts = set(view.columns[view.starts].tolist())
    names = tuple(n for n in layout.loci if layout.slice_of(n).start in firsts)
    copies = tuple(layout.slice_of(n).stop - layout.slice_of(n).start for n in names)
    return locus_table(Layout(names, copies))


def haplotype_classes(values: np.ndarray, view: KitView) -> np.ndarray:
    """Class id of every row (identical rows on the kit's columns share a class)."""
    rows = np.ascontiguousarray(values[view.columns].T)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, inverse = np.unique(keys, return_inverse=True)
    return inverse.astype(np.int64)


@dataclass
class MatchingMen:
    """Living men sharing a random living man's profile (Andersen & Balding 2017).

    ``mean`` is exact over all living men: ``sum(c^2)/N - 1`` for class sizes ``c``
    (the man himself not counted). ``meioses`` counts, over ``n_samples`` random men,
    their matching men by meioses to them; ``unrelated`` those with no common ancestor
    within the simulated time.
    """

    kit: str
    mean: float
    n_samples: int
    meioses: dict[int, int] = field(default_factory=dict)
    unrelated: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["meioses"] = {str(k): v for k, v in self.meioses.items()}
        return d


def _class_members(inverse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(inverse, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(inverse))])
    return order, indptr


def matching_men(
    population: Population,
    kit: str,
    n_samples: int = 1000,
    seed: int = 0,
    *,
    living_generations: int = 1,
) -> MatchingMen:
    """Expected number of living men sharing a random man's ``kit`` profile, and how far
    they are in meioses (Andersen & Balding 2017).

    ``living_generations`` counts the last generations taken as alive (1: the final one).
    """
    view = kit_view(population, kit)
    living, values = population.alive(living_generations)
    inv = haplotype_classes(values, view)
    counts = np.bincount(inv)
    mean = float((counts.astype(np.float64) ** 2).sum() / len(living) - 1.0)
    rng = np.random.default_rng(seed)
    n_samples = min(n_samples, len(living))
    picks = rng.choice(len(living), n_samples, replace=False)
    order, indptr = _class_members(inv)
    a_parts, b_parts = [], []
    for i in picks.tolist():
        c = inv[i]
        members = order[indptr[c] : indptr[c + 1]]
        members = members[members != i]
        a_parts.append(np.full(len(members), living[i]))
        b_parts.append(living[members])
    a = np.concatenate(a_parts) if a_parts else np.empty(0, np.int64)
    b = np.concatenate(b_parts) if b_parts else np.empty(0, np.int64)
    m = meioses_pairs(population.parent, population.generation_array(), a, b)
    vals, cnt = np.unique(m[m >= 0], return_counts=True)
    return MatchingMen(
        view.kit,
        mean,
        n_samples,
        {int(v): int(c) for v, c in zip(vals, cnt, strict=True)},
        int((m < 0).sum()),
    )


@dataclass(frozen=True)
class ReachRow:
    """One (kit, share) cell of the reach table."""

    kit: str
    share: float
    database_size: int
    max_mismatches: int
    p_match: float
    p_within_5_meioses_given_match: float | None
    mean_matching_men: float
    n_queries: int
    closest_meioses: dict[str, int]


@dataclass
class ReachResult:
    rows: list[ReachRow]
    provenance: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [asdict(r) for r in self.rows], "provenance": self.provenance}

    def table(self) -> str:
        head = f"{'kit':<12} {'share':>7} {'db size':>9} {'P(match)':>9} {'≤5 meioses|match':>17} {'matching men':>13}"
        lines = [head]
        for r in self.rows:
            within = (
                "-"
                if r.p_within_5_meioses_given_match is None
                else f"{r.p_within_5_meioses_given_match:.1%}"
            )
            lines.append(
                f"{r.kit:<12} {r.share:>7.2%} {r.database_size:>9} {r.p_match:>9.1%} "
                f"{within:>17} {r.mean_matching_men:>13.2f}"
            )
        return "\n".join(lines)


def _closest(
    population: Population,
    queries: np.ndarray,
    indptr: np.ndarray,
    idx: np.ndarray,
    db_members: tuple[np.ndarray, np.ndarray],
    db_ids: np.ndarray,
) -> np.ndarray:
    """Meioses to the closest matching database man per query (-1: none within the
    simulated time; -2: no match)."""
    order, mptr = db_members
    a_parts, b_parts, owner = [], [], []
    for q in range(len(queries)):
        hap = idx[indptr[q] : indptr[q + 1]]
        if len(hap) == 0:
            continue
        men = np.concatenate([order[mptr[h] : mptr[h + 1]] for h in hap.tolist()])
        a_parts.append(np.full(len(men), queries[q]))
        b_parts.append(db_ids[men])
        owner.append(np.full(len(men), q))
    out = np.full(len(queries), -2, dtype=np.int64)
    if not a_parts:
        return out
    m = meioses_pairs(
        population.parent,
        population.generation_array(),
        np.concatenate(a_parts),
        np.concatenate(b_parts),
    )
    who = np.concatenate(owner)
    big = np.iinfo(np.int64).max
    best = np.full(len(queries), big, dtype=np.int64)
    np.minimum.at(best, who, np.where(m < 0, big, m))
    has = np.zeros(len(queries), dtype=bool)
    has[who] = True
    out[has] = np.where(best[has] == big, -1, best[has])
    return out


def reach(
    population: Population,
    kits: Sequence[str],
    shares: Sequence[float],
    *,
    max_mismatches: int = 0,
    n_queries: int = 2000,
    concentration: float = 0.0,
    living_generations: int = 1,
    traces: str = "outside",
    seed: int = 0,
) -> ReachResult:
    """Reach of databases of the given shares of living men, for each kit.

    ``p_match`` is exact over all trace donors when ``max_mismatches == 0`` (identical
    rows on the kit's columns), else estimated from ``n_queries`` random donors. Meioses
    to the closest matching database man are always from the ``n_queries`` sample.
    ``living_generations`` counts the last generations taken as alive (1: the final one;
    the malan-based study used 3). ``traces`` says who the donors are: ``"outside"``
    (living men outside the database) or ``"all"`` (any living man; a donor in the
    database matches himself at 0 meioses, as in Olsen et al. 2025).
    """
    if max_mismatches < 0:
        raise InputError(
            f"max_mismatches must not be negative (got {max_mismatches})", field="max_mismatches"
        )
    if traces not in TRACE_DONORS:
        raise InputError(f"traces must be one of {', '.join(TRACE_DONORS)} (got {traces!r})")
    if n_queries < 1:
        raise InputError(f"n_queries must be >= 1 (got {n_queries})")
    for s in shares:
        if not 0.0 < s <= 1.0:
            raise InputError(f"database share must be in (0, 1] (got {s})")
    views = [kit_view(population, k) for k in kits]
    living, values = population.alive(living_generations)
    rows: list[ReachRow] = []
    for view in views:
        loci = kit_locus_table(population.layout, view)
        inv = haplotype_classes(values, view)
        counts = np.bincount(inv)
        mean = float((counts.astype(np.float64) ** 2).sum() / len(living) - 1.0)
        kv = np.ascontiguousarray(values[view.columns].T)
        for si, share in enumerate(shares):
            db_local = database_sample(
                population, share, concentration=concentration, seed=seed + si, among=living
            )
            db = living[db_local]
            in_db = np.zeros(len(living), dtype=bool)
            in_db[db_local] = True
            donors = np.flatnonzero(~in_db) if traces == "outside" else np.arange(len(living))
            rng = np.random.default_rng([seed, si, 7])
            q_local = rng.choice(donors, min(n_queries, len(donors)), replace=False)
            db_inv = inv[db_local]
            uniq, first, db_hap = np.unique(db_inv, return_index=True, return_inverse=True)
            if max_mismatches == 0:  # identical rows: a hash (class) lookup
                pos = np.minimum(np.searchsorted(uniq, inv[q_local]), len(uniq) - 1)
                hit = uniq[pos] == inv[q_local] if len(uniq) else np.zeros(len(q_local), bool)
                indptr = np.concatenate([[0], np.cumsum(hit)]).astype(np.int64)
                idx = pos[hit].astype(np.int64)
            else:
                indptr, idx = match_lists(kv[q_local], kv[db_local[first]], loci, max_mismatches)
            members = _class_members(db_hap.astype(np.int64))
            closest = _closest(population, living[q_local], indptr, idx, members, db)
            matched = closest != -2
            if max_mismatches == 0 and len(donors):
                db_count = np.bincount(db_inv, minlength=len(counts))
                p_match = float((db_count[inv[donors]] > 0).mean())
            else:
                p_match = float(matched.mean()) if len(matched) else 0.0
            within = (
                float(((closest >= 0) & (closest <= 5)).sum() / matched.sum())
                if matched.any()
                else None
            )
            vals, cnt = np.unique(closest[matched], return_counts=True)
            hist = {("none" if v < 0 else str(v)): int(c) for v, c in zip(vals, cnt, strict=True)}
            rows.append(
                ReachRow(
                    view.kit,
                    float(share),
                    len(db),
                    max_mismatches,
                    p_match,
                    within,
                    mean,
                    len(q_local),
                    hist,
                )
            )
    params = {
        "simulation": population.config.to_dict(),
        "kits": [v.kit for v in views],
        "shares": [float(s) for s in shares],
        "max_mismatches": max_mismatches,
        "n_queries": n_queries,
        "concentration": concentration,
        "living_generations": living_generations,
        "traces": traces,
    }
    return ReachResult(rows, provenance("reach", params, seed))
