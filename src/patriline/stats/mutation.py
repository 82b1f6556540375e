"""Stepwise mutation model for Y-STR differences between paternal relatives.

Two men joined by a paternal path of ``m`` meioses (father-son: 1, brothers: 2,
first cousins: 4) differ at a locus copy by the net change of ``m`` independent
transmissions. Per transmission a copy mutates with probability ``μ``; a mutation is
one step (share ``1 − s``) or two steps (share ``s``, default 3 %), up or down with
equal probability. The difference after ``m`` meioses is the ``m``-fold convolution of
the one-meiosis kernel, computed exactly here by repeated convolution.

Rate uncertainty: where asked, ``μ`` is integrated over its Beta posterior from the
catalog's father-son counts (:meth:`patriline.reference.Locus.rate_posterior`) by
averaging over ``Q`` equal-probability quantile nodes.

Non-stepwise differences (``15.2`` vs ``15``, a null allele against a value, a
duplication) have a small assumed per-meiosis probability ``non_stepwise_rate``.

References
----------
Ballantyne KN et al. (2010) Mutability of Y-chromosomal microsatellites. AJHG 87:341
  (single- vs multi-step share 25.23:1; losses:gains 1.16:1, taken as symmetric here).
Walsh B (2001) Estimating the time to the most recent common ancestor for the
  Y chromosome or mitochondrial DNA for a pair of individuals. Genetics 158:897
  (the infinite-alleles special case this model generalises).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from patriline.haplotype import Comparison
from patriline.reference import Catalog, Locus, default_catalog

__all__ = [
    "ColumnObservation",
    "MeiosesPosterior",
    "StepwiseModel",
    "difference_table",
    "format_meioses",
    "meioses_posterior",
    "observations",
]


@dataclass(frozen=True)
class StepwiseModel:
    """Parameters of the stepwise mutation model.

    Attributes
    ----------
    two_step_share : float
        Share of mutations that change two repeats (default 0.03, a common model
        default; Ballantyne 2010 saw 25.23 single- per multi-step mutation, 3.8 %).
    non_stepwise_rate : float
        Probability per meiosis and locus copy of a change that is not a whole number
        of repeats (assumed, 1e-4).
    max_meioses : int
        Largest number of meioses considered (posterior support is 1..max_meioses).
    rate_uncertainty : bool
        Integrate each rate over its Beta posterior (True) or use the point rate.
    quantile_nodes : int
        Nodes of the Beta integration.
    """

    two_step_share: float = 0.03
    non_stepwise_rate: float = 1e-4
    max_meioses: int = 40
    rate_uncertainty: bool = True
    quantile_nodes: int = 16

    def __post_init__(self) -> None:
        if not 0.0 <= self.two_step_share <= 1.0:
            raise ValueError("two_step_share must lie in [0, 1]")
        if not 0.0 <= self.non_stepwise_rate < 1.0:
            raise ValueError("non_stepwise_rate must lie in [0, 1)")
        if not 1 <= self.max_meioses <= 500:
            raise ValueError("max_meioses must lie in 1..500")

    def describe(self, catalog: Catalog | None = None) -> dict[str, Any]:
        """What this model is, for provenance: its parameters and where its rates come
        from (the catalog's ``rate_source`` of each locus, counted), so that a record can
        never name another model than the one that ran."""
        catalog = catalog or default_catalog()
        sources: dict[str, int] = {}
        for name in catalog.all_loci:
            src = catalog.locus(name).rate_source or "unknown"
            sources[src] = sources.get(src, 0) + 1
        return {
            "name": "stepwise",
            "two_step_share": self.two_step_share,
            "non_stepwise_rate": self.non_stepwise_rate,
            "meioses": [1, self.max_meioses],
            "prior": "uniform",
            "rates": {
                "sources": dict(sorted(sources.items())),
                "integration": (
                    f"Beta posterior of father-son counts, {self.quantile_nodes} quantile nodes"
                    if self.rate_uncertainty
                    else "point rates"
                ),
            },
            "interval": "90 % highest posterior density",
        }


def _kernel(mu: float, two_step: float) -> np.ndarray:
    """One-meiosis step-change distribution over -2..2."""
    one, two = mu * (1.0 - two_step) / 2.0, mu * two_step / 2.0
    return np.array([two, one, 1.0 - mu, one, two])


@functools.lru_cache(maxsize=512)
def _table_point(mu: float, two_step: float, max_meioses: int) -> np.ndarray:
    width = 2 * max_meioses
    table = np.zeros((max_meioses + 1, 2 * width + 1))
    table[0, width] = 1.0
    k = _kernel(mu, two_step)
    for m in range(1, max_meioses + 1):
        table[m] = np.convolve(table[m - 1], k, mode="same")
    return table


def difference_table(mu: float | Sequence[float], model: StepwiseModel) -> np.ndarray:
    """``P[m, d + 2M]``: probability of a net difference of ``d`` steps after ``m`` meioses.

    ``mu`` may be a sequence of rates (quadrature nodes); the tables are averaged.
    Rows ``m = 0..M`` with ``M = model.max_meioses``; columns ``d = -2M..2M``.
    """
    mus = [mu] if isinstance(mu, float | int) else list(mu)
    tables = [_table_point(float(x), model.two_step_share, model.max_meioses) for x in mus]
    return np.mean(tables, axis=0)


def _rate_counts(locus: Locus, segment: bool) -> tuple[float, float]:
    """(mutations, meioses) behind a locus's rate, or behind the DYS389 II − I segment."""
    if segment:
        # DYS389II compared on II − I: mutations of the II-only part. Counts as II minus I
        # scaled to II's meioses (YHRD-malan counts for both parts).
        first = default_catalog().locus("DYS389I")
        k2, n2, _ = locus.rate_counts()
        k1, n1, _ = first.rate_counts()
        return max(k2 - k1 * n2 / n1, 0.5), n2
    k, n, _ = locus.rate_counts()
    return k, n


@functools.cache
def _node_table() -> dict[str, list[float]]:
    """``reference/data/rate_nodes.json`` (written by ``scripts/rate_nodes.py``)."""
    import json
    from importlib import resources

    path = resources.files("patriline.reference") / "data" / "rate_nodes.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): [float(x) for x in v] for k, v in doc["nodes"].items()}


def _beta_nodes(k: float, n: float, q: int, *, table: bool = True) -> tuple[float, ...]:
    """The ``q`` quantile nodes ``(i + 1/2)/q`` of the Beta(k + 1/2, n − k + 1/2)
    posterior of a rate (Jeffreys prior). The catalog's loci at the default ``q`` come
    from the packaged table (the same numbers, precomputed: a search need not import
    SciPy); anything else from ``scipy.special.betaincinv``."""
    if table:
        hit = _node_table().get(f"{k!r},{n!r},{q}")
        if hit is not None and len(hit) == q:
            return tuple(hit)
    from scipy.special import betaincinv

    p = (np.arange(q) + 0.5) / q
    return tuple(float(x) for x in betaincinv(k + 0.5, n - k + 0.5, p))


@functools.lru_cache(maxsize=256)
def _rate_nodes(locus: Locus, segment: bool, uncertainty: bool, q: int) -> tuple[float, ...]:
    k, n = _rate_counts(locus, segment)
    if not uncertainty:
        return (k / n,)
    return _beta_nodes(k, n, q)


@dataclass(frozen=True)
class ColumnObservation:
    """One compared locus copy: its locus, the signed step difference or non-stepwise."""

    locus: str
    steps: int
    stepwise: bool = True
    segment: bool = False


def observations(comparison: Comparison) -> list[ColumnObservation]:
    """Per-copy observations from a :func:`patriline.haplotype.compare` result."""
    out: list[ColumnObservation] = []
    for lc in comparison.loci:
        if lc.compared == 0:
            continue
        used = 0
        nonzero_stepwise = 0
        for d in lc.diffs:
            used += 1
            if d % 10 == 0:
                out.append(ColumnObservation(lc.locus, d // 10, True, lc.segment))
                nonzero_stepwise += d != 0
            else:
                out.append(ColumnObservation(lc.locus, 0, False, lc.segment))
        rest = lc.compared - used
        if rest > 0:
            # Copies compared without a numeric difference: equal alleles or null-involved.
            counted_mismatch = sum(1 for d in lc.diffs if d != 0)
            nonstep = max(lc.mismatches - counted_mismatch, 0)
            nonstep = min(nonstep, rest)
            out.extend(ColumnObservation(lc.locus, 0, False, lc.segment) for _ in range(nonstep))
            out.extend(
                ColumnObservation(lc.locus, 0, True, lc.segment) for _ in range(rest - nonstep)
            )
    return out


def log_likelihood(
    obs: Sequence[ColumnObservation],
    model: StepwiseModel | None = None,
    catalog: Catalog | None = None,
) -> np.ndarray:
    """``log P(observed differences | m)`` for ``m = 0..M`` (``m = 0``: the same man)."""
    model = model or StepwiseModel()
    catalog = catalog or default_catalog()
    M = model.max_meioses
    width = 2 * M
    ms = np.arange(M + 1)
    total: np.ndarray = np.zeros(M + 1)
    for o in obs:
        locus = catalog.locus(o.locus)
        nodes = _rate_nodes(locus, o.segment, model.rate_uncertainty, model.quantile_nodes)
        p: np.ndarray
        if o.stepwise:
            d = o.steps
            if abs(d) > width:
                p = np.zeros(M + 1)
            else:
                p = difference_table(nodes, model)[:, d + width]
            # No non-stepwise event along the path.
            p = p * (1.0 - model.non_stepwise_rate) ** ms
        else:
            p = 1.0 - (1.0 - model.non_stepwise_rate) ** ms
        with np.errstate(divide="ignore"):
            total = total + np.log(p)
    return total


@dataclass(frozen=True)
class MeiosesPosterior:
    """Posterior over the number of meioses ``m = 1..M`` separating two men."""

    meioses: np.ndarray
    probabilities: np.ndarray
    log_marginal: float

    @property
    def mode(self) -> int:
        return int(self.meioses[int(np.argmax(self.probabilities))])

    @property
    def bound(self) -> int:
        """The prior's upper bound ``M``: a figure equal to it means "``M`` or more"."""
        return int(self.meioses[-1])

    def interval(self, level: float = 0.90) -> tuple[int, int]:
        """Highest-posterior-density interval on the discrete support.

        The most probable numbers of meioses are taken, best first, until their mass
        reaches ``level``; the interval spans them, so it always holds the mode and its
        mass is at least ``level``. An equal-tailed interval can exclude the mode (a
        posterior falling from ``m = 1`` gave "mode 1, 90 % interval 2-38") and covers
        close relatives less often than it says (``docs/statistics.md``, coverage by range:
        checked by simulation in ``tests/test_mutation_intervals.py``).
        """
        p = self.probabilities
        order = np.argsort(-p, kind="stable")
        k = int(np.searchsorted(np.cumsum(p[order]), level - 1e-12)) + 1
        chosen = self.meioses[order[: min(k, len(p))]]
        return int(chosen.min()), int(chosen.max())

    def equal_tailed(self, level: float = 0.90) -> tuple[int, int]:
        """Equal-tailed interval on the discrete support (for comparison; may miss the mode)."""
        cdf = np.cumsum(self.probabilities)
        a = (1.0 - level) / 2.0
        lo = int(self.meioses[int(np.searchsorted(cdf, a - 1e-12))])
        hi = int(self.meioses[min(int(np.searchsorted(cdf, 1.0 - a - 1e-12)), len(cdf) - 1)])
        return lo, hi

    def mean(self) -> float:
        return float(np.sum(self.meioses * self.probabilities))


def format_meioses(value: int | None, bound: int) -> str:
    """A number of meioses as printed: ``"≥ 40 (prior bound)"`` where it is the bound."""
    if value is None:
        return "-"
    return f"≥ {value} (prior bound)" if value >= bound else str(value)


def meioses_posterior(
    obs: Sequence[ColumnObservation],
    model: StepwiseModel | None = None,
    prior: np.ndarray | None = None,
    catalog: Catalog | None = None,
) -> MeiosesPosterior:
    """Posterior over ``m = 1..M`` under a prior (uniform by default).

    ``log_marginal`` is ``log Σ_m prior(m) P(data | m)``: the likelihood of the
    observations under "related within M meioses" — the numerator of a relatedness
    likelihood ratio and the search ranking score.
    """
    model = model or StepwiseModel()
    ll = log_likelihood(obs, model, catalog)[1:]
    ms = np.arange(1, model.max_meioses + 1)
    if prior is None:
        prior = np.full(len(ms), 1.0 / len(ms))
    prior = np.asarray(prior, dtype=float)
    if prior.shape != ms.shape or np.any(prior < 0) or prior.sum() <= 0:
        raise ValueError(f"prior must be {len(ms)} non-negative weights")
    prior = prior / prior.sum()
    with np.errstate(divide="ignore"):
        lp = ll + np.log(prior)
    top = np.max(lp)
    if not np.isfinite(top):
        return MeiosesPosterior(ms, np.full(len(ms), np.nan), float("-inf"))
    w = np.exp(lp - top)
    return MeiosesPosterior(ms, w / w.sum(), float(top + np.log(w.sum())))
