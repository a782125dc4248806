"""MCMC diagnostics with a verdict, and the diagnostic figures.

Checked against: synthetic traces whose defects are known by construction (chains at
different locations, strongly autocorrelated chains, injected divergences, a random-walk
energy), independent normal draws (which must pass), and the exact sampler's draws.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure

from bayes_ccd.conventions import COVARIATE, EFFECT, EFFECT_KINDS, TERM
from bayes_ccd.data.weights import province_contiguity
from bayes_ccd.exceptions import ConvergenceWarning
from bayes_ccd.spatial.bayes.estimator import SpatialPanelBayes
from bayes_ccd.spatial.design import ModelSpec
from bayes_ccd.spatial.diagnostics import (
    DIAGNOSTIC_COLUMNS,
    diagnose,
    diagnostic_figures,
    element_labels,
)
from bayes_ccd.spatial.simulate import simulate_panel

CHAINS, DRAWS = 4, 1000


def _tree(rng, *, shift=0.0, phi=0.0, divergences=0, energy_walk=False) -> xr.DataTree:
    """A posterior of rho, beta (2 terms) and effects (3 x 2) with known defects: chain c
    of rho shifted by c * shift, rho an AR(1) with coefficient phi."""
    noise = rng.standard_normal((CHAINS, DRAWS))
    rho = np.empty_like(noise)
    rho[:, 0] = noise[:, 0]
    for t in range(1, DRAWS):  # AR(1) with unit stationary variance
        rho[:, t] = phi * rho[:, t - 1] + np.sqrt(1 - phi**2) * noise[:, t]
    rho += shift * np.arange(CHAINS)[:, None]
    sample = ("chain", "draw")
    posterior = xr.Dataset(
        {
            "rho": (sample, rho),
            "beta": ((*sample, TERM), rng.standard_normal((CHAINS, DRAWS, 2))),
            "sigma2": (sample, rng.gamma(50.0, 0.02, (CHAINS, DRAWS))),
            "effects": ((*sample, EFFECT, COVARIATE), rng.standard_normal((CHAINS, DRAWS, 3, 2))),
        },
        coords={TERM: ["x1", "W*x1"], EFFECT: list(EFFECT_KINDS), COVARIATE: ["x1", "x2"]},
    )
    diverging = np.zeros((CHAINS, DRAWS), dtype=bool)
    diverging[0, :divergences] = True
    energy = rng.standard_normal((CHAINS, DRAWS))
    if energy_walk:  # E-BFMI = E[(dE)^2] / Var(E) is tiny for a random walk
        energy = np.cumsum(energy, axis=1)
    stats = xr.Dataset({"diverging": (sample, diverging), "energy": (sample, energy)})
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})


def test_independent_draws_pass_every_check() -> None:
    diagnostics = diagnose(_tree(np.random.default_rng(0)))
    assert diagnostics.converged and diagnostics.verdict == "converged"
    table = diagnostics.table
    assert list(table.columns) == list(DIAGNOSTIC_COLUMNS)
    assert table["passed"].all()
    # 1 rho + 2 beta + 1 sigma2 + 6 effects, then divergences and one E-BFMI per chain.
    assert len(table) == 10 + 1 + CHAINS
    assert diagnostics.divergences == 0 and len(diagnostics.bfmi) == CHAINS
    parameters = table.iloc[:10]
    # Independent draws: R-hat ~ 1 and ESS ~ the number of draws.
    assert parameters["r_hat"].max() < 1.01
    assert parameters["ess_bulk"].min() > 0.7 * CHAINS * DRAWS


def test_chains_that_disagree_fail_on_r_hat() -> None:
    with pytest.warns(ConvergenceWarning, match=r"R-hat above 1.01 for 1 quantities \(rho"):
        diagnostics = diagnose(_tree(np.random.default_rng(1), shift=0.5))
    assert not diagnostics.converged
    row = diagnostics.table.set_index("quantity").loc["rho"]
    assert not row["passed"] and "R-hat > 1.01" in row["problem"]
    assert diagnostics.table.set_index("quantity").loc["beta[x1]", "passed"]


def test_autocorrelated_chains_fail_on_effective_sample_size() -> None:
    with pytest.warns(ConvergenceWarning, match="effective sample size below 400"):
        diagnostics = diagnose(_tree(np.random.default_rng(2), phi=0.995))
    row = diagnostics.table.set_index("quantity").loc["rho"]
    # ESS of an AR(1): about n (1 - phi)/(1 + phi) = 4000 * 0.0025, far below 400.
    assert row["ess_bulk"] < 100 and not row["passed"]


def test_divergences_and_low_bfmi_fail_with_plain_messages() -> None:
    with pytest.warns(ConvergenceWarning) as caught:
        diagnostics = diagnose(_tree(np.random.default_rng(3), divergences=3, energy_walk=True))
    message = str(caught[0].message)
    assert "3 divergent transitions after warm-up" in message and "target_accept" in message
    assert "E-BFMI below 0.3 in chain(s) [0, 1, 2, 3]" in message
    table = diagnostics.table.set_index("quantity")
    assert table.loc["divergences", "value"] == 3 and not table.loc["divergences", "passed"]
    assert not table.loc["e_bfmi[0]", "passed"]
    assert diagnostics.headline()["divergences"] == 3


def test_constant_quantities_are_reported_not_failed() -> None:
    tree = _tree(np.random.default_rng(4))
    tree["posterior"]["effects"][:, :, 1, :] = 0.0  # e.g. SEM spillovers fixed at zero
    diagnostics = diagnose(tree)
    assert diagnostics.converged
    row = diagnostics.table.set_index("quantity").loc["effects[indirect, x1]"]
    assert np.isnan(row["r_hat"]) and row["passed"] and "constant" in row["problem"]


def test_element_labels_name_every_coordinate() -> None:
    tree = _tree(np.random.default_rng(5))
    assert element_labels(tree["posterior"]["rho"]) == ["rho"]
    assert element_labels(tree["posterior"]["effects"])[:2] == [
        "effects[direct, x1]",
        "effects[direct, x2]",
    ]


@pytest.fixture(scope="module")
def exact_fit():
    weights = province_contiguity()
    data = simulate_panel(weights, n_periods=6, beta=(1.0,), theta=(0.5,), spatial=0.3, seed=9)
    estimator = SpatialPanelBayes(ModelSpec("sdm", "both"), draws=250, chains=4, ppc_draws=30)
    return estimator.fit(data, weights)


def test_exact_draws_are_diagnosed_as_independent_chains(exact_fit) -> None:
    diagnostics = exact_fit.diagnostics()
    assert diagnostics.converged
    assert diagnostics.divergences is None and diagnostics.bfmi is None
    assert "divergences" not in set(diagnostics.table["quantity"])
    assert diagnostics.table["ess_bulk"].min() > 0.7 * 1000


def test_diagnostic_figures_are_returned_not_written(exact_fit, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    figures = diagnostic_figures(exact_fit.tree)
    # independent draws have no mixing to diagnose: no trace or rank plot
    assert list(figures) == ["spatial_marginal", "effects_forest", "ppc"]
    assert all(isinstance(f, Figure) for f in figures.values())
    assert not list(tmp_path.iterdir())
    for figure in figures.values():
        plt.close(figure)
    mcmc = xr.DataTree.from_dict(
        {"posterior": exact_fit.tree["posterior"].to_dataset(), "sample_stats": xr.Dataset()}
    )
    assert list(diagnostic_figures(mcmc)) == ["trace", "rank", "effects_forest"]
    plt.close("all")


def test_a_fit_writes_its_figures_and_closes_them(exact_fit, tmp_path) -> None:
    before = set(plt.get_fignums())
    paths = exact_fit.write_sample(tmp_path, figures=True)
    pngs = [p.name for p in paths if p.suffix == ".png"]
    assert pngs == ["spatial_marginal.png", "effects_forest.png", "ppc.png"]
    assert all((tmp_path / p).stat().st_size > 5000 for p in pngs)
    assert set(plt.get_fignums()) == before
    assert not [
        p for p in exact_fit.write_sample(tmp_path / "t", figures=False) if p.suffix == ".png"
    ]


def _texts(figure: Figure) -> list[str]:
    """Every title, axis label, tick label and legend entry of a figure."""
    texts = [t.get_text() for t in figure.findobj(match=lambda a: hasattr(a, "get_text"))]
    return [t for t in texts if t]


def test_figures_are_labelled_for_a_paper(exact_fit) -> None:
    forest = exact_fit.plot_effects()
    texts = _texts(forest)
    assert "Direct, indirect and total effects (LeSage-Pace): posterior" in texts
    assert {"direct effects", "indirect effects", "total effects"} <= set(texts)
    assert "effect on y" in texts and "95% interval (central)" in texts
    # The interval drawn is the 95% central interval of the draws: quantiles of x1's total.
    total = exact_fit.posterior["effects"].sel(effect="total", covariate="x1").to_numpy().ravel()
    segments = forest.axes[2].collections[0].get_segments()
    np.testing.assert_allclose(segments[0][:, 0], np.quantile(total, [0.025, 0.975]))
    ppc = exact_fit.plot_ppc()
    texts = _texts(ppc)
    assert "Posterior predictive check" in texts and "density" in texts
    # Moran's I of the observed y: each period's (n/S0) z'Wz/z'z, averaged over periods.
    W, y = exact_fit.design.W, exact_fit.design.y
    z = y - y.mean(axis=1, keepdims=True)
    moran = np.mean([(len(row) / W.sum()) * row @ W @ row / (row @ row) for row in z])
    assert f"observed I = {moran:.3f}" in texts
    assert f"Spatial dependence: P(I_rep >= I_obs) = {exact_fit.ppc['moran_i']:.2f}" in texts
    mcmc = xr.DataTree.from_dict(
        {"posterior": exact_fit.tree["posterior"].to_dataset(), "sample_stats": xr.Dataset()}
    )
    figures = diagnostic_figures(mcmc)
    for stem in ("trace", "rank"):
        texts = _texts(figures[stem])
        # one panel per parameter, grouped, with the chains in a legend
        assert {"Spatial parameter and error variance", "Coefficients of the covariates"} <= set(
            texts
        )
        assert "Coefficients of the spatial lags W*x" in texts
        assert {f"chain {c}" for c in range(4)} <= set(texts)
    assert {"rho", "sigma2", "x1", "W*x1"} <= set(_texts(figures["rank"]))
    plt.close("all")
