"""Acceptance: crash safety (SIGKILL mid-import) and two concurrent importers on SQLite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from patriline.casework import Session
from patriline.reference import default_catalog
from patriline.store import Database
from patriline.store import batches as importer


def _write_csv(path: Path, n: int, prefix: str, seed: int = 0) -> None:
    """``n`` random Yfiler Plus rows (values drawn inside each locus's observed range)."""
    cat = default_catalog()
    loci = [cat.locus(x) for x in cat.kit("yfiler_plus").loci]
    rng = np.random.default_rng(seed)
    cols = []
    for loc in loci:
        v = rng.integers(loc.allele_min + 1, loc.allele_max, size=(n, loc.copies))
        v.sort(axis=1)
        cols.append([",".join(map(str, r)) for r in v])
    with path.open("w") as fh:
        fh.write("specimen," + ",".join(x.name for x in loci) + "\n")
        for i in range(n):
            fh.write(f"{prefix}{i}," + ",".join(f'"{c[i]}"' for c in cols) + "\n")


CHILD = textwrap.dedent(
    """
    import sys
    import patriline.store.batches as importer
    from patriline.casework import Session
    from patriline.store import Database
    importer.CHUNK = 1000  # report progress often, so the kill lands mid-import
    importer.PG_BULK_FK = 1000  # PostgreSQL: killed while the batch's foreign keys are dropped
    db = Database.open(sys.argv[1])
    def progress(done, total):
        print("PROGRESS", done, total, flush=True)
    Session(db, db.actor("admin")).import_file(sys.argv[2], progress=progress)
    print("DONE", flush=True)
    """
)


def test_import_file__sigkill_mid_import_leaves_none_or_all(
    store_url_fixture: str, tmp_path: Path
) -> None:
    n = 8_000
    csv = tmp_path / "big.csv"
    _write_csv(csv, n, "K")
    Database.create(store_url_fixture, "admin").close()
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen(
        [sys.executable, str(script), store_url_fixture, str(csv)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("PROGRESS"), line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    with Database.open(store_url_fixture) as db:
        held = len(db.active_specimens())
        assert held in (0, n)
        assert held == 0  # killed at the first progress report: nothing was committed
        assert db.verify_audit().ok
        assert db.info().batches == 0
        if db.dialect == "postgresql":
            with db.engine.connect() as conn:
                fks = set(
                    conn.exec_driver_sql(
                        "SELECT conname FROM pg_constraint WHERE contype = 'f'"
                    ).scalars()
                )
            assert {fk[1] for fk in importer._BATCH_FKS} <= fks
        again = Session(db, db.actor("admin")).import_file(csv)
        assert again.added == n and db.verify_audit().ok


@pytest.mark.parametrize("timeout", ["30", "0.05"])
def test_import__two_processes_one_sqlite_file(tmp_path: Path, timeout: str) -> None:
    """Both imports succeed, or one fails with 'database busy, retry'; nothing half-written."""
    url = str(tmp_path / "shared.db")
    Database.create(url, "admin").close()
    files = []
    for k in range(2):
        f = tmp_path / f"f{k}.csv"
        _write_csv(f, 3000, f"P{k}_", seed=k)
        files.append(f)
    env = {**os.environ, "PATRILINE_BUSY_TIMEOUT": timeout}
    cmd = [
        sys.executable,
        "-m",
        "patriline.cli",
        "import",
        "--db",
        url,
        "--user",
        "admin",
        "--json",
    ]
    procs = [
        subprocess.Popen(
            [*cmd, str(f)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for f in files
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    ok = 0
    for p, (out, err) in zip(procs, outs, strict=True):
        if p.returncode == 0:
            assert json.loads(out)["added"] == 3000
            ok += 1
        else:
            assert p.returncode == 6 and "database busy, retry" in err, err
    assert ok >= 1
    with Database.open(url) as db:
        assert len(db.active_specimens()) == 3000 * ok
        assert db.info().batches == ok
        assert db.verify_audit().ok


def test_import_records__busy_sqlite_raises_database_busy(tmp_path: Path) -> None:
    from patriline.errors import DatabaseBusy
    from plugins.postgres import records

    url = str(tmp_path / "busy.db")
    holder = Database.create(url, "admin")
    other = Database.open(url, busy_timeout=0.1)
    admin = other.actor("admin")
    # another writer holds the lock
    with holder.write(), pytest.raises(DatabaseBusy, match="database busy, retry"):
        Session(other, admin).import_records(records(10))
    assert other.active_specimens() == [] and other.verify_audit().ok
    assert Session(other, other.actor("admin")).import_records(records(10)).added == 10
    holder.close()
    other.close()
