"""patriline: forensic male-lineage (Y-STR) databases.

Lineage search, pedigree expansion and donor ranking, match statistics, population
simulation and reach analysis -- with case binding, approvals, a hash-chained audit log
and expungement built in.
"""

from patriline._version import __version__
from patriline.haplotype import (
    Allele,
    AlleleKind,
    Comparison,
    Haplotype,
    Status,
    compare,
    parse_haplotype_string,
)
from patriline.reference import Catalog, Kit, Locus, default_catalog

__all__ = [
    "Allele",
    "AlleleKind",
    "Catalog",
    "Comparison",
    "Haplotype",
    "Kit",
    "Locus",
    "Status",
    "__version__",
    "compare",
    "default_catalog",
    "parse_haplotype_string",
]
