"""The public API, used as a researcher would: only names exported by ``bayes_ccd``.

A simulated panel the size of Baltagi's cigarette demand data (46 units x 30 years) is
fitted with ``SpatialPanel(...).fit(method="ml")`` and ``fit(method="bayes",
sampler="exact")``. Checked against: spreg's ``ML_LagFE`` on the same data (individual
effects, where the Lee-Yu and within estimators share beta and rho); the simulation's
true parameters (two-way effects); effects of posterior draws recomputed from a dense
inverse ``(I - rho W)^{-1}``; and the posterior under the reference prior against the
MLE (Bernstein-von Mises).
"""

from __future__ import annotations

import ast
import json
import warnings

import libpysal
import numpy as np
import pandas as pd
import pytest
import spreg
from libpysal.weights import lat2W

import bayes_ccd as bc

BETA = (1.0, -0.5, 0.3)
THETA = (0.5, 0.2, 0.0)
RHO = 0.3
N_UNITS, N_PERIODS = 46, 30


@pytest.fixture(scope="module")
def weights() -> bc.SpatialWeights:
    """Rook contiguity of a 23 x 2 lattice of 46 'states', row-standardised."""
    return bc.weights_from_array(lat2W(23, 2).full()[0], [f"s{i:02d}" for i in range(N_UNITS)])


def _frame(weights, fe: str, seed: int) -> pd.DataFrame:
    data = bc.simulate_panel(
        weights, n_periods=N_PERIODS, beta=BETA, theta=THETA, spatial=RHO, fe=fe, seed=seed
    )
    rows = {
        "state": np.tile(data.units, N_PERIODS),
        "year": np.repeat(np.array(data.periods) + 1960, N_UNITS),
        "y": data.y.ravel(),
    }
    rows |= {name: data.x[..., k].ravel() for k, name in enumerate(data.x_names)}
    return pd.DataFrame(rows)


def _model(frame, weights, fe: str) -> bc.SpatialPanel:
    return bc.SpatialPanel(
        "y ~ x1 + x2 + x3", data=frame, unit="state", time="year", weights=weights, fe=fe
    )


@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")  # spreg 1.9
def test_maximum_likelihood_matches_spreg(weights) -> None:
    frame = _frame(weights, "individual", seed=11)
    fit = _model(frame, weights, "individual").fit(method="ml")
    assert isinstance(fit, bc.MLEFit)
    # spreg's long format: periods are blocks of N rows, in the order of the weights.
    wide = frame.pivot(index="year", columns="state")
    y = wide["y"][list(weights.units)].to_numpy().reshape(-1, 1)
    x = np.column_stack(
        [wide[c][list(weights.units)].to_numpy().ravel() for c in ("x1", "x2", "x3")]
    )
    w = libpysal.weights.full2W(weights.dense, ids=list(weights.units))
    reference = spreg.ML_LagFE(y, x, w, slx_lags=1)
    table = fit.coefficients().set_index("term")
    ours = table.loc[["x1", "x2", "x3", "W*x1", "W*x2", "W*x3", "rho"], "estimate"]
    # spreg's Brent search stops at xatol = 1e-7 in rho; beta moves with rho.
    np.testing.assert_allclose(ours.to_numpy(), reference.betas.ravel(), atol=1e-4)
    # Lee-Yu divides the within residual sum of squares by N(T-1), spreg by NT.
    sigma2 = float(np.squeeze(reference.sig2)) * N_PERIODS / (N_PERIODS - 1)
    assert table.loc["sigma2", "estimate"] == pytest.approx(sigma2, rel=1e-4)


@pytest.fixture(scope="module")
def two_way(weights):
    frame = _frame(weights, "both", seed=12)
    model = _model(frame, weights, "both")
    return (
        model,
        model.fit(method="ml"),
        model.fit(method="bayes", sampler="exact", prior="reference", draws=1000, seed=1),
    )


def test_both_estimators_recover_the_truth(two_way) -> None:
    _, mle, post = two_way
    names = ["x1", "x2", "x3", "W*x1", "W*x2", "W*x3", "rho"]
    truth = dict(zip(names, [*BETA, *THETA, RHO], strict=True))
    truth["sigma2"] = 1.0
    coefficients = mle.coefficients().set_index("term")
    z = (coefficients["estimate"] - pd.Series(truth)) / coefficients["std_error"]
    # |z| > 3.3 has probability 0.1% each; the seed is fixed, so this fails only for a
    # biased estimator or wrong standard errors.
    assert (z.abs() < 3.3).all(), z
    posterior = post.coefficients().set_index("term")
    inside = (posterior["lower"] <= pd.Series(truth)) & (pd.Series(truth) <= posterior["upper"])
    assert inside.sum() >= 7, posterior  # 95% intervals: at most one of eight misses
    assert post.diagnostics().converged


def test_reference_posterior_agrees_with_the_mle(two_way) -> None:
    _, mle, post = two_way
    comparison = bc.compare(mle, post)
    coefficients = comparison.table()
    coefficients = coefficients[coefficients["kind"] == "coefficient"].set_index("term")
    # n_eff = 45 x 29 = 1305: posterior mean and MLE differ by O(1/n) relative to the sd
    # (sigma2 by its K/n bias), and the sd agrees with the standard error.
    assert coefficients.drop(index="sigma2")["shift_in_sd"].abs().max() < 0.15
    assert coefficients["sd_ratio"].between(0.9, 1.1).all()


def test_posterior_effects_equal_a_dense_inverse(two_way, weights) -> None:
    _, _, post = two_way
    W = post.design.W
    draws = post.posterior
    for chain, draw in [(0, 0), (2, 345), (3, 999)]:
        point = draws.isel(chain=chain, draw=draw)
        beta = point["beta"].to_numpy()
        inverse = np.linalg.inv(np.eye(N_UNITS) - float(point["rho"]) * W)
        for k, name in enumerate(("x1", "x2", "x3")):
            S = inverse @ (beta[k] * np.eye(N_UNITS) + beta[3 + k] * W)
            effects = point["effects"].sel(covariate=name)
            assert float(effects.sel(effect="direct")) == pytest.approx(np.trace(S) / N_UNITS)
            assert float(effects.sel(effect="total")) == pytest.approx(S.sum() / N_UNITS)


def test_one_result_contract(two_way, tmp_path) -> None:
    model, mle, post = two_way
    for fit, columns in ((mle, ["estimate", "std_error"]), (post, ["mean", "sd"])):
        assert {"lower", "upper", *columns} <= set(fit.coefficients(prob=0.9).columns)
        assert len(fit.effects()) == 3 * 3
        narrow, wide = fit.effects(prob=0.5), fit.effects(prob=0.99)
        assert ((narrow["upper"] - narrow["lower"]) < (wide["upper"] - wide["lower"])).all()
        summary = fit.summary()
        assert "rho" in str(summary) and "<table" in summary._repr_html_()
        assert summary.to_markdown().startswith("## ") and "\\begin{table}" in summary.to_latex()
        assert json.loads(json.dumps(fit.to_dict(), default=str))["label"] == "national"
        assert fit.fingerprint == mle.fingerprint
    assert list(mle.tests()["test"])[:2] == ["LM-lag", "LM-error"]
    assert post.diagnostics().verdict == "converged"
    # a saved fit loads back as the object, without refitting
    for fit, name in ((mle, "mle.nc"), (post, "post.nc")):
        back = bc.load(fit.save(tmp_path / name))
        assert type(back) is type(fit)
        pd.testing.assert_frame_equal(back.effects(), fit.effects())
    # the same object fits by region: a collection of the same results
    regions = pd.Series(
        ["north"] * 24 + ["south"] * 22, index=list(model.weights.units), name="region"
    )
    regional = bc.SpatialPanel(
        "y ~ x1 + x2 + x3", data=model.panel, weights=model.weights, regions=regions
    ).fit(method="ml", by_region=True, tests=False)
    assert isinstance(regional, bc.FitCollection)
    assert list(regional) == ["national", "north", "south"]
    assert all(isinstance(f, bc.MLEFit) for f in regional.values())
    assert set(regional.effects()["region"]) == {"national", "north", "south"}


def test_a_formula_applies_the_factor_transforms(weights) -> None:
    frame = _frame(weights, "both", seed=13)
    frame["gdp"] = np.exp(frame["x1"]) * 1000.0
    frame["share"] = frame["x2"] * 100.0
    by_formula = bc.SpatialPanel(
        "y ~ ln(gdp / 1000) + 0.01 * share + x3",
        data=frame,
        unit="state",
        time="year",
        weights=weights,
    )
    assert by_formula.spec.x == ("ln_gdp", "share", "x3")
    direct = _model(frame, weights, "both")
    np.testing.assert_allclose(by_formula.arrays.x, direct.arrays.x, rtol=1e-12, atol=1e-12)
    with pytest.raises(bc.SpecificationError, match="exactly one '~'"):
        bc.SpatialPanel("y = x1", data=frame, unit="state", time="year", weights=weights)
    with pytest.raises(bc.SpecificationError, match="not understood"):
        bc.SpatialPanel("y ~ sqrt(x1)", data=frame, unit="state", time="year", weights=weights)


def test_the_public_api_is_what_the_package_exports() -> None:
    missing = [name for name in bc.__all__ if not hasattr(bc, name)]
    assert not missing
    assert set(dir(bc)) == set(bc.__all__)
    with pytest.raises(AttributeError):
        bc.not_a_name  # noqa: B018
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in bc.__all__:
            value = getattr(bc, name)
            if callable(value) and not name.startswith("_"):
                assert value.__doc__, f"bayes_ccd.{name} has no docstring"


def test_this_file_and_the_notebook_use_only_exported_names(repo) -> None:
    """No ``bayes_ccd.<module>`` import: the public API is enough for a researcher."""
    sources = {"tests/test_api.py": (repo / "tests" / "test_api.py").read_text()}
    notebook = json.loads((repo / "notebooks" / "walkthrough.ipynb").read_text())
    lines = [
        line
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for line in "".join(cell["source"]).splitlines()
        if not line.startswith("%")  # IPython magics are not Python
    ]
    sources["notebooks/walkthrough.ipynb"] = "\n".join(lines)
    for where, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            modules = []
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            internal = [m for m in modules if m.startswith("bayes_ccd.")]
            assert not internal, f"{where} imports {internal}"
            if isinstance(node, ast.ImportFrom) and node.module == "bayes_ccd":
                unknown = [a.name for a in node.names if a.name not in bc.__all__]
                assert not unknown, f"{where} imports unexported {unknown}"
