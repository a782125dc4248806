"""Posterior versus maximum likelihood.

Checked against: hand-computed shifts, sd ratios and flags on small tables; fits of the
same simulated panel by both estimators, written, loaded back and compared by region;
fingerprints that refuse fits of different weights, data or models.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from bayes_ccd.cli import main
from bayes_ccd.conventions import NATIONAL
from bayes_ccd.data.regions import read_regions
from bayes_ccd.data.weights import from_dense, province_contiguity
from bayes_ccd.exceptions import DataError, SpecificationError, WeightsWarning
from bayes_ccd.spatial.compare import COMPARISON_COLUMNS, Comparison, compare, comparison_table
from bayes_ccd.spatial.load import load
from bayes_ccd.spatial.model import SpatialPanel
from bayes_ccd.spatial.results import FitCollection
from bayes_ccd.spatial.simulate import simulate_panel


def _tables(shift_rho: float = 0.0) -> tuple[dict, dict]:
    """MLE and posterior tables with known numbers: x1 agrees, rho is shifted by
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
    return (
        {"coefficients": mle_coef, "effects": mle_eff},
        {"coefficients": post_coef, "effects": post_eff},
    )


def test_shift_ratio_and_flags_by_hand() -> None:
    mle, bayes = _tables(shift_rho=0.08)
    table = comparison_table(mle, bayes, label=NATIONAL)
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
    lines = Comparison({NATIONAL: table}).lines()
    assert lines == [
        "national: largest |posterior mean - MLE| = 1.00 posterior sd; 4 flagged "
        "(rho, sigma2, indirect x1, total x1)"
    ]


def test_tables_with_other_terms_are_not_compared() -> None:
    mle, bayes = _tables()
    renamed = bayes | {"coefficients": bayes["coefficients"].replace({"term": {"x1": "x9"}})}
    with pytest.raises(SpecificationError, match="coefficients of the two fits differ"):
        comparison_table(mle, renamed, label=NATIONAL)


@pytest.fixture(scope="module")
def fits():
    """The same simulated SDM by both estimators, national and by region."""
    weights = province_contiguity()
    data = simulate_panel(
        weights, n_periods=8, beta=(1.0, -0.5), theta=(0.5, 0.3), spatial=0.4, seed=31
    )
    model = SpatialPanel(data=data, weights=weights, regions=read_regions())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeightsWarning)  # central has two components
        mle = model.fit("ml", by_region=True, effects_draws=500, tests=False)
        bayes = model.fit("bayes", by_region=True, prior="reference", draws=500, seed=3)
    return data, weights, mle, bayes


def test_written_fits_are_loaded_back_and_compared_by_region(fits, tmp_path) -> None:
    _, _, mle, bayes = fits
    mle.write(tmp_path / "mle")
    bayes.write(tmp_path / "bayes", figures=False)
    read_mle, read_bayes = load(tmp_path / "mle"), load(tmp_path / "bayes")
    assert list(read_bayes) == [NATIONAL, "east", "central", "west"] == list(read_mle)
    for label in read_bayes:
        pd.testing.assert_frame_equal(read_bayes[label].coefficients(), bayes[label].coefficients())
        pd.testing.assert_frame_equal(read_mle[label].effects(), mle[label].effects())
        assert read_mle[label].fingerprint == mle[label].fingerprint
    comparison = compare(read_mle, read_bayes)
    assert comparison.tables.keys() == compare(mle, bayes).tables.keys()
    national = comparison.table()
    # With a flat prior and 210 observations the two agree closely on the coefficients.
    assert national.loc[national["kind"] == "coefficient", "shift_in_sd"].abs().max() < 0.5
    # either order: one fit of each estimator
    pd.testing.assert_frame_equal(
        compare(read_bayes, read_mle).table("west"), comparison.table("west")
    )
    written = comparison.write(tmp_path / "cmp", metadata={"a": 1})
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
    summary = comparison.summary()
    assert "national: largest |posterior mean - MLE|" in str(summary)
    assert "<table" in summary._repr_html_() and "\\begin{table}" in summary.to_latex()


def test_fits_of_different_weights_data_or_models_are_refused(fits) -> None:
    data, weights, mle, bayes = fits
    # Swapping the labels of two units of the 0/1 contiguity (numbers left in place)
    # is a different W: the fit on it must not be compared with the fit on the true W.
    units = list(weights.units)
    units[0], units[-1] = units[-1], units[0]  # Beijing and Xinjiang
    swapped = from_dense(weights.raw_dense, units)
    other_w = SpatialPanel(data=data, weights=swapped).fit("bayes", draws=300, seed=3)
    with pytest.raises(SpecificationError, match="the spatial weights differ.*force=True"):
        compare(mle[NATIONAL], other_w)
    forced = compare(mle[NATIONAL], other_w, force=True)
    assert any("spatial weights differ" in note for note in forced.notes)
    assert any("force" in line for line in forced.lines())
    sar = SpatialPanel(data=data, weights=weights, model="sar").fit("bayes", draws=300, seed=3)
    with pytest.raises(SpecificationError, match="model 'sdm' vs 'sar'"):
        compare(mle[NATIONAL], sar, force=True)  # force never covers another model
    shifted = SpatialPanel(
        data=simulate_panel(weights, n_periods=8, beta=(1.0, -0.5), theta=(0.5, 0.3), seed=32),
        weights=weights,
    ).fit("bayes", draws=300, seed=3)
    with pytest.raises(SpecificationError, match="the data differ"):
        compare(mle[NATIONAL], shifted)
    with pytest.raises(SpecificationError, match="no sample was fitted by both"):
        compare(mle["east"], bayes[NATIONAL])


def test_cli_compare_refuses_fits_on_different_weights(fits, tmp_path, capsys) -> None:
    data, weights, _, _ = fits
    units = list(weights.units)
    units[0], units[-1] = units[-1], units[0]  # Beijing and Xinjiang
    SpatialPanel(data=data, weights=weights).fit("ml", tests=False).write(tmp_path / "mle")
    SpatialPanel(data=data, weights=from_dense(weights.raw_dense, units)).fit(
        "bayes", draws=300, seed=3
    ).write(tmp_path / "bayes", figures=False)
    args = ["compare", "--mle", str(tmp_path / "mle"), "--bayes", str(tmp_path / "bayes")]
    assert main([*args, "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err
    assert "the spatial weights differ" in err and "--force" in err
    assert not (tmp_path / "cmp").exists()
    assert main([*args, "--force", "--no-figures", "--out", str(tmp_path / "forced")]) == 0
    assert "compared although the spatial weights differ" in capsys.readouterr().out


def test_a_directory_without_a_saved_fit_is_a_data_error(tmp_path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load(tmp_path / "nowhere.nc")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no saved fit"):
        load(tmp_path / "empty")


def test_samples_fitted_by_one_estimator_only_are_named(fits) -> None:
    _, _, mle, bayes = fits
    comparison = compare(mle, bayes[NATIONAL])
    assert list(comparison.tables) == [NATIONAL]
    assert comparison.notes == (
        "not compared (fitted by one estimator only): east, central, west.",
    )


def test_a_collection_holds_one_model(fits) -> None:
    data, weights, mle, _ = fits
    sar = SpatialPanel(data=data, weights=weights, model="sar").fit("ml", tests=False)
    with pytest.raises(SpecificationError, match="fits of one model"):
        FitCollection({NATIONAL: mle[NATIONAL], "east": sar})
