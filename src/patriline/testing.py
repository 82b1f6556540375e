"""Test helpers: single simulated families for checking donor ranking (tests, benchmarks).

A small, self-contained father→son simulator: one founder, each man has a random
number of sons, haplotypes pass down under the same stepwise model the ranking uses
(the kernel of :mod:`patriline.stats.mutation` at catalog rates). Tests use its trees
for the exact-vs-Monte-Carlo checks; :func:`donor_study` is a quick end-to-end smoke
study on such families. It is not the population simulator and not the acceptance
study of issue 7, which runs on :mod:`patriline.simulate` populations
(``verification/donor_study``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from patriline.haplotype import Allele, AlleleKind, Haplotype
from patriline.pedigree.donor import DonorConfig
from patriline.pedigree.expand import expand_pedigree
from patriline.pedigree.model import Link, Pedigree
from patriline.reference import default_catalog

__all__ = ["Family", "StudyResult", "donor_study", "simulate_family"]


@dataclass
class Family:
    """Persons ``M0..``, father links (``father[i]``, -1 for the founder), generation and
    the haplotype of every man."""

    father: np.ndarray
    generation: np.ndarray
    haplotypes: list[Haplotype]

    @property
    def persons(self) -> list[str]:
        return [f"M{i}" for i in range(len(self.father))]

    def pedigree(self, keep: np.ndarray | None = None) -> Pedigree:
        """The family's pedigree; ``keep[i] = False`` drops man ``i``'s father link."""
        links = [
            Link(f"M{i}", f"M{f}")
            for i, f in enumerate(self.father)
            if f >= 0 and (keep is None or keep[i])
        ]
        return Pedigree(links, self.persons)


def simulate_family(
    generations: int,
    rng: np.random.Generator,
    *,
    kit: str = "yfiler_plus",
    mean_sons: float = 1.6,
    max_men: int = 3000,
    rate_scale: float = 1.0,
) -> Family:
    """A single paternal lineage over ``generations`` generations below one founder.

    Sons per man are Poisson(``mean_sons``) (at least one son for the founder); alleles
    pass down with the stepwise kernel at ``rate_scale`` times the catalog per-copy rate
    (two-step share 3 %).
    """
    catalog = default_catalog()
    loci = catalog.kit(kit).loci
    columns = [(n, c) for n in loci for c in range(catalog.locus(n).copies)]
    mus = np.array([catalog.locus(n).copy_rate * rate_scale for n, _ in columns])
    founder = np.array(
        [
            rng.integers(catalog.locus(n).allele_min + 2, catalog.locus(n).allele_max - 1)
            for n, _ in columns
        ]
    )
    fathers = [-1]
    gens = [0]
    states = [founder]
    frontier = [0]
    for g in range(1, generations + 1):
        nxt = []
        for f in frontier:
            k = max(int(rng.poisson(mean_sons)), 1 if f == 0 else 0)
            for _ in range(k):
                if len(fathers) >= max_men:
                    break
                u = rng.random(len(columns))
                step = np.where(u < mus * 0.97 / 2, -1, 0) + np.where(
                    (u >= mus * 0.97 / 2) & (u < mus * 0.97), 1, 0
                )
                two = (u >= mus * 0.97) & (u < mus)
                step = step + np.where(two, rng.choice([-2, 2], len(columns)), 0)
                fathers.append(f)
                gens.append(g)
                states.append(states[f] + step)
                nxt.append(len(fathers) - 1)
        frontier = nxt
    haplotypes = []
    for s in states:
        alleles: dict[str, list[int]] = {}
        for (n, _), v in zip(columns, s, strict=True):
            alleles.setdefault(n, []).append(int(v) * 10)
        haplotypes.append(
            Haplotype({n: Allele(AlleleKind.VALUE, tuple(sorted(v))) for n, v in alleles.items()})
        )
    return Family(np.array(fathers), np.array(gens), haplotypes)


@dataclass(frozen=True)
class StudyResult:
    """Share of donors ranked in the top 5: by competition rank (ties share the best
    rank) and with ties broken at random (expected share); trials and tree sizes."""

    top5: float
    top5_random_ties: float
    trials: int
    mean_members: float
    mean_untested: float


def donor_study(
    trials: int,
    seed: int = 1,
    *,
    generations: int = 6,
    typed_share: float = 0.3,
    missing_links: float = 0.0,
    rate_scale: float = 1.0,
    expand_generations: int = 5,
    living_prior: bool = True,
    config: DonorConfig | None = None,
) -> StudyResult:
    """Hide a donor among the two youngest generations, type ``typed_share`` of the other
    men, drop ``missing_links`` of the links, expand (on the remaining links) around the
    typed man nearest to the donor in the true tree, and rank. A donor outside the
    expansion counts as a miss."""
    rng = np.random.default_rng(seed)
    hits = hits_random = 0.0
    sizes, untested_sizes = [], []
    done = 0
    while done < trials:
        fam = simulate_family(generations, rng, rate_scale=rate_scale, max_men=400)
        young = np.nonzero(fam.generation >= generations - 1)[0]
        if len(young) < 2:
            continue
        donor = int(rng.choice(young))
        typed = rng.random(len(fam.father)) < typed_share
        typed[donor] = False
        keep = rng.random(len(fam.father)) >= missing_links
        full, ped = fam.pedigree(), fam.pedigree(keep)
        name = f"M{donor}"
        related = [(full.meioses(name, f"M{i}") or 0, i) for i in np.nonzero(typed)[0]]
        if not related:
            continue
        _, hit = min(related)
        haplotypes = {f"M{i}": fam.haplotypes[i] for i in np.nonzero(typed)[0]}
        if living_prior:
            weights = {f"M{i}": float(g >= generations - 1) for i, g in enumerate(fam.generation)}
            config_used = dataclasses.replace(
                config or DonorConfig(), prior=weights, default_weight=0.0
            )
        else:
            config_used = config or DonorConfig()
        exp = expand_pedigree(
            ped,
            [f"M{hit}"],
            haplotypes,
            generations=expand_generations,
            trace=fam.haplotypes[donor],
            config=config_used,
        )
        try:
            member = exp.member(name)
        except KeyError:
            member = None
        ranked = [m for m in exp.members if m.rank is not None and m.posterior]
        sizes.append(len(exp.members))
        untested_sizes.append(len(ranked))
        done += 1
        if member is None or member.rank is None or not member.posterior:
            continue
        ties = sum(1 for m in ranked if m.rank == member.rank)
        hits += member.rank <= 5
        hits_random += max(0, min(5, member.rank + ties - 1) - member.rank + 1) / ties
    return StudyResult(
        hits / trials,
        hits_random / trials,
        trials,
        float(np.mean(sizes)),
        float(np.mean(untested_sizes)),
    )
