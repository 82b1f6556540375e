"""Turn read records into store rows in bulk: canonical text, encoded bytes, metadata.

Encoding follows :func:`patriline.encoding.encode` exactly (a test checks the two agree);
this version caches per ``(locus, allele)`` so a million profiles cost one dictionary
look-up per allele instead of building a matrix per call.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter

from patriline.encoding import EXTRA, MISSING, Layout, encode_allele
from patriline.haplotype import Allele, Haplotype
from patriline.ids import id_problem
from patriline.io.model import Problem, Record
from patriline.reference import Catalog, default_catalog
from patriline.store.schema import CATEGORIES

__all__ = ["Prepared", "RowEncoder", "normalize_category", "prepare"]

_CATEGORY_ALIASES = {
    "relative_of_missing_person": "relative_of_missing",
    "relative": "relative_of_missing",
    "missing_relative": "relative_of_missing",
    "crime_scene_stain": "crime_scene",
    "casework": "crime_scene",
    "stain": "crime_scene",
    "remains": "unidentified_remains",
    "unidentified": "unidentified_remains",
    "convicted": "reference",
    "offender": "reference",
}
_FIELD_ALIASES = {
    "consent": "consent_ref",
    "consent_reference": "consent_ref",
    "collected": "collected_at",
    "collection_date": "collected_at",
    "retention": "retention_until",
    "retain_until": "retention_until",
    "legal basis": "legal_basis",
}


def normalize_category(text: str) -> str | None:
    """The canonical category for ``text`` (case, spaces and hyphens ignored), or None."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    key = _CATEGORY_ALIASES.get(key, key)
    return key if key in CATEGORIES else None


class _Plan:
    """How to encode rows whose typed loci are ``names`` (one plan per distinct locus set).

    ``segs[k]`` maps ``id(allele)`` of the k-th locus (layout order) to the ``MISSING``
    filler before it plus its encoded copies; ``texts[k]`` to ``"LOCUS=allele"``.
    """

    __slots__ = ("getter", "loci", "segs", "single", "tail", "texts")

    def __init__(self, loci: tuple[str, ...], tail: bytes) -> None:
        self.loci = loci
        self.single = len(loci) == 1
        self.getter = itemgetter(*loci) if loci else None
        self.segs: list[dict[int, bytes]] = [{} for _ in loci]
        self.texts: list[dict[int, str]] = [{} for _ in loci]
        self.tail = tail


class RowEncoder:
    """Encode haplotypes one row at a time into ``int16`` little-endian bytes under ``layout``.

    A row's bytes are the concatenation, in layout order, of ``MISSING`` filler and one
    pre-encoded segment per typed locus; segments and canonical texts are cached per
    allele object, so a row costs a few C-level ``map`` calls. The encoder keeps a
    reference to every allele it has cached, so an ``id`` cannot be reused while cached.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.slices = {n: layout.slice_of(n) for n in layout.loci}
        self._rank = {n: i for i, n in enumerate(layout.loci)}
        self._missing = array("h", [MISSING]).tobytes()
        self._plans: dict[tuple[str, ...], _Plan] = {}
        self._keep: list[Allele] = []

    def _plan(self, names: tuple[str, ...]) -> _Plan:
        outside = [n for n in names if n not in self._rank]
        if outside:
            raise ValueError(f"loci not in the store's layout: {', '.join(outside)}")
        ordered = tuple(sorted(names, key=self._rank.__getitem__))
        last = self.slices[ordered[-1]].stop if ordered else 0
        plan = _Plan(ordered, self._missing * (self.layout.n_columns - last))
        self._plans[names] = plan
        return plan

    def _fill(self, plan: _Plan, k: int, allele: Allele) -> None:
        name = plan.loci[k]
        sl = self.slices[name]
        before = self.slices[plan.loci[k - 1]].stop if k else 0
        vals, _extra = encode_allele(allele, sl.stop - sl.start)
        seg = array("h", vals)
        if sys.byteorder == "big":  # pragma: no cover - stored little-endian
            seg.byteswap()
        plan.segs[k][id(allele)] = self._missing * (sl.start - before) + seg.tobytes()
        plan.texts[k][id(allele)] = f"{name}={allele.text(sl.stop - sl.start)}"
        self._keep.append(allele)

    def row(self, h: Haplotype) -> tuple[bytes, str]:
        """``(encoded bytes, canonical text)``; canonical text equals ``str(h)``."""
        alleles = h.alleles
        names = tuple(alleles)
        plan = self._plans.get(names) or self._plan(names)
        if plan.getter is None:
            return plan.tail, ""
        got = plan.getter(alleles)
        values = (got,) if plan.single else got
        ids = list(map(id, values))
        segs = list(map(dict.get, plan.segs, ids))
        if None in segs:
            for k, seg in enumerate(segs):
                if seg is None:
                    self._fill(plan, k, values[k])
            segs = list(map(dict.get, plan.segs, ids))
        segs.append(plan.tail)
        texts = map(dict.get, plan.texts, ids)
        return b"".join(segs), ";".join(texts)  # type: ignore[arg-type]


def has_extra(row: bytes) -> bool:
    return EXTRA in array("h", row)


@dataclass
class Prepared:
    """Rows ready for the store, and the problems of the rows that are not."""

    specimens: list[str]
    lines: list[int | None]
    persons: list[str]
    canonical: list[str]
    encoded: list[bytes]
    meta: list[tuple[str, str | None, str | None, str | None, str | None, str | None, str | None]]
    problems: list[Problem]
    rejected_specimens: int


def _date(text: str, *, with_time: bool) -> str:
    t = text.strip()
    if with_time:
        try:
            return datetime.fromisoformat(t).isoformat()
        except ValueError:
            pass
    return date.fromisoformat(t).isoformat()


_Meta = tuple[str, str | None, str | None, str | None, str | None, str | None, str | None]


class _MetaReader:
    """Specimen metadata from a record's non-locus fields, validated (cached where cheap)."""

    def __init__(self, file: str, default_category: str, catalog: Catalog) -> None:
        self.file = file
        self.default_category = default_category
        self.catalog = catalog
        self.kits: dict[str, str | None] = {}
        self.keys: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.plain: dict[str | None, _Meta] = {}

    def kit(self, name: str) -> str | None:
        if name not in self.kits:
            try:
                self.kits[name] = self.catalog.kit(name).id
            except KeyError:
                self.kits[name] = None
        return self.kits[name]

    def _problem(self, rec: Record, reason: str, column: str, value: str) -> Problem:
        return Problem(
            self.file, rec.line, reason, column=column, specimen=rec.specimen, value=value
        )

    def read(self, rec: Record) -> _Meta | Problem:
        kit_name = rec.kit or rec.haplotype.kit
        if not rec.fields:
            meta = self.plain.get(kit_name)
            if meta is None:
                kit_id = self.kit(kit_name) if kit_name else None
                if kit_name and kit_id is None:
                    return self._problem(rec, "unknown kit", "kit", kit_name)
                meta = (self.default_category, kit_id, None, None, None, None, None)
                self.plain[kit_name] = meta
            return meta
        raw_keys = tuple(rec.fields)
        keys = self.keys.get(raw_keys)
        if keys is None:
            keys = tuple(_FIELD_ALIASES.get(k.strip().lower(), k.strip().lower()) for k in raw_keys)
            self.keys[raw_keys] = keys
        fields = dict(zip(keys, rec.fields.values(), strict=True))
        cat = self.default_category
        raw_cat = (fields.get("category") or "").strip()
        if raw_cat:
            found = normalize_category(raw_cat)
            if found is None:
                return self._problem(
                    rec, f"unknown category; known: {', '.join(CATEGORIES)}", "category", raw_cat
                )
            cat = found
        kit_id = self.kit(kit_name) if kit_name else None
        if kit_name and kit_id is None:
            return self._problem(rec, "unknown kit", "kit", kit_name)
        dates: dict[str, str | None] = {}
        for col in ("collected_at", "retention_until"):
            raw = (fields.get(col) or "").strip()
            if not raw:
                dates[col] = None
                continue
            try:
                dates[col] = _date(raw, with_time=col == "collected_at")
            except ValueError:
                return self._problem(rec, "not an ISO date (YYYY-MM-DD)", col, raw)
        return (
            cat,
            kit_id,
            dates["collected_at"],
            (fields.get("agency") or "").strip() or None,
            (fields.get("legal_basis") or "").strip() or None,
            (fields.get("consent_ref") or "").strip() or None,
            dates["retention_until"],
        )


def prepare(
    records: Sequence[Record],
    layout: Layout,
    *,
    file: str,
    category: str | None = None,
    catalog: Catalog | None = None,
) -> Prepared:
    """Validate and encode ``records`` (category, kit, dates); bad rows become problems.

    Optional fields (``Record.fields``, names case-insensitive): ``category``,
    ``collected_at``, ``agency``, ``legal_basis``, ``consent_ref``, ``retention_until``.
    Rows without a category get ``category`` (default ``reference``).
    """
    default_category = normalize_category(category) if category else "unspecified"
    if default_category is None:
        raise ValueError(f"unknown category {category!r}; known: {', '.join(CATEGORIES)}")
    enc = RowEncoder(layout)
    reader = _MetaReader(file, default_category, catalog or default_catalog())
    out = Prepared([], [], [], [], [], [], [], 0)
    read, encode_row = reader.read, enc.row
    add_specimen, add_line, add_person = out.specimens.append, out.lines.append, out.persons.append
    add_canonical, add_encoded, add_meta = out.canonical.append, out.encoded.append, out.meta.append
    for rec in records:
        meta = read(rec)
        specimen = rec.specimen.strip()
        if type(meta) is tuple and specimen:
            try:
                blob, canon = encode_row(rec.haplotype)
            except ValueError as exc:
                meta = Problem(file, rec.line, str(exc), specimen=rec.specimen)
        elif type(meta) is tuple:
            meta = Problem(
                file, rec.line, "empty specimen ID", column="specimen", value=rec.specimen
            )
        if type(meta) is tuple:  # the ID rule (patriline.ids) for records from any source
            for column, value in (("specimen", specimen), ("person", rec.person or "")):
                if value and (why := id_problem(value.strip(), f"{column} ID")) is not None:
                    meta = Problem(file, rec.line, why, column=column, value=value)
                    break
        if isinstance(meta, Problem):
            out.problems.append(meta)
            out.rejected_specimens += 1
            continue
        add_specimen(specimen)
        add_line(rec.line)
        add_person(rec.person.strip() if rec.person else specimen)
        add_canonical(canon)
        add_encoded(blob)
        add_meta(meta)
    return out
