"""LeSage-Pace effects: eigenvalue formulas against explicit dense inverses, inference
against finite-difference delta method, and the theta term that spreg leaves out."""

from __future__ import annotations

import numpy as np
import pytest
from libpysal.weights import lat2W

from bayes_ccd.data.weights import province_contiguity
from bayes_ccd.exceptions import EstimationError, NumericalWarning, SpecificationError
from bayes_ccd.spatial.effects import (
    direct_effects,
    effects_from_draws,
    estimate_effects,
    indirect_effects,
    spectrum,
    total_effects,
)


def effects_inference(*args, prob: float = 0.95, **options):
    """The effect table at ``prob`` (estimates, then the table: what a fit reports)."""
    return estimate_effects(*args, **options).table(prob)


def dense_effects(rho: float, beta: np.ndarray, theta: np.ndarray, W: np.ndarray) -> np.ndarray:
    """(3, K) direct/indirect/total from S_k = (I - rho W)^{-1}(beta_k I + theta_k W),
    computed by an explicit inverse (LeSage & Pace 2009, ch. 2)."""
    n = W.shape[0]
    inverse = np.linalg.inv(np.eye(n) - rho * W)
    out = np.empty((3, beta.size))
    for k in range(beta.size):
        S = inverse @ (beta[k] * np.eye(n) + theta[k] * W)
        out[0, k] = np.trace(S) / n
        out[2, k] = S.sum() / n
        out[1, k] = out[2, k] - out[0, k]
    return out


def _knn_binary(n: int, k: int, seed: int) -> np.ndarray:
    """Directed k-nearest-neighbour weights of random points: asymmetric, so the
    spectrum is complex."""
    points = np.random.default_rng(seed).uniform(size=(n, 2))
    distance = np.linalg.norm(points[:, None] - points[None], axis=2)
    np.fill_diagonal(distance, np.inf)
    W = np.zeros((n, n))
    rows = np.repeat(np.arange(n), k)
    W[rows, np.argsort(distance, axis=1)[:, :k].ravel()] = 1.0
    return W


def _uneven_asymmetric(n: int, seed: int) -> np.ndarray:
    """Non-negative asymmetric W with unequal row sums (neither symmetric nor
    row-stochastic): exercises the general u_i v_i weights with complex eigenvalues."""
    rng = np.random.default_rng(seed)
    W = rng.uniform(size=(n, n)) * (rng.uniform(size=(n, n)) < 0.15)
    np.fill_diagonal(W, 0.0)
    return W / np.abs(np.linalg.eigvals(W)).max() * 0.9


def _weights_cases() -> dict[str, np.ndarray]:
    binary = lat2W(6, 5).full()[0]
    knn = _knn_binary(40, 4, seed=3)
    return {
        "row-standardised contiguity": province_contiguity().dense,
        "binary lattice (not row-standardised)": binary,
        "row-standardised knn (complex spectrum)": knn / knn.sum(axis=1, keepdims=True),
        "binary knn (complex, row sums 4)": knn,
        "uneven asymmetric (complex)": _uneven_asymmetric(35, seed=5),
    }


CASES = _weights_cases()


@pytest.mark.parametrize("name", list(CASES))
def test_eigen_formulas_equal_dense_inverse(name: str) -> None:
    W = CASES[name]
    spec = spectrum(W)
    if "complex" in name:
        assert np.iscomplexobj(spec.eigenvalues)
    radius = np.abs(np.linalg.eigvals(W)).max()
    rng = np.random.default_rng(11)
    rho = np.array([[0.6, -0.4, 0.0], [0.85, -0.7, 0.3]]) / radius
    beta = rng.normal(size=(2, 3, 4))
    theta = rng.normal(size=(2, 3, 4))
    draws = effects_from_draws(rho, beta, theta, spec)
    assert draws.direct.shape == (2, 3, 4)
    for index in np.ndindex(rho.shape):
        expected = dense_effects(rho[index], beta[index], theta[index], W)
        got = np.stack([draws.direct[index], draws.indirect[index], draws.total[index]])
        # Both sides are exact up to rounding of an N <= 40 inverse/eigen-decomposition.
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_single_effect_functions_agree_with_the_decomposition() -> None:
    W = CASES["row-standardised contiguity"]
    spec = spectrum(W)
    beta, theta = np.array([0.5, -1.0]), np.array([0.2, 0.7])
    expected = dense_effects(-0.3, beta, theta, W)
    np.testing.assert_allclose(direct_effects(-0.3, beta, theta, spec), expected[0], atol=1e-12)
    np.testing.assert_allclose(indirect_effects(-0.3, beta, theta, spec), expected[1], atol=1e-12)
    np.testing.assert_allclose(total_effects(-0.3, beta, theta, spec), expected[2], atol=1e-12)


def test_row_stochastic_total_is_closed_form() -> None:
    W = CASES["row-standardised contiguity"]
    beta, theta = np.array([0.5, -1.0]), np.array([0.2, 0.7])
    total = total_effects(0.4, beta, theta, spectrum(W))
    np.testing.assert_allclose(total, (beta + theta) / (1 - 0.4), rtol=1e-13)


def test_sar_and_error_models() -> None:
    W = CASES["binary knn (complex, row sums 4)"]
    spec = spectrum(W)
    beta, theta = np.array([0.5, -1.0]), np.array([0.2, 0.7])
    np.testing.assert_allclose(
        np.stack(effects_from_draws(0.1, beta, None, spec)),
        dense_effects(0.1, beta, np.zeros(2), W),
        atol=1e-10,
    )
    # SDEM: dE[y]/dx = beta I + theta W, so direct = beta (zero diagonal), total =
    # beta + theta * mean row sum (= 4 here).
    sdem = effects_from_draws(0.0, beta, theta, spec)
    np.testing.assert_allclose(sdem.direct, beta, atol=1e-12)
    np.testing.assert_allclose(sdem.total, beta + 4.0 * theta, atol=1e-10)


def _covariance(k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    root = rng.normal(size=(2 * k + 1, 2 * k + 1)) * 0.02
    return root @ root.T + 1e-4 * np.eye(2 * k + 1)


def test_delta_method_matches_finite_difference_gradient() -> None:
    W = CASES["uneven asymmetric (complex)"]
    rho, beta, theta = 0.3, np.array([0.5, -1.0]), np.array([0.2, 0.7])
    cov = _covariance(2, seed=1)
    table = effects_inference(rho, beta, theta, cov, spectrum(W), ["a", "b"], method="delta")
    point = np.concatenate([beta, theta, [rho]])

    def dense(params: np.ndarray) -> np.ndarray:
        return dense_effects(params[4], params[:2], params[2:4], W)

    step = 1e-6
    gradient = np.stack(
        [(dense(point + step * e) - dense(point - step * e)) / (2 * step) for e in np.eye(5)],
        axis=-1,
    )  # (3, K, 5)
    expected_se = np.sqrt(np.einsum("ekp,pq,ekq->ek", gradient, cov, gradient))
    got = table.set_index(["effect", "variable"])["std_error"]
    for e, kind in enumerate(("direct", "indirect", "total")):
        for k, name in enumerate("ab"):
            # central differences with h = 1e-6 are accurate to ~1e-9 relative here
            assert got[(kind, name)] == pytest.approx(expected_se[e, k], rel=1e-6)
    np.testing.assert_allclose(
        table["estimate"].to_numpy().reshape(2, 3).T, dense(point), atol=1e-10
    )


def test_simulation_is_seeded_and_agrees_with_delta_method() -> None:
    W = CASES["row-standardised contiguity"]
    spec = spectrum(W)
    rho, beta, theta = 0.3, np.array([0.5, -1.0]), np.array([0.2, 0.7])
    cov = _covariance(2, seed=2)
    bounds = (-1.5, 1.0)
    first = effects_inference(
        rho, beta, theta, cov, spec, ["a", "b"], n_draws=20000, seed=7, rho_bounds=bounds
    )
    again = effects_inference(
        rho, beta, theta, cov, spec, ["a", "b"], n_draws=20000, seed=7, rho_bounds=bounds
    )
    other = effects_inference(
        rho, beta, theta, cov, spec, ["a", "b"], n_draws=20000, seed=8, rho_bounds=bounds
    )
    delta = effects_inference(rho, beta, theta, cov, spec, ["a", "b"], method="delta")
    assert first.equals(again)
    assert not np.allclose(first["std_error"], other["std_error"])
    # With 20000 draws a standard deviation has a Monte Carlo error of about
    # 1/sqrt(2 * 20000) = 0.5%; the effects are nearly linear for sd(rho) ~ 0.02, so the
    # two standard errors agree within a few percent.
    np.testing.assert_allclose(first["std_error"], delta["std_error"], rtol=0.03)
    inside = (first["lower"] < first["estimate"]) & (first["estimate"] < first["upper"])
    assert inside.all()


def test_fixed_zero_effect_has_no_test() -> None:
    spec = spectrum(CASES["row-standardised contiguity"])
    cov = np.zeros((5, 5))
    cov[:2, :2] = np.diag([0.01, 0.02])
    table = effects_inference(0.0, np.array([1.0, 2.0]), None, cov, spec, ["a", "b"])
    indirect = table[table["effect"] == "indirect"]
    assert (indirect["estimate"] == 0).all() and indirect["p_value"].isna().all()


def test_bad_covariance_shape_is_an_error() -> None:
    spec = spectrum(CASES["row-standardised contiguity"])
    with pytest.raises(SpecificationError, match="covariance"):
        effects_inference(0.1, np.ones(2), None, np.eye(3), spec, ["a", "b"])


@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")  # spreg 1.9 inplace sort
def test_direct_effect_differs_from_spreg_only_by_the_theta_term() -> None:
    """spreg's impacts (spreg/sputils.py, _sp_effects: "Assumes all SLX effects are
    indirect effects") compute direct = beta_k (1/N) tr[(I - rho W)^{-1}]; the
    LeSage-Pace direct effect adds theta_k (1/N) tr[(I - rho W)^{-1} W]."""
    import libpysal
    import spreg

    from bayes_ccd.spatial.design import ModelSpec
    from bayes_ccd.spatial.ml import fit_ml
    from bayes_ccd.spatial.simulate import simulate_panel

    weights = province_contiguity()
    data = simulate_panel(
        weights,
        n_periods=12,
        beta=(1.0, -0.5),
        theta=(0.5, 0.3),
        spatial=0.4,
        fe="individual",
        seed=9,
    )
    w = libpysal.weights.full2W(weights.dense, ids=list(weights.units))
    reg = spreg.ML_LagFE(
        data.y.reshape(-1, 1), data.x.reshape(-1, 2), w, slx_lags=1, spat_impacts="full"
    )
    adi, _, ati = reg.sp_multipliers["full"]
    coef = reg.betas.ravel()
    spreg_direct, spreg_total = adi * coef[:2], ati * (coef[:2] + coef[2:4])
    # These are the numbers spreg prints in its "SPATIAL DURBIN MODEL IMPACTS" table.
    impacts = reg.summary.split("Impacts computed using the 'full' method.")[1]
    printed = [line.split() for line in impacts.splitlines() if line.strip().startswith("var_")]
    np.testing.assert_allclose([float(row[1]) for row in printed], spreg_direct, atol=1e-4)

    ours = fit_ml(data, weights, ModelSpec("sdm", "individual"))
    table = (
        ours.effect_estimates(method="delta").table().set_index(["effect", "variable"])["estimate"]
    )
    direct = table.loc["direct"].to_numpy()
    total = table.loc["total"].to_numpy()
    n = weights.n
    inverse = np.linalg.inv(np.eye(n) - ours.spatial * weights.dense)
    missing = ours.beta[2:4] * np.trace(inverse @ weights.dense) / n
    assert np.all(np.abs(missing) > 0.01)  # the omission matters
    # spreg stops its search at |d rho| ~ 1e-7: agreement to 1e-5.
    np.testing.assert_allclose(direct - spreg_direct, missing, atol=1e-5)
    np.testing.assert_allclose(total, spreg_total, atol=1e-5)


def test_draws_of_rho_outside_its_interval() -> None:
    spec = spectrum(CASES["row-standardised contiguity"])
    cov = np.diag([0.01, 0.01, 0.0, 0.0, 0.0004])  # sd(rho) = 0.02
    with pytest.warns(NumericalWarning, match="redrawn"):
        table = effects_inference(
            0.97, np.ones(2), None, cov, spec, ["a", "b"], seed=1, rho_bounds=(-1.6, 1.0)
        )
    assert np.isfinite(table["std_error"]).all()
    with pytest.raises(EstimationError, match="normal approximation is unusable"):
        effects_inference(
            0.999, np.ones(2), None, cov, spec, ["a", "b"], seed=1, rho_bounds=(-1.6, 1.0)
        )
    with pytest.raises(SpecificationError, match="at least 2 draws"):
        effects_inference(0.5, np.ones(2), None, cov, spec, ["a", "b"], n_draws=1)


def test_simulated_intervals_are_the_quantiles_of_the_draws() -> None:
    spec = spectrum(CASES["row-standardised contiguity"])
    cov = _covariance(2, seed=3)
    estimates = estimate_effects(
        0.3, np.array([0.5, -1.0]), np.array([0.2, 0.7]), cov, spec, ["a", "b"], n_draws=500
    )
    for prob in (0.5, 0.9):
        table = estimates.table(prob).set_index(["effect", "variable"])
        tail = (1 - prob) / 2
        for e, kind in enumerate(("direct", "indirect", "total")):
            for k, name in enumerate("ab"):
                draws = np.sort(estimates.draws[e, :, k])
                # numpy's default quantile: linear interpolation at (n - 1) q
                position = (draws.size - 1) * tail
                low = draws[int(position)] + (position % 1) * np.diff(draws)[int(position)]
                assert table.loc[(kind, name), "lower"] == pytest.approx(low, rel=1e-12)
                assert table.loc[(kind, name), "std_error"] == pytest.approx(draws.std(ddof=1))
