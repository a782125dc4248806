"""What R's QCA users look for (issue 15, items 4 and 5), each against a hand-worked case.

Calibration log-odds, crisp calibration from thresholds (against the published crisp
Lipset data), a negated outcome, unique coverage of a one-term model, a console
summary of many tied models, and a time limit of the minimisation.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.cli import main
from bayes_ccd.exceptions import ConfigError, EstimationError
from bayes_ccd.qca.calibration import calibrate_crisp
from bayes_ccd.qca.minimise import minimum_covers
from bayes_ccd.qca.result import solution_lines
from bayes_ccd.qca.solutions import configuration_analysis, fsqca
from bayes_ccd.settings import QCASettings

REFERENCE = Path(__file__).resolve().parent / "data" / "reference"
LIPSET = ["DEV", "URB", "LIT", "IND", "STB"]


def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"{name}.csv", index_col="case")


def crisp_cases() -> pd.DataFrame:
    """Two cases of each configuration of A and B; Y = A AND B (crisp)."""
    a = [0, 0, 0, 0, 1, 1, 1, 1]
    b = [0, 0, 1, 1, 0, 0, 1, 1]
    frame = pd.DataFrame({"A": a, "B": b}, index=[f"c{i}" for i in range(8)], dtype=float)
    frame["Y"] = frame["A"] * frame["B"]
    return frame


def test_log_odds_setting_reproduces_r_calibrate() -> None:
    # R's QCA calibrate: log-odds log(0.95/0.05) = log 19 at the anchors, so the full
    # anchor has membership 19/20 = 0.95 and the non anchor 1/20 = 0.05 (Ragin's 3
    # gives e^3/(1 + e^3) = 0.9526).
    cases = pd.DataFrame(
        {"x": [10.0, 4.0, 0.0, 7.5, 2.5, 6.0], "y": [0.9, 0.4, 0.1, 0.8, 0.2, 0.7]},
        index=list("abcdef"),
    )
    base = {"outcome": "y", "conditions": ["x"], "calibration": "none"}
    settings = QCASettings(**base, anchors={"x": [10, 5, 0]}, log_odds=math.log(0.95 / 0.05))
    result = configuration_analysis(cases, settings)
    memberships = result.truth_table.data["x"]
    assert memberships["a"] == pytest.approx(0.95, abs=1e-12)
    assert memberships["c"] == pytest.approx(0.05, abs=1e-12)
    ragin = configuration_analysis(cases, QCASettings(**base, anchors={"x": [10, 5, 0]}))
    assert ragin.truth_table.data["x"]["a"] == pytest.approx(math.exp(3) / (1 + math.exp(3)))
    with pytest.raises(ConfigError, match="log_odds"):
        QCASettings(log_odds=0)


def test_crisp_calibration_by_hand() -> None:
    np.testing.assert_array_equal(calibrate_crisp([1, 2, 3], 2), [0, 0, 1])
    np.testing.assert_array_equal(calibrate_crisp([1, 2, 3], 2, above=False), [1, 0, 0])


def test_crisp_thresholds_reproduce_the_published_crisp_lipset_data() -> None:
    # QCA's LC is LR split at DEV 550, URB 50, LIT 75, IND 30 and, for stability, fewer
    # than 10 cabinets (threshold 9.5, membership below it).
    raw = reference("LR")
    raw["SURV"] = reference("LC")["SURV"]
    settings = QCASettings(
        outcome="SURV",
        conditions=LIPSET,
        calibration="none",
        anchors={"DEV": [550], "URB": [50], "LIT": [75], "IND": [30], "STB": [9.5, "below"]},
    )
    result = configuration_analysis(raw, settings)
    pd.testing.assert_frame_equal(
        result.truth_table.data[LIPSET], reference("LC")[LIPSET].astype(float)
    )
    assert result.config["anchors"]["STB"] == [9.5, "below"]
    with pytest.raises(ConfigError, match="crisp threshold"):
        QCASettings(outcome="SURV", conditions=LIPSET, anchors={"DEV": [550, "sideways"]})


def test_negated_outcome_by_hand() -> None:
    # Y = A*B, so ~Y holds in rows 00, 01, 10: minimised, ~A + ~B (De Morgan).
    result = fsqca(crisp_cases(), "~Y", ["A", "B"])
    assert result.truth_table.outcome == "~Y"
    assert [m.expression for m in result.conservative.models] == ["~A + ~B"]
    assert [m.expression for m in result.parsimonious.models] == ["~A + ~B"]
    np.testing.assert_array_equal(result.truth_table.data["~Y"], 1 - crisp_cases()["Y"])


def test_negated_outcome_from_the_command_line(tmp_path: Path, capsys) -> None:
    data = tmp_path / "cases.csv"
    crisp_cases().rename_axis("case").reset_index().to_csv(data, index=False)
    out = tmp_path / "out"
    args = ["qca", "--data", str(data), "--case", "case", "--outcome", "~Y"]
    assert main([*args, "--conditions", "A,B", "--calibrated", "--out", str(out)]) == 0
    assert "~A + ~B" in capsys.readouterr().out


def test_unique_coverage_of_a_one_term_model_is_not_applicable() -> None:
    # Y = A: the solution is the single term A; nothing to be unique against.
    cases = crisp_cases().assign(Y=lambda f: f["A"])
    result = fsqca(cases, "Y", ["A", "B"])
    (model,) = result.parsimonious.models
    assert model.expression == "A"
    assert np.isnan(model.terms[0].unique_coverage)
    assert model.terms[0].raw_coverage == 1.0


def test_console_summary_counts_the_tied_models_it_does_not_print() -> None:
    # Cebotari and Vink's data: four tied parsimonious models (test_configurations).
    data = reference("CVF")
    result = fsqca(data, "PROTEST", ["DEMOC", "ETHFRACT", "GEOCON", "POLDIS", "NATPRIDE"])
    assert len(result.parsimonious.models) == 4
    lines = [line for line in solution_lines(result, max_models=1) if "parsimonious" in line]
    assert len(lines) == 2
    assert lines[1] == (
        "parsimonious: ... and 3 more tied models (4 in all, 4 distinct expressions; "
        "every one is in solutions.csv)"
    )


def test_time_limit_stops_the_minimisation_with_a_clear_message() -> None:
    # A cyclic chart (row i covered by implicants i and i+1) has no essential implicant,
    # so the search must branch: with no time at all it stops at the first node.
    chart = np.zeros((7, 7), dtype=bool)
    for i in range(7):
        chart[i, i] = chart[(i + 1) % 7, i] = True
    with pytest.raises(EstimationError, match=r"time limit of max_seconds=1e-09 s"):
        minimum_covers(chart, max_seconds=1e-9)
    covers, truncated = minimum_covers(chart)
    # the minimum vertex covers of a 7-cycle: 7 of size 4
    assert len(covers) == 7 and {len(c) for c in covers} == {4} and not truncated
    with pytest.raises(EstimationError, match=r"conservative solution: the time limit"):
        fsqca(crisp_cases(), "Y", ["A", "B"], max_seconds=1e-9)
    with pytest.raises(ConfigError, match="max_seconds"):
        QCASettings(max_seconds=0)


def test_every_conservative_parsimonious_pair_of_an_intermediate_model_is_listed() -> None:
    # Positive rows 000, 001, 011, 111, 110, 100 and negative 010, 101 (every row
    # observed, so no remainders): the prime implicants ~A~B, ~AC, BC, AB, A~C, ~B~C
    # form a cycle with two minimum covers, C1 and C2, and the parsimonious solution is
    # the same two models. Without remainders every pair minimises to both models, so
    # each intermediate model comes from both conservative models: C1Pj and C2Pj.
    rows = [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    frame = pd.DataFrame(rows, columns=["A", "B", "C"], index=[f"r{i}" for i in range(8)])
    frame["Y"] = [0.0 if r in ((0, 1, 0), (1, 0, 1)) else 1.0 for r in rows]
    result = fsqca(frame.astype(float), "Y", ["A", "B", "C"], dir_exp="A, B, C")
    assert len(result.conservative.models) == 2 and len(result.parsimonious.models) == 2
    labels = [m.pair_labels for m in result.intermediate.models]
    assert labels == ["C1P1, C2P1", "C1P1, C2P1", "C1P2, C2P2", "C1P2, C2P2"]
    lines = solution_lines(result)
    assert any(line.startswith("intermediate M1 (C1P1, C2P1): ") for line in lines)
