"""The linear programmes of DEA, solved by HiGHS through ``scipy.optimize.linprog``.

Radial envelopment (phase one), max-slack (phase two) and the dominance screening that
shrinks the reference sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult, linprog

from bayes_ccd.exceptions import EstimationError

#: Scores within this distance of 1 count as efficient, two scores within it as equal
#: (returns to scale), and slacks below it (relative to the unit's own value) as zero.
#: HiGHS meets its primal/dual feasibility tolerances of 1e-7 on these unit-scaled LPs,
#: so differences below 1e-6 are solver noise, while any difference a paper would print
#: (three or four decimals) is far above it.
TOLERANCE = 1e-6

#: Rows of the dominance test per block: bounds its memory to block x n x (m + s) bytes.
_DOMINANCE_BLOCK = 256

_LINPROG_STATUS = {
    1: "iteration limit reached",
    2: "infeasible",
    3: "unbounded",
    4: "numerical difficulties",
}


# --------------------------------------------------------------------------------------
# linear programmes


def _scale_rows(
    rts: str, n_lead: int, k: int, n_tail: int, a_ub: np.ndarray, b_ub: np.ndarray
) -> dict[str, np.ndarray | None]:
    """Add the returns-to-scale constraint on the lambdas (variables ``n_lead:n_lead+k``).

    None for CRS, ``sum lambda = 1`` for VRS, ``sum lambda <= 1`` for NIRS.
    """
    row = np.zeros((1, n_lead + k + n_tail))
    row[0, n_lead : n_lead + k] = 1.0
    if rts == "vrs":
        return {"A_ub": a_ub, "b_ub": b_ub, "A_eq": row, "b_eq": np.ones(1)}
    if rts == "nirs":
        return {
            "A_ub": np.vstack([a_ub, row]),
            "b_ub": np.r_[b_ub, 1.0],
            "A_eq": None,
            "b_eq": None,
        }
    return {"A_ub": a_ub, "b_ub": b_ub, "A_eq": None, "b_eq": None}


def _radial_lp(xs: np.ndarray, ys: np.ndarray, orientation: str, rts: str) -> dict[str, Any]:
    """Phase one: the radial envelopment LP of one unit on unit-scaled data.

    ``xs`` is ``(m, k)`` with ``xs[i, j] = x_ij / x_io``, ``ys`` is ``(s, k)`` likewise;
    the variables are ``(score, lambda_1..lambda_k)``, all >= 0.

    Input:   min theta  s.t.  sum_j lambda_j x_ij/x_io <= theta,  sum_j lambda_j y_rj/y_ro >= 1
    Output:  max phi    s.t.  sum_j lambda_j x_ij/x_io <= 1,      sum_j lambda_j y_rj/y_ro >= phi
    """
    m, k = xs.shape
    s = ys.shape[0]
    if orientation == "input":
        lead_x, lead_y, rhs_x, rhs_y, sign = -1.0, 0.0, 0.0, -1.0, 1.0
    else:
        lead_x, lead_y, rhs_x, rhs_y, sign = 0.0, 1.0, 1.0, 0.0, -1.0
    a_ub = np.block([[np.full((m, 1), lead_x), xs], [np.full((s, 1), lead_y), -ys]])
    b_ub = np.r_[np.full(m, rhs_x), np.full(s, rhs_y)]
    c = np.zeros(k + 1)
    c[0] = sign
    return {"c": c, **_scale_rows(rts, 1, k, 0, a_ub, b_ub)}


def _slack_lp(
    xs: np.ndarray, ys: np.ndarray, radial: float, orientation: str, rts: str
) -> dict[str, Any]:
    """Phase two: maximise the slacks with the radial score fixed at its optimum.

    Variables ``(lambda (k), sigma- (m), sigma+ (s))`` >= 0, slacks relative to the unit's
    own values (``s-_i = sigma-_i x_io``, ``s+_r = sigma+_r y_ro``):

    max sum sigma- + sum sigma+  s.t.
        sum_j lambda_j x_ij/x_io + sigma-_i = theta* (input) or 1 (output)
        sum_j lambda_j y_rj/y_ro - sigma+_r = 1 (input) or phi* (output)

    Maximising relative rather than raw slacks (Cooper et al. 2007 sum the
    raw ones) keeps the chosen solution independent of the units of measurement.
    """
    m, k = xs.shape
    s = ys.shape[0]
    a_eq = np.block([[xs, np.eye(m), np.zeros((m, s))], [ys, np.zeros((s, m)), -np.eye(s)]])
    if orientation == "input":
        b_eq = np.r_[np.full(m, radial), np.ones(s)]
    else:
        b_eq = np.r_[np.ones(m), np.full(s, radial)]
    c = np.r_[np.zeros(k), -np.ones(m + s)]
    rows = _scale_rows(rts, 0, k, m + s, np.zeros((0, k + m + s)), np.zeros(0))
    if rows["A_eq"] is not None:
        a_eq, b_eq = np.vstack([a_eq, rows["A_eq"]]), np.r_[b_eq, rows["b_eq"]]
    a_ub = rows["A_ub"] if rows["A_ub"].shape[0] else None
    b_ub = rows["b_ub"] if a_ub is not None else None
    return {"c": c, "A_ub": a_ub, "b_ub": b_ub, "A_eq": a_eq, "b_eq": b_eq}


def _solve(lp: dict[str, Any]) -> OptimizeResult:
    return linprog(
        lp["c"],
        A_ub=lp["A_ub"],
        b_ub=lp["b_ub"],
        A_eq=lp["A_eq"],
        b_eq=lp["b_eq"],
        bounds=(0, None),
        method="highs",
    )


def _failure(result: OptimizeResult, unit: Any, what: str, period: Any = None) -> EstimationError:
    reason = _LINPROG_STATUS.get(result.status, "solver failure")
    where = f"unit '{unit}'" + ("" if period is None else f", period {period}")
    return EstimationError(
        f"{what} LP failed for {where}: {reason} ({result.message}); "
        "check the unit's data for extreme values"
    )


def _to_efficiency(radial: np.ndarray, orientation: str) -> np.ndarray:
    """Efficiency in (0, 1] from the radial optimum: theta, or 1/phi."""
    return np.array(radial, dtype=float) if orientation == "input" else 1.0 / radial


def _dominance(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Count, for each unit, the units that dominate it, and name the sole dominator.

    Unit ``j`` dominates ``k`` when ``x_j <= x_k`` and ``y_j >= y_k`` with at least one
    strict inequality. A dominated unit lies in the free-disposal hull of its dominator,
    so dropping it from the reference set leaves the CRS, VRS and NIRS technologies,
    and hence every score, slack and target, unchanged; it only shrinks the LPs.

    Returns
    -------
    n_dominators : ndarray of int, shape (n,)
    sole : ndarray of int, shape (n,)
        The dominating unit where ``n_dominators == 1``, else -1.
    """
    n = len(x)
    n_dominators = np.zeros(n, dtype=int)
    sole = np.full(n, -1)
    for start in range(0, n, _DOMINANCE_BLOCK):
        block = slice(start, start + _DOMINANCE_BLOCK)
        xb, yb = x[block, None, :], y[block, None, :]
        weak = (x[None] <= xb).all(-1) & (y[None] >= yb).all(-1)
        strict = (x[None] < xb).any(-1) | (y[None] > yb).any(-1)
        dominated_by = weak & strict
        counts = dominated_by.sum(axis=1)
        n_dominators[start : start + len(counts)] = counts
        sole[start : start + len(counts)] = np.where(counts == 1, dominated_by.argmax(axis=1), -1)
    return n_dominators, sole


def _frontier_candidates(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the reference set of the standard models and the dominance counts.

    The reference set is the undominated units; the counts and sole dominators are what
    the super-efficiency reference sets need (see :func:`_super_reference`).
    """
    n_dominators, sole = _dominance(x, y)
    return np.flatnonzero(n_dominators == 0), n_dominators, sole


def _super_reference(
    o: int, undominated: np.ndarray, n_dominators: np.ndarray, sole: np.ndarray
) -> np.ndarray:
    """Return the reference set of the Andersen-Petersen model of unit ``o``.

    Every unit but ``o`` that no unit other than ``o`` dominates: with ``o`` gone, units
    only ``o`` dominated are part of the frontier.
    """
    freed = np.flatnonzero((n_dominators == 1) & (sole == o))
    ref = np.union1d(undominated, freed)
    return ref[ref != o]


def _radial_scores(
    x_ref: np.ndarray,
    y_ref: np.ndarray,
    x_eval: np.ndarray,
    y_eval: np.ndarray,
    references: Sequence[np.ndarray],
    *,
    orientation: str,
    rts: str,
    labels: Sequence[Any],
    what: str,
    period: Any = None,
) -> np.ndarray:
    """Phase-one radial optimum of each evaluated point against its reference units.

    Returns the radial scores (theta or phi), NaN where the LP is infeasible; any other
    solver failure raises :class:`EstimationError`.
    """
    radial = np.full(len(x_eval), np.nan)
    for o, ref in enumerate(references):
        xs, ys = (x_ref[ref] / x_eval[o]).T, (y_ref[ref] / y_eval[o]).T
        result = _solve(_radial_lp(xs, ys, orientation, rts))
        if result.status == 0:
            radial[o] = result.x[0]
        elif result.status != 2:
            raise _failure(result, labels[o], what, period)
    return radial


@dataclass(frozen=True)
class _TwoPhase:
    efficiency: np.ndarray  # (n,)
    radial: np.ndarray  # (n,) theta or phi
    slack_x: np.ndarray  # (n, m), data units
    slack_y: np.ndarray  # (n, s)
    peers: list[tuple[np.ndarray, np.ndarray]]  # per unit: (peer indices, lambdas)


def _two_phase(
    x: np.ndarray,
    y: np.ndarray,
    reference: np.ndarray,
    *,
    orientation: str,
    rts: str,
    labels: Sequence[Any],
    period: Any = None,
) -> _TwoPhase:
    """Radial score (phase one) then max slacks (phase two) of every unit."""
    n, m = x.shape
    radial = np.empty(n)
    slack_x, slack_y = np.empty_like(x), np.empty_like(y)
    peers = []
    x_ref, y_ref = x[reference], y[reference]
    k = len(reference)
    model = rts.upper()
    for o in range(n):
        xs, ys = (x_ref / x[o]).T, (y_ref / y[o]).T
        first = _solve(_radial_lp(xs, ys, orientation, rts))
        if first.status != 0:
            raise _failure(first, labels[o], f"{model} {orientation}-oriented", period)
        radial[o] = first.x[0]
        second = _solve(_slack_lp(xs, ys, radial[o], orientation, rts))
        if second.status != 0:
            raise _failure(second, labels[o], f"{model} max-slack (phase two)", period)
        lam, sigma = second.x[:k], second.x[k:]
        # Relative slacks below the tolerance are solver noise, not excess input.
        sigma = np.where(sigma < TOLERANCE, 0.0, sigma)
        slack_x[o], slack_y[o] = sigma[:m] * x[o], sigma[m:] * y[o]
        keep = lam > TOLERANCE
        peers.append((reference[keep], lam[keep]))
    efficiency = _to_efficiency(radial, orientation)
    over = efficiency > 1 + TOLERANCE
    if over.any():
        unit = labels[int(np.flatnonzero(over)[0])]
        raise EstimationError(
            f"{model} efficiency of unit '{unit}' came out above 1, which "
            "the model rules out; the LP solution is unreliable (check "
            "for extreme values in the data)"
        )
    # Scores within the tolerance of 1 are 1 up to solver noise: report them as exactly
    # 1 so that "efficient" is an exact comparison downstream and targets of efficient
    # units are their own data.
    at_one = np.abs(efficiency - 1) <= TOLERANCE
    efficiency[at_one], radial[at_one] = 1.0, 1.0
    return _TwoPhase(efficiency, radial, slack_x, slack_y, peers)
