"""Specification tests (the seed paper's Table 6) against independent calculations:
spreg's LM tests, Wald covariance and common-factor test; dense brute-force
implementations of the published LM formulas on explicitly transformed data; and
dummy-variable likelihoods maximised from scratch for the fixed-effects LR tests."""

from __future__ import annotations

import libpysal
import numpy as np
import pytest
import spreg
from libpysal.weights import lat2W
from scipy import optimize, sparse

from bayes_ccd.data.weights import from_dense
from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.spatial.design import ModelSpec
from bayes_ccd.spatial.ml import fit_ml
from bayes_ccd.spatial.simulate import simulate_panel
from bayes_ccd.spatial.specification import (
    fixed_effects_lr_tests,
    lm_tests,
    lr_test,
    specification_tests,
    wald_test,
)

SPREG_WARNINGS = "ignore::pandas.errors.Pandas4Warning"  # spreg 1.9 sort_values(inplace)


@pytest.fixture(scope="module")
def lattice():
    """Row-standardised rook contiguity of a 6 x 5 lattice (N = 30)."""
    return from_dense(lat2W(6, 5).full()[0], [f"r{i:02d}" for i in range(30)])


@pytest.fixture(scope="module")
def sdm_data(lattice):
    return simulate_panel(
        lattice,
        n_periods=8,
        beta=(1.0, -0.5),
        theta=(0.4, 0.2),
        spatial=0.3,
        model="sdm",
        fe="both",
        seed=5,
    )


def _complement(m: int) -> np.ndarray:
    """Orthonormal basis (m, m-1) of the vectors orthogonal to ones (eigh of J)."""
    values, vectors = np.linalg.eigh(np.eye(m) - np.ones((m, m)) / m)
    return vectors[:, values > 0.5]


# --- LM tests -----------------------------------------------------------------------


@pytest.mark.filterwarnings(SPREG_WARNINGS)
@pytest.mark.parametrize("fe", ["individual", "both"])
def test_within_lm_tests_match_spreg_on_demeaned_pooled_regression(lattice, sdm_data, fe):
    n_periods, n_units = sdm_data.y.shape
    # Demeaning over time (and over units for two-way effects) by explicit matrices.
    q_t = np.eye(n_periods) - np.ones((n_periods, n_periods)) / n_periods
    q_n = np.eye(n_units) - (np.ones((n_units, n_units)) / n_units if fe == "both" else 0.0)
    y = (q_t @ sdm_data.y @ q_n).reshape(-1, 1)
    x = np.einsum("ts,snk,nm->tmk", q_t, sdm_data.x, q_n).reshape(n_periods * n_units, -1)
    block = sparse.kron(sparse.identity(n_periods), sparse.csr_matrix(lattice.dense))
    # The block-diagonal W has one component per period; libpysal would warn about it.
    w = libpysal.weights.WSP(sparse.csr_matrix(block)).to_W(silence_warnings=True)
    reference = spreg.LMtests(spreg.OLS(y, x, nonspat_diag=False), w)
    ours = {
        t.test: t.statistic for t in lm_tests(sdm_data, lattice, ModelSpec("sdm", fe, "within"))
    }
    # Same formulas (Anselin et al. 1996), same residuals; rounding only.
    assert ours["LM-lag"] == pytest.approx(reference.lml[0], rel=1e-9)
    assert ours["LM-error"] == pytest.approx(reference.lme[0], rel=1e-9)
    assert ours["Robust LM-lag"] == pytest.approx(reference.rlml[0], rel=1e-9)
    assert ours["Robust LM-error"] == pytest.approx(reference.rlme[0], rel=1e-9)


def _dense_lm(y: np.ndarray, X: np.ndarray, W: np.ndarray) -> dict[str, float]:
    """Anselin, Bera, Florax & Yoon (1996), eqs. 8-13, with explicit matrices."""
    n = y.size
    M = np.eye(n) - X @ np.linalg.inv(X.T @ X) @ X.T
    b = np.linalg.solve(X.T @ X, X.T @ y)
    e = M @ y
    s2 = e @ e / n
    trace = np.trace(W.T @ W + W @ W)
    wxb = W @ X @ b
    nj = wxb @ M @ wxb / s2 + trace
    d_lag, d_err = e @ W @ y / s2, e @ W @ e / s2
    return {
        "LM-lag": d_lag**2 / nj,
        "LM-error": d_err**2 / trace,
        "Robust LM-lag": (d_lag - d_err) ** 2 / (nj - trace),
        "Robust LM-error": (d_err - trace / nj * d_lag) ** 2 / (trace * (1 - trace / nj)),
    }


@pytest.mark.parametrize("fe", ["individual", "both", "time"])
def test_lee_yu_lm_tests_match_dense_transformed_model(lattice, sdm_data, fe):
    """Debarsy & Ertur (2010): the classical LM tests of the Lee-Yu transformed model,
    whose errors are iid, with W** = F_N' W F_N for time effects."""
    n_periods, n_units = sdm_data.y.shape
    f_t = _complement(n_periods) if fe in ("individual", "both") else np.eye(n_periods)
    f_n = _complement(n_units) if fe in ("time", "both") else np.eye(n_units)
    y = (f_t.T @ sdm_data.y @ f_n).ravel()
    X = np.column_stack([(f_t.T @ sdm_data.x[..., k] @ f_n).ravel() for k in range(2)])
    W = np.kron(np.eye(f_t.shape[1]), f_n.T @ lattice.dense @ f_n)
    expected = _dense_lm(y, X, W)
    ours = {t.test: t.statistic for t in lm_tests(sdm_data, lattice, ModelSpec("sar", fe))}
    for name, value in expected.items():
        assert ours[name] == pytest.approx(value, rel=1e-9), name


# --- SDM against SAR and SEM --------------------------------------------------------------


@pytest.mark.filterwarnings(SPREG_WARNINGS)
def test_wald_and_lr_tests_match_spreg(lattice, sdm_data):
    y = sdm_data.y.reshape(-1, 1)
    x = sdm_data.x.reshape(-1, 2)
    w = libpysal.weights.full2W(lattice.dense, ids=list(lattice.units))
    sdm = spreg.ML_LagFE(y, x, w, slx_lags=1)
    sar = spreg.ML_LagFE(y, x, w)
    coef = sdm.betas.ravel()
    theta, vm = coef[2:4], sdm.vm
    wald_sar = theta @ np.linalg.solve(vm[2:4, 2:4], theta)
    wald_sem, _ = spreg.diagnostics_sp.comfac_test(coef[4], coef[:2, None], coef[2:4, None], vm)
    ours_sdm = fit_ml(sdm_data, lattice, ModelSpec("sdm", "individual", "within"))
    ours_sar = fit_ml(sdm_data, lattice, ModelSpec("sar", "individual", "within"))
    # spreg's covariance uses the same expected information (Elhorst 2003) at its own
    # estimates (|d rho| ~ 1e-7): agreement to 1e-4.
    assert wald_test(ours_sdm, "sar").statistic == pytest.approx(wald_sar, rel=1e-4)
    assert wald_test(ours_sdm, "sem").statistic == pytest.approx(wald_sem, rel=1e-4)
    lr = lr_test(ours_sdm, ours_sar)
    assert lr.df == 2
    assert lr.statistic == pytest.approx(2 * (float(sdm.logll) - float(sar.logll)), abs=1e-4)


def test_lr_refuses_likelihoods_of_different_observations(lattice, sdm_data):
    two_way = fit_ml(sdm_data, lattice, ModelSpec("sar", "both"))
    individual = fit_ml(sdm_data, lattice, ModelSpec("sar", "individual"))
    with pytest.raises(SpecificationError, match="differently transformed"):
        lr_test(two_way, individual, df=7)
    sdm = fit_ml(sdm_data, lattice, ModelSpec("sdm", "both"))
    with pytest.raises(SpecificationError, match="df >= 1"):
        lr_test(two_way, sdm)


def test_wald_needs_an_sdm(lattice, sdm_data):
    sar = fit_ml(sdm_data, lattice, ModelSpec("sar", "both"))
    with pytest.raises(SpecificationError, match="restrict an SDM"):
        wald_test(sar, "sar")


# --- fixed effects ----------------------------------------------------------------------


def _profile_loglik(y: np.ndarray, wy: np.ndarray, Z: np.ndarray, jacobian, bounds) -> float:
    """max over rho of -n/2 [log 2pi + 1 + log(e'e/n)] + jacobian(rho), e the
    least-squares residual of y - rho W y on Z (dummies included)."""
    n = y.size

    def negative(rho: float) -> float:
        r = y - rho * wy
        e = r - Z @ np.linalg.lstsq(Z, r, rcond=None)[0]
        return 0.5 * n * (np.log(2 * np.pi) + 1 + np.log(e @ e / n)) - jacobian(rho)

    grid = np.linspace(bounds[0] + 1e-3, bounds[1] - 1e-3, 60)
    start = grid[np.argmin([negative(r) for r in grid])]
    result = optimize.minimize_scalar(
        negative, bounds=(start - 0.05, start + 0.05), method="bounded", options={"xatol": 1e-10}
    )
    return -result.fun


def _dense_design(data, W, f_t, f_n):
    """Transform y, W y and [X, W X] of an SDM by F_T' (.) F_N, flattened."""
    wx = np.einsum("ij,tjk->tik", W, data.x)
    x = np.concatenate([data.x, wx], axis=2)
    y = (f_t.T @ data.y @ f_n).ravel()
    wy = (f_t.T @ data.y @ W.T @ f_n).ravel()
    X = np.column_stack([(f_t.T @ x[..., k] @ f_n).ravel() for k in range(x.shape[2])])
    return y, wy, X


@pytest.mark.parametrize("transform", ["lee-yu", "within"])
def test_fixed_effects_lr_tests_match_dummy_variable_likelihoods(lattice, sdm_data, transform):
    n_periods, n_units = sdm_data.y.shape
    W = lattice.dense
    bounds = lattice.rho_bounds()

    def logdet(matrix: np.ndarray, scale: int):
        return lambda rho: scale * np.linalg.slogdet(np.eye(len(matrix)) - rho * matrix)[1]

    if transform == "within":
        y, wy, X = _dense_design(sdm_data, W, np.eye(n_periods), np.eye(n_units))
        units = np.tile(np.eye(n_units), (n_periods, 1))
        periods = np.repeat(np.eye(n_periods), n_units, axis=0)
        jac = logdet(W, n_periods)
        both = _profile_loglik(y, wy, np.column_stack([X, units, periods[:, 1:]]), jac, bounds)
        only_time = _profile_loglik(y, wy, np.column_stack([X, periods]), jac, bounds)
        only_unit = _profile_loglik(y, wy, np.column_stack([X, units]), jac, bounds)
        lr_time, lr_unit = 2 * (both - only_unit), 2 * (both - only_time)
    else:
        # H0 no individual effects: time effects transformed away by F_N in both models.
        f_n = _complement(n_units)
        y, wy, X = _dense_design(sdm_data, W, np.eye(n_periods), f_n)
        jac = logdet(f_n.T @ W @ f_n, n_periods)
        units = np.tile(np.eye(n_units - 1), (n_periods, 1))
        lr_unit = 2 * (
            _profile_loglik(y, wy, np.column_stack([X, units]), jac, bounds)
            - _profile_loglik(y, wy, X, jac, bounds)
        )
        # H0 no time effects: individual effects transformed away by F_T in both.
        f_t = _complement(n_periods)
        y, wy, X = _dense_design(sdm_data, W, f_t, np.eye(n_units))
        jac = logdet(W, n_periods - 1)
        periods = np.repeat(np.eye(n_periods - 1), n_units, axis=0)
        lr_time = 2 * (
            _profile_loglik(y, wy, np.column_stack([X, periods]), jac, bounds)
            - _profile_loglik(y, wy, X, jac, bounds)
        )
    ours = fixed_effects_lr_tests(sdm_data, lattice, ModelSpec("sdm", "both", transform))
    assert ours[0].test.startswith("LR_both_ind") and ours[0].df == n_periods - 1
    assert ours[1].test.startswith("LR_both_time") and ours[1].df == n_units - 1
    # The brute force resolves rho to ~1e-8, which moves a maximum by ~1e-12.
    assert ours[0].statistic == pytest.approx(lr_time, rel=1e-7)
    assert ours[1].statistic == pytest.approx(lr_unit, rel=1e-7)


# --- the whole table ------------------------------------------------------------------


def test_specification_table_of_the_seed_paper(lattice, sdm_data):
    result = fit_ml(sdm_data, lattice, ModelSpec("sdm", "both"))
    table = specification_tests(result)
    assert list(table.columns) == ["test", "statistic", "df", "p_value"]
    assert list(table["test"].str.split(" ").str[0]) == [
        "LM-lag",
        "LM-error",
        "Robust",
        "Robust",
        "LR",
        "LR",
        "Wald",
        "Wald",
        "LR_both_ind",
        "LR_both_time",
    ]
    assert table["p_value"].between(0, 1).all() and (table["statistic"] >= 0).all()
    # theta != 0 in the simulated SDM: both restrictions are rejected.
    rows = table.set_index("test")
    assert rows.loc["Wald SDM/SAR (H0: theta = 0)", "p_value"] < 0.01
    assert rows.loc["LR SDM/SAR (H0: theta = 0)", "p_value"] < 0.01
