"""Weighing a Y-STR mixture: likelihood ratios and the likely contributor pairs.

**Likelihood ratio** (Wolf, Caliebe, Junge & Krawczak 2005). For a mixture ``M`` of
``n`` men and a candidate ``c`` included in it,

    LR = P(M | c and n − 1 unknown men) / P(M | n unknown men),

where ``P(M | known K, u unknown men) = Σ P(h_1) … P(h_u)`` over the unknown men's
haplotypes whose alleles, with those of ``K``, are exactly ``M`` at every locus. The
haplotype probabilities come from a discrete Laplace mixture (Andersen, Eriksen &
Morling 2013; used for mixtures by Andersen, Eriksen, Mogensen & Morling 2015): given
its cluster a haplotype's loci are independent, so the sum is exact and fast —
per cluster tuple ``(j_1 … j_u)`` and per locus ``l``, with ``R_l = M_l \\ K_l`` the
alleles the unknown men must bring,

    P_l = Σ_{U ⊆ R_l} (−1)^|U| Π_i Q_{j_i, l}(M_l \\ U),

(inclusion-exclusion: every unknown man's alleles lie in ``M_l`` and together cover
``R_l``), where ``Q_{j,l}(S)`` is the probability that a man of cluster ``j`` has all his
alleles at ``l`` in ``S`` (at a multi-copy locus, his sorted copies, as the model's
columns hold them). Then ``P = Σ τ_{j_1} … τ_{j_u} Π_l P_l``. Loci the model does not
cover, or where the mixture holds an allele outside it (null, intermediate), are left out
of both terms and named; so are the loci where the candidate is excluded (drop-out): the
LR is then conditional on the loci used, and says so.

**Contributor pairs** of a two-man mixture (disclapmix ``contributor_pairs`` and
``rank_contributor_pairs``): every unordered pair of haplotypes whose alleles are the
mixture's, ranked by ``P(h_1) P(h_2)``.

References
----------
Wolf A, Caliebe A, Junge O, Krawczak M (2005) Forensic interpretation of Y-chromosomal
  DNA mixtures. Forensic Sci Int 152:209-213.
Andersen MM, Eriksen PS, Morling N (2013) The discrete Laplace exponential family and
  estimation of Y-STR haplotype frequencies. J Theor Biol 329:39-51.
Andersen MM, Eriksen PS, Mogensen HS, Morling N (2015) Identifying the most likely
  contributors to a Y-STR mixture using the discrete Laplace method. Forensic Sci Int
  Genet 15:76-83.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from patriline.errors import InputError
from patriline.haplotype import AlleleKind, Haplotype
from patriline.mixture import NULL_ALLELE, Mixture
from patriline.stats.dlmix import DLMixFit

__all__ = ["ContributorPair", "MixtureLR", "contributor_pairs", "mixture_lr"]

#: Most contributors the exact sum takes (clusters ** unknowns cluster tuples).
MAX_UNKNOWNS = 4
#: Most contributor pairs enumerated.
MAX_PAIRS = 1 << 20


@dataclass(frozen=True)
class MixtureLR:
    """The LR of one candidate and its parts."""

    lr: float
    log10_lr: float
    numerator: float
    denominator: float
    contributors: int
    loci_used: tuple[str, ...]
    loci_left_out: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "log10_lr": self.log10_lr,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "contributors": self.contributors,
            "loci_used": list(self.loci_used),
            "loci_left_out": dict(self.loci_left_out),
            "method": "Wolf et al. 2005 with discrete Laplace haplotype probabilities",
        }


def _columns_by_locus(model: DLMixFit) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, col in enumerate(model.columns):
        out.setdefault(col.split("[")[0], []).append(i)
    return out


def _dl(model: DLMixFit, col: int, values: np.ndarray) -> np.ndarray:
    """``(C, len(values))``: P(column ``col`` = value) under each cluster."""
    p = model.p[:, col][:, None]
    y = model.y[:, col][:, None]
    return (1 - p) / (1 + p) * p ** np.abs(values[None, :] - y)


def _subset_prob(model: DLMixFit, cols: list[int], allowed: list[int]) -> np.ndarray:
    """``(C,)``: P(every copy of the man at this locus is in ``allowed``), his copies
    sorted ascending over the model's columns (a non-decreasing sequence)."""
    vals = np.array(sorted(allowed), dtype=float)
    # f[j, i]: probability over the columns so far of a sorted sequence ending at vals[i].
    f = _dl(model, cols[0], vals)
    for col in cols[1:]:
        f = np.cumsum(f, axis=1) * _dl(model, col, vals)
    return np.asarray(f.sum(axis=1))


def _usable(
    mixture: Mixture, model: DLMixFit, known: list[Haplotype]
) -> tuple[list[tuple[str, list[int], list[int], list[int]]], dict[str, str]]:
    """Per usable locus: (name, model columns, mixture alleles, alleles the known men
    carry), in whole repeats; and the loci left out with the reason."""
    by_locus = _columns_by_locus(model)
    left: dict[str, str] = {}
    out = []
    for name in mixture.loci:
        if name not in by_locus:
            left[name] = "not in the discrete Laplace model"
            continue
        alleles = mixture.alleles[name]
        if NULL_ALLELE in alleles or any(v % 10 for v in alleles):
            left[name] = "null or intermediate allele (outside the model)"
            continue
        carried: set[int] = set()
        why = None
        for h in known:
            a = h[name]
            if a.kind is not AlleleKind.VALUE:
                why = f"the candidate is not typed in whole repeats here ({a})"
                break
            if len(a.values) > len(by_locus[name]):
                why = f"the candidate carries a duplication here ({a})"
                break
            if any(v % 10 for v in a.values):
                why = f"the candidate's allele is intermediate ({a})"
                break
            if not set(a.values) <= alleles:
                why = f"the candidate is excluded here ({a}; drop-out assumed)"
                break
            carried.update(v // 10 for v in a.values)
        if why:
            left[name] = why
            continue
        out.append((name, by_locus[name], sorted(v // 10 for v in alleles), sorted(carried)))
    if not out:
        raise InputError("no locus of the mixture can be weighed with this model")
    return out, left


def _probability(
    model: DLMixFit, loci: list[tuple[str, list[int], list[int], list[int]]], unknowns: int
) -> float:
    """``P(M | known men, unknowns unknown men)`` by the module docstring's sum."""
    if unknowns > MAX_UNKNOWNS:
        raise InputError(f"at most {MAX_UNKNOWNS} unknown contributors can be weighed")
    if unknowns == 0:  # the known men must explain every allele
        return float(all(set(m) == set(k) for _, _, m, k in loci))
    n_clusters = model.tau.shape[0]
    total = np.ones((n_clusters,) * unknowns)
    for _, cols, mix, carried in loci:
        rest = [a for a in mix if a not in carried]
        p_l = np.zeros((n_clusters,) * unknowns)
        for size in range(len(rest) + 1):
            for removed in itertools.combinations(rest, size):
                allowed = [a for a in mix if a not in removed]
                if not allowed:
                    continue
                q = _subset_prob(model, cols, allowed)
                term = q
                for _ in range(unknowns - 1):
                    term = np.multiply.outer(term, q)
                p_l += (-1) ** size * term
        total *= np.clip(p_l, 0.0, None)
    weight = model.tau
    for _ in range(unknowns - 1):
        weight = np.multiply.outer(weight, model.tau)
    return float((weight * total).sum())


def mixture_lr(
    mixture: Mixture, candidate: Haplotype, model: DLMixFit, *, contributors: int | None = None
) -> MixtureLR:
    """LR for "the candidate and ``n − 1`` unknown men" against "``n`` unknown men"."""
    if not model.converged:
        raise InputError("the discrete Laplace fit did not converge; refit before weighing")
    n = contributors if contributors is not None else mixture.n_contributors
    if n < mixture.min_contributors:
        raise InputError(
            f"contributors {n} is fewer than the alleles allow ({mixture.min_contributors})",
            field="contributors",
        )
    loci, left = _usable(mixture, model, [candidate])
    numerator = _probability(model, loci, n - 1)
    empty: list[tuple[str, list[int], list[int], list[int]]] = [
        (name, cols, mix, []) for name, cols, mix, _ in loci
    ]
    denominator = _probability(model, empty, n)
    if denominator <= 0:
        raise InputError("the mixture has probability 0 under the model on the loci used")
    lr = numerator / denominator
    return MixtureLR(
        lr,
        math.log10(lr) if lr > 0 else -math.inf,
        numerator,
        denominator,
        n,
        tuple(name for name, *_ in loci),
        left,
    )


@dataclass(frozen=True)
class ContributorPair:
    """One pair of haplotypes (on the model's columns) explaining a two-man mixture."""

    first: tuple[int, ...]
    second: tuple[int, ...]
    p_first: float
    p_second: float

    @property
    def p_pair(self) -> float:
        return self.p_first * self.p_second


def _locus_options(mix: list[int], copies: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Ordered assignments (man 1's sorted copies, man 2's) whose union is ``mix``."""
    seqs = list(itertools.combinations_with_replacement(sorted(mix), copies))
    return [(a, b) for a in seqs for b in seqs if set(a) | set(b) == set(mix)]


def contributor_pairs(mixture: Mixture, model: DLMixFit) -> list[ContributorPair]:
    """Every unordered pair of haplotypes on the model's columns whose alleles are the
    mixture's, best first by ``P(h_1) P(h_2)`` (disclapmix ``rank_contributor_pairs``).
    Every model locus must be typed in the mixture, in whole repeats."""
    by_locus = _columns_by_locus(model)
    missing = [n for n in by_locus if n not in mixture.alleles]
    if missing:
        raise InputError("the mixture is not typed at model loci: " + ", ".join(missing))
    options = []
    for name, cols in by_locus.items():
        alleles = mixture.alleles[name]
        if NULL_ALLELE in alleles or any(v % 10 for v in alleles):
            raise InputError(f"{name}: null or intermediate alleles are outside the model")
        opts = _locus_options([v // 10 for v in alleles], len(cols))
        if not opts:
            raise InputError(f"{name}: {len(alleles)} alleles cannot come from two men")
        options.append((cols, opts))
    count = math.prod(len(o) for _, o in options)
    if count > 2 * MAX_PAIRS:
        raise InputError(f"{count // 2} contributor pairs: more than {MAX_PAIRS} to enumerate")
    first = np.zeros((count, len(model.columns)), dtype=np.int32)
    second = np.zeros_like(first)
    for i, combo in enumerate(itertools.product(*(o for _, o in options))):
        for (cols, _), (one, two) in zip(options, combo, strict=True):
            first[i, cols] = one
            second[i, cols] = two
    # Unordered: keep each pair once (the lexicographically smaller haplotype first).
    keys: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}
    for i in range(count):
        f = tuple(int(v) for v in first[i])
        g = tuple(int(v) for v in second[i])
        keys.setdefault((min(f, g), max(f, g)), i)
    ordered = sorted(keys)
    a = np.array([k[0] for k in ordered], dtype=np.int32)
    b = np.array([k[1] for k in ordered], dtype=np.int32)
    pa, pb = model.predict(a), model.predict(b)
    pairs = [
        ContributorPair(tuple(map(int, x)), tuple(map(int, y)), float(p), float(q))
        for x, y, p, q in zip(a, b, pa, pb, strict=True)
    ]
    pairs.sort(key=lambda c: (-c.p_pair, c.first, c.second))
    return pairs
