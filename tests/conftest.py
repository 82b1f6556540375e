"""Shared test set-up. Area fixtures live in tests/plugins/ (one module per concern)."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "plugins.haplotypes",
    "plugins.postgres",
    "plugins.search",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
