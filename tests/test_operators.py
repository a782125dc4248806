"""W as an operator: sparse lags, solves and traces against dense linear algebra."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial import cKDTree

from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.spatial.operators import (
    lag_traces,
    multiplier_traces,
    reduced_form_solve,
    require_dense,
    same_operator,
    series_terms,
    solve_system,
    spatial_lag,
)


def knn_matrix(n: int, k: int = 5, seed: int = 0) -> sparse.csr_matrix:
    """Row-standardised k-nearest-neighbour W (asymmetric) built with scipy alone."""
    points = np.random.default_rng(seed).uniform(size=(n, 2))
    _, index = cKDTree(points).query(points, k + 1)
    rows = np.repeat(np.arange(n), k)
    return sparse.csr_matrix((np.full(n * k, 1.0 / k), (rows, index[:, 1:].ravel())), (n, n))


def centring(n: int) -> np.ndarray:
    return np.eye(n) - np.full((n, n), 1.0 / n)


def test_sparse_lag_and_solve_equal_the_dense_ones() -> None:
    W = knn_matrix(60)
    values = np.random.default_rng(1).standard_normal((4, 60, 3))
    np.testing.assert_allclose(spatial_lag(W, values), spatial_lag(W.toarray(), values), atol=1e-13)
    np.testing.assert_allclose(
        spatial_lag(W, values[..., 0]), values[..., 0] @ W.toarray().T, atol=1e-13
    )
    dense = np.linalg.solve(np.eye(60) - 0.6 * W.toarray(), values[..., 0].T).T
    np.testing.assert_allclose(solve_system(W, 0.6, values[..., 0]), dense, atol=1e-12)
    np.testing.assert_allclose(solve_system(W.toarray(), 0.6, values[..., 0]), dense, atol=1e-12)
    rhos = np.array([0.2, -0.5])
    draws = np.random.default_rng(2).standard_normal((2, 4, 60))
    expected = [
        np.linalg.solve(np.eye(60) - r * W.toarray(), d.T).T
        for r, d in zip(rhos, draws, strict=True)
    ]
    np.testing.assert_allclose(reduced_form_solve(W, rhos, draws), expected, atol=1e-12)


@pytest.mark.parametrize("centred", [False, True])
def test_lag_traces_are_exact(centred: bool) -> None:
    W = knn_matrix(80, seed=3)
    dense = W.toarray()
    if centred:
        J = centring(80)
        dense = J @ dense @ J
    expected = np.trace(dense.T @ dense) + np.trace(dense @ dense)
    assert lag_traces(W, centred=centred) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("centred", [False, True])
def test_multiplier_traces_within_their_monte_carlo_error(centred: bool) -> None:
    n, rho = 400, 0.55
    W = knn_matrix(n, seed=4)
    G = W.toarray() @ np.linalg.inv(np.eye(n) - rho * W.toarray())
    if centred:
        J = centring(n)
        G = J @ G @ J
    exact = (np.trace(G), np.trace(G @ G), np.trace(G.T @ G))
    estimate = multiplier_traces(W, rho, centred=centred, probes=200, seed=5)
    errors = (estimate.trace_se, estimate.square_se, estimate.gram_se)
    for value, truth, se in zip(estimate[:3], exact, errors, strict=True):
        # Four standard errors: a 6e-5 chance per comparison under normality.
        assert abs(value - truth) < 4 * se
        # The standard error grows like sqrt(N / probes), the information like N.
        assert se < 0.01 * n


def test_same_operator_and_the_dense_only_guard() -> None:
    W = knn_matrix(30)
    assert same_operator(W, W.copy())
    assert not same_operator(W, 2 * W)
    assert not same_operator(W, W.toarray())
    require_dense(W.toarray(), "anything")
    with pytest.raises(SpecificationError, match="exact LOO needs the dense"):
        require_dense(W, "exact LOO")


def test_series_solve_equals_the_dense_inverse_for_every_draw():
    rng = np.random.default_rng(11)
    dense = (rng.uniform(size=(40, 40)) < 0.15) * rng.uniform(0.5, 1.5, (40, 40))
    np.fill_diagonal(dense, 0.0)
    dense /= np.maximum(dense.sum(axis=1, keepdims=True), 1e-12)
    W = sparse.csr_matrix(dense)
    spatial = np.array([-0.6, 0.0, 0.3, 0.85])
    values = rng.standard_normal((4, 3, 40))
    terms = series_terms(W, spatial)
    assert terms is not None
    solved = reduced_form_solve(W, spatial, values)
    for d, rho in enumerate(spatial):
        expected = np.linalg.solve(np.eye(40) - rho * dense, values[d].T).T
        np.testing.assert_allclose(solved[d], expected, rtol=0, atol=1e-10)
    # Near the bound the series would need too many terms: sparse LU per draw instead.
    assert series_terms(W, np.array([0.9999])) is None
    near = reduced_form_solve(W, np.array([0.9999]), values[:1])
    expected = np.linalg.solve(np.eye(40) - 0.9999 * dense, values[0].T).T
    np.testing.assert_allclose(near[0], expected, rtol=1e-9)
