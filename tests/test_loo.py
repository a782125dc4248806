"""Exact leave-one-out for the spatial likelihoods against dense multivariate normals.

The pointwise values are checked against the conditional of the full ``N T``-variate
normal (Schur complement of its covariance), and the fixed-effect draws against the
dense generalised least-squares posterior built from explicit Kronecker matrices.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import linalg, stats

import bayes_ccd as bc
from bayes_ccd.spatial.bayes.loo import fixed_effect_draws, pointwise_log_predictive
from bayes_ccd.spatial.design import ModelSpec, build_design

N, T = 7, 3


@pytest.fixture(scope="module")
def weights():
    rng = np.random.default_rng(3)
    A = np.triu((rng.random((N, N)) < 0.45).astype(float), 1)
    A = A + A.T
    for i in range(N):  # a ring guarantees every unit a neighbour
        A[i, (i + 1) % N] = A[(i + 1) % N, i] = 1.0
    return bc.weights_from_array(A, [f"u{i}" for i in range(N)])


def design_of(weights, model, fe="both"):
    data = bc.simulate_panel(
        weights, n_periods=T, beta=[0.7, -0.3], theta=[0.2, 0.1], spatial=0.35, seed=11
    )
    spec = ModelSpec(model=model, fe=fe)
    return build_design(data, weights, spec)


def dense_loo(design, spatial, beta, sigma2, fixed):
    """``log p(y_it | y_-it)`` from the full covariance of all ``N T`` cells."""
    W = design.W
    M = np.eye(N) - spatial * W
    inv = np.linalg.inv(M)
    precision_block = M.T @ M / sigma2
    cov = linalg.block_diag(*[np.linalg.inv(precision_block)] * T)
    mean_parts = []
    for t in range(T):
        xb = design.raw_X[t] @ beta + fixed[t]
        mean_parts.append(inv @ xb if design.spec.is_lag else xb)
    mean = np.concatenate(mean_parts)
    y = design.data.y.reshape(-1)
    out = np.empty(N * T)
    for i in range(N * T):
        rest = np.delete(np.arange(N * T), i)
        gain = np.linalg.solve(cov[np.ix_(rest, rest)], cov[rest, i])
        m = mean[i] + gain @ (y[rest] - mean[rest])
        v = cov[i, i] - cov[i, rest] @ gain
        out[i] = stats.norm.logpdf(y[i], m, np.sqrt(v))
    return out.reshape(T, N)


@pytest.mark.parametrize("model", ["sar", "sem", "sdm", "sdem"])
def test_pointwise_loo_equals_dense_conditional(weights, model):
    design = design_of(weights, model)
    rng = np.random.default_rng(5)
    S, K = 4, design.n_coefficients
    spatial = rng.uniform(-0.5, 0.8, S)
    beta = rng.normal(0.0, 0.5, (S, K))
    sigma2 = rng.uniform(0.3, 2.0, S)
    fixed = rng.normal(size=(S, T, N))
    fast = pointwise_log_predictive(design, spatial, beta, sigma2, fixed)
    for s in range(S):
        dense = dense_loo(design, spatial[s], beta[s], sigma2[s], fixed[s])
        np.testing.assert_allclose(fast[s], dense, rtol=0, atol=1e-8)


def dense_fixed_effect_posterior(design, spatial, beta, sigma2):
    """Mean and covariance of ``f = D gamma`` given the other parameters (dense GLS)."""
    M = np.eye(N) - spatial * design.W
    unit = np.kron(np.ones((T, 1)), np.eye(N))  # rows: period-major cells
    period = np.kron(np.eye(T), np.ones((N, 1)))[:, 1:]
    D = np.hstack([unit, period])
    Y = design.data.y.reshape(-1)
    Xb = np.concatenate([design.raw_X[t] @ beta for t in range(T)])
    big_m = np.kron(np.eye(T), M)
    if design.spec.is_lag:
        u, omega = big_m @ Y - Xb, np.eye(N * T)
    else:
        u, omega = Y - Xb, big_m.T @ big_m
    gram = D.T @ omega @ D
    mean = D @ np.linalg.solve(gram, D.T @ omega @ u)
    cov = sigma2 * D @ np.linalg.solve(gram, D.T)
    return mean, cov


@pytest.mark.parametrize("model", ["sdm", "sdem"])
def test_fixed_effect_draws_follow_their_conditional_posterior(weights, model):
    design = design_of(weights, model)
    S = 20000
    spatial = np.full(S, 0.3)
    beta = np.tile(np.array([0.6, -0.2, 0.1, 0.05]), (S, 1))
    sigma2 = np.full(S, 0.8)
    draws = fixed_effect_draws(design, spatial, beta, sigma2, np.random.default_rng(1))
    flat = draws.reshape(S, -1)
    mean, cov = dense_fixed_effect_posterior(design, 0.3, beta[0], 0.8)
    sd = np.sqrt(np.diag(cov))
    # Monte Carlo: the sample mean has sd sd/sqrt(S); 5 of those bounds all 21 cells.
    np.testing.assert_array_less(np.abs(flat.mean(0) - mean), 5 * sd / np.sqrt(S))
    # The sample covariance has relative error about sqrt(2/S) ~ 0.01 on the diagonal.
    np.testing.assert_allclose(np.cov(flat.T), cov, atol=0.05 * np.max(np.diag(cov)))


def test_loo_of_an_exact_fit_has_one_value_per_cell(weights):
    data = bc.simulate_panel(weights, n_periods=T, beta=[0.7, -0.3], spatial=0.3, seed=2)
    fit = bc.SpatialPanel(data=data, weights=weights, model="sar").fit(
        method="bayes", draws=500, chains=2, seed=4, ppc_draws=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a 7-unit panel has influential cells
        loo = fit.loo()
    assert loo.pareto_k.shape == (N, T)
    assert np.isfinite(loo.elpd) and loo.se > 0
    # elpd_loo is below the log pointwise predictive density computed in-sample.
    lpd = fit.with_log_likelihood().tree["log_likelihood"]["y"]
    assert loo.elpd < float(np.log(np.exp(lpd).mean(("chain", "draw"))).sum())
