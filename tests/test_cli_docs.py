"""docs/cli.md is generated from the live CLI's --help and must not drift from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_docs__match_live_help() -> None:
    """Regenerates from the live app; on failure run ``python scripts/gen_cli_docs.py``."""
    gen = _generator()
    text = gen.render()
    for command in ("kits", "validate", "convert"):
        assert f"## `patriline {command}`" in text
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == text, "docs/cli.md is out of date: run python scripts/gen_cli_docs.py"
