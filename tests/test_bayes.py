"""Bayesian spatial panels: priors, the exact sampler, the PyMC/NUTS model, effects.

Checked against: the maximum-likelihood estimator of :mod:`bayes_ccd.spatial.ml` (the density
written from ``ml.full_loglik`` and prior densities from ``scipy.stats`` in this file;
the posterior mode under the reference prior); NUTS against the exact sampler within
Monte Carlo error; importance reweighting of exact draws for a non-conjugate prior;
effects from a dense inverse; an analytic reduced-form mean and variance for the
posterior predictive; true values of simulated panels (recovery) and simulation-based
calibration with draws from the prior (coverage).
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from libpysal.weights import lat2W
from scipy import optimize, special, stats

from bayes_ccd.cli import main
from bayes_ccd.conventions import NATIONAL, UNIT
from bayes_ccd.data.regions import read_regions
from bayes_ccd.data.weights import from_dense, province_contiguity
from bayes_ccd.exceptions import ConfigError, ConvergenceWarning, SpecificationError, WeightsWarning
from bayes_ccd.settings import BayesSettings
from bayes_ccd.spatial.arrays import PanelArrays
from bayes_ccd.spatial.bayes.estimator import SpatialPanelBayes
from bayes_ccd.spatial.bayes.exact import (
    ExactPosterior,
    cross_products,
    log_likelihood,
    sample_piecewise_linear,
)
from bayes_ccd.spatial.bayes.fit import PosteriorFit
from bayes_ccd.spatial.bayes.nuts import build_pymc_model
from bayes_ccd.spatial.bayes.posterior import _moran, posterior_predictive
from bayes_ccd.spatial.bayes.priors import (
    DEFAULT_PRIOR,
    REFERENCE_PRIOR,
    CoefficientPrior,
    Prior,
    SigmaPrior,
    SpatialPrior,
    log_prior_density,
    prior_from_mapping,
    prior_parameters,
    read_prior_file,
)
from bayes_ccd.spatial.design import INTERCEPT, ModelSpec, build_design
from bayes_ccd.spatial.ml import fit_ml, full_loglik
from bayes_ccd.spatial.model import SpatialPanel
from bayes_ccd.spatial.operators import reduced_form_solve
from bayes_ccd.spatial.simulate import simulate_panel

BETA = (1.0, -0.5)
THETA = (0.5, 0.3)
SPATIAL = 0.4
SDM = ModelSpec("sdm", "both")


def fit_bayes(data, weights, spec, *, seed=20240601, prior="default", **settings):
    """One posterior: the estimator's design, draws and predictive check."""
    return SpatialPanelBayes(spec, prior=prior, **settings).fit(data, weights, seed=seed)


@pytest.fixture(scope="session")
def provinces():
    return province_contiguity()


@pytest.fixture(scope="session")
def sdm_data(provinces):
    return simulate_panel(provinces, n_periods=10, beta=BETA, theta=THETA, spatial=SPATIAL, seed=7)


def _data(provinces, model: str, fe: str, seed: int = 3) -> PanelArrays:
    theta = THETA if model in ("sdm", "sdem") else None
    return simulate_panel(
        provinces,
        n_periods=8,
        beta=BETA,
        theta=theta,
        spatial=SPATIAL,
        model=model,
        fe=fe,
        seed=seed,
    )


def _scales(design):
    """Root mean squares over the orthonormal (iid) observations; the package takes
    them from the demeaned arrays, whose sums of squares must be the same."""
    orthonormal = design.orthonormal()
    return (
        np.sqrt(np.mean(orthonormal.X**2, axis=0)),
        np.sqrt(np.mean(orthonormal.y**2)),
    )


def _log_prior(prior: Prior, design, rho, beta, log_sigma):
    """The documented prior density in (rho, beta, log sigma), from scipy.stats."""
    s, s_y = _scales(design)
    sigma = np.exp(log_sigma)
    proper = np.array([t != INTERCEPT for t in design.names])
    c = prior.coefficients
    out = np.zeros_like(rho)
    if c.kind == "normal":
        sd = c.scale * sigma[..., None] / s
        out += np.sum(stats.norm.logpdf(beta, c.mean, sd)[..., proper], axis=-1)
    elif c.kind == "independent_normal":
        sd = c.scale * s_y / s
        out += np.sum(stats.norm.logpdf(beta, c.mean, sd)[..., proper], axis=-1)
    sig = prior.sigma
    if sig.kind == "inverse_gamma":
        s2 = s_y**2 if sig.s2 is None else sig.s2
        density = stats.invgamma.logpdf(sigma**2, sig.nu / 2, scale=sig.nu * s2 / 2)
        out += density + np.log(2 * sigma**2)  # density of log sigma
    elif sig.kind == "half_normal":
        out += stats.halfnorm.logpdf(sigma, scale=sig.scale * s_y) + np.log(sigma)
    lo, hi = design.rho_bounds
    if prior.spatial.kind == "beta":
        out += stats.beta.logpdf((rho - lo) / (hi - lo), prior.spatial.a, prior.spatial.b)
    return out


def _random_points(design, rng, size=12):
    ml = fit_ml(design.data, design.weights, design.spec)
    lo, hi = design.rho_bounds
    rho = np.clip(ml.spatial + 0.15 * rng.standard_normal(size), lo + 0.05, hi - 0.05)
    beta = ml.beta + 0.2 * rng.standard_normal((size, ml.beta.size))
    log_sigma = 0.5 * np.log(ml.sigma2) + 0.2 * rng.standard_normal(size)
    return rho, beta, log_sigma


def _loglik(design, rho, beta, log_sigma):
    return np.array(
        [
            full_loglik(design, b, r, np.exp(2 * s))
            for r, b, s in zip(rho, beta, log_sigma, strict=True)
        ]
    )


# --- priors ---------------------------------------------------------------------------------


def test_prior_file_documents_the_default_prior(repo) -> None:
    prior = read_prior_file(repo / "models" / "priors.toml")
    assert dataclasses.replace(prior, name="default") == DEFAULT_PRIOR
    assert DEFAULT_PRIOR.conjugate and REFERENCE_PRIOR.conjugate


def test_prior_overrides_merge_over_the_base_and_errors_name_the_key() -> None:
    prior = prior_from_mapping(
        {"base": "reference", "sigma": {"kind": "inverse_gamma", "nu": 4.0, "s2": 0.5}}
    )
    assert prior.coefficients.kind == "flat" and prior.spatial.kind == "uniform"
    assert (prior.sigma.kind, prior.sigma.nu, prior.sigma.s2) == ("inverse_gamma", 4.0, 0.5)
    with pytest.raises(ConfigError, match="unknown key 'scal'.*did you mean 'scale'"):
        prior_from_mapping({"coefficients": {"scal": 1.0}})
    with pytest.raises(ConfigError, match="a >= 1 and b >= 1"):
        prior_from_mapping({"spatial": {"a": 0.5}})
    with pytest.raises(ConfigError, match="unknown prior section"):
        prior_from_mapping({"rho": {}})
    with pytest.raises(ConfigError, match="unknown coefficient prior kind"):
        prior_from_mapping({"coefficients": {"kind": "laplace"}})


def test_per_term_prior_overrides(provinces, sdm_data) -> None:
    design = build_design(sdm_data, provinces, SDM)
    s, _ = _scales(design)
    prior = Prior(CoefficientPrior(terms={"W*x1": {"scale": 0.5, "mean": 1.0}}))
    params = prior_parameters(prior, design)
    np.testing.assert_allclose(params.mean, [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(
        params.conditional_precision, s**2 / np.array([2.5, 2.5, 0.5, 2.5]) ** 2
    )
    sar = build_design(sdm_data, provinces, ModelSpec("sar", "both"))
    with pytest.raises(SpecificationError, match=r"names coefficient\(s\) \['W\*x1'\]"):
        prior_parameters(prior, sar)


def test_exact_sampler_needs_a_conjugate_prior() -> None:
    prior = Prior(CoefficientPrior(kind="independent_normal"))
    with pytest.raises(SpecificationError, match="not conjugate"):
        SpatialPanelBayes(SDM, prior=prior, sampler="exact")


def test_default_prior_is_invariant_to_the_units_of_a_covariate(provinces, sdm_data) -> None:
    """Scaling x1 by 100 divides the posterior of its coefficients by 100 and changes
    nothing else: the prior is scaled to the data."""
    rescaled = dataclasses.replace(sdm_data, x=sdm_data.x * np.array([100.0, 1.0]))
    options = {"draws": 500, "chains": 4, "seed": 5, "ppc_draws": 0}
    base = fit_bayes(sdm_data, provinces, SDM, **options).tree["posterior"]
    scaled = fit_bayes(rescaled, provinces, SDM, **options).tree["posterior"]
    factor = np.array([100.0, 1.0, 100.0, 1.0])
    np.testing.assert_allclose(scaled["beta"] * factor, base["beta"], rtol=1e-9)
    np.testing.assert_allclose(scaled["rho"], base["rho"], rtol=1e-9)
    np.testing.assert_allclose(scaled["effects"], base["effects"] / [100.0, 1.0], rtol=1e-8)


# --- the exact decomposition and the PyMC density ------------------------------------------

MODEL_FE = [
    ("sdm", "both"),
    ("sar", "individual"),
    ("sem", "both"),
    ("sdem", "time"),
    ("sdm", "none"),
]


@pytest.mark.parametrize(("model", "fe"), MODEL_FE)
@pytest.mark.parametrize("prior", [DEFAULT_PRIOR, REFERENCE_PRIOR], ids=["default", "reference"])
def test_exact_decomposition_equals_likelihood_times_prior(provinces, model, fe, prior) -> None:
    """log p(rho|y) + log p(sigma2|rho,y) + log p(beta|sigma2,rho,y) differs from the
    log-likelihood of ml.full_loglik plus the scipy prior by a constant."""
    design = build_design(_data(provinces, model, fe), provinces, ModelSpec(model, fe))
    exact = ExactPosterior(design, prior_parameters(prior, design))
    rho, beta, log_sigma = _random_points(design, np.random.default_rng(1))
    decomposed = exact.log_marginal(rho) + exact.log_conditional_density(rho, beta, log_sigma)
    direct = _loglik(design, rho, beta, log_sigma) + _log_prior(prior, design, rho, beta, log_sigma)
    difference = decomposed - direct
    # Values are of order 1e2-1e3; rounding of the quadratic forms is ~1e-10 of that.
    assert np.ptp(difference) < 1e-7


NON_CONJUGATE = Prior(
    CoefficientPrior(kind="independent_normal", scale=0.5),
    SigmaPrior(kind="half_normal", scale=0.5),
    SpatialPrior(kind="beta", a=2.0, b=3.0),
    name="non-conjugate",
)


@pytest.mark.parametrize(("model", "fe"), [("sdm", "both"), ("sem", "individual")])
@pytest.mark.parametrize("prior", [DEFAULT_PRIOR, NON_CONJUGATE], ids=["default", "nonconj"])
def test_sufficient_statistics_and_prior_density(provinces, model, fe, prior) -> None:
    """The likelihood from Z'Z equals ml.full_loglik; the prior density of
    PriorParameters equals the scipy one up to its normalising constant."""
    design = build_design(_data(provinces, model, fe), provinces, ModelSpec(model, fe))
    rho, beta, log_sigma = _random_points(design, np.random.default_rng(4))
    from_gram = log_likelihood(design, cross_products(design), rho, beta, log_sigma)
    np.testing.assert_allclose(from_gram, _loglik(design, rho, beta, log_sigma), rtol=1e-10)
    params = prior_parameters(prior, design)
    density = log_prior_density(params, design.rho_bounds, rho, beta, log_sigma)
    assert np.ptp(density - _log_prior(prior, design, rho, beta, log_sigma)) < 1e-9


def _pymc_point(design, params, model, rho, beta, log_sigma):
    """The unconstrained, standardised values of the PyMC model at (rho, beta, log sigma)."""
    lo, hi = design.rho_bounds
    name = design.spec.spatial_parameter
    return {
        f"{name}_interval__": np.log(rho - lo) - np.log(hi - rho),
        "beta": beta * params.column_scale / params.y_scale,
        "log_sigma": np.asarray(log_sigma - np.log(params.y_scale)),
    }


@pytest.mark.parametrize(("model", "fe"), [("sdm", "both"), ("sem", "both"), ("sar", "none")])
@pytest.mark.parametrize("prior", [DEFAULT_PRIOR, NON_CONJUGATE], ids=["default", "nonconj"])
def test_pymc_density_equals_likelihood_times_prior(provinces, model, fe, prior) -> None:
    """The NUTS target (without the transform's Jacobian) is the likelihood of
    ml.full_loglik times the documented prior, up to a constant."""
    design = build_design(_data(provinces, model, fe), provinces, ModelSpec(model, fe))
    params = prior_parameters(prior, design)
    pymc_model = SpatialPanelBayes(ModelSpec(model, fe), prior=prior, sampler="nuts").build_model(
        design
    )
    names = [v.name for v in pymc_model.free_RVs]
    assert names == [design.spec.spatial_parameter, "beta", "log_sigma"]
    logp = pymc_model.compile_logp(jacobian=False)
    rho, beta, log_sigma = _random_points(design, np.random.default_rng(2))
    values = np.array(
        [
            logp(_pymc_point(design, params, pymc_model, r, b, s))
            for r, b, s in zip(rho, beta, log_sigma, strict=True)
        ]
    )
    direct = _loglik(design, rho, beta, log_sigma) + _log_prior(prior, design, rho, beta, log_sigma)
    assert np.ptp(values - direct) < 1e-7


@pytest.mark.parametrize(("model", "fe"), [("sdm", "both"), ("sem", "individual")])
def test_reference_posterior_mode_is_the_mle(provinces, model, fe) -> None:
    """Under the reference prior the density in (rho, beta, log sigma) is flat times the
    likelihood, so its mode (found numerically on the PyMC model and on the exact
    decomposition) is the MLE; tested in that parametrisation, to 1e-4."""
    data = _data(provinces, model, fe, seed=11)
    spec = ModelSpec(model, fe)
    design = build_design(data, provinces, spec)
    ml = fit_ml(data, provinces, spec)
    params = prior_parameters(REFERENCE_PRIOR, design)
    pymc_model = build_pymc_model(design, REFERENCE_PRIOR)
    logp = pymc_model.compile_logp(jacobian=False)
    dlogp = pymc_model.compile_dlogp(jacobian=False)
    name = design.spec.spatial_parameter
    k = design.n_coefficients

    def unpack(x):
        return {
            f"{name}_interval__": np.asarray(x[0]),
            "beta": x[1 : 1 + k],
            "log_sigma": np.asarray(x[-1]),
        }

    found = optimize.minimize(
        lambda x: -logp(unpack(x)),
        np.zeros(k + 2),
        jac=lambda x: -dlogp(unpack(x)),
        method="BFGS",
        options={"gtol": 1e-9},
    )
    lo, hi = design.rho_bounds
    rho = lo + (hi - lo) * special.expit(found.x[0])
    beta = found.x[1 : 1 + k] * params.y_scale / params.column_scale
    sigma2 = (params.y_scale * np.exp(found.x[-1])) ** 2
    assert abs(rho - ml.spatial) < 1e-4
    np.testing.assert_allclose(beta, ml.beta, atol=1e-4)
    assert abs(sigma2 / ml.sigma2 - 1) < 1e-4

    exact = ExactPosterior(design, params)

    def profile(r: float) -> float:
        # Joint conditional mode of (beta, log sigma): b(rho), and the sigma2 maximising
        # -(shape + K/2) log sigma2 - rate/sigma2 (the density of log sigma times the
        # normal's sigma^-K at its mean), rate/(shape + K/2).
        cond = exact.conditionals(np.array(r))
        log_sigma = 0.5 * np.log(cond.rate / (cond.shape + k / 2))
        return -float(
            exact.log_marginal(np.array(r))
            + exact.log_conditional_density(np.array(r), cond.mean, log_sigma)
        )

    mode = optimize.minimize_scalar(
        profile, bounds=(lo + 1e-6, hi - 1e-6), method="bounded", options={"xatol": 1e-10}
    )
    cond = exact.conditionals(np.array(mode.x))
    assert abs(mode.x - ml.spatial) < 1e-4
    np.testing.assert_allclose(cond.mean, ml.beta, atol=1e-4)
    assert abs(cond.rate / (cond.shape + k / 2) / ml.sigma2 - 1) < 1e-4


# --- the exact sampler -------------------------------------------------------------------


def test_piecewise_linear_sampler_matches_its_density() -> None:
    """Draws from a trapezoid density on a coarse grid follow its exact CDF (KS test;
    the density is linear inside each cell, so the interpolation is exact)."""
    grid = np.array([0.0, 1.0, 3.0, 4.0])
    density = np.array([0.0, 0.4, 0.4, 0.0])  # mass 0.2 + 0.8 + 0.2 -> normalise
    density = density / np.trapezoid(density, grid)
    u = np.random.default_rng(3).random((2, 20000))
    draws = sample_piecewise_linear(grid, density, u)

    def cdf(x):
        x = np.asarray(x)
        h = density[1]
        return np.select(
            [x < 1, x < 3],
            [0.5 * h * x**2, 0.5 * h + h * (x - 1)],
            1 - 0.5 * h * (4 - x) ** 2,
        )

    assert stats.kstest(draws, cdf).pvalue > 1e-3
    assert draws.min() >= 0 and draws.max() <= 4


def test_same_seed_same_draws_and_another_seed_others(provinces, sdm_data) -> None:
    estimator = SpatialPanelBayes(SDM, draws=300, chains=4, ppc_draws=20)
    first = estimator.fit(sdm_data, provinces, seed=7)
    again = estimator.fit(sdm_data, provinces, seed=7)
    other = estimator.fit(sdm_data, provinces, seed=99)
    for group in ("posterior", "posterior_predictive"):
        assert first.tree[group].identical(again.tree[group])
    assert not np.allclose(first.tree["posterior"]["rho"], other.tree["posterior"]["rho"])


def _dense_effects(W, rho, beta, theta):
    n = W.shape[0]
    inverse = np.linalg.inv(np.eye(n) - rho * W)
    direct, total = [], []
    for b, t in zip(beta, theta, strict=True):
        S = inverse @ (b * np.eye(n) + t * W)
        direct.append(np.trace(S) / n)
        total.append(S.sum() / n)
    return np.array(direct), np.array(total)


@pytest.mark.parametrize("row_standardised", [True, False])
def test_effects_per_draw_equal_a_dense_inverse(provinces, row_standardised) -> None:
    if row_standardised:
        weights, fe = provinces, "both"
    else:  # binary contiguity: not row-stochastic, effects need the eigenvectors
        weights = from_dense(
            provinces.raw.sparse.toarray(), list(provinces.raw.unique_ids), transform="o"
        )
        fe = "individual"
    data = simulate_panel(weights, n_periods=6, beta=BETA, theta=THETA, spatial=0.1, fe=fe, seed=4)
    result = fit_bayes(
        data, weights, ModelSpec("sdm", fe), draws=200, chains=4, ppc_draws=0, seed=1
    )
    post = result.tree["posterior"]
    W = result.design.W
    for chain, draw in [(0, 0), (1, 17), (3, 99)]:
        point = post.isel(chain=chain, draw=draw)
        beta = point["beta"].to_numpy()
        direct, total = _dense_effects(W, float(point["rho"]), beta[:2], beta[2:])
        effects = point["effects"]
        np.testing.assert_allclose(effects.sel(effect="direct"), direct, rtol=0, atol=1e-10)
        np.testing.assert_allclose(effects.sel(effect="total"), total, rtol=0, atol=1e-10)
        np.testing.assert_allclose(effects.sel(effect="indirect"), total - direct, atol=1e-10)


def test_posterior_predictive_matches_the_reduced_form(provinces, sdm_data) -> None:
    """Replicates at fixed parameters have the mean J (I - rho W)^{-1} X b and the total
    variance sigma2 (T-1) tr(J_N A^{-1} A^{-T} J_N) of the demeaned reduced form."""
    design = build_design(sdm_data, provinces, SDM)
    true_beta = np.array([*BETA, *THETA])
    draws = 4000
    posterior = xr.Dataset(
        {
            "rho": (("chain", "draw"), np.full((1, draws), SPATIAL)),
            "beta": (("chain", "draw", "term"), np.tile(true_beta, (1, draws, 1))),
            "sigma": (("chain", "draw"), np.ones((1, draws))),
        }
    )
    replicated = posterior_predictive(design, posterior, n_draws=draws, seed=8)["y"].to_numpy()
    replicated = replicated.reshape(draws, *design.y.shape)
    n = design.n_units
    A_inv = np.linalg.inv(np.eye(n) - SPATIAL * design.W)
    J = np.eye(n) - 1.0 / n
    mean = design.project((design.X @ true_beta) @ A_inv.T)
    assert np.abs(replicated.mean(axis=0) - mean).max() < 4 * 1.5 / np.sqrt(draws)
    expected = (design.n_periods - 1) * np.trace(J @ A_inv @ A_inv.T @ J)
    total = np.sum((replicated - mean) ** 2, axis=(1, 2))
    # Relative MC error of the mean of a sum of ~270 squared normals: ~0.1/sqrt(draws).
    assert abs(total.mean() / expected - 1) < 0.01
    # The unit and period effects of the raw model drop out exactly.
    effects = np.add.outer(np.arange(design.n_periods), np.linspace(-1, 1, n)) @ A_inv.T
    assert np.abs(design.project(effects)).max() < 1e-10


@pytest.mark.parametrize("nu", [None, 5.0])
def test_posterior_predictive_in_blocks_draws_the_same_replicates(
    provinces, sdm_data, monkeypatch, nu
) -> None:
    """Large panels replicate the draws in blocks that bound memory; the blocks must not
    change the errors drawn from the seed, nor the statistics of the check."""
    from bayes_ccd.spatial.bayes import posterior as module

    fit = fit_bayes(sdm_data, provinces, SDM, sampler="exact", draws=500, chains=4, ppc_draws=0)
    whole = posterior_predictive(fit.design, fit.posterior, n_draws=60, seed=4, nu=nu)
    cells = fit.design.n_units * fit.design.n_periods
    monkeypatch.setattr(module, "PPC_BLOCK_ELEMENTS", 7 * cells)  # blocks of 7 draws
    blocks = posterior_predictive(fit.design, fit.posterior, n_draws=60, seed=4, nu=nu)
    assert blocks.identical(whole)
    monkeypatch.undo()
    pvalues = module.ppc_pvalues(fit.design, whole)
    monkeypatch.setattr(module, "PPC_BLOCK_ELEMENTS", 7 * cells)
    assert module.ppc_pvalues(fit.design, whole) == pvalues


def test_sparse_reduced_form_solve_equals_dense() -> None:
    """Above 300 units the reduced form uses one sparse LU per draw."""
    lattice = from_dense(lat2W(20, 20).full()[0], [f"c{i}" for i in range(400)])
    rng = np.random.default_rng(6)
    spatial = np.array([-0.5, 0.3, 0.95])
    values = rng.standard_normal((3, 2, 400))
    solved = reduced_form_solve(lattice.dense, spatial, values)
    for d, rho in enumerate(spatial):
        expected = np.linalg.solve(np.eye(400) - rho * lattice.dense, values[d].T).T
        np.testing.assert_allclose(solved[d], expected, rtol=1e-10, atol=1e-10)


# --- NUTS against the exact sampler ------------------------------------------------------


@pytest.fixture(scope="session")
def nuts_and_exact(provinces, sdm_data):
    """One NUTS fit (the session's one compilation) and an exact fit, default prior."""
    nuts = fit_bayes(
        sdm_data,
        provinces,
        SDM,
        sampler="nuts",
        draws=1000,
        tune=1000,
        chains=4,
        seed=11,
        ppc_draws=0,
    )
    exact = fit_bayes(
        sdm_data, provinces, SDM, sampler="exact", draws=2000, chains=4, seed=11, ppc_draws=0
    )
    return nuts, exact


@pytest.mark.slow
def test_nuts_agrees_with_the_exact_sampler(nuts_and_exact) -> None:
    """Means and sds of rho, beta, sigma2 and every effect agree within
    4 sqrt(mcse_nuts^2 + mcse_exact^2) (MCSE of the mean and of the sd)."""
    nuts, exact = nuts_and_exact
    assert nuts.diagnostics().converged, nuts.diagnostics().verdict
    pairs = [(nuts.coefficients(), exact.coefficients()), (nuts.effects(), exact.effects())]
    for table_n, table_e in pairs:
        for stat, mcse in (("mean", "mcse_mean"), ("sd", "mcse_sd")):
            tolerance = 4 * np.sqrt(table_n[mcse] ** 2 + table_e[mcse] ** 2)
            difference = (table_n[stat] - table_e[stat]).abs()
            assert (difference < tolerance).all(), table_n.assign(diff=difference, tol=tolerance)


@pytest.mark.slow
def test_nuts_same_seed_same_draws(provinces, sdm_data, nuts_and_exact) -> None:
    options = {"sampler": "nuts", "draws": 50, "tune": 100, "chains": 2, "ppc_draws": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 100 draws are too few
        first = fit_bayes(sdm_data, provinces, SDM, seed=5, **options)
        again = fit_bayes(sdm_data, provinces, SDM, seed=5, **options)
        other = fit_bayes(sdm_data, provinces, SDM, seed=6, **options)
    assert first.tree["posterior"].identical(again.tree["posterior"])
    assert not np.allclose(first.tree["posterior"]["rho"], other.tree["posterior"]["rho"])
    assert first.info["timings"]["compile_seconds"] == 0.0  # the direct density: no compilation


@pytest.mark.slow
def test_nuts_national_and_regions_compile_once(provinces, sdm_data, monkeypatch) -> None:
    """The PyMC model of the national panel and its three regional sub-samples is
    compiled once (counted in ``_COMPILED`` and the timings).

    Regions differ in N, hence in the length of the eigenvalue data, but every input is
    ``pm.Data``: nutpie's ``with_data`` swaps them without compiling again. The default
    written-out density has no model to compile.
    """
    from bayes_ccd.spatial.bayes import nuts as nuts_module

    monkeypatch.setattr(nuts_module, "_COMPILED", {})
    model = SpatialPanel(data=sdm_data, weights=provinces, regions=read_regions())
    options = {"sampler": "nuts", "by_region": True, "draws": 50, "tune": 50, "chains": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 100 draws are too few
        warnings.simplefilter("ignore", WeightsWarning)  # regional W: islands
        compiled = model.fit("bayes", nuts_model="pymc", ppc_draws=0, **options)
        direct = model.fit("bayes", ppc_draws=0, **options)
    assert set(compiled) == {"national", "east", "central", "west"}
    seconds = [fit.info["timings"]["compile_seconds"] for fit in compiled.values()]
    assert seconds[0] > 0.0 and seconds[1:] == [0.0] * 3
    assert len(nuts_module._COMPILED) == 1
    # The written-out density: at most loading its cached machine code, once.
    assert [fit.info["timings"]["compile_seconds"] for fit in direct.values()][1:] == [0.0] * 3
    assert compiled["national"].info["nuts_model"] == "pymc"
    assert direct["national"].info["nuts_model"] == "direct"


@pytest.mark.slow
def test_nuts_handles_a_non_conjugate_prior(provinces, sdm_data, nuts_and_exact) -> None:
    """NUTS under independent normal coefficients and a half-normal sigma against
    self-normalised importance sampling of exact reference-prior draws (weights: the
    prior density from scipy.stats); the compiled model is re-used with new data."""
    prior = Prior(
        CoefficientPrior(kind="independent_normal", scale=0.3),
        SigmaPrior(kind="half_normal", scale=0.5),
        SpatialPrior(kind="uniform"),
    )
    nuts = fit_bayes(
        sdm_data,
        provinces,
        SDM,
        prior=prior,
        sampler="nuts",
        draws=1000,
        tune=1000,
        chains=4,
        seed=3,
        ppc_draws=0,
    )
    assert nuts.info["timings"]["compile_seconds"] == 0.0
    reference = fit_bayes(
        sdm_data, provinces, SDM, prior="reference", draws=10000, chains=4, seed=3, ppc_draws=0
    )
    post = reference.tree["posterior"]
    rho = post["rho"].to_numpy().ravel()
    beta = post["beta"].to_numpy().reshape(rho.size, -1)
    log_sigma = 0.5 * np.log(post["sigma2"].to_numpy().ravel())
    log_w = _log_prior(prior, reference.design, rho, beta, log_sigma)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    ess = 1.0 / np.sum(w**2)
    assert ess > 2000
    table = nuts.coefficients()
    for j, term in enumerate(reference.design.names):
        mean = np.sum(w * beta[:, j])
        sd = np.sqrt(np.sum(w * (beta[:, j] - mean) ** 2))
        row = table.set_index("term").loc[term]
        # MC error: NUTS MCSE and the importance sampler's sd/sqrt(ESS).
        assert abs(row["mean"] - mean) < 4 * np.hypot(row["mcse_mean"], sd / np.sqrt(ess))
    # The prior pulls beta towards zero compared with the reference posterior.
    assert abs(table.set_index("term").loc["W*x1", "mean"]) < abs(beta[:, 2].mean())


@pytest.mark.slow
def test_too_short_nuts_run_is_reported_as_not_converged(
    provinces, sdm_data, nuts_and_exact
) -> None:
    with pytest.warns(ConvergenceWarning, match="effective sample size below 400"):
        result = fit_bayes(
            sdm_data,
            provinces,
            SDM,
            sampler="nuts",
            draws=30,
            tune=10,
            chains=2,
            seed=1,
            ppc_draws=0,
        )
    assert not result.diagnostics().converged
    assert result.info["converged"] is False and "not converged" in result.info["verdict"]


# --- recovery and calibration --------------------------------------------------------------


@pytest.mark.slow
def test_parameter_recovery_on_simulated_sdm(provinces) -> None:
    """Five panels (seeds 1-5, not chosen after looking), six parameters each: the 95%
    intervals may miss at most 4 of the 30 true values (P(Bin(30, 0.05) >= 5) = 0.016)."""
    truth = {
        "x1": BETA[0],
        "x2": BETA[1],
        "W*x1": THETA[0],
        "W*x2": THETA[1],
        "rho": SPATIAL,
        "sigma2": 1.0,
    }
    misses = []
    for seed in range(1, 6):
        data = simulate_panel(
            provinces, n_periods=20, beta=BETA, theta=THETA, spatial=SPATIAL, seed=seed
        )
        table = fit_bayes(data, provinces, SDM, draws=1000, seed=seed, ppc_draws=0).coefficients()
        table = table.set_index("term")
        misses += [
            (seed, term)
            for term, value in truth.items()
            if not table.loc[term, "lower"] <= value <= table.loc[term, "upper"]
        ]
    assert len(misses) <= 4, misses


@pytest.mark.slow
def test_calibration_of_posterior_intervals(provinces) -> None:
    """Simulation-based calibration (Talts et al. 2018): parameters drawn from a proper
    prior, data from the model, the exact posterior refitted. An exact posterior covers
    the truth with its 95% central interval with probability 0.95 over the prior, so
    each parameter's misses in 100 replications are Bin(100, 0.05): at most 12
    (P(>= 13) = 0.002) and, pooled over the six parameters, between 12 and 54 of 600."""
    prior = Prior(
        CoefficientPrior(kind="normal", scale=1.0),
        SigmaPrior(kind="inverse_gamma", nu=6.0, s2=1.0),
        SpatialPrior(kind="beta", a=2.0, b=2.0),
        name="sbc",
    )
    template = simulate_panel(provinces, n_periods=8, beta=BETA, theta=THETA, seed=0)
    design = build_design(template, provinces, SDM)
    s, _ = _scales(design)
    lo, hi = design.rho_bounds
    W = provinces.dense
    x = template.x
    wx = np.einsum("ij,tjk->tik", W, x)
    rng = np.random.default_rng(2024)
    names = ["x1", "x2", "W*x1", "W*x2", "rho", "sigma2"]
    misses = dict.fromkeys(names, 0)
    for replication in range(100):
        sigma2 = 1.0 / rng.gamma(3.0, 1.0 / 3.0)  # Inv-Gamma(nu/2, nu s2/2)
        beta = rng.normal(0.0, np.sqrt(sigma2) * 1.0 / s)
        rho = lo + (hi - lo) * rng.beta(2.0, 2.0)
        mean = x @ beta[:2] + wx @ beta[2:]
        noise = np.sqrt(sigma2) * rng.standard_normal(template.y.shape)
        y = np.linalg.solve(np.eye(W.shape[0]) - rho * W, (mean + noise).T).T
        data = dataclasses.replace(template, y=y)
        with warnings.catch_warnings():
            # The verdict is beside the point here: R-hat of 4 x 250 independent draws
            # exceeds 1.01 by chance in a few of the 100 replications.
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = fit_bayes(
                data,
                provinces,
                SDM,
                prior=prior,
                draws=250,
                chains=4,
                seed=replication,
                ppc_draws=0,
            )
        table = result.coefficients()
        table = table.set_index("term")
        for name, value in zip(names, [*beta, rho, sigma2], strict=True):
            if not table.loc[name, "lower"] <= value <= table.loc[name, "upper"]:
                misses[name] += 1
    assert max(misses.values()) <= 12, misses
    assert 12 <= sum(misses.values()) <= 54, misses


# --- results, regions, files ---------------------------------------------------------------


def test_posterior_saves_and_reloads_without_refitting(provinces, sdm_data, tmp_path) -> None:
    result = fit_bayes(sdm_data, provinces, SDM, draws=300, ppc_draws=40)
    path = result.save(tmp_path / "posterior.nc")
    back = PosteriorFit.load(path)
    assert set(back.tree.children) == {
        "posterior",
        "observed_data",
        "posterior_predictive",
        "spatial_marginal",
    }
    # the result object comes back: same tables, fingerprint, settings and prior
    pd.testing.assert_frame_equal(result.coefficients(), back.coefficients())
    pd.testing.assert_frame_equal(result.effects(), back.effects())
    assert back.fingerprint == result.fingerprint
    assert back.settings == result.settings and back.prior == result.prior
    assert back.info["ppc_pvalues"] == result.info["ppc_pvalues"]
    np.testing.assert_array_equal(back.design.W, result.design.W)
    with xr.open_datatree(path, engine="h5netcdf") as stored:
        config = json.loads(stored.attrs["config"])
        assert config["prior"]["name"] == "default" and config["settings"]["draws"] == 300
        assert json.loads(stored.attrs["fit_info"])["ppc_pvalues"].keys() == {"sd", "moran_i"}


def test_ppc_moran_statistic_matches_esda() -> None:
    # The predictive check's statistic is Moran's I of each period, averaged: esda on
    # uncentred values (as under individual effects only) must give the same number.
    from esda.moran import Moran

    lattice = lat2W(4, 4)
    lattice.transform = "r"
    dense = lattice.full()[0]
    values = np.random.default_rng(3).standard_normal((3, 16)) + 5.0
    expected = np.mean([Moran(v, lattice, permutations=0).I for v in values])
    assert _moran(values, dense) == pytest.approx(expected, rel=1e-12)


def test_settings_come_from_the_run_configuration(tmp_path, repo) -> None:
    from bayes_ccd.config import load_run_config

    (tmp_path / "p.toml").write_text('[sigma]\nkind = "jeffreys"\n', encoding="utf-8")
    (tmp_path / "run.toml").write_text(
        '[run]\nseed = 17\n[data]\npanel = "x.csv"\nunit = "u"\ntime = "t"\n'
        '[indicators]\nfile = "i.toml"\n[bayes]\nprior = "p.toml"\ndraws = 10\n'
        "tune = 5\nchains = 2\ntarget_accept = 0.9\nppc_draws = 0\n",
        encoding="utf-8",
    )
    config = load_run_config(tmp_path / "run.toml")
    estimator = SpatialPanelBayes(SDM, prior=config.bayes.prior, settings=config.bayes, draws=20)
    settings = estimator.settings
    assert (config.run.seed, settings.draws, settings.chains, settings.target_accept) == (
        17,
        20,
        2,
        0.9,
    )
    prior = estimator.prior
    assert prior.sigma.kind == "jeffreys" and prior.coefficients.kind == "normal"
    with pytest.raises(ConfigError, match=r"\[bayes\] draws = 0 must be a positive integer"):
        BayesSettings(draws=0)


def test_national_and_regional_fits_cut_w_like_the_mle(provinces, tmp_path) -> None:
    data = simulate_panel(provinces, n_periods=8, beta=BETA, theta=THETA, spatial=SPATIAL, seed=21)
    regions = read_regions().copy()
    regions["Hainan"] = "west"  # Hainan's only neighbour, Guangdong, is in the east
    model = SpatialPanel(data=data, weights=provinces, regions=regions)
    with pytest.warns(WeightsWarning):
        fit = model.fit("bayes", by_region=True, draws=250, seed=2)
        ml = model.fit("ml", by_region=True)
    assert list(fit) == [NATIONAL, "east", "central", "west"]
    west = fit["west"].info
    assert west["dropped_units"] == ["Hainan"] == list(ml["west"].dropped_units)
    for label in ("east", "central", "west"):
        assert fit[label].info["units"] == list(ml[label].design.data.units)
        assert fit[label].tree["observed_data"].sizes[UNIT] == ml[label].design.n_units
        assert fit[label].fingerprint == ml[label].fingerprint  # same data, W and model
    written = fit.write(tmp_path / "out", metadata={"seed": 2})
    names = {p.relative_to(tmp_path / "out").as_posix() for p in written}
    for sample in ("", "regions/west/"):
        for name in (
            "coefficients.csv",
            "effects.csv",
            "fit.json",
            "posterior.nc",
            "diagnostics.csv",
            "spatial_marginal.png",
            "effects_forest.png",
            "ppc.png",
        ):
            assert sample + name in names
    by_region = pd.read_csv(tmp_path / "out" / "effects_by_region.csv")
    assert list(by_region.columns[:3]) == ["region", "variable", "effect"]
    assert set(by_region["region"]) == {NATIONAL, "east", "central", "west"}
    assert {"mean", "sd", "lower", "upper", "prob_positive", "r_hat", "ess_bulk"} <= set(
        by_region.columns
    )
    table = (tmp_path / "out" / "effects_table.md").read_text(encoding="utf-8")
    assert "| national | east | central | west |" in table and "[" in table
    assert all("converged" in line for line in fit.summary().lines)
    assert not any(name.endswith(("trace.png", "rank.png")) for name in names)  # exact draws


def _write_panel_csv(data: PanelArrays, path) -> None:
    t, n = data.y.shape
    frame = pd.DataFrame(
        {
            "province": np.tile(data.units, t),
            "year": np.repeat(data.periods, n),
            "y": data.y.ravel(),
            "x1": data.x[..., 0].ravel(),
            "x2": data.x[..., 1].ravel(),
        }
    )
    frame.to_csv(path, index=False)


def _fit_args(tmp_path, estimator: str, out: str, *extra: str) -> list[str]:
    return [
        "fit",
        "--data",
        str(tmp_path / "panel.csv"),
        "--unit",
        "province",
        "--time",
        "year",
        "--y",
        "y",
        "--x",
        "x1,x2",
        "--weights",
        "bundled:province-contiguity",
        "--estimator",
        estimator,
        "--out",
        str(tmp_path / out),
        *extra,
    ]


def test_cli_fit_bayes_and_compare(sdm_data, tmp_path, capsys) -> None:
    _write_panel_csv(sdm_data, tmp_path / "panel.csv")
    assert (
        main(
            _fit_args(
                tmp_path, "bayes", "bayes", "--draws", "300", "--prior", "reference", "--seed", "4"
            )
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "national: N=31, T=10, rho=" in out and "diagnostics: converged" in out
    coefficients = pd.read_csv(tmp_path / "bayes" / "coefficients.csv")
    assert list(coefficients["term"]) == ["x1", "x2", "W*x1", "W*x2", "rho", "sigma2"]
    info = json.loads((tmp_path / "bayes" / "fit.json").read_text(encoding="utf-8"))
    assert (info["estimator"], info["sampler"], info["draws"], info["seed"]) == (
        "bayes",
        "exact",
        300,
        4,
    )
    assert info["prior"]["name"] == "reference" and info["converged"] is True
    assert (tmp_path / "bayes" / "posterior.nc").is_file()
    assert main(_fit_args(tmp_path, "mle", "mle")) == 0
    assert (
        main(
            [
                "compare",
                "--mle",
                str(tmp_path / "mle"),
                "--bayes",
                str(tmp_path / "bayes"),
                "--out",
                str(tmp_path / "cmp"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "national: largest |posterior mean - MLE|" in out
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    rho = table[table["term"] == "rho"].iloc[0]
    assert abs(rho["shift_in_sd"]) < 0.3 and 0.8 < rho["sd_ratio"] < 1.25
    assert (tmp_path / "cmp" / "compare_forest.png").is_file()


def test_cli_bayes_fit_reports_the_interpolated_cells(sdm_data, tmp_path, capsys) -> None:
    _write_panel_csv(sdm_data, tmp_path / "panel.csv")
    frame = pd.read_csv(tmp_path / "panel.csv")
    cell = (frame["province"] == "Hubei") & (frame["year"] == 4)
    # Linear interpolation between periods 3 and 5: their mean, by hand.
    value = frame.loc[(frame["province"] == "Hubei") & frame["year"].isin([3, 5]), "x2"].mean()
    frame["x2"] = frame["x2"].astype(object)
    frame.loc[cell, "x2"] = ""
    frame.to_csv(tmp_path / "panel.csv", index=False)
    args = _fit_args(tmp_path, "bayes", "bayes", "--draws", "200", "--missing", "linear")
    assert main(args) == 0
    expected = pd.DataFrame({"unit": ["Hubei"], "period": [4], "column": ["x2"], "value": [value]})
    # np.interp and the mean may differ in the last bit.
    written = pd.read_csv(tmp_path / "bayes" / "filled_cells.csv")
    pd.testing.assert_frame_equal(written, expected, rtol=1e-12)
    info = json.loads((tmp_path / "bayes" / "fit.json").read_text(encoding="utf-8"))
    pd.testing.assert_frame_equal(pd.DataFrame(info["filled_cells"]), expected, rtol=1e-12)
    assert "1 cell(s) (listed in filled_cells.csv): Hubei 4 x2" in capsys.readouterr().out


def test_cli_compare_rejects_swapped_directories(sdm_data, tmp_path, capsys) -> None:
    _write_panel_csv(sdm_data, tmp_path / "panel.csv")
    assert main(_fit_args(tmp_path, "bayes", "bayes", "--draws", "300")) == 0
    assert main(_fit_args(tmp_path, "mle", "mle")) == 0
    code = main(
        [
            "compare",
            "--mle",
            str(tmp_path / "bayes"),
            "--bayes",
            str(tmp_path / "mle"),
            "--out",
            str(tmp_path / "cmp"),
        ]
    )
    assert code == 2 and not (tmp_path / "cmp").exists()
    assert "expected an MLE fit and a Bayesian fit" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_reports_a_nuts_run_that_did_not_converge(
    sdm_data, tmp_path, capsys, nuts_and_exact
) -> None:
    _write_panel_csv(sdm_data, tmp_path / "panel.csv")
    with pytest.warns(ConvergenceWarning):
        code = main(
            _fit_args(
                tmp_path,
                "bayes",
                "short",
                "--sampler",
                "nuts",
                "--draws",
                "30",
                "--tune",
                "10",
                "--chains",
                "2",
            )
        )
    assert code == 0
    out = capsys.readouterr().out
    assert "NOT CONVERGED" in out and "effective sample size below 400" in out
    info = json.loads((tmp_path / "short" / "fit.json").read_text(encoding="utf-8"))
    assert info["converged"] is False and info["sampler"] == "nuts"
    diagnostics = pd.read_csv(tmp_path / "short" / "diagnostics.csv")
    assert not diagnostics["passed"].all()


def test_cli_nuts_samples_the_written_out_density_or_the_pymc_model(sdm_data, tmp_path) -> None:
    """``--nuts-model`` reaches the sampler and the fit records what NUTS sampled; the
    default runs without compiling a model (only the cached density is loaded)."""
    _write_panel_csv(sdm_data, tmp_path / "panel.csv")
    options = ["--sampler", "nuts", "--draws", "500", "--tune", "500", "--ppc-draws", "0"]
    assert main(_fit_args(tmp_path, "bayes", "direct", *options, "--no-figures")) == 0
    info = json.loads((tmp_path / "direct" / "fit.json").read_text(encoding="utf-8"))
    assert info["nuts_model"] == "direct" and info["converged"] is True
    with pytest.raises(SystemExit):
        main(_fit_args(tmp_path, "bayes", "bad", *options, "--nuts-model", "jax"))
