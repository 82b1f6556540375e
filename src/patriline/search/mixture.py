"""Which stored profiles are included in a Y-STR mixture.

A profile is *included* at a locus typed in both when each of its alleles there is one
of the mixture's alleles; it is *excluded* at that locus otherwise. Allele drop-out (a
contributor's allele too weak to be called) can make a true contributor excluded at a
few loci, so a search allows up to ``max_dropout`` excluded loci. The count of locus
copies compared follows :func:`patriline.haplotype.compare`: missing and off-ladder
copies are not compared; a typed locus counts its copies (a null allele is compared,
and is included only where the mixture has null). A duplicated allele at a one-copy locus (``DYS19=14,15``) is
included when all its values are in the mixture.

:func:`include` scans an encoded matrix with a numba kernel (:mod:`._mixture_kernels`)
and checks every candidate row exactly with :func:`inclusion`, the plain-Python rule
that the kernel must equal (its independent twin is in ``tests/naive.py``).

References
----------
Wolf A, Caliebe A, Junge O, Krawczak M (2005) Forensic interpretation of Y-chromosomal
  DNA mixtures. Forensic Sci Int 152:209-213.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from patriline.encoding import Encoded, decode
from patriline.errors import InputError
from patriline.haplotype import AlleleKind, Haplotype
from patriline.mixture import NULL_ALLELE, Mixture
from patriline.reference import default_catalog

__all__ = ["DEFAULT_MIN_LOCI", "Included", "Inclusion", "include", "inclusion"]

#: Fewest locus copies compared for an inclusion to count (the minimal haplotype).
DEFAULT_MIN_LOCI = 9


@dataclass(frozen=True)
class Inclusion:
    """How one profile stands to a mixture."""

    compared: int
    excluded_loci: tuple[str, ...]
    included_loci: tuple[str, ...]

    @property
    def excluded(self) -> int:
        return len(self.excluded_loci)


@functools.lru_cache(maxsize=1024)
def _copies(locus: str) -> int:
    return default_catalog().locus(locus).copies


def inclusion(mixture: Mixture, profile: Haplotype) -> Inclusion:
    """The exact rule of the module docstring, locus by locus."""
    compared = 0
    excluded: list[str] = []
    included: list[str] = []
    for name in mixture.loci:
        allele = profile[name]
        if allele.kind is AlleleKind.VALUE:
            values = set(allele.values)
        elif allele.kind is AlleleKind.NULL:
            values = {NULL_ALLELE}
        else:
            continue  # missing or off-ladder: nothing to compare
        compared += _copies(name)  # as compare() counts them
        (included if values <= mixture.alleles[name] else excluded).append(name)
    return Inclusion(compared, tuple(excluded), tuple(included))


@dataclass(frozen=True)
class Included:
    """The profiles included in a mixture, best first (fewest excluded loci, then most
    locus copies compared, then ID)."""

    ids: list[str]
    inclusions: list[Inclusion]
    candidates_checked: int
    loci_used: tuple[str, ...]
    loci_ignored: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)


def _tables(
    mixture: Mixture, encoded: Encoded
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    from patriline.search._mixture_kernels import MAX_VALUE, NULL_SLOT

    layout = encoded.layout
    used = [n for n in mixture.loci if n in layout.loci]
    ignored = tuple(n for n in mixture.loci if n not in layout.loci)
    # Loci with the fewest alleles exclude most profiles: scan them first.
    used.sort(key=lambda n: len(mixture.alleles[n]))
    cols: list[int] = []
    starts = [0]
    allowed = np.zeros((max(len(used), 1), MAX_VALUE), dtype=np.uint8)
    for g, name in enumerate(used):
        sl = layout.slice_of(name)
        cols.extend(range(sl.start, sl.stop))
        starts.append(len(cols))
        for v in mixture.alleles[name]:
            if v == NULL_ALLELE:
                allowed[g, NULL_SLOT] = 1
            elif 0 <= v < NULL_SLOT:
                allowed[g, v] = 1
    return (
        np.array(cols, dtype=np.int64),
        np.array(starts, dtype=np.int64),
        allowed,
        tuple(used),
        ignored,
    )


def include(
    ids: Sequence[str],
    encoded: Encoded,
    mixture: Mixture,
    *,
    max_dropout: int = 0,
    min_loci: int = DEFAULT_MIN_LOCI,
    rows: np.ndarray | None = None,
) -> Included:
    """The rows of ``encoded`` (named by ``ids``) included in ``mixture`` with at most
    ``max_dropout`` excluded loci over at least ``min_loci`` compared locus copies.

    ``rows`` limits the answer to those row indexes (e.g. the active rows of an index).
    """
    from patriline.search._mixture_kernels import inclusion_scan

    if max_dropout < 0 or min_loci < 0:
        raise InputError("max_dropout and min_loci must not be negative", field="max_dropout")
    if len(ids) != encoded.values.shape[1]:
        raise InputError("ids and encoded rows differ in number")
    cols, starts, allowed, used, ignored = _tables(mixture, encoded)
    if not used:
        raise InputError(
            "none of the mixture's loci is held for the stored profiles: " + ", ".join(mixture.loci)
        )
    values = np.ascontiguousarray(encoded.values)
    candidates = inclusion_scan(values, cols, starts, allowed, int(max_dropout), int(min_loci))
    if rows is not None:
        candidates = np.intersect1d(candidates, np.asarray(rows, dtype=np.int64))
    found: list[tuple[int, int, str, Inclusion]] = []
    for r in candidates.tolist():
        one = Encoded(
            encoded.layout,
            values[:, r : r + 1],
            {(0, loc): a for (row, loc), a in encoded.extras.items() if row == r},
        )
        exact = inclusion(mixture, decode(one)[0])
        if exact.excluded <= max_dropout and exact.compared >= min_loci:
            found.append((exact.excluded, -exact.compared, str(ids[r]), exact))
    found.sort(key=lambda f: f[:3])
    return Included([f[2] for f in found], [f[3] for f in found], len(candidates), used, ignored)
