"""Expansion of hits held in the store: access, the case's hits, the store reads, audit.

The tree, the link checks and the donor ranking are computed on plain data by
:func:`patriline.pedigree.expand.expand_pedigree`; this use case reads the region
around the hits from the store (links by recursive queries, the active specimens'
profiles in batches) under the safeguards, and audits the identity read and the
expansion. :func:`expand_top_hits` goes from a trace to its ranked family trees: a
familial search, every hit tied at the top score, one joint expansion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from patriline.errors import InputError, NotFound
from patriline.haplotype import Haplotype
from patriline.pedigree.config import DonorConfig
from patriline.pedigree.expand import (
    MAX_FAMILIES,
    MAX_GENERATIONS,
    Expansion,
    expand_pedigree,
    lineage_members,
    shown_profiles,
)
from patriline.pedigree.hits import TopHits, tied_top_hits
from patriline.pedigree.model import LinkConflict, Pedigree

if TYPE_CHECKING:
    from patriline.casework.session import Session

__all__ = ["SEARCH_TOP", "expand", "expand_top_hits"]

#: Candidates a search returns to :func:`expand_top_hits` (ties beyond the cap are
#: counted among them).
SEARCH_TOP = 100


def expand(
    session: Session,
    case: str,
    specimen: str | Sequence[str],
    *,
    generations: int = 5,
    trace: Haplotype | None = None,
    config: DonorConfig | None = None,
    reason: str | None = None,
) -> Expansion:
    """Expand a hit held in the store.

    Expansion is familial searching in substance: the case needs a live familial
    approval, and every specimen must be a hit of an audited search in that case — or
    ``reason`` says why not (kept in the audit entry).

    ``specimen`` is one hit or several; hits of unrelated families (at most
    :data:`~patriline.pedigree.expand.MAX_FAMILIES`) are expanded together and ranked
    jointly. ``generations`` is 0..:data:`~patriline.pedigree.expand.MAX_GENERATIONS`.
    Checks that the user may expand and read identities in ``case``, builds the tree
    from the store's paternal links of the region only (``Database.lineage_links``),
    attaches the active specimens' haplotypes (read in batches), ranks donors when
    ``trace`` is given, and writes two audit entries: the identity read (specimen →
    person of the hits and the persons whose specimens are shown) and the expansion
    itself (parameters and counts).
    """
    db = session.store
    hits = [specimen] if isinstance(specimen, str) else list(specimen)
    if not 0 <= generations <= MAX_GENERATIONS:
        # An expansion stays around its hit, never a lineage-wide report of link flags
        # (docs/safeguards.md).
        raise InputError(f"generations must be 0..{MAX_GENERATIONS} (got {generations})")
    session.authorize("expand", case)
    session.authorize("read_identity", case)
    if reason is None or not reason.strip():
        session.require_case_hits("expand", case, hits)
    hit_persons = []
    for s in hits:
        info = db.specimen_info(s)
        if not info.active:
            raise NotFound(f"specimen {s!r} was expunged")
        hit_persons.append(info.person)
    # Only the links of the region around the hits (recursive CTEs in the store): the
    # members are the same as on the whole registry's pedigree (tests/test_store_lineage.py).
    try:
        pedigree = Pedigree(db.lineage_links(hit_persons, generations))
    except LinkConflict as exc:
        raise InputError(
            f"the store's paternal links around the hit are inconsistent: {exc}"
        ) from None
    # Refuses more than MAX_FAMILIES families before any profile is read.
    members = lineage_members(pedigree, hit_persons, generations)
    specimens_of = db.active_specimens_of(members)
    stored = db.haplotypes_of(s for ss in specimens_of.values() for s in ss)
    haplotypes, shown = shown_profiles(members, specimens_of, stored, hits)
    result = expand_pedigree(
        pedigree,
        hit_persons,
        haplotypes,
        generations=generations,
        trace=trace,
        specimens=shown,
        hits=hits,
        config=config,
    )
    result.case = case
    session.audit(
        "read_identity",
        case=case,
        params={"specimens": hits, "reason": "expand"},
        result={"hit_persons": hit_persons, "specimens_shown": sorted(shown.values())},
    )
    session.audit(
        "expand",
        case=case,
        params={
            "specimens": hits,
            "generations": generations,
            "trace": trace is not None,
            **({"reason": reason} if reason and reason.strip() else {}),
        },
        result={
            "members": len(result.members),
            "families": len(result.families),
            "typed": len(haplotypes),
            "flags": len(result.ranking.flags) if result.ranking else 0,
        },
    )
    return result


def expand_top_hits(
    session: Session,
    case: str,
    trace: Haplotype,
    *,
    max_mismatches: int = 3,
    generations: int = 5,
    cap: int = MAX_FAMILIES,
    tolerance: float = 1e-9,
    config: DonorConfig | None = None,
) -> tuple[TopHits, Expansion]:
    """From a trace to its ranked family trees in one step, as the analyst would:
    familial search in the case (``max_mismatches``), every hit tied at the top score
    (:func:`~patriline.pedigree.hits.tied_top_hits`, at most ``cap``), one joint
    expansion with the donor ranking.

    Both steps are the audited use cases (:func:`patriline.casework.searching.search`
    and :func:`expand`), with their access checks: the case must be approved for
    familial search when ``max_mismatches > 0``, and the user needs the rights to
    expand and read identities in it. Raises :class:`NotFound` when the search finds
    no candidate.
    """
    from patriline.casework.searching import search

    result = search(session, case, trace, max_mismatches=max_mismatches, top=SEARCH_TOP)
    top = tied_top_hits(result, tolerance=tolerance, cap=cap)
    if not top.specimens:
        raise NotFound(f"no candidate within {max_mismatches} mismatches: nothing to expand")
    expansion = expand(
        session, case, top.specimens, generations=generations, trace=trace, config=config
    )
    return top, expansion
