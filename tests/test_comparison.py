"""Posterior versus maximum likelihood.

Checked against: hand-computed shifts, sd ratios and flags on small tables; the files
written by the MLE and Bayesian estimators (read back, national and regional).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.conventions import NATIONAL
from bayes_ccd.data.regions import read_regions
from bayes_ccd.data.weights import province_contiguity
from bayes_ccd.exceptions import DataError, SpecificationError, WeightsWarning
from bayes_ccd.spatial.bayes.reports import fit_bayes_reports, write_bayes_outputs
from bayes_ccd.spatial.compare import (
    COMPARISON_COLUMNS,
    compare_estimates,
    compare_reports,
    comparison_summary,
    read_fit_directory,
    write_comparison_outputs,
)
from bayes_ccd.spatial.design import ModelSpec
from bayes_ccd.spatial.reports import FitReport, fit_reports, write_fit_outputs
from bayes_ccd.spatial.simulate import simulate_panel

INFO = {
    "model": "sar",
    "fe": "both",
    "transform": "lee-yu",
    "y": "y",
    "x": ["x1"],
    "N": 31,
    "T": 10,
    "interval_prob": 0.95,
}


def _reports(shift_rho: float = 0.0) -> tuple[FitReport, FitReport]:
    """MLE and Bayes reports with known numbers: x1 agrees, rho is shifted by
    ``shift_rho``, sigma2's posterior sd is twice the standard error."""
    mle_coef = pd.DataFrame(
        {
            "term": ["x1", "rho", "sigma2"],
            "estimate": [1.0, 0.5, 2.0],
            "std_error": [0.1, 0.1, 0.2],
            "lower": [0.8, 0.3, 1.6],
            "upper": [1.2, 0.7, 2.4],
        }
    )
    post_coef = pd.DataFrame(
        {
            "term": ["x1", "rho", "sigma2"],
            "mean": [1.02, 0.5 + shift_rho, 2.0],
            "sd": [0.1, 0.1, 0.4],
            "lower": [0.82, 0.31 + shift_rho, 1.3],
            "upper": [1.22, 0.69 + shift_rho, 2.9],
            "hdi_lower": [0.81, 0.3 + shift_rho, 1.2],
            "hdi_upper": [1.21, 0.68 + shift_rho, 2.8],
        }
    )
    kinds = ["direct", "indirect", "total"]
    mle_eff = pd.DataFrame(
        {
            "variable": "x1",
            "effect": kinds,
            "estimate": [1.1, 0.9, 2.0],
            "std_error": [0.1, 0.3, 0.3],
            "lower": [0.9, 0.3, 1.4],
            "upper": [1.3, 1.5, 2.6],
        }
    )
    post_eff = pd.DataFrame(
        {
            "variable": "x1",
            "effect": kinds,
            "mean": [1.1, 1.2, 2.3],
            "sd": [0.1, 0.3, 0.45],
            "lower": [0.9, 0.6, 1.4],
            "upper": [1.3, 1.8, 3.2],
            "hdi_lower": [0.9, 0.6, 1.4],
            "hdi_upper": [1.3, 1.8, 3.2],
        }
    )
    empty = pd.DataFrame()
    return (
        FitReport(mle_coef, mle_eff, empty, INFO | {"estimator": "mle"}),
        FitReport(post_coef, post_eff, empty, INFO | {"estimator": "bayes"}),
    )


def test_shift_ratio_and_flags_by_hand() -> None:
    mle, bayes = _reports(shift_rho=0.08)
    table = compare_estimates(mle, bayes)
    assert list(table.columns) == list(COMPARISON_COLUMNS)
    rows = table.set_index(["kind", "term", "effect"])
    # x1: (1.02 - 1.0)/0.1 = 0.2, ratio 1: no flag.
    x1 = rows.loc[("coefficient", "x1", "")]
    assert x1["shift_in_sd"] == pytest.approx(0.2) and x1["sd_ratio"] == pytest.approx(1.0)
    assert x1["flag"] == ""
    # rho: 0.08/0.1 = 0.8 > 0.5: shift.
    assert rows.loc[("coefficient", "rho", ""), "shift_in_sd"] == pytest.approx(0.8)
    assert rows.loc[("coefficient", "rho", ""), "flag"] == "shift"
    # sigma2: ratio 0.4/0.2 = 2 > 1.25: spread.
    assert rows.loc[("coefficient", "sigma2", ""), "flag"] == "spread"
    # indirect: (1.2 - 0.9)/0.3 = 1; total: (2.3 - 2.0)/0.45 = 0.667 and ratio 1.5.
    assert rows.loc[("effect", "x1", "indirect"), "shift_in_sd"] == pytest.approx(1.0)
    assert rows.loc[("effect", "x1", "total"), "flag"] == "shift, spread"
    assert rows.loc[("effect", "x1", "direct"), "post_hdi_upper"] == 1.3
    lines = comparison_summary({NATIONAL: table})
    assert lines == [
        "national: largest |posterior mean - MLE| = 1.00 posterior sd; 4 flagged "
        "(rho, sigma2, indirect x1, total x1)"
    ]


def test_fits_of_different_models_are_not_compared() -> None:
    mle, bayes = _reports()
    other = FitReport(
        bayes.coefficients, bayes.effects, bayes.tests, bayes.info | {"model": "sdm", "N": 12}
    )
    with pytest.raises(SpecificationError, match=r"model: 'sar' vs 'sdm', N: 31 vs 12"):
        compare_estimates(mle, other)
    renamed = FitReport(
        bayes.coefficients.replace({"term": {"x1": "x9"}}), bayes.effects, bayes.tests, bayes.info
    )
    with pytest.raises(SpecificationError, match="coefficients of the two fits differ"):
        compare_estimates(mle, renamed)
    with pytest.raises(SpecificationError, match="no sample was fitted by both"):
        compare_reports({"east": mle}, {NATIONAL: bayes})


def test_missing_directory_is_a_data_error(tmp_path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_fit_directory(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="fit.json is missing"):
        read_fit_directory(tmp_path / "empty")


def test_written_fits_are_read_back_and_compared_by_region(tmp_path) -> None:
    weights = province_contiguity()
    data = simulate_panel(
        weights, n_periods=8, beta=(1.0, -0.5), theta=(0.5, 0.3), spatial=0.4, seed=31
    )
    spec = ModelSpec("sdm", "both")
    regions = read_regions()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeightsWarning)  # central has two components
        mle = fit_reports(data, weights, spec, regions=regions, n_draws=500, tests=False)
        bayes = fit_bayes_reports(
            data, weights, spec, regions=regions, prior="reference", draws=500, seed=3
        )
    write_fit_outputs(mle, tmp_path / "mle")
    write_bayes_outputs(bayes, tmp_path / "bayes", figures=False)
    read_mle, read_bayes = (
        read_fit_directory(tmp_path / "mle"),
        read_fit_directory(tmp_path / "bayes"),
    )
    assert list(read_bayes) == [NATIONAL, "east", "central", "west"] == list(read_mle)
    np.testing.assert_allclose(
        read_bayes["west"].coefficients["mean"],
        bayes.reports["west"].coefficients["mean"],
        rtol=1e-12,
    )
    tables = compare_reports(read_mle, read_bayes)
    national = tables[NATIONAL]
    # With a flat prior and 210 observations the two agree closely on the coefficients.
    assert national.loc[national["kind"] == "coefficient", "shift_in_sd"].abs().max() < 0.5
    written = write_comparison_outputs(tables, tmp_path / "cmp", metadata={"a": 1})
    names = {p.relative_to(tmp_path / "cmp").as_posix() for p in written}
    assert {
        "comparison.csv",
        "comparison.md",
        "compare_forest.png",
        "regions/central/comparison.csv",
        "regions/central/compare_forest.png",
        "comparison_by_region.csv",
        "metadata.json",
    } <= names
    long = pd.read_csv(tmp_path / "cmp" / "comparison_by_region.csv")
    assert list(long["region"].unique()) == [NATIONAL, "east", "central", "west"]
