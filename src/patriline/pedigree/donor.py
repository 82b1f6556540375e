"""Donor ranking: which untested man of a paternal tree most probably left the trace.

For every man ``j`` of the tree, ``P(h_j = trace | haplotypes of the typed men)`` under
the stepwise mutation model with per-locus rates (:mod:`patriline.stats.mutation`),
computed exactly by peeling (sum-product) on the tree, one locus copy (column) at a
time; and the posterior that ``j`` is the donor,
``P(donor = j) = w_j P(h_j = trace | data) / Σ_k w_k P(h_k = trace | data)`` over the
untested men, with prior weights ``w`` (uniform by default, configurable).

Model and assumptions (stated, see docs/pedigree.md)
----------------------------------------------------
* Columns are independent: loci mutate independently, and the copies of a multi-copy
  locus are treated as independent columns in sorted order (the same simplification
  as sorted-copy comparison). So the posterior factorises over columns and the
  match probability is the product of per-column probabilities.
* States of a column are repeat numbers on a bounded grid: whole steps from the trace's
  allele (or from the most common allele where the trace is not typed), from the lowest
  observed value − ``margin`` to the highest + ``margin``, padded so every column has
  the same number of states. A value that is not a whole number of steps from the
  reference (``15.2`` against ``15``), a null allele, off-ladder call or duplication
  is left out at that column (a note says so).
* One meiosis: the stepwise kernel of :mod:`patriline.stats.mutation` at the locus's
  per-copy rate, plus, with probability ``model.non_stepwise_rate``, a jump to any grid
  state (covers wrong links and non-stepwise changes, and keeps every likelihood
  positive).
* Rates: a locus's rate is shared by all meioses of the tree (and by the copies of a
  multi-copy locus), so it is integrated over its Beta posterior per locus, not per
  meiosis: with ``Q`` quadrature rates ``μ_q`` (weights ``w_q``; Gauss quadrature of
  the Beta posterior, :func:`patriline.pedigree.priors.rate_nodes`) and ``L_q`` the likelihood of the
  locus's data at ``μ_q``,
  ``P(match | data) = Σ_q w_q L_q P_q(match | data) / Σ_q w_q L_q``; the likelihood is
  ``Σ_q w_q L_q`` and the link-cut ratio is averaged the same way. Explicit
  ``DonorConfig.rates`` and ``rate_points`` ≤ 1 give point rates (``Locus.copy_rate``).
  DYS389II as the ``II − I`` segment (where DYS389I is typed) stays at the point rate
  ``rate(II) − rate(I)``.
* Founders of the tree draw their allele from ``DonorConfig.founder_frequencies``
  (smoothed, renormalised on the grid) or, by default, uniformly from the grid.
* Trace: only its typed loci are used.
* Donor outside the tree (optional): prior probability ``outside_prior`` that the
  donor is none of the tree's men, with match probability ``outside_match`` (the
  trace's population frequency, given by the caller). Off by default (closed set).

Typed men whose haplotypes contradict their recorded father link are flagged: the data
are ``10**flag_log10`` times more probable with the link cut (the man's branch then
hangs from an unrelated founder) than with it. These flags belong to the case output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import logsumexp

from patriline.errors import InputError
from patriline.haplotype import Haplotype, format_tenths
from patriline.pedigree import _peeling
from patriline.pedigree.model import Pedigree
from patriline.pedigree.priors import FounderFrequencies, column_values, rate_nodes
from patriline.reference import Catalog, default_catalog
from patriline.stats.mutation import StepwiseModel

__all__ = [
    "FLAG_MESSAGE",
    "Candidate",
    "ColumnSet",
    "DonorConfig",
    "DonorRanking",
    "Flag",
    "IntegratedResult",
    "OutsideDonor",
    "TreeArrays",
    "build_columns",
    "exact_match_probabilities",
    "integrated_match",
    "monte_carlo_match_probabilities",
    "rank_donors",
]

FLAG_MESSAGE = "inconsistent with the recorded link: mutation or wrong link"


@dataclass(frozen=True)
class DonorConfig:
    """Settings of donor ranking.

    Attributes
    ----------
    model : StepwiseModel
        ``two_step_share`` and ``non_stepwise_rate`` (the jump probability) are used.
    margin : int
        Grid states beyond the observed alleles on each side.
    prior : mapping of person to weight, optional
        Prior weight of each untested man being the donor; unlisted men get
        ``default_weight``. None: uniform over the untested men.
    default_weight : float
        Weight of untested men not listed in ``prior``.
    flag_log10 : float
        Flag a typed man when cutting his father link raises the likelihood by more
        than this many orders of magnitude.
    rates : mapping of locus to per-copy rate, optional
        Overrides of catalog rates (tests, sensitivity analyses); always point rates.
    rate_points : int
        Quadrature rates per locus for integrating a catalog rate over its Beta
        posterior (Gauss quadrature of the Beta distribution); 0 or 1: the point rate.
    founder_frequencies : FounderFrequencies or mapping, optional
        Founders' allele prior per column (a plain ``{locus: {allele_tenths: freq}}``
        mapping gets a pseudo-count of 1e-3 per grid state). None: uniform on the grid.
    outside_prior : float
        Prior probability that the donor is none of the tree's men (0: closed set).
    outside_match : float, optional
        Probability that a man outside the tree matches the trace (its population
        frequency); needed when ``outside_prior`` > 0.
    """

    model: StepwiseModel = field(default_factory=StepwiseModel)
    margin: int = 3
    prior: Mapping[str, float] | None = None
    default_weight: float = 1.0
    flag_log10: float = 2.0
    rates: Mapping[str, float] | None = None
    rate_points: int = 5
    founder_frequencies: FounderFrequencies | Mapping[str, Mapping[int, float]] | None = None
    outside_prior: float = 0.0
    outside_match: float | None = None

    def __post_init__(self) -> None:
        if self.margin < 1:
            raise ValueError("margin must be at least 1")
        if self.prior is not None and any(w < 0 for w in self.prior.values()):
            raise ValueError("prior weights must be non-negative")
        if self.rate_points < 0:
            raise InputError(f"rate_points must be 0 or more (got {self.rate_points})")
        if not 0.0 <= self.outside_prior < 1.0:
            raise InputError(
                f"the prior probability of a donor outside the tree must be in [0, 1) "
                f"(got {self.outside_prior})"
            )
        if self.outside_match is not None and not 0.0 <= self.outside_match <= 1.0:
            raise InputError(
                f"the trace's population frequency must be in [0, 1] (got {self.outside_match})"
            )
        if self.outside_prior > 0 and self.outside_match is None:
            raise InputError(
                "a donor outside the tree needs the trace's population frequency (outside_match)"
            )


@dataclass(frozen=True)
class TreeArrays:
    """A pedigree as index arrays: ``parent[i]`` (-1: founder) and ``depth[i]``."""

    persons: tuple[str, ...]
    parent: np.ndarray
    depth: np.ndarray

    @classmethod
    def from_pedigree(cls, pedigree: Pedigree) -> TreeArrays:
        persons = tuple(pedigree)
        index = {p: i for i, p in enumerate(persons)}
        parent = np.full(len(persons), -1, dtype=np.int64)
        for p, i in index.items():
            f = pedigree.father(p)
            if f is not None and f in index:
                parent[i] = index[f]
        depth = np.full(len(persons), -1, dtype=np.int64)
        for i in range(len(persons)):
            chain = []
            j = i
            while depth[j] < 0 and parent[j] >= 0:
                chain.append(j)
                j = int(parent[j])
            if depth[j] < 0:
                depth[j] = 0
            for k in reversed(chain):
                depth[k] = depth[parent[k]] + 1
        return cls(persons, parent, depth)


@dataclass
class ColumnSet:
    """Locus-copy columns ready for peeling.

    ``evidence[i, c]`` is the observed state of person ``i`` at column ``c`` (-1: none),
    ``trace_state[c]`` the trace's state (-1: trace not typed there), ``reference[c]``
    the allele (tenths) of state ``offset[c]``; state ``k`` is
    ``reference + 10·(k − offset)``. ``mus`` are the point rates; ``rate_nodes`` and
    ``rate_weights`` ``(Q, C)`` the quadrature rates of each column's locus and their
    weights (a point-rate column repeats its rate), ``groups[c]`` the locus of column
    ``c`` (copies share one rate), ``integrated`` the loci whose rate is integrated,
    and ``founder_prior`` ``(C, K)`` the founders' allele prior (None: uniform).
    """

    names: list[str]
    mus: np.ndarray
    n_states: int
    reference: np.ndarray
    offset: np.ndarray
    trace_state: np.ndarray
    evidence: np.ndarray
    notes: list[str] = field(default_factory=list)
    rate_nodes: np.ndarray | None = None
    groups: np.ndarray | None = None
    founder_prior: np.ndarray | None = None
    integrated: list[str] = field(default_factory=list)
    rate_weights: np.ndarray | None = None

    def allele(self, c: int, state: int) -> str:
        return format_tenths(int(self.reference[c] + 10 * (state - self.offset[c])))

    def alleles(self, c: int) -> np.ndarray:
        """Allele (tenths) of every grid state of column ``c``."""
        return self.reference[c] + 10 * (np.arange(self.n_states) - self.offset[c])

    def prior(self) -> np.ndarray:
        """The founders' allele prior ``(C, K)``."""
        if self.founder_prior is not None:
            return self.founder_prior
        return np.full((len(self.names), self.n_states), 1.0 / self.n_states)

    def matrices(self, model: StepwiseModel) -> tuple[np.ndarray, np.ndarray]:
        """Transition matrices ``(C, K, K)`` at the point rates and the founder prior."""
        T = _peeling.transition_matrices(
            self.mus, self.n_states, model.two_step_share, model.non_stepwise_rate
        )
        return T, self.prior()


def build_columns(
    persons: tuple[str, ...],
    haplotypes: Mapping[str, Haplotype],
    trace: Haplotype | None,
    config: DonorConfig | None = None,
    catalog: Catalog | None = None,
) -> ColumnSet:
    """Columns for every locus copy typed in the trace or in a typed man of ``persons``."""
    config = config or DonorConfig()
    catalog = catalog or default_catalog()
    index = {p: i for i, p in enumerate(persons)}
    typed = {p: h for p, h in haplotypes.items() if p in index}
    present = set(trace.alleles if trace is not None else ())
    for h in typed.values():
        present |= set(h.alleles)
    names, mus, refs, traces, observed = [], [], [], [], []
    nodes: list[tuple[tuple[float, ...], tuple[float, ...]] | None] = []
    groups: list[int] = []
    loci: list[str] = []
    integrated: list[str] = []
    notes: list[str] = []
    points = config.rate_points if config.rate_points > 1 else 0
    for locus_name in (n for n in catalog.all_loci if n in present):
        locus = catalog.locus(locus_name)
        segment = locus_name == "DYS389II" and (
            trace is None or column_values(trace, "DYS389II", 1, True) is not None
        )
        rate = (config.rates or {}).get(locus_name)
        locus_nodes: tuple[tuple[float, ...], tuple[float, ...]] | None = None
        if rate is None:
            if segment:
                first = catalog.locus("DYS389I")
                rate = max(locus.copy_rate - first.copy_rate, 1e-5)
            else:
                rate = locus.copy_rate
                locus_nodes = rate_nodes(locus, points) if points else None
        group = len(set(groups))
        tv = column_values(trace, locus_name, locus.copies, segment) if trace else None
        per_man = {p: column_values(h, locus_name, locus.copies, segment) for p, h in typed.items()}
        for c in range(locus.copies):
            vals = {p: v[c] for p, v in per_man.items() if v is not None}
            if tv is not None:
                ref = tv[c]
            elif vals:
                counts: dict[int, int] = {}
                for v in vals.values():
                    counts[v] = counts.get(v, 0) + 1
                ref = max(sorted(counts), key=lambda x: counts[x])
            else:
                continue
            off = {p: v for p, v in vals.items() if (v - ref) % 10}
            for p, v in off.items():
                notes.append(
                    f"{locus_name}: {p}'s allele {format_tenths(v)} is not a whole number of "
                    f"steps from {format_tenths(ref)}; left out at this locus"
                )
            steps = {p: (v - ref) // 10 for p, v in vals.items() if p not in off}
            name = locus_name if locus.copies == 1 else f"{locus_name}[{c}]"
            names.append(name + (" (II-I)" if segment else ""))
            mus.append(rate)
            nodes.append(locus_nodes)
            groups.append(group)
            loci.append(locus_name)
            refs.append(ref)
            traces.append(tv is not None)
            observed.append(steps)
        if locus_nodes is not None and groups and groups[-1] == group:
            integrated.append(locus_name)
    lows = [min([0, *s.values()]) - config.margin for s in observed]
    highs = [max([0, *s.values()]) + config.margin for s in observed]
    K = max((h - lo + 1 for lo, h in zip(lows, highs, strict=True)), default=1)
    C = len(names)
    evidence = np.full((len(persons), C), -1, dtype=np.int64)
    offset = np.zeros(C, dtype=np.int64)
    for c, steps in enumerate(observed):
        pad = K - (highs[c] - lows[c] + 1)
        lo = lows[c] - pad // 2
        offset[c] = -lo
        for p, s in steps.items():
            evidence[index[p], c] = s - lo
    trace_state = np.where(np.array(traces, dtype=bool), offset, -1) if C else np.zeros(0, int)
    Q = points if integrated else 1
    node_rates = np.array(
        [list(n[0]) if n is not None else [m] * Q for n, m in zip(nodes, mus, strict=True)],
        dtype=float,
    ).T.reshape(Q, C)
    node_weights = np.array(
        [list(n[1]) if n is not None else [1.0 / Q] * Q for n in nodes], dtype=float
    ).T.reshape(Q, C)
    out = ColumnSet(
        names,
        np.array(mus, dtype=float),
        K,
        np.array(refs, dtype=np.int64),
        offset,
        trace_state.astype(np.int64),
        evidence,
        notes,
        node_rates,
        np.array(groups, dtype=np.int64),
        None,
        integrated,
        node_weights,
    )
    if config.founder_frequencies is not None and C:
        freqs = FounderFrequencies.of(config.founder_frequencies)
        prior = out.prior().copy()
        for c in range(C):
            column = freqs.column_prior(names[c], loci[c], out.alleles(c))
            if column is not None:
                prior[c] = column
        out.founder_prior = prior
    return out


def exact_match_probabilities(
    tree: TreeArrays, columns: ColumnSet, model: StepwiseModel
) -> tuple[np.ndarray, _peeling.PeelResult]:
    """Per person and trace column, ``P(state = trace state | data)`` ``(n, C_trace)``,
    at the point rates ``columns.mus`` (see :func:`integrated_match` for the rank)."""
    T, prior = columns.matrices(model)
    result = _peeling.peel(tree.parent, tree.depth, T, prior, columns.evidence)
    cols = np.nonzero(columns.trace_state >= 0)[0]
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
    cols = np.nonzero(columns.trace_state >= 0)[0]
    prior = columns.prior()
    loglik = np.zeros((Q, G))
    log_match = np.zeros((Q, n, G))
    cut = np.zeros((Q, n, G))
    for q in range(Q):
        T = _peeling.transition_matrices(
            nodes[q], columns.n_states, model.two_step_share, model.non_stepwise_rate
        )
        res = _peeling.peel(tree.parent, tree.depth, T, prior, columns.evidence)
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
    cols = np.nonzero(columns.trace_state >= 0)[0]
    evidence = columns.evidence[:, cols]
    draws, weight = _peeling.forward_sample(
        tree.parent, tree.depth, T[cols], prior[cols], evidence, n_samples, rng
    )
    hit = draws == columns.trace_state[cols][None, None, :]  # (S, n, C)
    total = weight.sum(axis=0)
    out = np.einsum("sc,snc->nc", weight, hit) / np.where(total > 0, total, np.nan)
    ess = total**2 / (weight**2).sum(axis=0)
    return out, ess


@dataclass(frozen=True)
class Candidate:
    """One man of the tree: match probability (log10 too) and, if untested, donor posterior."""

    person: str
    typed: bool
    p_match: float
    log10_p_match: float
    posterior: float | None
    rank: int | None


@dataclass(frozen=True)
class Flag:
    """A typed man whose haplotype contradicts his recorded father link."""

    person: str
    father: str
    log10_ratio: float
    message: str = FLAG_MESSAGE


@dataclass(frozen=True)
class OutsideDonor:
    """The hypothesis "the donor is none of the tree's men": its prior probability, the
    trace's match probability outside the tree (population frequency, given by the
    caller) and its posterior probability."""

    prior: float
    match: float
    posterior: float


@dataclass
class DonorRanking:
    """Result of :func:`rank_donors`: candidates by person, flags and notes; ``outside``
    when a donor outside the tree was allowed; ``prior`` describes the priors used."""

    candidates: dict[str, Candidate]
    columns: list[str]
    flags: list[Flag]
    notes: list[str]
    log10_likelihood: float
    outside: OutsideDonor | None = None
    prior: dict[str, Any] = field(default_factory=dict)

    def ranked(self) -> list[Candidate]:
        """Untested men, best first."""
        out = [c for c in self.candidates.values() if c.rank is not None]
        return sorted(out, key=lambda c: (c.rank, c.person))


def _competition_ranks(values: np.ndarray, rel: float = 1e-9) -> np.ndarray:
    """Rank 1 = largest; ties (within ``rel``) share the smallest rank."""
    order = np.argsort(-values, kind="stable")
    ranks = np.zeros(len(values), dtype=np.int64)
    for pos, i in enumerate(order):
        if pos and math.isclose(values[i], values[order[pos - 1]], rel_tol=rel, abs_tol=0.0):
            ranks[i] = ranks[order[pos - 1]]
        else:
            ranks[i] = pos + 1
    return ranks


def rank_donors(
    pedigree: Pedigree,
    haplotypes: Mapping[str, Haplotype],
    trace: Haplotype | None,
    config: DonorConfig | None = None,
    catalog: Catalog | None = None,
) -> DonorRanking:
    """Rank the untested men of ``pedigree`` as donors of ``trace``.

    Parameters
    ----------
    pedigree : Pedigree
        The tree (typically an expansion around a hit).
    haplotypes : mapping of person to Haplotype
        The typed men; every other man of the pedigree is untested.
    trace : Haplotype or None
        The trace profile (partial allowed). None: only the link checks are run.
    config : DonorConfig, optional

    Returns
    -------
    DonorRanking
    """
    config = config or DonorConfig()
    tree = TreeArrays.from_pedigree(pedigree)
    columns = build_columns(tree.persons, haplotypes, trace, config, catalog)
    n = len(tree.persons)
    typed = np.array([p in haplotypes for p in tree.persons], dtype=bool)
    untested = np.nonzero(~typed)[0]
    described = _describe(config, columns, len(untested))
    if not columns.names:
        return DonorRanking(
            {}, [], [], ["no typed locus in the tree or the trace"], 0.0, None, described
        )
    result = integrated_match(tree, columns, config.model)
    log10_match = result.log_match / math.log(10)
    candidates: dict[str, Candidate] = {}
    posterior = np.zeros(n)
    ranks = np.zeros(n, dtype=np.int64)
    outside = None
    if trace is not None:
        prior = config.prior or {}
        w = np.array(
            [prior.get(tree.persons[i], config.default_weight) for i in untested], dtype=float
        )
        post, p_out, lw = _donor_posteriors(
            log10_match[untested], w, config.outside_prior, config.outside_match
        )
        posterior[untested] = post
        if p_out is not None:
            assert config.outside_match is not None
            outside = OutsideDonor(config.outside_prior, config.outside_match, p_out)
        if len(untested) and not np.isfinite(np.max(lw)):
            columns.notes.append(
                "no untested man has both a positive prior weight and a positive match "
                "probability: every posterior is 0"
            )
        if len(untested):
            ranks[untested] = _competition_ranks(post if np.isfinite(np.max(lw)) else lw)
    for i, person in enumerate(tree.persons):
        untested_i = not typed[i] and trace is not None
        candidates[person] = Candidate(
            person,
            bool(typed[i]),
            float(10.0 ** log10_match[i]) if trace is not None else float("nan"),
            float(log10_match[i]) if trace is not None else float("nan"),
            float(posterior[i]) if untested_i else None,
            int(ranks[i]) if untested_i else None,
        )
    flags = []
    cut = result.cut_logratio / math.log(10)
    for k in np.nonzero(typed & (tree.parent >= 0))[0]:
        if cut[k] > config.flag_log10:
            flags.append(Flag(tree.persons[k], tree.persons[tree.parent[k]], float(cut[k])))
    return DonorRanking(
        candidates,
        columns.names,
        flags,
        columns.notes,
        float(result.loglik.sum() / math.log(10)),
        outside,
        described,
    )


def _donor_posteriors(
    log10_match: np.ndarray,
    weights: np.ndarray,
    outside_prior: float,
    outside_match: float | None,
) -> tuple[np.ndarray, float | None, np.ndarray]:
    """Posteriors of the untested men and of "outside the tree" (None when off).

    ``P(j) ∝ (1 − π_out) w_j / Σw · p_j`` and ``P(out) ∝ π_out · q``, normalised
    together. Also returns the men's unnormalised log10 terms (for ranking).
    """
    total = weights.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        lw = (np.log10(weights / total) if total > 0 else np.full(len(weights), -np.inf)) + (
            log10_match + math.log10(1.0 - outside_prior)
        )
        lo = (
            math.log10(outside_prior) + np.log10(outside_match or 0.0)
            if outside_prior > 0
            else -np.inf
        )
    top = max(float(np.max(lw, initial=-np.inf)), float(lo))
    if not np.isfinite(top):
        return np.zeros(len(weights)), (0.0 if outside_prior > 0 else None), lw
    post = 10.0 ** (lw - top)
    out = 10.0 ** (lo - top)
    z = post.sum() + out
    return post / z, (float(out / z) if outside_prior > 0 else None), lw


def _describe(config: DonorConfig, columns: ColumnSet, n_untested: int) -> dict[str, Any]:
    """The priors actually used, for the output (JSON ``prior``)."""
    if config.prior is None:
        donor = f"uniform over the {n_untested} untested men"
    else:
        donor = (
            f"weights given for {len(config.prior)} men, {config.default_weight:g} for the "
            f"others, normalised over the {n_untested} untested men"
        )
    if config.founder_frequencies is None:
        founders = "uniform over each column's allele grid"
    else:
        founders = FounderFrequencies.of(config.founder_frequencies).describe()
    nodes = columns.rate_nodes
    Q = 1 if nodes is None else nodes.shape[0]
    point = [c for c in columns.names if c.split("[")[0] not in columns.integrated]
    if columns.integrated:
        rates = (
            f"per-copy catalog rates integrated over their Beta posterior ({Q}-node "
            f"Gauss quadrature; {len(columns.integrated)} loci)"
            + (f"; point rates at {', '.join(point)}" if point else "")
        )
    else:
        rates = "point rates"
    return {
        "donor": donor,
        "outside_tree": config.outside_prior,
        "founders": founders,
        "rates": rates,
    }
