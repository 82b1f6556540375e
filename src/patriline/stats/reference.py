"""Reference populations for frequency estimates: a file, a list of haplotypes or a store.

Everything is turned into one :class:`ReferenceSet`: specimen IDs, the encoded matrix
(:mod:`patriline.encoding`) and row weights. A wide CSV may carry a multiplicity column
``n`` (or ``count``), as in the ``danes`` data of the disclapmix R package, where each row
is one distinct haplotype seen ``n`` times.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from patriline.encoding import MISSING, OFF_LADDER, Encoded, Layout, encode
from patriline.errors import AccessDenied, DisclosureRefused, InputError
from patriline.haplotype import Haplotype
from patriline.stats.disclosure import check_store_size

__all__ = ["DesignMatrix", "ReferenceSet", "design_matrix", "load_reference"]

_WEIGHT_COLUMNS = ("n", "count", "N", "Count", "COUNT")


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


def _read_wide_csv(path: Path) -> tuple[list[str], list[Haplotype], list[float]]:
    """Minimal wide-CSV reader, used only while :func:`patriline.io.read` is absent."""
    ids: list[str] = []
    haps: list[Haplotype] = []
    weights: list[float] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
        reader = csv.DictReader(fh, dialect=dialect)
        id_cols = {"specimen", "sample name", "sample", "id", "specimen_id"}
        for row in reader:
            line = reader.line_num
            fields = {k: v for k, v in row.items() if k is not None}
            extra = {k: v for k, v in fields.items() if k.strip().lower() in id_cols}
            weight = _weight_of(fields, str(path), line)
            loci = {
                k: v
                for k, v in fields.items()
                if k not in _WEIGHT_COLUMNS and k.strip().lower() not in id_cols
            }
            try:
                hap = Haplotype.parse(loci)
            except InputError as exc:  # AlleleError, UnknownLocusError, HaplotypeError
                raise InputError(f"{path}:{line}: {exc}", file=str(path), line=line, **exc.details) from None  # fmt: skip
            ids.append(next(iter(extra.values()), f"{path.name}:{line}"))
            haps.append(hap)
            weights.append(weight)
    return ids, haps, weights


def _from_file(path: Path) -> ReferenceSet:
    if not path.is_file():
        raise InputError(f"{path}: reference file not found")
    try:
        from patriline.io import read
    except ImportError:
        ids, haps, weights = _read_wide_csv(path)
        reader = "patriline.stats.reference._read_wide_csv"
    else:
        result = read(path)
        ids = [r.specimen for r in result.records]
        haps = [r.haplotype for r in result.records]
        weights = [_weight_of(r.fields, str(path), r.line) for r in result.records]
        reader = "patriline.io.read"
    ref = ReferenceSet.from_haplotypes(haps, ids, weights, source=str(path))
    ref.provenance = {
        "source": str(path),
        "sha256": _sha256(path),
        "reader": reader,
        "rows": len(haps),
        "men": ref.size,
    }
    return ref


def _from_store(db: Any, source: str, user: Any, case: str | None, purpose: str) -> ReferenceSet:
    """Every active profile of a store, read under the store's safeguards.

    Reading a store as a reference population reads genetic data, so it needs a user of
    the store. A profile's frequency against a store (``purpose="frequency"``) tells
    whether that profile is stored: it is authorised like an exact search, in a case.
    A model fit (``purpose="fit"``) needs the ``stats`` right and a store of at least
    the policy's minimum size (:mod:`patriline.stats.disclosure`; what is published from
    it is limited to what ``k`` men share). Both are audited, a refusal too.
    """
    if user is None:
        raise AccessDenied(
            f"{source}: reading a store as a reference population needs a user of the store "
            "(--user); the read is access-checked and audited"
        )
    actor = user if hasattr(user, "role") else db.actor(str(user))
    if purpose == "frequency":
        if case is None:
            raise AccessDenied(
                f"{source}: the frequency of a profile against a store shows whether the "
                "profile is stored, so it is a search: give the case (--case)"
            )
        db.authorize(actor, "search_exact", case)
    else:
        db.authorize(actor, "stats", case)
    ids, enc = db.encoded()
    store_wide = purpose != "frequency"
    if store_wide:
        try:
            check_store_size(enc.n_rows, f"{source}: {purpose} over the store")
        except DisclosureRefused as exc:
            db.audit(
                actor,
                "stats",
                case=case,
                purpose=f"reference population ({purpose})",
                params={"reference": "store", "use": purpose},
                result={"rows": enc.n_rows, "refused": str(exc)},
            )
            raise
    ref = ReferenceSet(list(ids), enc, np.ones(enc.n_rows), source, store_wide=store_wide)
    seq = db.change_seq() if hasattr(db, "change_seq") else None
    ref.provenance = {"source": source, "store_change_seq": seq, "rows": enc.n_rows}
    db.audit(
        actor,
        "stats",
        case=case,
        purpose=f"reference population ({purpose})",
        params={"reference": "store", "use": purpose},
        result={"rows": enc.n_rows},
    )
    return ref


def load_reference(
    source: Any,
    *,
    user: Any = None,
    case: str | None = None,
    purpose: str = "fit",
) -> ReferenceSet:
    """A :class:`ReferenceSet` from a path, a store URL, an open store or haplotypes.

    Parameters
    ----------
    source
        A :class:`ReferenceSet` (returned as is), a sequence of :class:`Haplotype`, an
        object with ``encoded()`` (a :class:`patriline.store.Database`), a store URL
        (``sqlite:///…``, ``postgresql://…``) or a file path.
    user, case, purpose
        For a store only: the acting user (name or ``Actor``), the case, and what the
        reference is for (``"fit"`` or ``"frequency"``); see :func:`_from_store`.
    """
    if isinstance(source, ReferenceSet):
        return source
    if hasattr(source, "encoded") and callable(source.encoded):
        return _from_store(source, str(getattr(source, "url", "<store>")), user, case, purpose)
    if isinstance(source, str | Path):
        text = str(source)
        if "://" in text or Path(text).suffix.lower() in {".db", ".sqlite", ".sqlite3"}:
            try:
                from patriline.store import Database
            except ImportError:
                raise InputError(f"{text}: the store is not available in this build") from None
            with Database.open(text) as db:
                return _from_store(db, text, user, case, purpose)
        return _from_file(Path(text))
    if isinstance(source, Sequence) and all(isinstance(h, Haplotype) for h in source):
        return ReferenceSet.from_haplotypes(list(source))
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
