"""The donor-ranking acceptance study on a simulated population (issue 7).

Issue 7 asks: for traces whose donor is untested but whose relative is in the
database, is the true donor in the top 5 of the ranked list (≥ 80 % of cases with a
complete tree), and how does that fall as links go missing? This module answers it end
to end with the real components:

1. **Population** — :func:`patriline.simulate.simulate` with the published study's
   set-up (:func:`patriline.simulate.config.study_config`: Wright–Fisher, variance in
   reproductive success 0.2, 100 generations constant then 150 of 2 % growth,
   monomorphic founders; Olsen et al. 2025, simulated with malan), scaled to ``males``
   men in the last generation,
   simulating the union of the compared kits' loci, haplotypes kept for the last
   ``registry_generations`` generations.
2. **Registry** — the father links of those generations, defined as
   :func:`patriline.simulate.write_population` writes ``links.csv`` (son and father both
   in the kept generations). *Links missing*: each link is dropped independently with
   probability ``missing_links`` (one uniform per link, so the sets are nested).
3. **Database** — :func:`patriline.simulate.database_sample` of the living men (the last
   ``living_generations`` generations, 3 as in the study). Typed men of a tree are
   exactly the database members in it; older generations are never typed.
4. **Traces** — living men not in the database who share a registry ancestor with a
   database member: the same ancestor in the oldest registry generation, so the common
   ancestor is within ``registry_generations − 1`` (5) generations of both. For each
   trace the analyst's steps: search the database (:class:`patriline.search.index.
   SearchIndex` within ``max_mismatches``, ranked by :func:`patriline.search.rank.rank`),
   take the top hit (rule ``"top"``) or every hit tied at the top score, at most
   :data:`~patriline.pedigree.expand.MAX_FAMILIES` (rule ``"tied"``,
   :func:`patriline.pedigree.hits.tied_top_hits`), expand on the registry
   (:func:`patriline.pedigree.expand.expand_pedigree`, ``G`` generations; unrelated
   tied hits give a forest ranked jointly) with the prior uniform over the living
   untested men of the tree(s), and record the donor's place. The *oracle* rule takes
   as hit the database member nearest the donor in the true tree.

The figure: the share of traces whose donor is in the top 5 with ties broken at random
(:func:`top_k_share`); a donor outside the expansion (no hit, a hit in another family,
links missing) counts as a miss, and the reason is recorded.

*Sequential confirmation* (a separate figure, not the issue's "top 5 of the ranked
list"): the lab tests the top-ranked man (ties broken at random), types his Y-STRs at
the same time, and, if he is not the donor, adds his profile to the tree's typed men
and ranks again before the next test. ``Trial.sequential`` is the number of tests that
found the donor (None: not within ``top`` tests); :func:`Study.sequential` runs it.

References
----------
Olsen TOS, Morling N, Eriksen PS, Kampmann ML, Mogensen HS, Andersen MM (2025).
Probabilities of finding trace profile donors and their paternal relatives in Y-STR
reference databases. Forensic Sci Int Genet 103320.
Andersen MM, Balding DJ (2017). How convincing is a matching Y-chromosome profile?
PLoS Genet 13:e1007028 (malan).
Ballantyne KN et al. (2014). Toward male individualization with rapidly mutating
Y-chromosomal short tandem repeats. Hum Mutat 35:1021.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from patriline.encoding import Encoded, Layout, decode
from patriline.errors import InputError
from patriline.haplotype import Haplotype
from patriline.pedigree.donor import DonorConfig
from patriline.pedigree.expand import Expansion, expand_pedigree
from patriline.pedigree.hits import tied_top_hits
from patriline.pedigree.model import Pedigree
from patriline.reference import Catalog, default_catalog
from patriline.search.index import SearchIndex
from patriline.search.rank import rank
from patriline.simulate import Population, database_sample, loci_for_kits, simulate
from patriline.simulate.config import study_config

__all__ = [
    "HIT_RULES",
    "OUTCOMES",
    "Scenario",
    "Study",
    "StudyConfig",
    "Summary",
    "Trial",
    "scaled_catalog",
    "top_k_share",
]

#: Why a trial ended where it did.
OUTCOMES = ("ranked", "no hit", "wrong family", "links missing")

#: Which hits the analyst expands: the top-ranked one, every hit tied at the top score
#: (at most MAX_FAMILIES), or the database member nearest the donor (oracle).
HIT_RULES = ("top", "tied", "oracle")


def top_k_share(rank: int, ties: int, k: int = 5) -> float:
    """Expected top-``k`` indicator when ties are broken at random.

    A man tied with ``ties`` men (himself included) for ranks ``rank .. rank + ties − 1``
    lands on each of them with probability ``1 / ties``.
    """
    if rank < 1 or ties < 1:
        raise ValueError("rank and ties must be at least 1")
    return max(0, min(k, rank + ties - 1) - rank + 1) / ties


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


@dataclass(frozen=True)
class Trial:
    """One trace: where its donor landed.

    ``rank``/``ties`` are the donor's competition rank among the candidates (living
    untested men of the tree) and the number of candidates sharing it; ``predicted`` is
    the posterior mass of the top-``k`` candidates (what the model expects to catch).
    ``hits`` are the hits expanded (one family each or fewer); ``sequential`` the
    number of sequential tests that found the donor (None: not within ``k``, or not
    run).
    """

    donor: int
    hit: int | None
    hit_meioses: int | None
    outcome: str
    candidates: int
    rank: int | None = None
    ties: int = 1
    posterior: float = 0.0
    predicted: float = 0.0
    top_k: float = 0.0
    top_k_competition: bool = False
    chance: float = 0.0
    hits: tuple[int, ...] = ()
    families: int = 0
    sequential: int | None = None


@dataclass(frozen=True)
class Summary:
    """Shares over the trials of one scenario (one hit rule)."""

    trials: int
    top_k: float
    top_k_competition: float
    in_expansion: float
    mean_candidates: float
    chance: float
    predicted: float
    outcomes: dict[str, float]
    mean_families: float = 0.0
    sequential: float = 0.0

    @classmethod
    def of(cls, trials: list[Trial]) -> Summary:
        """``sequential`` is the share of trials with ``Trial.sequential`` set (0 when
        the sequential tests were not run)."""
        n = len(trials)
        if not n:
            raise InputError("no trials to summarise")
        with_tree = [t for t in trials if t.outcome != "no hit"]
        return cls(
            n,
            sum(t.top_k for t in trials) / n,
            sum(t.top_k_competition for t in trials) / n,
            sum(t.outcome == "ranked" for t in trials) / n,
            float(np.mean([t.candidates for t in with_tree])) if with_tree else 0.0,
            sum(t.chance for t in trials) / n,
            sum(t.predicted for t in trials) / n,
            {o: sum(t.outcome == o for t in trials) / n for o in OUTCOMES},
            float(np.mean([t.families for t in with_tree])) if with_tree else 0.0,
            sum(t.sequential is not None for t in trials) / n,
        )


class Study:
    """A simulated population with its registry, and the machinery to run scenarios.

    The population is simulated once; databases (per share), donors, search results and
    dropped links are drawn from seeds derived from ``config.seed``, so scenarios that
    differ in one factor are paired on the same traces.
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
        self._hits: dict[tuple[str, float, int], list[int]] = {}
        self._indexes: dict[tuple[str, float], SearchIndex] = {}
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
        loci = set(self.catalog.kit(kit).loci)
        if extra_kit:
            loci |= set(self.catalog.kit(extra_kit).loci)
        return Layout.for_loci(loci, catalog=self.catalog)

    def haplotypes(self, ids: np.ndarray, layout: Layout) -> list[Haplotype]:
        """Haplotypes of men of the registry generations on ``layout``'s loci."""
        src = self.population.layout
        cols = np.concatenate(
            [np.arange(src.slice_of(n).start, src.slice_of(n).stop) for n in layout.loci]
        )
        values = self.population.values_of(np.asarray(ids, dtype=np.int64))[cols]
        return decode(Encoded(layout, np.ascontiguousarray(values)))

    def person(self, gid: int) -> str:
        return self.population.person_id(gid)

    # ------------------------------------------------------------------ hits
    def index(self, kit: str, share: float) -> SearchIndex:
        """The search index over the database typed with ``kit``."""
        key = (kit, share)
        if key not in self._indexes:
            db = self.database(share)
            layout = self.layout(kit)
            src = self.population.layout
            cols = np.concatenate(
                [np.arange(src.slice_of(n).start, src.slice_of(n).stop) for n in layout.loci]
            )
            values = np.ascontiguousarray(self.population.values_of(db)[cols])
            ids = ["S" + p[1:] for p in self.population.person_ids(db)]
            self._indexes[key] = SearchIndex.build(ids, Encoded(layout, values))
        return self._indexes[key]

    def search_hits(self, kit: str, share: float, donor: int, rule: str = "top") -> list[int]:
        """The analyst's hits within ``max_mismatches``: the top-ranked one (``"top"``)
        or every one tied at the top score, at most ``MAX_FAMILIES`` (``"tied"``)."""
        key = (kit, share, donor)
        if key not in self._hits:
            idx = self.index(kit, share)
            trace = self.haplotypes(np.array([donor]), self.layout(kit))[0]
            found = idx.query(trace, max_mismatches=self.config.max_mismatches)
            ranked = rank(trace, [(s, idx.haplotype(s)) for s in found.ids])
            self._hits[key] = [int(s[1:]) for s in tied_top_hits(ranked).specimens]
        hits = self._hits[key]
        return hits[:1] if rule == "top" else list(hits)

    def search_hit(self, kit: str, share: float, donor: int) -> int | None:
        """The analyst's top-ranked hit (None: no database man within the bound)."""
        hits = self.search_hits(kit, share, donor)
        return hits[0] if hits else None

    def oracle_hit(self, share: float, donor: int) -> int:
        """The database man nearest the donor in the true tree (lowest id on ties)."""
        db = self.database(share)
        same = db[self.root[db - self.start] == self.root[donor - self.start]]
        m = self.population.meioses_many(np.full(len(same), donor), same)
        return int(same[np.argmin(m)])

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

    def _expand(
        self,
        pedigree: Pedigree,
        hits: list[int],
        typed: dict[str, Haplotype],
        living: list[str],
        trace: Haplotype,
        layout: Layout,
    ) -> Expansion:
        cfg = self.config
        config = dataclasses.replace(
            cfg.donor_config or DonorConfig(), prior={n: 1.0 for n in living}, default_weight=0.0
        )
        if cfg.rate_scale != 1:
            config = dataclasses.replace(config, rates=self._rates(layout))
        return expand_pedigree(
            pedigree,
            [self.person(h) for h in hits],
            typed,
            generations=cfg.expand_generations,
            trace=trace,
            config=config,
        )

    def rank_tree(
        self, scenario: Scenario, hits: list[int], donor: int, *, sequential: bool = False
    ) -> tuple[bool, int, int | None, int, float, float, int, int | None]:
        """Expand around ``hits`` and rank: (donor inside, candidates, rank, ties, donor
        posterior, top-k posterior mass, families, sequential tests that found him)."""
        cfg = self.config
        pedigree, living, typed, layout = self.tree(scenario, hits)
        trace = self.haplotypes(np.array([donor]), layout)[0]
        exp = self._expand(pedigree, hits, typed, living, trace, layout)
        wanted = set(living)
        cands = [m for m in exp.members if m.person in wanted and m.rank is not None]
        post = sorted((m.posterior or 0.0 for m in cands), reverse=True)
        predicted = float(sum(post[: cfg.top]))
        donor_name = self.person(donor)
        found = [m for m in cands if m.person == donor_name]
        if not found:
            return False, len(cands), None, 1, 0.0, predicted, len(exp.families), None
        d = found[0]
        ties = sum(1 for m in cands if m.rank == d.rank)
        tests = (
            self._sequential(pedigree, hits, typed, living, donor, layout, exp)
            if sequential
            else None
        )
        return (
            True,
            len(cands),
            d.rank,
            ties,
            float(d.posterior or 0.0),
            predicted,
            len(exp.families),
            tests,
        )

    def _sequential(
        self,
        pedigree: Pedigree,
        hits: list[int],
        typed: dict[str, Haplotype],
        living: list[str],
        donor: int,
        layout: Layout,
        exp: Expansion,
    ) -> int | None:
        """Test the top-ranked living untested man (ties at random); if he is not the
        donor, type him (his true haplotype joins the typed men) and rank again. The
        number of the test that found the donor, None if not within ``top`` tests."""
        rng = np.random.default_rng([self.config.seed, 4, donor])
        donor_name = self.person(donor)
        typed, living = dict(typed), list(living)
        trace = self.haplotypes(np.array([donor]), layout)[0]
        for test in range(1, self.config.top + 1):
            wanted = set(living)
            cands = [m for m in exp.members if m.person in wanted and m.rank is not None]
            if not cands:
                return None
            best = min(m.rank for m in cands if m.rank is not None)
            top = sorted(m.person for m in cands if m.rank == best)
            chosen = top[int(rng.integers(len(top)))]
            if chosen == donor_name:
                return test
            if test == self.config.top:
                return None
            gid = int(chosen[1:])
            typed[chosen] = self.haplotypes(np.array([gid]), layout)[0]
            living.remove(chosen)
            exp = self._expand(pedigree, hits, typed, living, trace, layout)
        return None

    def _rates(self, layout: Layout) -> dict[str, float]:
        rates = {n: self.catalog.locus(n).copy_rate for n in layout.loci}
        if "DYS389I" in rates and "DYS389II" in rates:
            rates["DYS389II"] = max(rates["DYS389II"] - rates["DYS389I"], 1e-5)
        return rates

    # ------------------------------------------------------------------ trials
    def trial(
        self,
        scenario: Scenario,
        donor: int,
        *,
        oracle: bool = False,
        rule: str = "top",
        sequential: bool = False,
    ) -> Trial:
        """One trace of ``scenario``: hits by ``rule`` (:data:`HIT_RULES`; ``oracle=True``
        is ``rule="oracle"``), expansion, ranking, and with ``sequential`` the
        sequential tests."""
        rule = "oracle" if oracle else rule
        if rule not in HIT_RULES:
            raise InputError(f"hit rule must be one of {', '.join(HIT_RULES)} (got {rule!r})")
        share = scenario.database_share
        hits = (
            [self.oracle_hit(share, donor)]
            if rule == "oracle"
            else self.search_hits(scenario.kit, share, donor, rule)
        )
        if not hits:
            return Trial(donor, None, None, "no hit", 0)
        hit = hits[0]
        meioses = self.population.meioses(donor, hit)
        inside, n, r, ties, posterior, predicted, families, tests = self.rank_tree(
            scenario, hits, donor, sequential=sequential
        )
        chance = min(self.config.top, n) / n if inside and n else 0.0
        if not inside:
            same = any(self.root[h - self.start] == self.root[donor - self.start] for h in hits)
            outcome = "links missing" if same else "wrong family"
            return Trial(
                donor,
                hit,
                meioses,
                outcome,
                n,
                predicted=predicted,
                hits=tuple(hits),
                families=families,
            )
        assert r is not None
        return Trial(
            donor,
            hit,
            meioses,
            "ranked",
            n,
            r,
            ties,
            posterior,
            predicted,
            top_k_share(r, ties, self.config.top),
            r <= self.config.top,
            chance,
            tuple(hits),
            families,
            tests,
        )

    def _in_db(self, share: float) -> np.ndarray:
        """Database membership over the registry's ids."""
        if share not in self._masks:
            mask = np.zeros(self.end - self.start, dtype=bool)
            mask[self.database(share) - self.start] = True
            self._masks[share] = mask
        return self._masks[share]

    def run(
        self,
        scenario: Scenario,
        n_traces: int,
        *,
        oracle: bool = False,
        rule: str = "top",
        sequential: bool = False,
    ) -> tuple[Summary, list[Trial]]:
        """``n_traces`` traces of ``scenario`` (the same donors for every scenario with
        the same database share), hits by ``rule``; ``sequential`` also runs the
        sequential tests (``Summary.sequential``)."""
        donors = self.donors(scenario.database_share, n_traces)
        trials = [
            self.trial(scenario, int(d), oracle=oracle, rule=rule, sequential=sequential)
            for d in donors
        ]
        return Summary.of(trials), trials
