"""Tests of the fsQCA robustness grid (Oana & Schneider 2021) on the Lipset data.

The grid's size and its left-out anchor moves are counted by hand, and the fit of the
base solution on a perturbed calibration is recomputed here from Ragin's formulas
(log-odds 3 at the anchors, consistency sum min(X, Y) / sum X, coverage
sum min(X, Y) / sum Y), independently of the package's calibration and measures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.cli import main
from bayes_ccd.exceptions import ConfigError
from bayes_ccd.qca.robustness import qca_robustness
from bayes_ccd.settings import QCASettings

REFERENCE = Path(__file__).resolve().parent / "data" / "reference"
LIPSET = ["DEV", "URB", "LIT", "IND", "STB"]
ANCHORS = {
    "DEV": (900, 550, 400),
    "URB": (65, 50, 25),
    "LIT": (90, 75, 50),
    "IND": (40, 30, 20),
    "STB": (5, 9.5, 15),
}


def lipset() -> tuple[pd.DataFrame, QCASettings]:
    raw = pd.read_csv(REFERENCE / "LR.csv", index_col="case")
    raw["SURV"] = pd.read_csv(REFERENCE / "LF.csv", index_col="case")["SURV"]
    settings = QCASettings(
        outcome="SURV",
        conditions=LIPSET,
        calibration="none",
        anchors={c: list(a) for c, a in ANCHORS.items()},
        dir_exp=LIPSET,
    )
    return raw, settings


@pytest.fixture(scope="module")
def robustness():
    raw, settings = lipset()
    return raw, qca_robustness(raw, settings)


def ragin(x: np.ndarray, full: float, crossover: float, non: float) -> np.ndarray:
    """Ragin's (2008, ch. 5) direct method written out: log-odds 3 at full and non."""
    up = full > crossover
    d = (x - crossover) if up else (crossover - x)
    scale = np.where(d >= 0, 3 / abs(full - crossover), 3 / abs(crossover - non))
    odds = np.exp(d * scale)
    return odds / (1 + odds)


def test_grid_has_the_counted_variants(robustness) -> None:
    _, result = robustness
    variants = result.variants
    # 5 calibrated conditions x 3 anchors x 2 directions; SURV is a membership already.
    assert (variants["variant"] == "calibration").sum() == 30
    # consistency {0.75, 0.8, 0.85} x PRI {0, 0.05} x n {1, 2}, less the base (0.8, 0, 1)
    assert (variants["variant"] == "cut-offs").sum() == 3 * 2 * 2 - 1
    assert result.skipped == ()
    assert (variants["status"] == "ok").all()


def test_base_fit_on_a_moved_anchor_equals_the_hand_computation(robustness) -> None:
    raw, result = robustness
    # DEV's crossover moved up by 0.1 of DEV's range.
    span = raw["DEV"].max() - raw["DEV"].min()
    memberships = {c: ragin(raw[c].to_numpy(float), *ANCHORS[c]) for c in LIPSET}
    memberships["DEV"] = ragin(raw["DEV"].to_numpy(float), 900, 550 + 0.1 * span, 400)
    # Values exactly 0.5 are nudged by 0.001 (Fiss 2011), as in the analysis itself.
    for c in LIPSET:
        m = memberships[c]
        memberships[c] = np.where(m == 0.5, 0.501, m)
    y = raw["SURV"].to_numpy(float)
    # The base intermediate model: DEV*URB*LIT*STB + DEV*LIT*~IND*STB.
    d, u, li, i, s = (memberships[c] for c in LIPSET)
    model = np.maximum(np.minimum.reduce([d, u, li, s]), np.minimum.reduce([d, li, 1 - i, s]))
    row = result.variants.set_index("change").loc["DEV crossover +0.1 range"]
    assert row["base_consistency"] == pytest.approx(np.minimum(model, y).sum() / model.sum())
    assert row["base_coverage"] == pytest.approx(np.minimum(model, y).sum() / y.sum())


def test_table_shares_count_the_variants(robustness) -> None:
    _, result = robustness
    table = result.table()
    base = table[(table["kind"] == "model") & table["in_base"]].iloc[0]
    assert base["expression"] == "DEV*URB*LIT*STB + DEV*LIT*~IND*STB"
    found = result.variants["models"].map(lambda models: base["expression"] in models)
    assert base["share"] == pytest.approx(found.mean())
    terms = table[table["kind"] == "term"]
    assert set(terms.loc[terms["in_base"], "expression"]) == {"DEV*URB*LIT*STB", "DEV*LIT*~IND*STB"}
    assert ((table["share"] >= 0) & (table["share"] <= 1)).all()


def test_moves_that_break_the_order_are_left_out() -> None:
    raw, settings = lipset()
    # STB raw values run from 2 to 21 (range 19): 0.3 of it is 5.7. Its anchors are
    # decreasing (full 5 < crossover 9.5 < non 15): the full anchor moved up (10.7) and
    # the non anchor moved down (9.3) pass the crossover, the crossover moved down (3.8)
    # passes full and moved up (15.2) passes non; full down (-0.7) and non up (20.7) keep
    # the order.
    result = qca_robustness(raw, settings, shift=0.3, incl_cuts=[0.8], pri_cuts=[0.0], n_cuts=[1])
    assert raw["STB"].max() - raw["STB"].min() == 19
    stb = {s for s in result.skipped if s.startswith("STB")}
    assert stb == {
        "STB crossover -0.3 range",
        "STB crossover +0.3 range",
        "STB full +0.3 range",
        "STB non -0.3 range",
    }


def test_bad_grid_settings() -> None:
    raw, settings = lipset()
    with pytest.raises(ConfigError, match="robustness_shift"):
        qca_robustness(raw, settings, shift=1.5)
    with pytest.raises(ConfigError, match="robustness_solution"):
        qca_robustness(raw, settings, solution="best")


def test_writes_the_table_and_figure(robustness, tmp_path: Path) -> None:
    _, result = robustness
    names = {p.name for p in result.write(tmp_path)}
    assert {"robustness.csv", "robustness.md", "robustness_variants.csv", "robustness.png"} <= names
    assert len(result.headline_lines()) >= 3


def test_cli_qca_robustness(tmp_path: Path, capsys) -> None:
    raw, _ = lipset()
    data = tmp_path / "lipset.csv"
    raw.reset_index().to_csv(data, index=False)
    anchors = tmp_path / "anchors.csv"
    anchors.write_text(
        "column,full,crossover,non\n"
        + "".join(f"{c},{f},{x},{n}\n" for c, (f, x, n) in ANCHORS.items())
    )
    out = tmp_path / "out"
    args = ["qca", "--data", str(data), "--case", "case", "--outcome", "SURV"]
    args += ["--conditions", ",".join(LIPSET), "--calibrate", str(anchors)]
    code = main([*args, "--dir-exp", ",".join(LIPSET), "--robustness", "--out", str(out)])
    assert code == 0
    assert (out / "robustness.csv").is_file() and (out / "robustness.png").is_file()
    assert "Base model DEV*URB*LIT*STB + DEV*LIT*~IND*STB appears in" in capsys.readouterr().out


def test_variants_without_a_solution_are_recorded_not_fatal() -> None:
    raw, settings = lipset()
    # A PRI cut-off of 1 leaves no positive row: that variant has no solution.
    result = qca_robustness(raw, settings, incl_cuts=[0.8], pri_cuts=[0.0, 1.0], n_cuts=[1])
    failed = result.variants[result.variants["status"] != "ok"]
    assert list(failed["change"]) == ["incl 0.8, PRI 1, n 1"]
    assert failed["status"].iloc[0].startswith("no solution")
    table = result.table()
    base = table[(table["kind"] == "model") & table["in_base"]].iloc[0]
    # present in the 30 calibration variants it survives, absent from the failed one
    assert base["share_cutoffs"] == 0.0
