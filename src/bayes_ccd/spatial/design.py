"""The spatial panel design: y, W y, X (and W X) with the fixed effects removed.

The model, for periods ``t = 1..T`` and ``N`` units (Elhorst 2014, *Spatial
Econometrics*, ch. 3; Lee & Yu 2010, *J. Econometrics* 154, 165-185), is

    y_t = rho W y_t + X_t beta + W X_t theta + mu + alpha_t 1_N + e_t,
    e_t ~ N(0, sigma2 I_N)                                             (SDM)

SAR sets ``theta = 0``. SEM and SDEM move the spatial process into the error:
``y_t = X_t beta [+ W X_t theta] + mu + alpha_t 1_N + u_t``, ``u_t = lambda W u_t + e_t``.
``mu`` are unit (individual) effects and ``alpha_t`` period (time) effects; ``fe``
chooses ``"both"``, ``"individual"``, ``"time"`` or ``"none"`` (then an intercept).

Two ways of removing the fixed effects
--------------------------------------
``"lee-yu"`` (default): the transformation approach of Lee & Yu (2010). Individual
effects are removed by an orthonormal ``(T-1) x T`` matrix ``F_T'`` whose rows are
orthogonal to ``1_T``, time effects by ``F_N'`` (``(N-1) x N``, rows orthogonal to
``1_N``). Time effects need a row-stochastic ``W``: then ``F_N' W = (F_N' W F_N) F_N'``
and the transformed model is again a spatial model, with iid ``N(0, sigma2)`` errors,
``n_eff = (T-1)(N-1)`` observations (two-way effects) and log-Jacobian

    (T-1) log|I_{N-1} - rho F_N' W F_N| = (T-1) [log|I_N - rho W| - log(1 - rho)]

(Lee & Yu 2010). Each effect costs one period or one unit, so ``sigma2`` is
estimated without the incidental-parameter bias.

``"within"``: demean and keep ``N T`` observations and the ``T log|I - rho W|``
Jacobian: the likelihood with the fixed effects as dummy parameters (Elhorst 2003;
the "direct approach" of Lee & Yu 2010). It is the estimator of Elhorst's MATLAB code
and of spreg, and it divides the residual sum of squares by ``N T`` instead of the
``N(T-1)`` (individual effects) or ``(N-1)(T-1)`` (two-way effects) transformed
observations. Lee & Yu (2010, abstract) show that with individual effects only its
``beta`` and ``rho`` equal those of the transformation approach, but its ``sigma2`` is
inconsistent unless ``T`` is large; with individual and time effects both estimated
directly, consistency of ``sigma2`` needs both ``N`` and ``T`` large, and that of the
other parameters needs ``N`` large (the abstract of the 2008 working-paper version of
the same article). It stays available for comparison, labelled as such.

Representation
--------------
Because ``F F' = J = I - 1 1'/m`` (demeaning), sums of squares of transformed
variables equal those of demeaned ones. :class:`SpatialPanelDesign` therefore holds
*demeaned* arrays of shape ``(T, N)`` (the unit and period layout is kept for
residuals and fixed effects) together with ``n_effective`` and the Jacobian scale;
:meth:`SpatialPanelDesign.orthonormal` returns the transformed arrays (forward Helmert
contrasts as ``F``) whose errors are iid, for a likelihood written observation by
observation (the Bayesian model). Spatial lags are taken of the untransformed data
and then demeaned, which equals ``F_N' W`` applied to the transformed data.

The log-determinant ``log|I - rho W|`` is a :class:`~bayes_ccd.spatial.logdet.LogDeterminant`:
exact from the eigenvalues of ``W`` computed once, ``sum_i log|1 - rho lambda_i|`` (Ord
1975, *JASA* 70, 120-126), for panels of up to
:data:`~bayes_ccd.data.weights.DENSE_SPECTRUM_LIMIT` units; above that ``W`` stays sparse
and the log-determinant comes from sparse LU factorisations on a grid of ``rho`` or, above
:data:`~bayes_ccd.spatial.logdet.SPARSE_LU_LIMIT` units, the Chebyshev approximation with
stochastic traces (:func:`~bayes_ccd.spatial.logdet.automatic_method`; ``ModelSpec.logdet``
chooses otherwise).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

import numpy as np

from bayes_ccd.data.panel import Panel
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import SpecificationError, WeightsError
from bayes_ccd.settings import LOGDET_METHODS
from bayes_ccd.spatial.arrays import PanelArrays
from bayes_ccd.spatial.logdet import LogDeterminant, automatic_method, log_determinant
from bayes_ccd.spatial.operators import is_sparse, spatial_lag

if TYPE_CHECKING:
    from scipy import sparse

    from bayes_ccd.spatial.effects import Spectrum
    from bayes_ccd.spatial.traces import TraceSpectrum

Model = Literal["sdm", "sar", "sem", "sdem"]
FixedEffects = Literal["both", "individual", "time", "none"]
Transform = Literal["lee-yu", "within"]
LogDetMethod = Literal["auto", "eigen", "sparse-lu", "chebyshev"]
#: How one kind of fixed effect is handled: absent, removed by the Lee-Yu orthonormal
#: transformation, or estimated as dummies (the within / direct approach).
Treatment = Literal["none", "transformed", "dummies"]

MODELS: Final = ("sdm", "sar", "sem", "sdem")
FIXED_EFFECTS: Final = ("both", "individual", "time", "none")
TRANSFORMS: Final = ("lee-yu", "within")
#: Models with a spatial lag of y (the others put the spatial process in the error).
LAG_MODELS: Final = frozenset({"sdm", "sar"})
#: Models with spatially lagged covariates W X.
DURBIN_MODELS: Final = frozenset({"sdm", "sdem"})
#: Name of the intercept column (only without fixed effects).
INTERCEPT: Final = "const"
#: Prefix of the spatially lagged covariates in the design.
LAG_PREFIX: Final = "W*"

_FE_LABELS = {
    "both": "two-way fixed effects",
    "individual": "individual fixed effects",
    "time": "time fixed effects",
    "none": "no fixed effects",
}
_TRANSFORM_LABELS = {"lee-yu": "Lee-Yu transformation", "within": "within, uncorrected"}


@dataclass(frozen=True)
class ModelSpec:
    """What to estimate: model, fixed effects, transformation, variables.

    Parameters
    ----------
    model
        ``"sdm"`` (spatial Durbin), ``"sar"`` (spatial lag), ``"sem"`` (spatial error)
        or ``"sdem"`` (spatial Durbin error).
    fe
        Fixed effects: ``"both"``, ``"individual"``, ``"time"`` or ``"none"``.
    transform
        ``"lee-yu"`` (Lee & Yu 2010, default) or ``"within"`` (uncorrected).
    y, x
        Column names of the dependent variable and the covariates (needed when the
        data are a :class:`~bayes_ccd.data.panel.Panel`).
    logdet
        How ``log|I - rho W|`` is computed (:data:`LOGDET_METHODS`); a numerical
        choice, not part of the model, so fits differing only in it are comparable.
    """

    model: Model = "sdm"
    fe: FixedEffects = "both"
    transform: Transform = "lee-yu"
    y: str | None = None
    x: tuple[str, ...] = ()
    logdet: LogDetMethod = "auto"

    def __post_init__(self) -> None:
        """Validate model, fixed effects and transform; refuse a covariate twice or as ``y``."""
        for value, allowed, what in (
            (self.model, MODELS, "model"),
            (self.fe, FIXED_EFFECTS, "fixed effects"),
            (self.transform, TRANSFORMS, "transform"),
            (self.logdet, LOGDET_METHODS, "log-determinant method"),
        ):
            if value not in allowed:
                raise SpecificationError(f"unknown {what} {value!r}; use one of {list(allowed)}")
        x = (self.x,) if isinstance(self.x, str) else tuple(self.x)
        object.__setattr__(self, "x", x)
        repeated = sorted({name for name in x if x.count(name) > 1})
        if repeated:
            raise SpecificationError(f"covariate(s) {repeated} listed twice")
        if self.y is not None and self.y in x:
            raise SpecificationError(f"'{self.y}' is both the dependent variable and a covariate")

    @property
    def individual_effects(self) -> bool:
        """Whether the model has unit (individual) fixed effects."""
        return self.fe in ("individual", "both")

    @property
    def time_effects(self) -> bool:
        """Whether the model has period (time) fixed effects."""
        return self.fe in ("time", "both")

    @property
    def is_lag(self) -> bool:
        """Whether the spatial parameter multiplies ``W y`` (SAR, SDM)."""
        return self.model in LAG_MODELS

    @property
    def is_durbin(self) -> bool:
        """Whether the design contains ``W X`` (SDM, SDEM)."""
        return self.model in DURBIN_MODELS

    @property
    def spatial_parameter(self) -> str:
        """``"rho"`` for lag models, ``"lambda"`` for error models."""
        return "rho" if self.is_lag else "lambda"

    def treatments(self) -> tuple[Treatment, Treatment]:
        """How (individual, time) effects are handled under :attr:`transform`."""
        kind: Treatment = "transformed" if self.transform == "lee-yu" else "dummies"
        return (kind if self.individual_effects else "none", kind if self.time_effects else "none")

    def replace(self, **changes: object) -> ModelSpec:
        """Return a copy with ``changes`` applied (e.g. ``spec.replace(model="sar")``)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def label(self) -> str:
        """Name the model, e.g. ``"SDM, two-way fixed effects (Lee-Yu transformation)"``."""
        return f"{self.model.upper()}, {_FE_LABELS[self.fe]} ({_TRANSFORM_LABELS[self.transform]})"


def as_arrays(data: Panel | PanelArrays, spec: ModelSpec) -> PanelArrays:
    """Return the variables of ``spec`` as :class:`PanelArrays`.

    A :class:`~bayes_ccd.data.panel.Panel` needs ``spec.y`` and ``spec.x``; for arrays a
    non-empty ``spec.x`` selects covariates by name.
    """
    if isinstance(data, Panel):
        if spec.y is None or not spec.x:
            raise SpecificationError(
                "name the dependent variable and the covariates "
                "(ModelSpec(y=..., x=...)) to fit a panel"
            )
        return PanelArrays.from_panel(data, spec.y, spec.x)
    if not isinstance(data, PanelArrays):
        raise SpecificationError(f"data must be a Panel or PanelArrays, not {type(data).__name__}")
    if not spec.x or tuple(spec.x) == data.x_names:
        return data
    missing = [c for c in spec.x if c not in data.x_names]
    if missing:
        raise SpecificationError(
            f"covariate(s) {missing} are not in the arrays (covariates: {list(data.x_names)})"
        )
    index = [data.x_names.index(c) for c in spec.x]
    return dataclasses.replace(data, x=data.x[..., index], x_names=tuple(spec.x))


def helmert(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Forward Helmert contrasts along ``axis``: ``m`` values to ``m - 1``.

    Row ``k`` (``k = 1..m-1``) of the ``(m-1) x m`` matrix ``H`` is
    ``(1, ..., 1, -k, 0, ..., 0) / sqrt(k (k + 1))`` with ``k`` ones, so ``H H' = I``,
    ``H 1 = 0`` and ``H' H = I - 1 1'/m``: an orthonormal basis of the deviations from
    the mean, usable as ``F'`` in the Lee & Yu (2010) transformation. Costs ``O(m)``.
    """
    moved = np.moveaxis(np.asarray(values, dtype=float), axis, 0)
    m = moved.shape[0]
    k = np.arange(1, m, dtype=float).reshape((-1,) + (1,) * (moved.ndim - 1))
    partial = np.cumsum(moved, axis=0)[:-1]
    out = (partial - k * moved[1:]) / np.sqrt(k * (k + 1.0))
    return np.moveaxis(out, 0, axis)


def _demean(values: np.ndarray, axis: int) -> np.ndarray:
    return values - values.mean(axis=axis, keepdims=True)


class OrthonormalDesign(NamedTuple):
    """Transformed observations with iid errors (Lee & Yu 2010), flattened.

    ``y`` and ``wy`` are ``(n_eff,)``, ``X`` and ``WX`` are ``(n_eff, K)``; with
    ``jacobian_scale``, ``unit_root_correction`` and the eigenvalues they define the
    likelihood ``sum_i log N(e_i; 0, sigma2) + log_jacobian(rho)`` where
    ``e = y - rho wy - X b`` (lag models) or ``e = (y - lam wy) - (X - lam WX) b``
    (error models).
    """

    y: np.ndarray
    wy: np.ndarray
    X: np.ndarray
    WX: np.ndarray


@dataclass(frozen=True, eq=False)
class SpatialPanelDesign:
    """The design of a fixed-effects spatial panel, ready for a likelihood.

    Built by :func:`build_design`. Arrays are demeaned according to the fixed effects
    (see the module docstring): sums of squares over them equal those over the
    transformed observations.

    Attributes
    ----------
    spec
        The model specification.
    data
        The untransformed panel (``y`` ``(T, N)``, covariates ``(T, N, k)``).
    weights
        The spatial weights aligned to ``data.units``; ``W`` is its matrix, dense up to
        :data:`~bayes_ccd.data.weights.DENSE_SPECTRUM_LIMIT` units, sparse (CSR) above.
    logdet
        ``log|I - rho W|`` (without the unit root under :attr:`unit_root_correction`).
    rho_bounds
        ``(1/lambda_min, 1/lambda_max)``; ``(1/lambda_min, 1)`` for a row-stochastic W.
    individual, time
        :data:`Treatment` of the individual and the time effects.
    names
        Design columns: covariates, then ``W*<covariate>`` for Durbin models
        (``const`` first without fixed effects).
    y, wy
        Demeaned ``y`` and ``W y``, ``(T, N)``.
    X, WX
        Demeaned design ``(T, N, K)`` and its spatial lag (``W`` applied to each
        design column, then demeaned); ``WX`` is what error models filter with.
    raw_X
        The design before demeaning (for fixed effects and fitted values).
    """

    spec: ModelSpec
    data: PanelArrays
    weights: SpatialWeights
    W: np.ndarray | sparse.csr_matrix
    logdet: LogDeterminant
    rho_bounds: tuple[float, float]
    individual: Treatment
    time: Treatment
    names: tuple[str, ...]
    y: np.ndarray
    wy: np.ndarray
    X: np.ndarray
    WX: np.ndarray
    raw_X: np.ndarray

    @property
    def n_units(self) -> int:
        """Number of units ``N`` of the untransformed panel."""
        return self.data.n_units

    @property
    def n_periods(self) -> int:
        """Number of periods ``T`` of the untransformed panel."""
        return self.data.n_periods

    @property
    def n_coefficients(self) -> int:
        """Number of design columns ``K``."""
        return len(self.names)

    @property
    def periods_effective(self) -> int:
        """``T - 1`` when individual effects are transformed away, else ``T``."""
        return self.n_periods - (self.individual == "transformed")

    @property
    def units_effective(self) -> int:
        """``N - 1`` when time effects are transformed away, else ``N``."""
        return self.n_units - (self.time == "transformed")

    @property
    def n_effective(self) -> int:
        """Number of observations of the likelihood.

        For example ``(T-1)(N-1)`` (Lee-Yu, two-way effects) or ``N T`` (within).
        """
        return self.periods_effective * self.units_effective

    @property
    def jacobian_scale(self) -> int:
        """The log-determinant's factor: ``T - 1`` (Lee-Yu with individual effects) or ``T``."""
        return self.periods_effective

    @property
    def unit_root_correction(self) -> bool:
        """Whether ``log(1 - rho)`` is subtracted from ``log|I - rho W|``.

        This is the case under Lee-Yu time effects: the eigenvalue 1 of a row-stochastic
        ``W`` is transformed away.
        """
        return self.time == "transformed"

    @property
    def n_observations(self) -> int:
        """``N T``: the untransformed observations."""
        return self.n_units * self.n_periods

    @property
    def jacobian_eigenvalues(self) -> np.ndarray:
        """The eigenvalues entering the log-Jacobian (the ``"eigen"`` method only).

        These are all of ``W``'s, or, under :attr:`unit_root_correction`, all but the one
        equal to 1 (the eigenvalues of ``F_N' W F_N``).
        """
        return self.logdet.eigenvalues

    def log_jacobian(self, rho: float | np.ndarray) -> np.ndarray:
        """Log-Jacobian of the transformed model, vectorised over ``rho``.

        ``c [log|I - rho W| - d log(1 - rho)]`` with ``c`` = :attr:`jacobian_scale` and
        ``d = 1`` under :attr:`unit_root_correction` (Ord 1975; Lee & Yu 2010).
        """
        return self.jacobian_scale * self.logdet(np.asarray(rho, dtype=float))

    def log_jacobian_derivatives(self, rho: float) -> tuple[float, float]:
        """Return the first and second derivatives of :meth:`log_jacobian` at ``rho``."""
        first, second = self.logdet.derivatives(rho)
        return self.jacobian_scale * first, self.jacobian_scale * second

    def project(self, values: np.ndarray) -> np.ndarray:
        """Demean ``(T, N, ...)`` values as the fixed effects require.

        Both the transformed and the dummy-estimated effects are swept out.
        """
        out = np.asarray(values, dtype=float)
        if self.individual != "none":
            out = _demean(out, 0)
        if self.time != "none":
            out = _demean(out, 1)
        return out

    def project_transformed(self, values: np.ndarray) -> np.ndarray:
        """Demean only along the dimensions whose effects are transformed away.

        This gives the Lee-Yu transformed space; it is the identity for the within
        estimator.
        """
        out = np.asarray(values, dtype=float)
        if self.individual == "transformed":
            out = _demean(out, 0)
        if self.time == "transformed":
            out = _demean(out, 1)
        return out

    def lag(self, values: np.ndarray) -> np.ndarray:
        """Spatial lag ``W v`` of ``(T, N)`` or ``(T, N, K)`` values, per period."""
        return spatial_lag(self.W, values)

    def transformed_operator(self, matrix: np.ndarray) -> np.ndarray:
        """Return an ``(N, N)`` operator on the units as it acts on the transformed observations.

        The operator is e.g. ``W`` or ``G = W(I - rho W)^{-1}``; the result serves traces
        and quadratic forms.

        Under :attr:`unit_root_correction` the transformed model has ``F_N' M F_N``
        (Lee & Yu 2010); the double-centred ``J M J`` (``J = F_N F_N' = I - 1 1'/N``)
        has the same traces of products, ``tr(F_N' A F_N F_N' B F_N) = tr(J A J J B J)``,
        and needs no basis. Otherwise ``M`` itself.
        """
        if not self.unit_root_correction:
            return matrix
        return (
            matrix
            - matrix.mean(axis=0, keepdims=True)
            - matrix.mean(axis=1, keepdims=True)
            + matrix.mean()
        )

    def orthonormal(self) -> OrthonormalDesign:
        """Return the transformed observations with iid errors (see :class:`OrthonormalDesign`).

        Forward Helmert contrasts along the transformed dimensions; dimensions whose
        effects are dummy-estimated (within) stay demeaned with ``N`` or ``T`` rows.
        """
        out = []
        for values in (self.y, self.wy, self.X, self.WX):
            if self.individual == "transformed":
                values = helmert(values, axis=0)
            if self.time == "transformed":
                values = helmert(values, axis=1)
            out.append(values.reshape((self.n_effective, *values.shape[2:])))
        return OrthonormalDesign(*out)

    def facts(self) -> dict[str, Any]:
        """Return what every fit of this design reports in ``fit.json``.

        The facts are model, fixed effects, transformation, variables, dimensions, the
        interval of the spatial parameter, units, weights, and the cells filled by the
        missing-value policy.
        """
        spec = self.spec
        return {
            "model": spec.model,
            "fe": spec.fe,
            "transform": spec.transform,
            "label": spec.label(),
            "y": self.data.y_name,
            "x": list(self.data.x_names),
            "N": self.n_units,
            "T": self.n_periods,
            "n_observations": self.n_observations,
            "n_effective": self.n_effective,
            "rho_bounds": list(self.rho_bounds),
            "log_determinant": self.logdet.facts(),
            "units": list(self.data.units),
            "weights": self.weights.summary(),
            "filled_cells": self.data.filled_cells(),
        }

    @cached_property
    def spectrum(self) -> Spectrum | TraceSpectrum:
        """What the LeSage-Pace effects need of ``W`` (computed once).

        The eigen-decomposition of a dense ``W``; for a sparse ``W`` the Monte Carlo
        traces of its powers (LeSage & Pace 2009, ch. 4), whose error the effects report.
        """
        return effects_spectrum(self.W, self.weights)


def effects_spectrum(
    W: np.ndarray | sparse.csr_matrix, weights: SpatialWeights
) -> Spectrum | TraceSpectrum:
    """Return what the LeSage-Pace effects need of ``W`` (dense or sparse) of ``weights``.

    The eigen-decomposition of a dense ``W``; for a sparse ``W`` the Monte Carlo traces
    of its powers (LeSage & Pace 2009, ch. 4).
    """
    if is_sparse(W):
        from bayes_ccd.spatial.traces import TraceSpectrum, trace_powers

        return TraceSpectrum(trace_powers(W), weights.is_row_stochastic)
    from bayes_ccd.spatial.effects import spectrum

    return spectrum(W, eigenvalues=weights.eigenvalues, row_stochastic=weights.is_row_stochastic)


def build_design(
    data: Panel | PanelArrays,
    weights: SpatialWeights,
    spec: ModelSpec,
    *,
    treatments: tuple[Treatment, Treatment] | None = None,
) -> SpatialPanelDesign:
    """Build the transformed design of ``spec`` on ``data`` with ``weights``.

    Parameters
    ----------
    data
        A balanced :class:`~bayes_ccd.data.panel.Panel` (with ``spec.y``/``spec.x``) or
        :class:`PanelArrays`.
    weights
        Spatial weights over the same units (any order; aligned by label).
    spec
        Model, fixed effects and transformation.
    treatments
        Override of ``spec.treatments()``, e.g. ``("dummies", "transformed")`` to
        estimate individual effects as dummies on Lee-Yu time-transformed data (the
        nested likelihoods of :func:`bayes_ccd.spatial.specification.fixed_effects_lr_tests`).

    Raises
    ------
    WeightsError
        The weights cover other units than the data.
    SpecificationError
        Too few periods or units for the fixed effects; time effects with a ``W``
        that is not row-stochastic; a design column absorbed by the fixed effects or
        collinear with others (named); too few observations.
    """
    arrays = as_arrays(data, spec)
    if not isinstance(weights, SpatialWeights):
        raise WeightsError(
            "weights must be a SpatialWeights (see bayes_ccd.read_weights and "
            "bayes_ccd.weights_from_array)"
        )
    aligned = weights if weights.units == arrays.units else weights.aligned(arrays.units)
    individual, time = treatments if treatments is not None else spec.treatments()
    _check_dimensions(arrays, individual, time)
    if time != "none" and not aligned.is_row_stochastic:
        if aligned.islands:
            raise SpecificationError(
                f"unit(s) {list(aligned.islands)} have no neighbours in the weights "
                f"{aligned.source}, so their rows of W are zero and W cannot be "
                "row-stochastic, which time fixed effects need; give them neighbours in the "
                "weights, drop them from the panel, or use individual effects only "
                "(fe='individual', --fe individual)"
            )
        raise SpecificationError(
            f"time fixed effects need a row-stochastic W (rows summing to one), but the "
            f"weights {aligned.source} are not (transform {aligned.transform!r}); "
            "row-standardise W (transform 'r', --weights-transform r) or use "
            "fe='individual'"
        )
    # One path or the other, never a mix: the dense W, its eigenvalues and eigenvector
    # effects, or (large panels) the sparse W, a sparse log-determinant and trace effects.
    method = spec.logdet
    if method == "auto":
        method = automatic_method(aligned.n)
    W = aligned.dense if method == "eigen" else aligned.sparse
    covariates = arrays.x
    names = list(arrays.x_names)
    if spec.is_durbin:
        covariates = np.concatenate([covariates, spatial_lag(W, covariates)], axis=2)
        names += [f"{LAG_PREFIX}{n}" for n in arrays.x_names]
    if spec.fe == "none":
        ones = np.ones((*covariates.shape[:2], 1))
        covariates = np.concatenate([ones, covariates], axis=2)
        names = [INTERCEPT, *names]
    # Eigenvalues and bounds are invariant to the order of units: take them from the
    # caller's object so that aligning (a new object) does not recompute them.
    bounds = weights.rho_bounds()
    design = SpatialPanelDesign(
        spec=spec,
        data=arrays,
        weights=aligned,
        W=W,
        logdet=log_determinant(
            aligned.sparse,
            bounds,
            method=method,
            eigenvalues=weights.eigenvalues if method == "eigen" else None,
            drop_unit_root=time == "transformed",
        ),
        rho_bounds=bounds,
        individual=individual,
        time=time,
        names=tuple(names),
        y=arrays.y,
        wy=spatial_lag(W, arrays.y),
        X=covariates,
        WX=spatial_lag(W, covariates),
        raw_X=covariates,
    )
    design = dataclasses.replace(
        design,
        y=design.project(design.y),
        wy=design.project(design.wy),
        X=design.project(design.X),
        WX=design.project(design.WX),
    )
    _check_design(design)
    return design


def _check_dimensions(arrays: PanelArrays, individual: Treatment, time: Treatment) -> None:
    if individual != "none" and arrays.n_periods < 2:
        raise SpecificationError(
            f"individual fixed effects need at least 2 periods; the panel has "
            f"{arrays.n_periods} (use fe='time' or 'none')"
        )
    if time != "none" and arrays.n_units < 3:
        raise SpecificationError(
            f"time fixed effects need at least 3 units; the panel has {arrays.n_units}"
        )


def _check_design(design: SpatialPanelDesign) -> None:
    """Name design columns that the fixed effects absorb or that are collinear."""
    n, k = design.n_observations, design.n_coefficients
    X = design.X.reshape(n, k)
    norms = np.linalg.norm(X, axis=0)
    scale = np.maximum(np.linalg.norm(design.raw_X.reshape(n, k), axis=0), 1.0)
    for j in np.flatnonzero(norms <= 1e-10 * scale):
        raise SpecificationError(
            f"design column '{design.names[j]}' has no variation left after removing the "
            f"fixed effects: {_absorbed_by(design.raw_X[..., j])}; drop it"
        )
    standardised = X / norms
    rank = 0
    for j in range(k):
        # Columns have unit norm, so an absolute tolerance on singular values is a
        # relative one: 1e-9 flags exact collinearity, not mere correlation.
        new_rank = np.linalg.matrix_rank(standardised[:, : j + 1], tol=1e-9)
        if new_rank == rank:
            raise SpecificationError(
                f"singular design: column '{design.names[j]}' is a linear combination of "
                f"{list(design.names[:j])} (after removing the fixed effects); drop one"
            )
        rank = new_rank
    if np.linalg.norm(design.y) <= 1e-10 * max(np.linalg.norm(design.data.y), 1.0):
        raise SpecificationError(
            f"'{design.data.y_name}' has no variation left after removing the fixed effects"
        )
    if design.n_effective <= k + 2:
        raise SpecificationError(
            f"{design.n_effective} effective observations for {k + 2} parameters; the "
            "panel is too small for this model"
        )


def _absorbed_by(column: np.ndarray) -> str:
    """Why a ``(T, N)`` design column vanished: which fixed effect absorbs it."""
    if np.allclose(column, column[:1, :]):
        return "it is constant over time within each unit (absorbed by the individual effects)"
    if np.allclose(column, column[:, :1]):
        return "it is the same for all units in each period (absorbed by the time effects)"
    return (
        "it is the sum of a unit-specific and a period-specific part (absorbed by the "
        "two-way effects)"
    )
