"""Tests of the stats CLI commands (fit, frequency, report), run in-process."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from patriline.casework import Session
from patriline.cli import main

TRACE = (
    "DYS19=14,DYS389I=13,DYS389II=29,DYS390=24,DYS391=11,DYS392=13,DYS393=13,"
    "DYS437=15,DYS438=12,DYS439=12"
)


def test_fit__danes_prints_bic_table_and_writes_model(
    danes_path_fixture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model.json"
    assert (
        main(
            [
                "fit",
                str(danes_path_fixture),
                "--clusters",
                "1-5",
                "--out",
                str(out),
                "--starts",
                "1",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "4 clusters" in text and "<- chosen" in text
    doc = json.loads(out.read_text())
    assert doc["clusters"] == 4
    assert [r["clusters"] for r in doc["selection"]] == [1, 2, 3, 4, 5]
    assert doc["provenance"]["reference"]["sha256"]


def test_frequency__json_has_every_method(
    danes_path_fixture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model.json"
    assert (
        main(
            ["fit", str(danes_path_fixture), "--clusters", "4", "--out", str(out), "--starts", "1"]
        )
        == 0
    )
    capsys.readouterr()
    code = main(
        [
            "frequency",
            "--reference",
            str(danes_path_fixture),
            "--model",
            str(out),
            "--haplotype",
            TRACE,
            "--json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["n"], doc["count"]) == (185, 5)
    assert doc["counting"]["p"] == pytest.approx(5 / 185)
    lo, hi = doc["counting"]["ci"]
    assert lo < 5 / 185 < hi
    assert 0 < doc["kappa"]["kappa"] < 1
    assert 0 < doc["dlmix"]["p"] < 1 and doc["dlmix"]["clusters"] == 4
    assert "warning" in doc["matching_men"]


def test_frequency__intermediate_allele_gives_no_dlmix_number(
    danes_path_fixture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "frequency",
            "--reference",
            str(danes_path_fixture),
            "--method",
            "dlmix",
            "--haplotype",
            TRACE.replace("DYS19=14", "DYS19=14.2"),
            "--json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["dlmix"]["p"] is None
    assert "DYS19" in doc["dlmix"]["reason"] and "14.2" in doc["dlmix"]["reason"]


def test_frequency__bad_allele_is_a_clear_error(
    danes_path_fixture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["frequency", "--reference", str(danes_path_fixture), "--haplotype", "DYS19=abc"])
    assert code == 2
    err = capsys.readouterr().err
    assert "DYS19" in err and "abc" in err and "Traceback" not in err


def test_frequency__reference_of_one_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = tmp_path / "one.csv"
    ref.write_text("specimen,DYS19,DYS390\nS1,14,24\n")
    code = main(["frequency", "--reference", str(ref), "--haplotype", "DYS19=14,DYS390=24"])
    assert code == 2
    assert "1 haplotype" in capsys.readouterr().err


def test_report__writes_self_contained_html_and_audits(tmp_path: Path) -> None:
    from patriline.store import Database

    db_path = tmp_path / "store.db"
    ref = tmp_path / "ref.csv"
    lines = ["specimen,DYS19,DYS389I,DYS389II,DYS390,DYS391,DYS392,DYS393,DYS437,DYS438,DYS439"]
    vals = TRACE.split(",")
    for i in range(30):
        row = [v.split("=")[1] for v in vals]
        row[0] = str(13 + i % 4)
        row[3] = str(22 + i % 5)
        lines.append(f"S{i}," + ",".join(row))
    ref.write_text("\n".join(lines) + "\n")
    with Database.create(str(db_path), "alice") as db:
        actor = db.actor("alice")
        Session(db, actor).import_file(ref, category="reference")
        Session(db, actor).open_case("C1", purpose="test", legal_basis="test")

        for s in ("S1", "S2"):  # a report reads only hits of the case's searches
            Session(db, actor).search("C1", db.haplotype(s))
    out = tmp_path / "report.html"
    code = main(
        [
            "report",
            "--db",
            str(db_path),
            "--user",
            "alice",
            "--case",
            "C1",
            "--specimen",
            "S1",
            "--haplotype",
            TRACE,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    html = out.read_text()
    assert "<svg" in html and "Likelihood ratio" in html and "Clopper" in html
    assert not re.search(r'(src|href)="https?://', html)  # self-contained
    trace_file = tmp_path / "trace.csv"
    trace_file.write_text(lines[0] + "\nT1," + ",".join(v.split("=")[1] for v in vals) + "\n")
    out2 = tmp_path / "report2.html"
    code = main(
        [
            "report",
            "--db",
            str(db_path),
            "--user",
            "alice",
            "--case",
            "C1",
            "--specimen",
            "S2",
            "--trace",
            str(trace_file),
            "--out",
            str(out2),
        ]
    )
    assert code == 0
    assert "S2" in out2.read_text()
    with Database.open(str(db_path)) as db:
        entries = Session(db, db.actor("alice")).audit_entries()
    stats = [e for e in entries if e.action == "stats"]
    # Per report: one entry for reading the store as the reference population, one for
    # the report itself.
    assert sum(e.params.get("report") == "case" for e in stats) == 2
    assert sum(e.params.get("reference") == "store" for e in stats) == 2
    assert len(stats) == 4


def test_fit__bad_cluster_range_is_a_usage_error(
    danes_path_fixture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["fit", str(danes_path_fixture), "--clusters", "6-1", "--out", str(tmp_path / "m.json")]
    )
    assert code == 2
    assert "cluster" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


def test_fit__unknown_locus_names_it(
    danes_path_fixture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "fit",
            str(danes_path_fixture),
            "--loci",
            "DYS19,DYS576",
            "--out",
            str(tmp_path / "m.json"),
        ]
    )
    assert code == 2
    assert "DYS576" in capsys.readouterr().err


def test_frequency__unknown_method_is_a_usage_error(
    danes_path_fixture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "frequency",
            "--reference",
            str(danes_path_fixture),
            "--haplotype",
            TRACE,
            "--method",
            "magic",
        ]
    )
    assert code == 2
    assert "magic" in capsys.readouterr().err
