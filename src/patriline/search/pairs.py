"""All-vs-all pairs within a number of mismatches (lineage clustering).

Rows typed in full on the index columns pair through the pigeonhole blocks of
:class:`~patriline.search.index.SearchIndex`: rows with an equal block hash form a
group, every pair in a group is compared once with the comparison kernel, and a pair is
reported only in the first of its ``k + 1`` blocks on which it agrees, so it comes out
once (Manber & Wu 1994, as in the index). Every other row (residual, delta) is compared
with all rows by a query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from patriline.errors import InputError
from patriline.search._index_build import hash_cols
from patriline.search._pair_kernels import block_pairs

if TYPE_CHECKING:
    from patriline.search.index import SearchIndex

__all__ = ["PairHits", "find_pairs"]


@dataclass(frozen=True)
class PairHits:
    """All-vs-all pairs within the bounds (``a < b`` by id, sorted), with comparison counts.

    IDs are kept as UTF-8 bytes (``a_ids``, ``b_ids``; millions of pairs stay compact);
    :attr:`a` and :attr:`b` decode them.
    """

    a_ids: np.ndarray
    b_ids: np.ndarray
    compared: np.ndarray
    mismatches: np.ndarray
    steps: np.ndarray

    def __len__(self) -> int:
        return len(self.a_ids)

    @property
    def a(self) -> list[str]:
        return [x.decode() for x in self.a_ids.tolist()]

    @property
    def b(self) -> list[str]:
        return [x.decode() for x in self.b_ids.tolist()]


def find_pairs(index: SearchIndex, *, max_mismatches: int = 2, min_loci: int = 9) -> PairHits:
    """All pairs of active rows of ``index`` within ``max_mismatches`` over ``min_loci`` copies.

    Rows typed in full on the index columns pair through the pigeonhole blocks
    (each pair found in the first block it agrees on); every other row is compared
    with all rows by the scan kernel.
    """
    k = int(max_mismatches)
    if k < 0 or min_loci < 0:
        raise InputError("max_mismatches and min_loci must not be negative")
    n_base = index.values.shape[1]
    residual = np.zeros(n_base, dtype=bool)
    residual[index.residual] = True
    if k >= len(index.blocks):
        residual[:] = True
    a_rows: list[np.ndarray] = []
    b_rows: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    complete = np.flatnonzero(~residual & (index.alive != 0)).astype(np.int64)
    if len(complete) > 1:
        sub = np.ascontiguousarray(index.values[:, complete])
        hashes = np.stack([hash_cols(sub, index.layout, list(b)) for b in index.blocks[: k + 1]])
        rows_major = np.ascontiguousarray(sub.T)
        del sub
        for b in range(k + 1):
            order = np.argsort(hashes[b], kind="stable")
            hs = hashes[b][order]
            cut = np.flatnonzero(hs[1:] != hs[:-1]) + 1
            starts = np.concatenate([[0], cut])
            ends = np.concatenate([cut, [len(hs)]])
            big = ends - starts > 1
            got = block_pairs(
                rows_major, order.astype(np.int64), starts[big].astype(np.int64),
                ends[big].astype(np.int64), hashes, b, index.locus_table, min_loci, k,
            )  # fmt: skip
            # Base rows are sorted by id, so row order is id order.
            a_rows.append(complete[got[:, 0]])
            b_rows.append(complete[got[:, 1]])
            counts.append(got[:, 2:5])
    # Residual rows (and the delta segment) against everything after them.
    others = [(0, int(r)) for r in np.flatnonzero(residual & (index.alive != 0))]
    others += [(1, int(r)) for r in np.flatnonzero(index.delta_alive)]
    rank = {key: i for i, key in enumerate(others)}
    extra: list[tuple[str, str, int, int, int]] = []
    for seg, r in others:
        h = index._haplotype(seg, r)
        hits = index.query(h, max_mismatches=k, min_loci=min_loci)
        me = index._id(seg, r)
        for other, a, m, s in zip(
            hits.ids, hits.compared, hits.mismatches, hits.steps, strict=True
        ):
            if other == me:
                continue
            key = index._locate(other)
            if key in rank and rank[key] <= rank[(seg, r)]:
                continue
            extra.append((min(me, other), max(me, other), int(a), int(m), int(s)))
    if not counts and not extra:
        empty = np.empty(0, dtype=np.int64)
        return PairHits(np.empty(0, dtype="S1"), np.empty(0, dtype="S1"), empty, empty, empty)
    if counts:
        ra, rb = np.concatenate(a_rows), np.concatenate(b_rows)
        order = np.lexsort((rb, ra))  # row order is id order: sort on integers
        a_ids = [index.ids[ra[order]]]
        b_ids = [index.ids[rb[order]]]
        counts = [np.concatenate(counts)[order]]
    else:
        a_ids, b_ids = [], []
    if extra:
        a_ids.append(np.array([e[0].encode() for e in extra], dtype="S"))
        b_ids.append(np.array([e[1].encode() for e in extra], dtype="S"))
        counts.append(np.array([e[2:] for e in extra], dtype=np.int32))
    a_all = np.concatenate(a_ids)
    b_all = np.concatenate(b_ids)
    c_all = np.concatenate(counts)
    order = np.lexsort((b_all, a_all)) if extra else np.arange(len(a_all))
    return PairHits(
        a_all[order],
        b_all[order],
        c_all[order, 0],
        c_all[order, 1],
        c_all[order, 2],
    )
