"""Exposure report for an existing store: how many men outside it each stored lineage
is expected to expose (``patriline reach --db``), for oversight bodies.

A *lineage* here is a distinct profile on the kit's loci among the stored men fully
typed for that kit. A lineage seen ``c`` times in a store holding a share ``p`` of the
country's men has ``S >= c`` carriers in the country. With a prior ``pi(s)`` on the
number of carriers of a profile, taken from a simulated country (the distribution of
class sizes of identical profiles, as in Andersen & Balding 2017) and binomial sampling
into the store, ``P(S = s | c) ∝ pi(s) Binom(c; s, p)``; the report gives ``E[S - c | c]``
(men outside the store sharing the profile) and ``P(S > c | c)``. Only aggregates by
``c`` are reported: no profile or specimen leaves the store; from a store
(:func:`patriline.casework.statistics.exposure`), rows of fewer than k lineages are
pooled (:func:`pool_rows`) and a store below the policy's minimum size is refused
(:mod:`patriline.stats.disclosure`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from patriline.encoding import Encoded
from patriline.errors import InputError
from patriline.simulate.population import Population, provenance
from patriline.simulate.reach import KitView, haplotype_classes, kit_view

__all__ = ["ExposureReport", "ExposureRow", "exposure", "pool_rows"]


@dataclass(frozen=True)
class ExposureRow:
    """Lineages seen ``stored_men`` times: how many, and what each exposes."""

    stored_men: int
    lineages: int
    expected_outside_per_lineage: float
    p_any_outside: float
    expected_outside_total: float
    #: For a pooled row (lineages of ``stored_men`` to ``stored_men_max`` stored men,
    #: pooled so that no row describes fewer than k lineages): the largest count.
    stored_men_max: int | None = None


@dataclass
class ExposureReport:
    kit: str
    country_males: int
    stored_typed: int
    stored_not_fully_typed: int
    share: float
    rows: list[ExposureRow]
    provenance: dict[str, Any]

    @property
    def expected_outside_total(self) -> float:
        return float(sum(r.expected_outside_total for r in self.rows))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["expected_outside_total"] = self.expected_outside_total
        return d

    def table(self) -> str:
        lines = [
            f"kit {self.kit}: {self.stored_typed} stored men fully typed "
            f"({self.stored_not_fully_typed} not), share {self.share:.2%} of "
            f"{self.country_males} men",
            f"{'stored men':>10} {'lineages':>9} {'E[outside]/lineage':>19} "
            f"{'P(any outside)':>15} {'E[outside] total':>17}",
        ]
        for r in self.rows:
            men = str(r.stored_men)
            if r.stored_men_max is not None and r.stored_men_max != r.stored_men:
                men = f"{r.stored_men}-{r.stored_men_max}"
            lines.append(
                f"{men:>10} {r.lineages:>9} {r.expected_outside_per_lineage:>19.2f} "
                f"{r.p_any_outside:>15.1%} {r.expected_outside_total:>17.1f}"
            )
        lines.append(f"expected men outside the store exposed: {self.expected_outside_total:.0f}")
        return "\n".join(lines)


def exposure(stored: Encoded, kit: str, country: Population) -> ExposureReport:
    """Exposure of the stored profiles ``stored`` (one row per man) for ``kit``, with the
    prior on carriers per profile from the simulated ``country`` (its living men)."""
    view = kit_view(country, kit)
    loci = _kit_loci(country, view)
    layout = stored.layout
    lacking = [n for n in loci if n not in layout.loci]
    if lacking:
        raise InputError(f"the store's layout lacks loci of kit {view.kit}: {', '.join(lacking)}")
    cols = [c for n in loci for c in range(layout.slice_of(n).start, layout.slice_of(n).stop)]
    values = stored.values[cols]
    typed = (values >= 0).all(axis=0)
    n_typed = int(typed.sum())
    m = int(country.sizes[-1])
    if n_typed > m:
        raise InputError(
            f"{n_typed} stored men typed for {view.kit} but the country has only {m} men "
            "(simulate a larger --males)"
        )
    p = n_typed / m
    if n_typed:
        own = KitView(view.kit, np.arange(len(cols)), view.starts, view.copies)
        c_per_lineage = np.bincount(haplotype_classes(values[:, typed], own))
    else:
        c_per_lineage = np.zeros(0, dtype=np.int64)
    sizes = np.bincount(haplotype_classes(country.encoded().values, view))
    classes_of_size = np.bincount(sizes)  # classes_of_size[s] = classes with s carriers
    s = np.arange(len(classes_of_size))
    rows = []
    for c in sorted(set(c_per_lineage.tolist())):
        k = int((c_per_lineage == c).sum())
        w = classes_of_size * stats.binom.pmf(c, s, p)
        if w.sum() <= 0:  # more carriers than any simulated class: use the count itself
            outside, p_any = c * (1 - p) / p if p else 0.0, 1.0
        else:
            post = w / w.sum()
            outside = float((post * (s - c)).sum())
            p_any = float(post[s > c].sum())
        rows.append(ExposureRow(c, k, outside, p_any, outside * k))
    params = {
        "kit": view.kit,
        "country": country.config.to_dict(),
        "stored_typed": n_typed,
    }
    return ExposureReport(
        view.kit,
        m,
        n_typed,
        int((~typed).sum()),
        p,
        rows,
        provenance("exposure", params, country.config.seed),
    )


def pool_rows(rows: list[ExposureRow], k: int) -> list[ExposureRow]:
    """Pool neighbouring rows (from the largest ``stored_men`` down) until each describes at
    least ``k`` lineages, so no row tells the size of one family; totals are kept."""
    out: list[list[ExposureRow]] = []
    bucket: list[ExposureRow] = []
    for r in sorted(rows, key=lambda r: -r.stored_men):
        bucket.append(r)
        if sum(b.lineages for b in bucket) >= k:
            out.append(bucket)
            bucket = []
    if bucket:
        if out:
            out[-1].extend(bucket)
        else:
            out.append(bucket)
    pooled = []
    for group in reversed(out):
        if len(group) == 1:
            pooled.append(group[0])
            continue
        lineages = sum(r.lineages for r in group)
        total = sum(r.expected_outside_total for r in group)
        pooled.append(
            ExposureRow(
                min(r.stored_men for r in group),
                lineages,
                total / lineages,
                sum(r.p_any_outside * r.lineages for r in group) / lineages,
                total,
                max(r.stored_men for r in group),
            )
        )
    return pooled


def _kit_loci(country: Population, view: KitView) -> tuple[str, ...]:
    """The kit's loci in the country's layout order (catalog order)."""
    starts = set(view.columns.tolist())
    return tuple(n for n in country.layout.loci if country.layout.slice_of(n).start in starts)
