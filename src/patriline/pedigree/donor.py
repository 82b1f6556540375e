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
  per-copy point rate (``Locus.copy_rate``; DYS389II as the ``II − I`` segment where
  DYS389I is typed, at ``rate(II) − rate(I)``), plus, with probability
  ``model.non_stepwise_rate``, a jump to any grid state (covers wrong links and
  non-stepwise changes, and keeps every likelihood positive).
* Founders of the tree draw their allele uniformly from the grid.
* Trace: only its typed loci are used.

Typed men whose haplotypes contradict their recorded father link are flagged: the data
are ``10**flag_log10`` times more probable with the link cut (the man's branch then
hangs from an unrelated founder) than with it. These flags belong to the case output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from patriline.haplotype import AlleleKind, Haplotype, format_tenths
from patriline.pedigree import _peeling
from patriline.pedigree.model import Pedigree
from patriline.reference import Catalog, default_catalog
from patriline.stats.mutation import StepwiseModel

__all__ = [
    "FLAG_MESSAGE",
    "Candidate",
    "ColumnSet",
    "DonorConfig",
    "DonorRanking",
    "Flag",
    "TreeArrays",
    "build_columns",
    "exact_match_probabilities",
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
        Overrides of catalog rates (tests, sensitivity analyses).
    """

    model: StepwiseModel = field(default_factory=StepwiseModel)
    margin: int = 3
    prior: Mapping[str, float] | None = None
    default_weight: float = 1.0
    flag_log10: float = 2.0
    rates: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        if self.margin < 1:
            raise ValueError("margin must be at least 1")
        if self.prior is not None and any(w < 0 for w in self.prior.values()):
            raise ValueError("prior weights must be non-negative")


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
    ``reference + 10·(k − offset)``.
    """

    names: list[str]
    mus: np.ndarray
    n_states: int
    reference: np.ndarray
    offset: np.ndarray
    trace_state: np.ndarray
    evidence: np.ndarray
    notes: list[str] = field(default_factory=list)

    def allele(self, c: int, state: int) -> str:
        return format_tenths(int(self.reference[c] + 10 * (state - self.offset[c])))

    def matrices(self, model: StepwiseModel) -> tuple[np.ndarray, np.ndarray]:
        """Transition matrices ``(C, K, K)`` and the uniform founder prior ``(C, K)``."""
        T = _peeling.transition_matrices(
            self.mus, self.n_states, model.two_step_share, model.non_stepwise_rate
        )
        prior = np.full((len(self.names), self.n_states), 1.0 / self.n_states)
        return T, prior


def _column_values(h: Haplotype, locus: str, copies: int, segment: bool) -> list[int] | None:
    a = h[locus]
    if a.kind is not AlleleKind.VALUE or len(a.values) != copies:
        return None
    if segment:
        first = h["DYS389I"]
        if first.kind is not AlleleKind.VALUE or len(first.values) != 1:
            return None
        return [a.values[0] - first.values[0]]
    return list(a.values)


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
    notes: list[str] = []
    for locus_name in (n for n in catalog.all_loci if n in present):
        locus = catalog.locus(locus_name)
        segment = locus_name == "DYS389II" and (
            trace is None or _column_values(trace, "DYS389II", 1, True) is not None
        )
        rate = (config.rates or {}).get(locus_name)
        if rate is None:
            if segment:
                first = catalog.locus("DYS389I")
                rate = max(locus.copy_rate - first.copy_rate, 1e-5)
            else:
                rate = locus.copy_rate
        tv = _column_values(trace, locus_name, locus.copies, segment) if trace else None
        per_man = {
            p: _column_values(h, locus_name, locus.copies, segment) for p, h in typed.items()
        }
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
            refs.append(ref)
            traces.append(tv is not None)
            observed.append(steps)
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
    return ColumnSet(
        names,
        np.array(mus, dtype=float),
        K,
        np.array(refs, dtype=np.int64),
        offset,
        trace_state.astype(np.int64),
        evidence,
        notes,
    )


def exact_match_probabilities(
    tree: TreeArrays, columns: ColumnSet, model: StepwiseModel
) -> tuple[np.ndarray, _peeling.PeelResult]:
    """Per person and trace column, ``P(state = trace state | data)`` ``(n, C_trace)``."""
    T, prior = columns.matrices(model)
    result = _peeling.peel(tree.parent, tree.depth, T, prior, columns.evidence)
    cols = np.nonzero(columns.trace_state >= 0)[0]
    probs = result.marginals[:, cols, columns.trace_state[cols]]
    return probs, result


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


@dataclass
class DonorRanking:
    """Result of :func:`rank_donors`: candidates by person, flags and notes."""

    candidates: dict[str, Candidate]
    columns: list[str]
    flags: list[Flag]
    notes: list[str]
    log10_likelihood: float

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
    if not columns.names:
        return DonorRanking({}, [], [], ["no typed locus in the tree or the trace"], 0.0)
    probs, result = exact_match_probabilities(tree, columns, config.model)
    with np.errstate(divide="ignore"):
        log10_match = np.log10(probs).sum(axis=1) if probs.shape[1] else np.zeros(n)
    typed = np.array([p in haplotypes for p in tree.persons])
    candidates: dict[str, Candidate] = {}
    untested = np.nonzero(~typed)[0]
    posterior = np.zeros(n)
    ranks = np.zeros(n, dtype=np.int64)
    if trace is not None and len(untested):
        prior = config.prior or {}
        w = np.array(
            [prior.get(tree.persons[i], config.default_weight) for i in untested], dtype=float
        )
        with np.errstate(divide="ignore"):
            lw = np.log10(w) + log10_match[untested]
        top = np.max(lw)
        if np.isfinite(top):
            post = 10.0 ** (lw - top)
            posterior[untested] = post / post.sum()
        else:
            columns.notes.append(
                "no untested man has both a positive prior weight and a positive match "
                "probability: every posterior is 0"
            )
        ranks[untested] = _competition_ranks(posterior[untested] if np.isfinite(top) else lw)
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
    cut = result.cut_logratio.sum(axis=1) / math.log(10)
    for k in np.nonzero(typed & (tree.parent >= 0))[0]:
        if cut[k] > config.flag_log10:
            flags.append(Flag(tree.persons[k], tree.persons[tree.parent[k]], float(cut[k])))
    return DonorRanking(
        candidates,
        columns.names,
        flags,
        columns.notes,
        float(result.loglik.sum() / math.log(10)),
    )
