"""Store reads for one expansion (``Database.lineage_links``, ``active_specimens_of``,
``haplotypes_of``) against the slow, obviously correct path they replace: the whole
registry's pedigree (``Pedigree(db.links())``) and one query per member and specimen."""

from __future__ import annotations

import random

import pytest

from patriline.casework import Session
from patriline.errors import InputError
from patriline.haplotype import Haplotype
from patriline.haplotype import parse_haplotype_string as hap
from patriline.io.model import Record
from patriline.pedigree.expand import expand_pedigree, lineage_members
from patriline.pedigree.model import Pedigree
from patriline.store import lineage as lineage_module
from patriline.store.database import Database
from patriline.store.records import Link
from patriline.store.schema import paternal_links
from plugins.approvals import REASON, approve_expansion


def _forest(rng: random.Random) -> tuple[list[Link], list[str]]:
    """Eight random paternal trees of 10–80 men (chains, bushes and mixtures, depths up
    to ~30) and a few men without any link."""
    links: list[Link] = []
    persons: list[str] = []
    for t in range(8):
        n = rng.randint(10, 80)
        spread = rng.choice([1, 2, 5, 1000])  # 1: a chain; large: a random recursive tree
        names = [f"T{t}P{i}" for i in range(n)]
        persons += names
        for i in range(1, n):
            links.append(Link(names[i], names[rng.randint(max(0, i - spread), i - 1)]))
    persons += [f"ALONE{i}" for i in range(3)]
    return links, persons


def _reference_members(db: Database, hits: list[str], g: int) -> dict[str, int] | str:
    """Members on the whole registry's pedigree (the path ``expand`` used before)."""
    try:
        return lineage_members(Pedigree(db.links()), hits, g)
    except InputError as exc:
        return str(exc)


def test_lineage_links__same_members_as_whole_pedigree_on_random_forests(
    store_fixture: Database,
) -> None:
    """Random forests (seeded), 60 random expansions of 1–3 hits of one tree (or, now and
    then, of two trees: both paths expand them as a forest) with G in 0..7: the region's pedigree
    gives the same members, generations and order as the whole registry's, and holds
    no link outside the hits' chains of fathers and the members."""
    db = store_fixture
    rng = random.Random(20261124)
    links, persons = _forest(rng)
    Session(db, db.actor("admin")).insert_links(links, source="test")
    full = Pedigree(db.links())
    by_tree: dict[str, list[str]] = {}
    for p in persons:
        by_tree.setdefault(p.split("P")[0], []).append(p)
    trees = list(by_tree.values())
    for _ in range(60):
        tree = rng.choice(trees)
        hits = rng.sample(tree, min(len(tree), rng.randint(1, 3)))
        if rng.random() < 0.1:
            hits.append(rng.choice(rng.choice(trees)))
        g = rng.randint(0, 7)
        region = db.lineage_links(hits, g)
        want = _reference_members(db, hits, g)
        try:
            got: dict[str, int] | str = lineage_members(Pedigree(region), hits, g)
        except InputError as exc:
            got = str(exc)
        assert got == want, (hits, g)
        if isinstance(want, dict):
            assert list(got) == list(want)  # same order: same tree, same ranking input
            chains = {a for h in hits for a in full.ancestors(h)}
            assert {x.son for x in region} <= set(want) | chains | set(hits)
        assert [x.son for x in region] == sorted(x.son for x in region)
        assert len({x.son for x in region}) == len(region)


def test_lineage_links__hits_related_above_generations(store_fixture: Database) -> None:
    """Two hits whose common ancestor is 4 generations up, expanded with G = 1: they are
    related through recorded links beyond G (the chains of fathers come back whole), so
    the expansion is the union of the two small trees (hand-checked)."""
    db = store_fixture
    chain = [("A1", "A0"), ("A2", "A1"), ("A3", "A2"), ("A4", "A3"), ("A3x", "A2")]
    chain += [("B1", "A0"), ("B2", "B1"), ("B3", "B2"), ("B4", "B3"), ("B5", "B4")]
    Session(db, db.actor("admin")).insert_links([Link(s, f) for s, f in chain], source="test")
    region = Pedigree(db.lineage_links(["A4", "B4"], 1))
    members = lineage_members(region, ["A4", "B4"], 1)
    assert members == {"A3": -1, "A4": 0, "B3": -1, "B4": 0, "B5": 1}
    assert members == lineage_members(Pedigree(db.links()), ["A4", "B4"], 1)


def test_lineage_links__cycle_in_region_refused_elsewhere_ignored(
    store_fixture: Database,
) -> None:
    """A cycle recorded in the store (written past ``insert_links``, which refuses one,
    e.g. by a store older than that check) ends the recursion and is refused by
    ``expand`` only when it lies in the expansion region."""
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).open_case("C1", purpose="test", legal_basis="test")
    approve_expansion(db, "C1")  # expansion needs a live familial approval
    Session(db, admin).import_records(
        [
            Record("sA", hap("DYS19=14"), 2, person="A"),
            Record("sZ", hap("DYS19=14"), 3, person="Z"),
        ],
    )
    ring = [("A", "B"), ("B", "C"), ("D", "C")]
    Session(db, admin).insert_links([Link(s, f) for s, f in [*ring, ("Z", "Y")]], source="test")
    with db.write() as conn:  # close the ring behind insert_links' back
        conn.execute(
            paternal_links.insert().values(son="C", father="A", source="old", confidence=1.0)
        )
    assert {x.son for x in db.lineage_links(["A"], 5)} == {"A", "B", "C", "D"}
    with pytest.raises(InputError, match=r"inconsistent.*cycle"):
        Session(db, admin).expand("C1", "sA", generations=5, reason=REASON)
    e = Session(db, admin).expand("C1", "sZ", generations=5, reason=REASON)
    assert {m.person for m in e.members} == {"Y", "Z"}


def test_active_specimens_and_haplotypes_of__equal_per_item_reads(
    store_fixture: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batched reads equal ``specimens_of`` / ``haplotype`` per item, across several
    ``IN`` chunks (chunk size lowered to 3), with expunged specimens and unknown IDs."""
    db = store_fixture
    admin = db.actor("admin")
    monkeypatch.setattr(lineage_module, "_IN_CHUNK", 3)
    recs = [
        Record(f"s{i}", hap(f"DYS19={10 + i % 5},DYS390={20 + i % 3}"), i + 2, person=f"P{i % 4}")
        for i in range(11)
    ]
    recs[4] = Record("s4", hap("DYS19=11,DYS385=11,14"), 6, kit="yfiler_plus", person="P0")
    Session(db, admin).import_records(recs)
    Session(db, admin).expunge("s8", reason="test")
    persons = [f"P{i}" for i in range(6)]
    got = db.active_specimens_of(persons)
    assert got == {p: db.specimens_of(p) for p in persons if db.specimens_of(p)}
    assert "s8" not in got["P0"]
    ids = [s for ss in got.values() for s in ss] + ["s8", "nope"]
    haps = db.haplotypes_of(ids)
    assert set(haps) == set(ids) - {"s8", "nope"}
    for s, h in haps.items():
        assert h == db.haplotype(s)
    assert haps["s4"].kit == "yfiler_plus"


def _reference_expand(
    db: Database, hits: list[str], g: int, trace: Haplotype
) -> list[tuple[object, ...]]:
    """``expand`` as it was: the whole pedigree, one query per member and specimen."""
    hit_persons = [db.person_of(s) for s in hits]
    pedigree = Pedigree(db.links(), hit_persons)
    members = lineage_members(pedigree, hit_persons, g)
    haplotypes: dict[str, Haplotype] = {}
    shown: dict[str, str] = {}
    for person in members:
        best: tuple[int, str, Haplotype] | None = None
        for s in db.specimens_of(person):
            h = db.haplotype(s)
            if s in hits:
                best = (10**6, s, h)
                break
            if best is None or len(h) > best[0]:
                best = (len(h), s, h)
        if best is not None:
            shown[person], haplotypes[person] = best[1], best[2]
    e = expand_pedigree(
        pedigree, hit_persons, haplotypes, generations=g, trace=trace, specimens=shown, hits=hits
    )
    return [
        (m.person, m.specimen, m.generation, m.meioses_from_hit, m.typed, m.p_match, m.rank)
        for m in e.members
    ]


def test_expand__equals_whole_registry_path(store_fixture: Database) -> None:
    """``Database.expand`` (region links, batched reads) returns the same members,
    specimens shown, meioses, p_match and ranks as the reference path above, on a random
    forest with typed men (some with two specimens), for 12 random hits and G."""
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).open_case("C1", purpose="test", legal_basis="test")
    approve_expansion(db, "C1")  # expansion needs a live familial approval
    rng = random.Random(7)
    links, persons = _forest(rng)
    Session(db, admin).insert_links(links, source="test")
    typed = rng.sample(persons, 120)
    recs = []
    for i, p in enumerate(typed):
        recs.append(
            Record(f"s{i}", hap(f"DYS19={13 + i % 3},DYS390={23 + i % 2}"), i + 2, person=p)
        )
        if i % 10 == 0:  # a second, fuller profile of the same man
            text = f"DYS19={13 + i % 3},DYS390={23 + i % 2},DYS391=10"
            recs.append(Record(f"t{i}", hap(text), i + 2, person=p))
    Session(db, admin).import_records(recs)
    trace = hap("DYS19=14,DYS390=24,DYS391=10")
    specimen_ids = [r.specimen for r in recs]
    for _ in range(12):
        hit = rng.choice(specimen_ids)
        g = rng.randint(0, 6)
        got = Session(db, admin).expand("C1", hit, generations=g, trace=trace, reason=REASON)
        rows = [
            (m.person, m.specimen, m.generation, m.meioses_from_hit, m.typed, m.p_match, m.rank)
            for m in got.members
        ]
        assert rows == _reference_expand(db, [hit], g, trace), (hit, g)
