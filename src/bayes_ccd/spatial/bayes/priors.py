"""Priors of the Bayesian spatial panels, as configuration, and their numeric hyperparameters.

The hyperparameters are those of one design (scaled to the data; see
:mod:`bayes_ccd.spatial.bayes`).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

from bayes_ccd.exceptions import ConfigError, SpecificationError
from bayes_ccd.spatial.design import INTERCEPT, SpatialPanelDesign

CoefficientPriorKind = Literal["flat", "normal", "independent_normal"]
SigmaPriorKind = Literal["jeffreys", "inverse_gamma", "half_normal"]
SpatialPriorKind = Literal["uniform", "beta"]


PRIOR_PRESETS: Final = ("default", "reference", "tight", "wide")
COEFFICIENT_PRIORS: Final = ("flat", "normal", "independent_normal")
SIGMA_PRIORS: Final = ("jeffreys", "inverse_gamma", "half_normal")
SPATIAL_PRIORS: Final = ("uniform", "beta")


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
    """Prior of ``rho`` (lag models) or ``lambda`` (error models) on its interval ``(lo, hi)``.

    The prior is ``"uniform"``, or ``"beta"`` with ``(rho - lo)/(hi - lo) ~ Beta(a, b)``
    (``a, b >= 1`` keep the density bounded).
    """

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
        """Validate the kinds and values of the prior (:class:`ConfigError` if invalid)."""
        _validate_prior(self)

    @property
    def conjugate(self) -> bool:
        """Whether the exact sampler applies.

        It needs flat/normal coefficients and a Jeffreys or inverse-gamma variance prior.
        """
        return self.coefficients.kind in ("flat", "normal") and self.sigma.kind in (
            "jeffreys",
            "inverse_gamma",
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the prior as plain data (for ``fit.json`` and the NetCDF attributes)."""
        out = dataclasses.asdict(self)
        out["coefficients"]["terms"] = {k: dict(v) for k, v in self.coefficients.terms.items()}
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Prior:
        """Rebuild the prior written by :meth:`to_dict`."""
        return cls(
            CoefficientPrior(**values["coefficients"]),
            SigmaPrior(**values["sigma"]),
            SpatialPrior(**values["spatial"]),
            name=str(values["name"]),
        )


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
#: The default prior with coefficient scales 2.5 times smaller and 4 times larger: the
#: prior-sensitivity pair of a robustness check (a one-sd change of a covariate moves
#: ``y`` by 1 or 10 error sds a priori, instead of 2.5).
TIGHT_PRIOR: Final = Prior(CoefficientPrior(scale=1.0), name="tight")
WIDE_PRIOR: Final = Prior(CoefficientPrior(scale=10.0), name="wide")
_PRESETS: Final = {
    "default": DEFAULT_PRIOR,
    "reference": REFERENCE_PRIOR,
    "tight": TIGHT_PRIOR,
    "wide": WIDE_PRIOR,
}


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
    """Build a :class:`Prior` from parsed TOML.

    The prior is ``base`` (``"default"`` or ``"reference"``, default ``"default"``)
    overridden section by section (``defaults | user``).

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
    """Return the :class:`Prior` that ``value`` names or describes.

    ``value`` is a preset (``"default"``, ``"reference"``, ``"tight"``, ``"wide"``), a
    :class:`Prior`, a mapping, or a TOML file (relative paths are taken relative to ``base``).
    """
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
            f"prior {value!r} is neither a preset ({', '.join(_PRESETS)}) nor an existing TOML file"
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
        """Number ``k_c`` of non-zero conditional precisions ``c_j``."""
        return int(np.count_nonzero(self.conditional_precision))

    @property
    def sigma_shape(self) -> float:
        """Inverse-gamma shape ``a0`` (0 for Jeffreys)."""
        return -self.sigma_power / 2.0


def design_scales(design: SpatialPanelDesign) -> tuple[np.ndarray, float]:
    """Return the scales ``s_j`` and ``s_y`` of the design columns and of ``y``.

    They are root mean squares over the ``n_effective`` transformed observations (sums
    of squares of the demeaned arrays equal those of the transformed ones).
    """
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
    """Evaluate the unnormalised log prior density in ``(rho, beta, log sigma)``.

    See :class:`PriorParameters`; the density is vectorised over leading dimensions.
    """
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
