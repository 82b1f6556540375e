"""A simulated population as Parquet shards with a manifest (one format for a country).

Directory layout (``patriline simulate --regions ...``)::

    manifest.json                       regions, sizes, layout, seed, version, shard list
    links/g0001/r0003-0000.parquet      person, father (int64 global ids), one region's
                                        sons of one generation, <= shard_rows rows each
    haplotypes/g0030/r0003-0000.parquet person (int64), one int16 column per layout
                                        column (tenths of a repeat), kept generations only
    provenance.json

Men are numbered generation by generation and, within one, region by region (as
:class:`patriline.simulate.regions.RegionMap` says), so a one-region country numbers its
men as :func:`patriline.simulate.simulate` does. Shards are written and read one at a
time: memory is bounded by a shard, not by the country. :func:`load_sharded` builds an
in-memory :class:`Population` (father of every man, kept haplotypes) for ``reach`` and
``meioses``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from patriline.encoding import Layout
from patriline.errors import InputError

__all__ = [
    "FORMAT",
    "MANIFEST",
    "is_sharded",
    "iter_haplotype_shards",
    "iter_link_shards",
    "load_sharded",
    "read_manifest",
    "write_haplotype_shards",
    "write_link_shards",
]

MANIFEST = "manifest.json"
FORMAT = "patriline-shards"
FORMAT_VERSION = 1


def _pa() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError(
            "sharded populations need pyarrow: pip install 'patriline[distributed]'"
        ) from None
    return pa, pq


def column_keys(layout: Layout) -> list[str]:
    """Parquet column names of a layout's columns (``DYS385[0]`` for copies)."""
    return list(layout.column_names)


def _chunks(n: int, shard_rows: int) -> Iterator[tuple[int, int, int]]:
    parts = max(1, -(-n // shard_rows))
    for k in range(parts):
        yield k, k * shard_rows, min(n, (k + 1) * shard_rows)


def write_link_shards(
    out: Path, region: int, generation: int, first_id: int, fathers: np.ndarray, shard_rows: int
) -> list[dict[str, Any]]:
    """Write one region's sons of one generation (``first_id`` onwards) and their fathers."""
    pa, pq = _pa()
    entries = []
    folder = out / "links" / f"g{generation:04d}"
    folder.mkdir(parents=True, exist_ok=True)
    for k, a, b in _chunks(len(fathers), shard_rows):
        rel = f"links/g{generation:04d}/r{region:04d}-{k:04d}.parquet"
        person = np.arange(first_id + a, first_id + b, dtype=np.int64)
        table = pa.table({"person": person, "father": np.asarray(fathers[a:b], dtype=np.int64)})
        pq.write_table(  # ids ascend: delta encoding stores them in a few bits each
            table,
            out / rel,
            compression="zstd",
            use_dictionary=False,
            column_encoding={"person": "DELTA_BINARY_PACKED", "father": "DELTA_BINARY_PACKED"},
        )
        entries.append(
            {
                "kind": "links",
                "path": rel,
                "region": region,
                "generation": generation,
                "rows": b - a,
                "first_id": first_id + a,
            }
        )
    return entries


def write_haplotype_shards(
    out: Path,
    region: int,
    generation: int,
    first_id: int,
    values: np.ndarray,
    layout: Layout,
    shard_rows: int,
) -> list[dict[str, Any]]:
    """Write one region's haplotypes ``(n_columns, n)`` of one kept generation."""
    pa, pq = _pa()
    keys = column_keys(layout)
    folder = out / "haplotypes" / f"g{generation:04d}"
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for k, a, b in _chunks(values.shape[1], shard_rows):
        rel = f"haplotypes/g{generation:04d}/r{region:04d}-{k:04d}.parquet"
        cols: dict[str, Any] = {"person": np.arange(first_id + a, first_id + b, dtype=np.int64)}
        for c, key in enumerate(keys):
            cols[key] = np.ascontiguousarray(values[c, a:b])
        pq.write_table(
            pa.table(cols),
            out / rel,
            compression="zstd",
            column_encoding={"person": "DELTA_BINARY_PACKED"},
            use_dictionary=keys,
        )
        entries.append(
            {
                "kind": "haplotypes",
                "path": rel,
                "region": region,
                "generation": generation,
                "rows": b - a,
                "first_id": first_id + a,
            }
        )
    return entries


def is_sharded(directory: str | Path) -> bool:
    return (Path(directory) / MANIFEST).is_file()


def read_manifest(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a sharded population manifest: {exc}") from None
    if doc.get("format") != FORMAT or doc.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{path}: format {doc.get('format')!r} version {doc.get('format_version')!r} "
            f"is not {FORMAT} version {FORMAT_VERSION}"
        )
    return doc


def _read(directory: Path, entry: dict[str, Any], columns: list[str] | None = None) -> Any:
    _, pq = _pa()
    path = directory / entry["path"]
    try:
        table = pq.read_table(path, columns=columns)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read shard: {exc}") from None
    if table.num_rows != entry["rows"]:
        raise InputError(
            f"{path}: {table.num_rows} rows, the manifest says {entry['rows']} (incomplete copy?)"
        )
    return table


def iter_link_shards(
    directory: str | Path, manifest: dict[str, Any] | None = None
) -> Iterator[tuple[dict[str, Any], np.ndarray, np.ndarray]]:
    """``(entry, person, father)`` of every links shard, one shard in memory at a time."""
    d = Path(directory)
    manifest = manifest or read_manifest(d)
    for e in manifest["shards"]:
        if e["kind"] == "links":
            t = _read(d, e)
            yield e, t["person"].to_numpy(), t["father"].to_numpy()


def iter_haplotype_shards(
    directory: str | Path, manifest: dict[str, Any] | None = None
) -> Iterator[tuple[dict[str, Any], np.ndarray, np.ndarray]]:
    """``(entry, person, values (n_columns, rows) int16)`` of every haplotype shard."""
    d = Path(directory)
    manifest = manifest or read_manifest(d)
    layout = Layout.from_json(json.dumps(manifest["layout"]))
    keys = column_keys(layout)
    for e in manifest["shards"]:
        if e["kind"] == "haplotypes":
            t = _read(d, e)
            values = np.empty((len(keys), e["rows"]), dtype=np.int16)
            for c, key in enumerate(keys):
                values[c] = t[key].to_numpy()
            yield e, t["person"].to_numpy(), values


def load_sharded(directory: str | Path, region: str | None = None) -> Any:
    """A :class:`Population` (with its :class:`RegionMap`) from a sharded directory.

    With ``region``, only that region's men, renumbered as a population of their own
    (the region as a separate population: only possible when no son of the region has
    a father elsewhere, e.g. with migration 0; :class:`InputError` otherwise).
    """
    from patriline.simulate.config import SimConfig
    from patriline.simulate.population import Population
    from patriline.simulate.regions import RegionMap

    d = Path(directory)
    m = read_manifest(d)
    region_sizes = np.asarray(m["region_sizes"], dtype=np.int64)  # (R, T + 1)
    names = list(m["regions"])
    gsize = region_sizes.sum(axis=0)
    goff = np.concatenate([[0], np.cumsum(gsize)]).astype(np.int64)
    roff = np.vstack([np.zeros((1, gsize.shape[0]), np.int64), np.cumsum(region_sizes, 0)])
    only: int | None = None
    if region is not None:
        if region not in names:
            raise InputError(f"{d}: no region {region!r} (regions: {', '.join(names[:8])})")
        only = names.index(region)
        region_sizes = region_sizes[only : only + 1]
    sizes = region_sizes.sum(axis=0)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def local(ids: np.ndarray) -> np.ndarray:
        """Global ids of the country → ids of the one-region population."""
        if only is None:
            return ids
        gen = np.searchsorted(goff, ids, side="right") - 1
        pos = ids - goff[gen] - roff[only, gen]
        if ((pos < 0) | (pos >= region_sizes[0, gen])).any():
            raise InputError(
                f"{d}: region {region!r} has sons whose fathers live in another region "
                "(migration > 0): it is not a separate population"
            )
        return offsets[gen] + pos

    if offsets[-1] >= 2**31:
        raise InputError(
            f"{d}: {offsets[-1]} men in all generations: more than 2^31 ids do not fit an "
            "in-memory Population (load one region, or a smaller country)"
        )
    parent = np.full(offsets[-1], -1, dtype=np.int32)
    filled = np.zeros(len(sizes), dtype=np.int64)
    for e, person, father in iter_link_shards(d, m):
        if only is not None and e["region"] != only:
            continue
        parent[local(person)] = local(father)
        filled[e["generation"]] += len(person)
    short = [g for g in range(1, len(sizes)) if filled[g] != sizes[g]]
    if short:
        raise InputError(f"{d}: links of generation {short[0]} are incomplete")
    layout = Layout.from_json(json.dumps(m["layout"]))
    kept = [int(g) for g in m["kept_generations"]]
    haps = {g: np.empty((layout.n_columns, sizes[g]), dtype=np.int16) for g in kept}
    for e, person, values in iter_haplotype_shards(d, m):
        if only is not None and e["region"] != only:
            continue
        g = e["generation"]
        haps[g][:, local(person) - offsets[g]] = values
    cfg = dict(m["config"])
    for key in ("sizes", "loci"):
        if cfg.get(key) is not None:
            cfg[key] = tuple(cfg[key])
    if only is not None:
        cfg["males"] = int(sizes[-1])
    config = SimConfig(**cfg)
    bounds = np.zeros((len(sizes), region_sizes.shape[0] + 1), dtype=np.int64)
    bounds[:, 1:] = np.cumsum(region_sizes, axis=0).T
    keep = names if only is None else [names[only]]
    parents = list(m["parents"]) if only is None else [m["parents"][only]]
    regions = RegionMap(tuple(keep), tuple(parents), bounds)
    prov = m.get("provenance", {})
    return Population(config, sizes, offsets, parent, layout, haps, prov, regions)
