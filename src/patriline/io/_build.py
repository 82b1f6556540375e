"""From cells to records: header interpretation and the memoized row builder.

Every reader turns its input into ``(line, specimen, person, kit, fields, cells)`` with
``cells`` pairs of a :class:`Column` and the cell text; :class:`RowBuilder` checks and
builds the :class:`~patriline.io.model.Record` or reports every problem of the row.
Allele parsing is memoized per ``(column, text)``: a million-row file has only a few
hundred distinct cells per column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from patriline.haplotype import (
    NULL,
    Allele,
    AlleleError,
    AlleleKind,
    Haplotype,
    _apply_dys389_difference,
    _join_copies,
    parse_allele,
)
from patriline.ids import id_problem
from patriline.io.model import Problem, ReadError, ReadResult, Record
from patriline.reference import Catalog, Kit, UnknownKitError, UnknownLocusError

__all__ = ["Collector", "Column", "RowBuilder", "plan_header", "role_of"]

SPECIMEN_NAMES = {"specimen", "samplename", "sample", "id", "specimenid", "sampleid"}
PERSON_NAMES = {"person", "personid"}
KIT_NAMES = {"kit"}
#: Headers that look like a Y-STR locus; an unknown one is an error, not a free field.
_LOCUS_LIKE = re.compile(r"^(DY[SF]\d|Y-?GATA|GATA)", re.IGNORECASE)


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


@dataclass
class Column:
    """What one input column (or GeneMapper marker) holds.

    ``role`` is ``specimen``, ``person``, ``kit``, ``field``, ``allele`` (a whole locus),
    ``copy`` (one copy of a multi-copy locus) or ``diff`` (DYS389II−I).
    """

    header: str
    role: str
    locus: str | None = None
    copy: int | None = None
    cache: dict[str, Allele | AlleleError] = field(default_factory=dict, repr=False)


def role_of(header: str, catalog: Catalog) -> Column:
    """Interpret a header; raises ``UnknownLocusError`` for an unknown locus-like name."""
    key = _key(header)
    if key in SPECIMEN_NAMES:
        return Column(header, "specimen")
    if key in PERSON_NAMES:
        return Column(header, "person")
    if key in KIT_NAMES:
        return Column(header, "kit")
    try:
        ref = catalog.resolve_column(header)
    except UnknownLocusError as exc:
        if _LOCUS_LIKE.match(header.strip()) or exc.suggestion:
            raise
        return Column(header, "field")
    if ref.kind == "dys389_difference":
        return Column(header, "diff", ref.locus)
    if ref.copy is not None:
        return Column(header, "copy", ref.locus, ref.copy)
    return Column(header, "allele", ref.locus)


def suggest(name: str, catalog: Catalog) -> str | None:
    """The locus a typo means: letter O for zero, l or I for one, else the catalog's guess."""
    fixed = re.sub(r"(?<=\d)[Oo]|[Oo](?=\d)", "0", name)
    fixed = re.sub(r"(?<=\d)[lI](?=\d|$)", "1", fixed)
    if fixed != name and catalog.is_locus(fixed):
        return catalog.resolve_column(fixed).locus
    return catalog.suggest(name)


def _population(fields: dict[str, str] | None) -> str | None:
    """The row's population column (``Population``, ``population``), if any."""
    for k, v in (fields or {}).items():
        if k.strip().lower() == "population" and v.strip():
            return v.strip()
    return None


def plan_header(
    headers: Sequence[str],
    path: str,
    line: int,
    catalog: Catalog,
    *,
    id_column: int | None = None,
    ignore: frozenset[str] = frozenset(),
) -> list[Column]:
    """Columns of a wide header; raise :class:`ReadError` for a fatal header problem.

    Fatal: an unknown locus-like header (with the catalog's suggestion), a locus
    given twice (``DYS19`` and ``dys19``, or ``DYS385`` and ``DYS385a``), no specimen
    column, an empty header cell over data.
    """
    columns: list[Column] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(headers):
        header = raw.strip().lstrip("\ufeff")
        if i == id_column:
            columns.append(Column(header, "specimen"))
            continue
        if not header:
            columns.append(Column(f"column {i + 1}", "field"))
            continue
        if _key(header) in ignore:  # a derived column (DYS385sum ...) the user set aside
            columns.append(Column(header, "field"))
            continue
        try:
            col = role_of(header, catalog)
        except UnknownLocusError as exc:
            raise ReadError(
                Problem(
                    path,
                    line,
                    "unknown locus in the header",
                    column=header,
                    locus=header,
                    suggestion=suggest(header, catalog) or exc.suggestion,
                )
            ) from None
        if col.role in ("specimen", "person", "kit"):
            if col.role in seen:
                raise ReadError(
                    Problem(
                        path,
                        line,
                        f"two {col.role} columns ({seen[col.role]!r} and {header!r})",
                        column=header,
                    )
                )
            seen[col.role] = header
        elif col.role != "field":
            assert col.locus is not None
            keys = {
                "allele": [f"{col.locus}#whole", f"{col.locus}#any"],
                "copy": [f"{col.locus}#{col.copy}", f"{col.locus}#any"],
                "diff": ["DYS389II#diff"],  # beside DYS389II too: checked row by row
            }[col.role]
            for k in keys:
                first = seen.get(k)
                if first is not None and not (col.role == "copy" and k.endswith("#any")):
                    raise ReadError(
                        Problem(
                            path,
                            line,
                            f"locus listed twice (columns {first!r} and {header!r})",
                            column=header,
                            locus=col.locus,
                        )
                    )
            if col.role == "copy" and f"{col.locus}#whole" in seen:
                raise ReadError(
                    Problem(
                        path,
                        line,
                        f"locus listed twice (columns {seen[f'{col.locus}#whole']!r} and {header!r})",
                        column=header,
                        locus=col.locus,
                    )
                )
            for k in keys:
                seen.setdefault(k, header)
        columns.append(col)
    if not any(c.role == "specimen" for c in columns):
        raise ReadError(
            Problem(
                path,
                line,
                "no specimen column (expected one of: specimen, Sample Name, sample, id, "
                "specimen_id)",
            )
        )
    return columns


class Collector:
    """Gathers records and problems; in strict mode the first problem raises."""

    def __init__(self, path: str, fmt: str, strict: bool) -> None:
        self.path = path
        self.format = fmt
        self.strict = strict
        self.rows = 0
        self.records: list[Record] = []
        self.problems: list[Problem] = []

    def reject(self, problems: list[Problem]) -> None:
        if self.strict:
            raise ReadError(problems[0])
        self.problems.extend(problems)

    def result(self) -> ReadResult:
        return ReadResult(self.path, self.format, self.rows, self.records, self.problems)


class RowBuilder:
    """Builds records from cells under one catalog and default kit, with memoized parsing.

    ``null_words`` are extra spellings of a null allele (the YHRD-style table writes
    ``0``); ``duplicates`` tracks specimen IDs already accepted.
    """

    def __init__(
        self,
        collector: Collector,
        catalog: Catalog,
        kit: Kit | None,
        *,
        null_words: frozenset[str] = frozenset(),
    ) -> None:
        self.c = collector
        self.catalog = catalog
        self.kit = kit
        self.null_words = null_words
        self.seen: dict[str, int] = {}
        #: A specimen's ``population`` field where the file has one (for the message).
        self.population_of: dict[str, str] = {}
        self._kits: dict[str, Kit | UnknownKitError] = {}
        self._joins: dict[tuple[str, tuple[str, ...]], Allele | AlleleError] = {}

    def _parse(self, col: Column, text: str) -> Allele | AlleleError:
        hit = col.cache.get(text)
        if hit is None:
            assert col.locus is not None
            if text in self.null_words:
                hit = NULL
            else:
                try:
                    hit = parse_allele(text, self.catalog.locus(col.locus))
                except AlleleError as exc:
                    hit = exc
            col.cache[text] = hit
        return hit

    def _join(self, locus: str, texts: tuple[str, ...]) -> Allele | AlleleError:
        key = (locus, texts)
        hit = self._joins.get(key)
        if hit is None:
            texts2 = [("null" if t in self.null_words else t) for t in texts]
            try:
                hit = _join_copies(self.catalog.locus(locus), [t for t in texts2 if t])
            except AlleleError as exc:
                hit = exc
            self._joins[key] = hit
        return hit

    def _kit(self, text: str) -> Kit | UnknownKitError:
        hit = self._kits.get(text)
        if hit is None:
            try:
                hit = self.catalog.kit(text)
            except UnknownKitError as exc:
                hit = exc
            self._kits[text] = hit
        return hit

    def build(
        self,
        line: int,
        specimen: str,
        cells: Sequence[tuple[Column, str]],
        *,
        person: str = "",
        kit_text: str = "",
        fields: dict[str, str] | None = None,
        specimen_column: str | None = None,
    ) -> None:
        """Check one specimen's cells; add its record or reject it with every problem."""
        c = self.c
        c.rows += 1
        path = c.path
        problems: list[Problem] = []
        if not specimen:
            problems.append(Problem(path, line, "no specimen ID", column=specimen_column))
        elif (why := id_problem(specimen)) is not None:
            problems.append(Problem(path, line, why, column=specimen_column, value=specimen))
            specimen = ""
        elif specimen in self.seen:
            here = _population(fields)
            there = self.population_of.get(specimen)
            where = (
                f"; population {there!r} there, {here!r} here: IDs repeat across "
                "populations, make them unique (e.g. population and ID)"
                if here is not None and there is not None and here != there
                else ""
            )
            problems.append(
                Problem(
                    path,
                    line,
                    f"duplicate specimen ID (first on line {self.seen[specimen]}{where})",
                    column=specimen_column,
                    specimen=specimen,
                )
            )
        if person and (why := id_problem(person, "person ID")) is not None:
            problems.append(Problem(path, line, why, column="person", value=person))
        kit = self.kit
        if kit_text:
            found = self._kit(kit_text)
            if isinstance(found, UnknownKitError):
                problems.append(
                    Problem(path, line, str(found), column="kit", specimen=specimen, value=kit_text)
                )
            else:
                kit = found
        alleles: dict[str, Allele] = {}
        copies: dict[str, dict[int, tuple[Column, str]]] = {}
        diff: tuple[Column, str] | None = None
        for col, text in cells:
            role = col.role
            if role == "allele":
                got = self._parse(col, text)
                if isinstance(got, AlleleError):
                    problems.append(_allele_problem(path, line, specimen, col, got))
                else:
                    alleles[col.locus] = got  # type: ignore[index]
            elif role == "copy":
                copies.setdefault(col.locus, {})[col.copy] = (col, text)  # type: ignore[arg-type,index]
            elif role == "diff":
                diff = (col, text)
        for locus, parts in copies.items():
            texts = tuple(parts[i][1] for i in sorted(parts))
            got = self._join(locus, texts)
            if isinstance(got, AlleleError):
                bad = got.value.strip()
                first = next(iter(parts.values()))[0]
                col = next((cl for cl, t in parts.values() if t == bad), first)
                problems.append(_allele_problem(path, line, specimen, col, got))
            else:
                alleles[locus] = got
        if diff is not None and not problems:
            try:
                _apply_dys389_difference(alleles, diff[1], self.catalog)
            except (AlleleError, ValueError) as exc:
                value = exc.value if isinstance(exc, AlleleError) else diff[1]
                reason = exc.reason if isinstance(exc, AlleleError) else str(exc)
                problems.append(
                    Problem(path, line, reason, diff[0].header, specimen, "DYS389II", value)
                )
        if kit is not None and not problems:
            allowed = set(kit.loci)
            for name, allele in alleles.items():
                if name not in allowed and allele.kind is not AlleleKind.MISSING:
                    problems.append(
                        Problem(
                            path,
                            line,
                            f"locus not in kit {kit.id}",
                            specimen=specimen,
                            locus=name,
                            value=str(allele),
                        )
                    )
        if problems:
            c.reject(problems)
            return
        self.seen[specimen] = line
        population = _population(fields)
        if population is not None:
            self.population_of[specimen] = population
        kit_id = kit.id if kit is not None else None
        c.records.append(
            Record(
                specimen,
                Haplotype(alleles, kit_id),
                line,
                kit_id,
                person or None,
                fields or {},
            )
        )


def _allele_problem(path: str, line: int, specimen: str, col: Column, err: AlleleError) -> Problem:
    return Problem(path, line, err.reason, col.header, specimen or None, col.locus, err.value)
