"""The set-up of the acceptance study: population, registry, databases, traces, trees.

Everything the analyst is given, before any search (:mod:`verification.donor_study.study`
runs the searches, expansions and rankings on it):

1. **Population** — :func:`patriline.simulate.simulate` with the published study's
   set-up (:func:`patriline.simulate.config.study_config`: Wright–Fisher, variance in
   reproductive success 0.2, 100 generations constant then 150 of 2 % growth,
   monomorphic founders; Olsen et al. 2025, simulated with malan), scaled to ``males``
   men in the last generation, simulating the union of the compared kits' loci,
   haplotypes kept for the last ``registry_generations`` generations.
2. **Registry** — the father links of those generations, defined as
   :func:`patriline.simulate.write_population` writes ``links.csv`` (son and father both
   in the kept generations). *Links missing*: each link is dropped independently with
   probability ``missing_links`` (one uniform per link, so the sets are nested).
3. **Database** — :func:`patriline.simulate.database_sample` of the living men (the last
   ``living_generations`` generations, 3 as in the study). Typed men of a tree are
   exactly the database members in it; older generations are never typed.
4. **Traces** — living men not in the database who share a registry ancestor with a
   database member: the same ancestor in the oldest registry generation, so the common
   ancestor is within ``registry_generations − 1`` (5) generations of both.

References
----------
Olsen TOS, Morling N, Eriksen PS, Kampmann ML, Mogensen HS, Andersen MM (2025).
Probabilities of finding trace profile donors and their paternal relatives in Y-STR
reference databases. Forensic Sci Int Genet 103320.
Andersen MM, Balding DJ (2017). How convincing is a matching Y-chromosome profile?
PLoS Genet 13:e1007028 (malan).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from patriline.encoding import Encoded, Layout, decode
from patriline.errors import InputError
from patriline.haplotype import Haplotype
from patriline.pedigree.config import DonorConfig
from patriline.pedigree.model import Pedigree
from patriline.reference import Catalog, default_catalog
from patriline.simulate import Population, database_sample, loci_for_kits, simulate
from patriline.simulate.config import study_config

__all__ = ["Scenario", "StudyConfig", "StudySetup", "scaled_catalog"]


def scaled_catalog(scale: float, cap: float = 0.5) -> Catalog:
    """The default catalog with every per-copy rate times ``scale`` (at most ``cap``):
    a sensitivity knob for the simulator (tests use it to make families informative)."""
    base = default_catalog()
    loci = {
        n: dataclasses.replace(locus, rate=min(locus.copy_rate * scale, cap), rate_basis="per_copy")
        for n, locus in base.loci.items()
    }
    out = Catalog(loci, {})
    for kit in base.kits.values():
        out.add_kit(kit)
    return out


@dataclass(frozen=True)
class StudyConfig:
    """The set-up of the study (see the module docstring).

    Attributes
    ----------
    males : int
        Size of the last generation (the study had 500,000; scaled down for run time).
    seed : int
        Seed of the population, the databases, the traces and the dropped links.
    kits : tuple of str
        Kits whose loci are simulated (one population serves every scenario).
    registry_generations : int
        Generations of the father-link registry (the demo keeps 6).
    living_generations : int
        Generations counted as living (database, donors, prior); 3 as in the study.
    expand_generations : int
        ``G`` of the expansion.
    max_mismatches : int
        Bound of the familial search (the demo searches within 3).
    top : int
        The acceptance's "top 5".
    rate_scale : float
        Multiplies every mutation rate, in the simulation and in the ranking (1: the
        catalog's rates; other values are for tests and sensitivity only).
    donor_config : DonorConfig, optional
        The ranking's settings (default: :class:`DonorConfig` defaults, as an analyst
        runs it); the study sets only the prior.
    sim : dict
        Fields of the study's :class:`~patriline.simulate.SimConfig` to replace (e.g. a
        shorter history in tests); empty for the study itself.
    """

    males: int = 100_000
    seed: int = 1
    kits: tuple[str, ...] = ("yfiler_plus", "ppy23", "rm13")
    registry_generations: int = 6
    living_generations: int = 3
    expand_generations: int = 5
    max_mismatches: int = 3
    top: int = 5
    rate_scale: float = 1.0
    donor_config: DonorConfig | None = field(default=None, compare=False)
    sim: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.living_generations <= self.registry_generations:
            raise InputError("living_generations must be 1..registry_generations")
        if self.rate_scale <= 0:
            raise InputError(f"rate_scale must be positive (got {self.rate_scale})")


@dataclass(frozen=True)
class Scenario:
    """One row of the study: the database kit (searched), an optional kit typed after
    the hit on the trace and the tree's typed men (e.g. ``rm13``), the database share
    and the share of registry links missing."""

    kit: str = "yfiler_plus"
    database_share: float = 0.10
    missing_links: float = 0.0
    extra_kit: str | None = None

    @property
    def label(self) -> str:
        kit = self.kit + (f" + {self.extra_kit}" if self.extra_kit else "")
        return f"{kit}, database {self.database_share:.0%}, {self.missing_links:.0%} links missing"


class StudySetup:
    """A simulated population with its registry, databases, eligible donors and the
    registry trees around hits (:class:`verification.donor_study.study.Study` runs the trials).

    The population is simulated once; databases (per share), donors and dropped links
    are drawn from seeds derived from ``config.seed``, so scenarios that differ in one
    factor are paired on the same traces.
    """

    def __init__(self, config: StudyConfig | None = None) -> None:
        self.config = config or StudyConfig()
        cfg = self.config
        self.catalog = default_catalog() if cfg.rate_scale == 1 else scaled_catalog(cfg.rate_scale)
        sim = dataclasses.replace(
            study_config(cfg.males, cfg.seed),
            loci=loci_for_kits(list(cfg.kits)),
            keep_generations=cfg.registry_generations,
            **cfg.sim,  # type: ignore[arg-type]
        )
        self.population: Population = simulate(sim, self.catalog)
        pop = self.population
        T = pop.n_generations
        self.start = int(pop.offsets[T - cfg.registry_generations + 1])  # registry's first id
        self.end = int(pop.offsets[T + 1])
        self.alive, _ = pop.alive(cfg.living_generations)
        self.living_from = int(self.alive[0])
        self.parent = pop.parent[self.start : self.end].astype(np.int64)
        # registry root (ancestor in the oldest registry generation) of every registry man
        root = np.arange(self.start, self.end, dtype=np.int64)
        for _ in range(cfg.registry_generations - 1):
            up = self.parent[root - self.start]
            root = np.where(up >= self.start, up, root)
        self.root = root
        self.link_u = np.random.default_rng([cfg.seed, 2]).random(self.end - self.start)
        self._databases: dict[float, np.ndarray] = {}
        self._masks: dict[float, np.ndarray] = {}

    # ------------------------------------------------------------------ sampling
    def database(self, share: float) -> np.ndarray:
        """Global ids (sorted) of the database members: ``share`` of the living men."""
        if share not in self._databases:
            seed = int(np.random.SeedSequence([self.config.seed, 1, round(share * 1e6)])
                       .generate_state(1)[0])  # fmt: skip
            pos = database_sample(self.population, share, seed=seed, among=self.alive)
            self._databases[share] = self.alive[pos]
        return self._databases[share]

    def _in_db(self, share: float) -> np.ndarray:
        """Database membership over the registry's ids."""
        if share not in self._masks:
            mask = np.zeros(self.end - self.start, dtype=bool)
            mask[self.database(share) - self.start] = True
            self._masks[share] = mask
        return self._masks[share]

    def eligible_donors(self, share: float) -> np.ndarray:
        """Living men outside the database who share a registry root with a member."""
        db = self.database(share)
        rooted = np.unique(self.root[db - self.start])
        out = np.setdiff1d(self.alive, db, assume_unique=True)
        return out[np.isin(self.root[out - self.start], rooted)]

    def donors(self, share: float, n: int) -> np.ndarray:
        """``n`` eligible donors drawn without replacement (fewer if fewer exist)."""
        pool = self.eligible_donors(share)
        rng = np.random.default_rng([self.config.seed, 3, round(share * 1e6)])
        return np.sort(rng.choice(pool, min(n, len(pool)), replace=False))

    # ------------------------------------------------------------------ haplotypes
    def layout(self, kit: str, extra_kit: str | None = None) -> Layout:
        """The layout of ``kit``'s loci (and ``extra_kit``'s, if given)."""
        loci = set(self.catalog.kit(kit).loci)
        if extra_kit:
            loci |= set(self.catalog.kit(extra_kit).loci)
        return Layout.for_loci(loci, catalog=self.catalog)

    def encoded(self, ids: np.ndarray, layout: Layout) -> Encoded:
        """Allele values of men of the registry generations on ``layout``'s loci."""
        src = self.population.layout
        cols = np.concatenate(
            [np.arange(src.slice_of(n).start, src.slice_of(n).stop) for n in layout.loci]
        )
        values = self.population.values_of(np.asarray(ids, dtype=np.int64))[cols]
        return Encoded(layout, np.ascontiguousarray(values))

    def haplotypes(self, ids: np.ndarray, layout: Layout) -> list[Haplotype]:
        """Haplotypes of men of the registry generations on ``layout``'s loci."""
        return decode(self.encoded(ids, layout))

    def haplotype(self, gid: int, layout: Layout) -> Haplotype:
        """Haplotype of one man of the registry generations on ``layout``'s loci."""
        return self.haplotypes(np.array([gid]), layout)[0]

    def person(self, gid: int) -> str:
        return self.population.person_id(gid)

    # ------------------------------------------------------------------ trees
    def _kept(self, gid: int, missing: float) -> bool:
        """Whether man ``gid``'s registry link to his father is recorded."""
        return bool(self.parent[gid - self.start] >= self.start) and bool(
            self.link_u[gid - self.start] >= missing
        )

    def family(self, hit: int, missing: float) -> tuple[int, list[int]]:
        """The registry men the expansion around ``hit`` can reach: the top ancestor
        (``G`` generations up over recorded links) and his recorded descendants."""
        top, k = hit, 0
        while k < self.config.expand_generations and self._kept(top, missing):
            top = int(self.parent[top - self.start])
            k += 1
        men, frontier = [top], [top]
        while frontier:
            nxt: list[int] = []
            for f in frontier:
                lo = np.searchsorted(self.parent, f, side="left")
                hi = np.searchsorted(self.parent, f, side="right")
                nxt.extend(
                    s for s in range(self.start + lo, self.start + hi) if self._kept(s, missing)
                )
            men.extend(nxt)
            frontier = nxt
        return top, men

    def tree(
        self, scenario: Scenario, hits: list[int]
    ) -> tuple[Pedigree, list[str], dict[str, Haplotype], Layout]:
        """The registry around ``hits`` (the union of their reachable families, with the
        recorded links among them), the living untested men and the typed men's
        haplotypes on the scenario's loci."""
        men: dict[int, None] = {}
        for h in hits:
            men.update(dict.fromkeys(self.family(h, scenario.missing_links)[1]))
        arr = np.array(list(men), dtype=np.int64)
        names = self.population.person_ids(arr)
        links = [
            (names[i], self.person(int(self.parent[g - self.start])))
            for i, g in enumerate(arr.tolist())
            if self._kept(g, scenario.missing_links) and int(self.parent[g - self.start]) in men
        ]
        pedigree = Pedigree(links, names)
        typed_ids = arr[self._in_db(scenario.database_share)[arr - self.start]]
        layout = self.layout(scenario.kit, scenario.extra_kit)
        hap = self.haplotypes(typed_ids, layout) if len(typed_ids) else []
        typed = dict(zip(self.population.person_ids(typed_ids), hap, strict=True))
        living = [
            n
            for n, g in zip(names, arr.tolist(), strict=True)
            if g >= self.living_from and n not in typed
        ]
        return pedigree, living, typed, layout
