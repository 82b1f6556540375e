"""The donor-ranking acceptance study on a simulated population (issue 7).

Issue 7 asks: for traces whose donor is untested but whose relative is in the
database, is the true donor in the top 5 of the ranked list (≥ 80 % of cases with a
complete tree), and how does that fall as links go missing? This module answers it end
to end with the real components, on the set-up of
:mod:`verification.donor_study.setup` (population, registry, databases, traces; Olsen
et al. 2025). For each trace the analyst's steps: search the database
(:class:`patriline.search.index.SearchIndex` within ``max_mismatches``, ranked by
:func:`patriline.search.rank.rank`), take the top hit (rule ``"top"``) or every hit tied
at the top score, at most :data:`~patriline.pedigree.expand.MAX_FAMILIES` (rule
``"tied"``, :func:`patriline.pedigree.hits.tied_top_hits`), expand on the registry
(:func:`patriline.pedigree.expand.expand_pedigree`, ``G`` generations; unrelated tied
hits give a forest ranked jointly) with the prior uniform over the living untested men
of the tree(s), and record the donor's place. The *oracle* rule takes as hit the
database member nearest the donor in the true tree.

The figure (:mod:`verification.donor_study.metrics`): the share of traces whose donor is
in the top 5 with ties broken at random (:func:`top_k_share`); a donor outside the
expansion (no hit, a hit in another family, links missing) counts as a miss, and the
reason is recorded.

*Sequential confirmation* (a separate figure, not the issue's "top 5 of the ranked
list"): the lab tests the top-ranked man (ties broken at random), types his Y-STRs at
the same time, and, if he is not the donor, adds his profile to the tree's typed men
and ranks again before the next test. ``Trial.sequential`` is the number of tests that
found the donor (None: not within ``top`` tests); :meth:`Study.run` with
``sequential=True`` runs it.

References
----------
Olsen TOS, Morling N, Eriksen PS, Kampmann ML, Mogensen HS, Andersen MM (2025).
Probabilities of finding trace profile donors and their paternal relatives in Y-STR
reference databases. Forensic Sci Int Genet 103320.
Ballantyne KN et al. (2014). Toward male individualization with rapidly mutating
Y-chromosomal short tandem repeats. Hum Mutat 35:1021.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from patriline.encoding import Layout
from patriline.errors import InputError
from patriline.haplotype import Haplotype
from patriline.pedigree.columns import segment_rate
from patriline.pedigree.config import DonorConfig
from patriline.pedigree.expand import Expansion, Member, expand_pedigree
from patriline.pedigree.hits import tied_top_hits
from patriline.pedigree.model import Pedigree
from patriline.search.index import SearchIndex
from patriline.search.rank import rank

from .metrics import OUTCOMES, Summary, Trial, top_k_share
from .setup import Scenario, StudyConfig, StudySetup, scaled_catalog

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

#: Which hits the analyst expands: the top-ranked one, every hit tied at the top score
#: (at most MAX_FAMILIES), or the database member nearest the donor (oracle).
HIT_RULES = ("top", "tied", "oracle")


def _candidates(exp: Expansion, living: list[str]) -> list[Member]:
    """The ranked members of ``exp`` among the living untested men ``living``."""
    wanted = set(living)
    return [m for m in exp.members if m.person in wanted and m.rank is not None]


class Study(StudySetup):
    """A simulated population with its registry, and the machinery to run scenarios.

    The set-up (population, registry, databases, donors, trees) is
    :class:`~verification.donor_study.setup.StudySetup`; this class adds the analyst's
    search, expansion, ranking and sequential tests. Databases (per share), donors,
    search results and dropped links are drawn from seeds derived from
    ``config.seed``, so scenarios that differ in one factor are paired on the same
    traces.
    """

    def __init__(self, config: StudyConfig | None = None) -> None:
        super().__init__(config)
        self._hits: dict[tuple[str, float, int], list[int]] = {}
        self._indexes: dict[tuple[str, float], SearchIndex] = {}

    # ------------------------------------------------------------------ hits
    def index(self, kit: str, share: float) -> SearchIndex:
        """The search index over the database typed with ``kit``."""
        key = (kit, share)
        if key not in self._indexes:
            db = self.database(share)
            ids = ["S" + p[1:] for p in self.population.person_ids(db)]
            self._indexes[key] = SearchIndex.build(ids, self.encoded(db, self.layout(kit)))
        return self._indexes[key]

    def search_hits(self, kit: str, share: float, donor: int, rule: str = "top") -> list[int]:
        """The analyst's hits within ``max_mismatches``: the top-ranked one (``"top"``)
        or every one tied at the top score, at most ``MAX_FAMILIES`` (``"tied"``)."""
        key = (kit, share, donor)
        if key not in self._hits:
            idx = self.index(kit, share)
            trace = self.haplotype(donor, self.layout(kit))
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

    # ------------------------------------------------------------------ ranking
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
        trace = self.haplotype(donor, layout)
        exp = self._expand(pedigree, hits, typed, living, trace, layout)
        cands = _candidates(exp, living)
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
        trace = self.haplotype(donor, layout)
        for test in range(1, self.config.top + 1):
            cands = _candidates(exp, living)
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
            typed[chosen] = self.haplotype(gid, layout)
            living.remove(chosen)
            exp = self._expand(pedigree, hits, typed, living, trace, layout)
        return None

    def _rates(self, layout: Layout) -> dict[str, float]:
        rates = {n: self.catalog.locus(n).copy_rate for n in layout.loci}
        if "DYS389I" in rates and "DYS389II" in rates:
            rates["DYS389II"] = segment_rate(self.catalog)
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
