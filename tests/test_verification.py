"""Fast subset of verification/simulate_checks.py (small populations, loose tolerances
that still fail when a rate, a step model or the VRS parametrisation is wrong)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "verification" / "simulate_checks.py"
_spec = importlib.util.spec_from_file_location("simulate_checks", _PATH)
assert _spec is not None and _spec.loader is not None
checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checks)


def test_smm_variance__matches_theory() -> None:
    """E[(x_i - x_j)^2] = m mu E[step^2] (theory, Ohta & Kimura 1973); a 20 % error in
    the rates or the two-step share moves the ratio outside the band."""
    r = checks.smm_variance(males=20_000, generations=30, pairs=10_000, seed=1)
    assert 0.9 < r["ratio"] < 1.1


def test_father_son_share__matches_sum_of_rates() -> None:
    """Share of father-son pairs that differ vs 1 - prod(1 - mu_c) (theory)."""
    r = checks.father_son_share(males=40_000, seed=2)
    assert abs(r["observed"] - r["expected"]) < 4 * r["se"] + 1e-3


def test_vrs_variance__matches_dirichlet_multinomial() -> None:
    """Sons-per-father variance vs (N-1)(1+v)/(N+v) (Dirichlet-multinomial theory, malan)."""
    r = checks.vrs_variance(vrs=0.5, males=20_000, generations=5, seed=3)
    assert r["observed"] == pytest.approx(r["expected"], rel=0.05)
    r0 = checks.vrs_variance(vrs=0.0, males=20_000, generations=5, seed=3)
    assert r0["observed"] == pytest.approx(1.0, rel=0.05)


def test_malan_study__small_population_near_published() -> None:
    """The malan-based reach study at 100,000 men (published at ~500,000): P(match) at
    5 % and 0.5 % within a few points of 41 %/54 % and 6 %/10 % (published figures)."""
    rows = {(r["kit"], r["share"]): r for r in checks.malan_study(males=100_000, queries=1000)}
    assert rows[("yfiler_plus", 0.05)]["p_match"] == pytest.approx(0.41, abs=0.08)
    assert rows[("ppy23", 0.05)]["p_match"] == pytest.approx(0.54, abs=0.08)
    assert rows[("yfiler_plus", 0.005)]["p_match"] == pytest.approx(0.06, abs=0.03)
    assert rows[("ppy23", 0.005)]["p_match"] == pytest.approx(0.10, abs=0.04)
    assert rows[("yfiler_plus", 0.05)]["p_within_5"] == pytest.approx(0.64, abs=0.12)
