"""Entropy weight method: indicator weights and the composite indices U1 and U2.

For ``n`` observations (unit-periods) and ``m`` indicators ``x_ij`` of one subsystem
(seed paper, "Entropy weight method"; Shannon 1948; e.g. Zou, Yun & Sun 2006):

1. min-max standardisation by direction,
   ``z_ij = (x_ij - min_j) / (max_j - min_j)`` for a benefit (``+``) indicator and
   ``z_ij = (max_j - x_ij) / (max_j - min_j)`` for a cost (``-``) indicator;
2. a small shift ``z'_ij = z_ij + delta`` so that ``p log p`` is defined for the
   worst observation (``delta = 1e-4`` by default; the choice changes weights only in
   the fourth decimal for panels of this size, and is recorded with every run);
3. proportions ``p_ij = z'_ij / sum_i z'_ij``;
4. entropy ``e_j = -(1 / ln n) sum_i p_ij ln p_ij``, in [0, 1];
5. divergence ``d_j = 1 - e_j``;
6. weights ``w_j = d_j / sum_j d_j``.

The composite index of observation ``i`` is ``U_i = sum_j w_j z_ij`` (unshifted, so
that ``U`` lies in [0, 1]). By default weights are computed once from all unit-periods
pooled, as the seed paper does, so indices are comparable across years; ``per-period``
computes weights and the min-max range within each period instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.data.panel import Panel
from bayes_ccd.exceptions import DataError
from bayes_ccd.indices.indicators import IndicatorSystem, Subsystem
from bayes_ccd.settings import EntropySettings

Scope = Literal["pooled", "per-period"]
#: Shift added to standardised values (configuration: ``[entropy] shift``).
DEFAULT_SHIFT: float = EntropySettings.shift


def min_max_standardise(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Min-max standardisation by direction (step 1 above).

    Parameters
    ----------
    values
        ``(n, m)`` array: observations by indicators.
    directions
        ``m`` entries, ``"+"`` (benefit) or ``"-"`` (cost).

    Returns
    -------
    numpy.ndarray
        ``(n, m)`` array in [0, 1]; 1 is the best observation of each indicator.

    Raises
    ------
    ValueError
        If an indicator has zero spread (the entropy stage checks first, so that its
        DataError names the column).
    """
    values = np.asarray(values, dtype=float)
    lo, hi = values.min(axis=0), values.max(axis=0)
    spread = hi - lo
    if np.any(spread <= 0):
        raise ValueError(f"zero spread in indicator(s) {np.flatnonzero(spread <= 0).tolist()}")
    benefit = np.array([d == "+" for d in directions])
    return np.where(benefit, (values - lo) / spread, (hi - values) / spread)


def entropy_weights(standardised: np.ndarray, shift: float = DEFAULT_SHIFT) -> pd.DataFrame:
    """Entropy, divergence and weight of each indicator (steps 2-6 above).

    Parameters
    ----------
    standardised
        ``(n, m)`` min-max standardised values in [0, 1], ``n >= 2``.
    shift
        ``delta`` added before taking proportions; must be positive.

    Returns
    -------
    pandas.DataFrame
        ``m`` rows with columns ``entropy``, ``divergence``, ``weight``.
    """
    if shift <= 0:
        raise ValueError("the shift must be positive so that log(p) is defined")
    z = np.asarray(standardised, dtype=float) + shift
    n = z.shape[0]
    if n < 2:
        raise ValueError("the entropy weight method needs at least two observations")
    p = z / z.sum(axis=0)
    entropy = -(p * np.log(p)).sum(axis=0) / np.log(n)
    divergence = 1.0 - entropy
    return pd.DataFrame(
        {"entropy": entropy, "divergence": divergence, "weight": divergence / divergence.sum()}
    )


def composite_index(standardised: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``U_i = sum_j w_j z_ij``: the weighted sum of standardised indicators."""
    return np.asarray(standardised, dtype=float) @ np.asarray(weights, dtype=float)


@dataclass(frozen=True)
class EntropyResult:
    """Weights per indicator and the composite indices per unit-period.

    Attributes
    ----------
    weights
        One row per indicator (and per period under ``per-period``): ``subsystem,
        index, dimension, indicator, label, direction, entropy, divergence, weight`` and
        ``dimension_weight`` (the sum of its dimension's weights).
    indices
        ``unit, period, U1, U2`` (index names from the indicator system).
    """

    weights: pd.DataFrame
    indices: pd.DataFrame
    scope: Scope
    shift: float


def _subsystem_block(
    panel_rows: pd.DataFrame, subsystem: Subsystem, shift: float, source: str, period: int | None
) -> tuple[pd.DataFrame, np.ndarray]:
    values = panel_rows[subsystem.columns].to_numpy(dtype=float)
    spread = values.max(axis=0) - values.min(axis=0)
    if np.any(spread <= 0):
        column = subsystem.columns[int(np.flatnonzero(spread <= 0)[0])]
        raise DataError(
            "indicator is constant (zero spread) "
            + ("in this period " if period is not None else "over all units and periods ")
            + "and carries no information; drop it from the indicator system",
            file=source,
            column=column,
            period=period,
        )
    z = min_max_standardise(values, subsystem.directions)
    table = entropy_weights(z, shift)
    info = pd.DataFrame(
        {
            "subsystem": subsystem.label,
            "index": subsystem.index,
            "dimension": [i.dimension for i in subsystem.indicators],
            "indicator": subsystem.columns,
            "label": [i.label for i in subsystem.indicators],
            "direction": subsystem.directions,
        }
    )
    table = pd.concat([info, table], axis=1)
    table["dimension_weight"] = table.groupby("dimension")["weight"].transform("sum")
    return table, composite_index(z, table["weight"].to_numpy())


def subsystem_indices(
    panel: Panel,
    system: IndicatorSystem,
    *,
    scope: Scope = EntropySettings.scope,
    shift: float = DEFAULT_SHIFT,
) -> EntropyResult:
    """Entropy weights and composite indices U1, U2 of both subsystems of a panel.

    Parameters
    ----------
    panel
        A validated panel holding every indicator column of ``system``.
    system
        The indicator system (two subsystems).
    scope
        ``"pooled"``: one set of weights from all unit-periods (seed paper);
        ``"per-period"``: weights and standardisation within each period.
    shift
        The entropy shift ``delta``.
    """
    missing = [c for c in system.indicator_columns if c not in panel.columns]
    if missing:
        raise DataError(
            f"indicator column(s) {missing} named in {system.source} are not in the data",
            file=panel.source,
        )
    frame = panel.frame
    if scope == "pooled":
        groups = [(None, frame)]
    elif scope == "per-period":
        groups = list(frame.groupby(PERIOD, sort=True))
    else:
        raise ValueError(f"unknown entropy scope {scope!r}; use 'pooled' or 'per-period'")
    weight_tables, index_tables = [], []
    for period, rows in groups:
        indices = rows[[UNIT, PERIOD]].copy()
        for subsystem in system.subsystems:
            table, u = _subsystem_block(rows, subsystem, shift, panel.source, period)
            if period is not None:
                table.insert(0, PERIOD, period)
            weight_tables.append(table)
            indices[subsystem.index] = u
        index_tables.append(indices)
    indices = pd.concat(index_tables).sort_index().reset_index(drop=True)
    return EntropyResult(pd.concat(weight_tables, ignore_index=True), indices, scope, shift)
