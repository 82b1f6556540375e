"""The dlmix kernels against their slow twins in ``tests/naive.py``.

* ``pam``: PAM is a local search, so its medoids must be a SWAP local optimum (no single
  exchange lowers the objective: checked by trying every exchange) and never better than
  the global optimum (exact enumeration of every k-subset); on data with planted,
  well-separated clusters it must reach the global optimum.
* ``estep``: responsibilities and M-step sums equal a plain numpy log-sum-exp E-step.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests import naive

from patriline.stats import _dlmix_kernels as K


def _data(seed: int, n: int, loci: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(10, 16, size=(n, loci)).astype(np.int32)
    w = rng.integers(1, 4, size=n).astype(np.float64)
    return x, w


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 9), k=st.integers(1, 3))
def test_pam__is_a_swap_local_optimum_never_below_the_global_one(seed: int, n: int, k: int) -> None:
    k = min(k, n)
    x, w = _data(seed, n, 4)
    d = K.manhattan_matrix(x)
    medoids = K.pam(d, w, k, 1000)
    assert len(set(medoids.tolist())) == k
    cost = naive.kmedoids_cost(d, w, medoids.tolist())
    assert naive.best_single_swap(d, w, medoids.tolist()) >= cost - 1e-9
    global_cost, _ = naive.brute_force_kmedoids(d, w, k)
    assert cost >= global_cost - 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_pam__planted_clusters__reaches_the_global_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = np.array([[10, 10, 10], [20, 20, 20], [30, 30, 30]])
    x = np.concatenate([c + rng.integers(-1, 2, size=(3, 3)) for c in centres]).astype(np.int32)
    w = rng.integers(1, 5, size=len(x)).astype(np.float64)
    d = K.manhattan_matrix(x)
    medoids = K.pam(d, w, 3, 1000)
    global_cost, _ = naive.brute_force_kmedoids(d, w, 3)
    assert naive.kmedoids_cost(d, w, medoids.tolist()) == pytest.approx(global_cost)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 50), c=st.integers(1, 4))
def test_estep__equals_plain_logsumexp(seed: int, n: int, c: int) -> None:
    rng = np.random.default_rng(seed)
    x, w = _data(seed, n, 5)
    y = rng.integers(10, 16, size=(c, 5)).astype(np.int32)
    logp = np.log(rng.uniform(0.05, 0.6, size=(c, 5)))
    tau = rng.dirichlet(np.ones(c))
    v = np.full((n, c), 1.0 / c)
    _, vmax, wsum, ssum = K.estep(
        x.astype(np.float64), w, y.astype(np.float64), logp, np.log(tau), v
    )
    v_ref, w_ref, s_ref = naive.estep(
        x.astype(np.float64), w, y.astype(np.float64), logp, np.log(tau)
    )
    np.testing.assert_allclose(v, v_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(wsum, w_ref, rtol=1e-9)
    np.testing.assert_allclose(ssum, s_ref, rtol=1e-9, atol=1e-9)
    assert vmax == pytest.approx(v_ref.max())


def test_hash_rows__python_path_equals_the_kernel() -> None:
    """A query (at most ``PYTHON_MAX`` rows) is hashed in Python integers to spare a CLI
    search numba's start-up; it must give the kernel's hashes bit for bit (the DYS389
    segment position included)."""
    import numpy as np

    from patriline.search import _hash_kernels as hk

    rng = np.random.default_rng(3)
    for _ in range(200):
        ncol, n = int(rng.integers(1, 40)), int(rng.integers(1, hk.PYTHON_MAX + 1))
        values = rng.integers(-4, 400, size=(ncol, n)).astype(np.int16)
        cols = rng.permutation(ncol)[: int(rng.integers(1, ncol + 1))].astype(np.int64)
        seg, i1 = int(rng.integers(-1, len(cols))), int(rng.integers(0, ncol))
        seed = int(rng.integers(0, 2**31))
        kernel = np.empty(n, dtype=np.uint64)
        hk._hash_rows_serial(values, cols, seg, i1, seed, kernel)
        assert (hk.hash_rows(values, cols, seg, i1, seed) == kernel).all()
