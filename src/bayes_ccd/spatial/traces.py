"""Effects of spatial models at large N from the traces of the powers of ``W``.

In the spatial Durbin model ``y = rho W y + X beta + W X theta + e`` the effect of
covariate ``k`` on ``y`` is the matrix ``S_k = (I - rho W)^{-1} (beta_k I + theta_k W)``.
LeSage & Pace (2009, ch. 2 and sec. 4.2) summarise it by

    direct = (1/N) tr S_k,    total = (1/N) 1' S_k 1,    indirect = total - direct,

which are linear in ``(beta_k, theta_k)``: ``direct = a beta_k + b theta_k`` and
``total = c beta_k + d theta_k``. Expanding ``(I - rho W)^{-1} = sum_j rho^j W^j``
(convergent for ``|rho| r(W) < 1``, ``r`` the spectral radius) gives

    a = sum_j rho^j t_j,    b = sum_j rho^j t_{j+1},    t_j = tr(W^j) / N,
    c = sum_j rho^j s_j,    d = sum_j rho^j s_{j+1},    s_j = 1' W^j 1 / N.

At large N ``W`` has no affordable eigen-decomposition, but the ``t_j`` and ``s_j`` are
cheap: ``t_0 = 1``, ``t_1`` and ``t_2 = sum_ij w_ij w_ji / N`` are exact, the ``s_j`` are
exact from repeated products ``W^j 1``, and ``t_j`` for ``j >= 3`` are Hutchinson (1990)
estimates ``z' W^j z / N`` with Rademacher probes ``z``, the approach of Barry & Pace
(1999) and LeSage & Pace (2009, sec. 4.2). The series are truncated at order ``m``;
:meth:`TraceSpectrum.standard_errors` reports the Monte Carlo error and
:meth:`TraceSpectrum.truncation_bound` bounds the truncation error.

Rademacher probes estimate the traces of the Chebyshev polynomials ``T_j`` of a scaled
``W`` (:func:`chebyshev_trace_samples`) for the log-determinant of
:class:`~bayes_ccd.spatial.logdet.ChebyshevLogDeterminant` (Pace & LeSage 2004).

References
----------
Barry, R. P. & Pace, R. K. (1999). Monte Carlo estimates of the log determinant of large
sparse matrices. *Linear Algebra and its Applications* 289, 41-54.

Hutchinson, M. F. (1990). A stochastic estimator of the trace of the influence matrix for
Laplacian smoothing splines. *Communications in Statistics - Simulation and Computation*
19(2), 433-450.

LeSage, J. P. & Pace, R. K. (2009). *Introduction to Spatial Econometrics*. Chapman &
Hall/CRC.

Pace, R. K. & LeSage, J. P. (2004). Chebyshev approximation of log-determinants of
spatial weight matrices. *Computational Statistics & Data Analysis* 45, 179-196.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

import numpy as np
import scipy.sparse

from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.spatial.operators import locally_ordered

#: Truncation order ``m`` of the power series, the order LeSage & Pace (2009, sec. 4.2)
#: use. For a row-stochastic ``W`` the tail of ``a`` and ``b`` is at most
#: ``|rho|^(m+1) / (1 - |rho|)``: 8e-10 at ``rho = 0.8`` and 2.4e-4 at ``rho = 0.9`` (on
#: ``a >= 1``), below the Monte Carlo standard error of :data:`TRACE_PROBES` probes there
#: up to N = 100,000. The real tail is far smaller than the bound, as ``t_j`` decays
#: with ``j`` on spatial graphs (it is the return probability of a random walk).
TRACE_ORDER: Final[int] = 100
#: Number of Rademacher probes ``P``. The standard error of ``a`` falls as
#: ``1 / sqrt(N P)``, like the posterior sd of the effects as ``N`` grows, so their ratio
#: hardly depends on ``N``: measured with 50 probes on k = 6 nearest-neighbour weights it
#: was 1.2e-4 at ``rho = 0.5`` for N = 10,000 (2.7e-5 for N = 100,000) and the error of
#: posterior mean effects up to 2.1% of their sd on China's counties (tests/test_large_n.py).
#: 200 probes halve that, within the 2% of an sd asked of the approximation, for one
#: N x 200 block product per power (about 30 s at N = 100,000 on two cores).
TRACE_PROBES: Final[int] = 200

#: Probe-block elements (``N x probes``) held at once: 2**23 doubles is 64 MB per block.
_BLOCK_ELEMENTS: Final[int] = 2**23
#: Elements of the ``draws x (m + 1)`` power matrix built at once in the multipliers.
_CHUNK_ELEMENTS: Final[int] = 2**20
#: Traces ``t_0, t_1, t_2`` are exact; Monte Carlo starts here.
_FIRST_ESTIMATED: Final[int] = 3


@dataclass(frozen=True, eq=False)
class TraceEstimate:
    """Normalised traces and sums of the powers of ``W``.

    Attributes
    ----------
    n
        Number of units ``N``.
    traces
        ``(m + 2,)`` ``t_0 ... t_{m+1}`` with ``t_j = tr(W^j) / N``: exact for ``j <= 2``,
        the mean over probes of Hutchinson's ``z' W^j z / N`` otherwise.
    probe_traces
        ``(P, m + 2)`` per-probe estimates (the exact entries repeated in every row), so
        the Monte Carlo standard error of any linear combination ``sum_j w_j t_j`` is the
        standard deviation over rows divided by ``sqrt(P)``.
    sums
        ``(m + 2,)`` ``s_j = 1' W^j 1 / N``, exact.
    probes
        Number of probes ``P``.
    seed
        Seed of the probes.
    norm
        ``||W||_inf``, the largest absolute row sum, which bounds every ``|lambda_i|``.
    seconds
        Wall-clock seconds taken to compute the estimate.
    """

    n: int
    traces: np.ndarray
    probe_traces: np.ndarray
    sums: np.ndarray
    probes: int
    seed: int
    norm: float
    seconds: float

    @property
    def order(self) -> int:
        """Truncation order ``m`` (the traces run to ``t_{m+1}``)."""
        return self.traces.shape[0] - 2


def _as_csr(W: object) -> scipy.sparse.csr_matrix:
    """Convert ``W`` to a square, finite, real CSR matrix or raise SpecificationError."""
    try:
        matrix = scipy.sparse.csr_matrix(W)
    except (TypeError, ValueError) as error:
        raise SpecificationError(
            f"W must be a sparse (or sparse-convertible) matrix, got {type(W).__name__}"
        ) from error
    if np.iscomplexobj(matrix.data):
        raise SpecificationError("W must be real; got complex entries")
    rows, cols = matrix.shape
    if rows != cols or rows == 0:
        raise SpecificationError(f"W must be a non-empty square matrix, got shape {rows}x{cols}")
    # A copy (never the caller's arrays), in canonical form: the unit order below, and so
    # the seeded probes, then depend on W alone, not on the sparse format it came in.
    matrix = matrix.astype(float, copy=True)
    matrix.sum_duplicates()
    matrix.sort_indices()
    if not np.all(np.isfinite(matrix.data)):
        raise SpecificationError("W has non-finite entries (NaN or inf)")
    return matrix


def _rademacher(seed: int, probe: int, n: int) -> np.ndarray:
    """Probe ``probe`` of ``seed``: ``n`` independent signs +-1.

    Each probe has its own stream, so the probes do not depend on the block size and
    the first ``P`` probes of a larger run are those of a run with ``P`` probes.
    """
    rng = np.random.default_rng([seed, probe])
    return 2.0 * rng.integers(0, 2, size=n, dtype=np.int8) - 1.0


def _hutchinson(W: scipy.sparse.csr_matrix, order: int, probes: int, seed: int) -> np.ndarray:
    """Per-probe ``z_p' W^j z_p / N`` for ``j = 0 ... order + 1``, shape ``(P, order + 2)``.

    With Rademacher probes ``E[z' A z] = tr A`` (Hutchinson 1990). ``W^j Z`` is built by
    repeated sparse products with a block of probes, never forming ``W^j``.
    """
    n = W.shape[0]
    out = np.empty((probes, order + 2))
    block = max(1, min(probes, _BLOCK_ELEMENTS // n))
    for start in range(0, probes, block):
        stop = min(start + block, probes)
        Z = np.empty((n, stop - start))
        for p in range(start, stop):
            Z[:, p - start] = _rademacher(seed, p, n)
        V = Z
        out[start:stop, 0] = 1.0
        for j in range(1, order + 2):
            V = W @ V
            out[start:stop, j] = np.einsum("ip,ip->p", Z, V) / n
    return out


def _sums(W: scipy.sparse.csr_matrix, order: int) -> np.ndarray:
    """``s_j = 1' W^j 1 / N`` for ``j = 0 ... order + 1``, exactly by products ``W^j 1``."""
    n = W.shape[0]
    out = np.empty(order + 2)
    v = np.ones(n)
    out[0] = 1.0
    for j in range(1, order + 2):
        v = W @ v
        out[j] = v.sum() / n
    return out


def trace_powers(
    W: scipy.sparse.csr_matrix,
    *,
    order: int = TRACE_ORDER,
    probes: int = TRACE_PROBES,
    seed: int = 0,
) -> TraceEstimate:
    """Estimate ``t_j = tr(W^j) / N`` and compute ``s_j = 1' W^j 1 / N``, ``j <= order + 1``.

    ``t_0 = 1``, ``t_1 = sum_i w_ii / N`` and ``t_2 = sum_ij w_ij w_ji / N`` are exact;
    ``t_j`` for ``j >= 3`` is Hutchinson's (1990) estimate ``mean_p z_p' W^j z_p / N`` with
    Rademacher probes ``z_p`` (Barry & Pace 1999; LeSage & Pace 2009, sec. 4.2). The cost
    is ``order + 1`` sparse products of ``W`` with an ``N x P`` block.

    Parameters
    ----------
    W
        ``(N, N)`` weights matrix, any scipy sparse format (or anything ``csr_matrix``
        accepts).
    order
        Truncation order ``m >= 2`` of the power series.
    probes
        Number of probes ``P >= 2`` (two at least, for a standard error).
    seed
        Seed of the probes (a non-negative integer).

    Returns
    -------
    TraceEstimate
        Traces, per-probe traces, sums and ``||W||_inf``.

    Raises
    ------
    SpecificationError
        ``W`` is not a real, finite, square sparse-convertible matrix, ``order < 2``,
        ``probes < 2`` or ``seed`` is not a non-negative integer.
    """
    start = time.perf_counter()
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 2:
        raise SpecificationError(f"order must be an integer >= 2, got {order!r}")
    if isinstance(probes, bool) or not isinstance(probes, int | np.integer) or probes < 2:
        raise SpecificationError(f"probes must be an integer >= 2, got {probes!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SpecificationError(f"seed must be a non-negative integer, got {seed!r}")
    W = _as_csr(W)
    order, probes, n = int(order), int(probes), W.shape[0]
    local = locally_ordered(W)
    per_probe = _hutchinson(local, order, probes, seed)
    exact = np.array([1.0, W.diagonal().sum() / n, W.multiply(W.T).sum() / n])
    # The exact traces replace the estimates in every row, so they add no variance; the
    # mean is overwritten too, as averaging P copies need not return the value bit for bit.
    per_probe[:, :_FIRST_ESTIMATED] = exact
    traces = per_probe.mean(axis=0)
    traces[:_FIRST_ESTIMATED] = exact
    norm = float(abs(W).sum(axis=1).max())
    return TraceEstimate(
        n=n,
        traces=traces,
        probe_traces=per_probe,
        sums=_sums(local, order),
        probes=probes,
        seed=int(seed),
        norm=norm,
        seconds=time.perf_counter() - start,
    )


def _powers(rho: np.ndarray, order: int) -> np.ndarray:
    """Transposed Vandermonde matrix ``R[j, i] = rho_i^j``, ``j = 0 ... order``.

    Built row by row with one vector product per power: far cheaper than ``np.power``
    on the full grid, and as accurate (repeated multiplication, relative error ~ j eps).
    """
    out = np.empty((order + 1, rho.size))
    out[0] = 1.0
    for j in range(1, order + 1):
        np.multiply(out[j - 1], rho, out=out[j])
    return out


@dataclass(frozen=True, eq=False)
class TraceSpectrum:
    """What the LeSage-Pace effects need of a large sparse ``W``: traces of its powers.

    The counterpart of the eigen-decomposition used for a dense ``W``; the multipliers
    ``[a, b, c, d]`` are truncated power series in ``rho`` (module docstring).

    Attributes
    ----------
    estimate
        The :class:`TraceEstimate` of ``W``.
    row_stochastic
        Whether ``W 1 = 1``: then ``s_j = 1`` and ``c = d = 1/(1 - rho)`` exactly.
    """

    estimate: TraceEstimate
    row_stochastic: bool

    @property
    def n(self) -> int:
        """Number of units ``N``."""
        return self.estimate.n

    def multipliers(self, rho: float | np.ndarray, *, derivative: bool = False) -> np.ndarray:
        """Coefficients ``[a, b, c, d]`` of ``beta_k`` and ``theta_k`` in the effects.

        ``direct = a beta_k + b theta_k`` and ``total = c beta_k + d theta_k`` with

            a = sum_{j=0}^m rho^j t_j,  b = sum_{j=0}^m rho^j t_{j+1},
            c = sum_{j=0}^m rho^j s_j,  d = sum_{j=0}^m rho^j s_{j+1},

        and ``c = d = 1/(1 - rho)`` exactly for a row-stochastic ``W`` (LeSage & Pace
        2009, sec. 4.2).

        Parameters
        ----------
        rho
            Spatial autoregressive parameter(s), any shape.
        derivative
            Return ``d/d rho`` of each instead: ``a' = sum_{j=1}^m j rho^(j-1) t_j`` and
            likewise, ``c' = d' = 1/(1 - rho)^2`` for a row-stochastic ``W``.

        Returns
        -------
        numpy.ndarray
            ``(*rho.shape, 4)``.
        """
        rho = np.asarray(rho, dtype=float)
        flat = rho.reshape(-1)
        m = self.estimate.order
        t, s = self.estimate.traces, self.estimate.sums
        # Columns: the coefficients of rho^j in a, b, c, d. The derivative shifts them down
        # one power (j rho^(j-1) t_j), so both use the same power matrix.
        if derivative:
            coef = np.column_stack([t[1:-1], t[2:], s[1:-1], s[2:]]) * np.arange(1, m + 1)[:, None]
        else:
            coef = np.column_stack([t[:-1], t[1:], s[:-1], s[1:]])
        out = np.empty((flat.size, 4))
        # Chunks of draws keep the power matrix at a few megabytes for any number of draws.
        chunk = max(1, _CHUNK_ELEMENTS // (m + 1))
        for start in range(0, flat.size, chunk):
            R = _powers(flat[start : start + chunk], coef.shape[0] - 1)
            out[start : start + chunk] = (coef.T @ R).T
        if self.row_stochastic:
            # The closed form has no truncation error, unlike the series.
            with np.errstate(divide="ignore"):
                exact = 1.0 / (1.0 - flat)
            out[:, 2] = out[:, 3] = exact * exact if derivative else exact
        return out.reshape((*rho.shape, 4))

    def standard_errors(self, rho: float | np.ndarray) -> np.ndarray:
        """Monte Carlo standard errors of the multipliers ``[a, b, c, d]``.

        For ``a = sum_j rho^j t_j`` the per-probe values ``a_p = sum_j rho^j t_{p,j}``
        are i.i.d. with mean ``a`` (Hutchinson 1990), so ``se(a) = sd_p(a_p) / sqrt(P)``;
        likewise ``b``. ``c`` and ``d`` are exact (standard error 0).

        Parameters
        ----------
        rho
            Spatial autoregressive parameter(s), any shape.

        Returns
        -------
        numpy.ndarray
            ``(*rho.shape, 4)``.
        """
        rho = np.asarray(rho, dtype=float)
        flat = rho.reshape(-1)
        est = self.estimate
        m, P = est.order, est.probes
        centred = est.probe_traces - est.traces
        scale = 1.0 / np.sqrt(P * (P - 1.0))
        out = np.zeros((flat.size, 4))
        chunk = max(1, _CHUNK_ELEMENTS // max(m + 1, P))
        for start in range(0, flat.size, chunk):
            R = _powers(flat[start : start + chunk], m)
            # Rows: probes; columns: draws. The norm over probes of the centred values.
            out[start : start + chunk, 0] = np.linalg.norm(centred[:, :-1] @ R, axis=0)
            out[start : start + chunk, 1] = np.linalg.norm(centred[:, 1:] @ R, axis=0)
        out[:, :2] *= scale
        return out.reshape((*rho.shape, 4))

    def truncation_bound(self, rho: float | np.ndarray) -> np.ndarray:
        """Bound on the truncation error of ``a`` and ``b`` (and of ``c``, ``d``).

        Every eigenvalue satisfies ``|lambda| <= q = ||W||_inf``, so
        ``|t_j| <= (1/N) sum_i |lambda_i|^j <= q^j`` and ``|s_j| <= ||W^j||_inf <= q^j``.
        With ``x = |rho| q < 1`` the tails beyond order ``m`` are at most

            sum_{j>m} |rho|^j q^j = x^(m+1) / (1 - x)          (a, c),
            sum_{j>m} |rho|^j q^(j+1) = q x^(m+1) / (1 - x)    (b, d),

        and the larger of the two is returned; ``inf`` when ``x >= 1``. For a
        row-stochastic ``W`` ``q = 1`` and the bound is ``|rho|^(m+1) / (1 - |rho|)``.

        Parameters
        ----------
        rho
            Spatial autoregressive parameter(s), any shape.

        Returns
        -------
        numpy.ndarray
            ``rho.shape``.
        """
        rho = np.asarray(rho, dtype=float)
        q = self.estimate.norm
        x = np.abs(rho) * q
        inside = x < 1.0
        safe = np.where(inside, x, 0.0)
        bound = safe ** (self.estimate.order + 1) / (1.0 - safe) * max(1.0, q)
        return np.where(inside, bound, np.inf)

    def facts(self) -> dict[str, object]:
        """JSON-ready description of how the multipliers were computed."""
        est = self.estimate
        return {
            "method": "traces",
            "order": est.order,
            "probes": est.probes,
            "seed": est.seed,
            "seconds": float(est.seconds),
            "n": est.n,
        }


def chebyshev_traces(M: scipy.sparse.csr_matrix, top: int) -> np.ndarray:
    """Return ``tr T_j(M)`` for ``j <= top <= 4`` exactly, from ``tr(AB) = sum(A * B')``.

    ``T_j`` are the Chebyshev polynomials of :class:`~bayes_ccd.spatial.logdet.
    ChebyshevLogDeterminant`; the higher traces come from :func:`chebyshev_trace_samples`.
    """
    n = M.shape[0]
    traces = [float(n), float(M.diagonal().sum())]
    if top >= 2:
        T2 = (2.0 * (M @ M) - scipy.sparse.identity(n, format="csr")).tocsr()
        traces.append(float(T2.diagonal().sum()))
        traces.append(2.0 * float(M.multiply(T2.T).sum()) - traces[1])
        traces.append(2.0 * float(T2.multiply(T2.T).sum()) - n)
    return np.array(traces[: top + 1])


def chebyshev_trace_samples(
    M: scipy.sparse.csr_matrix, order: int, probes: int, rng: np.random.Generator
) -> np.ndarray:
    """Per-probe ``z' T_j(M) z``, shape ``(probes, order + 1)``, Rademacher ``z``.

    Hutchinson estimates of the Chebyshev traces by the three-term recurrence
    ``T_j(M) z = 2 M T_{j-1}(M) z - T_{j-2}(M) z`` on a block of probes.
    """
    n = M.shape[0]
    samples = np.empty((probes, order + 1))
    block = max(1, min(probes, _BLOCK_ELEMENTS // n))
    for start in range(0, probes, block):
        width = min(block, probes - start)
        z = rng.integers(0, 2, size=(n, width)).astype(float) * 2.0 - 1.0
        previous, current = z, M @ z
        samples[start : start + width, 0] = n
        samples[start : start + width, 1] = np.einsum("ij,ij->j", z, current)
        for j in range(2, order + 1):
            previous, current = current, 2.0 * (M @ current) - previous
            samples[start : start + width, j] = np.einsum("ij,ij->j", z, current)
    return samples
