"""The data contract: a balanced long panel of units and periods.

A panel is a long-format table, one row per unit and period: a unit column, a period
column (integers, e.g. years) and numeric columns. :func:`read_panel` and
:func:`validate_panel` enforce the contract and fail with a :class:`DataError` that
names the file, the CSV line, the column, the unit and the period of the first
problem. Missing values are an error unless an interpolation policy is chosen; cells
filled by the policy are listed in :attr:`Panel.filled`.

Inside the package the unit and period columns are renamed to the conventions
``unit`` and ``period`` (:mod:`bayes_ccd.conventions`); unit labels are strings.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.exceptions import BayesCCDError, DataError, DataWarning, warn

MissingPolicy = Literal["error", "linear"]
GapPolicy = Literal["warn", "error"]

#: Cell texts read as missing values (the pandas defaults would also swallow e.g. "NA"
#: as a province abbreviation; these are the usual spreadsheet spellings of "empty").
MISSING_TOKENS = frozenset({"", "NA", "N/A", "NaN", "nan", "NULL", "null", "-", ".."})
#: A number written with a decimal comma (``-1,5``, ``2,0e-3``).
_DECIMAL_COMMA = r"^\s*([+-]?\d+),(\d+(?:[eE][+-]?\d+)?)\s*$"
#: Values beyond this magnitude overflow sums of squares in double precision.
HUGE = 1e100


@dataclass(frozen=True)
class Panel:
    """A validated balanced panel.

    Attributes
    ----------
    frame
        Long table sorted by unit (in first-appearance order) then period, with columns
        ``unit`` (str), ``period`` (int) and the numeric columns (float).
    source
        File name (or ``"<DataFrame>"``) for error messages and reports.
    filled
        Cells filled by the missing-value policy: ``unit, period, column, value``.
    notice
        What every output made from these data must say about them (the bundled demo
        panel: that it is synthetic); empty for a user's data.
    """

    frame: pd.DataFrame
    source: str = "<DataFrame>"
    filled: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[UNIT, PERIOD, "column", "value"])
    )
    notice: str = ""

    @property
    def units(self) -> list[str]:
        """Units in panel order."""
        return list(dict.fromkeys(self.frame[UNIT]))

    @property
    def periods(self) -> list[int]:
        """Periods in increasing order."""
        return sorted(self.frame[PERIOD].unique().tolist())

    @property
    def n_units(self) -> int:
        """Number of units ``N``."""
        return len(self.units)

    @property
    def n_periods(self) -> int:
        """Number of periods ``T``."""
        return len(self.periods)

    @property
    def columns(self) -> list[str]:
        """The data columns (everything but unit and period)."""
        return [c for c in self.frame.columns if c not in (UNIT, PERIOD)]

    def matrix(self, column: str) -> np.ndarray:
        """Values of ``column`` as a ``(T, N)`` array: periods by units, panel order."""
        wide = self.frame.pivot(index=PERIOD, columns=UNIT, values=column)
        return wide.loc[self.periods, self.units].to_numpy(dtype=float)

    def stack(self, columns: Sequence[str]) -> np.ndarray:
        """Values of ``columns`` as a ``(T, N, K)`` array."""
        return np.stack([self.matrix(c) for c in columns], axis=-1)

    def subset(self, units: Sequence[str]) -> Panel:
        """Return the panel restricted to ``units`` (in the given order)."""
        wanted = [str(u) for u in units]
        unknown = sorted(set(wanted) - set(self.units))
        if unknown:
            raise DataError(f"units {unknown} are not in the panel", file=self.source)
        frame = _sort_units(self.frame[self.frame[UNIT].isin(wanted)], wanted)
        filled = self.filled[self.filled[UNIT].isin(wanted)].reset_index(drop=True)
        return Panel(frame, self.source, filled, self.notice)

    def without(self, units: Sequence[str] = (), periods: Sequence[int] = ()) -> Panel:
        """Return the panel without ``units`` and ``periods`` (a sub-sample).

        Raises
        ------
        DataError
            A unit or period that is not in the panel, or nothing left.
        """
        units, periods = [str(u) for u in units], list(periods)
        checks = (("units", units, self.units), ("periods", periods, self.periods))
        for what, given, known in checks:
            unknown = [v for v in given if v not in known]
            if unknown:
                raise DataError(
                    f"[data] exclude_{what}: {unknown} are not in the panel "
                    f"(its {what}: {known[:8]}{'...' if len(known) > 8 else ''})",
                    file=self.source,
                )
        if len(set(units)) >= self.n_units or len(set(periods)) >= self.n_periods:
            raise DataError("leaving out these units or periods leaves no data", file=self.source)
        keep = ~self.frame[UNIT].isin(units) & ~self.frame[PERIOD].isin(periods)
        dropped = self.filled[UNIT].isin(units) | self.filled[PERIOD].isin(periods)
        return Panel(
            self.frame[keep].reset_index(drop=True),
            self.source,
            self.filled[~dropped].reset_index(drop=True),
            self.notice,
        )


def read_csv_cells(
    path: str | Path, *, what: str = "file", error: type[BayesCCDError] = DataError
) -> pd.DataFrame:
    """Read a CSV file as text cells, indexed by file line.

    Every reader of user files goes through here: cells stay strings (no type guessing;
    callers convert them with located errors), header names are stripped, blank lines
    are dropped, and the index is each row's 1-based line in the file (the header is
    line 1), so that errors can name the line even after blank lines.

    Parameters
    ----------
    path
        The CSV file.
    what
        What the file is, for messages ("panel file", "weights file", ...).
    error
        The exception class to raise (:class:`DataError` or e.g. ``WeightsError``).
    """
    path = Path(path)

    def fail(message: str) -> BayesCCDError:
        if issubclass(error, DataError):
            return error(message, file=path)
        return error(f"{what} {path}: {message}")

    if not path.is_file():
        raise fail(f"{what} does not exist")
    try:
        header = _header_line(path)
        sep = _delimiter(header)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, sep=sep)
    except pd.errors.EmptyDataError:
        raise fail(f"{what} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as problem:
        found = "" if sep == "," else f" (delimiter {sep!r} detected from the header)"
        raise fail(f"{what} is not a readable CSV file{found} ({problem})") from None
    names = [str(c).strip() for c in next(csv.reader([header], delimiter=sep))]
    repeated = [c for c in dict.fromkeys(names) if names.count(c) > 1]
    if repeated:
        raise fail(
            f"column name(s) {repeated} appear more than once in the header (line 1); "
            "every column needs its own name"
        )
    if isinstance(frame.index, pd.MultiIndex) or len(frame.columns) != len(names):
        raise fail(
            f"rows have more cells than the header (line 1) has names (delimiter {sep!r}); "
            "check the delimiter and the decimal mark"
        )
    frame.columns = names
    frame.index = frame.index + 2
    if sep == ";":
        # The spreadsheet convention of ';' as delimiter writes decimal commas (1,5).
        frame = frame.apply(lambda column: column.str.replace(_DECIMAL_COMMA, r"\1.\2", regex=True))
    blank = frame.apply(lambda column: column.str.strip() == "").all(axis=1)
    frame = frame[~blank]
    if frame.empty:
        raise fail(f"{what} has a header but no data rows")
    return frame


def _header_line(path: Path) -> str:
    """Return the first non-blank line of a text file (the CSV header)."""
    with path.open(encoding="utf-8", newline="") as handle:
        for line in handle:
            if line.strip():
                return line.rstrip("\r\n").lstrip("\ufeff")
    raise pd.errors.EmptyDataError


def _delimiter(header: str) -> str:
    """Return the delimiter of a CSV file: ',' unless only ';' or a tab splits its header.

    A header without any comma but with semicolons (the export of spreadsheets in
    locales whose decimal mark is the comma) or tabs is split by those.
    """
    if "," in header:
        return ","
    for candidate in (";", "\t"):
        if candidate in header:
            return candidate
    return ","


def read_panel(
    path: str | Path,
    *,
    unit: str,
    time: str,
    columns: Sequence[str] | None = None,
    missing: MissingPolicy = "error",
    units: Sequence[str] | None = None,
    periods: Sequence[int] | None = None,
    notice: str = "",
    gaps: GapPolicy = "warn",
) -> Panel:
    """Read a long-format CSV panel and validate it (see :func:`validate_panel`).

    Line numbers in error messages are those of the file (the header is line 1);
    ``notice`` is carried by the panel into every output made from it; without one, a
    file this package simulated carries the notice of its ``<stem>.meta.json``
    (:func:`synthetic_notice`). Periods that are not equally spaced are warned about
    (``gaps="warn"``) or refused (``"error"``), see :func:`check_spacing`: a panel read
    for the analysis treats them as steps.
    """
    raw = read_csv_cells(path, what="panel file")
    panel = validate_panel(
        raw,
        unit=unit,
        time=time,
        columns=columns,
        missing=missing,
        units=units,
        periods=periods,
        source=str(path),
        lines=raw.index.to_numpy(),
    )
    check_spacing(panel.periods, gaps=gaps, source=str(path))
    notice = notice or synthetic_notice(path)
    return dataclasses.replace(panel, notice=notice) if notice else panel


def synthetic_notice(path: str | Path) -> str:
    """Return the notice of a synthetic panel from its ``<stem>.meta.json``, or ``""``.

    ``bayes-ccd demo-data`` and ``bayes-ccd simulate`` write ``{"synthetic": true,
    "notice": ...}`` next to the CSV, so that whatever is made from a copy of such a file
    still says that its data are invented.
    """
    path = Path(path)
    meta = path.with_name(f"{path.stem}.meta.json")
    try:
        facts = json.loads(meta.read_text("utf-8"))
    except (OSError, ValueError):
        return ""
    if not isinstance(facts, dict) or facts.get("synthetic") is not True:
        return ""
    return str(facts.get("notice") or "SYNTHETIC data")


def validate_panel(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    columns: Sequence[str] | None = None,
    missing: MissingPolicy = "error",
    units: Sequence[str] | None = None,
    periods: Sequence[int] | None = None,
    source: str = "<DataFrame>",
    lines: Sequence[int] | None = None,
) -> Panel:
    """Check a long table against the data contract and return a :class:`Panel`.

    Checks, in order: the unit, period and data columns exist; periods are integers;
    no unit-period pair repeats; units and periods are those expected (when given);
    every unit has every period (balanced); data cells are numeric; missing cells are
    an error, or are filled by linear interpolation within each unit over time when
    ``missing="linear"`` (as the seed paper does for Hubei 2020). Gaps at the first or
    last period cannot be interpolated and remain an error.

    Parameters
    ----------
    data
        Long table; cells may be strings (as read from CSV) or numbers.
    unit, time
        Names of the unit and period columns.
    columns
        Data columns to keep and validate (default: every other column).
    missing
        ``"error"`` or ``"linear"``.
    units, periods
        Expected units and periods; anything else is reported as unknown or missing.
    source
        File name for messages.
    lines
        The file line of each row (:func:`read_csv_cells`); ``None`` for in-memory
        frames, where unit and period locate the row.
    """

    def where(row: int) -> int | None:
        return None if lines is None else int(lines[row])

    for name, role in ((unit, "unit"), (time, "period")):
        if name not in data.columns:
            raise DataError(
                f"the {role} column '{name}' is not in the data (columns: {list(data.columns)})",
                file=source,
            )
    if columns is None:
        columns = [c for c in data.columns if c not in (unit, time)]
    requested = [unit, time, *columns]
    repeated = [c for c in dict.fromkeys(requested) if requested.count(c) > 1]
    if repeated:
        raise DataError(
            f"column(s) {repeated} requested more than once (a data column "
            "may not repeat, nor be the unit or period column)",
            file=source,
        )
    reserved = [c for c in columns if c in (UNIT, PERIOD)]
    if reserved:
        raise DataError(
            f"data column(s) {reserved} clash with the names bayes_ccd gives "
            "the unit and period columns; rename them",
            file=source,
        )
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise DataError(
            f"column(s) {absent} named in the configuration are not in the data", file=source
        )
    frame = data[[unit, time, *columns]].copy()
    frame = frame.reset_index(drop=True)
    frame[unit] = frame[unit].astype(str).str.strip()

    empty = np.flatnonzero(frame[unit].isin(list(MISSING_TOKENS)).to_numpy())
    if empty.size:
        raise DataError(
            "the unit label is empty", file=source, line=where(int(empty[0])), column=unit
        )
    frame[time] = _integer_periods(frame[time], source, where, time, frame[unit])

    duplicated = frame.duplicated([unit, time], keep=False)
    if duplicated.any():
        rows = np.flatnonzero(duplicated)
        first = frame.iloc[rows[0]]
        same = rows[
            (frame.iloc[rows][unit] == first[unit]).to_numpy()
            & (frame.iloc[rows][time] == first[time]).to_numpy()
        ]
        places = [where(int(r)) for r in same]
        raise DataError(
            "duplicate unit-period row"
            + (f" (also on line(s) {places[1:]})" if lines is not None else ""),
            file=source,
            line=places[0],
            unit=first[unit],
            period=int(first[time]),
        )

    _check_coverage(frame, unit, time, units, periods, source, where)
    values = _numeric_cells(frame, unit, time, columns, source, where)
    filled = pd.DataFrame(columns=[UNIT, PERIOD, "column", "value"])
    if values.isna().any().any():
        if missing == "error":
            row, col = np.argwhere(values.isna().to_numpy())[0]
            raise DataError(
                "missing value; fill it, or choose an interpolation policy "
                '(data.missing = "linear" in the configuration, --missing linear on the '
                "command line)",
                file=source,
                line=where(int(row)),
                column=columns[col],
                unit=frame.at[row, unit],
                period=int(frame.at[row, time]),
            )
        if missing != "linear":
            raise DataError(
                f"unknown missing-value policy {missing!r}; use 'error' or 'linear'", file=source
            )
        values, filled = _interpolate(values, frame[unit], frame[time], source, where)

    out = pd.concat(
        [frame[[unit, time]].rename(columns={unit: UNIT, time: PERIOD}), values], axis=1
    )
    return Panel(_sort_units(out, list(dict.fromkeys(out[UNIT]))), source, filled)


def _sort_units(frame: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Rows sorted by unit in ``order``, then by period."""
    rank = {u: k for k, u in enumerate(order)}
    return frame.sort_values(
        [UNIT, PERIOD], key=lambda c: c.map(rank) if c.name == UNIT else c
    ).reset_index(drop=True)


def _integer_periods(
    values: pd.Series, source: str, where, column: str, units: pd.Series
) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    with np.errstate(invalid="ignore"):
        bad = numbers.isna() | ~np.isfinite(numbers) | (numbers.abs() > 1e9)
        bad |= numbers != np.round(numbers)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"period '{values.iloc[row]}' is not an integer (use e.g. years)",
            file=source,
            line=where(row),
            column=column,
            unit=units.iloc[row],
        )
    return numbers.astype(int)


def _check_coverage(
    frame: pd.DataFrame,
    unit: str,
    time: str,
    units: Sequence[str] | None,
    periods: Sequence[int] | None,
    source: str,
    where,
) -> None:
    if units is not None:
        expected = {str(u) for u in units}
        unknown = ~frame[unit].isin(expected)
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise DataError(
                "unknown unit (not in the expected unit list)",
                file=source,
                line=where(row),
                column=unit,
                unit=frame.at[row, unit],
            )
        absent = sorted(expected - set(frame[unit]))
        if absent:
            raise DataError(f"unit(s) {absent} have no rows", file=source, column=unit)
    if periods is not None:
        expected_p = {int(p) for p in periods}
        unknown = ~frame[time].isin(expected_p)
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise DataError(
                "unknown period (outside the expected periods)",
                file=source,
                line=where(row),
                column=time,
                unit=frame.at[row, unit],
                period=int(frame.at[row, time]),
            )
    all_periods = set(frame[time]) | (set(periods) if periods is not None else set())
    for label, group in frame.groupby(unit, sort=False):
        lacking = sorted(all_periods - set(group[time]))
        if lacking:
            raise DataError(
                f"unbalanced panel: no rows for period(s) {lacking}; every unit needs every period",
                file=source,
                unit=label,
            )


def _numeric_cells(
    frame: pd.DataFrame, unit: str, time: str, columns: Sequence[str], source: str, where
) -> pd.DataFrame:
    values = pd.DataFrame(index=frame.index)
    for column in columns:
        cells = frame[column]
        if pd.api.types.is_numeric_dtype(cells):
            values[column] = cells.astype(float)
            continue
        text = cells.astype(str).str.strip()
        is_missing = text.isin(MISSING_TOKENS) | cells.isna()
        numbers = pd.to_numeric(text.where(~is_missing), errors="coerce")
        bad = numbers.isna() & ~is_missing
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"'{cells.iloc[row]}' is not a number",
                file=source,
                line=where(row),
                column=column,
                unit=frame.at[row, unit],
                period=int(frame.at[row, time]),
            )
        values[column] = numbers.astype(float)
    array = values.to_numpy()
    infinite = np.isinf(array)
    with np.errstate(invalid="ignore"):
        huge = np.abs(array) > HUGE
    for bad, text in ((infinite, "value is infinite"), (huge, None)):
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise DataError(
                text
                or f"value {array[row, col]:.3g} is too large to compute with (beyond "
                f"{HUGE:.0e}, sums of squares overflow); rescale the column (e.g. "
                "another unit, or its logarithm)",
                file=source,
                line=where(int(row)),
                column=columns[col],
                unit=frame.at[row, unit],
                period=int(frame.at[row, time]),
            )
    return values


def check_spacing(periods: Sequence[int], *, gaps: GapPolicy = "warn", source: str = "") -> None:
    """Warn (or refuse, ``gaps="error"``) when ``periods`` are not equally spaced.

    Spatial panels treat consecutive periods as equally spaced steps; every other year,
    or a missing year, changes what a period means. The message names the gaps.
    """
    ordered = sorted({int(p) for p in periods})
    steps = np.diff(ordered)
    if steps.size == 0:
        return
    if (steps == steps[0]).all():
        if steps[0] != 1:
            warn(
                f"{source + ': ' if source else ''}periods are {steps[0]} apart "
                f"({ordered[0]}, {ordered[1]}, ..., {ordered[-1]}); the spatial panel treats "
                "them as consecutive steps",
                DataWarning,
            )
        return
    step = int(np.bincount(steps).argmax())
    odd = [f"{a} -> {b}" for a, b, d in zip(ordered, ordered[1:], steps, strict=False) if d != step]
    message = (
        f"periods are not equally spaced (mostly {step} apart; gaps {', '.join(odd[:5])}"
        + (f" and {len(odd) - 5} more" if len(odd) > 5 else "")
        + "); the spatial panel treats consecutive periods as equal steps"
    )
    if gaps == "error":
        raise DataError(
            message + '; fill the missing periods, or allow gaps ([data] gaps = "warn", '
            "--gaps warn)",
            file=source or None,
        )
    warn(f"{source + ': ' if source else ''}{message}", DataWarning)


def _interpolate(
    values: pd.DataFrame, units: pd.Series, periods: pd.Series, source: str, where
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Linear interpolation in time within each unit; edge gaps are errors."""
    out = values.copy()
    records = []
    for label in dict.fromkeys(units):
        rows = np.flatnonzero((units == label).to_numpy())
        rows = rows[np.argsort(periods.to_numpy()[rows])]
        t = periods.to_numpy()[rows].astype(float)
        for column in values.columns:
            y = values[column].to_numpy()[rows]
            gaps = np.isnan(y)
            if not gaps.any():
                continue
            known = ~gaps
            if known.sum() < 2 or gaps[0] or gaps[-1]:
                row = rows[np.flatnonzero(gaps)[0]]
                raise DataError(
                    "missing value at the first or last period (or with fewer than two "
                    "observed periods) cannot be interpolated; fill it in the data",
                    file=source,
                    line=where(int(row)),
                    column=column,
                    unit=label,
                    period=int(periods.iloc[row]),
                )
            filled = np.interp(t[gaps], t[known], y[known])
            out.loc[rows[gaps], column] = filled
            records += [
                {UNIT: label, PERIOD: int(p), "column": column, "value": float(v)}
                for p, v in zip(t[gaps], filled, strict=True)
            ]
    return out, pd.DataFrame(records, columns=[UNIT, PERIOD, "column", "value"])
