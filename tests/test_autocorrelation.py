"""Tests of Moran's I, the exploration stage and the ``explore`` command.

Global and local Moran's I against esda called directly, hand-computed textbook values
(Cliff & Ord 1981) and exact permutation probabilities; the exploration stage
(computing without writing, its result's figures, summary and writer) and its command
end to end; bad input refused before anything is computed.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import dataclasses
import json
import re
from fractions import Fraction
from importlib import resources

import esda
import libpysal
import numpy as np
import pandas as pd
import pytest
from esda.significance import calculate_significance
from matplotlib import image as mpimg
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from scipy import stats

from bayes_ccd.cli import main
from bayes_ccd.data.panel import validate_panel
from bayes_ccd.data.regions import province_table
from bayes_ccd.data.weights import from_dense, from_edges, province_contiguity
from bayes_ccd.exceptions import ConfigError, DataError, DataWarning, WeightsError
from bayes_ccd.exploration import density, stage
from bayes_ccd.exploration import moran as autocorrelation
from bayes_ccd.exploration.moran import (
    CLUSTER_TYPES,
    check_permutation_test,
    cluster_counts,
    global_moran,
    global_moran_panel,
    local_moran,
    local_moran_panel,
    moran_paper_table,
    permutation_seed,
    smallest_p_value,
)
from bayes_ccd.exploration.stage import explore, read_ccd
from bayes_ccd.settings import ALTERNATIVES, ExploreSettings


@pytest.fixture(scope="module")
def weights():
    return province_contiguity()


@pytest.fixture(scope="module")
def esda_w():
    """Build the bundled contiguity as a libpysal W straight from the edge file.

    No bayes_ccd loader is used; esda row-standardises it.
    """
    with resources.as_file(resources.files("bayes_ccd.data") / "province_contiguity.csv") as p:
        edges = pd.read_csv(p)
    neighbours: dict[str, list[str]] = {u: [] for u in province_table()["province"]}
    for a, b in edges.itertuples(index=False):
        neighbours[a].append(b)
        neighbours[b].append(a)
    return libpysal.weights.W(neighbours, id_order=list(neighbours), silence_warnings=True)


@pytest.fixture(scope="module")
def values(esda_w) -> pd.Series:
    """One cross-section over the provinces, listed in a shuffled order."""
    rng = np.random.default_rng(2024)
    ids = esda_w.id_order
    y = pd.Series(rng.gamma(4.0, 0.1, len(ids)), index=ids)
    return y.iloc[rng.permutation(len(ids))]


def in_w_order(series: pd.Series, w) -> np.ndarray:
    return series.loc[w.id_order].to_numpy()


def esda_global(y, w, permutations, seed):
    """Run esda's global Moran with its permutations seeded.

    esda only allows seeding through NumPy's legacy global generator.
    """
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        return esda.Moran(y, w, transformation="r", permutations=permutations)
    finally:
        np.random.set_state(state)  # noqa: NPY002


def test_global_moran_matches_esda(values, weights, esda_w):
    ours = global_moran(values, weights, permutations=199, seed=5, alternative="directed")
    ref = esda_global(in_w_order(values, esda_w), esda_w, 199, 5)
    for key, attr in [
        ("I", "I"),
        ("EI", "EI"),
        ("VI_norm", "VI_norm"),
        ("z_norm", "z_norm"),
        ("p_norm", "p_norm"),
        ("VI_rand", "VI_rand"),
        ("z_rand", "z_rand"),
        ("p_rand", "p_rand"),
        ("EI_perm", "EI_sim"),
        ("sd_perm", "seI_sim"),
    ]:
        # same data and weights, different summation order: equal to rounding
        assert ours[key] == pytest.approx(float(getattr(ref, attr)), rel=1e-10), key
    assert ours["p_perm"] == pytest.approx(ref.p_sim)  # esda's p_sim is the directed one
    two = global_moran(values, weights, permutations=199, seed=5)
    expected = calculate_significance(ref.I, ref.sim, alternative="two-sided")
    assert two["p_perm"] == pytest.approx(expected)


def test_global_moran_leaves_the_global_generator_alone(values, weights):
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    global_moran(values, weights, permutations=99, seed=1)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_local_moran_matches_esda(values, weights, esda_w):
    ours = local_moran(values, weights, permutations=199, seed=17, significance=0.1)
    ref = esda.Moran_Local(
        in_w_order(values, esda_w),
        esda_w,
        transformation="r",
        permutations=199,
        seed=17,
        alternative="two-sided",
    )
    ours = ours.set_index("unit").loc[esda_w.id_order]
    np.testing.assert_allclose(ours["Ii"], ref.Is, rtol=1e-10)
    np.testing.assert_allclose(ours["p_perm"], ref.p_sim)
    np.testing.assert_allclose(ours["z_perm"], ref.z_sim, rtol=1e-8)
    labels = pd.Series(ref.get_cluster_labels(crit_value=0.1)).replace(
        {"Insignificant": "Not significant"}
    )
    assert ours["cluster"].tolist() == labels.tolist()
    quadrant = {1: "High-High", 2: "Low-High", 3: "Low-Low", 4: "High-Low"}
    assert ours["quadrant"].tolist() == [quadrant[q] for q in ref.q]
    # the lag column is the spatial lag of z under the row-standardised W
    lag = np.array(
        [np.mean([ours.at[n, "z"] for n in esda_w.neighbors[u]]) for u in esda_w.id_order]
    )
    np.testing.assert_allclose(ours["lag"], lag, rtol=1e-12)


def test_line_of_four_textbook_values():
    # Units 1-2-3-4 on a line, binary weights, y = 1, 2, 3, 4. z = -1.5, -.5, .5, 1.5,
    # sum z^2 = 5, S0 = 6, sum_ij w_ij z_i z_j = 2 (0.75 - 0.25 + 0.75) = 2.5,
    # I = (4/6)(2.5/5) = 1/3, E[I] = -1/3. S1 = 12, S2 = 2^2 + 4^2 + 4^2 + 2^2 = 40.
    # Normality (Cliff & Ord 1981, eq. 2.37): (16*12 - 4*40 + 3*36)/(15*36) - 1/9 = 4/27.
    # Randomisation (eq. 2.38): b2 = 4 * 10.25 / 25 = 1.64,
    # A = 4 (7*12 - 160 + 108) = 128, B = 1.64 (12*12 - 320 + 216) = 65.6,
    # (128 - 65.6) / (3*2*1*36) - 1/9 = 8/45.
    binary = np.diag(np.ones(3), 1) + np.diag(np.ones(3), -1)
    w = from_dense(binary, list("abcd"), transform="o")
    out = global_moran(
        pd.Series([1.0, 2.0, 3.0, 4.0], index=list("abcd")), w, seed=1, permutations=99
    )
    assert out["I"] == pytest.approx(float(Fraction(1, 3)), rel=1e-14)
    assert out["EI"] == pytest.approx(-1 / 3, rel=1e-14)
    assert out["VI_norm"] == pytest.approx(float(Fraction(4, 27)), rel=1e-14)
    assert out["VI_rand"] == pytest.approx(float(Fraction(8, 45)), rel=1e-12)
    assert out["z_norm"] == pytest.approx(np.sqrt(3.0), rel=1e-13)  # (2/3)/sqrt(4/27)
    assert out["p_norm"] == pytest.approx(2 * stats.norm.sf(np.sqrt(3.0)), rel=1e-12)


@pytest.fixture(scope="module")
def checkerboard():
    """Build a 3 x 3 rook lattice with 1 on the corners and centre, 0 on the edge cells."""
    ids = [f"r{i}c{j}" for i in range(3) for j in range(3)]
    edges = [(f"r{i}c{j}", f"r{i}c{j + 1}") for i in range(3) for j in range(2)] + [
        (f"r{i}c{j}", f"r{i + 1}c{j}") for i in range(2) for j in range(3)
    ]
    frame = pd.DataFrame(edges, columns=["source", "target"])
    y = pd.Series([1.0 if (i + j) % 2 == 0 else 0.0 for i in range(3) for j in range(3)], index=ids)
    return y, frame, ids


def test_checkerboard_global_moran_is_minus_one(checkerboard):
    # Every rook pair joins a 1 and a 0. With z = 4/9 on the ones and -5/9 on the zeros,
    # each unit's lag is the other value, sum_i z_i lag_i = 5(4/9)(-5/9) + 4(-5/9)(4/9)
    # = -180/81 = -sum z^2, so I = -1 row-standardised; with binary weights
    # (9/24) * 12 edges * 2 (4/9)(-5/9) / (180/81) = -1 as well.
    y, edges, ids = checkerboard
    for transform in ("r", "o"):
        w = from_edges(edges, ids, transform=transform)
        assert global_moran(y, w, seed=3, permutations=99)["I"] == pytest.approx(-1.0)


def test_checkerboard_lisa_types_and_exact_probabilities(checkerboard):
    # With standardised z = 4/sqrt(20) (ones) and -5/sqrt(20) (zeros), sum z^2 = 9, every
    # unit has I_i = 8 z_i lag_i / 9 = -8/9: ones are High-Low, zeros Low-High.
    # Conditional permutation draws a unit's neighbours from the 8 other values, and
    # the observed draw is the most extreme one, so P(I_i <= observed) is hypergeometric:
    # centre (4 neighbours, all 0 among 4 zeros and 4 ones) 1/C(8,4) = 1/70;
    # corner (2 neighbours, both 0) C(4,2)/C(8,2) = 3/14;
    # edge cell (value 0; 3 neighbours, all 1 among 5 ones and 3 zeros) C(5,3)/C(8,3) = 5/28.
    y, edges, ids = checkerboard
    w = from_edges(edges, ids)
    lisa = local_moran(y, w, permutations=9999, seed=8, alternative="lesser").set_index("unit")
    np.testing.assert_allclose(lisa["Ii"], -8 / 9, rtol=1e-12)
    ones = y.index[y == 1]
    assert (lisa.loc[ones, "quadrant"] == "High-Low").all()
    assert (lisa.loc[y.index[y == 0], "quadrant"] == "Low-High").all()
    exact = pd.Series(5 / 28, index=ids)
    exact[["r0c0", "r0c2", "r2c0", "r2c2"]] = 3 / 14
    exact["r1c1"] = 1 / 70
    # Monte Carlo error of a pseudo p-value with R = 9999: sd <= sqrt(p(1-p)/R) <= 0.0042;
    # 4 sd.
    np.testing.assert_allclose(lisa.loc[ids, "p_perm"], exact, atol=0.017)
    assert abs(lisa.at["r1c1", "p_perm"] - 1 / 70) < 4 * np.sqrt((1 / 70) * (69 / 70) / 9999)
    # only the centre is a significant cluster at 5 %: a High-Low outlier
    assert lisa["cluster"].to_dict() == {
        u: ("High-Low" if u == "r1c1" else "Not significant") for u in ids
    }


def synthetic_ccd(years=(2012, 2017, 2023), seed=0) -> pd.DataFrame:
    """Simulate a ccd-like table for the 31 provinces with regional levels and trends."""
    table = province_table()
    rng = np.random.default_rng(seed)
    level = {"east": 0.6, "central": 0.45, "west": 0.35}
    rows = []
    for k, year in enumerate(years):
        for province, region in zip(table["province"], table["region"], strict=True):
            u1 = level[region] + 0.02 * k + rng.normal(0, 0.08)
            u2 = level[region] + 0.015 * k + rng.normal(0, 0.08)
            c = 2 * np.sqrt(u1 * u2) / (u1 + u2)
            t = (u1 + u2) / 2
            rows.append(
                {
                    "unit": province,
                    "period": year,
                    "region": region,
                    "U1": u1,
                    "U2": u2,
                    "C": c,
                    "T": t,
                    "D": np.sqrt(c * t),
                    "level": 5,
                    "label": "barely coordinated",
                }
            )
    return pd.DataFrame(rows)


def test_panel_tables_and_seed_threading(weights):
    ccd = synthetic_ccd()
    table = global_moran_panel(ccd, weights, ["D", "U1"], permutations=99, seed=42)
    assert table[["variable", "period"]].values.tolist() == [
        [v, y] for v in ("D", "U1") for y in (2012, 2017, 2023)
    ]
    assert table["seed"].is_unique  # one stream per variable and year
    again = global_moran_panel(ccd, weights, ["D", "U1"], permutations=99, seed=42)
    pd.testing.assert_frame_equal(table, again)
    other = global_moran_panel(ccd, weights, ["D", "U1"], permutations=99, seed=43)
    assert not np.allclose(table["EI_perm"], other["EI_perm"])
    # a year re-run alone with the recorded seed gives the same permutation results
    row = table.iloc[4]
    cross = ccd[ccd["period"] == row["period"]].set_index("unit")[row["variable"]]
    alone = global_moran(cross, weights, permutations=99, seed=int(row["seed"]))
    assert alone["p_perm"] == row["p_perm"] and alone["EI_perm"] == row["EI_perm"]
    assert row["seed"] == permutation_seed(42, "U1", 2017)

    lisa = local_moran_panel(
        ccd,
        weights,
        ["D"],
        permutations=99,
        seed=42,
        regions=province_table().set_index("province")["region"],
    )
    assert len(lisa) == 3 * 31 and lisa["region"].notna().all()
    assert lisa.groupby("period")["seed"].nunique().eq(1).all()
    assert lisa["seed"].nunique() == 3
    assert set(lisa["seed"]).isdisjoint(table["seed"])
    repeat = local_moran_panel(ccd, weights, ["D"], permutations=99, seed=42)
    np.testing.assert_array_equal(lisa["p_perm"], repeat["p_perm"])


def test_cluster_counts_by_hand():
    lisa = pd.DataFrame(
        {
            "variable": ["D"] * 5 + ["U1"] * 2,
            "period": [2012, 2012, 2012, 2013, 2013, 2012, 2012],
            "cluster": [
                "High-High",
                "Not significant",
                "High-High",
                "Low-High",
                "Low-Low",
                "High-Low",
                "Not significant",
            ],
        }
    )
    counts = cluster_counts(lisa)
    assert list(counts.columns) == ["variable", "period", *CLUSTER_TYPES]
    assert counts.values.tolist() == [
        ["D", 2012, 2, 0, 0, 0, 1],
        ["D", 2013, 0, 1, 0, 1, 0],
        ["U1", 2012, 0, 0, 1, 0, 1],
    ]


def test_paper_table_stars():
    table = pd.DataFrame(
        {
            "variable": "D",
            "period": [2012, 2013, 2014, 2015],
            "I": [-0.0815, -0.09, -0.0555, 0.2],
            "EI": -1 / 30,
            "sd_norm": 0.1,
            "z_norm": [-2.9, -2.2, -1.8, 0.3],
            "p_norm": [0.004, 0.03, 0.07, 0.76],
        }
    )
    paper = moran_paper_table(table, "D")
    assert paper.columns.tolist() == ["Year", "Moran's I", "E(I)", "sd(I)", "z", "p-value"]
    assert paper["Moran's I"].tolist() == ["-0.0815***", "-0.0900**", "-0.0555*", "0.2000"]
    with pytest.raises(ConfigError):
        moran_paper_table(table, "D", inference="bootstrap")


def test_bad_inputs(weights, values):
    fewer = weights.subset(weights.units[:30])
    with pytest.raises(WeightsError, match=r"not in the weights: \['Xinjiang'\]"):
        global_moran(values, fewer, seed=1)
    small = from_dense(np.ones((3, 3)) - np.eye(3), ["a", "b", "c"])
    with pytest.raises(DataError, match="at least 4"):
        global_moran(pd.Series([1.0, 2.0, 4.0], index=list("abc")), small, seed=1)
    ccd = synthetic_ccd()
    flat = ccd.assign(D=np.where(ccd["period"] == 2017, 0.5, ccd["D"]))
    with pytest.raises(DataError, match=r"column 'D', period 2017: the variable is constant"):
        global_moran_panel(flat, weights, ["D"], permutations=99, seed=1)
    with pytest.raises(DataError, match=r"column 'D', period 2017: the variable is constant"):
        local_moran_panel(flat, weights, ["D"], permutations=99, seed=1)
    gappy = ccd[
        ~((ccd["period"] == 2023) & (ccd["unit"] != "Beijing") & (ccd["unit"] != "Tianjin"))
    ]
    with pytest.raises(DataError, match="unbalanced"):
        global_moran_panel(gappy, weights, ["D"], permutations=99, seed=1)
    with pytest.raises(DataError, match=r"\['U3'\]"):
        global_moran_panel(ccd, weights, ["U3"], permutations=99, seed=1)
    with pytest.raises(ConfigError, match="permutations"):
        global_moran(values, weights, permutations=0, seed=1)
    with pytest.raises(ConfigError, match="smallest attainable two-sided p-value"):
        local_moran(values, weights, permutations=19, seed=1, significance=0.05)
    with pytest.raises(ConfigError, match="alternative"):
        local_moran(values, weights, seed=1, alternative="both")


@pytest.mark.parametrize("permutations", [1, 19, 49, 99])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_smallest_p_value_is_esdas(permutations, alternative):
    # esda's own p-value of an observed statistic beyond every simulated value (on
    # either side): the most extreme outcome there is.
    reference = np.random.default_rng(permutations).normal(size=permutations)
    extreme = min(
        calculate_significance(stat, reference, alternative=alternative)
        for stat in (reference.min() - 1.0, reference.max() + 1.0)
    )
    assert smallest_p_value(permutations, alternative) == pytest.approx(extreme, rel=1e-12)


def test_49_two_sided_permutations_cannot_reach_5_percent(values, weights, esda_w):
    # The reviewed defect: with R = 49 esda's two-sided LISA p-values are at least
    # 3/50 = 0.06, so at 5 % every unit came out "Not significant".
    ref = esda.Moran_Local(
        in_w_order(values, esda_w), esda_w, permutations=49, seed=1, alternative="two-sided"
    )
    assert ref.p_sim.min() >= 3 / 50
    message = (
        r"with 49 permutations the smallest attainable two-sided p-value is 3/\(49\+1\) = "
        r"0\.06, not below the significance level 0\.05, so no result could be "
        r"significant; use at least 60 permutations"
    )
    with pytest.raises(ConfigError, match=message):
        local_moran(values, weights, permutations=49, seed=1)
    with pytest.raises(ConfigError, match=message):
        global_moran(values, weights, permutations=49, seed=1)
    ccd = synthetic_ccd()
    with pytest.raises(ConfigError, match=message):
        global_moran_panel(ccd, weights, ["D"], permutations=49, seed=1)
    with pytest.raises(ConfigError, match=message):
        local_moran_panel(ccd, weights, ["D"], permutations=49, seed=1)
    # 60 two-sided permutations, or 49 one-sided ones (1/50 = 0.02), can reach 5 %
    check_permutation_test(60, "two-sided", 0.05)
    check_permutation_test(49, "directed", 0.05)


@pytest.mark.parametrize("significance", [0.1, 0.05, 0.01, 0.001, 0.003])
@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
def test_permutations_advised_are_the_fewest_that_reach_the_level(significance, alternative):
    with pytest.raises(ConfigError, match="use at least") as raised:
        check_permutation_test(1, alternative, significance)
    needed = int(re.search(r"use at least (\d+) permutations", str(raised.value))[1])
    # brute force over R in exact arithmetic: the first R whose smallest p is below
    smallest = Fraction(3 if alternative == "two-sided" else 1)
    level = Fraction(str(significance))
    assert needed == next(r for r in range(1, 10_000) if smallest / (r + 1) < level)
    check_permutation_test(needed, alternative, significance)
    with pytest.raises(ConfigError, match="use at least"):
        check_permutation_test(needed - 1, alternative, significance)


@pytest.mark.integration
def test_explore_writes_every_output(weights, tmp_path):
    ccd = synthetic_ccd()
    result = explore(ccd, weights, permutations=99, seed=7)
    out = tmp_path / "explore"
    files = result.write(out)
    for name in (
        "kde_features.csv",
        "kde_features.md",
        "kde_features.tex",
        "kde_curves.csv",
        "moran_global.csv",
        "moran_D.md",
        "moran_U1.tex",
        "lisa.csv",
        "lisa_counts.md",
        "metadata.json",
    ):
        assert (out / name).is_file(), name
    for stem in ("kde_surface", "kde_ridgeline", "map", "lisa"):
        for variable in ("D", "U1", "U2"):
            assert (out / "figures" / f"{stem}_{variable}.png").stat().st_size > 20_000
    assert result.cluster_counts[list(CLUSTER_TYPES)].sum(axis=1).eq(31).all()
    assert {p.name for p in files} >= {"metadata.json", "lisa_D.png", "moran_D.tex"}
    assert files[-1].name == "metadata.json" and all(p.is_file() for p in files)
    written = {p for p in out.rglob("*") if p.is_file()}
    assert written == set(files)  # every file written is reported, and only those
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["seed"] == 7 and meta["config"]["map_years"] == [2012, 2017, 2023]
    first = result.global_moran.query("variable == 'D' and period == 2012").iloc[0]
    assert meta["headline"]["moran_I_first"]["I"] == pytest.approx(first["I"])
    assert result.density.groups("D") == ["national", "east", "central", "west"]
    assert "***" in (out / "moran_D.md").read_text(encoding="utf-8")
    counts_table = (out / "lisa_counts.md").read_text(encoding="utf-8")
    assert "Number of units by LISA cluster type" in counts_table
    # 3/(99 + 1): the note tells the reader how small a p-value could get
    assert "99 permutations, two-sided pseudo p-values, smallest attainable 0.03" in (counts_table)
    assert not (out / "filled_cells.csv").exists()


@pytest.mark.integration
def test_explore_skips_maps_for_other_units(tmp_path):
    rng = np.random.default_rng(4)
    units = list("ABCDEF")
    frame = pd.DataFrame(
        {"unit": units * 2, "period": [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2], "D": rng.random(12)}
    )
    ring = np.roll(np.eye(6), 1, axis=1) + np.roll(np.eye(6), -1, axis=1)
    validations = []

    def counted(*args, **kwargs):
        validations.append(kwargs.get("columns"))
        return validate_panel(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        for module in (stage, density, autocorrelation):
            patch.setattr(module, "validate_panel", counted)
        with pytest.warns(DataWarning, match="maps skipped"):
            result = explore(
                frame, from_dense(ring, units), variables=["D"], permutations=99, seed=1
            )
    # the table is validated once, at the entry point; the stages trust the Panel
    assert validations == [["D"]]
    assert result.skipped and not result.maps_available
    result.write(tmp_path)
    assert not list((tmp_path / "figures").glob("map_*"))
    assert not list((tmp_path / "figures").glob("lisa_*"))
    assert (tmp_path / "figures" / "kde_surface_D.png").is_file()
    meta = json.loads((tmp_path / "metadata.json").read_text(encoding="utf-8"))
    assert meta["skipped"] == result.skipped
    assert result.summary().lines[-1] == f"Skipped: {result.skipped[0]}"
    with pytest.raises(DataError, match="not China's provinces"):
        result.plot_map()


def test_read_ccd_checks_columns(tmp_path):
    path = tmp_path / "ccd.csv"
    synthetic_ccd().drop(columns="U2").to_csv(path, index=False)
    with pytest.raises(DataError, match=r"ccd.csv.*\['U2'\]"):
        read_ccd(path)
    panel, regions = read_ccd(path, ["D", "U1"])
    assert panel.frame.columns.tolist() == ["unit", "period", "D", "U1"]
    assert panel.n_units == 31 and panel.periods == [2012, 2017, 2023]
    bundled = province_table().set_index("province")["region"]
    assert regions.to_dict() == bundled.to_dict()


@pytest.mark.integration
def test_explore_command(tmp_path, capsys):
    ccd_path = tmp_path / "ccd.csv"
    synthetic_ccd().to_csv(ccd_path, index=False)
    out = tmp_path / "out"
    code = main(
        [
            "explore",
            "--ccd",
            str(ccd_path),
            "--weights",
            "bundled:province-contiguity",
            "--variables",
            "D",
            "--years",
            "2012,2023",
            "--permutations",
            "99",
            "--seed",
            "3",
            "--bandwidth",
            "scott",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "Global Moran's I of D" in printed and "High-High" in printed
    assert (out / "figures" / "lisa_D.png").is_file()
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["config"]["map_years"] == [2012, 2023] and meta["config"]["bandwidth"] == "scott"
    # unset flags take the settings' defaults
    assert meta["config"]["significance"] == ExploreSettings.significance
    assert meta["config"]["alternative"] == ExploreSettings.alternative
    assert meta["seed"] == 3 and meta["inputs"]["missing"] == "error"

    # --no-figures: the same tables and metadata, no figure
    bare = tmp_path / "bare"
    args = ["explore", "--ccd", str(ccd_path), "--weights", "bundled:province-contiguity"]
    args += ["--variables", "D", "--years", "2012,2023", "--permutations", "99", "--seed", "3"]
    assert main([*args, "--bandwidth", "scott", "--no-figures", "--out", str(bare)]) == 0
    assert capsys.readouterr().out == printed.replace(str(out), str(bare))
    assert not (bare / "figures").exists() and not list(bare.rglob("*.png"))
    tables = sorted(p.relative_to(out) for p in out.glob("*") if p.is_file())
    assert sorted(p.relative_to(bare) for p in bare.rglob("*")) == tables
    for name in ("moran_global.csv", "lisa.csv", "kde_curves.csv", "moran_D.md"):
        assert (bare / name).read_bytes() == (out / name).read_bytes(), name

    # weights whose units do not match the data: a clear error, nothing written
    square = tmp_path / "w.csv"
    units = province_table()["province"].tolist()[:30]
    pd.DataFrame(np.ones((30, 30)) - np.eye(30), index=units, columns=units).to_csv(square)
    bad_out = tmp_path / "bad"
    assert (
        main(
            [
                "explore",
                "--ccd",
                str(ccd_path),
                "--weights",
                str(square),
                "--permutations",
                "99",
                "--out",
                str(bad_out),
            ]
        )
        == 2
    )
    assert "not in the weights: ['Xinjiang']" in capsys.readouterr().err
    assert not bad_out.exists()
    assert (
        main(
            [
                "explore",
                "--ccd",
                str(ccd_path),
                "--weights",
                "bundled:province-contiguity",
                "--years",
                "2030",
                "--permutations",
                "99",
                "--out",
                str(bad_out),
            ]
        )
        == 2
    )
    assert "2030" in capsys.readouterr().err and not bad_out.exists()


def _explore_args(ccd, out, *extra, weights="bundled:province-contiguity"):
    return [
        "explore",
        "--ccd",
        str(ccd),
        "--weights",
        str(weights),
        "--variables",
        "D",
        "--permutations",
        "99",
        "--out",
        str(out),
        *extra,
    ]


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if not line.startswith("[bayes-ccd]")]
    assert len(errors) == 1 and errors[0].startswith("bayes-ccd explore: error: "), err
    return errors[0]


def _write_lines(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _square_weights(path, units):
    n = len(units)
    pd.DataFrame(np.ones((n, n)) - np.eye(n), index=units, columns=units).to_csv(path)
    return path


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("empty ccd", "ccd.csv: coupling table is empty"),
        ("header-only ccd", "ccd.csv: coupling table has a header but no data rows"),
        (
            "non-numeric D",
            "ccd.csv, line 6, column 'D', unit 'Shanxi', period 2012: 'n/a?' is not a number",
        ),
        (
            "missing D",
            "ccd.csv, line 33, column 'D', unit 'Beijing', period 2017: missing "
            "value; fill it, or choose an interpolation policy",
        ),
        ("weights with extra units", "units in the weights but not in the data: ['Atlantis']"),
        ("empty weights", "w.csv: weights file is empty"),
        ("header-only weights", "weights file has a header but no data rows"),
        ("49 two-sided permutations", "smallest attainable two-sided p-value is 3/(49+1) = 0.06"),
        ("bad bandwidth", "[explore] bandwidth = 'wide' is not understood"),
        ("zero permutations", "[explore] permutations = 0 must be a positive integer"),
    ],
)
def test_explore_command_refuses_bad_input(tmp_path, capsys, case, message):
    frame = synthetic_ccd()
    ccd, weights = tmp_path / "ccd.csv", "bundled:province-contiguity"
    extra: list[str] = []
    if case == "empty ccd":
        ccd.write_text("", encoding="utf-8")
    elif case == "header-only ccd":
        _write_lines(ccd, [",".join(frame.columns), "", " "])
    elif case == "non-numeric D":
        # Row 3 of the table (Shanxi 2012) sits on line 6 after the header and a blank line.
        text = frame.astype({"D": object}).assign(D=lambda f: f["D"].where(f.index != 3, "n/a?"))
        _write_lines(
            ccd,
            [
                text.to_csv(index=False).splitlines()[0],
                "",
                *text.to_csv(index=False).splitlines()[1:],
            ],
        )
    elif case == "missing D":
        frame.astype({"D": object}).assign(D=lambda f: f["D"].where(f.index != 31, "")).to_csv(
            ccd, index=False
        )
    else:
        frame.to_csv(ccd, index=False)
    if case == "weights with extra units":
        weights = _square_weights(tmp_path / "w.csv", [*frame["unit"].unique(), "Atlantis"])
    elif case == "empty weights":
        weights = _write_lines(tmp_path / "w.csv", [])
    elif case == "header-only weights":
        weights = _write_lines(tmp_path / "w.csv", ["source,target"])
    elif case == "49 two-sided permutations":
        extra = ["--permutations", "49"]
    elif case == "bad bandwidth":
        extra = ["--bandwidth", "wide"]
    elif case == "zero permutations":
        extra = ["--permutations", "0"]
    out = tmp_path / "out"
    assert main(_explore_args(ccd, out, *extra, weights=weights)) == 2
    line = _one_line_error(capsys)
    assert message in line, line
    if case == "missing D":
        assert "--missing linear" in line  # an option explore has
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".out", "out"))]


@pytest.mark.integration
def test_explore_command_interpolates_missing_values(tmp_path, capsys):
    frame = synthetic_ccd()
    ccd = tmp_path / "ccd.csv"
    # row 31 is Beijing 2017, between 2012 (row 0) and 2023 (row 62)
    assert tuple(frame.loc[[0, 31, 62], "period"]) == (2012, 2017, 2023)
    assert set(frame.loc[[0, 31, 62], "unit"]) == {"Beijing"}
    early, late = frame.at[0, "D"], frame.at[62, "D"]
    frame.astype({"D": object}).assign(D=lambda f: f["D"].where(f.index != 31, "")).to_csv(
        ccd, index=False
    )
    out = tmp_path / "out"
    assert main(_explore_args(ccd, out, "--missing", "linear")) == 0
    assert "1 missing cell(s) filled by linear interpolation" in capsys.readouterr().out
    filled = pd.read_csv(out / "filled_cells.csv")
    assert filled[["unit", "period", "column"]].values.tolist() == [["Beijing", 2017, "D"]]
    # linear in time: 5 of the 11 years from 2012 to 2023
    assert filled.at[0, "value"] == pytest.approx(early + 5 / 11 * (late - early), rel=1e-12)
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["filled_cells"] == 1 and meta["inputs"]["missing"] == "linear"


def test_read_ccd_locates_region_problems(tmp_path):
    frame = synthetic_ccd()
    path = tmp_path / "ccd.csv"
    # row 40 is Jiangsu (east) in 2017, on line 42 of the file
    assert tuple(frame.loc[40, ["unit", "period", "region"]]) == ("Jiangsu", 2017, "east")
    frame.assign(region=frame["region"].where(frame.index != 40, " ")).to_csv(path, index=False)
    with pytest.raises(
        DataError, match="ccd.csv, line 42, column 'region', unit 'Jiangsu': empty region"
    ):
        read_ccd(path)
    frame.assign(region=np.where(frame.index == 40, "north", frame["region"])).to_csv(
        path, index=False
    )
    with pytest.raises(
        DataError,
        match=r"ccd.csv, column 'region', unit 'Jiangsu': unit has more than one region "
        r"\['east', 'north'\]",
    ):
        read_ccd(path)
    frame.assign(region="").to_csv(path, index=False)
    assert read_ccd(path, ["D"])[1] is None  # an empty column: national densities only


def test_explore_refuses_a_frame_without_units(weights):
    with pytest.raises(DataError, match="unit column 'unit' is not in the data"):
        explore(synthetic_ccd().drop(columns="unit"), weights)


# --- the result: computed without writing, figures on demand, summary, writer ---------


@pytest.fixture(scope="module")
def explored(weights):
    """Explore the synthetic table: D, U1 and U2 over three years."""
    return explore(synthetic_ccd(), weights, permutations=99, seed=7)


def test_explore_and_plots_write_nothing(weights, explored, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = explore(synthetic_ccd(), weights, variables=["D"], permutations=99, seed=7)
    figures = [
        result.plot_density(),
        result.plot_density("D", kind="ridgeline"),
        result.plot_map(),
        result.plot_lisa("D", years=[2023]),
        explored.plot_map("U2", years=[2012, 2017]),
    ]
    assert all(isinstance(f, Figure) for f in figures)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a directory
    assert plt.get_fignums() == []  # built without pyplot: nothing left open
    assert figures[0].get_suptitle() == "Kernel density evolution of D"
    # one 3-D panel per group: national and the three regions
    assert [ax.get_title() for ax in figures[0].axes] == ["National", "East", "Central", "West"]
    assert [ax.get_title() for ax in figures[2].axes[:3]] == ["2012", "2017", "2023"]
    assert [ax.get_title() for ax in figures[4].axes[:2]] == ["2012", "2017"]
    # the LISA panel title counts the clusters of that year, as the lisa table has them
    last = result.lisa.query("period == 2023")["cluster"].value_counts()
    expected = ", ".join(
        f"{short} {last.get(name, 0)}"
        for short, name in zip(("HH", "LL", "HL", "LH"), CLUSTER_TYPES[:4], strict=True)
    )
    assert figures[3].axes[0].get_title() == f"2023\n{expected}"
    # the writer's figures are these figures: the same pixels
    result.write(tmp_path / "out")
    figures[0].savefig(tmp_path / "again.png", dpi=200)
    written = mpimg.imread(tmp_path / "out" / "figures" / "kde_surface_D.png")
    np.testing.assert_array_equal(mpimg.imread(tmp_path / "again.png"), written)
    with pytest.raises(DataError, match="'U1' was not explored"):
        result.plot_density("U1")
    with pytest.raises(ConfigError, match="kind"):
        result.plot_density(kind="violin")
    with pytest.raises(DataError, match=r"period\(s\) \[2030\]"):
        result.plot_lisa(years=[2030])


@pytest.mark.integration
def test_write_without_figures(explored, tmp_path):
    bare = explored.write(tmp_path / "bare", figures=False)
    full = explored.write(tmp_path / "full")
    assert not (tmp_path / "bare" / "figures").exists()
    assert not list((tmp_path / "bare").rglob("*.png"))
    assert not list((tmp_path / "bare").rglob("*.pdf"))
    tables = [p.name for p in full if p.parent.name != "figures"]
    assert [p.name for p in bare] == tables
    for name in tables[:-1]:
        assert (tmp_path / "bare" / name).read_bytes() == (tmp_path / "full" / name).read_bytes()
    a, b = (json.loads((tmp_path / d / "metadata.json").read_text()) for d in ("bare", "full"))
    assert a.keys() == b.keys()
    assert {k: v for k, v in a.items() if k != "created"} == {
        k: v for k, v in b.items() if k != "created"
    }
    # figures as PDF too when the settings ask for it
    pdf = dataclasses.replace(explored, settings=explored.settings.replace(pdf=True))
    files = pdf.write(tmp_path / "pdf")
    assert (tmp_path / "pdf" / "figures" / "map_U1.pdf") in files
    assert len([p for p in files if p.suffix == ".pdf"]) == 12


def test_summary_renders_the_moran_values(explored, esda_w):
    summary = explored.summary()
    ccd = synthetic_ccd()
    # Moran's I of D each year, from esda on the raw cross-section
    expected = []
    for year in (2012, 2017, 2023):
        y = ccd[ccd["period"] == year].set_index("unit")["D"]
        expected.append(esda.Moran(in_w_order(y, esda_w), esda_w, permutations=0).I)
    texts = {
        "text": str(summary),
        "html": summary._repr_html_(),
        "markdown": summary.to_markdown(),
        "latex": summary.to_latex(),
    }
    for kind, text in texts.items():
        for value in expected:
            assert f"{value:.4f}" in text, (kind, value)
        assert "Global Moran" in text, kind
    first = explored.global_moran.query("variable == 'D' and period == 2012").iloc[0]
    assert first["I"] == pytest.approx(expected[0], rel=1e-10)
    assert summary.lines[0] == (
        f"Global Moran's I of D in 2012: {expected[0]:.4f} (p = {first['p_norm']:.3f} under "
        f"normality, {first['p_perm']:.3f} by permutation)."
    )
    counts = explored.lisa.query("variable == 'D' and period == 2023")["cluster"].value_counts()
    assert (
        summary.lines[2]
        == "Significant LISA units in 2023: "
        + ", ".join(f"{c} {counts.get(c, 0)}" for c in CLUSTER_TYPES[:4])
        + "."
    )
    national = ccd[ccd["period"] == 2023]["D"].to_numpy()
    peak = explored.density.features.query(
        "variable == 'D' and region == 'national' and period == 2023"
    ).iloc[0]
    assert peak["n"] == national.size == 31
    assert summary.lines[4].startswith(
        f"National density of D in 2023: main peak at {peak['peak']:.3f}"
    )
    assert len(summary.lines) == 5  # nothing skipped
    table = summary.tables[0].frame
    assert table["Year"].tolist() == [2012, 2017, 2023]
    assert [float(v.rstrip("*")) for v in table["Moran's I"]] == pytest.approx(
        [round(v, 4) for v in expected], abs=1e-12
    )
    assert "Spatio-temporal exploration" in str(summary)
    # a notebook shows the summary, a console one line
    assert explored._repr_html_() == summary._repr_html_()
    assert repr(explored).startswith("ExplorationResult(variables=['D', 'U1', 'U2'], units=31")


def test_settings_and_overrides_merge_once(weights):
    ccd = synthetic_ccd()
    base = ExploreSettings(variables=("U1",), permutations=99, significance=0.1)
    result = explore(ccd, weights, seed=5, settings=base, alternative="directed", years=None)
    assert result.settings == base.replace(alternative="directed")
    assert result.config["significance"] == 0.1 and result.config["alternative"] == "directed"
    assert result.config["smallest_p_perm"] == pytest.approx(1 / 100)
    assert result.headline_variable == "U1" and result.summary().lines[0].startswith(
        "Global Moran's I of U1 in 2012"
    )
    # the same settings as keyword overrides give the same numbers
    same = explore(
        ccd,
        weights,
        seed=5,
        variables=["U1"],
        permutations=99,
        significance=0.1,
        alternative="directed",
    )
    pd.testing.assert_frame_equal(result.global_moran, same.global_moran)
    pd.testing.assert_frame_equal(result.lisa, same.lisa)
    with pytest.raises(ConfigError, match="did you mean 'permutations'"):
        explore(ccd, weights, permutation=99)
    with pytest.raises(ConfigError, match="bandwidth"):
        explore(ccd, weights, bandwidth="wide")
    with pytest.raises(ConfigError, match="variables is empty"):
        explore(ccd, weights, variables=[])


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"years": [2030]}, DataError, r"map year\(s\) \[2030\]"),
        ({"permutations": 49}, ConfigError, "smallest attainable two-sided p-value"),
        ({"variables": ["D", "U3"]}, DataError, r"\['U3'\]"),
        ({"boundary_id": "name", "boundary": "none.geojson"}, DataError, "does not exist"),
    ],
)
def test_bad_input_is_refused_before_computing(weights, monkeypatch, overrides, error, message):
    def never(*args, **kwargs):
        raise AssertionError("computed before the input was checked")

    for name in ("kernel_density_evolution", "global_moran_panel", "local_moran_panel"):
        monkeypatch.setattr(stage, name, never)
    settings = ExploreSettings(**overrides)
    with pytest.raises(error, match=message):
        explore(synthetic_ccd(), weights, settings=settings)
    panel, regions = read_ccd_frame(synthetic_ccd())
    with pytest.raises(error, match=message):
        explore(panel, weights, regions, settings=settings)


def read_ccd_frame(frame: pd.DataFrame):
    """Validate a panel of D, U1, U2 (as read_ccd returns it) and take its regions."""
    panel = validate_panel(frame, unit="unit", time="period", columns=["D", "U1", "U2"])
    return panel, frame.drop_duplicates("unit").set_index("unit")["region"]
