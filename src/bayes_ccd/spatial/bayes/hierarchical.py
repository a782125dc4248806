"""The hierarchical spatial Durbin model: coefficients varying by region on the full W.

The model
---------
For ``G`` regions and ``r(i)`` the region of unit ``i``, every coefficient of the
national design (``beta_k`` of ``x_k``, ``theta_k`` of ``W x_k``) varies by region,

    y_t = rho W y_t + sum_r [X_t^(r) beta_r + W X_t^(r) theta_r] + mu + alpha_t 1_N + e_t,
    X_t^(r) = X_t * 1[r(i) = r],   e_t ~ N(0, sigma2 I_N),

on the whole ``W``: no spillover is cut at a regional border. It is the national SDM
with the design columns interacted with the region indicators, so the fixed effects
are removed by the same Lee-Yu transformation (:mod:`bayes_ccd.spatial.design`) and the
likelihood depends on the data only through the Gram matrix of ``[y, W y, X^(1..G),
W X^(1..G)]``: the sufficient-statistics model of :mod:`bayes_ccd.spatial.bayes.nuts`
with ``2 + K G`` columns instead of ``2 + K``.

Partial pooling (non-centred; Gelman et al. 2013, *BDA3* ch. 5; Betancourt & Girolami
2015, "Hamiltonian Monte Carlo for hierarchical models"), for each design column ``j``
and region ``r``, on the scale of the standardised data (columns divided by their
national root mean squares ``s_j``, ``y`` by ``s_y``; see
:func:`~bayes_ccd.spatial.bayes.nuts.model_data`):

    beta*_{j,r} = mu*_j + tau*_j z_{j,r},   z_{j,r} ~ N(0, 1),
    tau*_j ~ HalfNormal(pooling_scale),

i.e. on the data scale ``tau_j ~ HalfNormal(pooling_scale s_y/s_j)``: with the default
``pooling_scale = 1`` a between-region standard deviation of one standard deviation of
``y`` per standard deviation of ``x_j`` is plausible, ten is not. The national means
``mu_j`` have the national model's coefficient prior, ``sigma`` and ``rho`` theirs
(:class:`~bayes_ccd.spatial.bayes.priors.PriorParameters`; the log-Jacobian is the
national one, ``rho`` being common). With one region ``beta = mu`` and there are no
scales: the model *is* the national model. ``tau_j`` is the posterior answer to how
much the regions differ.

The regional effects follow from the draws (:mod:`bayes_ccd.spatial.regional_effects`).
Only lag models (SDM, SAR) with fixed effects are supported; ``rho`` is common to all
regions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayes_ccd.conventions import COEFFICIENT, REGION
from bayes_ccd.data.regions import regions_for
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.settings import BayesSettings
from bayes_ccd.spatial.arrays import PanelArrays
from bayes_ccd.spatial.bayes.exact import cross_products
from bayes_ccd.spatial.bayes.priors import PriorParameters
from bayes_ccd.spatial.design import ModelSpec, SpatialPanelDesign, build_design
from bayes_ccd.spatial.operators import require_dense

if TYPE_CHECKING:
    import pymc as pm

#: Compiled nutpie models by (number of national coefficients, number of regions).
_COMPILED: dict[tuple[int, int], Any] = {}


def regional_term(term: str, region: str) -> str:
    """Name the column of ``term`` interacted with ``region``: ``"x1[east]"``."""
    return f"{term}[{region}]"


def regional_arrays(arrays: PanelArrays, membership: pd.Series) -> PanelArrays:
    """Interact the covariates with the region indicators: ``x_k * 1[r(i) = r]``.

    The covariates are ordered covariate-major (``x1[r1], x1[r2], ..., x2[r1], ...``);
    ``membership`` gives the region of every unit of ``arrays`` in order.
    """
    regions = list(dict.fromkeys(membership))
    indicator = np.stack([membership.to_numpy() == r for r in regions], axis=1)  # (N, G)
    x = arrays.x[..., :, None] * indicator[None, :, None, :]  # (T, N, K, G)
    names = tuple(regional_term(name, r) for name in arrays.x_names for r in regions)
    return PanelArrays(
        arrays.y,
        x.reshape(*x.shape[:2], -1),
        arrays.units,
        arrays.periods,
        arrays.y_name,
        names,
        arrays.source,
        arrays.filled,
        arrays.notice,
    )


def hierarchical_design(
    arrays: PanelArrays, weights: SpatialWeights, spec: ModelSpec, regions: pd.Series
) -> tuple[SpatialPanelDesign, SpatialPanelDesign, pd.Series]:
    """Build the national design and the region-interacted design on the full ``W``.

    Returns
    -------
    national, regional, membership
        The national design (it scales the priors), the design of
        :func:`regional_arrays` (the likelihood) and the region of every unit.

    Raises
    ------
    SpecificationError
        An error model, no fixed effects, or a region with fewer than two units.
    DataError
        A unit without a region.
    """
    if not spec.is_lag:
        raise SpecificationError(
            f"the hierarchical model varies the coefficients of a lag model (SDM, SAR), "
            f"not {spec.model.upper()}; use model='sdm'"
        )
    if spec.fe == "none":
        raise SpecificationError(
            "the hierarchical model needs fixed effects (an intercept by region is not "
            "modelled); use fe='both', 'individual' or 'time'"
        )
    membership = regions_for(arrays.units, regions, source=arrays.source)
    counts = membership.value_counts()
    small = sorted(counts.index[counts < 2])
    if small:
        raise SpecificationError(
            f"region(s) {small} have fewer than two units; merge them into a neighbouring "
            "region in the region table"
        )
    national = build_design(arrays, weights, spec)
    require_dense(national.W, "the hierarchical region-varying model")
    interacted = regional_arrays(arrays, membership)
    regional = build_design(interacted, weights, spec.replace(x=interacted.x_names))
    return national, regional, membership


def hierarchical_model_data(
    national: SpatialPanelDesign,
    regional: SpatialPanelDesign,
    params: PriorParameters,
    pooling_scale: float,
) -> dict[str, Any]:
    """Return the ``pm.Data`` values of :func:`build_hierarchical_model` (standardised).

    Those of the national model (:func:`~bayes_ccd.spatial.bayes.nuts.model_data`:
    eigenvalues, bounds, the priors of ``mu``, ``sigma`` and ``rho``; the two designs
    share ``W`` and the fixed effects), with the Gram matrix of ``[y, W y, X^(1..G)]`` of
    the regional design (the ``W X`` block of
    :func:`~bayes_ccd.spatial.bayes.exact.cross_products` serves error models only), each
    interacted column divided by its national scale ``s_j``, and, with two or more
    regions, the pooling scale.
    """
    from bayes_ccd.spatial.bayes.nuts import model_data

    k = regional.n_coefficients
    n_regions = k // national.n_coefficients
    scale = 1.0 / np.concatenate([[params.y_scale] * 2, np.repeat(params.column_scale, n_regions)])
    gram = cross_products(regional)[: 2 + k, : 2 + k] * np.outer(scale, scale)
    values = model_data(national, params)
    values.pop("error_model")
    values["gram"] = gram
    if n_regions > 1:  # one region has no scales (and a compiled model no such input)
        values["pooling_scale"] = float(pooling_scale)
    return values


def build_hierarchical_model(
    national: SpatialPanelDesign,
    regional: SpatialPanelDesign,
    params: PriorParameters,
    regions: Sequence[str],
    pooling_scale: float = BayesSettings.pooling_scale,
) -> pm.Model:
    """Build the hierarchical posterior as a PyMC model (standardised scale).

    Free variables: ``rho`` (uniform on its interval before the prior potential),
    ``mu`` (dims ``coefficient``, flat before the national coefficient prior),
    ``log_sigma`` (flat) and, with two or more regions, ``tau`` (``coefficient``,
    half-normal with scale ``pooling_scale``) and ``z`` (``coefficient`` x ``region``,
    standard normal); ``beta = mu + tau z``. Potentials: the likelihood from the Gram
    matrix, and the log-Jacobian and priors of
    :func:`~bayes_ccd.spatial.bayes.nuts.add_prior_potentials` applied to ``mu``. Every
    input is ``pm.Data``, so the compiled model serves any data set of the same shape.
    """
    import pymc as pm
    import pytensor.tensor as pt

    from bayes_ccd.spatial.bayes.nuts import add_prior_potentials

    values = hierarchical_model_data(national, regional, params, pooling_scale)
    coords = {COEFFICIENT: list(national.names), REGION: list(regions)}
    with pm.Model(coords=coords) as model:
        data = {key: pm.Data(key, value) for key, value in values.items()}
        rho = pm.Uniform("rho", lower=data["lower"], upper=data["upper"])
        mu = pm.Flat("mu", dims=COEFFICIENT)
        log_sigma = pm.Flat("log_sigma")
        if len(regions) > 1:
            tau = pm.HalfNormal("tau", sigma=data["pooling_scale"], dims=COEFFICIENT)
            z = pm.Normal("z", 0.0, 1.0, dims=(COEFFICIENT, REGION))
            beta = (mu[:, None] + tau[:, None] * z).reshape((-1,))
        else:
            beta = mu
        a = pt.concatenate([pt.ones(1), -rho[None], -beta])
        pm.Potential(
            "log_likelihood",
            -data["n_effective"] * log_sigma
            - 0.5 * (a @ data["gram"] @ a) * pt.exp(-2.0 * log_sigma),
        )
        add_prior_potentials(data, rho, mu, log_sigma)
    return model


def sample_hierarchical(
    national: SpatialPanelDesign,
    regional: SpatialPanelDesign,
    params: PriorParameters,
    regions: Sequence[str],
    settings: BayesSettings,
    seed: int,
) -> tuple[dict[str, np.ndarray], Any, dict[str, float]]:
    """Sample the hierarchical posterior by NUTS through nutpie.

    The model is compiled once per process for each (number of coefficients, number of
    regions) and re-used with new data. Returns the draws on the data scale (``rho``,
    ``beta`` ``(chain, draw, K G)`` in the regional design's column order, ``mu`` and
    ``tau`` ``(chain, draw, K)``, ``sigma2``), nutpie's sampler statistics and the
    timings.
    """
    import nutpie

    from bayes_ccd.spatial.bayes.nuts import run_nutpie, sampler_statistics

    g = len(regions)
    key = (national.n_coefficients, g)
    compile_seconds = 0.0
    if key not in _COMPILED:
        start = time.perf_counter()
        model = build_hierarchical_model(
            national, regional, params, regions, settings.pooling_scale
        )
        _COMPILED[key] = nutpie.compile_pymc_model(model, backend="numba")
        compile_seconds = time.perf_counter() - start
    values = hierarchical_model_data(national, regional, params, settings.pooling_scale)
    compiled = _COMPILED[key].with_data(**values)
    trace, sampling_seconds = run_nutpie(compiled, settings, seed)
    post = trace["posterior"].to_dataset()
    ratio = params.y_scale / params.column_scale
    mu = post["mu"].to_numpy()
    if g > 1:
        tau = post["tau"].to_numpy()
        beta = mu[..., None] + tau[..., None] * post["z"].to_numpy()
    else:
        tau = np.zeros_like(mu)
        beta = mu[..., None]
    draws = {
        "rho": post["rho"].to_numpy(),
        "beta": (beta * ratio[:, None]).reshape(*beta.shape[:2], -1),
        "mu": mu * ratio,
        "tau": tau * ratio,
        "sigma2": (params.y_scale * np.exp(post["log_sigma"].to_numpy())) ** 2,
    }
    timings = {"compile_seconds": compile_seconds, "sampling_seconds": sampling_seconds}
    return draws, sampler_statistics(trace), timings
