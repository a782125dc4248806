"""Fuzzy-set qualitative comparative analysis (fsQCA): which configurations of conditions
are sufficient for an outcome.

The stages, in the order of the analysis (Ragin 2008; Schneider and Wagemann 2012):

1. **Necessity** of each condition and its negation (:func:`necessity`): consistency,
   coverage and relevance of necessity.
2. **Truth table** (:func:`truth_table`): every case is assigned to the corner of the
   vector space (the configuration) in which it has membership above 0.5; each row gets
   its frequency, raw consistency and PRI and is coded positive ("1"), negative ("0") or
   remainder ("?") from the frequency, consistency and PRI cut-offs.
3. **Boolean minimisation** (:func:`minimise`): exact Quine-McCluskey on bitsets (an
   implicant is a pair of integers ``(value, mask)``) followed by an exact search of the
   prime implicant chart that enumerates *every* minimal cover, so tied models are all
   reported: chart reductions, independent parts, the minimum from the LP relaxation or
   HiGHS's integer program, reduced-cost fixing and branch-and-bound
   (:func:`minimum_covers`). The search has a budget of nodes (``max_nodes``); when it
   runs out, :class:`~bayes_ccd.exceptions.EstimationError` says so instead of the
   search running on.
4. **Solutions** (:func:`solve`): conservative (complex), parsimonious (remainders as
   don't-cares) and intermediate (only easy counterfactuals, Ragin and Sonnett 2005;
   Ragin 2008, ch. 9), each model with consistency, PRI, raw and unique coverage.
5. **Configuration chart** (:func:`configuration_chart`, :func:`plot_configuration_chart`)
   in the notation of Ragin and Fiss (2008) and Fiss (2011): core and peripheral
   conditions of each intermediate configuration.

Conventions
-----------
Conditions are numbered in the order given; condition ``j`` of ``k`` is bit
``k - 1 - j`` of a truth-table row code, so the binary digits of a code read as the
conditions in order (``0b10101`` = DEV, ~URB, LIT, ~IND, STB). Row numbers in tables are
``code + 1``, as in R's QCA package. Expressions are written as in R's QCA package:
``~`` negation, ``*`` conjunction, ``+`` disjunction (``DEV*~IND + URB*STB``).

References
----------
Dusa, A. (2019). *QCA with R: A Comprehensive Resource*. Springer.
Fiss, P. C. (2011). Building better causal theories: a fuzzy set approach to typologies in
    organization research. *Academy of Management Journal* 54(2), 393-420.
Huangfu, Q. and Hall, J. A. J. (2018). Parallelizing the dual revised simplex method.
    *Mathematical Programming Computation* 10(1), 119-142. (HiGHS.)
McCluskey, E. J. (1956). Minimization of Boolean functions. *Bell System Technical
    Journal* 35(6), 1417-1444.
Nemhauser, G. L. and Wolsey, L. A. (1988). *Integer and Combinatorial Optimization*.
    Wiley.
Petrick, S. R. (1956). A direct determination of the irredundant forms of a Boolean
    function from the set of prime implicants. AFCRC-TR-56-110.
Ragin, C. C. (2008). *Redesigning Social Inquiry: Fuzzy Sets and Beyond*. University of
    Chicago Press.
Ragin, C. C. and Fiss, P. C. (2008). Net effects analysis versus configurational analysis.
    In Ragin (2008), ch. 11.
Ragin, C. C. and Sonnett, J. (2005). Between complexity and parsimony: limited diversity,
    counterfactual cases, and comparative analysis. In *Vergleichen in der
    Politikwissenschaft*, 180-197. VS Verlag.
Schneider, C. Q. and Wagemann, C. (2012). *Set-Theoretic Methods for the Social Sciences*.
    Cambridge University Press.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from bayes_ccd.calibration import validate_memberships
from bayes_ccd.exceptions import (
    ConfigError,
    DataError,
    DataWarning,
    EstimationError,
    NumericalWarning,
    SpecificationError,
)
from bayes_ccd.reports import (
    TABLE_FORMATS,
    run_metadata,
    save_figure,
    to_latex,
    write_json,
    write_table,
)

#: An implicant (a conjunction of literals): ``(value bits, mask bits)``. Bit ``b`` of
#: ``mask`` says the condition of that bit appears in the term; bit ``b`` of ``value``
#: says it appears present (1) or negated (0). ``value`` has no bits outside ``mask``.
Implicant = tuple[int, int]

Criterion = Literal["terms", "literals"]
HalfMembershipRule = Literal["nudge", "keep", "raise"]

#: Treatments of condition memberships of exactly 0.5 (see :func:`resolve_half_memberships`).
HALF_MEMBERSHIP_RULES: tuple[str, ...] = ("nudge", "keep", "raise")
#: Constant added by the "nudge" rule (Fiss 2011).
HALF_MEMBERSHIP_NUDGE = 0.001
#: Most conditions accepted: the truth table has 2**k rows and Quine-McCluskey can visit
#: up to 3**k implicants.
MAX_CONDITIONS = 16
#: Default cap on the number of tied minimal models enumerated per solution.
DEFAULT_MAX_MODELS = 1000
#: Default budget of search nodes per solution (see :func:`minimum_covers`); about a
#: minute of search on one core, far more than the truth tables of fsQCA practice need.
DEFAULT_MAX_NODES = 1_000_000
#: Consistency threshold above which a condition is flagged as necessary
#: (Schneider and Wagemann 2012 recommend at least 0.9).
NECESSITY_THRESHOLD = 0.9
# Consistency and PRI are ratios of sums of memberships recorded to a few decimals, so a
# row whose score equals a cut-off must not fail it through rounding in the last bit.
_CUT_TOLERANCE = 1e-10
# LP duals summed in floating point: a bound of 7.0000001 must not round up to 8.
_DUAL_TOLERANCE = 1e-6

#: Configuration-chart symbols (Ragin and Fiss 2008; Fiss 2011): large symbols are core
#: conditions, small ones peripheral; a blank cell is a "don't care".
CORE_PRESENT = "●"
PERIPHERAL_PRESENT = "•"
CORE_ABSENT = "⨂"
PERIPHERAL_ABSENT = "⊗"
CHART_NOTES = (
    f"{CORE_PRESENT} core condition present, {PERIPHERAL_PRESENT} peripheral condition "
    f"present, {CORE_ABSENT} core condition absent, {PERIPHERAL_ABSENT} peripheral "
    "condition absent, blank: don't care. Core conditions are part of the parsimonious "
    "solution term that contains the intermediate configuration (Fiss 2011)."
)


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
    r"""Proportional reduction in inconsistency of X for Y (Schneider and Wagemann 2012;
    Dusa 2019).

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


def resolve_half_memberships(
    data: pd.DataFrame,
    conditions: Sequence[str],
    rule: HalfMembershipRule = "nudge",
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
    if rule not in HALF_MEMBERSHIP_RULES:
        raise ConfigError(
            f"unknown treatment {rule!r} of memberships of 0.5; use one of "
            f"{', '.join(HALF_MEMBERSHIP_RULES)}"
        )
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
    warnings.warn(
        f"memberships of exactly 0.5 in {len(cells)} cell(s): {listing}; {action}",
        DataWarning,
        stacklevel=3,
    )
    return adjusted, cells


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
        """The configuration of a row as an expression, e.g. ``DEV*~URB*LIT``."""
        return format_term((code, (1 << len(self.conditions)) - 1), self.conditions)


def truth_table(
    data: pd.DataFrame,
    outcome: str,
    conditions: Sequence[str],
    *,
    incl_cut: float = 0.8,
    n_cut: int = 1,
    pri_cut: float = 0.0,
    half_membership: HalfMembershipRule = "nudge",
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
        Cut-offs for raw consistency, frequency and PRI.
    half_membership
        Treatment of condition memberships of exactly 0.5, see
        :func:`resolve_half_memberships`.

    Returns
    -------
    TruthTable
    """
    conditions = tuple(conditions)
    _check_design(data, outcome, conditions)
    if not 0.0 <= incl_cut <= 1.0 or not 0.0 <= pri_cut <= 1.0:
        raise ConfigError(f"incl_cut and pri_cut must lie in [0, 1] (got {incl_cut}, {pri_cut})")
    if int(n_cut) != n_cut or n_cut < 1:
        raise ConfigError(f"n_cut must be a positive integer (got {n_cut})")
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


# --------------------------------------------------------------------------------------
# Boolean minimisation: Quine-McCluskey and the prime implicant chart
# --------------------------------------------------------------------------------------


def _literal_count(implicant: Implicant) -> int:
    return implicant[1].bit_count()


def prime_implicants(on: Iterable[int], dc: Iterable[int], n_conditions: int) -> list[Implicant]:
    """Prime implicants of the function that is 1 on ``on`` and free on ``dc``.

    Quine-McCluskey (McCluskey 1956) on bitsets: starting from the minterms of
    ``on`` and ``dc``, two implicants with the same mask whose values differ in exactly
    one masked bit merge into one without that bit; implicants that never merge are
    prime. Each level is processed for all implicants at once with sorted integer keys
    ``value | mask << k`` and binary search for the partner of every bit.

    Parameters
    ----------
    on
        Row codes where the function is 1 (positive rows).
    dc
        Row codes where it may be either (remainders used as don't-cares).
    n_conditions
        Number of conditions ``k``; codes lie in ``[0, 2**k)``.

    Returns
    -------
    list of Implicant
        The prime implicants that cover at least one row of ``on`` (the others can never
        be part of a minimal cover), sorted by number of literals and then in condition
        order.
    """
    k = int(n_conditions)
    full = (1 << k) - 1
    on_rows = np.unique(np.fromiter(on, dtype=np.int64))
    rows = np.unique(np.concatenate([on_rows, np.fromiter(dc, dtype=np.int64)]))
    if rows.size and (rows.min() < 0 or rows.max() > full):
        raise ConfigError(f"row codes must lie in [0, {full}] for {k} conditions")
    values = rows
    masks = np.full(rows.size, full, dtype=np.int64)
    prime_values, prime_masks = [], []
    while values.size:
        keys = values | (masks << k)
        merged = np.zeros(keys.size, dtype=bool)
        next_values, next_masks = [], []
        for b in range(k):
            bit = 1 << b
            low = np.flatnonzero(((masks & bit) != 0) & ((values & bit) == 0))
            partner = keys[low] | bit
            position = np.minimum(np.searchsorted(keys, partner), keys.size - 1)
            hit = keys[position] == partner
            merged[low[hit]] = True
            merged[position[hit]] = True
            next_values.append(values[low[hit]])
            next_masks.append(masks[low[hit]] & ~bit)
        prime_values.append(values[~merged])
        prime_masks.append(masks[~merged])
        keys = np.unique(np.concatenate(next_values) | (np.concatenate(next_masks) << k))
        values, masks = keys & full, keys >> k
    primes = [
        (int(v), int(m))
        for v, m in zip(np.concatenate(prime_values), np.concatenate(prime_masks), strict=True)
    ]
    useful = [p for p in primes if np.any((on_rows & p[1]) == p[0])]
    return sorted(useful, key=lambda p: _term_sort_key(p, k))


def _term_sort_key(implicant: Implicant, k: int) -> tuple[int, tuple[int, ...]]:
    value, mask = implicant
    # Fewer literals first; then, condition by condition, present < negated < absent.
    state = tuple(
        2 if not mask >> (k - 1 - j) & 1 else (0 if value >> (k - 1 - j) & 1 else 1)
        for j in range(k)
    )
    return mask.bit_count(), state


def _to_bitset(flags: np.ndarray) -> int:
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


def _reduce_chart(chart: np.ndarray) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Essential implicants and column dominance, both safe for enumerating all covers.

    A column covered by a single implicant makes it essential (in every cover). A column
    whose covering implicants include all those of another column is dropped (covering
    the other covers it). Implicants left covering no column are redundant in every
    minimal cover. Row dominance is *not* applied: it would discard tied models.
    """
    n_pi, n_col = chart.shape
    alive_pi = np.ones(n_pi, dtype=bool)
    alive_col = np.ones(n_col, dtype=bool)
    forced: list[int] = []
    while alive_col.any():
        cover = chart & alive_pi[:, None] & alive_col[None, :]
        counts = cover.sum(axis=0)
        essential = alive_col & (counts == 1)
        if essential.any():
            chosen = np.unique(np.argmax(cover[:, essential], axis=0))
            forced.extend(int(p) for p in chosen)
            alive_col &= ~chart[chosen].any(axis=0)
            alive_pi[chosen] = False
            alive_pi &= chart[:, alive_col].any(axis=1)
            continue
        index = np.flatnonzero(alive_col)
        columns = cover[:, index].T.astype(np.int32)
        shared = columns @ columns.T
        size = columns.sum(axis=1)
        subset = shared == size[:, None]  # subset[a, b]: coverers of a within those of b
        position = np.arange(index.size)
        dominated = (
            subset
            & (
                (size[:, None] < size[None, :])
                | ((size[:, None] == size[None, :]) & (position[:, None] < position[None, :]))
            )
        ).any(axis=0)
        if not dominated.any():
            break
        alive_col[index[dominated]] = False
        alive_pi &= chart[:, alive_col].any(axis=1)
    return forced, np.flatnonzero(alive_pi), np.flatnonzero(alive_col)


class _BudgetExhausted(Exception):
    """The node budget of a minimisation ran out (reported as an EstimationError)."""


class _Budget:
    """Search nodes spent against a cap, shared by every step of one minimisation.

    A node is one implicant tried in the branch-and-bound, one cover produced by
    substitution, one node of the integer program, or (in :func:`solve`) one
    conservative/parsimonious pair of the intermediate solution. Counting nodes rather
    than seconds keeps the outcome (models or error) the same on every machine.
    """

    def __init__(self, max_nodes: int) -> None:
        self.max_nodes = max_nodes
        self.nodes = 0

    @property
    def remaining(self) -> int:
        return max(self.max_nodes - self.nodes, 0)

    def spend(self, nodes: int = 1) -> None:
        self.nodes += nodes
        if self.nodes > self.max_nodes:
            raise _BudgetExhausted


class _CoverSearch:
    r"""Exact branch-and-bound enumeration of all covers within a size limit.

    Columns are bitsets over implicants and implicants bitsets over columns (Python
    integers). A node branches on the uncovered column with the fewest admissible
    implicants, trying them in index order; in the ``i``-th branch the first ``i - 1``
    candidates are excluded from the whole subtree, so every cover is generated exactly
    once. The lower bound at a node is the larger of

    * a greedy set of uncovered columns with pairwise disjoint admissible implicants
      (each needs an implicant of its own); columns are numbered in increasing order of
      how many other columns share an implicant with them, so that scanning the set bits
      visits them in the order that makes this bound tight;
    * :math:`\lceil \sum_{j \in U} y_j \rceil` for the uncovered columns ``U``, where
      ``y`` is a feasible solution of the dual of the root LP relaxation
      (:math:`\sum_{j \in p} y_j \le 1` for every implicant ``p``). Restricted to
      ``U`` it stays dual feasible for the node's subproblem, so by weak duality every
      cover of ``U`` needs at least that many implicants.
    """

    def __init__(
        self, row_sets: list[int], column_covers: list[int], duals: Sequence[float], budget: _Budget
    ) -> None:
        self.covers = row_sets
        self.column_covers = column_covers
        self.duals = list(duals)
        self.budget = budget

    def _assess(self, uncovered: int, allowed: int) -> tuple[int, int]:
        """(lower bound, implicants of the column to branch on); bound -1 if infeasible."""
        used = 0
        disjoint = 0
        dual = 0.0
        branch, fewest = 0, -1
        column_covers, duals = self.column_covers, self.duals
        while uncovered:
            low = uncovered & -uncovered
            uncovered ^= low
            j = low.bit_length() - 1
            admissible = column_covers[j] & allowed
            if not admissible:
                return -1, 0
            if not admissible & used:
                disjoint += 1
                used |= admissible
            dual += duals[j]
            count = admissible.bit_count()
            if fewest < 0 or count < fewest:
                branch, fewest = admissible, count
        return max(disjoint, math.ceil(dual - _DUAL_TOLERANCE)), branch

    def lower_bound(self, uncovered: int, allowed: int) -> int:
        return self._assess(uncovered, allowed)[0]

    def enumerate(
        self, uncovered: int, allowed: int, limit: int, max_models: int
    ) -> list[tuple[int, ...]]:
        """All covers with at most ``limit`` implicants (at most ``max_models`` of them)."""
        found: list[tuple[int, ...]] = []
        chosen: list[int] = []
        bound, branch = self._assess(uncovered, allowed)
        if bound < 0 or bound > limit:
            return found
        # Explicit stack (no recursion limit): [uncovered, admissible, candidates].
        stack = [[uncovered, allowed, branch]]
        spend = self.budget.spend
        while stack:
            frame = stack[-1]
            if not frame[2]:
                stack.pop()
                if stack:
                    chosen.pop()
                continue
            spend()
            p = (frame[2] & -frame[2]).bit_length() - 1
            frame[2] &= ~(1 << p)
            frame[1] &= ~(1 << p)  # later siblings never use p again
            rest = frame[0] & ~self.covers[p]
            chosen.append(p)
            if not rest:
                found.append(tuple(chosen))
                chosen.pop()
                if len(found) >= max_models:
                    return found
                continue
            if len(chosen) == limit:  # budget spent with rows left: no need to assess
                chosen.pop()
                continue
            bound, branch = self._assess(rest, frame[1])
            if bound < 0 or len(chosen) + bound > limit:
                chosen.pop()
                continue
            stack.append([rest, frame[1], branch])
        return found


def _lp_relaxation(chart: np.ndarray) -> tuple[float, np.ndarray]:
    r"""Optimum of the LP relaxation of set cover and a feasible dual solution.

    Primal :math:`\min \sum_p x_p` s.t. :math:`\sum_{p \ni j} x_p \ge 1`,
    :math:`0 \le x \le 1`; dual :math:`\max \sum_j y_j` s.t. :math:`\sum_{j \in p} y_j
    \le 1`, :math:`y \ge 0` (the bound :math:`x \le 1` is never active at the optimum of a
    covering LP). HiGHS's duals are scaled down so that they are feasible exactly, not
    just to its tolerance; (0, zeros) if the solver fails (no bound, still exact).
    """
    from scipy.optimize import linprog

    n_pi, n_col = chart.shape
    relaxed = linprog(
        np.ones(n_pi),
        A_ub=-chart.T.astype(float),
        b_ub=-np.ones(n_col),
        bounds=(0, None),
        method="highs",
    )
    if relaxed.status != 0:
        return 0.0, np.zeros(n_col)
    duals = np.clip(-relaxed.ineqlin.marginals, 0.0, None)
    load = (chart * duals).sum(axis=1).max()
    duals = duals / max(load, 1.0)
    return float(duals.sum()), duals


def _greedy_cover(chart: np.ndarray) -> list[int]:
    """A cover by repeatedly taking the implicant with the most uncovered rows."""
    uncovered = np.ones(chart.shape[1], dtype=bool)
    chosen = []
    while uncovered.any():
        best = int(np.argmax((chart & uncovered).sum(axis=1)))
        chosen.append(best)
        uncovered &= ~chart[best]
    return chosen


def _smallest_cover(chart: np.ndarray, lower: int, budget: _Budget) -> tuple[list[int], int]:
    """A cover and a lower bound on the size of every cover; equal sizes when proven.

    A greedy cover is optimal when it meets ``lower``; otherwise HiGHS's branch-and-cut
    (:func:`scipy.optimize.milp` with zero relative gap, so the integer optimum is
    proven) finds the minimum. Should the solver fail, the greedy cover and ``lower``
    are returned and the caller deepens its search from ``lower``.
    """
    greedy = _greedy_cover(chart)
    if len(greedy) <= lower:
        return greedy, len(greedy)
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_pi = chart.shape[0]
    solved = milp(
        np.ones(n_pi),
        constraints=LinearConstraint(chart.T.astype(float), lb=1.0),
        integrality=np.ones(n_pi),
        bounds=Bounds(0.0, 1.0),
        options={"mip_rel_gap": 0.0, "node_limit": max(budget.remaining, 1)},
    )
    budget.spend(int(getattr(solved, "mip_node_count", 0) or 0))
    if solved.status == 1:  # node limit reached
        raise _BudgetExhausted
    if solved.status != 0:
        return greedy, lower
    witness = np.flatnonzero(solved.x > 0.5)
    if not chart[witness].any(axis=0).all():
        return greedy, lower
    return witness.tolist(), max(lower, witness.size)


def _chart_components(chart: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Independent parts of a chart: (implicants, rows) of each connected component of
    the bipartite graph in which an implicant is joined to the rows it covers."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    n_pi, n_col = chart.shape
    pi, col = np.nonzero(chart)
    graph = coo_array(
        (np.ones(pi.size), (pi, n_pi + col)), shape=(n_pi + n_col, n_pi + n_col)
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    parts = []
    for label in dict.fromkeys(labels[n_pi:].tolist()):  # in order of first row
        parts.append(
            (np.flatnonzero(labels[:n_pi] == label), np.flatnonzero(labels[n_pi:] == label))
        )
    return parts


def _component_covers(chart: np.ndarray, cap: int, budget: _Budget) -> list[list[int]]:
    """Every minimum cover of one connected, reduced chart (at most ``cap`` of them): the
    minimum covers by maximal implicants (:func:`_maximal_covers`), expanded by
    substituting the implicants each maximal one contains."""
    overlap = chart.T.astype(np.int32) @ chart.astype(np.int32)
    chart = chart[:, np.argsort((overlap > 0).sum(axis=1), kind="stable")]
    rows = chart.astype(np.int32)
    size = rows.sum(axis=1)
    inside = (rows @ rows.T) == size[:, None]  # inside[a, b]: rows of a within rows of b
    position = np.arange(size.size)
    # b is maximal unless some c strictly contains it or has the same rows and comes first.
    beaten = inside & ((size[:, None] < size[None, :]) | (position[:, None] > position[None, :]))
    maximal = np.flatnonzero(~beaten.any(axis=1))
    # Each implicant is substituted only for its first maximal superset, so that every
    # cover is generated once, from one cover by maximal implicants (see the Notes of
    # minimum_covers).
    owner = maximal[np.argmax(inside[:, maximal], axis=1)]
    members = {int(b): np.flatnonzero(owner == b).tolist() for b in maximal}
    row_sets = [_to_bitset(row) for row in chart]
    full = (1 << chart.shape[1]) - 1
    covers: dict[frozenset[int], None] = {}
    for cover in _maximal_covers(chart[maximal], cap, budget):
        representatives = [int(maximal[i]) for i in cover]
        for expanded in _substitutions(representatives, members, row_sets, full, budget):
            covers.setdefault(expanded)
            if len(covers) >= cap:
                return [sorted(c) for c in covers]
    return [sorted(c) for c in covers]


def _maximal_covers(chart: np.ndarray, cap: int, budget: _Budget) -> list[tuple[int, ...]]:
    r"""Every minimum cover (at most ``cap``) of a connected chart of maximal implicants.

    The minimum ``L`` comes from :func:`_smallest_cover`. With LP optimum :math:`z` and
    dual solution ``y``, every cover ``C`` satisfies :math:`|C| = z + \sum_{p \in C}
    \bar c_p + \sum_j y_j (n_j(C) - 1) \ge z + \sum_{p \in C} \bar c_p`, with reduced
    costs :math:`\bar c_p = 1 - \sum_{j \in p} y_j \ge 0` and :math:`n_j(C) \ge 1`
    the implicants of ``C`` covering row ``j``. So no implicant with :math:`\bar c_p >
    L - z` is in a cover of size ``L`` (reduced-cost fixing, Nemhauser and Wolsey 1988,
    ch. I.2); once ``L`` is attained, they are dropped and the smaller chart is solved
    again from the start (its reductions and independent parts may now apply). When
    none can be dropped, the covers of size ``L`` are enumerated by
    :class:`_CoverSearch`.
    """
    n_pi, n_col = chart.shape
    column_covers = [_to_bitset(column) for column in chart.T]
    uncovered, allowed = (1 << n_col) - 1, (1 << n_pi) - 1
    row_sets = [_to_bitset(row) for row in chart]
    lower = _CoverSearch(row_sets, column_covers, np.zeros(n_col), budget).lower_bound(
        uncovered, allowed
    )
    relaxed, duals = _lp_relaxation(chart)
    lower = max(lower, math.ceil(relaxed - _DUAL_TOLERANCE))
    witness, limit = _smallest_cover(chart, lower, budget)
    if len(witness) == limit:  # the minimum is attained, so fixing is exact
        kept = np.flatnonzero(1.0 - chart @ duals <= limit - relaxed + _DUAL_TOLERANCE)
        if kept.size < n_pi:
            covers, _ = _minimum_covers(chart[kept], cap, budget)
            return [tuple(int(kept[i]) for i in cover) for cover in covers]
    # The witness's implicants first: the search's leftmost path then reaches it at once.
    first = np.zeros(n_pi, dtype=bool)
    first[witness] = True
    order = np.concatenate([np.flatnonzero(first), np.flatnonzero(~first)])
    search = _CoverSearch(
        [row_sets[p] for p in order],
        [_to_bitset(column) for column in chart[order].T],
        duals,
        budget,
    )
    while not (found := search.enumerate(uncovered, allowed, limit, cap)):
        limit += 1  # only if the integer program failed and ``limit`` is just a bound
    return [tuple(int(order[i]) for i in cover) for cover in found]


def minimum_covers(
    chart: np.ndarray,
    *,
    max_models: int = DEFAULT_MAX_MODELS,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> tuple[list[tuple[int, ...]], bool]:
    """Every cover of a prime implicant chart with the minimum number of implicants.

    Parameters
    ----------
    chart
        Boolean array ``(n_implicants, n_rows)``: implicant ``p`` covers positive row
        ``j``. Every row must be covered by some implicant.
    max_models
        Stop after this many covers (with ``truncated = True``).
    max_nodes
        Budget of search nodes (see Notes); when it is spent the search stops with
        :class:`~bayes_ccd.exceptions.EstimationError` instead of running on.

    Returns
    -------
    (list of tuple of int, bool)
        The covers as sorted tuples of implicant indices, and whether the enumeration was
        truncated at ``max_models``.

    Raises
    ------
    EstimationError
        The search needed more than ``max_nodes`` nodes.

    Notes
    -----
    1. The exact reductions of :func:`_reduce_chart` (essential implicants, column
       dominance).
    2. The rest splits into independent parts (connected components of implicants and
       the rows they cover): the minimum is the sum of the parts' minima and the minimum
       covers are every combination of minimum covers of the parts.
    3. In each part the search runs over the *maximal* implicants only: those whose rows
       are not a subset of another implicant's (one representative per set of
       implicants with identical rows). Every minimum cover maps to a minimum cover of
       maximal implicants of the same size (replace each implicant by a maximal one
       containing it; fewer would contradict minimality), so the minimum is the same.
    4. The minimum of a part is a greedy cover when it meets the lower bound (disjoint
       rows, LP relaxation), otherwise the proven optimum of HiGHS's integer program;
       every cover of that size is then enumerated by branch-and-bound
       (:class:`_CoverSearch`).
    5. Each such cover is expanded back: every member may be replaced by an implicant
       whose rows it contains, as long as the result still covers every row. By 3, this
       yields every minimum cover of the full chart, ties among dominated implicants
       included (R's QCA package also reports these unless ``row.dom = TRUE``). An
       implicant is only substituted for the *first* maximal implicant containing it:
       the map from a minimum cover to the first maximal supersets of its members is
       one-to-one (two members sharing one would give a smaller cover), so every cover
       is generated exactly once.

    A node is one implicant tried by the branch-and-bound, one cover produced in 5, or
    one branch-and-cut node of the integer program.

    This is the exact alternative to Petrick's (1956) method, with the rule of R's QCA
    package (``minimize``: "find the minimal number k of prime implicants ... then
    exhaustively search through all possible disjunctions of k prime implicants").
    """
    if max_models < 1:
        raise ConfigError(f"max_models must be at least 1 (got {max_models})")
    if max_nodes < 1:
        raise ConfigError(f"max_nodes must be at least 1 (got {max_nodes})")
    return _minimum_covers(np.asarray(chart, dtype=bool), max_models, _Budget(max_nodes))


def _minimum_covers(
    chart: np.ndarray, max_models: int, budget: _Budget
) -> tuple[list[tuple[int, ...]], bool]:
    if chart.shape[1] == 0:
        return [()], False
    if not chart.any(axis=0).all():
        raise SpecificationError("a positive row is covered by no prime implicant")
    forced, pis, cols = _reduce_chart(chart)
    if cols.size == 0:
        return [tuple(sorted(forced))], False
    sub = chart[np.ix_(pis, cols)]
    parts = _chart_components(sub)
    choices = []
    try:
        for implicants, rows in parts:
            # One more than the cap, to tell "exactly max_models" from "truncated".
            covers = _component_covers(sub[np.ix_(implicants, rows)], max_models + 1, budget)
            choices.append([[int(pis[implicants[p]]) for p in cover] for cover in covers])
    except _BudgetExhausted:
        largest = max(parts, key=lambda part: part[1].size)
        raise EstimationError(
            f"the exact search for minimum covers ran out of its budget of "
            f"{budget.max_nodes} search nodes on a chart of {chart.shape[0]} prime "
            f"implicants and {chart.shape[1]} positive rows (after essential implicants "
            f"and dominance: {pis.size} implicants and {cols.size} rows in "
            f"{len(parts)} independent part(s), the largest {largest[0].size} x "
            f"{largest[1].size})"
        ) from None
    # Any part capped at max_models + 1 makes the product exceed max_models too.
    models = [
        tuple(sorted(forced + [p for part in combination for p in part]))
        for combination in itertools.islice(itertools.product(*choices), max_models + 1)
    ]
    return models[:max_models], len(models) > max_models


def _substitutions(
    representatives: list[int],
    members: dict[int, list[int]],
    row_sets: list[int],
    full: int,
    budget: _Budget,
) -> Iterator[frozenset[int]]:
    """Covers made by replacing each representative by one of its members (itself
    included), by backtracking: a member is tried only if the remaining representatives
    still complete the cover, so every branch ends in a cover (the representatives
    themselves always complete it). One node is spent per cover."""
    reach = [0] * (len(representatives) + 1)
    for i in range(len(representatives) - 1, -1, -1):
        reach[i] = reach[i + 1] | row_sets[representatives[i]]
    chosen: list[int] = []

    def extend(i: int, covered: int) -> Iterator[frozenset[int]]:
        if i == len(representatives):
            budget.spend()
            yield frozenset(chosen)
            return
        for a in members[representatives[i]]:
            if (covered | row_sets[a] | reach[i + 1]) == full:
                chosen.append(a)
                yield from extend(i + 1, covered | row_sets[a])
                chosen.pop()

    yield from extend(0, 0)


@dataclass(frozen=True)
class BooleanSolution:
    """Minimal sums of products of a partially specified Boolean function.

    Attributes
    ----------
    prime_implicants
        All prime implicants covering some positive row.
    models
        Every minimal model (tuple of implicants), sorted by total literals.
    truncated
        Whether enumeration stopped at ``max_models``.
    nodes
        Search nodes spent (see :func:`minimum_covers`).
    """

    prime_implicants: tuple[Implicant, ...]
    models: tuple[tuple[Implicant, ...], ...]
    truncated: bool
    nodes: int = 0


def minimise(
    on: Iterable[int],
    dc: Iterable[int] = (),
    n_conditions: int = 1,
    *,
    criterion: Criterion = "terms",
    max_models: int = DEFAULT_MAX_MODELS,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> BooleanSolution:
    """Exact minimisation of a truth table: all minimal sums of prime implicants.

    Parameters
    ----------
    on
        Positive row codes (must be non-empty).
    dc
        Remainder codes usable as don't-cares (empty for the conservative solution).
    n_conditions
        Number of conditions ``k``.
    criterion
        ``"terms"``: every cover with the fewest prime implicants (R's QCA package,
        Dusa 2019); ``"literals"``: of those, only the covers with the
        fewest literals in total (McCluskey's 1956 cost).
    max_models
        Cap on the number of tied models; a :class:`NumericalWarning` is issued when it
        is reached.
    max_nodes
        Budget of search nodes of :func:`minimum_covers`.

    Returns
    -------
    BooleanSolution

    Raises
    ------
    EstimationError
        The search for minimum covers needed more than ``max_nodes`` nodes.
    """
    if criterion not in ("terms", "literals"):
        raise ConfigError(f"criterion must be 'terms' or 'literals', got {criterion!r}")
    if max_models < 1:
        raise ConfigError(f"max_models must be at least 1 (got {max_models})")
    if max_nodes < 1:
        raise ConfigError(f"max_nodes must be at least 1 (got {max_nodes})")
    on_rows = sorted(set(int(r) for r in on))
    if not on_rows:
        raise SpecificationError(
            "no positive truth-table row to explain: lower incl_cut "
            "or pri_cut, or check the outcome"
        )
    k = int(n_conditions)
    dc_rows = sorted(set(int(r) for r in dc) - set(on_rows))
    primes = prime_implicants(on_rows, dc_rows, k)
    rows = np.asarray(on_rows, dtype=np.int64)
    chart = np.array([(rows & mask) == value for value, mask in primes], dtype=bool)
    budget = _Budget(max_nodes)
    found, truncated = _minimum_covers(chart, max_models, budget)
    if truncated:
        warnings.warn(
            f"more than {max_models} tied minimal models; only the first "
            f"{max_models} are reported (raise max_models to see more)",
            NumericalWarning,
            stacklevel=2,
        )
    models = [
        tuple(sorted((primes[i] for i in cover), key=lambda p: _term_sort_key(p, k)))
        for cover in found
    ]
    if criterion == "literals":
        fewest = min(sum(_literal_count(p) for p in m) for m in models)
        models = [m for m in models if sum(_literal_count(p) for p in m) == fewest]
    models.sort(
        key=lambda m: (sum(_literal_count(p) for p in m), [_term_sort_key(p, k) for p in m])
    )
    return BooleanSolution(tuple(primes), tuple(models), truncated, budget.nodes)


# --------------------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------------------


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
    """A sum of products such as ``DEV*~IND + URB*STB``."""
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


def parse_directional_expectations(
    expectations: Mapping[str, int | str] | Sequence[str] | str | None,
    conditions: Sequence[str],
) -> dict[str, int]:
    """Directional expectations as ``{condition: 1 (present) or 0 (absent)}``.

    Accepts a mapping (values 1/0, ``"present"``/``"absent"``, or ``"-"`` for none), a
    sequence or comma-separated string in R's notation (``"DEV, URB, ~IND"``: listed
    conditions are expected to contribute when present, ``~`` when absent; unlisted ones
    carry no expectation), or ``None`` (no expectations).
    """
    if expectations is None:
        return {}
    items: list[tuple[str, int | str]]
    if isinstance(expectations, Mapping):
        items = list(expectations.items())
    else:
        tokens = expectations.split(",") if isinstance(expectations, str) else expectations
        items = []
        for token in (t.strip() for t in tokens):
            if not token:
                continue
            if "=" in token:
                name, value = (s.strip() for s in token.split("=", 1))
                items.append((name, value))
            else:
                items.append((token.lstrip("~").strip(), 0 if token.startswith("~") else 1))
    result: dict[str, int] = {}
    codes = {"1": 1, "present": 1, "0": 0, "absent": 0, "-": None, "": None}
    for name, raw in items:
        if name not in conditions:
            raise ConfigError(
                f"directional expectation for unknown condition '{name}' "
                f"(conditions: {', '.join(conditions)})"
            )
        key = str(raw).strip().lower()
        if key not in codes:
            raise ConfigError(
                f"directional expectation {raw!r} for '{name}': use 1 "
                "(present), 0 (absent) or '-' (none)"
            )
        if name in result:
            raise ConfigError(f"two directional expectations for '{name}'")
        if codes[key] is not None:
            result[name] = codes[key]
    return result


# --------------------------------------------------------------------------------------
# Solutions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermFit:
    r"""One term (sufficient configuration) of a model with its parameters of fit.

    ``unique_coverage`` is the coverage lost when the term is dropped from the model:
    :math:`\mathrm{cov}(S) - \mathrm{cov}(S \setminus T)` (Ragin 2008, ch. 3).
    ``cases`` have membership above 0.5 in the term.
    """

    term: str
    implicant: Implicant
    consistency: float
    pri: float
    raw_coverage: float
    unique_coverage: float
    cases: tuple[str, ...]


@dataclass(frozen=True)
class Model:
    """One minimal model (sum of terms) of a solution and its fit.

    Attributes
    ----------
    label
        ``M1``, ``M2``, ... within its solution.
    expression
        The model, e.g. ``DEV*~IND + URB*STB``.
    terms
        Per-term fit.
    consistency, pri, coverage
        Of the whole model (membership = maximum over terms).
    counterfactuals
        Remainder codes the model assumes to be sufficient: the simplifying assumptions
        of a parsimonious model, the easy counterfactuals of an intermediate one.
    conservative_model, parsimonious_model
        For intermediate models: indices of the conservative and parsimonious models
        they were derived from (R's ``C1P1`` labels are ``C{i+1}P{j+1}``).
    """

    label: str
    implicants: tuple[Implicant, ...]
    expression: str
    terms: tuple[TermFit, ...]
    consistency: float
    pri: float
    coverage: float
    counterfactuals: tuple[int, ...] = ()
    conservative_model: int | None = None
    parsimonious_model: int | None = None

    @property
    def derived_from(self) -> str:
        """R's ``C{i}P{j}`` label of an intermediate model's conservative/parsimonious
        pair (1-based), ``""`` for the other solutions."""
        if self.conservative_model is None or self.parsimonious_model is None:
            return ""
        return f"C{self.conservative_model + 1}P{self.parsimonious_model + 1}"


@dataclass(frozen=True)
class Solution:
    """The conservative, parsimonious or intermediate solution: every tied model."""

    kind: str
    prime_implicants: tuple[str, ...]
    models: tuple[Model, ...]
    truncated: bool = False


@dataclass(frozen=True)
class QCAResult:
    """Everything an fsQCA run produces; see :func:`solve`.

    ``config`` is the merged configuration that produced the result (cut-offs,
    expectations, treatment of 0.5, criterion), saved with the outputs;
    ``parsimonious_primes`` are the prime implicants of the parsimonious solution as
    implicants (they decide core conditions).
    """

    truth_table: TruthTable
    necessity: pd.DataFrame
    conservative: Solution
    parsimonious: Solution
    intermediate: Solution
    directional_expectations: dict[str, int]
    config: dict[str, Any] = field(default_factory=dict)
    parsimonious_primes: tuple[Implicant, ...] = ()

    @property
    def solutions(self) -> dict[str, Solution]:
        """The three solutions by name."""
        return {
            "conservative": self.conservative,
            "parsimonious": self.parsimonious,
            "intermediate": self.intermediate,
        }


class _ModelFitter:
    """Parameters of fit of the models of one truth table.

    Terms recur across the tied models of a solution, so each term's memberships and fit
    are computed once.
    """

    def __init__(self, table: TruthTable) -> None:
        self.x, self.y = table.memberships()
        self.conditions = table.conditions
        self.cases = table.data.index.astype(str).to_numpy()
        self._terms: dict[Implicant, tuple[np.ndarray, TermFit]] = {}

    def term(self, implicant: Implicant) -> tuple[np.ndarray, TermFit]:
        """Memberships in the term and its fit (unique coverage still 0)."""
        if implicant not in self._terms:
            m = term_membership(self.x, implicant)
            self._terms[implicant] = (
                m,
                TermFit(
                    term=format_term(implicant, self.conditions),
                    implicant=implicant,
                    consistency=consistency(m, self.y),
                    pri=pri(m, self.y),
                    raw_coverage=coverage(m, self.y),
                    unique_coverage=0.0,
                    cases=tuple(self.cases[m > 0.5]),
                ),
            )
        return self._terms[implicant]

    def fit(self, label: str, model: Sequence[Implicant], **extra: Any) -> Model:
        r"""The model with the fit of each term and of the whole.

        Unique coverage of term ``i`` is :math:`\mathrm{cov}(S) - \mathrm{cov}(S
        \setminus T_i)`. Dropping term ``i`` changes a case's membership in the model
        only where term ``i`` is the largest (it falls to the second largest, which may
        tie), so

        .. math::

            \mathrm{cov}(S) - \mathrm{cov}(S \setminus T_i) = \frac{\sum_{c:\,
            \arg\max = i} \left[\min(s_c, y_c) - \min(s^{(2)}_c, y_c)\right]}
            {\sum_c y_c}

        with :math:`s_c` and :math:`s^{(2)}_c` the largest and second largest term
        memberships of case ``c``: one pass over the cases instead of one per term.
        """
        y = self.y
        fitted = [self.term(term) for term in model]
        memberships = np.column_stack([m for m, _ in fitted])
        union = memberships.max(axis=1)
        total = coverage(union, y)
        if len(fitted) > 1:
            second = np.partition(memberships, -2, axis=1)[:, -2]
        else:
            second = np.zeros_like(union)
        loss = np.minimum(union, y) - np.minimum(second, y)
        y_total = y.sum()
        unique = (
            np.bincount(memberships.argmax(axis=1), weights=loss, minlength=len(fitted)) / y_total
            if y_total > 0
            else np.full(len(fitted), np.nan)
        )
        return Model(
            label=label,
            implicants=tuple(model),
            expression=format_model(model, self.conditions),
            terms=tuple(
                TermFit(
                    fit.term,
                    fit.implicant,
                    fit.consistency,
                    fit.pri,
                    fit.raw_coverage,
                    float(u),
                    fit.cases,
                )
                for (_, fit), u in zip(fitted, unique, strict=True)
            ),
            consistency=consistency(union, y),
            pri=pri(union, y),
            coverage=total,
            **extra,
        )


def _covered_rows(model: Sequence[Implicant], rows: np.ndarray) -> np.ndarray:
    hit = np.zeros(rows.size, dtype=bool)
    for value, mask in model:
        hit |= (rows & mask) == value
    return rows[hit]


def easy_counterfactuals(
    conservative_model: Sequence[Implicant],
    parsimonious_model: Sequence[Implicant],
    remainders: Iterable[int],
    expectations: Mapping[int, int],
    n_conditions: int,
) -> tuple[int, ...]:
    """Remainders that are easy counterfactuals for one conservative/parsimonious pair.

    The procedure of R's QCA package (``minimize`` with ``dir.exp``; Dusa 2019),
    following Ragin and Sonnett (2005): for every conservative term ``c`` and
    every parsimonious term ``p`` that contains it (``p``'s literals are a subset of
    ``c``'s), the literals of ``c`` that ``p`` does not have are dropped when they
    contradict the directional expectation of their condition (e.g. ``~URB`` when URB
    is expected to contribute when present) and kept when they agree with it or the
    condition has no expectation. The remainders covered by the shortened term that are
    also simplifying assumptions of the parsimonious model are easy counterfactuals.

    Parameters
    ----------
    conservative_model, parsimonious_model
        Terms of one model of each solution.
    remainders
        Remainder row codes.
    expectations
        ``{condition index: 1 or 0}``; conditions without expectation are absent.
    n_conditions
        ``k``.

    Returns
    -------
    tuple of int
        The easy counterfactual row codes, sorted.
    """
    k = n_conditions
    rows = np.fromiter(remainders, dtype=np.int64)
    assumptions = _covered_rows(parsimonious_model, rows)
    easy: set[int] = set()
    for c_value, c_mask in conservative_model:
        for p_value, p_mask in parsimonious_model:
            if p_mask & ~c_mask or (c_value & p_mask) != p_value:
                continue
            drop = 0
            for j, expected in expectations.items():
                bit = 1 << (k - 1 - j)
                if c_mask & ~p_mask & bit and bool(c_value & bit) != bool(expected):
                    drop |= bit
            shortened = (c_value & ~drop, c_mask & ~drop)
            easy.update(int(r) for r in _covered_rows([shortened], assumptions))
    return tuple(sorted(easy))


#: What to change when a solution's search budget runs out (appended to the error).
_BUDGET_ADVICE = (
    "raise max_nodes (command line: --max-nodes), lower max_models, analyse fewer "
    "conditions, or raise n_cut so that rows with few cases become remainders"
)


def solve(
    table: TruthTable,
    *,
    dir_exp: Mapping[str, int | str] | Sequence[str] | str | None = None,
    criterion: Criterion = "terms",
    max_models: int = DEFAULT_MAX_MODELS,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> QCAResult:
    """Conservative, parsimonious and intermediate solutions of a truth table.

    * **Conservative** (complex): minimise the positive rows with no remainders.
    * **Parsimonious**: remainders are don't-cares; each model's simplifying
      assumptions are the remainders it covers.
    * **Intermediate**: for every pair of a conservative and a parsimonious model, the
      positive rows are minimised with the pair's easy counterfactuals (see
      :func:`easy_counterfactuals`) as the only don't-cares, as R's QCA package does.
      Without directional expectations no counterfactual is easy and the intermediate
      models are the conservative models again, once per parsimonious model. Each model
      records its pair (:attr:`Model.derived_from`, R's ``C1P1`` label): two pairs may
      give the same expression, with different core conditions in the configuration
      chart.

    Every model of every solution is reported when models tie (see :func:`minimise`),
    with consistency, PRI, raw and unique coverage of each term and of the model.

    Parameters
    ----------
    table
        From :func:`truth_table`.
    dir_exp
        Directional expectations, see :func:`parse_directional_expectations`.
    criterion, max_models
        See :func:`minimise`.
    max_nodes
        Search budget of each solution (see :func:`minimum_covers`); the intermediate
        solution shares it among its conservative/parsimonious pairs, each pair also
        counting one node.

    Returns
    -------
    QCAResult

    Raises
    ------
    EstimationError
        A solution's search needed more than ``max_nodes`` nodes; the message names the
        solution, the size of its prime implicant chart and what to change.
    """
    if max_nodes < 1:
        raise ConfigError(f"max_nodes must be at least 1 (got {max_nodes})")
    conditions = table.conditions
    k = len(conditions)
    expectations = parse_directional_expectations(dir_exp, conditions)
    by_index = {conditions.index(name): value for name, value in expectations.items()}
    remainders = table.remainders
    options = {"criterion": criterion, "max_models": max_models}

    def minimised(kind: str, free: Sequence[int], nodes: int) -> BooleanSolution:
        try:
            return minimise(table.positive, free, k, max_nodes=nodes, **options)
        except EstimationError as error:
            raise EstimationError(f"{kind} solution: {error}; {_BUDGET_ADVICE}") from None

    conservative = minimised("conservative", (), max_nodes)
    parsimonious = minimised("parsimonious", remainders, max_nodes)

    intermediate_models: list[tuple[tuple[Implicant, ...], int, int, tuple[int, ...]]] = []
    intermediate_primes: dict[Implicant, None] = {}
    truncated = conservative.truncated or parsimonious.truncated
    seen = set()
    # Pairs with the same easy counterfactuals have the same minimisation.
    by_counterfactuals: dict[tuple[int, ...], BooleanSolution] = {}
    spent = 0
    for (ci, c_model), (pi, p_model) in itertools.product(
        enumerate(conservative.models), enumerate(parsimonious.models)
    ):
        spent += 1
        easy = easy_counterfactuals(c_model, p_model, remainders, by_index, k)
        if easy not in by_counterfactuals:
            if spent >= max_nodes:
                raise EstimationError(
                    f"intermediate solution: the search budget of max_nodes={max_nodes} "
                    f"nodes is spent at pair C{ci + 1}P{pi + 1} of "
                    f"{len(conservative.models)} x {len(parsimonious.models)} "
                    f"conservative/parsimonious pairs; {_BUDGET_ADVICE}"
                )
            pair = minimised(
                f"intermediate (pair C{ci + 1}P{pi + 1}; the pairs share max_nodes={max_nodes})",
                easy,
                max_nodes - spent,
            )
            by_counterfactuals[easy] = pair
            spent += pair.nodes
        pair = by_counterfactuals[easy]
        intermediate_primes.update(dict.fromkeys(pair.prime_implicants))
        for model in pair.models:
            key = (frozenset(model), pi)
            if key not in seen:
                seen.add(key)
                intermediate_models.append((model, ci, pi, easy))
        if len(intermediate_models) > max_models:
            warnings.warn(
                f"more than {max_models} intermediate models; only the first "
                f"{max_models} are reported",
                NumericalWarning,
                stacklevel=2,
            )
            truncated = True
            intermediate_models = intermediate_models[:max_models]
            break

    def primes(implicants: Iterable[Implicant]) -> tuple[str, ...]:
        return tuple(format_term(p, conditions) for p in implicants)

    fitter = _ModelFitter(table)
    remainder_rows = np.asarray(remainders, dtype=np.int64)
    return QCAResult(
        truth_table=table,
        necessity=necessity(table.data, table.outcome, conditions),
        conservative=Solution(
            "conservative",
            primes(conservative.prime_implicants),
            tuple(fitter.fit(f"M{i + 1}", m) for i, m in enumerate(conservative.models)),
            conservative.truncated,
        ),
        parsimonious=Solution(
            "parsimonious",
            primes(parsimonious.prime_implicants),
            tuple(
                fitter.fit(
                    f"M{i + 1}",
                    m,
                    counterfactuals=tuple(int(r) for r in _covered_rows(m, remainder_rows)),
                )
                for i, m in enumerate(parsimonious.models)
            ),
            parsimonious.truncated,
        ),
        intermediate=Solution(
            "intermediate",
            primes(intermediate_primes),
            tuple(
                fitter.fit(
                    f"M{i + 1}",
                    m,
                    counterfactuals=easy,
                    conservative_model=ci,
                    parsimonious_model=pi,
                )
                for i, (m, ci, pi, easy) in enumerate(intermediate_models)
            ),
            truncated,
        ),
        directional_expectations=expectations,
        parsimonious_primes=parsimonious.prime_implicants,
        config={
            "outcome": table.outcome,
            "conditions": list(conditions),
            "incl_cut": table.incl_cut,
            "n_cut": table.n_cut,
            "pri_cut": table.pri_cut,
            "half_membership": table.half_membership,
            "directional_expectations": expectations,
            "max_nodes": max_nodes,
            **options,
        },
    )


def fsqca(
    data: pd.DataFrame,
    outcome: str,
    conditions: Sequence[str],
    *,
    incl_cut: float = 0.8,
    n_cut: int = 1,
    pri_cut: float = 0.0,
    dir_exp: Mapping[str, int | str] | Sequence[str] | str | None = None,
    half_membership: HalfMembershipRule = "nudge",
    criterion: Criterion = "terms",
    max_models: int = DEFAULT_MAX_MODELS,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> QCAResult:
    """Truth table and all three solutions in one call (:func:`truth_table` + :func:`solve`).

    ``data`` holds memberships in [0, 1] (calibrate raw data first with
    :func:`bayes_ccd.calibration.calibrate_frame`), one row per case, indexed by case.

    Examples
    --------
    High DEA efficiency of the provinces on its drivers, calibrated at the 95th, 50th
    and 5th sample percentiles::

        from bayes_ccd.calibration import calibrate_frame, percentile_anchors
        from bayes_ccd.reports import atomic_output_dir

        columns = ["crs", "U1", "gdp_per_capita", "urbanisation_rate"]
        memberships = calibrate_frame(raw[columns], percentile_anchors(columns))
        result = fsqca(memberships, "crs", columns[1:], incl_cut=0.8, pri_cut=0.5,
                       dir_exp="U1, gdp_per_capita, urbanisation_rate")
        with atomic_output_dir("results/fsqca") as staging:
            write_qca_outputs(result, staging)
    """
    table = truth_table(
        data,
        outcome,
        conditions,
        incl_cut=incl_cut,
        n_cut=n_cut,
        pri_cut=pri_cut,
        half_membership=half_membership,
    )
    return solve(
        table, dir_exp=dir_exp, criterion=criterion, max_models=max_models, max_nodes=max_nodes
    )


# --------------------------------------------------------------------------------------
# Configuration chart (Ragin and Fiss 2008; Fiss 2011)
# --------------------------------------------------------------------------------------

_FIT_ROWS = ("Consistency", "PRI", "Raw coverage", "Unique coverage")
_SOLUTION_ROWS = ("Solution consistency", "Solution PRI", "Solution coverage")


def _core_mask(model: Model, term: Implicant, result: QCAResult) -> int:
    """Mask of the core conditions of an intermediate term (Fiss 2011): the literals of
    the parsimonious terms that contain it.

    Those are the terms of the paired parsimonious model. One pair's minimisation can
    return tied models with a term that straddles them (it lies inside the union of the
    parsimonious model's terms but in none of them); such a term takes its core from the
    parsimonious prime implicants that contain it, of which there is always one: the term
    covers a positive row and assumes only remainders.
    """
    if model.parsimonious_model is None:
        return 0
    paired = result.parsimonious.models[model.parsimonious_model]
    core = _containing_literals(term, paired.implicants)
    if not core:
        core = _containing_literals(term, result.parsimonious_primes)
    return core


def _containing_literals(term: Implicant, candidates: Iterable[Implicant]) -> int:
    """Union of the masks of the ``candidates`` that contain ``term``."""
    value, mask = term
    core = 0
    for p_value, p_mask in candidates:
        if not p_mask & ~mask and (value & p_mask) == p_value:
            core |= p_mask
    return core


def chart_cells(result: QCAResult, model: int = 0) -> list[dict[str, str]]:
    """Per configuration, ``{condition: "core present" | "peripheral present" |
    "core absent" | "peripheral absent"}`` (don't-care conditions omitted)."""
    chosen = result.intermediate.models[model]
    k = len(result.truth_table.conditions)
    cells = []
    for term in chosen.implicants:
        value, mask = term
        core = _core_mask(chosen, term, result)
        column = {}
        for j, name in enumerate(result.truth_table.conditions):
            bit = 1 << (k - 1 - j)
            if mask & bit:
                kind = "core" if core & bit else "peripheral"
                column[name] = f"{kind} {'present' if value & bit else 'absent'}"
        cells.append(column)
    return cells


def configuration_chart(
    result: QCAResult, model: int = 0, *, label_prefix: str = "H"
) -> pd.DataFrame:
    """The configuration chart of one intermediate model (Ragin and Fiss 2008; Fiss 2011).

    Columns are the configurations (``H1``, ``H2``, ...); rows are the conditions, with
    :data:`CORE_PRESENT` / :data:`PERIPHERAL_PRESENT` for presence,
    :data:`CORE_ABSENT` / :data:`PERIPHERAL_ABSENT` for absence and a blank for "don't
    care", followed by the consistency, PRI, raw and unique coverage of each
    configuration and the solution's consistency, PRI and coverage (first column).
    Core conditions are those of the parsimonious term that contains the intermediate
    term; the others are peripheral (Fiss 2011).
    """
    if not 0 <= model < len(result.intermediate.models):
        raise ConfigError(
            f"no intermediate model {model}; there are {len(result.intermediate.models)}"
        )
    chosen = result.intermediate.models[model]
    symbols = {
        "core present": CORE_PRESENT,
        "peripheral present": PERIPHERAL_PRESENT,
        "core absent": CORE_ABSENT,
        "peripheral absent": PERIPHERAL_ABSENT,
    }
    columns = [f"{label_prefix}{i + 1}" for i in range(len(chosen.terms))]
    rows: dict[str, list[object]] = {
        name: [symbols.get(cells.get(name, ""), "") for cells in chart_cells(result, model)]
        for name in result.truth_table.conditions
    }
    rows["Consistency"] = [t.consistency for t in chosen.terms]
    rows["PRI"] = [t.pri for t in chosen.terms]
    rows["Raw coverage"] = [t.raw_coverage for t in chosen.terms]
    rows["Unique coverage"] = [t.unique_coverage for t in chosen.terms]
    blanks = [""] * (len(columns) - 1)
    rows["Solution consistency"] = [chosen.consistency, *blanks]
    rows["Solution PRI"] = [chosen.pri, *blanks]
    rows["Solution coverage"] = [chosen.coverage, *blanks]
    chart = pd.DataFrame.from_dict(rows, orient="index", columns=columns).astype(object)
    chart.index.name = "Condition"
    return chart


def plot_configuration_chart(result: QCAResult, model: int = 0, *, label_prefix: str = "H") -> Any:
    """The configuration chart as a matplotlib figure (large circles: core conditions).

    Filled circles mark presence and crossed circles absence; large symbols are core,
    small ones peripheral conditions. Consistency, PRI, raw and unique coverage of each
    configuration and the solution totals are printed below.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    chart = configuration_chart(result, model, label_prefix=label_prefix)
    cells = chart_cells(result, model)
    conditions = list(result.truth_table.conditions)
    n_cols = chart.shape[1]
    n_rows = len(conditions) + len(_FIT_ROWS) + len(_SOLUTION_ROWS)
    figure = Figure(figsize=(2.6 + 0.7 * n_cols, 0.42 * n_rows + 1.0))
    ax = figure.add_subplot()
    for i, name in enumerate(conditions):
        for c, column in enumerate(cells):
            kind = column.get(name)
            if kind is None:
                continue
            radius = 0.28 if kind.startswith("core") else 0.14
            centre = (c, -i)
            if kind.endswith("present"):
                ax.add_patch(Circle(centre, radius, color="black"))
            else:
                ax.add_patch(Circle(centre, radius, fill=False, color="black", lw=1.2))
                d = radius / np.sqrt(2.0)
                ax.plot([c - d, c + d], [-i - d, -i + d], color="black", lw=1.2)
                ax.plot([c - d, c + d], [-i + d, -i - d], color="black", lw=1.2)
    offset = len(conditions)
    for r, label in enumerate(_FIT_ROWS):
        for c in range(n_cols):
            ax.text(
                c,
                -(offset + r),
                f"{chart.loc[label].iloc[c]:.3f}",
                ha="center",
                va="center",
                fontsize=9,
            )
    offset += len(_FIT_ROWS)
    for r, label in enumerate(_SOLUTION_ROWS):
        ax.text(
            (n_cols - 1) / 2,
            -(offset + r),
            f"{chart.loc[label].iloc[0]:.3f}",
            ha="center",
            va="center",
            fontsize=9,
        )
    labels = [*conditions, *_FIT_ROWS, *_SOLUTION_ROWS]
    ax.set_yticks([-i for i in range(n_rows)], labels)
    ax.set_xticks(range(n_cols), list(chart.columns))
    ax.xaxis.tick_top()
    ax.set_xlim(-0.6, n_cols - 0.4)
    ax.set_ylim(-(n_rows - 0.5), 0.6)
    ax.set_aspect("equal")
    ax.axhline(-(len(conditions) - 0.5), color="grey", lw=0.6)
    ax.axhline(-(len(conditions) + len(_FIT_ROWS) - 0.5), color="grey", lw=0.6)
    for side in ("right", "bottom", "left", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    figure.text(
        0.01,
        0.01,
        "Large: core; small: peripheral; filled: present; crossed: absent; blank: don't care.",
        fontsize=7,
    )
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


# --------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------


_COUNTERFACTUALS = {
    "parsimonious": "simplifying_assumptions",
    "intermediate": "easy_counterfactuals",
}

#: pdfLaTeX forms of the chart symbols (no Unicode, no package beyond LaTeX itself).
LATEX_CHART_SYMBOLS = {
    CORE_PRESENT: r"{\Large$\bullet$}",
    PERIPHERAL_PRESENT: r"$\bullet$",
    CORE_ABSENT: r"{\Large$\otimes$}",
    PERIPHERAL_ABSENT: r"$\otimes$",
}
# ASCII letters that reports.latex_escape leaves alone, swapped for LaTeX afterwards.
_LATEX_PLACEHOLDERS = {
    symbol: f"QCACHARTSYMBOL{i}X" for i, symbol in enumerate(LATEX_CHART_SYMBOLS)
}


def _earlier_twins(models: Sequence[Model]) -> dict[str, str]:
    """``{label: label of the first earlier model with the same expression}``."""
    first: dict[str, str] = {}
    twins = {}
    for model in models:
        if model.expression in first:
            twins[model.label] = first[model.expression]
        else:
            first[model.expression] = model.label
    return twins


def solutions_table(result: QCAResult) -> pd.DataFrame:
    """One row per model of every solution: its expression and fit.

    Columns ``solution``, ``model``, ``derived_from`` (R's ``C{i}P{j}`` pair of an
    intermediate model), ``same_expression_as`` (an earlier intermediate model with the
    same expression but another pair, hence possibly other core conditions),
    ``expression``, ``consistency``, ``PRI`` and ``coverage``.
    """
    records = []
    for name, solution in result.solutions.items():
        twins = _earlier_twins(solution.models)
        for model in solution.models:
            records.append(
                {
                    "solution": name,
                    "model": model.label,
                    "derived_from": model.derived_from,
                    "same_expression_as": twins.get(model.label, ""),
                    "expression": model.expression,
                    "consistency": model.consistency,
                    "PRI": model.pri,
                    "coverage": model.coverage,
                }
            )
    return pd.DataFrame.from_records(
        records,
        columns=[
            "solution",
            "model",
            "derived_from",
            "same_expression_as",
            "expression",
            "consistency",
            "PRI",
            "coverage",
        ],
    )


def _model_dict(model: Model, table: TruthTable, kind: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "label": model.label,
        "expression": model.expression,
        "consistency": model.consistency,
        "pri": model.pri,
        "coverage": model.coverage,
        "terms": [
            {
                "term": t.term,
                "consistency": t.consistency,
                "pri": t.pri,
                "raw_coverage": t.raw_coverage,
                "unique_coverage": t.unique_coverage,
                "cases": list(t.cases),
            }
            for t in model.terms
        ],
    }
    if model.derived_from:
        entry["derived_from"] = model.derived_from
    if kind in _COUNTERFACTUALS:
        entry[_COUNTERFACTUALS[kind]] = [
            {"row": r + 1, "configuration": table.row_label(r)} for r in model.counterfactuals
        ]
    return entry


def result_to_dict(result: QCAResult) -> dict[str, Any]:
    """A JSON-ready description of every model of every solution with its fit.

    Parsimonious models list their ``simplifying_assumptions`` and intermediate models
    their ``easy_counterfactuals`` (truth-table rows numbered as R's QCA package does,
    code + 1), the conservative and parsimonious models they were ``derived_from``
    (``C1P1``, ...), ``same_expression_as`` when an earlier intermediate model (from
    another pair) has the same expression, and their configuration ``chart``
    (core/peripheral conditions, which depend on the pair).
    """
    out: dict[str, Any] = {"config": result.config}
    for name, solution in result.solutions.items():
        twins = _earlier_twins(solution.models)
        models = [_model_dict(m, result.truth_table, name) for m in solution.models]
        for entry in models:
            if entry["label"] in twins:
                entry["same_expression_as"] = twins[entry["label"]]
        out[name] = {
            "prime_implicants": list(solution.prime_implicants),
            "truncated": solution.truncated,
            "models": models,
        }
    for i, entry in enumerate(out["intermediate"]["models"]):
        entry["chart"] = chart_cells(result, i)
    return out


def _joined(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in ("cases", "inconsistent_cases"):
        out[column] = out[column].map(", ".join)
    return out


def configuration_chart_latex(
    result: QCAResult, model: int = 0, *, caption: str | None = None, label: str | None = None
) -> str:
    """The configuration chart as a pdfLaTeX-safe (pure ASCII) booktabs table.

    Symbols as :data:`LATEX_CHART_SYMBOLS`: a large bullet for a core and a small one
    for a peripheral condition present, a large and a small circled times for absence.
    """

    def placeholder(value: object) -> object:
        return _LATEX_PLACEHOLDERS.get(value, value) if isinstance(value, str) else value

    notes = CHART_NOTES
    for symbol, token in _LATEX_PLACEHOLDERS.items():
        notes = notes.replace(symbol, token)
    text = to_latex(
        configuration_chart(result, model).map(placeholder),
        index=True,
        caption=caption,
        label=label,
        notes=notes,
    )
    for symbol, token in _LATEX_PLACEHOLDERS.items():
        text = text.replace(token, LATEX_CHART_SYMBOLS[symbol])
    return text


def solution_lines(result: QCAResult) -> list[str]:
    """One line per model of every solution, for the console and the run summary:
    label (with the C/P pair of an intermediate model), expression, consistency and
    coverage; a solution without models says so."""
    lines = []
    for name, solution in result.solutions.items():
        for model in solution.models:
            pair = f" ({model.derived_from})" if model.derived_from else ""
            lines.append(
                f"{name} {model.label}{pair}: {model.expression} (consistency "
                f"{model.consistency:.3f}, coverage {model.coverage:.3f})"
            )
        if not solution.models:
            lines.append(f"{name}: no configuration passes the cut-offs")
    return lines


def write_qca_outputs(
    result: QCAResult,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = TABLE_FORMATS,
    pdf: bool = False,
    max_charts: int = 10,
    config: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write every fsQCA output into ``out_dir`` (wrap the call in
    :func:`bayes_ccd.reports.atomic_output_dir` for all-or-nothing writing).

    Files: ``calibrated.csv`` (memberships analysed), ``necessity``, ``truth_table``,
    ``solutions`` (every model with its pair and fit, see :func:`solutions_table`) and
    ``configuration_chart`` tables (CSV, Markdown, LaTeX; the chart's LaTeX uses
    :data:`LATEX_CHART_SYMBOLS`, so it compiles with pdfLaTeX), ``solutions.json``
    (every model of every solution with its fit, see :func:`result_to_dict`),
    ``configuration_chart.png`` (and ``.pdf`` when ``pdf``) and ``metadata.json``.
    With several tied intermediate models the chart files are suffixed ``_M1``,
    ``_M2``, ... for the first ``max_charts`` models; each chart's caption names the
    model's conservative/parsimonious pair (``C1P2``).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = result.truth_table
    written = []
    calibrated = table.data.rename_axis("case").reset_index()
    calibrated.to_csv(out / "calibrated.csv", index=False)
    written.append(out / "calibrated.csv")
    written += write_table(
        result.necessity,
        out,
        "necessity",
        formats=formats,
        caption=f"Analysis of necessity for {table.outcome}",
    )
    written += write_table(
        _joined(table.table),
        out,
        "truth_table",
        formats=formats,
        caption=f"Truth table of {table.outcome} (incl.cut "
        f"{table.incl_cut:g}, n.cut {table.n_cut}, pri.cut "
        f"{table.pri_cut:g})",
    )
    written += write_table(
        solutions_table(result),
        out,
        "solutions",
        formats=formats,
        caption=f"Conservative, parsimonious and intermediate solutions for {table.outcome}",
        notes="derived_from: conservative (C) and parsimonious (P) models of the pair an "
        "intermediate model comes from; same_expression_as: an earlier model with the "
        "same expression from another pair (its core conditions may differ).",
    )
    written.append(write_json(result_to_dict(result), out / "solutions.json"))
    models = result.intermediate.models
    twins = _earlier_twins(models)
    for i in range(min(len(models), max_charts)):
        chosen = models[i]
        single = len(models) == 1
        stem = "configuration_chart" if single else f"configuration_chart_{chosen.label}"
        caption = f"Configurations for {table.outcome}"
        if not single:
            caption += f" (intermediate model {chosen.label}"
            if chosen.derived_from:
                caption += f", from {chosen.derived_from}"
            if chosen.label in twins:
                caption += f"; same expression as {twins[chosen.label]}"
            caption += ")"
        written += write_table(
            configuration_chart(result, i),
            out,
            stem,
            formats=[f for f in formats if f != "tex"],
            index=True,
            caption=caption,
            notes=CHART_NOTES,
        )
        if "tex" in formats:
            path = out / f"{stem}.tex"
            path.write_text(
                configuration_chart_latex(result, i, caption=caption, label=f"tab:{stem}"),
                encoding="utf-8",
            )
            written.append(path)
        written += save_figure(plot_configuration_chart(result, i), out / stem, pdf=pdf)
    settings = {**result.config, **(dict(config) if config else {})}
    written.append(
        write_json(
            run_metadata(
                settings,
                half_membership_cells=[list(c) for c in table.half_membership_cells],
                models={name: len(s.models) for name, s in result.solutions.items()},
            ),
            out / "metadata.json",
        )
    )
    return written
