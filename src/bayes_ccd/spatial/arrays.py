"""A balanced panel as arrays, the input of every spatial estimator.

``y`` is ``(T, N)`` and the covariates ``(T, N, K)``: rows are periods, columns units
(the layout of :meth:`bayes_ccd.data.panel.Panel.matrix`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.data.panel import HUGE, Panel
from bayes_ccd.exceptions import DataError

#: Columns of the table of cells filled by the missing-value policy (``Panel.filled``).
FILLED_COLUMNS: Final = (UNIT, PERIOD, "column", "value")


def _no_filled_cells() -> pd.DataFrame:
    return pd.DataFrame(columns=list(FILLED_COLUMNS))


@dataclass(frozen=True, eq=False)
class PanelArrays:
    """A balanced panel as arrays: ``y`` is ``(T, N)``, ``x`` is ``(T, N, K)``.

    Rows are periods, columns units (the layout of :meth:`Panel.matrix`). ``filled``
    lists the cells of the panel the arrays came from that its missing-value policy
    filled (``unit, period, column, value``; :attr:`bayes_ccd.data.panel.Panel.filled`), so
    that every fit can report them; ``notice`` (the bundled panel: synthetic) goes on
    every figure of a fit.
    """

    y: np.ndarray
    x: np.ndarray
    units: tuple[str, ...]
    periods: tuple[int, ...]
    y_name: str = "y"
    x_names: tuple[str, ...] = ()
    source: str = "<arrays>"
    filled: pd.DataFrame = field(default_factory=_no_filled_cells)
    notice: str = ""

    def __post_init__(self) -> None:
        """Check shapes, labels and finiteness, and store the arrays as floats and tuples."""
        y = np.asarray(self.y, dtype=float)
        x = np.asarray(self.x, dtype=float)
        if x.ndim == 2:
            x = x[..., None]
        if y.ndim != 2:
            raise DataError(
                f"y must be a (T, N) array of periods by units, got shape {y.shape}",
                file=self.source,
            )
        if x.ndim != 3 or x.shape[:2] != y.shape:
            raise DataError(
                f"x must be a (T, N, K) array matching y {y.shape}, got shape "
                f"{x.shape}; an unbalanced panel cannot be estimated",
                file=self.source,
            )
        units = tuple(str(u) for u in self.units)
        periods = tuple(int(p) for p in self.periods)
        if len(units) != y.shape[1] or len(periods) != y.shape[0]:
            raise DataError(
                f"{len(periods)} periods and {len(units)} units given for arrays "
                f"of shape {y.shape} (periods x units)",
                file=self.source,
            )
        if len(set(units)) != len(units):
            raise DataError("duplicated unit labels", file=self.source)
        names = tuple(self.x_names) or tuple(f"x{k + 1}" for k in range(x.shape[2]))
        if len(names) != x.shape[2]:
            raise DataError(
                f"{len(names)} covariate names for {x.shape[2]} covariates", file=self.source
            )
        for values, column in ((y[..., None], (self.y_name,)), (x, names)):
            bad = ~np.isfinite(values)
            with np.errstate(invalid="ignore"):
                huge = np.abs(values) > HUGE
            for where, text in (
                (bad, "missing or non-finite value (is the panel unbalanced?)"),
                (huge, f"value too large to compute with (beyond {HUGE:.0e}); rescale it"),
            ):
                if where.any():
                    t, i, k = np.argwhere(where)[0]
                    raise DataError(
                        text,
                        file=self.source,
                        column=column[k],
                        unit=units[i],
                        period=periods[t],
                    )
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "periods", periods)
        object.__setattr__(self, "x_names", names)
        filled = pd.DataFrame(self.filled).reindex(columns=list(FILLED_COLUMNS))
        object.__setattr__(self, "filled", filled[filled[UNIT].astype(str).isin(units)])

    @classmethod
    def from_panel(cls, panel: Panel, y: str, x: Sequence[str]) -> PanelArrays:
        """Take the columns ``y`` and ``x`` of a validated panel as arrays.

        Raises
        ------
        DataError
            A column is absent, or the panel is not balanced (a unit lacks a period).
        """
        absent = [c for c in (y, *x) if c not in panel.columns]
        if absent:
            raise DataError(
                f"column(s) {absent} are not in the panel (columns: {panel.columns})",
                file=panel.source,
            )
        counts = panel.frame.groupby(UNIT, sort=False)[PERIOD].nunique()
        short = counts[counts < panel.n_periods]
        if len(short) or len(panel.frame) != panel.n_units * panel.n_periods:
            unit = short.index[0] if len(short) else None
            raise DataError(
                "unbalanced panel: every unit needs exactly one row per period "
                f"({panel.n_periods} periods)",
                file=panel.source,
                unit=unit,
            )
        return cls(
            panel.matrix(y),
            panel.stack(list(x)),
            tuple(panel.units),
            tuple(panel.periods),
            y,
            tuple(x),
            panel.source,
            panel.filled,
            panel.notice,
        )

    @property
    def n_units(self) -> int:
        """Number of units ``N`` (columns of ``y``)."""
        return self.y.shape[1]

    @property
    def n_periods(self) -> int:
        """Number of periods ``T`` (rows of ``y``)."""
        return self.y.shape[0]

    def filled_cells(self) -> list[dict[str, Any]]:
        """:attr:`filled` as JSON-ready records ``{unit, period, column, value}``."""
        return [
            {UNIT: str(u), PERIOD: int(p), "column": str(c), "value": float(v)}
            for u, p, c, v in self.filled[list(FILLED_COLUMNS)].itertuples(index=False)
        ]

    def to_frame(self, unit: str = UNIT, time: str = PERIOD) -> pd.DataFrame:
        """Return the panel as a long table ``unit, time, y, x...``, by unit then period.

        The layout :func:`bayes_ccd.data.panel.read_panel` reads back (column names
        :attr:`y_name` and :attr:`x_names`).
        """
        n_periods, n_units = self.y.shape
        columns: dict[str, Any] = {
            unit: np.repeat(np.asarray(self.units, dtype=object), n_periods),
            time: np.tile(np.asarray(self.periods), n_units),
            self.y_name: self.y.T.reshape(-1),
        }
        flat = self.x.transpose(1, 0, 2).reshape(n_units * n_periods, -1)
        columns.update({name: flat[:, k] for k, name in enumerate(self.x_names)})
        return pd.DataFrame(columns)

    def subset(self, units: Sequence[str]) -> PanelArrays:
        """Return the arrays restricted to ``units`` (in the given order)."""
        index = pd.Index(self.units).get_indexer([str(u) for u in units])
        if (index < 0).any():
            unknown = [u for u, i in zip(units, index, strict=True) if i < 0]
            raise DataError(f"units {unknown} are not in the panel", file=self.source)
        return dataclasses.replace(
            self, y=self.y[:, index], x=self.x[:, index], units=tuple(map(str, units))
        )
