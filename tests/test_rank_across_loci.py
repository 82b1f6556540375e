"""Ranking across different numbers of loci (issue 14 item 1; class: a score that grows
when fewer loci are compared).

The check is on a simulated population (``patriline.simulate``: Wright-Fisher with father
links, Yfiler Plus): a database of living men, a third of them truncated to the minimal
haplotype loci (as old population-table rows are); traces from other living men. For each
trace with a hit, the true closest relative (fewest meioses in the simulated pedigree) must
rank first at least as often with the population-model score as with the old score (the
numerator alone), and a truncated profile never outranks a full one with the same number
of mismatches.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from patriline.encoding import MISSING, Encoded, decode
from patriline.haplotype import Comparison, Haplotype, parse_haplotype_string
from patriline.search.index import SearchIndex
from patriline.search.rank import loci_warning, rank
from patriline.simulate import simulate
from patriline.simulate.config import SimConfig
from patriline.stats.allele_model import AlleleModel, default_allele_model

MHL = ("DYS19", "DYS389I", "DYS389II", "DYS390", "DYS391", "DYS392", "DYS393", "DYS385")


def test_rank__identical_full_profile_above_clean_partial_row() -> None:
    """The example of the issue: a 9-locus row with 0 mismatches ranked above a 17-locus
    identical profile."""
    full = parse_haplotype_string(
        "DYS19=14,DYS389I=13,DYS389II=29,DYS390=24,DYS391=11,DYS392=13,DYS393=13,"
        "DYS385=11,14,DYS438=12,DYS439=12,DYS437=15,DYS448=19,DYS456=15,DYS458=17,"
        "DYS635=23,YGATAH4=12"
    )
    partial = Haplotype({k: full[k] for k in MHL})
    ranked = rank(full, [("partial", partial), ("full", full)])
    assert [r.specimen for r in ranked] == ["full", "partial"]
    assert ranked[0].loci_compared == 17 and ranked[1].loci_compared == 9
    assert loci_warning(ranked) is not None
    assert loci_warning(ranked[:1]) is None


def test_allele_model__unseen_allele_is_never_zero_and_rare_weighs_more() -> None:
    model = default_allele_model()
    common, rare = model.frequency("DYS19", "14"), model.frequency("DYS19", "19")
    assert 0 < model.frequency("DYS19", "99") < rare < common < 1
    assert model.frequency("DYS449", "30") == pytest.approx(model.untabulated)
    assert 0.1 < model.untabulated < 0.6


class NumeratorOnly(AlleleModel):
    """The score before the fix: the numerator alone (no population term)."""

    def log_frequency(self, trace: Haplotype, comparison: Comparison) -> float:
        return 0.0


NUMERATOR_ONLY = NumeratorOnly({}, {}, "none")


@pytest.fixture(scope="module")
def population_fixture():  # type: ignore[no-untyped-def]
    cfg = SimConfig(males=3000, generations=40, vrs=0.2, kit="yfiler_plus", seed=11)
    return simulate(cfg)


def test_rank__simulated_truncated_profiles(population_fixture) -> None:  # type: ignore[no-untyped-def]
    pop = population_fixture
    living = pop.living
    rng = np.random.default_rng(5)
    db_ids = rng.choice(living, size=800, replace=False)
    rest = np.setdiff1d(living, db_ids)
    traces = rng.choice(rest, size=150, replace=False)
    enc = Encoded(pop.layout, np.array(pop.values_of(db_ids)))
    truncate = rng.random(len(db_ids)) < 1 / 3
    keep = {c for name in MHL for c in range(*_span(enc.layout, name))}
    for col in range(enc.values.shape[0]):
        if col not in keep:
            enc.values[col, truncate] = MISSING
    names = [f"{i:05d}" for i in range(len(db_ids))]
    index = SearchIndex.build(names, enc)
    trace_haps = decode(Encoded(pop.layout, np.array(pop.values_of(traces))))
    first_new = first_old = cases = violations = 0
    for t_id, trace in zip(traces.tolist(), trace_haps, strict=True):
        found = index.query(trace, max_mismatches=2, min_loci=9)
        hits = [(int(s), index.haplotype(s)) for s in found.ids]
        if not hits:
            continue
        meioses = {i: pop.meioses(int(t_id), int(db_ids[i])) for i, _ in hits}
        related = {i: m for i, m in meioses.items() if m is not None}
        if not related:
            continue
        best = min(related.values())
        cases += 1
        ranked = rank(trace, [(str(i), h) for i, h in hits])
        first_new += related.get(int(ranked[0].specimen), math.inf) == best
        old = rank(trace, [(str(i), h) for i, h in hits], population=NUMERATOR_ONLY)
        first_old += related.get(int(old[0].specimen), math.inf) == best
        # A truncated profile never outranks a full one with the same mismatches.
        for pos, r in enumerate(ranked):
            if truncate[int(r.specimen)] and any(
                not truncate[int(o.specimen)] and o.mismatches == r.mismatches
                for o in ranked[pos + 1 :]
            ):
                violations += 1
    print(f"cases {cases}: true closest first {first_new} (before {first_old})")
    assert cases >= 40, cases
    assert first_new >= first_old, (first_new, first_old, cases)
    assert violations == 0


def _span(layout, name):  # type: ignore[no-untyped-def]
    sl = layout.slice_of(name)
    return sl.start, sl.stop
