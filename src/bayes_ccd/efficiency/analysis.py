"""The efficiency stage of a run: DEA of one year and the Malmquist index of the panel."""

from __future__ import annotations

import pandas as pd

from bayes_ccd.conventions import DEFAULT_SEED, PERIOD, UNIT
from bayes_ccd.efficiency.bootstrap import dea_bootstrap
from bayes_ccd.efficiency.malmquist import malmquist
from bayes_ccd.efficiency.model import dea
from bayes_ccd.efficiency.result import Efficiency
from bayes_ccd.exceptions import ConfigError
from bayes_ccd.settings import DEASettings


def efficiency_analysis(
    frame: pd.DataFrame,
    settings: DEASettings,
    *,
    unit: str = UNIT,
    time: str = PERIOD,
    seed: int = DEFAULT_SEED,
) -> Efficiency:
    """Compute the DEA of ``settings.year`` and the Malmquist index over every period.

    This is the efficiency stage of ``bayes-ccd run``: the DEA (with the settings'
    orientation, returns to scale and super-efficiency) of the cross-section of
    ``settings.year``, and the Malmquist index of every pair of consecutive periods of
    the panel in the same orientation; with ``settings.bootstrap`` also the
    Simar-Wilson bootstrap of the cross-section
    (:func:`~bayes_ccd.efficiency.bootstrap.dea_bootstrap`, ``settings.replications``
    replications from ``seed``).

    Parameters
    ----------
    frame
        Long panel with one row per unit and period and the input and output columns
        of ``settings``.
    settings
        The ``[dea]`` settings.
    unit, time
        Names of the unit and period columns.
    seed
        Seed of the bootstrap.

    Returns
    -------
    Efficiency
        The DEA of ``settings.year`` and the Malmquist index.

    Raises
    ------
    ConfigError
        ``settings.year`` is not a period of the panel.
    DataError
        Invalid data, including an unbalanced panel (the Malmquist index needs every
        unit in every period).

    Examples
    --------
    The demo run's efficiency stage::

        from bayes_ccd.data.demo import bundled_demo_path
        from bayes_ccd.data.panel import read_panel
        from bayes_ccd.settings import DEASettings

        panel = read_panel(bundled_demo_path(), unit="province", time="year",
                           missing="linear")
        efficiency = efficiency_analysis(panel.frame, DEASettings(year=2021))
        print(efficiency.summary())
        efficiency.write("results/dea")
    """
    periods = sorted(frame[time].unique())
    if settings.year not in periods:
        span = f"{periods[0]}-{periods[-1]}" if periods else "no rows"
        raise ConfigError(f"[dea] year = {settings.year} is not a period of the panel ({span})")
    rows = frame[frame[time] == settings.year].set_index(unit)
    result = dea(
        rows[list(settings.inputs)],
        rows[list(settings.outputs)],
        orientation=settings.orientation,
        rts=settings.rts,
        super_efficiency=settings.super_efficiency,
        period=settings.year,
    )
    index = malmquist(
        frame, unit, time, settings.inputs, settings.outputs, orientation=settings.orientation
    )
    bootstrap = None
    if settings.bootstrap:
        bootstrap = dea_bootstrap(
            rows[list(settings.inputs)],
            rows[list(settings.outputs)],
            orientation=settings.orientation,
            rts=settings.rts,
            replications=settings.replications,
            seed=seed,
            period=settings.year,
        )
    return Efficiency({settings.year: result}, malmquist=index, bootstrap=bootstrap)
