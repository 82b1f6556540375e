"""The engine use cases on a Session (casework.searching, .expansion, .statistics,
.reports): the Session methods are the use cases minus the session, and the store and
the engines no longer reach each other."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from patriline.casework import Session, expansion, reports, searching, statistics
from patriline.store import Database

USE_CASES: list[tuple[str, Callable[..., Any]]] = [
    ("search", searching.search),
    ("search_many", searching.search_many),
    ("pairs", searching.pairs),
    ("open_index", searching.open_index),
    ("purge_index", searching.purge_index),
    ("expand", expansion.expand),
    ("expand_top_hits", expansion.expand_top_hits),
    ("reference", statistics.reference),
    ("fit", statistics.fit),
    ("frequency", statistics.frequency),
    ("exposure", statistics.exposure),
    ("report", reports.report),
    ("write_report", reports.write_report),
]


def _params(fn: Callable[..., Any], skip: int) -> list[tuple[str, Any, Any]]:
    ps = list(inspect.signature(fn).parameters.values())[skip:]
    return [(p.name, p.kind, p.default) for p in ps]


@pytest.mark.parametrize(("method", "use_case"), USE_CASES, ids=[m for m, _ in USE_CASES])
def test_session_method__same_parameters_and_defaults_as_the_use_case(
    method: str, use_case: Callable[..., Any]
) -> None:
    """The Session spells the defaults out (the engines load on first use): they must
    stay the use case's own."""
    assert _params(getattr(Session, method), 1) == _params(use_case, 1)
    assert next(iter(inspect.signature(use_case).parameters)) in ("session", "session_or_store")


def test_store__no_engine_delegations_left() -> None:
    for name in ("search", "expand", "_purge_index"):
        assert not hasattr(Database, name), name


def test_engines__no_store_bound_functions_left() -> None:
    import patriline.pedigree.expand as pexpand
    import patriline.pedigree.hits as phits
    import patriline.search.api as sapi
    import patriline.simulate.exposure as sexp

    for module, names in [
        (sapi, ("search", "search_many", "pairs", "open_index", "purge_index", "index_dir")),
        (pexpand, ("expand",)),
        (phits, ("expand_top_hits",)),
        (sexp, ("exposure_from_store",)),
    ]:
        for name in names:
            assert not hasattr(module, name), f"{module.__name__}.{name}"


def test_session_module__loads_no_engine() -> None:
    """Opening a session for a store-side use case does not load the engines."""
    code = (
        "import sys, patriline.casework; "
        "print(sorted(m for m in sys.modules if m.startswith(('patriline.search', "
        "'patriline.stats', 'patriline.pedigree', 'patriline.simulate'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
