"""Reading the inputs and outputs of a DEA from a CSV file, with located errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.data.panel import MISSING_TOKENS, MissingPolicy, read_csv_cells, validate_panel
from bayes_ccd.efficiency.model import _NON_POSITIVE, _check_roles
from bayes_ccd.exceptions import ConfigError, DataError

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
        """Return ``error`` located in this file.

        Parameters
        ----------
        error
            An error about this table, e.g. from :func:`~bayes_ccd.efficiency.model.dea`.

        Returns
        -------
        DataError
            ``error`` with this file and, when its unit and period pick one row, that
            row's line (an error that already names a file is returned as it is).
        """
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

    The file is read by :func:`bayes_ccd.data.panel.read_csv_cells`; a panel (``time``
    given) is checked by :func:`bayes_ccd.data.panel.validate_panel` (integer periods, no
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
    """Check a cross-section as :func:`bayes_ccd.data.panel.validate_panel` checks a panel.

    The same checks without periods, in the same wording: unit labels, repeated units,
    numeric, finite and present cells.
    """
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
    """Check a panel by :func:`bayes_ccd.data.panel.validate_panel`; keep one period if asked."""
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
    """Require the positive values :func:`dea` needs, naming the first bad line of the file."""
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
