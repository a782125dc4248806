"""Influencing factors: regression covariates ``transform(scale * column)`` of a panel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.data.panel import Panel
from bayes_ccd.exceptions import DataError

Transform = Literal["none", "log"]


@dataclass(frozen=True)
class Factor:
    """An influencing factor (regression covariate): ``transform(scale * column)``."""

    name: str
    column: str
    transform: Transform = "none"
    scale: float = 1.0
    label: str = ""
    dimension: str = ""


def transform_factors(panel: Panel, factors: Sequence[Factor]) -> pd.DataFrame:
    """Influencing factors as regression covariates: ``transform(scale * column)``.

    Returns
    -------
    pandas.DataFrame
        ``unit, period`` and one column per factor, named by ``factor.name``.

    Raises
    ------
    DataError
        A ``log`` transform meets a non-positive value (names the unit and period).
    """
    out = panel.frame[[UNIT, PERIOD]].copy()
    for factor in factors:
        if factor.column not in panel.columns:
            raise DataError(
                f"factor '{factor.name}' needs column '{factor.column}', which is not in the data",
                file=panel.source,
                column=factor.column,
            )
        values = panel.frame[factor.column].to_numpy(dtype=float) * factor.scale
        if factor.transform == "log":
            bad = np.flatnonzero(values <= 0)
            if bad.size:
                row = panel.frame.iloc[bad[0]]
                raise DataError(
                    f"log transform of factor '{factor.name}' needs positive "
                    f"values, found {row[factor.column]}",
                    file=panel.source,
                    column=factor.column,
                    unit=row[UNIT],
                    period=int(row[PERIOD]),
                )
            values = np.log(values)
        out[factor.name] = values
    return out
