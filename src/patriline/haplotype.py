"""The allele and haplotype model, and the rules for comparing two Y-STR profiles.

This module is the one place that knows how a Y-STR allele is written, validated and
compared. Every other part (readers, store, search kernels, statistics) follows it.

Conventions
-----------
* **Repeat numbers in tenths.** An allele value is held as an integer number of
  tenths of a repeat: ``15`` is 150, the intermediate ``15.2`` (15 repeats and 2 bp)
  is 152. Integers round-trip exactly; ``15.2 → 16.2`` is one step (a difference of 10).
* **DYS389.** A haplotype stores the *full* DYS389II allele (which contains DYS389I),
  as kits and YHRD report it. Files that give ``DYS389II-I`` are converted on input by
  adding DYS389I. When two profiles both have DYS389I and DYS389II typed, DYS389II is
  compared on the difference segment ``II − I``, so a single mutation in the DYS389I
  part counts once (at DYS389I), not twice.
* **Multi-copy loci** (DYS385a/b, DYF387S1a/b, DYF399S1 ...) are unordered: values are
  kept sorted; a single value in a whole-locus cell means every copy has it
  (``DYS385 = 11`` is ``11,11``: one peak, a homozygote as kits report it). Mismatches
  are counted per copy, as kit marker counts do (Yfiler Plus = 27 markers), under the
  best pairing of copies.
* **Partly typed multi-copy loci.** A copy that was not called (``DYS385a = 11`` with
  ``DYS385b`` empty, or the cell ``11,-``) stays missing: the allele holds fewer values
  than the locus has copies and is written ``11,-``. It is compared on the copies it
  has (paired with the closest copy of the other profile) and never counts as a
  mismatch for the copy it lacks.
* **Allele kinds**: value(s), null (deletion), off-ladder (``OL``: kept, never counted
  as a match or mismatch), missing (not typed or dropped out). A single-copy locus with
  two values is a duplication; it is kept, and compares equal only to the same
  duplication.

Comparison of one locus copy with another (``a``, ``b`` in tenths):

* either missing or off-ladder → not compared;
* both null → equal; one null → a mismatch of 1 step (a non-stepwise event);
* ``Δ = |a − b|``: 0 → equal; a multiple of 10 → differs by ``Δ/10`` steps;
  otherwise (``15.2`` vs ``15``) → *not comparable* by whole steps: a mismatch whose
  step count is ``ceil(Δ/10)``.

For a multi-copy locus the pairing of copies minimises total steps, then mismatches
(then, among equal pairings, it compares the most copies and prefers whole-repeat
differences, so the result does not depend on the order of the two profiles).
An allele with more values than the locus has copies (a duplication) equals only an
identical allele; otherwise it is not comparable, with one mismatch and one step per copy.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from patriline.errors import InputError, truncate
from patriline.reference import Catalog, Kit, Locus, default_catalog

__all__ = [
    "Allele",
    "AlleleError",
    "AlleleKind",
    "Comparison",
    "Haplotype",
    "HaplotypeError",
    "LocusComparison",
    "Status",
    "compare",
    "compare_alleles",
    "distance",
    "format_tenths",
    "parse_allele",
    "parse_haplotype_string",
]


@functools.cache
def _shipped() -> Catalog:
    """The shipped catalog, built once: parsing and comparing without an explicit
    catalog reuse it (building one per profile cost 0.2 ms, most of a parse). Private,
    so no caller adds kits to it."""
    return default_catalog()


#: Alleles may lie this many repeats outside the catalog's observed range before they
#: are rejected as impossible (new alleles are found every year; 999 is never one).
RANGE_MARGIN = 3

#: The documented words for "not typed" (docs/formats.md), compared upper-case.
_MISSING_WORDS = {"", "NA", "N/A", "ND", "-"}
#: Words that used to mean missing silently: an uncertain call (``?``), "not tested",
#: a spreadsheet's ``nan``, ``none`` (one letter from ``null``); now a reported problem.
_NOT_MISSING_WORDS = {"?", "NT", "NAN", "NONE", "MISSING", "."}
_MISSING_HINT = "write a missing allele as an empty cell, NA, N/A, ND or -"
_NULL_WORDS = {"NULL", "DEL", "DELETION", "NULLALLELE", "Ø"}
_OL_WORDS = {"OL", "OFFLADDER", "OFF-LADDER", "OFF LADDER"}


class AlleleKind(StrEnum):
    VALUE = "value"
    NULL = "null"
    OFF_LADDER = "ol"
    MISSING = "missing"


class AlleleError(InputError, ValueError):
    """An allele that cannot be read or is impossible at its locus (an :class:`InputError`;
    still a ``ValueError`` for callers that catch that)."""

    def __init__(self, locus: str, value: str, reason: str) -> None:
        self.locus = locus
        self.value = value
        self.reason = reason
        super().__init__(
            f"locus {locus} value {truncate(repr(value))}: {reason}",
            locus=locus,
            value=value,
            reason=reason,
        )


class HaplotypeError(InputError, ValueError):
    """A profile that cannot be built: a locus given twice, loci outside the kit, a
    piece that is not ``LOCUS=ALLELE`` (an :class:`InputError`, and a ``ValueError``)."""


def format_tenths(tenths: int) -> str:
    """``150 → '15'``, ``152 → '15.2'``."""
    whole, part = divmod(tenths, 10)
    return f"{whole}" if part == 0 else f"{whole}.{part}"


@dataclass(frozen=True, order=True)
class Allele:
    """An allele at one locus. ``values`` are sorted repeat numbers in tenths (kind VALUE only)."""

    kind: AlleleKind
    values: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind is AlleleKind.VALUE:
            if not self.values:
                raise ValueError("a VALUE allele needs at least one value")
            if list(self.values) != sorted(self.values):
                object.__setattr__(self, "values", tuple(sorted(self.values)))
        elif self.values:
            raise ValueError(f"a {self.kind.value} allele has no values")

    @classmethod
    def of(cls, *repeats: float | int | str) -> Allele:
        """Convenience: ``Allele.of(11, 14)``, ``Allele.of("15.2")``."""
        return cls(AlleleKind.VALUE, tuple(_to_tenths(str(r)) for r in repeats))

    @property
    def typed(self) -> bool:
        """True for a value or a null allele: something that takes part in comparison."""
        return self.kind in (AlleleKind.VALUE, AlleleKind.NULL)

    @property
    def intermediate(self) -> bool:
        return any(v % 10 for v in self.values)

    def __str__(self) -> str:
        if self.kind is AlleleKind.VALUE:
            return ",".join(format_tenths(v) for v in self.values)
        return {"null": "null", "ol": "OL", "missing": ""}[self.kind.value]

    def partial(self, copies: int) -> bool:
        """True for values at fewer than ``copies`` copies of a multi-copy locus (a copy
        not called: ``DYS385 = 11,-``)."""
        return self.kind is AlleleKind.VALUE and len(self.values) < copies

    def text(self, copies: int) -> str:
        """The allele as written at a locus of ``copies`` copies: as :meth:`__str__`,
        with ``-`` for each copy not called (``11,-``), so that it reads back the same
        (a lone ``11`` at DYS385 reads as ``11,11``)."""
        if self.partial(copies):
            return ",".join(
                [*(format_tenths(v) for v in self.values), *["-"] * (copies - len(self.values))]
            )
        return str(self)


MISSING = Allele(AlleleKind.MISSING)
NULL = Allele(AlleleKind.NULL)
OFF_LADDER = Allele(AlleleKind.OFF_LADDER)


def _to_tenths(text: str) -> int:
    m = re.fullmatch(r"(\d+)(?:\.(\d))?", text)
    if not m:
        raise ValueError(text)
    return int(m.group(1)) * 10 + int(m.group(2) or 0)


def parse_allele(text: object, locus: Locus) -> Allele:
    """Read one allele as labs write it, and check it against the locus.

    Accepts ``14``, ``15.2``, ``11,14`` / ``11-14`` / ``11/14`` (multi-copy or
    duplication), ``OL``, ``null``/``del``, and for missing an empty cell, ``NA``,
    ``N/A``, ``ND`` or ``-`` (``?``, ``NT``, ``none``, ``nan``, ``.`` are errors).
    Raises :class:`AlleleError` naming the locus, the value and the reason.
    """
    raw = "" if text is None else str(text)
    clean = raw.strip().strip('"').strip()
    word = clean.upper()
    if word in _MISSING_WORDS:
        return MISSING
    if word in _NOT_MISSING_WORDS:
        raise AlleleError(locus.name, raw, f"not a documented missing word; {_MISSING_HINT}")
    if word in _NULL_WORDS:
        return NULL
    if word in _OL_WORDS:
        return OFF_LADDER
    parts = [p.strip() for p in re.split(r"[,/;]|(?<=\d)\s*-\s*(?=\d)|\s+", clean) if p.strip()]
    values = []
    uncalled = 0
    for part in parts:
        if part.upper() in _OL_WORDS:
            return OFF_LADDER  # any off-ladder copy makes the call off-ladder
        if part.upper() in _MISSING_WORDS:  # '11,-': a copy not called
            uncalled += 1
            continue
        try:
            tenths = _to_tenths(part)
        except ValueError:
            if re.fullmatch(r"-\d+(\.\d+)?", part):
                raise AlleleError(locus.name, raw, "negative repeat number") from None
            if re.fullmatch(r"\d+\.\d{2,}", part):
                raise AlleleError(
                    locus.name, raw, "intermediate alleles have one digit after the point"
                ) from None
            raise AlleleError(locus.name, raw, "not a repeat number") from None
        _check_value(locus, raw, tenths)
        values.append(tenths)
    if uncalled:
        if not values:
            return MISSING
        if locus.copies == 1 or len(values) + uncalled > locus.copies:
            raise AlleleError(
                locus.name,
                raw,
                f"{len(values) + uncalled} copies given for a locus of {locus.copies}; "
                "'-' marks a copy not called at a multi-copy locus (DYS385 = 11,-)",
            )
        return Allele(AlleleKind.VALUE, tuple(values))  # partly typed: stays partial
    if len(values) == 1 and locus.copies > 1:
        values = values * locus.copies  # '11' at DYS385 means 11,11
    return Allele(AlleleKind.VALUE, tuple(values))


def _check_value(locus: Locus, raw: str, tenths: int) -> None:
    whole, part = divmod(tenths, 10)
    if part >= locus.repeat_unit:
        raise AlleleError(
            locus.name,
            raw,
            f"impossible intermediate: .{part} at a {locus.repeat_unit}-bp repeat "
            f"(at most .{locus.repeat_unit - 1})",
        )
    lo, hi = locus.allele_min - RANGE_MARGIN, locus.allele_max + RANGE_MARGIN
    if not lo <= whole <= hi and tenths == 0:
        raise AlleleError(
            locus.name,
            raw,
            f"outside the plausible range {lo}-{hi} for {locus.name}; a 0 often stands for "
            "a null allele in tables written from R or YHRD: read them with --zero-null",
        )
    if not lo <= whole <= hi:
        raise AlleleError(
            locus.name,
            raw,
            f"outside the plausible range {lo}-{hi} for {locus.display} "
            f"(observed {locus.allele_min}-{locus.allele_max}, {locus.range_source})",
        )


@dataclass(frozen=True)
class Haplotype:
    """A Y-STR profile: canonical locus name → allele, optionally under a kit.

    Missing loci are simply absent (``h["DYS19"]`` returns a MISSING allele for them).
    Build from text with :meth:`parse` or :func:`parse_haplotype_string`.
    """

    alleles: Mapping[str, Allele]
    kit: str | None = None

    def __post_init__(self) -> None:
        typed = {k: v for k, v in self.alleles.items() if v.kind is not AlleleKind.MISSING}
        object.__setattr__(self, "alleles", typed)

    def __getitem__(self, locus: str) -> Allele:
        return self.alleles.get(locus, MISSING)

    def __iter__(self) -> Iterator[str]:
        return iter(self.alleles)

    def __len__(self) -> int:
        return len(self.alleles)

    def __hash__(self) -> int:
        return hash((self.kit, tuple(sorted(self.alleles.items()))))

    @property
    def loci(self) -> tuple[str, ...]:
        return tuple(self.alleles)

    @classmethod
    def parse(
        cls,
        values: Mapping[str, object],
        *,
        kit: str | Kit | None = None,
        catalog: Catalog | None = None,
    ) -> Haplotype:
        """Build from ``{column header: allele text}`` as read from a file.

        Headers may be any spelling the catalog knows (aliases, ``DYS385a``/``DYS385b``
        copy columns, ``DYS389II-I``). Raises :class:`AlleleError` for a bad value,
        ``UnknownLocusError`` for an unknown header and :class:`HaplotypeError` for a
        locus given twice or loci outside the kit (all :class:`~patriline.errors.InputError`).
        """
        catalog = catalog or _shipped()
        kit_obj = catalog.kit(kit) if isinstance(kit, str) else kit
        alleles: dict[str, Allele] = {}
        copies: dict[str, dict[int, str]] = {}
        difference: str | None = None
        seen: dict[str, str] = {}
        for header, text in values.items():
            ref = catalog.resolve_column(header)
            key = f"{ref.locus}#{ref.copy}#{ref.kind}"
            if key in seen:
                raise HaplotypeError(
                    f"locus {ref.locus} given twice (columns {seen[key]!r} and {header!r})"
                )
            seen[key] = header
            if ref.kind == "dys389_difference":
                difference = "" if text is None else str(text)
            elif ref.copy is not None:
                copies.setdefault(ref.locus, {})[ref.copy] = "" if text is None else str(text)
            else:
                if ref.locus in copies:
                    raise HaplotypeError(
                        f"locus {ref.locus} given twice (whole and per-copy columns)"
                    )
                alleles[ref.locus] = parse_allele(text, catalog.locus(ref.locus))
        for name, parts in copies.items():
            if name in alleles:
                raise HaplotypeError(f"locus {name} given twice (whole and per-copy columns)")
            locus = catalog.locus(name)
            texts = [parts[i].strip() for i in sorted(parts) if parts[i].strip()]
            alleles[name] = _join_copies(locus, texts)
        if difference is not None:
            _apply_dys389_difference(alleles, difference, catalog)
        kit_id = kit_obj.id if kit_obj else None
        if kit_obj is not None:
            outside = [n for n, a in alleles.items() if n not in kit_obj.loci and a.typed]
            if outside:
                raise HaplotypeError(f"loci not in kit {kit_obj.id}: {', '.join(outside)}")
        return cls(alleles, kit_id)

    def to_dict(self) -> dict[str, str]:
        """``{locus: allele text}`` in catalog order."""
        order = {n: i for i, n in enumerate(_shipped().all_loci)}
        loci = _shipped().loci
        return {
            n: self.alleles[n].text(loci[n].copies if n in loci else 1)
            for n in sorted(self.alleles, key=lambda n: order.get(n, 999))
        }

    def __str__(self) -> str:
        return ";".join(f"{k}={v}" for k, v in self.to_dict().items())

    def restricted(self, loci: Iterable[str]) -> Haplotype:
        """The same profile on a subset of loci (e.g. a kit's)."""
        wanted = set(loci)
        return Haplotype({k: v for k, v in self.alleles.items() if k in wanted}, None)


def _join_copies(locus: Locus, texts: list[str]) -> Allele:
    if not texts:
        return MISSING
    parsed = [parse_allele(t, _single(locus)) for t in texts]
    if any(a.kind is AlleleKind.OFF_LADDER for a in parsed):
        return OFF_LADDER
    if all(a.kind is AlleleKind.NULL for a in parsed):
        return NULL
    values = tuple(v for a in parsed for v in a.values)
    if not values:
        return MISSING
    # Per-copy columns name each copy: a copy column left empty is a copy not called,
    # so DYS385a = 11 with DYS385b empty stays partial (never the homozygote 11,11).
    return Allele(AlleleKind.VALUE, values)


def _single(locus: Locus) -> Locus:
    """The locus seen as one copy (so that a per-copy column is not replicated)."""
    return replace(locus, copies=1)


def _apply_dys389_difference(alleles: dict[str, Allele], text: str, catalog: Catalog) -> None:
    locus = catalog.locus("DYS389II")
    whole = alleles.get("DYS389II", MISSING)
    first = alleles.get("DYS389I", MISSING)
    diff_word = text.strip().upper()
    if diff_word in _MISSING_WORDS:
        return
    if whole.typed:
        # Both DYS389II and II − I given (as published tables often are): they must agree
        # with DYS389I; the full DYS389II is kept.
        if first.kind is not AlleleKind.VALUE or len(first.values) != 1:
            return  # nothing to check the two against
        try:
            diff = _to_tenths(text.strip())
        except ValueError:
            raise AlleleError("DYS389II", text, "not a repeat number (DYS389II-I)") from None
        if whole.kind is not AlleleKind.VALUE or whole.values != (first.values[0] + diff,):
            raise AlleleError(
                "DYS389II",
                text,
                f"DYS389II {whole} and DYS389II-I {text.strip()} disagree: DYS389I "
                f"{format_tenths(first.values[0])} + {text.strip()} = "
                f"{format_tenths(first.values[0] + diff)}",
            )
        return
    if first.kind is not AlleleKind.VALUE or len(first.values) != 1:
        raise AlleleError("DYS389II", text, "DYS389II-I given but DYS389I is not a single value")
    try:
        diff = _to_tenths(text.strip())
    except ValueError:
        raise AlleleError("DYS389II", text, "not a repeat number (DYS389II-I)") from None
    total = first.values[0] + diff
    _check_value(locus, f"{text} (DYS389II-I; DYS389II={format_tenths(total)})", total)
    alleles["DYS389II"] = Allele(AlleleKind.VALUE, (total,))


def parse_haplotype_string(
    text: str,
    *,
    kit: str | None = None,
    catalog: Catalog | None = None,
    field: str | None = None,
) -> Haplotype:
    """Parse ``"DYS19=14,DYS389I=13,DYS385=11,14"`` (``;`` also separates loci).

    A comma separates loci only where a ``NAME=`` follows, so multi-copy values like
    ``DYS385=11,14`` need no quoting. Bad text raises an :class:`~patriline.errors.InputError`
    (:class:`AlleleError`, :class:`HaplotypeError`, ``UnknownLocusError``); with ``field``
    (the input it came from, e.g. ``"haplotype"``) its message starts with that name and
    its ``details["field"]`` is set.
    """
    try:
        return _parse_haplotype_string(text, kit=kit, catalog=catalog)
    except InputError as exc:
        if field is not None and "field" not in exc.details:
            exc.details["field"] = field
            exc.message = f"{field}: {exc}"
        raise


def _parse_haplotype_string(text: str, *, kit: str | None, catalog: Catalog | None) -> Haplotype:
    catalog = catalog or _shipped()
    pieces = re.split(r"[;\n]|,(?=\s*[A-Za-z][A-Za-z0-9_ .\-/]*\s*=)", text)
    values: dict[str, str] = {}
    for piece in pieces:
        if not piece.strip():
            continue
        if "=" not in piece:
            raise HaplotypeError(f"expected LOCUS=ALLELE, got {piece.strip()!r}")
        name, value = piece.split("=", 1)
        if name.strip() in values:
            raise HaplotypeError(f"locus {name.strip()} given twice")
        values[name.strip()] = value.strip()
    return Haplotype.parse(values, kit=kit, catalog=catalog)


# --------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------


class Status(StrEnum):
    EQUAL = "equal"
    DIFFERS = "differs"
    NOT_COMPARABLE = "not_comparable"
    MISSING = "missing"


@dataclass(frozen=True)
class LocusComparison:
    """How two alleles at one locus compare.

    ``compared`` counts the locus copies compared, ``mismatches`` the copies that
    differ, ``steps`` the repeat steps (for a not-comparable pair, the rounded-up
    distance). ``diffs`` are the signed per-copy differences ``b − a`` in tenths
    under the chosen pairing, for stepwise pairs (used by mutation models).
    """

    locus: str
    status: Status
    compared: int
    mismatches: int
    steps: int
    diffs: tuple[int, ...] = ()
    #: True when DYS389II was compared on the II − I segment.
    segment: bool = False


def _pair_cost(a: int | None, b: int | None) -> tuple[int, int, int]:
    """(compared, mismatches, steps) of two copies; None stands for missing/OL; -1 for null."""
    if a is None or b is None:
        return 0, 0, 0
    if a == -1 or b == -1:
        return (1, 0, 0) if a == b else (1, 1, 1)
    delta = abs(a - b)
    if delta == 0:
        return 1, 0, 0
    return 1, 1, -(-delta // 10)


def _copies(allele: Allele, n: int) -> list[int | None]:
    if allele.kind is AlleleKind.VALUE:
        vals: list[int | None] = list(allele.values)
        return vals + [None] * (n - len(vals))
    if allele.kind is AlleleKind.NULL:
        return [-1] * n
    return [None] * n


def compare_alleles(a: Allele, b: Allele, locus: Locus) -> LocusComparison:
    """Compare two alleles at one locus under the module's rules (see module docstring)."""
    n = locus.copies
    if not a.typed or not b.typed:
        return LocusComparison(locus.name, Status.MISSING, 0, 0, 0)
    if len(a.values) > n or len(b.values) > n:
        if a == b:
            return LocusComparison(locus.name, Status.EQUAL, n, 0, 0)
        return LocusComparison(locus.name, Status.NOT_COMPARABLE, n, n, n)
    xs, ys = _copies(a, n), _copies(b, n)
    best: (
        tuple[tuple[int, int, int, int, list[int]], int, int, int, tuple[int | None, ...]] | None
    ) = None
    for perm in itertools.permutations(ys):
        costs = [_pair_cost(x, y) for x, y in zip(xs, perm, strict=True)]
        compared = sum(c[0] for c in costs)
        mism = sum(c[1] for c in costs)
        steps = sum(c[2] for c in costs)
        gaps = [
            abs(y - x)
            for x, y in zip(xs, perm, strict=True)
            if x is not None and y is not None and x >= 0 and y >= 0
        ]
        # fewest steps, then fewest mismatches, then most copies compared (a missing copy
        # must not be paired against a value another pairing would compare), then fewest
        # copies differing by a non-whole number of repeats (16 vs 15,16.1: the one-step
        # reading), then the smaller per-copy differences. The key depends only on the
        # pairs formed, so compare(a, b) and compare(b, a) pick the same pairs.
        key = (steps, mism, -compared, sum(g % 10 != 0 for g in gaps), sorted(gaps))
        if best is None or key < best[0]:
            best = (key, compared, mism, steps, perm)
    assert best is not None
    _, compared, mism, steps, perm = best
    if compared == 0:
        return LocusComparison(locus.name, Status.MISSING, 0, 0, 0)
    if mism == 0:
        return LocusComparison(locus.name, Status.EQUAL, compared, 0, 0)
    stepwise = all(
        x is None or y is None or (x >= 0 and y >= 0 and (y - x) % 10 == 0)
        for x, y in zip(xs, perm, strict=True)
    )
    diffs = tuple(
        y - x
        for x, y in zip(xs, perm, strict=True)
        if x is not None and y is not None and x >= 0 and y >= 0
    )
    status = Status.DIFFERS if stepwise else Status.NOT_COMPARABLE
    return LocusComparison(locus.name, status, compared, mism, steps, diffs)


@dataclass(frozen=True)
class Comparison:
    """Per-locus comparisons of two haplotypes and their totals."""

    loci: tuple[LocusComparison, ...]

    @property
    def loci_compared(self) -> int:
        """Locus copies compared (a Yfiler Plus pair typed in full: 27)."""
        return sum(c.compared for c in self.loci)

    @property
    def mismatches(self) -> int:
        return sum(c.mismatches for c in self.loci)

    @property
    def steps(self) -> int:
        return sum(c.steps for c in self.loci)

    def __getitem__(self, locus: str) -> LocusComparison:
        for c in self.loci:
            if c.locus == locus:
                return c
        raise KeyError(locus)


def _dys389_segment(h: Haplotype) -> Allele | None:
    first, second = h["DYS389I"], h["DYS389II"]
    if (
        first.kind is AlleleKind.VALUE
        and second.kind is AlleleKind.VALUE
        and len(first.values) == 1
        and len(second.values) == 1
    ):
        return Allele(AlleleKind.VALUE, (second.values[0] - first.values[0],))
    return None


def compare(
    a: Haplotype,
    b: Haplotype,
    loci: Iterable[str] | None = None,
    *,
    catalog: Catalog | None = None,
) -> Comparison:
    """Compare two haplotypes locus by locus (the slow, obviously correct reference).

    ``loci`` defaults to the union of both profiles' loci in catalog order; loci typed
    in only one of them come back with status MISSING. DYS389II is compared on the
    ``II − I`` segment when both profiles have both parts and DYS389I is among the loci
    compared (module docstring).
    """
    catalog = catalog or _shipped()
    if loci is None:
        present = set(a.alleles) | set(b.alleles)
        names = [n for n in catalog.all_loci if n in present]
    else:
        names = [catalog.locus(n).name for n in loci]
    # The segment is used only when DYS389I is compared too: otherwise a change in the
    # DYS389I part would be counted nowhere (as a layout without DYS389I does).
    seg_a, seg_b = (_dys389_segment(a), _dys389_segment(b)) if "DYS389I" in names else (None, None)
    out = []
    for name in names:
        locus = catalog.locus(name)
        if name == "DYS389II" and seg_a is not None and seg_b is not None:
            out.append(replace(compare_alleles(seg_a, seg_b, locus), segment=True))
        else:
            out.append(compare_alleles(a[name], b[name], locus))
    return Comparison(tuple(out))


def distance(a: Haplotype, b: Haplotype, loci: Iterable[str] | None = None) -> tuple[int, int, int]:
    """``(loci_compared, mismatches, steps)`` of :func:`compare`."""
    c = compare(a, b, loci)
    return c.loci_compared, c.mismatches, c.steps
