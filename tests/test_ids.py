"""The ID rule (``patriline.ids``): specimen and person IDs of 1-128 printable characters,
checked by every reader (row-wise, columnar, compiled), the link reader and the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patriline.casework import Session
from patriline.encoding import Layout
from patriline.errors import InputError
from patriline.ids import MAX_ID_LENGTH, id_problem
from patriline.io import ReadError, read, read_encoded
from patriline.pedigree.links_io import read_links
from patriline.store import Database
from plugins.postgres import record

LONG = "S" * (MAX_ID_LENGTH + 1)
BAD_IDS = [LONG, "A\tB", "A\x1bB", '"A\nB"']  # NUL in a CSV: a binary file (below)


def test_id_problem__limits() -> None:
    assert id_problem("S" * MAX_ID_LENGTH) is None
    assert id_problem("Müller-7 / 2024") is None
    assert "longer than 128" in (id_problem(LONG) or "")
    assert "control" in (id_problem("a\x00") or "")


def _csv(tmp_path: Path, specimen: str, person: str = "P1") -> Path:
    path = tmp_path / "ids.csv"
    rows = [
        "specimen,person,DYS19,DYS390",
        "A,P0,14,23",
        f"{specimen},{person},15,24",
        "C,P2,13,22",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("engine", ["python", "compiled"])
def test_read_encoded__bad_specimen_id_is_a_problem(tmp_path: Path, bad: str, engine: str) -> None:
    path = _csv(tmp_path, bad)
    got = read_encoded(path, Layout.universal(), strict=False, engine=engine)
    assert got.ids == ["A", "C"]
    (p,) = got.problems
    assert p.line == 3 and p.column == "specimen"
    assert "specimen ID" in p.reason
    assert read(path, strict=False).problems == got.problems
    with pytest.raises(ReadError) as info:
        read_encoded(path, Layout.universal(), engine=engine)
    message = str(info.value)
    assert message.startswith(f"{path}:3, column 'specimen', value ")
    assert len(message) < 400  # the value is cut in the message
    assert "\x00" not in message and "\n" not in message


def test_read__nul_in_csv_is_a_file_level_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="not a text file"):
        read(_csv(tmp_path, "A\x00B"), strict=False)


@pytest.mark.parametrize("engine", ["python", "compiled"])
def test_read_encoded__bad_person_id_is_a_problem(tmp_path: Path, engine: str) -> None:
    path = _csv(tmp_path, "B", person="P" * 200)
    got = read_encoded(path, Layout.universal(), strict=False, engine=engine)
    assert got.ids == ["A", "C"]
    (p,) = got.problems
    assert (p.line, p.column) == (3, "person") and "person ID longer than 128" in p.reason


def test_read_json__bad_specimen_id(tmp_path: Path) -> None:
    path = tmp_path / "ids.json"
    recs = [{"specimen": "A\x00", "alleles": {"DYS19": "14"}}, {"specimen": "B", "alleles": {}}]
    path.write_text(
        json.dumps({"format": "patriline-haplotypes", "version": 1, "records": recs}),
        encoding="utf-8",
    )
    got = read(path, strict=False)
    assert [r.specimen for r in got.records] == ["B"]
    assert "control" in got.problems[0].reason


def test_read_links__bad_person_id(tmp_path: Path) -> None:
    path = tmp_path / "links.csv"
    path.write_text(f"son,father\nA,B\n{LONG},B\n", encoding="utf-8")
    got = read_links(path, strict=False)
    assert [(x.son, x.father) for x in got.links] == [("A", "B")]
    (p,) = got.problems
    assert (p.line, p.column) == (3, "son") and "longer than 128" in p.reason


def test_import_records__store_refuses_bad_ids(store_fixture: Database) -> None:
    """Records built without a reader meet the same rule in the store API."""
    db = store_fixture
    admin = db.actor("admin")
    for bad in (LONG, "A\x00B"):
        with pytest.raises(InputError, match="specimen ID"):
            Session(db, admin).import_records([record(bad, "DYS19=14")])
    with pytest.raises(InputError, match="person ID"):
        Session(db, admin).import_records([record("B", "DYS19=14", person="P\x00")])
    assert db.active_specimens() == []
    summary = Session(db, admin).import_records([record("S" * MAX_ID_LENGTH, "DYS19=14")])
    assert summary.added == 1


def test_insert_links__store_refuses_bad_person_ids(store_fixture: Database) -> None:
    from patriline.store import Link

    db = store_fixture
    with pytest.raises(InputError, match=r"link father .*person ID holds a control"):
        Session(db, db.actor("admin")).insert_links([Link("A", "B\x00")], source="test")
    assert db.links() == []


def test_import_file__unknown_format_refused_and_audited(
    store_fixture: Database, tmp_path: Path
) -> None:
    db = store_fixture
    admin = db.actor("admin")
    path = _csv(tmp_path, "B")
    with pytest.raises(InputError, match=r"unknown format 'bogus'.*nothing was imported"):
        Session(db, admin).import_file(path, format="bogus")
    refused = Session(db, admin).audit_entries()[-1]
    assert refused.action == "import" and refused.result["added"] == 0
    assert "unknown format" in refused.result["error"]
