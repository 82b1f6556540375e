"""Paternal pedigrees: link readers, expansion around a hit, donor ranking, drawing.

See docs/pedigree.md. Drawing lives in :mod:`patriline.pedigree.draw` (imports
graphviz and matplotlib, so it is not imported here).
"""

from patriline.pedigree.donor import DonorConfig, DonorRanking, rank_donors
from patriline.pedigree.expand import Expansion, Member, expand_pedigree, lineage_members
from patriline.pedigree.links_io import LinkReadResult, read_links
from patriline.pedigree.model import Link, LinkConflict, Pedigree

__all__ = [
    "DonorConfig",
    "DonorRanking",
    "Expansion",
    "Link",
    "LinkConflict",
    "LinkReadResult",
    "Member",
    "Pedigree",
    "expand_pedigree",
    "lineage_members",
    "rank_donors",
    "read_links",
]
