"""A read-only evidence copy (issue 14 item 9): an auditor reads it without changing it.

``info``, ``audit verify`` and ``audit show`` open a store read-only (``--read-only``, or
by themselves when the file or its folder is not writable): nothing is written, no
``-wal``/``-shm`` file appears beside it, and every other action is refused before
anything is computed (fail closed: no unaudited result can leak).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from patriline.casework import Session
from patriline.errors import AccessDenied
from patriline.store import Database
from plugins.postgres import records

TRACE = "DYS19=10,DYS390=20,DYS385=11,12"


def _copy(tmp_path: Path) -> Path:
    src = tmp_path / "live" / "s.db"
    src.parent.mkdir()
    with Database.create(str(src), "admin") as db:
        admin = Session(db, db.actor("admin"))
        admin.add_user("aud", "auditor")
        admin.add_user("ann", "analyst")
        admin.import_records(records(20), category="reference")
        Session(db, "ann").open_case("C1", purpose="p", legal_basis="l")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copy(src, evidence / "s.db")  # the file only, as an examiner copies it
    return evidence / "s.db"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_read_only__audit_reads_change_nothing(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    before = _digest(copy)
    with Session.open(str(copy), "aud", read_only=True) as aud:
        entries = aud.audit_entries()
        assert [e.action for e in entries].count("case_open") == 1
        assert aud.store.verify_audit().ok
        assert aud.store.info().specimens == 20
    assert _digest(copy) == before
    assert sorted(p.name for p in copy.parent.iterdir()) == ["s.db"]  # no -wal, no -shm


def test_read_only__everything_else_refused_before_computing(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    before = _digest(copy)
    with Session.open(str(copy), "ann", read_only=True) as ann:
        with pytest.raises(AccessDenied, match="needs a writable store"):
            ann.search("C1", TRACE)
        with pytest.raises(AccessDenied, match="read-only"):
            ann.open_case("C2", purpose="p", legal_basis="l")
        with pytest.raises(AccessDenied, match="read-only"):
            ann.store.append_audit(ann.entry("stats"))
    assert _digest(copy) == before


def _as_reader(cmd: list[str], copy: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI as an account that cannot write the copy: ``nobody`` when we are root
    (root ignores file modes), else this account after taking write access away."""
    exe = [sys.executable, "-m", "patriline.cli", *cmd]
    env = {**os.environ, "PATRILINE_USER": "aud", "HOME": str(copy.parent)}
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot drop write access")
        os.chown(copy, 65534, 65534)
        os.chmod(copy, 0o400)
        os.chmod(copy.parent, 0o755)
        for p in [copy.parent, *copy.parent.parents]:
            mode = p.stat().st_mode
            if not mode & stat.S_IXOTH:
                os.chmod(p, mode | stat.S_IXOTH)
        exe = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", *exe]
    else:
        os.chmod(copy, 0o400)
        os.chmod(copy.parent, 0o500)
    return subprocess.run(exe, capture_output=True, text=True, env=env, timeout=120, check=False)


def test_cli__auditor_reads_an_unwritable_copy(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    before = _digest(copy)
    try:
        info = _as_reader(["info", "--db", str(copy)], copy)
        assert info.returncode == 0, info.stderr
        assert "opened read-only" in info.stderr and "specimens: 20" in info.stdout
        verify = _as_reader(["audit", "verify", "--db", str(copy)], copy)
        assert verify.returncode == 0 and "chain intact" in verify.stdout, verify.stderr
        show = _as_reader(["audit", "show", "--db", str(copy), "--json"], copy)
        assert show.returncode == 0 and '"case_open"' in show.stdout, show.stderr
        search = _as_reader(
            ["search", "--db", str(copy), "--case", "C1", "--haplotype", TRACE], copy
        )
        assert search.returncode != 0 and "Traceback" not in search.stderr
        assert "S0" not in search.stdout  # fails closed: no result printed
    finally:
        os.chmod(copy.parent, 0o700)
    assert _digest(copy) == before
    assert sorted(p.name for p in copy.parent.iterdir()) == ["s.db"]
