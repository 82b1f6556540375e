"""Every file patriline writes that holds profiles or identities is created 0600 (its
directories 0700), whatever the umask: the SQLite store and its -wal/-shm, reject lists,
converted files, reports, fits, simulated populations and identity key files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from patriline._files import private_dir, private_open, write_private
from patriline.casework import Session
from patriline.cli import main
from patriline.store import Database

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DATA = Path(__file__).parent / "data" / "io"
TRACE = (
    "DYS19=14,DYS389I=13,DYS389II=29,DYS390=24,DYS391=11,DYS392=13,DYS393=13,"
    "DYS437=15,DYS438=12,DYS439=12"
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture(autouse=True)
def umask_fixture() -> Iterator[None]:
    """The usual umask 022 (files 0644, directories 0755 unless the writer says otherwise)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_open__new_and_existing_files_are_0600(tmp_path: Path) -> None:
    new = tmp_path / "new.csv"
    with private_open(new, "w", encoding="utf-8") as fh:
        fh.write("x\n")
    assert _mode(new) == 0o600
    old = tmp_path / "old.csv"
    old.write_text("public\n")
    assert _mode(old) == 0o644
    write_private(old, "secret\n")
    assert _mode(old) == 0o600 and old.read_text() == "secret\n"
    d = private_dir(tmp_path / "a" / "b")
    assert _mode(tmp_path / "a") == 0o700 and _mode(d) == 0o700


def test_sqlite_store__file_wal_and_shm_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "new" / "store.db"
    with Database.create(str(path), "alice") as db:
        Session(db, db.actor("alice")).import_file(EXAMPLES / "yfiler_plus.csv")
        sidecars = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
        assert all(p.exists() for p in sidecars)
        assert [_mode(p) for p in (path, *sidecars)] == [0o600, 0o600, 0o600]
    assert _mode(path.parent) == 0o700


def test_sqlite_store__open_takes_other_access_away(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    Database.create(str(path), "alice").close()
    os.chmod(path, 0o644)  # a store written by an older version
    with Database.open(str(path)) as db:
        assert db.info().specimens == 0
        assert _mode(path) == 0o600
        assert _mode(path.with_name("store.db-wal")) == 0o600


def test_import_rejects__file_is_0600(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    rejects = tmp_path / "rej.csv"
    assert main(["init", str(db), "--user", "alice"]) == 0
    src = DATA / "impossible_values.csv"
    code = main(
        [
            "import",
            str(src),
            "--db",
            str(db),
            "--user",
            "alice",
            "--lenient",
            "--rejects",
            str(rejects),
        ]
    )
    assert code == 0, capsys.readouterr()
    assert rejects.read_text().count("\n") > 1
    assert _mode(rejects) == 0o600


@pytest.mark.parametrize("target", ["out.json", "out.gm.txt", "out.yhrd.tsv", "out.csv"])
def test_convert__output_and_rejects_are_0600(tmp_path: Path, target: str) -> None:
    out, rejects = tmp_path / target, tmp_path / "rej.csv"
    assert main(["convert", str(EXAMPLES / "yfiler_plus.csv"), str(out)]) == 0
    assert _mode(out) == 0o600
    src = DATA / "impossible_values.csv"
    assert (
        main(["convert", str(src), str(out), "--lenient", "--rejects", str(rejects), "--force"])
        == 0
    )
    assert _mode(out) == 0o600 and _mode(rejects) == 0o600


def test_simulate__directory_0700_files_0600(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    args = ["simulate", "--males", "300", "--generations", "5", "--kit", "yfiler_plus"]
    assert main([*args, "--seed", "1", "--out", str(out)]) == 0
    assert _mode(out) == 0o700
    files = sorted(p.name for p in out.iterdir())
    assert {"haplotypes.csv", "links.csv", "males.csv", "truth.npz"} <= set(files)
    assert {p.name: _mode(p) for p in out.iterdir()} == dict.fromkeys(files, 0o600)


def test_fit_model_and_report__are_0600(tmp_path: Path) -> None:
    db_path = tmp_path / "store.db"
    ref = tmp_path / "ref.csv"
    lines = ["specimen,DYS19,DYS389I,DYS389II,DYS390,DYS391,DYS392,DYS393,DYS437,DYS438,DYS439"]
    vals = [v.split("=")[1] for v in TRACE.split(",")]
    for i in range(30):
        row = list(vals)
        row[0], row[3] = str(13 + i % 4), str(22 + i % 5)
        lines.append(f"S{i}," + ",".join(row))
    ref.write_text("\n".join(lines) + "\n")
    with Database.create(str(db_path), "alice") as db:
        actor = db.actor("alice")
        Session(db, actor).import_file(ref, category="reference")
        Session(db, actor).open_case("C1", purpose="test", legal_basis="test")
    out = tmp_path / "report.html"
    # A report reads only hits of the case's audited searches: search first.
    assert main(["search", "--db", str(db_path), "--user", "alice", "--case", "C1",
                 "--haplotype", TRACE]) == 0  # fmt: skip
    report = ["report", "--db", str(db_path), "--user", "alice", "--case", "C1"]
    # S17 carries TRACE exactly (DYS19 13 + 17 % 4 = 14, DYS390 22 + 17 % 5 = 24): a hit.
    assert main([*report, "--specimen", "S17", "--haplotype", TRACE, "--out", str(out)]) == 0
    assert _mode(out) == 0o600
    model = tmp_path / "model.json"
    fit = ["fit", str(ref), "--clusters", "2", "--starts", "1", "--out", str(model)]
    assert main(fit) == 0
    assert _mode(model) == 0o600


def test_identity_new_key__out_file_is_0600_and_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "id.key"
    assert main(["identity", "new-key", "--out", str(key)]) == 0
    assert _mode(key) == 0o600
    text = key.read_text()
    assert len(text.strip()) == 44 and text.strip() not in capsys.readouterr().out
    assert main(["identity", "new-key", "--out", str(key)]) == 2
    assert "file exists" in capsys.readouterr().err
    assert key.read_text() == text
