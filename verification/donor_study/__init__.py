"""The donor-ranking acceptance study (issue 7): a research harness, not the product.

It runs the real components (search, expansion, donor ranking) on simulated
populations; see :mod:`.study`. Kept outside the package, as msprime keeps its
``verification.py``: the library holds the product only.
"""

from .metrics import OUTCOMES, Summary, Trial, top_k_share
from .setup import Scenario, StudyConfig, StudySetup, scaled_catalog
from .study import HIT_RULES, Study

__all__ = [
    "HIT_RULES",
    "OUTCOMES",
    "Scenario",
    "Study",
    "StudyConfig",
    "StudySetup",
    "Summary",
    "Trial",
    "scaled_catalog",
    "top_k_share",
]
