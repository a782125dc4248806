"""The NUTS target written out (:class:`PosteriorDensity`) against what did not produce it.

Checked against: the PyMC model of ``build_pymc_model`` (its log density, transform
Jacobian included) and PyTensor's automatic gradient of it; the numba-compiled density
against the NumPy one, real and complex spectra; central finite differences
on the large-panel log-determinants (sparse LU spline, Chebyshev), which PyMC cannot
take; the exact sampler on the same design, within Monte Carlo error.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import bayes_ccd as bc
from bayes_ccd.data.weights import province_contiguity
from bayes_ccd.settings import BayesSettings
from bayes_ccd.spatial.bayes.density import PosteriorDensity
from bayes_ccd.spatial.bayes.estimator import SpatialPanelBayes
from bayes_ccd.spatial.bayes.nuts import build_pymc_model
from bayes_ccd.spatial.bayes.priors import (
    DEFAULT_PRIOR,
    CoefficientPrior,
    Prior,
    SigmaPrior,
    SpatialPrior,
    prior_parameters,
)
from bayes_ccd.spatial.design import ModelSpec, build_design
from bayes_ccd.spatial.simulate import simulate_panel

NON_CONJUGATE = Prior(
    CoefficientPrior(kind="independent_normal", scale=0.5),
    SigmaPrior(kind="half_normal", scale=0.5),
    SpatialPrior(kind="beta", a=2.0, b=3.0),
    name="non-conjugate",
)


@functools.cache
def knn_400() -> bc.SpatialWeights:
    """k = 6 nearest neighbours of 400 random points: a W the sparse path serves."""
    points = np.random.default_rng(1).uniform(0, 20, (400, 2))
    frame = pd.DataFrame(points, columns=["x", "y"], index=[f"u{i}" for i in range(400)])
    return bc.knn_weights(frame, k=6)


def _design(model: str, fe: str, weights=None, logdet: str = "eigen"):
    weights = province_contiguity() if weights is None else weights
    theta = (0.5, 0.3) if model in ("sdm", "sdem") else None
    data = simulate_panel(
        weights,
        n_periods=8,
        beta=(1.0, -0.5),
        theta=theta,
        spatial=0.4,
        model=model,
        fe=fe,
        seed=3,
    )
    return build_design(data, weights, ModelSpec(model, fe, logdet=logdet))


def _points(density: PosteriorDensity, size: int = 8) -> np.ndarray:
    return np.random.default_rng(4).uniform(-1.5, 1.5, (size, density.ndim))


@pytest.mark.parametrize(
    ("model", "fe"), [("sdm", "both"), ("sem", "both"), ("sar", "none"), ("sdem", "individual")]
)
@pytest.mark.parametrize("prior", [DEFAULT_PRIOR, NON_CONJUGATE], ids=["default", "nonconj"])
def test_density_and_gradient_equal_the_pymc_model(model, fe, prior) -> None:
    """Same value (no constant apart) and PyTensor's gradient, at random points."""
    design = _design(model, fe)
    params = prior_parameters(prior, design)
    density = PosteriorDensity(design, params)
    pymc_model = build_pymc_model(design, params)
    logp = pymc_model.compile_logp(jacobian=True)
    dlogp = pymc_model.compile_dlogp(jacobian=True)
    name = f"{design.spec.spatial_parameter}_interval__"
    for x in _points(density):
        point = {name: np.asarray(x[0]), "beta": x[1:-1], "log_sigma": np.asarray(x[-1])}
        value, gradient = density(x)
        assert value == pytest.approx(float(logp(point)), abs=1e-9 * max(1.0, abs(value)))
        np.testing.assert_allclose(gradient, dlogp(point), rtol=1e-9, atol=1e-9)


def _compiled(density: PosteriorDensity, x: np.ndarray) -> tuple[int, float, np.ndarray]:
    """Call the numba C callback as nutpie does: status, log density, gradient."""
    import ctypes

    from bayes_ccd.spatial.bayes.compiled_density import _log_density, packed_data

    data = packed_data(density)
    x = np.ascontiguousarray(x, dtype=float)
    gradient, logp = np.zeros_like(x), np.zeros(1)
    pointer = ctypes.POINTER(ctypes.c_double)
    status = _log_density.ctypes(
        x.size, *(a.ctypes.data_as(pointer) for a in (x, gradient, logp, data))
    )
    return status, float(logp[0]), gradient


@pytest.mark.parametrize(
    ("model", "fe", "weights"),
    [("sdm", "both", "provinces"), ("sem", "both", "provinces"), ("sdm", "both", "knn-400")],
)
@pytest.mark.parametrize("prior", [DEFAULT_PRIOR, NON_CONJUGATE], ids=["default", "nonconj"])
def test_compiled_density_equals_the_numpy_density(model, fe, weights, prior) -> None:
    """The numba callback and the NumPy density agree to rounding, on the symmetric-like
    province W (real eigenvalues) and a kNN W (not symmetric: complex eigenvalues)."""
    design = _design(model, fe, None if weights == "provinces" else knn_400())
    if weights == "knn-400":
        assert np.iscomplexobj(design.logdet.eigenvalues)
    density = PosteriorDensity(design, prior_parameters(prior, design))
    for x in _points(density):
        value, gradient = density(x)
        status, compiled_value, compiled_gradient = _compiled(density, x)
        assert status == 0
        assert compiled_value == pytest.approx(value, rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(compiled_gradient, gradient, rtol=1e-10, atol=1e-9)
    x = np.zeros(density.ndim)
    x[0] = 40.0  # rho at its bound: refused, as the NumPy density's -inf
    assert _compiled(density, x)[0] != 0


@pytest.mark.parametrize("logdet", ["sparse-lu", "chebyshev"])
def test_gradient_on_the_large_panel_log_determinants(logdet) -> None:
    """The gradient is the derivative of the value, where the log-determinant is a
    spline or a Chebyshev series: central differences, step h = 1e-5, whose error
    (h^2 f'''/6 plus rounding |f| eps/h) is below 1e-6 of the gradient's scale here."""
    design = _design("sdm", "both", knn_400(), logdet=logdet)
    assert design.logdet.method == logdet
    density = PosteriorDensity(design, prior_parameters(DEFAULT_PRIOR, design))
    h = 1e-5
    for x in _points(density, 4):
        gradient = density(x)[1]
        numeric = np.array(
            [
                (density(x + h * e)[0] - density(x - h * e)[0]) / (2 * h)
                for e in np.eye(density.ndim)
            ]
        )
        scale = np.abs(gradient).max()
        np.testing.assert_allclose(gradient, numeric, atol=1e-6 * scale)


def test_density_vanishes_where_the_spatial_parameter_reaches_a_bound() -> None:
    design = _design("sdm", "both")
    density = PosteriorDensity(design, prior_parameters(DEFAULT_PRIOR, design))
    for z in (-40.0, 40.0):
        x = np.zeros(density.ndim)
        x[0] = z
        value, gradient = density(x)
        assert value == -np.inf and np.all(gradient == 0.0)
    assert density.spatial(density.unconstrained(0.3)) == pytest.approx(0.3, abs=1e-14)


def test_direct_nuts_agrees_with_the_exact_sampler_on_a_sparse_design() -> None:
    """NUTS on a sparse-LU design (no eigenvalue, no dense W): rho, beta, sigma2 and
    every effect agree with exact draws of the same design within 4 sqrt(mcse_nuts^2 +
    mcse_exact^2), MCSE of the mean and of the sd."""
    weights = knn_400()
    arrays = simulate_panel(
        weights, n_periods=8, beta=(1.0, -0.5), theta=(0.5, 0.3), spatial=0.4, seed=5
    )
    spec = ModelSpec("sdm", "both", logdet="sparse-lu")
    fits = {
        sampler: SpatialPanelBayes(
            spec, sampler=sampler, draws=1000, tune=500, chains=4, ppc_draws=0
        ).fit(arrays, weights, seed=8)
        for sampler in ("nuts", "exact")
    }
    nuts, exact = fits["nuts"], fits["exact"]
    assert nuts.design.logdet.method == "sparse-lu"
    assert nuts.info["timings"]["compile_seconds"] == 0.0
    assert nuts.diagnostics().converged, nuts.diagnostics().verdict
    pairs = [(nuts.coefficients(), exact.coefficients()), (nuts.effects(), exact.effects())]
    for table_n, table_e in pairs:
        for stat, mcse in (("mean", "mcse_mean"), ("sd", "mcse_sd")):
            tolerance = 4 * np.sqrt(table_n[mcse] ** 2 + table_e[mcse] ** 2)
            difference = (table_n[stat] - table_e[stat]).abs()
            assert (difference < tolerance).all(), table_n.assign(diff=difference, tol=tolerance)


def test_nuts_model_setting_is_checked() -> None:
    from bayes_ccd.exceptions import ConfigError

    assert BayesSettings().nuts_model == "direct"
    with pytest.raises(ConfigError, match="nuts_model"):
        BayesSettings(nuts_model="jax")
