"""The search policy (``data/search_policy.toml``): floors, caps and approval terms.

Every value carries its source or justification in the file. :func:`search_policy`
returns the packaged policy (read once).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["SearchPolicy", "search_policy"]


@dataclass(frozen=True)
class SearchPolicy:
    """Limits of searches and familial approvals (see ``data/search_policy.toml``)."""

    loci_floor: int = 9
    kit_floor: dict[str, int] = field(default_factory=dict)
    max_exact_hits: int = 100
    max_top: int = 100
    approval_valid_days: int = 30
    approval_max_uses: int = 3
    pairs_max_uses: int = 1
    floor_source: str = ""

    def trace_floor(self, kit: str | None) -> int:
        """Fewest locus copies a trace of ``kit`` must have typed (never below the floor)."""
        key = (kit or "").strip().lower().replace(" ", "_")
        return max(self.loci_floor, self.kit_floor.get(key, self.loci_floor))


@functools.cache
def search_policy() -> SearchPolicy:
    """The packaged search policy."""
    text = (resources.files("patriline.reference") / "data" / "search_policy.toml").read_text(
        encoding="utf-8"
    )
    doc = tomllib.loads(text)
    loci, appr = doc["loci"], doc["approval"]
    return SearchPolicy(
        loci_floor=int(loci["floor"]),
        kit_floor={k: int(v) for k, v in loci.get("kit_floor", {}).items()},
        max_exact_hits=int(doc["exact"]["max_hits"]),
        max_top=int(doc["results"]["max_top"]),
        approval_valid_days=int(appr["valid_days"]),
        approval_max_uses=int(appr["max_uses"]),
        pairs_max_uses=int(appr["pairs_max_uses"]),
        floor_source=str(loci.get("floor_source", "")),
    )
