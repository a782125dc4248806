"""The Malmquist productivity index of consecutive periods and its decomposition.

The index and its parts follow Färe, Grosskopf, Norris & Zhang (1994) and Färe,
Grosskopf & Lovell (1994); every efficiency is a DEA linear programme of
:mod:`bayes_ccd.efficiency.lp`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.conventions import UNIT
from bayes_ccd.efficiency.lp import _frontier_candidates, _radial_scores, _to_efficiency
from bayes_ccd.efficiency.model import _check_options, _panel_columns, _validated
from bayes_ccd.efficiency.result import MalmquistIndex, _plain
from bayes_ccd.exceptions import DataError, EstimationError
from bayes_ccd.settings import DEASettings


def malmquist(
    panel: pd.DataFrame,
    unit: str,
    time: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    orientation: str = DEASettings.orientation,
) -> MalmquistIndex:
    r"""Compute the Malmquist productivity index of consecutive periods and its parts.

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
    MalmquistIndex
        Its ``table`` has one row per unit and consecutive pair of periods: ``unit``,
        ``period_from``, ``period_to``, ``effch``, ``techch``, ``pech``, ``sech``,
        ``tfpch``, and the efficiencies behind them: ``eff_from`` :math:`E^t(t)`,
        ``eff_to`` :math:`E^{t+1}(t+1)`, ``eff_to_under_from`` :math:`E^t(t+1)`,
        ``eff_from_under_to`` :math:`E^{t+1}(t)`, ``vrs_from``, ``vrs_to``.

    Raises
    ------
    ConfigError
        Unknown ``orientation``; a column named twice.
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
    return MalmquistIndex(
        pd.concat(records, ignore_index=True), orientation, tuple(_plain(p) for p in periods)
    )


def _scores_against(
    reference: tuple[np.ndarray, np.ndarray],
    evaluated: tuple[np.ndarray, np.ndarray],
    frontier: np.ndarray,
    orientation: str,
    model: str,
    labels: Sequence[Any],
    period: Any,
) -> np.ndarray:
    """Return the efficiencies of the ``evaluated`` points against the ``reference`` technology.

    CRS is always feasible with positive data; VRS is used for own-period points only,
    which lie in their own technology.
    """
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
