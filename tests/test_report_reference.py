"""Classes of defect (issue 14 items 3 and 18): the case report's denominator.

Item 3 — the report weighed a match against a population that held the case: the trace
itself (stored as a crime-scene specimen), the candidate and his recorded relatives were
counted as population. Item 18 — the report took the smallest of three estimates, even a
model figure far below what the reference itself shows. Expected counts here are worked
by hand from the rows each test writes.
"""

from __future__ import annotations

from typing import Any

import pytest

from patriline.casework import Session
from patriline.links import Link
from patriline.stats.denominator import choose_denominator, reference_policy
from patriline.stats.report import ReportRequest
from plugins.postgres import record

TRACE = "DYS19=14,DYS389I=13,DYS389II=29,DYS390=24,DYS391=11,DYS392=13,DYS393=13,DYS437=15,DYS438=12,DYS439=12"


def _other(i: int) -> str:
    """Distinct unrelated profiles: DYS19 and DYS390 vary, never the trace's pair (14, 24)."""
    return TRACE.replace("DYS19=14", f"DYS19={15 + i % 3}").replace(
        "DYS390=24", f"DYS390={20 + i % 4}"
    )


@pytest.fixture
def case_store_fixture(store_fixture: Any) -> Any:
    db = store_fixture
    admin = Session(db, db.actor("admin"))
    admin.add_user("ann", "analyst")
    # 40 reference men: 37 unrelated and different, 3 unrelated and identical to the trace.
    population = [record(f"R{i}", _other(i)) for i in range(37)]
    population += [record(f"U{i}", TRACE) for i in range(3)]
    admin.import_records(population, category="reference")
    # The candidate, his son and his father (recorded links), identical to the trace.
    admin.import_records(
        [record("CAND", TRACE, person="P-cand"), record("SON", TRACE, person="P-son"),
         record("FATHER", TRACE, person="P-father")],
        category="arrestee",
    )  # fmt: skip
    admin.insert_links([Link("P-son", "P-cand"), Link("P-cand", "P-father")], source="register")
    # The case's trace stored as a crime-scene specimen, twice (re-typed), and remains.
    admin.import_records([record("CS1", TRACE), record("CS2", TRACE)], category="crime_scene")
    admin.import_records([record("UR1", TRACE)], category="unidentified_remains")
    ann = Session(db, "ann")
    ann.open_case("C1", purpose="burglary", legal_basis="warrant 7")
    ann.search("C1", TRACE)  # the report reads only hits of the case's searches
    return db


def test_report__reference_leaves_out_the_case_the_candidate_and_his_line(
    case_store_fixture: Any,
) -> None:
    """Counted: the 40 reference men, 3 of them identical (by construction). Not counted:
    CAND, SON, FATHER (his recorded line), CS1, CS2 (crime scene), UR1 (remains)."""
    ctx = Session(case_store_fixture, "ann").report(
        ReportRequest(case="C1", specimen="CAND", trace_text=TRACE)
    )
    assert (ctx["freq"]["n"], ctx["freq"]["count"]) == (40, 3)
    assert (
        "3 left out as the candidate and the men recorded in his paternal line"
        in ctx["reference_text"]
    )
    assert ctx["denominator"]["floor"] == pytest.approx(3 / 40)
    # The LR uses the reported denominator, never one below 3/40.
    assert ctx["lr"]["denominator"] >= 3 / 40
    assert ctx["lr"]["denominator_method"] == ctx["denominator"]["method"]


def test_report__reference_file_chosen(case_store_fixture: Any, tmp_path: Any) -> None:
    ref = tmp_path / "ref.csv"
    header = "specimen," + ",".join(p.split("=")[0] for p in TRACE.split(","))
    rows = [header] + [
        f"X{i}," + ",".join(p.split("=")[1] for p in (TRACE if i < 2 else _other(i)).split(","))
        for i in range(20)
    ]
    ref.write_text("\n".join(rows) + "\n")
    ctx = Session(case_store_fixture, "ann").report(
        ReportRequest(case="C1", specimen="CAND", trace_text=TRACE, reference_file=ref)
    )
    assert (ctx["freq"]["n"], ctx["freq"]["count"]) == (20, 2)


def _freq(count: int, n: int, dlmix: float | None, kappa: float | None = None) -> dict[str, Any]:
    return {
        "count": count,
        "n": n,
        "counting": {"p": count / n, "ci": [0.0, 0.0026], "level": 0.95},
        "kappa": {"p": kappa, "kappa": 0.8},
        "dlmix": {"p": dlmix} if dlmix is not None else {"p": None, "reason": "no fit"},
    }


def test_denominator__model_below_the_data_is_not_used() -> None:
    """Issue 14 item 18's figures: a haplotype seen twice in 1,135 men, dlmix 6e-15."""
    d = choose_denominator(_freq(2, 1135, 6e-15))
    assert d.p == pytest.approx(2 / 1135) and d.method.startswith("counting (2/1135)")
    assert "below what the reference itself shows" in d.why
    assert d.disagreement is not None and "factor of" in d.disagreement


def test_denominator__unseen_uses_kappa_floor_and_model_above_it() -> None:
    # Unseen: floor (1 - κ)/n = 2.0e-4 (the κ figure); dlmix 8.5e-12 is below it.
    d = choose_denominator(_freq(0, 1135, 8.5e-12, kappa=2.0e-4))
    assert d.p == pytest.approx(2.0e-4) and "kappa" in d.method.lower()
    # A model figure at or above the floor is the one used (ISFG 2020: model-based).
    d2 = choose_denominator(_freq(0, 1135, 5e-4, kappa=2.0e-4))
    assert (d2.p, d2.method, d2.disagreement) == (5e-4, "dlmix", None)
    # κ = 1 gives no estimate: the counting upper bound is the floor.
    d3 = choose_denominator(_freq(0, 1135, None, kappa=None))
    assert d3.p == pytest.approx(0.0026) and "upper bound" in d3.method


def test_policy__reference_categories_never_hold_case_material() -> None:
    cats = set(reference_policy().categories)
    assert not cats & {"crime_scene", "unidentified_remains", "relative_of_missing", "unspecified"}
    assert reference_policy().related_generations >= 5
