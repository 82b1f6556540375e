"""Relatedness of a trace donor and a candidate: likelihood ratio and time to the common ancestor.

Likelihood ratio, related within ``M`` meioses (``H1``) against unrelated (``H2``):

    LR = Σ_m π(m) P(trace | candidate, m) / P(trace)

The numerator is the stepwise mutation model of :mod:`patriline.stats.mutation` (per-locus
rates integrated over their Beta posterior), ``π`` uniform on ``1..M`` unless given. The
denominator is the population frequency of the trace on the same loci: a discrete Laplace
mixture prediction, or from a reference population the count ``x/n`` (Brenner's kappa
estimate ``(1 − κ)/n`` for an unseen trace).

Time to the most recent common ancestor (TMRCA) in generations: two men whose common
paternal ancestor lived ``t`` generations ago are ``2t`` meioses apart. Walsh (2001) gives,
for ``k`` of ``n`` loci matching under infinite alleles with rate ``μ`` and a flat prior,
``P(t | data) ∝ e^{−2μtk}(1 − e^{−2μt})^{n−k}`` (:func:`walsh_posterior`). Its stepwise
generalisation (:func:`tmrca_posterior`) replaces that likelihood with the stepwise model's
``P(differences | m = 2t)`` with each locus's own rate.

References
----------
Walsh B (2001) Estimating the time to the most recent common ancestor for the Y chromosome
  or mitochondrial DNA for a pair of individuals. Genetics 158:897-912.
Andersen MM, Caliebe A, Jochens A, Willuweit S, Krawczak M (2013) Estimating trace-suspect
  match probabilities for singleton Y-STR haplotypes using coalescent theory. FSI:Genetics
  7:264 (LRs for Y-STR relatives).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from patriline.errors import InputError
from patriline.haplotype import Haplotype, compare
from patriline.stats.dlmix import DLMixFit
from patriline.stats.frequency import count_matches, dlmix_frequency, kappa_estimate
from patriline.stats.mutation import (
    MeiosesPosterior,
    StepwiseModel,
    log_likelihood,
    meioses_posterior,
    observations,
)
from patriline.stats.reference_set import ReferenceSet

__all__ = [
    "GenerationsPosterior",
    "LikelihoodRatio",
    "likelihood_ratio",
    "tmrca_posterior",
    "walsh_posterior",
]


@dataclass(frozen=True)
class GenerationsPosterior:
    """A posterior over generations ``t`` to the common ancestor (grid and probabilities)."""

    generations: np.ndarray
    probabilities: np.ndarray
    continuous: bool = False

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (interpolated on a continuous grid, else the discrete one)."""
        cdf = np.cumsum(self.probabilities)
        cdf = cdf / cdf[-1]
        if self.continuous:
            return float(np.interp(q, cdf, self.generations))
        return float(self.generations[min(int(np.searchsorted(cdf, q - 1e-12)), len(cdf) - 1)])

    @property
    def median(self) -> float:
        return self.quantile(0.5)

    def mean(self) -> float:
        w = self.probabilities / self.probabilities.sum()
        return float(np.sum(self.generations * w))

    def to_dict(self) -> dict[str, Any]:
        return {
            "median": self.median,
            "q90": self.quantile(0.9),
            "q95": self.quantile(0.95),
            "mean": self.mean(),
            "continuous": self.continuous,
        }


def walsh_posterior(
    matches: int, loci: int, mu: float, t_max: float | None = None, step: float = 0.01
) -> GenerationsPosterior:
    """Walsh (2001) infinite-alleles TMRCA posterior with a flat prior (continuous ``t``).

    ``P(t) ∝ exp(−2μtk)·(1 − exp(−2μt))^(n−k)`` evaluated on a grid of ``step``
    generations up to ``t_max`` (default: where the tail is below 1e-12).

    >>> post = walsh_posterior(12, 12, 0.002)
    >>> round(post.median, 1), round(post.quantile(0.9), 1), round(post.quantile(0.95), 1)
    (14.4, 48.0, 62.4)
    """
    if not 0 <= matches <= loci or loci < 1:
        raise InputError(f"Walsh posterior: {matches} matches of {loci} loci is impossible")
    if not 0 < mu < 1:
        raise InputError(f"Walsh posterior: mutation rate {mu} must lie in (0, 1)")
    if matches == 0:
        raise InputError("Walsh posterior with a flat prior is improper when no locus matches")
    if t_max is None:
        t_max = 30.0 / (2 * mu * matches) + 10.0
    t = np.arange(0.0, t_max + step, step)
    logd = -2 * mu * t * matches
    if loci > matches:
        with np.errstate(divide="ignore"):
            logd = logd + (loci - matches) * np.log1p(-np.exp(-2 * mu * t))
    d = np.exp(logd - np.max(logd))
    # trapezoid cumulative mass, assigned to the right end of each cell
    mass = np.concatenate([[0.0], (d[1:] + d[:-1]) / 2 * step])
    return GenerationsPosterior(t, mass, continuous=True)


def tmrca_posterior(
    trace: Haplotype,
    candidate: Haplotype,
    *,
    max_generations: int = 100,
    model: StepwiseModel | None = None,
    prior: np.ndarray | None = None,
) -> GenerationsPosterior:
    """Stepwise generalisation of Walsh (2001): ``P(t | data) ∝ π(t) P(diffs | m = 2t)``.

    ``t = 1..max_generations``, flat prior unless ``prior`` is given. Uses every locus typed
    in both profiles with its own rate (and rate uncertainty, as ``model`` says).
    """
    if max_generations < 1 or 2 * max_generations > 500:
        raise InputError("max_generations must lie in 1..250")
    base = model or StepwiseModel()
    stepwise = StepwiseModel(
        two_step_share=base.two_step_share,
        non_stepwise_rate=base.non_stepwise_rate,
        max_meioses=2 * max_generations,
        rate_uncertainty=base.rate_uncertainty,
        quantile_nodes=base.quantile_nodes,
    )
    obs = observations(compare(trace, candidate))
    if not obs:
        raise InputError("the two profiles share no typed locus: no TMRCA can be estimated")
    ll = log_likelihood(obs, stepwise)[2::2]  # m = 2, 4, ..., 2T
    return posterior_from_loglik(ll, prior)


def posterior_from_loglik(ll: np.ndarray, prior: np.ndarray | None = None) -> GenerationsPosterior:
    """Normalise ``log P(data | t)`` for ``t = 1..T`` under ``prior`` (flat by default)."""
    t = np.arange(1, len(ll) + 1)
    pri = np.ones(len(t)) if prior is None else np.asarray(prior, dtype=float)
    if pri.shape != t.shape or np.any(pri < 0) or pri.sum() <= 0:
        raise InputError(f"the generations prior must be {len(t)} non-negative weights")
    with np.errstate(divide="ignore"):
        lp = ll + np.log(pri)
    top = np.max(lp)
    if not np.isfinite(top):
        raise InputError("the profiles are impossible under the mutation model at every t")
    w = np.exp(lp - top)
    return GenerationsPosterior(t, w / w.sum())


@dataclass(frozen=True)
class LikelihoodRatio:
    """Related-within-``M``-meioses against unrelated, with its parts."""

    lr: float
    log10_lr: float
    numerator: float
    denominator: float
    denominator_method: str
    loci: tuple[str, ...]
    loci_compared: int
    mismatches: int
    posterior: MeiosesPosterior
    max_meioses: int
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.posterior.interval(0.9)
        return {
            "lr": self.lr,
            "log10_lr": self.log10_lr,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "denominator_method": self.denominator_method,
            "max_meioses": self.max_meioses,
            "loci_compared": self.loci_compared,
            "mismatches": self.mismatches,
            "meioses_mode": self.posterior.mode,
            "meioses_90": [lo, hi],
            "meioses_bound": self.posterior.bound,
            "notes": list(self.notes),
        }


def _denominator(
    trace: Haplotype, reference_model: DLMixFit | ReferenceSet | float
) -> tuple[float, str, list[str]]:
    if isinstance(reference_model, DLMixFit):
        res = dlmix_frequency(trace, reference_model)
        return float(res["p"]), f"dlmix ({reference_model.clusters} clusters)", res["notes"]
    if isinstance(reference_model, ReferenceSet):
        est = count_matches(trace, reference_model)
        if est.count > 0:
            return est.p, f"counting ({est.count}/{est.n})", list(est.ignored_loci)
        kap = kappa_estimate(trace, reference_model, count=0)
        if kap.p is None:
            # κ degenerates: the reference shows only that the trace is unseen in n men;
            # take the upper 95 % bound of 0/n, never a figure below what it shows.
            return (
                est.ci[1],
                f"counting upper bound (0/{est.n}, {est.level:.0%} Clopper-Pearson; κ = 1)",
                [*est.ignored_loci, kap.note],
            )
        return kap.p, f"kappa (unseen in {kap.n}; κ={kap.kappa:.3f})", list(est.ignored_loci)
    value = float(reference_model)
    if not 0.0 < value <= 1.0:
        raise InputError(f"a trace frequency must lie in (0, 1], got {value}")
    return value, "given", []


def likelihood_ratio(
    trace: Haplotype,
    candidate: Haplotype,
    reference_model: DLMixFit | ReferenceSet | float,
    *,
    max_meioses: int = 20,
    model: StepwiseModel | None = None,
    prior: np.ndarray | None = None,
) -> LikelihoodRatio:
    """LR that ``candidate`` is a paternal relative (within ``max_meioses``) of the trace donor.

    Parameters
    ----------
    trace, candidate
        Profiles; the loci compared are those typed in both (and, for a dlmix model, in
        the model), so numerator and denominator cover the same loci.
    reference_model
        A :class:`DLMixFit`, a :class:`ReferenceSet` (counting, kappa when unseen) or the
        trace frequency itself.
    max_meioses, model, prior
        The relatedness hypothesis: ``m`` in ``1..max_meioses`` with prior ``prior``
        (uniform by default) under the stepwise ``model``.
    """
    base = model or StepwiseModel()
    stepwise = StepwiseModel(
        two_step_share=base.two_step_share,
        non_stepwise_rate=base.non_stepwise_rate,
        max_meioses=max_meioses,
        rate_uncertainty=base.rate_uncertainty,
        quantile_nodes=base.quantile_nodes,
    )
    shared = [n for n in trace.alleles if candidate[n].typed and trace[n].typed]
    if isinstance(reference_model, DLMixFit):
        in_model = {c.split("[")[0] for c in reference_model.columns}
        shared = [n for n in shared if n in in_model]
    if not shared:
        raise InputError("trace and candidate share no typed locus (within the model's loci)")
    t_sub, c_sub = trace.restricted(shared), candidate.restricted(shared)
    comp = compare(t_sub, c_sub)
    post = meioses_posterior(observations(comp), stepwise, prior)
    if not math.isfinite(post.log_marginal):
        numerator = 0.0
    else:
        numerator = math.exp(post.log_marginal)
    denom, method, notes = _denominator(t_sub, reference_model)
    if denom <= 0:
        raise InputError("the trace frequency is 0: the LR is undefined (use kappa or dlmix)")
    lr = numerator / denom
    return LikelihoodRatio(
        lr=lr,
        log10_lr=math.log10(lr) if lr > 0 else float("-inf"),
        numerator=numerator,
        denominator=denom,
        denominator_method=method,
        loci=tuple(shared),
        loci_compared=comp.loci_compared,
        mismatches=comp.mismatches,
        posterior=post,
        max_meioses=max_meioses,
        notes=tuple(notes),
    )
