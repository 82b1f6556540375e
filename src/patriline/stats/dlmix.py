"""Discrete Laplace mixture model of Y-STR haplotype frequencies.

A haplotype ``h`` (whole repeat numbers at ``K`` locus copies) has probability

    P(h) = Σ_j τ_j Π_k DL(h_k − y_jk; p_jk),   DL(d; p) = (1 − p)/(1 + p) · p^|d|,

with ``C`` clusters of weight ``τ_j``, central haplotypes ``y_j`` and dispersions
``log p_jk = α_j + β_k`` (a generalised linear model with a cluster and a locus effect).
The fit follows the R package disclapmix (Andersen, Eriksen & Morling 2013) step by step:

1. initial centres by partitioning around medoids with the Manhattan distance (PAM;
   CLARA-style samples for large data), or the rounded column medians for one cluster;
2. EM from uniform responsibilities ``v_ij = 1/C`` and ``τ_j = 1/C``: the M-step fits the
   GLM by Newton's method on the sufficient statistics ``W_j = Σ_i v_ij`` and
   ``S_jk = Σ_i v_ij |x_ik − y_jk|``; the E-step uses the previous ``τ``; the EM stops
   when ``max|v_new − v_old| / max|v_old| < eps`` (disclapmix's criterion, eps = 0.001);
3. the centres are then moved to the per-cluster weighted medians — disclapmix's
   ``move_centers``: for each cluster and locus the integer in the observed range that
   minimises ``Σ_i v_ij |x_ik − y|`` (the smallest on ties) — and EM is run again until the
   centres stay put (or two centres would coincide);
4. the number of clusters is chosen by ``BIC = log(N·K)·q − 2·log L`` with
   ``q = C·K + (K + C − 1) + (C − 1)`` parameters (disclapmix's ``BIC_marginal``).

Several starts (PAM first, then D²-seeded random medoids) are run and the one with the
highest likelihood is kept. Multi-copy loci (DYS385a/b ...) enter as their sorted copies,
one dimension each (``DYS385[0]``, ``DYS385[1]``): an approximation, since the copies of
one man are not independent given the cluster.

References
----------
Andersen MM, Eriksen PS, Morling N (2013) The discrete Laplace exponential family and
  estimation of Y-STR haplotype frequencies. J Theor Biol 329:39-51.
Andersen MM et al. disclapmix, R package (github.com/mikldk/disclapmix), R/disclapmix.R
  and R/helper.R (move_centers, get_BIC).
Kaufman L, Rousseeuw PJ (1990) Finding Groups in Data, ch. 2-3 (PAM, CLARA).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from patriline._files import write_private
from patriline.errors import DisclosureRefused, InputError
from patriline.provenance import document
from patriline.stats import _dlmix_kernels as K

if TYPE_CHECKING:
    from patriline.stats.disclosure import StatisticsPolicy

__all__ = [
    "DLMixFit",
    "FitConfig",
    "FitSelection",
    "closed_form_dispersion",
    "fit",
    "fit_range",
    "load_fit",
    "n_parameters",
    "withhold_disclosive",
]

FORMAT = "patriline-dlmix"
FORMAT_VERSION = 1
METHOD = "discrete Laplace mixture, EM as disclapmix (Andersen et al. 2013)"


@dataclass(frozen=True)
class FitConfig:
    """Settings of the EM fit (defaults are disclapmix's).

    Attributes
    ----------
    starts : int
        Number of starts (the first is PAM/CLARA, the others random medoids).
    max_iterations : int
        EM iterations per round of centre moves (disclapmix ``iterations = 100``).
    eps : float
        EM stop criterion on the responsibilities (disclapmix ``eps = 0.001``).
    max_centre_moves : int
        Rounds of centre moves before giving up (the fit is then not converged).
    glm_max_iterations, glm_tolerance : int, float
        Newton iterations and gradient tolerance of the M-step.
    seed : int
        Seed of the random starts and CLARA samples.
    pam_max_rows : int
        Up to this many distinct rows the initial centres come from full weighted PAM
        on every row, as disclapmix starts (``cluster::pam``); above it, from CLARA
        samples (the distance matrix would need ``8·n²`` bytes: 288 MB at 6,000 rows).
        Full PAM on 3,400 rows at 8 clusters takes about 4 s here; CLARA starts ended
        hundreds of log-likelihood units worse on a real 3,400-haplotype set.
    """

    starts: int = 3
    max_iterations: int = 100
    eps: float = 1e-3
    max_centre_moves: int = 50
    glm_max_iterations: int = 50
    glm_tolerance: float = 1e-9
    seed: int = 1
    pam_max_rows: int = 6000

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def n_parameters(clusters: int, loci: int) -> int:
    """Free parameters: centres, GLM coefficients and weights (disclapmix ``get_BIC``)."""
    return clusters * loci + (loci + clusters - 1) + (clusters - 1)


def closed_form_dispersion(values: Sequence[int] | np.ndarray) -> float:
    """One cluster, one locus: ``p̂ = (√(μ̂² + 1) − 1)/μ̂`` with ``μ̂ = mean |x − median|``.

    The maximum-likelihood estimate solves ``E|D| = 2p/(1 − p²) = μ̂`` (Andersen et al.
    2013, section 2). ``μ̂ = 0`` gives ``p̂ = 0``.
    """
    x = np.asarray(values, dtype=float)
    mu = float(np.mean(np.abs(x - np.round(np.median(x)))))
    return 0.0 if mu == 0 else (math.sqrt(mu * mu + 1.0) - 1.0) / mu


@dataclass
class DLMixFit:
    """A fitted discrete Laplace mixture (see the module docstring)."""

    columns: tuple[str, ...]
    y: np.ndarray
    p: np.ndarray
    tau: np.ndarray
    log_likelihood: float
    n_observations: float
    converged: bool
    iterations: int
    centre_moves: int
    start: str = "pam"
    start_log_likelihoods: list[float] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def clusters(self) -> int:
        return int(self.y.shape[0])

    @property
    def n_parameters(self) -> int:
        return n_parameters(self.clusters, len(self.columns))

    @property
    def bic(self) -> float:
        n_loci = len(self.columns)
        return math.log(self.n_observations * n_loci) * self.n_parameters - 2 * self.log_likelihood

    def log_predict(self, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """``log P(x_i)`` for rows of whole repeat numbers ``(n, K)`` in :attr:`columns` order.

        ``mask[i, k] == False`` leaves column ``k`` out (summed over: the marginal
        probability of the other columns). Raises :class:`InputError` for an unconverged fit.
        """
        if not self.converged:
            raise InputError(
                f"the {self.clusters}-cluster fit did not converge ({self.note or 'EM'}); "
                "refit with more iterations or fewer clusters before predicting"
            )
        x = np.ascontiguousarray(np.asarray(x, dtype=np.int32))
        if x.ndim != 2 or x.shape[1] != len(self.columns):
            raise InputError(f"expected rows of {len(self.columns)} columns {self.columns}")
        m = np.ones(x.shape, dtype=np.bool_) if mask is None else np.asarray(mask, dtype=np.bool_)
        with np.errstate(divide="ignore"):
            logp = np.log(self.p)
            logtau = np.log(self.tau)
        return K.log_predict(x, np.ascontiguousarray(m), self.y.astype(np.int32), logp, logtau)

    def predict(self, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Haplotype probabilities (``exp`` of :meth:`log_predict`)."""
        return np.exp(self.log_predict(x, mask))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "columns": list(self.columns),
            "clusters": self.clusters,
            "y": self.y.tolist(),
            "p": self.p.tolist(),
            "tau": self.tau.tolist(),
            "log_likelihood": self.log_likelihood,
            "bic": self.bic,
            "n_parameters": self.n_parameters,
            "n_observations": self.n_observations,
            "converged": self.converged,
            "iterations": self.iterations,
            "centre_moves": self.centre_moves,
            "start": self.start,
            "start_log_likelihoods": self.start_log_likelihoods,
            "note": self.note,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any], source: str = "<dict>") -> DLMixFit:
        if doc.get("format") != FORMAT:
            raise InputError(
                f"{source}: not a patriline dlmix model (format {doc.get('format')!r})"
            )
        if doc.get("version") != FORMAT_VERSION:
            raise InputError(
                f"{source}: dlmix model version {doc.get('version')} is not supported "
                f"(this is {FORMAT_VERSION})"
            )
        try:
            fitted = cls(
                columns=tuple(doc["columns"]),
                y=np.asarray(doc["y"], dtype=np.int32),
                p=np.asarray(doc["p"], dtype=float),
                tau=np.asarray(doc["tau"], dtype=float),
                log_likelihood=float(doc["log_likelihood"]),
                n_observations=float(doc["n_observations"]),
                converged=bool(doc["converged"]),
                iterations=int(doc["iterations"]),
                centre_moves=int(doc["centre_moves"]),
                start=str(doc.get("start", "")),
                start_log_likelihoods=list(doc.get("start_log_likelihoods", [])),
                provenance=dict(doc.get("provenance", {})),
                note=str(doc.get("note", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{source}: malformed dlmix model ({exc})") from None
        c, k = fitted.y.shape if fitted.y.ndim == 2 else (0, 0)
        if (
            c == 0
            or k != len(fitted.columns)
            or fitted.p.shape != (c, k)
            or fitted.tau.shape != (c,)
            or not np.all((fitted.p >= 0) & (fitted.p < 1))
            or abs(float(fitted.tau.sum()) - 1.0) > 1e-6
        ):
            raise InputError(f"{source}: inconsistent dlmix model (shapes or parameter ranges)")
        return fitted

    def save(self, path: str | Path, selection: FitSelection | None = None) -> None:
        """Write the fit (and the BIC table of its selection) as JSON."""
        doc = self.to_dict()
        if selection is not None:
            doc["selection"] = selection.table()
        write_private(path, json.dumps(doc, indent=2) + "\n")


def load_fit(path: str | Path) -> DLMixFit:
    """Read a fit written by :meth:`DLMixFit.save`."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: model file not found") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: line {exc.lineno}: not JSON ({exc.msg})") from None
    return DLMixFit.from_dict(doc, str(p))


# --------------------------------------------------------------------------------------
# M-step: Newton's method for log p_jk = α_j + β_k (β_0 = 0)
# --------------------------------------------------------------------------------------

_LOGL_TOLERANCE = 1e-3  # log-likelihood differences below this are EM noise
_ETA_MIN = -30.0  # p >= 1e-13: a cluster with no spread at a locus stays finite


def _glm_loglik(eta: np.ndarray, w: np.ndarray, s: np.ndarray) -> float:
    p = np.exp(eta)
    return float(np.sum(w[:, None] * (np.log1p(-p) - np.log1p(p)) + s * eta))


def _mstep(
    w: np.ndarray, s: np.ndarray, theta: np.ndarray, cfg: FitConfig
) -> tuple[np.ndarray, bool]:
    """Maximise Σ_jk W_j log((1−p)/(1+p)) + S_jk log p over θ = (α, β_1..β_{K−1})."""
    c, k = s.shape

    def eta_of(t: np.ndarray) -> np.ndarray:
        beta = np.concatenate([[0.0], t[c:]])
        return np.maximum(t[:c, None] + beta[None, :], _ETA_MIN)

    eta = eta_of(theta)
    current = _glm_loglik(eta, w, s)
    for _ in range(cfg.glm_max_iterations):
        p = np.exp(eta)
        one = 1.0 - p * p
        g = s - w[:, None] * 2.0 * p / one
        h = w[:, None] * 2.0 * p * (1.0 + p * p) / (one * one)
        grad = np.concatenate([g.sum(axis=1), g.sum(axis=0)[1:]])
        if np.max(np.abs(grad)) < cfg.glm_tolerance * max(1.0, float(w.sum())):
            return theta, True
        hess = np.zeros((c + k - 1, c + k - 1))
        hess[np.arange(c), np.arange(c)] = h.sum(axis=1)
        hb = h.sum(axis=0)[1:]
        hess[c + np.arange(k - 1), c + np.arange(k - 1)] = hb
        hess[:c, c:] = h[:, 1:]
        hess[c:, :c] = h[:, 1:].T
        try:
            step = np.linalg.solve(hess + 1e-12 * np.eye(len(grad)), grad)
        except np.linalg.LinAlgError:
            return theta, False
        scale = 1.0
        while scale > 1e-8:
            trial = theta + scale * step
            eta_t = eta_of(trial)
            if np.all(eta_t < 0):
                val = _glm_loglik(eta_t, w, s)
                if val >= current - 1e-12 * abs(current):
                    break
            scale /= 2
        else:
            return theta, abs(float(np.max(np.abs(grad)))) < 1e-6 * max(1.0, float(w.sum()))
        theta, eta, current = trial, eta_t, val
    return theta, False


def _theta_to_logp(theta: np.ndarray, c: int) -> np.ndarray:
    beta = np.concatenate([[0.0], theta[c:]])
    return np.maximum(theta[:c, None] + beta[None, :], _ETA_MIN)


def _initial_theta(x: np.ndarray, w: np.ndarray, y: np.ndarray) -> np.ndarray:
    c = y.shape[0]
    mu = float(np.sum(w[:, None] * np.abs(x - y[0][None, :])) / (w.sum() * x.shape[1]))
    mu = max(mu, 1e-3)
    p0 = (math.sqrt(mu * mu + 1) - 1) / mu
    return np.concatenate([np.full(c, math.log(p0)), np.zeros(x.shape[1] - 1)])


# --------------------------------------------------------------------------------------
# Starts
# --------------------------------------------------------------------------------------


def _weighted_rounded_median(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per column: R's ``round(median(expanded rows))`` (half to even)."""
    out = np.empty(x.shape[1], dtype=np.int32)
    total = float(w.sum())
    for q in range(x.shape[1]):
        order = np.argsort(x[:, q], kind="stable")
        vals, cw = x[order, q], np.cumsum(w[order])
        lo = vals[np.searchsorted(cw, total / 2.0, side="left")]
        hi = vals[np.searchsorted(cw, total / 2.0, side="right")] if total % 2 == 0 else lo
        out[q] = int(np.round((float(lo) + float(hi)) / 2.0))
    return out


def _pam_centres(x: np.ndarray, w: np.ndarray, c: int, cfg: FitConfig) -> np.ndarray:
    if x.shape[0] <= cfg.pam_max_rows:
        d = K.manhattan_matrix(x)
        return x[K.pam(d, w, c, 1000)].copy()
    rng = np.random.default_rng(cfg.seed)
    best, best_cost = None, np.inf
    size = min(x.shape[0], 200 + 4 * c)
    for _ in range(5):
        rows = rng.choice(x.shape[0], size=size, replace=False, p=w / w.sum())
        sub = x[rows]
        med = sub[K.pam(K.manhattan_matrix(sub), np.ones(size), c, 1000)]
        cost = K.assignment_cost(x, w, med.astype(np.int32))
        if cost < best_cost:
            best, best_cost = med.copy(), cost
    assert best is not None
    return best


def _random_centres(x: np.ndarray, w: np.ndarray, c: int, rng: np.random.Generator) -> np.ndarray:
    """D²-weighted seeding (k-means++ with the Manhattan distance)."""
    first = rng.choice(x.shape[0], p=w / w.sum())
    chosen = [first]
    dist = np.abs(x - x[first]).sum(axis=1).astype(float)
    for _ in range(1, c):
        weights = w * dist**2
        if weights.sum() <= 0:
            break
        nxt = rng.choice(x.shape[0], p=weights / weights.sum())
        chosen.append(nxt)
        dist = np.minimum(dist, np.abs(x - x[nxt]).sum(axis=1))
    if len(chosen) < c:
        raise InputError(f"only {len(chosen)} distinct haplotypes: cannot fit {c} clusters")
    return x[chosen].copy()


# --------------------------------------------------------------------------------------
# EM
# --------------------------------------------------------------------------------------


def _move_centres(x: np.ndarray, w: np.ndarray, v: np.ndarray) -> np.ndarray:
    lo = x.min(axis=0).astype(np.int32)
    hi = x.max(axis=0).astype(np.int32)
    width = int((hi - lo).max()) + 1
    h = K.weighted_histograms(x, w, np.ascontiguousarray(v), lo, width)
    grid = np.arange(width)
    dist = np.abs(grid[:, None] - grid[None, :]).astype(float)
    cost = h @ dist  # (C, K, candidate): Σ_a H[a] |a − candidate|
    valid = grid[None, :] <= (hi - lo)[:, None]
    cost = np.where(valid[None, :, :], cost, np.inf)
    return (lo[None, :] + np.argmin(cost, axis=2)).astype(np.int32)


def _em(x: np.ndarray, w: np.ndarray, y0: np.ndarray, cfg: FitConfig, start: str) -> DLMixFit:
    c = y0.shape[0]
    n = x.shape[0]
    y = y0.astype(np.int32)
    v = np.full((n, c), 1.0 / c)
    tau = np.full(c, 1.0 / c)
    theta = _initial_theta(x, w, y)
    iterations = 0
    moves = 0
    converged = False
    note = ""
    max_iter = 1 if c == 1 else cfg.max_iterations
    xf = x.astype(np.float64)  # float rows let the E-step kernel vectorise
    while True:
        wsum, ssum = K.suff_stats(x, w, y, v)
        last_vmax = 0.0
        converged = c == 1
        for _ in range(max_iter):
            iterations += 1
            theta, glm_ok = _mstep(wsum, ssum, theta, cfg)
            if not glm_ok:
                note = f"GLM (M-step) did not converge in EM iteration {iterations}"
            logp = _theta_to_logp(theta, c)
            with np.errstate(divide="ignore"):
                logtau = np.log(tau)
            max_diff, max_v, wsum, ssum = K.estep(xf, w, y.astype(np.float64), logp, logtau, v)
            tau = wsum / wsum.sum()
            gain = np.inf if last_vmax == 0 else float(max_diff) / last_vmax
            if gain < cfg.eps:
                converged = True
                break
            last_vmax = float(max_v)
        new_y = _move_centres(x, w, v)
        if np.array_equal(new_y, y) or len({tuple(r) for r in new_y.tolist()}) < c:
            break
        moves += 1
        if moves > cfg.max_centre_moves:
            converged = False
            note = f"centres still moving after {cfg.max_centre_moves} rounds"
            break
        y = new_y
    if not converged and not note:
        note = f"EM did not reach eps={cfg.eps} in {cfg.max_iterations} iterations"
    if np.any(tau <= 0) or not np.all(np.isfinite(theta)):
        converged, note = False, "a cluster lost all its weight"
    logp = _theta_to_logp(theta, c)
    ll = float(np.sum(w * K.log_predict(x, np.ones(x.shape, dtype=np.bool_), y, logp, np.log(tau))))
    return DLMixFit(
        columns=(),
        y=y,
        p=np.exp(logp),
        tau=tau,
        log_likelihood=ll,
        n_observations=float(w.sum()),
        converged=converged and not note.startswith("GLM"),
        iterations=iterations,
        centre_moves=moves,
        start=start,
        note=note,
    )


def _check_data(
    x: np.ndarray, w: np.ndarray, clusters: int, distinct: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    x = np.ascontiguousarray(np.asarray(x, dtype=np.int32))
    w = np.ascontiguousarray(np.asarray(w, dtype=float))
    if x.ndim != 2 or x.shape[1] == 0:
        raise InputError("the reference has no loci to fit")
    if x.shape[0] != w.shape[0]:
        raise InputError(f"{x.shape[0]} rows but {w.shape[0]} weights")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise InputError("row weights must be non-negative numbers")
    keep = w > 0
    x, w = x[keep], w[keep]
    if w.sum() < 2:
        raise InputError(
            f"the reference holds {w.sum():g} complete haplotype(s): a frequency model needs "
            "at least 2 (and far more to be useful)"
        )
    if clusters < 1:
        raise InputError("the number of clusters must be at least 1")
    if distinct is None:
        distinct = len(np.unique(x, axis=0)) if clusters > 1 else 1
    if clusters > distinct:
        raise InputError(f"cannot fit {clusters} clusters to {distinct} distinct haplotypes")
    return x, w


def fit(
    x: np.ndarray,
    weights: np.ndarray | None,
    clusters: int,
    columns: Sequence[str],
    config: FitConfig | None = None,
    provenance: dict[str, Any] | None = None,
    _distinct: int | None = None,
) -> DLMixFit:
    """Fit a ``clusters``-component mixture to rows ``x`` (whole repeats, ``(n, K)``).

    ``weights`` are row multiplicities (default 1). Runs ``config.starts`` starts and
    keeps the converged one of highest likelihood (else the best one, marked not
    converged). Raises :class:`InputError` for unusable data.
    """
    cfg = config or FitConfig()
    x, w = _check_data(x, np.ones(len(x)) if weights is None else weights, clusters, _distinct)
    if len(columns) != x.shape[1]:
        raise InputError(f"{len(columns)} column names for {x.shape[1]} columns")
    rng = np.random.default_rng(cfg.seed)
    runs: list[DLMixFit] = []
    if clusters == 1:
        runs.append(_em(x, w, _weighted_rounded_median(x, w)[None, :], cfg, "median"))
    else:
        runs.append(_em(x, w, _pam_centres(x, w, clusters, cfg), cfg, "pam"))
        for i in range(1, cfg.starts):
            runs.append(_em(x, w, _random_centres(x, w, clusters, rng), cfg, f"random{i}"))
    best = None
    for r in [r for r in runs if r.converged] or runs:
        # A later start must beat the incumbent by more than the EM tolerance can explain,
        # so that equal optima keep the PAM start (disclapmix's own).
        if best is None or r.log_likelihood > best.log_likelihood + _LOGL_TOLERANCE:
            best = r
    assert best is not None
    best.columns = tuple(columns)
    best.start_log_likelihoods = [r.log_likelihood for r in runs]
    best.provenance = _fit_provenance(provenance, clusters, columns, cfg, len(x))
    return best


def _fit_provenance(
    given: dict[str, Any] | None, clusters: int, columns: Sequence[str], cfg: FitConfig, n: int
) -> dict[str, Any]:
    """The fit's provenance document (:mod:`patriline.provenance`); the caller's facts
    (``source``, ``reference``, ...) are kept as further keys, ``inputs`` as its inputs."""
    extra = dict(given or {})
    inputs = extra.pop("inputs", None)
    model = {"name": "dlmix", "clusters": clusters, "columns": len(columns), "method": METHOD}
    doc = document(
        "fit",
        {"clusters": clusters, "rows": n, "config": cfg.to_dict()},
        inputs=inputs,
        models={"dlmix": model},
        seed=cfg.seed,
    )
    return extra | doc | {"config": cfg.to_dict()}


@dataclass
class FitSelection:
    """Fits for a range of cluster counts and the one chosen by BIC."""

    fits: dict[int, DLMixFit]
    best: DLMixFit
    #: Table rows of fits left out because they would disclose fewer than k men
    #: (:func:`withhold_disclosive`); their centres are not kept.
    withheld: dict[int, dict[str, Any]] = field(default_factory=dict)

    def table(self) -> list[dict[str, Any]]:
        rows = [
            {
                "clusters": c,
                "log_likelihood": f.log_likelihood,
                "n_parameters": f.n_parameters,
                "bic": f.bic,
                "converged": f.converged,
                "chosen": f is self.best,
                "note": f.note,
            }
            for c, f in sorted(self.fits.items())
        ]
        return sorted([*rows, *self.withheld.values()], key=lambda r: int(r["clusters"]))

    @property
    def warnings(self) -> list[str]:
        """What a reader of the selection must be told: BIC choosing the largest number
        of clusters tried means the best fit may lie beyond the range."""
        largest = max(self.fits)
        if len(self.fits) > 1 and self.best.clusters == largest:
            return [
                f"BIC chose the largest number of clusters tried ({largest}); "
                "try a wider range, the best fit may need more"
            ]
        return []


def fit_range(
    x: np.ndarray,
    weights: np.ndarray | None,
    clusters: Sequence[int],
    columns: Sequence[str],
    config: FitConfig | None = None,
    provenance: dict[str, Any] | None = None,
) -> FitSelection:
    """Fit each cluster count and choose the converged fit of lowest BIC."""
    if not clusters:
        raise InputError("no cluster counts to try")
    x = np.asarray(x)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    distinct = len(np.unique(x[w > 0], axis=0)) if x.ndim == 2 and len(x) else 0
    fits = {
        c: fit(x, w, c, columns, config, provenance, _distinct=distinct)
        for c in sorted(set(clusters))
    }
    good = [f for f in fits.values() if f.converged]
    if not good:
        notes = "; ".join(f"{c}: {f.note}" for c, f in fits.items())
        raise InputError(f"no fit converged ({notes})")
    return FitSelection(fits, min(good, key=lambda f: f.bic))


def withhold_disclosive(
    selection: FitSelection,
    x: np.ndarray,
    weights: np.ndarray | None = None,
    policy: StatisticsPolicy | None = None,
) -> FitSelection:
    """The selection without the fits that would publish what fewer than ``k`` men share.

    For a fit over the store (:mod:`patriline.stats.disclosure`): a fit is withheld when
    one of its clusters describes fewer than ``k`` of the men ``x`` or its centre is a
    haplotype held by 1 to ``k - 1`` of them; its table row stays (likelihood and BIC,
    no centres) with the reason, and the best remaining converged fit by BIC is chosen.
    Raises :class:`~patriline.errors.DisclosureRefused` when no fit remains.
    """
    from patriline.stats.disclosure import fit_disclosure, statistics_policy

    policy = policy or statistics_policy()
    x = np.asarray(x)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    kept: dict[int, DLMixFit] = {}
    withheld: dict[int, dict[str, Any]] = dict(selection.withheld)
    for c, f in selection.fits.items():
        reasons = fit_disclosure(f.y, f.tau, x, w, policy)
        if not reasons:
            kept[c] = f
            continue
        withheld[c] = {
            "clusters": c,
            "log_likelihood": f.log_likelihood,
            "n_parameters": f.n_parameters,
            "bic": f.bic,
            "converged": f.converged,
            "chosen": False,
            "withheld": True,
            "note": "withheld: " + "; ".join(reasons),
        }
    good = [f for f in kept.values() if f.converged]
    if not good:
        notes = "; ".join(f"{c} clusters: {r['note']}" for c, r in sorted(withheld.items()))
        raise DisclosureRefused(
            f"no fit can be published without disclosing fewer than k = {policy.k} stored "
            f"men ({notes}); try fewer clusters"
        )
    best = min(good, key=lambda f: f.bic)
    best.provenance = best.provenance | {
        "disclosure": policy.to_dict() | {"withheld_clusters": sorted(withheld)}
    }
    return FitSelection(kept, best, withheld)
