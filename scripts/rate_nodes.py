"""Write ``src/patriline/reference/data/rate_nodes.json``: the Beta-posterior quantile
nodes of every catalog locus's mutation rate at the search's default node count.

Each entry is ``scipy.special.betaincinv(k + 1/2, n - k + 1/2, (i + 1/2) / q)`` for the
father-son counts ``k`` of ``n`` meioses the catalog gives (Jeffreys prior), exactly as
:func:`patriline.stats.mutation._rate_nodes` computes them; the table only spares a
command-line search the import of SciPy. ``tests/test_mutation.py`` checks every entry
against SciPy. Run: ``python scripts/rate_nodes.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from patriline.reference import default_catalog
from patriline.stats.mutation import StepwiseModel, _beta_nodes, _rate_counts

OUT = Path(__file__).resolve().parents[1] / "src/patriline/reference/data/rate_nodes.json"


def main() -> None:
    q = StepwiseModel().quantile_nodes
    catalog = default_catalog()
    table: dict[str, list[float]] = {}
    for name in catalog.all_loci:
        locus = catalog.locus(name)
        for segment in (False, True) if name == "DYS389II" else (False,):
            k, n = _rate_counts(locus, segment)
            table[f"{k!r},{n!r},{q}"] = list(_beta_nodes(k, n, q, table=False))
    doc = {
        "source": "scipy.special.betaincinv(k + 0.5, n - k + 0.5, (i + 0.5) / q) of the "
        "catalog's father-son counts (scripts/rate_nodes.py)",
        "nodes": table,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"{len(table)} entries written to {OUT}")


if __name__ == "__main__":
    main()
