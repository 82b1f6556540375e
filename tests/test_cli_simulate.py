"""The ``simulate`` and ``reach`` commands, run in-process through ``patriline.cli.main``."""

from __future__ import annotations

import json

import pytest

from patriline.cli import main


def test_simulate_cli__writes_files_same_seed_identical(tmp_path, capsys) -> None:
    args = ["simulate", "--males", "3000", "--generations", "20", "--kit", "yfiler_plus"]
    assert main([*args, "--seed", "1", "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--seed", "1", "--out", str(tmp_path / "b"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert doc["males_written"] == 3000
    for name in ("haplotypes.csv", "links.csv", "truth.npz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "provenance.json").exists()
    assert main([*args, "--seed", "2", "--out", str(tmp_path / "c")]) == 0
    assert (tmp_path / "a" / "haplotypes.csv").read_bytes() != (
        tmp_path / "c" / "haplotypes.csv"
    ).read_bytes()


def test_reach_cli__json_rows_and_plot(tmp_path, capsys) -> None:
    code = main(
        [
            "reach",
            "--males",
            "5000",
            "--generations",
            "30",
            "--growth",
            "0.02",
            "--growth-generations",
            "10",
            "--vrs",
            "0.2",
            "--kit",
            "yfiler_plus,ppy23",
            "--shares",
            "0.01,0.1",
            "--seed",
            "4",
            "--queries",
            "300",
            "--json",
            "--plot",
            str(tmp_path / "reach.png"),
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(r["kit"], r["share"]) for r in doc["rows"]] == [
        ("yfiler_plus", 0.01),
        ("yfiler_plus", 0.1),
        ("ppy23", 0.01),
        ("ppy23", 0.1),
    ]
    for r in doc["rows"]:
        assert 0 <= r["p_match"] <= 1
        assert r["mean_matching_men"] >= 0
    assert doc["rows"][1]["p_match"] > doc["rows"][0]["p_match"]
    assert doc["provenance"]["seed"] == 4
    assert (tmp_path / "reach.png").stat().st_size > 1000
    assert (tmp_path / "reach.svg").read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--males", "-5", "--generations", "3"], "--males must be at least 1"),
        (["simulate", "--males", "50", "--generations", "3", "--kit", "nokit"], "unknown kit"),
        (["reach", "--males", "50", "--generations", "3", "--shares", "1.5"], "share must be in"),
        (["reach", "--males", "50", "--generations", "3", "--shares", "x"], "--shares"),
        (
            [
                "reach",
                "--males",
                "50",
                "--generations",
                "3",
                "--growth",
                "2",
                "--growth-generations",
                "2",
            ],
            "--growth",
        ),
        (["reach", "--males", "50", "--generations", "3", "--vrs", "-1"], "--vrs"),
    ],
)
def test_cli__bad_input_clear_error(tmp_path, capsys, args: list[str], message: str) -> None:
    code = main(
        [*args, "--seed", "1", *(["--out", str(tmp_path / "o")] if args[0] == "simulate" else [])]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_reach_cli__traces_all_counts_stored_donors(capsys) -> None:
    """Exact identity (tests/test_simulate_reach.py): with donors among all living men,
    N·P_all = |db| + (N − |db|)·P_outside, so P_all > P_outside whenever P_outside < 1."""
    base = ["reach", "--males", "3000", "--generations", "20", "--vrs", "0.2"]
    base += ["--kit", "ppy23", "--shares", "0.1", "--seed", "3", "--queries", "200", "--json"]
    docs = {}
    for traces in ("outside", "all"):
        assert main([*base, "--traces", traces]) == 0
        docs[traces] = json.loads(capsys.readouterr().out)
    out, every = docs["outside"]["rows"][0], docs["all"]["rows"][0]
    n, d = 3000, every["database_size"]
    assert every["p_match"] == pytest.approx((d + (n - d) * out["p_match"]) / n, abs=1e-9)
    assert main([*base, "--traces", "some"]) == 2
    assert "traces must be one of" in capsys.readouterr().err
