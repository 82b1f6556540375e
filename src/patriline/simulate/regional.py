"""Reach by region: each region sampled at its own rate, the share of men findable.

The database holds, in every region ``r``, ``round(share_r * N_r)`` of its living men
(uniformly drawn; ``--shares-file region,share``). Trace donors are, per region, the
living men outside the database (or every living man, ``traces="all"``). For each
region and kit:

* ``p_match`` — share of the region's donors with at least one database man (of any
  region) matching exactly: exact over all donors when ``max_mismatches == 0``,
  else from ``n_queries`` sampled donors;
* ``p_within_k`` — share of donors whose closest matching database man is a relative
  within ``k`` meioses (the men *findable through a relative*): ``p_match`` times the
  share within ``k`` among the sampled donors with a match;
* ``mean_matching_men`` — expected number of other living men of the country sharing
  the profile of a random man of the region (Andersen & Balding 2017).

Rows for every region, every province (regions' ``parent``) and the whole country
(weighted by donors) are given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from patriline.errors import InputError
from patriline.simulate._kernels import match_lists
from patriline.simulate.population import Population, provenance
from patriline.simulate.reach import (
    TRACE_DONORS,
    _class_members,
    _closest,
    haplotype_classes,
    kit_locus_table,
    kit_view,
)

__all__ = ["RegionalReach", "RegionalRow", "regional_database", "regional_reach"]


@dataclass(frozen=True)
class RegionalRow:
    """One (kit, region) cell; ``level`` is ``region``, ``province`` or ``country``."""

    kit: str
    level: str
    region: str
    share: float
    living_men: int
    database_size: int
    donors: int
    p_match: float
    p_within_k: float
    p_within_k_given_match: float | None
    mean_matching_men: float
    n_queries: int
    closest_meioses: dict[str, int]


@dataclass
class RegionalReach:
    rows: list[RegionalRow]
    within: int
    provenance: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "within_meioses": self.within,
            "rows": [asdict(r) for r in self.rows],
            "provenance": self.provenance,
        }

    def table(self) -> str:
        k = self.within
        head = (
            f"{'kit':<12} {'region':<14} {'share':>7} {'living':>10} {'db size':>9} "
            f"{'P(match)':>9} {f'≤{k} meioses':>12} {'matching men':>13}"
        )
        lines = [head]
        for r in self.rows:
            name = r.region if r.level == "region" else f"[{r.region}]"
            lines.append(
                f"{r.kit:<12} {name:<14} {r.share:>7.2%} {r.living_men:>10} "
                f"{r.database_size:>9} {r.p_match:>9.1%} {r.p_within_k:>12.1%} "
                f"{r.mean_matching_men:>13.2f}"
            )
        return "\n".join(lines)


def _share_vector(population: Population, shares: Mapping[str, float] | float) -> np.ndarray:
    names = population.region_names
    if isinstance(shares, Mapping):
        unknown = [r for r in shares if r not in names]
        if unknown:
            raise InputError(f"shares: region {unknown[0]!r} is not in the population")
        vec = np.array([float(shares.get(r, 0.0)) for r in names])
    else:
        vec = np.full(len(names), float(shares))
    bad = [v for v in vec if not 0.0 <= v <= 1.0]
    if bad:
        raise InputError(f"database share must be in [0, 1] (got {bad[0]})")
    return vec


def regional_database(
    population: Population,
    shares: Mapping[str, float] | float,
    *,
    living_generations: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """Positions (into ``population.alive(living_generations)[0]``) of the database men:
    ``round(share_r * N_r)`` drawn uniformly in each region ``r`` (sorted)."""
    vec = _share_vector(population, shares)
    living, _ = population.alive(living_generations)
    region = population.region_of(living)
    picks = []
    for r, share in enumerate(vec.tolist()):
        members = np.flatnonzero(region == r)
        k = round(share * len(members))
        # a panmictic population draws as reach()'s database_sample does (same men)
        rng = np.random.default_rng(seed if population.regions is None else [seed, r, 11])
        picks.append(members[rng.choice(len(members), k, replace=False)])
    return np.sort(np.concatenate(picks)) if picks else np.empty(0, np.int64)


def regional_reach(
    population: Population,
    kits: Sequence[str],
    shares: Mapping[str, float] | float,
    *,
    within: int = 5,
    max_mismatches: int = 0,
    n_queries: int = 1000,
    living_generations: int = 1,
    traces: str = "outside",
    seed: int = 0,
) -> RegionalReach:
    """Reach by region of a database sampled at each region's share (module docstring).

    ``n_queries`` donors are sampled in every region for the meioses. A panmictic
    population counts as one region named ``all``.
    """
    if within < 0:
        raise InputError(f"within (meioses) must be >= 0 (got {within})")
    if max_mismatches < 0:
        raise InputError(f"--max-mismatches must be >= 0 (got {max_mismatches})")
    if traces not in TRACE_DONORS:
        raise InputError(f"traces must be one of {', '.join(TRACE_DONORS)} (got {traces!r})")
    if n_queries < 1:
        raise InputError(f"n_queries must be >= 1 (got {n_queries})")
    vec = _share_vector(population, shares)
    views = [kit_view(population, k) for k in kits]
    living, values = population.alive(living_generations)
    region = population.region_of(living)
    names = population.region_names
    parents = population.regions.parents if population.regions is not None else (None,) * len(names)
    R = len(names)
    db_local = regional_database(
        population, shares, living_generations=living_generations, seed=seed
    )
    in_db = np.zeros(len(living), dtype=bool)
    in_db[db_local] = True
    is_donor = ~in_db if traces == "outside" else np.ones(len(living), dtype=bool)
    rows: list[RegionalRow] = []
    for view in views:
        loci = kit_locus_table(population.layout, view)
        inv = haplotype_classes(values, view)
        counts = np.bincount(inv)
        kv = np.ascontiguousarray(values[view.columns].T)
        db_inv = inv[db_local]
        db_count = np.bincount(db_inv, minlength=len(counts))
        uniq, first, db_hap = np.unique(db_inv, return_index=True, return_inverse=True)
        members = _class_members(db_hap.astype(np.int64))
        per: list[dict[str, Any]] = []
        for r in range(R):
            donors = np.flatnonzero(is_donor & (region == r))
            rng = np.random.default_rng([seed, r, 7])
            q = rng.choice(donors, min(n_queries, len(donors)), replace=False)
            if len(q) == 0 or len(uniq) == 0:
                indptr = np.zeros(len(q) + 1, dtype=np.int64)
                idx = np.empty(0, dtype=np.int64)
            elif max_mismatches == 0:
                pos = np.minimum(np.searchsorted(uniq, inv[q]), len(uniq) - 1)
                hit = uniq[pos] == inv[q]
                indptr = np.concatenate([[0], np.cumsum(hit)]).astype(np.int64)
                idx = pos[hit].astype(np.int64)
            else:
                indptr, idx = match_lists(kv[q], kv[db_local[first]], loci, max_mismatches)
            closest = _closest(population, living[q], indptr, idx, members, living[db_local])
            matched = closest != -2
            if max_mismatches == 0:
                p_match = float((db_count[inv[donors]] > 0).mean()) if len(donors) else 0.0
            else:
                p_match = float(matched.mean()) if len(q) else 0.0
            near = int(((closest >= 0) & (closest <= within)).sum())
            given = near / int(matched.sum()) if matched.any() else None
            men = region == r
            vals, cnt = np.unique(closest[matched], return_counts=True)
            per.append(
                {
                    "share": float(vec[r]),
                    "living": int(men.sum()),
                    "db": int(in_db[men].sum()),
                    "donors": len(donors),
                    "p_match": p_match,
                    "p_within": p_match * (given or 0.0),
                    "given": given,
                    "matching": float((counts[inv[men]] - 1).mean()) if men.any() else 0.0,
                    "queries": len(q),
                    "hist": {
                        ("none" if v < 0 else str(v)): int(c)
                        for v, c in zip(vals, cnt, strict=True)
                    },
                }
            )
        groups: list[tuple[str, str, list[int]]] = [("region", names[r], [r]) for r in range(R)]
        provinces = list(dict.fromkeys(p for p in parents if p))
        groups += [("province", p, [r for r in range(R) if parents[r] == p]) for p in provinces]
        if R > 1:
            groups.append(("country", "country", list(range(R))))
        for level, name, members_r in groups:
            rows.append(_combine(view.kit, level, name, [per[r] for r in members_r]))
    params = {
        "simulation": population.config.to_dict(),
        "regions": list(names),
        "kits": [v.kit for v in views],
        "shares": {n: float(s) for n, s in zip(names, vec, strict=True)},
        "within": within,
        "max_mismatches": max_mismatches,
        "n_queries": n_queries,
        "living_generations": living_generations,
        "traces": traces,
    }
    return RegionalReach(rows, within, provenance("reach", params, seed))


def _combine(kit: str, level: str, name: str, parts: list[dict[str, Any]]) -> RegionalRow:
    """One row for a region or a group of regions (donor-weighted)."""
    donors = sum(p["donors"] for p in parts)
    living = sum(p["living"] for p in parts)
    db = sum(p["db"] for p in parts)

    def wmean(key: str, weight: str) -> float:
        tot = sum(p[weight] for p in parts)
        return float(sum(p[key] * p[weight] for p in parts) / tot) if tot else 0.0

    p_match = wmean("p_match", "donors")
    p_within = wmean("p_within", "donors")
    hist: dict[str, int] = {}
    for p in parts:
        for k, v in p["hist"].items():
            hist[k] = hist.get(k, 0) + v
    return RegionalRow(
        kit,
        level,
        name,
        db / living if living else 0.0,
        living,
        db,
        donors,
        p_match,
        p_within,
        p_within / p_match if p_match > 0 else None,
        wmean("matching", "living"),
        sum(p["queries"] for p in parts),
        dict(sorted(hist.items(), key=lambda kv: (kv[0] == "none", kv[0].zfill(4)))),
    )
