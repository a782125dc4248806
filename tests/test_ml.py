"""Maximum likelihood of fixed-effects spatial panels.

Checked against: the true parameters of simulated panels; spreg's ML_LagFE,
Panel_FE_Lag and ML_ErrorFE; a dense log-likelihood built in this file from explicit
orthonormal transformation matrices and np.linalg.slogdet; a numerical Hessian of that
dense likelihood; transformed arrays, residuals, R-squared and information criteria
recomputed from the raw arrays with explicit demeaning matrices and parameters counted
by hand; a dummy-variable regression for the fixed effects; interpolated cells and
log values computed by hand from the CSV written in the test.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import libpysal
import numpy as np
import pandas as pd
import pytest
import spreg
from libpysal.weights import lat2W

from bayes_ccd.cli import main
from bayes_ccd.conventions import NATIONAL, PERIOD, UNIT
from bayes_ccd.data.panel import Panel, validate_panel
from bayes_ccd.data.regions import read_regions
from bayes_ccd.data.weights import from_dense, province_contiguity
from bayes_ccd.exceptions import (
    DataError,
    EstimationError,
    NumericalWarning,
    SpecificationError,
    WeightsError,
    WeightsWarning,
)
from bayes_ccd.settings import MLESettings
from bayes_ccd.spatial.arrays import PanelArrays
from bayes_ccd.spatial.design import ModelSpec, build_design, helmert
from bayes_ccd.spatial.ml import MLResult, concentrated_loglik, fit_ml, information_matrix
from bayes_ccd.spatial.mle import MLEFit
from bayes_ccd.spatial.model import SpatialPanel
from bayes_ccd.spatial.simulate import simulate_panel

SPREG_WARNINGS = "ignore::pandas.errors.Pandas4Warning"  # spreg 1.9 sort_values(inplace)
BETA = (1.0, -0.5)
THETA = (0.5, 0.3)
SPATIAL = 0.4


@pytest.fixture(scope="module")
def lattice():
    """Row-standardised rook contiguity of a 7 x 7 lattice (N = 49)."""
    ids = [f"u{i:02d}" for i in range(49)]
    return from_dense(lat2W(7, 7).full()[0], ids)


def _simulate(weights, model="sdm", fe="both", seed=1, n_periods=20, spatial=SPATIAL):
    theta = THETA if model in ("sdm", "sdem") else None
    return simulate_panel(
        weights,
        n_periods=n_periods,
        beta=BETA,
        theta=theta,
        spatial=spatial,
        model=model,
        fe=fe,
        seed=seed,
    )


def _truth(model: str, fe: str) -> np.ndarray:
    values = [1.0] if fe == "none" else []
    values += [*BETA, *(THETA if model in ("sdm", "sdem") else ()), SPATIAL, 1.0]
    return np.array(values)


@pytest.fixture(scope="module")
def sdm_two_way(lattice) -> MLResult:
    return fit_ml(_simulate(lattice), lattice, ModelSpec("sdm", "both"))


# --- recovery of known parameters -------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fe"),
    [
        ("sdm", "both"),
        ("sar", "both"),
        ("sem", "both"),
        ("sdem", "both"),
        ("sdm", "individual"),
        ("sdm", "time"),
        ("sdm", "none"),
        ("sem", "individual"),
    ],
)
def test_recovers_true_parameters(lattice, model: str, fe: str) -> None:
    data = _simulate(lattice, model, fe, seed=10 + len(model) + len(fe))
    result = fit_ml(data, lattice, ModelSpec(model, fe))
    z = (result.params - _truth(model, fe)) / result.std_errors
    # Each |z| exceeds 3 with probability 0.27% if the standard errors are right; with
    # at most 7 parameters and fixed seeds the check is deterministic and fails only
    # for a biased estimator or wrong standard errors.
    assert np.all(np.abs(z) < 3), dict(zip(result.terms, np.round(z, 2), strict=True))


@pytest.mark.slow
def test_lee_yu_sigma2_is_unbiased_and_within_is_not() -> None:
    """Monte Carlo (Lee & Yu 2010, Table 1): two-way effects, T = 5, N = 100.

    The within (direct) estimate of sigma2 converges to (N-1)(T-1)/(NT) sigma2 = 0.79;
    the Lee-Yu estimate to sigma2. Both keep the O(p/n) bias of any ML variance
    estimate (p = 3 regression parameters, n = 396 transformed observations).
    """
    ids = [f"u{i}" for i in range(100)]
    weights = from_dense(lat2W(10, 10).full()[0], ids)
    n_units, n_periods, reps = 100, 5, 150
    lee_yu, within = [], []
    for rep in range(reps):
        data = simulate_panel(
            weights, n_periods=n_periods, beta=BETA, spatial=SPATIAL, model="sar", seed=1000 + rep
        )
        lee_yu.append(fit_ml(data, weights, ModelSpec("sar", "both")).sigma2)
        within.append(fit_ml(data, weights, ModelSpec("sar", "both", "within")).sigma2)
    lee_yu, within = np.array(lee_yu), np.array(within)
    n_eff = (n_units - 1) * (n_periods - 1)
    slack = 3 / n_eff  # the O(p/n) finite-sample bias of an ML variance estimate
    se_lee_yu = lee_yu.std(ddof=1) / np.sqrt(reps)
    assert abs(lee_yu.mean() - 1.0) < 3 * se_lee_yu + slack
    factor = n_eff / (n_units * n_periods)
    se_within = within.std(ddof=1) / np.sqrt(reps)
    assert abs(within.mean() - factor) < 3 * se_within + slack
    assert 1.0 - within.mean() > 20 * se_within


# --- spreg ------------------------------------------------------------------------


def _spreg_inputs(data: PanelArrays, weights):
    w = libpysal.weights.full2W(weights.dense, ids=list(weights.units))
    n_periods, n_units = data.y.shape
    # spreg's long format: rows 0..N-1 are the first period, and so on.
    return data.y.reshape(-1, 1), data.x.reshape(n_periods * n_units, -1), w


@pytest.mark.filterwarnings(SPREG_WARNINGS)
def test_sar_individual_effects_match_spreg(lattice) -> None:
    data = _simulate(lattice, "sar", "individual", seed=3)
    y, x, w = _spreg_inputs(data, lattice)
    lee_yu = fit_ml(data, lattice, ModelSpec("sar", "individual"))
    within = fit_ml(data, lattice, ModelSpec("sar", "individual", "within"))
    n_obs = data.y.size
    # The deprecated Panel_FE_Lag omits "/ NT" inside log(sigma2) of its concentrated
    # log-likelihood (spreg/panel_fe.py, lag_c_loglik_sp), which shifts its value by the
    # constant NT/2 log(NT); ML_LagFE divides by NT.
    references = (
        (spreg.Panel_FE_Lag(y, x, w), 0.5 * n_obs * np.log(n_obs)),
        (spreg.ML_LagFE(y, x, w), 0.0),
    )
    for reference, offset in references:
        # spreg's Brent search stops at xatol = 1e-7 in rho; beta moves with rho.
        np.testing.assert_allclose(lee_yu.params[:3], reference.betas.ravel(), atol=1e-4)
        np.testing.assert_allclose(within.params[:3], reference.betas.ravel(), atol=1e-4)
        # spreg is the within estimator: sigma2 = e'e/(NT), log-likelihood on NT obs.
        assert within.sigma2 == pytest.approx(float(np.squeeze(reference.sig2)), rel=1e-4)
        assert within.loglik == pytest.approx(float(np.squeeze(reference.logll)) + offset, abs=1e-4)
        # Lee-Yu divides the same e'e by N(T-1).
        assert lee_yu.sigma2 == pytest.approx(within.sigma2 * 20 / 19, rel=1e-10)
        # Same expected information (Elhorst 2003) for beta and rho.
        np.testing.assert_allclose(within.std_errors[:3], reference.std_err.ravel(), rtol=1e-3)


@pytest.mark.filterwarnings(SPREG_WARNINGS)
def test_sdm_matches_spreg_with_slx_lags(lattice) -> None:
    data = _simulate(lattice, "sdm", "individual", seed=4)
    y, x, w = _spreg_inputs(data, lattice)
    reference = spreg.ML_LagFE(y, x, w, slx_lags=1)
    ours = fit_ml(data, lattice, ModelSpec("sdm", "individual"))
    np.testing.assert_allclose(ours.params[:5], reference.betas.ravel(), atol=1e-4)


@pytest.mark.filterwarnings(SPREG_WARNINGS)
def test_two_way_within_sdm_matches_spreg_time_dummies(lattice) -> None:
    data = _simulate(lattice, "sdm", "both", seed=5)
    y, x, w = _spreg_inputs(data, lattice)
    reference = spreg.ML_LagFE(y, x, w, slx_lags=1, time_effects=True).betas.ravel()
    # spreg's order: x, time dummies (T - 1), W x, rho.
    expected = np.concatenate([reference[:2], reference[-3:]])
    ours = fit_ml(data, lattice, ModelSpec("sdm", "both", "within"))
    np.testing.assert_allclose(ours.params[:5], expected, atol=1e-4)


@pytest.mark.filterwarnings(SPREG_WARNINGS)
def test_sem_individual_effects_match_spreg(lattice) -> None:
    data = _simulate(lattice, "sem", "individual", seed=6)
    y, x, w = _spreg_inputs(data, lattice)
    reference = spreg.ML_ErrorFE(y, x, w)
    ours = fit_ml(data, lattice, ModelSpec("sem", "individual"))
    np.testing.assert_allclose(ours.params[:3], np.ravel(reference.betas), atol=1e-4)


# --- the likelihood evaluated densely ------------------------------------------------


def _orthonormal_complement(m: int) -> np.ndarray:
    """F (m, m-1): eigenvectors of the demeaning matrix J with eigenvalue 1."""
    values, vectors = np.linalg.eigh(np.eye(m) - np.ones((m, m)) / m)
    return vectors[:, values > 0.5]


def dense_loglik(
    data: PanelArrays, W: np.ndarray, model: str, fe: str, transform: str, params: np.ndarray
) -> float:
    """The full log-likelihood written out with explicit F_T, F_N (Lee & Yu 2010) or
    demeaning (within), and np.linalg.slogdet for the Jacobian."""
    n_periods, n_units = data.y.shape
    x = data.x
    if model in ("sdm", "sdem"):
        x = np.concatenate([x, np.einsum("ij,tjk->tik", W, x)], axis=2)
    k = x.shape[2]
    beta, spatial, sigma2 = params[:k], params[k], params[k + 1]
    individual, time = fe in ("individual", "both"), fe in ("time", "both")
    if transform == "lee-yu":
        f_t = _orthonormal_complement(n_periods) if individual else np.eye(n_periods)
        f_n = _orthonormal_complement(n_units) if time else np.eye(n_units)
        jacobian_scale = f_t.shape[1]
    else:
        f_t = np.eye(n_periods) - (np.ones((n_periods,) * 2) / n_periods if individual else 0)
        f_n = np.eye(n_units) - (np.ones((n_units,) * 2) / n_units if time else 0)
        jacobian_scale = n_periods

    def transform_(values: np.ndarray) -> np.ndarray:  # (T, N[, K]) -> (T', N'[, K])
        return np.einsum("ts,sj...->tj...", f_t.T, np.einsum("sn...,nj->sj...", values, f_n))

    # Residuals of the untransformed model, then transformed: F_N' W = W** F_N' for a
    # row-stochastic W (Lee & Yu 2010), and Q(y - rho W y - X b) is the
    # residual of the dummy-variable (within) likelihood.
    w_y = data.y @ W.T
    if model in ("sdm", "sar"):
        e = transform_(data.y - spatial * w_y - x @ beta)
    else:
        u = data.y - x @ beta
        e = transform_(u - spatial * u @ W.T)
    w_star = f_n.T @ W @ f_n if transform == "lee-yu" else W
    _, logdet = np.linalg.slogdet(np.eye(w_star.shape[0]) - spatial * w_star)
    return float(
        -0.5 * e.size * np.log(2 * np.pi * sigma2)
        + jacobian_scale * logdet
        - np.sum(e * e) / (2 * sigma2)
    )


def _numerical_hessian(function, point: np.ndarray, step: float = 1e-4) -> np.ndarray:
    size = point.size
    h = step * np.maximum(np.abs(point), 0.1)
    out = np.empty((size, size))
    for i in range(size):
        for j in range(size):

            def f(a: float, b: float, i: int = i, j: int = j) -> float:
                x = point.copy()
                x[i] += a * h[i]
                x[j] += b * h[j]
                return function(x)

            out[i, j] = (f(1, 1) - f(1, -1) - f(-1, 1) + f(-1, -1)) / (4 * h[i] * h[j])
    return out


@pytest.mark.parametrize(
    ("model", "fe", "transform"),
    [
        ("sdm", "both", "lee-yu"),
        ("sem", "both", "lee-yu"),
        ("sdem", "time", "lee-yu"),
        ("sar", "individual", "lee-yu"),
        ("sdm", "both", "within"),
        ("sem", "individual", "within"),
    ],
)
def test_concentrated_equals_dense_full_loglik(lattice, model, fe, transform) -> None:
    data = _simulate(lattice, model, fe, seed=21)
    result = fit_ml(data, lattice, ModelSpec(model, fe, transform))
    dense = dense_loglik(data, lattice.dense, model, fe, transform, result.params)
    assert result.loglik == pytest.approx(dense, rel=1e-10)
    concentrated = concentrated_loglik(result.design, result.spatial)
    assert float(concentrated) == pytest.approx(dense, rel=1e-10)
    # The optimum: moving rho either way lowers the concentrated likelihood.
    nearby = concentrated_loglik(result.design, result.spatial + np.array([-1e-4, 1e-4]))
    assert np.all(nearby < concentrated)


@pytest.mark.parametrize(
    ("model", "transform"),
    [
        ("sdm", "lee-yu"),
        ("sem", "lee-yu"),
        ("sdm", "within"),
    ],
)
def test_information_matrix_against_numerical_hessian(lattice, model, transform) -> None:
    data = _simulate(lattice, model, "both", seed=22)
    spec = ModelSpec(model, "both", transform)
    expected = fit_ml(data, lattice, spec)
    observed = fit_ml(data, lattice, spec, information="observed")
    hessian = _numerical_hessian(
        lambda p: dense_loglik(data, lattice.dense, model, "both", transform, p), expected.params
    )
    numerical_se = np.sqrt(np.diag(np.linalg.inv(-hessian)))
    # The analytic observed information is the exact negative Hessian: agreement to the
    # O(h^2) error of central differences.
    np.testing.assert_allclose(observed.std_errors, numerical_se, rtol=1e-5)
    np.testing.assert_allclose(
        information_matrix(
            expected.design, expected.beta, expected.spatial, expected.sigma2, kind="observed"
        ),
        -hessian,
        rtol=1e-4,
        atol=1e-4,
    )
    # Expected and observed information are asymptotically equal; with n = 912 their
    # standard errors differ by O(n^-1/2) relative, a few percent.
    np.testing.assert_allclose(expected.std_errors, numerical_se, rtol=0.1)


def test_near_singular_information_falls_back_to_numerical_hessian(lattice, monkeypatch):
    data = _simulate(lattice, "sar", "both", seed=23)
    reference = fit_ml(data, lattice, ModelSpec("sar", "both"), information="observed")
    import bayes_ccd.spatial.ml as ml_module

    monkeypatch.setattr(ml_module, "information_matrix", lambda *args, **kwargs: np.ones((4, 4)))
    with pytest.warns(NumericalWarning, match="nearly singular"):
        result = fit_ml(data, lattice, ModelSpec("sar", "both"))
    assert result.information == "numerical Hessian"
    assert any("numerical Hessian" in w for w in result.warnings)
    np.testing.assert_allclose(result.std_errors, reference.std_errors, rtol=1e-4)


# --- the transformation ----------------------------------------------------------


def test_helmert_is_an_orthonormal_basis_of_deviations() -> None:
    m = 7
    H = helmert(np.eye(m), axis=0)  # (m-1, m)
    np.testing.assert_allclose(H @ H.T, np.eye(m - 1), atol=1e-14)
    np.testing.assert_allclose(H @ np.ones(m), 0, atol=1e-14)
    np.testing.assert_allclose(H.T @ H, np.eye(m) - 1 / m, atol=1e-14)


def _demeaning(m: int, remove: bool) -> np.ndarray:
    """The (m, m) matrix I - 1 1'/m (or I)."""
    return np.eye(m) - (np.ones((m, m)) / m if remove else 0.0)


@pytest.mark.parametrize("transform", ["lee-yu", "within"])
@pytest.mark.parametrize("fe", ["both", "individual", "time", "none"])
def test_design_equals_a_dense_transformation_of_the_raw_arrays(lattice, fe, transform) -> None:
    """The design's demeaned arrays equal Q_T Z Q_N with explicit demeaning matrices;
    its orthonormal arrays (Helmert contrasts) have the cross-products of F_T' Z F_N
    with F from an eigen-decomposition of Q (any orthonormal basis gives the same)."""
    data = _simulate(lattice, "sdm", fe, seed=24, n_periods=6)
    design = build_design(data, lattice, ModelSpec("sdm", fe, transform))
    n_periods, n_units = data.y.shape
    W = lattice.dense
    x = np.concatenate([data.x, np.einsum("ij,tjk->tik", W, data.x)], axis=2)
    if fe == "none":
        x = np.concatenate([np.ones((n_periods, n_units, 1)), x], axis=2)
    wx = np.einsum("ij,tjk->tik", W, x)
    raw = [data.y, data.y @ W.T, *np.moveaxis(x, 2, 0), *np.moveaxis(wx, 2, 0)]
    individual, time = fe in ("individual", "both"), fe in ("time", "both")
    q_t, q_n = _demeaning(n_periods, individual), _demeaning(n_units, time)
    ours = [design.y, design.wy, *np.moveaxis(design.X, 2, 0), *np.moveaxis(design.WX, 2, 0)]
    for a, b in zip(ours, raw, strict=True):
        np.testing.assert_allclose(a, q_t @ b @ q_n, atol=1e-12)
    if transform == "lee-yu":
        f_t = _orthonormal_complement(n_periods) if individual else np.eye(n_periods)
        f_n = _orthonormal_complement(n_units) if time else np.eye(n_units)
    else:  # dummies: the demeaned data with all N T rows
        f_t, f_n = q_t, q_n
    dense = np.column_stack([(f_t.T @ b @ f_n).ravel() for b in raw])
    ortho = design.orthonormal()
    z = np.column_stack([ortho.y, ortho.wy, ortho.X, ortho.WX])
    assert z.shape == dense.shape == (design.n_effective, dense.shape[1])
    gram = dense.T @ dense
    # Rounding of sums over a few hundred terms, relative to the largest cross-product.
    np.testing.assert_allclose(z.T @ z, gram, rtol=1e-10, atol=1e-10 * np.abs(gram).max())


def test_orthonormal_design_reproduces_the_likelihood(sdm_two_way: MLResult) -> None:
    design = sdm_two_way.design
    ortho = design.orthonormal()
    assert ortho.y.shape == (design.n_effective,) == (19 * 48,)
    e = ortho.y - sdm_two_way.spatial * ortho.wy - ortho.X @ sdm_two_way.beta
    assert e @ e == pytest.approx(sdm_two_way.sigma2 * design.n_effective, rel=1e-10)
    # log-Jacobian: (T-1)(log|I - rho W| - log(1 - rho)), W row-stochastic.
    rho = sdm_two_way.spatial
    _, logdet = np.linalg.slogdet(np.eye(49) - rho * design.W)
    assert float(design.log_jacobian(rho)) == pytest.approx(
        19 * (logdet - np.log(1 - rho)), rel=1e-12
    )


# --- fixed effects and goodness of fit ----------------------------------------------


def test_fixed_effects_match_dummy_variable_regression(lattice) -> None:
    data = _simulate(lattice, "sar", "both", seed=31)
    result = fit_ml(data, lattice, ModelSpec("sar", "both"))
    n_periods, n_units = data.y.shape
    target = (data.y - result.spatial * data.y @ lattice.dense.T).ravel()
    dummies_unit = np.tile(np.eye(n_units), (n_periods, 1))
    dummies_time = np.repeat(np.eye(n_periods), n_units, axis=0)[:, 1:]
    design = np.column_stack([data.x.reshape(-1, 2), dummies_unit, dummies_time])
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    np.testing.assert_allclose(result.beta, coef[:2], atol=1e-10)
    effects = result.fixed_effects()
    intercept = effects.loc[effects["effect"] == "intercept", "estimate"].item()
    mu = effects.loc[effects["effect"] == "unit", "estimate"].to_numpy()
    alpha = effects.loc[effects["effect"] == "period", "estimate"].to_numpy()
    ours = intercept + mu[None, :] + alpha[:, None]
    theirs = (design[:, 2:] @ coef[2:]).reshape(n_periods, n_units)
    np.testing.assert_allclose(ours, theirs, atol=1e-9)
    assert abs(mu.sum()) < 1e-9 and abs(alpha.sum()) < 1e-9


@pytest.mark.parametrize(
    ("model", "fe", "transform", "n_params", "n_effective"),
    [
        ("sdm", "both", "lee-yu", 2 + 2 + 1 + 1, 19 * 48),  # beta, theta, rho, sigma2
        ("sar", "individual", "lee-yu", 2 + 1 + 1, 19 * 49),  # beta, rho, sigma2
        ("sem", "both", "within", 2 + 1 + 1, 20 * 49),  # beta, lambda, sigma2
    ],
)
def test_information_criteria_and_r_squared_by_hand(
    lattice, model, fe, transform, n_params, n_effective
) -> None:
    data = _simulate(lattice, model, fe, seed=25)
    result = fit_ml(data, lattice, ModelSpec(model, fe, transform))
    loglik = dense_loglik(data, lattice.dense, model, fe, transform, result.params)
    assert result.aic == pytest.approx(2 * n_params - 2 * loglik, rel=1e-10)
    assert result.bic == pytest.approx(n_params * np.log(n_effective) - 2 * loglik, rel=1e-10)
    # R-squared from the raw arrays: residuals and reduced-form prediction of the
    # untransformed model, demeaned by explicit matrices, with the estimated parameters.
    n_periods, n_units = data.y.shape
    W = lattice.dense
    x = data.x
    if model in ("sdm", "sdem"):
        x = np.concatenate([x, np.einsum("ij,tjk->tik", W, x)], axis=2)
    k = x.shape[2]
    beta, spatial = result.params[:k], result.params[k]
    mean = x @ beta
    if model in ("sdm", "sar"):
        structural = data.y - spatial * data.y @ W.T - mean
        prediction = mean @ np.linalg.inv(np.eye(n_units) - spatial * W).T
    else:
        structural = (data.y - mean) - spatial * (data.y - mean) @ W.T
        prediction = mean
    q_t = _demeaning(n_periods, fe in ("individual", "both"))
    q_n = _demeaning(n_units, fe in ("time", "both"))
    e, y = q_t @ structural @ q_n, q_t @ data.y @ q_n
    r2 = result.r_squared
    assert r2["r2"] == pytest.approx(1 - np.sum(e**2) / np.sum((y - y.mean()) ** 2), rel=1e-10)
    overall = 1 - np.sum(e**2) / np.sum((data.y - data.y.mean()) ** 2)
    assert r2["r2_overall"] == pytest.approx(overall, rel=1e-10)
    corr = np.corrcoef(y.ravel(), (q_t @ prediction @ q_n).ravel())[0, 1]
    assert r2["corr2"] == pytest.approx(corr**2, rel=1e-10)
    # Wald intervals: estimate -/+ z_0.975 se, z_0.975 = 1.959963984540054.
    table = result.coefficients()
    half = 1.959963984540054 * table["std_error"]
    np.testing.assert_allclose(table["upper"] - table["estimate"], half, rtol=1e-12)
    np.testing.assert_allclose(table["estimate"] - table["lower"], half, rtol=1e-12)


def test_row_stochastic_w_has_upper_bound_exactly_one(lattice, sdm_two_way) -> None:
    # The eigen-solver returns the unit eigenvalue only to rounding (1/that was
    # 1.0000000000000002 for this lattice, ...04 for the provinces); it is exactly 1.
    assert lattice.rho_bounds()[1] == 1.0 and province_contiguity().rho_bounds()[1] == 1.0
    assert sdm_two_way.facts()["rho_bounds"][1] == 1.0


def test_effects_simulation_warning_is_recorded_in_the_report(sdm_two_way) -> None:
    """rho two standard errors below 1: about 2.3% of the normal draws exceed 1, more
    than the 1% that triggers the warning, far below the 25% that is an error."""
    se = sdm_two_way.std_errors[sdm_two_way.terms.index("rho")]
    near_bound = dataclasses.replace(sdm_two_way, spatial=1.0 - 2.0 * se)
    fit = MLEFit(near_bound, MLESettings(tests=False, effects_draws=2000), seed=3)
    with pytest.warns(NumericalWarning, match="fall outside its interval"):
        info = fit.info
    assert any("fall outside its interval" in m for m in info["warnings"])


# --- numerical trouble and bad input ----------------------------------------------------


def test_estimate_near_the_bound_warns(lattice) -> None:
    data = _simulate(lattice, "sar", "individual", seed=1, spatial=0.9999)
    with pytest.warns(NumericalWarning, match="within 0.001 of a bound"):
        result = fit_ml(data, lattice, ModelSpec("sar", "individual"))
    assert result.warnings


@pytest.mark.parametrize("model", ["sar", "sem"])
def test_perfect_fit_is_an_estimation_error(lattice, model) -> None:
    data = _simulate(lattice, "sar", "individual", seed=2)
    exact = PanelArrays(data.x @ np.array(BETA), data.x, data.units, data.periods)
    with pytest.raises(EstimationError, match="exact linear function"):
        fit_ml(exact, lattice, ModelSpec(model, "individual"))


def test_optimiser_failure_is_an_estimation_error(lattice, monkeypatch) -> None:
    import bayes_ccd.spatial.ml as ml_module

    class Failed:
        success, fun, x, message = False, np.nan, 0.0, "maximum iterations reached"

    monkeypatch.setattr(ml_module.optimize, "minimize_scalar", lambda *a, **k: Failed())
    with pytest.raises(EstimationError, match="maximum iterations reached"):
        fit_ml(_simulate(lattice, "sar", "both", seed=2), lattice, ModelSpec("sar", "both"))


def test_regressor_constant_within_units_is_named(lattice) -> None:
    data = _simulate(lattice, "sdm", "both", seed=3)
    x = data.x.copy()
    x[:, :, 1] = np.arange(49)[None, :]  # varies across units only
    bad = PanelArrays(data.y, x, data.units, data.periods, "y", ("gdp", "area"))
    with pytest.raises(SpecificationError, match=r"'area'.*individual effects"):
        fit_ml(bad, lattice, ModelSpec("sdm", "individual"))


def test_collinear_regressors_are_named(lattice) -> None:
    data = _simulate(lattice, "sar", "both", seed=3)
    x = np.concatenate([data.x, data.x.sum(axis=2, keepdims=True)], axis=2)
    bad = PanelArrays(data.y, x, data.units, data.periods, "y", ("a", "b", "a_plus_b"))
    with pytest.raises(SpecificationError, match=r"'a_plus_b' is a linear combination"):
        fit_ml(bad, lattice, ModelSpec("sar", "both"))


def test_weights_with_other_units_are_rejected(lattice) -> None:
    data = _simulate(lattice, "sar", "both", seed=3)
    other = from_dense(lat2W(7, 7).full()[0], [f"v{i:02d}" for i in range(49)])
    with pytest.raises(WeightsError, match="do not match"):
        fit_ml(data, other, ModelSpec("sar", "both"))


def _long_frame(data: PanelArrays) -> pd.DataFrame:
    n_periods, n_units = data.y.shape
    return pd.DataFrame(
        {
            UNIT: np.tile(data.units, n_periods),
            PERIOD: np.repeat(data.periods, n_units),
            "y": data.y.ravel(),
            "x1": data.x[..., 0].ravel(),
            "x2": data.x[..., 1].ravel(),
        }
    )


def test_unbalanced_panel_is_rejected(lattice) -> None:
    frame = _long_frame(_simulate(lattice, "sar", "both", seed=3)).iloc[1:]
    with pytest.raises(DataError, match="unbalanced"):
        validate_panel(frame, unit=UNIT, time=PERIOD)
    # A Panel built without validation is checked again before estimation.
    with pytest.raises(DataError, match="unbalanced"):
        fit_ml(
            Panel(frame.reset_index(drop=True)),
            lattice,
            ModelSpec("sar", "both", y="y", x=("x1", "x2")),
        )


def test_panel_input_equals_array_input(lattice) -> None:
    data = _simulate(lattice, "sar", "both", seed=3)
    panel = validate_panel(_long_frame(data), unit=UNIT, time=PERIOD)
    from_panel = fit_ml(panel, lattice, ModelSpec("sar", "both", y="y", x=("x1", "x2")))
    from_arrays = fit_ml(data, lattice, ModelSpec("sar", "both"))
    # Rounding differs (the panel path pivots a long table), the score root does not.
    np.testing.assert_allclose(from_panel.params, from_arrays.params, rtol=1e-10)


def test_time_effects_need_row_stochastic_weights(lattice) -> None:
    raw = from_dense(lat2W(7, 7).full()[0], list(lattice.units), transform="o")
    data = _simulate(lattice, "sar", "both", seed=3)
    with pytest.raises(SpecificationError, match="row-stochastic"):
        fit_ml(data, raw, ModelSpec("sar", "time"))
    # Without time effects a non-standardised W is fine, with bounds 1/lambda.
    result = fit_ml(data, raw, ModelSpec("sar", "individual"))
    hi = result.design.rho_bounds[1]
    assert hi == pytest.approx(1 / np.linalg.eigvalsh(raw.dense).max())


def test_too_few_periods_for_individual_effects(lattice) -> None:
    data = _simulate(lattice, "sar", "both", seed=3, n_periods=1)
    with pytest.raises(SpecificationError, match="at least 2 periods"):
        fit_ml(data, lattice, ModelSpec("sar", "both"))


def test_unknown_model_is_a_specification_error() -> None:
    with pytest.raises(SpecificationError, match="unknown model"):
        ModelSpec("slx")


# --- regions ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def provinces():
    weights = province_contiguity()
    data = simulate_panel(weights, n_periods=12, beta=BETA, theta=THETA, spatial=0.3, seed=41)
    return data, weights


def test_fit_by_region_cuts_and_restandardises_w(provinces) -> None:
    data, weights = provinces
    regions = read_regions()
    with pytest.warns(WeightsWarning, match="central: the neighbour graph has 2"):
        results = SpatialPanel(data=data, weights=weights, regions=regions).fit(by_region=True)
    assert list(results) == [NATIONAL, "east", "central", "west"]
    east = regions[regions == "east"].index.tolist()
    assert results["east"].design.n_units == len(east) == 11
    np.testing.assert_allclose(results["east"].design.W.sum(axis=1), 1.0)
    direct = fit_ml(data.subset(east), weights.subset(east), ModelSpec("sdm", "both"))
    np.testing.assert_allclose(results["east"].result.params, direct.params, rtol=1e-12)
    national = fit_ml(data, weights, ModelSpec("sdm", "both"))
    np.testing.assert_allclose(results[NATIONAL].result.params, national.params, rtol=1e-12)


def test_units_without_a_neighbour_in_their_region_are_dropped(provinces) -> None:
    data, weights = provinces
    regions = read_regions().copy()
    regions["Hainan"] = "west"  # Hainan's only neighbour, Guangdong, is in the east
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeightsWarning)
        results = SpatialPanel(data=data, weights=weights, regions=regions).fit(by_region=True)
    west = results["west"]
    assert west.dropped_units == ("Hainan",)
    assert "Hainan" not in west.design.data.units and west.design.n_units == 12
    assert any("Hainan" in message for message in west.warnings)


# --- command line -------------------------------------------------------------------


def _write_panel_csv(data: PanelArrays, path) -> None:
    frame = _long_frame(data).rename(
        columns={UNIT: "province", PERIOD: "year", "x1": "gdp", "x2": "edu"}
    )
    frame["gdp"] = np.exp(frame["gdp"])
    frame.to_csv(path, index=False)


def _fit_args(data, out, *extra: str, x: str = "gdp,edu") -> list[str]:
    """``bayes-ccd fit`` of the CSV of :func:`_write_panel_csv` on the bundled W."""
    return [
        "fit",
        "--data",
        str(data),
        "--unit",
        "province",
        "--time",
        "year",
        "--y",
        "y",
        "--x",
        x,
        "--weights",
        "bundled:province-contiguity",
        "--out",
        str(out),
        *extra,
    ]


def test_cli_fit_writes_the_output_layout(provinces, tmp_path, capsys) -> None:
    data, weights = provinces
    _write_panel_csv(data, tmp_path / "panel.csv")
    out = tmp_path / "fit"
    args = _fit_args(
        tmp_path / "panel.csv",
        out,
        "--log",
        "gdp",
        "--model",
        "sdm",
        "--fe",
        "both",
        "--estimator",
        "mle",
        "--by-region",
        "--effects-draws",
        "300",
    )
    with pytest.warns(WeightsWarning):
        assert main(args) == 0
    coefficients = pd.read_csv(out / "coefficients.csv")
    assert list(coefficients.columns) == [
        "term",
        "estimate",
        "std_error",
        "z",
        "p_value",
        "lower",
        "upper",
    ]
    assert list(coefficients["term"]) == ["ln_gdp", "edu", "W*ln_gdp", "W*edu", "rho", "sigma2"]
    effects = pd.read_csv(out / "effects.csv")
    assert list(effects.columns) == [
        "variable",
        "effect",
        "estimate",
        "std_error",
        "p_value",
        "lower",
        "upper",
    ]
    tests = pd.read_csv(out / "tests.csv")
    assert list(tests.columns) == ["test", "statistic", "df", "p_value"] and len(tests) == 10
    fit = pd.read_json(out / "fit.json", typ="series")
    assert fit["N"] == 31 and fit["T"] == 12 and fit["n_effective"] == 30 * 11
    for name in ("regression_table", "effects_table"):
        for suffix in ("csv", "md", "tex"):
            assert (out / f"{name}.{suffix}").is_file()
    for region in ("east", "central", "west"):
        assert (out / "regions" / region / "coefficients.csv").is_file()
    by_region = pd.read_csv(out / "effects_by_region.csv")
    assert set(by_region["region"]) == {NATIONAL, "east", "central", "west"}
    assert (out / "metadata.json").is_file()
    # The CLI only wires: its estimates are those of the library on the same data.
    expected = fit_ml(data, weights, ModelSpec("sdm", "both"))
    # gdp went through exp() into the CSV and log() out of it: rounding only.
    np.testing.assert_allclose(coefficients["estimate"], expected.params, rtol=1e-8)
    output = capsys.readouterr().out
    assert "national" in output and "Filled by linear interpolation" not in output
    assert fit["filled_cells"] == [] and not (out / "filled_cells.csv").exists()


@pytest.mark.parametrize(
    ("x", "extra", "message"),
    [
        ("gdp,missing_column", (), "missing_column"),
        ("gdp,gdp", (), "covariate(s) ['gdp'] listed twice"),
        ("y,gdp", (), "'y' is both the dependent variable and a covariate"),
        ("gdp,ln_gdp", ("--log", "gdp"), "covariate(s) ['ln_gdp'] listed twice"),
    ],
)
def test_cli_bad_variables_fail_without_output(provinces, tmp_path, capsys, x, extra, message):
    data, _ = provinces
    _write_panel_csv(data, tmp_path / "panel.csv")
    out = tmp_path / "fit"
    assert main(_fit_args(tmp_path / "panel.csv", out, *extra, x=x)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_cli_log_of_a_non_positive_value_names_the_cell(provinces, tmp_path, capsys) -> None:
    data, _ = provinces
    _write_panel_csv(data, tmp_path / "panel.csv")
    frame = pd.read_csv(tmp_path / "panel.csv")
    frame.loc[(frame["province"] == "Hubei") & (frame["year"] == 5), "gdp"] = 0.0
    frame.to_csv(tmp_path / "panel.csv", index=False)
    out = tmp_path / "fit"
    assert main(_fit_args(tmp_path / "panel.csv", out, "--log", "gdp")) == 2
    assert "column 'gdp', unit 'Hubei', period 5" in capsys.readouterr().err
    assert not out.exists()


def test_cli_fit_reports_the_interpolated_cells(provinces, tmp_path, capsys) -> None:
    data, weights = provinces
    _write_panel_csv(data, tmp_path / "panel.csv")
    frame = pd.read_csv(tmp_path / "panel.csv")
    hubei = frame["province"] == "Hubei"
    # Linear interpolation between periods 5 and 7 of Hubei: their mean, by hand.
    before, after = (frame.loc[hubei & (frame["year"] == t), "edu"].item() for t in (5, 7))
    frame["edu"] = frame["edu"].astype(object)
    frame.loc[hubei & (frame["year"] == 6), "edu"] = ""
    frame.to_csv(tmp_path / "panel.csv", index=False)
    out = tmp_path / "fit"
    args = _fit_args(
        tmp_path / "panel.csv",
        out,
        "--missing",
        "linear",
        "--by-region",
        "--no-tests",
        "--effects-inference",
        "delta",
    )
    with pytest.warns(WeightsWarning):
        assert main(args) == 0
    expected = pd.DataFrame(
        {"unit": ["Hubei"], "period": [6], "column": ["edu"], "value": [(before + after) / 2]}
    )
    # np.interp and the mean may differ in the last bit.
    pd.testing.assert_frame_equal(pd.read_csv(out / "filled_cells.csv"), expected, rtol=1e-12)
    info = json.loads((out / "fit.json").read_text(encoding="utf-8"))
    pd.testing.assert_frame_equal(pd.DataFrame(info["filled_cells"]), expected, rtol=1e-12)
    # Hubei is a central province: only that region's sample lists the cell.
    central = json.loads((out / "regions" / "central" / "fit.json").read_text(encoding="utf-8"))
    east = json.loads((out / "regions" / "east" / "fit.json").read_text(encoding="utf-8"))
    pd.testing.assert_frame_equal(pd.DataFrame(central["filled_cells"]), expected, rtol=1e-12)
    assert east["filled_cells"] == []
    assert (out / "regions" / "central" / "filled_cells.csv").is_file()
    assert not (out / "regions" / "east" / "filled_cells.csv").exists()
    output = capsys.readouterr().out
    assert (
        "Filled by linear interpolation, 1 cell(s) (listed in filled_cells.csv): Hubei 6 edu"
        in output
    )
    # The fit used the interpolated value (the CSV holds gdp = exp(x1), not logged here).
    x = np.concatenate([np.exp(data.x[..., :1]), data.x[..., 1:]], axis=2)
    x[5, data.units.index("Hubei"), 1] = (before + after) / 2  # period 6 is row 5
    expected_fit = fit_ml(dataclasses.replace(data, x=x), weights, ModelSpec("sdm", "both"))
    coefficients = pd.read_csv(out / "coefficients.csv")
    # The CSV round trip of the values costs rounding only.
    np.testing.assert_allclose(coefficients["estimate"], expected_fit.params, rtol=1e-8)


def test_write_fit_outputs_for_one_sample(sdm_two_way: MLResult, tmp_path) -> None:
    settings = MLESettings(
        tests=False, fixed_effects=True, effects_draws=200, effects_inference="delta"
    )
    written = MLEFit(sdm_two_way, settings).write(tmp_path / "one", metadata={"seed": 1})
    names = {p.name for p in written}
    assert {
        "coefficients.csv",
        "effects.csv",
        "tests.csv",
        "fit.json",
        "fixed_effects.csv",
        "regression_table.md",
        "effects_table.tex",
        "metadata.json",
        "fit.nc",
    } <= names
    assert pd.read_csv(tmp_path / "one" / "tests.csv").empty
    effects = pd.read_csv(tmp_path / "one" / "effects_table.csv")
    assert list(effects.columns[2:]) == ["direct", "indirect", "total"]
    fixed = pd.read_csv(tmp_path / "one" / "fixed_effects.csv")
    assert set(fixed["effect"]) == {"intercept", "unit", "period"} and len(fixed) == 1 + 49 + 20
