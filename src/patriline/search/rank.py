"""Ranking of search candidates by a stepwise mutation model.

For each candidate the per-copy differences from the trace (:func:`patriline.haplotype.
compare`) are turned into observations (:func:`patriline.stats.mutation.observations`),
and the posterior over the number of meioses ``m = 1..M`` separating the two men is
computed under the stepwise model with the catalog's per-locus rates (one- and two-step
mutations, rates integrated over their Beta posterior; Ballantyne et al. 2010).

The score is the log marginal likelihood ``log Σ_m π(m) P(differences | m)`` with a
uniform prior ``π`` on ``1..M`` (``M = 40`` by default): the numerator of the
relatedness likelihood ratio, and therefore the ordering an LR against an unrelated man
would give for one trace (the denominator, the trace's population frequency, is the same
for every candidate). When a reference model is given, the LR itself is added
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
from patriline.stats.mutation import (
    ColumnObservation,
    MeiosesPosterior,
    StepwiseModel,
    meioses_posterior,
    observations,
)

__all__ = ["Ranked", "explain", "rank", "rank_one"]


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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "specimen": self.specimen,
            "loci_compared": self.loci_compared,
            "mismatches": self.mismatches,
            "steps": self.steps,
            "meioses_mode": self.meioses_mode,
            "meioses_90": list(self.meioses_90) if self.meioses_90 else None,
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
) -> Ranked:
    """Rank one candidate: meioses posterior (mode, 90 % interval) and score.

    ``reference_model`` (a trace frequency, ``DLMixFit`` or ``ReferenceSet``) adds the
    likelihood ratio against an unrelated man
    (:func:`patriline.stats.relatedness.likelihood_ratio`).
    """
    model = model or StepwiseModel()
    comp = compare(trace, candidate)
    post = _posterior(tuple(observations(comp)), model)
    finite = math.isfinite(post.log_marginal)
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
        score=post.log_marginal,
        lr=lr,
        loci=explain(trace, candidate, comp) if with_explain else None,
    )


def rank(
    trace: Haplotype,
    candidates: Sequence[tuple[str, Haplotype]],
    *,
    model: StepwiseModel | None = None,
    with_explain: bool = False,
    reference_model: Any = None,
) -> list[Ranked]:
    """Rank candidates, best first: score descending, then fewer mismatches, steps, id."""
    out = [
        rank_one(
            s, trace, h, model=model, with_explain=with_explain, reference_model=reference_model
        )
        for s, h in candidates
    ]
    return sorted(
        out,
        key=lambda r: (
            -r.score if math.isfinite(r.score) else math.inf,
            r.mismatches,
            r.steps,
            r.specimen,
        ),
    )
