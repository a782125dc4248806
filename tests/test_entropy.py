"""Entropy weights and composite indices against hand calculation and invariances."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.data.panel import validate_panel
from bayes_ccd.exceptions import DataError
from bayes_ccd.indices.entropy import (
    composite_index,
    entropy_weights,
    min_max_standardise,
    subsystem_indices,
)
from bayes_ccd.indices.indicators import parse_indicator_system

# A 3 x 2 table worked by hand: x1 is a benefit indicator, x2 a cost indicator.
X = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 30.0]])
DIRECTIONS = ["+", "-"]
# Step 1: z1 = (x1 - 1) / 3 = [0, 1/3, 1];  z2 = (30 - x2) / 20 = [1, 1/2, 0].
Z = np.array([[0.0, 1.0], [1 / 3, 0.5], [1.0, 0.0]])
# Steps 2-5 with delta = 1e-4, n = 3, k = 1/ln 3:
#   z1 + delta = [0.0001, 0.3334333, 1.0001], sum 1.3336333
#   p1 = [7.49831e-05, 0.2500187, 0.7499063]
#   e1 = -(sum p ln p) / ln 3 = 0.5125751444350597, d1 = 0.4874248555649403
#   z2 + delta = [1.0001, 0.5001, 0.0001], sum 1.5003
#   p2 = [0.6666000, 0.3333333, 6.66533e-05]
#   e2 = 0.579999639647226, d2 = 0.420000360352774
E_HAND = np.array([0.5125751444350597, 0.579999639647226])
D_HAND = 1 - E_HAND
W_HAND = D_HAND / D_HAND.sum()  # [0.5371515..., 0.4628485...]


def test_standardisation_by_direction_matches_hand_values():
    np.testing.assert_allclose(min_max_standardise(X, DIRECTIONS), Z, atol=1e-15)


def test_entropy_weights_match_hand_calculation():
    table = entropy_weights(Z, shift=1e-4)
    np.testing.assert_allclose(table["entropy"], E_HAND, rtol=1e-12)
    np.testing.assert_allclose(table["divergence"], D_HAND, rtol=1e-12)
    np.testing.assert_allclose(table["weight"], W_HAND, rtol=1e-12)
    assert math.isclose(W_HAND[0], 0.5371515, rel_tol=1e-6)


def test_composite_index_is_weighted_sum_of_standardised_values():
    u = composite_index(Z, W_HAND)
    np.testing.assert_allclose(u, [W_HAND[1], W_HAND[0] / 3 + W_HAND[1] / 2, W_HAND[0]])


def test_point_mass_entropy_has_a_closed_form_that_depends_on_the_shift():
    # One observation at 1, n - 1 at 0: after the shift, p_last = (1 + d) / (1 + n d)
    # and p_other = d / (1 + n d), so e = -(p_last ln p_last + (n-1) p_o ln p_o) / ln n.
    # With n = 1000 and d = 1e-4 this is 0.1349, not 0: the shift matters for large n,
    # which is why it is recorded with every run.
    n, d = 1000, 1e-4
    point = np.zeros(n)
    point[-1] = 1.0
    p_last, p_other = (1 + d) / (1 + n * d), d / (1 + n * d)
    expected = -(p_last * math.log(p_last) + (n - 1) * p_other * math.log(p_other)) / math.log(n)
    table = entropy_weights(np.column_stack([np.linspace(0, 1, n), point]), shift=d)
    assert table["entropy"][1] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.13487531, abs=1e-8)
    # Evenly spread values carry little information: entropy near 1, little weight.
    assert table["entropy"][0] > 0.95
    assert table["weight"][1] > 0.9


def test_weights_are_invariant_to_affine_rescaling_and_direction_flip():
    rng = np.random.default_rng(1)
    x = rng.lognormal(size=(50, 3))
    base = entropy_weights(min_max_standardise(x, ["+", "+", "-"]))
    rescaled = x * [10.0, 0.5, 3.0] + [100.0, -4.0, 7.0]
    np.testing.assert_allclose(
        entropy_weights(min_max_standardise(rescaled, ["+", "+", "-"]))["weight"],
        base["weight"],
        rtol=1e-12,
    )
    # A cost indicator x is the benefit indicator -x.
    flipped = x.copy()
    flipped[:, 2] *= -1
    np.testing.assert_allclose(
        entropy_weights(min_max_standardise(flipped, ["+", "+", "+"]))["weight"],
        base["weight"],
        rtol=1e-12,
    )


def test_zero_spread_and_bad_shift_are_rejected():
    with pytest.raises(ValueError, match="zero spread"):
        min_max_standardise(np.ones((4, 2)), ["+", "+"])
    with pytest.raises(ValueError, match="positive"):
        entropy_weights(Z, shift=0.0)


SYSTEM = parse_indicator_system(
    {
        "subsystems": {
            "a": {
                "index": "U1",
                "indicators": [
                    {"column": "x1", "direction": "+", "dimension": "d1"},
                    {"column": "x2", "direction": "-", "dimension": "d1"},
                ],
            },
            "b": {
                "index": "U2",
                "indicators": [
                    {"column": "y1", "direction": "+", "dimension": "d2"},
                    {"column": "y2", "direction": "+", "dimension": "d3"},
                ],
            },
        }
    }
)


def _panel(values: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"unit": ["a", "a", "b", "b", "c", "c"], "year": [1, 2, 1, 2, 1, 2], **values}
    )


def test_subsystem_indices_pooled_reproduce_the_hand_case():
    # Units x periods laid out so that the U1 indicators pooled are X repeated twice.
    frame = _panel(
        {
            "x1": [1, 1, 2, 2, 4, 4],
            "x2": [10, 10, 20, 20, 30, 30],
            "y1": [1, 2, 3, 4, 5, 6],
            "y2": [6, 5, 4, 3, 2, 1],
        }
    )
    panel = validate_panel(frame, unit="unit", time="year")
    result = subsystem_indices(panel, SYSTEM)
    u1_weights = result.weights.query("index == 'U1'")["weight"].to_numpy()
    # Duplicating every observation changes n (ln 6 instead of ln 3) but not p's shape:
    # recompute the hand case for n = 6 from the same proportions halved.
    z = np.repeat(Z, 2, axis=0) + 1e-4
    p = z / z.sum(axis=0)
    e = -(p * np.log(p)).sum(axis=0) / math.log(6)
    np.testing.assert_allclose(u1_weights, (1 - e) / (1 - e).sum(), rtol=1e-12)
    assert set(result.indices.columns) == {"unit", "period", "U1", "U2"}
    assert result.weights.groupby("index")["weight"].sum().tolist() == pytest.approx([1, 1])
    # y1 and y2 are benefit indicators and mirror images (z2 = 1 - z1), so they have the
    # same entropy, hence equal weights, and U2 = (z1 + 1 - z1) / 2 = 0.5 in every row.
    np.testing.assert_allclose(result.indices["U2"], 0.5, rtol=1e-12)


def test_per_period_scope_standardises_within_each_period():
    frame = _panel(
        {
            "x1": [1, 5, 2, 6, 4, 9],
            "x2": [10, 1, 20, 2, 30, 4],
            "y1": [1, 2, 3, 4, 5, 7],
            "y2": [6, 5, 4, 3, 2, 1],
        }
    )
    panel = validate_panel(frame, unit="unit", time="year")
    result = subsystem_indices(panel, SYSTEM, scope="per-period")
    assert sorted(result.weights["period"].unique()) == [1, 2]
    period1 = result.indices.query("period == 1").set_index("unit")
    # Period 1 holds exactly the hand table X for U1.
    np.testing.assert_allclose(
        period1.loc[["a", "b", "c"], "U1"],
        [W_HAND[1], W_HAND[0] / 3 + W_HAND[1] / 2, W_HAND[0]],
        rtol=1e-12,
    )


def test_constant_indicator_is_a_data_error_naming_the_column():
    frame = _panel(
        {
            "x1": [1, 1, 2, 2, 4, 4],
            "x2": [3, 3, 3, 3, 3, 3],
            "y1": [1, 2, 3, 4, 5, 6],
            "y2": [6, 5, 4, 3, 2, 1],
        }
    )
    panel = validate_panel(frame, unit="unit", time="year")
    with pytest.raises(DataError, match="column 'x2'.*constant"):
        subsystem_indices(panel, SYSTEM)


def test_constant_within_a_period_is_reported_with_the_period():
    frame = _panel(
        {
            "x1": [1, 1, 2, 2, 4, 4],
            "x2": [3, 1, 3, 2, 3, 5],
            "y1": [1, 2, 3, 4, 5, 6],
            "y2": [6, 5, 4, 3, 2, 1],
        }
    )
    panel = validate_panel(frame, unit="unit", time="year")
    with pytest.raises(DataError, match="column 'x2', period 1"):
        subsystem_indices(panel, SYSTEM, scope="per-period")
