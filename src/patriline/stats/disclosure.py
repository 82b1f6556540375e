"""What a statistic over the whole store may publish: k-anonymity and a minimum store size.

A store-wide statistic (a dlmix fit over the store, the exposure report) is read by users
who may not search, so it publishes only what at least ``k`` stored men share (Sweeney
2002): a fitted cluster describing fewer than ``k`` men, or whose centre is a haplotype
fewer than ``k`` stored men hold, is withheld; and a store holding fewer than
``min_profiles`` profiles gets no store-wide statistic at all. ``k`` and the minimum are
read from ``patriline/reference/data/statistics_policy.toml`` with their sources.

This module takes plain data (a fit, a design matrix) and never imports the store.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from patriline.errors import DisclosureRefused

__all__ = [
    "StatisticsPolicy",
    "centre_holders",
    "check_store_size",
    "fit_disclosure",
    "statistics_policy",
]


@dataclass(frozen=True)
class StatisticsPolicy:
    """``k`` (smallest group a published item may describe) and the minimum store size."""

    k: int
    min_profiles: int
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, "min_profiles": self.min_profiles, "source": self.source}


@cache
def statistics_policy() -> StatisticsPolicy:
    """The policy of ``reference/data/statistics_policy.toml``."""
    path = resources.files("patriline.reference") / "data" / "statistics_policy.toml"
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    k = int(doc["k_anonymity"]["k"])
    minimum = int(doc["store_size"]["min_profiles"])
    if k < 2 or minimum < k:
        raise ValueError(f"{path}: k must be >= 2 and min_profiles >= k (got {k}, {minimum})")
    return StatisticsPolicy(k, minimum, "patriline/reference/data/statistics_policy.toml")


def check_store_size(n_profiles: int, what: str, policy: StatisticsPolicy | None = None) -> None:
    """Refuse a store-wide statistic on a store of fewer than ``min_profiles`` profiles."""
    policy = policy or statistics_policy()
    if n_profiles < policy.min_profiles:
        raise DisclosureRefused(
            f"{what}: the store holds {n_profiles} profiles; a statistic over the whole store "
            f"needs at least {policy.min_profiles} ({policy.source}), since in a small store an "
            "aggregate lists its members. Within a case, compute the frequency of the case's "
            "trace instead (patriline frequency --case)."
        )


def centre_holders(y: np.ndarray, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For each centre (row of ``y``), the number of men in ``x`` with exactly that haplotype."""
    x = np.asarray(x)
    w = np.asarray(weights, dtype=float)
    return np.array([float(w[(x == row).all(axis=1)].sum()) for row in np.asarray(y)])


def fit_disclosure(
    y: np.ndarray,
    tau: np.ndarray,
    x: np.ndarray,
    weights: np.ndarray,
    policy: StatisticsPolicy | None = None,
) -> list[str]:
    """Why a fit (centres ``y``, weights ``tau``) of the men ``x`` may not be published.

    Empty when every cluster describes at least ``k`` men (``n * tau_j >= k``) and no
    centre is a haplotype held by 1 to ``k - 1`` of the men. The reasons name the cluster
    and the counts, never a haplotype.
    """
    policy = policy or statistics_policy()
    k = policy.k
    n = float(np.asarray(weights, dtype=float).sum())
    reasons = []
    holders = centre_holders(y, x, weights)
    for j, (t, h) in enumerate(zip(np.asarray(tau).tolist(), holders.tolist(), strict=True)):
        if n * t < k:
            reasons.append(f"cluster {j + 1} describes {n * t:.1f} men (fewer than k = {k})")
        elif 0 < h < k:
            reasons.append(
                f"the centre of cluster {j + 1} is a haplotype held by {h:g} stored men "
                f"(fewer than k = {k})"
            )
    return reasons
