"""Data envelopment analysis of one cross-section and of every period of a panel.

CCR/BCC scores, slacks, peers, targets, scale efficiency, returns to scale and
super-efficiency, with the checks of the data that the linear programmes need.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.conventions import UNIT
from bayes_ccd.efficiency.lp import (
    _HIERARCHY_GROUP,
    TOLERANCE,
    _frontier_candidates,
    _frontier_reference,
    _radial_scores,
    _super_reference,
    _to_efficiency,
    _two_phase,
    _TwoPhase,
)
from bayes_ccd.efficiency.result import DEAResult, Efficiency
from bayes_ccd.exceptions import ConfigError, DataError, DataWarning, EstimationError
from bayes_ccd.exceptions import warn as warn_user
from bayes_ccd.settings import DEASettings

# --------------------------------------------------------------------------------------
# validation


def _check_options(orientation: str, rts: str, super_efficiency: bool = True) -> None:
    """Validate the options by the rules of :class:`~bayes_ccd.settings.DEASettings`."""
    DEASettings(orientation=orientation, rts=rts, super_efficiency=super_efficiency)


def minimum_units(n_inputs: int, n_outputs: int) -> int:
    """Return the DEA rule of thumb for the number of units, ``max(m s, 3 (m + s))``.

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
        warn_user(
            f"{n} units for {m} inputs and {outputs.shape[1]} outputs: the DEA rule of "
            f"thumb asks for at least max(m*s, 3*(m+s)) = {need}; with fewer units many "
            "will be efficient by default (Cooper, Seiford & Tone 2007)",
            DataWarning,
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
    orientation: str = DEASettings.orientation,
    rts: str = DEASettings.rts,
    super_efficiency: bool = DEASettings.super_efficiency,
    period: Any = None,
) -> DEAResult:
    r"""Compute the DEA of one cross-section: scores, slacks, peers, targets.

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
    (NIRS lies between them, so elsewhere it equals both) and the CRS intensities sum
    to more than 1 (else the CRS optimum is feasible under NIRS and settles it).

    **Super-efficiency** (Andersen & Petersen 1993) is the phase-one LP with unit ``o``
    removed from the reference set; it exceeds 1 for extreme efficient units and
    equals the ordinary score for inefficient ones, so its LP is solved only for units
    with score 1. With strictly positive data the CRS
    model is always feasible; the VRS model is infeasible when no convex combination of
    the other units produces at least ``y_o`` (input orientation) or uses at most
    ``x_o`` (output orientation), settled without the LP where one output (input) of
    ``o`` lies beyond every reference unit's. Infeasible cases are reported as NaN
    with ``super_<model>_feasible = False``, a reason, and a :class:`DataWarning`.

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
        The period of a panel this cross-section belongs to, named in messages and
        recorded in the result.

    Returns
    -------
    DEAResult

    Raises
    ------
    ConfigError
        Unknown ``orientation`` or ``rts`` (choices of
        :class:`~bayes_ccd.settings.DEASettings`).
    DataError
        Invalid data (see :func:`minimum_units` for the warning on too few units).
    EstimationError
        An LP that must have a solution did not solve (names the unit).
    """
    _check_options(orientation, rts, super_efficiency)
    x, y = _validated(inputs, outputs, period=period)
    labels = list(inputs.index)
    index = pd.Index(labels, name=UNIT)
    variables = [*inputs.columns, *outputs.columns]
    undominated, n_dominators, sole = _frontier_candidates(x, y)
    models = ("crs", "vrs") if rts == "both" else (rts,)

    reference = _references(x, y, undominated, orientation, models, labels, period)
    solved = {
        model: _two_phase(
            x,
            y,
            reference[model][0],
            orientation=orientation,
            rts=model,
            labels=labels,
            period=period,
            settled=reference[model][1],
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
            reference["vrs"][0],
            table["crs"].to_numpy(),
            table["vrs"].to_numpy(),
            solved["crs"].intensity,
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
        period,
    )


def _references(
    x: np.ndarray,
    y: np.ndarray,
    undominated: np.ndarray,
    orientation: str,
    models: Sequence[str],
    labels: list[Any],
    period: Any,
) -> dict[str, tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]]:
    """Return the reference units of each model's LPs (and of NIRS, under ``"vrs"``).

    Up to ``_HIERARCHY_GROUP // 2`` undominated units, all of them (the search would
    cost more than it saves; measured in ``benchmarks/bench_dea.py``). Beyond, only the
    efficient ones, found by the hierarchical search of
    :func:`~bayes_ccd.efficiency.lp._frontier_reference`: first under VRS among the
    undominated units, then under CRS among those (a unit inefficient under VRS is
    inefficient under CRS). Either way the reference units span the technology, so no
    score or max-slack optimum changes; only the LPs shrink.

    Each model's entry is ``(reference units, settled)``: with the search, ``settled``
    holds the efficient units and the phase-one optimum the search found for them
    (see :func:`~bayes_ccd.efficiency.lp._two_phase`), else ``None``.
    """
    if len(undominated) <= _HIERARCHY_GROUP // 2:
        return {"crs": (undominated, None), "vrs": (undominated, None)}
    options = {"orientation": orientation, "labels": labels, "period": period}
    vrs, vrs_radial = _frontier_reference(x, y, undominated, rts="vrs", **options)
    found = {"vrs": (vrs, (vrs, vrs_radial))}
    if "crs" in models:
        crs, crs_radial = _frontier_reference(x, y, vrs, rts="crs", **options)
        found["crs"] = (crs, (crs, crs_radial))
    return found


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
    crs_intensity: np.ndarray,
    *,
    orientation: str,
    labels: list[Any],
    period: Any,
) -> np.ndarray:
    r"""Return the NIRS efficiency, solving its LP only where neither model settles it.

    The NIRS technology lies between the two, so where they agree it agrees with both.
    Where a CRS optimum has :math:`\sum_j \lambda_j \le 1` (``crs_intensity``, the
    intensities of the max-slack solution, itself a radial optimum), that optimum is
    feasible under NIRS, whose technology lies inside the CRS one, so the NIRS score is
    the CRS score (Banker & Thrall 1992); only the other units need the NIRS LP.
    """
    nirs = vrs.copy()
    settled = (np.abs(crs - vrs) > TOLERANCE) & (crs_intensity <= 1.0)
    nirs[settled] = crs[settled]
    differ = np.flatnonzero((np.abs(crs - vrs) > TOLERANCE) & ~settled)
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


def _vrs_super_infeasible(
    x: np.ndarray,
    y: np.ndarray,
    units: np.ndarray,
    references: Sequence[np.ndarray],
    orientation: str,
) -> np.ndarray:
    r"""Flag the VRS Andersen-Petersen LPs that are infeasible by a bound, unsolved.

    Input orientation: a convex combination of the reference units produces at most
    :math:`\max_j y_{rj}` of output ``r``, so the LP of unit ``o`` is infeasible when
    some :math:`y_{ro}` exceeds that maximum; output orientation: it uses at least
    :math:`\min_j x_{ij}`, infeasible when some :math:`x_{io}` is below it. Only
    differences beyond :data:`~bayes_ccd.efficiency.lp.TOLERANCE` (relative) are
    flagged; the LP decides the rest, the borderline cases included.
    """
    flagged = np.zeros(len(units), dtype=bool)
    for i, (o, ref) in enumerate(zip(units, references, strict=True)):
        if not len(ref):
            continue
        if orientation == "input":
            flagged[i] = bool((y[o] > y[ref].max(axis=0) * (1 + TOLERANCE)).any())
        else:
            flagged[i] = bool((x[o] < x[ref].min(axis=0) * (1 - TOLERANCE)).any())
    return flagged


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
    if model == "vrs":
        # Settle the plainly infeasible LPs without solving them: an infeasible LP makes
        # its whole batch infeasible, and bisecting it costs several HiGHS calls.
        screened = _vrs_super_infeasible(x, y, efficient, references, orientation)
        efficient = efficient[~screened]
        references = [r for r, out in zip(references, screened, strict=True) if not out]
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
            warn_user(
                f"VRS {orientation}-oriented super-efficiency (Andersen-Petersen) has no "
                f"solution for {len(units)} unit(s) {units}{_in_period(period)}: {reason}. "
                "Reported as NaN with super_vrs_feasible = False",
                DataWarning,
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
    orientation: str = DEASettings.orientation,
    rts: str = DEASettings.rts,
    super_efficiency: bool = DEASettings.super_efficiency,
) -> Efficiency:
    """Run :func:`dea` on every period of a long panel against that period's frontier.

    Parameters
    ----------
    panel
        Long table with one row per unit and period.
    unit, time
        Names of the unit and period columns.
    inputs, outputs
        Column names.
    orientation, rts, super_efficiency
        As for :func:`dea`.

    Returns
    -------
    Efficiency
        The DEA of each period, in increasing order of period (no Malmquist index:
        see :func:`~bayes_ccd.efficiency.malmquist.malmquist`).

    Raises
    ------
    ConfigError
        A column named twice, or as both unit or period and input or output.
    DataError
        Missing columns, duplicate unit-period rows, or invalid data in a period.
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
    return Efficiency(results)


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
