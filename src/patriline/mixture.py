"""A Y-STR mixture: the set of alleles seen at each locus of a trace from several men.

A sexual-assault swab often holds the Y-STRs of two or more men. At each locus the lab
sees the union of the contributors' alleles (``DYS19=14/15``: one man carries 14, the
other 15, or both one of them); which man carries which is unknown. A stored profile is
*included* in a mixture when every allele it has at a locus typed in both is among the
mixture's alleles there (:mod:`patriline.search.mixture`); the weight of an inclusion is
a likelihood ratio over the unknown contributors (:mod:`patriline.stats.mixture`).

The number of contributors is stated, or bounded from below by the locus with the most
alleles: a man contributes at most one allele per locus copy, so a one-copy locus with
three alleles needs three men, and DYS385 (two copies) with three alleles two.

Text form: a haplotype string whose values are allele sets, ``"DYS19=14/15,DYS390=23,
DYS385=11/13/14"`` (``/`` or ``,`` between the alleles of a locus); ``null`` is an allele
like any other. Intermediate alleles are kept in tenths of a repeat, as everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from patriline.errors import InputError
from patriline.haplotype import AlleleKind, Haplotype, format_tenths, parse_allele
from patriline.reference import default_catalog

__all__ = ["NULL_ALLELE", "Mixture"]

#: How a null allele stands in an allele set (the encoding's ``NULL`` sentinel).
NULL_ALLELE = -2


@dataclass(frozen=True)
class Mixture:
    """Per locus the alleles seen (tenths of a repeat; :data:`NULL_ALLELE` for null)."""

    alleles: Mapping[str, frozenset[int]]
    contributors: int | None = None
    _sorted: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        catalog = default_catalog()
        clean: dict[str, frozenset[int]] = {}
        for name, values in self.alleles.items():
            locus = catalog.locus(name)  # UnknownLocusError (an InputError) for a typo
            if not values:
                raise InputError(f"mixture: locus {locus.name} has no allele", locus=locus.name)
            clean[locus.name] = frozenset(int(v) for v in values)
        if not clean:
            raise InputError("mixture: no locus is typed")
        order = tuple(n for n in catalog.all_loci if n in clean)
        object.__setattr__(self, "alleles", {n: clean[n] for n in order})
        object.__setattr__(self, "_sorted", order)
        if self.contributors is not None:
            if self.contributors < 1:
                raise InputError("contributors must be at least 1", field="contributors")
            if self.contributors < self.min_contributors:
                raise InputError(
                    f"contributors {self.contributors} is fewer than the alleles allow: "
                    f"{self.widest_locus} needs at least {self.min_contributors}",
                    field="contributors",
                )

    # ------------------------------------------------------------------ reading
    @classmethod
    def parse(cls, text: str, *, contributors: int | None = None) -> Mixture:
        """``"DYS19=14/15,DYS390=23,DYS391=10/null"``: see the module docstring. Each
        allele is checked as a profile's would be (range, repeat number)."""
        catalog = default_catalog()
        sets: dict[str, set[int]] = {}
        for piece in re.split(r"[;\n]|,(?=\s*[A-Za-z][A-Za-z0-9_ .\-/]*\s*=)", text):
            if not piece.strip():
                continue
            if "=" not in piece:
                raise InputError(f"mixture: expected LOCUS=ALLELES, got {piece.strip()!r}")
            name, value = piece.split("=", 1)
            locus = catalog.locus(name.strip())
            if locus.name in sets:
                raise InputError(f"mixture: locus {locus.name} given twice", locus=locus.name)
            found: set[int] = set()
            for token in re.split(r"[/,]", value):
                allele = parse_allele(token, locus)
                if allele.kind is AlleleKind.VALUE:
                    found.update(allele.values)
                elif allele.kind is AlleleKind.NULL:
                    found.add(NULL_ALLELE)
                elif allele.kind is AlleleKind.OFF_LADDER:
                    raise InputError(
                        f"mixture: {locus.name} {token.strip()!r}: an off-ladder call cannot "
                        "be matched; give its value or leave it out",
                        locus=locus.name,
                        value=token.strip(),
                    )
            if found:
                sets[locus.name] = found
        return cls({k: frozenset(v) for k, v in sets.items()}, contributors)

    @classmethod
    def from_haplotype(cls, h: Haplotype, contributors: int | None = None) -> Mixture:
        """Read each locus's values as the set of alleles seen there (missing loci and
        off-ladder calls are left out: they say nothing about which alleles are there)."""
        sets: dict[str, frozenset[int]] = {}
        for name, allele in h.alleles.items():
            if allele.kind is AlleleKind.VALUE:
                sets[name] = frozenset(allele.values)
            elif allele.kind is AlleleKind.NULL:
                sets[name] = frozenset({NULL_ALLELE})
        return cls(sets, contributors)

    @classmethod
    def of(cls, profiles: list[Haplotype], contributors: int | None = None) -> Mixture:
        """The mixture of some men's profiles (for simulation and checks): the union of
        their alleles at every locus any of them typed."""
        sets: dict[str, set[int]] = {}
        for h in profiles:
            for name, allele in h.alleles.items():
                if allele.kind is AlleleKind.VALUE:
                    sets.setdefault(name, set()).update(allele.values)
                elif allele.kind is AlleleKind.NULL:
                    sets.setdefault(name, set()).add(NULL_ALLELE)
        return cls({k: frozenset(v) for k, v in sets.items()}, contributors)

    # ------------------------------------------------------------------ properties
    @property
    def loci(self) -> tuple[str, ...]:
        return self._sorted

    def _needed(self, name: str) -> int:
        return math.ceil(len(self.alleles[name]) / default_catalog().locus(name).copies)

    @property
    def min_contributors(self) -> int:
        """The fewest men that can leave these alleles (one allele per locus copy)."""
        return max(self._needed(n) for n in self.loci)

    @property
    def widest_locus(self) -> str:
        return max(self.loci, key=self._needed)

    @property
    def n_contributors(self) -> int:
        """The stated number of contributors, else the lower bound."""
        return self.contributors if self.contributors is not None else self.min_contributors

    def __str__(self) -> str:
        def one(v: int) -> str:
            return "null" if v == NULL_ALLELE else format_tenths(v)

        return ",".join(
            f"{n}={'/'.join(one(v) for v in sorted(self.alleles[n]))}" for n in self.loci
        )
