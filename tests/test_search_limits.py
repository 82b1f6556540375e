"""Search limits (issue 17 item 2): floors, caps, no untyped loci shown, report of hits only.

The limits come from ``reference/data/search_policy.toml`` (read by
:func:`patriline.reference.policy.search_policy`); every red-team case runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from patriline.casework import Session
from patriline.cli import main
from patriline.errors import AccessDenied, InputError
from patriline.haplotype import Haplotype, parse_haplotype_string
from patriline.reference.policy import search_policy
from patriline.search.api import typed_copies
from patriline.stats.report import ReportRequest
from patriline.store import Database
from patriline.store.cases import case_hits
from plugins.approvals import approve
from plugins.postgres import record
from plugins.search import BASE, FATHER, profile

pytestmark = pytest.mark.usefixtures("index_dir_fixture")

#: The trace of the explain tests: the base profile without DYS458, DYS635 and YGATAH4.
PARTIAL = ";".join(f"{k}={v}" for k, v in BASE.items() if k not in {"DYS458", "DYS635", "YGATAH4"})


@pytest.fixture
def limits_fixture(store_fixture: Any) -> Any:
    """A store with a small lineage, an analyst, a supervisor and a case."""
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).add_user("ann", "analyst")
    Session(db, admin).add_user("sue", "supervisor")
    Session(db, db.actor("ann")).import_records(
        [
            record("father", FATHER),
            record("son", profile(DYS458="18")),
            record("other", profile(DYS390="22", DYS391="10", DYS392="11")),
        ],
        category="reference",
    )
    Session(db, db.actor("ann")).open_case("C1", purpose="test", legal_basis="test")
    Session(db, db.actor("ann")).open_case("C2", purpose="other case", legal_basis="test")
    return db


def _denied(db: Any) -> list[Any]:
    return [
        e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "access_denied"
    ]


def test_policy__values_and_sources() -> None:
    p = search_policy()
    assert p.loci_floor == 9 and "minimal haplotype" in p.floor_source
    assert p.trace_floor(None) == 9 and p.trace_floor("yfiler") == 12
    assert p.trace_floor("no-such-kit") == 9
    assert p.max_exact_hits >= 1 and p.max_top >= 20
    assert p.approval_valid_days > 0 and p.approval_max_uses >= 1 and p.pairs_max_uses == 1


def test_search__min_loci_below_floor_is_refused(limits_fixture: Any) -> None:
    with pytest.raises(InputError, match=r"min_loci 0 is below the floor of 9"):
        Session(limits_fixture, "ann").search("C1", FATHER, min_loci=0)
    with pytest.raises(InputError, match="min_loci 8"):
        Session(limits_fixture, "ann").search("C1", FATHER, min_loci=8)


def test_search__one_locus_trace_is_refused_and_audited(limits_fixture: Any) -> None:
    """The red-team case: a one-locus exact trace used to return most of the registry."""
    db = limits_fixture
    with pytest.raises(AccessDenied, match=r"1 locus copies typed \(DYS19\).*at least 9"):
        Session(db, "ann").search("C1", "DYS19=14")
    entry = _denied(db)[-1]
    assert entry.params == {"action": "search_exact", "case": "C1", "via": "local"}
    assert "at least 9" in entry.result["reason"]
    assert not [
        e for e in Session(db, db.actor("admin")).audit_entries() if e.action == "search_exact"
    ]


def test_search__kit_floor(limits_fixture: Any) -> None:
    """A Yfiler trace typed at 10 copies is below the Yfiler floor (12), though above 9."""
    loci = ["DYS19", "DYS389I", "DYS389II", "DYS390", "DYS391", "DYS392", "DYS393", "DYS385"]
    text = ";".join(f"{k}={BASE[k]}" for k in [*loci, "DYS438"])
    plain = parse_haplotype_string(text)
    assert typed_copies(plain) == 10
    assert Session(limits_fixture, "ann").search("C1", plain).total == 2  # no kit: floor 9
    yfiler = Haplotype(plain.alleles, "yfiler")
    with pytest.raises(AccessDenied, match=r"10 locus copies typed.*at least 12.*kit yfiler"):
        Session(limits_fixture, "ann").search("C1", yfiler)


def test_search__too_many_exact_hits_are_refused(limits_fixture: Any) -> None:
    db = limits_fixture
    cap = search_policy().max_exact_hits
    Session(db, db.actor("ann")).import_records(
        [record(f"twin{i:03d}", FATHER, i + 2) for i in range(cap)]
    )  # with "father": cap + 1 identical profiles
    with pytest.raises(AccessDenied, match=rf"{cap + 1} stored profiles match.*cap of {cap}"):
        Session(db, "ann").search("C1", FATHER)
    entry = _denied(db)[-1]
    assert entry.result["hits"] == cap + 1 and "returned" not in entry.result
    # Not a hit of the case: the refused search exposed nobody.
    assert "father" not in case_hits(db, "C1")


def test_search__top_is_capped(limits_fixture: Any) -> None:
    cap = search_policy().max_top
    with pytest.raises(InputError, match=rf"top {cap + 1} is above the cap of {cap}"):
        Session(limits_fixture, "ann").search("C1", FATHER, top=cap + 1)
    assert Session(limits_fixture, "ann").search("C1", FATHER, top=cap).total == 1


def test_explain__never_shows_loci_the_trace_lacks(limits_fixture: Any) -> None:
    db = limits_fixture
    approve(db, "sue", "C1", PARTIAL, max_mismatches=2)
    res = Session(db, "ann").search("C1", PARTIAL, max_mismatches=2, explain=True)
    assert {c.specimen for c in res.candidates} == {"father", "son"}
    trace_loci = set(parse_haplotype_string(PARTIAL).loci)
    for c in res.candidates:
        assert c.loci is not None
        assert {row["locus"] for row in c.loci} <= trace_loci
        assert not {"DYS458", "DYS635", "YGATAH4"} & {row["locus"] for row in c.loci}
    assert "DYS458" not in json.dumps(res.to_dict())


def test_cli_search__red_team_command_is_refused(
    limits_fixture: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``search --haplotype "DYS19=" --min-loci 0 --explain`` dumped every profile."""
    if limits_fixture.dialect != "sqlite":
        pytest.skip("the CLI test runs on the SQLite file")
    url = limits_fixture.url
    base = ["search", "--db", url, "--user", "ann", "--case", "C1", "--explain", "--json"]
    assert main([*base, "--haplotype", "DYS19=", "--min-loci", "0"]) == 2
    assert "below the floor of 9" in capsys.readouterr().err
    assert main([*base, "--haplotype", "DYS19="]) == 3
    err = capsys.readouterr().err
    assert "0 locus copies typed" in err and "at least 9" in err
    # A real trace: the explain rows and the table show the trace's loci only.
    approve(limits_fixture, "sue", "C1", PARTIAL, max_mismatches=2)
    args = ["search", "--db", url, "--user", "ann", "--case", "C1", "--explain"]
    assert main([*args, "--haplotype", PARTIAL, "--max-mismatches", "2", "--json"]) == 0
    out = capsys.readouterr().out
    assert "DYS458" not in out and "DYS635" not in out and "DYS390" in out
    assert main([*args, "--haplotype", PARTIAL, "--max-mismatches", "2"]) == 0
    out = capsys.readouterr().out
    assert "DYS458" not in out and "DYS390" in out


def test_report__reads_only_hits_of_the_case(limits_fixture: Any) -> None:
    """``report --specimen`` printed any named profile; now only a hit of the case's
    audited searches, refused (and audited) otherwise — hits of another case do not count."""
    db = limits_fixture

    def report(specimen: str, case: str = "C1") -> dict[str, Any]:
        return Session(db, "ann").report(
            ReportRequest(case=case, specimen=specimen, trace_text=FATHER)
        )

    with pytest.raises(AccessDenied, match="not a hit: other"):
        report("other")
    entry = _denied(db)[-1]
    assert entry.params == {"action": "report", "case": "C1", "via": "local"}
    Session(db, "ann").search("C2", profile(DYS390="22", DYS391="10", DYS392="11"))  # a hit in C2
    with pytest.raises(AccessDenied, match="not a hit"):
        report("other")
    assert report("other", "C2")["specimen"] == "other"
    with pytest.raises(AccessDenied, match="not a hit: no-such"):
        report("no-such")  # the same refusal as for a stored specimen (no oracle)
    Session(db, "ann").search("C1", FATHER)
    ctx = report("father")
    assert {row["locus"] for row in ctx["loci"]} <= set(parse_haplotype_string(FATHER).loci)


def test_report__never_shows_loci_the_trace_lacks(limits_fixture: Any) -> None:
    db = limits_fixture
    Session(db, "ann").search("C1", FATHER)
    ctx = Session(db, "ann").report(ReportRequest(case="C1", specimen="father", trace_text=PARTIAL))
    assert {"DYS458", "DYS635", "YGATAH4"}.isdisjoint(row["locus"] for row in ctx["loci"])
    assert len(ctx["loci"]) == len(parse_haplotype_string(PARTIAL).loci)


def test_database_reopened_sees_the_limits(limits_fixture: Any) -> None:
    """The limits hold for a store opened afresh (nothing cached in the process)."""
    with Database.open(limits_fixture.url) as db, pytest.raises(AccessDenied, match="typed"):
        Session(db, "ann").search("C1", "DYS19=14,DYS390=24")
