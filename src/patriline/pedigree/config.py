"""Settings of donor ranking (:class:`DonorConfig`), checked when they are made.

One dataclass for every option of :func:`patriline.pedigree.donor.rank_donors`: the
column builder (:mod:`patriline.pedigree.columns`) reads the grid, rate and founder
settings, the ranking reads the donor priors and the link-flag threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from patriline.errors import InputError
from patriline.pedigree.priors import FounderFrequencies
from patriline.stats.mutation import StepwiseModel

__all__ = ["DonorConfig"]


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
        if self.outside_match is not None and self.outside_prior <= 0:
            raise InputError(
                "the trace's population frequency (outside_match, --outside-frequency) is "
                "used only for a donor outside the tree: it needs outside_prior above 0 "
                "(--outside-prior)"
            )
        if self.outside_prior > 0 and self.outside_match is None:
            raise InputError(
                "a donor outside the tree needs the trace's population frequency (outside_match)"
            )
