"""A session: one store and the acting user, resolved from the store.

Every use case of :mod:`patriline.casework` takes a session. It holds the rules
"authorize → read → compute → audit" in one place: :meth:`Session.authorize` checks the
user's role (read from the store at each check, so a stale or forged ``Actor`` cannot
act with a role it does not have) and audits a refusal; :meth:`Session.audit` appends one
hash-chained entry naming the user, the case and how the user reached the store
(``via``: ``"local"`` for the CLI or a library on the store, ``"service"`` for an
authenticated request to the lab service).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from patriline.store import Actor, Case, Database

if TYPE_CHECKING:
    from patriline.haplotype import Haplotype
    from patriline.pedigree.expand import Expansion
    from patriline.pedigree.hits import TopHits
    from patriline.search.api import PairResult, SearchResult
    from patriline.search.index import SearchIndex
    from patriline.simulate.exposure import ExposureReport
    from patriline.simulate.population import Population
    from patriline.stats.dlmix import FitSelection
    from patriline.stats.reference_set import ReferenceSet
    from patriline.stats.report import ReportRequest

__all__ = ["Session"]

#: How a session reaches the store, recorded in every audit entry it writes.
VIA = ("local", "service")


class Session:
    """The store and the acting user (see the module docstring).

    Parameters
    ----------
    store
        An open :class:`~patriline.store.Database`.
    user
        The acting user's name (or an ``Actor``, of which only the name is used: the
        role always comes from the store). :class:`~patriline.errors.NotFound` if the
        store has no such user.
    via
        ``"local"`` or ``"service"``.
    """

    def __init__(self, store: Database, user: str | Actor, *, via: str = "local") -> None:
        if via not in VIA:
            raise ValueError(f"via must be one of {VIA}")
        self.store = store
        self.actor = store.actor(user.name if isinstance(user, Actor) else user)
        self.via = via

    @classmethod
    @contextmanager
    def open(cls, url: str | Path, user: str, *, via: str = "local") -> Iterator[Session]:
        """Open the store at ``url`` for ``user``; the store is closed on exit."""
        store = Database.open(url)
        try:
            yield cls(store, user, via=via)
        finally:
            store.close()

    @property
    def user(self) -> str:
        return self.actor.name

    # ------------------------------------------------------------------ the two rules
    def authorize(self, action: str, case: str | Case | None = None) -> Case | None:
        """Check that the user may do ``action`` (in ``case``); return the case.

        Raises :class:`~patriline.errors.AccessDenied` with the reason; the refusal is
        audited (``access_denied``).
        """
        return self.store.authorize(self.actor, action, case)

    def audit(
        self,
        action: str,
        *,
        case: str | Case | None = None,
        purpose: str | None = None,
        params: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
    ) -> int:
        """Append one audit entry for the user (its own transaction); its ID."""
        return self.store.audit(
            self.actor,
            action,
            case=case,
            purpose=purpose,
            params=params,
            result=result,
        )

    # ------------------------------------------------------------------ store-side use cases
    # users, cases and approvals, audit reads, imports, links, identities, expungement:
    # thin methods delegating to casework.users, .cases, .auditing, .imports, .links,
    # .identities and .expunge.

    # ------------------------------------------------------------------ engine use cases
    # searching, expansion, statistics against the store, reports: thin methods
    # delegating to casework.searching, .expansion, .statistics and .reports.
    def search(self, case: str, query: Haplotype | str, **kwargs: Any) -> SearchResult:
        """Search for the paternal relatives of a trace: :func:`.searching.search`."""
        from patriline.casework import searching

        return searching.search(self, case, query, **kwargs)

    def search_many(
        self, case: str, queries: Sequence[Haplotype | str], **kwargs: Any
    ) -> list[SearchResult]:
        """:func:`.searching.search_many`."""
        from patriline.casework import searching

        return searching.search_many(self, case, queries, **kwargs)

    def pairs(self, case: str, **kwargs: Any) -> PairResult:
        """All pairs within the bounds: :func:`.searching.pairs`."""
        from patriline.casework import searching

        return searching.pairs(self, case, **kwargs)

    def open_index(self, *, rebuild: bool = False) -> SearchIndex:
        """The store's search index, synchronised: :func:`.searching.open_index`."""
        from patriline.casework import searching

        return searching.open_index(self, rebuild=rebuild)

    def purge_index(self) -> None:
        """:func:`.searching.purge_index`."""
        from patriline.casework import searching

        searching.purge_index(self)

    def expand(self, case: str, specimen: str | Sequence[str], **kwargs: Any) -> Expansion:
        """Expand hits into their paternal trees: :func:`.expansion.expand`."""
        from patriline.casework import expansion

        return expansion.expand(self, case, specimen, **kwargs)

    def expand_top_hits(
        self, case: str, trace: Haplotype, **kwargs: Any
    ) -> tuple[TopHits, Expansion]:
        """Search, then expand every hit tied at the top: :func:`.expansion.expand_top_hits`."""
        from patriline.casework import expansion

        return expansion.expand_top_hits(self, case, trace, **kwargs)

    def reference(self, *, case: str | None = None, purpose: str = "fit") -> ReferenceSet:
        """The store as a reference population: :func:`.statistics.reference`."""
        from patriline.casework import statistics

        return statistics.reference(self, case=case, purpose=purpose)

    def fit(self, **kwargs: Any) -> FitSelection:
        """dlmix fits to the store's profiles: :func:`.statistics.fit`."""
        from patriline.casework import statistics

        return statistics.fit(self, **kwargs)

    def frequency(self, query: Haplotype, **kwargs: Any) -> dict[str, Any]:
        """A profile's frequency against the store: :func:`.statistics.frequency`."""
        from patriline.casework import statistics

        return statistics.frequency(self, query, **kwargs)

    def exposure(self, kit: str, country: Population) -> ExposureReport:
        """The store's exposure report: :func:`.statistics.exposure`."""
        from patriline.casework import statistics

        return statistics.exposure(self, kit, country)

    def report(self, request: ReportRequest) -> dict[str, Any]:
        """The case report's content, checked and audited: :func:`.reports.report`."""
        from patriline.casework import reports

        return reports.report(self, request)

    def write_report(self, request: ReportRequest, out: str | Path) -> Path:
        """Build, render and write the case report: :func:`.reports.write_report`."""
        from patriline.casework import reports

        return reports.write_report(self, request, out)
