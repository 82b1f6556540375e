"""Population simulation with true pedigrees, sampling, and reach analysis.

:func:`simulate` runs a male Wright-Fisher population (with variance in reproductive
success) with explicit father links and Y-STR mutation along every edge, from founders
at mutation-drift balance (msprime). :mod:`patriline.simulate.reach` answers how far a
database of a given share of men reaches, and counts matching men (Andersen & Balding
2017). See docs/simulation.md.
"""

from patriline.simulate.config import SimConfig, loci_for_kits
from patriline.simulate.output import load_population, write_population
from patriline.simulate.population import Population, simulate
from patriline.simulate.reach import MatchingMen, ReachResult, matching_men, reach
from patriline.simulate.sampling import database_sample, trace_sample

__all__ = [
    "MatchingMen",
    "Population",
    "ReachResult",
    "SimConfig",
    "database_sample",
    "load_population",
    "loci_for_kits",
    "matching_men",
    "meioses",
    "reach",
    "simulate",
    "trace_sample",
    "write_population",
]


def meioses(population: Population, a: str | int, b: str | int) -> int | None:
    """Meioses between males ``a`` and ``b`` (person ids like ``M000123``); None if unrelated
    within the simulated time. Same as ``population.meioses(a, b)``."""
    return population.meioses(a, b)
