"""A stated population model for the loci a trace and a candidate were compared on.

The search ranks candidates by a likelihood ratio, P(differences | related) /
P(trace on the compared loci | an unrelated man). The numerator is the stepwise model
(:mod:`patriline.stats.mutation`); this module gives the denominator, so that the score
of a candidate compared on 27 loci and one compared on 9 weigh the same evidence the
same way: each compared locus copy adds the log of its transmission probability and
subtracts the log of the trace allele's population frequency, so a matching locus adds
evidence and a candidate typed at fewer loci has less of it.

The model is per locus and independent across loci (a product of allele frequencies):
Y-STR loci are linked, so as a haplotype frequency it overstates rarity — it is a
*ranking* model, not a match probability for a report (which uses counting, kappa or
dlmix on a reference population: :mod:`patriline.stats.frequency`). Frequencies come
from the worldwide PowerPlex Y23 data of Purps et al. (2014), counted by
``scripts/allele_frequencies.py`` into ``reference/data/allele_frequencies.csv``; each
is ``(count + 1)/(total + 1)`` (the trace itself added to the table, so an unseen allele
is ``1/(total + 1)``, never 0). A locus the table lacks (Yfiler Plus' DYS449, DYS460,
DYS518, DYS627, DYF387S1, the RM Y-STRs) takes the median homozygosity Σ p² of the
tabulated loci — a stated stand-in that gives such a locus an average weight.

References
----------
Purps J et al. (2014) A global analysis of Y-chromosomal haplotype diversity for 23 STR
  loci. Forensic Sci Int Genet 12:12-23.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

from patriline.haplotype import AlleleKind, Comparison, Haplotype, format_tenths

__all__ = ["AlleleModel", "default_allele_model"]


@functools.lru_cache(maxsize=1024)
def _copies(locus: str) -> int:
    from patriline.reference import default_catalog

    return default_catalog().locus(locus).copies


@dataclass(frozen=True, eq=False)
class AlleleModel:
    """Per-locus allele counts and the frequency rule above."""

    counts: dict[str, dict[str, int]]
    totals: dict[str, int]
    source: str

    @functools.cached_property
    def untabulated(self) -> float:
        """The frequency used at a locus the table lacks: the median homozygosity."""
        homozygosity = sorted(
            sum((n / self.totals[locus]) ** 2 for n in alleles.values())
            for locus, alleles in self.counts.items()
        )
        mid = len(homozygosity) // 2
        if len(homozygosity) % 2:
            return homozygosity[mid]
        return (homozygosity[mid - 1] + homozygosity[mid]) / 2

    def frequency(self, locus: str, allele: str) -> float:
        """``(count + 1)/(total + 1)`` of ``allele`` (as typed) at ``locus``."""
        if locus not in self.counts:
            return self.untabulated
        return (self.counts[locus].get(allele, 0) + 1) / (self.totals[locus] + 1)

    def log_frequency(self, trace: Haplotype, comparison: Comparison) -> float:
        """Natural log of P(trace on the compared locus copies | an unrelated man).

        A locus compared on ``c`` copies contributes ``c`` times the mean log frequency
        of the trace's copy values (the copies compared are not named by the
        comparison); a null allele counts as the allele ``0``, a duplication at a
        one-copy locus as its allele string.
        """
        total = 0.0
        for lc in comparison.loci:
            if lc.compared == 0:
                continue
            allele = trace[lc.locus]
            if allele.kind is AlleleKind.NULL:
                names: tuple[str, ...] = ("0",)
            elif len(allele.values) == _copies(lc.locus) > 1:
                names = tuple(format_tenths(v) for v in allele.values)  # copy by copy
            else:
                names = (str(allele),)  # one copy, or a duplication: the whole string
            total += lc.compared * self._mean_log(lc.locus, names)
        return total

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - the model is immutable and long-lived
    def _mean_log(self, locus: str, names: tuple[str, ...]) -> float:
        return sum(math.log(self.frequency(locus, n)) for n in names) / len(names)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "per-locus allele frequencies (independent loci), the trace added",
            "source": self.source,
            "loci": len(self.counts),
            "untabulated_locus_frequency": round(self.untabulated, 4),
        }


@functools.lru_cache(maxsize=1)
def default_allele_model() -> AlleleModel:
    """The packaged table (Purps et al. 2014, PowerPlex Y23, 19,630 men)."""
    text = resources.files("patriline.reference").joinpath("data/allele_frequencies.csv")
    counts: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    with text.open(encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        for row in rows:
            counts.setdefault(row["locus"], {})[row["allele"]] = int(row["count"])
            totals[row["locus"]] = int(row["total"])
    return AlleleModel(counts, totals, "Purps et al. 2014, PowerPlex Y23, 19,630 men")
