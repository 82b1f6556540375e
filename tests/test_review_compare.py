"""``compare`` chooses among equally good pairings of copies by a fixed rule, so the
result (status, per-copy differences, and the mutation-model observations built on them)
does not depend on set iteration order or on which profile comes first."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from patriline.haplotype import Allele, AlleleKind, Haplotype, Status, compare, compare_alleles
from patriline.reference import default_catalog
from patriline.stats.mutation import observations

CATALOG = default_catalog()


def _stepwise_flags(a: Haplotype, b: Haplotype) -> list[tuple[str, int, bool]]:
    return sorted((o.locus, abs(o.steps), o.stepwise) for o in observations(compare(a, b)))


def test_compare_alleles__tie_prefers_whole_repeat_pairing() -> None:
    """A partial DYF399S1 call 16 against 15,16.1,19: 16↔15 (one step) and 16↔16.1 (not
    a whole repeat) cost the same; the stepwise reading is taken, in both directions."""
    locus = CATALOG.locus("DYF399S1")
    a = Allele(AlleleKind.VALUE, (160,))
    b = Allele(AlleleKind.VALUE, (150, 161, 190))
    ab, ba = compare_alleles(a, b, locus), compare_alleles(b, a, locus)
    assert (ab.status, ab.diffs) == (Status.DIFFERS, (-10,))
    assert (ba.status, ba.diffs) == (Status.DIFFERS, (10,))


def test_compare__two_copy_tie_is_symmetric() -> None:
    a = Haplotype({"DYS385": Allele(AlleleKind.VALUE, (150, 152))})
    b = Haplotype({"DYS385": Allele(AlleleKind.VALUE, (151, 160))})
    assert (
        _stepwise_flags(a, b)
        == _stepwise_flags(b, a)
        == [
            ("DYS385", 0, False),
            ("DYS385", 1, True),
        ]
    )


_VALUES = st.integers(100, 130).map(lambda r: r) | st.integers(10, 13).map(lambda r: r * 10)


@st.composite
def _multi(draw: st.DrawFn, copies: int) -> Allele:
    n = draw(st.integers(1, copies))
    return Allele(AlleleKind.VALUE, tuple(draw(st.lists(_VALUES, min_size=n, max_size=n))))


@settings(max_examples=300, deadline=None)
@given(_multi(3), _multi(3), _multi(2), _multi(2))
def test_compare__symmetric_observations(a3: Allele, b3: Allele, a2: Allele, b2: Allele) -> None:
    """Status and the stepwise/non-stepwise observations do not depend on the order."""
    a = Haplotype({"DYF399S1": a3, "DYS385": a2})
    b = Haplotype({"DYF399S1": b3, "DYS385": b2})
    x, y = compare(a, b), compare(b, a)
    assert [c.status for c in x.loci] == [c.status for c in y.loci]
    assert _stepwise_flags(a, b) == _stepwise_flags(b, a)


def test_compare__dys389ii_alone_is_compared_whole() -> None:
    """Restricted to DYS389II, a change in the DYS389I part is not hidden by the II − I
    segment (it would be counted nowhere); the kernel does the same for a layout without
    DYS389I."""
    from patriline.encoding import Layout, encode
    from patriline.haplotype import parse_haplotype_string
    from patriline.search.index import SearchIndex

    a = parse_haplotype_string("DYS389I=13,DYS389II=29")
    b = parse_haplotype_string("DYS389I=14,DYS389II=30")
    c = compare(a, b, ["DYS389II"])
    assert (c.loci_compared, c.mismatches, c.steps, c["DYS389II"].segment) == (1, 1, 1, False)
    full = compare(a, b)
    assert (full.mismatches, full["DYS389II"].segment) == (1, True)  # counted once, at I
    only_ii = Layout.for_loci(["DYS389II"])
    idx = SearchIndex.build(["b"], encode([b.restricted(["DYS389II"])], only_ii))
    hits = idx.query(a.restricted(["DYS389II"]), max_mismatches=None, min_loci=0)
    assert (int(hits.compared[0]), int(hits.mismatches[0])) == (1, 1)
