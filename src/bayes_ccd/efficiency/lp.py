"""The linear programmes of DEA, solved by HiGHS through ``scipy.optimize.linprog``.

Radial envelopment (phase one), max-slack (phase two), the dominance screening and the
hierarchical search of the frontier that shrink the reference sets.

The LPs of different units are independent, so many of them are solved as one
block-diagonal LP (:func:`_block_lp`): its objective is the sum of the blocks', so its
optimum puts every block at its own optimum. One HiGHS call then replaces up to 256,
which removes the per-call overhead that dominates LPs of a few rows; the blocks of an
infeasible batch are found by one feasibility LP of the batch, and a failed batch is
bisected until the unit responsible stands alone (:func:`_solve_blocks`).
At county scale the reference sets are cut to the efficient units first
(:func:`_frontier_reference`; Barr & Durchholz 1997), which leaves the technology, and so
every score and max-slack optimum, unchanged.

References
----------
Barr, R. S. & Durchholz, M. L. (1997). Parallel and hierarchical decomposition
approaches for solving large-scale data envelopment analysis models. Annals of
Operations Research 73, 339-372.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import OptimizeResult, linprog

from bayes_ccd.exceptions import EstimationError

#: Scores within this distance of 1 count as efficient, two scores within it as equal
#: (returns to scale), and slacks below it (relative to the unit's own value) as zero.
#: HiGHS meets its primal/dual feasibility tolerances of 1e-7 on these unit-scaled LPs,
#: so differences below 1e-6 are solver noise, while any difference a paper would print
#: (three or four decimals) is far above it.
TOLERANCE = 1e-6

#: Rows of the dominance test per block: bounds its memory to block x n x (m + s) bytes.
_DOMINANCE_BLOCK = 256

#: Intensity variables per HiGHS call of the batched LPs (see :func:`_chunks`).
_BATCH_LAMBDAS = 10_000

#: First group size of the hierarchical search of the frontier (:func:`_frontier_reference`).
_HIERARCHY_GROUP = 128

_LINPROG_STATUS = {
    1: "iteration limit reached",
    2: "infeasible",
    3: "unbounded",
    4: "numerical difficulties",
}


# --------------------------------------------------------------------------------------
# solver results


def _failure(result: OptimizeResult, unit: Any, what: str, period: Any = None) -> EstimationError:
    reason = _LINPROG_STATUS.get(result.status, "solver failure")
    where = f"unit '{unit}'" + ("" if period is None else f", period {period}")
    return EstimationError(
        f"{what} LP failed for {where}: {reason} ({result.message}); "
        "check the unit's data for extreme values"
    )


def _to_efficiency(radial: np.ndarray, orientation: str) -> np.ndarray:
    """Efficiency in (0, 1] from the radial optimum: theta, or 1/phi."""
    return np.array(radial, dtype=float) if orientation == "input" else 1.0 / radial


def _dominance(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Count, for each unit, the units that dominate it, and name the sole dominator.

    Unit ``j`` dominates ``k`` when ``x_j <= x_k`` and ``y_j >= y_k`` with at least one
    strict inequality. A dominated unit lies in the free-disposal hull of its dominator,
    so dropping it from the reference set leaves the CRS, VRS and NIRS technologies,
    and hence every score, slack and target, unchanged; it only shrinks the LPs.

    Returns
    -------
    n_dominators : ndarray of int, shape (n,)
    sole : ndarray of int, shape (n,)
        The dominating unit where ``n_dominators == 1``, else -1.
    """
    n = len(x)
    n_dominators = np.zeros(n, dtype=int)
    sole = np.full(n, -1)
    for start in range(0, n, _DOMINANCE_BLOCK):
        block = slice(start, start + _DOMINANCE_BLOCK)
        xb, yb = x[block, None, :], y[block, None, :]
        weak = (x[None] <= xb).all(-1) & (y[None] >= yb).all(-1)
        strict = (x[None] < xb).any(-1) | (y[None] > yb).any(-1)
        dominated_by = weak & strict
        counts = dominated_by.sum(axis=1)
        n_dominators[start : start + len(counts)] = counts
        sole[start : start + len(counts)] = np.where(counts == 1, dominated_by.argmax(axis=1), -1)
    return n_dominators, sole


def _frontier_candidates(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the reference set of the standard models and the dominance counts.

    The reference set is the undominated units; the counts and sole dominators are what
    the super-efficiency reference sets need (see :func:`_super_reference`).
    """
    n_dominators, sole = _dominance(x, y)
    return np.flatnonzero(n_dominators == 0), n_dominators, sole


def _super_reference(
    o: int, undominated: np.ndarray, n_dominators: np.ndarray, sole: np.ndarray
) -> np.ndarray:
    """Return the reference set of the Andersen-Petersen model of unit ``o``.

    Every unit but ``o`` that no unit other than ``o`` dominates: with ``o`` gone, units
    only ``o`` dominated are part of the frontier.
    """
    freed = np.flatnonzero((n_dominators == 1) & (sole == o))
    ref = np.union1d(undominated, freed)
    return ref[ref != o]


# --------------------------------------------------------------------------------------
# batched linear programmes


def _chunks(n_problems: int, k: int) -> list[slice]:
    """Split ``n_problems`` LPs of ``k`` reference units into blocks of one HiGHS call.

    About :data:`_BATCH_LAMBDAS` intensity variables per call (at least 8, at most 256
    problems): large enough that the per-call overhead of ``linprog`` is shared, small
    enough that the simplex works on a small LP.
    """
    size = int(np.clip(_BATCH_LAMBDAS // max(k, 1), 8, 256))
    return [slice(start, min(start + size, n_problems)) for start in range(0, n_problems, size)]


def _scaled_reference(
    x_ref: np.ndarray, x_eval: np.ndarray, ref_index: np.ndarray | None, rows: slice
) -> np.ndarray:
    """Return the reference data of problems ``rows`` divided by each evaluated point.

    ``x_ref`` is ``(k, m)`` (one reference for all) or ``(R, k, m)`` with ``ref_index``
    naming each problem's reference; the result is ``(P, k, m)``.
    """
    reference = x_ref[None] if x_ref.ndim == 2 else x_ref[ref_index[rows]]
    return reference / x_eval[rows][:, None, :]


def _block_lp(
    xs: np.ndarray,
    ys: np.ndarray,
    orientation: str,
    rts: str,
    allowed: np.ndarray | None,
    radial: np.ndarray | None = None,
    *,
    elastic: bool = False,
) -> dict[str, Any]:
    r"""Return the block-diagonal LP of ``P`` units' radial (or max-slack) programmes.

    ``xs`` is ``(P, k, m)`` with ``xs[p, j, i] = x_ij / x_ip`` (unit-scaled, see the
    package notes), ``ys`` ``(P, k, s)`` likewise. Block ``p`` has its own variables
    and rows; the objective is the sum of the blocks' objectives, so the optimum of the
    whole is every block at its own optimum (the blocks share nothing).

    Radial (``radial is None``), variables ``(score, lambda_1..lambda_k)`` >= 0:

    - input:  min theta s.t. :math:`\sum_j \lambda_j x_{ij}/x_{ip} \le \theta`,
      :math:`\sum_j \lambda_j y_{rj}/y_{rp} \ge 1`;
    - output: max phi s.t. :math:`\sum_j \lambda_j x_{ij}/x_{ip} \le 1`,
      :math:`\sum_j \lambda_j y_{rj}/y_{rp} \ge \phi`.

    Max-slack (``radial`` the optimum of each block), variables
    ``(lambda (k), sigma- (m), sigma+ (s))`` >= 0: max :math:`\sum\sigma^- + \sum\sigma^+`
    s.t. :math:`\sum_j \lambda_j x_{ij}/x_{ip} + \sigma^-_i = \theta^*` (input) or 1,
    :math:`\sum_j \lambda_j y_{rj}/y_{rp} - \sigma^+_r = 1` (input) or
    :math:`\phi^*`; slacks relative to the unit's own values keep the chosen solution
    independent of the units of measurement.

    Returns-to-scale row on the lambdas: none (CRS), :math:`\sum\lambda = 1` (VRS),
    :math:`\sum\lambda \le 1` (NIRS). ``allowed`` ``(P, k)`` bounds the lambdas of
    units outside a problem's reference set to 0.

    ``elastic`` (radial only) gives instead the feasibility problem of each block: one
    more variable :math:`t_p \ge 0` per block, placed after all blocks, relaxes the rows
    that can fail (input orientation: :math:`\sum_j \lambda_j y_{rj}/y_{rp} + t_p \ge 1`;
    output: :math:`\sum_j \lambda_j x_{ij}/x_{ip} - t_p \le 1`; the other rows hold
    for a large theta or a zero phi, the convexity row for any convex combination),
    and the objective is :math:`\sum_p t_p`: block ``p`` is feasible iff
    :math:`t_p^* = 0`.
    """
    n_problems, k, m = xs.shape
    s = ys.shape[2]
    slack = radial is not None
    lead = m + s if slack else 1  # variables other than the lambdas, per block
    n_var = k + lead
    n_rows = m + s + (rts == "nirs")
    block = np.arange(n_problems)
    lam_cols = block[:, None] * n_var + (0 if slack else 1) + np.arange(k)[None, :]  # (P, k)
    row_x = block[:, None] * n_rows + np.arange(m)[None, :]  # (P, m)
    row_y = block[:, None] * n_rows + m + np.arange(s)[None, :]  # (P, s)
    rows = [
        np.broadcast_to(row_x[:, None, :], xs.shape).ravel(),
        np.broadcast_to(row_y[:, None, :], ys.shape).ravel(),
    ]
    cols = [
        np.broadcast_to(lam_cols[:, :, None], xs.shape).ravel(),
        np.broadcast_to(lam_cols[:, :, None], ys.shape).ravel(),
    ]
    values = [xs.ravel(), (ys if slack else -ys).ravel()]
    if slack:
        # sigma- on the input rows (+1), sigma+ on the output rows (-1)
        sig = block[:, None] * n_var + k + np.arange(m + s)[None, :]
        rows += [row_x.ravel(), row_y.ravel()]
        cols += [sig[:, :m].ravel(), sig[:, m:].ravel()]
        values += [np.ones(n_problems * m), -np.ones(n_problems * s)]
        score = np.asarray(radial, dtype=float)[:, None]
        if orientation == "input":
            rhs = np.hstack([np.broadcast_to(score, (n_problems, m)), np.ones((n_problems, s))])
        else:
            rhs = np.hstack([np.ones((n_problems, m)), np.broadcast_to(score, (n_problems, s))])
        cost = np.zeros((n_problems, n_var))
        cost[:, k:] = -1.0
    else:
        score_col = block * n_var
        if orientation == "input":  # -theta on the input rows
            rows.append(row_x.ravel())
            cols.append(np.repeat(score_col, m))
            values.append(-np.ones(n_problems * m))
            rhs = np.hstack([np.zeros((n_problems, m)), -np.ones((n_problems, s))])
        else:  # +phi on the output rows
            rows.append(row_y.ravel())
            cols.append(np.repeat(score_col, s))
            values.append(np.ones(n_problems * s))
            rhs = np.hstack([np.ones((n_problems, m)), np.zeros((n_problems, s))])
        cost = np.zeros((n_problems, n_var))
        cost[:, 0] = 1.0 if orientation == "input" else -1.0
        if elastic:
            cost[:] = 0.0
            relaxed = row_y if orientation == "input" else row_x
            rows.append(relaxed.ravel())
            cols.append(np.repeat(n_problems * n_var + block, relaxed.shape[1]))
            values.append(-np.ones(relaxed.size))
    n_cols = n_problems * n_var + (n_problems if elastic else 0)
    if rts == "nirs":
        rows.append(np.repeat(block * n_rows + m + s, k))
        cols.append(lam_cols.ravel())
        values.append(np.ones(n_problems * k))
        rhs = np.hstack([rhs, np.ones((n_problems, 1))])
    matrix = sparse.csc_array(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_problems * n_rows, n_cols),
    )
    upper = np.full((n_problems, n_var), np.inf)
    if allowed is not None:
        lam_upper = upper[:, (0 if slack else 1) : (0 if slack else 1) + k]
        lam_upper[~allowed] = 0.0
    upper_all = np.r_[upper.ravel(), np.full(n_cols - upper.size, np.inf)]
    cost_all = np.r_[cost.ravel(), np.ones(n_cols - cost.size)]
    lp: dict[str, Any] = {
        "c": cost_all,
        "bounds": np.column_stack([np.zeros(n_cols), upper_all]),
        "A_ub": None,
        "b_ub": None,
        "A_eq": None,
        "b_eq": None,
    }
    if slack:
        lp["A_eq"], lp["b_eq"] = matrix, rhs.ravel()
    else:
        lp["A_ub"], lp["b_ub"] = matrix, rhs.ravel()
    if rts == "vrs":
        convex = sparse.csc_array(
            (np.ones(n_problems * k), (np.repeat(block, k), lam_cols.ravel())),
            shape=(n_problems, n_cols),
        )
        if slack:
            lp["A_eq"] = sparse.vstack([matrix, convex], format="csc")
            lp["b_eq"] = np.r_[rhs.ravel(), np.ones(n_problems)]
        else:
            lp["A_eq"], lp["b_eq"] = convex, np.ones(n_problems)
    return lp


def _solve(lp: dict[str, Any]) -> OptimizeResult:
    return linprog(
        lp["c"],
        A_ub=lp["A_ub"],
        b_ub=lp["b_ub"],
        A_eq=lp["A_eq"],
        b_eq=lp["b_eq"],
        bounds=lp["bounds"],
        method="highs",
        # Presolve finds nothing to remove in these dense blocks of a few rows and costs
        # about a third of the solve (measured in benchmarks/bench_dea.py).
        options={"presolve": False},
    )


def _solve_blocks(
    build: Callable[[np.ndarray], dict[str, Any]],
    problems: np.ndarray,
    labels: Sequence[Any],
    what: str,
    period: Any,
    *,
    elastic: Callable[[np.ndarray], dict[str, Any]] | None = None,
) -> dict[int, np.ndarray | None]:
    """Solve the block LP of ``problems``; find the blocks that make it fail.

    The whole is infeasible when one block is. With ``elastic`` (the blocks'
    feasibility problems, see :func:`_block_lp`), an infeasible batch is settled in
    one more call: blocks whose relaxation stays above
    :data:`TOLERANCE` are infeasible (``None``) and the others are solved again
    together. Otherwise, and for any other failure, the batch is bisected until the
    culprit stands alone: an infeasible single problem gives ``None`` with
    ``elastic``, any other failure of a single problem raises
    :class:`EstimationError` naming its unit. Returns each problem's block of the
    solution vector.
    """
    result = _solve(build(problems))
    if result.status == 0:
        n_var = len(result.x) // len(problems)
        blocks = result.x.reshape(len(problems), n_var)
        return {int(p): blocks[i] for i, p in enumerate(problems)}
    if len(problems) == 1:
        if result.status == 2 and elastic is not None:
            return {int(problems[0]): None}
        raise _failure(result, labels[int(problems[0])], what, period)
    if result.status == 2 and elastic is not None:
        relaxed = _solve(elastic(problems))
        if relaxed.status == 0:
            infeasible = relaxed.x[-len(problems) :] > TOLERANCE
            if infeasible.any():
                settled: dict[int, np.ndarray | None] = dict.fromkeys(
                    (int(p) for p in problems[infeasible]), None
                )
                rest = problems[~infeasible]
                if len(rest):
                    settled |= _solve_blocks(build, rest, labels, what, period, elastic=elastic)
                return settled
    half = len(problems) // 2
    return _solve_blocks(
        build, problems[:half], labels, what, period, elastic=elastic
    ) | _solve_blocks(build, problems[half:], labels, what, period, elastic=elastic)


def _radial_batch(
    x_ref: np.ndarray,
    y_ref: np.ndarray,
    x_eval: np.ndarray,
    y_eval: np.ndarray,
    *,
    orientation: str,
    rts: str,
    labels: Sequence[Any],
    what: str,
    period: Any = None,
    ref_index: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    lambdas: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Radial optimum (theta or phi) of every evaluated point, in block-diagonal batches.

    ``x_ref`` ``(k, m)`` is the reference of every point, or ``(R, k, m)`` with
    ``ref_index`` ``(P,)`` naming each point's; ``allowed`` ``(P, k)`` restricts a
    point's reference to some of the ``k`` units. Returns the radial scores (NaN where
    the LP is infeasible) and, with ``lambdas``, the ``(P, k)`` intensities.
    """
    n_problems = len(x_eval)
    k = x_ref.shape[-2]
    radial = np.full(n_problems, np.nan)
    weights = np.zeros((n_problems, k)) if lambdas else None
    for rows in _chunks(n_problems, k):
        xs = _scaled_reference(x_ref, x_eval, ref_index, rows)
        ys = _scaled_reference(y_ref, y_eval, ref_index, rows)
        mask = None if allowed is None else allowed[rows]

        def build(
            problems: np.ndarray, elastic: bool = False, xs=xs, ys=ys, mask=mask
        ) -> dict[str, Any]:
            return _block_lp(
                xs[problems],
                ys[problems],
                orientation,
                rts,
                None if mask is None else mask[problems],
                elastic=elastic,
            )

        local = np.arange(rows.stop - rows.start)
        solved = _solve_blocks(
            build,
            local,
            labels[rows],
            what,
            period,
            elastic=lambda problems, build=build: build(problems, elastic=True),
        )
        for p, block in solved.items():
            if block is not None:
                radial[rows.start + p] = block[0]
                if weights is not None:
                    weights[rows.start + p] = block[1:]
    return radial, weights


def _radial_scores(
    x_ref: np.ndarray,
    y_ref: np.ndarray,
    x_eval: np.ndarray,
    y_eval: np.ndarray,
    references: Sequence[np.ndarray],
    *,
    orientation: str,
    rts: str,
    labels: Sequence[Any],
    what: str,
    period: Any = None,
) -> np.ndarray:
    """Phase-one radial optimum of each evaluated point against its reference units.

    ``references[p]`` indexes the rows of ``x_ref``/``y_ref`` that point ``p`` may use.
    Returns the radial scores (theta or phi), NaN where the LP is infeasible; any other
    solver failure raises :class:`EstimationError` naming the unit.
    """
    if not len(references):
        return np.empty(0)
    union = np.unique(np.concatenate([np.asarray(r, dtype=int) for r in references]))
    same = all(len(r) == len(union) for r in references)
    allowed = None if same else np.stack([np.isin(union, r) for r in references])
    radial, _ = _radial_batch(
        x_ref[union],
        y_ref[union],
        x_eval,
        y_eval,
        orientation=orientation,
        rts=rts,
        labels=list(labels),
        what=what,
        period=period,
        allowed=allowed,
    )
    return radial


def _frontier_reference(
    x: np.ndarray,
    y: np.ndarray,
    candidates: np.ndarray,
    *,
    orientation: str,
    rts: str,
    labels: Sequence[Any],
    period: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Return the candidates that are efficient: a reference set that spans the technology.

    Hierarchical decomposition (Barr & Durchholz 1997): split the candidates into
    groups, score each against its own group, drop the units whose score is below 1,
    merge groups of twice the size and repeat until one group holds the survivors.
    Dropping is exact: a unit with a score below 1 against any set of units containing
    it is strictly dominated by a point of that set's technology (input orientation:
    :math:`\sum_{j\ne o}\mu_j x_j \le \frac{\theta-\lambda_o}{1-\lambda_o} x_o
    < x_o` with :math:`\mu = \lambda/(1-\lambda_o)`, which keeps
    :math:`\sum\mu = 1` under VRS and :math:`\le 1` under NIRS), so the technology of
    the survivors is that of all units, and so are every score and every max-slack
    optimum. A VRS reference also spans the NIRS technology (the same argument).

    Returns
    -------
    (ndarray, ndarray)
        The efficient candidates and their radial optimum (theta or phi) from the last
        pass, which scored them against a set spanning the technology: their phase-one
        optimum, so :func:`_two_phase` need not solve it again.
    """
    survivors = np.asarray(candidates, dtype=int)
    group = _HIERARCHY_GROUP
    while True:
        single = len(survivors) <= group
        size = len(survivors) if single else group
        keep = np.ones(len(survivors), dtype=bool)
        radials = np.empty(len(survivors))
        for start in range(0, len(survivors), size):
            members = survivors[start : start + size]
            radial, _ = _radial_batch(
                x[members],
                y[members],
                x[members],
                y[members],
                orientation=orientation,
                rts=rts,
                labels=[labels[i] for i in members],
                what=f"{rts.upper()} {orientation}-oriented",
                period=period,
            )
            radials[start : start + size] = radial
            score = _to_efficiency(radial, orientation)
            keep[start : start + size] = ~(score < 1 - TOLERANCE)
        if single:
            return survivors[keep], radials[keep]
        survivors = survivors[keep]
        group *= 2


def _slack_batch(
    x_ref: np.ndarray,
    y_ref: np.ndarray,
    x_eval: np.ndarray,
    y_eval: np.ndarray,
    radial: np.ndarray,
    *,
    orientation: str,
    rts: str,
    labels: Sequence[Any],
    what: str,
    period: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Max-slack phase of every evaluated point (see :func:`_block_lp`), in batches.

    Returns the intensities ``(P, k)`` and the relative slacks ``(P, m + s)``
    (``sigma- = s-/x_o``, ``sigma+ = s+/y_o``).
    """
    n_problems, k = len(x_eval), x_ref.shape[0]
    lam = np.zeros((n_problems, k))
    sigma = np.zeros((n_problems, x_ref.shape[1] + y_ref.shape[1]))
    for rows in _chunks(n_problems, k):
        xs = _scaled_reference(x_ref, x_eval, None, rows)
        ys = _scaled_reference(y_ref, y_eval, None, rows)
        score = radial[rows]

        def build(problems: np.ndarray, xs=xs, ys=ys, score=score) -> dict[str, Any]:
            return _block_lp(xs[problems], ys[problems], orientation, rts, None, score[problems])

        local = np.arange(rows.stop - rows.start)
        solved = _solve_blocks(build, local, labels[rows], what, period)
        for p, block in solved.items():
            lam[rows.start + p], sigma[rows.start + p] = block[:k], block[k:]
    return lam, sigma


@dataclass(frozen=True)
class _TwoPhase:
    efficiency: np.ndarray  # (n,)
    radial: np.ndarray  # (n,) theta or phi
    slack_x: np.ndarray  # (n, m), data units
    slack_y: np.ndarray  # (n, s)
    peers: list[tuple[np.ndarray, np.ndarray]]  # per unit: (peer indices, lambdas)
    intensity: np.ndarray  # (n,) sum of each unit's lambdas (phase two)


def _two_phase(
    x: np.ndarray,
    y: np.ndarray,
    reference: np.ndarray,
    *,
    orientation: str,
    rts: str,
    labels: Sequence[Any],
    period: Any = None,
    settled: tuple[np.ndarray, np.ndarray] | None = None,
) -> _TwoPhase:
    """Radial score (phase one) then max slacks (phase two) of every unit.

    ``reference`` is a set of units whose technology is that of all units (the
    undominated units, or :func:`_frontier_reference`); both phases are solved in
    block-diagonal batches (:func:`_block_lp`). ``settled`` (units, radial optimum)
    are phase-one optima already known (from :func:`_frontier_reference`); phase one
    is solved for the other units only.
    """
    m = x.shape[1]
    labels = list(labels)
    x_ref, y_ref = x[reference], y[reference]
    model = rts.upper()
    radial = np.full(len(x), np.nan)
    todo = np.arange(len(x))
    if settled is not None:
        radial[settled[0]] = settled[1]
        todo = np.setdiff1d(todo, settled[0])
    radial[todo], _ = _radial_batch(
        x_ref,
        y_ref,
        x[todo],
        y[todo],
        orientation=orientation,
        rts=rts,
        labels=[labels[i] for i in todo],
        what=f"{model} {orientation}-oriented",
        period=period,
    )
    if np.isnan(radial).any():
        unit = labels[int(np.flatnonzero(np.isnan(radial))[0])]
        raise EstimationError(
            f"{model} {orientation}-oriented LP reported infeasible for unit '{unit}'"
            + ("" if period is None else f", period {period}")
            + ", which the model rules out (the unit itself is in the technology)"
        )
    lam, sigma = _slack_batch(
        x_ref,
        y_ref,
        x,
        y,
        radial,
        orientation=orientation,
        rts=rts,
        labels=labels,
        what=f"{model} max-slack (phase two)",
        period=period,
    )
    # Relative slacks below the tolerance are solver noise, not excess input.
    sigma = np.where(sigma < TOLERANCE, 0.0, sigma)
    slack_x, slack_y = sigma[:, :m] * x, sigma[:, m:] * y
    peers = []
    for o in range(len(x)):
        keep = lam[o] > TOLERANCE
        peers.append((reference[keep], lam[o][keep]))
    efficiency = _to_efficiency(radial, orientation)
    over = efficiency > 1 + TOLERANCE
    if over.any():
        unit = labels[int(np.flatnonzero(over)[0])]
        raise EstimationError(
            f"{model} efficiency of unit '{unit}' came out above 1, which "
            "the model rules out; the LP solution is unreliable (check "
            "for extreme values in the data)"
        )
    # Scores within the tolerance of 1 are 1 up to solver noise: report them as exactly
    # 1 so that "efficient" is an exact comparison downstream and targets of efficient
    # units are their own data.
    at_one = np.abs(efficiency - 1) <= TOLERANCE
    efficiency[at_one], radial[at_one] = 1.0, 1.0
    return _TwoPhase(efficiency, radial, slack_x, slack_y, peers, lam.sum(axis=1))
