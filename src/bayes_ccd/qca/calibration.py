"""Direct calibration of raw values into fuzzy-set memberships (Ragin 2008, ch. 5).

The *direct method* turns a raw variable into degrees of membership in a set from three
qualitative anchors: the value of full membership, the crossover point (maximal
ambiguity, membership 0.5) and the value of full non-membership. Deviations from the
crossover are scaled into log-odds of membership so that the full-membership anchor has
log-odds ``+3`` and the full-non-membership anchor ``-3`` (Ragin 2008, Table 5.1:
log-odds 3 <-> membership 0.953, "threshold of full membership"), and the log-odds are
mapped back through the logistic function.

Anchors can be given as values or as sample percentiles (``"p95"``, ``"p50"``,
``"p5"``), and the set can be increasing (full > crossover > non) or decreasing
(full < crossover < non, e.g. "politically stable" from a count of cabinets).

References
----------
Ragin, C. C. (2008). *Redesigning Social Inquiry: Fuzzy Sets and Beyond*, ch. 5.
    University of Chicago Press.
Dusa, A. (2019). *QCA with R: A Comprehensive Resource*, section 4.2. Springer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from bayes_ccd.config import read_toml
from bayes_ccd.data.panel import read_csv_cells
from bayes_ccd.exceptions import ConfigError, DataError

#: Log-odds of membership at the full-membership anchor (minus at full non-membership):
#: Ragin (2008, Table 5.1) uses 3.0, i.e. membership exp(3)/(1+exp(3)) = 0.953.
#: R's QCA package uses log(0.95/0.05) = 2.944 instead (``idm = 0.95``).
RAGIN_LOG_ODDS = 3.0

#: Percentile anchors of ``--calibrate percentiles``: full, crossover, non-membership.
DEFAULT_PERCENTILES = (95.0, 50.0, 5.0)

AnchorValue = float | str


@dataclass(frozen=True)
class Anchors:
    """The three qualitative anchors of one set.

    Each anchor is a number in the units of the raw variable, or a sample percentile
    written ``"p<q>"`` (e.g. ``"p95"``), resolved on the column being calibrated.
    Increasing sets have ``full > crossover > non``; decreasing sets the reverse.
    """

    full: AnchorValue
    crossover: AnchorValue
    non: AnchorValue

    def resolve(self, sample: np.ndarray, *, name: str = "") -> tuple[float, float, float]:
        """Numeric anchors for ``sample`` (percentiles computed with linear interpolation)."""
        values = tuple(
            _resolve_anchor(a, sample, name) for a in (self.full, self.crossover, self.non)
        )
        _check_order(*values, name=name)
        return values  # type: ignore[return-value]


def _resolve_anchor(anchor: AnchorValue, sample: np.ndarray, name: str) -> float:
    if isinstance(anchor, str):
        text = anchor.strip().lower()
        if not text.startswith("p"):
            try:
                return float(text)
            except ValueError:
                raise ConfigError(
                    f"anchor {anchor!r} of '{name}' is neither a number nor a percentile "
                    "such as 'p95'"
                ) from None
        try:
            q = float(text[1:])
        except ValueError:
            raise ConfigError(
                f"anchor {anchor!r} of '{name}': write percentiles as 'p<q>', e.g. 'p95'"
            ) from None
        if not 0.0 <= q <= 100.0:
            raise ConfigError(f"percentile anchor {anchor!r} of '{name}' is outside 0-100")
        return float(np.percentile(sample, q))
    value = float(anchor)
    if not math.isfinite(value):
        raise ConfigError(f"anchor {anchor!r} of '{name}' is not finite")
    return value


def _check_order(full: float, crossover: float, non: float, *, name: str = "") -> None:
    increasing = full > crossover > non
    decreasing = full < crossover < non
    if not (increasing or decreasing):
        label = f" of '{name}'" if name else ""
        raise ConfigError(
            f"calibration anchors{label} (full={full:g}, crossover={crossover:g}, "
            f"non={non:g}) must be strictly monotone: full > crossover > non for an "
            "increasing set or full < crossover < non for a decreasing one (percentile "
            "anchors collapse when many values are tied)"
        )


def calibrate(
    values: Sequence[float] | np.ndarray,
    full: float,
    crossover: float,
    non: float,
    *,
    log_odds: float = RAGIN_LOG_ODDS,
) -> np.ndarray:
    r"""Direct calibration (log-odds method) of raw values into fuzzy memberships.

    With :math:`f` the full-membership anchor, :math:`c` the crossover, :math:`e` the
    full-non-membership anchor, :math:`L` = ``log_odds`` and :math:`s = \operatorname{
    sign}(f - c)` (+1 for increasing, -1 for decreasing sets), the deviation
    :math:`d = s\,(x - c)` is scaled into log-odds and mapped back to a membership:

    .. math::

        \lambda(x) = \begin{cases} L\, d / |f - c| & d \ge 0 \\
                                     L\, d / |c - e| & d < 0 \end{cases},
        \qquad \mu(x) = \frac{\exp \lambda(x)}{1 + \exp \lambda(x)}

    (Ragin 2008, ch. 5 and Table 5.2: the "scalars" are :math:`L/|f-c|` above and
    :math:`L/|c-e|` below the crossover). For :math:`L = 3`, :math:`\mu(f) = 0.953`,
    :math:`\mu(c) = 0.5` and :math:`\mu(e) = 0.047` (Ragin 2008, Table 5.1).

    Parameters
    ----------
    values
        Raw values, shape ``(n,)``; must be finite.
    full, crossover, non
        The three anchors, strictly monotone in either direction.
    log_odds
        Log-odds at the full-membership anchor; 3 as in Ragin (2008). Use
        ``math.log(0.95 / 0.05)`` to match R's ``QCA::calibrate`` default.

    Returns
    -------
    numpy.ndarray
        Memberships in (0, 1), shape ``(n,)``. A value equal to the crossover gets
        exactly 0.5; see :func:`bayes_ccd.qca.truth_table.truth_table` for how such
        cases are treated.
    """
    x = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(x)):
        raise DataError("calibration needs finite raw values (found NaN or infinity)")
    if not log_odds > 0:
        raise ConfigError(f"log_odds must be positive, got {log_odds}")
    _check_order(full, crossover, non)
    # Orient so that "towards full membership" is the positive direction.
    direction = 1.0 if full > crossover else -1.0
    deviation = direction * (x - crossover)
    upper = log_odds / abs(full - crossover)
    lower = log_odds / abs(crossover - non)
    return expit(np.where(deviation >= 0, deviation * upper, deviation * lower))


def calibrate_crisp(
    values: Sequence[float] | np.ndarray, threshold: float, *, above: bool = True
) -> np.ndarray:
    r"""Crisp calibration from a threshold: membership 1 beyond it, 0 otherwise.

    ``above``: :math:`\mu(x) = 1` if :math:`x > t`, else 0 (R's QCA ``calibrate(x,
    type = "crisp", thresholds = t)``); otherwise (a decreasing set, e.g. stable
    government from a count of cabinets) :math:`\mu(x) = 1` if :math:`x < t`.

    Parameters
    ----------
    values
        Raw values, shape ``(n,)``; must be finite.
    threshold
        The threshold :math:`t`.
    above
        Whether membership is above (default) or below the threshold.

    Returns
    -------
    numpy.ndarray
        Memberships 0.0 or 1.0, shape ``(n,)``.
    """
    x = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(x)):
        raise DataError("calibration needs finite raw values (found NaN or infinity)")
    if not math.isfinite(float(threshold)):
        raise ConfigError(f"crisp threshold {threshold!r} is not finite")
    return ((x > threshold) if above else (x < threshold)).astype(float)


def crisp_threshold(spec: Sequence[AnchorValue]) -> tuple[float, bool] | None:
    """Return ``(threshold, above)`` when ``spec`` is a crisp threshold, else ``None``.

    ``[t]`` or ``[t, "above"]`` is a threshold with membership above it, ``[t, "below"]``
    one with membership below it; three values are the anchors of direct calibration.
    """
    if isinstance(spec, Anchors) or len(spec) == 3:
        return None
    if len(spec) == 1 or (len(spec) == 2 and str(spec[1]).strip().lower() in ("above", "below")):
        side = "above" if len(spec) == 1 else str(spec[1]).strip().lower()
        try:
            return float(spec[0]), side == "above"
        except (TypeError, ValueError):
            raise ConfigError(f"crisp threshold {spec[0]!r} is not a number") from None
    raise ConfigError(
        f"calibration {list(spec)!r}: give [full, crossover, non] anchors, or a crisp "
        "threshold [t], [t, 'above'] or [t, 'below']"
    )


def percentile_anchors(
    columns: Sequence[str], percentiles: Sequence[float] = DEFAULT_PERCENTILES
) -> dict[str, Anchors]:
    """Anchors at sample percentiles (default 95/50/5) for every column, increasing."""
    full, crossover, non = (f"p{q:g}" for q in percentiles)
    return {column: Anchors(full, crossover, non) for column in columns}


def calibrate_frame(
    frame: pd.DataFrame,
    anchors: Mapping[str, Anchors | Sequence[AnchorValue]],
    *,
    log_odds: float = RAGIN_LOG_ODDS,
) -> pd.DataFrame:
    """Calibrate the columns named in ``anchors``; other columns are returned unchanged.

    Parameters
    ----------
    frame
        Raw data, one row per case.
    anchors
        Column name -> :class:`Anchors` (or a ``(full, crossover, non)`` triple), or a
        crisp threshold ``[t]``, ``[t, "above"]``, ``[t, "below"]``
        (:func:`calibrate_crisp`). Percentile anchors are computed on that column of
        ``frame``.
    log_odds
        See :func:`calibrate`.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with the calibrated columns replaced by memberships.
    """
    out = frame.copy()
    for column, spec in anchors.items():
        if column not in frame.columns:
            raise DataError(
                f"calibration anchors name column '{column}', which the data "
                f"lack (columns: {', '.join(map(str, frame.columns))})",
                column=column,
            )
        raw = frame[column].to_numpy(dtype=float)
        if not np.all(np.isfinite(raw)):
            raise DataError("column has missing or non-finite values", column=column)
        crisp = crisp_threshold(spec)
        if crisp is not None:
            out[column] = calibrate_crisp(raw, crisp[0], above=crisp[1])
            continue
        anchor = spec if isinstance(spec, Anchors) else Anchors(*spec)
        full, crossover, non = anchor.resolve(raw, name=column)
        out[column] = calibrate(raw, full, crossover, non, log_odds=log_odds)
    return out


def read_anchors(path: str | Path) -> dict[str, Anchors]:
    """Read calibration anchors from a small CSV or TOML file.

    CSV (header required; one row per column to calibrate)::

        column,full,crossover,non
        DEV,900,550,400
        STB,5,9.5,15
        GDP,p95,p50,p5

    (STB is a decreasing set, full < crossover < non; GDP uses sample percentiles.)

    TOML (one table per column)::

        [DEV]
        full = 900
        crossover = 550
        non = 400

        [GDP]
        full = "p95"
        crossover = "p50"
        non = "p5"

    Anchors are numbers in the raw units or percentiles ``"p<q>"``; the direction of the
    set follows from their order.
    """
    path = Path(path)
    if path.suffix.lower() == ".toml":
        return _read_anchors_toml(path)
    return _read_anchors_csv(path)


def _read_anchors_toml(path: Path) -> dict[str, Anchors]:
    document = read_toml(path)
    anchors = {}
    for column, table in document.items():
        if not isinstance(table, dict) or set(table) != {"full", "crossover", "non"}:
            raise ConfigError(
                f"{path}: table [{column}] must have exactly the keys full, crossover and non"
            )
        anchors[column] = Anchors(
            *(_anchor_cell(table[k], path, column, k) for k in ("full", "crossover", "non"))
        )
    if not anchors:
        raise ConfigError(f"{path}: no calibration anchors found")
    return anchors


def _read_anchors_csv(path: Path) -> dict[str, Anchors]:
    frame = read_csv_cells(path, what="calibration anchors file", error=ConfigError)
    frame.columns = [c.lower() for c in frame.columns]
    expected = ["column", "full", "crossover", "non"]
    if list(frame.columns) != expected:
        raise ConfigError(
            f"{path}: header must be '{','.join(expected)}', got '{','.join(frame.columns)}'"
        )
    anchors = {}
    for line, row in frame.iterrows():
        column = str(row["column"]).strip()
        if column in anchors:
            raise ConfigError(f"{path}, line {line}: column '{column}' listed twice")
        anchors[column] = Anchors(
            *(
                _anchor_cell(row[key], path, column, key, line=int(line))
                for key in ("full", "crossover", "non")
            )
        )
    return anchors


def _anchor_cell(
    value: object, path: Path, column: str, key: str, line: int | None = None
) -> AnchorValue:
    where = f"{path}, line {line}" if line is not None else str(path)
    if isinstance(value, bool) or value is None or (isinstance(value, float) and math.isnan(value)):
        raise ConfigError(f"{where}: anchor '{key}' of '{column}' is missing")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if text.lower().startswith("p"):
        return text
    try:
        return float(text)
    except ValueError:
        raise ConfigError(
            f"{where}: anchor '{key}' of '{column}' is {text!r}, neither a "
            "number nor a percentile such as 'p95'"
        ) from None


def validate_memberships(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise :class:`DataError` unless every cell of ``columns`` is a membership in [0, 1].

    The error names the column and the case (index label) of the first offending cell.
    """
    for column in columns:
        values = frame[column].to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0.0) | (values > 1.0)
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"membership {values[position]:g} is outside [0, 1]; calibrate the column "
                "first (bayes_ccd.qca.calibration.calibrate_frame)",
                column=column,
                unit=frame.index[position],
            )


def read_cases(
    path: str | Path, case: str, columns: Sequence[str], *, memberships: Sequence[str] = ()
) -> pd.DataFrame:
    """Read a cross-section CSV (one row per case) for fsQCA.

    Parameters
    ----------
    path
        CSV file with a header line.
    case
        Column holding the case names (unique, non-empty); it becomes the index.
    columns
        Numeric columns to read (outcome and conditions).
    memberships
        Columns among ``columns`` that must already be memberships in [0, 1].

    Returns
    -------
    pandas.DataFrame
        Float columns ``columns`` indexed by case name.

    Raises
    ------
    DataError
        Missing file or columns, empty or duplicated case names, empty or non-numeric
        cells, memberships outside [0, 1]; the message names the line of the file
        (header = line 1), the column and the case.
    """
    raw = read_csv_cells(path, what="data file")
    missing = [c for c in [case, *columns] if c not in raw.columns]
    if missing:
        raise DataError(
            f"columns missing: {', '.join(missing)} (the file has {', '.join(raw.columns)})",
            file=path,
        )
    names = raw[case].str.strip()
    empty = names.index[names == ""]
    if empty.size:
        raise DataError("empty case name", file=path, line=int(empty[0]), column=case)
    repeated = names.index[names.duplicated()]
    if repeated.size:
        line = int(repeated[0])
        raise DataError(
            f"case '{names[line]}' appears twice",
            file=path,
            line=line,
            column=case,
            unit=names[line],
        )
    values = pd.DataFrame(index=pd.Index(names.to_numpy(), name=case))
    for column in columns:
        text = raw[column].str.strip()
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(numbers)
        if column in memberships:
            bad |= (numbers < 0.0) | (numbers > 1.0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            cell = text.iloc[row]
            if cell == "":
                what = "empty cell"
            elif np.isfinite(numbers[row]):
                what = (
                    f"membership {cell} is outside [0, 1]; calibrate the column "
                    "(--calibrate) or fix the value"
                )
            else:
                what = f"'{cell}' is not a number"
            raise DataError(
                what, file=path, line=int(raw.index[row]), column=column, unit=names.iloc[row]
            )
        values[column] = numbers
    return values
