"""The log-determinant ``log|I - rho W|`` of spatial panel likelihoods.

A spatial panel likelihood carries ``c log|I - rho W|`` for an ``N x N`` weights matrix
``W`` and ``rho`` in the admissible interval ``(lo, hi) = (1/lambda_min, 1/lambda_max)``
(``hi = 1`` for a row-stochastic ``W``). One :class:`LogDeterminant` serves the maximum
likelihood estimator (value, first and second derivative at a scalar ``rho``), the grid
sampler (values vectorised over an array of ``rho``).

Methods
-------
``"eigen"``
    Exact from the eigenvalues ``lambda_i`` of ``W`` (Ord 1975, *JASA* 70, 120-126):
    ``log|I - rho W| = sum_i log|1 - rho lambda_i|``. Small panels only.
``"sparse-lu"``
    Exact sparse LU factorisations of ``I - rho W`` on a grid of ``rho`` (Pace & Barry
    1997, *Geographical Analysis* 29, 232-247), ``log|det| = sum_i log|U_ii|`` because
    SuperLU's ``L`` has a unit diagonal, interpolated by a cubic spline of the part left
    smooth after removing the logarithmic singularities at the bounds.
``"chebyshev"``
    Chebyshev expansion of ``log(1 - rho x)`` over an interval holding the spectrum of
    ``W`` with Hutchinson estimates of the traces ``tr T_j(W)`` (Pace & LeSage 2004,
    *CSDA* 45, 179-196; Barry & Pace 1999, *Linear Algebra Appl.* 289, 41-54).
    Approximate, with a Monte Carlo standard error and a truncation bound.

Under ``drop_unit_root`` (a row-stochastic ``W`` and the Lee & Yu 2010 two-way
transformation, *J. Econometrics* 154, 165-185) the function is
``log|I - rho W| - log(1 - rho)``: the log-determinant without the unit eigenvalue.
"""

from __future__ import annotations

import math
import time
from typing import Final, NamedTuple

import numpy as np
from scipy import sparse
from scipy.interpolate import CubicSpline

from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.spatial.operators import LU_ORDERING, SystemLogDeterminant, locally_ordered
from bayes_ccd.spatial.traces import chebyshev_trace_samples, chebyshev_traces

#: The methods :func:`log_determinant` knows.
METHODS: Final = ("eigen", "sparse-lu", "chebyshev")
#: Largest panel for which ``"auto"`` takes the exact sparse LU. Measured on two cores on
#: k = 6 nearest-neighbour graphs (benchmarks/bench_large_n.py): 3.4 s to build at 10,000
#: units, 17 s at 30,000, 67-80 s at 100,000, where Chebyshev takes 7 s; both meet the
#: accuracy the large-N tests ask of them.
SPARSE_LU_LIMIT: Final = 50_000

#: Chebyshev nodes of ``"sparse-lu"``: one factorisation each (and 0, free).
LU_GRID_SIZE: Final = 64
#: Interval midpoints factorised to estimate the spline's interpolation error.
LU_CHECK_SIZE: Final = 8
#: The outermost nodes sit this fraction of ``hi - lo`` inside the bounds.
LU_MARGIN: Final = 1e-6
#: Where the error estimate within :data:`LU_TAIL_WIDTH` of ``hi - lo`` of a bound exceeds
#: this much per unit, nodes are added there in a geometric progression towards the bound.
#: Eigenvalues of W just short of ``1/bound`` (the slow modes of a large connected graph,
#: near 1) put singularities of the remainder just past the bound, which bend it there
#: faster than Chebyshev points can follow: measured
#: on k = 6 nearest neighbours at N = 3,000, errors of 0.28 at rho = 0.99 and 1.2 at
#: 0.997 without the tail, at most 0.012 anywhere with it, for 20 more factorisations
#: (China's county contiguity: 0.004).
LU_TAIL_TOLERANCE: Final = 1e-6
#: The tail starts this fraction of ``hi - lo`` from the bound ...
LU_TAIL_WIDTH: Final = 0.02
#: ... and each node is this fraction nearer the bound than the last (down to the margin).
LU_TAIL_RATIO: Final = 0.6
#: Error of the spline on every other node over that of the full spline, on the safe side
#: of the ``2^4 = 16`` a cubic's ``h^4`` error gives.
COARSE_RATIO: Final = 8.0
#: Highest Chebyshev polynomial degree of ``"chebyshev"``.
CHEBYSHEV_ORDER: Final = 60
#: Rademacher probes of the Hutchinson trace estimates.
CHEBYSHEV_PROBES: Final = 64
#: Traces ``tr T_j`` computed exactly from sparse products, ``j <= 4``.
CHEBYSHEV_EXACT_TRACES: Final = 4
#: Accuracy of ``"chebyshev"`` is claimed only for ``|rho| <= CHEBYSHEV_RHO_MAX``.
CHEBYSHEV_RHO_MAX: Final = 0.95
#: The Chebyshev error is stated this fraction of ``hi - lo`` inside narrow bounds.
CLAIM_MARGIN: Final = 1e-3


class LogDeterminant:
    """``log|I - rho W|`` (less ``log(1 - rho)`` under ``drop_unit_root``) as a function of rho.

    Build one with :func:`log_determinant`. Instances are read-only.

    Parameters
    ----------
    method
        One of :data:`METHODS`.
    n
        Number of units ``N``.
    bounds
        Admissible ``(lo, hi)``.
    drop_unit_root
        Whether the unit eigenvalue is removed (``- log(1 - rho)``).
    seconds
        Time taken to build.
    """

    def __init__(
        self, method: str, n: int, bounds: tuple[float, float], drop_unit_root: bool, seconds: float
    ) -> None:
        self._method = method
        self._n = int(n)
        self._bounds = (float(bounds[0]), float(bounds[1]))
        self._drop_unit_root = bool(drop_unit_root)
        self._seconds = float(seconds)

    @property
    def method(self) -> str:
        """The method name, one of :data:`METHODS`."""
        return self._method

    @property
    def n(self) -> int:
        """Number of units ``N``."""
        return self._n

    @property
    def bounds(self) -> tuple[float, float]:
        """Admissible interval ``(lo, hi)`` of ``rho``."""
        return self._bounds

    @property
    def drop_unit_root(self) -> bool:
        """Whether ``log(1 - rho)``, the unit eigenvalue's term, is removed."""
        return self._drop_unit_root

    def __call__(self, rho: float | np.ndarray) -> np.ndarray:
        """Return the log-determinant at ``rho``, an array of ``rho``'s shape."""
        return np.asarray(self._values(np.asarray(rho, dtype=float)), dtype=float)

    def _values(self, rho: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivatives(self, rho: float) -> tuple[float, float]:
        """Return the first and second derivative in ``rho`` at a scalar ``rho``."""
        raise NotImplementedError

    def value_and_derivative(self, rho: float) -> tuple[float, float]:
        """Return the value and the first derivative at a scalar ``rho`` (NUTS' need)."""
        return float(self(rho)), self.derivatives(rho)[0]

    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues entering the log-determinant (the ``"eigen"`` method only).

        Raises
        ------
        SpecificationError
            Always, for the large-panel methods, which never compute eigenvalues.
        """
        raise SpecificationError(
            f"the {self.method!r} log-determinant has no eigenvalues: it serves large "
            f"panels (N = {self.n}) without computing the spectrum of W; use "
            "logdet='eigen' for a method that has them"
        )

    def facts(self) -> dict[str, object]:
        """Return a JSON-ready record of how the log-determinant was built.

        Keys ``method``, ``n``, ``bounds``, ``drop_unit_root``, ``seconds``, ``max_error``
        (estimated maximum absolute error over the claimed range) and ``seed``, plus the
        method's own (grid size, order, probes, ...).
        """
        return {
            "method": self.method,
            "n": self.n,
            "bounds": list(self.bounds),
            "drop_unit_root": self.drop_unit_root,
            "seconds": self._seconds,
            "seed": None,
            **self._facts(),
        }

    def _facts(self) -> dict[str, object]:
        return {}

    def _inside(self, rho: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds
        return (rho > lo) & (rho < hi)

    def _check_inside(self, rho: float) -> None:
        lo, hi = self.bounds
        if not lo < rho < hi:
            raise SpecificationError(
                f"the derivatives of log|I - rho W| are undefined at rho = {rho!r}, outside "
                f"the admissible interval ({lo:.6g}, {hi:.6g})"
            )


class EigenLogDeterminant(LogDeterminant):
    """Exact ``sum_i log|1 - rho lambda_i|`` from the eigenvalues (Ord 1975).

    Derivatives are ``-sum_i lambda_i / (1 - rho lambda_i)`` and
    ``-sum_i (lambda_i / (1 - rho lambda_i))^2`` (real parts, for complex spectra).
    Values outside the bounds are evaluated as the formula gives, as the code this
    replaces did, so that results stay bit-identical.
    """

    def __init__(
        self,
        eigenvalues: np.ndarray,
        n: int,
        bounds: tuple[float, float],
        drop_unit_root: bool,
        seconds: float,
    ) -> None:
        super().__init__("eigen", n, bounds, drop_unit_root, seconds)
        self._lam = eigenvalues

    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of ``W`` (without the unit one under ``drop_unit_root``)."""
        return self._lam

    def _values(self, rho: np.ndarray) -> np.ndarray:
        return np.log(np.abs(1.0 - rho[..., None] * self._lam)).sum(axis=-1)

    def derivatives(self, rho: float) -> tuple[float, float]:
        """Return ``-sum lambda/(1 - rho lambda)`` and ``-sum (lambda/(1 - rho lambda))^2``."""
        ratio = self._lam / (1.0 - rho * self._lam)
        return -float(np.sum(ratio).real), -float(np.sum(ratio * ratio).real)

    def value_and_derivative(self, rho: float) -> tuple[float, float]:
        """Return ``sum log|1 - rho lambda|`` and ``-sum lambda/(1 - rho lambda)``, one pass."""
        factor = 1.0 - rho * self._lam
        return float(np.log(np.abs(factor)).sum()), -float(np.sum(self._lam / factor).real)

    def _facts(self) -> dict[str, object]:
        # Exact up to rounding; nothing is interpolated or sampled.
        return {"eigenvalues": int(self._lam.shape[0]), "max_error": 0.0}


class SparseLULogDeterminant(LogDeterminant):
    """Sparse LU factorisations on a grid of ``rho`` and a spline (Pace & Barry 1997).

    With ``f(rho)`` the exact value at the nodes, the spline interpolates the remainder
    ``g(rho) = f(rho) - a log(1 - rho/hi) - b log(1 - rho/lo)``: when ``1/hi`` and ``1/lo``
    are simple eigenvalues of ``W`` these terms carry the logarithmic singularities at the
    bounds and ``g`` is smooth there. ``a, b`` in ``{0, 1}`` are chosen by the error at the
    check points (a bound from a conservative spectral-radius estimate is no eigenvalue,
    and subtracting its term would create the singularity it is meant to remove); under
    ``drop_unit_root`` ``a = 0``, the unit root being gone. Nodes are Chebyshev points on
    ``[lo + m, hi - m]``, ``m = LU_MARGIN (hi - lo)``, dense near the bounds where ``g``
    bends most, and 0, where ``f = 0`` exactly.

    The interpolation error is estimated, not assumed: ``I - rho W`` is also factorised at
    the midpoints of :data:`LU_CHECK_SIZE` node intervals (the two outermost at each end
    and others spread between), and ``facts()["max_error"]`` is the larger of the largest
    difference from the spline there and, for every interval, the miss of a spline on
    every other node at the nodes left out divided by :data:`COARSE_RATIO`. Where that
    estimate exceeds :data:`LU_TAIL_TOLERANCE` per unit near a bound, a geometric tail of
    nodes is added there and the spline fitted again (``facts()["tail_nodes"]``).
    Derivatives are the spline's plus the subtracted terms'.
    Values at or outside the bounds are ``-inf``.
    """

    def __init__(
        self,
        n: int,
        bounds: tuple[float, float],
        drop_unit_root: bool,
        seconds: float,
        spline: CubicSpline,
        singular: tuple[bool, bool],
        grid_size: int,
        check_size: int,
        max_error: float,
        tail_nodes: int,
    ) -> None:
        super().__init__("sparse-lu", n, bounds, drop_unit_root, seconds)
        self._spline = spline
        self._singular = singular
        self._grid_size = grid_size
        self._check_size = check_size
        self._max_error = max_error
        self._tail_nodes = tail_nodes

    @classmethod
    def build(
        cls,
        W: sparse.spmatrix,
        bounds: tuple[float, float],
        *,
        drop_unit_root: bool = False,
        grid_size: int = LU_GRID_SIZE,
        check_size: int = LU_CHECK_SIZE,
    ) -> SparseLULogDeterminant:
        """Factorise ``I - rho W`` at ``grid_size + check_size`` points (and a tail's) and fit.

        Raises
        ------
        EstimationError
            ``I - rho W`` is singular at a grid point.
        """
        start = time.perf_counter()
        n = int(W.shape[0])
        factor = SystemLogDeterminant(W)

        def values(points: np.ndarray) -> np.ndarray:
            return np.array([_lu_value(factor, r, drop_unit_root) for r in points])

        nodes = _lu_nodes(*bounds, grid_size)
        base = int(nodes.shape[0])
        exact = values(nodes)
        mids = _check_midpoints(nodes, check_size)
        checks = values(mids)
        fit = _best_fit(nodes, exact, mids, checks, bounds, drop_unit_root)
        tails = [side for side in (0, 1) if fit.side_errors[side] > LU_TAIL_TOLERANCE * n]
        if tails:
            # The check points stay: still between nodes, they test the new spline too.
            added = np.setdiff1d(_tail_nodes(bounds, tails), np.concatenate([nodes, mids]))
            nodes, order = np.unique(np.concatenate([nodes, added]), return_index=True)
            exact = np.concatenate([exact, values(added)])[order]
            fit = _best_fit(nodes, exact, mids, checks, bounds, drop_unit_root)
        return cls(
            n,
            bounds,
            drop_unit_root,
            time.perf_counter() - start,
            fit.spline,
            fit.singular,
            grid_size,
            fit.check_points,
            fit.error,
            int(nodes.shape[0]) - base,
        )

    def _values(self, rho: np.ndarray) -> np.ndarray:
        inside = self._inside(rho)
        safe = np.where(inside, rho, 0.0)
        value = self._spline(safe) + _singular_terms(safe, self.bounds, self._singular)
        return np.where(inside, np.where(safe == 0.0, 0.0, value), -np.inf)

    def derivatives(self, rho: float) -> tuple[float, float]:
        """Return the spline's derivatives plus those of the subtracted logarithms."""
        self._check_inside(rho)
        first = float(self._spline(rho, 1))
        second = float(self._spline(rho, 2))
        lo, hi = self.bounds
        # d/drho log(1 - rho/b) = -1/(b - rho); d2 = -1/(b - rho)^2.
        for bound, used in zip((hi, lo), self._singular, strict=True):
            if used:
                first -= 1.0 / (bound - rho)
                second -= 1.0 / (bound - rho) ** 2
        return first, second

    def _facts(self) -> dict[str, object]:
        return {
            "grid_size": self._grid_size,
            "tail_nodes": self._tail_nodes,
            "check_points": self._check_size,
            "ordering": LU_ORDERING,
            "singular_terms": {"hi": self._singular[0], "lo": self._singular[1]},
            "max_error": self._max_error,
        }


def _lu_value(factor: SystemLogDeterminant, rho: float, drop_unit_root: bool) -> float:
    if rho == 0.0:
        return 0.0
    value = factor.log_abs_det(float(rho))
    return value - math.log1p(-rho) if drop_unit_root else value


def _lu_nodes(lo: float, hi: float, size: int) -> np.ndarray:
    """Chebyshev-Lobatto points on the bounds less the margin, and 0 (where ``f = 0``).

    Zero is added, not put in place of the nearest point: moving that point left an
    interval half as wide again and five times the interpolation error near 0 (k = 6
    nearest neighbours, N = 3,000).
    """
    margin = LU_MARGIN * (hi - lo)
    left, right = lo + margin, hi - margin
    k = np.arange(size)
    points = 0.5 * (left + right) - 0.5 * (right - left) * np.cos(np.pi * k / (size - 1))
    return np.unique(np.append(points, 0.0))


class _Fit(NamedTuple):
    """The spline of the best choice of singular terms and its estimated errors."""

    error: float
    spline: CubicSpline
    singular: tuple[bool, bool]
    check_points: int
    #: Largest estimated error within :data:`LU_TAIL_WIDTH` of the lower, upper bound.
    side_errors: tuple[float, float]


def _best_fit(
    nodes: np.ndarray,
    exact: np.ndarray,
    mids: np.ndarray,
    checks: np.ndarray,
    bounds: tuple[float, float],
    drop_unit_root: bool,
) -> _Fit:
    """Fit the spline for every choice of singular terms; keep the smallest error."""
    lo, hi = bounds
    near = LU_TAIL_WIDTH * (hi - lo)
    best: _Fit | None = None
    for singular in _singular_candidates(drop_unit_root):
        terms = _singular_terms(nodes, bounds, singular)
        spline = CubicSpline(nodes, exact - terms)
        fitted = spline(mids) + _singular_terms(mids, bounds, singular)
        left_out, coarse = _coarse_errors(nodes, exact - terms)
        where = np.concatenate([mids, left_out])
        errors = np.concatenate([np.abs(fitted - checks), coarse])
        sides = (
            float(errors[where <= lo + near].max(initial=0.0)),
            float(errors[where >= hi - near].max(initial=0.0)),
        )
        fit = _Fit(float(errors.max()), spline, singular, int(mids.shape[0]), sides)
        if best is None or fit.error < best.error:
            best = fit
    assert best is not None
    return best


def _tail_nodes(bounds: tuple[float, float], sides: list[int]) -> np.ndarray:
    """Nodes from :data:`LU_TAIL_WIDTH` to :data:`LU_MARGIN` of the width off each bound."""
    lo, hi = bounds
    steps = math.ceil(math.log(LU_TAIL_WIDTH / LU_MARGIN) / math.log(1.0 / LU_TAIL_RATIO))
    offsets = (hi - lo) * LU_TAIL_WIDTH * LU_TAIL_RATIO ** np.arange(steps + 1)
    offsets = offsets[offsets >= LU_MARGIN * (hi - lo)]
    return np.concatenate([lo + offsets if side == 0 else hi - offsets for side in sides])


def _coarse_errors(nodes: np.ndarray, remainder: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interpolation error about every other node from a spline on the nodes between.

    A cubic spline's error scales as ``h^4``: the spline on every other node misses the
    left-out nodes by about 16 times the full spline's error there. Dividing by 8 rather
    than 16 keeps the estimate on the safe side without a single further factorisation.
    The last node is always kept (an extrapolated miss says nothing of interpolation).

    Returns
    -------
    tuple of numpy.ndarray
        The left-out nodes and the estimates there.
    """
    kept = np.zeros(nodes.shape[0], dtype=bool)
    kept[::2] = kept[-1] = True
    coarse = CubicSpline(nodes[kept], remainder[kept])
    return nodes[~kept], np.abs(coarse(nodes[~kept]) - remainder[~kept]) / COARSE_RATIO


def _check_midpoints(nodes: np.ndarray, size: int) -> np.ndarray:
    """Midpoints of the two outermost node intervals at each end and others spread between."""
    last = nodes.shape[0] - 2
    spread = np.linspace(0, last, max(size - 4, 0)).round().astype(int)
    chosen = np.unique(np.concatenate([[0, 1, last - 1, last], spread]))
    return 0.5 * (nodes[chosen] + nodes[chosen + 1])


def _singular_candidates(drop_unit_root: bool) -> list[tuple[bool, bool]]:
    his = (False,) if drop_unit_root else (True, False)
    return [(h, lo_term) for h in his for lo_term in (True, False)]


def _singular_terms(
    rho: np.ndarray, bounds: tuple[float, float], singular: tuple[bool, bool]
) -> np.ndarray:
    """Sum ``a log(1 - rho/hi) + b log(1 - rho/lo)`` with ``(a, b) = singular``."""
    lo, hi = bounds
    total = np.zeros_like(np.asarray(rho, dtype=float))
    if singular[0]:
        total = total + np.log1p(-rho / hi)
    if singular[1]:
        total = total + np.log1p(-rho / lo)
    return total


class ChebyshevLogDeterminant(LogDeterminant):
    """Chebyshev expansion with stochastic traces (Pace & LeSage 2004; Barry & Pace 1999).

    The spectrum of ``W`` is taken to lie in ``[a, b] = [max(1/lo, -s), min(1/hi, s)]``
    with ``s`` the largest absolute row sum (a bound on every eigenvalue's modulus);
    ``u = (2x - a - b)/(b - a)`` maps it onto ``[-1, 1]`` and ``M = (2W - (a+b)I)/(b-a)``.
    On it ``log(1 - rho x) = alpha - beta u`` with ``alpha = 1 - rho (a+b)/2`` and
    ``beta = rho (b-a)/2``, whose Chebyshev series is known in closed form (from
    ``log(1 - 2qu + q^2) = -2 sum_j q^j T_j(u)/j``, ``|q| < 1``)::

        log(alpha - beta u) = log((alpha + D)/2) - 2 sum_{j>=1} q^j T_j(u) / j,
        D = sqrt(alpha^2 - beta^2),   q = beta / (alpha + D),

    so ``log|I - rho W| ~ c_0 N + sum_{j=1}^{m} c_j(rho) tr T_j(M)``, ``m`` =
    :data:`CHEBYSHEV_ORDER`, vectorised over ``rho`` at no cost. ``tr T_j(M)`` is exact
    for ``j <= 4`` (``T_{2k} = 2 T_k^2 - I``, ``T_3 = 2 T_1 T_2 - T_1`` and
    ``tr(AB) = sum(A * B')``, one sparse product) and a Hutchinson estimate ``z' T_j(M) z``
    over Rademacher probes above, by ``T_{j+1}(M) z = 2 M T_j(M) z - T_{j-1}(M) z``.

    Errors: the Monte Carlo standard error is that of the mean of the per-probe values;
    the truncation error is at most ``N' 2 |q|^{m+1} / ((m+1)(1 - |q|))`` per real
    spectrum inside ``[a, b]`` (``N' = N``, less one under ``drop_unit_root``). Both grow as
    ``|rho|`` nears the bounds: accuracy is claimed only for ``|rho| <=``
    :data:`CHEBYSHEV_RHO_MAX`; beyond, values are still given, inside the bounds, and
    ``-inf`` at or outside them. Complex eigenvalues (asymmetric ``W``) lie off ``[a, b]``,
    where the truncation bound does not hold. Derivatives are analytic in ``rho`` from
    ``c_j'(rho)``. Under ``drop_unit_root`` the expansion's own value at the unit eigenvalue
    is removed, which also removes its truncation error.
    """

    def __init__(
        self,
        n: int,
        bounds: tuple[float, float],
        drop_unit_root: bool,
        seconds: float,
        interval: tuple[float, float],
        traces: np.ndarray,
        covariance: np.ndarray,
        probes: int,
        seed: int,
    ) -> None:
        super().__init__("chebyshev", n, bounds, drop_unit_root, seconds)
        self._interval = interval
        self._traces = traces
        self._covariance = covariance
        self._probes = probes
        self._seed = seed
        a, b = interval
        unit = (2.0 - (a + b)) / (b - a)
        order = traces.shape[0] - 1
        # T_j(u) at the unit eigenvalue, removed from the traces; zero when it is kept.
        self._unit = (
            np.polynomial.chebyshev.chebvander(unit, order).ravel()
            if drop_unit_root
            else np.zeros(order + 1)
        )

    @classmethod
    def build(
        cls,
        W: sparse.spmatrix,
        bounds: tuple[float, float],
        *,
        drop_unit_root: bool = False,
        seed: int = 0,
        order: int = CHEBYSHEV_ORDER,
        probes: int = CHEBYSHEV_PROBES,
    ) -> ChebyshevLogDeterminant:
        """Compute the traces ``tr T_j(M)``, ``j <= order``, with ``probes`` probes."""
        start = time.perf_counter()
        W = sparse.csr_matrix(W, dtype=float)
        n = int(W.shape[0])
        lo, hi = bounds
        radius = float(abs(W).sum(axis=1).max())
        a, b = max(1.0 / lo, -radius), min(1.0 / hi, radius)
        # Traces are invariant to the order of units: order them for fast products.
        W = locally_ordered(W)
        M = ((2.0 * W - (a + b) * sparse.identity(n, format="csr")) / (b - a)).tocsr()
        samples = chebyshev_trace_samples(M, order, probes, np.random.default_rng(seed))
        exact = chebyshev_traces(M, min(order, CHEBYSHEV_EXACT_TRACES))
        samples[:, : exact.shape[0]] = exact
        traces = samples.mean(axis=0)
        covariance = np.atleast_2d(np.cov(samples, rowvar=False))
        return cls(
            n,
            bounds,
            drop_unit_root,
            time.perf_counter() - start,
            (a, b),
            traces,
            covariance,
            probes,
            seed,
        )

    @property
    def order(self) -> int:
        """Highest Chebyshev degree ``m``."""
        return int(self._traces.shape[0] - 1)

    def _coefficients(self, rho: np.ndarray) -> np.ndarray:
        """``c_j(rho)``, ``j = 0..m``, along a new last axis (``rho`` inside the bounds)."""
        alpha, _, root, q = _series_parts(rho, self._interval)
        j = np.arange(1, self.order + 1)
        higher = -2.0 * q[..., None] ** j / j
        return np.concatenate([np.log(0.5 * (alpha + root))[..., None], higher], axis=-1)

    def _weights(self) -> np.ndarray:
        # Traces less the unit eigenvalue's T_j(u_1) under drop_unit_root.
        return self._traces - self._unit

    def _values(self, rho: np.ndarray) -> np.ndarray:
        inside = self._inside(rho)
        safe = np.where(inside, rho, 0.0)
        value = self._coefficients(safe) @ self._weights()
        return np.where(inside, value, -np.inf)

    def standard_error(self, rho: float | np.ndarray) -> np.ndarray:
        """Monte Carlo standard error of the value at ``rho`` (``sqrt(c' S c / P)``)."""
        rho = np.asarray(rho, dtype=float)
        inside = self._inside(rho)
        c = self._coefficients(np.where(inside, rho, 0.0))
        variance = np.einsum("...i,ij,...j->...", c, self._covariance, c) / self._probes
        return np.where(inside, np.sqrt(np.maximum(variance, 0.0)), np.inf)

    def truncation_bound(self, rho: float | np.ndarray) -> np.ndarray:
        """Bound ``N' 2 |q|^{m+1} / ((m+1)(1 - |q|))`` on the error of truncating at ``m``."""
        rho = np.asarray(rho, dtype=float)
        inside = self._inside(rho)
        q = np.abs(_series_parts(np.where(inside, rho, 0.0), self._interval)[3])
        m1 = self.order + 1
        count = self.n - 1 if self.drop_unit_root else self.n
        bound = count * 2.0 * q**m1 / (m1 * (1.0 - q))
        return np.where(inside, bound, np.inf)

    def derivatives(self, rho: float) -> tuple[float, float]:
        """Return ``sum_j c_j'(rho) t_j`` and ``sum_j c_j''(rho) t_j`` (analytic)."""
        self._check_inside(rho)
        a, b = self._interval
        alpha, beta, root, q = (float(v) for v in _series_parts(np.asarray(rho), self._interval))
        d_alpha, d_beta = -0.5 * (a + b), 0.5 * (b - a)
        # D^2 = alpha^2 - beta^2 and E = alpha + D; alpha and beta are linear in rho.
        d_root = (alpha * d_alpha - beta * d_beta) / root
        dd_root = (d_alpha**2 - d_beta**2 - d_root**2) / root
        e, d_e, dd_e = alpha + root, d_alpha + d_root, dd_root
        d_c0 = d_e / e
        dd_c0 = dd_e / e - d_c0**2
        d_q = d_beta / e - beta * d_e / e**2
        dd_q = -2.0 * d_beta * d_e / e**2 - beta * dd_e / e**2 + 2.0 * beta * d_e**2 / e**3
        j = np.arange(1, self.order + 1)
        powers = q ** np.arange(self.order + 1)
        # c_j = -2 q^j / j: c_j' = -2 q^{j-1} q', c_j'' = -2 ((j-1) q^{j-2} q'^2 + q^{j-1} q'').
        lower = np.concatenate([[0.0], powers[: self.order - 1]])
        first_j = -2.0 * powers[:-1] * d_q
        second_j = -2.0 * ((j - 1) * lower * d_q**2 + powers[:-1] * dd_q)
        weights = self._weights()
        first = d_c0 * weights[0] + float(first_j @ weights[1:])
        second = dd_c0 * weights[0] + float(second_j @ weights[1:])
        return first, second

    def _claimed(self) -> np.ndarray:
        lo, hi = self.bounds
        ends = np.array([-CHEBYSHEV_RHO_MAX, CHEBYSHEV_RHO_MAX])
        # Inside the bounds when they are narrower than the claimed range.
        return np.clip(ends, lo + CLAIM_MARGIN * (hi - lo), hi - CLAIM_MARGIN * (hi - lo))

    def _facts(self) -> dict[str, object]:
        ends = self._claimed()
        se = self.standard_error(ends)
        trunc = self.truncation_bound(ends)
        worst = int(np.argmax(4.0 * se + trunc))
        return {
            "order": self.order,
            "probes": self._probes,
            "exact_traces": min(self.order, CHEBYSHEV_EXACT_TRACES),
            "seed": self._seed,
            "interval": list(self._interval),
            "claimed_range": [float(ends[0]), float(ends[1])],
            "reference_rho": float(ends[worst]),
            "standard_error": float(se[worst]),
            "truncation_bound": float(trunc[worst]),
            # Over the claimed range: four standard errors plus the truncation bound.
            "max_error": float(4.0 * se[worst] + trunc[worst]),
        }


def _series_parts(
    rho: np.ndarray, interval: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``alpha, beta, D, q`` of ``log(alpha - beta u)`` (see :class:`ChebyshevLogDeterminant`)."""
    a, b = interval
    alpha = 1.0 - rho * 0.5 * (a + b)
    beta = rho * 0.5 * (b - a)
    root = np.sqrt(np.maximum(alpha * alpha - beta * beta, 0.0))
    # alpha > |beta| inside the bounds, so alpha + D > 0 and |q| < 1.
    q = beta / (alpha + root)
    return alpha, beta, root, q


def automatic_method(n: int) -> str:
    """Return the method ``"auto"`` takes for ``n`` units.

    ``"eigen"`` up to :data:`~bayes_ccd.data.weights.DENSE_SPECTRUM_LIMIT` units,
    ``"sparse-lu"`` up to :data:`SPARSE_LU_LIMIT`, ``"chebyshev"`` above.
    """
    from bayes_ccd.data.weights import DENSE_SPECTRUM_LIMIT

    if n <= DENSE_SPECTRUM_LIMIT:
        return "eigen"
    return "sparse-lu" if n <= SPARSE_LU_LIMIT else "chebyshev"


def log_determinant(
    W: sparse.csr_matrix,
    bounds: tuple[float, float],
    *,
    method: str = "eigen",
    eigenvalues: np.ndarray | None = None,
    drop_unit_root: bool = False,
    seed: int = 0,
) -> LogDeterminant:
    """Build the log-determinant ``log|I - rho W|`` by ``method``.

    Parameters
    ----------
    W
        ``N x N`` sparse weights.
    bounds
        Admissible ``(lo, hi)`` of ``rho``, ``lo < 0 < hi``.
    method
        ``"eigen"`` (needs ``eigenvalues``), ``"sparse-lu"`` or ``"chebyshev"``.
    eigenvalues
        Eigenvalues of ``W``, real or complex, for ``"eigen"``.
    drop_unit_root
        Return ``log|I - rho W| - log(1 - rho)`` for a row-stochastic ``W`` (Lee & Yu 2010);
        ``hi`` must then be 1 for the large-panel methods.
    seed
        Seed of the Rademacher probes of ``"chebyshev"``.

    Raises
    ------
    SpecificationError
        ``W`` not square, bounds not ``lo < 0 < hi``, unknown method, missing eigenvalues.
    EstimationError
        A sparse LU factorisation failed (singular ``I - rho W``).
    """
    if method not in METHODS:
        raise SpecificationError(
            f"unknown log-determinant method {method!r}; choose one of {', '.join(METHODS)}"
        )
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise SpecificationError(f"the weights matrix W must be square, not {W.shape}")
    lo, hi = (float(bounds[0]), float(bounds[1]))
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < 0.0 < hi):
        raise SpecificationError(
            f"the bounds of rho must satisfy lo < 0 < hi, not ({lo!r}, {hi!r})"
        )
    n = int(W.shape[0])
    if method == "eigen":
        return _eigen(eigenvalues, n, (lo, hi), drop_unit_root)
    if drop_unit_root and abs(hi - 1.0) > 1e-12:
        raise SpecificationError(
            f"drop_unit_root needs a row-stochastic W with upper bound 1 for rho, not {hi!r}"
        )
    if method == "sparse-lu":
        return SparseLULogDeterminant.build(W, (lo, hi), drop_unit_root=drop_unit_root)
    return ChebyshevLogDeterminant.build(W, (lo, hi), drop_unit_root=drop_unit_root, seed=seed)


def _eigen(
    eigenvalues: np.ndarray | None, n: int, bounds: tuple[float, float], drop_unit_root: bool
) -> EigenLogDeterminant:
    start = time.perf_counter()
    if eigenvalues is None:
        raise SpecificationError(
            "the 'eigen' log-determinant needs the eigenvalues of W; pass eigenvalues= or "
            "use logdet='sparse-lu' for a large panel"
        )
    lam = np.asarray(eigenvalues)
    if drop_unit_root:
        from bayes_ccd.data.weights import unit_eigenvalue

        lam = np.delete(lam, unit_eigenvalue(lam, "the Lee-Yu time transformation"))
    return EigenLogDeterminant(lam, n, bounds, drop_unit_root, time.perf_counter() - start)
