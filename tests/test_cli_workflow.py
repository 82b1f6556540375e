"""The workflow commands end to end on a SQLite store: close, approval requests, the
queue, transparency, one-time passwords, API tokens."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from patriline.cli import main
from patriline.haplotype import parse_haplotype_string
from patriline.io import write
from patriline.io.model import Record

TRACE = "DYS19=14,DYS389I=13,DYS389II=29,DYS390=24,DYS391=11,DYS392=13,DYS393=13,DYS437=15,DYS438=12,DYS439=12"


@pytest.fixture
def lab(tmp_path: Path) -> list[str]:
    db = str(tmp_path / "lab.db")
    assert main(["init", db, "--user", "admin"]) == 0
    for name, role in (("ana", "analyst"), ("sue", "supervisor"), ("sam", "supervisor")):
        assert main(["user", "add", name, "--role", role, "--db", db, "--user", "admin"]) == 0
    src = tmp_path / "ref.csv"
    brother = TRACE.replace("DYS391=11", "DYS391=12")
    write([Record("B1", parse_haplotype_string(brother), 2)], src, format="csv")
    assert main(["import", str(src), "--db", db, "--user", "admin", "--category", "reference"]) == 0
    return ["--db", db]


def test_approval_request_flow(lab: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["case", "open", "C1", "--purpose", "assault", "--legal-basis", "warrant 3",
                 *lab, "--user", "ana"]) == 0  # fmt: skip
    capsys.readouterr()
    # Without an approval the familial search is refused.
    assert main(["search", "--case", "C1", "--haplotype", TRACE, "--max-mismatches", "1",
                 *lab, "--user", "ana"]) != 0  # fmt: skip
    assert main(["approval", "request", "C1", "--haplotype", TRACE, "--max-mismatches", "1",
                 "--reason", "no exact hit", *lab, "--user", "ana"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    request_id = out.split()[2]
    assert "approval request" in out and "pending" in out
    # The analyst follows her own requests; supervisors see the ones they may decide.
    assert main(["approval", "queue", *lab, "--user", "ana"]) == 0
    mine = capsys.readouterr().out.strip().splitlines()[1].split("\t")
    assert (mine[0], mine[3], mine[4]) == (request_id, "pending", "ana")
    assert main(["approval", "queue", *lab, "--user", "sue"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert rows[0].startswith("id\tcase_id") and rows[1].split("\t")[:2] == [request_id, "C1"]
    assert main(["approval", "decide", request_id, "--approve", "--reason", "proportionate",
                 *lab, "--user", "sue"]) == 0  # fmt: skip
    assert "approved" in capsys.readouterr().out
    assert main(["search", "--case", "C1", "--haplotype", TRACE, "--max-mismatches", "1",
                 *lab, "--user", "ana"]) == 0  # fmt: skip
    assert "B1" in capsys.readouterr().out
    # Closed: reading only.
    assert main(["case", "close", "C1", "--reason", "charged", *lab, "--user", "ana"]) == 0
    capsys.readouterr()
    assert main(["search", "--case", "C1", "--haplotype", TRACE, *lab, "--user", "ana"]) != 0
    assert "closed" in capsys.readouterr().err
    # Transparency: counts, no names.
    assert main(["transparency", *lab, "--user", "sue"]) == 0
    text = capsys.readouterr().out
    assert "B1" not in text and "ana" not in text
    header, row = text.strip().splitlines()[:2]
    counts = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    assert counts["approval_requests"] == "1" and counts["cases_closed"] == "1"


def test_password_and_tokens(
    lab: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["user", "password", "ana", *lab, "--user", "admin"]) == 0
    out = capsys.readouterr()
    password = out.out.strip().rsplit(" ", 1)[1]
    assert len(password) >= 12 and "not shown again" in out.err
    assert main(["user", "password", "sue", *lab, "--user", "ana"]) != 0  # admins only
    capsys.readouterr()
    token_file = tmp_path / "ana.token"
    assert main(["token", "create", "--label", "laptop", "--scope", "search", "--out",
                 str(token_file), *lab, "--user", "ana"]) == 0  # fmt: skip
    secret = token_file.read_text().strip()
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    capsys.readouterr()
    assert main(["token", "list", *lab, "--user", "ana"]) == 0
    listing = capsys.readouterr().out
    assert "laptop" in listing and secret not in listing
    token_id = listing.strip().splitlines()[1].split("\t")[0]
    # An analyst cannot mint an admin token.
    assert main(["token", "create", "--label", "x", "--scope", "admin", *lab, "--user", "ana"]) != 0
    assert main(["token", "revoke", token_id, *lab, "--user", "ana"]) == 0
    capsys.readouterr()
    assert main(["token", "list", *lab, "--user", "ana"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[1].split("\t")[6] != ""  # revoked_at
