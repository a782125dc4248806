"""Tests of the kernel density evolution.

Bandwidths, densities, peaks and spread against SciPy and hand calculation; figures are
returned (not written) and render; bad input is refused.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from scipy import optimize, stats

from bayes_ccd.data.panel import validate_panel
from bayes_ccd.exceptions import ConfigError, DataError
from bayes_ccd.exploration.density import (
    bandwidth,
    curves_table,
    density_peaks,
    gaussian_kde,
    kernel_density_evolution,
    parse_bandwidth,
    plot_density_ridgeline,
    plot_density_surface,
    resolve_regions,
)
from bayes_ccd.report.figures import save_figure
from bayes_ccd.settings import BANDWIDTH_RULES, ExploreSettings
from conftest import assert_png


def cross_section(values: np.ndarray, period: int = 2020, name: str = "D") -> pd.DataFrame:
    """One period, one unit per value."""
    return pd.DataFrame(
        {"unit": [f"u{i}" for i in range(values.size)], "period": period, name: values}
    )


@pytest.fixture(scope="module")
def bimodal() -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.concatenate([rng.normal(0.3, 0.05, 40), rng.normal(0.7, 0.06, 30)])


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """Three regions of four units over three years, levels rising over time."""
    rng = np.random.default_rng(3)
    rows = []
    for year, shift in zip((2012, 2013, 2014), (0.0, 0.05, 0.1), strict=True):
        for r, (region, level) in enumerate((("east", 0.7), ("central", 0.5), ("west", 0.3))):
            for k in range(4):
                rows.append(
                    {
                        "unit": f"{region}{k}",
                        "period": year,
                        "region": region,
                        "D": level + shift + rng.normal(0, 0.04),
                        "U1": level + rng.normal(0, 0.05) + r * 0.01,
                    }
                )
    return pd.DataFrame(rows)


def scipy_modes(sample: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Find the modes of SciPy's Gaussian KDE with kernel sd ``h``.

    They are the local maxima on a fine grid, each polished by a bounded scalar
    maximisation of scipy's density.
    """
    kde = stats.gaussian_kde(sample, bw_method=h / np.std(sample, ddof=1))
    grid = np.linspace(sample.min() - 3 * h, sample.max() + 3 * h, 20001)
    f = kde(grid)
    tops = np.flatnonzero((f[1:-1] > f[:-2]) & (f[1:-1] >= f[2:])) + 1
    modes, heights = [], []
    for k in tops:
        found = optimize.minimize_scalar(
            lambda t: -kde(t)[0],
            method="bounded",
            bounds=(grid[k - 1], grid[k + 1]),
            options={"xatol": 1e-12},
        )
        modes.append(found.x)
        heights.append(-found.fun)
    return np.array(modes), np.array(heights)


def test_silverman_bandwidth_by_hand():
    # x = 1, 2, 3, 4, 10: mean 4, squared deviations 9+4+1+0+36 = 50, s = sqrt(50/4);
    # quartiles (linear) 2 and 4, IQR 2; min(s, 2/1.34) = 2/1.34 (Silverman 1986, 3.31).
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    expected = 0.9 * (2.0 / 1.34) * 5.0**-0.2
    assert bandwidth(x, "silverman") == pytest.approx(expected, rel=1e-14)
    # IQR = 0 (three equal middle values): the rule falls back to s.
    y = np.array([0.0, 1.0, 1.0, 1.0, 2.0])
    assert bandwidth(y, "silverman") == pytest.approx(0.9 * np.sqrt(0.5) * 5.0**-0.2)


def test_scott_bandwidth_is_scipys_normal_reference_rule():
    # SciPy names (4/3)^(1/5) s n^(-1/5) "silverman"; its factor multiplies s.
    x = np.random.default_rng(1).normal(size=37)
    scipy_h = stats.gaussian_kde(x, bw_method="silverman").factor * np.std(x, ddof=1)
    assert bandwidth(x, "scott") == pytest.approx(scipy_h, rel=1e-12)
    assert bandwidth(x, 0.25) == 0.25


def test_parse_bandwidth():
    assert all(parse_bandwidth(rule.upper()) == rule for rule in BANDWIDTH_RULES)
    assert parse_bandwidth("Silverman") == "silverman"
    assert parse_bandwidth(" scott ") == "scott"
    assert parse_bandwidth("0.05") == 0.05
    for bad in ("wide", "-1", "0", "nan", -0.5):
        with pytest.raises(ConfigError, match="bandwidth"):
            parse_bandwidth(bad)


def test_density_equals_scipy(bimodal):
    h = bandwidth(bimodal)
    points = np.linspace(0.0, 1.0, 101)
    kde = stats.gaussian_kde(bimodal, bw_method=h / np.std(bimodal, ddof=1))
    np.testing.assert_allclose(gaussian_kde(bimodal, points, h), kde(points), rtol=1e-12)


def test_peaks_match_scipy_on_bimodal_sample(bimodal):
    result = kernel_density_evolution(cross_section(bimodal), ["D"])
    row = result.features.iloc[0]
    h = row["bandwidth"]
    assert h == pytest.approx(bandwidth(bimodal))
    modes, heights = scipy_modes(bimodal, h)
    assert modes.size == 2 and row["n_peaks"] == 2
    # Both sides maximise a smooth function whose value is known to ~1e-16 relative:
    # the argmax is then determined to ~sqrt(1e-16) times the curvature scale, so 1e-6.
    main = int(np.argmax(heights))
    assert row["peak"] == pytest.approx(modes[main], abs=1e-6)
    assert row["peak_density"] == pytest.approx(heights[main], rel=1e-9)
    listed = np.array([float(v) for v in row["peaks"].split(";")])
    np.testing.assert_allclose(listed, modes, atol=5e-5)  # printed to 4 decimals
    curve = result.curves["D"].sel(region="national", period=2020)
    locations, tops = density_peaks(bimodal, h, curve["x"].to_numpy(), curve.to_numpy())
    np.testing.assert_allclose(locations, modes, atol=1e-6)
    np.testing.assert_allclose(tops, heights, rtol=1e-9)


def test_half_maximum_width_matches_root_finding():
    sample = np.random.default_rng(11).normal(0.5, 0.1, 60)
    result = kernel_density_evolution(cross_section(sample), ["D"], grid_size=2001)
    row = result.features.iloc[0]
    kde = stats.gaussian_kde(sample, bw_method=row["bandwidth"] / np.std(sample, ddof=1))
    half = row["peak_density"] / 2
    left = optimize.brentq(lambda t: kde(t)[0] - half, sample.min() - 1, row["peak"])
    right = optimize.brentq(lambda t: kde(t)[0] - half, row["peak"], sample.max() + 1)
    assert row["n_peaks"] == 1
    # Linear interpolation between grid points (step ~5e-4) errs by step^2 f''/(8 f')
    # at each crossing, about 1e-6 here.
    assert row["fwhm"] == pytest.approx(right - left, abs=1e-5)
    q1, q3 = np.percentile(sample, [25, 75])
    assert row["iqr"] == pytest.approx(q3 - q1)
    assert row["sd"] == pytest.approx(np.std(sample, ddof=1))


def test_peak_threshold_drops_small_bumps():
    rng = np.random.default_rng(5)
    sample = np.concatenate([rng.normal(0.4, 0.05, 60), [0.95, 0.96, 0.97]])
    loose = kernel_density_evolution(cross_section(sample), ["D"], min_relative_height=0.0)
    strict = kernel_density_evolution(cross_section(sample), ["D"], min_relative_height=0.2)
    modes, heights = scipy_modes(sample, loose.features.at[0, "bandwidth"])
    assert loose.features.at[0, "n_peaks"] == modes.size == 2
    assert heights.min() / heights.max() < 0.2  # the far bump is small
    assert strict.features.at[0, "n_peaks"] == 1


def test_regional_and_national_curves(panel):
    result = kernel_density_evolution(panel, ["D", "U1"], bandwidth_rule="scott")
    assert result.groups("D") == ["national", "east", "central", "west"]
    features = result.features
    assert len(features) == 2 * 4 * 3
    national = features[(features["region"] == "national") & (features["variable"] == "D")]
    assert national["n"].tolist() == [12, 12, 12]
    east = panel[(panel["region"] == "east") & (panel["period"] == 2013)]["D"].to_numpy()
    row = features[
        (features["variable"] == "D")
        & (features["region"] == "east")
        & (features["period"] == 2013)
    ].iloc[0]
    assert row["n"] == 4
    assert row["bandwidth"] == pytest.approx(bandwidth(east, "scott"))
    assert row["mean"] == pytest.approx(east.mean())
    # every curve integrates to one over its grid (tails beyond 3 h are < 0.3 %)
    curve = result.curves["U1"]
    mass = np.trapezoid(curve.to_numpy(), curve["x"].to_numpy(), axis=-1)
    np.testing.assert_allclose(mass, 1.0, atol=3e-3)
    long = curves_table(result)
    assert set(long.columns) == {"variable", "region", "period", "x", "density"}
    assert len(long) == sum(c.size for c in result.curves.values())


def test_regions_given_explicitly_override_the_column(panel):
    regions = pd.Series(
        {u: ("north" if u.endswith(("0", "1")) else "south") for u in panel["unit"].unique()}
    )
    result = kernel_density_evolution(panel.drop(columns="region"), ["D"], regions=regions)
    assert result.groups("D") == ["national", "north", "south"]
    with pytest.raises(DataError, match="no region"):
        kernel_density_evolution(panel, ["D"], regions=regions.iloc[:-1])


def test_region_column_and_region_table(panel):
    # labels are compared stripped, as the panel contract strips unit labels
    padded = panel.assign(unit=" " + panel["unit"], region=panel["region"] + " ")
    membership = resolve_regions(padded, None)
    assert membership.index.tolist() == list(dict.fromkeys(panel["unit"]))
    assert membership.to_dict() == dict(zip(panel["unit"], panel["region"], strict=True))
    conflict = panel.copy()
    conflict.loc[conflict["unit"].eq("east0") & conflict["period"].eq(2013), "region"] = "west"
    with pytest.raises(
        DataError,
        match=r"column 'region', unit 'east0': unit has more than one region "
        r"\['east', 'west'\]",
    ):
        resolve_regions(conflict, None)
    table = panel.drop_duplicates("unit").set_index("unit")["region"]
    with pytest.raises(
        DataError, match=r"ccd.csv: unit\(s\) \['west3'\] have no region in the region table"
    ):
        resolve_regions(panel, table.drop("west3"), source="ccd.csv")
    assert resolve_regions(panel.drop(columns="region"), None) is None


def test_a_validated_panel_is_used_as_is(panel):
    validated = validate_panel(panel, unit="unit", time="period", columns=["D"])
    assert kernel_density_evolution(validated, ["D"]).groups("D") == ["national"]
    regions = panel.drop_duplicates("unit").set_index("unit")["region"]
    result = kernel_density_evolution(validated, ["D"], regions=regions)
    assert result.groups("D") == ["national", "east", "central", "west"]
    west = panel[(panel["region"] == "west") & (panel["period"] == 2014)]["D"]
    row = result.features.query("region == 'west' and period == 2014").iloc[0]
    assert row["n"] == 4 and row["mean"] == pytest.approx(west.mean(), rel=1e-14)
    assert row["sd"] == pytest.approx(west.std(ddof=1), rel=1e-12)


def test_too_few_units_in_a_region(panel):
    small = panel[~panel["unit"].isin(["west0", "west1"])]
    with pytest.raises(
        DataError, match=r"column 'D', period 2012: only 2 unit\(s\) in region 'west'"
    ):
        kernel_density_evolution(small, ["D"])


def test_constant_variable_in_a_year(panel):
    flat = panel.copy()
    flat.loc[flat["period"] == 2013, "D"] = 0.5
    with pytest.raises(
        DataError, match=r"period 2013: the variable is constant \(0.5\) nationally"
    ):
        kernel_density_evolution(flat.drop(columns="region"), ["D"])


def test_missing_column_and_bad_settings(panel):
    with pytest.raises(DataError, match=r"\['U2'\]"):
        kernel_density_evolution(panel, ["D", "U2"])
    with pytest.raises(ConfigError):
        kernel_density_evolution(panel, ["D"], min_relative_height=1.0)
    with pytest.raises(ConfigError):
        kernel_density_evolution(panel, ["D"], bandwidth_rule="narrow")


def test_default_bandwidth_is_the_settings_one(panel):
    rule = ExploreSettings.bandwidth
    assert kernel_density_evolution(panel, ["D"]).bandwidth_rule == rule == "silverman"
    x = panel.loc[panel["period"] == 2012, "D"].to_numpy()
    assert bandwidth(x) == bandwidth(x, "silverman")


def test_figures_render(panel, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = kernel_density_evolution(panel, ["D"])
    surface = plot_density_surface(result, "D")
    ridges = plot_density_ridgeline(result, "D")
    assert isinstance(surface, Figure) and isinstance(ridges, Figure)
    assert list(tmp_path.iterdir()) == []  # drawing writes nothing
    assert plt.get_fignums() == []  # built without pyplot: nothing left open
    # one panel per group, national first; the ridgeline titles give the tallest density
    assert [ax.get_title() for ax in surface.axes] == ["National", "East", "Central", "West"]
    tallest = result.curves["D"].sel(region="west").max().item()
    assert ridges.axes[3].get_title() == f"West (max density {tallest:.3g})"
    files = save_figure(surface, tmp_path / "surface", pdf=True)
    assert [p.name for p in files] == ["surface.png", "surface.pdf"]
    assert files[1].stat().st_size > 5_000
    assert_png(files[0])
    assert_png(save_figure(ridges, tmp_path / "ridges.png")[0])
    with pytest.raises(DataError, match="variable 'U1'"):
        plot_density_surface(result, "U1")
