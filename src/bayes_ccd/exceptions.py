"""Exceptions and warnings of bayes_ccd.

Every error message says what is wrong, where (file, line, column, unit, period) and,
where possible, what to change. The CLI prints ``str(error)`` as its one-line reason.
"""

from __future__ import annotations

import warnings
from pathlib import Path

#: The package's directory: warnings point past it, to the researcher's own call.
_PACKAGE = str(Path(__file__).resolve().parent)


class BayesCCDError(Exception):
    """Base class of every error raised by bayes_ccd on bad input or failed estimation."""


class ConfigError(BayesCCDError):
    """A TOML configuration is missing, malformed or inconsistent."""


class DataError(BayesCCDError):
    """A panel (or other table) violates the data contract.

    Parameters
    ----------
    message
        What is wrong and what to change.
    file, line, column, unit, period
        Where the problem is. ``line`` is the 1-based line of the CSV file (the header is
        line 1), so a user can open the file at that line.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
        unit: object = None,
        period: object = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line
        self.column = column
        self.unit = unit
        self.period = period
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.unit is not None:
            where.append(f"unit '{self.unit}'")
        if self.period is not None:
            where.append(f"period {self.period}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class WeightsError(BayesCCDError):
    """A spatial weights file or matrix is unusable (unknown units, not square, ...)."""


class SpecificationError(BayesCCDError):
    """A model cannot be estimated as specified (singular design, too few periods, ...)."""


class EstimationError(BayesCCDError):
    """Numerical estimation failed (optimiser did not converge, non-finite likelihood)."""


class OutputError(BayesCCDError):
    """An output directory cannot be written without destroying something."""


class DataWarning(UserWarning):
    """The data are usable but something deserves the user's attention."""


class WeightsWarning(UserWarning):
    """Spatial weights are usable but have islands, several components or similar."""


class NumericalWarning(UserWarning):
    """An estimate is at or near a boundary, or a matrix is nearly singular."""


class ConvergenceWarning(UserWarning):
    """MCMC diagnostics failed a threshold (R-hat, ESS, divergences, E-BFMI)."""


def warn(message: str, category: type[Warning]) -> None:
    """Issue ``message`` as ``category``, attributed to the first caller outside bayes_ccd.

    A warning about the user's data should point at the user's line (a notebook cell,
    a script), not at the package's internals, whatever the depth of the call.
    """
    warnings.warn(message, category, skip_file_prefixes=(_PACKAGE,))
