"""The posterior log density of the normal spatial models and its gradient, written out.

NUTS needs ``log p`` and its gradient at a point of the unconstrained space. For the
normal-error models the posterior depends on the data only through the cross-products
``G = Z'Z`` of ``Z = [y, W y, X, W X]`` (:func:`~bayes_ccd.spatial.bayes.exact.cross_products`)
and on ``W`` only through the log-determinant, so both are a few lines of NumPy in the
``K + 2`` parameters: no model to compile, and nothing of size ``N`` but the
log-determinant, which comes from the design's
:class:`~bayes_ccd.spatial.logdet.LogDeterminant` (eigenvalues, sparse LU or Chebyshev,
whichever the design uses). The density is the one of
:func:`~bayes_ccd.spatial.bayes.nuts.build_pymc_model` (the tests compare the two and
PyTensor's gradient with this one), on the same standardised scale
(:func:`scaled_data`).

With ``rho = lo + (hi - lo) s(z)``, ``s`` the logistic function, the unconstrained point
is ``x = (z, beta*, log sigma*)`` and

    log p(x) = -n log sigma - a'G a / (2 sigma^2)                 (likelihood)
               + c log|I - rho W|                                 (Jacobian of y -> e)
               - sum_j [c_j/sigma^2 + d_j] (beta_j - m_j)^2 / 2 - q log sigma
               + p log sigma - r/sigma^2 - u sigma^2                (priors, PriorParameters)
               + (A - 1) log(rho - lo) + (B - 1) log(hi - rho) - log(hi - lo)
               + log(rho - lo) + log(hi - rho) - log(hi - lo)      (Jacobian of z -> rho)

with ``a = (1, -rho, -beta, e rho beta)``, ``e = 1`` for the error models and 0 for the
lag models, ``n`` the effective number of observations and ``c`` the Jacobian scale of
the design. The gradient follows by the chain rule:
``d(a'Ga)/d rho = 2 (Ga)'(0, -1, 0, e beta)``,
``d(a'Ga)/d beta = 2 [-(Ga)_X + e rho (Ga)_WX]`` and ``d rho/dz = (rho - lo)(hi - rho)/(hi - lo)``.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np

from bayes_ccd.spatial.bayes.exact import cross_products
from bayes_ccd.spatial.bayes.priors import PriorParameters
from bayes_ccd.spatial.design import SpatialPanelDesign

#: Beyond ``|z|`` of 36, ``s(z)`` rounds to 0 or 1 in double precision, ``rho`` to a bound.
_Z_MAX: Final = 36.0


def scaled_data(design: SpatialPanelDesign, params: PriorParameters) -> dict[str, Any]:
    """Return the data of the posterior density on the standardised scale, W aside.

    ``y`` and ``W y`` are divided by ``s_y``, columns ``j`` of ``X`` and ``W X`` by
    ``s_j``; then ``beta*_j = beta_j s_j/s_y``, ``sigma* = sigma/s_y`` and the prior
    parameters transform accordingly (``m* = m s/s_y``, ``c* = c/s^2``, ``d* = d
    s_y^2/s^2``, ``r* = r/s_y^2``, ``q* = q s_y^2``). ``W`` enters through the
    log-determinant only (its eigenvalues, for the PyMC model:
    :func:`~bayes_ccd.spatial.bayes.nuts.model_data`).
    """
    s, s_y = params.column_scale, params.y_scale
    scale = 1.0 / np.concatenate([[s_y, s_y], s, s])
    gram = cross_products(design) * np.outer(scale, scale)
    lo, hi = design.rho_bounds
    return {
        "gram": gram,
        "n_effective": float(design.n_effective),
        "lower": float(lo),
        "upper": float(hi),
        "jacobian_scale": float(design.jacobian_scale),
        "error_model": 0.0 if design.spec.is_lag else 1.0,
        "prior_mean": params.mean * s / s_y,
        "prior_conditional_precision": params.conditional_precision / s**2,
        "prior_independent_precision": params.independent_precision * s_y**2 / s**2,
        "prior_n_conditional": float(params.n_conditional),
        "prior_sigma_power": params.sigma_power,
        "prior_sigma_rate": params.sigma_rate / s_y**2,
        "prior_sigma_quadratic": params.sigma_quadratic * s_y**2,
        "prior_spatial_a": params.spatial_a,
        "prior_spatial_b": params.spatial_b,
    }


def jittered_start(seed: int, ndim: int) -> np.ndarray:
    """Return a chain's starting point, uniform on ``(-1, 1)`` in every coordinate.

    As PyMC jitters its initial point (``rho`` mid-interval, ``beta* = 0``, ``sigma* = 1``)
    in the unconstrained space.
    """
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=ndim)


class PosteriorDensity:
    """``log p`` and its gradient at an unconstrained point ``(z, beta*, log sigma*)``.

    Parameters
    ----------
    design
        The transformed design; its log-determinant serves every evaluation.
    params
        The prior, on the data scale; the density is on the scale of
        :func:`scaled_data`.
    """

    def __init__(self, design: SpatialPanelDesign, params: PriorParameters) -> None:
        values = scaled_data(design, params)
        self.k = design.n_coefficients
        self.names = tuple(design.names)
        self.gram = values["gram"]
        self.n = values["n_effective"]
        self.lower, self.upper = values["lower"], values["upper"]
        self.error_model = values["error_model"]
        self.mean = values["prior_mean"]
        self.conditional = values["prior_conditional_precision"]
        self.independent = values["prior_independent_precision"]
        self.sigma_exponent = values["prior_sigma_power"] - values["prior_n_conditional"] - self.n
        self.sigma_rate = values["prior_sigma_rate"]
        self.sigma_quadratic = values["prior_sigma_quadratic"]
        self.spatial_a = values["prior_spatial_a"]
        self.spatial_b = values["prior_spatial_b"]
        self.jacobian_scale = float(design.jacobian_scale)
        self.logdet = design.logdet
        self.ndim = self.k + 2
        self._a = np.zeros(2 * self.k + 2)  # (1, -rho, -beta, e rho beta), filled per call
        self._a[0] = 1.0
        self._log_width2 = 2.0 * math.log(self.upper - self.lower)
        self._precisions = np.vstack([self.conditional, self.independent])

    def spatial(self, z: float) -> float:
        """Return ``rho = lo + (hi - lo) s(z)``."""
        return self.lower + (self.upper - self.lower) / (1.0 + math.exp(-z))

    def unconstrained(self, rho: float) -> float:
        """Return ``z`` of ``rho``: the inverse of :meth:`spatial`."""
        return float(np.log((rho - self.lower) / (self.upper - rho)))

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Return ``log p(x)`` and its gradient (a new array of ``x``'s length)."""
        # Scalars go through ``math``: NUTS calls this some 10^5 times per fit, and a
        # NumPy scalar operation costs several times a float one.
        k, lo, hi = self.k, self.lower, self.upper
        z, log_sigma = float(x[0]), float(x[k + 1])
        beta = x[1 : k + 1]
        if abs(z) > _Z_MAX:  # s(z) would round to 0 or 1: rho at a bound
            return -math.inf, np.zeros_like(x)
        share = 1.0 / (1.0 + math.exp(-z))
        rho = lo + (hi - lo) * share
        below, above = (hi - lo) * share, (hi - lo) * (1.0 - share)
        a = self._a
        a[1] = -rho
        np.negative(beta, out=a[2 : k + 2])
        if self.error_model:
            np.multiply(beta, rho, out=a[k + 2 :])
        ga = self.gram @ a
        quadratic = float(a @ ga)
        inv_s2 = math.exp(-2.0 * log_sigma)
        dev = beta - self.mean
        conditional, independent = self._precisions @ (dev * dev)
        log_det, d_log_det = self.logdet.value_and_derivative(rho)
        spread = quadratic + conditional
        logp = (
            self.sigma_exponent * log_sigma
            - 0.5 * (spread * inv_s2 + independent)
            - self.sigma_rate * inv_s2
            - self.sigma_quadratic / inv_s2
            + self.jacobian_scale * log_det
            + self.spatial_a * math.log(below)
            + self.spatial_b * math.log(above)
            - self._log_width2
        )
        # d(a'Ga)/d rho = 2 (Ga)'(0, -1, 0, e beta); d(a'Ga)/d beta = 2 (-(Ga)_X + e rho (Ga)_WX).
        slope = -float(ga[1])
        beta_slope = ga[2 : k + 2]
        if self.error_model:
            slope += float(ga[k + 2 :] @ beta)
            beta_slope = beta_slope - rho * ga[k + 2 :]
        grad = np.empty_like(x)
        d_rho = (
            -inv_s2 * slope
            + self.jacobian_scale * d_log_det
            + self.spatial_a / below
            - self.spatial_b / above
        )
        grad[0] = d_rho * below * above / (hi - lo)
        grad[1 : k + 1] = inv_s2 * beta_slope - (inv_s2 * self.conditional + self.independent) * dev
        grad[k + 1] = (
            self.sigma_exponent
            + (spread + 2.0 * self.sigma_rate) * inv_s2
            - 2.0 * self.sigma_quadratic / inv_s2
        )
        return logp, grad
