"""Store rows from an encoded read, computed per column: the fast twin of ``prepare``.

:func:`prepare_encoded` turns what :func:`patriline.io.read_encoded` returns (``int16``
columns plus the non-locus columns) into the same :class:`~patriline.store.record_rows.Prepared`
rows as :func:`~patriline.store.record_rows.prepare` does from records: canonical texts,
little-endian encoded bytes, validated metadata and the same problems. Nothing is done
per row in Python except slicing: each locus column's *distinct* codes are turned into
text once and laid out in a byte matrix, metadata are validated per distinct value.
Tests import messy files both ways and compare every stored row.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

import numpy as np

from patriline.encoding import EXTRA, MISSING, Encoded, Layout, _decode_cell, decode
from patriline.haplotype import AlleleKind
from patriline.ids import bad_ids, id_problem
from patriline.io.encoded import EncodedRead
from patriline.io.model import Problem
from patriline.reference import Catalog, default_catalog
from patriline.store.record_rows import (
    _FIELD_ALIASES,
    Prepared,
    _date,
    _Meta,
    normalize_category,
)
from patriline.store.schema import CATEGORIES

__all__ = ["canonical_texts", "prepare_encoded", "row_bytes"]

_BLOCK = 131_072


def _factorize(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct cells of ``block`` (copies × rows) and, per row, which one it holds.

    Returns ``(cells, inverse)`` with ``cells[k]`` the k-th distinct cell (its copies)
    and ``block[:, r] == cells[inverse[r]]``. Linear time: each copy is factorised with a
    65,536-entry table (the codes are ``int16``), then the copies' factors are combined.
    """
    codes, levels = [], []
    for row in block:
        v = row.astype(np.int64) + 32768
        present = np.flatnonzero(np.bincount(v, minlength=65536))
        lut = np.zeros(65536, dtype=np.int64)
        lut[present] = np.arange(len(present))
        codes.append(lut[v])
        levels.append(present - 32768)
    sizes = tuple(len(lv) for lv in levels)
    space = int(np.prod(sizes))
    if space > 4 * block.shape[1] + 65536:  # pragma: no cover - wide spread of many copies
        uniq, inverse = np.unique(block.T, axis=0, return_inverse=True)
        return uniq, inverse.ravel()
    combined = np.ravel_multi_index(codes, sizes) if len(codes) > 1 else codes[0]
    used = np.flatnonzero(np.bincount(combined, minlength=space))
    lut = np.zeros(space, dtype=np.int64)
    lut[used] = np.arange(len(used))
    parts = np.unravel_index(used, sizes)
    cells = np.stack([levels[k][parts[k]] for k in range(len(levels))], axis=1)
    return cells, lut[combined]


def canonical_texts(encoded: Encoded) -> list[str]:
    """Canonical text of every row (``DYS19=14;DYS385=11,14``, typed loci in layout order).

    Equals ``str(h)`` of the row's decoded haplotype, a partly typed locus as ``11,-`` (what
    :class:`~patriline.store.record_rows.RowEncoder` writes); alleles kept in ``extras`` are
    spelled from there.
    """
    layout = encoded.layout
    values = encoded.values
    n = values.shape[1]
    out: list[str] = []
    for start in range(0, n, _BLOCK):
        out.extend(_texts_block(layout, values[:, start : min(n, start + _BLOCK)]))
    for r in sorted({r for r, _ in encoded.extras}):
        (h,) = decode(encoded, rows=[r])
        out[r] = str(h)
    return out


def _texts_block(layout: Layout, values: np.ndarray) -> list[str]:
    m = values.shape[1]
    parts: list[tuple[np.ndarray, np.ndarray]] = []  # (byte table, row → entry)
    width = 1
    for locus in layout.loci:
        cells, inverse = _factorize(values[layout.slice_of(locus)])
        texts = []
        for cell in cells:
            if int(cell[0]) in (MISSING, EXTRA):  # absent, or spelled from extras later
                texts.append(b"")
                continue
            allele = _decode_cell(cell)
            texts.append(
                b""
                if allele.kind is AlleleKind.MISSING
                else f";{locus}={allele.text(len(cell))}".encode()
            )
        w = max(map(len, texts))
        if w == 0:
            continue
        table = np.zeros((len(texts), w), dtype=np.uint8)
        for u, t in enumerate(texts):
            table[u, : len(t)] = np.frombuffer(t, dtype=np.uint8)
        parts.append((table, inverse))
        width += w
    mat = np.zeros((m, width), dtype=np.uint8)
    col = 0
    for table, inverse in parts:
        w = table.shape[1]
        mat[:, col : col + w] = table[inverse]
        col += w
    mat[:, -1] = ord("\n")
    flat = mat.ravel()
    rows = flat[flat != 0].tobytes().decode("utf-8").split("\n")
    rows.pop()  # after the last line end
    return [r[1:] for r in rows]  # each typed locus came as ";LOCUS=allele"


def row_bytes(encoded: Encoded) -> list[bytes]:
    """Each row of ``encoded`` as ``int16`` little-endian bytes (the ``encoded`` column)."""
    n = encoded.n_rows
    size = 2 * encoded.layout.n_columns
    buf = np.ascontiguousarray(encoded.values.T, dtype="<i2").tobytes()
    return [buf[i : i + size] for i in range(0, n * size, size)]


def _fields(read: EncodedRead) -> dict[str, list[str]]:
    """The optional columns under their canonical names (later columns win, as in ``prepare``)."""
    out: dict[str, list[str]] = {}
    for header, col in read.fields.items():
        key = header.strip().lower()
        key = _FIELD_ALIASES.get(key, key)
        out[key] = [b or a for a, b in zip(out[key], col, strict=True)] if key in out else col
    return out


def prepare_encoded(
    read: EncodedRead,
    layout: Layout,
    *,
    file: str,
    category: str | None = None,
    catalog: Catalog | None = None,
) -> Prepared:
    """Validate and lay out an encoded read for the store (see :func:`prepare`).

    ``read.encoded`` must be under ``layout`` (read it with ``read_encoded(path, layout)``).
    """
    if read.encoded.layout.columns != layout.columns:
        raise ValueError("the encoded read is not under the store's layout")
    default_category = normalize_category(category) if category else "unspecified"
    if default_category is None:
        raise ValueError(f"unknown category {category!r}; known: {', '.join(CATEGORIES)}")
    catalog = catalog or default_catalog()
    n = len(read.ids)
    ids = read.ids
    fields = _fields(read)
    bad: dict[int, Problem] = {}

    def problem(r: int, reason: str, column: str, value: str) -> None:
        if r not in bad:
            bad[r] = Problem(
                file, read.lines[r], reason, column=column, specimen=ids[r], value=value
            )

    columns: list[Sequence[str | None]] = []
    # category
    raw_cats = fields.get("category")
    if raw_cats is None:
        columns.append([default_category] * n)
    else:
        known = {
            t: (normalize_category(t) if t.strip() else default_category)
            for t in dict.fromkeys(raw_cats)
        }
        cats = list(map(known.__getitem__, raw_cats))
        if None in known.values():
            reason = f"unknown category; known: {', '.join(CATEGORIES)}"
            for r, c in enumerate(cats):
                if c is None:
                    problem(r, reason, "category", raw_cats[r].strip())
        columns.append(cats)
    # kit
    kit_names = read.kits or [None] * n
    kit_ids: dict[str | None, str | None] = {}
    for name in dict.fromkeys(kit_names):
        try:
            kit_ids[name] = catalog.kit(name).id if name else None
        except KeyError:
            kit_ids[name] = None
    kits = list(map(kit_ids.__getitem__, kit_names))
    for r, (name, got) in enumerate(zip(kit_names, kits, strict=True)):
        if name and got is None:
            problem(r, "unknown kit", "kit", name)
    columns.append(kits)
    # dates and free text
    for key in ("collected_at", "agency", "legal_basis", "consent_ref", "retention_until"):
        raw = fields.get(key)
        if raw is None:
            columns.append([None] * n)
            continue
        spelled: dict[str, str | None] = {}
        failed: set[str] = set()
        for t in dict.fromkeys(raw):
            s = t.strip()
            if not s or key not in ("collected_at", "retention_until"):
                spelled[t] = s or None
                continue
            try:
                spelled[t] = _date(s, with_time=key == "collected_at")
            except ValueError:
                spelled[t] = None
                failed.add(t)
        if failed:
            for r, t in enumerate(raw):
                if t in failed:
                    problem(r, "not an ISO date (YYYY-MM-DD)", key, t.strip())
        columns.append(list(map(spelled.__getitem__, raw)))
    for r, s in enumerate(ids):
        if not s:
            bad[r] = Problem(file, read.lines[r], "empty specimen ID", column="specimen", value=s)
    for column, values in (("specimen", ids), ("person", read.persons or [])):
        for r in bad_ids(values):  # the ID rule (patriline.ids), also for encoded reads
            why = id_problem(values[r], f"{column} ID") or ""
            bad[r] = Problem(file, read.lines[r], why, column=column, value=values[r])
    uniform = all(len(set(c)) <= 1 for c in columns)
    meta: list[_Meta]
    if uniform and n:
        meta = [tuple(c[0] for c in columns)] * n  # type: ignore[list-item]
    else:
        meta = list(zip(*columns, strict=True))
    persons = [p or s for p, s in zip(read.persons or [""] * n, ids, strict=True)]
    canonical = canonical_texts(read.encoded)
    encoded = row_bytes(read.encoded)
    lines: list[int | None] = list(read.lines)
    specimens = list(ids)
    if bad:
        keep = [r for r in range(n) if r not in bad]
        pick = itemgetter(*keep) if keep else None

        def select(seq: Sequence[object]) -> list[object]:
            if pick is None:
                return []
            got = pick(seq)
            return list(got) if len(keep) > 1 else [got]

        specimens = select(specimens)  # type: ignore[assignment]
        lines = select(lines)  # type: ignore[assignment]
        persons = select(persons)  # type: ignore[assignment]
        canonical = select(canonical)  # type: ignore[assignment]
        encoded = select(encoded)  # type: ignore[assignment]
        meta = select(meta)  # type: ignore[assignment]
    problems = [bad[r] for r in sorted(bad)]
    return Prepared(specimens, lines, persons, canonical, encoded, meta, problems, len(problems))
