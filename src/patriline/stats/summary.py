"""One call for every frequency estimate of a profile, as the CLI, service and report show it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from patriline.errors import InputError
from patriline.haplotype import Haplotype
from patriline.provenance import document
from patriline.stats.dlmix import (
    METHOD,
    DLMixFit,
    FitConfig,
    FitSelection,
    fit_range,
    withhold_disclosive,
)
from patriline.stats.frequency import count_matches, dlmix_frequency, kappa_estimate
from patriline.stats.reference_set import DesignMatrix, ReferenceSet, design_matrix, load_reference

__all__ = [
    "METHODS",
    "SHARED_ANCESTRY_WARNING",
    "fit_reference",
    "frequency_summary",
    "matching_men_summary",
]

METHODS = ("counting", "kappa", "dlmix")

SHARED_ANCESTRY_WARNING = (
    "A Y-STR haplotype is shared by paternal relatives: the men who carry this profile are "
    "mostly relatives of its donor, so a population frequency understates how many men share "
    "it and says nothing of who they are (Andersen & Balding 2017, PLoS Genet 13:e1007028). "
    "Report the number of matching men beside any frequency."
)


def matching_men_summary(
    query: Haplotype,
    population: Any = None,
    *,
    kit: str | None = None,
    n_samples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Expected number of men sharing a profile and how many meioses away they are.

    Uses :func:`patriline.simulate.matching_men` (Andersen & Balding 2017) on a simulated
    population (a :class:`patriline.simulate.Population` or a directory written by
    ``patriline simulate``), for the kit of the query's loci (the smallest catalog kit
    covering them unless ``kit`` is given). The figure is for a random man's profile under
    the simulated demography, not for this profile's own count. Without a population the
    result says plainly that the figure is not available.
    """
    if population is None:
        return {
            "available": False,
            "reason": "no simulated population given (use --population DIR from "
            "`patriline simulate`); the number of matching men needs a population model",
            "warning": SHARED_ANCESTRY_WARNING,
        }
    from patriline.reference import default_catalog
    from patriline.simulate import Population, load_population, matching_men

    pop = population if isinstance(population, Population) else load_population(population)
    if kit is None:
        found = default_catalog().kit_for_loci(query.alleles)
        if found is None:
            raise InputError(
                "no catalog kit covers the query's loci; give the kit for matching men"
            )
        kit = found.id
    result = matching_men(pop, kit, n_samples, seed)
    doc = result.to_dict()
    total = sum(result.meioses.values()) + result.unrelated
    within = {
        f"within_{m}": (
            sum(c for k, c in result.meioses.items() if k <= m) / total if total else None
        )
        for m in (2, 5, 10, 20)
    }
    return {
        "available": True,
        "expected_matching_men": result.mean,
        **doc,
        "share_of_matches": within,
        "population": pop.provenance,
        "warning": SHARED_ANCESTRY_WARNING,
    }


def frequency_summary(
    query: Haplotype,
    reference: Any,
    *,
    model: DLMixFit | None = None,
    methods: Sequence[str] = METHODS,
    level: float = 0.95,
    fit_clusters: Sequence[int] = range(1, 7),
    population: Any = None,
    kit: str | None = None,
) -> dict[str, Any]:
    """Frequency of ``query`` by each method, with intervals, notes and provenance.

    ``reference`` is anything :func:`load_reference` takes (a store is read through
    :func:`patriline.casework.statistics.frequency`). Without ``model`` the dlmix
    estimate fits a mixture on the fly (clusters chosen by BIC among ``fit_clusters``) on
    the query's loci. A method that cannot answer gives ``{"p": None, "reason": ...}``.
    ``population``/``kit`` feed :func:`matching_men_summary`.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"unknown method(s) {', '.join(unknown)} (choose from {METHODS})")
    ref: ReferenceSet = load_reference(reference)
    count = count_matches(query, ref, level)
    out: dict[str, Any] = {
        "haplotype": str(query),
        "loci": list(count.loci),
        "n": count.n,
        "count": count.count,
    }
    if count.ignored_loci:
        out["ignored_loci"] = list(count.ignored_loci)
    if "counting" in methods:
        out["counting"] = count.to_dict()
    if "kappa" in methods:
        out["kappa"] = kappa_estimate(query, ref, count.count).to_dict()
    if "dlmix" in methods:
        out["dlmix"] = _dlmix(query, ref, model, fit_clusters)
    out["matching_men"] = matching_men_summary(query, population, kit=kit)
    out["provenance"] = {"reference": ref.provenance} | document(
        "frequency",
        {"methods": list(methods), "level": level, "fit_clusters": list(fit_clusters)},
        inputs=_reference_inputs(ref),
        models={
            "dlmix": None if model is None else model.provenance.get("models", {}).get("dlmix")
        },
    )
    return out


def _dlmix(
    query: Haplotype, ref: ReferenceSet, model: DLMixFit | None, clusters: Sequence[int]
) -> dict[str, Any]:
    try:
        if model is None:
            loci = [n for n in query.alleles if n in ref.encoded.layout.loci]
            design = design_matrix(ref, loci)
            limit = len({tuple(r) for r in design.x.tolist()})
            chosen = [c for c in clusters if c <= limit] or [1]
            selection = fit_range(
                design.x, design.weights, chosen, design.columns, FitConfig(starts=1)
            )
            model = selection.best
            source = f"fitted now on {design.weights.sum():g} men ({design.dropped} dropped)"
        else:
            source = str(model.provenance.get("source", "given model"))
        res = dlmix_frequency(query, model)
        res["model"] = source
        return res
    except InputError as exc:
        return {"p": None, "reason": str(exc)}


def _reference_inputs(ref: ReferenceSet) -> dict[str, Any]:
    """The reference as a provenance document names it: the file (name, SHA-256) or the
    store's change sequence number."""
    prov = ref.provenance
    if prov.get("sha256"):
        name = Path(str(prov.get("source", ref.source))).name
        return {"files": [{"name": name, "sha256": prov["sha256"]}]}
    return {"store_change_seq": prov.get("store_change_seq"), "reference": ref.source}


def fit_reference(
    ref: ReferenceSet,
    design: DesignMatrix | None = None,
    clusters: Sequence[int] = range(1, 7),
    config: FitConfig | None = None,
) -> FitSelection:
    """Fit dlmix models to a reference (clusters by BIC), with provenance recorded.

    For a store read as a store-wide reference (``ref.store_wide``) the fits that would
    disclose fewer than ``k`` stored men are withheld (:func:`withhold_disclosive`).
    """
    design = design or design_matrix(ref)
    provenance = {
        "source": ref.source,
        "reference": ref.provenance,
        "inputs": _reference_inputs(ref),
        "men": float(design.weights.sum()),
        "rows_left_out": design.dropped,
        "left_out_reasons": design.dropped_reasons,
        "clusters_tried": list(clusters),
        "method": METHOD,
    }
    selection = fit_range(design.x, design.weights, clusters, design.columns, config, provenance)
    if ref.store_wide:  # published to users who may not search: k-anonymity
        selection = withhold_disclosive(selection, design.x, design.weights)
    return selection
