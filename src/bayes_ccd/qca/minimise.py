"""Exact Boolean minimisation of a truth table.

Quine-McCluskey prime implicants on bitsets and an exact search of the prime implicant
chart that enumerates every minimal cover (McCluskey 1956; Petrick 1956; Nemhauser and
Wolsey 1988).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bayes_ccd.exceptions import (
    ConfigError,
    EstimationError,
    NumericalWarning,
    SpecificationError,
    warn,
)
from bayes_ccd.qca.measures import Implicant
from bayes_ccd.settings import QCASettings

Criterion = Literal["terms", "literals"]


# LP duals summed in floating point: a bound of 7.0000001 must not round up to 8.
_DUAL_TOLERANCE = 1e-6


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
    """Search nodes and seconds spent against caps, shared by every step of one search.

    A node is one implicant tried in the branch-and-bound, one cover produced by
    substitution, one node of the integer program, or (in :func:`solve`) one
    conservative/parsimonious pair of the intermediate solution. Counting nodes keeps
    the outcome (models or error) the same on every machine; the time limit bounds the
    wall time too, since one node of the integer program can take long on a large chart.
    """

    def __init__(self, max_nodes: int, max_seconds: float = float("inf")) -> None:
        self.max_nodes = max_nodes
        self.nodes = 0
        self.max_seconds = max_seconds
        self.deadline = time.monotonic() + max_seconds
        self.timed_out = False

    @property
    def remaining(self) -> int:
        return max(self.max_nodes - self.nodes, 0)

    @property
    def seconds_left(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0)

    def spend(self, nodes: int = 1) -> None:
        self.nodes += nodes
        if self.nodes > self.max_nodes:
            raise _BudgetExhausted
        if time.monotonic() > self.deadline:
            self.timed_out = True
            raise _BudgetExhausted

    def exhausted(self) -> str:
        """Say which limit stopped the search, for the error message."""
        if self.timed_out:
            return (
                f"reached its time limit of max_seconds={self.max_seconds:g} s after "
                f"{self.nodes} search nodes"
            )
        return f"ran out of its budget of {self.max_nodes} search nodes"


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
    """Return a cover made by repeatedly taking the implicant with the most uncovered rows."""
    uncovered = np.ones(chart.shape[1], dtype=bool)
    chosen = []
    while uncovered.any():
        best = int(np.argmax((chart & uncovered).sum(axis=1)))
        chosen.append(best)
        uncovered &= ~chart[best]
    return chosen


def _smallest_cover(chart: np.ndarray, lower: int, budget: _Budget) -> tuple[list[int], int]:
    """Return a cover and a lower bound on the size of every cover (equal when proven).

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
        options={
            "mip_rel_gap": 0.0,
            "node_limit": max(budget.remaining, 1),
            "time_limit": max(budget.seconds_left, 1e-3),
        },
    )
    budget.spend(int(getattr(solved, "mip_node_count", 0) or 0))
    if solved.status == 1:  # node or time limit reached
        budget.timed_out = budget.nodes < budget.max_nodes  # else the node limit
        raise _BudgetExhausted
    if solved.status != 0:
        return greedy, lower
    witness = np.flatnonzero(solved.x > 0.5)
    if not chart[witness].any(axis=0).all():
        return greedy, lower
    return witness.tolist(), max(lower, witness.size)


def _chart_components(chart: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split a chart into independent parts.

    Each part is the (implicants, rows) of a connected component of the bipartite graph
    in which an implicant is joined to the rows it covers.
    """
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
    """Return every minimum cover of one connected, reduced chart (at most ``cap``).

    The minimum covers by maximal implicants (:func:`_maximal_covers`), expanded by
    substituting the implicants each maximal one contains.
    """
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
    max_models: int = QCASettings.max_models,
    max_nodes: int = QCASettings.max_nodes,
    max_seconds: float = QCASettings.max_seconds,
) -> tuple[list[tuple[int, ...]], bool]:
    """Every cover of a prime implicant chart with the minimum number of implicants.

    Parameters
    ----------
    chart
        Boolean array ``(n_implicants, n_rows)``: implicant ``p`` covers positive row
        ``j``. Every row must be covered by some implicant.
    max_models
        Stop after this many covers (with ``truncated = True``).
    max_seconds
        Time limit of the search, in seconds; when it is reached the search stops with
        an :class:`EstimationError` saying so.
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
    ConfigError
        ``max_models`` or ``max_nodes`` outside what
        :class:`~bayes_ccd.settings.QCASettings` allows.
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
    QCASettings(max_models=max_models, max_nodes=max_nodes)
    return _minimum_covers(
        np.asarray(chart, dtype=bool), max_models, _Budget(max_nodes, max_seconds)
    )


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
            f"the exact search for minimum covers {budget.exhausted()} "
            f"on a chart of {chart.shape[0]} prime "
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
    """Yield the covers made by replacing each representative by one of its members.

    Members include the representative itself. Backtracking tries a member only if the
    remaining representatives still complete the cover, so every branch ends in a cover
    (the representatives themselves always complete it). One node is spent per cover.
    """
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
    criterion: Criterion = QCASettings.criterion,
    max_models: int = QCASettings.max_models,
    max_nodes: int = QCASettings.max_nodes,
    max_seconds: float = QCASettings.max_seconds,
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
    max_nodes, max_seconds
        Budget of search nodes and time limit of :func:`minimum_covers`.

    Returns
    -------
    BooleanSolution

    Raises
    ------
    ConfigError
        ``criterion``, ``max_models`` or ``max_nodes`` outside what
        :class:`~bayes_ccd.settings.QCASettings` allows.
    SpecificationError
        No positive row.
    EstimationError
        The search for minimum covers needed more than ``max_nodes`` nodes.
    """
    QCASettings(criterion=criterion, max_models=max_models, max_nodes=max_nodes)
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
    budget = _Budget(max_nodes, max_seconds)
    found, truncated = _minimum_covers(chart, max_models, budget)
    if truncated:
        warn(
            f"more than {max_models} tied minimal models; only the first "
            f"{max_models} are reported (raise max_models to see more)",
            NumericalWarning,
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
