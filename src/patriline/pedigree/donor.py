"""Donor ranking: which untested man of a paternal tree most probably left the trace.

With the match probabilities ``p_j = P(h_j = trace | haplotypes of the typed men)`` of
every man of the tree (:mod:`patriline.pedigree.likelihood`, on the columns of
:mod:`patriline.pedigree.columns`; settings in :class:`DonorConfig`), the posterior
that ``j`` is the donor is
``P(donor = j) = w_j p_j / Σ_k w_k p_k`` over the untested men, with prior weights
``w`` (uniform by default, configurable). Ranks: 1 = most probable; men whose
posteriors agree to 1e-9 share the best rank (competition ranking).

* Donor outside the tree (optional): prior probability ``outside_prior`` that the
  donor is none of the tree's men, with match probability ``outside_match`` (the
  trace's population frequency, given by the caller). Off by default (closed set).
* Trace: only its typed loci are used.

Typed men whose haplotypes contradict their recorded father link are flagged: the data
are ``10**flag_log10`` times more probable with the link cut (the man's branch then
hangs from an unrelated founder) than with it. These flags belong to the case output.

The model's assumptions are stated in docs/pedigree.md and in the docstrings of
:mod:`patriline.pedigree.columns` and :mod:`patriline.pedigree.likelihood`; the names
of those modules are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from patriline.haplotype import Haplotype
from patriline.pedigree.columns import ColumnSet, TreeArrays, build_columns
from patriline.pedigree.config import DonorConfig
from patriline.pedigree.likelihood import (
    IntegratedResult,
    exact_match_probabilities,
    integrated_match,
    monte_carlo_match_probabilities,
)
from patriline.pedigree.model import Pedigree
from patriline.pedigree.priors import FounderFrequencies
from patriline.reference import Catalog

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
