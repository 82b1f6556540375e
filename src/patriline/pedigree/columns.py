"""A pedigree and its typed men as arrays ready for peeling.

:class:`TreeArrays` holds the tree as index arrays (father, depth); :func:`build_columns`
turns the typed men's haplotypes and the trace into locus-copy columns
(:class:`ColumnSet`): observed states on a bounded allele grid, the rates of each
column's locus and the founders' allele prior.

Model and assumptions (stated, see docs/pedigree.md)
----------------------------------------------------
* Columns are independent: loci mutate independently, and the copies of a multi-copy
  locus are treated as independent columns in sorted order (the same simplification
  as sorted-copy comparison).
* States of a column are repeat numbers on a bounded grid: whole steps from the trace's
  allele (or from the most common allele where the trace is not typed), from the lowest
  observed value − ``margin`` to the highest + ``margin``, padded so every column has
  the same number of states. A value that is not a whole number of steps from the
  reference (``15.2`` against ``15``), a null allele, off-ladder call or duplication
  is left out at that column (a note says so). A partly typed multi-copy locus
  (``DYS385 = 11,-``) is left out for that man: the copy called cannot be placed among
  sorted copies, and the missing copy must never count as a mutation (a note says so).
* Rates: the catalog's per-copy rate, with its quadrature rates and weights when it is
  integrated (:func:`patriline.pedigree.priors.rate_nodes`); explicit
  ``DonorConfig.rates`` and ``rate_points`` ≤ 1 give point rates. DYS389II is the
  ``II − I`` segment where DYS389I is typed, at the point rate ``rate(II) − rate(I)``.
* Founders of the tree draw their allele from ``DonorConfig.founder_frequencies``
  (smoothed, renormalised on the grid) or, by default, uniformly from the grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from patriline.haplotype import Haplotype, format_tenths
from patriline.pedigree import _peeling
from patriline.pedigree.config import DonorConfig
from patriline.pedigree.model import Pedigree
from patriline.pedigree.priors import FounderFrequencies, column_names, column_values, rate_nodes
from patriline.reference import Catalog, default_catalog
from patriline.stats.mutation import StepwiseModel

__all__ = ["ColumnSet", "TreeArrays", "build_columns", "segment_rate"]


def segment_rate(catalog: Catalog) -> float:
    """Per-meiosis rate of the DYS389II − DYS389I segment: ``rate(II) − rate(I)`` (II
    holds I, so a DYS389I change is counted once), floored at 1e-5."""
    return max(catalog.locus("DYS389II").copy_rate - catalog.locus("DYS389I").copy_rate, 1e-5)


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

    def trace_columns(self) -> np.ndarray:
        """Indices of the columns typed in the trace."""
        return np.nonzero(self.trace_state >= 0)[0]

    def matrices(
        self, model: StepwiseModel, rates: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Transition matrices ``(C, K, K)`` at ``rates`` (one per column; default the
        point rates ``mus``) and the founder prior ``(C, K)``."""
        T = _peeling.transition_matrices(
            self.mus if rates is None else rates,
            self.n_states,
            model.two_step_share,
            model.non_stepwise_rate,
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
                rate = segment_rate(catalog)
            else:
                rate = locus.copy_rate
                locus_nodes = rate_nodes(locus, points) if points else None
        group = len(set(groups))
        tv = column_values(trace, locus_name, locus.copies, segment) if trace else None
        per_man = {p: column_values(h, locus_name, locus.copies, segment) for p, h in typed.items()}
        partly = [
            p
            for p, h in ([("the trace", trace)] if trace is not None else []) + list(typed.items())
            if h[locus_name].partial(locus.copies)
        ]
        if partly:  # a copy not called cannot be placed among sorted copies: never a mismatch
            notes.append(
                f"{locus_name}: partly typed for {', '.join(partly)}; left out at this locus"
            )
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
            names.append(column_names(locus, segment)[c])
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
