"""Start-up cost: the CLI registers its commands without loading the engines.

Correctness tests of what is imported (not timings: ``benchmarks/startup.py`` times it).
Each runs a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from patriline.store import Database, migrate

#: Heavy packages that only some commands need; none may load to show ``--help``.
HEAVY = ("numba", "scipy", "msprime", "matplotlib", "alembic", "pandas")


def _loaded_after(code: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after running ``code`` in a new interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_cli__loads_no_heavy_package() -> None:
    loaded = _loaded_after("import patriline.cli")
    assert "patriline" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_help__loads_no_heavy_package() -> None:
    loaded = _loaded_after(
        "from patriline.cli import main\nimport contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['--help']) == 0"
    )
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_info__opens_an_up_to_date_store_without_alembic(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    Database.create(store, "admin").close()
    loaded = _loaded_after(
        f"from patriline.cli import main\nimport contextlib, io\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['info', '--db', {str(store)!r}, '--user', 'admin']) == 0"
    )
    assert "sqlalchemy" in loaded  # the store was opened
    assert loaded.isdisjoint({"alembic", "scipy", "numba", "msprime", "matplotlib"})
    # Opening a store and counting its rows needs no matrix and no identity key.
    assert loaded.isdisjoint({"numpy", "cryptography"}), sorted(loaded & {"numpy", "cryptography"})


def test_head_revision__is_alembics_head() -> None:
    script = ScriptDirectory.from_config(migrate._config())
    assert migrate.head_revision() == script.get_current_head()


def test_current_revision__agrees_with_alembic(store_url_fixture: str) -> None:
    db = Database.create(store_url_fixture, "admin")
    try:
        with db.engine.connect() as conn:
            assert (
                migrate.current_revision(conn)
                == MigrationContext.configure(conn).get_current_revision()
            )
            assert migrate.current_revision(conn) == migrate.head_revision()
    finally:
        db.close()


def test_current_revision__none_on_a_database_without_a_store(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with engine.connect() as conn:
            assert migrate.current_revision(conn) is None
            assert MigrationContext.configure(conn).get_current_revision() is None
    finally:
        engine.dispose()
