"""Tests of haplotype frequency estimates (patriline.stats.frequency, .reference)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from patriline.errors import InputError
from patriline.haplotype import Haplotype, parse_haplotype_string
from patriline.stats.frequency import clopper_pearson, count_matches, kappa_estimate
from patriline.stats.reference_set import ReferenceSet, design_matrix, load_reference

LOCI = (
    "DYS19",
    "DYS389I",
    "DYS389II",
    "DYS390",
    "DYS391",
    "DYS392",
    "DYS393",
    "DYS437",
    "DYS438",
    "DYS439",
)


def _h(text: str) -> Haplotype:
    return parse_haplotype_string(text)


def test_clopper_pearson__published_x7_n50() -> None:
    """Published check value (shared/reference/ystr-facts.md): x=7, n=50 → (0.058192, 0.267396)."""
    lo, hi = clopper_pearson(7, 50)
    assert round(lo, 6) == 0.058192
    assert round(hi, 6) == 0.267396


def test_clopper_pearson__edges_are_closed_form() -> None:
    """Independent computation: x=0 → upper 1−(α/2)^(1/n); x=n → lower (α/2)^(1/n)."""
    lo, hi = clopper_pearson(0, 20)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 20), rel=1e-9)
    lo, hi = clopper_pearson(20, 20)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 20), rel=1e-9)


@given(hst.integers(1, 300), hst.data())
@settings(max_examples=60, deadline=None)
def test_clopper_pearson__interval_contains_estimate(n: int, data: hst.DataObject) -> None:
    x = data.draw(hst.integers(0, n))
    lo, hi = clopper_pearson(x, n)
    assert 0.0 <= lo <= x / n <= hi <= 1.0


def test_clopper_pearson__empty_reference_is_an_error() -> None:
    with pytest.raises(InputError, match="empty"):
        clopper_pearson(0, 0)


def test_count_matches__danes_counts_repeated_rows(danes_path_fixture: Path) -> None:
    """The first danes row (13,13,29,22,10,15,13,14,11,12) has n=1; the file sums to 185 men."""
    ref = load_reference(danes_path_fixture)
    assert ref.size == 185
    q = _h(
        "DYS19=13,DYS389I=13,DYS389II=29,DYS390=22,DYS391=10,DYS392=15,DYS393=13,DYS437=14,DYS438=11,DYS439=12"
    )
    est = count_matches(q, ref)
    assert (est.count, est.n) == (1, 185)
    assert est.p == pytest.approx(1 / 185)


def test_count_matches__partial_reference_profiles_are_not_counted_in_n() -> None:
    ref = ReferenceSet.from_haplotypes(
        [
            _h("DYS19=14,DYS390=24"),
            _h("DYS19=14"),
            _h("DYS19=15,DYS390=24"),
            _h("DYS19=14,DYS390=24"),
        ]
    )
    est = count_matches(_h("DYS19=14,DYS390=24"), ref)
    assert (est.count, est.n) == (2, 3)


def test_count_matches__multi_copy_and_null_alleles_match_exactly(
    edge_haplotypes_fixture: dict[str, Haplotype],
) -> None:
    null = edge_haplotypes_fixture["null"]
    ref = ReferenceSet.from_haplotypes(
        [null, _h("DYS19=14,DYS392=13"), null, _h("DYS19=14,DYS385=11,14")]
    )
    assert count_matches(null, ref).count == 2
    multi = edge_haplotypes_fixture["multi_copy_equal"]
    ref2 = ReferenceSet.from_haplotypes([multi, _h("DYS385=11,12,DYF387S1=35,37"), multi])
    assert count_matches(multi, ref2).count == 2


def test_count_matches__reference_of_one_is_an_error() -> None:
    ref = ReferenceSet.from_haplotypes([_h("DYS19=14")])
    with pytest.raises(InputError, match="at least 2"):
        count_matches(_h("DYS19=14"), ref)


def test_count_matches__reference_of_zero_is_an_error() -> None:
    with pytest.raises(InputError):
        count_matches(_h("DYS19=14"), ReferenceSet.from_haplotypes([]))


def test_count_matches__query_loci_absent_from_reference_are_an_error() -> None:
    ref = ReferenceSet.from_haplotypes([_h("DYS19=14"), _h("DYS19=15")])
    with pytest.raises(InputError, match="DYS390"):
        count_matches(_h("DYS390=24"), ref)


def test_kappa_estimate__brenner_definition_by_hand() -> None:
    """Brenner 2010: κ = singletons/n. Here A×3, B×1, C×1, D×2 → κ = 2/7, p = (1−κ)/7."""
    haps = ["DYS19=13"] * 3 + ["DYS19=14"] + ["DYS19=15"] + ["DYS19=16"] * 2
    ref = ReferenceSet.from_haplotypes([_h(t) for t in haps])
    est = kappa_estimate(_h("DYS19=17"), ref)
    assert est.singletons == 2 and est.n == 7
    assert est.kappa == pytest.approx(2 / 7)
    assert est.p == pytest.approx((1 - 2 / 7) / 7)
    assert est.applies
    assert not kappa_estimate(_h("DYS19=13"), ref).applies


def test_kappa_estimate__weights_count_as_men() -> None:
    ref = ReferenceSet.from_haplotypes([_h("DYS19=13"), _h("DYS19=14")], weights=[1, 3])
    est = kappa_estimate(_h("DYS19=17"), ref)
    assert (est.singletons, est.n) == (1, 4)


@given(hst.lists(hst.integers(10, 16), min_size=2, max_size=40), hst.integers(10, 16))
@settings(max_examples=40, deadline=None)
def test_count_matches__frequencies_of_distinct_haplotypes_sum_to_one(
    values: list[int], q: int
) -> None:
    ref = ReferenceSet.from_haplotypes([_h(f"DYS19={v}") for v in values])
    total = sum(count_matches(_h(f"DYS19={v}"), ref).p for v in sorted(set(values)))
    assert total == pytest.approx(1.0)
    assert 0.0 <= count_matches(_h(f"DYS19={q}"), ref).p <= 1.0


def test_design_matrix__drops_intermediate_and_missing_rows_and_says_why() -> None:
    ref = ReferenceSet.from_haplotypes(
        [
            _h("DYS19=14,DYS458=15"),
            _h("DYS19=14,DYS458=15.2"),
            _h("DYS19=15"),
            _h("DYS19=13,DYS458=16"),
        ]
    )
    d = design_matrix(ref, ["DYS19", "DYS458"])
    assert d.x.tolist() == [[14, 15], [13, 16]]
    assert d.dropped == 2
    assert d.dropped_reasons == {"missing": 1, "intermediate": 1}


def test_design_matrix__multi_copy_locus_gives_sorted_copy_columns() -> None:
    ref = ReferenceSet.from_haplotypes([_h("DYS385=14,11"), _h("DYS385=13")])
    d = design_matrix(ref)
    assert d.columns == ("DYS385[0]", "DYS385[1]")
    assert d.x.tolist() == [[11, 14], [13, 13]]
    assert np.all(d.weights == 1)


def test_load_reference__bad_count_names_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "ref.csv"
    f.write_text("DYS19,DYS390,n\n14,24,2\n15,23,x\n")
    with pytest.raises(InputError, match=r"ref.csv:3.*'n'.*'x'"):
        load_reference(f)


def test_load_reference__missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_reference(tmp_path / "nope.csv")


def test_count_matches__duplicated_allele_matches_only_the_same_duplication(
    edge_haplotypes_fixture: Haplotype,
) -> None:
    dup = edge_haplotypes_fixture["duplication"]  # DYS19=14,15 at a one-copy locus
    ref = ReferenceSet.from_haplotypes(
        [dup, _h("DYS19=14,16,DYS390=24"), dup, _h("DYS19=14,DYS390=24")]
    )
    assert count_matches(dup, ref).count == 2


def test_matching_men_summary__without_population_says_not_available() -> None:
    from patriline.stats.summary import SHARED_ANCESTRY_WARNING, matching_men_summary

    res = matching_men_summary(_h("DYS19=14"))
    assert res["available"] is False and "population" in res["reason"]
    assert res["warning"] == SHARED_ANCESTRY_WARNING


def test_matching_men_summary__small_simulated_population() -> None:
    """Andersen & Balding (2017) via patriline.simulate.matching_men on a tiny Wright-Fisher run:
    the expected count is non-negative and the meioses shares are cumulative (≤ 1, rising)."""
    from patriline.simulate import SimConfig, simulate
    from patriline.stats.summary import matching_men_summary

    pop = simulate(
        SimConfig(males=400, generations=30, kit="minimal", founders="monomorphic", seed=3)
    )
    q = _h("DYS19=14,DYS389I=13,DYS389II=29,DYS390=24,DYS391=11,DYS392=13,DYS393=13,DYS385=11,14")
    res = matching_men_summary(q, pop, n_samples=100)
    assert res["available"] is True
    assert res["expected_matching_men"] >= 0
    shares = [v for v in res["share_of_matches"].values() if v is not None]
    assert shares == sorted(shares) and all(0 <= v <= 1 for v in shares)


def test_kappa_estimate__all_singletons__no_zero_probability() -> None:
    """Class: an estimator that degenerates to a match probability of 0 (issue 14
    item 19). Every reference haplotype a singleton: κ = 1, and (1 − κ)/n = 0 is not
    an estimate — p is None with a note, and the LR falls back to the counting bound."""
    from patriline.stats.relatedness import likelihood_ratio

    ref = ReferenceSet.from_haplotypes([_h(f"DYS19={v},DYS390=24") for v in range(10, 16)])
    est = kappa_estimate(_h("DYS19=17,DYS390=24"), ref)
    assert est.kappa == 1.0 and est.p is None and not est.applies
    assert "singleton" in est.note
    trace = _h("DYS19=17,DYS390=24")
    lr = likelihood_ratio(trace, trace, ref)
    upper = clopper_pearson(0, 6)[1]
    assert lr.denominator == pytest.approx(upper)
    assert "upper bound" in lr.denominator_method
    assert np.isfinite(lr.lr) and lr.lr > 0


def test_kappa_estimate__duplications_are_told_apart() -> None:
    """Class: κ counting different duplications as one haplotype (issue 14 item 19).
    ``DYS19=14,15`` and ``DYS19=15,16`` are two singletons, as counting has them; two
    copies of ``14,15`` are one doubleton. By hand: haplotypes {14,15}×2, {15,16}×1,
    {14}×1 → 2 singletons of 4 men."""
    ref = ReferenceSet.from_haplotypes(
        [_h("DYS19=14,15"), _h("DYS19=15,16"), _h("DYS19=14,15"), _h("DYS19=14")]
    )
    est = kappa_estimate(_h("DYS19=13"), ref)
    assert (est.singletons, est.n) == (2, 4)
    assert count_matches(_h("DYS19=15,16"), ref).count == 1
