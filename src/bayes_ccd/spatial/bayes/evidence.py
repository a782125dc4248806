"""Log marginal likelihoods of spatial panels under conjugate priors.

The marginal likelihood of a model is the density of the transformed observations
(``n_eff`` of them, see :mod:`bayes_ccd.spatial.design`) with every parameter integrated
out under the prior. Under the conjugate priors of the exact sampler,
``beta_j | sigma2 ~ N(m_j, sigma2/c_j)`` (``c_j = 0``: flat), ``sigma2 ~ Inv-Gamma(a0,
b0)`` (or Jeffreys ``1/sigma2``) and ``(rho - lo)/(hi - lo) ~ Beta(a, b)``, ``beta`` and
``sigma2`` integrate out in closed form (LeSage & Parent 2007, "Bayesian model averaging
for spatial econometric models", *Geographical Analysis* 39; LeSage 2014, "Spatial
econometric panel data model specification: a Bayesian approach", *Spatial Statistics*
9). With ``H(rho) = X_rho'X_rho + diag(c)``, the shape ``a_n = a0 + (n - K + k_c)/2``
and rate ``b_n(rho)`` of :class:`~bayes_ccd.spatial.bayes.exact.Conditionals`,

    log p(y | M) = log int p(rho) |J(rho)| |H(rho)|^{-1/2} b_n(rho)^{-a_n} d rho
                   - (n - K + k_c)/2 log(2 pi) + 1/2 sum_j log c_j
                   + a0 log b0 - log Gamma(a0) + log Gamma(a_n),

the one-dimensional integral over the spatial parameter's interval taken by Simpson's
rule on the exact sampler's grid (the difference to the trapezoid rule is recorded as
the quadrature error). SLX is the Durbin model at ``rho = 0``: no integral, no
Jacobian.

Improper priors
---------------
A flat coefficient or the Jeffreys variance prior has no normalising constant: the
marginal likelihood is defined only up to an arbitrary factor. The Jeffreys factor is
common to every model of a comparison; a flat coefficient's is not, unless every model
has as many of them. :func:`check_evidence_comparable` therefore refuses to compare
models with different numbers of flat coefficients (under the ``reference`` prior, SDM
with SAR; SDM with SDEM or SLX, and SAR with SEM, stay comparable).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy import integrate, special

from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.settings import GRID_SIZE
from bayes_ccd.spatial.bayes.exact import ExactPosterior
from bayes_ccd.spatial.bayes.priors import Prior, prior_parameters
from bayes_ccd.spatial.design import SpatialPanelDesign

#: The model without a spatial parameter: the spatial Durbin design at ``rho = 0``.
SLX: Final = "slx"


@dataclass(frozen=True)
class Evidence:
    """The log marginal likelihood of one model and what it depends on.

    Attributes
    ----------
    model
        ``sar``, ``sem``, ``sdm``, ``sdem`` or ``slx``.
    log_marginal_likelihood
        ``log p(y | M)`` of the transformed observations (see the module docstring).
    quadrature_error
        ``|Simpson - trapezoid|`` of the log integral over the spatial parameter.
    flat_coefficients
        Coefficients with a flat prior (each adds an arbitrary constant).
    prior
        Name of the prior.
    n_effective
        Observations of the likelihood.
    """

    model: str
    log_marginal_likelihood: float
    quadrature_error: float
    flat_coefficients: int
    prior: str
    n_effective: int


def _log_normalising_constants(exact: ExactPosterior) -> float:
    """Return the terms of ``log p(y | M)`` that do not depend on the spatial parameter."""
    params, design = exact.params, exact.design
    c = params.conditional_precision[params.conditional_precision > 0]
    n, k = design.n_effective, design.n_coefficients
    value = (
        -0.5 * (n - k + params.n_conditional) * math.log(2.0 * math.pi)
        + 0.5 * float(np.sum(np.log(c)))
        + float(special.gammaln(exact.shape))
    )
    a0, b0 = params.sigma_shape, params.sigma_rate
    if a0 > 0:
        value += a0 * math.log(b0) - float(special.gammaln(a0))
    return value


def _log_spatial_prior_constant(exact: ExactPosterior) -> float:
    """``-log B(a, b) - (a + b - 1) log(hi - lo)``: normalises the beta prior on ``(lo, hi)``."""
    a, b = exact.params.spatial_a, exact.params.spatial_b
    lo, hi = exact.bounds
    return -float(special.betaln(a, b)) - (a + b - 1.0) * math.log(hi - lo)


def log_marginal_likelihood(
    design: SpatialPanelDesign,
    prior: Prior,
    *,
    slx: bool = False,
    grid_size: int = GRID_SIZE,
) -> Evidence:
    """Compute ``log p(y | M)`` of ``design``'s model under a conjugate ``prior``.

    Parameters
    ----------
    design
        The transformed design; with ``slx=True`` a spatial Durbin design, evaluated at
        ``rho = 0`` (the SLX model).
    prior
        A conjugate prior (flat or normal coefficients, Jeffreys or inverse-gamma
        variance).
    slx
        Evaluate the SLX model instead of ``design.spec.model``.
    grid_size
        Points of the grid over the spatial parameter.

    Raises
    ------
    SpecificationError
        The prior is not conjugate, or ``slx`` with a design that is not spatial Durbin.
    """
    if slx and design.spec.model != "sdm":
        raise SpecificationError("the SLX marginal likelihood needs the spatial Durbin design")
    exact = ExactPosterior(design, prior_parameters(prior, design))
    constant = _log_normalising_constants(exact)
    if slx:
        cond = exact.conditionals(np.zeros(1))
        _, logdet = np.linalg.slogdet(cond.precision)
        value = constant - 0.5 * logdet - cond.shape * float(np.log(cond.rate[0]))
        error = 0.0
    else:
        grid, log_density = exact.log_density_grid(grid_size)
        peak = float(np.max(log_density))
        density = np.exp(log_density - peak)
        simpson = float(integrate.simpson(density, x=grid))
        trapezoid = float(np.trapezoid(density, grid))
        value = constant + _log_spatial_prior_constant(exact) + peak + math.log(simpson)
        error = abs(math.log(simpson) - math.log(trapezoid))
    k = design.n_coefficients
    return Evidence(
        SLX if slx else design.spec.model,
        float(value),
        error,
        k - exact.params.n_conditional,
        prior.name,
        design.n_effective,
    )


def check_evidence_comparable(evidences: Sequence[Evidence]) -> None:
    """Refuse to compare marginal likelihoods that improper priors make arbitrary.

    Raises
    ------
    SpecificationError
        The models have different numbers of flat coefficients, or different numbers of
        observations (see the module docstring).
    """
    flat = {e.model: e.flat_coefficients for e in evidences}
    if len(set(flat.values())) > 1:
        listing = ", ".join(f"{m.upper()} {k}" for m, k in flat.items())
        raise SpecificationError(
            f"under the prior '{evidences[0].prior}' the models have different numbers of "
            f"flat (improper) coefficients ({listing}): each flat coefficient leaves the "
            "marginal likelihood defined only up to an arbitrary constant, so models of "
            "different dimension cannot be compared; use prior='default' (proper normal "
            "coefficients) or a proper prior of your own, or compare models of the same "
            "dimension (SDM with SDEM or SLX, SAR with SEM)"
        )
    if len({e.n_effective for e in evidences}) > 1:
        raise SpecificationError(
            "the models are likelihoods of different numbers of observations; compare "
            "models with the same fixed effects and transformation on the same sample"
        )


def model_probabilities(
    log_evidence: Sequence[float], prior_weights: Sequence[float] | None = None
) -> np.ndarray:
    """Posterior model probabilities ``p(M_m | y) ~ w_m p(y | M_m)``.

    ``prior_weights`` default to equal; they are normalised and must be non-negative
    with a positive sum.
    """
    values = np.asarray(log_evidence, dtype=float)
    weights = np.ones_like(values) if prior_weights is None else np.asarray(prior_weights, float)
    if weights.shape != values.shape:
        raise SpecificationError(
            f"{weights.size} prior model weights given for {values.size} models"
        )
    if np.any(weights < 0) or not np.isfinite(weights).all() or weights.sum() <= 0:
        raise SpecificationError(
            f"prior model weights must be non-negative with a positive sum, got {list(weights)}"
        )
    with np.errstate(divide="ignore"):
        log_post = values + np.log(weights / weights.sum())
    return np.exp(log_post - special.logsumexp(log_post))
