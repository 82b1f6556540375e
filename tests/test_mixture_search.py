"""Mixture inclusion search (issue 13 item 3) against its slow twin ``naive.mixture_inclusion``
(profiles and mixtures as text, compared as strings), on random profiles with every kind
of allele, and on the real danes data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests import naive

from patriline.encoding import Layout, encode
from patriline.errors import InputError
from patriline.haplotype import Haplotype
from patriline.mixture import Mixture
from patriline.reference import default_catalog
from patriline.search.mixture import include

LOCI = ("DYS19", "DYS389I", "DYS389II", "DYS390", "DYS391", "DYS392", "DYS393", "DYS385")
COPIES = {n: default_catalog().locus(n).copies for n in LOCI}
VALUES = {
    "DYS19": ["13", "14", "15", "15.2"],
    "DYS389I": ["12", "13", "14"],
    "DYS389II": ["28", "29", "30"],
    "DYS390": ["22", "23", "24", "25"],
    "DYS391": ["10", "11", "null"],
    "DYS392": ["11", "13"],
    "DYS393": ["12", "13", "14"],
    "DYS385": ["11", "13", "14", "16"],
}


@st.composite
def profile_text(draw: st.DrawFn) -> dict[str, str]:
    out = {}
    for locus in LOCI:
        kind = draw(st.sampled_from(["value"] * 8 + ["missing", "ol", "dup"]))
        if kind == "missing":
            continue
        if kind == "ol":
            out[locus] = "OL"
            continue
        pool = VALUES[locus]
        if locus == "DYS385":
            a, b = sorted(draw(st.lists(st.sampled_from(pool), min_size=2, max_size=2)), key=float)
            out[locus] = f"{a},{b}"
        elif kind == "dup" and "null" not in pool:
            vals = sorted(
                set(draw(st.lists(st.sampled_from(pool), min_size=2, max_size=2))), key=float
            )
            out[locus] = ",".join(vals)
        else:
            out[locus] = draw(st.sampled_from(pool))
    return out


def _haplotype(text: dict[str, str]) -> Haplotype:
    return Haplotype.parse(text)


@settings(max_examples=60, deadline=None)
@given(
    profiles=st.lists(profile_text(), min_size=1, max_size=40),
    picks=st.data(),
    dropout=st.integers(0, 2),
    min_loci=st.sampled_from([0, 5, 9]),
)
def test_include__equals_the_text_twin(
    profiles: list[dict[str, str]], picks: st.DataObject, dropout: int, min_loci: int
) -> None:
    mix_text = {
        locus: set(picks.draw(st.lists(st.sampled_from(VALUES[locus]), min_size=1, max_size=3)))
        for locus in LOCI
        if picks.draw(st.booleans()) or locus == "DYS19"
    }
    mixture = Mixture.parse(",".join(f"{k}={'/'.join(sorted(v))}" for k, v in mix_text.items()))
    ids = [f"P{i:03d}" for i in range(len(profiles))]
    encoded = encode([_haplotype(p) for p in profiles], Layout.for_loci(LOCI))
    found = include(ids, encoded, mixture, max_dropout=dropout, min_loci=min_loci)
    expected = {}
    for s, p in zip(ids, profiles, strict=True):
        excl, comp = naive.mixture_inclusion(mix_text, p, COPIES)
        if excl <= dropout and comp >= min_loci:
            expected[s] = (excl, comp)
    got = {
        s: (inc.excluded, inc.compared) for s, inc in zip(found.ids, found.inclusions, strict=True)
    }
    assert got == expected
    order = [
        (inc.excluded, -inc.compared, s) for s, inc in zip(found.ids, found.inclusions, strict=True)
    ]
    assert order == sorted(order)


DANES = Path(__file__).resolve().parents[2] / "shared" / "data" / "danes_ystr.csv"


def _danes() -> tuple[list[str], list[Haplotype]]:
    if not DANES.exists():
        pytest.skip(f"shared data not found at {DANES}")
    ids, haps = [], []
    with DANES.open(newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            row.pop("n")
            ids.append(f"D{i:03d}")
            haps.append(Haplotype.parse(row))
    return ids, haps


def test_include__danes_two_man_mixtures_find_both_contributors() -> None:
    """Every two-man mixture of distinct danes haplotypes (the first 30 pairs): both men
    are included with no excluded locus, and every included profile really is (twin)."""
    ids, haps = _danes()
    layout = Layout.for_loci(haps[0].alleles)
    encoded = encode(haps, layout)
    rng = np.random.default_rng(3)
    for _ in range(30):
        a, b = (int(x) for x in rng.choice(len(haps), 2, replace=False))
        mixture = Mixture.of([haps[a], haps[b]])
        assert mixture.min_contributors <= 2
        found = include(ids, encoded, mixture, min_loci=10)
        assert {ids[a], ids[b]} <= set(found.ids)
        seen = {n: {str(haps[a][n]), str(haps[b][n])} for n in mixture.loci}
        expected = {
            s for s, h in zip(ids, haps, strict=True) if all(str(h[n]) in seen[n] for n in seen)
        }
        assert set(found.ids) == expected


def test_mixture__contributors_lower_bound_and_bad_input() -> None:
    m = Mixture.parse("DYS19=13/14/15,DYS385=11/13/14,DYS390=23")
    assert m.min_contributors == 3 and m.widest_locus == "DYS19"
    assert Mixture.parse("DYS19=14/15,DYS385=11/12/13/14").min_contributors == 2
    with pytest.raises(InputError, match="fewer than the alleles allow"):
        Mixture.parse("DYS19=13/14/15", contributors=2)
    with pytest.raises(InputError):
        Mixture.parse("DYS19=fourteen")
    with pytest.raises(InputError, match="none of the mixture's loci"):
        include(["a"], encode([Haplotype.parse({"DYS390": "23"})], Layout.for_loci(["DYS390"])),
                Mixture.parse("DYS19=14"))  # fmt: skip
