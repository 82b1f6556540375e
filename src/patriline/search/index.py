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

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from patriline.encoding import Encoded, Layout, decode, encode
from patriline.errors import InputError
from patriline.haplotype import Allele, Haplotype, compare, parse_haplotype_string
from patriline.search._distance_kernels import BIG, rows_distance
from patriline.search._index_build import build_parts, locus_table
from patriline.search._index_files import (
    FORMAT_VERSION,
    extras_from_json,
    load_index,
    save_index,
)
from patriline.search._index_query import candidates, full_scan

if TYPE_CHECKING:
    from patriline.search.pairs import PairHits

__all__ = [
    "DEFAULT_MIN_LOCI",
    "FORMAT_VERSION",
    "ChangeFeed",
    "EncodedChangeFeed",
    "Hits",
    "SearchIndex",
]


class ChangeFeed(Protocol):
    """What :meth:`SearchIndex.sync` reads from a store (``Database`` is one)."""

    def changes_since(self, seq: int) -> list[tuple[int, str, str]]:
        """``(seq, specimen, "add" | "remove")`` after ``seq``, in order."""
        ...

    def haplotypes_of(self, specimen_ids: Iterable[str]) -> dict[str, Haplotype]:
        """``{specimen: haplotype}`` of many specimens in one batched read."""
        ...


@runtime_checkable
class EncodedChangeFeed(ChangeFeed, Protocol):
    """A feed that also serves encoded rows as stored (no text parsed): what
    :meth:`SearchIndex.sync` reads the delta with when it can (``Database`` does)."""

    def encoded_of(
        self, specimen_ids: Iterable[str], layout: Layout | None = None
    ) -> tuple[list[str], Encoded]:
        """IDs and encoded haplotypes of many specimens in one batched read."""
        ...


#: Default minimum number of locus copies compared for a row to count as a hit.
DEFAULT_MIN_LOCI = 9


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
        self.extras: dict[tuple[int, str], Allele] = extras_from_json(manifest["extras"])
        self.delta_ids: list[str] = list(manifest.get("delta_ids", []))
        self.delta_values: np.ndarray = arrays.get(
            "delta_values", np.empty((self.layout.n_columns, 0), dtype=np.int16)
        )
        self.delta_alive = np.array(
            arrays.get("delta_alive", np.empty(0, dtype=np.uint8)), dtype=np.uint8
        )
        self.delta_extras = extras_from_json(manifest.get("delta_extras", []))
        self.locus_table = locus_table(self.layout)
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
        manifest, arrays = build_parts(
            ids, encoded, index_kit=index_kit, n_blocks=n_blocks, seq=seq
        )
        return cls(manifest, arrays)

    # ---------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index to directory ``path`` (``.npy`` files and ``manifest.json``)."""
        return save_index(self, path)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, verify: str = "once") -> SearchIndex:
        """Open a saved index; the big arrays are memory-mapped read-only.

        Shapes, dtypes, sizes and the generation are checked on every open, checksums on
        the first open of a generation in this process (``verify="always"``: every
        time); a mismatch raises :class:`~patriline.search._index_files.IndexCorruptError`.
        """
        return cls(*load_index(path, verify=verify))

    @property
    def generation(self) -> str | None:
        """The saved generation this index was opened from or last saved as."""
        gen = self.manifest.get("generation")
        return str(gen) if gen is not None else None

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

    def sync(self, feed: ChangeFeed, changes: Sequence[tuple[int, str, str]] | None = None) -> int:
        """Apply the change feed since :attr:`seq` (``changes``: that feed, already read);
        returns the changes applied. The added haplotypes are read in one batched call
        (stored encoded rows when the feed is an :class:`EncodedChangeFeed`)."""
        if changes is None:
            changes = feed.changes_since(self.seq)
        if not changes:
            return 0
        latest: dict[str, str] = {}
        for _seq, specimen, op in changes:
            latest[specimen] = op
        removed = [s for s, op in latest.items() if op == "remove"]
        added = [s for s, op in latest.items() if op == "add"]
        self.remove(removed)
        if added:
            if isinstance(feed, EncodedChangeFeed):
                got, enc = feed.encoded_of(added, self.layout)
            else:
                found = feed.haplotypes_of(added)
                got = [s for s in added if s in found]
                enc = encode([found[s] for s in got], self.layout)
            missing = sorted(set(added) - set(got))
            if missing:
                raise InputError(f"change feed: no haplotype for added specimen {missing[0]!r}")
            self.add(got, enc)
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
        mm = BIG if max_mismatches is None else int(max_mismatches)
        ms = BIG if max_steps is None else int(max_steps)
        if mm < 0 or ms < 0 or min_loci < 0:
            raise InputError("max_mismatches, max_steps and min_loci must not be negative")
        k = min(mm, ms)
        if force_scan:
            plan, rows = "full-scan", full_scan(self, q, min_loci, mm, ms)
        else:
            plan, rows = candidates(self, q, k, min_loci, mm, ms)
        res = rows_distance(self.values, rows, q, self.locus_table)
        drows = np.flatnonzero(self.delta_alive).astype(np.int64)
        dres = rows_distance(self.delta_values, drows, q, self.locus_table)
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
