"""Tests of bayes_ccd.efficiency (DEA, super-efficiency, Malmquist, results) and ``bayes-ccd dea``.

Golden values come from hand derivations (written out below), from the published CCR
scores of the hospital example of Cooper, Seiford & Tone (2007), and from an
independent formulation: the multiplier (dual) LPs written in this file, which must
give the same optimum as the envelopment LPs of the module by LP duality.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import OptimizeResult, linprog

from bayes_ccd.cli import main
from bayes_ccd.efficiency import lp as dea_lp
from bayes_ccd.efficiency.analysis import efficiency_analysis
from bayes_ccd.efficiency.data import read_dea_table
from bayes_ccd.efficiency.malmquist import malmquist
from bayes_ccd.efficiency.model import dea, dea_panel, returns_to_scale
from bayes_ccd.efficiency.result import DEAResult, Efficiency
from bayes_ccd.exceptions import ConfigError, DataError, DataWarning, EstimationError
from bayes_ccd.settings import DEASettings

REFERENCE = Path(__file__).resolve().parent / "data" / "reference"

# Published scores are printed to 4 decimals: agreement means |difference| < 0.5e-4.
PUBLISHED = 0.5e-4
# Two LP formulations solved by HiGHS (feasibility tolerance 1e-7 on unit-scaled rows)
# agree to about 1e-8; 1e-6 leaves room for badly conditioned vertices.
DUALITY = 1e-6


def frame(values: dict[str, list[float]], units: str | list[str]) -> pd.DataFrame:
    return pd.DataFrame(values, index=pd.Index(list(units), name="unit"))


# --------------------------------------------------------------------------------------
# multiplier (dual) forms, written independently of the module's envelopment LPs


def multiplier_efficiency(
    x: np.ndarray, y: np.ndarray, o: int, *, orientation: str, rts: str, exclude_self: bool
) -> tuple[int, float]:
    """Efficiency of unit ``o`` from the multiplier LP; returns (status, efficiency).

    Input, CRS (Charnes, Cooper & Rhodes 1978):   max u.y_o  s.t. v.x_o = 1,
        u.y_j - v.x_j <= 0 for all j, u, v >= 0.
    Input, VRS (Banker, Charnes & Cooper 1984):   max u.y_o - u0, rows u.y_j - v.x_j - u0 <= 0,
        u0 free.
    Output, CRS:  min v.x_o  s.t. u.y_o = 1, u.y_j - v.x_j <= 0   (efficiency 1/optimum).
    Output, VRS:  min v.x_o + v0, rows u.y_j - v.x_j - v0 <= 0, v0 free.
    ``exclude_self`` drops row j = o: the dual of the Andersen-Petersen model.
    Variables are ordered (u (s), v (m), free constant).
    """
    n, m = x.shape
    s = y.shape[1]
    rows = [j for j in range(n) if not (exclude_self and j == o)]
    free = 1 if rts == "vrs" else 0
    a_ub = np.hstack([y[rows], -x[rows], -np.ones((len(rows), free))])
    b_ub = np.zeros(len(rows))
    if orientation == "input":
        c = -np.r_[y[o], np.zeros(m), -np.ones(free)]
        a_eq = np.r_[np.zeros(s), x[o], np.zeros(free)][None, :]
    else:
        c = np.r_[np.zeros(s), x[o], np.ones(free)]
        a_eq = np.r_[y[o], np.zeros(m), np.zeros(free)][None, :]
    bounds = [(0, None)] * (s + m) + [(None, None)] * free
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs")
    if res.status != 0:
        return res.status, np.nan
    value = -res.fun if orientation == "input" else 1.0 / res.fun
    return 0, value


def random_units(n: int, m: int, s: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Strictly positive continuous data: ties and degenerate faces have probability 0."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(1.0, 10.0, size=(n, m))
    y = rng.uniform(1.0, 10.0, size=(n, s)) * x.mean(axis=1, keepdims=True) ** 0.7
    units = [f"u{i:02d}" for i in range(n)]
    return (
        frame({f"x{i}": x[:, i] for i in range(m)}, units),
        frame({f"y{r}": y[:, r] for r in range(s)}, units),
    )


# --------------------------------------------------------------------------------------
# textbook single-input single-output case, derived by hand

# Cooper, Seiford & Tone (2007), Table 1.1: eight stores, one input (employees) and one
# output (sales). Hand derivation:
#
# CRS: the frontier is the ray through the most productive store. Productivity y/x:
#   A 1/2, B 3/3 = 1, C 2/3, D 3/4, E 4/5, F 2/5, G 3/6, H 5/8. B is best, so the CRS
#   score (either orientation) is the productivity itself: .5, 1, .6667, .75, .8, .4,
#   .5, .625. Super-efficiency (AP) of B: without B the best productivity is E's 0.8,
#   so B could use 3 / 0.8 = 3.75 employees: 3.75 / 3 = 1.25 (output: 3 * 0.8 = 2.4
#   sales would do, 3 / 2.4 = 1.25).
#
# VRS frontier (upper-left convex hull with free disposal): A(2,1) - B(3,3) - E(5,4) -
#   H(8,5); slopes 2, 1/2, 1/3 decrease, so these four are the vertices.
# Input orientation, least input on the frontier for the unit's output, divided by x_o:
#   C: y=2 on A-B, x = 2 + (2-1)/2 = 2.5 -> 2.5/3 = .8333 (peers A, B at 1/2 each)
#   D: y=3 at B, x=3 -> 3/4 = .75;  F: y=2 -> 2.5/5 = .5;  G: y=3 -> 3/6 = .5.
# Output orientation, most output on the frontier for the unit's input, y_o / that:
#   C: x=3 -> 3 (B): 2/3 = .6667;  D: x=4 on B-E -> 3.5: 3/3.5 = .857143 (B, E at 1/2)
#   F: x=5 -> 4 (E): 2/4 = .5;     G: x=6 on E-H -> 4 + 1/3: 3/(13/3) = 9/13 = .692308
# Scale = CRS / VRS.
# Returns to scale (NIRS frontier: the CRS ray y = x up to B, then B-E-H):
#   input:  A (y=1 -> NIRS x=1, = CRS) increasing; C, F (y=2 -> x=2, = CRS) increasing;
#           D, G project to B: CRS = VRS, constant; E, H (NIRS = VRS) decreasing.
#   output: A (x=2 -> NIRS y=2, = CRS) increasing; C projects to B, constant; D, F, G,
#           E, H lie right of B where NIRS = VRS: decreasing.
# VRS super-efficiency, input: A without A: least x for y=1 is B's 3 -> 3/2 = 1.5;
#   B: hull of the others through A(2,1), C(3,2), D(4,3), E(5,4) (collinear), y=3 at
#   x=4 -> 4/3; E: hull A-B-H, y=4 on B-H at x = 3 + 1/0.4 = 5.5 -> 5.5/5 = 1.1;
#   H: no other store sells 5 or more: infeasible.
# VRS super-efficiency, output: A: no other store uses 2 or fewer employees:
#   infeasible; B: without B, most sales with x <= 3 is C's 2 -> 3/2 = 1.5;
#   E: B-H at x=5 gives 3.8 -> 4/3.8 = 1.052632; H: x <= 8 gives at most 4 -> 5/4.

CST_STORES = frame(
    {"employees": [2, 3, 3, 4, 5, 5, 6, 8], "sales": [1, 3, 2, 3, 4, 2, 3, 5]}, "ABCDEFGH"
)
CST_CRS = [0.5, 1.0, 2 / 3, 0.75, 0.8, 0.4, 0.5, 0.625]
HAND = {
    "input": {
        "vrs": [1.0, 1.0, 2.5 / 3, 0.75, 1.0, 0.5, 0.5, 1.0],
        "rts": [
            "increasing",
            "constant",
            "increasing",
            "constant",
            "decreasing",
            "increasing",
            "constant",
            "decreasing",
        ],
        "super_vrs": [1.5, 4 / 3, 2.5 / 3, 0.75, 1.1, 0.5, 0.5, np.nan],
    },
    "output": {
        "vrs": [1.0, 1.0, 2 / 3, 3 / 3.5, 1.0, 0.5, 9 / 13, 1.0],
        "rts": [
            "increasing",
            "constant",
            "constant",
            "decreasing",
            "decreasing",
            "decreasing",
            "decreasing",
            "decreasing",
        ],
        "super_vrs": [np.nan, 1.5, 2 / 3, 3 / 3.5, 4 / 3.8, 0.5, 9 / 13, 1.25],
    },
}


@pytest.mark.parametrize("orientation", ["input", "output"])
def test_single_input_single_output_matches_hand_derivation(orientation: str) -> None:
    with pytest.warns(DataWarning, match="super-efficiency"):
        result = dea(CST_STORES[["employees"]], CST_STORES[["sales"]], orientation=orientation)
    table = result.efficiency
    hand = HAND[orientation]
    np.testing.assert_allclose(table["crs"], CST_CRS, atol=1e-9)
    np.testing.assert_allclose(table["vrs"], hand["vrs"], atol=1e-9)
    np.testing.assert_allclose(table["scale"], np.divide(CST_CRS, hand["vrs"]), atol=1e-9)
    assert table["rts"].tolist() == hand["rts"]
    np.testing.assert_allclose(table["super_vrs"], hand["super_vrs"], atol=1e-9)
    assert table["super_vrs_feasible"].tolist() == [not np.isnan(v) for v in hand["super_vrs"]]
    np.testing.assert_allclose(table["super_crs"], [*CST_CRS[:1], 1.25, *CST_CRS[2:]], atol=1e-9)
    # The only CRS-efficient store is B; no store is weakly efficient here.
    assert table["crs_efficient"].tolist() == [u == "B" for u in "ABCDEFGH"]


def test_super_efficiency_keeps_units_dominated_only_by_the_evaluated_one() -> None:
    # P (1, 1), Q (2, 3), D (2.5, 2.9), R (4, 4): D is dominated by Q alone, so once Q
    # leaves the reference set D is on the frontier again. By hand, input orientation:
    # CRS: the best remaining output/input ratio is D's 2.9/2.5 = 1.16, so
    # super_crs(Q) = (3 / 1.16) / 2 = 1.5 / 1.16. VRS: output 3 is first reached on the
    # segment D-R at t = 0.1/1.1, input 2.5 + 1.5 t, so super_vrs(Q) = (2.5 + 1.5 t) / 2.
    inputs = pd.DataFrame({"x": [1.0, 2.0, 2.5, 4.0]}, index=list("PQDR"))
    outputs = pd.DataFrame({"y": [1.0, 3.0, 2.9, 4.0]}, index=list("PQDR"))
    with pytest.warns(DataWarning, match="units"):  # fewer units than the rule of thumb
        table = dea(inputs, outputs).efficiency
    t = 0.1 / 1.1
    assert table.loc["Q", "super_crs"] == pytest.approx(1.5 / 1.16, abs=1e-9)
    assert table.loc["Q", "super_vrs"] == pytest.approx((2.5 + 1.5 * t) / 2, abs=1e-9)


def test_single_input_single_output_peers_and_targets() -> None:
    with pytest.warns(DataWarning):
        result = dea(CST_STORES[["employees"]], CST_STORES[["sales"]], orientation="output")
    lam = result.lambdas.set_index(["model", "unit", "peer"])["lambda"]
    # D (4, 3) projects to the midpoint of B (3, 3) and E (5, 4): (4, 3.5).
    assert lam["vrs", "D"].to_dict() == pytest.approx({"B": 0.5, "E": 0.5})
    assert result.targets["vrs"].loc["D"].tolist() == pytest.approx([4.0, 3.5])
    # G (6, 3): 2/3 E + 1/3 H = (6, 13/3).
    assert lam["vrs", "G"].to_dict() == pytest.approx({"E": 2 / 3, "H": 1 / 3})
    # CRS: every store is benchmarked on B, scaled to its input: lambda = x_o / 3.
    crs_peers = lam["crs"].reset_index()
    assert set(crs_peers["peer"]) == {"B"}
    np.testing.assert_allclose(crs_peers["lambda"], CST_STORES["employees"] / 3)


def test_summary_counts_match_hand_derivation() -> None:
    with pytest.warns(DataWarning):
        result = dea(CST_STORES[["employees"]], CST_STORES[["sales"]])
    summary = result.headline()
    assert summary["mean_crs"] == pytest.approx(np.mean(CST_CRS))
    assert summary["n_efficient"] == 1
    assert summary["share_efficient"] == pytest.approx(1 / 8)
    assert summary["returns_to_scale"] == {"increasing": 3, "constant": 3, "decreasing": 2}
    assert summary["n_super_infeasible"] == 1


def test_two_phase_finds_the_slack_of_a_weakly_efficient_unit() -> None:
    # Two inputs, one output, CRS. Per unit of output the units use
    # P (1, 2), Q (2, 1), R (4, 1), S (3, 3); Q and S are given at 2 and 3 units of
    # output (CRS scores do not depend on scale). The isoquant is the segment P-Q plus
    # the horizontal ray from Q (x2 = 1, x1 > 2).
    # R: the ray theta (4, 1) leaves the technology at theta = 1 (x2 cannot fall below
    #   1), so theta = 1, but (4, 1) still uses 2 more of x1 than Q: slack 2 in x1,
    #   peer Q with lambda 1/2 (Q is scaled by 2), target (2, 1; 1). Weakly efficient.
    # S: theta (3, 3) meets x1 + x2 = 3 (the line P-Q) at theta = 1/2, point (1.5, 1.5)
    #   = (P + Q)/2 per unit of output; for 3 units: lambda_P = 1.5, lambda_Q = 0.75,
    #   target (4.5, 4.5; 3), no slack.
    units = frame({"x1": [1, 4, 4, 9], "x2": [2, 2, 1, 9], "y": [1, 2, 1, 3]}, "PQRS")
    with pytest.warns(DataWarning, match="rule of thumb"):
        result = dea(units[["x1", "x2"]], units[["y"]], rts="crs", super_efficiency=False)
    table = result.efficiency
    np.testing.assert_allclose(table["crs"], [1.0, 1.0, 1.0, 0.5], atol=1e-9)
    assert table["crs_efficient"].tolist() == [True, True, False, False]
    np.testing.assert_allclose(result.slacks["crs"].loc["R"], [2.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(result.slacks["crs"].loc["S"], [0.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(result.targets["crs"].loc["R"], [2.0, 1.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(result.targets["crs"].loc["S"], [4.5, 4.5, 3.0], atol=1e-9)
    lam = result.lambdas.set_index(["unit", "peer"])["lambda"]
    assert lam["R"].to_dict() == pytest.approx({"Q": 0.5})
    assert lam["S"].to_dict() == pytest.approx({"P": 1.5, "Q": 0.75})


# --------------------------------------------------------------------------------------
# published multi-input multi-output examples


def cst_hospitals() -> pd.DataFrame:
    """The 12 hospitals of Cooper, Seiford & Tone (2007), Table 1.5.

    The reference CSV (tests/data/reference) has two cells that differ from the book:
    outpatients of I are 290 (book: 190) and of K 262 (book: 260). With the CSV as it
    stands B and D are not efficient (I dominates them); with the book's two values all
    twelve published CCR scores are reproduced to 4 decimals. The book's values also
    appear in the CST22 data set of the R package qDEA. We therefore restore them here.
    """
    data = pd.read_csv(REFERENCE / "hospital_cst.csv", index_col="hospital")
    data.index.name = "unit"
    data.loc["I", "outpat"] = 190
    data.loc["K", "outpat"] = 260
    return data


# CCR (CRS, input oriented) scores printed by Cooper, Seiford & Tone (2007) for the
# hospital example. Note: the issue text listed "I 1, J 0.9604, K 0.8706, L 0.9551",
# the last four entries shifted down by one row (0.9582, L's score, was lost and I was
# given 1). The book data give I 0.9604, J 0.8706, K 0.9551, L 0.9582, with primal and
# dual certificates checked below; A-H match the issue text.
CST_CCR = {
    "A": 1.0,
    "B": 1.0,
    "C": 0.8827,
    "D": 1.0,
    "E": 0.7635,
    "F": 0.8348,
    "G": 0.9020,
    "H": 0.7963,
    "I": 0.9604,
    "J": 0.8706,
    "K": 0.9551,
    "L": 0.9582,
}


@pytest.fixture(scope="module")
def hospitals() -> pd.DataFrame:
    return cst_hospitals()


def test_hospital_ccr_scores_match_published(hospitals: pd.DataFrame) -> None:
    with pytest.warns(DataWarning, match="super-efficiency"):
        result = dea(hospitals[["doctors", "nurses"]], hospitals[["outpat", "inpat"]])
    scores = result.efficiency["crs"]
    for unit, published in CST_CCR.items():
        assert abs(scores[unit] - published) < PUBLISHED, unit
    assert result.efficiency.index[result.efficiency["crs_efficient"]].tolist() == ["A", "B", "D"]


def test_hospital_scores_have_primal_and_dual_certificates(hospitals: pd.DataFrame) -> None:
    # Primal: the peers and lambdas reported for a unit produce at least its outputs
    # with at most theta times its inputs, so theta is attainable. Dual: the multiplier
    # LP finds weights under which no hospital beats ratio 1 and this one reaches theta,
    # so nothing below theta is attainable.
    x, y = hospitals[["doctors", "nurses"]], hospitals[["outpat", "inpat"]]
    result = dea(x, y, rts="crs", super_efficiency=False)
    lam = result.lambdas.set_index(["unit", "peer"])["lambda"]
    for o, unit in enumerate(hospitals.index):
        theta = result.efficiency.loc[unit, "crs"]
        weights = lam[unit]
        mix_x = x.loc[weights.index].mul(weights, axis=0).sum()
        mix_y = y.loc[weights.index].mul(weights, axis=0).sum()
        assert (mix_y >= y.loc[unit] * (1 - 1e-9)).all(), unit
        assert (mix_x <= theta * x.loc[unit] * (1 + 1e-9)).all(), unit
        status, dual = multiplier_efficiency(
            x.to_numpy(float),
            y.to_numpy(float),
            o,
            orientation="input",
            rts="crs",
            exclude_self=False,
        )
        assert status == 0 and theta == pytest.approx(dual, abs=DUALITY), unit


@pytest.fixture(scope="module")
def schools() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = pd.read_csv(REFERENCE / "charnes1981.csv")
    data.index = pd.Index(data["firm"].astype(str), name="unit")
    return data[["x1", "x2", "x3", "x4", "x5"]], data[["y1", "y2", "y3"]]


@pytest.mark.parametrize("orientation", ["input", "output"])
def test_schools_scores_equal_multiplier_lp(
    schools: tuple[pd.DataFrame, pd.DataFrame], orientation: str
) -> None:
    # Charnes, Cooper & Rhodes (1981), 70 sites, 5 inputs, 3 outputs: the envelopment
    # scores must equal the multiplier-form optimum for every site (LP duality).
    inputs, outputs = schools
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = dea(inputs, outputs, orientation=orientation)
    x, y = inputs.to_numpy(float), outputs.to_numpy(float)
    table = result.efficiency
    for rts in ("crs", "vrs"):
        for o in range(len(x)):
            status, expected = multiplier_efficiency(
                x, y, o, orientation=orientation, rts=rts, exclude_self=False
            )
            assert status == 0
            assert table[rts].iloc[o] == pytest.approx(expected, abs=DUALITY)
            status, expected = multiplier_efficiency(
                x, y, o, orientation=orientation, rts=rts, exclude_self=True
            )
            if status == 0:
                assert table[f"super_{rts}"].iloc[o] == pytest.approx(expected, abs=DUALITY)
            else:
                # An infeasible AP primal has an unbounded dual.
                assert (rts, status) == ("vrs", 3)
                assert not table["super_vrs_feasible"].iloc[o]
    infeasible = ~table["super_vrs_feasible"]
    assert infeasible.any() == any(issubclass(w.category, DataWarning) for w in caught)


# --------------------------------------------------------------------------------------
# super-efficiency infeasibility


def test_vrs_super_efficiency_infeasible_is_reported_not_a_number() -> None:
    # P (1, 1), Q (2, 3), R (4, 4), one input and one output. Without R no convex
    # combination of P and Q produces 4 (their largest output is 3): the input-oriented
    # VRS AP model of R has no solution. Without P no unit uses 1 input or less: the
    # output-oriented model of P has no solution. The CRS models always have one.
    units = frame({"x": [1, 2, 4], "y": [1, 3, 4]}, "PQR")
    for orientation, unit in (("input", "R"), ("output", "P")):
        with pytest.warns(DataWarning) as record:
            result = dea(units[["x"]], units[["y"]], orientation=orientation)
        messages = " ".join(str(w.message) for w in record)
        assert f"['{unit}']" in messages and "super-efficiency" in messages
        table = result.efficiency
        assert table["super_vrs_feasible"].to_dict() == {u: u != unit for u in "PQR"}
        assert np.isnan(table.loc[unit, "super_vrs"])
        assert table.loc[unit, "super_vrs_reason"].startswith("infeasible")
        assert table["super_crs_feasible"].all() and np.isfinite(table["super_crs"]).all()
    # Q without Q, input oriented: y >= 3 on P-R needs lambda_R = 2/3, x = 3: 3/2.
    with pytest.warns(DataWarning):
        result = dea(units[["x"]], units[["y"]], orientation="input")
    assert result.efficiency.loc["Q", "super_vrs"] == pytest.approx(1.5)


# --------------------------------------------------------------------------------------
# Malmquist index


def test_malmquist_two_units_two_periods_by_hand() -> None:
    # Period 1: A (x 2, y 2), B (4, 1.5). Period 2: A (2, 3), B (4, 4).
    # One input and one output under CRS: E^t(data) = (y/x) / best productivity in t.
    #   best productivity: period 1 A's 1, period 2 A's 1.5.
    #   E1(1): A 1,  B .375      E2(2): A 1,   B (4/4)/1.5 = 2/3
    #   E1(2): A 1.5, B 1.0      E2(1): A 1/1.5 = 2/3, B .375/1.5 = .25
    # A: tfpch = sqrt(1.5/1 * 1/(2/3)) = 1.5, effch = 1, techch = 1.5.
    # B: tfpch = sqrt(1/.375 * (2/3)/.25) = 8/3 (= its productivity ratio 1/.375),
    #    effch = (2/3)/.375 = 16/9, techch = sqrt(1/(2/3) * .375/.25) = 1.5.
    # VRS (two units): B in period 1 is dominated by A. Input: B needs y >= 1.5, A gives
    #   2 with x 2: 2/4 = .5. Output: with x <= 4, A gives 2: 1.5/2 = .75. Period 2 both
    #   are VRS efficient (A least input, B most output).
    #   input:  pech_B = 1/.5 = 2,   sech_B = (16/9)/2 = 8/9
    #   output: pech_B = 1/.75 = 4/3, sech_B = (16/9)/(4/3) = 4/3;  A: pech = sech = 1.
    panel = pd.DataFrame(
        {
            "region": ["A", "B", "A", "B"],
            "year": [1, 1, 2, 2],
            "x": [2.0, 4.0, 2.0, 4.0],
            "y": [2.0, 1.5, 3.0, 4.0],
        }
    )
    expected_pech = {"input": 2.0, "output": 4 / 3}
    for orientation in ("input", "output"):
        with pytest.warns(DataWarning, match="rule of thumb"):
            table = malmquist(panel, "region", "year", ["x"], ["y"], orientation).table
        table = table.set_index("unit")
        assert table.loc["A", ["tfpch", "effch", "techch", "pech", "sech"]].tolist() == (
            pytest.approx([1.5, 1.0, 1.5, 1.0, 1.0])
        )
        pech = expected_pech[orientation]
        assert table.loc["B", ["tfpch", "effch", "techch", "pech", "sech"]].tolist() == (
            pytest.approx([8 / 3, 16 / 9, 1.5, pech, 16 / 9 / pech])
        )
        assert table.loc[
            "B", ["eff_from", "eff_to", "eff_to_under_from", "eff_from_under_to"]
        ].tolist() == pytest.approx([0.375, 2 / 3, 1.0, 0.25])
        assert (table["period_from"] == 1).all() and (table["period_to"] == 2).all()


def test_malmquist_single_input_output_is_productivity_ratio() -> None:
    # With one input and one output under CRS, every distance function is productivity
    # over the best productivity, so the Malmquist index is the unit's own productivity
    # ratio (y1/x1)/(y0/x0) whatever the other units do.
    rng = np.random.default_rng(7)
    n, periods = 9, [2019, 2020, 2021]
    panel = pd.DataFrame(
        {
            "unit": np.tile([f"p{i}" for i in range(n)], len(periods)),
            "year": np.repeat(periods, n),
            "x": rng.uniform(1, 5, n * len(periods)),
            "y": rng.uniform(1, 5, n * len(periods)),
        }
    )
    table = malmquist(panel, "unit", "year", ["x"], ["y"], "input").table
    productivity = (panel["y"] / panel["x"]).to_numpy().reshape(len(periods), n)
    expected = (productivity[1:] / productivity[:-1]).ravel()
    np.testing.assert_allclose(table["tfpch"], expected, rtol=1e-7)
    np.testing.assert_allclose(table["effch"] * table["techch"], table["tfpch"], rtol=1e-12)


def test_malmquist_crs_parts_do_not_depend_on_orientation() -> None:
    inputs, outputs = random_units(24, 2, 2, seed=11)
    later_in, later_out = random_units(24, 2, 2, seed=12)
    panel = pd.concat(
        [
            pd.concat([inputs, outputs], axis=1).assign(t=1),
            pd.concat([later_in, later_out], axis=1).assign(t=2),
        ]
    ).reset_index()
    cols = ["tfpch", "effch", "techch"]
    by_input = malmquist(panel, "unit", "t", ["x0", "x1"], ["y0", "y1"], "input").table
    by_output = malmquist(panel, "unit", "t", ["x0", "x1"], ["y0", "y1"], "output").table
    np.testing.assert_allclose(by_input[cols], by_output[cols], rtol=1e-6)


def test_malmquist_needs_a_balanced_panel() -> None:
    panel = pd.DataFrame(
        {"u": ["A", "B", "A"], "t": [1, 1, 2], "x": [1.0, 2.0, 1.0], "y": [1.0, 3.0, 2.0]}
    )
    with pytest.raises(DataError, match="balanced") as error:
        malmquist(panel, "u", "t", ["x"], ["y"])
    assert error.value.unit == "B" and error.value.period == 2


# --------------------------------------------------------------------------------------
# properties on random data


@pytest.fixture(scope="module")
def random_result() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, DEAResult]]:
    inputs, outputs = random_units(40, 3, 2, seed=3)
    results = {}
    for orientation in ("input", "output"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # VRS AP infeasibility, tested above
            results[orientation] = dea(inputs, outputs, orientation=orientation)
    return inputs, outputs, results


@pytest.mark.parametrize("orientation", ["input", "output"])
def test_scores_are_ordered_and_in_unit_interval(random_result, orientation: str) -> None:
    table = random_result[2][orientation].efficiency
    for model in ("crs", "vrs", "nirs"):
        assert ((table[model] > 0) & (table[model] <= 1)).all()
    # The technologies are nested CRS ⊇ NIRS ⊇ VRS, so the scores are ordered.
    assert (table["crs"] <= table["nirs"] + 1e-9).all()
    assert (table["nirs"] <= table["vrs"] + 1e-9).all()
    # NIRS equals CRS or VRS (Färe, Grosskopf & Lovell 1985).
    assert (
        np.minimum(abs(table["nirs"] - table["crs"]), abs(table["nirs"] - table["vrs"])) < 1e-9
    ).all()


@pytest.mark.parametrize("orientation", ["input", "output"])
@pytest.mark.parametrize("model", ["crs", "vrs"])
def test_efficient_units_have_no_slack_and_are_their_own_peers(
    random_result, orientation: str, model: str
) -> None:
    result = random_result[2][orientation]
    table = result.efficiency
    lam = result.lambdas[result.lambdas["model"] == model]
    # Units whose super-efficiency exceeds 1 (or is infeasible) are extreme points of
    # the frontier, found by a different LP: the max-slack phase must give them zero
    # slacks and themselves as their only peer.
    extreme = (table[f"super_{model}"] > 1 + 1e-6) | ~table[f"super_{model}_feasible"]
    assert extreme.any()
    for unit in table.index[extreme]:
        assert (result.slacks[model].loc[unit] == 0).all(), unit
        own = lam[lam["unit"] == unit]
        assert own["peer"].tolist() == [unit]
        assert own["lambda"].iloc[0] == pytest.approx(1.0, abs=1e-6)
    assert (table[f"{model}_efficient"] == extreme).all()
    # Super-efficiency of an inefficient unit is its ordinary score.
    inefficient = table[model] < 1
    np.testing.assert_array_equal(
        table.loc[inefficient, f"super_{model}"], table.loc[inefficient, model]
    )


@pytest.mark.parametrize("orientation", ["input", "output"])
def test_super_efficiency_equals_multiplier_ap_model(random_result, orientation: str) -> None:
    inputs, outputs, results = random_result
    table = results[orientation].efficiency
    x, y = inputs.to_numpy(), outputs.to_numpy()
    for rts in ("crs", "vrs"):
        for o in range(len(x)):
            status, expected = multiplier_efficiency(
                x, y, o, orientation=orientation, rts=rts, exclude_self=True
            )
            if status == 0:
                assert table[f"super_{rts}"].iloc[o] == pytest.approx(expected, abs=DUALITY)
            else:
                assert not table[f"super_{rts}_feasible"].iloc[o]


@pytest.mark.parametrize("orientation", ["input", "output"])
@pytest.mark.parametrize("model", ["crs", "vrs"])
def test_targets_lie_on_the_efficient_frontier(random_result, orientation: str, model: str) -> None:
    # Adding the projected points to the data leaves the technology unchanged (they lie
    # in it), so the original scores stay the same and every target is efficient with
    # zero slacks.
    inputs, outputs, results = random_result
    result = results[orientation]
    targets = result.targets[model].rename(index=lambda u: f"target_{u}")
    both_in = pd.concat([inputs, targets[inputs.columns]])
    both_out = pd.concat([outputs, targets[outputs.columns]])
    again = dea(both_in, both_out, orientation=orientation, rts=model, super_efficiency=False)
    table = again.efficiency
    np.testing.assert_allclose(table.loc[inputs.index, model], result.efficiency[model], atol=1e-7)
    assert (table.loc[targets.index, model] == 1.0).all()
    assert table.loc[targets.index, f"{model}_efficient"].all()


def test_scores_do_not_depend_on_units_of_measurement(random_result) -> None:
    inputs, outputs, results = random_result
    rescaled = dea(
        inputs * [1e6, 1.0, 1e-3], outputs * [1e5, 1.0], rts="both", super_efficiency=False
    )
    base = results["input"].efficiency
    for column in ("crs", "vrs", "nirs"):
        np.testing.assert_allclose(rescaled.efficiency[column], base[column], atol=1e-7)
    assert (rescaled.efficiency["rts"] == base["rts"]).all()
    np.testing.assert_allclose(
        rescaled.slacks["vrs"]["x0"],
        results["input"].slacks["vrs"]["x0"] * 1e6,
        rtol=1e-5,
        atol=1e-3,
    )


def test_returns_to_scale_rule() -> None:
    crs = np.array([0.8, 0.8, 0.8, 1.0])
    vrs = np.array([0.8 + 1e-8, 0.9, 0.9, 1.0])
    nirs = np.array([0.8, 0.9, 0.8, 1.0])
    assert returns_to_scale(crs, vrs, nirs).tolist() == [
        "constant",
        "decreasing",
        "increasing",
        "constant",
    ]


# --------------------------------------------------------------------------------------
# input validation and failures


def test_non_positive_value_names_unit_and_column(hospitals: pd.DataFrame) -> None:
    inputs = hospitals[["doctors", "nurses"]].copy()
    inputs.loc["E", "nurses"] = 0
    with pytest.raises(DataError, match="strictly positive") as error:
        dea(inputs, hospitals[["outpat", "inpat"]])
    assert (error.value.unit, error.value.column) == ("E", "nurses")


def test_missing_value_names_unit_and_column(hospitals: pd.DataFrame) -> None:
    outputs = hospitals[["outpat", "inpat"]].copy()
    outputs.loc["C", "inpat"] = np.nan
    with pytest.raises(DataError, match="missing") as error:
        dea(hospitals[["doctors", "nurses"]], outputs)
    assert (error.value.unit, error.value.column) == ("C", "inpat")


def test_constant_column_is_an_error(hospitals: pd.DataFrame) -> None:
    inputs = hospitals[["doctors", "nurses"]].assign(beds=5.0)
    with pytest.raises(DataError, match="same value for every unit") as error:
        dea(inputs, hospitals[["outpat", "inpat"]])
    assert error.value.column == "beds"


def test_too_few_units_warns(hospitals: pd.DataFrame) -> None:
    few = hospitals.iloc[:11]  # rule of thumb for 2 inputs, 2 outputs: max(4, 12) = 12
    with pytest.warns(DataWarning, match="rule of thumb"):
        dea(few[["doctors", "nurses"]], few[["outpat", "inpat"]], super_efficiency=False)


def test_other_bad_input(hospitals: pd.DataFrame) -> None:
    x, y = hospitals[["doctors", "nurses"]], hospitals[["outpat", "inpat"]]
    with pytest.raises(ConfigError, match="orientation"):
        dea(x, y, orientation="graph")
    with pytest.raises(ConfigError, match=r"rts = 'nirs' is not one of \['crs', 'vrs', 'both'\]"):
        dea(x, y, rts="nirs")
    with pytest.raises(DataError, match="same units"):
        dea(x, y.iloc[::-1])
    with pytest.raises(DataError, match="more than once"):
        dea(pd.concat([x, x.iloc[:1]]), pd.concat([y, y.iloc[:1]]))
    with pytest.raises(DataError, match="'doctors' is named as input and output"):
        dea(x, x)
    with pytest.raises(DataError, match="'doctors' is named 2 times as input"):
        dea(hospitals[["doctors", "doctors"]], y)


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        (["x", "x"], ["y"], "'x' is named 2 times as input"),
        (["x"], ["y", "x"], "'x' is named as input and output"),
        (["x", "unit"], ["y"], "'unit' is named as unit and input"),
    ],
)
def test_panel_functions_reject_a_column_named_twice(
    inputs: list[str], outputs: list[str], message: str
) -> None:
    panel = pd.DataFrame({"unit": ["A", "B"], "t": [1, 1], "x": [1.0, 2.0], "y": [1.0, 3.0]})
    with pytest.raises(ConfigError, match=message):
        dea_panel(panel, unit="unit", time="t", inputs=inputs, outputs=outputs)
    with pytest.raises(ConfigError, match=message):
        malmquist(panel, "unit", "t", inputs, outputs)


def test_lp_failure_names_the_unit(
    hospitals: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args, **kwargs) -> OptimizeResult:
        return OptimizeResult(status=4, message="numerical difficulties", x=None)

    monkeypatch.setattr(dea_lp, "linprog", failing)
    with pytest.raises(EstimationError, match="unit 'A'"):
        dea(hospitals[["doctors", "nurses"]], hospitals[["outpat", "inpat"]])


# --------------------------------------------------------------------------------------
# files and command line


def test_read_dea_table_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("unit,x,y\nA,1,2\nB,oops,3\n", encoding="utf-8")
    with pytest.raises(DataError, match="'oops' is not a number") as error:
        read_dea_table(path, unit="unit", inputs=["x"], outputs=["y"])
    assert (error.value.file, error.value.line) == (str(path), 3)
    assert (error.value.column, error.value.unit) == ("x", "B")

    # Line numbers are those of the file, also after a blank line.
    path.write_text("unit,x,y\nA,1,2\n\nB,,3\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing value") as error:
        read_dea_table(path, unit="unit", inputs=["x"], outputs=["y"])
    assert error.value.line == 4

    path.write_text("unit,x,y\nA,1,2\nB,inf,3\n", encoding="utf-8")
    with pytest.raises(DataError, match="infinite") as error:
        read_dea_table(path, unit="unit", inputs=["x"], outputs=["y"])
    assert error.value.line == 3

    path.write_text("unit,x,y\nA,1,2\nB,2,3\nA,1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"duplicate unit row \(also on line\(s\) \[4\]\)") as error:
        read_dea_table(path, unit="unit", inputs=["x"], outputs=["y"])
    assert (error.value.line, error.value.unit) == (2, "A")

    path.write_text("unit,x,y\nA,1,2\n ,2,3\n", encoding="utf-8")
    with pytest.raises(DataError, match="unit label is empty") as error:
        read_dea_table(path, unit="unit", inputs=["x"], outputs=["y"])
    assert error.value.line == 3

    path.write_text("unit,t,x,y\nA,1,1,2\nA,2,2,3\nA,1,1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="duplicate unit-period row") as error:
        read_dea_table(path, unit="unit", time="t", inputs=["x"], outputs=["y"])
    assert (error.value.line, error.value.period) == (2, 1)

    path.write_text("unit,t,x,y\nA,1,1,2\nB,1,2,3\nA,2,2,3\n", encoding="utf-8")
    with pytest.raises(DataError, match="unbalanced panel") as error:
        read_dea_table(path, unit="unit", time="t", inputs=["x"], outputs=["y"])
    assert error.value.unit == "B"

    path.write_text("unit,x,y\nA,1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"\['z'\] are not in the data"):
        read_dea_table(path, unit="unit", inputs=["x"], outputs=["z"])


def test_read_dea_table_values_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("unit,x,y,note\n A ,1.5,2,a\n\nB,3,4e1,b\n", encoding="utf-8")
    data = read_dea_table(path, unit="unit", inputs=["x"], outputs=["y"])
    assert data.table.to_dict("index") == {
        2: {"unit": "A", "x": 1.5, "y": 2.0},
        4: {"unit": "B", "x": 3.0, "y": 40.0},
    }
    assert data.source == str(path) and data.filled.empty


def test_read_dea_table_selects_one_period(tmp_path: Path) -> None:
    path = tmp_path / "panel.csv"
    # A gap (line 2) and an unbalanced unit C in period 1 do not block period 2.
    path.write_text("unit,t,x,y\nA,1,,2\nA,2,2,3\nB,2,3,4\nB,1,1,1\nC,2,1,5\n", encoding="utf-8")
    kept = read_dea_table(path, unit="unit", time="t", period=2, inputs=["x"], outputs=["y"])
    assert kept.table.to_dict("index") == {
        3: {"unit": "A", "t": 2, "x": 2.0, "y": 3.0},
        4: {"unit": "B", "t": 2, "x": 3.0, "y": 4.0},
        6: {"unit": "C", "t": 2, "x": 1.0, "y": 5.0},
    }
    with pytest.raises(DataError, match="unbalanced panel") as error:
        read_dea_table(path, unit="unit", time="t", inputs=["x"], outputs=["y"])
    assert error.value.unit == "C"
    path.write_text("unit,t,x,y\nA,1,,2\nA,2,2,3\nB,2,3,4\nB,1,1,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing value") as error:
        read_dea_table(path, unit="unit", time="t", inputs=["x"], outputs=["y"])
    assert (error.value.line, error.value.period) == (2, 1)
    with pytest.raises(DataError, match=r"no rows for period 3 \(periods in the data: \[1, 2\]\)"):
        read_dea_table(path, unit="unit", time="t", period=3, inputs=["x"], outputs=["y"])
    with pytest.raises(ConfigError, match="period 'x2' is not an integer"):
        read_dea_table(path, unit="unit", time="t", period="x2", inputs=["x"], outputs=["y"])
    with pytest.raises(ConfigError, match="needs a panel"):
        read_dea_table(path, unit="unit", missing="linear", inputs=["x"], outputs=["y"])

    # A period cell that is no integer is still an error: its row might belong to the
    # selected period.
    path.write_text("unit,t,x,y\nA,2,1,2\nB,2x,3,4\n", encoding="utf-8")
    with pytest.raises(DataError, match="period '2x' is not an integer") as error:
        read_dea_table(path, unit="unit", time="t", period=2, inputs=["x"], outputs=["y"])
    assert error.value.line == 3


def test_read_dea_table_interpolates_on_request(tmp_path: Path) -> None:
    path = tmp_path / "panel.csv"
    # Hand calculation: A's y in period 2 lies halfway between 2 (period 1) and 4
    # (period 3), so linear interpolation gives 3.
    path.write_text(
        "unit,t,x,y\nA,1,1,2\nA,2,1,\nA,3,1,4\nB,1,2,3\nB,2,2,3\nB,3,2,5\n",
        encoding="utf-8",
    )
    data = read_dea_table(
        path, unit="unit", time="t", inputs=["x"], outputs=["y"], missing="linear"
    )
    assert data.table.loc[3, "y"] == 3.0
    assert data.filled.to_dict("records") == [
        {"unit": "A", "period": 2, "column": "y", "value": 3.0}
    ]
    one = read_dea_table(
        path, unit="unit", time="t", period=3, inputs=["x"], outputs=["y"], missing="linear"
    )
    assert one.table.index.tolist() == [4, 7] and one.filled.empty


@pytest.mark.parametrize(
    ("text", "time", "where"),
    [
        ("unit,x,y\nA,1,2\nB,2,3\nC,-1,4\nD,0,5\n", None, (4, "x", "C", None)),
        ("unit,t,x,y\nA,1,1,2\nB,1,2,3\nA,2,1,0\nB,2,2,3\n", "t", (4, "y", "A", 2)),
    ],
)
def test_read_dea_table_locates_non_positive_values(
    tmp_path: Path, text: str, time: str | None, where: tuple
) -> None:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="strictly positive") as error:
        read_dea_table(path, unit="unit", time=time, inputs=["x"], outputs=["y"])
    found = error.value
    assert found.file == str(path)
    assert (found.line, found.column, found.unit, found.period) == where


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        (["x", "x"], ["y"], "'x' is named 2 times as input"),
        (["x"], ["x"], "'x' is named as input and output"),
        (["t"], ["y"], "'t' is named as period and input"),
        (["x", "period"], ["y"], "may not be called 'period'"),
    ],
)
def test_read_dea_table_rejects_column_roles_before_reading(
    tmp_path: Path, inputs: list[str], outputs: list[str], message: str
) -> None:
    # The file does not exist: the configuration error must come first.
    with pytest.raises(ConfigError, match=message):
        read_dea_table(tmp_path / "absent.csv", unit="u", time="t", inputs=inputs, outputs=outputs)


def dea_args(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "dea",
        "--data",
        str(data),
        "--unit",
        "hospital",
        "--inputs",
        "doctors,nurses",
        "--outputs",
        "outpat,inpat",
        "--out",
        str(out),
        *extra,
    ]


def test_cli_dea_writes_tables_with_published_scores(
    hospitals: pd.DataFrame, tmp_path: Path, capsys
) -> None:
    data = tmp_path / "hospitals.csv"
    hospitals.rename_axis("hospital").to_csv(data)
    out = tmp_path / "dea"
    with pytest.warns(DataWarning, match="super-efficiency"):
        assert main(dea_args(data, out)) == 0
    for name in (
        "efficiency.csv",
        "efficiency.md",
        "efficiency.tex",
        "targets.csv",
        "lambdas.csv",
        "summary.json",
        "summary.md",
        "metadata.json",
    ):
        assert (out / name).is_file(), name
    assert not (out / "malmquist.csv").exists()
    table = pd.read_csv(out / "efficiency.csv", index_col="unit")
    for unit, published in CST_CCR.items():
        assert abs(table.loc[unit, "crs"] - published) < PUBLISHED
    assert {
        "vrs",
        "scale",
        "rts",
        "super_crs",
        "super_vrs_feasible",
        "crs_slack_doctors",
        "vrs_peers",
    } <= set(table.columns)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_efficient"] == 3
    assert summary["mean_crs"] == pytest.approx(np.mean(list(CST_CCR.values())), abs=1e-4)
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["config"]["orientation"] == "input"
    assert "DEA efficient" in capsys.readouterr().out


def test_cli_dea_panel_writes_malmquist(hospitals: pd.DataFrame, tmp_path: Path) -> None:
    # Period 2 repeats period 1 with every output 10% higher. Under CRS the frontier
    # moves out by exactly 10% and each hospital keeps its place relative to it:
    # tfpch = techch = 1.1, effch = pech = sech = 1 for every hospital.
    later = hospitals.assign(outpat=hospitals["outpat"] * 1.1, inpat=hospitals["inpat"] * 1.1)
    panel = pd.concat([hospitals.assign(year=2020), later.assign(year=2021)])
    data = tmp_path / "panel.csv"
    panel.rename_axis("hospital").to_csv(data)
    out = tmp_path / "dea"
    with pytest.warns(DataWarning, match="super-efficiency"):
        assert main(dea_args(data, out, "--time", "year", "--orientation", "output")) == 0
    table = pd.read_csv(out / "malmquist.csv")
    np.testing.assert_allclose(table["tfpch"], 1.1, rtol=1e-7)
    np.testing.assert_allclose(table["techch"], 1.1, rtol=1e-7)
    np.testing.assert_allclose(table[["effch", "pech", "sech"]], 1.0, rtol=1e-7)
    efficiency_table = pd.read_csv(out / "efficiency.csv")
    assert sorted(efficiency_table["period"].unique()) == [2020, 2021]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["malmquist"]["overall"]["tfpch"] == pytest.approx(1.1)

    one_year = tmp_path / "dea2021"
    with pytest.warns(DataWarning):
        assert main(dea_args(data, one_year, "--time", "year", "--year", "2021")) == 0
    assert len(pd.read_csv(one_year / "efficiency.csv")) == 12
    assert not (one_year / "malmquist.csv").exists()


def test_cli_dea_bad_input_exits_2_and_writes_nothing(
    hospitals: pd.DataFrame, tmp_path: Path, capsys
) -> None:
    bad = hospitals.rename_axis("hospital").astype({"nurses": object})
    bad.loc["F", "nurses"] = "n/a?"
    data = tmp_path / "bad.csv"
    bad.to_csv(data)
    out = tmp_path / "dea"
    assert main(dea_args(data, out)) == 2
    assert not out.exists()
    message = capsys.readouterr().err
    assert "line 7" in message and "column 'nurses'" in message

    assert main(dea_args(data, out, "--year", "2021")) == 2  # --year without --time
    assert not out.exists()


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (["--inputs", "doctors,doctors"], "column 'doctors' is named 2 times as input"),
        (["--outputs", "outpat,doctors"], "column 'doctors' is named as input and output"),
        (["--unit", "nurses"], "column 'nurses' is named as unit and input"),
    ],
)
def test_cli_dea_rejects_a_column_named_twice(
    hospitals: pd.DataFrame, tmp_path: Path, capsys, columns: list[str], message: str
) -> None:
    data = tmp_path / "hospitals.csv"
    hospitals.rename_axis("hospital").to_csv(data)
    out = tmp_path / "dea"
    assert main([*dea_args(data, out), *columns]) == 2  # argparse: the last value wins
    assert not out.exists()
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "DEA data is empty"), ("hospital,doctors,nurses,outpat,inpat\n\n", "no data rows")],
)
def test_cli_dea_empty_or_header_only_file(tmp_path: Path, capsys, text: str, reason: str) -> None:
    data = tmp_path / "empty.csv"
    data.write_text(text, encoding="utf-8")
    out = tmp_path / "dea"
    assert main(dea_args(data, out)) == 2
    assert not out.exists()
    lines = [
        line
        for line in capsys.readouterr().err.splitlines()
        if not line.startswith("[bayes-ccd]")  # progress messages
    ]
    assert len(lines) == 1  # the reason, no traceback
    assert lines[0].startswith("bayes-ccd dea: error: ")
    assert reason in lines[0] and str(data) in lines[0]


def test_cli_dea_errors_name_the_file(hospitals: pd.DataFrame, tmp_path: Path, capsys) -> None:
    bad = hospitals.rename_axis("hospital").copy()
    bad.loc["D", "inpat"] = -4  # D is the 4th hospital: line 5 (the header is line 1)
    data = tmp_path / "bad.csv"
    bad.to_csv(data)
    out = tmp_path / "dea"
    assert main(dea_args(data, out)) == 2
    error = capsys.readouterr().err
    assert f"{data}, line 5, column 'inpat', unit 'D'" in error and "strictly positive" in error

    # An error found by the DEA itself (a column constant across units) names the file.
    hospitals.assign(doctors=7).rename_axis("hospital").to_csv(data)
    assert main(dea_args(data, out)) == 2
    assert not out.exists()
    error = capsys.readouterr().err
    assert f"{data}, column 'doctors'" in error and "same value for every unit" in error


def test_cli_dea_fills_missing_values_on_request(hospitals: pd.DataFrame, tmp_path: Path) -> None:
    # Three periods; A's outpatients are missing in the middle one and lie halfway
    # between its values in the first and last (100 and 120), so they are filled as 110.
    periods = [
        hospitals.assign(year=y, outpat=hospitals["outpat"] + k * 10)
        for k, y in enumerate((2019, 2020, 2021))
    ]
    panel = pd.concat(periods).rename_axis("hospital").astype({"outpat": object})
    a_2020 = (panel.index == "A") & (panel["year"] == 2020)
    expected = float(hospitals.loc["A", "outpat"] + 10)
    panel.loc[a_2020, "outpat"] = ""
    data = tmp_path / "panel.csv"
    panel.to_csv(data)
    args = dea_args(data, tmp_path / "dea", "--time", "year", "--year", "2020", "--no-super")
    assert main(args) == 2  # by default a missing value is an error
    assert main([*args, "--missing", "linear"]) == 0
    filled = pd.read_csv(tmp_path / "dea" / "filled_cells.csv")
    assert filled.to_dict("records") == [
        {"unit": "A", "period": 2020, "column": "outpat", "value": expected}
    ]
    # The 2020 scores are those of the complete 2020 cross-section (filled by hand).
    complete = hospitals.assign(outpat=hospitals["outpat"] + 10)
    by_hand = dea(complete[["doctors", "nurses"]], complete[["outpat", "inpat"]], rts="crs")
    written = pd.read_csv(tmp_path / "dea" / "efficiency.csv", index_col="unit")
    # Same LPs on the same numbers; the CSV keeps full precision (repr of floats).
    np.testing.assert_allclose(written["crs"], by_hand.efficiency["crs"], rtol=1e-12)
    assert (
        "Filled by linear interpolation (1 cells): A 2020 outpat"
        in (tmp_path / "dea" / "summary.md").read_text()
    )
    metadata = json.loads((tmp_path / "dea" / "metadata.json").read_text())
    assert metadata["config"]["missing"] == "linear"


def test_cli_dea_refuses_an_output_directory_holding_its_input(
    hospitals: pd.DataFrame, tmp_path: Path, capsys
) -> None:
    data = tmp_path / "hospitals.csv"
    hospitals.rename_axis("hospital").to_csv(data)
    before = data.read_bytes()
    assert main(dea_args(data, tmp_path)) == 2  # refused before any computing
    assert data.read_bytes() == before
    assert "contains the input" in capsys.readouterr().err


def test_write_is_usable_without_the_cli(hospitals: pd.DataFrame, tmp_path: Path) -> None:
    result = dea(hospitals[["doctors", "nurses"]], hospitals[["outpat", "inpat"]], rts="crs")
    written = result.write(tmp_path / "out", config={"source": "test"})
    names = {"efficiency", "targets"}
    expected = {f"{n}.{ext}" for n in names for ext in ("csv", "md", "tex")}
    expected |= {"lambdas.csv", "summary.json", "summary.md", "metadata.json"}
    assert sorted(p.name for p in written) == sorted(expected)
    assert {p.name for p in (tmp_path / "out").iterdir()} == expected
    text = (tmp_path / "out" / "summary.md").read_text()
    assert "Mean comprehensive technical efficiency (CRS)" in text
    # The written summary carries the published CCR scores' mean and efficient count.
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["n_efficient"] == sum(v == 1.0 for v in CST_CCR.values())
    assert summary["mean_crs"] == pytest.approx(np.mean(list(CST_CCR.values())), abs=1e-4)
    metadata = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert metadata["config"]["source"] == "test"


# --------------------------------------------------------------------------------------
# result objects: summaries, files, the efficiency stage


def hospital_panel(hospitals: pd.DataFrame) -> pd.DataFrame:
    """Two years of the hospitals; in 2021 every output is 10% higher.

    Under CRS the frontier moves out by exactly 10% and each hospital keeps its place
    relative to it, so the 2021 CCR scores are the published ones and the Malmquist
    index is tfpch = techch = 1.1 with effch = pech = sech = 1 for every hospital.
    """
    later = hospitals.assign(outpat=hospitals["outpat"] * 1.1, inpat=hospitals["inpat"] * 1.1)
    return pd.concat([hospitals.assign(year=2020), later.assign(year=2021)]).reset_index()


def test_summary_renders_the_published_scores_in_every_format(hospitals: pd.DataFrame) -> None:
    with pytest.warns(DataWarning, match="super-efficiency"):
        result = dea(hospitals[["doctors", "nurses"]], hospitals[["outpat", "inpat"]])
    summary = result.summary()
    mean = f"{np.mean(list(CST_CCR.values())):.3f}"
    assert summary.lines[:2] == [
        "Units: 12 (input orientation)",
        f"Mean comprehensive technical efficiency (CRS): {mean}",
    ]
    assert "DEA efficient (CRS score = 1): 3 of 12 (25.0%), of which 3 with zero slacks" in (
        summary.lines
    )
    assert summary.facts["Units"] == 12 and summary.facts["Inputs"] == ["doctors", "nurses"]
    renderings = {
        "text": str(summary),
        "html": summary._repr_html_(),
        "markdown": summary.to_markdown(),
        "latex": summary.to_latex(),
    }
    for name, text in renderings.items():
        assert f"Mean comprehensive technical efficiency (CRS): {mean}" in text, name
        assert "3 of 12" in text, name
        # The table of scores holds each hospital's published CCR score (4 decimals).
        for published in (CST_CCR["C"], CST_CCR["E"], CST_CCR["L"]):
            assert f"{published:.4f}" in text, name
    assert renderings["latex"].count(r"\begin{table}") == 2  # facts and scores
    assert "<li>Units: 12 (input orientation)</li>" in renderings["html"]


def test_efficiency_analysis_is_the_dea_of_one_year_and_the_malmquist_index(
    hospitals: pd.DataFrame,
) -> None:
    panel = hospital_panel(hospitals).rename(columns={"year": "period"})
    settings = DEASettings(
        year=2021, inputs=["doctors", "nurses"], outputs=["outpat", "inpat"], rts="crs"
    )
    efficiency = efficiency_analysis(panel, settings)
    assert efficiency.periods == [2021] and not efficiency.is_panel
    scores = efficiency.cross_section().efficiency["crs"]
    for unit, published in CST_CCR.items():
        assert abs(scores[unit] - published) < PUBLISHED, unit
    index = efficiency.malmquist.table
    np.testing.assert_allclose(index["tfpch"], 1.1, rtol=1e-7)
    np.testing.assert_allclose(index[["effch", "pech", "sech"]], 1.0, rtol=1e-7)
    line = (
        "Malmquist index 2020-2021 (geometric mean over units and years, > 1 is growth): "
        "TFP change 1.1000 = efficiency change 1.0000 x technical change 1.1000."
    )
    assert efficiency.summary().lines[-1] == line
    assert efficiency.malmquist.summary().lines == [line]
    assert efficiency.malmquist.summary().facts == {
        "Units": 12,
        "Periods": "2020-2021 (2)",
        "Orientation": "input",
    }
    with pytest.raises(ConfigError, match=r"\[dea\] year = 2019 is not a period of the panel"):
        efficiency_analysis(panel, dataclasses.replace(settings, year=2019))


def test_efficiency_of_a_panel_writes_every_file(hospitals: pd.DataFrame, tmp_path: Path) -> None:
    panel = hospital_panel(hospitals)
    options = {"unit": "unit", "time": "year", "inputs": ["doctors", "nurses"]}
    options["outputs"] = ["outpat", "inpat"]
    with pytest.warns(DataWarning):
        by_year = dea_panel(panel, **options)
    index = malmquist(panel, **options)
    filled = pd.DataFrame([{"unit": "A", "period": 2021, "column": "outpat", "value": 110.0}])
    efficiency = Efficiency(by_year.results, malmquist=index, filled=filled)
    assert efficiency.periods == [2020, 2021] and efficiency.is_panel
    # Each period is scored against its own frontier: in 2021 (outputs scaled by 1.1)
    # the CCR scores are still the published ones.
    scores = efficiency.cross_section(2021).efficiency["crs"]
    for unit, published in CST_CCR.items():
        assert abs(scores[unit] - published) < PUBLISHED, unit
    with pytest.raises(KeyError, match="periods: \\[2020, 2021\\]"):
        efficiency.cross_section()

    written = efficiency.write(tmp_path / "out", config={"source": "test"})
    expected = {
        f"{stem}.{ext}"
        for stem in ("efficiency", "targets", "malmquist")
        for ext in ("csv", "md", "tex")
    }
    expected |= {"lambdas.csv", "filled_cells.csv", "summary.json", "summary.md"}
    expected |= {"metadata.json"}
    assert sorted(p.name for p in written) == sorted(expected)
    assert {p.name for p in (tmp_path / "out").iterdir()} == expected
    table = pd.read_csv(tmp_path / "out" / "efficiency.csv")
    assert table.groupby("period").size().to_dict() == {2020: 12, 2021: 12}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [entry["period"] for entry in summary["by_period"]] == [2020, 2021]
    assert summary["malmquist"]["overall"]["techch"] == pytest.approx(1.1)
    assert summary["n_filled_cells"] == 1
    metadata = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert metadata["config"]["periods"] == [2020, 2021] and "period" not in metadata["config"]
    report = (tmp_path / "out" / "summary.md").read_text()
    assert "## DEA summary, period 2020" in report and "- techch: 1.1000" in report
    assert "Filled by linear interpolation (1 cells): A 2021 outpat." in report

    summary = efficiency.summary()
    assert summary.facts["Periods"] == [2020, 2021]
    assert "2021: DEA efficient (CRS score = 1): 3 of 12 (25.0%), of which 3 with zero slacks" in (
        summary.lines
    )
    means = summary.tables[-1].frame.set_index("periods")
    assert means.loc["overall", "tfpch"] == pytest.approx(1.1)
    assert "1.1000" in summary.to_markdown() and "1.1000" in str(summary)


def test_keyword_defaults_are_the_settings_defaults() -> None:
    for function in (dea, dea_panel):
        parameters = inspect.signature(function).parameters
        for name in ("orientation", "rts", "super_efficiency"):
            assert parameters[name].default == DEASettings.default(name), (function, name)
    default = inspect.signature(malmquist).parameters["orientation"].default
    assert default == DEASettings.default("orientation")
