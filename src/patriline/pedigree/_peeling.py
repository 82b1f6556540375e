"""Numerical kernels of donor ranking: sum-product (peeling) on a paternal tree, and the
forward sampler behind the Monte Carlo check. No API, no checks: see ``likelihood.py``.

The tree is given by a parent index per node (``-1`` for a founder) and a depth per
node; both passes run one generation at a time, vectorised over the nodes of the
generation, the locus-copy columns ``C`` and the allele states ``K``.

Up pass (Elston & Stewart 1971 peeling; Pearl 1988 belief propagation): for node ``v``
``λ_v(x) = e_v(x) Π_children μ_c(x)`` with ``μ_c(x) = Σ_y T[x, y] λ_c(y)``; down pass
``π_c(y) = Σ_x π_v(x) e_v(x) Π_{c' ≠ c} μ_{c'}(x) T[x, y]``; the marginal of ``v`` is
``π_v λ_v`` normalised. Messages are normalised per column; the log normalisers add up
to the log-likelihood of the column's data. The product over siblings other than ``c``
is taken without dividing by zero (zero factors are counted apart).

References
----------
Elston RC, Stewart J (1971) A general model for the genetic analysis of pedigree data.
  Hum Hered 21:523.
Pearl J (1988) Probabilistic reasoning in intelligent systems. Morgan Kaufmann.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PeelResult", "forward_sample", "peel", "transition_matrices"]


def transition_matrices(mus: np.ndarray, n_states: int, two_step: float, jump: float) -> np.ndarray:
    """``T[c, x, y]``: one-meiosis probability that state ``x`` becomes ``y`` at column ``c``.

    Stepwise kernel (``stats.mutation``): ±1 step with ``μ(1 − s)/2``, ±2 with ``μs/2``,
    unchanged ``1 − μ``; with probability ``jump`` (non-stepwise events, wrong links)
    the allele is drawn anew uniformly from the grid. Mass that would leave the bounded
    grid stays at the edge state.
    """
    C = len(mus)
    K = n_states
    T = np.zeros((C, K, K))
    idx = np.arange(K)
    for c, mu in enumerate(mus):
        weights = {
            -2: mu * two_step / 2,
            -1: mu * (1 - two_step) / 2,
            0: 1 - mu,
            1: mu * (1 - two_step) / 2,
            2: mu * two_step / 2,
        }
        for d, w in weights.items():
            np.add.at(T[c], (idx, np.clip(idx + d, 0, K - 1)), w)
    return (1.0 - jump) * T + jump / K


@dataclass(frozen=True)
class PeelResult:
    """Marginals ``(n, C, K)``, per-column log-likelihood ``(C,)`` and, per node and
    column, ``log L(link to father cut) − log L(tree)`` ``(n, C)`` (0 for founders)."""

    marginals: np.ndarray
    loglik: np.ndarray
    cut_logratio: np.ndarray


def _levels(depth: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[order], np.arange(int(depth.max()) + 2))
    return [order[bounds[d] : bounds[d + 1]] for d in range(int(depth.max()) + 1)]


def peel(
    parent: np.ndarray,
    depth: np.ndarray,
    T: np.ndarray,
    prior: np.ndarray,
    evidence: np.ndarray,
) -> PeelResult:
    """Exact posterior marginals of every node's state, per column, by two-pass peeling.

    Parameters
    ----------
    parent : (n,) int, ``-1`` for founders
    depth : (n,) int, 0 for founders, parent's depth + 1 otherwise
    T : (C, K, K) transition matrices
    prior : (C, K) founder state distribution
    evidence : (n, C) int observed state, ``-1`` where untyped
    """
    n, C = evidence.shape
    K = T.shape[1]
    with np.errstate(all="ignore"):
        e = np.ones((n, C, K))
        typed = evidence >= 0
        rows, cols = np.nonzero(typed)
        e[rows, cols, :] = 0.0
        e[rows, cols, evidence[rows, cols]] = 1.0

        levels = _levels(depth)
        lam = e.copy()
        msg = np.ones((n, C, K))
        logscale = np.zeros(C)
        for nodes in reversed(levels):
            s = lam[nodes].sum(axis=2)
            logscale += np.log(s).sum(axis=0)
            lam[nodes] /= np.where(s > 0, s, 1.0)[:, :, None]
            has = parent[nodes] >= 0
            kids = nodes[has]
            if len(kids):
                m = np.einsum("cxy,ncy->ncx", T, lam[kids])
                msg[kids] = m
                np.multiply.at(lam, parent[kids], m)
        roots = np.nonzero(parent < 0)[0]
        loglik = logscale + np.log((prior[None] * lam[roots]).sum(axis=2)).sum(axis=0)

        # Products of the sons' messages with zeros counted apart.
        zero = msg == 0.0
        nonzero = np.where(zero, 1.0, msg)
        prod = np.ones((n, C, K))
        zcount = np.zeros((n, C, K), dtype=np.int32)
        sons = np.nonzero(parent >= 0)[0]
        np.multiply.at(prod, parent[sons], nonzero[sons])
        np.add.at(zcount, parent[sons], zero[sons].astype(np.int32))

        pi = np.zeros((n, C, K))
        pi[roots] = prior[None]
        for nodes in levels[1:]:
            par = parent[nodes]
            base = pi[par] * e[par] * prod[par]
            excl = np.where(zcount[par] - zero[nodes] == 0, base / nonzero[nodes], 0.0)
            p = np.einsum("cxy,ncx->ncy", T, excl)
            s = p.sum(axis=2, keepdims=True)
            pi[nodes] = p / np.where(s > 0, s, 1.0)

        joint = pi * lam
        total = joint.sum(axis=2)
        marginals = joint / np.where(total > 0, total, 1.0)[:, :, None]
        cut = np.log(pi.sum(axis=2)) + np.log((prior[None] * lam).sum(axis=2)) - np.log(total)
        cut[roots] = 0.0
    return PeelResult(marginals, loglik, cut)


def forward_sample(
    parent: np.ndarray,
    depth: np.ndarray,
    T: np.ndarray,
    prior: np.ndarray,
    evidence: np.ndarray,
    n_samples: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Likelihood-weighted forward draws: states ``(S, n, C)`` and weights ``(S, C)``.

    Untyped men are drawn from the model given their father (founders from ``prior``);
    typed men are clamped to their observed state and the draw's weight is multiplied by
    the probability of that state given the father (Fung & Chang 1990, likelihood
    weighting). Weighted averages over draws estimate posterior probabilities.
    """
    n = len(parent)
    C, K, _ = T.shape
    out = np.zeros((n_samples, n, C), dtype=np.int64)
    weight = np.ones((n_samples, C))
    cum_prior = np.cumsum(prior, axis=1)
    cum_T = np.cumsum(T, axis=2)
    col = np.arange(C)[None, :]
    for nodes in _levels(depth):
        for v in nodes:
            u = rng.random((n_samples, C))
            if parent[v] < 0:
                state = (u[:, :, None] > cum_prior[None, :, :]).sum(axis=2)
            else:
                rows = cum_T[col, out[:, parent[v], :]]  # (S, C, K)
                state = (u[:, :, None] > rows).sum(axis=2)
            obs = evidence[v]
            typed = obs >= 0
            if typed.any():
                state[:, typed] = obs[typed][None, :]
                if parent[v] < 0:
                    p = prior[np.arange(C), np.maximum(obs, 0)][None, :].repeat(n_samples, 0)
                else:
                    p = T[col, out[:, parent[v], :], np.maximum(obs, 0)[None, :]]
                weight[:, typed] *= p[:, typed]
            out[:, v, :] = np.minimum(state, K - 1)
    return out, weight
