"""fsQCA: calibration, necessity, truth table, exact minimisation, solutions and chart.

Golden values come from sources the code did not produce: published memberships
(Lipset LF data, Ragin 2008 Table 5.1), hand derivations from truth tables printed in
the comments, an exhaustive brute-force search for minimal covers, and sympy's SOPform.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import json
import math
import operator
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sympy

from bayes_ccd.cli import main
from bayes_ccd.exceptions import (
    ConfigError,
    DataError,
    DataWarning,
    EstimationError,
    NumericalWarning,
    SpecificationError,
)
from bayes_ccd.qca.calibration import (
    Anchors,
    calibrate,
    calibrate_frame,
    percentile_anchors,
    read_anchors,
    read_cases,
)
from bayes_ccd.qca.measures import (
    consistency,
    coverage,
    necessity,
    parse_expression,
    pri,
    relevance_of_necessity,
    term_membership,
)
from bayes_ccd.qca.minimise import minimise, minimum_covers
from bayes_ccd.qca.result import (
    CORE_ABSENT,
    CORE_PRESENT,
    LATEX_CHART_SYMBOLS,
    PERIPHERAL_PRESENT,
    chart_cells,
    configuration_chart,
    configuration_chart_latex,
    plot_configuration_chart,
    solutions_table,
)
from bayes_ccd.qca.solutions import (
    configuration_analysis,
    fsqca,
    parse_directional_expectations,
    solve,
)
from bayes_ccd.qca.truth_table import resolve_half_memberships, truth_table
from bayes_ccd.settings import QCASettings

REFERENCE = Path(__file__).resolve().parent / "data" / "reference"
LIPSET = ["DEV", "URB", "LIT", "IND", "STB"]
CVF_CONDITIONS = ["DEMOC", "ETHFRACT", "GEOCON", "POLDIS", "NATPRIDE"]
#: Lipset anchors (full, crossover, non). The crossovers are the crisp thresholds the QCA
#: package documents for LC (DEV 550 USD, URB 50%, LIT 75%, IND 30%; STB = 1 below 10
#: cabinets, i.e. between 9 and 10); the full/non anchors are the unique ones on an
#: integer grid (half-integer for STB) that reproduce every published LF membership.
LIPSET_ANCHORS = {
    "DEV": (900, 550, 400),
    "URB": (65, 50, 25),
    "LIT": (90, 75, 50),
    "IND": (40, 30, 20),
    "STB": (5, 9.5, 15),
}


def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"{name}.csv", index_col="case")


def terms_of(model) -> set[str]:
    return {t.term for t in model.terms}


def expressions(solution) -> list[set[str]]:
    return [terms_of(m) for m in solution.models]


# --------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------


def test_calibration_reproduces_published_lipset_fuzzy_memberships():
    raw, published = reference("LR"), reference("LF")
    calibrated = calibrate_frame(raw, LIPSET_ANCHORS)
    for column in LIPSET:
        # LF is published to two decimals: agreement within half a unit of the last digit.
        np.testing.assert_allclose(
            calibrated[column], published[column], rtol=0, atol=0.005 + 1e-9, err_msg=column
        )
    assert calibrated["SURV"].equals(raw["SURV"])  # uncalibrated columns untouched


def test_crisp_lipset_data_are_the_fuzzy_data_on_the_right_side_of_the_crossover():
    # QCA's help page: LC is LR split at the crossovers; so LF > 0.5 must reproduce LC.
    calibrated = calibrate_frame(reference("LR"), LIPSET_ANCHORS)
    assert ((calibrated[LIPSET] > 0.5).astype(int) == reference("LC")[LIPSET]).all().all()


@pytest.mark.parametrize(
    ("log_odds", "membership"),
    [
        # Ragin (2008), Table 5.1: log odds and degree of membership of the verbal labels.
        (5.0, 0.993),
        (3.0, 0.953),
        (2.0, 0.881),
        (0.5, 0.622),
        (0.0, 0.5),
        (-0.5, 0.378),
        (-2.0, 0.119),
        (-3.0, 0.047),
        (-5.0, 0.007),
    ],
)
def test_direct_method_matches_ragin_table_5_1_on_the_national_income_anchors(log_odds, membership):
    # Ragin (2008, ch. 5) national income: full 20000, crossover 5000, non 2500, so the
    # scalars are 3/15000 above and 3/2500 below the crossover; invert them to get the
    # income with the given log odds.
    income = 5000 + log_odds * (15000 / 3 if log_odds >= 0 else 2500 / 3)
    value = calibrate([income], 20000, 5000, 2500)[0]
    assert value == pytest.approx(membership, abs=0.0005)  # table rounds to 3 decimals


def test_decreasing_set_by_hand():
    # Full membership at 5, crossover 9.5, non-membership at 15 (fewer is more): log odds
    # 3 (9.5 - x) / 4.5 below the crossover and 3 (9.5 - x) / 5.5 above it.
    x = np.array([1.0, 4.0, 9.5, 12.0, 30.0])
    log_odds = [3 * 8.5 / 4.5, 3 * 5.5 / 4.5, 0.0, -3 * 2.5 / 5.5, -3 * 20.5 / 5.5]
    expected = [1 / (1 + math.exp(-v)) for v in log_odds]
    np.testing.assert_allclose(calibrate(x, 5, 9.5, 15), expected, rtol=1e-12)
    assert calibrate([5.0, 15.0], 5, 9.5, 15) == pytest.approx([0.9526, 0.0474], abs=1e-4)


def test_percentile_anchors_by_hand():
    # 1..21: linear-interpolation percentiles 5/50/95 are the 2nd, 11th and 20th values.
    frame = pd.DataFrame({"x": np.arange(1.0, 22.0)})
    out = calibrate_frame(frame, percentile_anchors(["x"]))["x"].to_numpy()
    assert out[1] == pytest.approx(math.exp(-3) / (1 + math.exp(-3)))
    assert out[10] == 0.5
    assert out[19] == pytest.approx(1 / (1 + math.exp(-3)))


def test_anchor_errors():
    with pytest.raises(ConfigError, match="strictly monotone"):
        calibrate([1.0], 5, 9, 7)
    with pytest.raises(ConfigError, match="collapse"):
        calibrate_frame(pd.DataFrame({"x": np.ones(5)}), percentile_anchors(["x"]))
    with pytest.raises(ConfigError, match="percentile"):
        Anchors("q95", "p50", "p5").resolve(np.arange(5.0), name="x")
    with pytest.raises(DataError, match="lack"):
        calibrate_frame(pd.DataFrame({"x": [1.0]}), {"y": (3, 2, 1)})


def test_read_anchors_csv_and_toml(tmp_path):
    csv = tmp_path / "anchors.csv"
    csv.write_text(
        "column,full,crossover,non\nDEV,900,550,400\nSTB,5,9.5,15\nGDP,p95,p50,p5\n",
        encoding="utf-8",
    )
    toml = tmp_path / "anchors.toml"
    toml.write_text(
        "[DEV]\nfull = 900\ncrossover = 550\nnon = 400\n"
        '[GDP]\nfull = "p95"\ncrossover = "p50"\nnon = "p5"\n',
        encoding="utf-8",
    )
    from_csv = read_anchors(csv)
    assert from_csv["STB"] == Anchors(5.0, 9.5, 15.0)
    assert from_csv["GDP"] == Anchors("p95", "p50", "p5")
    assert read_anchors(toml) == {"DEV": from_csv["DEV"], "GDP": from_csv["GDP"]}
    bad = tmp_path / "bad.csv"
    bad.write_text("column,full,crossover,non\nDEV,900,abc,400\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2"):
        read_anchors(bad)
    bad.write_text("col,full,cross,non\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="header"):
        read_anchors(bad)


# --------------------------------------------------------------------------------------
# Measures of fit and necessity
# --------------------------------------------------------------------------------------


def test_fit_measures_by_hand():
    x, y = np.array([0.2, 0.7, 0.9]), np.array([0.4, 0.6, 1.0])
    # sum min(x, y) = 0.2 + 0.6 + 0.9 = 1.7; sum x = 1.8; sum y = 2.0
    assert consistency(x, y) == pytest.approx(1.7 / 1.8)
    assert coverage(x, y) == pytest.approx(1.7 / 2.0)
    # min(x, y, 1 - y) = 0.2, 0.4, 0.0 -> 0.6
    assert pri(x, y) == pytest.approx((1.7 - 0.6) / (1.8 - 0.6))
    # sum(1 - x) = 1.2; sum(1 - min(x, y)) = 0.8 + 0.4 + 0.1 = 1.3
    assert relevance_of_necessity(x, y) == pytest.approx(1.2 / 1.3)
    assert math.isnan(consistency(np.zeros(3), y))


def test_necessity_on_lipset_fuzzy_data_against_plain_sums():
    data = reference("LF")
    table = necessity(data, "SURV", LIPSET).set_index("condition")
    y = data["SURV"].tolist()
    for condition in LIPSET:
        for label, x in (
            (condition, data[condition].tolist()),
            (f"~{condition}", [1 - v for v in data[condition]]),
        ):
            both = sum(min(a, b) for a, b in zip(x, y, strict=True))
            row = table.loc[label]
            assert row["consistency"] == pytest.approx(both / sum(y))
            assert row["coverage"] == pytest.approx(both / sum(x))
            assert row["RoN"] == pytest.approx(
                sum(1 - a for a in x) / sum(1 - min(a, b) for a, b in zip(x, y, strict=True))
            )
    # LIT (0.991) and STB (0.920) pass the 0.9 consistency threshold of necessity.
    assert list(table.index[table["necessary"]]) == ["LIT", "STB"]


# --------------------------------------------------------------------------------------
# Truth table
# --------------------------------------------------------------------------------------


def brute_force_rows(
    data: pd.DataFrame, outcome: str, conditions: list[str]
) -> dict[int, tuple[int, float, list[str]]]:
    """Every corner of the vector space by plain loops: code -> (n, incl, PRI, members)."""
    k = len(conditions)
    rows = {}
    for code in range(1 << k):
        bits = [code >> (k - 1 - j) & 1 for j in range(k)]
        memberships = [
            min(v if b else 1 - v for v, b in zip(case, bits, strict=True))
            for case in data[conditions].itertuples(index=False)
        ]
        y = data[outcome].tolist()
        members = [c for c, m in zip(data.index, memberships, strict=True) if m > 0.5]
        total = sum(memberships)
        both = sum(min(m, v) for m, v in zip(memberships, y, strict=True))
        # PRI (Ragin 2008): discount the membership in the row, Y and not-Y at once.
        also_not = sum(min(m, v, 1 - v) for m, v in zip(memberships, y, strict=True))
        rows[code] = (len(members), both / total, (both - also_not) / (total - also_not), members)
    return rows


def test_truth_table_of_lipset_fuzzy_data_against_brute_force():
    data = reference("LF")
    table = truth_table(data, "SURV", LIPSET, incl_cut=0.8)
    expected = brute_force_rows(data, "SURV", LIPSET)
    observed = {code for code, (n, *_) in expected.items() if n > 0}
    assert set(table.table.index) == observed
    for code, row in table.table.iterrows():
        n, incl, row_pri, members = expected[code]
        assert row["n"] == n and list(row["cases"]) == members
        assert row["incl"] == pytest.approx(incl) and row["PRI"] == pytest.approx(row_pri)
        assert row["row"] == code + 1
    # Positive rows: incl >= 0.8, i.e. 11111 (BE, CZ, NL, UK; 0.904) and 10101 (FI, IE;
    # 0.804); 10111 (FR, SE; 0.709) is negative, so both of its cases are inconsistent.
    assert table.positive == (0b10101, 0b11111)
    assert table.table.loc[0b10111, "inconsistent_cases"] == ("FR", "SE")
    assert not table.table["contradiction"].any()
    assert len(table.remainders) == 32 - len(observed)


def test_contradictions_and_inconsistent_cases_crisp():
    data = pd.DataFrame(
        {"A": [1, 1, 1, 0], "B": [1, 1, 0, 0], "Y": [1, 0, 1, 0]},
        index=["c1", "c2", "c3", "c4"],
        dtype=float,
    )
    table = truth_table(data, "Y", ["A", "B"], incl_cut=0.6).table
    # Row A*B holds c1 (Y=1) and c2 (Y=0): consistency 1/2 < 0.6, coded 0; c1 is the
    # case on the wrong side and the row is a contradiction.
    assert table.loc[0b11, "OUT"] == "0"
    assert table.loc[0b11, "inconsistent_cases"] == ("c1",)
    assert table.loc[0b11, "contradiction"]
    assert table.loc[0b10, "OUT"] == "1" and not table.loc[0b10, "contradiction"]


def test_n_cut_and_pri_cut_code_rows():
    data = reference("LF")
    strict = truth_table(data, "SURV", LIPSET, incl_cut=0.8, n_cut=3)
    # Only rows with at least 3 cases are coded: 11111 (4) and 00000 (3).
    assert strict.positive == (0b11111,) and strict.negative == (0b00000,)
    assert (strict.table.loc[strict.table["n"] < 3, "OUT"] == "?").all()
    # PRI of 10101 is 0.719 (checked against plain loops above): a PRI cut of 0.75 turns
    # it negative.
    assert brute_force_rows(data, "SURV", LIPSET)[0b10101][2] == pytest.approx(0.719, abs=5e-4)
    assert truth_table(data, "SURV", LIPSET, incl_cut=0.8, pri_cut=0.75).positive == (0b11111,)


def test_memberships_of_one_half():
    data = reference("LF").copy()
    data.loc["AU", "DEV"] = 0.5
    with pytest.warns(DataWarning, match=r"AU \(DEV\)"):
        nudged = truth_table(data, "SURV", LIPSET)
    assert nudged.data.loc["AU", "DEV"] == pytest.approx(0.501)
    assert nudged.table["n"].sum() == 18 and nudged.half_membership_cells == (("AU", "DEV"),)
    with pytest.warns(DataWarning, match="unassigned"):
        kept = truth_table(data, "SURV", LIPSET, half_membership="keep")
    assert kept.table["n"].sum() == 17 and "AU" not in sum(kept.table["cases"], ())
    with pytest.raises(DataError, match=r"AU \(DEV\)"):
        truth_table(data, "SURV", LIPSET, half_membership="raise")


def test_bad_inputs_of_the_truth_table():
    data = reference("LF")
    with pytest.raises(DataError, match="missing"):
        truth_table(data, "SURV", ["DEV", "GDP"])
    bad = data.copy()
    bad.loc["FR", "URB"] = 1.2
    with pytest.raises(DataError, match="column 'URB', unit 'FR'"):
        truth_table(bad, "SURV", LIPSET)
    with pytest.raises(ConfigError, match="outcome"):
        truth_table(data, "SURV", ["SURV", "DEV"])
    with pytest.raises(SpecificationError, match="no positive"):
        fsqca(data, "SURV", LIPSET, incl_cut=1.0)


# --------------------------------------------------------------------------------------
# Lipset and Cebotari-Vink solutions
# --------------------------------------------------------------------------------------


def test_lipset_crisp_solutions_derived_by_hand():
    # LC truth table (Dusa 2019; QCA's minimize() example "conservative solution
    # (Rihoux & De Meur 2009, p.57)"): positive 11111 (BE, CZ, NL, UK), 10101 (FI, IE),
    # 10111 (FR, SE); negative 10110, 11110, 00101, 00100, 00001, 00000.
    # Conservative: 10101+10111 -> DEV*~URB*LIT*STB; 10111+11111 -> DEV*LIT*IND*STB; both
    # essential. Parsimonious: DEV*STB covers all three positives and no negative (every
    # negative row with DEV has ~STB), and no single shorter term does.
    result = fsqca(reference("LC"), "SURV", LIPSET, incl_cut=1.0)
    assert expressions(result.conservative) == [{"DEV*~URB*LIT*STB", "DEV*LIT*IND*STB"}]
    assert expressions(result.parsimonious) == [{"DEV*STB"}]
    model = result.conservative.models[0]
    assert model.consistency == 1.0 and model.coverage == 1.0


def test_lipset_fuzzy_solutions_derived_by_hand():
    # With incl.cut 0.8 the positive rows are 11111 and 10101 (see the truth-table test)
    # and the negatives 10111, 00101, 00100, 11110, 10110, 00001, 00000.
    # Conservative: the two rows differ in URB and IND, so no merge: two full terms.
    # Parsimonious: DEV*~IND covers 10101 and no negative (the negatives with DEV have
    # IND); URB*STB covers 11111 and no negative (11110 has ~STB); no single literal
    # works, so two two-literal terms (QCA's example "Ragin 2009, p.112").
    # Intermediate with every condition expected present: in 10101 only ~URB contradicts
    # the expectation and is not in DEV*~IND, giving DEV*LIT*~IND*STB and the one easy
    # counterfactual 11101; 11111+11101 then merge into DEV*URB*LIT*STB.
    result = fsqca(reference("LF"), "SURV", LIPSET, incl_cut=0.8, dir_exp=LIPSET)
    assert expressions(result.conservative) == [{"DEV*URB*LIT*IND*STB", "DEV*~URB*LIT*~IND*STB"}]
    assert expressions(result.parsimonious) == [{"DEV*~IND", "URB*STB"}]
    assert expressions(result.intermediate) == [{"DEV*URB*LIT*STB", "DEV*LIT*~IND*STB"}]
    # 12 simplifying assumptions of the parsimonious model, 1 easy counterfactual.
    assert len(result.parsimonious.models[0].counterfactuals) == 12
    assert result.intermediate.models[0].counterfactuals == (0b11101,)
    # Core conditions: those of the parsimonious term containing the configuration.
    cells = {frozenset(c.items()) for c in chart_cells(result)}
    assert cells == {
        frozenset(
            {
                "URB": "core present",
                "STB": "core present",
                "DEV": "peripheral present",
                "LIT": "peripheral present",
            }.items()
        ),
        frozenset(
            {
                "DEV": "core present",
                "IND": "core absent",
                "LIT": "peripheral present",
                "STB": "peripheral present",
            }.items()
        ),
    }


def test_lipset_fit_against_plain_sums():
    data = reference("LF")
    result = fsqca(data, "SURV", LIPSET, incl_cut=0.8)
    model = result.parsimonious.models[0]
    y = data["SURV"].to_numpy()
    dev_not_ind = np.minimum(data["DEV"], 1 - data["IND"]).to_numpy()
    urb_stb = np.minimum(data["URB"], data["STB"]).to_numpy()
    union = np.maximum(dev_not_ind, urb_stb)
    assert model.consistency == pytest.approx(np.minimum(union, y).sum() / union.sum())
    assert model.coverage == pytest.approx(np.minimum(union, y).sum() / y.sum())
    term = {t.term: t for t in model.terms}["DEV*~IND"]
    assert term.raw_coverage == pytest.approx(np.minimum(dev_not_ind, y).sum() / y.sum())
    assert term.unique_coverage == pytest.approx(
        (np.minimum(union, y).sum() - np.minimum(urb_stb, y).sum()) / y.sum()
    )
    assert term.cases == ("FI", "IE")


def test_cebotari_vink_parsimonious_solution_has_tied_models():
    data = reference("CVF")
    result = fsqca(data, "PROTEST", CVF_CONDITIONS, incl_cut=0.8)
    table = result.truth_table
    # Independent check: rows and codes from plain loops, minimal covers by brute force.
    rows = brute_force_rows(data, "PROTEST", CVF_CONDITIONS)
    positive = {c for c, (n, incl, *_) in rows.items() if n >= 1 and incl >= 0.8}
    negative = {c for c, (n, incl, *_) in rows.items() if n >= 1 and incl < 0.8}
    assert set(table.positive) == positive and set(table.negative) == negative
    expected = brute_force_covers(bitset(positive), bitset(negative), 5)
    got = {frozenset(m.implicants) for m in result.parsimonious.models}
    assert got == expected
    # Four models tie: ~NATPRIDE, DEMOC*GEOCON*POLDIS plus a choice of DEMOC*ETHFRACT*GEOCON
    # or DEMOC*ETHFRACT*~POLDIS and of ~DEMOC*ETHFRACT*POLDIS or ETHFRACT*GEOCON*POLDIS.
    assert len(result.parsimonious.models) == 4
    common = set.intersection(*expressions(result.parsimonious))
    assert common == {"~NATPRIDE", "DEMOC*GEOCON*POLDIS"}


# --------------------------------------------------------------------------------------
# Boolean minimisation against brute force and sympy
# --------------------------------------------------------------------------------------


def bitset(rows) -> int:
    return sum(1 << int(r) for r in rows)


def brute_force_covers(
    on: int, off: int, k: int, *, criterion: str = "terms"
) -> set[frozenset[tuple[int, int]]]:
    """All minimal covers by exhaustive search (see :func:`brute_force_models`)."""
    return brute_force_models(on, off, k)[criterion]


def brute_force_models(on: int, off: int, k: int) -> dict[str, set[frozenset]]:
    """All minimal covers by exhaustive search, under both criteria.

    Every one of the 3**k conjunctions is listed with the rows it covers; those covering
    no negative row are implicants; primes are implicants that lose that property when
    any literal is dropped. Subsets of the primes are then tried by increasing size
    (each must contain a prime covering the lowest positive row), and for ``"literals"``
    the covers with the fewest literals are kept.
    """
    n = 1 << k
    valid = {}
    for spec in itertools.product((0, 1, None), repeat=k):
        covered = bitset(
            r
            for r in range(n)
            if all(s is None or (r >> (k - 1 - j) & 1) == s for j, s in enumerate(spec))
        )
        if not covered & off:
            valid[spec] = covered
    primes = [
        s
        for s in valid
        if not any(s[j] is not None and (*s[:j], None, *s[j + 1 :]) in valid for j in range(k))
    ]
    useful = [s for s in primes if valid[s] & on]
    masks = np.array([valid[s] & on for s in useful], dtype=np.uint64)
    lowest = on & -on
    first = [i for i, s in enumerate(useful) if valid[s] & lowest]
    found: set[tuple[int, ...]] = set()
    for size in range(1, len(useful) + 1):
        for p in first:
            others = [i for i in range(len(useful)) if i != p]
            tuples = list(itertools.combinations(others, size - 1))
            combos = np.array(tuples, dtype=np.int64).reshape(len(tuples), size - 1)
            union = np.bitwise_or.reduce(masks[combos], axis=1) | masks[p]
            found |= {tuple(sorted((p, *c))) for c in combos[union == np.uint64(on)].tolist()}
        if found:
            break

    def implicant(spec):
        value = sum(1 << (k - 1 - j) for j, s in enumerate(spec) if s == 1)
        mask = sum(1 << (k - 1 - j) for j, s in enumerate(spec) if s is not None)
        return value, mask

    covers = {frozenset(implicant(useful[i]) for i in c) for c in found}
    fewest = min(sum(m.bit_count() for _, m in c) for c in covers)
    return {
        "terms": covers,
        "literals": {c for c in covers if sum(m.bit_count() for _, m in c) == fewest},
    }


def random_tables(count: int, seed: int):
    """Seeded random truth tables of 2 to 6 conditions: (k, on rows, off rows)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        k = int(rng.integers(2, 7))
        n = 1 << k
        order = rng.permutation(n)
        n_on = int(rng.integers(1, min(n, 12) + 1))
        n_off = int(rng.integers(0, min(n - n_on, 12) + 1))
        yield k, sorted(order[:n_on].tolist()), sorted(order[n_on : n_on + n_off].tolist())


def test_quine_mccluskey_agrees_with_brute_force_on_random_tables():
    checked = 0
    for k, on, off in random_tables(200, seed=20240601):
        everything = set(range(1 << k))
        # Both the parsimonious (remainders free) and the conservative (none free) case.
        for negative in (set(off), everything - set(on)):
            free = everything - set(on) - negative
            expected = brute_force_models(bitset(on), bitset(negative), k)
            for criterion in ("terms", "literals"):
                solution = minimise(on, free, k, criterion=criterion, max_models=10**6)
                got = {frozenset(model) for model in solution.models}
                assert got == expected[criterion], (criterion, k, on, sorted(negative))
            checked += 1
    assert checked == 400


def sympy_implicants(expression, symbols) -> set[tuple[int, int]]:
    if expression is sympy.true:
        return {(0, 0)}
    k = len(symbols)
    position = {s: j for j, s in enumerate(symbols)}
    terms = set()
    for term in sympy.Or.make_args(expression):
        value = mask = 0
        for literal in sympy.And.make_args(term):
            symbol = literal.args[0] if isinstance(literal, sympy.Not) else literal
            bit = 1 << (k - 1 - position[symbol])
            mask |= bit
            value |= 0 if isinstance(literal, sympy.Not) else bit
        terms.add((value, mask))
    return terms


def test_single_minimal_models_agree_with_sympy_sopform():
    compared = 0
    for k, on, off in random_tables(200, seed=7):
        everything = set(range(1 << k))
        free = sorted(everything - set(on) - set(off))
        solution = minimise(on, free, k, criterion="literals")
        if len(solution.models) != 1:
            continue
        symbols = sympy.symbols(f"x0:{k}")
        theirs = sympy_implicants(sympy.SOPform(symbols, on, free), symbols)
        ours = set(solution.models[0])
        implied = [
            {r for r in everything if any((r & m) == v for v, m in terms)}
            for terms in (ours, theirs)
        ]
        # Logically equivalent where the function is specified (everywhere if free is
        # empty); sympy's greedy cover is never cheaper, and equal only if identical.
        specified = everything - set(free)
        assert implied[0] & specified == implied[1] & specified == set(on)
        cost = [(len(t), sum(m.bit_count() for _, m in t)) for t in (ours, theirs)]
        assert cost[0] <= cost[1]
        if cost[0] == cost[1]:
            assert ours == theirs
        compared += 1
    assert compared > 50


def test_cyclic_chart_has_two_tied_models_and_sympy_finds_one():
    # f(a, b, c) = sum m(0, 1, 2, 5, 6, 7): six prime implicants, each row covered by
    # exactly two, no essential one; the two minimal covers (3 terms, 6 literals each)
    # are a'b' + bc' + ac and a'c' + b'c + ab (McCluskey's cyclic example).
    conditions = ["a", "b", "c"]
    solution = minimise([0, 1, 2, 5, 6, 7], (), 3)
    assert len(solution.prime_implicants) == 6
    expected = {
        frozenset(parse_expression("~a*~b + b*~c + a*c", conditions)),
        frozenset(parse_expression("~a*~c + ~b*c + a*b", conditions)),
    }
    assert {frozenset(m) for m in solution.models} == expected
    symbols = sympy.symbols("a b c")
    theirs = frozenset(sympy_implicants(sympy.SOPform(symbols, [0, 1, 2, 5, 6, 7]), symbols))
    assert theirs in expected  # sympy returns one of the two ties only


def test_model_cap_warns():
    with pytest.warns(NumericalWarning, match="tied minimal models"):
        solution = minimise([0, 1, 2, 5, 6, 7], (), 3, max_models=1)
    assert len(solution.models) == 1 and solution.truncated


def test_cover_chart_edge_cases():
    with pytest.raises(SpecificationError, match="covered by no"):
        minimum_covers(np.array([[True, False]]))
    # Identical implicants tie: both single-term covers are reported.
    covers_, truncated = minimum_covers(np.array([[True, True], [True, True]]))
    assert covers_ == [(0,), (1,)] and not truncated
    # Universal function: the empty conjunction "1".
    solution = minimise(range(4), (), 2)
    assert solution.models == (((0, 0),),)


def exhaustive_minimum_covers(chart: np.ndarray) -> set[frozenset[int]]:
    """Every minimum cover of a chart by trying all subsets of implicants by size."""
    n_pi, n_col = chart.shape
    masks = [sum(1 << int(j) for j in np.flatnonzero(row)) for row in chart]
    full = (1 << n_col) - 1
    for size in range(n_pi + 1):
        found = {
            frozenset(subset)
            for subset in itertools.combinations(range(n_pi), size)
            if functools.reduce(operator.or_, (masks[i] for i in subset), 0) == full
        }
        if found:
            return found
    raise AssertionError("chart without a cover")


def test_minimum_covers_agree_with_exhaustive_search_on_random_charts(monkeypatch):
    # Arbitrary charts (not only those of Boolean functions) with dominated and identical
    # implicants, several independent parts, LP gaps and fractional optima, so that every
    # step of the search is exercised: counted below so this test cannot go vacuous.
    import scipy.optimize

    import bayes_ccd.qca.minimise as configurations

    calls = {"milp": 0, "fixing": 0, "parts": 0}
    milp, covers_, components = (
        scipy.optimize.milp,
        configurations._minimum_covers,
        configurations._chart_components,
    )
    depth = [0]

    def counting_milp(*args, **kwargs):
        calls["milp"] += 1
        return milp(*args, **kwargs)

    def counting_covers(*args):
        depth[0] += 1
        calls["fixing"] += depth[0] > 1  # re-entered after reduced-cost fixing
        try:
            return covers_(*args)
        finally:
            depth[0] -= 1

    def counting_components(chart):
        parts = components(chart)
        calls["parts"] += len(parts) > 1
        return parts

    monkeypatch.setattr(scipy.optimize, "milp", counting_milp)
    monkeypatch.setattr(configurations, "_minimum_covers", counting_covers)
    monkeypatch.setattr(configurations, "_chart_components", counting_components)
    rng = np.random.default_rng(3)
    for _ in range(300):
        n_pi, n_col = int(rng.integers(6, 15)), int(rng.integers(4, 16))
        chart = rng.random((n_pi, n_col)) < rng.uniform(0.15, 0.45)
        chart[rng.integers(0, n_pi, n_col), np.arange(n_col)] = True  # every row coverable
        got, truncated = minimum_covers(chart, max_models=10**6)
        assert not truncated
        assert {frozenset(c) for c in got} == exhaustive_minimum_covers(chart)
        assert len(got) == len(set(got))
    assert min(calls.values()) >= 10, calls


def test_search_budget_stops_with_a_clear_error():
    # The cyclic chart of f = sum m(0, 1, 2, 5, 6, 7) has no essential implicant, so its
    # three-term covers need at least three branch-and-bound nodes.
    with pytest.raises(EstimationError, match="budget of 2 search nodes.*6 prime implicants"):
        minimise([0, 1, 2, 5, 6, 7], (), 3, max_nodes=2)
    # The search is deterministic: the nodes one run spends are exactly enough.
    needed = minimise([0, 1, 2, 5, 6, 7], (), 3).nodes
    assert len(minimise([0, 1, 2, 5, 6, 7], (), 3, max_nodes=needed).models) == 2
    with pytest.raises(EstimationError, match=f"budget of {needed - 1} search nodes"):
        minimise([0, 1, 2, 5, 6, 7], (), 3, max_nodes=needed - 1)
    with pytest.raises(ConfigError, match="max_nodes"):
        minimise([0, 1], (), 2, max_nodes=0)
    # Through fsqca the error names the solution and what to change.
    with pytest.raises(EstimationError) as caught:
        fsqca(reference("CVF"), "PROTEST", CVF_CONDITIONS, incl_cut=0.8, max_nodes=3)
    message = str(caught.value)
    assert message.startswith("parsimonious solution:")
    for advice in ("prime implicants", "positive rows", "--max-nodes", "n_cut", "conditions"):
        assert advice in message


def test_intermediate_models_from_different_pairs_are_labelled():
    # Cebotari-Vink with every condition expected present: the one conservative model
    # and each of the four tied parsimonious models give the same intermediate
    # expression, so the four models differ only in their pair.
    result = fsqca(
        reference("CVF"), "PROTEST", CVF_CONDITIONS, incl_cut=0.8, dir_exp=CVF_CONDITIONS
    )
    models = result.intermediate.models
    assert [m.derived_from for m in models] == ["C1P1", "C1P2", "C1P3", "C1P4"]
    assert len({m.expression for m in models}) == 1
    table = solutions_table(result).set_index(["solution", "model"])
    assert table.loc[("intermediate", "M1"), "same_expression_as"] == ""
    assert (table.loc["intermediate", "same_expression_as"].iloc[1:] == "M1").all()
    assert (table.loc["parsimonious", "derived_from"] == "").all()
    # Core conditions come from the parsimonious terms containing each configuration:
    # with negative rows there is always at least one.
    for i in range(len(models)):
        assert all(any(v.startswith("core") for v in c.values()) for c in chart_cells(result, i))


def test_core_conditions_when_a_pair_returns_tied_models():
    # Every row of a crisp 3-condition table is observed (Y = 1 on 000, 010, 100, 101,
    # 111), so there are no remainders: conservative, parsimonious and intermediate
    # solutions coincide, each term is a parsimonious term, and by Fiss's definition
    # every condition of every configuration is core. The two tied models
    # A*~B + A*C + ~A*~C and A*C + ~A*~C + ~B*~C follow from the function by hand.
    positive = {0b000, 0b010, 0b100, 0b101, 0b111}
    data = pd.DataFrame(
        [[c >> 2 & 1, c >> 1 & 1, c & 1, int(c in positive)] for c in range(8)],
        columns=["A", "B", "C", "Y"],
        index=[f"r{c}" for c in range(8)],
        dtype=float,
    )
    result = fsqca(data, "Y", ["A", "B", "C"], incl_cut=1.0)
    assert sorted(m.expression for m in result.parsimonious.models) == [
        "A*C + ~A*~C + ~B*~C",
        "A*~B + A*C + ~A*~C",
    ]
    # One pair's minimisation returns both tied models, so two of the four
    # intermediate models have a term outside every term of their paired model.
    assert len(result.intermediate.models) == 4
    for i in range(len(result.intermediate.models)):
        for configuration in chart_cells(result, i):
            assert all(kind.startswith("core") for kind in configuration.values())


def random_fsqca_results(
    seed: int,
    runs: int,
    n_cases: int,
    k_range: tuple[int, int],
    incl_cut: float,
    expectation_share: float,
):
    """fsQCA results on seeded random memberships (0.5 avoided) with random
    directional expectations on about ``expectation_share`` of the conditions; runs
    without a positive row are skipped."""
    rng = np.random.default_rng(seed)
    for _ in range(runs):
        k = int(rng.integers(*k_range))
        names = [f"C{j}" for j in range(k)]
        data = pd.DataFrame(
            rng.uniform(0, 1, size=(n_cases, k + 1)).round(2),
            columns=[*names, "Y"],
            index=[f"u{i}" for i in range(n_cases)],
        ).replace(0.5, 0.51)
        expectations = {
            n: int(rng.integers(0, 2)) for n in names if rng.random() < expectation_share
        }
        try:
            yield fsqca(data, "Y", names, incl_cut=incl_cut, dir_exp=expectations)
        except SpecificationError:
            continue  # no positive row at this cut


def test_every_configuration_has_a_core_condition_when_some_row_is_negative():
    # A configuration's core conditions come from the parsimonious terms that contain
    # it. With a negative row the parsimonious solution cannot be the tautology, so every
    # term of every intermediate model must show at least one core condition.
    checked = 0
    for result in random_fsqca_results(5, 150, 30, (3, 6), 0.75, expectation_share=1.0):
        if not result.truth_table.negative:
            continue
        for i in range(len(result.intermediate.models)):
            for configuration in chart_cells(result, i):
                checked += 1
                assert any(kind.startswith("core") for kind in configuration.values())
    assert checked >= 200


def test_unique_coverage_against_dropping_each_term():
    # cov(S) - cov(S without the term), computed by dropping the term explicitly.
    data = reference("CVF")
    result = fsqca(data, "PROTEST", CVF_CONDITIONS, incl_cut=0.8, dir_exp=CVF_CONDITIONS)
    x, y = data[CVF_CONDITIONS].to_numpy(), data["PROTEST"].to_numpy()
    checked = 0
    for solution in result.solutions.values():
        for model in solution.models:
            m = np.column_stack([term_membership(x, t) for t in model.implicants])
            total = np.minimum(m.max(axis=1), y).sum() / y.sum()
            for i, term in enumerate(model.terms):
                if len(model.terms) == 1:  # not applicable to the only term (as R)
                    assert np.isnan(term.unique_coverage)
                    continue
                rest = np.delete(m, i, axis=1).max(axis=1)
                expected = total - np.minimum(rest, y).sum() / y.sum()
                assert term.unique_coverage == pytest.approx(expected, abs=1e-12)
                checked += 1
    assert checked > 20


def test_configuration_chart_latex_is_ascii_for_pdflatex():
    result = fsqca(reference("LF"), "SURV", LIPSET, incl_cut=0.8, dir_exp=LIPSET)
    text = configuration_chart_latex(result)
    assert text.isascii()
    # Each symbol of the chart appears in its pdfLaTeX form (H1: URB, STB core present,
    # DEV, LIT peripheral present; H2: IND core absent, see the hand derivation above).
    for symbol in (CORE_PRESENT, PERIPHERAL_PRESENT, CORE_ABSENT):
        assert LATEX_CHART_SYMBOLS[symbol] in text
    urb = next(line for line in text.splitlines() if line.startswith("URB"))
    assert urb == r"URB & {\Large$\bullet$} &  \\"


def test_directional_expectations_parsing():
    # Conjunctions (value, mask) over A, B, C: bit 4 is A, 2 is B, 1 is C.
    conditions = ["A", "B", "C"]
    assert parse_directional_expectations("A, ~B", conditions) == ((4, 4), (0, 2))
    assert parse_directional_expectations({"A": "present", "B": "-", "C": 0}, conditions) == (
        (4, 4),
        (0, 1),
    )
    assert parse_directional_expectations(["C=1"], conditions) == ((1, 1),)
    with pytest.raises(ConfigError, match="unknown"):
        parse_directional_expectations("D", conditions)
    with pytest.raises(ConfigError, match="use 1"):
        parse_directional_expectations({"A": 2}, conditions)


def test_intermediate_without_expectations_is_conservative():
    result = fsqca(reference("LF"), "SURV", LIPSET, incl_cut=0.8)
    assert expressions(result.intermediate) == expressions(result.conservative)
    chart = configuration_chart(result)
    # DEV*URB*LIT*IND*STB sits in URB*STB: URB and STB core, the rest peripheral.
    assert chart.loc["URB", "H1"] == CORE_PRESENT and chart.loc["DEV", "H1"] == PERIPHERAL_PRESENT
    assert chart.loc["IND", "H2"] == CORE_ABSENT
    assert chart.loc["Solution coverage", "H1"] == pytest.approx(
        result.intermediate.models[0].coverage
    )


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def run_cli(*args: str) -> int:
    return main(["qca", *args])


def test_cli_on_lipset_fuzzy_data(tmp_path, capsys):
    out = tmp_path / "qca"
    code = run_cli(
        "--data",
        str(REFERENCE / "LF.csv"),
        "--case",
        "case",
        "--outcome",
        "SURV",
        "--conditions",
        ",".join(LIPSET),
        "--calibrated",
        "--incl-cut",
        "0.8",
        "--dir-exp",
        ",".join(LIPSET),
        "--pdf",
        "--out",
        str(out),
    )
    assert code == 0
    expected = {
        "calibrated.csv",
        "solutions.json",
        "metadata.json",
        "configuration_chart.png",
        "configuration_chart.pdf",
    }
    expected |= {
        f"{stem}.{ext}"
        for stem in ("necessity", "truth_table", "solutions", "configuration_chart")
        for ext in ("csv", "md", "tex")
    }
    assert {p.name for p in out.iterdir()} == expected
    # pdfLaTeX-safe: no Unicode chart symbols in any .tex; Markdown keeps them.
    for tex in out.glob("*.tex"):
        assert tex.read_text(encoding="utf-8").isascii(), tex.name
    assert CORE_PRESENT in (out / "configuration_chart.md").read_text(encoding="utf-8")
    solutions = json.loads((out / "solutions.json").read_text(encoding="utf-8"))
    assert [m["expression"] for m in solutions["parsimonious"]["models"]] == ["DEV*~IND + URB*STB"]
    assert solutions["intermediate"]["models"][0]["derived_from"] == "C1P1"
    truth = pd.read_csv(out / "truth_table.csv")
    assert truth.loc[truth["row"] == 32, "cases"].item() == "BE, CZ, NL, UK"
    printed = capsys.readouterr().out
    assert "parsimonious M1: DEV*~IND + URB*STB" in printed
    assert "intermediate M1 (C1P1): DEV*URB*LIT*STB + DEV*LIT*~IND*STB" in printed
    models = pd.read_csv(out / "solutions.csv", keep_default_na=False)
    assert models.loc[models["solution"] == "intermediate", "derived_from"].tolist() == ["C1P1"]
    assert (out / "configuration_chart.png").stat().st_size > 1000


def test_cli_calibrates_raw_lipset_data_with_an_anchor_file(tmp_path):
    raw = reference("LR")
    raw["SURV"] = reference("LF")["SURV"]  # outcome already a membership
    data = tmp_path / "lipset.csv"
    raw.to_csv(data)
    anchors = tmp_path / "anchors.csv"
    anchors.write_text(
        "column,full,crossover,non\n"
        + "".join(f"{c},{a},{b},{e}\n" for c, (a, b, e) in LIPSET_ANCHORS.items()),
        encoding="utf-8",
    )
    out = tmp_path / "qca"
    assert (
        run_cli(
            "--data",
            str(data),
            "--case",
            "case",
            "--outcome",
            "SURV",
            "--conditions",
            ",".join(LIPSET),
            "--calibrate",
            str(anchors),
            "--out",
            str(out),
        )
        == 0
    )
    calibrated = pd.read_csv(out / "calibrated.csv", index_col="case")
    np.testing.assert_allclose(calibrated[LIPSET], reference("LF")[LIPSET], atol=0.005 + 1e-9)
    solutions = json.loads((out / "solutions.json").read_text(encoding="utf-8"))
    assert solutions["parsimonious"]["models"][0]["expression"] == "DEV*~IND + URB*STB"
    metadata = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["config"]["anchors"]["STB"] == [5.0, 9.5, 15.0]


def test_cli_percentile_calibration_warns_about_cases_at_the_median(tmp_path):
    # 17 cases (UK dropped): the sample median of each column is a case's own value, so
    # that case gets membership exactly 0.5 (e.g. CZ for DEV, 586 USD) and is nudged.
    data = tmp_path / "lipset17.csv"
    reference("LR").drop(index="UK").to_csv(data)
    out = tmp_path / "qca"
    with pytest.warns(DataWarning, match=r"7 cell.*AU \(URB\), CZ \(DEV\)") as caught:
        code = run_cli(
            "--data",
            str(data),
            "--case",
            "case",
            "--outcome",
            "SURV",
            "--conditions",
            ",".join(LIPSET),
            "--calibrate",
            "percentiles",
            "--out",
            str(out),
        )
    assert code == 0 and len(caught) == 1
    calibrated = pd.read_csv(out / "calibrated.csv", index_col="case")
    assert calibrated.loc["CZ", "DEV"] == pytest.approx(0.501)
    assert calibrated.loc["RO", "SURV"] == 0.5  # the outcome is never nudged
    metadata = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert ["CZ", "DEV"] in metadata["half_membership_cells"]


@pytest.mark.parametrize(
    ("edit", "flags", "message"),
    [
        (None, ["--conditions", "DEV,GDP", "--calibrated"], "columns missing: GDP"),
        ("abc", ["--conditions", "DEV,URB", "--calibrated"], "line 4, column 'URB', unit 'CZ'"),
        ("", ["--conditions", "DEV,URB", "--calibrated"], "empty cell"),
        ("1.5", ["--conditions", "DEV,URB", "--calibrated"], "outside [0, 1]"),
        (None, ["--conditions", "DEV,URB"], "--calibrated"),
        (None, ["--conditions", "DEV,URB", "--calibrate", "nope.csv"], "does not exist"),
    ],
)
def test_cli_bad_input_exits_2_without_output(tmp_path, capsys, edit, flags, message):
    frame = pd.read_csv(REFERENCE / "LF.csv", dtype=str)
    if edit is not None:
        frame.loc[2, "URB"] = edit  # third case (CZ): line 4 of the file
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "qca"
    code = run_cli(
        "--data", str(data), "--case", "case", "--outcome", "SURV", *flags, "--out", str(out)
    )
    assert code == 2
    assert not out.exists()
    assert not list(tmp_path.glob(".qca*"))  # no staging directory left behind
    assert message in capsys.readouterr().err


def test_cli_search_budget_exits_2_with_one_line_and_no_output(tmp_path, capsys):
    out = tmp_path / "qca"
    code = run_cli(
        "--data",
        str(REFERENCE / "CVF.csv"),
        "--case",
        "case",
        "--outcome",
        "PROTEST",
        "--conditions",
        ",".join(CVF_CONDITIONS),
        "--calibrated",
        "--max-nodes",
        "3",
        "--out",
        str(out),
    )
    assert code == 2
    assert not out.exists() and not list(tmp_path.glob(".qca*"))
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if not line.startswith("[bayes-ccd]")]
    assert len(errors) == 1 and captured.out == ""
    assert errors[0].startswith("bayes-ccd qca: error: parsimonious solution:")
    assert "--max-nodes" in errors[0]


def test_no_assignable_case_is_an_error():
    data = pd.DataFrame({"A": [0.5, 0.5], "Y": [0.9, 0.1]}, index=["a", "b"])
    with pytest.warns(DataWarning), pytest.raises(DataError, match="exactly 0.5"):
        truth_table(data, "Y", ["A"], half_membership="keep")


def test_read_cases_names_file_lines_past_blank_lines(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("case,x,y\na,0.1,2\n\nb,0.2,x\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 4, column 'y', unit 'b'"):
        read_cases(path, "case", ["x", "y"])
    path.write_text("case,x\na,0.1\n\nb,1.2\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 4, column 'x'.*outside"):
        read_cases(path, "case", ["x"], memberships=["x"])


def test_read_cases_rejects_duplicate_case_names(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("case,x\na,0.1\nb,0.2\na,0.3\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 4.*appears twice|appears twice"):
        read_cases(path, "case", ["x"])


def test_brute_force_oracle_sanity():
    # The oracle itself, on the cyclic example above: two covers of three terms.
    covers_ = brute_force_covers(bitset([0, 1, 2, 5, 6, 7]), bitset([3, 4]), 3)
    assert len(covers_) == 2 and all(len(c) == 3 for c in covers_)
    assert functools.reduce(set.union, (set(c) for c in covers_)) == set(
        minimise([0, 1, 2, 5, 6, 7], (), 3).prime_implicants
    )


def test_solution_invariants_on_random_fuzzy_data():
    # Seeded random memberships with random directional expectations: every model of
    # every solution covers all positive rows and no negative row; parsimonious models
    # assume exactly the remainders they cover; intermediate models assume only easy
    # counterfactuals, which are simplifying assumptions of their parsimonious model.
    solved = 0
    for result in random_fsqca_results(11, 30, 25, (2, 6), 0.6, expectation_share=0.7):
        solved += 1
        table = result.truth_table
        every = np.arange(1 << len(table.conditions))
        for name, solution in result.solutions.items():
            for model in solution.models:
                covered = {int(r) for r in every if any((r & m) == v for v, m in model.implicants)}
                assert set(table.positive) <= covered and not covered & set(table.negative)
                assumed = covered - set(table.positive)
                if name == "conservative":
                    assert not assumed
                elif name == "parsimonious":
                    assert assumed == set(model.counterfactuals)
                else:
                    assert assumed <= set(model.counterfactuals)
                    paired = result.parsimonious.models[model.parsimonious_model]
                    assert set(model.counterfactuals) <= set(paired.counterfactuals)
    assert solved >= 20


# --------------------------------------------------------------------------------------
# Results: summary, files, the configuration stage, defaults
# --------------------------------------------------------------------------------------


def lipset_raw() -> pd.DataFrame:
    """The raw Lipset data with the published fuzzy outcome (already a membership)."""
    raw = reference("LR")
    raw["SURV"] = reference("LF")["SURV"]
    return raw


def test_configuration_analysis_calibrates_with_the_settings_anchors():
    # Anchors of every condition (no percentiles): the memberships are the published LF
    # ones, so the solutions are those derived by hand in the tests above.
    settings = QCASettings(
        outcome="SURV",
        conditions=LIPSET,
        calibration="none",
        anchors={c: list(a) for c, a in LIPSET_ANCHORS.items()},
        dir_exp=LIPSET,
    )
    result = configuration_analysis(lipset_raw(), settings, year=1938)
    np.testing.assert_allclose(
        result.truth_table.data[LIPSET], reference("LF")[LIPSET], rtol=0, atol=0.005 + 1e-9
    )
    assert expressions(result.parsimonious) == [{"DEV*~IND", "URB*STB"}]
    assert expressions(result.intermediate) == [{"DEV*URB*LIT*STB", "DEV*LIT*~IND*STB"}]
    assert result.config["anchors"]["STB"] == [5, 9.5, 15]
    assert result.config["year"] == 1938 and result.config["calibration"] == "none"
    assert result.config["pri_cut"] == 0.0  # the one default, as R's QCA package
    assert result.design_line() == (
        "Outcome SURV (1938, 18 cases), conditions DEV, URB, LIT, IND, STB; "
        "consistency cut-off 0.8, PRI cut-off 0."
    )


def test_configuration_analysis_percentile_anchors_and_overrides():
    # Percentiles for every column, but STB (a decreasing set) and SURV by their own
    # anchors. DEV is calibrated by hand: log odds 3 (x - c) / (f - c) above the
    # crossover and 3 (x - c) / (c - e) below it, anchors at the sample percentiles.
    raw = lipset_raw()
    conditions = ["DEV", "STB"]
    settings = QCASettings(
        outcome="SURV",
        conditions=conditions,
        anchors={"STB": [5, 9.5, 15], "SURV": [0.95, 0.5, 0.05]},
        incl_cut=0.8,
    )
    result = configuration_analysis(raw, settings)
    f, c, e = np.percentile(raw["DEV"], [95, 50, 5])
    x = raw["DEV"].to_numpy()
    log_odds = np.where(x >= c, 3 * (x - c) / (f - c), 3 * (x - c) / (c - e))
    np.testing.assert_allclose(result.truth_table.data["DEV"], 1 / (1 + np.exp(-log_odds)))
    np.testing.assert_allclose(
        result.truth_table.data["STB"], reference("LF")["STB"], rtol=0, atol=0.005 + 1e-9
    )
    assert result.config["anchors"] == {
        "SURV": [0.95, 0.5, 0.05],
        "DEV": ["p95", "p50", "p5"],
        "STB": [5, 9.5, 15],
    }
    with pytest.raises(DataError, match="columns missing from the cases: STB"):
        configuration_analysis(raw.drop(columns="STB"), settings)


def lipset_result():
    return fsqca(reference("LF"), "SURV", LIPSET, incl_cut=0.8, dir_exp=LIPSET)


def test_summary_renders_the_solutions_in_every_format():
    result = lipset_result()
    summary = result.summary()
    assert summary.lines[0] == (
        "Outcome SURV (18 cases), conditions DEV, URB, LIT, IND, STB; consistency "
        "cut-off 0.8, PRI cut-off 0."
    )
    model = result.parsimonious.models[0]
    line = (
        f"parsimonious M1: DEV*~IND + URB*STB (consistency {model.consistency:.3f}, "
        f"coverage {model.coverage:.3f})"
    )
    assert line in summary.lines
    assert summary.facts["Cases"] == 18 and summary.facts["Conditions"] == LIPSET
    table = result.truth_table
    assert summary.facts["Truth table rows"] == (
        f"2 positive, {len(table.negative)} negative, {len(table.remainders)} remainders"
    )
    # The solution's fit against plain sums (as in test_lipset_fit_against_plain_sums).
    data = reference("LF")
    y = data["SURV"].to_numpy()
    union = np.maximum(
        np.minimum(data["DEV"], 1 - data["IND"]), np.minimum(data["URB"], data["STB"])
    ).to_numpy()
    consistency_ = f"{np.minimum(union, y).sum() / union.sum():.3f}"
    for name, text in {
        "text": str(summary),
        "html": summary._repr_html_(),
        "markdown": summary.to_markdown(),
    }.items():
        assert line in text and consistency_ in text, name
        assert "BE, CZ, NL, UK" in text, name  # the cases of the row 11111
    latex = summary.to_latex()
    assert r"DEV*\textasciitilde{}IND + URB*STB" in latex and consistency_ in latex
    assert latex.count(r"\begin{table}") == 3  # facts, truth table, solutions


def test_write_returns_every_file_it_writes(tmp_path):
    result = lipset_result()
    written = result.write(tmp_path / "out", config={"source": "test"})
    expected = {"calibrated.csv", "solutions.json", "metadata.json", "configuration_chart.png"}
    expected |= {
        f"{stem}.{ext}"
        for stem in ("necessity", "truth_table", "solutions", "configuration_chart")
        for ext in ("csv", "md", "tex")
    }
    assert sorted(p.name for p in written) == sorted(expected)
    assert {p.name for p in (tmp_path / "out").iterdir()} == expected
    metadata = json.loads((tmp_path / "out" / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["config"]["source"] == "test" and metadata["config"]["incl_cut"] == 0.8
    assert metadata["models"] == {"conservative": 1, "parsimonious": 1, "intermediate": 1}
    # Tied intermediate models get one chart each, suffixed with the model's label.
    tied = fsqca(reference("CVF"), "PROTEST", CVF_CONDITIONS, incl_cut=0.8, dir_exp=CVF_CONDITIONS)
    names = {p.name for p in tied.write(tmp_path / "cvf", formats=("csv",), pdf=True)}
    charts = {n for n in names if n.startswith("configuration_chart")}
    assert charts == {
        f"configuration_chart_M{i}.{ext}" for i in range(1, 5) for ext in ("csv", "png", "pdf")
    }


def test_plot_configuration_chart_returns_a_figure_with_one_column_per_configuration():
    from matplotlib.figure import Figure

    figure = plot_configuration_chart(lipset_result())
    assert isinstance(figure, Figure)
    (axes,) = figure.axes
    assert [t.get_text() for t in axes.get_xticklabels()] == ["H1", "H2"]


def test_keyword_defaults_are_the_settings_defaults():
    # One default per setting: the functions take theirs from QCASettings (pri_cut is
    # 0, as R's QCA package, for the command line, the API and the run alike).
    settings = {f.name for f in dataclasses.fields(QCASettings)}
    checked = 0
    for function in (fsqca, truth_table, solve, minimise, minimum_covers):
        for name, parameter in inspect.signature(function).parameters.items():
            # dir_exp=None is "no expectations", the settings' empty list.
            if name in settings - {"dir_exp"} and parameter.default is not parameter.empty:
                assert parameter.default == QCASettings.default(name), (function, name)
                checked += 1
    assert checked == 8 + 4 + 4 + 4 + 3  # fsqca, truth_table, solve, minimise, covers
    assert inspect.signature(resolve_half_memberships).parameters["rule"].default == "nudge"
    assert QCASettings.pri_cut == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: truth_table(reference("LF"), "SURV", LIPSET, incl_cut=1.2), "incl_cut = 1.2"),
        (lambda: truth_table(reference("LF"), "SURV", LIPSET, n_cut=0), "n_cut = 0"),
        (lambda: truth_table(reference("LF"), "SURV", LIPSET, pri_cut=-0.1), "pri_cut = -0.1"),
        (
            lambda: truth_table(reference("LF"), "SURV", LIPSET, half_membership="shift"),
            "half_membership = 'shift' is not one of",
        ),
        (lambda: minimise([0], (), 1, criterion="cost"), "criterion = 'cost' is not one of"),
        (lambda: minimum_covers(np.ones((1, 1), bool), max_models=0), "max_models = 0"),
    ],
)
def test_options_are_validated_by_the_settings_rules(call, message):
    with pytest.raises(ConfigError, match=re.escape(f"[qca] {message}")):
        call()
