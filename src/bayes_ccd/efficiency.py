"""Efficiency of resource use: data envelopment analysis (DEA) and the Malmquist index.

The seed paper measures the efficiency of healthcare resources of the provinces with
DEA: comprehensive (CCR, constant returns), pure technical (BCC, variable returns) and
scale efficiency, and the returns to scale of each province. This module computes

- radial envelopment scores under constant (CRS), variable (VRS) and, for the
  returns-to-scale test, non-increasing (NIRS) returns, input or output oriented
  (Charnes, Cooper & Rhodes 1978; Banker, Charnes & Cooper 1984);
- a second, max-slack phase with peers (lambdas), slacks and targets
  (Cooper, Seiford & Tone 2007, ch. 3);
- scale efficiency and the returns to scale by the NIRS comparison
  (Färe, Grosskopf & Lovell 1985; Coelli et al. 2005);
- super-efficiency (Andersen & Petersen 1993), with infeasibility reported as such;
- the Malmquist productivity index of consecutive periods and its decomposition
  (Färe, Grosskopf, Norris & Zhang 1994).

Every score is an *efficiency* in (0, 1] (super-efficiency may exceed 1): the input
orientation reports theta, the output orientation 1/phi, so that 1 is efficient and
larger is better in both. Each unit is one linear programme solved by HiGHS through
``scipy.optimize.linprog``; a solver failure raises :class:`EstimationError` naming the
unit, never a silent number.

Conventions
-----------
Data are ``n`` units with ``m`` inputs ``x_j`` and ``s`` outputs ``y_j``, all strictly
positive. The unit under evaluation is ``o``. Each constraint row of unit ``o`` is
divided by the unit's own value (``x_ij / x_io``, ``y_rj / y_ro``); this changes no
solution but makes every LP well scaled whatever the units of measurement.

References
----------
Andersen, P. & Petersen, N. C. (1993). A procedure for ranking efficient units in data
envelopment analysis. Management Science 39(10), 1261-1264.
Banker, R. D., Charnes, A. & Cooper, W. W. (1984). Some models for estimating technical
and scale inefficiencies in DEA. Management Science 30(9), 1078-1092.
Charnes, A., Cooper, W. W. & Rhodes, E. (1978). Measuring the efficiency of decision
making units. European Journal of Operational Research 2(6), 429-444.
Coelli, T. J. (1996). A guide to DEAP version 2.1: a data envelopment analysis
(computer) program. CEPA Working Paper 96/08, University of New England.
Coelli, T. J., Rao, D. S. P., O'Donnell, C. J. & Battese, G. E. (2005). An Introduction
to Efficiency and Productivity Analysis, 2nd ed. Springer.
Cooper, W. W., Seiford, L. M. & Tone, K. (2007). Data Envelopment Analysis, 2nd ed.
Springer.
Färe, R., Grosskopf, S. & Lovell, C. A. K. (1985). The Measurement of Efficiency of
Production. Kluwer-Nijhoff.
Färe, R., Grosskopf, S. & Lovell, C. A. K. (1994). Production Frontiers. Cambridge
University Press.
Färe, R., Grosskopf, S., Norris, M. & Zhang, Z. (1994). Productivity growth, technical
progress, and efficiency change in industrialized countries. American Economic Review
84(1), 66-83.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult, linprog

from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.exceptions import ConfigError, DataError, DataWarning, EstimationError
from bayes_ccd.panel import MISSING_TOKENS, MissingPolicy, read_csv_cells, validate_panel
from bayes_ccd.reports import run_metadata, write_json, write_table

ORIENTATIONS = ("input", "output")
RTS_CHOICES = ("crs", "vrs", "both")
RTS_LABELS = ("increasing", "constant", "decreasing")

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


@dataclass(frozen=True)
class DEAResult:
    """DEA of one cross-section of units.

    Attributes
    ----------
    efficiency
        One row per unit (index ``unit``). Columns, depending on ``rts``:
        ``crs`` (comprehensive technical efficiency, CCR), ``vrs`` (pure technical
        efficiency, BCC), ``scale`` (= crs / vrs), ``rts`` (returns to scale:
        increasing, constant, decreasing), ``nirs`` (the NIRS score behind ``rts``),
        ``crs_efficient`` / ``vrs_efficient`` (score 1 and all max-slack-phase slacks
        zero: efficient in the Pareto-Koopmans sense of Cooper et al. 2007, ch. 3),
        and with super-efficiency ``super_crs``, ``super_crs_feasible``,
        ``super_vrs``, ``super_vrs_feasible``, ``super_vrs_reason``.
    lambdas
        Long table of the intensity weights of the max-slack phase, one row per
        positive weight: ``model`` (crs/vrs), ``unit``, ``peer``, ``lambda``. The peers
        of a unit are its rows.
    slacks
        Per model, a table (unit by input and output) of the max-slack-phase slacks in
        the data's units: input excesses and output shortfalls, both >= 0.
    targets
        Per model, the projection of each unit on the efficient frontier
        (Cooper et al. 2007, ch. 3): input orientation
        ``x* = theta x_o - s-``, ``y* = y_o + s+``; output orientation
        ``x* = x_o - s-``, ``y* = phi y_o + s+``.
    inputs, outputs
        Column names, in order.
    orientation, rts
        As requested.
    config
        How the result was made (options, tolerance, solver), for ``metadata.json``.
    """

    efficiency: pd.DataFrame
    lambdas: pd.DataFrame
    slacks: dict[str, pd.DataFrame]
    targets: dict[str, pd.DataFrame]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    orientation: str
    rts: str
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def models(self) -> tuple[str, ...]:
        """The envelopment models solved: ``("crs",)``, ``("vrs",)`` or both."""
        return ("crs", "vrs") if self.rts == "both" else (self.rts,)

    @property
    def units(self) -> list[Any]:
        return list(self.efficiency.index)

    def peers(self, model: str) -> pd.Series:
        """Peers of each unit as text, ``"B (0.5000); E (0.5000)"`` (lambda in brackets)."""
        rows = self.lambdas[self.lambdas["model"] == model]
        text = {
            unit: "; ".join(f"{p} ({v:.4f})" for p, v in zip(g["peer"], g["lambda"], strict=True))
            for unit, g in rows.groupby("unit", sort=False)
        }
        return pd.Series(
            [text.get(u, "") for u in self.units],
            index=self.efficiency.index,
            name=f"{model}_peers",
        )

    def table(self) -> pd.DataFrame:
        """The flat table written as ``efficiency.csv``: scores, then per model the
        slacks (``<model>_slack_<variable>``) and peers (``<model>_peers``)."""
        parts = [self.efficiency]
        for model in self.models:
            parts.append(self.slacks[model].add_prefix(f"{model}_slack_"))
            parts.append(self.peers(model).to_frame())
        return pd.concat(parts, axis=1).reset_index()


# --------------------------------------------------------------------------------------
# validation


def _check_options(orientation: str, rts: str) -> None:
    if orientation not in ORIENTATIONS:
        raise ConfigError(f"DEA orientation {orientation!r} is not one of {ORIENTATIONS}")
    if rts not in RTS_CHOICES:
        raise ConfigError(f"DEA returns to scale {rts!r} is not one of {RTS_CHOICES}")


def minimum_units(n_inputs: int, n_outputs: int) -> int:
    """The DEA rule of thumb for the number of units, ``max(m s, 3 (m + s))``.

    With fewer units than this, many units are efficient only because they are
    unusual in some dimension, not because they are good (Cooper, Seiford & Tone 2007,
    rule of thumb).
    """
    return max(n_inputs * n_outputs, 3 * (n_inputs + n_outputs))


def _validated(
    inputs: pd.DataFrame, outputs: pd.DataFrame, *, period: Any = None, warn: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Check a cross-section and return ``(x, y)`` as float arrays ``(n, m)``, ``(n, s)``.

    Raises
    ------
    DataError
        Empty or mismatched tables, duplicated units, shared column names, non-numeric,
        missing, infinite or non-positive cells (naming unit and column), a column
        with zero variance, or fewer than two units.
    """
    if inputs.shape[1] == 0 or outputs.shape[1] == 0:
        raise DataError("DEA needs at least one input and one output column", period=period)
    repeated = _repeated_roles(
        [*((c, "input") for c in inputs.columns), *((c, "output") for c in outputs.columns)]
    )
    if repeated:
        raise DataError(repeated, period=period)
    if not inputs.index.equals(outputs.index):
        raise DataError(
            "inputs and outputs must have the same units (index) in the same order", period=period
        )
    duplicated = inputs.index[inputs.index.duplicated()]
    if len(duplicated):
        raise DataError("unit appears more than once", unit=duplicated[0], period=period)
    n = len(inputs)
    if n < 2:
        raise DataError(f"DEA needs at least two units, got {n}", period=period)
    arrays = [
        _positive_column(frame[column], column, period)
        for frame in (inputs, outputs)
        for column in frame.columns
    ]
    m = inputs.shape[1]
    data = np.column_stack(arrays)
    need = minimum_units(m, outputs.shape[1])
    if warn and n < need:
        warnings.warn(
            f"{n} units for {m} inputs and {outputs.shape[1]} outputs: the DEA rule of "
            f"thumb asks for at least max(m*s, 3*(m+s)) = {need}; with fewer units many "
            "will be efficient by default (Cooper, Seiford & Tone 2007)",
            DataWarning,
            stacklevel=3,
        )
    return data[:, :m], data[:, m:]


def _repeated_roles(named: Sequence[tuple[str, str]]) -> str | None:
    """Why a column named twice cannot be used, or ``None``.

    ``named`` pairs each column with its role (unit, period, input, output). A column
    may play one role once: an input listed twice would count the same resource twice,
    and a column both input and output makes every unit efficient.
    """
    roles: dict[str, list[str]] = {}
    for column, role in named:
        roles.setdefault(column, []).append(role)
    for column, its_roles in roles.items():
        distinct = list(dict.fromkeys(its_roles))
        if len(distinct) > 1:
            return (
                f"column '{column}' is named as {', '.join(distinct[:-1])} and "
                f"{distinct[-1]}; a column can play only one role"
            )
        if len(its_roles) > 1:
            return (
                f"column '{column}' is named {len(its_roles)} times as {distinct[0]}; "
                "name each column once"
            )
    return None


def _check_roles(
    unit: str | None, time: str | None, inputs: Sequence[str], outputs: Sequence[str]
) -> None:
    """:func:`_repeated_roles` of column arguments, as a :class:`ConfigError`."""
    named = [
        *((c, role) for c, role in ((unit, "unit"), (time, "period")) if c is not None),
        *((c, "input") for c in inputs),
        *((c, "output") for c in outputs),
    ]
    repeated = _repeated_roles(named)
    if repeated:
        raise ConfigError(repeated)


_NON_POSITIVE = (
    "DEA needs strictly positive inputs and outputs, this value is {cell}; "
    "re-measure or shift the column, or drop the unit"
)


def _positive_column(values: pd.Series, column: str, period: Any) -> np.ndarray:
    """One input or output column as floats, or a DataError naming the first bad cell."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    unconvertible = np.isnan(numbers) & values.notna().to_numpy()
    checks = (
        (unconvertible, "'{cell}' is not a number"),
        (~np.isfinite(numbers), "value is missing or infinite"),
        (numbers <= 0, _NON_POSITIVE),
    )
    for bad, message in checks:
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                message.format(cell=values.iloc[row]),
                column=column,
                unit=values.index[row],
                period=period,
            )
    if np.ptp(numbers) == 0:
        raise DataError(
            "column has the same value for every unit; under variable returns a constant "
            "input (output) makes every unit input- (output-) efficient, and it carries no "
            "information about relative efficiency: drop it",
            column=column,
            period=period,
        )
    return numbers


# --------------------------------------------------------------------------------------
# linear programmes


def _scale_rows(
    rts: str, n_lead: int, k: int, n_tail: int, a_ub: np.ndarray, b_ub: np.ndarray
) -> dict[str, np.ndarray | None]:
    """Add the returns-to-scale constraint on the lambdas (variables ``n_lead:n_lead+k``):
    none (CRS), ``sum lambda = 1`` (VRS) or ``sum lambda <= 1`` (NIRS)."""
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
    """Reference set for the standard models (undominated units) and what the
    super-efficiency reference sets need (see :func:`_super_reference`)."""
    n_dominators, sole = _dominance(x, y)
    return np.flatnonzero(n_dominators == 0), n_dominators, sole


def _super_reference(
    o: int, undominated: np.ndarray, n_dominators: np.ndarray, sole: np.ndarray
) -> np.ndarray:
    """Reference set of the Andersen-Petersen model of unit ``o``: every unit but ``o``
    that no unit other than ``o`` dominates (with ``o`` gone, units only ``o``
    dominated are part of the frontier)."""
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


# --------------------------------------------------------------------------------------
# public API


def returns_to_scale(
    crs: np.ndarray, vrs: np.ndarray, nirs: np.ndarray, *, tolerance: float = TOLERANCE
) -> np.ndarray:
    """Classify returns to scale by comparing CRS, VRS and NIRS efficiency.

    The rule of Färe, Grosskopf & Lovell (1985, 1994; as stated for DEA by Coelli et
    al. 2005), applied to the scores of one orientation:

    - ``|crs - vrs| <= tolerance``: **constant** (the unit is scale efficient);
    - otherwise ``|nirs - vrs| <= tolerance``: **decreasing** (the unit's projection lies
      on the part of the VRS frontier where NIRS and VRS coincide, above optimal scale);
    - otherwise (then ``nirs == crs``): **increasing** (below optimal scale).

    The classification refers to the unit's projection in the chosen orientation, so an
    inefficient unit may be ``increasing`` input-oriented but ``decreasing``
    output-oriented.

    Parameters
    ----------
    crs, vrs, nirs
        Efficiency scores in (0, 1], shape ``(n,)``.

    Returns
    -------
    ndarray of str, shape (n,)
    """
    crs, vrs, nirs = (np.asarray(a, dtype=float) for a in (crs, vrs, nirs))
    return np.select(
        [np.abs(crs - vrs) <= tolerance, np.abs(nirs - vrs) <= tolerance],
        ["constant", "decreasing"],
        default="increasing",
    )


def dea(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    *,
    orientation: str = "input",
    rts: str = "both",
    super_efficiency: bool = True,
    period: Any = None,
) -> DEAResult:
    r"""Data envelopment analysis of one cross-section: scores, slacks, peers, targets.

    For each unit ``o`` (one LP per unit and model, HiGHS via ``scipy.optimize.linprog``):

    **Phase one, input orientation** (CCR 1978 for CRS; BCC 1984 adds
    :math:`\sum_j\lambda_j = 1` for VRS; NIRS uses :math:`\sum_j\lambda_j \le 1`):

    .. math::
        \theta^* = \min_{\theta,\lambda\ge 0} \theta \quad\text{s.t.}\quad
        \sum_j \lambda_j x_{ij} \le \theta x_{io}\ (i=1..m),\quad
        \sum_j \lambda_j y_{rj} \ge y_{ro}\ (r=1..s).

    **Output orientation**:

    .. math::
        \phi^* = \max_{\phi,\lambda\ge 0} \phi \quad\text{s.t.}\quad
        \sum_j \lambda_j x_{ij} \le x_{io},\quad \sum_j \lambda_j y_{rj} \ge \phi\, y_{ro},

    reported as the efficiency :math:`1/\phi^*`.

    **Phase two** (Cooper, Seiford & Tone 2007, ch. 3, two-phase procedure): with the
    radial optimum fixed, maximise :math:`\sum_i s^-_i/x_{io} + \sum_r s^+_r/y_{ro}`
    subject to :math:`\sum_j\lambda_j x_{ij} + s^-_i = \theta^* x_{io}`,
    :math:`\sum_j\lambda_j y_{rj} - s^+_r = y_{ro}` (output orientation:
    :math:`x_{io}` and :math:`\phi^* y_{ro}` on the right), same returns-to-scale
    constraint. A unit is efficient (``crs_efficient``, ``vrs_efficient``) when its
    score is 1 and all these slacks are 0; the positive :math:`\lambda_j` are its
    peers.

    **Scale efficiency** is ``crs / vrs``; **returns to scale** follow from the NIRS
    score (:func:`returns_to_scale`), whose LP is solved only where CRS and VRS differ
    (NIRS lies between them, so elsewhere it equals both).

    **Super-efficiency** (Andersen & Petersen 1993) is the phase-one LP with unit ``o``
    removed from the reference set; it exceeds 1 for extreme efficient units and
    equals the ordinary score for inefficient ones, so its LP is solved only for units
    with score 1. With strictly positive data the CRS
    model is always feasible; the VRS model is infeasible when no convex combination of
    the other units produces at least ``y_o`` (input orientation) or uses at most
    ``x_o`` (output orientation). Infeasible cases are reported as NaN with
    ``super_<model>_feasible = False``, a reason, and a :class:`DataWarning`.

    Units dominated by another unit (no more of any input, no less of any output, and
    better somewhere) are left out of the reference sets: they lie inside the
    technology, so this changes no result and only shrinks the LPs.

    Parameters
    ----------
    inputs, outputs
        One row per unit, same index (the unit labels), numeric columns; values must
        be strictly positive.
    orientation
        ``"input"`` (radial input contraction) or ``"output"`` (radial output expansion).
    rts
        ``"crs"``, ``"vrs"`` or ``"both"`` (both models, scale efficiency, returns to
        scale).
    super_efficiency
        Also compute Andersen-Petersen super-efficiency for each model.
    period
        Only used in messages (the period of a panel this cross-section belongs to).

    Returns
    -------
    DEAResult

    Raises
    ------
    ConfigError
        Unknown ``orientation`` or ``rts``.
    DataError
        Invalid data (see :func:`minimum_units` for the warning on too few units).
    EstimationError
        An LP that must have a solution did not solve (names the unit).
    """
    _check_options(orientation, rts)
    x, y = _validated(inputs, outputs, period=period)
    labels = list(inputs.index)
    index = pd.Index(labels, name=UNIT)
    variables = [*inputs.columns, *outputs.columns]
    undominated, n_dominators, sole = _frontier_candidates(x, y)
    models = ("crs", "vrs") if rts == "both" else (rts,)

    solved = {
        model: _two_phase(
            x, y, undominated, orientation=orientation, rts=model, labels=labels, period=period
        )
        for model in models
    }
    table = pd.DataFrame(index=index)
    for model in models:
        table[model] = solved[model].efficiency
    if rts == "both":
        nirs = _nirs_scores(
            x,
            y,
            undominated,
            table["crs"].to_numpy(),
            table["vrs"].to_numpy(),
            orientation=orientation,
            labels=labels,
            period=period,
        )
        table["scale"] = table["crs"] / table["vrs"]
        table["rts"] = returns_to_scale(table["crs"], table["vrs"], nirs)
        table["nirs"] = nirs

    slacks, targets = {}, {}
    for model in models:
        result = solved[model]
        slack = pd.DataFrame(
            np.hstack([result.slack_x, result.slack_y]), index=index, columns=variables
        )
        slacks[model] = slack
        table[f"{model}_efficient"] = (result.efficiency == 1.0) & (slack.to_numpy() == 0).all(1)
        targets[model] = _targets(x, y, result, orientation, index, variables)

    if super_efficiency:
        for model in models:
            _add_super_efficiency(
                table,
                model,
                x,
                y,
                (undominated, n_dominators, sole),
                orientation=orientation,
                labels=labels,
                period=period,
            )

    lambdas = pd.DataFrame(
        [
            (model, labels[o], labels[j], float(v))
            for model in models
            for o, (peers, values) in enumerate(solved[model].peers)
            for j, v in zip(peers, values, strict=True)
        ],
        columns=["model", UNIT, "peer", "lambda"],
    )
    config = {
        "orientation": orientation,
        "rts": rts,
        "super_efficiency": super_efficiency,
        "inputs": list(inputs.columns),
        "outputs": list(outputs.columns),
        "n_units": len(labels),
        "tolerance": TOLERANCE,
        "second_phase": "max sum of slacks relative to the unit's own values",
        "solver": "scipy.optimize.linprog(method='highs')",
    }
    if period is not None:
        config["period"] = period
    return DEAResult(
        table,
        lambdas,
        slacks,
        targets,
        tuple(inputs.columns),
        tuple(outputs.columns),
        orientation,
        rts,
        config,
    )


def _targets(
    x: np.ndarray,
    y: np.ndarray,
    result: _TwoPhase,
    orientation: str,
    index: pd.Index,
    variables: list[str],
) -> pd.DataFrame:
    """Frontier projections (Cooper et al. 2007, ch. 3)."""
    radial = result.radial[:, None]
    if orientation == "input":
        x_hat, y_hat = radial * x - result.slack_x, y + result.slack_y
    else:
        x_hat, y_hat = x - result.slack_x, radial * y + result.slack_y
    return pd.DataFrame(np.hstack([x_hat, y_hat]), index=index, columns=variables)


def _nirs_scores(
    x: np.ndarray,
    y: np.ndarray,
    undominated: np.ndarray,
    crs: np.ndarray,
    vrs: np.ndarray,
    *,
    orientation: str,
    labels: list[Any],
    period: Any,
) -> np.ndarray:
    """NIRS efficiency, by LP only where CRS and VRS differ: the NIRS technology lies
    between the two, so where they agree it agrees with both."""
    nirs = vrs.copy()
    differ = np.flatnonzero(np.abs(crs - vrs) > TOLERANCE)
    radial = _radial_scores(
        x,
        y,
        x[differ],
        y[differ],
        [undominated] * len(differ),
        orientation=orientation,
        rts="nirs",
        labels=[labels[i] for i in differ],
        what=f"NIRS {orientation}-oriented",
        period=period,
    )
    if np.isnan(radial).any():
        unit = labels[int(differ[np.flatnonzero(np.isnan(radial))[0]])]
        raise EstimationError(
            f"NIRS LP reported infeasible for unit '{unit}'"
            f"{_in_period(period)}, which the model rules out (the unit "
            "itself is in the NIRS technology)"
        )
    nirs[differ] = _to_efficiency(radial, orientation)
    return np.where(np.abs(nirs - 1) <= TOLERANCE, 1.0, nirs)


def _add_super_efficiency(
    table: pd.DataFrame,
    model: str,
    x: np.ndarray,
    y: np.ndarray,
    dominance: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    orientation: str,
    labels: list[Any],
    period: Any,
) -> None:
    """Andersen-Petersen super-efficiency columns of one model, added in place.

    The AP LP is solved for units with score 1 only: for an inefficient unit, removing
    it from its own reference set cannot change its score (Andersen & Petersen 1993),
    so its super-efficiency is its ordinary score.
    """
    score = table[model].to_numpy()
    efficient = np.flatnonzero(score == 1.0)
    references = [_super_reference(o, *dominance) for o in efficient]
    radial = np.full(len(x), np.nan)
    radial[efficient] = _radial_scores(
        x,
        y,
        x[efficient],
        y[efficient],
        references,
        orientation=orientation,
        rts=model,
        labels=[labels[i] for i in efficient],
        what=f"{model.upper()} super-efficiency",
        period=period,
    )
    super_score = np.where(score == 1.0, _to_efficiency(radial, orientation), score)
    feasible = np.isfinite(super_score)
    table[f"super_{model}"] = super_score
    table[f"super_{model}_feasible"] = feasible
    if model == "crs" and not feasible.all():
        # Cannot happen with positive data: the CRS AP model always has a solution.
        unit = labels[int(np.flatnonzero(~feasible)[0])]
        raise EstimationError(
            f"CRS super-efficiency LP reported infeasible for unit "
            f"'{unit}', which positive data rule out"
        )
    if model == "vrs":
        side = (
            "produces at least this unit's outputs"
            if orientation == "input"
            else "uses at most this unit's inputs"
        )
        reason = f"infeasible: no convex combination of the other units {side}"
        table["super_vrs_reason"] = np.where(feasible, "", reason)
        if not feasible.all():
            units = [labels[i] for i in np.flatnonzero(~feasible)]
            warnings.warn(
                f"VRS {orientation}-oriented super-efficiency (Andersen-Petersen) has no "
                f"solution for {len(units)} unit(s) {units}{_in_period(period)}: {reason}. "
                "Reported as NaN with super_vrs_feasible = False",
                DataWarning,
                stacklevel=3,
            )


def _in_period(period: Any) -> str:
    return "" if period is None else f" in period {period}"


def dea_panel(
    panel: pd.DataFrame,
    *,
    unit: str,
    time: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    orientation: str = "input",
    rts: str = "both",
    super_efficiency: bool = True,
) -> dict[Any, DEAResult]:
    """:func:`dea` of every period of a long panel against that period's frontier.

    Returns
    -------
    dict
        Period (in increasing order) to :class:`DEAResult`.
    """
    frame = _panel_columns(panel, unit, time, inputs, outputs)
    results = {}
    for period, rows in frame.groupby(time, sort=True):
        rows = rows.set_index(unit)
        results[period] = dea(
            rows[list(inputs)],
            rows[list(outputs)],
            orientation=orientation,
            rts=rts,
            super_efficiency=super_efficiency,
            period=period,
        )
    return results


def _panel_columns(
    panel: pd.DataFrame, unit: str, time: str, inputs: Sequence[str], outputs: Sequence[str]
) -> pd.DataFrame:
    _check_roles(unit, time, inputs, outputs)
    needed = [unit, time, *inputs, *outputs]
    absent = [c for c in needed if c not in panel.columns]
    if absent:
        raise DataError(f"column(s) {absent} are not in the panel (columns: {list(panel.columns)})")
    frame = panel[needed]
    duplicated = frame.duplicated([unit, time])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise DataError("duplicate unit-period row", unit=row[unit], period=row[time])
    return frame


def malmquist(
    panel: pd.DataFrame,
    unit: str,
    time: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    orientation: str = "input",
) -> pd.DataFrame:
    r"""Malmquist productivity index of consecutive periods and its decomposition.

    With :math:`E^a(b)` the CRS efficiency (in the chosen orientation, in (0, 1] for
    a unit against its own period) of the unit's period-``b`` data against the
    period-``a`` frontier, the index from period ``t`` to ``t+1`` is the geometric
    mean of the indices of the two adjacent technologies (Färe, Grosskopf, Norris &
    Zhang 1994, whose output distance functions are these efficiencies in the
    output orientation; in the input orientation :math:`E = \theta = 1/D_i`, the
    reciprocal of Shephard's input distance function):

    .. math::
        M = \left[\frac{E^t(t+1)}{E^t(t)}\,\frac{E^{t+1}(t+1)}{E^{t+1}(t)}\right]^{1/2}
          = \underbrace{\frac{E^{t+1}(t+1)}{E^t(t)}}_{\text{effch}}\;
            \underbrace{\left[\frac{E^t(t+1)}{E^{t+1}(t+1)}\,
            \frac{E^t(t)}{E^{t+1}(t)}\right]^{1/2}}_{\text{techch}}.

    **Convention: values above 1 mean productivity growth** (efficiency catching up,
    frontier shift, or both), in either orientation. Under CRS both orientations give
    the same index. Efficiency change splits further (Färe et al. 1994) into
    pure efficiency change ``pech`` = :math:`V^{t+1}(t+1)/V^t(t)` with VRS scores
    :math:`V` and scale change ``sech`` = effch / pech, so
    ``tfpch = pech * sech * techch``.

    Parameters
    ----------
    panel
        Long table with one row per unit and period.
    unit, time
        Names of the unit and period columns.
    inputs, outputs
        Column names.
    orientation
        ``"input"`` or ``"output"``.

    Returns
    -------
    pandas.DataFrame
        One row per unit and consecutive pair of periods: ``unit``, ``period_from``,
        ``period_to``, ``effch``, ``techch``, ``pech``, ``sech``, ``tfpch``, and the
        efficiencies behind them: ``eff_from`` :math:`E^t(t)`, ``eff_to``
        :math:`E^{t+1}(t+1)`, ``eff_to_under_from`` :math:`E^t(t+1)`,
        ``eff_from_under_to`` :math:`E^{t+1}(t)`, ``vrs_from``, ``vrs_to``.

    Raises
    ------
    DataError
        Missing columns, duplicate unit-period rows, fewer than two periods, an
        unbalanced panel (a unit missing in a period) or invalid values.
    """
    _check_options(orientation, "both")
    frame = _panel_columns(panel, unit, time, inputs, outputs)
    periods = sorted(frame[time].unique())
    if len(periods) < 2:
        raise DataError(f"the Malmquist index needs at least two periods, got {periods}")
    units = list(dict.fromkeys(frame[unit]))
    by_period = {period: rows.set_index(unit) for period, rows in frame.groupby(time)}
    for period, rows in by_period.items():
        absent = [u for u in units if u not in rows.index]
        if absent:
            raise DataError(
                "the Malmquist index needs a balanced panel: unit has no row",
                unit=absent[0],
                period=period,
            )
    data = {
        period: _validated(
            rows.loc[units, list(inputs)],
            rows.loc[units, list(outputs)],
            period=period,
            warn=i == 0,
        )
        for i, (period, rows) in enumerate(by_period.items())
    }

    own: dict[tuple[str, Any], np.ndarray] = {}
    frontier: dict[Any, np.ndarray] = {}
    for period, (x, y) in data.items():
        frontier[period] = _frontier_candidates(x, y)[0]
        for model in ("crs", "vrs"):
            own[model, period] = _scores_against(
                data[period], (x, y), frontier[period], orientation, model, units, period
            )
    records = []
    for a, b in itertools.pairwise(periods):
        b_under_a = _scores_against(data[a], data[b], frontier[a], orientation, "crs", units, b)
        a_under_b = _scores_against(data[b], data[a], frontier[b], orientation, "crs", units, a)
        e_aa, e_bb = own["crs", a], own["crs", b]
        effch = e_bb / e_aa
        techch = np.sqrt((b_under_a / e_bb) * (e_aa / a_under_b))
        pech = own["vrs", b] / own["vrs", a]
        records.append(
            pd.DataFrame(
                {
                    UNIT: units,
                    "period_from": a,
                    "period_to": b,
                    "effch": effch,
                    "techch": techch,
                    "pech": pech,
                    "sech": effch / pech,
                    "tfpch": effch * techch,
                    "eff_from": e_aa,
                    "eff_to": e_bb,
                    "eff_to_under_from": b_under_a,
                    "eff_from_under_to": a_under_b,
                    "vrs_from": own["vrs", a],
                    "vrs_to": own["vrs", b],
                }
            )
        )
    return pd.concat(records, ignore_index=True)


def _scores_against(
    reference: tuple[np.ndarray, np.ndarray],
    evaluated: tuple[np.ndarray, np.ndarray],
    frontier: np.ndarray,
    orientation: str,
    model: str,
    labels: Sequence[Any],
    period: Any,
) -> np.ndarray:
    """Efficiencies of the ``evaluated`` points against the ``reference`` technology
    (CRS is always feasible with positive data; VRS is used for own-period points,
    which lie in their own technology)."""
    radial = _radial_scores(
        *reference,
        *evaluated,
        [frontier] * len(evaluated[0]),
        orientation=orientation,
        rts=model,
        labels=labels,
        what=f"Malmquist {model.upper()} {orientation}-oriented",
        period=period,
    )
    if np.isnan(radial).any():
        unit = labels[int(np.flatnonzero(np.isnan(radial))[0])]
        raise EstimationError(
            f"Malmquist {model.upper()} LP infeasible for unit '{unit}', "
            f"period {period}; positive data rule this out"
        )
    return _to_efficiency(radial, orientation)


# --------------------------------------------------------------------------------------
# summaries and output files


def dea_summary(result: DEAResult) -> dict[str, Any]:
    """Headline figures as the seed paper reports them.

    Keys: ``n_units``, ``orientation``, ``rts``; per model ``mean_crs`` (mean
    comprehensive technical efficiency), ``mean_vrs`` (pure technical); ``mean_scale``;
    ``n_efficient`` and ``share_efficient`` (units with comprehensive efficiency 1,
    "DEA efficient" in the seed paper; VRS score when only VRS was run),
    ``n_strongly_efficient`` (of those, units with zero slacks too),
    ``returns_to_scale`` (counts of increasing / constant / decreasing) and
    ``n_super_infeasible``.
    """
    table = result.efficiency
    main = result.models[0]
    n = len(table)
    efficient = int((table[main] == 1.0).sum())
    summary: dict[str, Any] = {
        "n_units": n,
        "orientation": result.orientation,
        "rts": result.rts,
        "efficient_model": main,
    }
    for model in result.models:
        summary[f"mean_{model}"] = float(table[model].mean())
    if "scale" in table:
        summary["mean_scale"] = float(table["scale"].mean())
    summary["n_efficient"] = efficient
    summary["share_efficient"] = efficient / n
    summary["n_strongly_efficient"] = int(table[f"{main}_efficient"].sum())
    if "rts" in table:
        counts = table["rts"].value_counts()
        summary["returns_to_scale"] = {label: int(counts.get(label, 0)) for label in RTS_LABELS}
    feasible = [c for c in table.columns if c.startswith("super_") and c.endswith("_feasible")]
    if feasible:
        summary["n_super_infeasible"] = int((~table[feasible]).any(axis=1).sum())
    return summary


def malmquist_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Geometric means of the Malmquist components per pair of periods and overall
    (ratios are averaged geometrically, as DEAP reports them; Coelli 1996)."""
    columns = ["effch", "techch", "pech", "sech", "tfpch"]

    def geomean(frame: pd.DataFrame) -> dict[str, float]:
        return {c: float(np.exp(np.log(frame[c]).mean())) for c in columns}

    by_pair = [
        {"period_from": _plain(a), "period_to": _plain(b), **geomean(rows)}
        for (a, b), rows in table.groupby(["period_from", "period_to"], sort=True)
    ]
    return {"by_period": by_pair, "overall": geomean(table)}


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON can hold."""
    return value.item() if isinstance(value, np.generic) else value


def summary_markdown(summary: Mapping[str, Any], period: Any = None) -> str:
    """The summary of :func:`dea_summary` as a few Markdown lines."""
    n = summary["n_units"]
    head = "DEA summary" + ("" if period is None else f", period {period}")
    lines = [f"## {head}", "", f"- Units: {n} ({summary['orientation']} orientation)"]
    labels = {
        "crs": "comprehensive technical efficiency (CRS)",
        "vrs": "pure technical efficiency (VRS)",
    }
    for model, label in labels.items():
        if f"mean_{model}" in summary:
            lines.append(f"- Mean {label}: {summary[f'mean_{model}']:.3f}")
    if "mean_scale" in summary:
        lines.append(f"- Mean scale efficiency: {summary['mean_scale']:.3f}")
    model = summary["efficient_model"].upper()
    lines.append(
        f"- DEA efficient ({model} score = 1): {summary['n_efficient']} of {n} "
        f"({100 * summary['share_efficient']:.1f}%), of which "
        f"{summary['n_strongly_efficient']} with zero slacks"
    )
    if "returns_to_scale" in summary:
        counts = summary["returns_to_scale"]
        lines.append("- Returns to scale: " + ", ".join(f"{counts[k]} {k}" for k in RTS_LABELS))
    if summary.get("n_super_infeasible"):
        lines.append(
            f"- Super-efficiency infeasible (VRS) for {summary['n_super_infeasible']} "
            "unit(s); see super_vrs_reason"
        )
    return "\n".join(lines) + "\n"


def _tables(
    by_period: Mapping[Any, DEAResult], make: Callable[[DEAResult], pd.DataFrame]
) -> pd.DataFrame:
    """``make(result)``; with several periods, one block per period stacked with a
    ``period`` column in front."""
    if list(by_period) == [None]:
        return make(by_period[None])
    blocks = []
    for period, result in by_period.items():
        block = make(result).copy()  # never modify a result's own tables
        block.insert(0, PERIOD, period)
        blocks.append(block)
    return pd.concat(blocks, ignore_index=True)


def write_dea_outputs(
    results: DEAResult | Mapping[Any, DEAResult],
    out_dir: str | Path,
    malmquist: pd.DataFrame | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    filled: pd.DataFrame | None = None,
) -> str:
    """Write the DEA tables, summary and metadata into ``out_dir``.

    Files: ``efficiency.{csv,md,tex}`` (:meth:`DEAResult.table`; with several periods
    one block per period with a ``period`` column), ``targets.{csv,md,tex}``,
    ``lambdas.csv``, ``summary.json``, ``summary.md``, ``metadata.json``, when
    ``malmquist`` is given ``malmquist.{csv,md,tex}`` and, when cells were filled by
    interpolation, ``filled_cells.csv``. Call it inside
    :func:`bayes_ccd.reports.atomic_output_dir` so that a failure leaves nothing
    behind.

    Parameters
    ----------
    results
        One :class:`DEAResult`, or a mapping period -> result (:func:`dea_panel`).
    out_dir
        Directory to write into (created if needed).
    malmquist
        Output of :func:`malmquist`.
    config
        Extra configuration recorded in ``metadata.json`` (e.g. the data file).
    filled
        Cells filled by interpolation (:attr:`DEAData.filled`), listed in the summary.

    Returns
    -------
    str
        The Markdown summary (also written as ``summary.md``), for printing.
    """
    out_dir = Path(out_dir)
    single = isinstance(results, DEAResult)
    by_period: Mapping[Any, DEAResult] = {None: results} if single else results
    first = next(iter(by_period.values()))
    caption = (
        f"DEA efficiency ({first.orientation} orientation): comprehensive (CRS), "
        "pure technical (VRS) and scale efficiency"
    )
    write_table(
        _tables(by_period, DEAResult.table), out_dir, "efficiency", digits=4, caption=caption
    )
    write_table(
        _tables(by_period, _long_targets),
        out_dir,
        "targets",
        digits=4,
        caption="DEA targets (projections on the efficient frontier)",
    )
    write_table(_tables(by_period, lambda r: r.lambdas), out_dir, "lambdas", formats=("csv",))

    summaries = {p: dea_summary(r) for p, r in by_period.items()}
    text = "# Data envelopment analysis\n\n" + "\n".join(
        summary_markdown(s, p) for p, s in summaries.items()
    )
    summary: dict[str, Any] = (
        summaries[None]
        if single
        else {"by_period": [{PERIOD: _plain(p), **s} for p, s in summaries.items()]}
    )
    if malmquist is not None:
        write_table(
            malmquist,
            out_dir,
            "malmquist",
            digits=4,
            caption="Malmquist productivity index (above 1: growth) and its decomposition",
        )
        summary["malmquist"] = malmquist_summary(malmquist)
        overall = summary["malmquist"]["overall"]
        text += (
            "\n## Malmquist index (geometric means over units and periods)\n\n"
            + "\n".join(f"- {k}: {v:.4f}" for k, v in overall.items())
            + "\n"
        )
    if filled is not None and len(filled):
        filled.to_csv(out_dir / "filled_cells.csv", index=False)
        cells = "; ".join(
            f"{row[UNIT]} {row[PERIOD]} {row['column']}" for _, row in filled.iterrows()
        )
        summary["n_filled_cells"] = len(filled)
        text += f"\nFilled by linear interpolation ({len(filled)} cells): {cells}.\n"
    write_json(summary, out_dir / "summary.json")
    (out_dir / "summary.md").write_text(text, encoding="utf-8")
    recorded = {**first.config, **(dict(config) if config else {})}
    if not single:
        recorded["periods"] = [_plain(p) for p in by_period]
        recorded.pop("period", None)
    write_json(run_metadata(recorded, seed=None), out_dir / "metadata.json")
    return text


def _long_targets(result: DEAResult) -> pd.DataFrame:
    """Targets of every model side by side: ``<model>_target_<variable>``."""
    return pd.concat(
        [result.targets[m].add_prefix(f"{m}_target_") for m in result.models], axis=1
    ).reset_index()


# --------------------------------------------------------------------------------------
# reading a CSV for the command line


@dataclass(frozen=True)
class DEAData:
    """The data of a DEA as read from a CSV file by :func:`read_dea_table`.

    Attributes
    ----------
    table
        The unit column (str), for a panel the period column (int), and the inputs and
        outputs (float), under the file's column names. The index (``line``) is each
        row's line in the file (the header is line 1). Panel rows are sorted by unit
        (in order of first appearance) then period.
    source
        The file name, for messages and ``metadata.json``.
    unit, time
        The unit and (for a panel) period columns of ``table``.
    filled
        Cells filled by linear interpolation (``unit, period, column, value``); empty
        unless ``missing="linear"``.
    """

    table: pd.DataFrame
    source: str
    unit: str
    time: str | None = None
    filled: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[UNIT, PERIOD, "column", "value"])
    )

    def locate(self, error: DataError) -> DataError:
        """``error`` (e.g. from :func:`dea` on this table) with this file and, when its
        unit and period pick one row, that row's line."""
        if error.file is not None:
            return error
        rows = self.table[self.unit] == error.unit
        if self.time is not None:
            rows &= self.table[self.time] == error.period
        line = int(self.table.index[rows][0]) if rows.sum() == 1 else None
        return DataError(
            error.message,
            file=self.source,
            line=line,
            column=error.column,
            unit=error.unit,
            period=error.period,
        )


def read_dea_table(
    path: str | Path,
    *,
    unit: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    time: str | None = None,
    period: int | str | None = None,
    missing: MissingPolicy = "error",
) -> DEAData:
    """Read the CSV of a DEA: one row per unit, or per unit and period.

    The file is read by :func:`bayes_ccd.panel.read_csv_cells`; a panel (``time``
    given) is checked by :func:`bayes_ccd.panel.validate_panel` (integer periods, no
    repeated unit-period row, balanced, numeric cells, missing values), a
    cross-section by the same rules without periods. Inputs and outputs must then be
    strictly positive, as :func:`dea` requires.

    Parameters
    ----------
    path
        CSV file with a header line.
    unit, time
        Unit column and, for a panel, period column (integer periods, e.g. years).
    inputs, outputs
        Columns to read as numbers; each column may be named once, in one role.
    period
        Keep only this period (needs ``time``). With ``missing="error"`` only this
        period's rows are checked, so a gap in another period does not block the
        analysis of this one; linear interpolation needs the other periods, so with
        ``missing="linear"`` the whole panel is checked and filled first.
    missing
        ``"error"`` or ``"linear"`` (interpolation within each unit over time, as the
        seed paper fills Hubei's 2020 outpatient visits and discharges; needs ``time``).

    Returns
    -------
    DEAData

    Raises
    ------
    ConfigError
        A column named twice (or as two of unit, period, input, output); an input or
        output called ``unit`` or ``period``; a period or interpolation without a time
        column; a period that is not an integer.
    DataError
        Missing, empty or header-only file; missing columns; the contract violations
        above; no rows for ``period``; a value that is not strictly positive. Messages
        name the file, line, column, unit and period.
    """
    _check_roles(unit, time, inputs, outputs)
    reserved = [c for c in (*inputs, *outputs) if c in (UNIT, PERIOD)]
    if reserved:
        raise ConfigError(
            f"an input or output may not be called {reserved[0]!r}: the panel and the "
            f"output tables use '{UNIT}' and '{PERIOD}' for the keys; rename the column"
        )
    if missing not in ("error", "linear"):
        raise ConfigError(f"missing-value policy {missing!r} is not 'error' or 'linear'")
    if time is None and period is not None:
        raise ConfigError("a period can only be selected in a panel: name its time column")
    if time is None and missing != "error":
        raise ConfigError("interpolating missing values needs a panel: name its time column")
    wanted = None if period is None else _period_number(period)
    source = str(path)
    raw = read_csv_cells(path, what="DEA data")
    columns = [*inputs, *outputs]
    absent = [c for c in [unit, *([] if time is None else [time]), *columns] if c not in raw]
    if absent:
        raise DataError(
            f"column(s) {absent} are not in the data (columns: {list(raw.columns)})",
            file=source,
        )
    if time is None:
        data = DEAData(_cross_section(raw, unit, columns, source), source, unit)
    else:
        data = _panel_table(raw, unit, time, columns, wanted, missing, source)
    _check_positive(data.table, unit, time, columns, source)
    return data


def _cross_section(
    raw: pd.DataFrame, unit: str, columns: Sequence[str], source: str
) -> pd.DataFrame:
    """The checks of :func:`bayes_ccd.panel.validate_panel` without periods, in its
    wording: unit labels, repeated units, numeric, finite and present cells."""
    labels = raw[unit].str.strip()
    empty = labels.index[labels.isin(MISSING_TOKENS)]
    if len(empty):
        raise DataError("the unit label is empty", file=source, line=int(empty[0]), column=unit)
    repeated = labels[labels.duplicated(keep=False)]
    if len(repeated):
        lines = repeated.index[repeated == repeated.iloc[0]].tolist()
        raise DataError(
            f"duplicate unit row (also on line(s) {lines[1:]})",
            file=source,
            line=lines[0],
            unit=repeated.iloc[0],
        )
    cells = raw[list(columns)].apply(lambda column: column.str.strip())
    is_missing = cells.isin(MISSING_TOKENS)
    numbers = cells.where(~is_missing).apply(pd.to_numeric, errors="coerce")
    problems = (
        (numbers.isna() & ~is_missing, "'{cell}' is not a number"),
        (np.isinf(numbers), "value is infinite"),
        (
            is_missing,
            "missing value; fill it or drop the unit (without a time column there are "
            "no other periods to interpolate from)",
        ),
    )
    for bad, message in problems:
        if bad.to_numpy().any():
            row, col = np.argwhere(bad.to_numpy())[0]
            line = int(raw.index[row])
            raise DataError(
                message.format(cell=cells.iat[row, col]),
                file=source,
                line=line,
                column=columns[col],
                unit=labels[line],
            )
    table = pd.concat([labels, numbers.astype(float)], axis=1)
    return table.rename_axis("line")


def _panel_table(
    raw: pd.DataFrame,
    unit: str,
    time: str,
    columns: Sequence[str],
    wanted: int | None,
    missing: MissingPolicy,
    source: str,
) -> DEAData:
    """A panel checked by :func:`bayes_ccd.panel.validate_panel`, optionally one period."""
    rows = raw
    if wanted is not None and missing == "error":
        numbers = pd.to_numeric(raw[time], errors="coerce")
        integer = numbers == np.round(numbers)
        _require_period(numbers[integer], wanted, source, time)
        # Rows whose period is no integer stay, for validate_panel to report them.
        rows = raw[(numbers == wanted) | ~integer]
    panel = validate_panel(
        rows,
        unit=unit,
        time=time,
        columns=columns,
        missing=missing,
        source=source,
        lines=rows.index.to_numpy(),
    )
    line_of = pd.Series(
        rows.index.to_numpy(),
        index=pd.MultiIndex.from_arrays(
            [rows[unit].str.strip(), pd.to_numeric(rows[time]).astype(int)]
        ),
    )
    # The panel's columns are (unit, period, *columns) under the conventions' names;
    # back to the file's names, which the CLI and the messages use.
    table = panel.frame.set_axis([unit, time, *columns], axis=1)
    keys = pd.MultiIndex.from_arrays([table[unit], table[time]])
    table.index = pd.Index(line_of.loc[keys].to_numpy(), name="line")
    filled = panel.filled
    if wanted is not None and missing == "linear":
        _require_period(table[time], wanted, source, time)
        table = table[table[time] == wanted]
        filled = filled[filled[PERIOD] == wanted].reset_index(drop=True)
    return DEAData(table, source, unit, time, filled)


def _period_number(period: int | str) -> int:
    try:
        return int(period)
    except (TypeError, ValueError):
        raise ConfigError(f"period '{period}' is not an integer") from None


def _require_period(periods: pd.Series, wanted: int, source: str, time: str) -> None:
    if not (periods == wanted).any():
        available = sorted(set(periods.astype(int).tolist()))
        raise DataError(
            f"no rows for period {wanted} (periods in the data: {available})",
            file=source,
            column=time,
        )


def _check_positive(
    table: pd.DataFrame, unit: str, time: str | None, columns: Sequence[str], source: str
) -> None:
    """The positivity :func:`dea` requires, located by file line (first line first)."""
    bad = table[list(columns)].to_numpy() <= 0
    if not bad.any():
        return
    rows, cols = np.nonzero(bad)
    first = np.argmin(table.index.to_numpy()[rows])
    line, column = int(table.index[rows[first]]), columns[cols[first]]
    raise DataError(
        _NON_POSITIVE.format(cell=f"{table.at[line, column]:g}"),
        file=source,
        line=line,
        column=column,
        unit=table.at[line, unit],
        period=None if time is None else int(table.at[line, time]),
    )


__all__ = [
    "ORIENTATIONS",
    "RTS_CHOICES",
    "RTS_LABELS",
    "TOLERANCE",
    "DEAData",
    "DEAResult",
    "dea",
    "dea_panel",
    "dea_summary",
    "malmquist",
    "malmquist_summary",
    "minimum_units",
    "read_dea_table",
    "returns_to_scale",
    "summary_markdown",
    "write_dea_outputs",
]
