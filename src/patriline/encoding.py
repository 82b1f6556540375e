"""The encoded form of many haplotypes: one small-integer array per locus copy.

This is the form the search kernels scan and the store keeps beside its records.

Layout version 1
----------------
* A :class:`Layout` names its columns: one per locus copy, loci in catalog order
  (``DYS385`` gives two columns ``DYS385[0]``, ``DYS385[1]``), copies sorted ascending.
* Values are ``int16``: repeat number in tenths (``15`` → 150, ``15.2`` → 152), so
  intermediates round-trip exactly, or one of the sentinels
  ``MISSING = -1``, ``NULL = -2``, ``OFF_LADDER = -3``, ``EXTRA = -4``.
* ``EXTRA`` fills every column of a locus whose allele has more values than the locus
  has copies (a duplication such as ``DYS19 = 19,20``); the allele itself is kept in
  :attr:`Encoded.extras` so that decoding is lossless.
* ``Encoded.values`` has shape ``(n_columns, n_rows)``: each locus copy is one
  contiguous array (column-wise), C order.

Kernel semantics (must equal :func:`patriline.haplotype.compare`):
per column pair ``(a, b)``: MISSING or OFF_LADDER on either side → not compared;
NULL/NULL → equal; NULL vs other → 1 mismatch, 1 step; EXTRA/EXTRA → compare the
kept alleles (a kernel may treat it as equal and re-check candidates exactly); EXTRA vs
a value → 1 mismatch and 1 step per copy; values → ``Δ = |a − b|``, a mismatch when
``Δ > 0``, with ``ceil(Δ/10)`` steps. Multi-copy loci use the pairing of copies that
minimises (steps, mismatches). The DYS389II column is compared on ``II − I`` when both
rows have values in both DYS389 columns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from patriline.haplotype import Allele, AlleleKind, Haplotype
from patriline.reference import Catalog, default_catalog

__all__ = [
    "EXTRA",
    "LAYOUT_VERSION",
    "MISSING",
    "NULL",
    "OFF_LADDER",
    "Encoded",
    "Layout",
    "decode",
    "encode",
]

LAYOUT_VERSION = 1
MISSING = -1
NULL = -2
OFF_LADDER = -3
EXTRA = -4
DTYPE = np.int16


@dataclass(frozen=True)
class Layout:
    """The columns of an encoded matrix: ``(locus, copy)`` pairs, loci in catalog order."""

    loci: tuple[str, ...]
    copies: tuple[int, ...]
    kit: str | None = None
    version: int = LAYOUT_VERSION

    @classmethod
    def for_loci(
        cls, loci: Iterable[str], *, kit: str | None = None, catalog: Catalog | None = None
    ) -> Layout:
        catalog = catalog or default_catalog()
        wanted = {catalog.locus(n).name for n in loci}
        names = tuple(n for n in catalog.all_loci if n in wanted)
        return cls(names, tuple(catalog.loci[n].copies for n in names), kit)

    @classmethod
    def for_kit(cls, kit: str, catalog: Catalog | None = None) -> Layout:
        catalog = catalog or default_catalog()
        k = catalog.kit(kit)
        return cls.for_loci(k.loci, kit=k.id, catalog=catalog)

    @classmethod
    def universal(cls, catalog: Catalog | None = None) -> Layout:
        """Every catalog locus: the layout a store with mixed kits uses."""
        catalog = catalog or default_catalog()
        return cls.for_loci(catalog.all_loci, catalog=catalog)

    @property
    def n_columns(self) -> int:
        return sum(self.copies)

    @property
    def columns(self) -> tuple[tuple[str, int], ...]:
        return tuple((n, i) for n, c in zip(self.loci, self.copies, strict=True) for i in range(c))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(
            n if c == 1 else f"{n}[{i}]"
            for n, c in zip(self.loci, self.copies, strict=True)
            for i in range(c)
        )

    def slice_of(self, locus: str) -> slice:
        start = 0
        for name, c in zip(self.loci, self.copies, strict=True):
            if name == locus:
                return slice(start, start + c)
            start += c
        raise KeyError(locus)

    @property
    def dys389(self) -> tuple[int, int] | None:
        """Column indices of (DYS389I, DYS389II) when both are in the layout."""
        if "DYS389I" in self.loci and "DYS389II" in self.loci:
            return self.slice_of("DYS389I").start, self.slice_of("DYS389II").start
        return None

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "loci": list(self.loci),
                "copies": list(self.copies),
                "kit": self.kit,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Layout:
        doc = json.loads(text)
        if doc.get("version") != LAYOUT_VERSION:
            raise ValueError(
                f"layout version {doc.get('version')} is not supported (this is {LAYOUT_VERSION})"
            )
        return cls(tuple(doc["loci"]), tuple(doc["copies"]), doc.get("kit"), doc["version"])


@dataclass
class Encoded:
    """Encoded haplotypes: ``values[column, row]`` plus the alleles behind EXTRA cells."""

    layout: Layout
    values: np.ndarray
    extras: dict[tuple[int, str], Allele] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(self.values.shape[1])

    def row(self, i: int) -> np.ndarray:
        return np.ascontiguousarray(self.values[:, i])

    def rows_major(self) -> np.ndarray:
        """The same data as ``(n_rows, n_columns)``, C order (a copy)."""
        return np.ascontiguousarray(self.values.T)


def encode_allele(allele: Allele, copies: int) -> tuple[list[int], bool]:
    """Column values for one allele; the flag says the allele goes to ``extras``."""
    if allele.kind is AlleleKind.MISSING:
        return [MISSING] * copies, False
    if allele.kind is AlleleKind.NULL:
        return [NULL] * copies, False
    if allele.kind is AlleleKind.OFF_LADDER:
        return [OFF_LADDER] * copies, False
    if len(allele.values) > copies:
        return [EXTRA] * copies, True
    vals = list(allele.values)
    return vals + [MISSING] * (copies - len(vals)), False


def encode(haplotypes: Sequence[Haplotype], layout: Layout) -> Encoded:
    """Encode haplotypes under ``layout``. Loci outside the layout raise ``ValueError``."""
    n = len(haplotypes)
    values = np.full((layout.n_columns, n), MISSING, dtype=DTYPE)
    extras: dict[tuple[int, str], Allele] = {}
    known = set(layout.loci)
    offsets = {name: layout.slice_of(name) for name in layout.loci}
    for i, h in enumerate(haplotypes):
        outside = [k for k in h.alleles if k not in known]
        if outside:
            raise ValueError(f"row {i}: loci not in the layout: {', '.join(outside)}")
        for name, allele in h.alleles.items():
            sl = offsets[name]
            col, extra = encode_allele(allele, sl.stop - sl.start)
            values[sl, i] = col
            if extra:
                extras[(i, name)] = allele
    return Encoded(layout, values, extras)


def _decode_cell(vals: np.ndarray) -> Allele:
    first = int(vals[0])
    if first == NULL:
        return Allele(AlleleKind.NULL)
    if first == OFF_LADDER:
        return Allele(AlleleKind.OFF_LADDER)
    present = tuple(int(v) for v in vals if v >= 0)
    if not present:
        return Allele(AlleleKind.MISSING)
    return Allele(AlleleKind.VALUE, present)


def decode(encoded: Encoded, rows: Iterable[int] | None = None) -> list[Haplotype]:
    """Haplotypes back from the encoded form (lossless inverse of :func:`encode`)."""
    layout = encoded.layout
    slices = [(name, layout.slice_of(name)) for name in layout.loci]
    out = []
    for i in range(encoded.n_rows) if rows is None else rows:
        col = encoded.values[:, i]
        alleles: dict[str, Allele] = {}
        for name, sl in slices:
            if col[sl.start] == EXTRA:
                alleles[name] = encoded.extras[(i, name)]
            else:
                alleles[name] = _decode_cell(col[sl])
        out.append(Haplotype(alleles, layout.kit))
    return out
