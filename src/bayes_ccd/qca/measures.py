"""Set-theoretic measures of fsQCA and the analysis of necessity.

Consistency, coverage, PRI, relevance of necessity and term memberships (Ragin 2006,
2008; Schneider and Wagemann 2012).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayes_ccd.exceptions import (
    ConfigError,
    DataError,
)
from bayes_ccd.qca.calibration import validate_memberships

#: An implicant (a conjunction of literals): ``(value bits, mask bits)``. Bit ``b`` of
#: ``mask`` says the condition of that bit appears in the term; bit ``b`` of ``value``
#: says it appears present (1) or negated (0). ``value`` has no bits outside ``mask``.
Implicant = tuple[int, int]


#: Most conditions accepted: the truth table has 2**k rows and Quine-McCluskey can visit
#: up to 3**k implicants.
MAX_CONDITIONS = 16


#: Consistency threshold above which a condition is flagged as necessary
#: (Schneider and Wagemann 2012 recommend at least 0.9).
NECESSITY_THRESHOLD = 0.9
# Consistency and PRI are ratios of sums of memberships recorded to a few decimals, so a
# row whose score equals a cut-off must not fail it through rounding in the last bit.
_CUT_TOLERANCE = 1e-10


# --------------------------------------------------------------------------------------
# Set-theoretic measures of fit
# --------------------------------------------------------------------------------------


def _ratio(numerator: float, denominator: float) -> float:
    # An empty set (denominator 0) has no defined consistency or coverage: report NaN.
    return float(numerator / denominator) if denominator > 0 else float("nan")


def consistency(x: np.ndarray, y: np.ndarray) -> float:
    r"""Consistency of X as a subset of Y (sufficiency; Ragin 2008, ch. 3).

    .. math:: \mathrm{incl}(X \Rightarrow Y) = \frac{\sum_i \min(x_i, y_i)}{\sum_i x_i}

    The same number is the *coverage* of X as a necessary condition of Y; the necessity
    consistency of X for Y is ``consistency(y, x)``.
    """
    x = np.asarray(x, dtype=float)
    return _ratio(np.minimum(x, y).sum(), x.sum())


def coverage(x: np.ndarray, y: np.ndarray) -> float:
    r"""Coverage of Y by a sufficient X (Ragin 2008, ch. 3).

    .. math:: \mathrm{cov}(X \Rightarrow Y) = \frac{\sum_i \min(x_i, y_i)}{\sum_i y_i}
    """
    y = np.asarray(y, dtype=float)
    return _ratio(np.minimum(x, y).sum(), y.sum())


def pri(x: np.ndarray, y: np.ndarray) -> float:
    r"""Compute the proportional reduction in inconsistency (PRI) of X for Y.

    As Schneider and Wagemann (2012) and Dusa (2019) define it:

    .. math::

        \mathrm{PRI} = \frac{\sum \min(x, y) - \sum \min(x, y, 1 - y)}
                            {\sum x - \sum \min(x, y, 1 - y)}

    Low PRI flags a configuration that is simultaneously a subset of Y and of ~Y.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    both = np.minimum(np.minimum(x, y), 1.0 - y).sum()
    return _ratio(np.minimum(x, y).sum() - both, x.sum() - both)


def relevance_of_necessity(x: np.ndarray, y: np.ndarray) -> float:
    r"""Relevance of necessity of X for Y (Schneider and Wagemann 2012).

    .. math:: \mathrm{RoN} = \frac{\sum_i (1 - x_i)}{\sum_i (1 - \min(x_i, y_i))}

    Close to 0 when X is trivial (nearly constant at 1), close to 1 when relevant.
    """
    x = np.asarray(x, dtype=float)
    return _ratio((1.0 - x).sum(), (1.0 - np.minimum(x, y)).sum())


def term_membership(memberships: np.ndarray, implicant: Implicant) -> np.ndarray:
    """Fuzzy membership of every case in a conjunction (minimum over its literals).

    Parameters
    ----------
    memberships
        Condition memberships, shape ``(n_cases, k)``.
    implicant
        ``(value, mask)``; the empty conjunction (mask 0) is the universal set.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_cases,)``.
    """
    value, mask = implicant
    k = memberships.shape[1]
    columns = [j for j in range(k) if mask >> (k - 1 - j) & 1]
    if not columns:
        return np.ones(memberships.shape[0])
    present = np.array([value >> (k - 1 - j) & 1 for j in columns], dtype=bool)
    literal = np.where(present, memberships[:, columns], 1.0 - memberships[:, columns])
    return literal.min(axis=1)


# --------------------------------------------------------------------------------------
# Input checks and memberships of exactly 0.5
# --------------------------------------------------------------------------------------


def _check_design(data: pd.DataFrame, outcome: str, conditions: Sequence[str]) -> None:
    conditions = list(conditions)
    if not conditions:
        raise ConfigError("give at least one condition")
    if len(set(conditions)) != len(conditions):
        raise ConfigError(f"conditions are listed twice: {', '.join(conditions)}")
    if outcome in conditions:
        raise ConfigError(f"the outcome '{outcome}' is also listed as a condition")
    if len(conditions) > MAX_CONDITIONS:
        raise ConfigError(
            f"{len(conditions)} conditions; at most {MAX_CONDITIONS} are "
            "supported (the truth table has 2**k rows)"
        )
    missing = [c for c in [outcome, *conditions] if c not in data.columns]
    if missing:
        raise DataError(
            f"columns missing from the data: {', '.join(missing)} "
            f"(available: {', '.join(map(str, data.columns))})"
        )
    if data.index.has_duplicates:
        duplicated = data.index[data.index.duplicated()].unique()
        raise DataError(f"case names must be unique; repeated: {', '.join(map(str, duplicated))}")
    validate_memberships(data, [outcome, *conditions])


# --------------------------------------------------------------------------------------
# Necessity
# --------------------------------------------------------------------------------------


def necessity(
    data: pd.DataFrame,
    outcome: str,
    conditions: Sequence[str],
    *,
    threshold: float = NECESSITY_THRESHOLD,
) -> pd.DataFrame:
    r"""Analysis of necessity of each condition and its negation for the outcome.

    For a condition (or its negation ``~X`` with membership ``1 - x``):

    .. math::

        \mathrm{incl}_N = \frac{\sum \min(x, y)}{\sum y}, \qquad
        \mathrm{cov}_N = \frac{\sum \min(x, y)}{\sum x}, \qquad
        \mathrm{RoN} = \frac{\sum (1 - x)}{\sum (1 - \min(x, y))}

    (Ragin 2008, ch. 3; Schneider and Wagemann 2012).

    Returns
    -------
    pandas.DataFrame
        One row per condition and negation (``DEV``, ``~DEV``, ...) with columns
        ``condition``, ``consistency``, ``coverage``, ``RoN`` and ``necessary``
        (consistency at least ``threshold``).
    """
    _check_design(data, outcome, conditions)
    y = data[outcome].to_numpy(dtype=float)
    records = []
    for condition in conditions:
        x = data[condition].to_numpy(dtype=float)
        for label, membership in ((condition, x), (f"~{condition}", 1.0 - x)):
            incl = consistency(y, membership)
            records.append(
                {
                    "condition": label,
                    "consistency": incl,
                    "coverage": coverage(y, membership),
                    "RoN": relevance_of_necessity(membership, y),
                    "necessary": bool(incl >= threshold - _CUT_TOLERANCE),
                }
            )
    return pd.DataFrame.from_records(records)


def format_term(implicant: Implicant, conditions: Sequence[str]) -> str:
    """``(value, mask)`` as a conjunction such as ``DEV*~IND``; the empty term is ``1``."""
    value, mask = implicant
    k = len(conditions)
    literals = [
        name if value >> (k - 1 - j) & 1 else f"~{name}"
        for j, name in enumerate(conditions)
        if mask >> (k - 1 - j) & 1
    ]
    return "*".join(literals) if literals else "1"


def format_model(model: Sequence[Implicant], conditions: Sequence[str]) -> str:
    """Write a model as a sum of products such as ``DEV*~IND + URB*STB``."""
    return " + ".join(format_term(term, conditions) for term in model)


def parse_expression(expression: str, conditions: Sequence[str]) -> list[Implicant]:
    """Parse ``"DEV*~IND + URB*STB"`` into implicants over ``conditions``."""
    k = len(conditions)
    position = {name: j for j, name in enumerate(conditions)}
    terms = []
    for text in expression.split("+"):
        value = mask = 0
        for literal in filter(None, (t.strip() for t in text.split("*"))):
            name = literal.lstrip("~").strip()
            if name not in position:
                raise ConfigError(f"unknown condition '{name}' in {expression!r}")
            bit = 1 << (k - 1 - position[name])
            if mask & bit:
                raise ConfigError(f"condition '{name}' appears twice in term {text!r}")
            mask |= bit
            if not literal.startswith("~"):
                value |= bit
        terms.append((value, mask))
    return terms
