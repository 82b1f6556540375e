"""Mixture weights (issue 13 item 3): the Wolf et al. (2005) LR with discrete Laplace
haplotype probabilities, and the contributor pairs of a two-man mixture.

Checks: (1) the R package disclapmix (``contributor_pairs``, ``rank_contributor_pairs``)
on the danes data — its fit, pairs, probabilities and sum are in
``tests/data/stats/disclapmix_mixture_danes.txt`` with the R call; the model here is R's
fitted model read from that file, so the comparison does not rest on patriline's fitter;
(2) exact enumeration of every haplotype of a small model (``_enumerated``); (3) simulated
two- and three-man mixtures.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from patriline.errors import InputError
from patriline.haplotype import Haplotype
from patriline.mixture import Mixture
from patriline.stats.dlmix import DLMixFit
from patriline.stats.mixture import _probability, _usable, contributor_pairs, mixture_lr

DANES_LOCI = (
    "DYS19", "DYS389I", "DYS389II", "DYS390", "DYS391", "DYS392", "DYS393", "DYS437",
    "DYS438", "DYS439",
)  # fmt: skip
REFERENCE = Path(__file__).parent / "data" / "stats" / "disclapmix_mixture_danes.txt"


def _sections() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = None
    for line in REFERENCE.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("["):
            current = line.strip("[]").split(":")[0]
            out[current] = []
        elif current:
            out[current].append(line.strip())
    return out


def _r_model(sec: dict[str, list[str]]) -> DLMixFit:
    y = np.array([[int(v) for v in ln.split(",")] for ln in sec["y"]])
    p = np.array([[float(v) for v in ln.split(",")] for ln in sec["p"]])
    tau = np.array([float(v) for v in sec["tau"][0].split(",")])
    return DLMixFit(DANES_LOCI, y, p, tau, 0.0, 185.0, True, 0, 0)


def _hap(values: list[int]) -> Haplotype:
    return Haplotype.parse({n: str(v) for n, v in zip(DANES_LOCI, values, strict=True)})


def test_contributor_pairs__equal_r_disclapmix_on_danes() -> None:
    sec = _sections()
    model = _r_model(sec)
    h1 = _hap([int(v) for v in sec["h1"][0].split(",")])
    h2 = _hap([int(v) for v in sec["h2"][0].split(",")])
    mixture = Mixture.of([h1, h2])
    pairs = contributor_pairs(mixture, model)
    assert len(pairs) == int(sec["pairs_count"][0])
    total = sum(p.p_pair for p in pairs)
    assert total == pytest.approx(float(sec["pairs_prod_sum"][0]), rel=1e-9)
    for row, pair in zip(sec["top10"], pairs[:10], strict=True):
        _, a, b, pa, pb, pab = row.split(",")
        r_pair = {tuple(int(v) for v in a.split(";")), tuple(int(v) for v in b.split(";"))}
        assert {pair.first, pair.second} == r_pair
        assert pair.p_pair == pytest.approx(float(pab), rel=1e-9)
        assert sorted([pair.p_first, pair.p_second]) == pytest.approx(
            sorted([float(pa), float(pb)]), rel=1e-9
        )
    # The two-unknown denominator sums ordered pairs: twice R's sum over unordered ones.
    loci, _ = _usable(mixture, model, [])
    assert _probability(model, loci, 2) == pytest.approx(2 * total, rel=1e-9)


def _enumerated(
    model: DLMixFit, mixture: Mixture, known: list[tuple[int, ...]], unknowns: int, span: int = 7
) -> float:
    """Σ over every tuple of unknown haplotypes (each locus within ±span of every centre)
    whose alleles, with the known men's, are the mixture's: the definition, by brute force."""
    grids = [
        range(int(model.y[:, k].min()) - span, int(model.y[:, k].max()) + span + 1)
        for k in range(len(model.columns))
    ]
    haps = np.array(list(itertools.product(*grids)), dtype=np.int32)
    probs = model.predict(haps)
    want = [{v // 10 for v in mixture.alleles[c]} for c in model.columns]
    # Keep haplotypes whose every allele is in the mixture (the others cannot take part).
    ok = np.all([np.isin(haps[:, k], list(want[k])) for k in range(len(want))], axis=0)
    haps, probs = haps[ok], probs[ok]
    total = 0.0
    for combo in itertools.product(range(len(haps)), repeat=unknowns):
        covered = [set(h[k] for h in known) for k in range(len(want))]
        for i in combo:
            for k in range(len(want)):
                covered[k].add(int(haps[i, k]))
        if covered == want:
            total += float(np.prod(probs[list(combo)]))
    return total


def _small_model() -> DLMixFit:
    y = np.array([[14, 23, 11], [16, 25, 13]])
    p = np.array([[0.2, 0.3, 0.15], [0.25, 0.1, 0.3]])
    return DLMixFit(
        ("DYS19", "DYS390", "DYS392"), y, p, np.array([0.6, 0.4]), 0.0, 100.0, True, 0, 0
    )


@pytest.mark.parametrize(
    "text,unknowns",
    [("DYS19=14/15,DYS390=23/24,DYS392=11", 2), ("DYS19=14/15/16,DYS390=24,DYS392=11/13", 3),
     ("DYS19=15,DYS390=23/25,DYS392=13", 1)],
)  # fmt: skip
def test_probability__equals_exact_enumeration(text: str, unknowns: int) -> None:
    model = _small_model()
    mixture = Mixture.parse(text)
    loci, _ = _usable(mixture, model, [])
    assert _probability(model, loci, unknowns) == pytest.approx(
        _enumerated(model, mixture, [], unknowns), rel=1e-9
    )
    # With a known contributor (the first allele at each locus), one unknown fewer.
    known = Haplotype.parse({n: str(min(v) // 10) for n, v in mixture.alleles.items()})
    loci_k, _ = _usable(mixture, model, [known])
    kvals = tuple(min(mixture.alleles[c]) // 10 for c in model.columns)
    assert _probability(model, loci_k, unknowns - 1) == pytest.approx(
        _enumerated(model, mixture, [kvals], unknowns - 1), rel=1e-9, abs=1e-300
    )


def test_mixture_lr__true_contributor_above_one_and_excluded_loci_left_out() -> None:
    sec = _sections()
    model = _r_model(sec)
    h1 = _hap([int(v) for v in sec["h1"][0].split(",")])
    h2 = _hap([int(v) for v in sec["h2"][0].split(",")])
    mixture = Mixture.of([h1, h2])
    lr = mixture_lr(mixture, h1, model)
    assert lr.contributors == 2 and lr.lr > 1 and len(lr.loci_used) == 10
    # LR = P(h2-side | h1) / P(M | 2): by hand, P(M | h1, 1 unknown) = Σ_h P(h) over h
    # completing h1 to M; with h1's alleles fixed the unknown must carry the other allele
    # at every two-allele locus and either allele at the one-allele loci.
    assert lr.to_dict()["method"].startswith("Wolf")
    dropped = Haplotype.parse({**{n: str(h1[n]) for n in DANES_LOCI}, "DYS19": "19"})
    part = mixture_lr(mixture, dropped, model)
    assert "DYS19" in part.loci_left_out and len(part.loci_used) == 9
    with pytest.raises(InputError, match="fewer than the alleles allow"):
        mixture_lr(Mixture.parse("DYS19=13/14/15"), h1, model, contributors=2)


def test_mixtures__simulated_true_contributors_rank_high() -> None:
    """Simulated two- and three-man mixtures from the R model's haplotype distribution:
    the true contributors' LR exceeds 1 in most mixtures, and for two-man mixtures the
    true pair is the top contributor pair in a clear majority (figures in docs)."""
    sec = _sections()
    model = _r_model(sec)
    rng = np.random.default_rng(7)

    def draw() -> Haplotype:
        j = rng.choice(len(model.tau), p=model.tau)
        vals = []
        for k in range(len(DANES_LOCI)):
            p = model.p[j, k]
            # discrete Laplace: difference of two geometric variables
            d = rng.geometric(1 - p) - rng.geometric(1 - p)
            vals.append(int(model.y[j, k] + d))
        return _hap(vals)

    above = top_pair = trials = 0
    for n in (2, 3):
        for _ in range(20):
            men = [draw() for _ in range(n)]
            mixture = Mixture.of(men)
            lr = mixture_lr(mixture, men[0], model, contributors=n)
            above += lr.lr > 1
            trials += 1
            if n == 2:
                pairs = contributor_pairs(mixture, model)
                truth = {tuple(int(str(m[c])) for c in DANES_LOCI) for m in men}
                top_pair += {pairs[0].first, pairs[0].second} == truth
    assert above >= 0.8 * trials
    assert top_pair >= 10  # of 20 two-man mixtures
