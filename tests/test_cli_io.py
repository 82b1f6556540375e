"""The io commands in-process through ``main([...])``: exit codes, text and --json output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patriline.cli import main
from patriline.io import read

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).parent / "data" / "io"


def _json(capsys: pytest.CaptureFixture[str], argv: list[str], code: int) -> object:
    assert main(argv) == code
    return json.loads(capsys.readouterr().out)


def test_kits__table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kits"]) == 0
    out = capsys.readouterr().out
    assert "yfiler_plus" in out and "ppy23" in out
    kits = _json(capsys, ["kits", "--json"], 0)
    assert isinstance(kits, list) and {k["id"] for k in kits} >= {"minimal", "yfiler_plus", "rm13"}
    one = _json(capsys, ["kits", "--kit", "Yfiler Plus", "--json"], 0)
    assert isinstance(one, dict) and one["markers"] == 27 and len(one["loci"]) == 25
    dys19 = next(x for x in one["loci"] if x["locus"] == "DYS19")
    lo, hi = dys19["rate_interval_95"]
    assert lo < dys19["rate"] < hi and dys19["mutations"] == 36 and dys19["source"]
    assert main(["kits", "--kit", "yfiler"]) == 0
    assert "DYS19" in capsys.readouterr().out


def test_kits__unknown_kit_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kits", "--kit", "nokit"]) == 2
    assert "unknown kit 'nokit'" in capsys.readouterr().err


def test_validate__clean_file(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["validate", str(EXAMPLES / "messy_lab_export.csv"), "--json"], 0)
    assert doc == {
        "file": str(EXAMPLES / "messy_lab_export.csv"),
        "format": "csv",
        "rows": 6,
        "accepted": 6,
        "rejected": [],
    }


def test_validate__problems_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["validate", str(DATA / "impossible_values.csv"), "--json"], 1)
    assert isinstance(doc, dict) and (doc["rows"], doc["accepted"]) == (5, 1)
    first = doc["rejected"][0]
    assert {k: first[k] for k in ("line", "specimen", "locus", "value")} == {
        "line": 2,
        "specimen": "N1",
        "locus": "DYS19",
        "value": "-3",
    }
    assert "negative" in first["reason"]
    assert main(["validate", str(DATA / "impossible_values.csv")]) == 1
    out = capsys.readouterr().out
    assert "5 rows, 1 accepted, 4 rejected" in out and "impossible_values.csv:4" in out


@pytest.mark.parametrize(
    "name", ["binary_garbage.csv", "latin1.csv", "empty.csv", "unknown_locus.csv"]
)
def test_validate__file_level_problem(capsys: pytest.CaptureFixture[str], name: str) -> None:
    doc = _json(capsys, ["validate", str(DATA / name), "--json"], 1)
    assert isinstance(doc, dict) and doc["rows"] == 0 and len(doc["rejected"]) == 1
    assert doc["rejected"][0]["reason"]


def test_validate__kit_option_and_kit_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = _json(capsys, ["validate", str(DATA / "not_in_kit.csv"), "-k", "yfiler", "--json"], 1)
    assert isinstance(doc, dict) and doc["rejected"][0]["locus"] == "DYS576"
    kit = tmp_path / "lab.toml"
    kit.write_text('[lab]\nloci = ["DYS19", "DYS576"]\n')
    doc = _json(capsys, ["validate", str(DATA / "not_in_kit.csv"), "-k", str(kit), "--json"], 0)
    assert isinstance(doc, dict) and doc["accepted"] == 2


@pytest.mark.parametrize("target", ["out.json", "out.gm.txt", "out.yhrd.tsv", "out.tsv"])
def test_convert__every_format(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, target: str
) -> None:
    src = EXAMPLES / "yfiler_plus.csv"
    out = tmp_path / target
    assert main(["convert", str(src), str(out)]) == 0
    assert (
        "30 of 30 specimens written" in capsys.readouterr().err
    )  # status on stderr (issue 14 item 8)
    back = read(out)
    orig = read(src)
    assert [dict(r.haplotype.alleles) for r in back.records] == [
        dict(r.haplotype.alleles) for r in orig.records
    ]


def test_convert__strict_fails_lenient_writes_rejects(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src = DATA / "impossible_values.csv"
    out, rejects = tmp_path / "o.json", tmp_path / "rej.csv"
    assert main(["convert", str(src), str(out)]) == 2
    assert "impossible_values.csv:2" in capsys.readouterr().err and not out.exists()
    doc = _json(
        capsys,
        ["convert", str(src), str(out), "--lenient", "--rejects", str(rejects), "--json"],
        0,
    )
    assert isinstance(doc, dict) and (doc["rows"], doc["written"]) == (5, 1)
    lines = rejects.read_text().splitlines()
    assert lines[0].startswith("file,line,column,specimen,locus,value,reason")
    assert len(lines) == 1 + 4
    assert [r.specimen for r in read(out).records] == ["OK1"]


def test_convert__bad_format_names(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert (
        main(["convert", str(EXAMPLES / "yfiler_plus.csv"), str(tmp_path / "x"), "--to", "xls"])
        == 2
    )
    assert "unknown format 'xls'" in capsys.readouterr().err


def test_convert__never_overwrites_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Class of defect (issue 14 item 8): writers that overwrite their input, fill an
    unknown extension with CSV text, or mix status lines into data on stdout."""
    src = tmp_path / "in.csv"
    src.write_bytes((EXAMPLES / "yfiler_plus.csv").read_bytes())
    before = src.read_bytes()
    assert main(["convert", str(src), str(src)]) == 2
    assert main(["convert", str(src), str(tmp_path / "." / "in.csv"), "--force"]) == 2
    assert src.read_bytes() == before
    assert "output is the input" in capsys.readouterr().err
    assert main(["convert", str(src), str(tmp_path / "out.xlsx")]) == 2
    assert "does not write .xlsx" in capsys.readouterr().err
    assert not (tmp_path / "out.xlsx").exists()
    out = tmp_path / "out.json"
    out.write_text("keep me")
    assert main(["convert", str(src), str(out)]) == 2
    assert out.read_text() == "keep me" and "--force" in capsys.readouterr().err
    assert main(["convert", str(src), str(out), "--force"]) == 0
    capsys.readouterr()
    assert main(["convert", str(src), "-"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("specimen,") and len(lines) == 31  # data only
    assert "specimens written" in captured.err
