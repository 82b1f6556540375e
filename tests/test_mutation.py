"""Tests of the stepwise mutation model (patriline.stats.mutation)."""

from __future__ import annotations

import numpy as np
import pytest

from patriline.haplotype import compare, parse_haplotype_string
from patriline.stats.mutation import (
    ColumnObservation,
    StepwiseModel,
    difference_table,
    log_likelihood,
    meioses_posterior,
    observations,
)


def test_difference_table__rows_are_distributions() -> None:
    model = StepwiseModel(max_meioses=20)
    table = difference_table(0.01, model)
    assert table.shape == (21, 81)
    np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-12)
    # Symmetric kernel: P(d) = P(-d).
    np.testing.assert_allclose(table, table[:, ::-1], atol=1e-15)


def test_difference_table__one_meiosis_is_the_kernel() -> None:
    """m = 1 by hand: P(0) = 1-μ, P(±1) = μ(1-s)/2, P(±2) = μs/2."""
    mu, s = 0.004, 0.03
    model = StepwiseModel(two_step_share=s, max_meioses=3)
    row = difference_table(mu, model)[1]
    mid = 6
    assert row[mid] == pytest.approx(1 - mu)
    assert row[mid + 1] == pytest.approx(mu * (1 - s) / 2)
    assert row[mid - 2] == pytest.approx(mu * s / 2)
    assert row[mid + 3] == 0.0


def test_difference_table__two_meioses_by_enumeration() -> None:
    """m = 2 by exact enumeration of the 5 x 5 pairs of one-meiosis changes."""
    mu, s = 0.05, 0.2
    model = StepwiseModel(two_step_share=s, max_meioses=2)
    kernel = {-2: mu * s / 2, -1: mu * (1 - s) / 2, 0: 1 - mu, 1: mu * (1 - s) / 2, 2: mu * s / 2}
    expected = dict.fromkeys(range(-4, 5), 0.0)
    for a, pa in kernel.items():
        for b, pb in kernel.items():
            expected[a + b] += pa * pb
    row = difference_table(mu, model)[2]
    for d, p in expected.items():
        assert row[d + 4] == pytest.approx(p, rel=1e-12)


def test_difference_table__matches_simulation() -> None:
    """Independent check: Monte Carlo of m transmissions (200,000 draws) vs the convolution."""
    rng = np.random.default_rng(7)
    mu, s, m, n = 0.05, 0.03, 12, 200_000
    model = StepwiseModel(two_step_share=s, max_meioses=m)
    mutate = rng.random((n, m)) < mu
    size = np.where(rng.random((n, m)) < s, 2, 1)
    sign = np.where(rng.random((n, m)) < 0.5, -1, 1)
    net = (mutate * size * sign).sum(axis=1)
    row = difference_table(mu, model)[m]
    for d in (0, 1, -1, 2):
        observed = np.mean(net == d)
        sd = np.sqrt(row[d + 2 * m] * (1 - row[d + 2 * m]) / n)
        assert abs(observed - row[d + 2 * m]) < 5 * sd


def test_meioses_posterior__identical_profiles_favour_close_relatives() -> None:
    h = parse_haplotype_string("DYS19=14,DYS449=30,DYS576=18,DYS570=17,DYS518=38")
    post = meioses_posterior(observations(compare(h, h)), StepwiseModel(rate_uncertainty=False))
    assert post.mode == 1
    assert np.all(np.diff(post.probabilities) < 0)  # each extra meiosis lowers P(no change)
    assert post.probabilities.sum() == pytest.approx(1.0)


def test_meioses_posterior__more_differences_mean_more_meioses() -> None:
    a = parse_haplotype_string("DYS449=30,DYS576=18,DYS570=17,DYS518=38,DYS627=21")
    b1 = parse_haplotype_string("DYS449=31,DYS576=18,DYS570=17,DYS518=38,DYS627=21")
    b3 = parse_haplotype_string("DYS449=31,DYS576=19,DYS570=16,DYS518=38,DYS627=21")
    p1 = meioses_posterior(observations(compare(a, b1)))
    p3 = meioses_posterior(observations(compare(a, b3)))
    assert p3.mean() > p1.mean()
    assert p3.log_marginal < p1.log_marginal
    lo, hi = p3.interval(0.9)
    assert 1 <= lo <= p3.mode <= hi <= 40


def test_observations__dys389_segment_counts_one_mutation_once() -> None:
    """A DYS389I mutation changes DYS389II too; on the II-I segment it is seen once."""
    a = parse_haplotype_string("DYS389I=13,DYS389II=29")
    b = parse_haplotype_string("DYS389I=14,DYS389II=30")
    obs = observations(compare(a, b))
    assert [(o.locus, o.steps) for o in obs] == [("DYS389I", 1), ("DYS389II", 0)]
    assert obs[1].segment


def test_observations__non_stepwise_and_null() -> None:
    a = parse_haplotype_string("DYS458=15.2,DYS392=null,DYS19=14")
    b = parse_haplotype_string("DYS458=15,DYS392=11,DYS19=14")
    obs = {o.locus: o for o in observations(compare(a, b))}
    assert not obs["DYS458"].stepwise
    assert not obs["DYS392"].stepwise
    assert obs["DYS19"].stepwise and obs["DYS19"].steps == 0


def test_log_likelihood__non_stepwise_is_rare() -> None:
    model = StepwiseModel(rate_uncertainty=False)
    step = log_likelihood([ColumnObservation("DYS19", 1)], model)
    odd = log_likelihood([ColumnObservation("DYS19", 0, stepwise=False)], model)
    assert np.isneginf(odd[0]) and np.isneginf(step[0])
    assert odd[1] < step[1]  # 1e-4 per meiosis vs μ(1-s)/2 ≈ 1.1e-3


def test_stepwise_model__rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="two_step_share"):
        StepwiseModel(two_step_share=1.5)
    with pytest.raises(ValueError, match="max_meioses"):
        StepwiseModel(max_meioses=0)
    with pytest.raises(ValueError, match="prior"):
        meioses_posterior([], StepwiseModel(max_meioses=5), prior=np.ones(3))


def test_rate_node_table__equals_scipy_beta_quantiles() -> None:
    """The packaged nodes (a search need not import SciPy) are the Beta posterior
    quantiles SciPy gives (independent computation: ``scipy.stats.beta.ppf``)."""
    import numpy as np
    from scipy import stats

    from patriline.stats.mutation import _node_table

    table = _node_table()
    assert len(table) >= 30
    for key, nodes in table.items():
        k, n, q = (float(x) for x in key.split(","))
        expected = stats.beta(k + 0.5, n - k + 0.5).ppf((np.arange(int(q)) + 0.5) / q)
        assert np.allclose(nodes, expected, rtol=1e-12, atol=0), key
