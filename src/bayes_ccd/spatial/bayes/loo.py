"""Exact leave-one-out predictive densities of the non-factorised spatial likelihoods.

The spatial likelihood does not factorise over observations, but given all parameters
the observations of one period are jointly normal, and the predictive density of one
cell given all the others has a closed form (Bürkner, Gabry & Vehtari 2021, "Efficient
leave-one-out cross-validation for Bayesian non-factorized normal and Student-t models",
*Computational Statistics* 36, eq. 8): for ``y ~ N(m, Q^{-1})`` and ``g = Q (y - m)``,

    y_i | y_{-i} ~ N(y_i - g_i / q_ii, 1 / q_ii).

The cells are the original unit-period observations and the model is the one of
:mod:`bayes_ccd.spatial.design` with its fixed effects as parameters. Per period,
with ``M = I - rho W`` for lag models (``e = M y_t - X_t beta - f_t``) and ``M = I -
lambda W`` for error models (``e = M (y_t - X_t beta - f_t)``), ``Q = M'M/sigma2``, so

    g = M'e / sigma2,    q_ii = (1 - 2 rho w_ii + rho^2 sum_k w_ki^2) / sigma2,

at a cost of ``O(non-zeros of W)`` per draw (``f_t`` are the fixed effects of period
``t``, ``mu + alpha_t 1``).

How the fixed effects enter
---------------------------
The fitted models remove the fixed effects (the Lee-Yu transformation or demeaning),
which is the same as integrating them out under flat priors up to a data-free factor in
``rho`` (:mod:`bayes_ccd.spatial.design`): the posterior of ``(rho, beta, sigma2)`` is
the posterior of the original model with flat fixed-effect priors and that factor in
the prior of ``rho``. Each draw of ``(rho, beta, sigma2)`` is completed by a draw of
``f = D gamma`` (``D`` the dummies of the fixed effects, one time dummy dropped when both
are present) from its conditional posterior, which is normal: ``gamma ~ N((D'Omega
D)^{-1} D'Omega u, sigma2 (D'Omega D)^{-1})`` with ``Omega = I_T (x) M'M`` for error
models (``u = y - X beta``) and ``Omega = I`` for lag models (``u = M y - X beta``).
These joint draws are draws from the full posterior, so PSIS-LOO (Vehtari, Gelman &
Gabry 2017, *Statistics and Computing* 27) on the pointwise values above estimates the
exact leave-one-out predictive density of every cell.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import xarray as xr

from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.exceptions import ConvergenceWarning, warn
from bayes_ccd.spatial.design import SpatialPanelDesign
from bayes_ccd.spatial.operators import require_dense

#: Draws processed at once (bounds the memory of the batched fixed-effect systems).
_CHUNK: Final = 512
#: The log-likelihood variable of the ``log_likelihood`` group (ArviZ's convention).
OBSERVED: Final = "y"


def _structural(design: SpatialPanelDesign, rho: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Return ``u`` (see the module docstring), ``(S, T, N)``, for ``S`` draws."""
    data = design.data
    fitted = np.moveaxis(design.raw_X @ beta.T, 2, 0)
    if design.spec.is_lag:
        wy = design.lag(data.y)
        return data.y - rho[:, None, None] * wy - fitted
    return data.y - fitted


def _filter(design: SpatialPanelDesign, spatial: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Apply ``M = I - spatial W`` per draw and period to ``(S, T, N)`` values."""
    return values - spatial[:, None, None] * (values @ design.W.T)


def _normal_equations(
    design: SpatialPanelDesign, spatial: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``D'Omega D`` and ``D'Omega u`` per draw, ``(S, P, P)`` and ``(S, P)``.

    ``D`` holds the unit dummies, then the period dummies (the first one dropped when
    both are present). With ``G = M'M`` (the identity for lag models), ``s = G 1`` and
    ``c = 1'G 1`` the blocks are ``T G``, ``s`` in every period column and ``c I``, and
    the right-hand side is ``G sum_t u_t`` and ``s'u_t``: ``O(N^2)`` per draw instead of
    forming ``D`` (``N T x (N + T)``).
    """
    spec, W = design.spec, design.W
    S, T, N = u.shape
    if spec.is_lag:
        G = np.broadcast_to(np.eye(N), (S, N, N))
    else:
        M = np.eye(N) - spatial[:, None, None] * W
        G = np.swapaxes(M, 1, 2) @ M
    s = G.sum(axis=2)
    c = s.sum(axis=1)
    first = 1 if spec.individual_effects else 0
    periods = T - first if spec.time_effects else 0
    units = N if spec.individual_effects else 0
    gram = np.zeros((S, units + periods, units + periods))
    rhs = np.zeros((S, units + periods))
    if units:
        gram[:, :N, :N] = T * G
        rhs[:, :N] = (G @ u.sum(axis=1)[..., None])[..., 0]
    if periods:
        gram[:, units:, units:] = c[:, None, None] * np.eye(periods)
        rhs[:, units:] = np.einsum("sn,stn->st", s, u)[:, first:]
        if units:
            gram[:, :N, units:] = s[:, :, None]
            gram[:, units:, :N] = s[:, None, :]
    return gram, rhs


def fixed_effect_draws(
    design: SpatialPanelDesign,
    spatial: np.ndarray,
    beta: np.ndarray,
    sigma2: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw the fixed effects ``f_it = mu_i + alpha_t`` from their conditional posterior.

    Parameters
    ----------
    design
        The design of the fit.
    spatial, beta, sigma2
        ``S`` posterior draws (flattened over chains): ``(S,)``, ``(S, K)``, ``(S,)``.
    rng
        The random generator.

    Returns
    -------
    numpy.ndarray
        ``(S, T, N)``; zeros without fixed effects (see the module docstring).
    """
    spec = design.spec
    S, T, N = spatial.shape[0], design.n_periods, design.n_units
    out = np.zeros((S, T, N))
    if not (spec.individual_effects or spec.time_effects):
        return out
    first = 1 if spec.individual_effects else 0
    units = N if spec.individual_effects else 0
    for start in range(0, S, _CHUNK):
        part = slice(start, min(start + _CHUNK, S))
        u = _structural(design, spatial[part], beta[part])
        gram, rhs = _normal_equations(design, spatial[part], u)
        root = np.linalg.cholesky(gram)
        mean = np.linalg.solve(gram, rhs[..., None])[..., 0]
        z = rng.standard_normal(mean.shape)
        # gamma = mean + sigma L'^{-1} z has covariance sigma2 (L L')^{-1}.
        noise = np.linalg.solve(np.swapaxes(root, 1, 2), z[..., None])[..., 0]
        gamma = mean + np.sqrt(sigma2[part])[:, None] * noise
        if units:
            out[part] += gamma[:, None, :N]
        if spec.time_effects:
            out[part, first:] += gamma[:, units:, None]
    return out


def pointwise_log_predictive(
    design: SpatialPanelDesign,
    spatial: np.ndarray,
    beta: np.ndarray,
    sigma2: np.ndarray,
    fixed: np.ndarray,
) -> np.ndarray:
    """Return ``log p(y_it | y_{-it}, parameters)`` for every draw and cell, ``(S, T, N)``.

    See the module docstring; ``fixed`` are the fixed effects of every draw
    (:func:`fixed_effect_draws`).
    """
    W = design.W
    data = design.data
    fitted = np.moveaxis(design.raw_X @ beta.T, 2, 0) + fixed
    if design.spec.is_lag:
        e = _filter(design, spatial, np.broadcast_to(data.y, fitted.shape)) - fitted
    else:
        e = _filter(design, spatial, data.y - fitted)
    g = _filter_transposed(W, spatial, e) / sigma2[:, None, None]
    column_squares = np.sum(W * W, axis=0)
    q = (
        1.0 - 2.0 * spatial[:, None] * np.diag(W) + spatial[:, None] ** 2 * column_squares
    ) / sigma2[:, None]
    q = q[:, None, :]
    return -0.5 * np.log(2.0 * np.pi) + 0.5 * np.log(q) - 0.5 * g * g / q


def _filter_transposed(W: np.ndarray, spatial: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Apply ``M' = I - spatial W'`` per draw and period to ``(S, T, N)`` values."""
    return values - spatial[:, None, None] * (values @ W)


def log_likelihood_dataset(
    design: SpatialPanelDesign, posterior: xr.Dataset, seed: int
) -> xr.Dataset:
    """Return the ``log_likelihood`` group of a fit: pointwise LOO log densities.

    The variable ``y`` has dims ``(chain, draw, unit, period)``. ``posterior`` is the
    fit's posterior group; ``seed`` seeds the fixed-effect draws.
    Error models read their spatial parameter ``lambda``; SLX fits have none (zero).
    """
    require_dense(design.W, "exact leave-one-out (LOO)")
    name = design.spec.spatial_parameter
    beta = posterior["beta"].to_numpy()
    chains, draws, k = beta.shape
    spatial = (
        posterior[name].to_numpy().ravel()
        if name in posterior.data_vars
        else np.zeros(chains * draws)
    )
    beta = beta.reshape(-1, k)
    sigma2 = posterior["sigma2"].to_numpy().ravel()
    fixed = fixed_effect_draws(design, spatial, beta, sigma2, np.random.default_rng(seed))
    values = pointwise_log_predictive(design, spatial, beta, sigma2, fixed)
    values = np.swapaxes(values.reshape(chains, draws, *values.shape[1:]), 2, 3)
    data = design.data
    return xr.Dataset(
        {OBSERVED: (("chain", "draw", UNIT, PERIOD), values)},
        coords={UNIT: list(data.units), PERIOD: list(data.periods)},
    )


def psis_loo(tree: xr.DataTree, *, independent: bool = False) -> Any:
    """PSIS-LOO of ``tree``'s ``log_likelihood`` group (ArviZ), pointwise values included.

    ArviZ's own warning about high Pareto ``k`` is replaced by :func:`warn_high_pareto_k`,
    which names the cells. ``independent`` draws (the exact sampler) have relative
    efficiency 1, which saves estimating it cell by cell.
    """
    import warnings

    import arviz as az

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        return az.loo(tree, pointwise=True, reff=1.0 if independent else None)


def high_pareto_k(result: Any) -> list[str]:
    """Return the cells (``"unit period"``) whose Pareto ``k`` exceeds ArviZ's threshold.

    The threshold is ``min(1 - 1/log10(S), 0.7)`` for ``S`` draws (Vehtari et al. 2024,
    "Pareto smoothed importance sampling", *JMLR* 25).
    """
    k = result.pareto_k.stack(cell=result.pareto_k.dims)
    bad = k[k > result.good_k]
    return [f"{u} {p}" for u, p in bad["cell"].to_numpy()]


def warn_high_pareto_k(label: str, results: dict[str, Any]) -> None:
    """Warn once for a sample, per model, about cells whose LOO estimate is unreliable."""
    parts = []
    for model, result in results.items():
        cells = high_pareto_k(result)
        if cells:
            shown = ", ".join(cells[:4]) + (", ..." if len(cells) > 4 else "")
            parts.append(f"{model.upper()} {len(cells)} ({shown})")
    if parts:
        threshold = min(r.good_k for r in results.values())
        warn(
            f"sample {label}: cells with Pareto k above {threshold:.2f}: {'; '.join(parts)}. "
            "Leaving one of them out changes the posterior too much for importance "
            "sampling: their LOO estimates, and elpd_loo, are unreliable (influential "
            "observations)",
            ConvergenceWarning,
        )
