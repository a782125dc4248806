"""Coupling coordination degree against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.indices.coupling import (
    ccd_by_period,
    ccd_table,
    coordination_index,
    coordination_level,
    coupling_coordination_degree,
    coupling_degree,
    levels_table,
)


@pytest.mark.parametrize(
    ("u1", "u2", "c", "t", "d"),
    [
        # C = 2 sqrt(0.16) / 1 = 0.8; T = 0.5; D = sqrt(0.4)
        (0.2, 0.8, 0.8, 0.5, math.sqrt(0.4)),
        # equal indices: C = 1, D = sqrt(T)
        (0.5, 0.5, 1.0, 0.5, math.sqrt(0.5)),
        # C = 2 sqrt(0.09) / 1 = 0.6; T = 0.5; D = sqrt(0.3)
        (0.1, 0.9, 0.6, 0.5, math.sqrt(0.3)),
        # C = 2 sqrt(0.04)/0.5 = 0.8; T = 0.25; D = sqrt(0.2)
        (0.1, 0.4, 0.8, 0.25, math.sqrt(0.2)),
        # nothing developed: C defined as 0
        (0.0, 0.0, 0.0, 0.0, 0.0),
        # one subsystem at zero: C = 0 however developed the other
        (0.0, 0.7, 0.0, 0.35, 0.0),
    ],
)
def test_classic_ccd_matches_hand_values(u1, u2, c, t, d):
    out = coupling_coordination_degree(np.array([u1]), np.array([u2]))
    assert out["C"][0] == pytest.approx(c, abs=1e-15)
    assert out["T"][0] == pytest.approx(t, abs=1e-15)
    assert out["D"][0] == pytest.approx(d, abs=1e-15)


def test_revised_coupling_matches_wang_et_al_formula_by_hand():
    # C = sqrt((1 - |0.2 - 0.8|) * 0.2 / 0.8) = sqrt(0.4 * 0.25) = sqrt(0.1)
    assert coupling_degree(0.2, 0.8, "revised") == pytest.approx(math.sqrt(0.1))
    # symmetric in U1, U2; equal indices give C = 1
    assert coupling_degree(0.8, 0.2, "revised") == pytest.approx(math.sqrt(0.1))
    assert coupling_degree(0.3, 0.3, "revised") == pytest.approx(1.0)
    # the revised C is never above the classic one for unequal indices (it spreads C)
    u = np.linspace(0.01, 1, 40)
    u1, u2 = np.meshgrid(u, u)
    assert np.all(coupling_degree(u1, u2, "revised") <= coupling_degree(u1, u2) + 1e-12)


def test_weights_of_t_are_configurable():
    assert coordination_index(0.2, 0.6, alpha=0.25, beta=0.75) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="sum to 1"):
        coordination_index(0.2, 0.6, alpha=0.5, beta=0.6)


def test_inputs_outside_the_unit_interval_are_rejected():
    with pytest.raises(ValueError, match="U1"):
        coupling_degree(-0.1, 0.5)
    with pytest.raises(ValueError, match="U2"):
        coupling_degree(0.1, np.nan)
    with pytest.raises(ValueError, match="formula"):
        coupling_degree(0.1, 0.2, "other")


@pytest.mark.parametrize(
    ("d", "level", "label"),
    [
        (0.0, 1, "extreme imbalance"),
        (0.0999, 1, "extreme imbalance"),
        (0.1, 2, "serious imbalance"),
        (0.35, 4, "mild imbalance"),
        (0.5, 6, "barely coordinated"),
        (0.6324, 7, "primary coordination"),
        (0.8999, 9, "good coordination"),
        (0.9, 10, "quality coordination"),
        (1.0, 10, "quality coordination"),
    ],
)
def test_ten_level_classification(d, level, label):
    levels, labels = coordination_level(np.array([d]))
    assert levels[0] == level
    assert labels[0] == label


def test_levels_table_covers_the_unit_interval_in_steps_of_a_tenth():
    table = levels_table()
    assert table["level"].tolist() == list(range(1, 11))
    assert table["interval"].iloc[0] == "[0.0, 0.1)"
    assert table["interval"].iloc[-1] == "[0.9, 1.0]"


def test_ccd_table_and_period_table_layout():
    indices = pd.DataFrame(
        {
            "unit": ["a", "a", "b", "b"],
            "period": [1, 2, 1, 2],
            "U1": [0.2, 0.5, 0.1, 0.1],
            "U2": [0.8, 0.5, 0.9, 0.4],
        }
    )
    regions = pd.Series({"a": "east", "b": "west"})
    table = ccd_table(indices, regions=regions)
    assert table.columns.tolist() == [
        "unit",
        "period",
        "region",
        "U1",
        "U2",
        "C",
        "T",
        "D",
        "level",
        "label",
    ]
    assert table["D"].tolist() == pytest.approx(
        [math.sqrt(0.4), math.sqrt(0.5), math.sqrt(0.3), math.sqrt(0.2)]
    )
    wide = ccd_by_period(table)
    assert wide.index.tolist() == ["a", "b", "mean"]
    assert wide.loc["mean", "1"] == pytest.approx((math.sqrt(0.4) + math.sqrt(0.3)) / 2)
