"""The acceptance study's figures: one trace's outcome and the shares over a scenario.

:func:`top_k_share` is the issue-7 metric (the donor in the top ``k`` with ties broken
at random); :class:`Trial` records where one trace's donor landed and :class:`Summary`
the shares over the trials of one scenario. The study itself is
:mod:`verification.donor_study.study`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patriline.errors import InputError

__all__ = ["OUTCOMES", "Summary", "Trial", "top_k_share"]

#: Why a trial ended where it did.
OUTCOMES = ("ranked", "no hit", "wrong family", "links missing")


def top_k_share(rank: int, ties: int, k: int = 5) -> float:
    """Expected top-``k`` indicator when ties are broken at random.

    A man tied with ``ties`` men (himself included) for ranks ``rank .. rank + ties − 1``
    lands on each of them with probability ``1 / ties``.
    """
    if rank < 1 or ties < 1:
        raise ValueError("rank and ties must be at least 1")
    return max(0, min(k, rank + ties - 1) - rank + 1) / ties


@dataclass(frozen=True)
class Trial:
    """One trace: where its donor landed.

    ``rank``/``ties`` are the donor's competition rank among the candidates (living
    untested men of the tree) and the number of candidates sharing it; ``predicted`` is
    the posterior mass of the top-``k`` candidates (what the model expects to catch).
    ``hits`` are the hits expanded (one family each or fewer); ``sequential`` the
    number of sequential tests that found the donor (None: not within ``k``, or not
    run).
    """

    donor: int
    hit: int | None
    hit_meioses: int | None
    outcome: str
    candidates: int
    rank: int | None = None
    ties: int = 1
    posterior: float = 0.0
    predicted: float = 0.0
    top_k: float = 0.0
    top_k_competition: bool = False
    chance: float = 0.0
    hits: tuple[int, ...] = ()
    families: int = 0
    sequential: int | None = None


@dataclass(frozen=True)
class Summary:
    """Shares over the trials of one scenario (one hit rule)."""

    trials: int
    top_k: float
    top_k_competition: float
    in_expansion: float
    mean_candidates: float
    chance: float
    predicted: float
    outcomes: dict[str, float]
    mean_families: float = 0.0
    sequential: float = 0.0

    @classmethod
    def of(cls, trials: list[Trial]) -> Summary:
        """``sequential`` is the share of trials with ``Trial.sequential`` set (0 when
        the sequential tests were not run)."""
        n = len(trials)
        if not n:
            raise InputError("no trials to summarise")
        with_tree = [t for t in trials if t.outcome != "no hit"]
        return cls(
            n,
            sum(t.top_k for t in trials) / n,
            sum(t.top_k_competition for t in trials) / n,
            sum(t.outcome == "ranked" for t in trials) / n,
            float(np.mean([t.candidates for t in with_tree])) if with_tree else 0.0,
            sum(t.chance for t in trials) / n,
            sum(t.predicted for t in trials) / n,
            {o: sum(t.outcome == o for t in trials) / n for o in OUTCOMES},
            float(np.mean([t.families for t in with_tree])) if with_tree else 0.0,
            sum(t.sequential is not None for t in trials) / n,
        )
