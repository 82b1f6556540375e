"""Persistence of a :class:`~patriline.search.index.SearchIndex`: one ``.npy`` file per
array (the big ones memory-mapped on open) and a JSON manifest, each replaced atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from patriline.errors import InputError
from patriline.haplotype import Allele, AlleleKind

if TYPE_CHECKING:
    from patriline.search.index import SearchIndex

FORMAT_VERSION = 1
#: Arrays of every index, beside ``block{b}_hash``/``block{b}_rows`` and the delta.
ARRAYS = ("ids", "values", "alive", "residual", "col_freq", "exact_hash", "exact_rows")


def save_index(index: SearchIndex, path: str | os.PathLike[str]) -> Path:
    """Write ``index`` to directory ``path`` (``.npy`` files and ``manifest.json``)."""
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {name: getattr(index, name) for name in ARRAYS}
    for b in range(len(index.blocks)):
        arrays[f"block{b}_hash"] = index.block_hash[b]
        arrays[f"block{b}_rows"] = index.block_rows[b]
    arrays["delta_values"] = index.delta_values
    arrays["delta_alive"] = index.delta_alive
    for name, arr in arrays.items():
        target = root / f"{name}.npy"
        if isinstance(arr, np.memmap) and Path(str(arr.filename)).resolve() == target.resolve():
            continue  # unchanged, memory-mapped from this very file
        tmp = root / f".{name}.tmp.npy"
        np.save(tmp, np.asarray(arr))
        os.replace(tmp, target)
    manifest = dict(index.manifest)
    manifest["seq"] = index.seq
    manifest["delta_ids"] = list(index.delta_ids)
    manifest["delta_extras"] = extras_to_json(index.delta_extras)
    tmp = root / ".manifest.tmp.json"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, root / "manifest.json")
    return root


def load_index(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The manifest and arrays of a saved index; the big arrays memory-mapped read-only."""
    root = Path(path)
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except FileNotFoundError:
        raise InputError(f"{root}: no search index here (manifest.json missing)") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise InputError(
            f"{root}: index format {manifest.get('format')} is not {FORMAT_VERSION}; rebuild it"
        )
    names = [*list(ARRAYS), "delta_values", "delta_alive"]
    names += [f"block{b}_{k}" for b in range(len(manifest["blocks"])) for k in ("hash", "rows")]
    arrays = {}
    for name in names:
        file = root / f"{name}.npy"
        if not file.exists():
            raise InputError(f"{root}: index file {file.name} is missing; rebuild the index")
        small = name.startswith("delta") or name == "alive"
        arrays[name] = np.load(file) if small else np.load(file, mmap_mode="r")
    return manifest, arrays


def extras_to_json(extras: dict[tuple[int, str], Allele]) -> list[list[Any]]:
    """``[row, locus, kind, values]`` of each allele the encoding holds aside."""
    return [[r, loc, a.kind.value, list(a.values)] for (r, loc), a in sorted(extras.items())]


def extras_from_json(doc: list[list[Any]]) -> dict[tuple[int, str], Allele]:
    """The inverse of :func:`extras_to_json`."""
    return {(int(r), str(loc)): Allele(AlleleKind(k), tuple(v)) for r, loc, k, v in doc}
