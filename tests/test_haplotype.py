"""The allele model and ``compare``: hand cases for each rule, symmetry, and a plain
independent distance on the encoded form compared with ``compare`` on random profiles."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patriline.encoding import EXTRA, MISSING, NULL, OFF_LADDER, Layout, encode
from patriline.haplotype import (
    Allele,
    AlleleError,
    AlleleKind,
    Haplotype,
    Status,
    compare,
    distance,
    parse_allele,
    parse_haplotype_string,
)
from test_io_roundtrip import CATALOG, haplotype_st

P = parse_haplotype_string


@pytest.mark.parametrize(
    ("text", "locus", "expected"),
    [
        ("14", "DYS19", Allele.of(14)),
        (" 15.2 ", "DYS458", Allele.of("15.2")),
        ("11,14", "DYS385", Allele.of(11, 14)),
        ("14-11", "DYS385", Allele.of(11, 14)),
        ("11/14", "DYS385", Allele.of(11, 14)),
        ("11", "DYS385", Allele.of(11, 11)),
        ("19,20", "DYS19", Allele.of(19, 20)),
        ("OL", "DYS19", Allele(AlleleKind.OFF_LADDER)),
        ("null", "DYS19", Allele(AlleleKind.NULL)),
        ("NA", "DYS19", Allele(AlleleKind.MISSING)),
        ("", "DYS19", Allele(AlleleKind.MISSING)),
    ],
)
def test_parse_allele__kinds(text: str, locus: str, expected: Allele) -> None:
    assert parse_allele(text, CATALOG.locus(locus)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [("-3", "negative"), ("999", "plausible range"), ("15.7", "impossible intermediate"),
     ("15.25", "one digit"), ("x", "not a repeat number"), ("14.5", "impossible intermediate")],
)  # fmt: skip
def test_parse_allele__impossible(text: str, reason: str) -> None:
    with pytest.raises(AlleleError, match=reason) as info:
        parse_allele(text, CATALOG.locus("DYS19"))
    assert info.value.locus == "DYS19" and info.value.value == text


def test_compare__multi_copy_best_pairing() -> None:
    c = compare(P("DYS385=14,12"), P("DYS385=11,14"))["DYS385"]
    assert (c.status, c.compared, c.mismatches, c.steps) == (Status.DIFFERS, 2, 1, 1)
    c = compare(P("DYF399S1=15,16"), P("DYF399S1=16,17,15"))["DYF399S1"]
    assert (c.status, c.compared, c.mismatches) == (Status.EQUAL, 2, 0)
    # a pairing that leaves a typed copy against a missing one must not win a tie
    c = compare(P("DYF399S1=16,20"), P("DYF399S1=16,20"))["DYF399S1"]
    assert (c.status, c.compared) == (Status.EQUAL, 2)


def test_compare__dys389_segment_counts_once() -> None:
    """A mutation in the DYS389I part changes both I and II: it counts once (at DYS389I)."""
    c = compare(P("DYS389I=13,DYS389II=29"), P("DYS389I=14,DYS389II=30"))
    assert c["DYS389II"].segment and c["DYS389II"].status is Status.EQUAL
    assert (c.mismatches, c.steps) == (1, 1)
    c = compare(P("DYS389II=29"), P("DYS389II=30"))
    assert not c["DYS389II"].segment and c.mismatches == 1


def test_compare__intermediate_rules() -> None:
    c = compare(P("DYS458=15.2"), P("DYS458=15"))["DYS458"]
    assert (c.status, c.mismatches, c.steps) == (Status.NOT_COMPARABLE, 1, 1)
    c = compare(P("DYS458=15.2"), P("DYS458=16.2"))["DYS458"]
    assert (c.status, c.mismatches, c.steps, c.diffs) == (Status.DIFFERS, 1, 1, (10,))


def test_compare__off_ladder_never_counts_and_null() -> None:
    c = compare(P("DYS19=OL"), P("DYS19=14"))["DYS19"]
    assert (c.status, c.compared, c.mismatches) == (Status.MISSING, 0, 0)
    assert compare(P("DYS19=OL"), P("DYS19=OL"))["DYS19"].compared == 0
    assert compare(P("DYS19=null"), P("DYS19=null"))["DYS19"].status is Status.EQUAL
    c = compare(P("DYS19=null"), P("DYS19=14"))["DYS19"]
    assert (c.compared, c.mismatches, c.steps) == (1, 1, 1)


def test_compare__duplication_and_missing() -> None:
    assert compare(P("DYS19=19,20"), P("DYS19=19,20"))["DYS19"].status is Status.EQUAL
    c = compare(P("DYS19=19,20"), P("DYS19=19"))["DYS19"]
    assert (c.status, c.mismatches) == (Status.NOT_COMPARABLE, 1)
    c = compare(P("DYS19=14"), P("DYS390=24"))
    assert c.loci_compared == 0 and {x.status for x in c.loci} == {Status.MISSING}


@settings(max_examples=150, deadline=None)
@given(haplotype_st(), haplotype_st())
def test_compare__symmetric(a: Haplotype, b: Haplotype) -> None:
    ab, ba = compare(a, b), compare(b, a)
    assert (ab.loci_compared, ab.mismatches, ab.steps) == (
        ba.loci_compared,
        ba.mismatches,
        ba.steps,
    )
    assert [x.status for x in ab.loci] == [x.status for x in ba.loci]
    assert compare(a, a).mismatches == 0


# -- an independent, plain distance on the encoded form (encoding.py's kernel semantics) --


def _pair(a: int, b: int) -> tuple[int, int, int]:
    if a in (MISSING, OFF_LADDER) or b in (MISSING, OFF_LADDER):
        return 0, 0, 0
    if a == NULL or b == NULL:
        return (1, 0, 0) if a == b else (1, 1, 1)
    d = abs(a - b)
    return (1, 0, 0) if d == 0 else (1, 1, (d + 9) // 10)


def naive_distance(enc, i: int, j: int) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """Per column pair as documented in patriline.encoding, brute force over pairings."""
    layout = enc.layout
    total = [0, 0, 0]
    seg = layout.dys389
    for locus in layout.loci:
        sl = layout.slice_of(locus)
        xs = [int(v) for v in enc.values[sl, i]]
        ys = [int(v) for v in enc.values[sl, j]]
        n = len(xs)
        if locus == "DYS389II" and seg is not None:
            a1, a2 = int(enc.values[seg[0], i]), int(enc.values[seg[1], i])
            b1, b2 = int(enc.values[seg[0], j]), int(enc.values[seg[1], j])
            if min(a1, a2, b1, b2) >= 0:
                xs, ys = [a2 - a1], [b2 - b1]
        if EXTRA in (xs[0], ys[0]):
            other = ys if xs[0] == EXTRA else xs
            if all(v in (MISSING, OFF_LADDER) for v in other):
                continue
            same = xs[0] == ys[0] == EXTRA and enc.extras[(i, locus)] == enc.extras[(j, locus)]
            add = (n, 0, 0) if same else (n, n, n)
        else:
            add = min(
                (tuple(map(sum, zip(*(_pair(x, y) for x, y in zip(xs, p, strict=True)), strict=True)))
                 for p in itertools.permutations(ys)),
                key=lambda t: (t[2], t[1], -t[0]),
            )  # fmt: skip
        total = [t + a for t, a in zip(total, add, strict=True)]
    return total[0], total[1], total[2]


@settings(max_examples=200, deadline=None)
@given(st.lists(haplotype_st(), min_size=2, max_size=4))
def test_distance__naive_encoded_equals_compare(haps: list[Haplotype]) -> None:
    """The slow obviously-correct reference (above) equals ``compare`` on random profiles."""
    enc = encode(haps, Layout.universal())
    for i, j in itertools.combinations(range(len(haps)), 2):
        assert naive_distance(enc, i, j) == distance(haps[i], haps[j])


@pytest.mark.parametrize("text", ["", " ", "NA", "na", "N/A", "n/a", "ND", "-"])
def test_parse_allele__documented_missing_words(text: str) -> None:
    """AlleleKind.MISSING (issue 14.7): exactly the set docs/formats.md lists."""
    assert parse_allele(text, CATALOG.locus("DYS19")) == Allele(AlleleKind.MISSING)


@pytest.mark.parametrize("text", ["?", "NT", "nan", "none", "None", ".", "missing"])
def test_parse_allele__undocumented_words_are_problems(text: str) -> None:
    """AlleleError (issue 14.7): an uncertain or untyped call is reported, not a quiet
    'missing'; ``none`` no longer sits one letter from ``null`` with another meaning."""
    with pytest.raises(AlleleError, match="not a documented missing word") as err:
        parse_allele(text, CATALOG.locus("DYS19"))
    assert "empty cell, NA, N/A, ND or -" in str(err.value)
