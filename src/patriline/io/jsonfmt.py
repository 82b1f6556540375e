"""Canonical JSON: the lossless interchange format of patriline.

Schema (format version 1)::

    {"format": "patriline-haplotypes",
     "version": 1,
     "records": [
        {"specimen": "S1", "person": "P1", "kit": "yfiler_plus",
         "fields": {"category": "reference"},
         "alleles": {"DYS19": "14", "DYS385": "11,14", "DYS458": "15.2",
                     "DYS392": "null", "DYS439": "OL"}}]}

``person``, ``kit`` and ``fields`` are optional; ``alleles`` maps locus names (any
spelling the catalog knows; written canonical) to allele text as in the wide format;
untyped loci are left out. Records are written one per line. A record's ``line`` is its
1-based index in ``records``; problems name the record as ``records[i]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from patriline._files import private_open
from patriline.io._build import Collector, Column, RowBuilder, role_of, suggest
from patriline.io._text import read_text
from patriline.io.model import Format, Problem, ReadError, ReadResult, Record
from patriline.io.wide import allele_text, columns_for
from patriline.reference import Catalog, Kit, UnknownLocusError

__all__ = ["FORMAT", "FORMAT_NAME", "FORMAT_VERSION", "read_json", "write_json"]

FORMAT_NAME = "patriline-haplotypes"
FORMAT_VERSION = 1


def read_json(
    path: str | Path,
    *,
    strict: bool = True,
    catalog: Catalog,
    kit: Kit | None = None,
    text: str | None = None,
) -> ReadResult:
    """Read canonical JSON (see module docstring)."""
    name = str(path)
    text = read_text(path) if text is None else text
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadError(Problem(name, exc.lineno, f"not valid JSON: {exc.msg}")) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ReadError(
            Problem(name, None, f'not a patriline JSON file (needs "format": "{FORMAT_NAME}")')
        )
    if doc.get("version") != FORMAT_VERSION:
        raise ReadError(
            Problem(
                name,
                None,
                f"format version {doc.get('version')!r} is not supported (this is {FORMAT_VERSION})",
            )
        )
    records = doc.get("records")
    if not isinstance(records, list):
        raise ReadError(Problem(name, None, '"records" must be a list'))
    collector = Collector(name, "json", strict)
    builder = RowBuilder(collector, catalog, kit)
    columns: dict[str, Column] = {}
    for i, rec in enumerate(records):
        where = f"records[{i}]"
        line = i + 1
        problem = _shape_problem(rec)
        if problem:
            collector.rows += 1
            specimen = rec.get("specimen") if isinstance(rec, dict) else None
            collector.reject(
                [Problem(name, line, problem, where, str(specimen) if specimen else None)]
            )
            continue
        cells: list[tuple[Column, str]] = []
        bad: list[Problem] = []
        for locus, value in rec.get("alleles", {}).items():
            col = columns.get(locus)
            if col is None:
                try:
                    col = role_of(locus, catalog)
                except UnknownLocusError as exc:
                    bad.append(
                        Problem(
                            name,
                            line,
                            "unknown locus",
                            where,
                            rec["specimen"],
                            locus,
                            value,
                            suggest(locus, catalog) or exc.suggestion,
                        )
                    )
                    continue
                if col.role not in ("allele", "copy", "diff"):
                    bad.append(
                        Problem(name, line, "unknown locus", where, rec["specimen"], locus, value)
                    )
                    continue
                col.header = f"{where}.alleles.{locus}"
                columns[locus] = col
            cells.append((col, value))
        if bad:
            collector.rows += 1
            collector.reject(bad)
            continue
        builder.build(
            line,
            rec["specimen"],
            cells,
            person=rec.get("person") or "",
            kit_text=rec.get("kit") or "",
            fields=dict(rec.get("fields") or {}),
            specimen_column=where,
        )
    return collector.result()


def _shape_problem(rec: Any) -> str | None:
    if not isinstance(rec, dict):
        return "a record must be an object"
    if not isinstance(rec.get("specimen"), str):
        return '"specimen" must be a string'
    for key in ("person", "kit"):
        if rec.get(key) is not None and not isinstance(rec[key], str):
            return f'"{key}" must be a string'
    for key in ("alleles", "fields"):
        value = rec.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            return f'"{key}" must map names to strings'
    unknown = set(rec) - {"specimen", "person", "kit", "fields", "alleles"}
    if unknown:
        return f"unknown keys: {', '.join(sorted(unknown))}"
    return None


def write_json(
    records: Sequence[Record],
    path: str | Path,
    *,
    loci: Iterable[str] | None = None,
    catalog: Catalog,
) -> int:
    """Write canonical JSON, one record per line."""
    names = columns_for(records, loci, catalog)
    with private_open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(f'{{"format": "{FORMAT_NAME}", "version": {FORMAT_VERSION}, "records": [\n')
        for i, r in enumerate(records):
            obj: dict[str, Any] = {"specimen": r.specimen}
            if r.person:
                obj["person"] = r.person
            if r.kit:
                obj["kit"] = r.kit
            if r.fields:
                obj["fields"] = r.fields
            alleles = r.haplotype.alleles
            obj["alleles"] = {
                n: allele_text(alleles[n], copies=catalog.locus(n).copies)
                for n in names
                if n in alleles
            }
            fh.write(json.dumps(obj, ensure_ascii=False))
            fh.write(",\n" if i < len(records) - 1 else "\n")
        fh.write("]}\n")
    return len(records)


FORMAT = Format(
    "json",
    read_json,
    write_json,
    patterns=("*.json",),
    sniff=lambda text: text.lstrip().startswith("{"),
    description="canonical JSON (patriline-haplotypes)",
)
