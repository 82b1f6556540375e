"""Expansion of several unrelated families at once (a forest ranked jointly), the family
cap, the store's region for unrelated hits, and picking the hits tied at the top score."""

from __future__ import annotations

from pathlib import Path

import pytest

from patriline.casework import Session
from patriline.errors import InputError
from patriline.haplotype import Haplotype
from patriline.haplotype import parse_haplotype_string as hap
from patriline.io.model import Record
from patriline.pedigree.donor import DonorConfig
from patriline.pedigree.draw import expansion_graph, write_svg
from patriline.pedigree.expand import (
    MAX_FAMILIES,
    expand_pedigree,
    hit_families,
    lineage_members,
)
from patriline.pedigree.hits import tied_top_hits
from patriline.pedigree.model import Pedigree
from patriline.search.api import SearchResult
from patriline.search.rank import rank
from patriline.store.database import Database
from patriline.store.records import Link
from plugins.approvals import REASON, approve_expansion

#: Family A: FA → SA1, SA2; SA1 → GA1, GA2.   Family B: FB → TB1, TB2; TB2 → UB1.
FOREST = [
    ("SA1", "FA"),
    ("SA2", "FA"),
    ("GA1", "SA1"),
    ("GA2", "SA1"),
    ("TB1", "FB"),
    ("TB2", "FB"),
    ("UB1", "TB2"),
]

#: Typed men: each family has one man at the trace's alleles and one a step lower at
#: DYS19, so each family alone spans the same allele grid as the forest.
TYPED = {
    "FA": hap("DYS19=14,DYS390=24,DYS391=10"),
    "SA1": hap("DYS19=15,DYS390=24,DYS391=10"),
    "FB": hap("DYS19=14,DYS390=24,DYS391=10"),
    "UB1": hap("DYS19=15,DYS390=24,DYS391=10"),
}
TRACE = hap("DYS19=15,DYS390=24,DYS391=10")


def test_hit_families__groups_related_hits_in_order() -> None:
    ped = Pedigree(FOREST, ["LONE"])
    assert hit_families(ped, ["GA1", "UB1", "SA2", "LONE", "GA1"]) == [
        ["GA1", "SA2"],
        ["UB1"],
        ["LONE"],
    ]


def test_lineage_members__forest_generations_from_each_familys_hit() -> None:
    """Hand-checked: G = 1 around GA1 (family A) and TB2 (family B)."""
    members = lineage_members(Pedigree(FOREST), ["GA1", "TB2"], 1)
    assert members == {
        "SA1": -1,
        "GA1": 0,
        "GA2": 0,
        "FB": -1,
        "TB1": 0,
        "TB2": 0,
        "UB1": 1,
    }


def test_expand_pedigree__joint_posteriors_equal_per_family_renormalised() -> None:
    """Independent computation: each family expanded and ranked alone (point rates, so
    the families share no parameter; the same allele grid by construction), its
    p_match per man, then P(donor = j) = p_j / Σ_k p_k over the untested men of both
    families (uniform prior). The joint forest ranking must give the same numbers, and
    the ranks must follow the joint posteriors."""
    ped = Pedigree(FOREST)
    config = DonorConfig(rate_points=0)
    joint = expand_pedigree(ped, ["SA1", "UB1"], TYPED, generations=3, trace=TRACE, config=config)
    alone = {
        hit: expand_pedigree(ped, [hit], TYPED, generations=3, trace=TRACE, config=config)
        for hit in ("SA1", "UB1")
    }
    p = {
        m.person: m.p_match
        for e in alone.values()
        for m in e.members
        if not m.typed and m.p_match is not None
    }
    assert set(p) == {"SA2", "GA1", "GA2", "TB1", "TB2"}
    total = sum(p.values())
    got = {m.person: m for m in joint.members if not m.typed}
    assert set(got) == set(p)
    for person, pm in p.items():
        assert got[person].p_match == pytest.approx(pm, rel=1e-9)
        assert got[person].posterior == pytest.approx(pm / total, rel=1e-9)
    by_post = sorted(got.values(), key=lambda m: -(m.posterior or 0))
    ranks = [m.rank or 0 for m in by_post]
    assert ranks == sorted(ranks) and min(ranks) == 1
    # Families, generations and meioses are counted from each family's own hit.
    assert {m.person: m.family for m in joint.members} == {
        **dict.fromkeys(["FA", "SA1", "SA2", "GA1", "GA2"], "SA1"),
        **dict.fromkeys(["FB", "TB1", "TB2", "UB1"], "UB1"),
    }
    assert joint.member("FB").generation == -2 and joint.member("GA1").generation == 1
    doc = joint.to_dict()
    rows = {m["person"]: m for m in doc["members"]}
    assert rows["TB1"]["meioses_from_hit"] == 3 and rows["GA2"]["meioses_from_hit"] == 1
    fams = {f["family"]: f for f in doc["families"]}
    assert fams["SA1"]["n_members"] == 5 and fams["UB1"]["n_typed"] == 2
    assert fams["SA1"]["posterior"] + fams["UB1"]["posterior"] == pytest.approx(1.0)
    assert fams["UB1"]["trace_vs_hit"]["mismatches"] == 0
    assert any("2 unrelated families" in n for n in doc["notes"])


def test_expand_pedigree__one_family_unchanged_by_the_forest_code() -> None:
    """Related hits: one family named by the first hit, as before (no family note)."""
    e = expand_pedigree(Pedigree(FOREST), ["GA1", "SA2"], TYPED, generations=2, trace=TRACE)
    assert [f.name for f in e.families] == ["GA1"]
    assert {m.family for m in e.members} == {"GA1"}
    assert not any("families" in n for n in e.to_dict()["notes"])


def test_expand_pedigree__family_cap() -> None:
    loners = [f"L{i}" for i in range(MAX_FAMILIES + 1)]
    ped = Pedigree([], loners)
    assert len(lineage_members(ped, loners[:MAX_FAMILIES], 2)) == MAX_FAMILIES
    with pytest.raises(InputError, match=f"{MAX_FAMILIES + 1} unrelated families.*at most"):
        expand_pedigree(ped, loners, {}, generations=2)


def test_write_svg__one_cluster_per_family(tmp_path: Path) -> None:
    e = expand_pedigree(Pedigree(FOREST), ["SA1", "UB1"], TYPED, generations=3, trace=TRACE)
    source = expansion_graph(e).string()
    assert "cluster_family_0" in source and "cluster_family_1" in source
    assert "family of hit SA1: P(donor in family)" in source
    assert "trace vs the hit of each family" in source
    assert write_svg(e, tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")


# ---------------------------------------------------------------- store


def _store_forest(db: Database) -> None:
    admin = db.actor("admin")
    Session(db, admin).open_case("C1", purpose="test", legal_basis="test")
    approve_expansion(db, "C1")  # expansion needs a live familial approval
    Session(db, admin).insert_links(
        [Link(s, f) for s, f in [*FOREST, ("XC1", "XC0")]], source="test"
    )
    Session(db, admin).import_records(
        [Record(f"s{p}", h, i + 2, person=p) for i, (p, h) in enumerate(TYPED.items())],
    )


def test_lineage_links__union_for_unrelated_hits(store_fixture: Database) -> None:
    """The region of unrelated hits is the union of their regions (both engines)."""
    db = store_fixture
    _store_forest(db)
    for g in (0, 1, 3):
        both = db.lineage_links(["GA1", "UB1"], g)
        apart = {x.son: x for h in ("GA1", "UB1") for x in db.lineage_links([h], g)}
        assert both == [apart[s] for s in sorted(apart)]
    assert {x.son for x in db.lineage_links(["GA1", "UB1"], 3)} == {s for s, _ in FOREST}


def test_expand__store_two_families_and_cap(store_fixture: Database) -> None:
    """``Database.expand`` of hits in two families equals the plain-data forest (both
    engines); audit lists the hits and the number of families; more than the cap is
    refused before anything is audited."""
    db = store_fixture
    _store_forest(db)
    admin = db.actor("admin")
    e = Session(db, admin).expand("C1", ["sSA1", "sUB1"], generations=3, trace=TRACE, reason=REASON)
    ref = expand_pedigree(Pedigree(FOREST), ["SA1", "UB1"], TYPED, generations=3, trace=TRACE)
    assert [(m.person, m.family, m.generation, m.posterior) for m in e.members] == [
        (m.person, {"SA1": "sSA1", "UB1": "sUB1"}[m.family or ""], m.generation, m.posterior)
        for m in ref.members
    ]
    entry = Session(db, admin).audit_entries(case="C1")[-1]
    assert entry.action == "expand"
    assert entry.params["specimens"] == ["sSA1", "sUB1"] and entry.result["families"] == 2
    recs = [Record(f"x{i}", hap("DYS19=14"), i + 2, person=f"Z{i}") for i in range(11)]
    Session(db, admin).import_records(recs)
    before = len(Session(db, admin).audit_entries())
    with pytest.raises(InputError, match="at most 10"):
        Session(db, admin).expand("C1", [r.specimen for r in recs], generations=1, reason=REASON)
    actions = [x.action for x in Session(db, admin).audit_entries()[before:]]
    assert "expand" not in actions and "read_identity" not in actions


# ---------------------------------------------------------------- tied hits


def _ranked(trace: Haplotype, men: dict[str, str]) -> list:  # type: ignore[type-arg]
    return rank(trace, [(s, hap(text)) for s, text in men.items()])


def test_tied_top_hits__every_hit_at_the_top_score() -> None:
    """Exact matches B and A tie (equal differences give equal scores, checked directly
    on the scores); C, one step off, does not unless the tolerance covers the gap."""
    trace = hap("DYS19=14,DYS390=24,DYS391=10")
    ranked = _ranked(
        trace,
        {
            "C": "DYS19=15,DYS390=24,DYS391=10",
            "B": "DYS19=14,DYS390=24,DYS391=10",
            "A": "DYS19=14,DYS390=24,DYS391=10",
        },
    )
    assert ranked[0].score == ranked[1].score > ranked[2].score
    top = tied_top_hits(ranked)
    assert top.specimens == ["A", "B"] and top.tied == 2 and not top.truncated
    assert top.score == ranked[0].score
    gap = ranked[0].score - ranked[2].score
    assert tied_top_hits(ranked, tolerance=gap * 1.01).specimens == ["A", "B", "C"]
    capped = tied_top_hits(ranked, tolerance=gap * 1.01, cap=2)
    assert capped.specimens == ["A", "B"] and capped.tied == 3 and capped.truncated
    result = SearchResult({}, ranked, len(ranked))
    assert tied_top_hits(result).specimens == ["A", "B"]
    assert tied_top_hits([]).specimens == []


def test_tied_top_hits__bad_arguments() -> None:
    with pytest.raises(InputError, match="cap"):
        tied_top_hits([], cap=MAX_FAMILIES + 1)
    with pytest.raises(InputError, match="tolerance"):
        tied_top_hits([], tolerance=-1)
