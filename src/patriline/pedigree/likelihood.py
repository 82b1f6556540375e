"""Match probabilities and likelihood of a tree's data, per column by peeling.

For every man ``j`` of the tree, ``P(h_j = trace | haplotypes of the typed men)`` under
the stepwise mutation model (:mod:`patriline.stats.mutation`), computed exactly by
peeling (sum-product, :mod:`patriline.pedigree._peeling`) one locus-copy column at a
time; columns are independent, so the match probability is the product over columns.

* One meiosis: the stepwise kernel at the column's per-copy rate plus, with probability
  ``model.non_stepwise_rate``, a jump to any grid state (covers wrong links and
  non-stepwise changes, and keeps every likelihood positive).
* Rates integrated (:func:`integrated_match`): a locus's rate is shared by all meioses
  of the tree (and by the copies of a multi-copy locus), so it is integrated over its
  Beta posterior per locus, not per meiosis: with ``Q`` quadrature rates ``μ_q``
  (weights ``w_q``; Gauss quadrature of the Beta posterior,
  :func:`patriline.pedigree.priors.rate_nodes`) and ``L_q`` the likelihood of the
  locus's data at ``μ_q``, ``P(match | data) = Σ_q w_q L_q P_q(match | data) /
  Σ_q w_q L_q``; the likelihood is ``Σ_q w_q L_q`` and the link-cut ratio is averaged
  the same way.
* Point rates (:func:`exact_match_probabilities`) and the Monte Carlo estimate of the
  same quantity (:func:`monte_carlo_match_probabilities`, the independent check).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from patriline.pedigree import _peeling
from patriline.pedigree.columns import ColumnSet, TreeArrays
from patriline.stats.mutation import StepwiseModel

__all__ = [
    "IntegratedResult",
    "exact_match_probabilities",
    "integrated_match",
    "monte_carlo_match_probabilities",
]


def _peel(
    tree: TreeArrays, columns: ColumnSet, model: StepwiseModel, rates: np.ndarray | None = None
) -> _peeling.PeelResult:
    """One peeling pass over every column at ``rates`` (default the point rates)."""
    T, prior = columns.matrices(model, rates)
    return _peeling.peel(tree.parent, tree.depth, T, prior, columns.evidence)


def exact_match_probabilities(
    tree: TreeArrays, columns: ColumnSet, model: StepwiseModel
) -> tuple[np.ndarray, _peeling.PeelResult]:
    """Per person and trace column, ``P(state = trace state | data)`` ``(n, C_trace)``,
    at the point rates ``columns.mus`` (see :func:`integrated_match` for the rank)."""
    result = _peel(tree, columns, model)
    cols = columns.trace_columns()
    probs = result.marginals[:, cols, columns.trace_state[cols]]
    return probs, result


@dataclass(frozen=True)
class IntegratedResult:
    """Natural logs, rates integrated: per person ``log P(h = trace | data)`` ``(n,)``,
    per locus (group) ``log L`` ``(G,)``, per person ``log L(link cut) − log L`` ``(n,)``."""

    log_match: np.ndarray
    loglik: np.ndarray
    cut_logratio: np.ndarray


def _group_sum(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the last axis of ``values`` by ``groups`` (``-inf`` terms stay ``-inf``)."""
    out = np.zeros((*values.shape[:-1], n_groups))
    for g in range(n_groups):
        out[..., g] = values[..., groups == g].sum(axis=-1)
    return out


def integrated_match(
    tree: TreeArrays, columns: ColumnSet, model: StepwiseModel
) -> IntegratedResult:
    """Match probabilities, likelihood and link-cut ratios with each locus's rate
    integrated over its quadrature rates (``columns.rate_nodes``, ``rate_weights``).

    A locus's rate is shared by every meiosis of the tree and by its copies, so the
    integral is taken per locus (group of columns), not per meiosis: with ``L_q`` the
    likelihood of the locus's data at rate ``μ_q`` (one peeling pass each) and weight
    ``w_q``, ``P(match | data) = Σ_q w_q L_q P_q(match | data) / Σ_q w_q L_q``, the
    likelihood is ``Σ_q w_q L_q`` and the cut-link ratio ``Σ_q w_q L_q r_q / Σ_q w_q L_q``.
    With one rate per column this is :func:`exact_match_probabilities`.
    """
    nodes = columns.rate_nodes if columns.rate_nodes is not None else columns.mus[None, :]
    weights = columns.rate_weights if columns.rate_weights is not None else np.ones_like(nodes)
    groups = columns.groups if columns.groups is not None else np.arange(len(columns.names))
    G = int(groups.max()) + 1 if len(groups) else 0
    Q = nodes.shape[0]
    n = len(tree.persons)
    cols = columns.trace_columns()
    loglik = np.zeros((Q, G))
    log_match = np.zeros((Q, n, G))
    cut = np.zeros((Q, n, G))
    for q in range(Q):
        res = _peel(tree, columns, model, nodes[q])
        loglik[q] = _group_sum(res.loglik, groups, G)
        with np.errstate(divide="ignore"):
            lp = np.log(res.marginals[:, cols, columns.trace_state[cols]])
        log_match[q] = _group_sum(lp, groups[cols], G)
        cut[q] = _group_sum(res.cut_logratio, groups, G)
    if Q == 1:
        return IntegratedResult(log_match[0].sum(axis=1), loglik[0], cut[0].sum(axis=1))
    # The weight of a locus is that of any of its columns (copies share the rule).
    log_w = np.zeros((Q, G))
    with np.errstate(divide="ignore"):
        log_w[:, groups] = np.log(weights)
    log_total = logsumexp(loglik + log_w, axis=0)  # (G,)
    log_r = (loglik + log_w - log_total)[:, None, :]  # posterior weight of each node
    match = logsumexp(log_match + log_r, axis=0).sum(axis=1)
    ratio = logsumexp(cut + log_r, axis=0).sum(axis=1)
    return IntegratedResult(match, log_total, ratio)


def monte_carlo_match_probabilities(
    tree: TreeArrays,
    columns: ColumnSet,
    model: StepwiseModel,
    n_samples: int = 100_000,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Importance-sampling estimate of :func:`exact_match_probabilities` (the check).

    Likelihood weighting (Fung & Chang 1990): draws every column forward from the
    founders with the typed men clamped to their alleles, weighting each draw by the
    probability of the clamped alleles. Returns the weighted share of draws in which
    each person has the trace's state ``(n, C_trace)`` and the effective sample size
    per column (Kish). Columns are independent under the model, so each is estimated
    on its own and the haplotype probability is the product over columns.

    References
    ----------
    Fung R, Chang KC (1990) Weighing and integrating evidence for stochastic simulation
    in Bayesian networks. Uncertainty in Artificial Intelligence 5:209.
    """
    T, prior = columns.matrices(model)
    rng = np.random.default_rng(seed)
    cols = columns.trace_columns()
    evidence = columns.evidence[:, cols]
    draws, weight = _peeling.forward_sample(
        tree.parent, tree.depth, T[cols], prior[cols], evidence, n_samples, rng
    )
    hit = draws == columns.trace_state[cols][None, None, :]  # (S, n, C)
    total = weight.sum(axis=0)
    out = np.einsum("sc,snc->nc", weight, hit) / np.where(total > 0, total, np.nan)
    ess = total**2 / (weight**2).sum(axis=0)
    return out, ess
