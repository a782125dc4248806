"""Bayesian fixed-effects spatial panels: SDM, SAR, SEM and SDEM.

The likelihood is the maximum-likelihood one (:mod:`bayes_ccd.ml`): the Lee & Yu (2010,
*J. Econometrics* 154, 165-185) transformed likelihood of
:mod:`bayes_ccd.spatial_panel`, which has eliminated the fixed effects,

    p(y | rho, beta, sigma2) = exp(c log|I - rho W|_*) (2 pi sigma2)^{-n/2}
                               exp(-e'e / (2 sigma2)),

with ``n`` = ``design.n_effective`` (``(N-1)(T-1)`` for two-way effects),
``c log|I - rho W|_*`` = ``design.log_jacobian(rho)`` (``(T-1)(log|I - rho W| -
log(1 - rho))`` for two-way effects and a row-stochastic ``W``), and ``e = y - rho W y -
X beta`` (SAR, SDM; ``X`` holds ``W X`` for the SDM) or ``e = (y - lam W y) - (X - lam W X)
beta`` (SEM, SDEM). Sharing the likelihood is what makes the posterior comparable with
the MLE: under the ``reference`` prior the posterior density is flat in
``(rho, beta, log sigma)``, so its mode *in that parametrisation* is the MLE.

Everything the likelihood needs is a ``(2K+2) x (2K+2)`` matrix of cross-products of
``Z = [y, W y, X, W X]`` (sufficient statistics): ``e = Z a`` with ``a = (1, -rho, -beta,
0)`` (lag models) or ``(1, -lam, -beta, lam beta)`` (error models), so ``e'e = a' Z'Z a``
costs ``O(K^2)`` whatever ``N T``, and the log-determinant costs ``O(N)`` from the
eigenvalues of ``W`` computed once (Ord 1975).

Priors
------
Priors are configuration (:class:`Prior`, TOML files such as ``models/priors.toml``),
scaled to the data through ``s_j``, the root mean square of design column ``j`` over the
``n`` transformed observations, and ``s_y``, that of ``y``:

- coefficients: ``flat``; ``normal`` (conjugate), ``beta_j | sigma2 ~ N(m_j, sigma2
  (scale_j / s_j)^2)``: a one-standard-deviation change of ``x_j`` moves ``y`` by a
  prior standard deviation of ``scale_j`` error standard deviations (Gelman et al.
  2013, *Bayesian Data Analysis*, 3rd ed., ch. 14); ``independent_normal``, ``beta_j ~
  N(m_j, (scale_j s_y / s_j)^2)`` (not conjugate: NUTS only). The intercept of a model
  without fixed effects always has a flat prior.
- error variance: ``jeffreys``, ``p(sigma2) ~ 1/sigma2`` (that is ``p(sigma) ~
  1/sigma``); ``inverse_gamma``, ``sigma2 ~ Scaled-Inv-chi2(nu, s2)`` =
  ``Inv-Gamma(nu/2, nu s2/2)``, by default ``nu = 2`` prior degrees of freedom at
  ``s2 = s_y^2`` (BDA3 ch. 3); ``half_normal``, ``sigma ~ HalfNormal(scale s_y)`` (NUTS
  only).
- spatial parameter: ``uniform`` on its interval ``(1/lambda_min, 1)``, or ``beta``,
  ``(rho - lo)/(hi - lo) ~ Beta(a, b)``; LeSage & Pace (2009, *Introduction to Spatial
  Econometrics*, ch. 5) suggest ``a = b = 1.01``, nearly uniform but vanishing at the
  bounds.

``default`` (:data:`DEFAULT_PRIOR`) is conjugate and weakly informative: normal
coefficients with ``scale = 2.5``, ``Scaled-Inv-chi2(2, s_y^2)`` and ``Beta(1.01, 1.01)``.
``reference`` (:data:`REFERENCE_PRIOR`) has flat coefficients, ``p(sigma) ~ 1/sigma``
and a uniform spatial parameter.

Two samplers
------------
``exact``: under conjugate priors (flat or conditionally normal coefficients,
inverse-gamma or Jeffreys variance) the coefficients and the variance integrate out
(BDA3 ch. 3 and 14; LeSage & Pace 2009, ch. 5). With ``P`` the prior precision
(``diag(s_j^2/scale_j^2)``, zero for flat coefficients), ``k_p`` its number of non-zero
entries, ``Inv-Gamma(a0, b0)`` the variance prior (``a0 = b0 = 0`` for Jeffreys),
``y_rho``/``X_rho`` the filtered ``y`` and ``X``,

    H(rho) = X_rho'X_rho + P,     b(rho) = H^{-1} (X_rho'y_rho + P m),
    S(rho) = y_rho'y_rho + m'P m - b(rho)' H(rho) b(rho),
    log p(rho | y) = log p(rho) + log_jacobian(rho) - 1/2 log|H(rho)|
                     - a_n log(b0 + S(rho)/2) + const,   a_n = a0 + (n - K + k_p)/2,
    sigma2 | rho, y ~ Inv-Gamma(a_n, b0 + S(rho)/2),
    beta | sigma2, rho, y ~ N(b(rho), sigma2 H(rho)^{-1}).

The one-dimensional marginal of ``rho`` is evaluated on a fine grid (refined to where it
has mass), draws of ``rho`` come from its piecewise-linear interpolation by inversion,
then ``sigma2`` and ``beta`` from their conditionals: independent draws in a fraction of
a second, arranged as ``chains`` independent chains so that R-hat is defined.

``nuts``: the same density as a PyMC model (:func:`build_pymc_model`) sampled by nutpie
(always called explicitly, never through ``pm.sample``). Everything that changes between
data sets (cross-products, eigenvalues, bounds, Jacobian scale, prior parameters) is
``pm.Data``, so one compilation serves the national model and every region and every
prior of the same number of coefficients (:func:`compiled_model`). The sampler sees
``y`` and ``X`` standardised by ``s_y`` and ``s_j`` for a well-scaled geometry; draws
are transformed back.

Derived quantities
------------------
The LeSage-Pace direct, indirect and total effects are computed per draw from the
eigenvalues (:func:`bayes_ccd.effects.effects_from_draws`) after sampling and stored in
the posterior next to the parameters; summaries report mean, sd, the central interval
and the HDI at :data:`~bayes_ccd.conventions.INTERVAL_PROB`, the posterior probability
of a positive value, Monte Carlo standard errors, R-hat and ESS (Vehtari et al. 2021,
*Bayesian Analysis* 16, 667-718).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from bayes_ccd.conventions import (
    COVARIATE,
    DEFAULT_SEED,
    EFFECT,
    EFFECT_KINDS,
    INTERVAL_PROB,
    NATIONAL,
    PERIOD,
    TERM,
    UNIT,
)
from bayes_ccd.effects import effects_from_draws
from bayes_ccd.exceptions import ConfigError, SpecificationError
from bayes_ccd.ml import (
    FitReport,
    Islands,
    Sample,
    main_sample,
    recorded_warnings,
    regional_samples,
    sample_directory,
    write_by_region,
    write_sample_files,
)
from bayes_ccd.panel import Panel
from bayes_ccd.reports import json_default, write_json, write_table
from bayes_ccd.spatial_panel import (
    INTERCEPT,
    ModelSpec,
    PanelArrays,
    SpatialPanelDesign,
    as_arrays,
    build_design,
)
from bayes_ccd.weights import SpatialWeights

if TYPE_CHECKING:
    import pymc as pm

    from bayes_ccd.diagnostics import Diagnostics

Sampler = Literal["exact", "nuts"]
CoefficientPriorKind = Literal["flat", "normal", "independent_normal"]
SigmaPriorKind = Literal["jeffreys", "inverse_gamma", "half_normal"]
SpatialPriorKind = Literal["uniform", "beta"]

SAMPLERS: Final = ("exact", "nuts")
PRIOR_PRESETS: Final = ("default", "reference")
COEFFICIENT_PRIORS: Final = ("flat", "normal", "independent_normal")
SIGMA_PRIORS: Final = ("jeffreys", "inverse_gamma", "half_normal")
SPATIAL_PRIORS: Final = ("uniform", "beta")

#: Points of the fine grid over the marginal posterior of the spatial parameter.
GRID_SIZE: Final = 2049
#: Points of the coarse grid that locates where the marginal has mass.
_COARSE_GRID: Final = 1025
#: Grid points whose log density is this far below the maximum carry no mass
#: (``exp(-40) ~ 4e-18`` of the peak density).
_LOG_DENSITY_FLOOR: Final = 40.0
#: Default number of posterior draws used for the posterior predictive check.
PPC_DRAWS: Final = 200
#: Elements of the batched reduced-form solves held at once (bounds memory).
_SOLVE_ELEMENTS: Final = 2**24
#: Above this many units the reduced form is solved with a sparse LU per draw.
_DENSE_SOLVE_UNITS: Final = 300

#: Columns of the posterior tables written by the Bayesian estimator.
POSTERIOR_COLUMNS: Final = (
    "mean",
    "sd",
    "lower",
    "upper",
    "hdi_lower",
    "hdi_upper",
    "prob_positive",
    "mcse_mean",
    "mcse_sd",
    "r_hat",
    "ess_bulk",
    "ess_tail",
)
BAYES_COEFFICIENT_COLUMNS: Final = ("term", *POSTERIOR_COLUMNS)
BAYES_EFFECT_COLUMNS: Final = ("variable", "effect", *POSTERIOR_COLUMNS)


# --- priors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CoefficientPrior:
    """Prior of the coefficients ``beta`` (design columns, ``W*x`` included).

    Parameters
    ----------
    kind
        ``"flat"``, ``"normal"`` (conjugate: ``beta_j | sigma2 ~ N(mean_j, sigma2
        (scale_j/s_j)^2)``) or ``"independent_normal"`` (``beta_j ~ N(mean_j,
        (scale_j s_y/s_j)^2)``, NUTS only).
    mean, scale
        Prior mean and unitless scale of every coefficient (see the module docstring).
    terms
        Per-term overrides ``{term: {"mean": ..., "scale": ...}}``, e.g.
        ``{"W*ln_gdp_pc": {"scale": 1.0}}``.
    """

    kind: CoefficientPriorKind = "normal"
    mean: float = 0.0
    scale: float = 2.5
    terms: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class SigmaPrior:
    """Prior of the error variance.

    Parameters
    ----------
    kind
        ``"jeffreys"`` (``p(sigma2) ~ 1/sigma2``), ``"inverse_gamma"``
        (``sigma2 ~ Scaled-Inv-chi2(nu, s2)``) or ``"half_normal"`` (``sigma ~
        HalfNormal(scale s_y)``, NUTS only).
    nu, s2
        Prior degrees of freedom and prior guess of ``sigma2`` of the inverse gamma;
        ``s2 = None`` takes ``s_y^2``, the mean square of the transformed ``y``.
    scale
        Scale of the half-normal in units of ``s_y``.
    """

    kind: SigmaPriorKind = "inverse_gamma"
    nu: float = 2.0
    s2: float | None = None
    scale: float = 1.0


@dataclass(frozen=True)
class SpatialPrior:
    """Prior of ``rho`` (lag models) or ``lambda`` (error models) on its interval
    ``(lo, hi)``: ``"uniform"``, or ``"beta"`` with ``(rho - lo)/(hi - lo) ~ Beta(a, b)``
    (``a, b >= 1`` keep the density bounded)."""

    kind: SpatialPriorKind = "beta"
    a: float = 1.01
    b: float = 1.01


def _validate_prior(prior: Prior) -> None:
    """Raise :class:`ConfigError` naming the first invalid kind or value."""
    c, s, r = prior.coefficients, prior.sigma, prior.spatial
    for value, allowed, what in (
        (c.kind, COEFFICIENT_PRIORS, "coefficient prior"),
        (s.kind, SIGMA_PRIORS, "sigma prior"),
        (r.kind, SPATIAL_PRIORS, "spatial prior"),
    ):
        if value not in allowed:
            raise ConfigError(f"unknown {what} kind {value!r}; use one of {list(allowed)}")
    scales = [("coefficients.scale", c.scale)] + [
        (f"coefficients.terms.{t}.scale", v["scale"]) for t, v in c.terms.items() if "scale" in v
    ]
    for name, value in scales:
        if not value > 0:
            raise ConfigError(f"prior {name} must be positive, got {value!r}")
    for term, values in c.terms.items():
        unknown = sorted(set(values) - {"mean", "scale"})
        if unknown:
            raise ConfigError(f"prior coefficients.terms.{term}: unknown key(s) {unknown}")
    if s.kind == "inverse_gamma" and not (s.nu > 0 and (s.s2 is None or s.s2 > 0)):
        raise ConfigError(f"inverse-gamma prior needs nu > 0 and s2 > 0, got {s.nu}, {s.s2}")
    if s.kind == "half_normal" and not s.scale > 0:
        raise ConfigError(f"half-normal sigma prior needs scale > 0, got {s.scale}")
    if r.kind == "beta" and not (r.a >= 1 and r.b >= 1):
        raise ConfigError(
            f"the beta prior of the spatial parameter needs a >= 1 and b >= 1 (a bounded "
            f"density on its interval), got a = {r.a}, b = {r.b}"
        )


@dataclass(frozen=True)
class Prior:
    """A complete prior: coefficients, error variance, spatial parameter."""

    coefficients: CoefficientPrior = field(default_factory=CoefficientPrior)
    sigma: SigmaPrior = field(default_factory=SigmaPrior)
    spatial: SpatialPrior = field(default_factory=SpatialPrior)
    name: str = "default"

    def __post_init__(self) -> None:
        _validate_prior(self)

    @property
    def conjugate(self) -> bool:
        """Whether the exact sampler applies (flat/normal coefficients and a Jeffreys or
        inverse-gamma variance prior)."""
        return self.coefficients.kind in ("flat", "normal") and self.sigma.kind in (
            "jeffreys",
            "inverse_gamma",
        )

    def to_dict(self) -> dict[str, Any]:
        """The prior as plain data (for ``fit.json`` and the NetCDF attributes)."""
        out = dataclasses.asdict(self)
        out["coefficients"]["terms"] = {k: dict(v) for k, v in self.coefficients.terms.items()}
        return out


#: Weakly informative, conjugate, scaled to the data (see the module docstring).
DEFAULT_PRIOR: Final = Prior()
#: Flat coefficients, ``p(sigma) ~ 1/sigma``, uniform spatial parameter: the prior under
#: which the posterior mode in ``(rho, beta, log sigma)`` is the MLE.
REFERENCE_PRIOR: Final = Prior(
    CoefficientPrior(kind="flat"),
    SigmaPrior(kind="jeffreys"),
    SpatialPrior(kind="uniform", a=1.0, b=1.0),
    name="reference",
)
_PRESETS: Final = {"default": DEFAULT_PRIOR, "reference": REFERENCE_PRIOR}


def _section(cls: type, base: Any, values: Any, where: str) -> Any:
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where} must be a table")
    known = {f.name for f in dataclasses.fields(cls)}
    for key in values:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {sorted(known)})"
            raise ConfigError(f"{where}: unknown key '{key}'{hint}")
    values = dict(values)
    if values.get("s2") == "data":
        values["s2"] = None
    return dataclasses.replace(base, **values)


def prior_from_mapping(data: Mapping[str, Any], *, source: str = "<memory>") -> Prior:
    """A :class:`Prior` from parsed TOML: ``base`` (``"default"`` or ``"reference"``,
    default ``"default"``) overridden section by section (``defaults | user``).

    Raises
    ------
    ConfigError
        Unknown sections or keys (with a suggestion), invalid kinds or values.
    """
    sections = {"coefficients": CoefficientPrior, "sigma": SigmaPrior, "spatial": SpatialPrior}
    unknown = sorted(set(data) - {*sections, "base", "name"})
    if unknown:
        raise ConfigError(
            f"{source}: unknown prior section(s) {unknown}; use {['base', *sections]}"
        )
    base_name = data.get("base", "default")
    if base_name not in _PRESETS:
        raise ConfigError(f"{source}: base must be one of {list(_PRESETS)}, got {base_name!r}")
    base = _PRESETS[base_name]
    parts = {
        key: _section(cls, getattr(base, key), data[key], f"{source} [{key}]")
        if key in data
        else getattr(base, key)
        for key, cls in sections.items()
    }
    try:
        return Prior(**parts, name=str(data.get("name", source)))
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def read_prior_file(path: str | Path) -> Prior:
    """Read a prior TOML file (see ``models/priors.toml``)."""
    from bayes_ccd.config import read_toml

    return prior_from_mapping(read_toml(path), source=str(path))


def resolve_prior(value: str | Path | Prior | Mapping[str, Any], base: Path | None = None) -> Prior:
    """``"default"``, ``"reference"``, a :class:`Prior`, a mapping, or a TOML file (relative
    paths are taken relative to ``base``)."""
    if isinstance(value, Prior):
        return value
    if isinstance(value, Mapping):
        return prior_from_mapping(value)
    if str(value) in _PRESETS:
        return _PRESETS[str(value)]
    path = Path(value)
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise ConfigError(
            f"prior {value!r} is neither 'default', 'reference' nor an existing TOML file"
        )
    return read_prior_file(path)


@dataclass(frozen=True, eq=False)
class PriorParameters:
    """Numeric hyperparameters of a :class:`Prior` on one design (data scale).

    The log prior density in ``(beta, log sigma, rho)`` is, up to a constant,

        -1/2 sum_j c_j (beta_j - m_j)^2 / sigma2 - k_c log sigma
        -1/2 sum_j d_j (beta_j - m_j)^2
        + p log sigma - r / sigma2 - q sigma2
        + (a - 1) log(rho - lo) + (b - 1) log(hi - rho)

    with ``c`` the conditional (conjugate) and ``d`` the independent precisions,
    ``k_c`` the number of non-zero ``c_j`` (normalising ``N(m, sigma2/c)``), and ``(p,
    r, q)`` = ``(0, 0, 0)`` for Jeffreys, ``(-2 a0, b0, 0)`` for ``Inv-Gamma(a0, b0)`` on
    ``sigma2``, ``(1, 0, 1/(2 tau^2))`` for ``HalfNormal(tau)`` on ``sigma`` (the density
    of ``log sigma`` carries the Jacobian ``d sigma2/d log sigma = 2 sigma2``).
    """

    mean: np.ndarray
    conditional_precision: np.ndarray
    independent_precision: np.ndarray
    sigma_power: float
    sigma_rate: float
    sigma_quadratic: float
    spatial_a: float
    spatial_b: float
    column_scale: np.ndarray
    y_scale: float

    @property
    def n_conditional(self) -> int:
        return int(np.count_nonzero(self.conditional_precision))

    @property
    def sigma_shape(self) -> float:
        """Inverse-gamma shape ``a0`` (0 for Jeffreys)."""
        return -self.sigma_power / 2.0


def design_scales(design: SpatialPanelDesign) -> tuple[np.ndarray, float]:
    """``s_j`` and ``s_y``: root mean squares of the design columns and of ``y`` over the
    ``n_effective`` transformed observations (sums of squares of the demeaned arrays
    equal those of the transformed ones)."""
    n, k = design.n_effective, design.n_coefficients
    s = np.sqrt(np.sum(design.X.reshape(-1, k) ** 2, axis=0) / n)
    return s, float(np.sqrt(np.sum(design.y**2) / n))


def prior_parameters(prior: Prior, design: SpatialPanelDesign) -> PriorParameters:
    """Scale ``prior`` to ``design`` (see :class:`PriorParameters`).

    Raises
    ------
    SpecificationError
        A per-term override names a term that is not a design column.
    """
    c = prior.coefficients
    names = list(design.names)
    unknown = sorted(set(c.terms) - set(names))
    if unknown:
        raise SpecificationError(
            f"the prior names coefficient(s) {unknown}, which are not in the model (terms: {names})"
        )
    s, s_y = design_scales(design)
    mean = np.array([c.terms.get(t, {}).get("mean", c.mean) for t in names], dtype=float)
    scale = np.array([c.terms.get(t, {}).get("scale", c.scale) for t in names], dtype=float)
    proper = np.array([t != INTERCEPT for t in names]) & (c.kind != "flat")
    conditional = np.where(proper & (c.kind == "normal"), s**2 / scale**2, 0.0)
    independent = np.where(
        proper & (c.kind == "independent_normal"), s**2 / (scale * s_y) ** 2, 0.0
    )
    mean = np.where(proper, mean, 0.0)
    sig = prior.sigma
    if sig.kind == "jeffreys":
        power, rate, quadratic = 0.0, 0.0, 0.0
    elif sig.kind == "inverse_gamma":
        s2 = s_y**2 if sig.s2 is None else sig.s2
        power, rate, quadratic = -sig.nu, sig.nu * s2 / 2.0, 0.0
    else:
        power, rate, quadratic = 1.0, 0.0, 1.0 / (2.0 * (sig.scale * s_y) ** 2)
    a, b = (prior.spatial.a, prior.spatial.b) if prior.spatial.kind == "beta" else (1.0, 1.0)
    return PriorParameters(mean, conditional, independent, power, rate, quadratic, a, b, s, s_y)


def log_prior_density(
    params: PriorParameters,
    bounds: tuple[float, float],
    rho: np.ndarray,
    beta: np.ndarray,
    log_sigma: np.ndarray,
) -> np.ndarray:
    """Unnormalised log prior density in ``(rho, beta, log sigma)`` (see
    :class:`PriorParameters`), vectorised over leading dimensions."""
    rho, log_sigma = np.asarray(rho, dtype=float), np.asarray(log_sigma, dtype=float)
    dev = np.asarray(beta, dtype=float) - params.mean
    inv_sigma2 = np.exp(-2.0 * log_sigma)
    lo, hi = bounds
    return (
        -0.5 * np.sum(params.conditional_precision * dev**2, axis=-1) * inv_sigma2
        - params.n_conditional * log_sigma
        - 0.5 * np.sum(params.independent_precision * dev**2, axis=-1)
        + params.sigma_power * log_sigma
        - params.sigma_rate * inv_sigma2
        - params.sigma_quadratic / inv_sigma2
        + (params.spatial_a - 1.0) * np.log(rho - lo)
        + (params.spatial_b - 1.0) * np.log(hi - rho)
    )


# --- the likelihood through sufficient statistics --------------------------------------


def cross_products(design: SpatialPanelDesign) -> np.ndarray:
    """``Z'Z`` for ``Z = [y, W y, X, W X]`` over the transformed observations,
    ``(2K+2, 2K+2)``: the sufficient statistics of the likelihood."""
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
    """The transformed log-likelihood from :func:`cross_products`, vectorised:
    ``log_jacobian(rho) - n log sigma - a'Z'Z a/(2 sigma2) - n/2 log(2 pi)``."""
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
    """Conditional posterior of ``(beta, sigma2)`` given ``rho`` (conjugate priors):
    ``sigma2 ~ Inv-Gamma(shape, rate)``, ``beta | sigma2 ~ N(mean, sigma2 precision^-1)``.
    ``precision`` is ``(K, K)`` for lag models (it does not depend on ``rho``) and
    ``(..., K, K)`` for error models."""

    mean: np.ndarray
    precision: np.ndarray
    shape: float
    rate: np.ndarray


class ExactPosterior:
    """The conjugate decomposition ``p(rho | y) p(sigma2 | rho, y) p(beta | sigma2, rho,
    y)`` of the posterior (see the module docstring).

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
        """Unnormalised ``log p(rho | y)``, vectorised over ``rho`` (``-inf`` where the
        residual sum of squares vanishes)."""
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
        """``log p(sigma2 | rho, y) + log p(beta | sigma2, rho, y)`` expressed as a
        density of ``log sigma`` (Jacobian ``2 sigma2``), normalised."""
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
        """Grid over the region where ``p(rho | y)`` has mass, and the normalised density
        (trapezoid rule) on it.

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
        density = np.exp(log_density - np.max(log_density))
        density /= np.trapezoid(density, grid)
        return grid, density

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
        cond = self.conditionals(rho)
        sigma2 = cond.rate / rng.gamma(cond.shape, size=(chains, draws))
        z = rng.standard_normal((chains, draws, cond.mean.shape[-1]))
        root = np.linalg.cholesky(cond.precision)
        # beta = mean + sigma L'^{-1} z has covariance sigma2 (L L')^{-1} = sigma2 H^{-1}.
        noise = np.linalg.solve(np.swapaxes(root, -1, -2), z[..., None])[..., 0]
        beta = cond.mean + np.sqrt(sigma2)[..., None] * noise
        return {"rho": rho, "beta": beta, "sigma2": sigma2}


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


# --- the PyMC model and NUTS --------------------------------------------------------------

#: Compiled nutpie models by (spatial parameter name, number of coefficients).
_COMPILED: dict[tuple[str, int], Any] = {}


def model_data(design: SpatialPanelDesign, params: PriorParameters) -> dict[str, Any]:
    """The ``pm.Data`` values of :func:`build_pymc_model`, standardised.

    ``y`` and ``W y`` are divided by ``s_y``, columns ``j`` of ``X`` and ``W X`` by
    ``s_j``; then ``beta*_j = beta_j s_j/s_y``, ``sigma* = sigma/s_y`` and the prior
    parameters transform accordingly (``m* = m s/s_y``, ``c* = c/s^2``, ``d* = d
    s_y^2/s^2``, ``r* = r/s_y^2``, ``q* = q s_y^2``).
    """
    s, s_y = params.column_scale, params.y_scale
    scale = 1.0 / np.concatenate([[s_y, s_y], s, s])
    gram = cross_products(design) * np.outer(scale, scale)
    eig = np.asarray(design.jacobian_eigenvalues, dtype=complex)
    lo, hi = design.rho_bounds
    return {
        "gram": gram,
        "n_effective": float(design.n_effective),
        "eigenvalues_real": np.ascontiguousarray(eig.real),
        "eigenvalues_imag": np.ascontiguousarray(eig.imag),
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


def build_pymc_model(design: SpatialPanelDesign, prior: Prior | PriorParameters) -> pm.Model:
    """The posterior of ``design`` under ``prior`` as a PyMC model (standardised scale).

    Free variables: the spatial parameter (``rho`` or ``lambda``, uniform on
    ``(lower, upper)`` before the prior potential), ``beta`` (dims ``term``, flat before
    the prior potential) and ``log_sigma`` (flat: ``p(sigma) ~ 1/sigma`` before the
    prior potential). Potentials: the log-likelihood from the cross-products, the
    log-Jacobian ``c sum_i log|1 - rho lambda_i|`` (``log|.|`` of complex eigenvalues
    as ``1/2 log((1 - rho Re)^2 + (rho Im)^2)``), and the three log priors of
    :class:`PriorParameters`. Every input is ``pm.Data`` (see :func:`model_data`), so a
    compiled model serves any data set with the same number of coefficients.

    The likelihood is a potential on sufficient statistics, so PyMC's
    ``sample_posterior_predictive`` does not apply; use :func:`posterior_predictive`.
    """
    import pymc as pm
    import pytensor.tensor as pt

    params = prior if isinstance(prior, PriorParameters) else prior_parameters(prior, design)
    values = model_data(design, params)
    name = design.spec.spatial_parameter
    with pm.Model(coords={TERM: list(design.names)}) as model:
        data = {key: pm.Data(key, value) for key, value in values.items()}
        spatial = pm.Uniform(name, lower=data["lower"], upper=data["upper"])
        beta = pm.Flat("beta", dims=TERM)
        log_sigma = pm.Flat("log_sigma")
        inv_sigma2 = pt.exp(-2.0 * log_sigma)
        a = pt.concatenate(
            [pt.ones(1), -spatial[None], -beta, data["error_model"] * spatial * beta]
        )
        pm.Potential(
            "log_likelihood",
            -data["n_effective"] * log_sigma - 0.5 * (a @ data["gram"] @ a) * inv_sigma2,
        )
        modulus2 = (1.0 - spatial * data["eigenvalues_real"]) ** 2 + (
            spatial * data["eigenvalues_imag"]
        ) ** 2
        pm.Potential("log_jacobian", 0.5 * data["jacobian_scale"] * pt.sum(pt.log(modulus2)))
        dev2 = (beta - data["prior_mean"]) ** 2
        pm.Potential(
            "coefficient_prior",
            -0.5 * pt.sum(data["prior_conditional_precision"] * dev2) * inv_sigma2
            - data["prior_n_conditional"] * log_sigma
            - 0.5 * pt.sum(data["prior_independent_precision"] * dev2),
        )
        pm.Potential(
            "sigma_prior",
            data["prior_sigma_power"] * log_sigma
            - data["prior_sigma_rate"] * inv_sigma2
            - data["prior_sigma_quadratic"] / inv_sigma2,
        )
        pm.Potential(
            "spatial_prior",
            (data["prior_spatial_a"] - 1.0) * pt.log(spatial - data["lower"])
            + (data["prior_spatial_b"] - 1.0) * pt.log(data["upper"] - spatial),
        )
    return model


def compiled_model(design: SpatialPanelDesign, params: PriorParameters) -> tuple[Any, float]:
    """A nutpie-compiled model of :func:`build_pymc_model` with ``design``'s data.

    Compiled once per process for each (spatial parameter, number of coefficients) and
    re-used with ``with_data`` (regions, other priors, other data sets of the same
    shape). Returns the model and the seconds spent compiling (0 when re-used).
    """
    import nutpie

    key = (design.spec.spatial_parameter, design.n_coefficients)
    seconds = 0.0
    if key not in _COMPILED:
        start = time.perf_counter()
        _COMPILED[key] = nutpie.compile_pymc_model(
            build_pymc_model(design, params), backend="numba"
        )
        seconds = time.perf_counter() - start
    return _COMPILED[key].with_data(**model_data(design, params)), seconds


#: Sampler statistics of nutpie kept in the result (numeric, NetCDF-serialisable).
_SAMPLE_STATS: Final = (
    "diverging",
    "energy",
    "energy_error",
    "step_size",
    "n_steps",
    "depth",
    "maxdepth_reached",
    "mean_tree_accept",
    "logp",
)


def sample_nuts(
    design: SpatialPanelDesign, params: PriorParameters, settings: SamplerSettings
) -> tuple[dict[str, np.ndarray], xr.Dataset, dict[str, float]]:
    """NUTS draws on the data scale, nutpie's sampler statistics and timings
    (``compile_seconds``, ``sampling_seconds``)."""
    import nutpie

    compiled, compile_seconds = compiled_model(design, params)
    start = time.perf_counter()
    trace = nutpie.sample(
        compiled,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=min(settings.chains, os.cpu_count() or 1),
        seed=settings.seed,
        save_warmup=False,
        progress_bar=False,
        target_accept=settings.target_accept,
    )
    sampling_seconds = time.perf_counter() - start
    post = trace["posterior"].to_dataset()
    s, s_y = params.column_scale, params.y_scale
    draws = {
        "rho": post[design.spec.spatial_parameter].to_numpy(),
        "beta": post["beta"].to_numpy() * s_y / s,
        "sigma2": (s_y * np.exp(post["log_sigma"].to_numpy())) ** 2,
    }
    stats = trace["sample_stats"].to_dataset()
    stats = stats[[v for v in _SAMPLE_STATS if v in stats.data_vars]]
    timings = {"compile_seconds": compile_seconds, "sampling_seconds": sampling_seconds}
    return draws, stats.drop_attrs(), timings


# --- the posterior as an xarray DataTree -----------------------------------------------


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample.

    Parameters
    ----------
    sampler
        ``"exact"`` (conjugate priors only) or ``"nuts"``.
    draws, chains
        Draws per chain and number of chains (independent chains for ``"exact"``).
    tune
        NUTS warm-up draws per chain.
    seed
        Seed of every random step of the fit.
    target_accept
        NUTS target acceptance rate (raise it, e.g. to 0.95, after divergences).
    grid_size
        Points of the fine grid of the exact sampler.
    ppc_draws
        Posterior draws used for the posterior predictive check (0: none).
    """

    sampler: Sampler = "exact"
    draws: int = 2000
    tune: int = 1000
    chains: int = 4
    seed: int = DEFAULT_SEED
    target_accept: float = 0.8
    grid_size: int = GRID_SIZE
    ppc_draws: int = PPC_DRAWS

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"unknown sampler {self.sampler!r}; use one of {list(SAMPLERS)}")
        for name, minimum in (("draws", 1), ("chains", 1), ("tune", 0), ("ppc_draws", 0)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < minimum:
                raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
        if not 0.0 < self.target_accept < 1.0:
            raise ConfigError(f"target_accept must be in (0, 1), got {self.target_accept}")
        if self.grid_size < 65:
            raise ConfigError(f"grid_size must be at least 65, got {self.grid_size}")


def _split_coefficients(
    design: SpatialPanelDesign, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    k = len(design.data.x_names)
    offset = int(design.spec.fe == "none")
    theta = beta[..., offset + k : offset + 2 * k] if design.spec.is_durbin else None
    return beta[..., offset : offset + k], theta


def posterior_dataset(design: SpatialPanelDesign, draws: Mapping[str, np.ndarray]) -> xr.Dataset:
    """Parameters and per-draw effects as the ``posterior`` group.

    Variables: the spatial parameter (``rho``/``lambda``), ``beta`` (``term``), ``sigma2``,
    ``sigma`` and ``effects`` (``effect`` x ``covariate``: LeSage-Pace direct, indirect
    and total effects of every draw, :func:`bayes_ccd.effects.effects_from_draws`; error
    models use ``rho = 0``).
    """
    rho, beta, sigma2 = draws["rho"], draws["beta"], draws["sigma2"]
    chains, n_draws = rho.shape
    spatial = rho if design.spec.is_lag else np.zeros_like(rho)
    beta_x, theta = _split_coefficients(design, beta)
    effects = np.stack(effects_from_draws(spatial, beta_x, theta, design.spectrum), axis=2)
    sample = ("chain", "draw")
    return xr.Dataset(
        {
            design.spec.spatial_parameter: (sample, rho),
            "beta": ((*sample, TERM), beta),
            "sigma2": (sample, sigma2),
            "sigma": (sample, np.sqrt(sigma2)),
            "effects": ((*sample, EFFECT, COVARIATE), effects),
        },
        coords={
            "chain": np.arange(chains),
            "draw": np.arange(n_draws),
            TERM: list(design.names),
            EFFECT: list(EFFECT_KINDS),
            COVARIATE: list(design.data.x_names),
        },
    )


def _observed_dataset(design: SpatialPanelDesign) -> xr.Dataset:
    """The transformed-space observations the posterior conditions on (demeaned layout)."""
    return xr.Dataset(
        {"y": ((PERIOD, UNIT), design.y)},
        coords={PERIOD: list(design.data.periods), UNIT: list(design.data.units)},
    )


def reduced_form_solve(W: np.ndarray, spatial: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``(I - rho_d W)^{-1} v_{d,t}`` for draws ``d`` and periods ``t``.

    ``spatial`` is ``(D,)``, ``values`` ``(D, T, N)``. Exact for any ``W`` (no eigenvector
    basis needed): batched dense LU solves in chunks that bound memory for up to
    :data:`_DENSE_SOLVE_UNITS` units, above that one sparse LU per draw (a contiguity
    ``W`` has ``O(N)`` non-zeros, so this is far cheaper than an ``O(N^3)`` dense solve).
    """
    n = W.shape[0]
    out = np.empty_like(values)
    if n > _DENSE_SOLVE_UNITS:
        from scipy import sparse
        from scipy.sparse.linalg import splu

        system = sparse.csc_matrix(W)
        eye = sparse.identity(n, format="csc")
        for d, rho in enumerate(spatial):
            out[d] = splu((eye - rho * system).tocsc()).solve(values[d].T).T
        return out
    chunk = max(1, _SOLVE_ELEMENTS // (n * n))
    eye = np.eye(n)
    for start in range(0, spatial.size, chunk):
        part = slice(start, start + chunk)
        system = eye - spatial[part, None, None] * W
        out[part] = np.swapaxes(np.linalg.solve(system, np.swapaxes(values[part], 1, 2)), 1, 2)
    return out


def posterior_predictive(
    design: SpatialPanelDesign, posterior: xr.Dataset, *, n_draws: int, seed: int
) -> xr.Dataset:
    """Replicated data from the reduced form, in the space the model is fitted in.

    For ``n_draws`` posterior draws (spread evenly over each chain) and fresh errors
    ``e ~ N(0, sigma2 I)`` on the ``(T, N)`` layout,

        y_rep = J[(I - rho W)^{-1} (X beta + e)]       (SAR, SDM)
        y_rep = J[X beta + (I - lambda W)^{-1} e]       (SEM, SDEM),

    where ``X`` is the demeaned design and ``J`` removes the fixed effects exactly as the
    design does (:meth:`SpatialPanelDesign.project`). A row-stochastic ``W`` maps
    constants to constants, so the fixed effects of ``y`` drop out and ``y_rep`` has the
    distribution of the observed demeaned ``y`` (``observed_data``) under the model. The
    check compares the two.

    Returns
    -------
    xarray.Dataset
        ``y`` with dims ``(chain, draw, period, unit)``; ``draw`` holds the indices of the
        posterior draws used.
    """
    rng = np.random.default_rng(seed)
    chains, total = posterior.sizes["chain"], posterior.sizes["draw"]
    per_chain = max(1, min(total, math.ceil(n_draws / chains)))
    index = np.unique(np.linspace(0, total - 1, per_chain).round().astype(int))
    post = posterior.isel(draw=index)
    name = design.spec.spatial_parameter
    spatial = post[name].to_numpy().reshape(-1)
    beta = post["beta"].to_numpy().reshape(spatial.size, -1)
    sigma = post["sigma"].to_numpy().reshape(-1)
    t, n = design.y.shape
    mean = np.einsum("tnk,dk->dtn", design.X, beta)
    noise = sigma[:, None, None] * rng.standard_normal((spatial.size, t, n))
    if design.spec.is_lag:
        replicated = reduced_form_solve(design.W, spatial, mean + noise)
    else:
        replicated = mean + reduced_form_solve(design.W, spatial, noise)
    projected = np.moveaxis(design.project(np.moveaxis(replicated, 0, -1)), -1, 0)
    return xr.Dataset(
        {"y": (("chain", "draw", PERIOD, UNIT), projected.reshape(chains, index.size, t, n))},
        coords={
            "chain": post["chain"].to_numpy(),
            "draw": index,
            PERIOD: list(design.data.periods),
            UNIT: list(design.data.units),
        },
    )


def _moran(values: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Moran's I of each period's values, averaged over periods, ``(...)`` for
    ``(..., T, N)`` values. Each period is centred across units, as Moran's I requires
    (transformed values are centred already only under time effects)."""
    values = values - values.mean(axis=-1, keepdims=True)
    lagged = values @ W.T
    n = values.shape[-1]
    num = np.sum(values * lagged, axis=-1)
    den = np.sum(values * values, axis=-1)
    return (n / W.sum()) * np.mean(num / den, axis=-1)


def ppc_pvalues(design: SpatialPanelDesign, replicated: xr.Dataset) -> dict[str, float]:
    """Posterior predictive p-values ``P(T(y_rep) >= T(y))`` (Gelman et al. 2013, ch. 6)
    for the standard deviation of the demeaned ``y`` and its mean Moran's I across
    periods; values near 0 or 1 flag a feature the model does not reproduce."""
    rep = replicated["y"].to_numpy()
    observed = design.y
    stats = {
        "sd": (np.std(rep, axis=(-2, -1)), np.std(observed)),
        "moran_i": (_moran(rep, design.W), _moran(observed, design.W)),
    }
    return {key: float(np.mean(rep_stat >= obs)) for key, (rep_stat, obs) in stats.items()}


# --- summaries ----------------------------------------------------------------------------


def _quantity_frame(stats: Mapping[str, xr.DataArray]) -> pd.DataFrame:
    data = xr.Dataset(dict(stats))
    if not data.dims:
        return pd.DataFrame({key: [float(value)] for key, value in data.data_vars.items()})
    return data.to_dataframe().reset_index()


def summarise_variable(tree: xr.DataTree, var: str, *, prob: float = INTERVAL_PROB) -> pd.DataFrame:
    """Posterior summary of one variable of ``tree["posterior"]``, one row per element.

    Columns: the variable's dimensions, then :data:`POSTERIOR_COLUMNS`: mean, sd, the
    central (equal-tailed) interval ``lower``/``upper`` and the HDI at ``prob``, the
    posterior probability of a positive value, Monte Carlo standard errors of the mean and
    sd, rank-normalised split R-hat and bulk/tail ESS (Vehtari et al. 2021; see
    :func:`bayes_ccd.diagnostics.convergence_statistics`). Elements that are constant
    across draws (SEM spillovers fixed at zero) have NaN diagnostics.
    """
    import arviz as az

    from bayes_ccd.diagnostics import convergence_statistics

    draws = tree["posterior"][var]
    sub = xr.DataTree.from_dict({"posterior": xr.Dataset({var: draws})})
    eti = az.eti(sub, prob=prob)[var]
    hdi = az.hdi(sub, prob=prob)[var]
    stats = {
        "mean": draws.mean(("chain", "draw")),
        "sd": draws.std(("chain", "draw"), ddof=1),
        "lower": eti.sel(ci_bound="lower", drop=True),
        "upper": eti.sel(ci_bound="upper", drop=True),
        "hdi_lower": hdi.sel(ci_bound="lower", drop=True),
        "hdi_upper": hdi.sel(ci_bound="upper", drop=True),
        "prob_positive": (draws > 0).mean(("chain", "draw")),
        **convergence_statistics(draws),
    }
    return _quantity_frame({k: v.reset_coords(drop=True) for k, v in stats.items()})


def posterior_tables(
    tree: xr.DataTree, *, prob: float = INTERVAL_PROB
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coefficient and effect tables of a fitted posterior.

    Returns
    -------
    coefficients, effects
        ``term`` (design columns, then the spatial parameter and ``sigma2``, the rows of
        the MLE table) and ``variable, effect``, each followed by
        :data:`POSTERIOR_COLUMNS`, plus ``estimate`` (= mean), ``std_error`` (= sd) and an
        empty ``p_value`` so that estimator-agnostic paper tables read them.
    """
    spatial = next(v for v in ("rho", "lambda") if v in tree["posterior"].data_vars)
    beta = summarise_variable(tree, "beta", prob=prob).rename(columns={TERM: "term"})
    scalars = [
        summarise_variable(tree, name, prob=prob).assign(term=name) for name in (spatial, "sigma2")
    ]
    coefficients = pd.concat([beta, *scalars], ignore_index=True)
    coefficients = coefficients[list(BAYES_COEFFICIENT_COLUMNS)]
    effects = summarise_variable(tree, "effects", prob=prob)
    # Variable by variable, each with its direct, indirect and total effect (MLE layout).
    order = pd.MultiIndex.from_product(
        [list(tree["posterior"][COVARIATE].to_numpy()), list(EFFECT_KINDS)],
        names=["variable", "effect"],
    )
    effects = effects.rename(columns={COVARIATE: "variable", EFFECT: "effect"})
    effects = effects.set_index(["variable", "effect"]).loc[order].reset_index()
    effects = effects[list(BAYES_EFFECT_COLUMNS)]
    return _with_aliases(coefficients), _with_aliases(effects)


def _with_aliases(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(estimate=table["mean"], std_error=table["sd"], p_value=np.nan)


# --- the estimator -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BayesResult:
    """A fitted Bayesian spatial panel.

    Attributes
    ----------
    design
        The transformed design.
    tree
        ``xarray.DataTree`` with groups ``posterior`` (parameters and effects),
        ``sample_stats`` (NUTS only), ``observed_data``, ``posterior_predictive`` (when
        drawn) and ``spatial_marginal`` (the exact sampler's gridded ``p(rho | y)``);
        root attributes ``fit_info`` and ``config`` (JSON strings).
    prior, settings
        What was fitted and how.
    diagnostics
        :class:`bayes_ccd.diagnostics.Diagnostics` of the posterior.
    """

    design: SpatialPanelDesign
    tree: xr.DataTree
    prior: Prior
    settings: SamplerSettings
    diagnostics: Diagnostics

    @property
    def info(self) -> dict[str, Any]:
        """Facts of the fit (``fit.json``)."""
        return json.loads(self.tree.attrs["fit_info"])

    def tables(self, *, prob: float = INTERVAL_PROB) -> tuple[pd.DataFrame, pd.DataFrame]:
        """:func:`posterior_tables` of the result."""
        return posterior_tables(self.tree, prob=prob)


class SpatialPanelBayes:
    """Bayesian estimator of a fixed-effects spatial panel.

    The constructor only stores configuration; :meth:`design` builds the transformed
    design, :meth:`build_model` the PyMC model, :meth:`sample` draws from the posterior
    (every random step seeded), :meth:`posterior_predictive` adds replicated data, and
    :meth:`fit` runs the three steps.

    Parameters
    ----------
    spec
        Model, fixed effects, transformation and variables.
    prior
        ``"default"``, ``"reference"``, a TOML file or a :class:`Prior`.
    settings
        :class:`SamplerSettings`; keyword arguments (``sampler=``, ``draws=``, ...)
        override single fields.
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        prior: str | Path | Prior = "default",
        settings: SamplerSettings | None = None,
        **overrides: Any,
    ) -> None:
        self.spec = spec
        self.prior = resolve_prior(prior)
        self.settings = dataclasses.replace(settings or SamplerSettings(), **overrides)
        if self.settings.sampler == "exact" and not self.prior.conjugate:
            raise SpecificationError(
                f"the prior '{self.prior.name}' is not conjugate (coefficients "
                f"'{self.prior.coefficients.kind}', sigma '{self.prior.sigma.kind}'); "
                "use sampler='nuts'"
            )

    def design(self, data: Panel | PanelArrays, weights: SpatialWeights) -> SpatialPanelDesign:
        """The transformed design of :attr:`spec` on ``data``."""
        return build_design(data, weights, self.spec)

    def build_model(self, design: SpatialPanelDesign) -> pm.Model:
        """The PyMC model of ``design`` under :attr:`prior` (:func:`build_pymc_model`)."""
        return build_pymc_model(design, self.prior)

    def sample(
        self, design: SpatialPanelDesign, *, seed: int | None = None, warn: bool = True
    ) -> BayesResult:
        """Draw from the posterior; effects, diagnostics and the DataTree follow.

        Warns
        -----
        ConvergenceWarning
            A diagnostic fails its threshold (``warn=True``); the verdict is also in
            :attr:`BayesResult.diagnostics` and ``fit_info``.
        """
        from bayes_ccd.diagnostics import diagnose

        settings = self.settings if seed is None else dataclasses.replace(self.settings, seed=seed)
        params = prior_parameters(self.prior, design)
        groups: dict[str, xr.Dataset] = {}
        start = time.perf_counter()
        if settings.sampler == "exact":
            exact = ExactPosterior(design, params)
            grid, density = exact.grid(settings.grid_size)
            draws = exact.sample(settings.draws, settings.chains, settings.seed, (grid, density))
            groups["spatial_marginal"] = xr.Dataset(
                {"density": ("grid", density)}, coords={"grid": grid}
            )
            timings = {"compile_seconds": 0.0, "sampling_seconds": time.perf_counter() - start}
        else:
            draws, groups["sample_stats"], timings = sample_nuts(design, params, settings)
        start = time.perf_counter()
        groups["posterior"] = posterior_dataset(design, draws)
        groups["observed_data"] = _observed_dataset(design)
        timings["effects_seconds"] = time.perf_counter() - start
        tree = xr.DataTree.from_dict({f"/{k}": v for k, v in groups.items()})
        diagnostics = diagnose(tree, warn=warn)
        info = _fit_info(design, self.prior, settings, diagnostics, timings)
        tree.attrs["fit_info"] = json.dumps(info, default=json_default)
        tree.attrs["config"] = json.dumps(
            {
                "spec": dataclasses.asdict(self.spec),
                "prior": self.prior.to_dict(),
                "settings": dataclasses.asdict(settings),
            },
            default=json_default,
        )
        return BayesResult(design, tree, self.prior, settings, diagnostics)

    def posterior_predictive(
        self, result: BayesResult, *, n_draws: int | None = None, seed: int | None = None
    ) -> BayesResult:
        """``result`` with a ``posterior_predictive`` group (:func:`posterior_predictive`)
        and the p-values of :func:`ppc_pvalues` in ``fit_info``."""
        n_draws = result.settings.ppc_draws if n_draws is None else n_draws
        seed = result.settings.seed if seed is None else seed
        replicated = posterior_predictive(
            result.design, result.tree["posterior"].to_dataset(), n_draws=n_draws, seed=seed
        )
        tree = result.tree.copy()
        tree["posterior_predictive"] = xr.DataTree(replicated)
        info = result.info | {"ppc_pvalues": ppc_pvalues(result.design, replicated)}
        tree.attrs["fit_info"] = json.dumps(info, default=json_default)
        return dataclasses.replace(result, tree=tree)

    def fit(
        self, data: Panel | PanelArrays, weights: SpatialWeights, *, warn: bool = True
    ) -> BayesResult:
        """Design, posterior draws and (with ``settings.ppc_draws > 0``) the posterior
        predictive check."""
        result = self.sample(self.design(data, weights), warn=warn)
        if self.settings.ppc_draws > 0:
            result = self.posterior_predictive(result)
        return result


def fit_bayes(
    data: Panel | PanelArrays, weights: SpatialWeights, spec: ModelSpec, **options: Any
) -> BayesResult:
    """Fit ``spec``: ``SpatialPanelBayes(spec, **options).fit(data, weights)``."""
    return SpatialPanelBayes(spec, **options).fit(data, weights)


def _fit_info(
    design: SpatialPanelDesign,
    prior: Prior,
    settings: SamplerSettings,
    diagnostics: Diagnostics,
    timings: Mapping[str, float],
) -> dict[str, Any]:
    return design.facts() | {
        "estimator": "bayes",
        "spatial_parameter": design.spec.spatial_parameter,
        "sampler": settings.sampler,
        "draws": settings.draws,
        "chains": settings.chains,
        "tune": settings.tune if settings.sampler == "nuts" else None,
        "seed": settings.seed,
        "prior": prior.to_dict(),
        "converged": diagnostics.converged,
        "verdict": diagnostics.verdict,
        "divergences": diagnostics.divergences,
        "diagnostic_messages": list(diagnostics.messages),
        "timings": dict(timings),
        "dropped_units": [],
        "warnings": [],
    }


# --- saving and loading ----------------------------------------------------------------


def save_posterior(tree: xr.DataTree, path: str | Path) -> Path:
    """Write ``tree`` as NetCDF-4 (h5netcdf); attributes are JSON strings."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.to_netcdf(path, engine="h5netcdf")
    return path


def load_posterior(path: str | Path) -> xr.DataTree:
    """Read a saved posterior into memory (the file is closed afterwards)."""
    with xr.open_datatree(Path(path), engine="h5netcdf") as tree:
        return tree.load()


def report_from_tree(tree: xr.DataTree, *, prob: float = INTERVAL_PROB) -> FitReport:
    """A :class:`~bayes_ccd.ml.FitReport` of a posterior (fresh or reloaded): posterior
    tables, an empty test table and ``fit_info`` with posterior means of the spatial
    parameter and ``sigma2`` (keys ``rho``/``lambda`` and ``sigma2``) and the interval
    probability."""
    from bayes_ccd.ml import TEST_COLUMNS

    coefficients, effects = posterior_tables(tree, prob=prob)
    info = json.loads(tree.attrs["fit_info"])
    means = coefficients.set_index("term")["mean"]
    info |= {
        info["spatial_parameter"]: float(means[info["spatial_parameter"]]),
        "sigma2": float(means["sigma2"]),
        "interval_prob": prob,
    }
    return FitReport(coefficients, effects, pd.DataFrame(columns=list(TEST_COLUMNS)), info)


# --- national and regional runs ----------------------------------------------------------


class BayesFit(NamedTuple):
    """Reports and posteriors of a national (and regional) Bayesian run, keyed by sample
    label (``NATIONAL`` first, then regions)."""

    reports: dict[str, FitReport]
    trees: dict[str, xr.DataTree]


def settings_from_config(
    config: Mapping[str, Any] | None, **overrides: Any
) -> tuple[SamplerSettings, str | Path | Prior]:
    """Sampler settings and prior from a merged run configuration (its ``[bayes]``
    section and ``run.seed``); keyword arguments that are not ``None`` override them.

    A prior file is taken relative to the configuration file."""
    section = dict((config or {}).get("bayes", {}))
    run = (config or {}).get("run", {})
    values: dict[str, Any] = {
        key: section[key]
        for key in ("sampler", "draws", "tune", "chains", "target_accept", "ppc_draws")
        if key in section
    }
    if "seed" in run:
        values["seed"] = run["seed"]
    values |= {k: v for k, v in overrides.items() if v is not None and k != "prior"}
    prior: str | Path | Prior = overrides.get("prior") or section.get("prior", "default")
    if isinstance(prior, str) and prior not in PRIOR_PRESETS and run.get("config_file"):
        prior = resolve_prior(prior, Path(run["config_file"]).parent)
    return SamplerSettings(**values), prior


def fit_bayes_reports(
    data: Panel | PanelArrays,
    weights: SpatialWeights,
    spec: ModelSpec,
    *,
    regions: pd.Series | None = None,
    config: Mapping[str, Any] | None = None,
    prior: str | Path | Prior | None = None,
    sampler: Sampler | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    islands: Islands = "drop",
    prob: float = INTERVAL_PROB,
    progress: Callable[[str], None] | None = None,
) -> BayesFit:
    """National and, with ``regions``, regional Bayesian fits as reports and posteriors.

    The entry point of ``bayes-ccd fit --estimator bayes`` and of ``bayes-ccd run``; pass
    the result to :func:`write_bayes_outputs`. Regional models cut ``W`` to each region
    and re-standardise it (:func:`bayes_ccd.ml.regional_weights`, units without a
    neighbour in their region dropped); NUTS compiles once and re-uses the compiled model
    for every sample. Every sample uses the same seed.

    Parameters
    ----------
    config
        A merged run configuration (:func:`bayes_ccd.config.load_run_config`): its
        ``[bayes]`` section and ``run.seed``; the keyword arguments override it.
    """
    settings, chosen_prior = settings_from_config(
        config, prior=prior, sampler=sampler, draws=draws, tune=tune, chains=chains, seed=seed
    )
    estimator = SpatialPanelBayes(spec, prior=chosen_prior, settings=settings)
    samples = {NATIONAL: Sample(as_arrays(data, spec), weights)}
    if regions is not None:
        samples |= regional_samples(data, weights, regions, spec, islands)
    reports, trees = {}, {}
    for label, sample in samples.items():
        if progress is not None:
            progress(f"Bayesian {spec.model.upper()} ({settings.sampler}), sample {label}")
        notes = list(sample.notes)
        with recorded_warnings(notes):
            result = estimator.fit(sample.data, sample.weights)
        info = result.info | {
            "sample": label,
            "dropped_units": list(sample.dropped),
            "warnings": list(dict.fromkeys(notes)),
        }
        result.tree.attrs["fit_info"] = json.dumps(info, default=json_default)
        trees[label] = result.tree
        reports[label] = report_from_tree(result.tree, prob=prob)
    return BayesFit(reports, trees)


# --- writing -----------------------------------------------------------------------------


def posterior_paper_table(
    long: pd.DataFrame, *, row: str | list[str], column: str, digits: int = 3
) -> pd.DataFrame:
    """Posterior means with the central interval below them (``[lower, upper]``), in the
    layout of the seed paper's Tables 7-8 (one column per ``column`` value)."""
    rows = [row] if isinstance(row, str) else list(row)
    cells = long.assign(
        _mean=[f"{m:.{digits}f}" for m in long["mean"]],
        _interval=[
            f"[{a:.{digits}f}, {b:.{digits}f}]"
            for a, b in zip(long["lower"], long["upper"], strict=True)
        ],
    )
    row_keys = list(dict.fromkeys(map(tuple, cells[rows].to_numpy())))
    columns = list(dict.fromkeys(cells[column]))
    records, labels = [], []
    for key in row_keys:
        match = (cells[rows] == pd.Series(key, index=rows)).all(axis=1)
        part = cells[match].set_index(column)
        label = " / ".join(map(str, key))
        records.append(part["_mean"].reindex(columns).fillna(""))
        records.append(part["_interval"].reindex(columns).fillna(""))
        labels += [(label, ""), (label, "interval")]
    table = pd.DataFrame(records)
    table.index = pd.MultiIndex.from_tuples(labels, names=[" / ".join(rows), " "])
    table.columns = [str(c) for c in columns]
    return table


def _write_sample(
    report: FitReport, tree: xr.DataTree, directory: Path, *, figures: bool
) -> list[Path]:
    from bayes_ccd.diagnostics import diagnose, write_diagnostic_plots

    paths = write_sample_files(
        report,
        directory,
        coefficient_columns=BAYES_COEFFICIENT_COLUMNS,
        effect_columns=BAYES_EFFECT_COLUMNS,
    )
    paths.append(save_posterior(tree, directory / "posterior.nc"))
    diagnostics = diagnose(tree, warn=False)
    paths.append(directory / "diagnostics.csv")
    diagnostics.table.to_csv(paths[-1], index=False)
    if figures:
        paths += write_diagnostic_plots(tree, directory)
    return paths


def write_bayes_outputs(
    fit: BayesFit,
    directory: str | Path,
    *,
    metadata: Mapping[str, Any] | None = None,
    digits: int = 3,
    figures: bool = True,
) -> list[Path]:
    """Write a Bayesian run into ``directory`` (inside
    :func:`bayes_ccd.reports.atomic_output_dir`).

    Layout (the MLE layout of :func:`bayes_ccd.ml.write_fit_outputs`, with posterior
    columns):

    - ``coefficients.csv`` (``term`` + :data:`POSTERIOR_COLUMNS`), ``effects.csv``
      (``variable, effect`` + :data:`POSTERIOR_COLUMNS`), ``fit.json``, ``posterior.nc``,
      ``diagnostics.csv``, ``filled_cells.csv`` (when the missing-value policy filled
      cells) and (``figures``) ``trace.png``, ``rank.png``, ``effects_forest.png``,
      ``ppc.png`` of the national sample;
    - ``regions/<region>/`` with the same files for each region;
    - ``regression_table`` and ``effects_table`` (``.csv/.md/.tex``): posterior means
      with central intervals, one column per sample (the seed paper's Tables 7-8);
    - with regions: ``coefficients_by_region.csv``, ``effects_by_region.csv`` and
      ``diagnostics_by_region.csv`` (long, with a ``region`` column);
    - ``metadata.json`` when ``metadata`` is given.
    """
    from bayes_ccd.diagnostics import diagnose

    reports, trees = fit.reports, fit.trees
    directory = Path(directory)
    main = main_sample(reports)
    written = []
    for label, report in reports.items():
        target = sample_directory(directory, label, main)
        written += _write_sample(report, trees[label], target, figures=figures)
    prob = reports[main].info.get("interval_prob", INTERVAL_PROB)
    note = (
        f"Posterior means; {prob:.0%} central posterior intervals below. "
        f"Sampler: {reports[main].info['sampler']}; prior: {reports[main].info['prior']['name']}."
    )
    model = reports[main].info.get("label", "")
    coefficients = pd.concat(
        [r.coefficients.assign(sample=label) for label, r in reports.items()], ignore_index=True
    )
    written += write_table(
        posterior_paper_table(coefficients, row="term", column="sample", digits=digits),
        directory,
        "regression_table",
        index=True,
        digits=digits,
        caption=f"Posterior estimates: {model}",
        notes=note,
    )
    effects = pd.concat(
        [r.effects.assign(sample=label) for label, r in reports.items()], ignore_index=True
    )
    if len(reports) == 1:
        effect_table = posterior_paper_table(
            effects, row="variable", column="effect", digits=digits
        )
    else:
        effects["_order"] = effects["effect"].map({k: i for i, k in enumerate(EFFECT_KINDS)})
        effect_table = posterior_paper_table(
            effects.sort_values("_order", kind="stable"),
            row=["effect", "variable"],
            column="sample",
            digits=digits,
        )
    written += write_table(
        effect_table,
        directory,
        "effects_table",
        index=True,
        digits=digits,
        caption=f"Direct, indirect and total effects (posterior): {model}",
        notes=note,
    )
    if len(reports) > 1:
        by_region = {
            "coefficients": {
                label: r.coefficients[list(BAYES_COEFFICIENT_COLUMNS)]
                for label, r in reports.items()
            },
            "effects": {
                label: r.effects[list(BAYES_EFFECT_COLUMNS)] for label, r in reports.items()
            },
            "diagnostics": {label: diagnose(trees[label], warn=False).table for label in reports},
        }
        for name, tables in by_region.items():
            written.append(write_by_region(tables, directory / f"{name}_by_region.csv"))
    if metadata is not None:
        written.append(write_json(dict(metadata), directory / "metadata.json"))
    return written


def summary_lines(fit: BayesFit) -> list[str]:
    """One line per sample for the CLI and the run summary: the spatial parameter's
    posterior mean and interval, and the convergence verdict (never silent)."""
    lines = []
    for label, report in fit.reports.items():
        info = report.info
        name = info["spatial_parameter"]
        row = report.coefficients.set_index("term").loc[name]
        verdict = "converged" if info["converged"] else "NOT CONVERGED"
        line = (
            f"{label}: N={info['N']}, T={info['T']}, {name}={row['mean']:.4f} "
            f"[{row['lower']:.4f}, {row['upper']:.4f}], sampler {info['sampler']}, "
            f"diagnostics: {verdict}"
        )
        if not info["converged"]:
            line += " (" + "; ".join(info["diagnostic_messages"]) + ")"
        lines.append(line)
    return lines


__all__ = [
    "BAYES_COEFFICIENT_COLUMNS",
    "BAYES_EFFECT_COLUMNS",
    "DEFAULT_PRIOR",
    "POSTERIOR_COLUMNS",
    "REFERENCE_PRIOR",
    "BayesFit",
    "BayesResult",
    "CoefficientPrior",
    "Conditionals",
    "ExactPosterior",
    "Prior",
    "PriorParameters",
    "SamplerSettings",
    "SigmaPrior",
    "SpatialPanelBayes",
    "SpatialPrior",
    "build_pymc_model",
    "compiled_model",
    "cross_products",
    "fit_bayes",
    "fit_bayes_reports",
    "load_posterior",
    "log_likelihood",
    "log_prior_density",
    "model_data",
    "posterior_dataset",
    "posterior_paper_table",
    "posterior_predictive",
    "posterior_tables",
    "ppc_pvalues",
    "prior_from_mapping",
    "prior_parameters",
    "read_prior_file",
    "report_from_tree",
    "resolve_prior",
    "sample_nuts",
    "sample_piecewise_linear",
    "save_posterior",
    "settings_from_config",
    "summarise_variable",
    "summary_lines",
    "write_bayes_outputs",
]
