"""Statistics against a store: the store as a reference population, model fits,
a profile's frequency and the exposure report, under the store's safeguards.

The engines compute on plain data (:mod:`patriline.stats`, :mod:`patriline.simulate`);
this use case reads the store for them:

* a profile's frequency against a store (``purpose="frequency"``) tells whether that
  profile is stored: it is authorised like an exact search (``search_exact``), in a case;
* a store-wide statistic (a model fit, ``purpose="fit"``; the exposure report) needs
  the ``stats`` right and a store of at least the policy's minimum size, and what is
  published from it is limited to what ``k`` men share
  (:mod:`patriline.stats.disclosure`, which this module calls);
* every read is audited (``stats``), a refusal too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from patriline.encoding import Encoded, Layout
from patriline.errors import AccessDenied, DisclosureRefused, InputError
from patriline.haplotype import Haplotype
from patriline.simulate.exposure import ExposureReport, pool_rows
from patriline.simulate.exposure import exposure as exposure_of
from patriline.simulate.population import Population
from patriline.stats.disclosure import check_store_size, statistics_policy
from patriline.stats.dlmix import DLMixFit, FitConfig, FitSelection
from patriline.stats.reference_set import ReferenceSet, design_matrix
from patriline.stats.summary import METHODS, fit_reference, frequency_summary

if TYPE_CHECKING:
    from patriline.casework.session import Session

__all__ = ["PURPOSES", "exposure", "fit", "frequency", "reference"]

#: What a store is read as a reference population for.
PURPOSES = ("fit", "frequency")


def reference(
    session: Session,
    *,
    case: str | None = None,
    purpose: str = "fit",
    exclude: Sequence[str] = (),
    excluded_because: str = "",
) -> ReferenceSet:
    """Every active profile of the store as a :class:`ReferenceSet`, read under the
    store's safeguards (module docstring).

    For ``purpose="frequency"`` (a case's trace weighed against the store) only the
    reference categories of the policy count (:func:`patriline.stats.denominator.
    reference_policy`: not crime-scene traces, remains, relatives of missing men or
    rows of no stated category), and the specimens in ``exclude`` (the candidate and
    his recorded relatives, ``excluded_because`` says so) are left out; the set's
    provenance lists both.

    ``purpose="frequency"`` needs ``case`` (:class:`AccessDenied` without it) and
    ``search_exact`` in it; ``purpose="fit"`` needs ``stats`` and a store of at least
    the policy's minimum size (:class:`DisclosureRefused`, audited). The set is marked
    ``store_wide`` for a fit, so that :func:`patriline.stats.summary.fit_reference`
    withholds what fewer than ``k`` men share.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}")
    db = session.store
    source = str(db.engine.url.render_as_string(hide_password=True))
    if purpose == "frequency":
        if case is None:
            raise AccessDenied(
                f"{source}: the frequency of a profile against a store shows whether the "
                "profile is stored, so it is a search: give the case (--case)"
            )
        session.authorize("search_exact", case)
    else:
        session.authorize("stats", case)
    store_wide = purpose != "frequency"
    categories: tuple[str, ...] | None = None
    if not store_wide:
        from patriline.stats.denominator import reference_policy

        categories = reference_policy().categories
    ids, enc = db.encoded(categories=categories)
    left_out = 0
    if exclude:
        drop = set(exclude)
        keep = np.array([i not in drop for i in ids], dtype=bool)
        left_out = int((~keep).sum())
        if left_out:
            ids = [i for i, k in zip(ids, keep, strict=True) if k]
            new_row = np.cumsum(keep) - 1
            extras = {(int(new_row[r]), n): a for (r, n), a in enc.extras.items() if keep[r]}
            enc = Encoded(enc.layout, np.ascontiguousarray(enc.values[:, keep]), extras)
    use = f"reference population ({purpose})"
    params: dict[str, Any] = {"reference": "store", "use": purpose}
    if store_wide:
        try:
            check_store_size(enc.n_rows, f"{source}: {purpose} over the store")
        except DisclosureRefused as exc:
            session.audit(
                "stats",
                case=case,
                purpose=use,
                params=params,
                result={"rows": enc.n_rows, "refused": str(exc)},
            )
            raise
    ref = ReferenceSet(list(ids), enc, np.ones(enc.n_rows), source, store_wide=store_wide)
    ref.provenance = {"source": source, "store_change_seq": db.change_seq(), "rows": enc.n_rows}
    if categories is not None:
        ref.provenance["categories"] = list(categories)
        ref.provenance["excluded"] = {"specimens": left_out, "because": excluded_because}
        params = params | {"categories": list(categories)}
    session.audit(
        "stats",
        case=case,
        purpose=use,
        params=params,
        result={"rows": enc.n_rows, "excluded": left_out},
    )
    if categories is not None and enc.n_rows < 2:
        raise InputError(
            f"{source}: {enc.n_rows} active profile(s) of the reference categories "
            f"({', '.join(categories)}) remain to weigh the trace against; import a reference "
            "population with --category reference (crime-scene traces, remains, relatives of "
            "missing men and rows of no stated category are never counted), or give a "
            "reference file (report --reference FILE)"
        )
    return ref


def fit(
    session: Session,
    *,
    case: str | None = None,
    loci: Sequence[str] | None = None,
    clusters: Sequence[int] = range(1, 7),
    config: FitConfig | None = None,
) -> FitSelection:
    """dlmix fits to the store's profiles (clusters by BIC), the disclosive ones withheld
    (:func:`patriline.stats.summary.fit_reference` on :func:`reference` for ``"fit"``).
    ``loci``: the locus copies fitted (default: those typed in 95 % of the store)."""
    ref = reference(session, case=case, purpose="fit")
    return fit_reference(ref, design_matrix(ref, loci), clusters, config)


def frequency(
    session: Session,
    query: Haplotype,
    *,
    case: str | None = None,
    model: DLMixFit | None = None,
    methods: Sequence[str] = METHODS,
    level: float = 0.95,
    fit_clusters: Sequence[int] = range(1, 7),
    population: Any = None,
    kit: str | None = None,
) -> dict[str, Any]:
    """The frequency of ``query`` against the store, by each method
    (:func:`patriline.stats.summary.frequency_summary` on :func:`reference` for
    ``"frequency"``: a search in ``case``, audited)."""
    ref = reference(session, case=case, purpose="frequency")
    return frequency_summary(
        query,
        ref,
        model=model,
        methods=methods,
        level=level,
        fit_clusters=fit_clusters,
        population=population,
        kit=kit,
    )


def exposure(session: Session, kit: str, country: Population) -> ExposureReport:
    """:func:`patriline.simulate.exposure.exposure` for the active specimens of the store
    (one per person); checks the ``stats`` permission and writes an audit entry.

    A store-wide statistic (docs/safeguards.md): refused for a store of fewer persons
    than the policy's minimum, and rows of fewer than ``k`` lineages are pooled
    (:func:`~patriline.simulate.exposure.pool_rows`, :mod:`patriline.stats.disclosure`).
    """
    db = session.store
    session.authorize("stats")
    ids, enc = db.encoded(Layout.universal())
    persons: dict[str, int] = {}
    for i, sid in enumerate(ids):
        persons.setdefault(db.person_of(sid), i)
    policy = statistics_policy()
    check_store_size(len(persons), "exposure report", policy)
    rows = np.array(sorted(persons.values()), dtype=np.int64)
    stored = Encoded(enc.layout, np.ascontiguousarray(enc.values[:, rows]))
    report = exposure_of(stored, kit, country)
    report.rows = pool_rows(report.rows, policy.k)
    report.provenance = report.provenance | {"disclosure": policy.to_dict()}
    session.audit(
        "stats",
        purpose="reach exposure report",
        params={"kit": report.kit, "country_males": report.country_males},
        result={"expected_outside_total": report.expected_outside_total},
    )
    return report
