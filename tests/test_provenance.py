"""One provenance document for every product (issue 11 item 4), validated against the
packaged JSON schema (``patriline/provenance.schema.json``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from patriline import __version__
from patriline.encoding import Layout, encode
from patriline.pedigree.donor import DonorConfig
from patriline.pedigree.expand import expand_pedigree
from patriline.provenance import document, file_input, schema, validate
from patriline.search.api import SearchResult, _provenance
from patriline.search.index import SearchIndex
from patriline.search.rank import rank
from patriline.simulate import SimConfig, simulate
from patriline.simulate.output import write_population
from patriline.simulate.reach import reach
from patriline.stats.dlmix import fit, load_fit
from patriline.stats.mutation import StepwiseModel
from patriline.stats.reference_set import ReferenceSet
from patriline.stats.summary import fit_reference, frequency_summary
from patriline.testing import simulate_family


@pytest.fixture(scope="module")
def family() -> Any:
    return simulate_family(4, np.random.default_rng(7), kit="yfiler_plus", mean_sons=2.0)


@pytest.fixture(scope="module")
def population() -> Any:
    return simulate(SimConfig(males=400, generations=6, keep_generations=2, seed=5))


def _check(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    validate(doc)
    assert doc["kind"] == kind
    assert doc["software"] == {"name": "patriline", "version": __version__}
    assert doc["environment"]["packages"]["numpy"] == np.__version__
    return json.loads(json.dumps(doc, default=str))


def test_document__validates_and_the_schema_refuses_what_is_not_one() -> None:
    doc = document("search", {"max_mismatches": 1}, inputs={"store_change_seq": 3}, seed=None)
    _check(doc, "search")
    assert set(doc["environment"]["packages"]) >= {"numpy", "scipy", "numba", "sqlalchemy"}
    for broken in (
        {k: v for k, v in doc.items() if k != "environment"},
        doc | {"schema_version": 2},
        doc | {"kind": "horoscope"},
        doc | {"software": "patriline 0.1"},  # the old free-text form
        doc | {"created": "yesterday"},
        doc | {"inputs": {"files": [{"name": "a.csv", "sha256": "not-a-digest"}]}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)
    assert schema()["properties"]["schema_version"] == {"const": 1}


def test_file_input__names_a_file_by_its_digest(tmp_path: Path) -> None:
    p = tmp_path / "ref.csv"
    p.write_bytes(b"specimen,DYS19\nA,14\n")
    got = file_input(p)
    assert got == {
        "name": "ref.csv",
        "bytes": 20,
        "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
    }
    _check(document("import", {}, inputs={"files": [got]}), "import")


def test_search_result__engine_path_carries_the_document(family: Any) -> None:
    """SearchIndex + rank, no store: the ranking models describe themselves in it."""
    ids = family.persons
    idx = SearchIndex.build(ids, encode(family.haplotypes, Layout.universal()), seq=4)
    trace = family.haplotypes[3]
    hits = idx.query(trace, max_mismatches=2, min_loci=9)
    assert "M3" in hits.ids
    model = StepwiseModel(two_step_share=0.1, rate_uncertainty=False)
    ranked = rank(trace, [(s, idx.haplotype(s)) for s in hits.ids], model=model)
    query = {"haplotype": str(trace), "max_mismatches": 2, "max_steps": None, "min_loci": 9}
    prov = _provenance(idx, hits.plan, hits.candidates_checked, model, 1e-3)
    res = SearchResult(query, ranked, len(ranked), prov)
    doc = _check(res.to_dict()["provenance"], "search")
    assert doc["parameters"]["max_mismatches"] == 2 and doc["parameters"]["engine"] == hits.plan
    assert doc["inputs"]["store_change_seq"] == 4
    assert doc["models"]["mutation"] == model.describe()
    assert doc["models"]["reference"] == {"kind": "stated trace frequency", "value": 1e-3}
    assert doc["models"]["population"]["loci"] > 0
    assert doc["engine"] == hits.plan and doc["candidates_checked"] == hits.candidates_checked


def test_simulation__population_file_and_reach_carry_the_document(
    population: Any, tmp_path: Path
) -> None:
    doc = _check(population.provenance, "simulate")
    assert doc["seed"] == 5 and doc["parameters"]["males"] == 400
    assert doc["parameters"]["size_history"]["generations"] == 6
    assert doc["models"]["mutation"]["rates"]["sources"]
    write_population(population, tmp_path / "out")
    _check(json.loads((tmp_path / "out" / "provenance.json").read_text()), "simulate")
    res = reach(population, ["yfiler"], [0.2], n_queries=20, seed=3)
    doc = _check(res.to_dict()["provenance"], "reach")
    assert doc["seed"] == 3 and doc["parameters"]["kits"] == ["yfiler"]


def test_fit__dlmix_fit_and_its_saved_model_carry_the_document(family: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = np.vstack([rng.integers(10, 13, (30, 4)), rng.integers(14, 17, (30, 4))])
    f = fit(x, None, 2, ["A", "B", "C", "D"])
    doc = _check(f.provenance, "fit")
    assert doc["models"]["dlmix"]["clusters"] == 2 and doc["parameters"]["rows"] == 60
    assert doc["seed"] == 1 and doc["config"]["starts"] == doc["parameters"]["config"]["starts"]
    f.save(tmp_path / "m.json")
    _check(load_fit(tmp_path / "m.json").provenance, "fit")
    ref = ReferenceSet.from_haplotypes(family.haplotypes, family.persons, source="family")
    chosen = fit_reference(ref, clusters=[1, 2]).best
    doc = _check(chosen.provenance, "fit")
    assert doc["source"] == "family" and doc["inputs"]["reference"] == "family"


def test_frequency__summary_carries_the_document(family: Any) -> None:
    ref = ReferenceSet.from_haplotypes(family.haplotypes, family.persons, source="family")
    out = frequency_summary(family.haplotypes[0], ref, methods=["counting", "kappa"])
    doc = _check(out["provenance"], "frequency")
    assert doc["parameters"]["methods"] == ["counting", "kappa"]


def test_expansion__plain_pedigree_carries_the_document(family: Any) -> None:
    ped = family.pedigree()
    typed = {
        p: h
        for i, (p, h) in enumerate(zip(family.persons, family.haplotypes, strict=True))
        if i % 3
    }
    hit = next(p for p in family.persons[1:] if p in typed)
    cfg = DonorConfig(model=StepwiseModel(max_meioses=30))
    exp = expand_pedigree(ped, [hit], typed, generations=2, trace=family.haplotypes[0], config=cfg)
    doc = _check(exp.to_dict()["provenance"], "expansion")
    assert doc["parameters"] == {"hits": [hit], "generations": 2, "ranked": True}
    assert doc["models"]["mutation"] == cfg.model.describe()
    assert doc["models"]["donor_prior"] == exp.ranking.prior
    plain = expand_pedigree(ped, [hit], typed, generations=2)
    assert _check(plain.provenance, "expansion")["models"]["mutation"] is None
