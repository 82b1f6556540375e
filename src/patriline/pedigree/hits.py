"""Which search hits to expand: every hit tied at the top score.

The familial search ranks candidates by a score (:mod:`patriline.search.rank`) and
breaks equal scores by mismatches, steps and specimen ID. Equal scores are common:
monomorphic founders and slow loci leave unrelated men of several families with the
same profile, or the same differences from the trace. Expanding only the first of them
chooses a family by specimen ID; in the acceptance study (docs/pedigree.md) the donor's
family was among the tied top hits in most of the traces whose top hit lay in another
family. :func:`tied_top_hits` picks them all, up to :data:`~patriline.pedigree.expand.
MAX_FAMILIES`, for one joint expansion (:func:`patriline.casework.expansion.expand_top_hits`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from patriline.errors import InputError
from patriline.pedigree.expand import MAX_FAMILIES
from patriline.search.api import SearchResult
from patriline.search.rank import Ranked

__all__ = ["TopHits", "tied_top_hits"]


@dataclass(frozen=True)
class TopHits:
    """The hits to expand: ``specimens`` (in the search's order), the top ``score``,
    and how many hits were ``tied`` with it (more than ``len(specimens)`` when the cap
    cut the list)."""

    specimens: list[str]
    score: float
    tied: int

    @property
    def truncated(self) -> bool:
        return self.tied > len(self.specimens)


def tied_top_hits(
    result: SearchResult | Sequence[Ranked],
    *,
    tolerance: float = 1e-9,
    cap: int = MAX_FAMILIES,
) -> TopHits:
    """Every hit whose score is within ``tolerance`` of the top score, at most ``cap``.

    Parameters
    ----------
    result : SearchResult or sequence of Ranked
        A search result, or its candidates ranked best first (:func:`patriline.search.
        rank.rank`).
    tolerance : float
        Largest difference of scores (natural-log marginal likelihoods) still counted as
        a tie; the default only absorbs rounding (equal differences from the trace give
        equal scores).
    cap : int
        Most hits returned (1..:data:`MAX_FAMILIES`); further ties are dropped in the
        search's order (``TopHits.truncated``).

    Returns
    -------
    TopHits
        Empty when the result has no candidate. A top score that is not finite (no
        locus compared) ties nothing: the first candidate alone.
    """
    if tolerance < 0 or not math.isfinite(tolerance):
        raise InputError(f"tolerance must be a finite number ≥ 0 (got {tolerance})")
    if not 1 <= cap <= MAX_FAMILIES:
        raise InputError(f"cap must be 1..{MAX_FAMILIES} (got {cap})")
    ranked = list(result.candidates if isinstance(result, SearchResult) else result)
    if not ranked:
        return TopHits([], float("nan"), 0)
    top = ranked[0].score
    if not math.isfinite(top):
        return TopHits([ranked[0].specimen], top, 1)
    tied = [r.specimen for r in ranked if math.isfinite(r.score) and top - r.score <= tolerance]
    return TopHits(tied[:cap], top, len(tied))
