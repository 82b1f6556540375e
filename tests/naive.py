"""Slow, obviously correct twins of the fast paths (tskit's ``tests/simplify.py`` habit).

Each fast path (a numba kernel, an index, a compiled reader, a recursive query) has a
plain-Python twin here, written from the definition and sharing no code with the fast
path beyond the core model (:func:`patriline.haplotype.compare` where the definition
is "what ``compare`` says"). Tests compare the two on many inputs.

=============================================  ===================================  ==========================================
fast path                                      slow twin                            test
=============================================  ===================================  ==========================================
``SearchIndex.query`` (hash, pigeonhole, scan)  :func:`linear_scan`                  ``tests/test_search_index.py``
``stats._dlmix_kernels.pam`` (BUILD + SWAP)    :func:`kmedoids_cost`,               ``tests/test_naive_twins.py``
                                               :func:`best_single_swap`,
                                               :func:`brute_force_kmedoids`
``stats._dlmix_kernels.estep``                 :func:`estep`                        ``tests/test_naive_twins.py``
``search._distance_kernels`` column distance   ``naive_distance``                   ``tests/test_haplotype.py``
compiled wide-CSV reader (``io.read_encoded``)  ``reference_read``                   ``tests/test_io_fastpath.py``
link-rule check against touched links          ``_reference_verdict``               ``tests/test_links_targeted.py``
donor posteriors by peeling                    ``_brute_force`` (enumeration)       ``tests/test_pedigree_donor.py``
``simulate.meioses``                           ``_naive_meioses``                   ``tests/test_simulate.py``,
                                                                                    ``tests/test_simulate_reach.py``
reach (kernel)                                 ``_naive``                           ``tests/test_simulate_reach.py``
``search.mixture.include`` (numba scan)         :func:`mixture_inclusion`            ``tests/test_mixture_search.py``
``stats.mixture`` LR (inclusion-exclusion)      ``_enumerated`` (every haplotype)    ``tests/test_mixture_stats.py``
``lineage_links`` (recursive SQL)              ``_reference_members``,              ``tests/test_store_lineage.py``
                                               ``_reference_expand``
=============================================  ===================================  ==========================================

Twins still defined in their test module are named in the table with their module; new
twins are written here.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy.special import logsumexp

from patriline.haplotype import Haplotype, compare

__all__ = [
    "best_single_swap",
    "brute_force_kmedoids",
    "estep",
    "kmedoids_cost",
    "linear_scan",
]


# ------------------------------------------------------------------------ search
def linear_scan(
    trace: Haplotype,
    ids: Sequence[str],
    haps: Sequence[Haplotype],
    max_mismatches: int | None,
    max_steps: int | None,
    min_loci: int,
) -> dict[str, tuple[int, int, int]]:
    """Compare the trace with every profile: ``{id: (loci, mismatches, steps)}`` within bounds."""
    out = {}
    for s, h in zip(ids, haps, strict=True):
        c = compare(trace, h)
        if c.loci_compared < min_loci:
            continue
        if max_mismatches is not None and c.mismatches > max_mismatches:
            continue
        if max_steps is not None and c.steps > max_steps:
            continue
        out[s] = (c.loci_compared, c.mismatches, c.steps)
    return out


# ------------------------------------------------------------------------ k-medoids
def kmedoids_cost(d: np.ndarray, w: np.ndarray, medoids: Sequence[int]) -> float:
    """Σ_i w_i min_{m ∈ medoids} d[i, m]: the k-medoids objective (Kaufman & Rousseeuw 1990)."""
    return float(sum(w[i] * min(d[i, m] for m in medoids) for i in range(d.shape[0])))


def brute_force_kmedoids(d: np.ndarray, w: np.ndarray, k: int) -> tuple[float, tuple[int, ...]]:
    """The global optimum of the k-medoids objective by enumerating every k-subset."""
    best: tuple[float, tuple[int, ...]] = (np.inf, ())
    for subset in itertools.combinations(range(d.shape[0]), k):
        cost = kmedoids_cost(d, w, subset)
        if cost < best[0]:
            best = (cost, subset)
    return best


def best_single_swap(d: np.ndarray, w: np.ndarray, medoids: Sequence[int]) -> float:
    """The lowest objective reachable from ``medoids`` by exchanging one medoid for one
    non-medoid (PAM's SWAP neighbourhood), by trying every exchange."""
    med = list(medoids)
    best = kmedoids_cost(d, w, med)
    for pos in range(len(med)):
        for h in range(d.shape[0]):
            if h in med:
                continue
            trial = med.copy()
            trial[pos] = h
            best = min(best, kmedoids_cost(d, w, trial))
    return best


# ------------------------------------------------------------------------ dlmix E-step
def estep(
    x: np.ndarray, w: np.ndarray, y: np.ndarray, logp: np.ndarray, logtau: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One E-step of the discrete Laplace mixture with plain log-sum-exp.

    P(x | centre y_j, dispersion p_jk) = Π_k (1 − p_jk)/(1 + p_jk) · p_jk^|x_k − y_jk|
    (Andersen, Eriksen & Morling 2013). Returns the responsibilities ``v (n, C)``,
    ``W_j = Σ_i w_i v_ij`` and ``S_jk = Σ_i w_i v_ij |x_ik − y_jk|``.
    """
    p = np.exp(logp)
    const = np.log((1 - p) / (1 + p)).sum(axis=1)  # (C,)
    dist = np.abs(x[:, None, :] - y[None, :, :])  # (n, C, K)
    logl = (dist * logp[None, :, :]).sum(axis=2) + const[None, :] + logtau[None, :]
    v = np.exp(logl - logsumexp(logl, axis=1, keepdims=True))
    wv = w[:, None] * v
    return v, wv.sum(axis=0), np.einsum("ij,ijk->jk", wv, dist)


# ------------------------------------------------------------------------ mixtures
def mixture_inclusion(
    mixture_alleles: dict[str, set[str]], profile: dict[str, str], copies: dict[str, int]
) -> tuple[int, int]:
    """(excluded loci, compared copies) of a profile written as text (``"11,14"``,
    ``"null"``, ``""``) against a mixture written as text sets, by string comparison:
    shares nothing with the encoded matrix or the tenths arithmetic."""
    excluded = compared = 0
    for locus, seen in mixture_alleles.items():
        cell = profile.get(locus, "").strip()
        if cell in ("", "OL"):
            continue
        values = {"null"} if cell == "null" else set(cell.split(","))
        compared += copies[locus]
        excluded += not values <= seen
    return excluded, compared
