"""The exact sampler: independent posterior draws under conjugate priors.

Under conjugate priors the coefficients and the variance integrate out, the marginal
posterior of the spatial parameter is gridded, and independent draws follow (BDA3 ch. 3
and 14; LeSage & Pace 2009, ch. 5).
"""

from __future__ import annotations

import math
from typing import Any, Final, NamedTuple

import numpy as np

from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.settings import GRID_SIZE
from bayes_ccd.spatial.bayes.priors import PriorParameters
from bayes_ccd.spatial.design import SpatialPanelDesign

#: Points of the coarse grid that locates where the marginal has mass.
_COARSE_GRID: Final = 1025
#: Grid points whose log density is this far below the maximum carry no mass
#: (``exp(-40) ~ 4e-18`` of the peak density).
_LOG_DENSITY_FLOOR: Final = 40.0


# --- the likelihood through sufficient statistics --------------------------------------


def cross_products(design: SpatialPanelDesign) -> np.ndarray:
    """Return the sufficient statistics ``Z'Z`` of the likelihood, ``(2K+2, 2K+2)``.

    ``Z = [y, W y, X, W X]`` over the transformed observations.
    """
    o = design.orthonormal()
    Z = np.column_stack([o.y, o.wy, o.X, o.WX])
    return Z.T @ Z


def log_likelihood(
    design: SpatialPanelDesign,
    gram: np.ndarray,
    rho: np.ndarray,
    beta: np.ndarray,
    log_sigma: np.ndarray,
) -> np.ndarray:
    """Evaluate the transformed log-likelihood from :func:`cross_products`, vectorised.

    The value is ``log_jacobian(rho) - n log sigma - a'Z'Z a/(2 sigma2) - n/2 log(2 pi)``.
    """
    rho = np.asarray(rho, dtype=float)
    beta = np.asarray(beta, dtype=float)
    ones = np.ones((*rho.shape, 1))
    lagged = (0.0 if design.spec.is_lag else 1.0) * rho[..., None] * beta
    a = np.concatenate([ones, -rho[..., None], -beta, lagged], axis=-1)
    ssr = np.einsum("...i,ij,...j->...", a, gram, a)
    n = design.n_effective
    return (
        design.log_jacobian(rho)
        - n * np.asarray(log_sigma)
        - 0.5 * ssr * np.exp(-2.0 * np.asarray(log_sigma))
        - 0.5 * n * math.log(2.0 * math.pi)
    )


# --- the exact sampler -------------------------------------------------------------------


class Conditionals(NamedTuple):
    """Conditional posterior of ``(beta, sigma2)`` given ``rho`` (conjugate priors).

    ``sigma2 ~ Inv-Gamma(shape, rate)``, ``beta | sigma2 ~ N(mean, sigma2 precision^-1)``.
    ``precision`` is ``(K, K)`` for lag models (it does not depend on ``rho``) and
    ``(..., K, K)`` for error models.
    """

    mean: np.ndarray
    precision: np.ndarray
    shape: float
    rate: np.ndarray


class ExactPosterior:
    """The conjugate decomposition of the posterior (see the module docstring).

    The posterior factorises as ``p(rho | y) p(sigma2 | rho, y) p(beta | sigma2, rho, y)``.

    Parameters
    ----------
    design
        The transformed design.
    params
        :func:`prior_parameters` of a conjugate prior.

    Raises
    ------
    SpecificationError
        The prior is not conjugate (independent normal coefficients or a half-normal
        sigma prior need ``sampler="nuts"``), or there are too few observations.
    """

    def __init__(self, design: SpatialPanelDesign, params: PriorParameters) -> None:
        if params.independent_precision.any() or params.sigma_quadratic > 0:
            raise SpecificationError(
                "the exact sampler needs a conjugate prior (flat or 'normal' coefficients, "
                "a 'jeffreys' or 'inverse_gamma' variance prior); use sampler='nuts'"
            )
        self.design = design
        self.params = params
        self.bounds = design.rho_bounds
        k = design.n_coefficients
        self.shape = params.sigma_shape + 0.5 * (design.n_effective - k + params.n_conditional)
        if self.shape <= 0:
            raise SpecificationError(
                f"{design.n_effective} observations are too few for {k} coefficients"
            )
        g = cross_products(design)
        x, wx = slice(2, 2 + k), slice(2 + k, 2 + 2 * k)
        self._error = 0.0 if design.spec.is_lag else 1.0
        self._yy = (g[0, 0], g[0, 1], g[1, 1])
        # X_rho'X_rho = A0 - rho A1 + rho^2 A2 and X_rho'y_rho = r0 - rho r1 + rho^2 r2
        # with X_rho = X - e rho WX, y_rho = y - rho Wy (e = 1 for error models, else 0).
        e = self._error
        self._xx = (g[x, x], e * (g[x, wx] + g[wx, x]), e * g[wx, wx])
        self._xy = (g[x, 0], g[x, 1] + e * g[wx, 0], e * g[wx, 1])
        mean, precision = params.mean, params.conditional_precision
        self._prior_xy = precision * mean
        self._prior_ss = float(np.sum(precision * mean * mean))

    def _quadratic(self, parts: tuple[Any, Any, Any], rho: np.ndarray) -> np.ndarray:
        r = rho.reshape(rho.shape + (1,) * np.ndim(parts[0]))
        return parts[0] - r * parts[1] + r * r * parts[2]

    def precision(self, rho: np.ndarray) -> np.ndarray:
        """``H(rho) = X_rho'X_rho + P``: ``(K, K)`` for lag models, ``(..., K, K)`` else."""
        rho = np.asarray(rho, dtype=float)
        prior = np.diag(self.params.conditional_precision)
        if not self._error:
            return self._xx[0] + prior
        return self._quadratic(self._xx, rho) + prior

    def conditionals(self, rho: float | np.ndarray) -> Conditionals:
        """:class:`Conditionals` at ``rho`` (any shape)."""
        rho = np.asarray(rho, dtype=float)
        H = self.precision(rho)
        target = self._quadratic(self._xy, rho) + self._prior_xy
        if H.ndim == 2:
            mean = np.linalg.solve(H, target.reshape(-1, H.shape[0]).T).T.reshape(target.shape)
        else:
            mean = np.linalg.solve(H, target[..., None])[..., 0]
        yy = self._yy
        ss = yy[0] - 2.0 * rho * yy[1] + rho * rho * yy[2] + self._prior_ss
        ss = ss - np.sum(mean * target, axis=-1)
        return Conditionals(mean, H, self.shape, self.params.sigma_rate + 0.5 * ss)

    def log_marginal(self, rho: float | np.ndarray) -> np.ndarray:
        """Evaluate the unnormalised ``log p(rho | y)``, vectorised over ``rho``.

        The value is ``-inf`` where the residual sum of squares vanishes.
        """
        rho = np.asarray(rho, dtype=float)
        cond = self.conditionals(rho)
        _, logdet = np.linalg.slogdet(cond.precision)
        lo, hi = self.bounds
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (
                (self.params.spatial_a - 1.0) * np.log(rho - lo)
                + (self.params.spatial_b - 1.0) * np.log(hi - rho)
                + self.design.log_jacobian(rho)
                - 0.5 * logdet
                - cond.shape * np.log(cond.rate)
            )
        return np.where(cond.rate > 0, value, -np.inf)

    def log_conditional_density(
        self, rho: np.ndarray, beta: np.ndarray, log_sigma: np.ndarray
    ) -> np.ndarray:
        """Evaluate ``log p(sigma2 | rho, y) + log p(beta | sigma2, rho, y)``, normalised.

        It is expressed as a density of ``log sigma`` (Jacobian ``2 sigma2``).
        """
        from scipy import special

        cond = self.conditionals(rho)
        sigma2 = np.exp(2.0 * np.asarray(log_sigma))
        k = cond.mean.shape[-1]
        log_ig = (
            cond.shape * np.log(cond.rate)
            - special.gammaln(cond.shape)
            - (cond.shape + 1.0) * np.log(sigma2)
            - cond.rate / sigma2
        )
        dev = np.asarray(beta) - cond.mean
        H = np.broadcast_to(cond.precision, (*dev.shape, k))
        _, logdet = np.linalg.slogdet(H)
        quad = np.einsum("...i,...ij,...j->...", dev, H, dev)
        log_normal = 0.5 * (logdet - k * np.log(2.0 * np.pi * sigma2) - quad / sigma2)
        return log_ig + np.log(2.0 * sigma2) + log_normal

    def grid(self, size: int = GRID_SIZE) -> tuple[np.ndarray, np.ndarray]:
        """Grid the region where ``p(rho | y)`` has mass; return the grid and the density on it.

        The density is normalised by the trapezoid rule.
        """
        grid, log_density = self.log_density_grid(size)
        density = np.exp(log_density - np.max(log_density))
        density /= np.trapezoid(density, grid)
        return grid, density

    def log_density_grid(self, size: int = GRID_SIZE) -> tuple[np.ndarray, np.ndarray]:
        """Return a grid over the mass of ``p(rho | y)`` and :meth:`log_marginal` on it.

        A coarse grid over the whole interval locates the region where the log density
        is within :data:`_LOG_DENSITY_FLOOR` of its maximum (widened by one coarse cell);
        the fine grid of ``size`` points covers it, and is refined once more when the
        mass sits in a small part of it.
        """
        lo, hi = self.bounds
        margin = 1e-9 * (hi - lo)
        left, right = lo + margin, hi - margin
        points = _COARSE_GRID
        for _ in range(3):
            grid = np.linspace(left, right, points)
            log_density = self.log_marginal(grid)
            if not np.isfinite(log_density).any():
                raise SpecificationError(
                    "the marginal posterior of the spatial parameter is not finite anywhere "
                    "on its interval; is y an exact linear function of X?"
                )
            keep = np.flatnonzero(log_density > np.max(log_density) - _LOG_DENSITY_FLOOR)
            first, last = max(keep[0] - 1, 0), min(keep[-1] + 1, points - 1)
            if points == size and last - first >= size // 4:
                break
            left, right, points = grid[first], grid[last], size
        return grid, log_density

    def sample(
        self,
        draws: int,
        chains: int,
        seed: int,
        grid: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Independent draws ``{"rho" (C, D), "beta" (C, D, K), "sigma2" (C, D)}``.

        ``rho`` by inversion of the piecewise-linear interpolation of the gridded marginal
        (``grid``: the result of :meth:`grid`, computed when ``None``), ``sigma2`` and
        ``beta`` from their conditionals. The same ``seed`` gives the same draws.
        """
        rng = np.random.default_rng(seed)
        points, density = self.grid() if grid is None else grid
        rho = sample_piecewise_linear(points, density, rng.random((2, chains, draws)))
        return {"rho": rho, **self.sample_conditionals(rho, rng)}

    def sample_conditionals(
        self, rho: np.ndarray, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Draw ``{"beta" (..., K), "sigma2" (...)}`` from their conditionals given ``rho``.

        ``rho`` may be a fixed value repeated (e.g. zeros: the SLX model).
        """
        cond = self.conditionals(rho)
        sigma2 = cond.rate / rng.gamma(cond.shape, size=rho.shape)
        z = rng.standard_normal((*rho.shape, cond.mean.shape[-1]))
        root = np.linalg.cholesky(cond.precision)
        # beta = mean + sigma L'^{-1} z has covariance sigma2 (L L')^{-1} = sigma2 H^{-1}.
        noise = np.linalg.solve(np.swapaxes(root, -1, -2), z[..., None])[..., 0]
        beta = cond.mean + np.sqrt(sigma2)[..., None] * noise
        return {"beta": beta, "sigma2": sigma2}


def sample_piecewise_linear(grid: np.ndarray, density: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws from the density interpolated linearly between grid points.

    ``u`` is ``(2, ...)`` uniforms: the first picks a cell with probability equal to its
    trapezoid mass, the second inverts the CDF of the linear density inside it,
    ``t = u (p0 + p1) / (p0 + sqrt(p0^2 + u (p1^2 - p0^2)))`` (a root of
    ``(p1 - p0) t^2/2 + p0 t = u (p0 + p1)/2`` that is stable when ``p1 ~ p0``).
    """
    width = np.diff(grid)
    mass = 0.5 * width * (density[:-1] + density[1:])
    cumulative = np.cumsum(mass)
    cell = np.searchsorted(cumulative, u[0] * cumulative[-1], side="right")
    cell = np.minimum(cell, mass.size - 1)
    p0, p1 = density[cell], density[cell + 1]
    v = u[1]
    root = np.sqrt(np.maximum(p0 * p0 + v * (p1 * p1 - p0 * p0), 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(p0 + root > 0, v * (p0 + p1) / (p0 + root), v)
    return grid[cell] + t * width[cell]
