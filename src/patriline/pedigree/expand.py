"""Expansion: from a lineage hit to the paternal family tree around it.

Definition (``G`` generations, default 5). For a hit man ``h`` let ``a_k`` be his
ancestor ``k`` generations up, for ``k = 1..K`` with ``K = min(G, recorded depth)``.
The expansion is ``a_1..a_K`` together with every male-line descendant ``d`` of the top
ancestor ``a_K`` (``h`` himself when he has no recorded father) whose generation is at
most ``G`` below ``h``'s: ``gen(d) − gen(h) ≤ G``. So it holds his father, grandfathers,
brothers, uncles, cousins, sons, nephews ... down to ``G`` generations below the hit,
whether or not they have a profile. For several hits of one lineage it is the union of
their expansions.

Hits that are *not* related through recorded links (no common recorded ancestor: the
search's top score is often tied between families) are expanded together as a forest:
the union of the per-family expansions, at most :data:`MAX_FAMILIES` families. Each
member belongs to one family, named by its first hit, and his generation is counted
from that hit. The ranking is joint: one posterior over the untested men of every
family, normalised together (the peeling handles a forest: one founder per family).

Every member carries the meioses on the paternal path to each hit of his family and
whether he is typed. With a trace, :mod:`patriline.pedigree.donor` ranks the untested
men.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from patriline.errors import InputError
from patriline.haplotype import Haplotype, compare
from patriline.pedigree.donor import DonorConfig, DonorRanking, rank_donors
from patriline.pedigree.model import Pedigree
from patriline.provenance import document

__all__ = [
    "MAX_FAMILIES",
    "MAX_GENERATIONS",
    "Expansion",
    "Family",
    "Member",
    "expand_pedigree",
    "hit_families",
    "lineage_members",
    "shown_profiles",
]

#: Most generations up and down an expansion from the store may span (``--generations``;
#: checked by :func:`patriline.casework.expansion.expand`).
MAX_GENERATIONS = 20

#: Most unrelated families one expansion may hold: an expansion stays a bounded,
#: case-bound operation around a few hits, never a registry-wide report.
MAX_FAMILIES = 10


def hit_families(pedigree: Pedigree, hits: Sequence[str]) -> list[list[str]]:
    """Group ``hits`` (persons) by family: men related through recorded links (the same
    top recorded ancestor) share one. Families and their hits keep the order of first
    appearance; a repeated hit is kept once. More than :data:`MAX_FAMILIES` families is
    an :class:`InputError`."""
    groups: dict[str, list[str]] = {}
    for h in dict.fromkeys(hits):
        root = list(pedigree.ancestors(h))[-1] if pedigree.father(h) is not None else h
        groups.setdefault(root, []).append(h)
    if len(groups) > MAX_FAMILIES:
        raise InputError(
            f"the hits belong to {len(groups)} unrelated families; at most {MAX_FAMILIES} "
            "may be expanded together (an expansion is bounded to a case's few hits)"
        )
    return list(groups.values())


def lineage_members(
    pedigree: Pedigree, hits: Sequence[str], generations: int = 5
) -> dict[str, int]:
    """Members of the expansion around ``hits`` with their generation relative to the
    first hit of their family (negative: above him, positive: below). Hits of unrelated
    families give a forest (see :func:`hit_families`). See the module docstring."""
    return {p: g for p, (_, g) in _members(pedigree, hits, generations).items()}


def _members(
    pedigree: Pedigree, hits: Sequence[str], generations: int
) -> dict[str, tuple[str, int]]:
    """``{person: (first hit of his family, generation relative to it)}``."""
    if generations < 0:
        raise InputError("generations must be 0 or more")
    if not hits:
        raise InputError("no hit to expand")
    for h in hits:
        if h not in pedigree:
            pedigree = _with_person(pedigree, h)
    out: dict[str, tuple[str, int]] = {}
    for family in hit_families(pedigree, hits):
        first = family[0]
        for h in family:
            offset = _generation_offset(pedigree, first, h)
            ancestors = list(pedigree.ancestors(h))[:generations]
            top = ancestors[-1] if ancestors else h
            k = len(ancestors)
            out.setdefault(top, (first, offset - k))
            for d, g in pedigree.descendants(top, k + generations).items():
                out.setdefault(d, (first, offset - k + g))
    return out


def _with_person(pedigree: Pedigree, person: str) -> Pedigree:
    return Pedigree(pedigree.links.values(), [*pedigree, person])


def _generation_offset(pedigree: Pedigree, a: str, b: str) -> int:
    """gen(b) − gen(a) for two related men."""
    depth_a = {a: 0, **{x: i for i, x in enumerate(pedigree.ancestors(a), start=1)}}
    if b in depth_a:
        return -depth_a[b]
    for j, y in enumerate(pedigree.ancestors(b), start=1):
        if y in depth_a:
            return j - depth_a[y]
    raise AssertionError(f"hits {a} and {b} are not related")  # hit_families grouped them


@dataclass(frozen=True)
class Member:
    """One man of an expansion."""

    person: str
    specimen: str | None
    generation: int
    meioses_from_hit: dict[str, int]
    typed: bool
    p_match: float | None = None
    posterior: float | None = None
    rank: int | None = None
    family: str | None = None

    def to_dict(self, hit: str) -> dict[str, Any]:
        """JSON of the member; ``hit`` is the person of his family's first hit."""
        return {
            "person": self.person,
            "specimen": self.specimen,
            "family": self.family,
            "generation": self.generation,
            "meioses_from_hit": self.meioses_from_hit.get(hit),
            "meioses_from_hits": self.meioses_from_hit,
            "typed": self.typed,
            "p_match": self.p_match,
            "posterior": self.posterior,
            "rank": self.rank,
        }


@dataclass(frozen=True)
class Family:
    """One family of an expansion: its hits (specimens; the first names the family) and
    their persons."""

    name: str
    hits: list[str]
    hit_persons: list[str]


@dataclass
class Expansion:
    """The tree (a forest for unrelated hits) around the hits: members, ranking (with a
    trace) and in-case link flags."""

    hits: list[str]
    hit_persons: list[str]
    generations: int
    members: list[Member]
    pedigree: Pedigree
    haplotypes: dict[str, Haplotype]
    trace: Haplotype | None = None
    ranking: DonorRanking | None = None
    case: str | None = None
    notes: list[str] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def hit(self) -> str:
        return self.hits[0]

    def family_hit_person(self, family: str | None) -> str:
        """The person of ``family``'s first hit (the first hit's for None)."""
        for f in self.families:
            if f.name == family:
                return f.hit_persons[0]
        return self.hit_persons[0]

    def _trace_vs(self, person: str) -> dict[str, int] | None:
        hit_h = self.haplotypes.get(person)
        if self.trace is None or hit_h is None:
            return None
        comp = compare(self.trace, hit_h)
        return {
            "loci_compared": comp.loci_compared,
            "mismatches": comp.mismatches,
            "steps": comp.steps,
        }

    def _family_dict(self, family: Family) -> dict[str, Any]:
        men = [m for m in self.members if m.family == family.name]
        ranked = self.trace is not None and self.ranking is not None
        return {
            "family": family.name,
            "hits": family.hits,
            "hit_persons": family.hit_persons,
            "n_members": len(men),
            "n_typed": sum(m.typed for m in men),
            "posterior": sum(m.posterior or 0.0 for m in men) if ranked else None,
            "trace_vs_hit": self._trace_vs(family.hit_persons[0]) if ranked else None,
        }

    def member(self, person: str) -> Member:
        for m in self.members:
            if m.person == person:
                return m
        raise KeyError(person)

    def to_dict(self) -> dict[str, Any]:
        """The ``patriline expand --json`` document."""
        doc: dict[str, Any] = {
            "hit": self.hit,
            "hits": self.hits,
            "hit_person": self.hit_persons[0],
            "case": self.case,
            "generations": self.generations,
            "n_members": len(self.members),
            "n_typed": sum(m.typed for m in self.members),
            "families": [self._family_dict(f) for f in self.families],
            "members": [m.to_dict(self.family_hit_person(m.family)) for m in self.members],
        }
        if self.trace is not None and self.ranking is not None:
            doc["trace_vs_hit"] = self._trace_vs(self.hit_persons[0])
            doc["columns"] = self.ranking.columns
            doc["prior"] = self.ranking.prior
            out = self.ranking.outside
            doc["outside"] = (
                None
                if out is None
                else {
                    "prior": out.prior,
                    "population_match": out.match,
                    "posterior": out.posterior,
                    "note": "a donor none of the tree's recorded men; unrecorded relatives "
                    "of the lineage are not covered by the population frequency",
                }
            )
        doc["flags"] = [
            {
                "person": f.person,
                "father": f.father,
                "log10_ratio": f.log10_ratio,
                "message": f.message,
            }
            for f in (self.ranking.flags if self.ranking else [])
        ]
        doc["notes"] = self.notes + (self.ranking.notes if self.ranking else [])
        doc["provenance"] = self.provenance
        return doc


def expand_pedigree(
    pedigree: Pedigree,
    hit_persons: Sequence[str],
    haplotypes: Mapping[str, Haplotype],
    *,
    generations: int = 5,
    trace: Haplotype | None = None,
    specimens: Mapping[str, str] | None = None,
    hits: Sequence[str] | None = None,
    config: DonorConfig | None = None,
) -> Expansion:
    """Expand on plain data: the tree around ``hit_persons`` and, always, the link
    checks; with ``trace``, the donor ranking of the untested men.

    ``haplotypes`` maps person to his profile (the typed men); ``specimens`` maps person
    to the specimen shown for him; ``hits`` are the hit specimens (default: the persons),
    one per hit person. Unrelated hits give a forest ranked jointly (module docstring).
    """
    for p in hit_persons:
        if p not in pedigree:
            pedigree = _with_person(pedigree, p)
    labels = list(hits or hit_persons)
    if len(labels) != len(hit_persons):
        raise InputError("hits and hit_persons must have the same length")
    members = _members(pedigree, hit_persons, generations)
    families = []
    for group in hit_families(pedigree, hit_persons):
        own = [i for i, p in enumerate(hit_persons) if p in group]
        families.append(
            Family(labels[own[0]], [labels[i] for i in own], [hit_persons[i] for i in own])
        )
    name_of = {f.hit_persons[0]: f.name for f in families}
    order = {f.hit_persons[0]: i for i, f in enumerate(families)}
    sub = pedigree.subset(members)
    typed = {p: h for p, h in haplotypes.items() if p in members}
    ranking = rank_donors(sub, typed, trace, config)
    specimens = specimens or {}
    out = []
    for person, (first, gen) in sorted(
        members.items(), key=lambda kv: (order[kv[1][0]], kv[1][1], kv[0])
    ):
        meioses = {h: m for h in hit_persons if (m := sub.meioses(h, person)) is not None}
        cand = ranking.candidates.get(person)
        out.append(
            Member(
                person,
                specimens.get(person),
                gen,
                meioses,
                person in typed,
                None if cand is None or trace is None else cand.p_match,
                None if cand is None else cand.posterior,
                None if cand is None else cand.rank,
                name_of[first],
            )
        )
    notes = []
    if len(families) > 1:
        notes.append(
            f"{len(families)} unrelated families expanded together: the donor posteriors are "
            "normalised over the untested men of all of them"
        )
    return Expansion(
        labels,
        list(hit_persons),
        generations,
        out,
        sub,
        typed,
        trace,
        ranking,
        None,
        notes,
        families,
        _provenance(labels, generations, trace, config, ranking, len(sub)),
    )


def _provenance(
    hits: Sequence[str],
    generations: int,
    trace: Haplotype | None,
    config: DonorConfig | None,
    ranking: DonorRanking,
    n_men: int,
) -> dict[str, Any]:
    """The expansion's provenance document: what was expanded, and the models that ranked
    the donors (the mutation model and the priors used, each describing itself)."""
    config = config or DonorConfig()
    ranked = trace is not None
    return document(
        "expansion",
        {"hits": list(hits), "generations": generations, "ranked": ranked},
        inputs={"pedigree": {"men": n_men}},
        models={
            "mutation": config.model.describe() if ranked else None,
            "donor_prior": ranking.prior if ranked else None,
        },
    )


def shown_profiles(
    members: Iterable[str],
    specimens_of: Mapping[str, Sequence[str]],
    stored: Mapping[str, Haplotype],
    hits: Sequence[str],
) -> tuple[dict[str, Haplotype], dict[str, str]]:
    """The profile shown for each member and its specimen: a hit's own specimen, else
    his most fully typed one (``specimens_of``: person → active specimens; ``stored``:
    specimen → profile). Members without a stored profile are left out."""
    haplotypes: dict[str, Haplotype] = {}
    shown: dict[str, str] = {}
    for person in members:
        best: tuple[int, str, Haplotype] | None = None
        for s in specimens_of.get(person, ()):
            h = stored.get(s)
            if h is None:
                continue
            if s in hits:
                best = (10**6, s, h)
                break
            if best is None or len(h) > best[0]:
                best = (len(h), s, h)
        if best is not None:
            shown[person] = best[1]
            haplotypes[person] = best[2]
    return haplotypes, shown
