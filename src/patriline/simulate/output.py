"""Writing a simulated population to a directory the store imports, and reading it back.

Files: ``haplotypes.csv`` (wide CSV read by :func:`patriline.io.read`: ``specimen,
person, kit, category`` then one column per locus, multi-copy loci as ``11,14``),
``links.csv`` (``son,father`` person ids, both in the kept generations),
``males.csv`` (``person, generation, alive, father, lineage``: birth generation, the
father's id even outside the kept generations, and the founder of the lineage),
``truth.npz`` (sizes, father of every male, kept haplotypes) with ``truth.json``
(a summary), and ``provenance.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from patriline._files import private_dir, private_open, write_private
from patriline.encoding import Encoded, Layout
from patriline.errors import InputError
from patriline.haplotype import format_tenths
from patriline.reference import Catalog, default_catalog
from patriline.simulate.config import SimConfig
from patriline.simulate.population import Population

__all__ = ["load_population", "write_population"]


def _column_text(values: np.ndarray) -> np.ndarray:
    """Allele text of one column of tenths (via a lookup of its distinct values)."""
    uniq, inv = np.unique(values, return_inverse=True)
    table = np.array([format_tenths(int(v)) for v in uniq], dtype=object)
    return table[inv]


def _csv_lines(
    population: Population, ids: np.ndarray, values: np.ndarray, catalog: Catalog
) -> list[str]:
    layout = population.layout
    kit = population.layout.kit or ""
    cols: list[np.ndarray] = []
    for name in layout.loci:
        sl = layout.slice_of(name)
        parts = [_column_text(values[c]) for c in range(sl.start, sl.stop)]
        if len(parts) == 1:
            cols.append(parts[0])
        else:
            joined = parts[0]
            for p in parts[1:]:
                joined = joined + "," + p
            cols.append('"' + joined + '"')
    persons = population.person_ids(ids)
    header = ["specimen", "person", "kit", "category"] + [
        catalog.locus(n).name for n in layout.loci
    ]
    lines = [",".join(header)]
    rows = zip(*cols, strict=True) if cols else iter([()] * len(ids))
    for person, alleles in zip(persons, rows, strict=True):
        lines.append(",".join(["S" + person[1:], person, kit, "reference", *alleles]))
    return lines


def _write_haplotypes(
    population: Population, ids: np.ndarray, values: np.ndarray, path: Path, catalog: Catalog
) -> None:
    """Through ``patriline.io``'s fast writer when present, else our own numpy writer."""
    try:
        from patriline.io.encoded import write_encoded
    except ImportError:  # pragma: no cover - io not installed
        lines = _csv_lines(population, ids, values, catalog)
        write_private(path, "\n".join(lines) + "\n")
        return
    persons = population.person_ids(ids)
    n = len(ids)
    write_encoded(
        ["S" + p[1:] for p in persons],
        Encoded(population.layout, values),
        path,
        {
            "person": persons,
            "kit": [population.layout.kit or ""] * n,
            "category": ["reference"] * n,
        },
    )


def write_population(
    population: Population, out: str | Path, catalog: Catalog | None = None
) -> dict[str, Any]:
    """Write the kept generations to ``out`` (created). Returns a summary dict."""
    catalog = catalog or default_catalog()
    out = Path(out)
    try:
        private_dir(out)
    except OSError as exc:
        raise InputError(f"{out}: cannot create the output directory: {exc}") from None
    gens = population.kept_generations
    ids = np.concatenate(
        [
            np.arange(population.offsets[g], population.offsets[g] + population.sizes[g])
            for g in gens
        ]
    ).astype(np.int64)
    values = np.concatenate([population.haplotypes[g] for g in gens], axis=1)
    _write_haplotypes(population, ids, values, out / "haplotypes.csv", catalog)
    fathers = population.parent[ids].astype(np.int64)
    kept = fathers >= population.offsets[gens[0]]
    link_lines = ["son,father"] + [
        f"{s},{f}"
        for s, f in zip(
            population.person_ids(ids[kept]), population.person_ids(fathers[kept]), strict=True
        )
    ]
    write_private(out / "links.csv", "\n".join(link_lines) + "\n", encoding="utf-8")
    gen_of = population.generation_of(ids)
    living_gen = population.n_generations
    founders = population.founder_of(ids)
    father_txt = [
        "" if f < 0 else p
        for f, p in zip(
            fathers.tolist(), population.person_ids(np.maximum(fathers, 0)), strict=True
        )
    ]
    male_lines = ["person,generation,alive,father,lineage"] + [
        f"{p},{g},{int(g == living_gen)},{f},{lin}"
        for p, g, f, lin in zip(
            population.person_ids(ids),
            gen_of.tolist(),
            father_txt,
            population.person_ids(founders),
            strict=True,
        )
    ]
    write_private(out / "males.csv", "\n".join(male_lines) + "\n", encoding="utf-8")
    arrays: dict[str, Any] = {
        "sizes": population.sizes,
        "parent": population.parent,
        "kept_generations": np.array(gens),
        "founder": founders,
        "ids": ids,
    }
    arrays.update({f"haplotypes_{g}": population.haplotypes[g] for g in gens})
    with private_open(out / "truth.npz", "wb") as fh:
        np.savez_compressed(fh, **arrays)
    summary = {
        "layout": json.loads(population.layout.to_json()),
        "generations": population.n_generations,
        "sizes": population.sizes.tolist(),
        "kept_generations": gens,
        "males_written": len(ids),
        "links_written": int(kept.sum()),
        "lineages_living": len(np.unique(population.founder_of(population.living))),
        "id_format": "M + global id zero-padded; specimen S + same digits",
        "config": population.config.to_dict(),
    }
    write_private(out / "truth.json", json.dumps(summary, indent=2), encoding="utf-8")
    write_private(
        out / "provenance.json",
        json.dumps(population.provenance, indent=2, default=str),
        encoding="utf-8",
    )
    return summary


def load_population(directory: str | Path) -> Population:
    """Read back a directory written by :func:`write_population` (for ``meioses``), or a
    sharded country (Parquet shards with a manifest, :mod:`patriline.simulate.shards`)."""
    d = Path(directory)
    from patriline.simulate.shards import is_sharded, load_sharded

    if is_sharded(d):
        population: Population = load_sharded(d)
        return population
    try:
        summary = json.loads((d / "truth.json").read_text(encoding="utf-8"))
        npz = np.load(d / "truth.npz")
        prov = json.loads((d / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{d}: not a simulation output directory: {exc}") from None
    cfg = dict(summary["config"])
    if cfg.get("sizes") is not None:
        cfg["sizes"] = tuple(cfg["sizes"])
    if cfg.get("loci") is not None:
        cfg["loci"] = tuple(cfg["loci"])
    config = SimConfig(**cfg)
    sizes = npz["sizes"]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    layout = Layout.from_json(json.dumps(summary["layout"]))
    haps = {int(g): npz[f"haplotypes_{int(g)}"] for g in npz["kept_generations"]}
    return Population(config, sizes, offsets, npz["parent"], layout, haps, prov)
