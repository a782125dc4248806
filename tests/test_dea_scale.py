"""The batched, hierarchical DEA against a deliberately simple one-LP-per-unit reference.

The reference below solves, for every unit, the textbook envelopment LP against *all*
units (no dominance screening, no frontier search, no batching) with dense matrices and
``scipy.optimize.linprog``, then the max-slack LP, then the Andersen-Petersen LP against
all units but the one evaluated. The module must give the same scores, slacks and
super-efficiencies: the technologies are the same, so only solver noise may differ.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from bayes_ccd.efficiency import lp as dea_lp
from bayes_ccd.efficiency import model as dea_model
from bayes_ccd.efficiency.model import dea

# Two formulations solved by HiGHS agree to about 1e-9 on these well-scaled data.
SCORE_TOL = 1e-7


def simple_two_phase(
    x: np.ndarray, y: np.ndarray, orientation: str, rts: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Efficiency, relative slacks ``(n, m + s)`` and AP super-efficiency of every unit."""
    n, m = x.shape
    s = y.shape[1]
    scores, slacks, supers = np.empty(n), np.empty((n, m + s)), np.empty(n)
    for o in range(n):
        xs, ys = (x / x[o]).T, (y / y[o]).T  # unit-scaled rows, as in the textbook
        for exclude in (False, True):
            keep = np.arange(n) != o if exclude else np.ones(n, dtype=bool)
            k = int(keep.sum())
            if orientation == "input":  # min theta: X lam <= theta x_o, Y lam >= y_o
                a_ub = np.block([[-np.ones((m, 1)), xs[:, keep]], [np.zeros((s, 1)), -ys[:, keep]]])
                b_ub = np.r_[np.zeros(m), -np.ones(s)]
                c = np.r_[1.0, np.zeros(k)]
            else:  # max phi: X lam <= x_o, Y lam >= phi y_o
                a_ub = np.block([[np.zeros((m, 1)), xs[:, keep]], [np.ones((s, 1)), -ys[:, keep]]])
                b_ub = np.r_[np.ones(m), np.zeros(s)]
                c = np.r_[-1.0, np.zeros(k)]
            eq = {}
            if rts == "vrs":
                eq = {"A_eq": np.r_[0.0, np.ones(k)][None, :], "b_eq": [1.0]}
            res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs", **eq)
            value = np.nan if res.status != 0 else res.x[0]
            efficiency = value if orientation == "input" else 1 / value
            if exclude:
                supers[o] = efficiency
                continue
            scores[o] = efficiency
            # phase two: max sum of relative slacks with the radial score fixed
            a_eq = np.block([[xs, np.eye(m), np.zeros((m, s))], [ys, np.zeros((s, m)), -np.eye(s)]])
            b_eq = np.r_[np.full(m, value), np.ones(s)]
            if orientation == "output":
                b_eq = np.r_[np.ones(m), np.full(s, value)]
            if rts == "vrs":
                a_eq = np.vstack([a_eq, np.r_[np.ones(n), np.zeros(m + s)]])
                b_eq = np.r_[b_eq, 1.0]
            second = linprog(
                np.r_[np.zeros(n), -np.ones(m + s)],
                A_eq=a_eq,
                b_eq=b_eq,
                bounds=(0, None),
                method="highs",
            )
            slacks[o] = second.x[n:]
    return scores, slacks, supers


def random_cross_section(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units on a noisy Cobb-Douglas frontier, 4 inputs and 2 outputs (seeded)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(1.0, 10.0, size=(n, 4))
    core = np.prod(x ** np.array([0.3, 0.25, 0.25, 0.1]), axis=1)
    y = core[:, None] * np.exp(-np.abs(rng.normal(0, 0.3, (n, 1)))) * rng.uniform(0.5, 1.5, (n, 2))
    index = pd.Index([f"u{i}" for i in range(n)], name="unit")
    return (
        pd.DataFrame(x, index=index, columns=["x1", "x2", "x3", "x4"]),
        pd.DataFrame(y, index=index, columns=["y1", "y2"]),
    )


@pytest.mark.parametrize("orientation", ["input", "output"])
def test_fast_path_equals_simple_reference(
    orientation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Groups of 4 make the hierarchical frontier search run several levels on 70 units
    # (without it, the search only starts beyond 64 undominated units).
    monkeypatch.setattr(dea_lp, "_HIERARCHY_GROUP", 4)
    monkeypatch.setattr("bayes_ccd.efficiency.model._HIERARCHY_GROUP", 4)
    inputs, outputs = random_cross_section(70, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # infeasible VRS super-efficiency is expected
        result = dea(inputs, outputs, orientation=orientation, rts="both")
    x, y = inputs.to_numpy(), outputs.to_numpy()
    table = result.efficiency
    for model in ("crs", "vrs"):
        scores, slacks, supers = simple_two_phase(x, y, orientation, model)
        np.testing.assert_allclose(table[model], scores, atol=SCORE_TOL)
        relative = result.slacks[model].to_numpy() / np.hstack([x, y])
        np.testing.assert_allclose(relative, np.where(slacks < 1e-6, 0, slacks), atol=1e-6)
        feasible = table[f"super_{model}_feasible"].to_numpy()
        np.testing.assert_array_equal(feasible, np.isfinite(supers))
        np.testing.assert_allclose(
            table[f"super_{model}"][feasible], supers[feasible], atol=SCORE_TOL
        )


def test_infeasible_blocks_leave_the_others_of_their_batch_solved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Under VRS, input orientation, a point producing more than any reference unit has
    # no solution and makes the whole block-diagonal LP infeasible. The feasibility LP
    # of the batch names the three such points (NaN) and the others are solved in one
    # more call, as they would be alone: three HiGHS calls in all, not a bisection.
    inputs, outputs = random_cross_section(30, seed=4)
    x, y = inputs.to_numpy(), outputs.to_numpy()
    x_eval, y_eval = x.copy(), y.copy()
    bad = [3, 13, 21]
    y_eval[bad] = y.max(axis=0) * np.array([[1.5, 1.0], [1.0, 2.0], [1.2, 1.2]])
    calls = []
    solve = dea_lp._solve
    monkeypatch.setattr(dea_lp, "_solve", lambda lp: calls.append(1) or solve(lp))
    radial, _ = dea_lp._radial_batch(
        x, y, x_eval, y_eval, orientation="input", rts="vrs", labels=list(inputs.index), what="t"
    )
    assert np.isnan(radial[bad]).all()
    assert len(calls) == 3
    others = np.delete(np.arange(30), bad)
    scores, _, _ = simple_two_phase(x, y, "input", "vrs")
    np.testing.assert_allclose(radial[others], scores[others], atol=SCORE_TOL)


def simple_nirs(x: np.ndarray, y: np.ndarray, orientation: str) -> np.ndarray:
    """NIRS efficiency of every unit, one LP against all units (sum of lambdas <= 1)."""
    n, m = x.shape
    s = y.shape[1]
    scores = np.empty(n)
    for o in range(n):
        xs, ys = (x / x[o]).T, (y / y[o]).T
        if orientation == "input":
            a_ub = np.block([[-np.ones((m, 1)), xs], [np.zeros((s, 1)), -ys]])
            b_ub, c = np.r_[np.zeros(m), -np.ones(s)], np.r_[1.0, np.zeros(n)]
        else:
            a_ub = np.block([[np.zeros((m, 1)), xs], [np.ones((s, 1)), -ys]])
            b_ub, c = np.r_[np.ones(m), np.zeros(s)], np.r_[-1.0, np.zeros(n)]
        a_ub = np.vstack([a_ub, np.r_[0.0, np.ones(n)]])
        res = linprog(c, A_ub=a_ub, b_ub=np.r_[b_ub, 1.0], bounds=(0, None), method="highs")
        scores[o] = res.x[0] if orientation == "input" else 1 / res.x[0]
    return scores


@pytest.mark.parametrize("orientation", ["input", "output"])
def test_nirs_scores_equal_the_nirs_lp_of_every_unit(orientation: str) -> None:
    # Where a CRS optimum has sum(lambda) <= 1 the NIRS score is taken from CRS without
    # its LP, where CRS and VRS agree from both; every unit must still match its LP.
    inputs, outputs = random_cross_section(60, seed=5)
    result = dea(inputs, outputs, orientation=orientation, rts="both", super_efficiency=False)
    expected = simple_nirs(inputs.to_numpy(), outputs.to_numpy(), orientation)
    np.testing.assert_allclose(result.efficiency["nirs"], expected, atol=SCORE_TOL)


def test_plainly_infeasible_vrs_super_efficiency_is_settled_by_the_bound() -> None:
    # Units 0 and 1 against references {1, 2} and {0, 2}. Input orientation: unit 0
    # produces 5 > 4, the most any reference unit produces, so no convex combination
    # reaches it; unit 1 produces 4, exactly the bound, and is left to the LP.
    # Output orientation: unit 0 uses 1 < 2, less than any reference unit.
    x = np.array([[1.0], [2.0], [3.0]])
    y = np.array([[5.0], [4.0], [1.0]])
    references = [np.array([1, 2]), np.array([0, 2])]
    flagged = dea_model._vrs_super_infeasible(x, y, np.array([0, 1]), references, "input")
    assert flagged.tolist() == [True, False]
    flagged = dea_model._vrs_super_infeasible(x, y, np.array([0, 1]), references, "output")
    assert flagged.tolist() == [True, False]
