"""Shared by the search-through-the-store tests: a base profile and a per-test index folder."""

from __future__ import annotations

from pathlib import Path

import pytest

BASE = {
    "DYS19": "14", "DYS389I": "13", "DYS389II": "29", "DYS390": "24", "DYS391": "11",
    "DYS392": "13", "DYS393": "13", "DYS385": "11,14", "DYS438": "12", "DYS439": "12",
    "DYS437": "15", "DYS448": "19", "DYS456": "15", "DYS458": "17", "DYS635": "23",
    "YGATAH4": "12",
}  # fmt: skip


def profile(**changes: str) -> str:
    """The base profile with some alleles changed, as a haplotype string."""
    return ";".join(f"{k}={v}" for k, v in {**BASE, **changes}.items())


FATHER = profile()


@pytest.fixture
def index_dir_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Indexes of server databases go under the test's folder, not the home cache."""
    path = tmp_path / "indexes"
    monkeypatch.setenv("PATRILINE_INDEX_DIR", str(path))
    return path
