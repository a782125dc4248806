"""Traces of W^k and the effect multipliers at large N, against dense numpy truth."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.spatial.traces import (
    TRACE_ORDER,
    TRACE_PROBES,
    TraceEstimate,
    TraceSpectrum,
    trace_powers,
)

N = 120
K = 5
RHOS = np.array([-0.8, -0.3, 0.0, 0.2, 0.5, 0.7, 0.9])
EXACT_TOL = 1e-12


def binary_knn(n: int, k: int, seed: int) -> np.ndarray:
    """Dense 0/1 k-nearest-neighbour matrix of uniform random points (no self-links)."""
    pts = np.random.default_rng(seed).random((n, 2))
    dist = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=-1)
    np.fill_diagonal(dist, np.inf)
    nearest = np.argsort(dist, axis=1)[:, :k]
    B = np.zeros((n, n))
    B[np.repeat(np.arange(n), k), nearest.ravel()] = 1.0
    return B


def row_standardised(n: int = N, k: int = K, seed: int = 3) -> np.ndarray:
    B = binary_knn(n, k, seed)
    return B / B.sum(axis=1, keepdims=True)


def general(n: int = N, k: int = K, seed: int = 4) -> np.ndarray:
    """Asymmetric, not row-stochastic: kNN links with random weights and a self-weight.

    The diagonal makes t_1 non-zero (exercises the exact diagonal); scaling by
    0.9 / max row sum gives ||W||_inf = 0.9 with unequal row sums.
    """
    rng = np.random.default_rng(seed)
    B = binary_knn(n, k, seed) * rng.uniform(0.2, 1.0, (n, n))
    B += np.diag(rng.uniform(0.0, 0.3, n))
    return 0.9 * B / B.sum(axis=1).max()


def dense_truth(W: np.ndarray, rho: float) -> np.ndarray:
    """[a, b, c, d] from the dense inverse A = (I - rho W)^{-1}."""
    n = W.shape[0]
    A = np.linalg.inv(np.eye(n) - rho * W)
    ones = np.ones(n)
    WA = W @ A
    return np.array([np.trace(A), np.trace(WA), ones @ A @ ones, ones @ WA @ ones]) / n


def dense_derivative(W: np.ndarray, rho: float) -> np.ndarray:
    """Analytic d/drho [a, b, c, d]: dA/drho = A W A, so e.g. a' = tr(W A^2)/N (W, A commute)."""
    n = W.shape[0]
    A = np.linalg.inv(np.eye(n) - rho * W)
    ones = np.ones(n)
    WAA = W @ A @ A
    WWAA = W @ WAA
    return np.array([np.trace(WAA), np.trace(WWAA), ones @ WAA @ ones, ones @ WWAA @ ones]) / n


@pytest.fixture(scope="module")
def rs() -> tuple[np.ndarray, TraceSpectrum]:
    W = row_standardised()
    return W, TraceSpectrum(trace_powers(sp.csr_matrix(W), seed=11), row_stochastic=True)


@pytest.fixture(scope="module")
def gen() -> tuple[np.ndarray, TraceSpectrum]:
    W = general()
    return W, TraceSpectrum(trace_powers(sp.csr_matrix(W), seed=12), row_stochastic=False)


@pytest.fixture(params=["rs", "gen"])
def case(request) -> tuple[np.ndarray, TraceSpectrum]:
    return request.getfixturevalue(request.param)


def test_constants_and_shapes(rs) -> None:
    _, spec = rs
    est = spec.estimate
    assert isinstance(est, TraceEstimate)
    assert TRACE_ORDER >= 50 and TRACE_PROBES >= 2
    assert est.order == TRACE_ORDER and est.probes == TRACE_PROBES and est.n == N
    assert est.traces.shape == (TRACE_ORDER + 2,)
    assert est.sums.shape == (TRACE_ORDER + 2,)
    assert est.probe_traces.shape == (TRACE_PROBES, TRACE_ORDER + 2)
    assert spec.n == N and est.seconds > 0


def test_exact_traces_and_sums(case) -> None:
    W, spec = case
    est = spec.estimate
    n = W.shape[0]
    for j in range(3):
        truth = np.trace(np.linalg.matrix_power(W, j)) / n
        assert abs(est.traces[j] - truth) <= EXACT_TOL
        # Exact entries add no Monte Carlo variance.
        assert np.all(est.probe_traces[:, j] == est.traces[j])
    ones = np.ones(n)
    for j in (0, 1, 2, 5, 17, 60, TRACE_ORDER + 1):
        truth = ones @ np.linalg.matrix_power(W, j) @ ones / n
        assert abs(est.sums[j] - truth) <= EXACT_TOL
    assert est.norm == pytest.approx(np.abs(W).sum(axis=1).max(), abs=EXACT_TOL)


def test_monte_carlo_traces_within_four_standard_errors(case) -> None:
    W, spec = case
    est = spec.estimate
    n = W.shape[0]
    for j in (3, 4, 6, 9, 15):
        truth = np.trace(np.linalg.matrix_power(W, j)) / n
        se = est.probe_traces[:, j].std(ddof=1) / np.sqrt(est.probes)
        assert se > 0
        assert abs(est.traces[j] - truth) <= 4 * se


def test_multipliers_match_dense_inverse(case) -> None:
    W, spec = case
    m = spec.multipliers(RHOS)
    se = spec.standard_errors(RHOS)
    bound = spec.truncation_bound(RHOS)
    assert m.shape == se.shape == (RHOS.size, 4) and bound.shape == RHOS.shape
    for i, rho in enumerate(RHOS):
        truth = dense_truth(W, rho)
        err = np.abs(m[i] - truth)
        assert np.all(err[:2] <= 4 * se[i, :2] + bound[i] + 1e-12), (rho, err, se[i])
        # c and d: no Monte Carlo error, only truncation (none for row-stochastic W).
        assert np.all(se[i, 2:] == 0)
        assert np.all(err[2:] <= 1e-10 + (0 if spec.row_stochastic else bound[i])), (rho, err)


def test_row_stochastic_totals_closed_form(rs) -> None:
    _, spec = rs
    m = spec.multipliers(RHOS)
    np.testing.assert_allclose(m[:, 2], 1 / (1 - RHOS), rtol=0, atol=1e-14)
    np.testing.assert_allclose(m[:, 3], 1 / (1 - RHOS), rtol=0, atol=1e-14)
    dm = spec.multipliers(RHOS, derivative=True)
    for col in (2, 3):
        np.testing.assert_allclose(dm[:, col], 1 / (1 - RHOS) ** 2, rtol=0, atol=1e-13)


def test_general_totals_exact(gen) -> None:
    W, spec = gen
    # Where the truncation bound is negligible, c and d agree with the inverse to 1e-10.
    rhos = np.array([-0.8, 0.3, 0.7])
    assert np.all(spec.truncation_bound(rhos) < 1e-11)
    m = spec.multipliers(rhos)
    for i, rho in enumerate(rhos):
        np.testing.assert_allclose(m[i, 2:], dense_truth(W, rho)[2:], rtol=0, atol=1e-10)


def test_derivative_matches_analytic_dense(case) -> None:
    W, spec = case
    rhos = np.array([-0.6, 0.0, 0.4, 0.8])
    dm = spec.multipliers(rhos, derivative=True)
    # Monte Carlo error of a' = sum_j j rho^(j-1) t_j, from the same per-probe values.
    est = spec.estimate
    m = est.order
    centred = est.probe_traces - est.traces
    for i, rho in enumerate(rhos):
        truth = dense_derivative(W, rho)
        weights = np.zeros(m + 2)
        weights[1 : m + 1] = np.arange(1, m + 1) * rho ** np.arange(m)
        se_a = np.std(centred @ weights, ddof=1) / np.sqrt(est.probes)
        se_b = np.std(centred[:, 1:] @ weights[:-1], ddof=1) / np.sqrt(est.probes)
        # Tail of sum_j j x^(j-1) for x = |rho| q, q = ||W||_inf <= 1.
        x = abs(rho) * est.norm
        tail = sum(j * x ** (j - 1) for j in range(m + 1, m + 400))
        assert abs(dm[i, 0] - truth[0]) <= 4 * se_a + tail + 1e-10, (rho, dm[i], truth)
        assert abs(dm[i, 1] - truth[1]) <= 4 * se_b + tail + 1e-10, (rho, dm[i], truth)
        np.testing.assert_allclose(dm[i, 2:], truth[2:], rtol=0, atol=1e-9 + tail)


def test_derivative_consistent_with_series_finite_difference(gen) -> None:
    # The series derivative is the derivative of the series: central differences of the
    # module's own multipliers agree to O(h^2) (h = 1e-5) plus rounding (~1e-16 / h).
    _, spec = gen
    h = 1e-5
    rhos = np.array([-0.5, 0.1, 0.6])
    fd = (spec.multipliers(rhos + h) - spec.multipliers(rhos - h)) / (2 * h)
    np.testing.assert_allclose(spec.multipliers(rhos, derivative=True), fd, rtol=0, atol=1e-8)


def test_more_probes_smaller_error() -> None:
    W = row_standardised(n=80, k=4, seed=7)
    truth = dense_truth(W, 0.5)
    few = TraceSpectrum(trace_powers(W, probes=10, seed=1), True)
    many = TraceSpectrum(trace_powers(W, probes=2000, seed=1), True)
    assert abs(many.multipliers(0.5)[0] - truth[0]) <= 1e-3
    assert abs(many.multipliers(0.5)[1] - truth[1]) <= 1e-3
    assert many.standard_errors(0.5)[0] < few.standard_errors(0.5)[0] / 5


def test_standard_error_matches_probe_spread(gen) -> None:
    # se(a) is the sd over probes of each probe's own a_p, divided by sqrt(P).
    _, spec = gen
    est = spec.estimate
    rho = 0.6
    powers = rho ** np.arange(est.order + 1)
    a_p = est.probe_traces[:, : est.order + 1] @ powers
    b_p = est.probe_traces[:, 1:] @ powers
    se = spec.standard_errors(rho)
    assert se.shape == (4,)
    assert se[0] == pytest.approx(a_p.std(ddof=1) / np.sqrt(est.probes), rel=1e-10)
    assert se[1] == pytest.approx(b_p.std(ddof=1) / np.sqrt(est.probes), rel=1e-10)


def test_shapes_scalar_and_many_draws(rs) -> None:
    _, spec = rs
    assert spec.multipliers(0.3).shape == (4,)
    assert spec.truncation_bound(0.3).shape == ()
    rho = np.random.default_rng(0).uniform(-0.9, 0.95, (4, 1000))
    m = spec.multipliers(rho)
    assert m.shape == (4, 1000, 4)
    # Same values whatever the shape (up to the rounding of a different matrix product).
    np.testing.assert_allclose(m[2, 17], spec.multipliers(rho[2, 17]), rtol=1e-14)
    assert spec.standard_errors(rho).shape == (4, 1000, 4)
    assert spec.multipliers(rho, derivative=True).shape == (4, 1000, 4)


def test_truncation_bound(rs, gen) -> None:
    _, spec = rs
    m = spec.estimate.order
    np.testing.assert_allclose(
        spec.truncation_bound(np.array([0.5, -0.9])),
        [0.5 ** (m + 1) / 0.5, 0.9 ** (m + 1) / 0.1],
        rtol=1e-12,
    )
    assert spec.truncation_bound(1.0) == np.inf
    _, g = gen
    q = g.estimate.norm
    assert g.truncation_bound(1 / q) == np.inf and np.isfinite(g.truncation_bound(0.99 / q))


def test_seeded() -> None:
    W = sp.csr_matrix(general(n=60, k=4, seed=9))
    first = trace_powers(W, order=20, probes=8, seed=5)
    again = trace_powers(W, order=20, probes=8, seed=5)
    other = trace_powers(W, order=20, probes=8, seed=6)
    np.testing.assert_array_equal(first.probe_traces, again.probe_traces)
    assert not np.allclose(first.traces[3:], other.traces[3:])
    np.testing.assert_array_equal(first.traces[:3], other.traces[:3])
    np.testing.assert_array_equal(first.sums, other.sums)


def test_any_sparse_format() -> None:
    W = general(n=50, k=3, seed=2)
    ref = trace_powers(sp.csr_matrix(W), order=10, probes=4, seed=0)
    for convert in (sp.coo_matrix, sp.csc_matrix, sp.lil_matrix, sp.csr_array, np.asarray):
        est = trace_powers(convert(W), order=10, probes=4, seed=0)
        np.testing.assert_allclose(est.probe_traces, ref.probe_traces, rtol=1e-13, atol=1e-15)


def test_facts_json_ready(rs) -> None:
    import json

    _, spec = rs
    facts = spec.facts()
    assert json.loads(json.dumps(facts)) == facts
    assert facts["method"] == "traces"
    assert facts["order"] == TRACE_ORDER and facts["probes"] == TRACE_PROBES
    assert facts["seed"] == 11 and facts["n"] == N and facts["seconds"] > 0


@pytest.mark.parametrize(
    "W",
    [
        sp.csr_matrix(np.ones((3, 4))),
        sp.csr_matrix((0, 0)),
        "not a matrix",
        object(),
        sp.csr_matrix(np.array([[0.0, np.nan], [1.0, 0.0]])),
    ],
)
def test_bad_matrix(W) -> None:
    with pytest.raises(SpecificationError):
        trace_powers(W, order=5, probes=3)


@pytest.mark.parametrize(
    ("order", "probes", "seed"),
    [(1, 10, 0), (0, 10, 0), (5, 1, 0), (5, 0, 0), (2.5, 10, 0), (5, 10, -1), (5, 10, 0.5)],
)
def test_bad_order_probes_or_seed(order, probes, seed) -> None:
    W = sp.identity(5, format="csr")
    with pytest.raises(SpecificationError):
        trace_powers(W, order=order, probes=probes, seed=seed)
