"""Ranking of search candidates by a stepwise mutation model.

For each candidate the per-copy differences from the trace (:func:`patriline.haplotype.
compare`) are turned into observations (:func:`patriline.stats.mutation.observations`),
and the posterior over the number of meioses ``m = 1..M`` separating the two men is
computed under the stepwise model with the catalog's per-locus rates (one- and two-step
mutations, rates integrated over their Beta posterior; Ballantyne et al. 2010).

The score is a log likelihood ratio: ``log Σ_m π(m) P(differences | m)`` with a
uniform prior ``π`` on ``1..M`` (``M = 40`` by default), minus ``log P(trace on the
compared loci | an unrelated man)`` under a stated per-locus population model
(:mod:`patriline.stats.allele_model`). The denominator differs between candidates
compared on different loci: without it a 9-locus row with no mismatch outranked a
27-locus identical profile, because a likelihood over fewer loci is larger. With it
every matching locus adds evidence, so more loci count as more. When a reference model
is given, the LR against a reference population is added as well
(:func:`patriline.stats.relatedness.likelihood_ratio`).

References
----------
Ballantyne KN et al. (2010) Mutability of Y-chromosomal microsatellites. AJHG 87:341.
Walsh B (2001) Estimating the time to the most recent common ancestor for the
  Y chromosome or mitochondrial DNA for a pair of individuals. Genetics 158:897.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from patriline.haplotype import Comparison, Haplotype, compare
from patriline.stats.allele_model import AlleleModel, default_allele_model
from patriline.stats.mutation import (
    ColumnObservation,
    MeiosesPosterior,
    StepwiseModel,
    meioses_posterior,
    observations,
)

__all__ = ["Ranked", "explain", "loci_warning", "rank", "rank_one"]


@dataclass(frozen=True)
class Ranked:
    """One ranked candidate."""

    specimen: str
    loci_compared: int
    mismatches: int
    steps: int
    meioses_mode: int | None
    meioses_90: tuple[int, int] | None
    score: float
    lr: float | None = None
    loci: list[dict[str, Any]] | None = field(default=None, compare=False)
    #: The prior's upper bound on meioses: a mode or interval end equal to it means
    #: "this many or more", not a figure.
    meioses_bound: int = 40

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "specimen": self.specimen,
            "loci_compared": self.loci_compared,
            "mismatches": self.mismatches,
            "steps": self.steps,
            "meioses_mode": self.meioses_mode,
            "meioses_90": list(self.meioses_90) if self.meioses_90 else None,
            "meioses_bound": self.meioses_bound,
            "score": self.score if math.isfinite(self.score) else None,
        }
        if self.lr is not None:
            out["lr"] = self.lr
        if self.loci is not None:
            out["loci"] = self.loci
        return out


@functools.lru_cache(maxsize=65536)
def _posterior(obs: tuple[ColumnObservation, ...], model: StepwiseModel) -> MeiosesPosterior:
    return meioses_posterior(list(obs), model)


def explain(trace: Haplotype, candidate: Haplotype, comparison: Comparison) -> list[dict[str, Any]]:
    """The per-locus comparison as rows: locus, both alleles, status and counts.

    Only the loci typed in the trace: a candidate's loci the trace does not have are
    never shown (a search tells what it compared, not the rest of a stored profile).
    """
    return [
        {
            "locus": lc.locus,
            "trace": str(trace[lc.locus]),
            "candidate": str(candidate[lc.locus]),
            "status": lc.status.value,
            "compared": lc.compared,
            "mismatches": lc.mismatches,
            "steps": lc.steps,
            "segment": lc.segment,
        }
        for lc in comparison.loci
        if lc.locus in trace.alleles
    ]


def rank_one(
    specimen: str,
    trace: Haplotype,
    candidate: Haplotype,
    *,
    model: StepwiseModel | None = None,
    with_explain: bool = False,
    reference_model: Any = None,
    population: AlleleModel | None = None,
) -> Ranked:
    """Rank one candidate: meioses posterior (mode, 90 % highest-density interval), score.

    ``reference_model`` (a trace frequency, ``DLMixFit`` or ``ReferenceSet``) adds the
    likelihood ratio against an unrelated man
    (:func:`patriline.stats.relatedness.likelihood_ratio`).
    """
    model = model or StepwiseModel()
    population = population or default_allele_model()
    comp = compare(trace, candidate)
    post = _posterior(tuple(observations(comp)), model)
    finite = math.isfinite(post.log_marginal)
    score = post.log_marginal - population.log_frequency(trace, comp) if finite else -math.inf
    lr = None
    if reference_model is not None:
        from patriline.stats.relatedness import likelihood_ratio

        lr = likelihood_ratio(
            trace, candidate, reference_model, max_meioses=model.max_meioses, model=model
        ).lr
    return Ranked(
        specimen=specimen,
        loci_compared=comp.loci_compared,
        mismatches=comp.mismatches,
        steps=comp.steps,
        meioses_mode=post.mode if finite else None,
        meioses_90=post.interval(0.9) if finite else None,
        score=score,
        lr=lr,
        loci=explain(trace, candidate, comp) if with_explain else None,
        meioses_bound=model.max_meioses,
    )


def rank(
    trace: Haplotype,
    candidates: Sequence[tuple[str, Haplotype]],
    *,
    model: StepwiseModel | None = None,
    with_explain: bool = False,
    reference_model: Any = None,
    population: AlleleModel | None = None,
) -> list[Ranked]:
    """Rank candidates, best first: score descending, then fewer mismatches, more loci
    compared, fewer steps, id."""
    population = population or default_allele_model()
    out = [
        rank_one(
            s,
            trace,
            h,
            model=model,
            with_explain=with_explain,
            reference_model=reference_model,
            population=population,
        )
        for s, h in candidates
    ]
    return sorted(
        out,
        key=lambda r: (
            -r.score if math.isfinite(r.score) else math.inf,
            r.mismatches,
            -r.loci_compared,
            r.steps,
            r.specimen,
        ),
    )


def loci_warning(ranked: Sequence[Ranked]) -> str | None:
    """A warning when candidates were compared on different numbers of locus copies:
    their scores then rest on different evidence, which a reader must see."""
    counts = sorted({r.loci_compared for r in ranked})
    if len(counts) < 2:
        return None
    return (
        f"candidates were compared on different numbers of locus copies ({counts[0]}-"
        f"{counts[-1]}); the score weighs each compared locus against a population model, "
        "so fewer loci means less evidence"
    )
