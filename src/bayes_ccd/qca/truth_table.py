"""The truth table of fsQCA.

Cases are assigned to the corners of the vector space; each row has its frequency,
consistency and PRI and is coded positive, negative or remainder (Ragin 2008, ch. 7;
Dusa 2019, ch. 7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from bayes_ccd.exceptions import (
    DataError,
    DataWarning,
    warn,
)
from bayes_ccd.qca.measures import _CUT_TOLERANCE, _check_design, consistency, format_term, pri
from bayes_ccd.settings import QCASettings

#: Treatments of condition memberships of exactly 0.5 (see :func:`resolve_half_memberships`;
#: the choices are :data:`bayes_ccd.settings.HALF_MEMBERSHIP_RULES`).
HalfMembershipRule = Literal["nudge", "keep", "raise"]
#: Constant added by the "nudge" rule (Fiss 2011).
HALF_MEMBERSHIP_NUDGE = 0.001


def resolve_half_memberships(
    data: pd.DataFrame,
    conditions: Sequence[str],
    rule: HalfMembershipRule = QCASettings.half_membership,
    *,
    nudge: float = HALF_MEMBERSHIP_NUDGE,
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Treat condition memberships of exactly 0.5 before building the truth table.

    A case with membership exactly 0.5 in a condition is neither in nor out of it, so it
    belongs to no corner of the vector space and cannot be assigned to a truth-table row
    (Ragin 2008; Schneider and Wagemann 2012). The rules:

    ``"nudge"`` (default)
        add ``nudge`` (0.001) to the memberships that equal 0.5, the fix used by Fiss
        (2011); the cases then count as (barely) in the set.
    ``"keep"``
        leave the data alone, as R's QCA package does: the cases enter consistency and
        coverage sums but no row's frequency.
    ``"raise"``
        refuse with :class:`~bayes_ccd.exceptions.DataError`; recalibrate instead.

    Each of the first two warns with :class:`~bayes_ccd.exceptions.DataWarning`
    naming the cases and conditions concerned. The outcome is never modified (its
    membership does not decide row assignment).

    Returns
    -------
    (pandas.DataFrame, list of (case, condition))
        The data to analyse and the cells that were exactly 0.5.
    """
    QCASettings(half_membership=rule)
    values = data[list(conditions)].to_numpy(dtype=float, copy=True)
    rows, cols = np.nonzero(values == 0.5)
    cells = [(str(data.index[r]), str(conditions[c])) for r, c in zip(rows, cols, strict=True)]
    if not cells:
        return data, []
    listing = ", ".join(f"{case} ({condition})" for case, condition in cells)
    if rule == "raise":
        raise DataError(
            f"memberships of exactly 0.5 cannot be assigned to a truth-table "
            f"row: {listing}; recalibrate (move the crossover) or choose "
            "another treatment of 0.5",
            column=cells[0][1],
            unit=cells[0][0],
        )
    adjusted = data.copy()
    if rule == "nudge":
        values[rows, cols] += nudge
        action = f"added {nudge:g} to these memberships (Fiss 2011)"
    else:
        action = "left them unassigned to any truth-table row (they still enter the sums)"
    adjusted[list(conditions)] = values
    warn(f"memberships of exactly 0.5 in {len(cells)} cell(s): {listing}; {action}", DataWarning)
    return adjusted, cells


# --------------------------------------------------------------------------------------
# Truth table
# --------------------------------------------------------------------------------------


def _row_bits(code: int, k: int) -> np.ndarray:
    return np.array([code >> (k - 1 - j) & 1 for j in range(k)], dtype=bool)


@dataclass(frozen=True)
class TruthTable:
    """A truth table of ``k`` conditions and its coding.

    Attributes
    ----------
    outcome, conditions
        Names of the outcome and of the conditions (in bit order).
    data
        Memberships actually analysed (after :func:`resolve_half_memberships`), one row
        per case (index: case names), columns conditions and outcome.
    table
        The observed rows (frequency at least 1), one row per configuration, indexed by
        row code, with columns ``row`` (code + 1), the conditions (0/1), ``OUT``
        (``"1"``, ``"0"`` or ``"?"``), ``n``, ``incl``, ``PRI``, ``cases``,
        ``inconsistent_cases`` and ``contradiction``; sorted by OUT, incl and n.
    positive, negative
        Row codes coded "1" and "0"; every other code of the ``2**k`` is a remainder.
    incl_cut, n_cut, pri_cut, half_membership
        The cut-offs and the treatment of 0.5 used.
    half_membership_cells
        ``(case, condition)`` cells that were exactly 0.5.
    """

    outcome: str
    conditions: tuple[str, ...]
    data: pd.DataFrame
    table: pd.DataFrame
    positive: tuple[int, ...]
    negative: tuple[int, ...]
    incl_cut: float
    n_cut: int
    pri_cut: float
    half_membership: str
    half_membership_cells: tuple[tuple[str, str], ...]

    @property
    def remainders(self) -> tuple[int, ...]:
        """Codes of rows without enough cases (``n < n_cut``), observed or not."""
        coded = set(self.positive) | set(self.negative)
        return tuple(r for r in range(1 << len(self.conditions)) if r not in coded)

    def memberships(self) -> tuple[np.ndarray, np.ndarray]:
        """Condition memberships ``(n_cases, k)`` and outcome memberships ``(n_cases,)``."""
        return (
            self.data[list(self.conditions)].to_numpy(dtype=float),
            self.data[self.outcome].to_numpy(dtype=float),
        )

    def row_label(self, code: int) -> str:
        """Write the configuration of a row as an expression, e.g. ``DEV*~URB*LIT``."""
        return format_term((code, (1 << len(self.conditions)) - 1), self.conditions)


def truth_table(
    data: pd.DataFrame,
    outcome: str,
    conditions: Sequence[str],
    *,
    incl_cut: float = QCASettings.incl_cut,
    n_cut: int = QCASettings.n_cut,
    pri_cut: float = QCASettings.pri_cut,
    half_membership: HalfMembershipRule = QCASettings.half_membership,
) -> TruthTable:
    r"""Build and code the truth table of a fuzzy-set (or crisp-set) data set.

    Case :math:`i` belongs to the row (corner) whose condition values are
    :math:`[x_{ij} > 0.5]`; its membership in row :math:`r` is
    :math:`m_{ir} = \min_j (x_{ij} \text{ if } r_j = 1 \text{ else } 1 - x_{ij})`
    (Ragin 2008). For each row, over **all** cases,

    .. math::

        n_r = \#\{i : m_{ir} > 0.5\}, \qquad
        \mathrm{incl}_r = \frac{\sum_i \min(m_{ir}, y_i)}{\sum_i m_{ir}}, \qquad
        \mathrm{PRI}_r = \frac{\sum \min(m, y) - \sum \min(m, y, 1-y)}
                              {\sum m - \sum \min(m, y, 1-y)}

    and the row is coded ``"1"`` if :math:`n_r \ge` ``n_cut``, :math:`\mathrm{incl}_r
    \ge` ``incl_cut`` and :math:`\mathrm{PRI}_r \ge` ``pri_cut``; ``"0"`` if
    :math:`n_r \ge` ``n_cut`` otherwise; ``"?"`` (remainder) if :math:`n_r <` ``n_cut``
    (as ``QCA::truthTable`` in R, Dusa 2019).

    Two diagnostics per row:

    * ``inconsistent_cases``: members (:math:`m_{ir} > 0.5`) whose outcome lies on the
      other side of 0.5 from the row's coding, i.e. :math:`y < 0.5` in a "1" row (deviant
      cases for consistency in kind, Schneider and Wagemann 2012) and
      :math:`y > 0.5` in a "0" row; empty for remainders.
    * ``contradiction``: the row has members both in (:math:`y > 0.5`) and out
      (:math:`y < 0.5`) of the outcome (a contradictory configuration in the crisp-set
      sense, Rihoux and De Meur 2009), whatever its coding.

    Outcome memberships of exactly 0.5 count as neither in nor out.

    Parameters
    ----------
    data
        Memberships in [0, 1], one row per case (index: case names).
    outcome, conditions
        Column names.
    incl_cut, n_cut, pri_cut
        Cut-offs for raw consistency (in (0, 1]), frequency (a positive integer) and
        PRI (in [0, 1]), as :class:`~bayes_ccd.settings.QCASettings` allows them.
    half_membership
        Treatment of condition memberships of exactly 0.5, see
        :func:`resolve_half_memberships`.

    Returns
    -------
    TruthTable

    Raises
    ------
    ConfigError
        A cut-off or treatment of 0.5 that the settings do not allow; no condition, a
        condition listed twice or also the outcome; too many conditions.
    DataError
        Missing columns, repeated case names, memberships outside [0, 1], no case that
        can be assigned to a row.
    """
    conditions = tuple(conditions)
    _check_design(data, outcome, conditions)
    QCASettings(incl_cut=incl_cut, n_cut=n_cut, pri_cut=pri_cut, half_membership=half_membership)
    frame = data[[*conditions, outcome]].astype(float)
    frame, cells = resolve_half_memberships(frame, conditions, half_membership)
    x = frame[list(conditions)].to_numpy()
    y = frame[outcome].to_numpy()
    k = len(conditions)
    weights = 1 << np.arange(k - 1, -1, -1)
    assignable = ((x > 0.5) | (x < 0.5)).all(axis=1)
    if not assignable.any():
        raise DataError(
            "no case can be assigned to a truth-table row: every case has a condition "
            "membership of exactly 0.5; recalibrate or use half_membership='nudge'"
        )
    codes = ((x > 0.5) * weights).sum(axis=1)
    cases = frame.index.astype(str).to_numpy()
    records = []
    positive, negative = [], []
    for code in np.unique(codes[assignable]).tolist():
        bits = _row_bits(code, k)
        m = np.where(bits, x, 1.0 - x).min(axis=1)
        members = assignable & (codes == code)
        n = int(members.sum())
        incl, row_pri = consistency(m, y), pri(m, y)
        if n < n_cut:
            out = "?"
        elif incl >= incl_cut - _CUT_TOLERANCE and row_pri >= pri_cut - _CUT_TOLERANCE:
            out = "1"
            positive.append(code)
        else:
            out = "0"
            negative.append(code)
        inside, outside = members & (y > 0.5), members & (y < 0.5)
        inconsistent = {"1": outside, "0": inside, "?": np.zeros_like(members)}[out]
        records.append(
            {
                "code": code,
                "row": code + 1,
                **{c: int(b) for c, b in zip(conditions, bits, strict=True)},
                "OUT": out,
                "n": n,
                "incl": incl,
                "PRI": row_pri,
                "cases": tuple(cases[members]),
                "inconsistent_cases": tuple(cases[inconsistent]),
                "contradiction": bool(inside.any() and outside.any()),
            }
        )
    table = pd.DataFrame.from_records(records)
    if not table.empty:
        order = table["OUT"].map({"1": 0, "0": 1, "?": 2})
        table = (
            table.assign(_order=order)
            .sort_values(["_order", "incl", "n", "code"], ascending=[True, False, False, True])
            .drop(columns="_order")
            .set_index("code")
        )
    return TruthTable(
        outcome=outcome,
        conditions=conditions,
        data=frame,
        table=table,
        positive=tuple(sorted(positive)),
        negative=tuple(sorted(negative)),
        incl_cut=float(incl_cut),
        n_cut=int(n_cut),
        pri_cut=float(pri_cut),
        half_membership=half_membership,
        half_membership_cells=tuple(cells),
    )
