"""The search index: exact hash, pigeonhole multi-index and full scan over ``(ids, Encoded)``.

The index knows nothing of the store: it is built from specimen ids and their encoded
haplotypes (:class:`patriline.encoding.Encoded`), persists as memory-mapped ``.npy``
files with a JSON manifest, and takes incremental additions and removals (a small
unindexed *delta* segment and a tombstone mask) until it is rebuilt.

Query plans
-----------
* **exact hash** — a 64-bit hash of each row over the *index columns* (a kit's
  columns, DYS389II hashed as ``II − I``), sorted, looked up with ``searchsorted``;
* **pigeonhole** — the index columns split into ``B`` blocks of whole loci, one sorted
  hash array per block. Two profiles within ``k`` mismatching copies differ at no more
  than ``k`` loci, so any ``k + 1`` blocks hold one on which they agree exactly
  (Manber & Wu 1994; Norouzi, Punjani & Fleet 2014, multi-index hashing). A query
  within ``s`` steps is within ``s`` mismatches, so small step bounds use it too;
* **full scan** — a column-wise numba kernel over the query's typed columns, for
  anything else (large bounds, partial traces that do not type every index column).

Rows not typed in full on the index columns (partial profiles, off-ladder, duplications)
are *residual*: every indexed query also checks them directly. Every candidate is
verified with the same comparison kernel, and rows the kernel flags are re-checked with
:func:`patriline.haplotype.compare`, so results equal a linear scan with ``compare``.

References
----------
Manber U, Wu S (1994) An algorithm for approximate membership checking with
  application to password security. Inf Process Lett 50:191.
Norouzi M, Punjani A, Fleet DJ (2014) Fast exact search in Hamming space with
  multi-index hashing. IEEE TPAMI 36:1107.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from patriline.encoding import Encoded, Layout, decode, encode
from patriline.errors import InputError
from patriline.haplotype import Allele, Haplotype, compare, parse_haplotype_string
from patriline.reference import default_catalog
from patriline.search import _kernels as K

if TYPE_CHECKING:
    from patriline.search.pairs import PairHits

__all__ = ["DEFAULT_MIN_LOCI", "FORMAT_VERSION", "Hits", "SearchIndex"]

FORMAT_VERSION = 1
#: Default minimum number of locus copies compared for a row to count as a hit.
DEFAULT_MIN_LOCI = 9
_BIG = K.BIG
_HASH_SEED = 0x5EED


@dataclass(frozen=True)
class Hits:
    """Rows within the bounds of one query, with exact comparison counts."""

    ids: list[str]
    compared: np.ndarray
    mismatches: np.ndarray
    steps: np.ndarray
    plan: str
    candidates_checked: int

    def __len__(self) -> int:
        return len(self.ids)


def _locus_arrays(layout: Layout) -> tuple[np.ndarray, np.ndarray, int, int]:
    starts = np.array([layout.slice_of(n).start for n in layout.loci], dtype=np.int64)
    copies = np.array(layout.copies, dtype=np.int64)
    d = layout.dys389
    i1, i2 = d if d is not None else (-1, -1)
    return starts, copies, i1, i2


def _complete_bits(values: np.ndarray, layout: Layout) -> np.ndarray:
    """Per row, a bit per column that is typed in full (value or null; DYS389 a value)."""
    n_cols = layout.n_columns
    if n_cols > 64:
        raise ValueError("layouts of more than 64 columns are not supported by the index")
    d = layout.dys389
    strict = set(d) if d is not None else set()
    out = np.zeros(values.shape[1], dtype=np.uint64)
    step = 1 << 20
    for lo in range(0, values.shape[1], step):
        chunk = values[:, lo : lo + step]
        acc = np.zeros(chunk.shape[1], dtype=np.uint64)
        for c in range(n_cols):
            v = chunk[c]
            ok = v >= 0 if c in strict else (v >= 0) | (v == -2)
            acc |= ok.astype(np.uint64) << np.uint64(c)
        out[lo : lo + step] = acc
    return out


def _mask_of(cols: Sequence[int]) -> np.uint64:
    m = 0
    for c in cols:
        m |= 1 << int(c)
    return np.uint64(m)


def _choose_index_kit(layout: Layout, bits: np.ndarray) -> tuple[str | None, list[int]]:
    """The kit with most columns among those typed in full by >= 90 % of rows."""
    catalog = default_catalog()
    best: tuple[int, float, str | None, list[int]] = (0, 0.0, None, [])
    n = max(len(bits), 1)
    for kit_id in ("minimal", "swgdam", "yfiler", "ppy23", "yfiler_plus", "rm13", "ppy12"):
        try:
            kit = catalog.kit(kit_id)
        except KeyError:
            continue
        if not all(locus in layout.loci for locus in kit.loci):
            continue
        cols = sorted(c for locus in kit.loci for c in range(*_span(layout, locus)))
        mask = _mask_of(cols)
        share = float(np.count_nonzero((bits & mask) == mask)) / n
        if share >= 0.9 and (len(cols), share) > (best[0], best[1]):
            best = (len(cols), share, kit.id, cols)
    if best[2] is None:  # no kit fits: no hashed columns, every query scans
        return None, []
    return best[2], best[3]


def _span(layout: Layout, locus: str) -> tuple[int, int]:
    sl = layout.slice_of(locus)
    return sl.start, sl.stop


def _blocks_of(layout: Layout, cols: list[int], n_blocks: int) -> list[list[int]]:
    """Split the index columns into blocks of whole loci, balanced by column count."""
    loci: list[list[int]] = []
    for c in cols:
        if loci and layout.columns[loci[-1][0]][0] == layout.columns[c][0]:
            loci[-1].append(c)
        else:
            loci.append([c])
    blocks: list[list[int]] = [[] for _ in range(min(n_blocks, len(loci)))]
    for i, group in enumerate(loci):
        blocks[i % len(blocks)].extend(group)
    return [sorted(b) for b in blocks]


class SearchIndex:
    """Search over the encoded haplotypes of many specimens (see module docstring).

    Build with :meth:`build` (deterministic: rows sorted by id), persist with
    :meth:`save` and :meth:`open`, update with :meth:`add`/:meth:`remove` or
    :meth:`sync` (from a store's change feed), query with :meth:`query` and
    :meth:`pairs`.
    """

    def __init__(self, manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.manifest = manifest
        self.layout = Layout.from_json(manifest["layout"])
        self.seq: int = int(manifest["seq"])
        self.index_cols = np.array(manifest["index_cols"], dtype=np.int64)
        self.blocks = [np.array(b, dtype=np.int64) for b in manifest["blocks"]]
        self.ids: np.ndarray = arrays["ids"]
        self.values: np.ndarray = arrays["values"]
        self.alive: np.ndarray = np.array(arrays["alive"], dtype=np.uint8)
        self.residual: np.ndarray = arrays["residual"]
        self.col_freq: np.ndarray = np.asarray(arrays["col_freq"])
        self.exact_hash: np.ndarray = arrays["exact_hash"]
        self.exact_rows: np.ndarray = arrays["exact_rows"]
        self.block_hash = [arrays[f"block{b}_hash"] for b in range(len(self.blocks))]
        self.block_rows = [arrays[f"block{b}_rows"] for b in range(len(self.blocks))]
        self.extras: dict[tuple[int, str], Allele] = _extras_from_json(manifest["extras"])
        self.delta_ids: list[str] = list(manifest.get("delta_ids", []))
        self.delta_values: np.ndarray = arrays.get(
            "delta_values", np.empty((self.layout.n_columns, 0), dtype=np.int16)
        )
        self.delta_alive = np.array(
            arrays.get("delta_alive", np.empty(0, dtype=np.uint8)), dtype=np.uint8
        )
        self.delta_extras = _extras_from_json(manifest.get("delta_extras", []))
        self._starts, self._copies, self._i1, self._i2 = _locus_arrays(self.layout)
        self._delta_pos = {s: i for i, s in enumerate(self.delta_ids)}

    # ---------------------------------------------------------------- building
    @classmethod
    def build(
        cls,
        ids: Sequence[str] | np.ndarray,
        encoded: Encoded,
        *,
        index_kit: str | None = None,
        n_blocks: int = 3,
        seq: int = 0,
    ) -> SearchIndex:
        """Index ``encoded`` (rows named by ``ids``); rows are stored sorted by id.

        ``ids`` may be strings or a numpy ``S`` array of UTF-8 bytes. ``index_kit`` names the kit whose columns are hashed (default: the largest kit
        that at least 90 % of rows type in full); ``n_blocks`` pigeonhole blocks serve
        queries within ``n_blocks − 1`` mismatches; ``seq`` is the store change
        sequence the data reflects.
        """
        layout = encoded.layout
        if len(ids) != encoded.n_rows:
            raise ValueError(f"{len(ids)} ids for {encoded.n_rows} rows")
        if isinstance(ids, np.ndarray) and ids.dtype.kind == "S":
            id_arr = ids  # UTF-8 bytes already (large inputs)
        else:
            id_arr = np.array([s.encode() for s in ids] if len(ids) else [], dtype="S")
        if len(id_arr) and not bool(np.all(id_arr[1:] > id_arr[:-1])):
            order = np.argsort(id_arr, kind="stable")
            id_arr = id_arr[order]
            if len(id_arr) > 1 and not bool(np.all(id_arr[1:] > id_arr[:-1])):
                dup = id_arr[1:][id_arr[1:] == id_arr[:-1]][0].decode()
                raise InputError(f"specimen {dup!r} appears twice in the index input")
            values = np.ascontiguousarray(encoded.values[:, order])
            inverse = np.empty_like(order)
            inverse[order] = np.arange(len(order))
            extras = {(int(inverse[r]), loc): a for (r, loc), a in encoded.extras.items()}
        else:
            values = np.ascontiguousarray(encoded.values)
            extras = dict(encoded.extras)
        bits = _complete_bits(values, layout)
        if index_kit is not None:
            kit = default_catalog().kit(index_kit)
            cols = sorted(c for locus in kit.loci for c in range(*_span(layout, locus)))
            kit_id: str | None = kit.id
        else:
            kit_id, cols = _choose_index_kit(layout, bits)
        d = layout.dys389
        if d is not None and d[1] in cols and d[0] not in cols:
            cols = [c for c in cols if c != d[1]]  # DYS389II is hashed on II − I only
        blocks = _blocks_of(layout, cols, n_blocks) if cols else []
        complete = (bits & _mask_of(cols)) == _mask_of(cols) if cols else np.zeros(len(bits), bool)
        residual = np.flatnonzero(~complete).astype(np.int64)
        full_rows = np.flatnonzero(complete).astype(np.int32)
        arrays: dict[str, np.ndarray] = {
            "ids": id_arr,
            "values": values,
            "alive": np.ones(values.shape[1], dtype=np.uint8),
            "residual": residual,
            "col_freq": _column_frequencies(values),
        }
        sub = values[:, full_rows] if len(full_rows) < values.shape[1] else values
        for name, bcols in [("exact", cols), *[(f"block{b}", bl) for b, bl in enumerate(blocks)]]:
            h = _hash(sub, layout, bcols)
            order = np.argsort(h, kind="stable")
            arrays[f"{name}_hash"] = h[order]
            arrays[f"{name}_rows"] = full_rows[order]
        manifest = {
            "format": FORMAT_VERSION,
            "layout": layout.to_json(),
            "count": int(values.shape[1]),
            "seq": int(seq),
            "built_seq": int(seq),
            "index_kit": kit_id,
            "index_cols": [int(c) for c in cols],
            "blocks": [[int(c) for c in b] for b in blocks],
            "extras": _extras_to_json(extras),
        }
        return cls(manifest, arrays)

    # ---------------------------------------------------------------- persistence
    _ARRAYS = ("ids", "values", "alive", "residual", "col_freq", "exact_hash", "exact_rows")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index to directory ``path`` (``.npy`` files and ``manifest.json``)."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        arrays = {name: getattr(self, name) for name in self._ARRAYS}
        for b in range(len(self.blocks)):
            arrays[f"block{b}_hash"] = self.block_hash[b]
            arrays[f"block{b}_rows"] = self.block_rows[b]
        arrays["delta_values"] = self.delta_values
        arrays["delta_alive"] = self.delta_alive
        for name, arr in arrays.items():
            target = root / f"{name}.npy"
            if isinstance(arr, np.memmap) and Path(str(arr.filename)).resolve() == target.resolve():
                continue  # unchanged, memory-mapped from this very file
            tmp = root / f".{name}.tmp.npy"
            np.save(tmp, np.asarray(arr))
            os.replace(tmp, target)
        manifest = dict(self.manifest)
        manifest["seq"] = self.seq
        manifest["delta_ids"] = list(self.delta_ids)
        manifest["delta_extras"] = _extras_to_json(self.delta_extras)
        tmp = root / ".manifest.tmp.json"
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(tmp, root / "manifest.json")
        return root

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> SearchIndex:
        """Open a saved index; the big arrays are memory-mapped read-only."""
        root = Path(path)
        try:
            manifest = json.loads((root / "manifest.json").read_text())
        except FileNotFoundError:
            raise InputError(f"{root}: no search index here (manifest.json missing)") from None
        if manifest.get("format") != FORMAT_VERSION:
            raise InputError(
                f"{root}: index format {manifest.get('format')} is not {FORMAT_VERSION}; rebuild it"
            )
        names = [*list(cls._ARRAYS), "delta_values", "delta_alive"]
        names += [f"block{b}_{k}" for b in range(len(manifest["blocks"])) for k in ("hash", "rows")]
        arrays = {}
        for name in names:
            file = root / f"{name}.npy"
            if not file.exists():
                raise InputError(f"{root}: index file {file.name} is missing; rebuild the index")
            small = name.startswith("delta") or name == "alive"
            arrays[name] = np.load(file) if small else np.load(file, mmap_mode="r")
        return cls(manifest, arrays)

    # ---------------------------------------------------------------- updates
    @property
    def n_rows(self) -> int:
        """Rows held (base and delta), including removed ones."""
        return int(self.values.shape[1] + self.delta_values.shape[1])

    @property
    def n_active(self) -> int:
        return int(np.count_nonzero(self.alive) + np.count_nonzero(self.delta_alive))

    def _base_row(self, specimen: str) -> int | None:
        key = specimen.encode()
        i = int(np.searchsorted(self.ids, key))
        if i < len(self.ids) and self.ids[i] == key:
            return i
        return None

    def remove(self, specimens: Sequence[str]) -> int:
        """Mark specimens removed (expunged or inactive); returns how many were held."""
        n = 0
        for s in specimens:
            row = self._base_row(s)
            if row is not None and self.alive[row]:
                self.alive[row] = 0
                n += 1
            pos = self._delta_pos.get(s)
            if pos is not None and self.delta_alive[pos]:
                self.delta_alive[pos] = 0
                n += 1
        return n

    def add(self, ids: Sequence[str], encoded: Encoded) -> None:
        """Append rows to the delta segment (a specimen already held is replaced)."""
        if encoded.layout.columns != self.layout.columns:
            raise ValueError("the rows to add use a different layout")
        self.remove(ids)
        offset = self.delta_values.shape[1]
        self.delta_values = np.concatenate([np.asarray(self.delta_values), encoded.values], axis=1)
        self.delta_alive = np.concatenate([self.delta_alive, np.ones(len(ids), dtype=np.uint8)])
        for (r, loc), a in encoded.extras.items():
            self.delta_extras[(r + offset, loc)] = a
        for i, s in enumerate(ids):
            self.delta_ids.append(s)
            self._delta_pos[s] = offset + i

    def sync(self, db: Any) -> int:
        """Apply the store's change feed since :attr:`seq`; returns the changes applied."""
        changes = db.changes_since(self.seq)
        if not changes:
            return 0
        latest: dict[str, str] = {}
        for _seq, specimen, op in changes:
            latest[specimen] = op
        removed = [s for s, op in latest.items() if op == "remove"]
        added = [s for s, op in latest.items() if op == "add"]
        self.remove(removed)
        if added:
            haps = [db.haplotype(s) for s in added]
            self.add(added, encode(haps, self.layout))
        self.seq = max(int(c[0]) for c in changes)
        return len(changes)

    # ---------------------------------------------------------------- queries
    def encode_query(self, haplotype: Haplotype | str) -> tuple[Haplotype, np.ndarray]:
        """The query as a haplotype and as one encoded row (InputError if it cannot be)."""
        if isinstance(haplotype, str):
            try:
                haplotype = parse_haplotype_string(haplotype)
            except (ValueError, KeyError) as exc:
                raise InputError(f"query haplotype: {exc}") from None
        outside = [n for n in haplotype.alleles if n not in self.layout.loci]
        if outside:
            raise InputError(f"query haplotype: loci not in the index layout: {', '.join(outside)}")
        enc = encode([haplotype], self.layout)
        return haplotype, np.ascontiguousarray(enc.values[:, 0])

    def query(
        self,
        haplotype: Haplotype | str,
        *,
        max_mismatches: int | None = 0,
        max_steps: int | None = None,
        min_loci: int = DEFAULT_MIN_LOCI,
        force_scan: bool = False,
    ) -> Hits:
        """Active rows with ``mismatches <= max_mismatches`` and ``steps <= max_steps``
        over at least ``min_loci`` compared locus copies (``None``: no bound).

        The counts equal :func:`patriline.haplotype.compare` of the query and the row.
        ``force_scan`` skips the hash indexes (the full scan; for checks and benchmarks).
        """
        h, q = self.encode_query(haplotype)
        mm = _BIG if max_mismatches is None else int(max_mismatches)
        ms = _BIG if max_steps is None else int(max_steps)
        if mm < 0 or ms < 0 or min_loci < 0:
            raise InputError("max_mismatches, max_steps and min_loci must not be negative")
        k = min(mm, ms)
        if force_scan:
            plan, rows = "full-scan", self._scan(q, min_loci, mm, ms)
        else:
            plan, rows = self._candidates(q, k, min_loci, mm, ms)
        res = K.rows_distance(self.values, rows, q, self._starts, self._copies, self._i1, self._i2)
        drows = np.flatnonzero(self.delta_alive).astype(np.int64)
        dres = K.rows_distance(
            self.delta_values, drows, q, self._starts, self._copies, self._i1, self._i2
        )
        out_ids: list[str] = []
        counts: list[tuple[int, int, int]] = []
        for seg, rr, table in ((0, rows, res), (1, drows, dres)):
            for (a, m, s, f), r in zip(table.tolist(), rr.tolist(), strict=True):
                if f:
                    c = compare(h, self._haplotype(seg, r))
                    a, m, s = c.loci_compared, c.mismatches, c.steps
                if a >= min_loci and m <= mm and s <= ms:
                    out_ids.append(self._id(seg, r))
                    counts.append((a, m, s))
        arr = np.array(counts, dtype=np.int64).reshape(-1, 3)
        return Hits(out_ids, arr[:, 0], arr[:, 1], arr[:, 2], plan, len(rows) + len(drows))

    def _query_complete(self, q: np.ndarray) -> bool:
        if len(self.index_cols) == 0:
            return False
        v = q[self.index_cols]
        ok = (v >= 0) | (v == -2)
        strict = np.isin(self.index_cols, [self._i1, self._i2])
        return bool(np.all(ok & (~strict | (v >= 0))))

    def _candidates(
        self, q: np.ndarray, k: int, min_loci: int, mm: int, ms: int
    ) -> tuple[str, np.ndarray]:
        """Base rows to verify, and the plan that chose them."""
        n_base = self.values.shape[1]
        if n_base == 0:
            return "empty", np.empty(0, dtype=np.int64)
        if self._query_complete(q) and (k == 0 or k < len(self.blocks)):
            qm = q.reshape(-1, 1)
            if k == 0:
                found = [
                    _lookup(
                        self.exact_hash,
                        self.exact_rows,
                        _hash(qm, self.layout, list(self.index_cols))[0],
                    )
                ]
                plan = "exact-hash"
            else:
                found = [
                    _lookup(
                        self.block_hash[b], self.block_rows[b], _hash(qm, self.layout, list(bc))[0]
                    )
                    for b, bc in enumerate(self.blocks)
                ]
                found = sorted(found, key=len)[: k + 1]
                plan = "pigeonhole"
            rows = np.unique(np.concatenate([*found, self.residual]).astype(np.int64))
            return plan, rows[self.alive[rows] != 0]
        return "full-scan", self._scan(q, min_loci, mm, ms)

    def _scan(self, q: np.ndarray, min_loci: int, mm: int, ms: int) -> np.ndarray:
        simple: list[int] = []
        pairs: list[int] = []
        other_s: list[int] = []
        other_c: list[int] = []
        seg = self._i1 >= 0 and q[self._i1] >= 0 and q[self._i2] >= 0
        for start, c in zip(self._starts.tolist(), self._copies.tolist(), strict=True):
            first = int(q[start])
            if first in (-1, -3):
                continue
            if seg and start == self._i2:
                continue
            if c == 1 and first >= 0:
                simple.append(start)
            elif c == 2 and first >= 0 and int(q[start + 1]) >= 0:
                pairs.append(start)
            else:
                other_s.append(start)
                other_c.append(c)
        # Columns where the query's value is rarest first: unrelated blocks stop sooner.
        simple.sort(key=lambda c: (self._value_share(c, int(q[c])), c))
        n = self.values.shape[1]
        out = np.empty(n, dtype=np.int64)
        counts = np.zeros((n + K.SCAN_CHUNK - 1) // K.SCAN_CHUNK, dtype=np.int64)
        K.scan_mask(
            self.values, self.alive, q,
            np.array(simple, dtype=np.int64), np.array(pairs, dtype=np.int64),
            np.array(other_s, dtype=np.int64), np.array(other_c, dtype=np.int64),
            self._i1 if seg else -1, self._i2 if seg else -1,
            min_loci, min(mm, _BIG), min(ms, _BIG), out, counts,
        )  # fmt: skip
        parts = [
            out[c * K.SCAN_CHUNK : c * K.SCAN_CHUNK + int(k)]
            for c, k in enumerate(counts.tolist())
            if k
        ]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def _value_share(self, column: int, value: int) -> float:
        """Share of (sampled) rows holding ``value`` in ``column``."""
        if self.col_freq.size == 0 or not 0 <= value < _FREQ_BINS:
            return 0.0
        return float(self.col_freq[column, value])

    # ---------------------------------------------------------------- all-vs-all
    def pairs(self, *, max_mismatches: int = 2, min_loci: int = DEFAULT_MIN_LOCI) -> PairHits:
        """All pairs of active rows within ``max_mismatches`` (see :mod:`.pairs`)."""
        from patriline.search.pairs import find_pairs

        return find_pairs(self, max_mismatches=max_mismatches, min_loci=min_loci)

    # ---------------------------------------------------------------- helpers
    def _id(self, seg: int, r: int) -> str:
        return self.ids[r].decode() if seg == 0 else self.delta_ids[r]

    def _locate(self, specimen: str) -> tuple[int, int]:
        pos = self._delta_pos.get(specimen)
        if pos is not None and self.delta_alive[pos]:
            return 1, pos
        row = self._base_row(specimen)
        if row is None:
            raise KeyError(specimen)
        return 0, row

    def _haplotype(self, seg: int, r: int) -> Haplotype:
        if seg == 0:
            extras = {(0, loc): a for (row, loc), a in self.extras.items() if row == r}
            enc = Encoded(self.layout, np.asarray(self.values[:, r : r + 1]), extras)
        else:
            extras = {(0, loc): a for (row, loc), a in self.delta_extras.items() if row == r}
            enc = Encoded(self.layout, np.asarray(self.delta_values[:, r : r + 1]), extras)
        return decode(enc)[0]

    def haplotype(self, specimen: str) -> Haplotype:
        """The haplotype held for ``specimen`` (KeyError if not held)."""
        return self._haplotype(*self._locate(specimen))

    def memory_bytes(self) -> dict[str, int]:
        """Bytes of the raw haplotype matrix and of the index structures."""
        index = sum(
            a.nbytes
            for a in [self.exact_hash, self.exact_rows, self.residual, self.alive,
                      *self.block_hash, *self.block_rows]
        )  # fmt: skip
        return {"raw": int(self.values.nbytes), "index": int(index), "ids": int(self.ids.nbytes)}


def _hash(values: np.ndarray, layout: Layout, cols: list[int] | np.ndarray) -> np.ndarray:
    """Row hashes over ``cols``; DYS389II always as II − I (the index columns hold DYS389I
    whenever they hold DYS389II, and hashed rows have values in both), so that a block
    agrees exactly when :func:`~patriline.haplotype.compare` finds no mismatch in it."""
    cols_arr = np.asarray(cols, dtype=np.int64)
    d = layout.dys389
    seg_pos = -1
    if d is not None and d[1] in set(cols_arr.tolist()):
        seg_pos = int(np.flatnonzero(cols_arr == d[1])[0])
    i1 = d[0] if d is not None else -1
    return K.hash_rows(values, cols_arr, seg_pos, i1, _HASH_SEED)


_FREQ_BINS = 1024
_FREQ_SAMPLE = 200_000


def _column_frequencies(values: np.ndarray) -> np.ndarray:
    """Share of each value (0..1023 tenths) per column, over an even sample of rows."""
    n = values.shape[1]
    out = np.zeros((values.shape[0], _FREQ_BINS), dtype=np.float32)
    if n == 0:
        return out
    rows = np.linspace(0, n - 1, min(n, _FREQ_SAMPLE)).astype(np.int64)
    sample = np.asarray(values[:, rows])
    for c in range(values.shape[0]):
        v = sample[c]
        v = v[(v >= 0) & (v < _FREQ_BINS)]
        out[c] = np.bincount(v, minlength=_FREQ_BINS)[:_FREQ_BINS] / len(rows)
    return out


def _lookup(hashes: np.ndarray, rows: np.ndarray, key: np.uint64) -> np.ndarray:
    lo = int(np.searchsorted(hashes, key, side="left"))
    hi = int(np.searchsorted(hashes, key, side="right"))
    return np.asarray(rows[lo:hi], dtype=np.int64)


def _extras_to_json(extras: dict[tuple[int, str], Allele]) -> list[list[Any]]:
    return [[r, loc, a.kind.value, list(a.values)] for (r, loc), a in sorted(extras.items())]


def _extras_from_json(doc: list[list[Any]]) -> dict[tuple[int, str], Allele]:
    from patriline.haplotype import AlleleKind

    return {(int(r), str(loc)): Allele(AlleleKind(k), tuple(v)) for r, loc, k, v in doc}
