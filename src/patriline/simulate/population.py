"""The male Wright-Fisher simulator with explicit father links, and its result.

Generation 0 are the founders; generation ``T`` are the living males. Each son picks
his father in the previous generation with probability proportional to the father's
weight: 1 under plain Wright-Fisher, Gamma(1/vrs, vrs) under variance in reproductive
success (a symmetric Dirichlet with alpha = 1/vrs, malan's parametrisation; Andersen &
Balding 2017). Sons are numbered grouped by father, so each generation's father index
array is ascending. Every father-son edge mutates each locus copy independently at the
catalog's per-copy rate (``Locus.copy_rate``): +-1 repeat, or +-2 with probability
``two_step``, reflected at the catalog's allele range.

References
----------
Andersen MM, Balding DJ (2017). How convincing is a matching Y-chromosome profile?
PLoS Genet 13:e1007028 (malan: https://github.com/mikldk/malan).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from patriline.encoding import Encoded, Layout
from patriline.errors import InputError, NotFound
from patriline.provenance import document
from patriline.reference import Catalog, default_catalog
from patriline.simulate._kernels import apply_steps, inherit, meioses_pairs, sort_copies
from patriline.simulate.config import DEFAULT_FOUNDER_NE, SimConfig
from patriline.simulate.founders import founder_values
from patriline.simulate.regions import RegionMap

__all__ = [
    "MutationModel",
    "Population",
    "column_rates",
    "provenance",
    "simulate",
    "simulation_layout",
]


def provenance(
    kind: str,
    params: dict[str, Any],
    seed: int | None,
    *,
    inputs: dict[str, Any] | None = None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """The provenance document of a simulation product (:mod:`patriline.provenance`):
    parameters, seed, inputs, the mutation model (the catalog's per-copy rates, by source)
    and the environment."""
    return document(
        kind, params, inputs=inputs, models={"mutation": _mutation_model(catalog)}, seed=seed
    )


def _mutation_model(catalog: Catalog | None) -> dict[str, Any]:
    catalog = catalog or default_catalog()
    sources: dict[str, int] = {}
    for name in catalog.all_loci:
        src = catalog.locus(name).rate_source or "unknown"
        sources[src] = sources.get(src, 0) + 1
    return {
        "name": "stepwise, per locus copy (Wright-Fisher simulation)",
        "rates": {"sources": dict(sorted(sources.items()))},
    }


@dataclass
class Population:
    """A simulated male population: father links for all generations, haplotypes for
    the kept ones.

    ``parent`` holds the global id of each male's father (-1 for founders); male ``i``
    of generation ``g`` has global id ``offsets[g] + i``. ``haplotypes[g]`` is the
    ``(n_columns, sizes[g])`` int16 matrix of a kept generation, in ``layout``.
    """

    config: SimConfig
    sizes: np.ndarray
    offsets: np.ndarray
    parent: np.ndarray
    layout: Layout
    haplotypes: dict[int, np.ndarray]
    provenance: dict[str, Any] = field(default_factory=dict)
    regions: RegionMap | None = None

    # -- regions (a structured country; None for a panmictic population) --------------
    def region_of(self, ids: np.ndarray) -> np.ndarray:
        """Region index of each global id (all 0 for a panmictic population)."""
        ids = np.asarray(ids, dtype=np.int64)
        if self.regions is None:
            return np.zeros(len(ids), dtype=np.int64)
        gens = self.generation_of(ids)
        return self.regions.region_of(gens, ids - self.offsets[gens])

    @property
    def region_names(self) -> tuple[str, ...]:
        return ("all",) if self.regions is None else self.regions.names

    # -- structure --------------------------------------------------------------------
    @property
    def n_generations(self) -> int:
        """Index of the living generation (founders are 0)."""
        return len(self.sizes) - 1

    @property
    def living(self) -> np.ndarray:
        """Global ids of the living males."""
        g = self.n_generations
        return np.arange(self.offsets[g], self.offsets[g] + self.sizes[g], dtype=np.int64)

    def alive(self, generations: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Global ids and haplotype columns of the men of the last ``generations``
        generations (the living men when generations overlap; malan's study used 3)."""
        T = self.n_generations
        gens = list(range(T - generations + 1, T + 1))
        lacking = [g for g in gens if g not in self.haplotypes]
        if generations < 1 or lacking:
            raise InputError(
                f"{generations} living generations need kept haplotypes "
                f"(simulate with keep_generations >= {generations})"
            )
        ids = np.concatenate(
            [np.arange(self.offsets[g], self.offsets[g] + self.sizes[g]) for g in gens]
        ).astype(np.int64)
        if len(gens) == 1:
            return ids, self.haplotypes[T]
        return ids, np.concatenate([self.haplotypes[g] for g in gens], axis=1)

    @property
    def kept_generations(self) -> list[int]:
        return sorted(self.haplotypes)

    def generation_of(self, ids: np.ndarray) -> np.ndarray:
        """Birth generation of global ids."""
        return np.searchsorted(self.offsets, np.asarray(ids), side="right") - 1

    def generation_array(self) -> np.ndarray:
        """Birth generation of every male (int16), indexed by global id."""
        return np.repeat(np.arange(len(self.sizes), dtype=np.int16), self.sizes)

    def father_of(self, ids: np.ndarray) -> np.ndarray:
        return self.parent[np.asarray(ids, dtype=np.int64)]

    def person_id(self, gid: int) -> str:
        return f"M{gid:0{self._width}d}"

    def person_ids(self, gids: np.ndarray) -> list[str]:
        w = self._width
        return [f"M{g:0{w}d}" for g in np.asarray(gids).tolist()]

    def parse_person(self, person: str | int) -> int:
        """Global id of ``M000123`` (or an int); :class:`NotFound` if out of range."""
        if isinstance(person, (int, np.integer)):
            gid = int(person)
        else:
            text = str(person).strip()
            if not (text[:1] == "M" and text[1:].isdigit()):
                raise NotFound(f"not a simulated person id: {person!r}")
            gid = int(text[1:])
        if not 0 <= gid < len(self.parent):
            raise NotFound(f"person {person!r} is not in this population")
        return gid

    @property
    def _width(self) -> int:
        return max(6, len(str(len(self.parent) - 1)))

    def founder_of(self, ids: np.ndarray) -> np.ndarray:
        """Founder (global id in generation 0) of each male: his lineage."""
        x = np.asarray(ids, dtype=np.int64).copy()
        for _ in range(len(self.sizes)):
            up = self.parent[x]
            if (up < 0).all():
                break
            x = np.where(up >= 0, up, x)
        return x

    def meioses(self, a: str | int, b: str | int) -> int | None:
        """Meioses between two males through their common paternal ancestor.

        None when they have no common ancestor within the simulated time.
        """
        ga, gb = self.parse_person(a), self.parse_person(b)
        m = self.meioses_many(np.array([ga]), np.array([gb]))[0]
        return None if m < 0 else int(m)

    def meioses_many(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`meioses` on global ids (-1 for none)."""
        gen = self.generation_array()
        a = np.ascontiguousarray(a, dtype=np.int64)
        b = np.ascontiguousarray(b, dtype=np.int64)
        return meioses_pairs(self.parent, gen, a, b)

    # -- haplotypes -------------------------------------------------------------------
    def encoded(self, generation: int | None = None, rows: np.ndarray | None = None) -> Encoded:
        """Haplotypes of a kept generation (default: the living) as an :class:`Encoded`."""
        g = self.n_generations if generation is None else generation
        if g not in self.haplotypes:
            raise InputError(
                f"haplotypes of generation {g} were not kept (kept: {self.kept_generations})"
            )
        values = self.haplotypes[g]
        if rows is not None:
            values = np.ascontiguousarray(values[:, rows])
        return Encoded(self.layout, values)

    def values_of(self, ids: np.ndarray) -> np.ndarray:
        """Haplotype columns ``(n_columns, len(ids))`` of males of kept generations."""
        ids = np.asarray(ids, dtype=np.int64)
        gens = self.generation_of(ids)
        out = np.empty((self.layout.n_columns, len(ids)), dtype=np.int16)
        for g in np.unique(gens).tolist():
            if g not in self.haplotypes:
                raise InputError(f"haplotypes of generation {g} were not kept")
            sel = gens == g
            out[:, sel] = self.haplotypes[g][:, ids[sel] - self.offsets[g]]
        return out


def column_rates(layout: Layout, catalog: Catalog) -> np.ndarray:
    """Mutation rate of each column per transmission (``Locus.copy_rate``).

    DYS389II contains DYS389I, and its catalog rate is that of the whole allele; when
    both are simulated, DYS389II's own column mutates at ``mu_II - mu_I`` (the II - I
    segment) and every DYS389I step is added to DYS389II as well, so the full DYS389II
    still changes at ``mu_II`` and one mutation counts once in ``compare``.
    """
    rates = np.array([catalog.locus(n).copy_rate for n, _ in layout.columns])
    if layout.dys389 is not None:
        i, ii = layout.dys389
        rates[ii] = max(rates[ii] - rates[i], 0.0)
    return rates


@dataclass(frozen=True)
class MutationModel:
    """Per-column rates and bounds of one layout: mutates a generation of sons in place.

    Shared by :func:`simulate` and the structured (regional) simulator, so that both
    follow one model and draw in one order from the generator they are given.
    """

    rates: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    two_step: float
    dys389: tuple[int, int] | None
    multi: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, layout: Layout, catalog: Catalog, two_step: float) -> MutationModel:
        cols = layout.columns
        return cls(
            column_rates(layout, catalog),
            np.array([catalog.locus(n).allele_min * 10 for n, _ in cols]),
            np.array([catalog.locus(n).allele_max * 10 for n, _ in cols]),
            two_step,
            layout.dys389,  # DYS389II contains DYS389I: a DYS389I step shifts both
            tuple(
                (layout.slice_of(n).start, c)
                for n, c in zip(layout.loci, layout.copies, strict=True)
                if c > 1
            ),
        )

    def mutate(self, nxt: np.ndarray, rng: np.random.Generator) -> None:
        """Mutate every column of ``nxt`` (``(n_columns, n)`` sons) in place; sort copies."""
        n = nxt.shape[1]
        lo, hi, d389 = self.lo, self.hi, self.dys389
        for c in range(nxt.shape[0]):
            k = int(rng.binomial(n, self.rates[c]))
            if k == 0:
                continue
            rows = rng.choice(n, k, replace=False).astype(np.int64)
            size = np.where(rng.random(k) < self.two_step, 20, 10)
            sign = np.where(rng.random(k) < 0.5, -1, 1)
            if d389 is not None and c == d389[0]:
                before = nxt[c, rows].astype(np.int64)
                apply_steps(nxt[c], rows, (size * sign).astype(np.int64), int(lo[c]), int(hi[c]))
                delta = nxt[c, rows].astype(np.int64) - before
                c2 = d389[1]
                apply_steps(nxt[c2], rows, delta, int(lo[c2]), int(hi[c2]))
            else:
                apply_steps(nxt[c], rows, (size * sign).astype(np.int64), int(lo[c]), int(hi[c]))
        for start, copies in self.multi:
            sort_copies(nxt, start, copies)


def _fathers(rng: np.random.Generator, n_fathers: int, n_sons: int, vrs: float) -> np.ndarray:
    """Father (local index) of each son, ascending: ``n_sons`` independent draws from the
    fathers with probability proportional to weight (1, or Gamma(1/vrs, vrs)).

    The draws are made as sorted uniforms (normalised cumulative sums of exponentials,
    an O(n) way to the order statistics) looked up in the cumulative weights, so sons
    come out grouped by father without a sort.
    """
    e = rng.standard_exponential(n_sons + 1)
    u = np.cumsum(e)
    if vrs > 0:
        cw = np.cumsum(rng.gamma(1.0 / vrs, vrs, n_fathers))
        u *= cw[-1] / u[-1]
        f = np.searchsorted(cw, u[:-1], side="right")
    else:
        u *= n_fathers / u[-1]
        f = u[:-1].astype(np.int64)
    return np.minimum(f, n_fathers - 1).astype(np.int32)


def _ancestral_needed(parent_local: list[np.ndarray], sizes: np.ndarray, keep: int) -> np.ndarray:
    """Founders (local ids) with descendants in the kept generations."""
    T = len(sizes) - 1
    need = np.arange(sizes[T], dtype=np.int64)
    for g in range(T, 0, -1):
        if g - 1 >= T - keep + 1:  # a kept generation: every male is needed
            need = np.arange(sizes[g - 1], dtype=np.int64)
        else:
            mask = np.zeros(sizes[g - 1], dtype=bool)
            mask[parent_local[g][need]] = True
            need = np.flatnonzero(mask)
    return need


def simulation_layout(config: SimConfig, catalog: Catalog) -> Layout:
    """The encoding layout of the simulated loci (the kit's id when one kit is simulated)."""
    layout = Layout.for_loci(config.locus_names(catalog), kit=None, catalog=catalog)
    if config.loci is None:
        layout = Layout(layout.loci, layout.copies, catalog.kit(config.kit).id)
    return layout


def simulate(config: SimConfig, catalog: Catalog | None = None) -> Population:
    """Simulate a population (see the module docstring for the model).

    Same config (seed included) → identical output.
    """
    catalog = catalog or default_catalog()
    config.validate(catalog)
    layout = simulation_layout(config, catalog)
    sizes = config.size_history()
    T = len(sizes) - 1
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    if offsets[-1] >= 2**31:
        raise InputError(f"{offsets[-1]} males in all generations: more than 2^31 ids")
    ss = np.random.SeedSequence(config.seed)
    s_gen, s_mut, s_found = ss.spawn(3)
    rng_gen = np.random.default_rng(s_gen)
    rng_mut = np.random.default_rng(s_mut)

    # 1. genealogy: father of every son, per generation (local indices, ascending)
    parent = np.empty(offsets[-1], dtype=np.int32)
    parent[: sizes[0]] = -1
    local: list[np.ndarray] = [np.empty(0, dtype=np.int32)]
    for g in range(1, T + 1):
        f = _fathers(rng_gen, int(sizes[g - 1]), int(sizes[g]), config.vrs)
        local.append(f)
        parent[offsets[g] : offsets[g + 1]] = f + np.int32(offsets[g - 1])

    # 2. founders at mutation-drift balance (only those with kept descendants)
    keep_from = T - config.keep_generations + 1
    needed = (
        np.arange(sizes[0], dtype=np.int64)
        if keep_from == 0
        else _ancestral_needed(local, sizes, config.keep_generations)
    )
    ne = config.founder_ne or min(float(sizes[0]) / (1.0 + config.vrs), DEFAULT_FOUNDER_NE)
    found = founder_values(
        layout,
        catalog,
        len(needed),
        ne,
        int(s_found.generate_state(1)[0]),
        config.founders,
    )
    cur = np.zeros((layout.n_columns, sizes[0]), dtype=np.int16)
    cur[:, needed] = found

    # 3. mutation along every father-son edge
    model = MutationModel.of(layout, catalog, config.two_step)
    haplotypes: dict[int, np.ndarray] = {}
    if keep_from == 0:
        haplotypes[0] = cur
    spare: np.ndarray | None = None
    for g in range(1, T + 1):
        n = int(sizes[g])
        if spare is not None and spare.shape[1] == n and g < keep_from:
            nxt = spare  # reuse the buffer of a generation not kept (no page faults)
        else:
            nxt = np.empty((layout.n_columns, n), dtype=np.int16)
        inherit(cur, local[g], nxt)
        model.mutate(nxt, rng_mut)
        if g >= keep_from:
            haplotypes[g] = nxt
        if g - 1 not in haplotypes:
            spare = cur
        cur = nxt
        local[g] = np.empty(0, dtype=np.int32)  # free: the global parent array keeps it
    prov = provenance("simulate", config.to_dict(), config.seed, catalog=catalog)
    prov["parameters"]["size_history"] = {
        "founders": int(sizes[0]),
        "living": int(sizes[-1]),
        "generations": T,
    }
    return Population(config, sizes, offsets, parent, layout, haplotypes, prov)
