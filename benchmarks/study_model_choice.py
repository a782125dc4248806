"""Simulation study: how often each route of model choice picks the true model.

Panels are simulated from each of SAR, SEM, SDM, SDEM and SLX on the 31 provinces'
contiguity (row-standardised), T = 12, two-way fixed effects, two covariates
(``beta = (1, -0.5)``; Durbin models ``theta = (0.8, 0.6)``; ``rho = lambda = 0.45``
except SLX; ``sigma2 = 1``). For each panel :func:`bayes_ccd.compare_models` is run
with the default prior (exact sampler, 2 chains x 300 draws, as the slow test) and the
share of panels in which each criterion picks the true model is printed:

- ``probability``: the highest posterior model probability (equal prior weights);
- ``elpd_loo``: the highest exact leave-one-out elpd;
- ``tests``: the LR route of :func:`bayes_ccd.spatial.selection.lr_route_choice` (it can
  only pick SAR, SEM or SDM);
- ``mle_aic``: the lowest AIC.

Run: ``.venv/bin/python benchmarks/study_model_choice.py [--panels 40]``. Not a test
(``tests/test_model_choice.py`` has a small slow-marked version); it prints a table.
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

import bayes_ccd as bc

MODELS = ("sar", "sem", "sdm", "sdem", "slx")
CRITERIA = ("probability", "elpd_loo", "tests", "mle_aic")


def simulate(model: str, weights: bc.SpatialWeights, seed: int) -> bc.PanelArrays:
    """One panel of the design in the module docstring."""
    durbin = model in ("sdm", "sdem", "slx")
    return bc.simulate_panel(
        weights,
        n_periods=12,
        beta=[1.0, -0.5],
        theta=[0.8, 0.6] if durbin else None,
        spatial=0.0 if model == "slx" else 0.45,
        model="sdm" if model == "slx" else model,
        seed=seed,
    )


def choices(model: str, weights: bc.SpatialWeights, seed: int) -> dict[str, str]:
    """The model every criterion picks on one simulated panel."""
    panel = bc.SpatialPanel(data=simulate(model, weights, seed), weights=weights, model="sdm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comparison = bc.compare_models(panel, seed=seed, draws=300, chains=2)
    return comparison.best()


def study(panels: int, seed: int) -> pd.DataFrame:
    """Return one row per panel: the true model and each criterion's choice."""
    weights = bc.province_contiguity()
    rows = []
    for j, model in enumerate(MODELS):
        for i in range(panels):
            picked = choices(model, weights, seed + 1000 * j + i)
            rows.append({"true": model, **picked})
    return pd.DataFrame(rows)


def main() -> None:
    """Run the study and print the share of correct choices."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", type=int, default=40, help="panels per true model")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    frame = study(args.panels, args.seed)
    rates = pd.DataFrame(
        {
            c: frame.groupby("true", sort=False).apply(lambda g, c=c: (g[c] == g.name).mean())
            for c in CRITERIA
        }
    )
    rates.loc["all"] = [(frame[c] == frame["true"]).mean() for c in CRITERIA]
    print(f"{args.panels} panels per true model, {time.perf_counter() - start:.0f} s")
    print("share of panels in which each criterion picks the true model:")
    print(rates.round(3).to_string())
    for c in ("probability", "elpd_loo"):
        print(f"\nconfusion of {c} (rows: true model, columns: chosen):")
        print(pd.crosstab(frame["true"], frame[c]).reindex(index=list(MODELS)).to_string())


if __name__ == "__main__":
    main()
