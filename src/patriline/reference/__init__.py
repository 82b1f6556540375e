"""Reference data: Y-STR loci, kits and mutation rates, each value with its source."""

from patriline.reference.catalog import (
    BALLANTYNE_2010_MEIOSES_PER_MARKER,
    Catalog,
    ColumnRef,
    Kit,
    Locus,
    UnknownKitError,
    UnknownLocusError,
    default_catalog,
    normalize_name,
)

__all__ = [
    "BALLANTYNE_2010_MEIOSES_PER_MARKER",
    "Catalog",
    "ColumnRef",
    "Kit",
    "Locus",
    "UnknownKitError",
    "UnknownLocusError",
    "default_catalog",
    "normalize_name",
]
