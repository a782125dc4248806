"""What R's QCA users look for (issue 15, items 4 and 5), each against a hand-worked case.

Calibration log-odds, crisp calibration from thresholds (against the published crisp
Lipset data), a negated outcome, unique coverage of a one-term model, a console
summary of many tied models, a time limit of the minimisation, every pair of an
intermediate model, and conjunctural directional expectations (also against R's
documented Lipset example).
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
from bayes_ccd.qca.solutions import (
    configuration_analysis,
    fsqca,
    parse_directional_expectations,
)
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


def observed_rows(positive: list[str], negative: list[str], names: list[str]) -> pd.DataFrame:
    """One crisp case per listed truth-table row (e.g. '1110'); Y = 1 on the positives."""
    rows = [(code, 1.0) for code in positive] + [(code, 0.0) for code in negative]
    frame = pd.DataFrame(
        [[float(bit) for bit in code] + [y] for code, y in rows],
        columns=[*names, "Y"],
        index=[f"r{code}" for code, _ in rows],
    )
    return frame


def intermediate_expressions(result) -> list[str]:
    return [m.expression for m in result.intermediate.models]


def test_conjunctural_expectation_against_a_hand_worked_truth_table() -> None:
    # Conditions A, B, C; one positive row 111, negatives 000 and 110, the other five
    # rows remainders. Parsimonious: C is the only one-literal term covering 111 and no
    # negative (A and B cover 110), so P = C, with simplifying assumptions 001, 011,
    # 101. Conservative: A*B*C; against P its literals A and B are not in C.
    # * ~A*B (conjunctural): A contradicts ~A, so both A and B go; shortened to C,
    #   every assumption is easy and the intermediate solution is C.
    # * ~A, B (two simple expectations): A goes, B stays; B*C makes 011 easy and
    #   111 + 011 = B*C.
    # * A*B (conjunctural, agreeing): both stay, no easy counterfactual: A*B*C.
    # * ~A*~B: both contradict, both go: C.
    data = observed_rows(["111"], ["000", "110"], ["A", "B", "C"])
    solved = {
        spec: fsqca(data, "Y", ["A", "B", "C"], incl_cut=1.0, dir_exp=spec)
        for spec in ("~A*B", "~A, B", "A*B", "~A*~B")
    }
    assert [m.expression for m in solved["~A*B"].parsimonious.models] == ["C"]
    assert [m.expression for m in solved["~A*B"].conservative.models] == ["A*B*C"]
    assert intermediate_expressions(solved["~A*B"]) == ["C"]
    assert solved["~A*B"].intermediate.models[0].counterfactuals == (0b001, 0b011, 0b101)
    assert intermediate_expressions(solved["~A, B"]) == ["B*C"]
    assert solved["~A, B"].intermediate.models[0].counterfactuals == (0b011,)
    assert intermediate_expressions(solved["A*B"]) == ["A*B*C"]
    assert intermediate_expressions(solved["~A*~B"]) == ["C"]
    assert solved["~A*B"].directional_expectations == ("~A*B",)


def test_simple_and_conjunctural_expectations_each_drop_their_literals() -> None:
    # Conditions A, B, C, D; positive 1110, negatives 0000 and 1100. As above, P = C
    # (A, B and ~D each cover a negative) and the conservative term is A*B*C*~D, whose
    # literals A, B, ~D are not in C.
    # * D, ~A*B: D drops ~D; ~A*B drops A and B (A contradicts it): C, every one of
    #   the seven assumptions (C-rows other than 1110) easy.
    # * D, A*B: D drops ~D, A*B keeps A and B: A*B*C, easy 1111; 1110 + 1111 = A*B*C.
    # * D alone: A and B have no expectation and stay: A*B*C again.
    data = observed_rows(["1110"], ["0000", "1100"], ["A", "B", "C", "D"])
    names = ["A", "B", "C", "D"]

    def solved(spec: str):
        return fsqca(data, "Y", names, incl_cut=1.0, dir_exp=spec)

    mixed = solved("D, ~A*B")
    assert [m.expression for m in mixed.parsimonious.models] == ["C"]
    assert intermediate_expressions(mixed) == ["C"]
    assert len(mixed.intermediate.models[0].counterfactuals) == 7
    agreeing = solved("D, A*B")
    assert intermediate_expressions(agreeing) == ["A*B*C"]
    assert agreeing.intermediate.models[0].counterfactuals == (0b1111,)
    assert intermediate_expressions(solved("D")) == ["A*B*C"]


def test_conjunctural_expectation_reproduces_the_documented_lipset_solution() -> None:
    # R's QCA documentation (minimize, QCA 3.22.1 examples): truthTable(LF, SURV,
    # incl.cut = 0.8) and dir.exp = "DEV, STB, ~LIT*IND" give the intermediate
    # M1: DEV*URB*STB + DEV*~IND*STB with inclS / PRI / covS / covU 0.901 0.879 0.468
    # 0.378 and 0.814 0.721 0.282 0.191, and the model 0.866 0.839 0.660.
    # By hand: C1 = DEV*URB*LIT*IND*STB + DEV*~URB*LIT*~IND*STB, P1 = DEV*~IND + URB*STB.
    # In DEV*URB*LIT*IND*STB against URB*STB, DEV agrees and LIT contradicts ~LIT*IND,
    # so LIT and IND go: DEV*URB*STB. In DEV*~URB*LIT*~IND*STB against DEV*~IND, STB
    # agrees, URB has no expectation, LIT contradicts: DEV*~URB*~IND*STB. The easy
    # counterfactuals 10001, 11001, 11011, 11101 then give the two terms.
    result = fsqca(
        reference("LF"), "SURV", LIPSET, incl_cut=0.8, dir_exp=["DEV", "STB", "~LIT*IND"]
    )
    assert intermediate_expressions(result) == ["DEV*URB*STB + DEV*~IND*STB"]
    model = result.intermediate.models[0]
    assert model.counterfactuals == (0b10001, 0b11001, 0b11011, 0b11101)
    published = {
        "DEV*URB*STB": (0.901, 0.879, 0.468, 0.378),
        "DEV*~IND*STB": (0.814, 0.721, 0.282, 0.191),
    }
    for term in model.terms:
        fit = (term.consistency, term.pri, term.raw_coverage, term.unique_coverage)
        assert fit == pytest.approx(published[term.term], abs=5e-4)
    assert (model.consistency, model.pri, model.coverage) == pytest.approx(
        (0.866, 0.839, 0.660), abs=5e-4
    )
    # The same literals as four simple expectations: ~LIT drops LIT, IND keeps IND, so
    # DEV*URB*IND*STB (easy 11011) and DEV*~URB*~IND*STB (easy 10001), which do not merge.
    simple = fsqca(reference("LF"), "SURV", LIPSET, incl_cut=0.8, dir_exp="DEV, STB, ~LIT, IND")
    assert intermediate_expressions(simple) == ["DEV*URB*IND*STB + DEV*~URB*~IND*STB"]
    assert simple.intermediate.models[0].counterfactuals == (0b10001, 0b11011)


def test_conjunctural_expectations_parse_and_refuse_overlaps() -> None:
    conditions = ["A", "B", "C"]
    # bit 4 is A, 2 is B, 1 is C: ~A*B is value 010 on mask 110.
    assert parse_directional_expectations("C, ~A*B", conditions) == ((1, 1), (2, 6))
    assert parse_directional_expectations("C + ~A*B", conditions) == ((1, 1), (2, 6))
    with pytest.raises(ConfigError, match="two directional expectations for 'A'"):
        parse_directional_expectations("A, ~A*B", conditions)
    with pytest.raises(ConfigError, match="twice"):
        parse_directional_expectations("A*~A", conditions)
    with pytest.raises(ConfigError, match="unknown condition 'D'"):
        parse_directional_expectations("~D*A", conditions)
