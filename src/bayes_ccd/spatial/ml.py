"""Maximum likelihood for fixed-effects spatial panels: SDM, SAR, SEM and SDEM.

The log-likelihood of the transformed model (:mod:`bayes_ccd.spatial.design`; Lee & Yu
2010, *J. Econometrics* 154; Elhorst 2014, *Spatial Econometrics*, ch. 3) is

    l(beta, rho, sigma2) = -n/2 log(2 pi sigma2) + log_jacobian(rho) - e'e / (2 sigma2)

with ``n = n_effective`` and ``e = y - rho W y - X beta`` (SAR, SDM; ``X`` holds
``W X`` for the SDM) or ``e = (I - lambda W)(y - X beta)`` (SEM, SDEM). For fixed
``rho`` the maximisers are least squares, ``beta(rho)`` and
``sigma2(rho) = e(rho)'e(rho)/n``, which leaves the concentrated log-likelihood

    l_c(rho) = -n/2 [log(2 pi) + 1 + log(e(rho)'e(rho)/n)] + log_jacobian(rho)

(Anselin 1988, *Spatial Econometrics*, ch. 12; Elhorst 2014). It is maximised over the whole valid
interval ``(1/lambda_min, 1)`` (``(1/lambda_min, 1/lambda_max)`` for a ``W`` that is not
row-stochastic; LeSage & Pace 2009, ch. 4): a grid locates the maximum, a bounded
Brent search refines it. The log-determinant is exact, from the eigenvalues of ``W``
(Ord 1975).

Standard errors come from the analytic expected information matrix (Lee & Yu 2010,
Elhorst 2014, ch. 3), with traces of ``G = W (I - rho W)^{-1}``
taken in the transformed space (``J G J`` for Lee-Yu time effects). The analytic
observed information (negative Hessian) is available; a numerical Hessian of the
full log-likelihood is used, with a :class:`NumericalWarning`, only when the
information matrix is nearly singular.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bayes_ccd.conventions import DEFAULT_SEED, INTERVAL_PROB
from bayes_ccd.data.panel import Panel
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import (
    EstimationError,
    NumericalWarning,
    SpecificationError,
    warn,
)
from bayes_ccd.spatial.arrays import PanelArrays
from bayes_ccd.spatial.design import ModelSpec, SpatialPanelDesign, Treatment, build_design
from bayes_ccd.spatial.effects import (
    DEFAULT_EFFECT_DRAWS,
    EffectEstimates,
    EffectInference,
    estimate_effects,
)
from bayes_ccd.spatial.operators import (
    is_sparse,
    multiplier_traces,
    solve_system,
    spatial_lag,
)

Information = Literal["expected", "observed"]


#: Estimates of rho closer than this to a bound of its interval are reported.
BOUND_TOLERANCE: Final = 1e-3
#: Points of the grid that brackets the maximum of the concentrated likelihood.
GRID_SIZE: Final = 200
#: The scaled information matrix counts as singular below this reciprocal condition.
_SINGULAR_RCOND = 1e-10


# --- likelihood ---------------------------------------------------------------------


class _LagProfile:
    """``e(rho) = e0 - rho e1``: the residuals of a lag model as a function of ``rho``.

    ``e0``, ``e1`` are the least-squares residuals of ``y`` and ``W y`` on ``X``
    (Anselin 1988, ch. 12), so ``e'e`` is a quadratic in ``rho``.
    """

    def __init__(self, design: SpatialPanelDesign) -> None:
        X = design.X.reshape(-1, design.n_coefficients)
        targets = np.column_stack([design.y.ravel(), design.wy.ravel()])
        self.coef, *_ = np.linalg.lstsq(X, targets, rcond=None)
        residuals = targets - X @ self.coef
        self.cross = residuals.T @ residuals

    def ssr(self, rho: np.ndarray) -> np.ndarray:
        s = self.cross
        return s[0, 0] - 2.0 * rho * s[0, 1] + rho * rho * s[1, 1]

    def ssr_derivative(self, rho: float) -> float:
        return float(2.0 * (rho * self.cross[1, 1] - self.cross[0, 1]))

    def beta(self, rho: float) -> np.ndarray:
        return self.coef[:, 0] - rho * self.coef[:, 1]


class _ErrorProfile:
    """``e(lam) = (y - lam W y) - (X - lam W X) b(lam)`` with ``b(lam)`` least squares.

    ``[X, W X] = Q R`` once; the part of ``y - lam W y`` orthogonal to ``Q`` contributes
    a quadratic in ``lam``, the rest is a ``2K x K`` least-squares problem per ``lam``,
    solved for many ``lam`` at once by a stacked QR decomposition.
    """

    def __init__(self, design: SpatialPanelDesign) -> None:
        k = design.n_coefficients
        X = design.X.reshape(-1, k)
        WX = design.WX.reshape(-1, k)
        basis, _ = np.linalg.qr(np.concatenate([X, WX], axis=1))
        targets = np.column_stack([design.y.ravel(), design.wy.ravel()])
        self.a = basis.T @ targets
        self.r_x, self.r_wx = basis.T @ X, basis.T @ WX
        outside = targets - basis @ self.a
        self.cross = outside.T @ outside

    def _reduced(self, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lam = np.atleast_1d(lam)
        design = self.r_x[None] - lam[:, None, None] * self.r_wx[None]
        target = self.a[None, :, 0] - lam[:, None] * self.a[None, :, 1]
        return design, target

    def ssr(self, lam: np.ndarray) -> np.ndarray:
        lam_arr = np.asarray(lam, dtype=float)
        design, target = self._reduced(lam_arr.reshape(-1))
        q, _ = np.linalg.qr(design)
        inside = target - np.einsum("mik,mk->mi", q, np.einsum("mik,mi->mk", q, target))
        s = self.cross
        flat = lam_arr.reshape(-1)
        out = (
            s[0, 0]
            - 2.0 * flat * s[0, 1]
            + flat * flat * s[1, 1]
            + np.einsum("mi,mi->m", inside, inside)
        )
        return out.reshape(lam_arr.shape)

    def ssr_derivative(self, lam: float) -> float:
        """Return ``d e'e / d lam = 2 e' de/dlam`` at the least-squares ``b(lam)``.

        The envelope theorem gives this form; it is evaluated in the reduced coordinates.
        """
        design, target = self._reduced(np.array([lam]))
        b = np.linalg.lstsq(design[0], target[0], rcond=None)[0]
        inside = target[0] - design[0] @ b
        s = self.cross
        return float(
            2.0 * (lam * s[1, 1] - s[0, 1]) + 2.0 * inside @ (self.r_wx @ b - self.a[:, 1])
        )

    def beta(self, lam: float) -> np.ndarray:
        design, target = self._reduced(np.array([lam]))
        return np.linalg.lstsq(design[0], target[0], rcond=None)[0]


def _profile(design: SpatialPanelDesign) -> _LagProfile | _ErrorProfile:
    return _LagProfile(design) if design.spec.is_lag else _ErrorProfile(design)


def _concentrated(
    design: SpatialPanelDesign, profile: _LagProfile | _ErrorProfile, rho: np.ndarray
) -> np.ndarray:
    n = design.n_effective
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma2 = profile.ssr(rho) / n
        value = -0.5 * n * (np.log(2.0 * np.pi) + 1.0 + np.log(sigma2))
    return np.where(sigma2 > 0, value + design.log_jacobian(rho), -np.inf)


def _concentrated_score(
    design: SpatialPanelDesign, profile: _LagProfile | _ErrorProfile, rho: float
) -> float:
    """``d l_c / d rho = -(n/2) (e'e)' / e'e + log_jacobian'(rho)``."""
    ssr = float(profile.ssr(np.asarray(rho)))
    first, _ = design.log_jacobian_derivatives(rho)
    return -0.5 * design.n_effective * profile.ssr_derivative(rho) / ssr + first


def concentrated_loglik(design: SpatialPanelDesign, rho: float | np.ndarray) -> np.ndarray:
    """Evaluate the log-likelihood concentrated on the spatial parameter, vectorised over ``rho``.

    ``l_c(rho) = -n/2 [log(2 pi) + 1 + log(e(rho)'e(rho)/n)] + log_jacobian(rho)`` with
    ``e(rho)`` the residuals at the least-squares ``beta(rho)`` (see the module
    docstring); ``rho`` is ``lambda`` for error models.
    """
    return _concentrated(design, _profile(design), np.asarray(rho, dtype=float))


def residuals(design: SpatialPanelDesign, beta: np.ndarray, spatial: float) -> np.ndarray:
    """Return the transformed-model residuals ``(T, N)``, on the demeaned arrays.

    They are ``y - rho W y - X beta`` (lag models) or ``(y - lam W y) - (X - lam W X) beta``
    (error models).
    """
    if design.spec.is_lag:
        return design.y - spatial * design.wy - design.X @ beta
    return (design.y - spatial * design.wy) - (design.X - spatial * design.WX) @ beta


def full_loglik(
    design: SpatialPanelDesign, beta: np.ndarray, spatial: float, sigma2: float
) -> float:
    """``-n/2 log(2 pi sigma2) + log_jacobian(rho) - e'e/(2 sigma2)`` at any parameters."""
    e = residuals(design, np.asarray(beta, dtype=float), spatial)
    n = design.n_effective
    return float(
        -0.5 * n * np.log(2.0 * np.pi * sigma2)
        + design.log_jacobian(spatial)
        - np.sum(e * e) / (2.0 * sigma2)
    )


# --- information ----------------------------------------------------------------------


def _multiplier_matrix(design: SpatialPanelDesign, spatial: float) -> np.ndarray:
    """Return ``G = W (I - rho W)^{-1}`` in the transformed space.

    See :meth:`~bayes_ccd.spatial.design.SpatialPanelDesign.transformed_operator`.
    """
    system = np.eye(design.n_units) - spatial * design.W
    return design.transformed_operator(np.linalg.solve(system.T, design.W.T).T)


def information_matrix(
    design: SpatialPanelDesign,
    beta: np.ndarray,
    spatial: float,
    sigma2: float,
    *,
    kind: Information = "expected",
) -> np.ndarray:
    """Information matrix of ``(beta, rho or lambda, sigma2)``, ``(K + 2, K + 2)``.

    ``kind="expected"`` (Lee & Yu 2010; Elhorst 2014, ch. 3), with
    ``c`` the Jacobian scale, ``n = n_effective``, ``G = W(I - rho W)^{-1}`` (``H`` the
    same with ``lambda``) in the transformed space:

    - lag models: ``[X'X, X'GXb, 0; ., (GXb)'(GXb) + c sigma2 tr(G G + G'G), c tr G;
      ., ., n/(2 sigma2)]`` divided by ``sigma2``;
    - error models: ``[X_l'X_l / sigma2, 0, 0; ., c tr(H H + H'H), c tr H / sigma2;
      ., ., n/(2 sigma2^2)]`` with ``X_l = X - lambda W X``.

    ``kind="observed"``: the negative analytic Hessian of :func:`full_loglik`.
    """
    beta = np.asarray(beta, dtype=float)
    if kind == "observed":
        return _observed_information(design, beta, spatial, sigma2)
    if kind != "expected":
        raise SpecificationError(f"unknown information {kind!r}; use 'expected' or 'observed'")
    k = beta.size
    X = design.X.reshape(-1, k)
    info = np.zeros((k + 2, k + 2))
    info[k + 1, k + 1] = design.n_effective / (2.0 * sigma2**2)
    c = design.jacobian_scale
    trace, traces, lag_of = _multiplier_terms(design, spatial)
    traces *= c
    if design.spec.is_lag:
        mean_wy = lag_of(design.X @ beta).ravel()
        info[:k, :k] = X.T @ X / sigma2
        info[:k, k] = info[k, :k] = X.T @ mean_wy / sigma2
        info[k, k] = mean_wy @ mean_wy / sigma2 + traces
    else:
        filtered = (design.X - spatial * design.WX).reshape(-1, k)
        info[:k, :k] = filtered.T @ filtered / sigma2
        info[k, k] = traces
    info[k, k + 1] = info[k + 1, k] = c * trace / sigma2
    return info


def _multiplier_terms(
    design: SpatialPanelDesign, spatial: float
) -> tuple[float, float, Callable[[np.ndarray], np.ndarray]]:
    """``tr(G)``, ``tr(G G) + tr(G'G)`` and ``v -> G v`` in the transformed space.

    Exact from the dense ``G`` for a dense ``W``; for a sparse ``W`` the traces are
    Hutchinson estimates (:func:`~bayes_ccd.spatial.operators.multiplier_traces`; their
    standard errors grow like ``sqrt(N / probes)`` while the information grows like ``N``)
    and ``G v`` a sparse solve.
    """
    if not is_sparse(design.W):
        G = _multiplier_matrix(design, spatial)
        return (
            float(np.trace(G)),
            float(np.sum(G * G.T) + np.sum(G * G)),
            (lambda values: spatial_lag(G, values)),
        )
    estimate = multiplier_traces(design.W, spatial, centred=design.unit_root_correction)

    def lag_of(values: np.ndarray) -> np.ndarray:
        return design.project_transformed(
            spatial_lag(design.W, solve_system(design.W, spatial, values))
        )

    return estimate.trace, estimate.square + estimate.gram, lag_of


def _observed_information(
    design: SpatialPanelDesign, beta: np.ndarray, spatial: float, sigma2: float
) -> np.ndarray:
    """Return the negative Hessian of :func:`full_loglik`.

    Derivatives are in the module docstring notation; ``d e/d rho = -W y`` for lag
    models, ``-(W y - W X b)`` for error models.
    """
    k = beta.size
    n = design.n_effective
    e = residuals(design, beta, spatial).ravel()
    wy = design.wy.ravel()
    X = design.X.reshape(-1, k)
    WX = design.WX.reshape(-1, k)
    _, second = design.log_jacobian_derivatives(spatial)
    info = np.zeros((k + 2, k + 2))
    if design.spec.is_lag:
        regressors, slope = X, wy
        cross_beta = X.T @ wy
    else:
        regressors = X - spatial * WX
        slope = wy - WX @ beta
        cross_beta = regressors.T @ slope + WX.T @ e
    info[:k, :k] = regressors.T @ regressors / sigma2
    info[:k, k] = info[k, :k] = cross_beta / sigma2
    info[:k, k + 1] = info[k + 1, :k] = regressors.T @ e / sigma2**2
    info[k, k] = -second + slope @ slope / sigma2
    info[k, k + 1] = info[k + 1, k] = slope @ e / sigma2**2
    info[k + 1, k + 1] = -n / (2.0 * sigma2**2) + e @ e / sigma2**3
    return info


def numerical_hessian(
    function: Callable[[np.ndarray], float], point: np.ndarray, *, relative_step: float = 1e-4
) -> np.ndarray:
    """Return the central-difference Hessian of a scalar function at ``point``.

    The step is ``h_i = relative_step max(|x_i|, 0.01)``; the error is ``O(h^2)``.
    """
    point = np.asarray(point, dtype=float)
    steps = relative_step * np.maximum(np.abs(point), 1e-2)
    size = point.size
    hessian = np.empty((size, size))
    for i in range(size):
        for j in range(i, size):
            shifted = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                x = point.copy()
                x[i] += si * steps[i]
                x[j] += sj * steps[j]
                shifted.append(function(x))
            value = (shifted[0] - shifted[1] - shifted[2] + shifted[3]) / (4 * steps[i] * steps[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


def _invert(info: np.ndarray) -> np.ndarray | None:
    """Invert a positive definite information matrix; ``None`` when it is (nearly) singular.

    Singularity is judged after scaling the matrix to unit diagonal.
    """
    diagonal = np.diag(info)
    if not np.all(np.isfinite(info)) or np.any(diagonal <= 0):
        return None
    scale = np.sqrt(diagonal)
    scaled = info / np.outer(scale, scale)
    values = np.linalg.eigvalsh((scaled + scaled.T) / 2.0)
    if values[0] <= _SINGULAR_RCOND * values[-1]:
        return None
    return np.linalg.inv(scaled) / np.outer(scale, scale)


# --- estimation -----------------------------------------------------------------------


def _maximise(
    objective: Callable[[np.ndarray], np.ndarray],
    score: Callable[[float], float],
    bounds: tuple[float, float],
    grid_size: int,
) -> float:
    """Maximise a scalar function on the open interval ``bounds``.

    A grid, then a bounded Brent search between the neighbours of the best grid point,
    then a root of the analytic ``score`` next to it (function values resolve the
    maximum only to about ``sqrt(machine epsilon)``; the score resolves it to rounding).
    """
    lo, hi = bounds
    width = hi - lo
    grid = lo + width * np.linspace(0.0, 1.0, grid_size + 2)[1:-1]
    values = objective(grid)
    if not np.isfinite(values).any():
        raise EstimationError(
            "the concentrated log-likelihood is not finite anywhere on the interval of the "
            f"spatial parameter ({lo:.4g}, {hi:.4g}); is y an exact linear function of X?"
        )
    best = int(np.argmax(np.where(np.isfinite(values), values, -np.inf)))
    margin = 1e-10 * width
    left = grid[best - 1] if best > 0 else lo + margin
    right = grid[best + 1] if best < grid_size - 1 else hi - margin
    result = optimize.minimize_scalar(
        lambda r: -float(objective(np.array(r))),
        bounds=(left, right),
        method="bounded",
        options={"xatol": 1e-10, "maxiter": 500},
    )
    if not result.success or not np.isfinite(result.fun):
        raise EstimationError(
            f"the optimiser of the concentrated log-likelihood failed: {result.message}"
        )
    found = float(result.x) if -result.fun >= values[best] else float(grid[best])
    return _polish(score, found, (lo + margin, hi - margin))


def _polish(score: Callable[[float], float], x: float, bounds: tuple[float, float]) -> float:
    """Return the root of ``score`` in a small bracket around ``x``.

    ``x`` itself is returned when the score does not change sign there (a maximum at a
    bound).
    """
    for half_width in (1e-7, 1e-5):
        left, right = max(x - half_width, bounds[0]), min(x + half_width, bounds[1])
        f_left, f_right = score(left), score(right)
        if np.isfinite(f_left) and np.isfinite(f_right) and f_left > 0 > f_right:
            return float(
                optimize.brentq(score, left, right, xtol=1e-15, rtol=4 * np.finfo(float).eps)
            )
    return x


@dataclass(frozen=True, eq=False)
class MLResult:
    """A fitted spatial panel (maximum likelihood).

    Attributes
    ----------
    design
        The transformed design (data, weights, spec).
    beta
        Coefficients ``(K,)`` of the design columns (``design.names``).
    spatial
        ``rho`` (SAR, SDM) or ``lambda`` (SEM, SDEM).
    sigma2
        Error variance, ``e'e / n_effective``.
    vcov
        Covariance ``(K + 2, K + 2)`` of ``(beta, spatial, sigma2)``.
    loglik
        Maximised log-likelihood (of the transformed model).
    information
        Source of ``vcov``: ``"expected"``, ``"observed"`` or ``"numerical Hessian"``.
    warnings
        Messages of every warning raised while fitting (also in ``fit.json``).
    """

    design: SpatialPanelDesign
    beta: np.ndarray
    spatial: float
    sigma2: float
    vcov: np.ndarray
    loglik: float
    information: str
    warnings: tuple[str, ...] = ()

    @property
    def spec(self) -> ModelSpec:
        """The model specification of the design."""
        return self.design.spec

    @property
    def terms(self) -> tuple[str, ...]:
        """Names of :attr:`params`: design columns, ``rho``/``lambda``, ``sigma2``."""
        return (*self.design.names, self.spec.spatial_parameter, "sigma2")

    @property
    def params(self) -> np.ndarray:
        """Estimates ``(K + 2,)`` of ``(beta, spatial, sigma2)``, in the order of :attr:`terms`."""
        return np.concatenate([self.beta, [self.spatial, self.sigma2]])

    @property
    def std_errors(self) -> np.ndarray:
        """Standard errors ``(K + 2,)`` of :attr:`params`: square roots of ``diag(vcov)``."""
        return np.sqrt(np.diag(self.vcov))

    @property
    def n_params(self) -> int:
        """Estimated parameters of the likelihood (fixed effects excluded)."""
        return self.beta.size + 2

    @property
    def aic(self) -> float:
        """``-2 l + 2 p``."""
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        """``-2 l + p log(n_effective)``."""
        return -2.0 * self.loglik + self.n_params * np.log(self.design.n_effective)

    @property
    def residuals(self) -> np.ndarray:
        """Transformed-model residuals ``(T, N)`` (demeaned layout)."""
        return residuals(self.design, self.beta, self.spatial)

    def fitted_reduced_form(self) -> np.ndarray:
        """Predict the demeaned ``y`` from the reduced form, ``(T, N)``.

        The prediction is ``(I - rho W)^{-1} X b`` for lag models, ``X b`` for error models.
        """
        mean = self.design.X @ self.beta
        if not self.spec.is_lag:
            return mean
        return self.design.project(solve_system(self.design.W, self.spatial, mean))

    @property
    def r_squared(self) -> dict[str, float]:
        """Goodness of fit (Elhorst 2014, ch. 3).

        ``r2``: ``1 - e'e / SST`` on the demeaned ``y``; ``corr2``: squared correlation
        of the demeaned ``y`` with the reduced-form prediction (ignores the spatial
        noise filter; Verbeek 2000); ``r2_overall``: ``1 - e'e / SST`` of the raw
        ``y``, the fixed effects counted as explained.
        """
        e = self.residuals
        ssr = float(np.sum(e * e))
        y = self.design.y
        raw = self.design.data.y
        prediction = self.fitted_reduced_form()
        return {
            "r2": 1.0 - ssr / float(np.sum((y - y.mean()) ** 2)),
            "corr2": float(np.corrcoef(y.ravel(), prediction.ravel())[0, 1] ** 2),
            "r2_overall": 1.0 - ssr / float(np.sum((raw - raw.mean()) ** 2)),
        }

    def coefficients(self, *, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Tabulate the estimates with standard errors, z, p-values and Wald intervals.

        Columns are ``term, estimate, std_error, z, p_value, lower, upper``, with Wald
        intervals ``estimate -/+ z_{(1+prob)/2} se``.
        """
        estimate, se = self.params, self.std_errors
        z = estimate / se
        half = stats.norm.ppf(0.5 + prob / 2.0) * se
        return pd.DataFrame(
            {
                "term": self.terms,
                "estimate": estimate,
                "std_error": se,
                "z": z,
                "p_value": 2.0 * stats.norm.sf(np.abs(z)),
                "lower": estimate - half,
                "upper": estimate + half,
            }
        )

    def effect_parameters(self) -> tuple[float, np.ndarray, np.ndarray | None, np.ndarray]:
        """Return ``(rho, beta, theta, cov)`` for the effects' inference.

        These are the arguments of :func:`bayes_ccd.spatial.effects.estimate_effects`:
        ``cov`` over ``(beta, theta, rho)``, zero where a parameter is fixed (``theta``
        of SAR/SEM, ``rho = 0`` of error models).
        """
        k = len(self.design.data.x_names)
        offset = int(self.spec.fe == "none")
        index_beta = list(range(offset, offset + k))
        index_theta = list(range(offset + k, offset + 2 * k)) if self.spec.is_durbin else []
        cov = np.zeros((2 * k + 1, 2 * k + 1))
        chosen = index_beta + index_theta + ([self.beta.size] if self.spec.is_lag else [])
        positions = (
            list(range(k))
            + list(range(k, k + len(index_theta)))
            + ([2 * k] if self.spec.is_lag else [])
        )
        cov[np.ix_(positions, positions)] = self.vcov[np.ix_(chosen, chosen)]
        theta = self.beta[index_theta] if index_theta else None
        rho = self.spatial if self.spec.is_lag else 0.0
        return rho, self.beta[index_beta], theta, cov

    def effect_estimates(
        self,
        *,
        method: EffectInference = "simulation",
        n_draws: int = DEFAULT_EFFECT_DRAWS,
        seed: int = DEFAULT_SEED,
    ) -> EffectEstimates:
        """Estimate the LeSage-Pace direct, indirect and total effects with their inference.

        See :func:`bayes_ccd.spatial.effects.estimate_effects`.
        """
        rho, beta, theta, cov = self.effect_parameters()
        bounds = self.design.rho_bounds if self.spec.is_lag else None
        return estimate_effects(
            rho,
            beta,
            theta,
            cov,
            self.design.spectrum,
            self.design.data.x_names,
            method=method,
            n_draws=n_draws,
            seed=seed,
            rho_bounds=bounds,
        )

    def structural_residuals(self) -> np.ndarray:
        """Return the structural residuals on the *untransformed* data, ``(T, N)``.

        They are ``y - rho W y - X b`` (lag) or ``y - X b`` (error): fixed effects plus
        noise.
        """
        data = self.design.data
        raw = data.y - self.design.raw_X @ self.beta
        if self.spec.is_lag:
            raw = raw - self.spatial * spatial_lag(self.design.W, data.y)
        return raw

    def fixed_effects(self) -> pd.DataFrame:
        """Estimated fixed effects (Elhorst 2014, ch. 3).

        With ``r`` = :meth:`structural_residuals`: two-way ``intercept = mean(r)``,
        ``mu_i = mean_t r_ti - intercept``, ``alpha_t = mean_i r_ti - intercept``;
        individual ``mu_i = mean_t r_ti``; time ``alpha_t = mean_i r_ti``. For error
        models ``r = y - X b`` keeps the spatially correlated error, whose mean is zero.

        Returns
        -------
        pandas.DataFrame
            Columns ``effect`` (``intercept``, ``unit``, ``period``), ``label``,
            ``estimate``; empty without fixed effects (the intercept is a coefficient).
        """
        r = self.structural_residuals()
        data = self.design.data
        rows: list[dict[str, Any]] = []
        intercept = float(r.mean()) if self.spec.fe == "both" else 0.0
        if self.spec.fe == "both":
            rows.append({"effect": "intercept", "label": "", "estimate": intercept})
        if self.spec.individual_effects:
            rows += [
                {"effect": "unit", "label": u, "estimate": v - intercept}
                for u, v in zip(data.units, r.mean(axis=0), strict=True)
            ]
        if self.spec.time_effects:
            rows += [
                {"effect": "period", "label": str(p), "estimate": v - intercept}
                for p, v in zip(data.periods, r.mean(axis=1), strict=True)
            ]
        return pd.DataFrame(rows, columns=["effect", "label", "estimate"])

    def facts(self) -> dict[str, Any]:
        """Return the facts of the fit for ``fit.json``.

        These are the design's :meth:`~bayes_ccd.spatial.design.SpatialPanelDesign.facts`
        and the estimates.
        """
        r2 = self.r_squared
        return self.design.facts() | {
            "estimator": "mle",
            "loglik": self.loglik,
            "sigma2": self.sigma2,
            self.spec.spatial_parameter: self.spatial,
            "aic": self.aic,
            "bic": self.bic,
            "r2": r2["r2"],
            "r2_corr": r2["corr2"],
            "r2_overall": r2["r2_overall"],
            "information": self.information,
            "warnings": list(self.warnings),
        }


def estimate(
    design: SpatialPanelDesign, *, information: Information = "expected", grid_size: int = GRID_SIZE
) -> MLResult:
    """Maximum-likelihood estimates for a built design (see the module docstring).

    Warns
    -----
    NumericalWarning
        The spatial parameter is within 1e-3 of a bound of its interval; or the
        information matrix is nearly singular (a numerical Hessian is used instead).

    Raises
    ------
    EstimationError
        The optimiser failed, the likelihood is not finite, the fit is exact (zero
        residual variance), or no usable covariance matrix exists.
    """
    notes: list[str] = []
    profile = _profile(design)
    spatial = _maximise(
        lambda r: _concentrated(design, profile, r),
        lambda r: _concentrated_score(design, profile, r),
        design.rho_bounds,
        grid_size,
    )
    name = design.spec.spatial_parameter
    lo, hi = design.rho_bounds
    if min(spatial - lo, hi - spatial) < BOUND_TOLERANCE:
        notes.append(
            f"{name} = {spatial:.6g} is within {BOUND_TOLERANCE:g} of a bound of its "
            f"interval ({lo:.6g}, {hi:.6g}); the estimate and its standard error are "
            "unreliable"
        )
        warn(notes[-1], NumericalWarning)
    beta = profile.beta(spatial)
    e = residuals(design, beta, spatial)
    sigma2 = float(np.sum(e * e)) / design.n_effective
    if sigma2 <= 1e-12 * float(np.mean(design.y * design.y)):
        raise EstimationError(
            f"'{design.data.y_name}' is an exact linear function of the regressors (and the "
            "fixed effects): the residual variance is zero and the likelihood is unbounded"
        )
    loglik = full_loglik(design, beta, spatial, sigma2)
    if not np.isfinite(loglik):
        raise EstimationError(f"the log-likelihood at the estimate is not finite ({loglik})")
    params = np.concatenate([beta, [spatial, sigma2]])
    vcov = _invert(information_matrix(design, beta, spatial, sigma2, kind=information))
    source = information
    if vcov is None:
        notes.append(
            f"the {information} information matrix is nearly singular; standard "
            "errors come from a numerical Hessian of the log-likelihood"
        )
        warn(notes[-1], NumericalWarning)
        k = beta.size
        hessian = numerical_hessian(lambda p: full_loglik(design, p[:k], p[k], p[k + 1]), params)
        vcov = _invert(-hessian)
        source = "numerical Hessian"
        if vcov is None:
            raise EstimationError(
                "neither the information matrix nor the numerical Hessian "
                "is invertible; the parameters are not identified (check "
                "for collinear covariates)"
            )
    return MLResult(design, beta, spatial, sigma2, vcov, loglik, source, tuple(notes))


class SpatialPanelML:
    """Maximum-likelihood estimator of a fixed-effects spatial panel.

    The constructor only stores configuration; :meth:`design` builds the transformed
    design and :meth:`fit` estimates.

    Parameters
    ----------
    spec
        Model, fixed effects, transformation and variables.
    information
        ``"expected"`` (default, as in Lee & Yu 2010 and Elhorst 2014) or
        ``"observed"`` information for the standard errors.
    treatments
        Override of how (individual, time) effects are removed (see
        :func:`~bayes_ccd.spatial.design.build_design`).
    grid_size
        Points of the grid over the interval of the spatial parameter.
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        information: Information = "expected",
        treatments: tuple[Treatment, Treatment] | None = None,
        grid_size: int = GRID_SIZE,
    ) -> None:
        self.spec = spec
        self.information = information
        self.treatments = treatments
        self.grid_size = grid_size

    def design(self, data: Panel | PanelArrays, weights: SpatialWeights) -> SpatialPanelDesign:
        """Build the transformed design of :attr:`spec` on ``data``."""
        return build_design(data, weights, self.spec, treatments=self.treatments)

    def fit(self, data: Panel | PanelArrays, weights: SpatialWeights) -> MLResult:
        """Estimate on ``data`` with ``weights``."""
        return estimate(
            self.design(data, weights), information=self.information, grid_size=self.grid_size
        )


def fit_ml(
    data: Panel | PanelArrays, weights: SpatialWeights, spec: ModelSpec, **options: Any
) -> MLResult:
    """Fit ``spec`` by maximum likelihood: ``SpatialPanelML(spec, **options).fit(...)``."""
    return SpatialPanelML(spec, **options).fit(data, weights)
