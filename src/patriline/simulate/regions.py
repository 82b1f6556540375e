"""A country of regions: the region table, and which region each man lives in.

The table (CSV) has one row per region: ``region`` (a name), ``males`` (living men in
the final generation), optional ``growth`` (per generation; blank: the simulation's
``--growth``) and optional ``parent`` (the province the region belongs to, for
reporting). Shares files (``region,share``) give each region's database sampling rate.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from patriline.errors import InputError

__all__ = ["Region", "RegionMap", "read_regions", "read_shares"]


@dataclass(frozen=True)
class Region:
    """One row of the region table."""

    name: str
    males: int
    growth: float | None = None
    parent: str | None = None


def _open_rows(path: Path, required: tuple[str, ...]) -> tuple[list[str], list[list[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    rows = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{path}: empty file (expected a header {','.join(required)})")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            f"{path}, line 1: missing column(s) {', '.join(missing)} "
            f"(header is {','.join(rows[0])})"
        )
    return header, rows[1:]


def read_regions(path: str | Path) -> tuple[Region, ...]:
    """Read a region table; :class:`InputError` naming the file, line and value."""
    path = Path(path)
    header, rows = _open_rows(path, ("region", "males"))
    col = {h: i for i, h in enumerate(header)}
    out: list[Region] = []
    seen: set[str] = set()
    for n, row in enumerate(rows, start=2):
        cells = {h: (row[i].strip() if i < len(row) else "") for h, i in col.items()}
        name = cells["region"]
        where = f"{path}, line {n}"
        if not name:
            raise InputError(f"{where}: empty region name")
        if name in seen:
            raise InputError(f"{where}: region {name!r} appears twice")
        seen.add(name)
        try:
            males = int(cells["males"])
        except ValueError:
            raise InputError(f"{where}: males {cells['males']!r} is not a whole number") from None
        if males < 1:
            raise InputError(f"{where}: region {name!r} needs at least 1 living man (got {males})")
        growth: float | None = None
        if cells.get("growth"):
            try:
                growth = float(cells["growth"])
            except ValueError:
                raise InputError(f"{where}: growth {cells['growth']!r} is not a number") from None
            if not -1.0 < growth <= 1.0 or not math.isfinite(growth):
                raise InputError(f"{where}: growth must be in (-1, 1] (got {growth})")
        out.append(Region(name, males, growth, cells.get("parent") or None))
    if not out:
        raise InputError(f"{path}: no regions (one row per region after the header)")
    return tuple(out)


def read_shares(path: str | Path, regions: tuple[str, ...]) -> dict[str, float]:
    """Read ``region,share`` rows; every share in [0, 1], every region known.

    Regions left out of the file get share 0 (not sampled)."""
    path = Path(path)
    header, rows = _open_rows(path, ("region", "share"))
    ri, si = header.index("region"), header.index("share")
    known = set(regions)
    out: dict[str, float] = {}
    for n, row in enumerate(rows, start=2):
        where = f"{path}, line {n}"
        name = row[ri].strip() if ri < len(row) else ""
        text = row[si].strip() if si < len(row) else ""
        if name not in known:
            raise InputError(
                f"{where}: region {name!r} is not in the country "
                f"(regions: {', '.join(regions[:8])}{', ...' if len(regions) > 8 else ''})"
            )
        if name in out:
            raise InputError(f"{where}: region {name!r} appears twice")
        try:
            share = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
        except ValueError:
            raise InputError(f"{where}: share {text!r} is not a number") from None
        if not 0.0 <= share <= 1.0:
            raise InputError(f"{where}: share must be in [0, 1], e.g. 0.1 for 10% (got {text})")
        out[name] = share
    return {r: out.get(r, 0.0) for r in regions}


@dataclass(frozen=True)
class RegionMap:
    """Regions of a structured population: names, provinces, and where each region's
    men sit within each generation.

    ``bounds[g]`` holds ``R + 1`` ascending positions: region ``r``'s men of
    generation ``g`` are the generation's men ``bounds[g, r] .. bounds[g, r+1] - 1``
    (men are numbered generation by generation, region by region).
    """

    names: tuple[str, ...]
    parents: tuple[str | None, ...]
    bounds: np.ndarray

    def region_of(self, generation: np.ndarray, position: np.ndarray) -> np.ndarray:
        """Region index of men at ``position`` within their ``generation``."""
        out = np.empty(len(position), dtype=np.int64)
        for g in np.unique(generation).tolist():
            sel = generation == g
            out[sel] = np.searchsorted(self.bounds[g], position[sel], side="right") - 1
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "names": list(self.names),
            "parents": list(self.parents),
            "bounds": self.bounds.tolist(),
        }
