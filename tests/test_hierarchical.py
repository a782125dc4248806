"""The hierarchical region-varying SDM: regional effects, the one-region limit, the API.

Independent yardsticks: dense effect matrices ``S_k`` built draw by draw; the national
model's exact sampler (a hierarchical model with one region *is* the national model);
the national Gram matrix; the dense log density of the interacted SDM.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.data.weights import province_contiguity
from bayes_ccd.exceptions import ConvergenceWarning, SpecificationError, WeightsWarning
from bayes_ccd.settings import BayesSettings
from bayes_ccd.spatial.bayes.exact import cross_products, log_likelihood
from bayes_ccd.spatial.bayes.hierarchical import (
    build_hierarchical_model,
    hierarchical_design,
    hierarchical_model_data,
)
from bayes_ccd.spatial.bayes.priors import DEFAULT_PRIOR, log_prior_density, prior_parameters
from bayes_ccd.spatial.design import ModelSpec
from bayes_ccd.spatial.model import SpatialPanel
from bayes_ccd.spatial.regional_effects import regional_effects, regional_spectrum
from bayes_ccd.spatial.simulate import simulate_panel

SDM = ModelSpec("sdm", "both", y="y", x=("x1", "x2"))


@pytest.fixture(scope="module")
def provinces():
    return province_contiguity()


@pytest.fixture(scope="module")
def regions(provinces):
    from bayes_ccd.data.regions import read_regions

    return read_regions()


@pytest.fixture(scope="module")
def panel(provinces):
    return simulate_panel(
        provinces, n_periods=12, beta=[1.0, -0.5], theta=[0.5, 0.2], spatial=0.3, seed=5
    )


# --- regional effects against dense S_k ---------------------------------------------------


def _dense_summaries(W, codes, rho, b, t):
    """Every regional summary from the dense ``S = (I - rho W)^{-1}(diag(b) + W diag(t))``."""
    n = W.shape[0]
    S = np.linalg.solve(np.eye(n) - rho * W, np.diag(b) + W @ np.diag(t))
    off = S - np.diag(np.diag(S))
    rows = []
    for q in range(codes.max() + 1):
        inside = codes == q
        n_q = inside.sum()
        rows.append(
            [
                np.diag(S)[inside].sum() / n_q,
                off[inside].sum() / n_q,
                off[:, inside].sum() / n_q,
                S[np.ix_(inside, ~inside)].sum() / n_q,
                S[np.ix_(~inside, inside)].sum() / n_q,
                S[inside].sum() / n_q,
            ]
        )
    direct, total = np.trace(S) / n, S.sum() / n
    return np.array(rows), np.array([direct, total - direct, total])


@pytest.mark.parametrize("kind", ["provinces", "directed"])
def test_regional_effects_equal_dense_effect_matrices(provinces, regions, kind) -> None:
    """Every draw, region, covariate and summary equals the dense computation to 1e-10."""
    rng = np.random.default_rng(3)
    if kind == "provinces":
        W = provinces.dense
        codes = pd.Index(["east", "central", "west"]).get_indexer(
            regions.loc[list(provinces.units)].to_numpy()
        )
    else:  # a non-symmetric, not row-stochastic W with complex eigenvalues
        W = rng.uniform(size=(9, 9)) * (rng.uniform(size=(9, 9)) < 0.4)
        np.fill_diagonal(W, 0.0)
        W /= 1.5 * np.abs(np.linalg.eigvals(W)).max()
        codes = np.array([0, 0, 1, 1, 1, 2, 2, 0, 2])
    n_draws, k, g = 7, 2, codes.max() + 1
    rho = rng.uniform(-0.6, 0.9, n_draws).reshape(7, 1)
    beta = rng.normal(size=(7, 1, k, g))
    theta = rng.normal(size=(7, 1, k, g))
    regional, national = regional_effects(rho, beta, theta, regional_spectrum(W, codes))
    assert regional.shape == (7, 1, g, 6, k) and national.shape == (7, 1, 3, k)
    for d in range(n_draws):
        for j in range(k):
            rows, nat = _dense_summaries(
                W, codes, rho[d, 0], beta[d, 0, j, codes], theta[d, 0, j, codes]
            )
            np.testing.assert_allclose(regional[d, 0, :, :, j], rows, rtol=0, atol=1e-10)
            np.testing.assert_allclose(national[d, 0, :, j], nat, rtol=0, atol=1e-10)


# --- the design and the density ----------------------------------------------------------


def test_one_region_design_is_the_national_design(provinces, panel) -> None:
    """With one region the interacted design and its Gram matrix are the national ones."""
    one = pd.Series("all", index=list(provinces.units))
    national, regional, _ = hierarchical_design(panel, provinces, SDM, one)
    assert regional.names == tuple(f"{n}[all]" for n in national.names)
    np.testing.assert_array_equal(cross_products(regional), cross_products(national))


def test_hierarchical_density_equals_the_interacted_sdm(provinces, regions, panel) -> None:
    """The PyMC log density equals, up to one constant, the dense interacted-SDM likelihood
    at beta = mu + tau z, plus the national priors on mu, sigma, rho, the half-normal on
    tau and N(0, 1) on z (standardised scale, as the model is written)."""
    national, regional, membership = hierarchical_design(panel, provinces, SDM, regions)
    params = prior_parameters(DEFAULT_PRIOR, national)
    names = list(dict.fromkeys(membership))
    model = build_hierarchical_model(national, regional, params, names, pooling_scale=0.7)
    logp = model.compile_logp(jacobian=False)
    rng = np.random.default_rng(0)
    s, s_y = params.column_scale, params.y_scale
    values = []
    for _ in range(3):
        point = {
            "rho_interval__": 0.0,
            "rho": rng.uniform(-0.2, 0.6),
            "mu": rng.normal(size=4) * 0.3,
            "log_sigma": rng.normal() * 0.2 - 0.3,
            "tau_log__": rng.normal(size=4) * 0.5 - 1.0,
            "z": rng.normal(size=(4, 3)),
        }
        tau = np.exp(point["tau_log__"])
        lo, hi = national.rho_bounds
        point["rho_interval__"] = np.log((point["rho"] - lo) / (hi - point["rho"]))
        beta_std = point["mu"][:, None] + tau[:, None] * point["z"]
        beta = (beta_std * (s_y / s)[:, None]).reshape(-1)
        log_sigma = point["log_sigma"] + np.log(s_y)
        dense = (
            log_likelihood(regional, cross_products(regional), point["rho"], beta, log_sigma)
            + log_prior_density(
                params, national.rho_bounds, point["rho"], point["mu"] * s_y / s, log_sigma
            )
            - 0.5 * np.sum(tau**2) / 0.7**2
            - 0.5 * np.sum(point["z"] ** 2)
        )
        inputs = {k: v for k, v in point.items() if k in {v.name for v in model.value_vars}}
        values.append(logp(inputs) - dense)
    np.testing.assert_allclose(values, values[0], rtol=0, atol=1e-8)


def test_build_model_of_a_varying_panel_is_the_hierarchical_model(provinces, regions, panel):
    model = SpatialPanel(data=panel, weights=provinces, regions=regions, varying="region")
    pymc_model = model.build_model(pooling_scale=0.3)
    assert {v.name for v in pymc_model.free_RVs} == {"rho", "mu", "log_sigma", "tau", "z"}
    assert pymc_model.named_vars_to_dims["z"] == ("coefficient", "region")
    assert float(pymc_model["pooling_scale"].get_value()) == 0.3


def test_refuses_error_models_and_tiny_regions(provinces, regions, panel) -> None:
    with pytest.raises(SpecificationError, match="lag model"):
        hierarchical_design(panel, provinces, SDM.replace(model="sem"), regions)
    tiny = regions.copy()
    tiny.iloc[0] = "alone"
    with pytest.raises(SpecificationError, match="fewer than two units"):
        hierarchical_design(panel, provinces, SDM, tiny)
    with pytest.raises(SpecificationError, match="varying"):
        SpatialPanel(data=panel, weights=provinces, varying="unit")


def test_model_data_standardises_like_the_national_model(provinces, regions, panel) -> None:
    national, regional, _ = hierarchical_design(panel, provinces, SDM, regions)
    params = prior_parameters(DEFAULT_PRIOR, national)
    values = hierarchical_model_data(national, regional, params, 1.0)
    assert values["gram"].shape == (2 + 12, 2 + 12)
    # The interacted columns of one design column sum to the national column, so their
    # cross-products with y do too.
    gram = values["gram"]
    from bayes_ccd.spatial.bayes.nuts import model_data

    nat = model_data(national, params)["gram"]
    blocks = gram[2:, 0].reshape(4, 3).sum(axis=1)
    np.testing.assert_allclose(blocks, nat[2:6, 0], rtol=1e-12)


# --- the one-region limit against the exact sampler ---------------------------------------


@pytest.mark.slow
def test_one_region_posterior_equals_the_national_exact_posterior(provinces, panel) -> None:
    """Means and sds of the 4 coefficients, rho, sigma2 and the 6 national effects agree
    within 4 sqrt(mcse_nuts^2 + mcse_exact^2) (MCSE of the mean and of the sd; NUTS 4 x
    1000 draws, exact 4 x 1000 independent draws). Under agreement each standardised
    difference is about N(0, 1), so a false alarm over the 24 comparisons has probability
    below 24 x 6.3e-5 = 0.0015."""
    one = pd.Series("all", index=list(provinces.units))
    options = {"draws": 1000, "tune": 1000, "chains": 4, "ppc_draws": 0}
    hier = SpatialPanel(data=panel, weights=provinces, regions=one, varying="region").fit(
        "bayes", seed=3, **options
    )
    exact = SpatialPanel(data=panel, weights=provinces).fit(
        "bayes", sampler="exact", seed=3, **options
    )
    assert hier.diagnostics().converged, hier.diagnostics().verdict
    h = hier.coefficients().set_index("term")
    e = exact.coefficients().set_index("term")
    h = h.rename(index=lambda t: t.removesuffix("[all]")).loc[e.index]
    he = hier.effects()
    he = he[he["region"] == "national"].set_index(["variable", "effect"])
    ee = exact.effects().set_index(["variable", "effect"]).loc[he.index]
    for table_h, table_e in ((h, e), (he, ee)):
        for stat, mcse in (("mean", "mcse_mean"), ("sd", "mcse_sd")):
            tolerance = 4 * np.sqrt(table_h[mcse] ** 2 + table_e[mcse] ** 2)
            difference = (table_h[stat] - table_e[stat]).abs()
            assert (difference < tolerance).all(), table_h.assign(diff=difference, tol=tolerance)
    # One region: its effects are the national ones, draw by draw.
    post = hier.posterior
    for kind, national in (("direct", "direct"), ("indirect_received", "indirect")):
        np.testing.assert_allclose(
            post["regional_effects"].sel(region="all", regional_effect=kind),
            post["effects"].sel(effect=national),
            atol=1e-10,
        )


# --- the API, saving and loading ----------------------------------------------------------


@pytest.fixture(scope="module")
def hierarchical_fit(provinces, regions, panel):
    model = SpatialPanel(data=panel, weights=provinces, regions=regions, varying="region")
    with warnings.catch_warnings():
        # A test of the plumbing with few draws: convergence is not its subject.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(
            "bayes", seed=1, draws=300, tune=300, chains=2, ppc_draws=20, target_accept=0.99
        )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::bayes_ccd.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::bayes_ccd.exceptions.WeightsWarning")
def test_api_tables_and_round_trip(hierarchical_fit, tmp_path) -> None:
    import bayes_ccd as bc

    fit = hierarchical_fit
    effects = fit.effects()
    assert list(effects.columns[:3]) == ["region", "variable", "effect"]
    assert set(effects["region"]) == {"national", "east", "central", "west"}
    assert len(effects) == 2 * (3 + 3 * 6)
    assert set(fit.pooling()["parameter"]) == {"tau", "mu"}
    assert "tau[W*x1]" in set(fit.coefficients()["term"])
    assert fit.info["hierarchical"] and fit.info["regions"] == {
        "east": 11,
        "central": 8,
        "west": 12,
    }
    assert fit.settings.sampler == "nuts"
    written = fit.write(tmp_path / "out", figures=False)
    assert {p.name for p in written} >= {"effects.csv", "pooling.csv", "effects_table.md"}
    loaded = bc.load(tmp_path / "out" / "posterior.nc")
    assert type(loaded) is type(fit)
    pd.testing.assert_frame_equal(loaded.effects(), fit.effects())
    pd.testing.assert_frame_equal(loaded.pooling(), fit.pooling())
    assert type(bc.load(tmp_path / "out")) is type(fit)  # the directory: the fit itself
    assert "Effects by region" in str(fit.summary())
    with pytest.raises(SpecificationError, match="varying"):
        SpatialPanel(data=fit.design.data, weights=fit.design.weights, varying="region").fit("ml")


def test_pooling_scale_is_a_setting() -> None:
    assert BayesSettings().pooling_scale == 1.0 and BayesSettings().hierarchical is False
    with pytest.raises(Exception, match="positive"):
        BayesSettings(pooling_scale=0.0)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::bayes_ccd.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::bayes_ccd.exceptions.WeightsWarning")
def test_regional_comparison_tables_and_figures(
    hierarchical_fit, provinces, regions, panel, tmp_path
):
    """Sub-sample MLE and posterior rows per region next to the hierarchical posterior,
    whose rows are the fit's own direct, indirect_received and total effects."""
    import bayes_ccd as bc

    model = SpatialPanel(data=panel, weights=provinces, regions=regions)
    mle = model.fit("ml", by_region=True)
    bayes = model.fit("bayes", by_region=True, draws=300, chains=2, ppc_draws=0)
    comparison = bc.regional_comparison(hierarchical_fit, mle, bayes)
    table = comparison.table
    assert set(table["estimator"]) == set(bc.spatial.regional_comparison.ESTIMATORS)
    assert len(table) == 3 * 3 * 2 * 3  # estimators x regions x covariates x effects
    effects = hierarchical_fit.effects().set_index(["region", "variable", "effect"])
    mine = table[table["estimator"] == "hierarchical posterior"]
    kinds = {"direct": "direct", "indirect": "indirect_received", "total": "total"}
    for row in mine.itertuples():
        assert row.estimate == effects.loc[(row.region, row.variable, kinds[row.effect]), "mean"]
    sub = table[table["estimator"] == "sub-sample MLE"].set_index(["region", "variable", "effect"])
    east = mle["east"].effects().set_index(["variable", "effect"])
    assert sub.loc[("east", "x1", "total"), "estimate"] == east.loc[("x1", "total"), "estimate"]
    wide = comparison.effect_table("indirect")
    assert wide.shape == (6, 3) and wide.index.names == ["region", "variable"]
    assert comparison.width_ratios().shape == (3, 2)
    written = {p.name for p in comparison.write(tmp_path / "cmp")}
    for effect in ("direct", "indirect", "total"):
        assert {
            f"regional_{effect}.csv",
            f"regional_{effect}.md",
            f"regional_{effect}.png",
        } <= written
    assert {"regional_comparison.csv", "pooling.csv", "effects.csv", "posterior.nc"} <= written
    assert "Mean interval width" in "\n".join(comparison.summary().lines)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::bayes_ccd.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::bayes_ccd.exceptions.WeightsWarning")
def test_fit_command_hierarchical(provinces, panel, tmp_path, capsys) -> None:
    """``fit --estimator bayes --hierarchical`` writes the hierarchical fit and the
    side-by-side tables and figures (a simulated panel with the bundled regions)."""
    from bayes_ccd.cli import main

    frame = pd.DataFrame(
        {
            "province": np.tile(panel.units, panel.n_periods),
            "year": np.repeat(panel.periods, panel.n_units),
            "y": panel.y.reshape(-1),
            "x1": panel.x[..., 0].reshape(-1),
            "x2": panel.x[..., 1].reshape(-1),
        }
    )
    frame.to_csv(tmp_path / "panel.csv", index=False)
    args = ["fit", "--data", str(tmp_path / "panel.csv"), "--unit", "province", "--time", "year"]
    args += ["--y", "y", "--x", "x1,x2", "--weights", "bundled:province-contiguity"]
    args += ["--estimator", "bayes", "--hierarchical", "--pooling-scale", "0.5"]
    args += ["--draws", "200", "--tune", "200", "--chains", "2", "--ppc-draws", "0"]
    args += ["--no-figures", "--out", str(tmp_path / "out")]
    assert main(args) == 0
    out = tmp_path / "out"
    assert (out / "regional_indirect.md").is_file() and (out / "pooling.csv").is_file()
    assert "Between-region scales" in capsys.readouterr().out
    import bayes_ccd as bc

    loaded = bc.load(out / "posterior.nc")
    assert loaded.settings.pooling_scale == 0.5 and loaded.settings.hierarchical


# --- coverage on simulated panels with region-specific coefficients ----------------------

#: Coefficients by covariate (rows) and region (east, central, west).
_BETA = np.array([[1.0, 0.6, 1.4], [-0.5, -0.2, -0.8]])
_THETA = np.array([[0.5, 0.9, 0.2], [0.2, 0.0, 0.4]])


@pytest.mark.slow
def test_hierarchical_covers_the_regional_truth(provinces, regions) -> None:
    """On 8 panels (T = 12, rho = 0.35) with region-specific beta and theta on the
    province W, the hierarchical 95% intervals of each region's direct, indirect
    (received) and total effects cover the truth (dense S_k at the true values) in at
    least 85% of the 144 cases (8 panels x 3 regions x 2 covariates x 3 effects; nominal
    95%, and the binomial 1% quantile for 144 independent cases is 89%; the cases of one
    panel are correlated, hence the margin) and are narrower on average than the
    sub-sample posteriors' (W cut at the borders). benchmarks/study_hierarchical.py runs
    the full study."""
    import bayes_ccd as bc

    units = list(provinces.units)
    names = ["east", "central", "west"]
    codes = pd.Index(names).get_indexer(regions.loc[units].to_numpy())
    true, _ = regional_effects(
        np.array(0.35), _BETA, _THETA, regional_spectrum(provinces.dense, codes)
    )
    kinds = {"direct": 0, "indirect": 1, "total": 5}
    covered, widths = [], {"hierarchical posterior": [], "sub-sample posterior": []}
    settings = BayesSettings(draws=500, tune=500, chains=4, ppc_draws=0, target_accept=0.99)
    for seed in range(8):
        data = simulate_panel(
            provinces,
            n_periods=12,
            beta=_BETA[:, codes].T,
            theta=_THETA[:, codes].T,
            spatial=0.35,
            seed=100 + seed,
        )
        model = SpatialPanel(data=data, weights=provinces, regions=regions)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", WeightsWarning)  # central splits in two
            hierarchical = bc.fit_hierarchical(
                model.arrays, provinces, SDM, regions, settings=settings, seed=seed
            )
            sub = model.fit("bayes", by_region=True, seed=seed, draws=500, chains=2, ppc_draws=0)
        table = bc.regional_comparison(hierarchical, sub).table
        for row in table.itertuples():
            widths[row.estimator].append(row.width)
            if row.estimator == "hierarchical posterior":
                truth = true[names.index(row.region), kinds[row.effect], int(row.variable[1]) - 1]
                covered.append(row.lower <= truth <= row.upper)
    assert len(covered) == 144
    assert np.mean(covered) >= 0.85, np.mean(covered)
    assert np.mean(widths["hierarchical posterior"]) < np.mean(widths["sub-sample posterior"])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::bayes_ccd.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::bayes_ccd.exceptions.WeightsWarning")
def test_demo_run_writes_the_side_by_side_tables_and_figures(tmp_path) -> None:
    """``[bayes] hierarchical = true`` of the bundled (synthetic) demo: the run's
    ``hierarchical`` stage writes the comparison table and forest figure of every effect."""
    from bayes_ccd.cli import main
    from bayes_ccd.config import bundled_models_dir
    from bayes_ccd.exceptions import DataWarning

    models = bundled_models_dir()
    text = (models / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('file = "indicators.toml"', f'file = "{models / "indicators.toml"}"')
    old = "draws = 2000\nchains = 4\n"
    assert old in text and "\nhierarchical = true\n" in text  # the demo runs the stage
    text = text.replace(old, "draws = 300\ntune = 300\nchains = 2\nppc_draws = 0\n")
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # the demo's interpolated cells
        assert main(["run", str(path), "--out", str(out), "--only", "hierarchical"]) == 0
    stage = out / "hierarchical"
    for effect in ("direct", "indirect", "total"):
        for suffix in ("csv", "md", "tex", "png"):
            assert (stage / f"regional_{effect}.{suffix}").is_file()
    table = pd.read_csv(stage / "regional_comparison.csv")
    assert set(table["estimator"]) == {
        "sub-sample MLE",
        "sub-sample posterior",
        "hierarchical posterior",
    }
    assert "Hierarchical model by region" in (out / "summary.md").read_text(encoding="utf-8")


def test_simulated_coefficients_by_unit_follow_the_reduced_form(provinces) -> None:
    """With the same seed (same x, effects and errors), the panel with coefficients by
    unit differs from the common-coefficient one by (I - rho W)^{-1}[x_i (beta_i - b) +
    sum_j w_ij x_j (theta_j - t)], computed densely here."""
    rng = np.random.default_rng(1)
    n, b, t = provinces.n, np.array([1.0, -0.5]), np.array([0.5, 0.2])
    beta, theta = b + rng.normal(size=(n, 2)), t + rng.normal(size=(n, 2))
    common = simulate_panel(provinces, n_periods=4, beta=b, theta=t, spatial=0.3, seed=2)
    varying = simulate_panel(provinces, n_periods=4, beta=beta, theta=theta, spatial=0.3, seed=2)
    W, x = provinces.dense, common.x
    np.testing.assert_array_equal(varying.x, x)
    for period in range(4):
        shift = (x[period] * (beta - b)).sum(axis=1) + W @ (x[period] * (theta - t)).sum(axis=1)
        expected = np.linalg.solve(np.eye(n) - 0.3 * W, shift)
        np.testing.assert_allclose(varying.y[period] - common.y[period], expected, atol=1e-12)
