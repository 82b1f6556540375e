"""Write ``src/patriline/reference/data/allele_frequencies.csv`` from a published table.

The population model of the search ranking (``patriline.stats.allele_model``) needs an
allele frequency per locus. This counts them in the worldwide PowerPlex Y23 data of Purps
et al. (2014), as published (``../shared/data/purps2014_ppy23.csv``: 19,630 men, 129
populations): per locus, how many men carry each allele; at a multi-copy locus, each copy
counts once (``11,14`` at DYS385 adds one to 11 and one to 14) and a cell with another
number of values counts as that whole allele string; ``0`` (null), microvariants
(``14.3``) and duplications at one-copy loci (``14,15``) are alleles of their own; empty
cells are not counted. The derived ``DYS389II.I`` column is skipped.

Run: ``.venv/bin/python scripts/allele_frequencies.py [SOURCE.csv]``.
"""

from __future__ import annotations

import collections
import csv
import sys
from pathlib import Path

from patriline.reference import default_catalog

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "purps2014_ppy23.csv"
TARGET = ROOT / "src" / "patriline" / "reference" / "data" / "allele_frequencies.csv"

HEADER = """\
# Y-STR allele counts per locus: the population model of the search ranking (a stated,
# per-locus model: P(trace on the compared loci | an unrelated man) = product of the
# trace's allele frequencies; docs/search.md). Written by scripts/allele_frequencies.py.
# Source: Purps J, Siegert S, Willuweit S, et al. (2014) A global analysis of Y-chromosomal
#   haplotype diversity for 23 STR loci. Forensic Sci Int Genet 12:12-23,
#   doi:10.1016/j.fsigen.2014.04.008; 19,630 men of 129 populations, PowerPlex Y23, as
#   published (GitHub mikldk/rare-haplotype, data/y23_2014-05-23.RData).
# Columns: locus (catalog name), allele (as typed: 0 = null, 14.3, 14,15 = duplication),
#   count (men, or copies at a multi-copy locus), total (counted men or copies at the locus).
"""


def main(source: Path = SOURCE) -> None:
    catalog = default_catalog()
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    with source.open(newline="") as fh:
        reader = csv.DictReader(fh)
        columns = {}
        for header in reader.fieldnames or []:
            try:
                ref = catalog.resolve_column(header)
            except Exception:
                continue
            if ref.kind == "allele":
                columns[header] = ref.locus
        for row in reader:
            for header, locus in columns.items():
                cell = row[header].strip()
                if not cell or cell.upper() == "NA":
                    continue
                values = [v.strip() for v in cell.split(",")]
                copies = catalog.locus(locus).copies
                if copies > 1 and len(values) == copies:
                    counts[locus].update(values)
                else:
                    counts[locus][cell] += 1
    with TARGET.open("w", newline="") as out:
        out.write(HEADER)
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["locus", "allele", "count", "total"])
        for locus in sorted(counts):
            total = sum(counts[locus].values())
            for allele, n in sorted(counts[locus].items()):
                w.writerow([locus, allele, n, total])
    print(f"wrote {TARGET} ({len(counts)} loci)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
