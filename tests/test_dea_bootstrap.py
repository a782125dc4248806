"""Tests of the Simar-Wilson (1998) bootstrap of DEA efficiency.

Against a hand-worked bandwidth, against an independent and deliberately simple
implementation of the textbook algorithm (one ``linprog`` call per unit and
replication, its own random stream) on the published hospital example of Cooper,
Seiford & Tone (2007), and, in the slow tier, by the coverage of the intervals on data
simulated from a known frontier.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from bayes_ccd.cli import main
from bayes_ccd.efficiency.bootstrap import (
    dea_bootstrap,
    normal_reference_bandwidth,
    rts_test,
    smoothed_distances,
)
from bayes_ccd.efficiency.model import dea
from bayes_ccd.exceptions import ConfigError, DataError

REFERENCE = Path(__file__).resolve().parent / "data" / "reference"
#: Monte Carlo tolerance in standard errors: two independent runs of B replications
#: differ by more than 4 standard errors of their difference with probability 6e-5.
MC_SIGMAS = 4.0


def hospitals() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 12 hospitals of Cooper, Seiford & Tone (2007), with the book's two cells."""
    frame = pd.read_csv(REFERENCE / "hospital_cst.csv").set_index("hospital")
    frame.index.name = "unit"
    frame.loc["I", "outpat"], frame.loc["K", "outpat"] = 190, 260  # see test_efficiency
    return frame[["doctors", "nurses"]].astype(float), frame[["outpat", "inpat"]].astype(float)


# --------------------------------------------------------------------------------------
# an independent implementation of the textbook algorithm


def distance(xo: np.ndarray, yo: np.ndarray, x: np.ndarray, y: np.ndarray, orientation, rts):
    """Shephard input distance 1/theta or Farrell output phi of (xo, yo) against (x, y)."""
    n = len(x)
    eq = {"A_eq": np.r_[0.0, np.ones(n)][None, :], "b_eq": [1.0]} if rts == "vrs" else {}
    if orientation == "input":  # min theta: x' lam <= theta xo, y' lam >= yo
        a_ub = np.vstack([np.c_[-xo, x.T], np.c_[np.zeros(len(yo)), -y.T]])
        b_ub = np.r_[np.zeros(len(xo)), -yo]
        res = linprog(np.r_[1.0, np.zeros(n)], A_ub=a_ub, b_ub=b_ub, method="highs", **eq)
        return 1 / res.x[0]
    a_ub = np.vstack([np.c_[np.zeros(len(xo)), x.T], np.c_[yo, -y.T]])
    b_ub = np.r_[xo, np.zeros(len(yo))]
    res = linprog(np.r_[-1.0, np.zeros(n)], A_ub=a_ub, b_ub=b_ub, method="highs", **eq)
    return res.x[0]


def reference_sw98(x, y, orientation, rts, replications, seed, prob=0.95):
    """Simar & Wilson (1998) as written in the paper, one LP at a time."""
    rng = np.random.default_rng(seed)
    n = len(x)
    delta = np.array([distance(x[i], y[i], x, y, orientation, rts) for i in range(n)])
    delta[np.abs(delta - 1) < 1e-6] = 1.0
    inefficient = [d for d in delta if d > 1 + 1e-6]
    pooled = inefficient + [2 - d for d in inefficient]
    q1, _, q3 = statistics.quantiles(pooled, n=4, method="inclusive")
    s2 = statistics.stdev(pooled)
    h = (
        0.9
        * min(s2, (q3 - q1) / 1.349)
        * len(pooled) ** -0.2
        * (len(pooled) / n) ** 0.2
        * statistics.stdev(delta)
        / s2
    )
    both = np.r_[delta, 2 - delta]
    variance = statistics.variance(both)
    boot = np.empty((replications, n))
    for b in range(replications):
        beta = both[rng.integers(0, 2 * n, size=n)]
        centre = beta.mean()
        star = centre + (beta + h * rng.normal(size=n) - centre) / np.sqrt(1 + h**2 / variance)
        star = np.where(star < 1, 2 - star, star)
        xb = x * (star / delta)[:, None] if orientation == "input" else x
        yb = y if orientation == "input" else y * (delta / star)[:, None]
        for i in range(n):
            boot[b, i] = distance(x[i], y[i], xb, yb, orientation, rts)
    alpha = 1 - prob
    return {
        "delta": delta,
        "h": h,
        "boot": boot,
        "corrected": 2 * delta - boot.mean(axis=0),
        "upper_delta": delta - np.quantile(boot - delta, alpha / 2, axis=0),
        "lower_delta": delta - np.quantile(boot - delta, 1 - alpha / 2, axis=0),
    }


# --------------------------------------------------------------------------------------
# unit tests


def test_bandwidth_is_the_normal_reference_rule_by_hand() -> None:
    # Inefficient distances 1.25, 1.5, 2 and their reflections 0.75, 0.5, 0: six values
    # with mean 1, variance 2.625 / 5 = 0.525 and (linear) quartiles 0.5625 and 1.4375,
    # IQR 0.875, and 0.875 / 1.349 < sqrt(0.525). The five distances have variance 0.175.
    # h = 0.9 (0.875/1.349) 6^(-1/5) (6/5)^(1/5) sqrt(0.175/0.525), and
    # 6^(-1/5) (6/5)^(1/5) = 5^(-1/5).
    expected = 0.9 * (0.875 / 1.349) * 5**-0.2 * np.sqrt(0.175 / 0.525)
    h = normal_reference_bandwidth(np.array([1.0, 1.0, 1.25, 1.5, 2.0]))
    assert h == pytest.approx(expected, rel=1e-12)


def test_bandwidth_needs_two_inefficient_units() -> None:
    with pytest.raises(DataError, match="at least two inefficient units"):
        normal_reference_bandwidth(np.array([1.0, 1.0, 1.3]))


def test_smoothed_distances_are_reflected_above_one_and_seeded() -> None:
    delta = np.array([1.0, 1.0, 1.1, 1.4, 1.2, 1.05])
    draws = smoothed_distances(delta, 0.05, 500, np.random.default_rng(3))
    assert draws.shape == (500, 6)
    assert (draws >= 1).all()
    again = smoothed_distances(delta, 0.05, 500, np.random.default_rng(3))
    np.testing.assert_array_equal(draws, again)
    # The rescaling keeps the variance of the reflected set (Simar & Wilson 1998):
    # the unreflected draws are symmetric about about 1, so E|d - 1|^2 is that variance.
    variance = np.var(np.r_[delta, 2 - delta], ddof=1)
    assert np.mean((draws - 1) ** 2) == pytest.approx(variance, rel=0.1)


def test_same_seed_same_result_other_seed_other_draws() -> None:
    inputs, outputs = hospitals()
    one = dea_bootstrap(inputs, outputs, rts="crs", replications=40, seed=5)
    two = dea_bootstrap(inputs, outputs, rts="crs", replications=40, seed=5)
    other = dea_bootstrap(inputs, outputs, rts="crs", replications=40, seed=6)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert not np.allclose(one.draws["crs"], other.draws["crs"])
    assert one.config["seed"] == 5 and one.config["replications"] == 40


def test_bad_options_are_config_errors() -> None:
    inputs, outputs = hospitals()
    with pytest.raises(ConfigError, match="replications"):
        dea_bootstrap(inputs, outputs, replications=3)
    with pytest.raises(ConfigError, match="orientation"):
        dea_bootstrap(inputs, outputs, orientation="sideways")


@pytest.mark.parametrize(("orientation", "rts"), [("input", "crs"), ("output", "vrs")])
def test_agrees_with_an_independent_implementation_on_the_hospitals(
    orientation: str, rts: str
) -> None:
    replications = 300
    inputs, outputs = hospitals()
    ours = dea_bootstrap(
        inputs, outputs, orientation=orientation, rts=rts, replications=replications, seed=1
    )
    theirs = reference_sw98(
        inputs.to_numpy(), outputs.to_numpy(), orientation, rts, replications, seed=2
    )
    table = ours.table
    # Deterministic parts: the DEA distances and the bandwidth agree to solver precision.
    np.testing.assert_allclose(1 / table["efficiency"], theirs["delta"], atol=1e-7)
    assert ours.config["bandwidth"][rts] == pytest.approx(theirs["h"], rel=1e-9)
    # Bias-corrected distances are means of B draws: independent runs differ by
    # N(0, sd_1^2/B + sd_2^2/B); allow MC_SIGMAS standard errors.
    our_boot = 1 / ours.draws[rts]
    se = np.sqrt((our_boot.var(axis=0) + theirs["boot"].var(axis=0)) / replications)
    difference = np.abs(1 / table["bias_corrected"] - theirs["corrected"])
    assert (difference <= MC_SIGMAS * se + 1e-9).all()
    # Interval ends are empirical quantiles of B draws: at the other run's end, our
    # empirical distribution function differs from the level p by about
    # N(0, 2 p (1 - p) / B) (the binomial error of each of two independent runs).
    delta = 1 / table["efficiency"].to_numpy()
    ours_d = our_boot - delta
    for level, end in ((0.975, "lower_delta"), (0.025, "upper_delta")):
        cut = delta - theirs[end]  # their quantile of boot - delta at `level`
        reached = (ours_d <= cut).mean(axis=0)
        tolerance = MC_SIGMAS * np.sqrt(2 * level * (1 - level) / replications) + 1 / replications
        assert (np.abs(reached - level) <= tolerance).all(), (level, reached)
    # Our reported interval is that of our own draws, on the efficiency scale.
    low, high = np.quantile(ours_d, [0.025, 0.975], axis=0)
    np.testing.assert_allclose(table["lower"], 1 / (delta - low), rtol=1e-12)
    np.testing.assert_allclose(table["upper"], 1 / (delta - high), rtol=1e-12)
    assert (table["lower"] <= table["bias_corrected"] + 1e-12).all()


def test_result_summary_and_files(tmp_path: Path) -> None:
    inputs, outputs = hospitals()
    boot = dea_bootstrap(inputs, outputs, replications=30, seed=1)
    assert set(boot.table["model"]) == {"crs", "vrs"}
    assert len(boot.table) == 24
    lines = boot.headline_lines()
    assert len(lines) == 3 and "30 replications" in lines[0]
    assert lines[2].startswith("Test of constant returns to scale")
    written = boot.write(tmp_path)
    names = {p.name for p in written}
    assert {"bootstrap.csv", "bootstrap.md", "bootstrap.tex", "bootstrap_intervals.png"} <= names
    back = pd.read_csv(tmp_path / "bootstrap.csv")
    assert list(back.columns[:8]) == [
        "model",
        "unit",
        "efficiency",
        "bias_corrected",
        "bias",
        "std_error",
        "lower",
        "upper",
    ]


def test_cli_dea_bootstrap_writes_the_table_and_figure(tmp_path: Path, capsys) -> None:
    inputs, outputs = hospitals()
    data = tmp_path / "h.csv"
    pd.concat([inputs, outputs], axis=1).reset_index().to_csv(data, index=False)
    out = tmp_path / "out"
    args = ["dea", "--data", str(data), "--unit", "unit", "--inputs", "doctors,nurses"]
    args += ["--outputs", "outpat,inpat", "--out", str(out), "--no-super"]
    assert main([*args, "--bootstrap", "--replications", "25", "--seed", "3"]) == 0
    assert (out / "bootstrap.csv").exists() and (out / "bootstrap_intervals.png").exists()
    assert "Bootstrap CRS" in capsys.readouterr().out
    panel = tmp_path / "p.csv"
    frame = pd.concat([inputs, outputs], axis=1).reset_index()
    pd.concat([frame.assign(t=1), frame.assign(t=2)]).to_csv(panel, index=False)
    bad = ["dea", "--data", str(panel), "--unit", "unit", "--time", "t"]
    bad += ["--inputs", "doctors,nurses", "--outputs", "outpat,inpat", "--out", str(tmp_path / "x")]
    assert main([*bad, "--bootstrap"]) == 2
    assert "--year" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# slow: coverage on a known frontier


#: Coverage of the 95% intervals in the design of the test below (n = 100, B = 300),
#: from benchmarks/study_bootstrap_coverage.py: 24 data sets drawn the
#: same way with other seeds; mean over data sets and its Monte Carlo standard error
#: (between-data-set sd 0.143 / sqrt(24)). See the Notes of ``dea_bootstrap``.
REFERENCE_COVERAGE, REFERENCE_SE = 0.827, 0.029


@pytest.mark.slow
def test_intervals_cover_the_true_efficiency_at_the_rate_the_method_attains() -> None:
    # Two inputs, one output on the CRS frontier y = sqrt(x1 x2); true input efficiency
    # exp(-u), u half-normal (sd 0.3), independent of the inputs (the homogeneous case
    # the smoothed bootstrap assumes); 100 units, 6 data sets, 300 replications each.
    # The Simar-Wilson (1998) percentile intervals under-cover in samples of this size:
    # the reference study above finds 0.827 (MC se 0.029) against the nominal 0.95. The data
    # sets, not the units, are the independent draws (units of one data set share
    # its estimated frontier: per-data-set rates range from below 0.5 to 1), so the
    # Monte Carlo error is the between-data-set one. A broken bandwidth, reflection or
    # sign gives far less, or a degenerate 1.0.
    rng = np.random.default_rng(1)
    rates, dea_error, corrected_error = [], [], []
    for trial in range(6):
        x_frontier = rng.uniform(1, 10, size=(100, 2))
        y = np.sqrt(x_frontier.prod(axis=1))[:, None]
        truth = np.exp(-np.abs(rng.normal(0, 0.3, size=100)))
        x = x_frontier / truth[:, None]
        index = pd.Index([f"u{i}" for i in range(100)], name="unit")
        table = dea_bootstrap(
            pd.DataFrame(x, index=index, columns=["x1", "x2"]),
            pd.DataFrame(y, index=index, columns=["y"]),
            rts="crs",
            replications=300,
            seed=trial,
        ).table
        rates.append(float(((table["lower"] <= truth) & (truth <= table["upper"])).mean()))
        dea_error += list(table["efficiency"] - truth)
        corrected_error += list(table["bias_corrected"] - truth)
    coverage = float(np.mean(rates))
    se = float(np.std(rates, ddof=1) / np.sqrt(len(rates)))
    print(f"coverage of the 95% intervals: {coverage:.3f} (MC se {se:.3f}, 6 data sets)")
    # The test's mean and the reference mean differ by N(0, se^2 + REFERENCE_SE^2).
    assert abs(coverage - REFERENCE_COVERAGE) <= 3.5 * np.hypot(se, REFERENCE_SE)
    assert 0.6 < coverage < 0.99
    # DEA overstates efficiency (its frontier lies inside the true one); the bias
    # correction removes most of that.
    assert np.mean(dea_error) > 0
    assert abs(np.mean(corrected_error)) < 0.5 * np.mean(dea_error)


# --------------------------------------------------------------------------------------
# the Simar-Wilson (2002) test of returns to scale


def one_input_units(n: int, power: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One input, one output on the frontier y = x^power, input efficiency exp(-u)."""
    rng = np.random.default_rng(seed)
    x_frontier = rng.uniform(1, 10, size=n)
    truth = np.exp(-np.abs(rng.normal(0, 0.3, size=n)))
    index = pd.Index([f"u{i}" for i in range(n)], name="unit")
    return (
        pd.DataFrame({"x": x_frontier / truth}, index=index),
        pd.DataFrame({"y": x_frontier**power}, index=index),
    )


def test_rts_statistic_is_the_ratio_of_mean_crs_to_mean_vrs_efficiency() -> None:
    inputs, outputs = hospitals()
    scores = dea(inputs, outputs, rts="both", super_efficiency=False).efficiency
    test = rts_test(inputs, outputs, replications=20, seed=4)
    assert test.statistic == pytest.approx(scores["crs"].sum() / scores["vrs"].sum(), rel=1e-9)
    assert test.draws.shape == (20,)
    assert test.p_value == pytest.approx(np.mean(test.draws <= test.statistic))
    again = rts_test(inputs, outputs, replications=20, seed=4)
    np.testing.assert_array_equal(test.draws, again.draws)
    assert "S = " in test.headline()


@pytest.mark.slow
def test_rts_test_rejects_decreasing_returns_and_keeps_constant_ones() -> None:
    # y = x^0.5 on x in [1, 10] is far from CRS: S is well below every bootstrap
    # draw under CRS. On y = x (CRS) the p-value is uniform under H0, so with this
    # fixed seed it is checked to be above 0.01 (a false alarm would have probability
    # 0.01 for a fresh seed).
    for power, orientation in ((0.5, "input"), (0.5, "output")):
        inputs, outputs = one_input_units(60, power, seed=3)
        result = rts_test(inputs, outputs, orientation=orientation, replications=200, seed=1)
        assert result.p_value < 0.01, (power, orientation, result.p_value)
    inputs, outputs = one_input_units(60, 1.0, seed=3)
    result = rts_test(inputs, outputs, replications=200, seed=1)
    assert result.p_value > 0.01


def test_bootstrap_of_both_models_runs_the_same_rts_test(tmp_path: Path) -> None:
    # dea_bootstrap draws the CRS pseudo data first from its seed, as rts_test does,
    # so with the same seed the two give the same statistic and the same draws.
    inputs, outputs = hospitals()
    boot = dea_bootstrap(inputs, outputs, replications=25, seed=9)
    alone = rts_test(inputs, outputs, replications=25, seed=9)
    assert boot.rts_test is not None
    assert boot.rts_test.statistic == pytest.approx(alone.statistic, rel=1e-12)
    np.testing.assert_allclose(boot.rts_test.draws, alone.draws, rtol=1e-12)
    assert boot.rts_test.p_value == alone.p_value
    assert any(line.startswith("Test of constant returns") for line in boot.headline_lines())
    boot.write(tmp_path, figures=False)
    written = json.loads((tmp_path / "rts_test.json").read_text())
    assert written["p_value"] == alone.p_value and written["replications"] == 25
    assert written["statistic"] == pytest.approx(alone.statistic, rel=1e-12)
    assert dea_bootstrap(inputs, outputs, rts="crs", replications=25, seed=9).rts_test is None
