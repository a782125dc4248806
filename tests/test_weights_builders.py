"""Spatial weights builders against independent constructions.

Hand-computed neighbour sets and weights on a few points, libpysal's own ``KNN`` and
``DistanceBand`` where the builders add conventions on top, a breadth-first search for
higher-order contiguity, published great-circle distances, and the specification string
through TOML, the command line and the API.
"""

from __future__ import annotations

import json
import warnings
from collections import deque

import libpysal
import numpy as np
import pandas as pd
import pytest

import bayes_ccd as bc
from bayes_ccd.cli import main
from bayes_ccd.config import bundled_models_dir, load_run_config
from bayes_ccd.data.builders import (
    distance_band_weights,
    economic_weights,
    higher_order_contiguity,
    inverse_distance_weights,
    knn_weights,
    weights_from_spec,
)
from bayes_ccd.data.coordinates import (
    Coordinates,
    great_circle_distance,
    province_capitals,
    read_coordinates,
)
from bayes_ccd.data.demo import bundled_demo_path
from bayes_ccd.data.panel import validate_panel
from bayes_ccd.data.regions import province_table
from bayes_ccd.data.weights import from_edges, province_contiguity
from bayes_ccd.data.weights_spec import WeightsSpec, looks_like_spec
from bayes_ccd.exceptions import ConfigError, WeightsError, WeightsWarning
from bayes_ccd.pipeline import load_inputs

#: Five planar points whose distances are worked out by hand below (no ties at k = 2).
POINTS = pd.DataFrame(
    {"x": [0.0, 1.0, 3.0, 0.0, 5.0], "y": [0.0, 0.0, 0.0, 2.0, 5.0]},
    index=["A", "B", "C", "D", "E"],
)


def _neighbours(weights) -> dict[str, set[str]]:
    w = weights.dense
    return {
        u: {weights.units[j] for j in np.flatnonzero(w[i])} for i, u in enumerate(weights.units)
    }


def _libpysal_neighbours(w, labels) -> dict[str, set[str]]:
    return {labels[i]: {labels[j] for j in w.neighbors[i]} for i in w.neighbors}


# --- k nearest neighbours --------------------------------------------------------------


def test_knn_matches_the_hand_computed_sets_and_libpysal_knn():
    # Distances by hand: A-B 1, A-D 2, B-C 2, B-D sqrt5 = 2.24, A-C 3, C-D sqrt13 = 3.61,
    # C-E sqrt29 = 5.39, D-E sqrt34 = 5.83, B-E sqrt41 = 6.40, A-E sqrt50 = 7.07.
    expected = {
        "A": {"B", "D"},
        "B": {"A", "C"},
        "C": {"B", "A"},
        "D": {"A", "B"},
        "E": {"C", "D"},
    }
    w = knn_weights(POINTS, 2)
    assert _neighbours(w) == expected
    np.testing.assert_allclose(w.dense[w.dense > 0], 0.5)  # row-standardised: 1/k
    reference = libpysal.weights.KNN.from_array(POINTS.to_numpy(), k=2)
    assert _libpysal_neighbours(reference, list(POINTS.index)) == expected
    assert w.source.startswith("knn:2 on ")
    assert w.is_row_stochastic


def test_knn_on_the_capitals_is_the_brute_force_great_circle_knn():
    capitals = province_capitals()
    lon, lat = capitals["lon"].to_numpy(), capitals["lat"].to_numpy()
    d = great_circle_distance(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    np.fill_diagonal(d, np.inf)
    w = knn_weights(None, 4, transform="o")
    assert w.units == tuple(capitals.index)
    for i, unit in enumerate(w.units):
        order = np.sort(d[i])
        assert order[3] < order[4]  # no tie at the 4th neighbour: the set is defined
        assert _neighbours(w)[unit] == {w.units[j] for j in np.argsort(d[i])[:4]}, unit


def test_knn_refuses_k_of_n_or_more_and_shared_locations():
    with pytest.raises(WeightsError, match=r"k must be an integer from 1 to n - 1 = 4"):
        knn_weights(POINTS, 5)
    twin = pd.concat([POINTS, pd.DataFrame({"x": [1.0], "y": [0.0]}, index=["F"])])
    with pytest.raises(WeightsError, match=r"\['B', 'F'\] share the location"):
        knn_weights(twin, 2)


# --- distance band ---------------------------------------------------------------------


def test_distance_band_matches_hand_sets_libpysal_and_refuses_islands():
    # Within 2.5 (hand distances above): A-B, A-D, B-C, B-D; E's nearest is C at sqrt29.
    expected = {"A": {"B", "D"}, "B": {"A", "C", "D"}, "C": {"B"}, "D": {"A", "B"}, "E": set()}
    with pytest.raises(WeightsError, match=r"without a neighbour: E; the smallest band .* 5\.385"):
        distance_band_weights(POINTS, 2.5)
    with pytest.warns(WeightsWarning, match=r"\['E'\]"):
        w = distance_band_weights(POINTS, 2.5, islands="keep", transform="o")
    assert _neighbours(w) == expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal's own island warning
        reference = libpysal.weights.DistanceBand.from_array(POINTS.to_numpy(), 2.5)
        graph = libpysal.graph.Graph.build_distance_band(POINTS.to_numpy(), 2.5)
    assert _libpysal_neighbours(reference, list(POINTS.index)) == expected
    np.testing.assert_array_equal(w.raw_dense, graph.sparse.toarray())


def test_distance_band_includes_pairs_at_the_threshold():
    # d(A, D) = d(B, C) = 2 exactly: in the band "d <= threshold", as in libpysal.
    w = distance_band_weights(POINTS.drop(index="E"), 2.0, transform="o")
    assert _neighbours(w) == {"A": {"B", "D"}, "B": {"A", "C"}, "C": {"B"}, "D": {"A"}}


def test_great_circle_band_on_the_capitals_is_the_brute_force_band():
    capitals = province_capitals()
    lon, lat = capitals["lon"].to_numpy(), capitals["lat"].to_numpy()
    d = great_circle_distance(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    expected = (d <= 1500) & ~np.eye(len(d), dtype=bool)
    w = distance_band_weights(None, 1500, transform="o")
    np.testing.assert_array_equal(w.raw_dense != 0, expected)
    # 800 km leaves Tibet and Xinjiang alone (Lhasa-Chengdu 1,251 km, Urumqi-Xining 1,440).
    with pytest.raises(WeightsError, match=r"2 unit\(s\) without a neighbour: Tibet, Xinjiang"):
        distance_band_weights(None, 800)


# --- inverse distance ------------------------------------------------------------------

TRIANGLE = pd.DataFrame({"x": [0.0, 3.0, 0.0], "y": [0.0, 0.0, 4.0]}, index=["p", "q", "r"])


def test_inverse_distance_by_hand_with_power_and_cutoff():
    # A 3-4-5 right triangle: d_pq = 3, d_pr = 4, d_qr = 5.
    w = inverse_distance_weights(TRIANGLE, transform="o")
    hand = np.array([[0, 1 / 3, 1 / 4], [1 / 3, 0, 1 / 5], [1 / 4, 1 / 5, 0]])
    np.testing.assert_allclose(w.raw_dense, hand, rtol=1e-15)
    squared = inverse_distance_weights(TRIANGLE, power=2)
    row = np.array([1 / 9, 1 / 16])
    np.testing.assert_allclose(squared.dense[0, 1:], row / row.sum(), rtol=1e-15)
    cut = inverse_distance_weights(TRIANGLE, cutoff=4.5, transform="o")
    np.testing.assert_allclose(cut.raw_dense, np.where(hand < 1 / 4.5, 0, hand), rtol=1e-15)
    reference = libpysal.graph.Graph.build_distance_band(
        TRIANGLE.to_numpy(), 4.5, binary=False, alpha=-1.0
    )
    np.testing.assert_allclose(cut.raw_dense, reference.sparse.toarray(), rtol=1e-15)


def test_inverse_distance_refuses_a_bad_power_and_coincident_points():
    for power in (0, -1):
        with pytest.raises(WeightsError, match="power must be a positive number"):
            inverse_distance_weights(TRIANGLE, power=power)
    same = pd.DataFrame({"x": [0.0, 0.0, 1.0], "y": [0.0, 0.0, 1.0]}, index=["a", "b", "c"])
    with pytest.raises(WeightsError, match="units a and b are at distance 0"):
        inverse_distance_weights(same)


# --- great-circle distances and the bundled capitals -----------------------------------


def test_haversine_reproduces_the_published_bna_lax_distance():
    # Rosetta Code, "Haversine formula": Nashville BNA (36.12 N, 86.67 W) to Los Angeles
    # LAX (33.94 N, 118.40 W) on a sphere of radius 6372.8 km is 2887.2599506071106 km.
    d = great_circle_distance(-86.67, 36.12, -118.40, 33.94, radius=6372.8)
    assert d == pytest.approx(2887.2599506071106, rel=1e-12)


def test_beijing_shanghai_is_about_1067_km_by_great_circle():
    capitals = province_capitals()
    b, s = capitals.loc["Beijing"], capitals.loc["Shanghai"]
    d = float(great_circle_distance(b["lon"], b["lat"], s["lon"], s["lat"]))
    # The great-circle distance of the two city centres is about 1,067 km (published by
    # distance calculators such as timeanddate.com's); the bundled coordinates are
    # rounded to 0.01 degree (about 1 km each), hence 5 km of tolerance.
    assert d == pytest.approx(1067, abs=5)
    pyproj = pytest.importorskip("pyproj")
    _, _, metres = pyproj.Geod(ellps="WGS84").inv(b["lon"], b["lat"], s["lon"], s["lat"])
    # The sphere against the WGS84 geodesic (Karney 2013): within 0.5 % everywhere.
    assert d == pytest.approx(metres / 1000, rel=5e-3)


def test_the_bundled_capitals_cover_exactly_the_31_provinces():
    capitals = province_capitals()
    assert list(capitals.index) == province_table()["province"].tolist()
    assert capitals["lon"].between(73, 135).all() and capitals["lat"].between(18, 54).all()
    assert capitals.loc["Hubei", "capital"] == "Wuhan"
    bundled = read_coordinates("bundled:province-capitals")
    assert bundled.geographic and bundled.n == 31


def test_coordinate_files_lon_lat_or_x_y_with_located_errors(write_csv):
    lonlat = read_coordinates(write_csv("unit,lon,lat\na,116.4,39.9\nb,121.47,31.23", "c.csv"))
    assert lonlat.geographic and lonlat.units == ("a", "b")
    planar = read_coordinates(write_csv("unit,x,y\na,0,0\nb,3,4", "p.csv"))
    assert not planar.geographic
    assert float(planar.pair_distances(np.array([0]), np.array([1]))[0]) == 5.0
    with pytest.raises(WeightsError, match=r"line 3, unit 'b': column 'lat' is 'north'"):
        read_coordinates(write_csv("unit,lon,lat\na,116.4,39.9\nb,121.47,north", "bad.csv"))
    with pytest.raises(WeightsError, match="need columns lon,lat"):
        read_coordinates(write_csv("unit,east,north\na,1,2", "cols.csv"))
    with pytest.raises(WeightsError, match=r"outside \[-180, 180\]"):
        read_coordinates(write_csv("unit,lon,lat\na,500000,4000000", "proj.csv"))
    with pytest.raises(WeightsError, match=r"lack unit\(s\) \['c'\]"):
        knn_weights(lonlat, 1, units=["a", "b", "c"])


# --- higher-order contiguity -----------------------------------------------------------


def _lattice_3x3():
    # 0 1 2
    # 3 4 5     rook contiguity
    # 6 7 8
    edges = [(a, a + 1) for a in (0, 1, 3, 4, 6, 7)] + [(a, a + 3) for a in range(6)]
    frame = pd.DataFrame([(str(a), str(b)) for a, b in edges], columns=["source", "target"])
    return from_edges(frame, [str(i) for i in range(9)], transform="o")


def _order(base, k, **options):
    # Even orders of a bipartite graph split it by parity: warned about, by design.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeightsWarning)
        return higher_order_contiguity(base, k, **options)


def test_second_order_contiguity_on_a_lattice_and_a_path_by_hand():
    lattice = _lattice_3x3()
    with pytest.warns(WeightsWarning, match="2 disconnected components"):
        second = _neighbours(higher_order_contiguity(lattice, 2))
    assert second["4"] == {"0", "2", "6", "8"}
    assert second["0"] == {"2", "4", "6"}
    assert second["1"] == {"3", "5", "7"}
    assert _neighbours(_order(lattice, 3))["0"] == {"5", "7"}
    assert _neighbours(_order(lattice, 4))["0"] == {"8"}
    cumulative = _neighbours(higher_order_contiguity(lattice, 2, cumulative=True))
    assert cumulative["0"] == {"1", "3", "2", "4", "6"}
    path = from_edges(pd.DataFrame({"source": list("abcd"), "target": list("bcde")}), transform="o")
    order2 = _order(path, 2, transform="o")
    assert _neighbours(order2) == {
        "a": {"c"},
        "b": {"d"},
        "c": {"a", "e"},
        "d": {"b"},
        "e": {"c"},
    }
    np.testing.assert_array_equal(order2.raw_dense, order2.raw_dense.T)


def _bfs_order(adjacency: dict[str, set[str]], start: str) -> dict[str, int]:
    seen, queue = {start: 0}, deque([start])
    while queue:
        unit = queue.popleft()
        for other in adjacency[unit]:
            if other not in seen:
                seen[other] = seen[unit] + 1
                queue.append(other)
    return seen


def test_bundled_second_order_contiguity_is_the_breadth_first_second_ring():
    first = _neighbours(province_contiguity())
    built = _neighbours(weights_from_spec("contiguity:2"))
    for unit in first:
        steps = _bfs_order(first, unit)
        assert built[unit] == {u for u, s in steps.items() if s == 2}, unit
    assert built["Beijing"] == {"Shanxi", "Inner Mongolia", "Liaoning", "Shandong", "Henan"}


def test_contiguity_order_must_be_at_least_one():
    with pytest.raises(WeightsError, match="order must be an integer >= 1"):
        higher_order_contiguity(None, 0)


# --- economic distance -----------------------------------------------------------------


def _three_unit_panel(values):
    rows = [
        {"unit": u, "year": t, "gdp": v}
        for u, pair in zip("abc", values, strict=True)
        for t, v in zip((2020, 2021), pair, strict=True)
    ]
    return validate_panel(pd.DataFrame(rows), unit="unit", time="year")


def test_economic_distance_by_hand_on_three_units():
    panel = _three_unit_panel([(0.0, 2.0), (2.0, 2.0), (3.0, 5.0)])  # means 1, 2, 4
    w = economic_weights(panel, "gdp", transform="o")
    hand = np.array([[0, 1, 1 / 3], [1, 0, 1 / 2], [1 / 3, 1 / 2, 0]])
    np.testing.assert_allclose(w.raw_dense, hand, rtol=1e-15)
    np.testing.assert_allclose(economic_weights(panel, "gdp").dense, hand / hand.sum(1)[:, None])
    chain = from_edges(pd.DataFrame({"source": ["a", "b"], "target": ["b", "c"]}), transform="o")
    nested = economic_weights(panel, "gdp", geographic=chain, transform="o")
    np.testing.assert_allclose(nested.raw_dense, hand * chain.raw_dense, rtol=1e-15)
    assert nested.source == "economic:gdp times <edges>"


def test_economic_distance_refuses_ties_of_linked_units_only():
    panel = _three_unit_panel([(1.0, 3.0), (2.0, 2.0), (3.0, 5.0)])  # a and b both mean 2
    with pytest.raises(WeightsError, match="same mean of gdp .*: a and b"):
        economic_weights(panel, "gdp")
    apart = from_edges(pd.DataFrame({"source": ["a", "b"], "target": ["c", "c"]}), transform="o")
    assert economic_weights(panel, "gdp", geographic=apart).n == 3
    with pytest.raises(WeightsError, match="'income' is not a column"):
        economic_weights(panel, "income")


# --- the specification: grammar, API, TOML, command line -------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("knn:6", "knn:6"),
        ("knn:k=6", "knn:6"),
        ("contiguity", "contiguity:1"),
        ("contiguity:2,cumulative", "contiguity:2,cumulative"),
        ("inverse-distance", "inverse-distance:1"),
        ("inverse-distance:power=2,cutoff=1000", "inverse-distance:2,cutoff=1000"),
        ("distance-band:800", "distance-band:800"),
        ("distance-band:800,islands=keep", "distance-band:800,islands=keep"),
        ("economic:gdp_per_capita,geo=contiguity", "economic:gdp_per_capita,geo=contiguity"),
    ],
)
def test_specifications_parse_to_a_canonical_form(text, canonical):
    assert looks_like_spec(text)
    assert str(WeightsSpec.parse(text)) == canonical
    assert str(WeightsSpec.parse(canonical)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("knm:6", r"unknown weights kind 'knm' .*did you mean 'knn'"),
        ("knn", "needs its k"),
        ("knn:0", "k must be an integer >= 1"),
        ("knn:2.5", "is not an integer"),
        ("inverse-distance:power=0", "power must be positive"),
        ("inverse-distance:cutoff=-5", "cutoff must be a positive distance"),
        ("distance-band:800,islands=drop", "islands = 'drop' is not one of"),
        ("economic:gdp,geo=contig", "did you mean 'contiguity'"),
        ("knn:3,kk=4", r"unknown key 'kk' for knn \(did you mean 'k'\?\)"),
        ("economic:gdp,power=2", "add geo=inverse-distance"),
    ],
)
def test_bad_specifications_are_refused_clearly(text, message):
    with pytest.raises(WeightsError, match=message):
        WeightsSpec.parse(text)


def test_files_and_bundled_names_are_not_specifications():
    for text in ("W.csv", "C:/data/W.csv", "weights/w.gal", "bundled:province-contiguity"):
        assert not looks_like_spec(text), text
    np.testing.assert_array_equal(
        weights_from_spec("bundled:province-contiguity").dense, province_contiguity().dense
    )


def test_api_names_and_errors_through_weights_from_spec():
    assert bc.knn_weights is knn_weights and bc.weights_from_spec is weights_from_spec
    with pytest.raises(WeightsError, match=r"k must be an integer from 1 to n - 1 = 30"):
        bc.weights_from_spec("knn:31")
    with pytest.raises(WeightsError, match=r"lack unit\(s\) \['Taiwan'\]"):
        bc.weights_from_spec("knn:4", units=[*province_table()["province"], "Taiwan"])
    with pytest.raises(WeightsError, match="economic distance needs the panel"):
        bc.weights_from_spec("economic:gdp_per_capita")
    sub = bc.weights_from_spec("knn:2", units=["Beijing", "Tianjin", "Hebei", "Shanxi"])
    assert sub.units == ("Beijing", "Tianjin", "Hebei", "Shanxi")
    assert isinstance(bc.read_coordinates("bundled:province-capitals"), Coordinates)


def _run_config(tmp_path, weights: str) -> str:
    text = f"""
[run]
name = "w"
seed = 3
[data]
panel = "bundled:demo"
unit = "province"
time = "year"
missing = "linear"
[indicators]
file = "{bundled_models_dir() / "indicators.toml"}"
[weights]
{weights}
[regression]
by_region = false
[explore]
enabled = false
[bayes]
enabled = false
[model_choice]
enabled = false
[dea]
enabled = false
[qca]
enabled = false
"""
    path = tmp_path / "w.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_toml_specifications_resolve_coordinates_and_reach_the_panel(tmp_path):
    capitals = province_capitals()[["lon", "lat"]]
    capitals.index.name = "unit"
    capitals.to_csv(tmp_path / "caps.csv")
    config = load_run_config(
        _run_config(tmp_path, 'source = "inverse-distance:power=2"\ncoordinates = "caps.csv"')
    )
    assert config.weights.source == "inverse-distance:power=2"  # not a path
    assert config.weights.coordinates == str(tmp_path / "caps.csv")
    inputs = load_inputs(config)
    assert inputs.weights.source == f"inverse-distance:2 on {tmp_path / 'caps.csv'}"
    assert inputs.weights.is_row_stochastic
    economic = load_inputs(
        load_run_config(_run_config(tmp_path, 'source = "economic:gdp_per_capita"'))
    )
    assert "gdp_per_capita" in economic.panel.frame.columns
    assert economic.weights.source == "economic:gdp_per_capita"
    with pytest.raises(ConfigError, match=r"\[weights\] source = 'knn:x'.*not a number"):
        load_run_config(_run_config(tmp_path, 'source = "knn:x"'))


@pytest.mark.integration
def test_a_run_with_knn_weights_fits_the_mle_end_to_end(tmp_path):
    result = bc.run(_run_config(tmp_path, 'source = "knn:4"'))
    assert result.inputs.weights.source == "knn:4 on bundled:province-capitals"
    assert result.mle is not None and result.bayes is None
    out = tmp_path / "out"
    result.write(out, figures=False)
    assert (out / "mle").is_dir()
    metadata = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["weights"]["source"] == "knn:4 on bundled:province-capitals"
    assert metadata["weights"]["mean_neighbours"] == 4


@pytest.mark.integration
def test_cli_fit_with_weights_knn_4_on_the_demo_panel(tmp_path, capsys):
    args = ["fit", "--data", str(bundled_demo_path()), "--unit", "province", "--time", "year"]
    args += ["--y", "urbanisation_rate", "--x", "gdp_per_capita,tertiary_share"]
    args += ["--log", "gdp_per_capita", "--missing", "linear", "--out", str(tmp_path / "o")]
    assert main([*args, "--weights", "knn:4"]) == 0
    assert "N = 31, T = 12" in capsys.readouterr().out
    assert (tmp_path / "o" / "effects.csv").is_file()
    assert main([*args[:-1], str(tmp_path / "o2"), "--weights", "nn:4"]) != 0
    err = capsys.readouterr().err
    assert "[weights] source = 'nn:4': unknown weights kind 'nn'" in err
    assert "did you mean 'knn'?" in err


@pytest.mark.integration
def test_cli_explore_with_built_weights(tmp_path, capsys):
    rng = np.random.default_rng(5)
    units = province_table()["province"].tolist()
    rows = [(u, t, *rng.uniform(0.2, 0.8, 2)) for u in units for t in (2019, 2020, 2021)]
    ccd_path = tmp_path / "ccd.csv"
    pd.DataFrame(rows, columns=["unit", "period", "D", "U1"]).to_csv(ccd_path, index=False)
    args = ["explore", "--ccd", str(ccd_path), "--variables", "D,U1", "--permutations", "99"]
    args += ["--no-figures", "--seed", "1"]
    # economic distance on an explored column: the builder gets the ccd table as panel
    out = tmp_path / "out"
    assert main([*args, "--weights", "economic:U1", "--out", str(out)]) == 0
    assert "Global Moran's I of D" in capsys.readouterr().out
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["inputs"]["weights"] == "economic:U1"


def test_contiguity_and_centroids_from_a_boundary_file(tmp_path):
    geopandas = pytest.importorskip("geopandas")
    from shapely.geometry import box

    # A 2x2 block of unit squares a b / c d, and an island e far to the east.
    shapes = geopandas.GeoDataFrame(
        {"name": list("abcde")},
        geometry=[
            box(0, 1, 1, 2),
            box(1, 1, 2, 2),
            box(0, 0, 1, 1),
            box(1, 0, 2, 1),
            box(9, 0, 10, 1),
        ],
        crs="EPSG:3857",
    )
    path = tmp_path / "shapes.geojson"
    shapes.to_file(path, driver="GeoJSON")
    with pytest.warns(WeightsWarning, match=r"\['e'\]"):
        queen = bc.boundary_contiguity(path, "name", transform="o")
    assert _neighbours(queen) == {
        "a": {"b", "c", "d"},
        "b": {"a", "c", "d"},
        "c": {"a", "b", "d"},
        "d": {"a", "b", "c"},
        "e": set(),
    }
    with pytest.warns(WeightsWarning):
        rook = bc.boundary_contiguity(shapes, "name", rook=True)
    assert _neighbours(rook)["a"] == {"b", "c"}
    with pytest.warns(WeightsWarning):
        second = weights_from_spec(
            "contiguity:2", contiguity=str(path), boundary_id="name", transform="o"
        )
    assert _neighbours(second)["a"] == set()  # every unit of the block is first order
    # centroids (0.5, 1.5), (1.5, 1.5), (0.5, 0.5), (1.5, 0.5), (9.5, 0.5): planar metres
    knn = weights_from_spec("knn:1", coordinates=str(path), boundary_id="name")
    assert _neighbours(knn)["e"] == {"d"} and "centroids of" in knn.source
    with pytest.raises(WeightsError, match="unit-id column 'id' is not among"):
        weights_from_spec("knn:1", coordinates=str(path), boundary_id="id")


def test_economic_geographic_nested_spec_is_the_elementwise_product():
    panel = _three_unit_panel([(0.0, 2.0), (2.0, 2.0), (3.0, 5.0)])  # means 1, 2, 4
    points = TRIANGLE.set_axis(["a", "b", "c"])  # d_ab = 3, d_ac = 4, d_bc = 5
    nested = weights_from_spec(
        "economic:gdp,geo=inverse-distance,power=2", panel=panel, coordinates=points, transform="o"
    )
    economic = np.array([[0, 1, 1 / 3], [1, 0, 1 / 2], [1 / 3, 1 / 2, 0]])
    distance = np.array([[0, 1 / 9, 1 / 16], [1 / 9, 0, 1 / 25], [1 / 16, 1 / 25, 0]])
    np.testing.assert_allclose(nested.raw_dense, economic * distance, rtol=1e-15)
    assert nested.source.startswith("economic:gdp times inverse-distance:2 on ")
