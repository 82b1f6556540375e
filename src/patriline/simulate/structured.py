"""A structured country: regions with patrilocal migration, simulated region by region.

Each region follows today's model (:mod:`patriline.simulate.population`: Wright-Fisher
with variance in reproductive success, the same mutation model) with its own size
history (``--generations`` constant, then ``--growth-generations`` at the region's
growth, ending at its living men). Sons are mostly raised where their father lives:

* each son of region ``d`` is a *migrant* with probability ``m`` (``--migration``);
  the others take their father from ``d`` itself;
* ``uniform`` (Wright's island model): a migrant's father comes from the whole
  country, region ``s`` with probability proportional to its fathers' total weight
  (own region included), so ``m = 1`` is exactly the panmictic model of
  :func:`patriline.simulate.simulate`, and ``m = 0`` gives independent regions;
* ``nearest`` (Kimura's stepping stone on the table order): a migrant's father comes
  from region ``d - 1`` or ``d + 1`` (in proportion to their weight; one neighbour at
  the ends), so exactly a share ``m`` of sons grow up outside their father's region.

Within the source region the father is drawn in proportion to his weight, as today.
Every random draw comes from a generator keyed by ``(seed, stream, region,
generation)`` (``numpy.random.SeedSequence`` spawn keys), and each step is a pure
function of its inputs and of files at fixed paths, so the output does not depend on
how many workers run the steps, nor on their order within a generation.

Founders: ``monomorphic`` as today; ``msprime``: each region's founders (only those
with kept descendants) come from their own coalescent at the region's founder Ne
(independent regions before the simulated time).

The run has two passes over the generations: the genealogy (father links, written as
Parquet shards), a backward pass over the links to find the founders needed, then the
haplotypes (inherit, mutate; kept generations written as shards). Between generations
each region's haplotypes sit in a scratch ``.npy`` file beside the output, read
memory-mapped by the regions whose migrants they father.

References
----------
Seielstad MT, Minch E, Cavalli-Sforza LL (1998). Genetic evidence for a higher female
migration rate in humans. Nat Genet 20:278-280.
Wright S (1931). Evolution in Mendelian populations. Genetics 16:97-159.
Kimura M, Weiss GH (1964). The stepping stone model of population structure and the
decrease of genetic correlation with distance. Genetics 49:561-576.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from patriline.errors import InputError
from patriline.reference import Catalog, default_catalog
from patriline.simulate.config import DEFAULT_FOUNDER_NE, SimConfig
from patriline.simulate.regions import Region

__all__ = [
    "MIGRATION_MODELS",
    "CountryConfig",
    "Mapper",
    "local_map",
    "simulate_country",
]

MIGRATION_MODELS = ("uniform", "nearest")

# random streams (first spawn key): one generator per (stream, region, generation)
_WEIGHTS, _COUNTS, _FATHERS, _MUTATION, _FOUNDERS = range(5)

#: ``map(fn, list_of_argument_tuples) -> list_of_results``, in order.
Mapper = Callable[[Callable[..., Any], list[tuple[Any, ...]]], list[Any]]


def local_map(fn: Callable[..., Any], args: list[tuple[Any, ...]]) -> list[Any]:
    """Run the steps one after the other in this process."""
    return [fn(*a) for a in args]


@dataclass(frozen=True)
class CountryConfig:
    """A structured simulation: today's :class:`SimConfig` (its ``males`` is the total,
    its ``growth`` the default of regions without one), the regions and the migration."""

    base: SimConfig
    regions: tuple[Region, ...]
    migration: float = 0.0
    model: str = "uniform"
    shard_rows: int = 1_000_000

    def __post_init__(self) -> None:
        if not self.regions:
            raise InputError("a country needs at least one region")
        if self.base.sizes is not None:
            raise InputError("regions take their sizes from the region table, not `sizes`")
        if not 0.0 <= self.migration <= 1.0:
            raise InputError(f"--migration must be in [0, 1] (got {self.migration})")
        if self.model not in MIGRATION_MODELS:
            raise InputError(
                f"--migration-model must be one of {', '.join(MIGRATION_MODELS)} "
                f"(got {self.model!r})"
            )
        if self.shard_rows < 1:
            raise InputError(f"shard rows must be >= 1 (got {self.shard_rows})")

    def region_config(self, r: int) -> SimConfig:
        reg = self.regions[r]
        growth = self.base.growth if reg.growth is None else reg.growth
        return dataclasses.replace(self.base, males=reg.males, growth=growth)

    def region_sizes(self) -> np.ndarray:
        """Sizes ``(R, T + 1)``: region ``r``'s men in generations ``0 .. T``."""
        return np.stack([self.region_config(r).size_history() for r in range(len(self.regions))])

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base.to_dict(),
            "regions": [dataclasses.asdict(r) for r in self.regions],
            "migration": self.migration,
            "model": self.model,
            "shard_rows": self.shard_rows,
        }


def _rng(seed: int, stream: int, r: int, g: int, extra: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, r, g, extra)))


@dataclass(frozen=True)
class _Plan:
    """What every step needs (picklable, small): sent to the workers."""

    cfg: CountryConfig
    out: str
    sizes: np.ndarray  # (R, T + 1)
    gen_offsets: np.ndarray  # (T + 2,)
    region_offsets: np.ndarray  # (R + 1, T + 1): first position of region r in gen g
    run: str = ""  # this run's token (keys the per-process memory maps; not in the output)

    @property
    def R(self) -> int:
        return self.sizes.shape[0]

    @property
    def T(self) -> int:
        return self.sizes.shape[1] - 1

    @property
    def keep_from(self) -> int:
        return self.T - self.cfg.base.keep_generations + 1

    def first_id(self, r: int, g: int) -> int:
        return int(self.gen_offsets[g] + self.region_offsets[r, g])

    def scratch(self, what: str, r: int, g: int) -> Path:
        return Path(self.out) / ".scratch" / f"{what}_r{r:04d}_g{g:04d}.npy"


#: Memory maps of the scratch files of one generation, opened once per process.
_MAPS: dict[str, Any] = {"generation": None, "maps": {}}


def _scratch_map(plan: _Plan, what: str, r: int, g: int) -> np.ndarray:
    """The scratch array ``what`` of region ``r``, generation ``g`` (memory-mapped; the
    maps of other generations are dropped, so at most one generation stays mapped)."""
    key = (plan.run, g)
    if _MAPS["generation"] != key:
        _MAPS["generation"], _MAPS["maps"] = key, {}
    maps: dict[tuple[str, int], np.ndarray] = _MAPS["maps"]
    if (what, r) not in maps:
        maps[(what, r)] = np.load(plan.scratch(what, r, g), mmap_mode="r")
    return maps[(what, r)]


# -- steps (pure functions of their arguments and of files at fixed paths) -------------
def _weights_step(plan: _Plan, s: int, g: int) -> float:
    """Fathers' weights of region ``s`` in generation ``g``: total (cumulative kept)."""
    n = int(plan.sizes[s, g])
    vrs = plan.cfg.base.vrs
    if vrs == 0:
        return float(n)
    cw = np.cumsum(_rng(plan.cfg.base.seed, _WEIGHTS, s, g).gamma(1.0 / vrs, vrs, n))
    np.save(plan.scratch("cw", s, g), cw)
    return float(cw[-1])


def _source_counts(plan: _Plan, d: int, g: int, totals: Sequence[float]) -> np.ndarray:
    """Sons of region ``d`` in generation ``g`` by the region of their father."""
    rng = _rng(plan.cfg.base.seed, _COUNTS, d, g)
    n = int(plan.sizes[d, g])
    R, m = plan.R, plan.cfg.migration
    counts = np.zeros(R, dtype=np.int64)
    w = np.asarray(totals, dtype=np.float64)
    if plan.cfg.model == "uniform":
        pool = np.arange(R)
    else:
        pool = np.array([s for s in (d - 1, d + 1) if 0 <= s < R], dtype=np.int64)
    if len(pool) == 0 or m == 0:
        counts[d] = n
        return counts
    migrants = int(rng.binomial(n, m))
    p = w[pool] / w[pool].sum()
    counts[pool] = rng.multinomial(migrants, p)
    counts[d] += n - migrants
    return counts


def _genealogy_step(plan: _Plan, d: int, g: int, totals: Sequence[float]) -> dict[str, Any]:
    """Fathers of region ``d``'s sons in generation ``g`` (written as links shards)."""
    counts = _source_counts(plan, d, g, totals)
    rng = _rng(plan.cfg.base.seed, _FATHERS, d, g)
    parts = []
    for s in range(plan.R):
        c = int(counts[s])
        if c == 0:
            continue
        n_s = int(plan.sizes[s, g - 1])
        u = np.cumsum(rng.standard_exponential(c + 1))  # sorted uniforms (see _fathers)
        if plan.cfg.base.vrs > 0:
            cw = _scratch_map(plan, "cw", s, g - 1)
            u *= totals[s] / u[-1]
            f = np.searchsorted(cw, u[:-1], side="right")
        else:
            u *= n_s / u[-1]
            f = u[:-1].astype(np.int64)
        f = np.minimum(f, n_s - 1).astype(np.int64)
        parts.append(f + plan.first_id(s, g - 1))
    fathers = np.concatenate(parts)
    from patriline.simulate.shards import write_link_shards

    entries = write_link_shards(
        Path(plan.out), d, g, plan.first_id(d, g), fathers, plan.cfg.shard_rows
    )
    return {"counts": counts.tolist(), "shards": entries}


def _read_fathers(plan: _Plan, d: int, g: int) -> np.ndarray:
    import pyarrow.parquet as pq

    folder = Path(plan.out) / "links" / f"g{g:04d}"
    files = sorted(folder.glob(f"r{d:04d}-*.parquet"))
    return np.concatenate(
        [pq.read_table(f, columns=["father"])["father"].to_numpy() for f in files]
    )


@functools.lru_cache(maxsize=8)
def _model(base: SimConfig) -> tuple[Any, Any]:
    """Layout and mutation model of a configuration (once per worker process)."""
    from patriline.simulate.population import MutationModel, simulation_layout

    catalog = default_catalog()
    layout = simulation_layout(base, catalog)
    return layout, MutationModel.of(layout, catalog, base.two_step)


def _founder_step(plan: _Plan, r: int, needed: np.ndarray | None) -> dict[str, Any]:
    from patriline.simulate.founders import founder_values

    base = plan.cfg.base
    catalog = default_catalog()
    layout, _ = _model(base)
    n0 = int(plan.sizes[r, 0])
    cur = np.zeros((layout.n_columns, n0), dtype=np.int16)
    idx = np.arange(n0) if needed is None else needed
    ne = base.founder_ne or min(float(n0) / (1.0 + base.vrs), DEFAULT_FOUNDER_NE)
    seed = int(np.random.SeedSequence(base.seed, spawn_key=(_FOUNDERS, r)).generate_state(1)[0])
    cur[:, idx] = founder_values(layout, catalog, len(idx), ne, seed, base.founders)
    return _finish(plan, r, 0, cur, layout)


def _finish(plan: _Plan, r: int, g: int, values: np.ndarray, layout: Any) -> dict[str, Any]:
    np.save(plan.scratch("hap", r, g), values)
    entries: list[dict[str, Any]] = []
    if g >= plan.keep_from:
        from patriline.simulate.shards import write_haplotype_shards

        entries = write_haplotype_shards(
            Path(plan.out), r, g, plan.first_id(r, g), values, layout, plan.cfg.shard_rows
        )
    return {"shards": entries}


def _haplotype_step(plan: _Plan, d: int, g: int) -> dict[str, Any]:
    """Sons of region ``d`` in generation ``g``: fathers' haplotypes, then mutation."""
    base = plan.cfg.base
    layout, model = _model(base)
    fathers = _read_fathers(plan, d, g)
    out = np.empty((layout.n_columns, len(fathers)), dtype=np.int16)
    for s in range(plan.R):
        first = plan.first_id(s, g - 1)
        a, b = np.searchsorted(fathers, [first, first + plan.sizes[s, g - 1]])
        if b > a:
            prev = _scratch_map(plan, "hap", s, g - 1)
            out[:, a:b] = np.take(prev, fathers[a:b] - first, axis=1)
    model.mutate(out, _rng(base.seed, _MUTATION, d, g))
    return _finish(plan, d, g, out, layout)


def _needed_founders(plan: _Plan) -> list[np.ndarray] | None:
    """Founders (per region, local ids) with descendants in the kept generations."""
    if plan.keep_from == 0 or plan.cfg.base.founders == "monomorphic":
        return None
    T = plan.T
    gsize = plan.sizes.sum(axis=0)
    need = np.arange(gsize[T], dtype=np.int64)
    for g in range(T, 0, -1):
        if g - 1 >= plan.keep_from:
            need = np.arange(gsize[g - 1], dtype=np.int64)
            continue
        mask = np.zeros(gsize[g - 1], dtype=bool)
        pos = 0
        for d in range(plan.R):  # one region's links in memory at a time
            n_d = int(plan.sizes[d, g])
            sel = need[(need >= pos) & (need < pos + n_d)] - pos
            if len(sel):
                mask[_read_fathers(plan, d, g)[sel] - plan.gen_offsets[g - 1]] = True
            pos += n_d
        need = np.flatnonzero(mask)
    b = plan.region_offsets[:, 0]
    return [need[(need >= b[r]) & (need < b[r + 1])] - b[r] for r in range(plan.R)]


def simulate_country(
    cfg: CountryConfig,
    out: str | Path,
    *,
    mapper: Mapper = local_map,
    workers: str = "local",
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """Simulate a structured country into ``out`` (Parquet shards and a manifest).

    ``mapper`` runs a list of independent steps (in this process by default; on Dask
    with :func:`patriline.simulate.distributed.dask_mapper`); the result does not depend
    on it. Returns the manifest.
    """
    from patriline.simulate.population import provenance, simulation_layout
    from patriline.simulate.shards import FORMAT, FORMAT_VERSION, MANIFEST, _pa

    _pa()  # a clear error before any work when pyarrow is missing
    catalog = catalog or default_catalog()
    base = cfg.base
    base.validate(catalog)
    layout = simulation_layout(base, catalog)
    sizes = cfg.region_sizes()
    gsize = sizes.sum(axis=0)
    gen_offsets = np.concatenate([[0], np.cumsum(gsize)]).astype(np.int64)
    # ids are int64 in the shards: no 2^31 limit here (load_sharded has one)
    region_offsets = np.vstack([np.zeros((1, sizes.shape[1]), np.int64), np.cumsum(sizes, 0)])
    outp = Path(out)
    try:
        outp.mkdir(parents=True, exist_ok=True)
        for sub in ("links", "haplotypes", ".scratch"):
            shutil.rmtree(outp / sub, ignore_errors=True)
        (outp / ".scratch").mkdir()
    except OSError as exc:
        raise InputError(f"{outp}: cannot create the output directory: {exc}") from None
    plan = _Plan(cfg, str(outp.resolve()), sizes, gen_offsets, region_offsets, uuid.uuid4().hex)
    R, T = plan.R, plan.T
    shards: list[dict[str, Any]] = []
    flows = np.zeros((R, R), dtype=np.int64)  # sons by (their region, father's region)

    # 1. genealogy, generation by generation (a barrier between generations)
    for g in range(1, T + 1):
        totals = mapper(_weights_step, [(plan, s, g - 1) for s in range(R)])
        res = mapper(_genealogy_step, [(plan, d, g, totals) for d in range(R)])
        for d, r in enumerate(res):
            flows[d] += np.asarray(r["counts"], dtype=np.int64)
            shards.extend(r["shards"])
        for s in range(R):
            plan.scratch("cw", s, g - 1).unlink(missing_ok=True)
    # 2. founders, then haplotypes generation by generation
    needed = _needed_founders(plan)
    res = mapper(
        _founder_step, [(plan, r, None if needed is None else needed[r]) for r in range(R)]
    )
    for r in res:
        shards.extend(r["shards"])
    for g in range(1, T + 1):
        res = mapper(_haplotype_step, [(plan, d, g) for d in range(R)])
        for r in res:
            shards.extend(r["shards"])
        for s in range(R):
            plan.scratch("hap", s, g - 1).unlink(missing_ok=True)
    _MAPS["generation"], _MAPS["maps"] = None, {}
    shutil.rmtree(outp / ".scratch", ignore_errors=True)

    shards.sort(key=lambda e: (e["kind"], e["generation"], e["region"], e["first_id"]))
    kept = list(range(plan.keep_from, T + 1))
    base_dict = dataclasses.replace(base, males=int(gsize[-1])).to_dict()
    params = cfg.to_dict()
    prov = provenance("simulate", params, base.seed)
    prov["workers"] = workers  # recorded, never part of the figures
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "software": prov["software"]["name"],
        "version": prov["software"]["version"],
        "seed": base.seed,
        "config": base_dict,
        "country": params,
        "layout": json.loads(layout.to_json()),
        "regions": [r.name for r in cfg.regions],
        "parents": [r.parent for r in cfg.regions],
        "region_sizes": sizes.tolist(),
        "generations": T,
        "generation_span": [0, T],
        "kept_generations": kept,
        "migrant_flows": flows.tolist(),
        "total_men": int(gen_offsets[-1]),
        "living_men": int(gsize[-1]),
        "shards": shards,
        "provenance": {k: v for k, v in prov.items() if k != "workers"},
    }
    (outp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    (outp / "provenance.json").write_text(json.dumps(prov, indent=2, default=str), "utf-8")
    return manifest
