"""Simulated spatial panels from the model of :mod:`bayes_ccd.spatial.design`.

They serve Monte Carlo studies, tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from bayes_ccd.data.weights import DENSE_SPECTRUM_LIMIT, SpatialWeights
from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.spatial.arrays import PanelArrays
from bayes_ccd.spatial.design import LAG_MODELS, FixedEffects, Model, effects_spectrum
from bayes_ccd.spatial.operators import solve_system, spatial_lag

#: The notice of a panel :func:`simulate_panel` drew, written beside it by ``bayes-ccd
#: simulate`` and carried into every output made from it.
SIMULATED_NOTICE: Final = (
    "SYNTHETIC panel drawn by bayes-ccd simulate from known parameters: not data, "
    "never a finding about the units it names."
)


def simulate_panel(
    weights: SpatialWeights,
    *,
    n_periods: int,
    beta: Sequence[float],
    theta: Sequence[float] | None = None,
    spatial: float = 0.0,
    sigma2: float = 1.0,
    model: Model = "sdm",
    fe: FixedEffects = "both",
    nu: float | None = None,
    seed: int,
) -> PanelArrays:
    """Draw a panel from the model of the module docstring (Monte Carlo, tests, benchmarks).

    Covariates are standard normal plus half the unit effect (so that ignoring the
    individual effects biases the estimates); unit and period effects are standard
    normal; without fixed effects the intercept is 1. ``y_t = (I - rho W)^{-1}
    (X_t beta + W X_t theta + mu + alpha_t 1 + e_t)`` for SAR/SDM and
    ``y_t = X_t beta + W X_t theta + mu + alpha_t 1 + (I - lambda W)^{-1} e_t`` for
    SEM/SDEM, with ``e_t ~ N(0, sigma2 I)``, or with ``nu`` iid ``sqrt(sigma2) t_nu``
    errors (Student-t; ``sigma2`` is then the squared scale).

    ``beta`` and ``theta`` are ``(K,)``, or ``(N, K)`` for coefficients that vary by unit
    (e.g. by region): then ``x_it beta_i`` and ``sum_j w_ij x_jt theta_j``, the lag of
    ``theta_j x_j`` belonging to the unit ``j`` that sends it (the hierarchical model of
    :mod:`bayes_ccd.spatial.bayes.hierarchical`).

    Returns
    -------
    PanelArrays
        Units of ``weights``, periods ``1..T``, covariates ``x1..xK``.
    """
    rng = np.random.default_rng(seed)
    W = _matrix(weights)
    n = weights.n
    beta_arr = np.asarray(beta, dtype=float)
    mu = rng.standard_normal(n) if fe in ("individual", "both") else np.zeros(n)
    alpha = rng.standard_normal(n_periods) if fe in ("time", "both") else np.zeros(n_periods)
    k = beta_arr.shape[-1]
    x = rng.standard_normal((n_periods, n, k)) + 0.5 * mu[None, :, None]
    mean = (x * beta_arr).sum(axis=-1) + mu + alpha[:, None] + (1.0 if fe == "none" else 0.0)
    if theta is not None:
        mean = mean + spatial_lag(W, x * np.asarray(theta, dtype=float)).sum(axis=-1)
    if nu is None:
        noise = np.sqrt(sigma2) * rng.standard_normal((n_periods, n))
    else:
        noise = np.sqrt(sigma2) * rng.standard_t(nu, (n_periods, n))
    if model in LAG_MODELS:
        y = solve_system(W, spatial, mean + noise)
    else:
        y = mean + solve_system(W, spatial, noise)
    return PanelArrays(
        y,
        x,
        weights.units,
        tuple(range(1, n_periods + 1)),
        "y",
        tuple(f"x{j + 1}" for j in range(k)),
    )


def _matrix(weights: SpatialWeights) -> object:
    # The same W as the fit's design: dense for small panels (unchanged draws), sparse
    # above the limit, where an n x n array would not fit.
    return weights.dense if weights.n <= DENSE_SPECTRUM_LIMIT else weights.sparse


def true_effects(
    weights: SpatialWeights,
    *,
    beta: Sequence[float],
    theta: Sequence[float] | None = None,
    spatial: float = 0.0,
    model: Model = "sdm",
    names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Average direct, indirect and total effects of the model :func:`simulate_panel` draws.

    ``direct_k = (1/N) tr[(I - rho W)^{-1} (beta_k I + theta_k W)]`` and
    ``total_k = (1/N) 1' (I - rho W)^{-1} (beta_k I + theta_k W) 1`` (LeSage & Pace 2009,
    ch. 2), ``indirect = total - direct``, ``theta`` as :func:`simulate_panel` applies it
    (whenever given) and ``rho = 0`` for the error models (SEM, SDEM), whose spatial
    process is in the error. The eigenvalues of ``W`` up to
    :data:`~bayes_ccd.data.weights.DENSE_SPECTRUM_LIMIT` units, the Monte Carlo traces of
    its powers above (their error is that of the fits' effects).

    Returns
    -------
    pandas.DataFrame
        One row per covariate (``names``, default ``x1..xK``), columns ``direct``,
        ``indirect``, ``total``.
    """
    from bayes_ccd.spatial.effects import effects_from_draws

    beta_arr = np.asarray(beta, dtype=float)
    theta_arr = None if theta is None else np.asarray(theta, dtype=float)
    if beta_arr.ndim != 1 or (theta_arr is not None and theta_arr.shape != beta_arr.shape):
        raise SpecificationError(
            f"true effects need one beta and one theta per covariate, got shapes "
            f"{beta_arr.shape} and {None if theta_arr is None else theta_arr.shape}"
        )
    rho = spatial if model in LAG_MODELS else 0.0
    effects = effects_from_draws(
        rho, beta_arr, theta_arr, effects_spectrum(_matrix(weights), weights)
    )
    index = list(names) if names is not None else [f"x{k + 1}" for k in range(beta_arr.size)]
    return pd.DataFrame(
        {"direct": effects.direct, "indirect": effects.indirect, "total": effects.total},
        index=pd.Index(index, name="variable"),
    )
