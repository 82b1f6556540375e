"""Shared edge-case fixtures: partial profiles, multi-copy, intermediate, null alleles."""

from __future__ import annotations

from pathlib import Path

import pytest

from patriline.haplotype import Haplotype, parse_haplotype_string
from patriline.reference import Catalog, default_catalog

SHARED = Path(__file__).resolve().parents[3] / "shared"
DANES = SHARED / "data" / "danes_ystr.csv"


@pytest.fixture(scope="session")
def catalog_fixture() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="session")
def edge_haplotypes_fixture() -> dict[str, Haplotype]:
    """Named profiles covering every allele kind."""
    return {
        "full": parse_haplotype_string(
            "DYS19=14,DYS389I=13,DYS389II=29,DYS390=24,DYS391=11,DYS392=13,DYS393=13,"
            "DYS385=11,14,DYS437=15,DYS438=12,DYS439=12",
            kit="swgdam" if False else None,
        ),
        "partial": parse_haplotype_string("DYS19=14,DYS390=24,DYS391=11"),
        "intermediate": parse_haplotype_string("DYS458=15.2,DYS385=11,13.2"),
        "null": parse_haplotype_string("DYS19=14,DYS392=null"),
        "off_ladder": parse_haplotype_string("DYS19=OL,DYS390=24"),
        "duplication": parse_haplotype_string("DYS19=14,15,DYS390=24"),
        "multi_copy_equal": parse_haplotype_string("DYS385=11,DYF387S1=35,37"),
    }


@pytest.fixture(scope="session")
def danes_path_fixture() -> Path:
    if not DANES.exists():
        pytest.skip(f"shared data not found at {DANES}")
    return DANES
