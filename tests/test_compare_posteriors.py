"""Any two fits side by side: posterior vs posterior, MLE vs MLE.

Checked against: the fits' own ``coefficients()``/``effects()`` tables and their draws,
with the shifts, sd ratios, probabilities and flags recomputed here from the module's
definitions; fingerprints that refuse fits of different data, models or samples; the
command line on two saved posteriors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.cli import main
from bayes_ccd.data.weights import from_dense
from bayes_ccd.exceptions import SpecificationError, WeightsWarning
from bayes_ccd.pipeline import prepare
from bayes_ccd.spatial.compare import (
    MLE_PAIR_COLUMNS,
    POSTERIOR_PAIR_COLUMNS,
    SD_RATIO_RANGE,
    SHIFT_FLAG,
    compare,
)
from bayes_ccd.spatial.model import SpatialPanel

#: A prior that shrinks every coefficient hard towards zero: it must move the estimates.
TIGHT = {"name": "tight", "coefficients": {"scale": 0.05}}
SAMPLER = {"sampler": "exact", "draws": 400, "chains": 2, "seed": 5}


@pytest.fixture(scope="module")
def demo(repo):
    """The demo panel's SDM, and its exact posteriors under the default and a tight prior."""
    model = prepare(repo / "models" / "demo.toml").model
    default = model.fit("bayes", prior="default", **SAMPLER)
    tight = model.fit("bayes", prior=TIGHT, **SAMPLER)
    return model, default, tight


def _variant(base: SpatialPanel, **changes) -> SpatialPanel:
    """The demo model with other data, weights or model."""
    options = {
        "data": base.data,
        "weights": base.weights,
        "y": base.response,
        "x": list(base.covariates),
        "model": base.spec.model,
        "fe": base.spec.fe,
        "transform": base.spec.transform,
    }
    return SpatialPanel(**(options | changes))


def _expected(first: pd.DataFrame, second: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Both posteriors' summaries joined, with the shift and ratio of the module docstring."""
    joined = first.merge(second, on=keys, suffixes=("_1", "_2"))
    joined["shift"] = (joined["mean_2"] - joined["mean_1"]) / joined["sd_1"]
    joined["ratio"] = joined["sd_2"] / joined["sd_1"]
    return joined.set_index(keys)


def test_two_posteriors_under_two_priors(demo, tmp_path) -> None:
    _, default, tight = demo
    comparison = compare(default, tight)
    table = comparison.table()
    assert list(table.columns) == list(POSTERIOR_PAIR_COLUMNS)
    assert comparison.estimators == ("bayes", "bayes")
    coefficients = table[table["kind"] == "coefficient"].set_index("term")
    expected = _expected(default.coefficients(), tight.coefficients(), ["term"])
    assert list(coefficients.index) == list(expected.index)
    for side, suffix in (("first", "_1"), ("second", "_2")):
        for column in ("mean", "sd", "lower", "upper", "prob_positive"):
            np.testing.assert_allclose(
                coefficients[f"{side}_{column}"], expected[column + suffix], rtol=1e-12
            )
    np.testing.assert_allclose(coefficients["shift_in_sd"], expected["shift"], rtol=1e-12)
    np.testing.assert_allclose(coefficients["sd_ratio"], expected["ratio"], rtol=1e-12)
    # The probability of a positive effect is the share of the draws above zero.
    effects = table[table["kind"] == "effect"].set_index(["term", "effect"])
    for fit, side in ((default, "first"), (tight, "second")):
        draws = fit.posterior["effects"]
        share = (draws > 0).mean(("chain", "draw"))
        for (term, effect), value in effects[f"{side}_prob_positive"].items():
            assert value == pytest.approx(float(share.sel(covariate=term, effect=effect)))
    by_effect = _expected(default.effects(), tight.effects(), ["variable", "effect"])
    np.testing.assert_allclose(effects["shift_in_sd"], by_effect["shift"], rtol=1e-12)
    low, high = SD_RATIO_RANGE
    flags = [
        ", ".join(
            n for n, on in (("shift", abs(s) > SHIFT_FLAG), ("spread", not low <= r <= high)) if on
        )
        for s, r in zip(table["shift_in_sd"], table["sd_ratio"], strict=True)
    ]
    assert table["flag"].tolist() == flags
    # The tight prior pulls the coefficient of urbanisation towards zero by several sds.
    assert coefficients.loc["urbanisation", "shift_in_sd"] > 1 and "shift" in flags
    assert comparison.notes == ("first posterior vs second posterior: prior 'default' vs 'tight'.",)
    lines = comparison.lines()
    worst = table["shift_in_sd"].abs().max()
    assert lines[0].startswith(
        f"national: largest |second mean - first mean| = {worst:.2f} first posterior sd"
    )
    summary = comparison.summary()
    assert summary.title == "Posterior versus posterior" and "prior 'default'" in str(summary)
    written = comparison.write(tmp_path / "cmp", figures=False)
    assert {p.name for p in written} == {"comparison.csv", "comparison.md", "comparison.tex"}
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "cmp" / "comparison.csv", keep_default_na=False, na_values=[""]),
        table.replace("", np.nan).astype({"effect": object, "flag": object}),
        check_dtype=False,
    )
    assert "prior 'default' vs 'tight'" in (tmp_path / "cmp" / "comparison.md").read_text()


def test_the_first_posterior_is_the_reference(demo) -> None:
    _, default, tight = demo
    forward, backward = compare(default, tight).table(), compare(tight, default).table()
    # Swapping the fits changes the sign of the shift and its unit: first sd <-> second sd.
    np.testing.assert_allclose(
        backward["shift_in_sd"], -forward["shift_in_sd"] / forward["sd_ratio"], rtol=1e-10
    )
    np.testing.assert_allclose(backward["sd_ratio"], 1 / forward["sd_ratio"], rtol=1e-12)


def test_posteriors_of_different_things_are_refused(demo) -> None:
    model, default, _ = demo
    weights = model.weights
    units = list(weights.units)
    units[0], units[-1] = units[-1], units[0]  # a different W on the same units
    other_w = _variant(model, weights=from_dense(weights.raw_dense, units)).fit("bayes", **SAMPLER)
    with pytest.raises(SpecificationError, match="the spatial weights differ.*force=True"):
        compare(default, other_w)
    forced = compare(default, other_w, force=True)
    assert "sample national: compared although the spatial weights differ (force)." in forced.notes
    sar = _variant(model, model="sar").fit("bayes", **SAMPLER)
    with pytest.raises(SpecificationError, match="model 'sdm' vs 'sar'"):
        compare(default, sar, force=True)
    panel = model.data.frame.copy()
    panel.loc[panel.index[0], "D"] += 0.01
    shifted = _variant(model, data=panel).fit("bayes", **SAMPLER)
    with pytest.raises(SpecificationError, match="the data differ"):
        compare(default, shifted)
    with pytest.warns(WeightsWarning, match="central"):  # two components: said, not refused
        east = model.fit("bayes", by_region=True, **SAMPLER)["east"]
    with pytest.raises(SpecificationError, match="no sample was fitted by both"):
        compare(default, east)


def test_two_mle_fits_by_two_effect_inferences(demo) -> None:
    model, _, _ = demo
    simulated = model.fit("ml", tests=False, effects_draws=2000, seed=1)
    delta = model.fit("ml", tests=False, effects_inference="delta")
    comparison = compare(simulated, delta)
    table = comparison.table()
    assert list(table.columns) == list(MLE_PAIR_COLUMNS)
    # Same estimates, so the coefficients agree exactly; only the effects' inference differs.
    coefficients = table[table["kind"] == "coefficient"]
    assert (coefficients["shift_in_sd"] == 0).all() and (coefficients["sd_ratio"] == 1).all()
    effects = table[table["kind"] == "effect"].set_index(["term", "effect"])
    a = simulated.effects().set_index(["variable", "effect"])
    b = delta.effects().set_index(["variable", "effect"])
    shift = (b["estimate"] - a["estimate"]) / a["std_error"]
    np.testing.assert_allclose(effects["shift_in_sd"], shift.loc[effects.index], rtol=1e-12)
    np.testing.assert_allclose(effects["second_p_value"], b.loc[effects.index, "p_value"])
    assert comparison.notes == (
        "first MLE vs second MLE: effects inference 'simulation (2000 draws, seed 1)' vs 'delta'.",
    )


def test_cli_compares_two_saved_posteriors(demo, tmp_path, capsys) -> None:
    _, default, tight = demo
    default.write(tmp_path / "a", figures=False)
    tight.write(tmp_path / "b", figures=False)
    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "largest |second mean - first mean|" in printed and "prior 'default'" in printed
    written = pd.read_csv(out / "comparison.csv")
    np.testing.assert_allclose(
        written["shift_in_sd"], compare(default, tight).table()["shift_in_sd"], rtol=1e-12
    )
    assert (out / "compare_forest.png").is_file()
    assert main(["compare", str(tmp_path / "a"), "--out", str(tmp_path / "one")]) == 2
    assert "give two fit directories" in capsys.readouterr().err
    args = ["compare", "--mle", str(tmp_path / "a"), "--bayes", str(tmp_path / "b")]
    assert main([*args, "--out", str(tmp_path / "named")]) == 2
    assert "--mle" in capsys.readouterr().err and not (tmp_path / "named").exists()
