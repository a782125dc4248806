"""Direct, indirect and total effects of spatial models (LeSage & Pace 2009, ch. 2).

In the reduced form of the spatial Durbin model,
``E[y_t] = (I - rho W)^{-1} (X_t beta + W X_t theta) + ...``, the ``N x N`` matrix of
partial derivatives of ``E[y_t]`` with respect to covariate ``k`` is

    S_k(W) = (I - rho W)^{-1} (beta_k I + theta_k W).

LeSage & Pace (2009, *Introduction to Spatial Econometrics*, ch. 2) report
its averages

    direct   = (1/N) tr S_k            (mean of the diagonal: own effect incl. feedback)
    total    = (1/N) 1' S_k 1          (mean row sum)
    indirect = total - direct          (mean off-diagonal row sum: spillovers)

With the eigen-decomposition ``W = V diag(lambda) V^{-1}``, computed once
(:func:`spectrum`),

    direct = (1/N) sum_i (beta_k + theta_k lambda_i) / (1 - rho lambda_i)
    total  = (1/N) sum_i u_i v_i (beta_k + theta_k lambda_i) / (1 - rho lambda_i),
             u = 1' V, v = V^{-1} 1,

and for a row-stochastic ``W`` (``W 1 = 1``) simply ``total = (beta_k + theta_k)/(1 - rho)``.
The direct formula holds for any ``W`` (the trace of a matrix function is the sum of
the function over the eigenvalues); the total formula needs a diagonalisable ``W``
unless ``W`` is row-stochastic. Both are linear in ``(beta_k, theta_k)`` with
coefficients that depend on ``rho`` alone, so effects of ``D`` parameter draws cost
``O(D N)`` and never an ``N x N`` inverse.

``theta_k`` enters the direct effect through ``(1/N) tr[(I - rho W)^{-1} W] != 0``
(feedback through neighbours); spreg's impacts leave it out and attribute it to the
indirect effect. For error models (SEM, SDEM) ``dE[y]/dx_k = beta_k I + theta_k W``:
the same formulas with ``rho = 0``.

Large panels, whose ``W`` is sparse, have no eigen-decomposition: there the multipliers
come from the Monte Carlo traces of ``W^k`` (:class:`~bayes_ccd.spatial.traces.TraceSpectrum`,
LeSage & Pace 2009, ch. 4), with the same contract and a stated error.

Inference follows LeSage & Pace (2009): simulate parameter vectors from
the asymptotic normal distribution of the estimates, or use the delta method with
the analytic gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from bayes_ccd.conventions import DEFAULT_SEED, EFFECT_KINDS, INTERVAL_PROB
from bayes_ccd.data.weights import unit_eigenvalue
from bayes_ccd.exceptions import EstimationError, NumericalWarning, SpecificationError, warn
from bayes_ccd.settings import EFFECT_INFERENCES, MLESettings

#: Default number of parameter draws for simulated effect inference (``[mle]
#: effects_draws``).
DEFAULT_EFFECT_DRAWS: Final = MLESettings.effects_draws
EffectInference = Literal["simulation", "delta"]

#: Elements of draws x units held at once when evaluating the multipliers (bounds the
#: memory of large N and many draws at a few tens of megabytes).
_CHUNK_ELEMENTS = 2**21
#: Imaginary parts below this are rounding noise.
_IMAG_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Spectrum:
    """What the effects need of ``W``: eigenvalues and total-effect weights.

    Attributes
    ----------
    eigenvalues
        ``(N,)`` eigenvalues ``lambda_i`` of ``W`` (real or complex).
    total_weights
        ``(N,)`` weights ``u_i v_i / N`` with ``u = 1'V`` and ``v = V^{-1} 1``, so that
        ``(1/N) 1' f(W) 1 = sum_i w_i f(lambda_i)``; for a row-stochastic ``W`` a unit
        vector at the eigenvalue 1. They sum to ``(1/N) 1'1 = 1``.
    """

    eigenvalues: np.ndarray
    total_weights: np.ndarray

    @property
    def n(self) -> int:
        """Number of units ``N`` (eigenvalues of ``W``)."""
        return self.eigenvalues.shape[0]


def spectrum(
    W: np.ndarray, *, eigenvalues: np.ndarray | None = None, row_stochastic: bool | None = None
) -> Spectrum:
    """Compute the :class:`Spectrum` of a dense ``(N, N)`` weights matrix, once.

    Parameters
    ----------
    W
        The weights matrix.
    eigenvalues
        Eigenvalues already computed (e.g. ``SpatialWeights.eigenvalues``); used only
        for a row-stochastic ``W``, which needs no eigenvectors.
    row_stochastic
        Whether every row of ``W`` sums to one (checked when ``None``).

    Warns
    -----
    NumericalWarning
        ``W`` is not row-stochastic and its eigenvector matrix is ill-conditioned
        (nearly defective): total effects from the eigen-decomposition are inaccurate.
    """
    W = np.asarray(W, dtype=float)
    n = W.shape[0]
    if row_stochastic is None:
        row_stochastic = bool(np.allclose(W.sum(axis=1), 1.0, atol=1e-12))
    if row_stochastic:
        values = np.linalg.eigvals(W) if eigenvalues is None else np.asarray(eigenvalues)
        unit = unit_eigenvalue(values, "the total effect of a row-stochastic W")
        weights = np.zeros(n)
        weights[unit] = 1.0
        return Spectrum(values, weights)
    values, vectors = np.linalg.eig(W)
    condition = np.linalg.cond(vectors)
    if condition > 1e10:
        warn(
            f"W is nearly defective (eigenvector condition number {condition:.2g}); "
            "total effects from its eigen-decomposition are inaccurate",
            NumericalWarning,
        )
    u = vectors.sum(axis=0)
    v = np.linalg.solve(vectors, np.ones(n))
    weights = u * v / n
    if np.all(np.abs(values.imag) < _IMAG_TOL) and np.all(np.abs(weights.imag) < _IMAG_TOL):
        values, weights = values.real, weights.real
    return Spectrum(values, weights)


def effect_multipliers(
    rho: float | np.ndarray, spec: Spectrum, *, derivative: bool = False
) -> np.ndarray:
    """Coefficients of ``beta_k`` and ``theta_k`` in the effects, as functions of ``rho``.

    Returns ``(..., 4)``: ``[a, b, c, d]`` with ``direct = a beta + b theta`` and
    ``total = c beta + d theta``, where

        a = (1/N) sum_i 1/(1 - rho lambda_i),   b = (1/N) sum_i lambda_i/(1 - rho lambda_i),
        c = sum_i w_i/(1 - rho lambda_i),       d = sum_i w_i lambda_i/(1 - rho lambda_i).

    With ``derivative=True`` the derivatives with respect to ``rho`` (each term
    ``1/(1 - rho lambda)`` replaced by ``lambda/(1 - rho lambda)^2``), for the delta
    method.
    """
    if not isinstance(spec, Spectrum):
        # Large panels: the same multipliers as power series in the traces of W^k.
        return spec.multipliers(rho, derivative=derivative)
    rho = np.asarray(rho, dtype=float)
    flat = rho.reshape(-1)
    lam = spec.eigenvalues
    out = np.empty((flat.size, 4))
    chunk = max(1, _CHUNK_ELEMENTS // spec.n)
    for start in range(0, flat.size, chunk):
        r = flat[start : start + chunk, None]
        base = 1.0 / (1.0 - r * lam)
        if derivative:
            base = lam * base * base
        lagged = base * lam
        out[start : start + chunk, 0] = base.mean(axis=1).real
        out[start : start + chunk, 1] = lagged.mean(axis=1).real
        out[start : start + chunk, 2] = (base @ spec.total_weights).real
        out[start : start + chunk, 3] = (lagged @ spec.total_weights).real
    return out.reshape((*rho.shape, 4))


class EffectDraws(NamedTuple):
    """Direct, indirect and total effects, each ``(..., K)``."""

    direct: np.ndarray
    indirect: np.ndarray
    total: np.ndarray


def effects_from_draws(
    rho: float | np.ndarray, beta: np.ndarray, theta: np.ndarray | None, spec: Spectrum
) -> EffectDraws:
    """LeSage-Pace effects for any number of parameter draws.

    Parameters
    ----------
    rho
        Spatial autoregressive parameter, shape ``(...)`` (e.g. ``(chain, draw)``);
        ``0`` for error models.
    beta
        Coefficients of ``X``, shape ``(..., K)``.
    theta
        Coefficients of ``W X``, shape ``(..., K)``; ``None`` for SAR/SEM.
    spec
        :func:`spectrum` of ``W``.

    Returns
    -------
    EffectDraws
        ``direct``, ``indirect`` and ``total``, each of shape ``(..., K)``.
    """
    beta = np.asarray(beta, dtype=float)
    theta = np.zeros_like(beta) if theta is None else np.asarray(theta, dtype=float)
    m = effect_multipliers(rho, spec)[..., None, :]
    direct = beta * m[..., 0] + theta * m[..., 1]
    total = beta * m[..., 2] + theta * m[..., 3]
    return EffectDraws(direct, total - direct, total)


#: Largest error of a posterior mean effect, as a fraction of its posterior sd, that the
#: trace approximation of large panels may carry without a warning (the large-N tests
#: hold it under 0.02).
APPROXIMATION_TOLERANCE: Final = 0.05


def approximation_error(
    rho: np.ndarray, beta: np.ndarray, theta: np.ndarray | None, spec: Spectrum
) -> np.ndarray:
    """Bound on the error of the mean of per-draw effects from approximate multipliers.

    Zero for an eigen-decomposition (exact). For the traces of a large ``W``
    (:class:`~bayes_ccd.spatial.traces.TraceSpectrum`) the multipliers ``a, b, c, d``
    of every draw carry a Monte Carlo error ``se`` and a truncation error ``t``, shared
    by all draws (one set of probes), so the error of the mean effect is bounded by
    ``mean_d(|beta_d| e_a(rho_d) + |theta_d| e_b(rho_d))`` with ``e = 2 se + t`` (two
    standard errors), and likewise for the total with ``e_c, e_d``; the indirect effect
    is their difference, whose error is at most their sum.

    Returns
    -------
    numpy.ndarray
        ``(3, K)``: the bounds for the direct, indirect and total effects.
    """
    beta = np.asarray(beta, dtype=float).reshape(-1, np.shape(beta)[-1])
    theta = np.zeros_like(beta) if theta is None else np.asarray(theta).reshape(beta.shape)
    if isinstance(spec, Spectrum):
        return np.zeros((3, beta.shape[1]))
    rho = np.asarray(rho, dtype=float).reshape(-1)
    error = 2.0 * spec.standard_errors(rho)
    error[:, :2] += spec.truncation_bound(rho)[:, None]
    if not spec.row_stochastic:
        error[:, 2:] += spec.truncation_bound(rho)[:, None]
    direct = (np.abs(beta) * error[:, :1] + np.abs(theta) * error[:, 1:2]).mean(axis=0)
    total = (np.abs(beta) * error[:, 2:3] + np.abs(theta) * error[:, 3:4]).mean(axis=0)
    return np.stack([direct, direct + total, total])


def direct_effects(
    rho: float | np.ndarray, beta: np.ndarray, theta: np.ndarray | None, spec: Spectrum
) -> np.ndarray:
    """Average direct effects ``(1/N) tr[(I - rho W)^{-1}(beta_k I + theta_k W)]``, ``(..., K)``."""
    return effects_from_draws(rho, beta, theta, spec).direct


def indirect_effects(
    rho: float | np.ndarray, beta: np.ndarray, theta: np.ndarray | None, spec: Spectrum
) -> np.ndarray:
    """Average indirect effects (total minus direct), ``(..., K)``."""
    return effects_from_draws(rho, beta, theta, spec).indirect


def total_effects(
    rho: float | np.ndarray, beta: np.ndarray, theta: np.ndarray | None, spec: Spectrum
) -> np.ndarray:
    """Average total effects ``(1/N) 1'(I - rho W)^{-1}(beta_k I + theta_k W) 1``, ``(..., K)``."""
    return effects_from_draws(rho, beta, theta, spec).total


def _covariance_root(cov: np.ndarray) -> np.ndarray:
    """Return a square root ``L`` with ``L L' = cov`` that tolerates singular ``cov``.

    Fixed parameters have zero rows and columns in ``cov``.
    """
    values, vectors = np.linalg.eigh((cov + cov.T) / 2.0)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def simulate_parameters(
    mean: np.ndarray,
    cov: np.ndarray,
    n_draws: int,
    seed: int,
    *,
    rho_index: int | None = None,
    rho_bounds: tuple[float, float] | None = None,
) -> np.ndarray:
    """Draw ``(n, P)`` parameters from ``N(mean, cov)`` with ``rho`` inside its interval.

    Draws with ``rho`` outside its interval are rejected (the reduced form does not
    exist there) and replaced.

    Warns
    -----
    NumericalWarning
        More than 1% of the draws fell outside the interval of ``rho``.

    Raises
    ------
    EstimationError
        More than a quarter of them did.
    """
    if n_draws < 2:
        raise SpecificationError(f"simulated inference needs at least 2 draws, got {n_draws}")
    rng = np.random.default_rng(seed)
    root = _covariance_root(np.asarray(cov, dtype=float))
    draws = mean + rng.standard_normal((n_draws, mean.size)) @ root.T
    if rho_index is None or rho_bounds is None:
        return draws
    lo, hi = rho_bounds
    valid = (draws[:, rho_index] > lo) & (draws[:, rho_index] < hi)
    share = 1.0 - valid.mean()
    if share > 0.25:
        raise EstimationError(
            f"{share:.0%} of the simulated draws of rho fall outside its "
            f"interval ({lo:.4g}, {hi:.4g}): the normal approximation is "
            "unusable; use the delta method or a Bayesian fit"
        )
    if share > 0.01:
        warn(
            f"{share:.1%} of the simulated draws of rho fall outside its interval "
            f"({lo:.4g}, {hi:.4g}) and were redrawn; the normal approximation is "
            "poor near the bound",
            NumericalWarning,
        )
    while not valid.all():
        fresh = mean + rng.standard_normal(((~valid).sum(), mean.size)) @ root.T
        draws[~valid] = fresh
        valid = (draws[:, rho_index] > lo) & (draws[:, rho_index] < hi)
    return draws


@dataclass(frozen=True, eq=False)
class EffectEstimates:
    """Direct, indirect and total effects at the estimates, with what their inference needs.

    The inference is available at any interval probability.

    Attributes
    ----------
    names
        Covariate names ``(K,)``.
    point
        ``(3, K)`` effects at the point estimates, rows in :data:`EFFECT_KINDS` order.
    std_error
        ``(3, K)`` standard errors (zero where an effect is fixed at zero).
    draws
        ``(3, D, K)`` simulated effects (``None`` for the delta method).
    method
        ``"simulation"`` or ``"delta"``.
    """

    names: tuple[str, ...]
    point: np.ndarray
    std_error: np.ndarray
    draws: np.ndarray | None
    method: EffectInference

    def interval(self, prob: float = INTERVAL_PROB) -> tuple[np.ndarray, np.ndarray]:
        """Return the lower and upper bounds ``(3, K)`` of the effects at ``prob``.

        The bounds are the central ``prob`` quantiles of the simulated effects, or
        ``estimate -/+ z_{(1+prob)/2} se`` (delta method).
        """
        if self.draws is not None:
            tail = (1.0 - prob) / 2.0
            lower, upper = np.quantile(self.draws, [tail, 1.0 - tail], axis=1)
            return lower, upper
        half = stats.norm.ppf(0.5 + prob / 2.0) * self.std_error
        return self.point - half, self.point + half

    def table(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Tabulate the effects with their inference at ``prob``.

        Columns are ``variable, effect, estimate, std_error, z, p_value, lower, upper``:
        ``z = estimate/std_error`` and the two-sided normal p-value (NaN where the
        effect is fixed at zero, as the indirect effect of a SEM).
        """
        se = self.std_error
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, self.point / se, np.nan)
        p_value = 2.0 * stats.norm.sf(np.abs(z))
        lower, upper = self.interval(prob)
        rows = []
        for j, name in enumerate(self.names):
            for e, kind in enumerate(EFFECT_KINDS):
                rows.append(
                    {
                        "variable": name,
                        "effect": kind,
                        "estimate": self.point[e, j],
                        "std_error": se[e, j],
                        "z": z[e, j],
                        "p_value": p_value[e, j],
                        "lower": lower[e, j],
                        "upper": upper[e, j],
                    }
                )
        return pd.DataFrame(rows)


def estimate_effects(
    rho: float,
    beta: np.ndarray,
    theta: np.ndarray | None,
    cov: np.ndarray,
    spec: Spectrum,
    names: list[str] | tuple[str, ...],
    *,
    method: EffectInference = "simulation",
    n_draws: int = DEFAULT_EFFECT_DRAWS,
    seed: int = DEFAULT_SEED,
    rho_bounds: tuple[float, float] | None = None,
) -> EffectEstimates:
    """Effects at the estimates with their standard errors (LeSage & Pace 2009).

    Parameters
    ----------
    rho, beta, theta
        Point estimates (``theta`` ``None`` for SAR/SEM; ``rho = 0`` for error models).
    cov
        Covariance ``(2K + 1, 2K + 1)`` of ``(beta, theta, rho)``; rows and columns of
        parameters that are fixed (``theta`` of SAR, ``rho`` of error models) are zero.
    spec
        :func:`spectrum` of ``W``.
    names
        Covariate names ``(K,)``.
    method
        ``"simulation"``: ``n_draws`` seeded draws from ``N(estimates, cov)`` (LeSage &
        Pace 2009); standard error = standard deviation of the simulated effects,
        intervals their central quantiles. ``"delta"``: standard error ``sqrt(g' cov
        g)`` with the analytic gradient ``g``; Wald intervals.
    rho_bounds
        Interval of ``rho``; simulated draws outside it are redrawn.
    """
    beta = np.asarray(beta, dtype=float)
    k = beta.size
    theta_vec = np.zeros(k) if theta is None else np.asarray(theta, dtype=float)
    cov = np.asarray(cov, dtype=float)
    if cov.shape != (2 * k + 1, 2 * k + 1):
        raise SpecificationError(
            f"covariance of (beta, theta, rho) must be {(2 * k + 1,) * 2}, got {cov.shape}"
        )
    point = np.stack(effects_from_draws(rho, beta, theta_vec, spec))  # (3, K)
    simulated = None
    if method == "simulation":
        mean = np.concatenate([beta, theta_vec, [rho]])
        draws = simulate_parameters(
            mean, cov, n_draws, seed, rho_index=2 * k, rho_bounds=rho_bounds
        )
        simulated = np.stack(
            effects_from_draws(draws[:, -1], draws[:, :k], draws[:, k : 2 * k], spec)
        )  # (3, D, K)
        se = simulated.std(axis=1, ddof=1)
    elif method == "delta":
        se = _delta_standard_errors(rho, beta, theta_vec, cov, spec)
    else:
        raise SpecificationError(
            f"unknown effect inference {method!r}; use one of {list(EFFECT_INFERENCES)}"
        )
    # A zero standard error belongs to an effect fixed at zero (SEM spillovers): no test.
    se = np.where(se > 1e-14 * np.maximum(np.abs(point), 1.0), se, 0.0)
    return EffectEstimates(tuple(names), point, se, simulated, method)


def _delta_standard_errors(
    rho: float, beta: np.ndarray, theta: np.ndarray, cov: np.ndarray, spec: Spectrum
) -> np.ndarray:
    """Delta-method standard errors ``(3, K)`` of (direct, indirect, total).

    ``direct_k = a beta_k + b theta_k`` has gradient ``(a, b, a' beta_k + b' theta_k)``
    in ``(beta_k, theta_k, rho)``, ``total_k`` likewise with ``(c, d)``; primes are
    derivatives in ``rho`` (:func:`effect_multipliers`).
    """
    k = beta.size
    m = effect_multipliers(rho, spec)
    dm = effect_multipliers(rho, spec, derivative=True)
    se = np.empty((3, k))
    for j in range(k):
        index = [j, k + j, 2 * k]
        sub = cov[np.ix_(index, index)]
        direct = np.array([m[0], m[1], dm[0] * beta[j] + dm[1] * theta[j]])
        total = np.array([m[2], m[3], dm[2] * beta[j] + dm[3] * theta[j]])
        for e, gradient in enumerate((direct, total - direct, total)):
            se[e, j] = np.sqrt(max(float(gradient @ sub @ gradient), 0.0))
    return se
