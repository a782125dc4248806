"""The synthetic demo panel: deterministic, matches the bundled file, honest, usable."""

from __future__ import annotations

import json

import esda
import numpy as np
import pandas as pd

from bayes_ccd.config import bundled_models_dir
from bayes_ccd.data.demo import DEMO_SEED, SYNTHETIC_NOTICE, bundled_demo_path, simulate_demo_panel
from bayes_ccd.data.regions import province_table
from bayes_ccd.data.weights import province_contiguity
from bayes_ccd.indices.indicators import read_indicator_system


def test_generator_is_deterministic_and_seed_dependent():
    a, b = simulate_demo_panel(7), simulate_demo_panel(7)
    pd.testing.assert_frame_equal(a, b)
    c = simulate_demo_panel(8)
    assert not np.allclose(a["gdp_per_capita"], c["gdp_per_capita"])


def test_bundled_csv_is_the_generator_output():
    bundled = pd.read_csv(bundled_demo_path())
    # The CSV stores the generator's values rounded to 4 decimals: exact up to parsing.
    pd.testing.assert_frame_equal(
        bundled, simulate_demo_panel(DEMO_SEED), check_exact=False, rtol=1e-12, atol=1e-12
    )


def test_metadata_says_synthetic():
    meta = json.loads(bundled_demo_path().with_name("demo_panel.meta.json").read_text())
    assert meta["synthetic"] is True
    assert meta["notice"] == SYNTHETIC_NOTICE
    assert meta["seed"] == DEMO_SEED


def test_shape_columns_and_hubei_gap():
    panel = simulate_demo_panel()
    assert panel.shape[0] == 31 * 12
    system = read_indicator_system(bundled_models_dir() / "indicators.toml")
    needed = {
        *system.indicator_columns,
        *system.factor_columns,
        "beds",
        "physicians",
        "nurses",
        "health_expenditure",
        "outpatient_visits",
        "discharges",
    }
    assert needed <= set(panel.columns)
    missing = panel[panel.isna().any(axis=1)]
    assert missing[["province", "year"]].values.tolist() == [["Hubei", 2020]]
    assert panel.loc[missing.index[0]].isna().sum() == 2
    numeric = panel.drop(columns=["province", "year"])
    assert (numeric.dropna() > 0).all().all()


def test_east_above_centre_above_west_and_growth():
    panel = simulate_demo_panel().merge(province_table()[["province", "region"]], on="province")
    mean = panel.groupby("region")["gdp_per_capita"].mean()
    assert mean["east"] > mean["central"] > mean["west"]
    by_year = panel.groupby("year")[["internet_penetration", "physicians_per_1000"]].mean()
    assert (by_year.diff().dropna() > 0).all().all()


def test_indicators_are_spatially_autocorrelated():
    # The generator mixes in a spatial field on the contiguity: Moran's I of a latent
    # driven indicator should be clearly positive (p < 0.05 under normality).
    panel = simulate_demo_panel()
    w = province_contiguity()
    values = panel[panel["year"] == 2023].set_index("province").loc[list(w.units)]
    moran = esda.Moran(values["patents_per_10k"].to_numpy(), w.graph, permutations=0)
    assert moran.I > 0 and moran.p_norm < 0.05
