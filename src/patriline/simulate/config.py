"""Simulation parameters: one frozen dataclass, validated once at the entry.

The size history follows the CLI: ``generations`` of constant size come first, then
``growth_generations`` of exponential growth at rate ``growth`` per generation, ending at
``males`` (the living, final generation). An explicit ``sizes`` list overrides it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from patriline.errors import InputError
from patriline.reference import Catalog, default_catalog

__all__ = [
    "DEFAULT_FOUNDER_NE",
    "STUDY_KITS",
    "STUDY_LIVING_GENERATIONS",
    "STUDY_TRACES",
    "SimConfig",
    "loci_for_kits",
    "study_config",
]

#: Founder haplotypes: a coalescent at mutation-drift balance, or all founders alike.
FOUNDER_MODES = ("msprime", "monomorphic")

#: Default effective size of the founders' coalescent. Calibrated on the Danish
#: reference sample (shared/data/danes_ystr.csv, 185 men, 10 loci): the SMM pairwise
#: squared difference 2*mu*Ne gives Ne estimates 103-2310 per locus, median ~290.
#: A larger Ne (census size) would make every founder unique at fast loci.
DEFAULT_FOUNDER_NE = 300.0


@dataclass(frozen=True)
class SimConfig:
    """Everything a simulation depends on (with the seed, it fixes the output).

    Parameters
    ----------
    males
        Size of the living (final) generation.
    generations
        Generations of constant size after the founders.
    growth, growth_generations
        Exponential growth rate per generation and the number of growth generations
        that follow the constant phase (sizes ``males / (1 + growth) ** (H - i)``).
    sizes
        Explicit sizes of generations ``1 .. T`` (overrides the three above); the
        founders have the size of the first entry.
    vrs
        Variance in reproductive success: each father's weight is Gamma(1/vrs, vrs)
        (mean 1, variance ``vrs``), i.e. a symmetric Dirichlet with alpha = 1/vrs, as in
        malan's ``sample_geneology_varying_size`` (``gamma_parameter_shape = alpha``,
        ``gamma_parameter_scale = 1/alpha``; Andersen & Balding 2017). 0 is Wright-Fisher.
    kit, loci
        The loci simulated: a catalog kit, or explicit loci (``loci`` wins).
    two_step
        Share of mutations that change the repeat number by two (symmetric).
    keep_generations
        Generations (counted back from the living one) whose haplotypes are kept.
    founders
        ``"msprime"`` (haploid coalescent with ``msprime.SMM`` per locus copy) or
        ``"monomorphic"`` (every founder carries the locus midpoint, as malan starts
        every pedigree from one haplotype).
    founder_ne
        Effective size of the founders' coalescent (default ``min(N0 / (1 + vrs),
        DEFAULT_FOUNDER_NE)``: real Y-STR diversity implies a small effective size).
    seed
        Seed of every random draw.
    """

    males: int
    generations: int = 100
    growth: float = 0.0
    growth_generations: int = 0
    sizes: tuple[int, ...] | None = None
    vrs: float = 0.0
    kit: str = "yfiler_plus"
    loci: tuple[str, ...] | None = None
    two_step: float = 0.03
    keep_generations: int = 1
    founders: str = "msprime"
    founder_ne: float | None = None
    seed: int = 1
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self, catalog: Catalog | None = None) -> None:
        """Raise :class:`InputError` naming the first bad parameter."""
        if self.sizes is not None:
            if len(self.sizes) == 0:
                raise InputError("sizes: give at least one generation size")
            bad = [s for s in self.sizes if int(s) < 1]
            if bad:
                raise InputError(f"sizes: every generation needs at least 1 male (got {bad[0]})")
        else:
            if self.males < 1:
                raise InputError(f"males must be at least 1 (got {self.males})", field="males")
            if self.generations < 0:
                raise InputError(
                    f"generations must be >= 0 (got {self.generations})", field="generations"
                )
            if self.growth_generations < 0:
                raise InputError(
                    f"growth_generations must be >= 0 (got {self.growth_generations})",
                    field="growth_generations",
                )
            if self.generations + self.growth_generations < 1:
                raise InputError("simulate at least one generation (--generations or growth)")
            if not -1.0 < self.growth <= 1.0 or not math.isfinite(self.growth):
                raise InputError(
                    f"growth must be in (-1, 1] per generation (got {self.growth})", field="growth"
                )
        if not 0.0 <= self.vrs <= 100.0 or not math.isfinite(self.vrs):
            raise InputError(f"vrs must be in [0, 100] (got {self.vrs})", field="vrs")
        if not 0.0 <= self.two_step <= 1.0:
            raise InputError(f"two-step share must be in [0, 1] (got {self.two_step})")
        if self.keep_generations < 1:
            raise InputError(
                f"keep_generations must be >= 1 (got {self.keep_generations})",
                field="keep_generations",
            )
        if self.keep_generations > self.n_generations + 1:
            raise InputError(
                f"--keep-generations {self.keep_generations} exceeds the "
                f"{self.n_generations + 1} generations simulated (founders included)"
            )
        if self.founder_ne is not None and not self.founder_ne >= 1:
            raise InputError(f"founder_ne must be >= 1 (got {self.founder_ne})")
        if self.founders not in FOUNDER_MODES:
            raise InputError(f"founders must be one of {', '.join(FOUNDER_MODES)}")
        self.locus_names(catalog)

    @property
    def n_generations(self) -> int:
        """Generations simulated after the founders."""
        if self.sizes is not None:
            return len(self.sizes)
        return self.generations + self.growth_generations

    def size_history(self) -> np.ndarray:
        """Sizes of generations ``0 .. T`` (0 = founders, T = living), int64."""
        if self.sizes is not None:
            s = np.asarray(self.sizes, dtype=np.int64)
            return np.concatenate([s[:1], s])
        h = self.growth_generations
        growth = self.males / (1.0 + self.growth) ** (h - np.arange(h + 1, dtype=np.float64))
        sizes = np.maximum(np.rint(growth), 1).astype(np.int64)
        sizes[-1] = self.males
        return np.concatenate([np.full(self.generations, sizes[0], dtype=np.int64), sizes])

    def locus_names(self, catalog: Catalog | None = None) -> tuple[str, ...]:
        """Canonical names of the simulated loci."""
        catalog = catalog or default_catalog()
        if self.loci is not None:
            try:
                return tuple(catalog.locus(n).name for n in self.loci)
            except KeyError as exc:
                raise InputError(f"loci: {exc}") from None
        return catalog.kit(self.kit).loci  # UnknownKitError is an InputError

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("extra")
        return d


def loci_for_kits(
    kits: list[str] | tuple[str, ...], catalog: Catalog | None = None
) -> tuple[str, ...]:
    """The union of the kits' loci in catalog order (to simulate several kits at once)."""
    catalog = catalog or default_catalog()
    wanted: set[str] = set()
    for k in kits:
        wanted |= set(catalog.kit(k).loci)  # UnknownKitError is an InputError
    return tuple(n for n in catalog.all_loci if n in wanted)


#: Kits compared in the malan-based reach study (Olsen et al. 2025).
STUDY_KITS = ("yfiler_plus", "ppy23")

#: Generations the study counts as living (the last three).
STUDY_LIVING_GENERATIONS = 3

#: The study's trace donors are any living man, database members included (its
#: "within five meioses" figures include "the cases where the Y-STR profile originated
#: from the donor"): ``reach(..., traces=STUDY_TRACES)``.
STUDY_TRACES = "all"


def study_config(males: int = 500_000, seed: int = 1) -> SimConfig:
    """The set-up of the published malan-based reach study (Olsen et al. 2025).

    Wright-Fisher with variance in reproductive success 0.2, constant size for 100
    generations then 2 % growth per generation for 150, ending at ``males`` (the study
    reports "a population of 500,066 individuals"); all founders alike (malan); the
    last 3 generations kept (counted as living); the loci of :data:`STUDY_KITS`. Reach
    it with ``living_generations=STUDY_LIVING_GENERATIONS, traces=STUDY_TRACES``.
    Published figures are in docs/simulation.md beside ours.

    References
    ----------
    Olsen TOS, Morling N, Eriksen PS, Kampmann ML, Mogensen HS, Andersen MM (2025).
    Probabilities of finding trace profile donors and their paternal relatives in Y-STR
    reference databases. Forensic Sci Int Genet 103320 (simulated with malan, Andersen
    & Balding 2017, PLoS Genet 13:e1007028).
    """
    return SimConfig(
        males=males,
        generations=100,
        growth=0.02,
        growth_generations=150,
        vrs=0.2,
        loci=loci_for_kits(list(STUDY_KITS)),
        keep_generations=3,
        founders="monomorphic",
        seed=seed,
    )
