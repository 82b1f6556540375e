"""Reference populations for frequency estimates: a file or a list of haplotypes.

(A store read as a reference population is the use case
:func:`patriline.casework.statistics.reference`, which builds the same
:class:`ReferenceSet` under the store's safeguards.)

Everything is turned into one :class:`ReferenceSet`: specimen IDs, the encoded matrix
(:mod:`patriline.encoding`) and row weights. A wide CSV may carry a multiplicity column
``n`` (or ``count``), as in the ``danes`` data of the disclapmix R package, where each row
is one distinct haplotype seen ``n`` times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from patriline.encoding import MISSING, OFF_LADDER, Encoded, Layout, encode
from patriline.errors import InputError
from patriline.haplotype import Haplotype
from patriline.io import read

__all__ = ["DesignMatrix", "ReferenceSet", "design_matrix", "is_store_url", "load_reference"]

_WEIGHT_COLUMNS = ("n", "count", "N", "Count", "COUNT")

#: File suffixes taken for a SQLite store, not a reference file.
STORE_SUFFIXES = frozenset({".db", ".sqlite", ".sqlite3"})

_STORE_HINT = (
    "a store is read as a reference population under its safeguards, through "
    "patriline.casework (Session.reference / Session.fit / Session.frequency), "
    "not by the statistics engine"
)


@dataclass
class ReferenceSet:
    """Encoded reference haplotypes with row weights (multiplicities)."""

    ids: list[str]
    encoded: Encoded
    weights: np.ndarray
    source: str
    provenance: dict[str, Any] = field(default_factory=dict)
    #: True for a store read for a store-wide statistic (not a case's frequency): what is
    #: published from it obeys ``patriline.stats.disclosure`` (k-anonymity).
    store_wide: bool = False

    @property
    def size(self) -> float:
        """Number of men in the reference (sum of the weights)."""
        return float(self.weights.sum())

    @classmethod
    def from_haplotypes(
        cls,
        haplotypes: Sequence[Haplotype],
        ids: Sequence[str] | None = None,
        weights: Sequence[float] | None = None,
        source: str = "<haplotypes>",
    ) -> ReferenceSet:
        loci = {name for h in haplotypes for name in h.alleles}
        layout = Layout.for_loci(loci) if loci else Layout((), ())
        enc = encode(list(haplotypes), layout)
        w = np.ones(len(haplotypes)) if weights is None else np.asarray(weights, dtype=float)
        names = [str(i + 1) for i in range(len(haplotypes))] if ids is None else list(ids)
        return cls(names, enc, w, source, {"source": source, "rows": len(haplotypes)})


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _weight_of(fields: dict[str, str], file: str, line: int) -> float:
    for key in _WEIGHT_COLUMNS:
        if key in fields and str(fields[key]).strip():
            text = str(fields[key]).strip()
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if value < 0 or value != int(value):
                raise InputError(
                    f"{file}:{line}: column {key!r} value {text!r}: a count must be a "
                    "whole number >= 0"
                )
            return value
    return 1.0


def _from_file(path: Path) -> ReferenceSet:
    if not path.is_file():
        raise InputError(f"{path}: reference file not found")
    result = read(path)
    ids = [r.specimen for r in result.records]
    haps = [r.haplotype for r in result.records]
    weights = [_weight_of(r.fields, str(path), r.line) for r in result.records]
    ref = ReferenceSet.from_haplotypes(haps, ids, weights, source=str(path))
    ref.provenance = {
        "source": str(path),
        "sha256": _sha256(path),
        "reader": "patriline.io.read",
        "rows": len(haps),
        "men": ref.size,
    }
    return ref


def is_store_url(text: str | Path) -> bool:
    """Whether ``text`` names a store (a URL, or a SQLite file by its suffix) rather than
    a reference file: a store is read through :mod:`patriline.casework`, under its
    safeguards (``Session.reference``)."""
    text = str(text)
    return "://" in text or Path(text).suffix.lower() in STORE_SUFFIXES


def load_reference(source: ReferenceSet | Sequence[Haplotype] | str | Path) -> ReferenceSet:
    """A :class:`ReferenceSet` from a file path or haplotypes (a ``ReferenceSet`` is
    returned as is).

    A store is not read here: reading it as a reference population is a use case under
    the store's safeguards (access check, disclosure limits, audit), so it goes through
    :func:`patriline.casework.statistics.reference` (``Session.reference``); a store
    URL or an open store given here is an :class:`InputError` saying so.
    """
    if isinstance(source, ReferenceSet):
        return source
    if isinstance(source, str | Path):
        if is_store_url(source):
            raise InputError(f"{source}: {_STORE_HINT}")
        return _from_file(Path(source))
    haplotypes = (
        [h for h in source if isinstance(h, Haplotype)] if isinstance(source, Sequence) else []
    )
    if isinstance(source, Sequence) and len(haplotypes) == len(source):
        return ReferenceSet.from_haplotypes(haplotypes)
    if callable(getattr(source, "encoded", None)):
        raise InputError(f"{type(source).__name__}: {_STORE_HINT}")
    raise InputError(f"cannot use {type(source).__name__} as a reference population")


@dataclass(frozen=True)
class DesignMatrix:
    """Whole-repeat rows of a reference on chosen locus copies (the dlmix input)."""

    columns: tuple[str, ...]
    loci: tuple[str, ...]
    x: np.ndarray
    weights: np.ndarray
    dropped: int
    dropped_reasons: dict[str, int]


def _column_name(locus: str, copy: int, copies: int) -> str:
    return locus if copies == 1 else f"{locus}[{copy}]"


def design_matrix(
    ref: ReferenceSet, loci: Sequence[str] | None = None, min_typed: float = 0.95
) -> DesignMatrix:
    """Rows of whole repeat numbers for the dlmix fit.

    ``loci`` defaults to the loci typed in at least ``min_typed`` of the reference. Rows
    with a missing, null, off-ladder, duplicated or intermediate allele at a chosen locus
    are left out and counted in ``dropped_reasons`` (the discrete Laplace model covers
    whole repeats only).
    """
    layout = ref.encoded.layout
    vals = ref.encoded.values
    if ref.encoded.n_rows == 0:
        raise InputError(f"{ref.source}: the reference is empty")
    if loci is None:
        chosen = []
        for name in layout.loci:
            block = vals[layout.slice_of(name)]
            share = float(ref.weights[(block >= 0).all(axis=0)].sum()) / max(ref.size, 1)
            if share >= min_typed:
                chosen.append(name)
        if not chosen:
            raise InputError(
                f"{ref.source}: no locus is typed in {min_typed:.0%} of the reference; "
                "choose the loci explicitly"
            )
    else:
        missing = [n for n in loci if n not in layout.loci]
        if missing:
            raise InputError(f"{ref.source}: loci not in the reference: {', '.join(missing)}")
        chosen = [n for n in layout.loci if n in set(loci)]
    rows = []
    cols = []
    for name in chosen:
        sl = layout.slice_of(name)
        for i, col in enumerate(range(sl.start, sl.stop)):
            rows.append(vals[col])
            cols.append(_column_name(name, i, sl.stop - sl.start))
    block = np.stack(rows, axis=1).astype(np.int32)
    reasons: dict[str, int] = {}
    bad = np.zeros(block.shape[0], dtype=bool)
    for label, cond in (
        ("missing", block == MISSING),
        ("off-ladder", block == OFF_LADDER),
        ("null or duplication", block <= -2),
        ("intermediate", (block >= 0) & (block % 10 != 0)),
    ):
        rows_hit = cond.any(axis=1) & ~bad
        if rows_hit.any():
            reasons[label] = int(rows_hit.sum())
        bad |= cond.any(axis=1)
    keep = ~bad
    return DesignMatrix(
        tuple(cols),
        tuple(chosen),
        np.ascontiguousarray(block[keep] // 10),
        ref.weights[keep].astype(float),
        int(bad.sum()),
        reasons,
    )
