"""Which figure a case report takes as the trace frequency, and why.

A report shows every estimator of P(trace) side by side — counting (with its
Clopper-Pearson interval), Brenner's (2010) kappa and the discrete Laplace mixture
(Andersen, Eriksen & Morling 2013) — and uses one of them as the LR's denominator.
The choice follows the ISFG recommendations on Y-STR interpretation (Roewer et al.
2020, *FSI Genetics* 48:102308): a model-based estimate (discrete Laplace) is preferred
for a haplotype rare in the database, with the method and database stated.

One rule on top: **the figure used is never below what the reference itself shows**.
For a haplotype seen ``x`` times in ``n`` men the floor is ``x/n``; for one unseen it is
Brenner's ``(1 - kappa)/n``, or the 95 % counting upper bound when kappa = 1 (every
reference haplotype a singleton: kappa gives no estimate). A dlmix figure below the floor
is shown, not used (on a real 1,135-man Yfiler Plus reference, dlmix put haplotypes seen
twice at a median of 6e-15, about 1e11 below their observed frequency: issue 14 item 18).
Estimates that differ by more than the policy's factor (100x) are stated.

The policy is ``[reference_population]`` and ``[denominator]`` of
``reference/data/statistics_policy.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["Denominator", "ReferencePolicy", "choose_denominator", "reference_policy"]


@dataclass(frozen=True)
class ReferencePolicy:
    """Who counts as the reference population, and when estimates disagree."""

    categories: tuple[str, ...]
    related_generations: int
    disagreement_factor: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "related_generations": self.related_generations,
            "disagreement_factor": self.disagreement_factor,
            "source": self.source,
        }


@cache
def reference_policy() -> ReferencePolicy:
    """The policy of ``reference/data/statistics_policy.toml``."""
    path = resources.files("patriline.reference") / "data" / "statistics_policy.toml"
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    ref, den = doc["reference_population"], doc["denominator"]
    categories = tuple(str(c) for c in ref["categories"])
    generations = int(ref["related_generations"])
    factor = float(den["disagreement_factor"])
    if not categories or generations < 1 or factor <= 1:
        raise ValueError(f"{path}: categories, related_generations >= 1, factor > 1 required")
    return ReferencePolicy(
        categories, generations, factor, "patriline/reference/data/statistics_policy.toml"
    )


@dataclass(frozen=True)
class Denominator:
    """The figure used as P(trace), the floor the reference sets, and the reasons."""

    p: float
    method: str
    why: str
    floor: float
    floor_method: str
    disagreement: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "p": self.p,
            "method": self.method,
            "why": self.why,
            "floor": self.floor,
            "floor_method": self.floor_method,
            "disagreement": self.disagreement,
        }


def choose_denominator(freq: dict[str, Any], policy: ReferencePolicy | None = None) -> Denominator:
    """The denominator of a report from :func:`patriline.stats.summary.frequency_summary`
    output (its ``counting``, ``kappa`` and ``dlmix`` entries), by the module's rule."""
    policy = policy or reference_policy()
    counting, kappa = freq["counting"], freq.get("kappa") or {}
    dlmix = freq.get("dlmix") or {}
    x, n = int(freq["count"]), int(freq["n"])
    if x > 0:
        floor, floor_method = x / n, f"counting ({x}/{n})"
    elif kappa.get("p") is not None:
        floor = float(kappa["p"])
        floor_method = f"Brenner's kappa, unseen in {n} ((1 - κ)/n, κ = {kappa['kappa']:.3f})"
    else:
        floor = float(counting["ci"][1])
        floor_method = (
            f"counting upper bound (0/{n}, {counting['level']:.0%} Clopper-Pearson; "
            "κ gives no estimate)"
        )
    estimates = {
        "counting": x / n if x > 0 else None,
        "kappa": kappa.get("p"),
        "dlmix": dlmix.get("p"),
    }
    shown = {k: float(v) for k, v in estimates.items() if v is not None and v > 0}
    disagreement = None
    if len(shown) > 1:
        lo, hi = min(shown, key=shown.__getitem__), max(shown, key=shown.__getitem__)
        ratio = shown[hi] / shown[lo]
        if ratio > policy.disagreement_factor:
            disagreement = (
                f"the estimates disagree by a factor of {ratio:.3g} ({lo} {shown[lo]:.3g} vs "
                f"{hi} {shown[hi]:.3g}), more than {policy.disagreement_factor:g}x: the "
                "population model and the reference do not agree on this haplotype"
            )
    d = dlmix.get("p")
    if d is not None and d > 0:
        if d >= floor:
            return Denominator(
                float(d),
                "dlmix",
                "discrete Laplace (ISFG 2020: a model-based estimate for a haplotype rare in "
                f"the database); not below the reference's {floor_method} = {floor:.3g}",
                floor,
                floor_method,
                disagreement,
            )
        why = (
            f"dlmix's {d:.3g} lies below what the reference itself shows ({floor_method} = "
            f"{floor:.3g}); an estimate is never used below that, so the floor is used"
        )
        return Denominator(floor, floor_method, why, floor, floor_method, disagreement)
    reason = dlmix.get("reason") or "no discrete Laplace estimate"
    return Denominator(
        floor, floor_method, f"{reason}; the reference's own figure is used", floor,
        floor_method, disagreement,
    )  # fmt: skip
