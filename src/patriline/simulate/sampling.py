"""Sampling from a simulated population: a database of living males, and case traces."""

from __future__ import annotations

import numpy as np

from patriline.encoding import MISSING, Encoded
from patriline.errors import InputError
from patriline.simulate.population import Population

__all__ = ["database_sample", "trace_sample"]


def _check_share(share: float) -> None:
    if not 0.0 <= share <= 1.0:
        raise InputError(f"database share must be in [0, 1] (got {share})")


def database_sample(
    population: Population,
    share: float,
    *,
    concentration: float = 0.0,
    family_depth: int = 2,
    seed: int = 0,
    among: np.ndarray | None = None,
) -> np.ndarray:
    """Global ids of living males put in the database (sorted).

    With ``among`` (global ids, e.g. from :meth:`Population.alive`), positions into
    ``among`` are returned instead.

    Parameters
    ----------
    share
        Share of the living males sampled (``round(share * n)`` males).
    concentration
        0 samples uniformly. Above 0 every family (the descendants of one ancestor
        ``family_depth`` generations up) gets a weight ~ Gamma(1/c, c) (mean 1, variance
        ``c``) and males are drawn without replacement in proportion to it, so whole
        families are over-sampled (weighted sampling by Efraimidis & Spirakis 2006).
    """
    _check_share(share)
    if concentration < 0:
        raise InputError(f"concentration must be >= 0 (got {concentration})")
    rng = np.random.default_rng(seed)
    living = population.living if among is None else np.asarray(among, dtype=np.int64)
    k = round(share * len(living))
    if concentration == 0:
        pick = rng.choice(len(living), k, replace=False)
        return np.sort(pick) if among is not None else np.sort(living[pick])
    anc = living.copy()
    for _ in range(family_depth):
        up = population.parent[anc]
        anc = np.where(up >= 0, up, anc)
    fam, inverse = np.unique(anc, return_inverse=True)
    weight = rng.gamma(1.0 / concentration, concentration, len(fam))[inverse]
    keys = np.log(rng.random(len(living))) / np.maximum(weight, 1e-300)
    pick = np.argpartition(-keys, k - 1)[:k] if 0 < k < len(living) else np.arange(k)
    return np.sort(pick) if among is not None else np.sort(living[pick])


def trace_sample(
    population: Population,
    n: int,
    *,
    exclude: np.ndarray | None = None,
    dropout: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, Encoded]:
    """Case traces: ``n`` random living males not in ``exclude``, with locus dropout.

    Each locus of each trace drops out (all its copies become MISSING) with probability
    ``dropout``. Returns the donors' global ids and the traces' :class:`Encoded`.
    """
    if not 0.0 <= dropout <= 1.0:
        raise InputError(f"dropout must be in [0, 1] (got {dropout})")
    if n < 0:
        raise InputError(f"number of traces must be >= 0 (got {n})")
    rng = np.random.default_rng(seed)
    pool = population.living
    if exclude is not None and len(exclude):
        pool = np.setdiff1d(pool, exclude, assume_unique=True)
    if n > len(pool):
        raise InputError(f"{n} traces asked, only {len(pool)} living males outside the database")
    donors = rng.choice(pool, n, replace=False)
    values = population.values_of(donors)
    layout = population.layout
    drop = rng.random((len(layout.loci), n)) < dropout
    for j, name in enumerate(layout.loci):
        values[layout.slice_of(name), :] = np.where(
            drop[j], MISSING, values[layout.slice_of(name), :]
        )
    return donors, Encoded(layout, values)
