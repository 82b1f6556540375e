"""Founder haplotypes at mutation-drift balance: a haploid coalescent with ``msprime.SMM``.

The founders' genealogy is one coalescent tree (msprime ``sim_ancestry``, ploidy 1,
no recombination: the Y is one locus), simulated once at the founders' effective size
``N0 / (1 + vrs)``. Every locus copy is a replicate of ``sim_mutations`` on that same
tree with ``msprime.SMM`` (Ohta & Kimura 1973 stepwise model) at the copy's rate, so that
the founders share one genealogy across loci, as real Y chromosomes do. Only founders
with descendants in the kept generations are simulated: the coalescent is consistent
under sub-sampling, so their genealogy is exactly the marginal of the full one.

References
----------
Kelleher J, Etheridge AM, McVean G (2016). Efficient coalescent simulation and
genealogical analysis for large sample sizes. PLoS Comput Biol 12:e1004842.
Baumdicker F et al. (2022). Efficient ancestry and mutation simulation with msprime 1.0.
Genetics 220:iyab229.
"""

from __future__ import annotations

import msprime
import numpy as np
import tskit

from patriline.encoding import Layout
from patriline.reference import Catalog
from patriline.simulate._kernels import node_states

__all__ = ["founder_values", "midpoint"]


def midpoint(catalog: Catalog, locus: str) -> int:
    """The root (ancestral) allele of a locus, in repeats: the middle of its catalog range."""
    loc = catalog.locus(locus)
    return (loc.allele_min + loc.allele_max) // 2


def founder_values(
    layout: Layout,
    catalog: Catalog,
    n: int,
    effective_size: float,
    seed: int,
    mode: str = "msprime",
) -> np.ndarray:
    """Haplotypes of ``n`` founders as ``int16`` tenths, shape ``(n_columns, n)``.

    Copies of a multi-copy locus are independent replicates, stored sorted.
    """
    out = np.empty((layout.n_columns, n), dtype=np.int16)
    if n == 0:
        return out
    if mode == "monomorphic":
        for c, (name, _) in enumerate(layout.columns):
            out[c] = midpoint(catalog, name) * 10
        return out
    seeds = np.random.SeedSequence(seed).generate_state(layout.n_columns + 1)
    if n == 1:
        for c, (name, _) in enumerate(layout.columns):
            out[c] = midpoint(catalog, name) * 10
        return out
    ts = msprime.sim_ancestry(
        samples=n,
        ploidy=1,
        population_size=max(effective_size, 1.0),
        sequence_length=1,
        random_seed=int(seeds[0]),
    )
    parent = ts.first().parent_array[:-1].astype(np.int64)
    d389 = layout.dys389
    for c, (name, _) in enumerate(layout.columns):
        loc = catalog.locus(name)
        rate = loc.copy_rate
        if d389 is not None and c == d389[1]:  # the II - I segment (see column_rates)
            rate = max(rate - catalog.locus("DYS389I").copy_rate, 0.0)
        lo, hi = loc.allele_min, loc.allele_max
        root = midpoint(catalog, name)
        dist = np.zeros(hi - lo + 1)
        dist[root - lo] = 1.0
        model = msprime.SMM(lo=lo, hi=hi, root_distribution=dist)
        mts = msprime.sim_mutations(
            ts,
            rate=rate,
            model=model,
            discrete_genome=True,
            random_seed=int(seeds[c + 1]),
        )
        tables = mts.tables
        states = tskit.unpack_strings(
            tables.mutations.derived_state, tables.mutations.derived_state_offset
        )
        mut_state = np.array(states, dtype=np.int64) if states else np.zeros(0, np.int64)
        mut_node = tables.mutations.node.astype(np.int64)
        state = node_states(parent, mut_node, mut_state, root)
        out[c] = state[:n] * 10
    if d389 is not None:  # DYS389II = DYS389I + segment
        out[d389[1]] += out[d389[0]] - midpoint(catalog, "DYS389I") * 10
    for name in layout.loci:
        sl = layout.slice_of(name)
        if sl.stop - sl.start > 1:
            out[sl] = np.sort(out[sl], axis=0)
    return out
