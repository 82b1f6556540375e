"""Haplotype frequency in a reference population: counting, Brenner's kappa, dlmix.

Counting and kappa work on the loci of the query profile: the reference men considered
are those typed at every one of them (``n``), a match is an identical allele at each.
The discrete Laplace mixture (:mod:`patriline.stats.dlmix`) covers the loci of its fit.

References
----------
Clopper CJ, Pearson ES (1934) The use of confidence or fiducial limits illustrated in the
  case of the binomial. Biometrika 26:404-413.
Brenner CH (2010) Fundamentals of forensic haplotype frequency estimation ... the kappa
  method. Forensic Sci Int Genet 4:281-291 (κ = singleton share; an unseen haplotype has
  match probability ≈ (1 − κ)/n).
Andersen MM, Eriksen PS, Morling N (2013) J Theor Biol 329:39-51 (discrete Laplace).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats as st

from patriline.encoding import EXTRA, MISSING, OFF_LADDER, Layout, encode
from patriline.errors import InputError
from patriline.haplotype import AlleleKind, Haplotype
from patriline.stats.dlmix import DLMixFit
from patriline.stats.reference_set import ReferenceSet

__all__ = [
    "CountEstimate",
    "KappaEstimate",
    "clopper_pearson",
    "count_matches",
    "dlmix_frequency",
    "kappa_estimate",
]


def clopper_pearson(x: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval: ``(Beta⁻¹(α/2; x, n−x+1), Beta⁻¹(1−α/2; x+1, n−x))``.

    >>> [round(v, 6) for v in clopper_pearson(7, 50)]
    [0.058192, 0.267396]
    """
    if n <= 0:
        raise InputError("Clopper-Pearson interval: the reference is empty (n = 0)")
    if not 0 <= x <= n:
        raise InputError(f"Clopper-Pearson interval: count {x} outside 0..{n}")
    a = (1.0 - level) / 2.0
    lo = 0.0 if x == 0 else float(st.beta.ppf(a, x, n - x + 1))
    hi = 1.0 if x == n else float(st.beta.ppf(1.0 - a, x + 1, n - x))
    return lo, hi


@dataclass(frozen=True)
class CountEstimate:
    """Counting estimate ``x/n`` with its Clopper-Pearson interval."""

    loci: tuple[str, ...]
    n: int
    count: int
    p: float
    ci: tuple[float, float]
    level: float
    ignored_loci: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"p": self.p, "ci": list(self.ci), "level": self.level}


@dataclass(frozen=True)
class KappaEstimate:
    """Brenner's kappa: singleton share and the match probability of an unseen haplotype."""

    kappa: float
    singletons: int
    n: int
    #: ``(1 − κ)/n``; None where it degenerates (every reference haplotype a singleton,
    #: κ = 1, gives 0: no estimate, not a probability of 0).
    p: float | None
    applies: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Selection:
    loci: tuple[str, ...]
    ignored: tuple[str, ...]
    typed: np.ndarray  # reference rows typed at every locus used
    cols: list[int] = field(default_factory=list)
    query_values: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))


def _select(query: Haplotype, ref: ReferenceSet) -> _Selection:
    layout = ref.encoded.layout
    if not query.alleles:
        raise InputError("the query haplotype has no typed locus")
    usable, ignored = [], []
    for name, allele in query.alleles.items():
        if name not in layout.loci:
            ignored.append(f"{name} (not typed in the reference)")
        elif allele.kind is AlleleKind.OFF_LADDER:
            ignored.append(f"{name} (off-ladder: cannot be matched)")
        else:
            usable.append(name)
    if not usable:
        raise InputError(
            "none of the query's loci can be compared with the reference: " + "; ".join(ignored)
        )
    sub = Layout.for_loci(usable)
    qv = encode([query], sub).values[:, 0]
    cols = [c for name in sub.loci for c in range(*_span(layout, name))]
    block = ref.encoded.values[cols]
    typed = ((block != MISSING) & (block != OFF_LADDER)).all(axis=0)
    return _Selection(sub.loci, tuple(ignored), typed, cols, qv)


def _span(layout: Layout, name: str) -> tuple[int, int]:
    sl = layout.slice_of(name)
    return sl.start, sl.stop


def _check_size(ref: ReferenceSet, n: float, loci: tuple[str, ...]) -> None:
    if ref.size < 2:
        raise InputError(
            f"{ref.source}: the reference holds {ref.size:g} haplotype(s); a frequency needs "
            "a reference population (at least 2, in practice hundreds)"
        )
    if n < 2:
        raise InputError(
            f"{ref.source}: only {n:g} reference haplotype(s) are typed at all of "
            f"{', '.join(loci)}; no frequency can be estimated on these loci"
        )


def count_matches(query: Haplotype, ref: ReferenceSet, level: float = 0.95) -> CountEstimate:
    """Count reference men identical to ``query`` on its loci, with a CP interval."""
    sel = _select(query, ref)
    n = float(ref.weights[sel.typed].sum())
    _check_size(ref, n, sel.loci)
    block = ref.encoded.values[sel.cols]
    equal = _equal_rows(query, ref, sel, block)
    if (sel.query_values == EXTRA).any():  # duplications: compare the kept alleles
        layout = ref.encoded.layout
        duplicated = [
            name
            for name in sel.loci
            if query[name].kind is AlleleKind.VALUE
            and len(query[name].values) > len(range(*_span(layout, name)))
        ]
        for i in np.flatnonzero(equal):
            if any(ref.encoded.extras.get((int(i), name)) != query[name] for name in duplicated):
                equal[i] = False
    x = round(float(ref.weights[equal].sum()))
    n_int = round(n)
    lo, hi = clopper_pearson(x, n_int, level)
    return CountEstimate(sel.loci, n_int, x, x / n_int, (lo, hi), level, sel.ignored)


def _equal_rows(
    query: Haplotype, ref: ReferenceSet, sel: _Selection, block: np.ndarray
) -> np.ndarray:
    """Reference rows (typed at every column used) that show the query's alleles.

    A partly typed multi-copy locus of the query (``DYS385 = 11,-``) matches every
    reference allele holding its values among its copies (``11,14``, ``10,11``, ``11,11``):
    the copy not called says nothing, so it must not narrow the count (a count of the
    exact column values would find only men lacking that copy, and overstate rarity).
    """
    qv = sel.query_values
    whole = np.ones(len(qv), dtype=bool)
    contained = np.ones(block.shape[1], dtype=bool)
    start = 0
    layout = ref.encoded.layout
    for name in sel.loci:
        width = len(range(*_span(layout, name)))
        allele = query[name]
        if allele.partial(width):
            whole[start : start + width] = False
            cells = block[start : start + width]
            for v in set(allele.values):
                need = allele.values.count(v)
                contained &= (cells == v).sum(axis=0) >= need
        start += width
    return (block[whole] == qv[whole][:, None]).all(axis=0) & contained & sel.typed


def kappa_estimate(query: Haplotype, ref: ReferenceSet, count: int | None = None) -> KappaEstimate:
    """Brenner's (2010) kappa on the reference men typed at the query's loci."""
    sel = _select(query, ref)
    n = float(ref.weights[sel.typed].sum())
    _check_size(ref, n, sel.loci)
    per_haplotype = _haplotype_counts(ref, sel)
    singletons = int(np.sum(np.isclose(per_haplotype, 1.0)))
    n_int = round(n)
    kappa = singletons / n_int
    if count is None:
        count = count_matches(query, ref).count
    applies = count == 0
    p: float | None = (1.0 - kappa) / n_int
    note = (
        ""
        if applies
        else "kappa is for haplotypes not in the reference; this one is seen, use counting"
    )
    if singletons == n_int:
        p, applies = None, False
        note = (
            f"every one of the {n_int} reference haplotypes on these loci is a singleton "
            "(κ = 1): Brenner's (1 − κ)/n is 0, which is no estimate; the reference is too "
            "small for the kappa method on these loci"
        )
    return KappaEstimate(kappa, singletons, n_int, p, applies, note)


def _haplotype_counts(ref: ReferenceSet, sel: _Selection) -> np.ndarray:
    """Weighted count of each distinct haplotype among the typed reference men, on the
    selected loci. A duplication is held aside from the matrix (an ``EXTRA`` cell), so
    rows holding one are told apart by their alleles: ``DYS19=14,15`` and ``15,16`` are
    two haplotypes, as counting has them."""
    idx = np.flatnonzero(sel.typed)
    rows = ref.encoded.values[sel.cols][:, idx].T
    w = ref.weights[idx]
    extra = (rows == EXTRA).any(axis=1)
    counts: list[float] = []
    if (~extra).any():
        _, inverse = np.unique(rows[~extra], axis=0, return_inverse=True)
        counts += np.bincount(inverse.ravel(), weights=w[~extra]).tolist()
    spelled: dict[tuple[bytes, tuple[str, ...]], float] = {}
    for j in np.flatnonzero(extra):
        alleles = tuple(str(ref.encoded.extras.get((int(idx[j]), name), "")) for name in sel.loci)
        key = (rows[j].tobytes(), alleles)
        spelled[key] = spelled.get(key, 0.0) + float(w[j])
    return np.array(counts + list(spelled.values()))


def query_row(query: Haplotype, model: DLMixFit) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The query on the model's columns: whole repeats, a mask of typed columns, notes.

    Raises :class:`InputError` when an allele at a model locus is not a whole repeat
    number (intermediate, null, off-ladder, duplication): the model has no answer then.
    """
    from patriline.reference import default_catalog

    catalog = default_catalog()
    x = np.zeros(len(model.columns), dtype=np.int32)
    mask = np.zeros(len(model.columns), dtype=bool)
    notes: list[str] = []
    cols_by_locus: dict[str, list[int]] = {}
    for i, col in enumerate(model.columns):
        cols_by_locus.setdefault(col.split("[")[0], []).append(i)
    for name, idx in cols_by_locus.items():
        allele = query[name]
        if allele.kind is AlleleKind.MISSING:
            notes.append(f"{name} not typed in the query: summed over")
            continue
        copies = catalog.locus(name).copies
        if allele.partial(copies) and len(idx) == copies:
            notes.append(
                f"{name} partly typed in the query ({allele.text(copies)}): summed over "
                "(the model's copies are sorted, so the copy called cannot be placed); "
                "the estimate is an upper bound"
            )
            continue
        if allele.kind is not AlleleKind.VALUE or len(allele.values) > copies:
            raise InputError(
                f"locus {name} value {str(allele)!r}: the discrete Laplace model covers whole "
                "repeat numbers only (no null, off-ladder or duplicated alleles)"
            )
        if any(v % 10 for v in allele.values):
            raise InputError(
                f"locus {name} value {str(allele)!r}: intermediate alleles are outside the "
                "discrete Laplace model (whole repeats only)"
            )
        values = sorted(allele.values)
        if len(values) != len(idx):
            raise InputError(
                f"locus {name} value {str(allele)!r}: {len(values)} value(s) for "
                f"{len(idx)} model column(s)"
            )
        for position, val in zip(idx, values, strict=True):
            x[position] = val // 10
            mask[position] = True
    outside = [n for n in query.alleles if n not in cols_by_locus]
    if outside:
        notes.append("loci outside the model (not in this estimate): " + ", ".join(outside))
    if not mask.any():
        raise InputError("the query shares no locus with the dlmix model")
    return x, mask, notes


def dlmix_frequency(query: Haplotype, model: DLMixFit) -> dict[str, Any]:
    """``{"p", "clusters", "loci", "notes"}`` from a fitted discrete Laplace mixture."""
    x, mask, notes = query_row(query, model)
    p = float(model.predict(x[None, :], mask[None, :])[0])
    return {
        "p": p,
        "clusters": model.clusters,
        "columns": [c for c, m in zip(model.columns, mask, strict=True) if m],
        "notes": notes,
    }
