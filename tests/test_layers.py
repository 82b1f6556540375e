"""The layer contracts (issue 11 item 2, docs/architecture.md "Layers and contracts").

Only casework authorizes and audits; the import contracts of ``[tool.importlinter]`` in
pyproject.toml hold (``lint-imports``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "patriline"
CALL = re.compile(r"\.authorize\(|\.audit\(|\bauthorize\(|\baudit\(")
# Where authorize/audit may be called: the application layer, and the store's own
# audit-chain primitives.
ALLOWED = ("casework/", "store/audit.py")


def _calls() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(ALLOWED):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if CALL.search(code) and not code.lstrip().startswith("def "):
                found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_grep__finds_a_call_outside_casework(tmp_path: Path) -> None:
    """The pattern itself: each spelling of a call is found, a definition is not."""
    hits = [
        s
        for s in ("db.authorize(a, 'x')", "self.audit(a, 'x')", "authorize(s, c)", "audit(x)")
        if CALL.search(s)
    ]
    assert len(hits) == 4
    assert not CALL.search("db.audit_entries(a)") and not CALL.search("unaudited(x)")


def test_layers__only_casework_authorizes_and_audits() -> None:
    calls = _calls()
    assert not calls, "authorize/audit called outside casework:\n" + "\n".join(calls)


def test_layers__import_contracts_hold() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.fail("lint-imports is not installed (the dev dependency group pins import-linter)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [exe, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
