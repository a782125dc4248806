"""The posterior as an xarray Dataset, the posterior predictive check, and summaries.

The Dataset holds the per-draw effects alongside the parameters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd
import xarray as xr

from bayes_ccd.conventions import (
    COVARIATE,
    EFFECT,
    EFFECT_KINDS,
    INTERVAL_PROB,
    PERIOD,
    TERM,
    UNIT,
)
from bayes_ccd.exceptions import NumericalWarning, warn
from bayes_ccd.spatial.design import SpatialPanelDesign
from bayes_ccd.spatial.effects import (
    APPROXIMATION_TOLERANCE,
    approximation_error,
    effects_from_draws,
)
from bayes_ccd.spatial.operators import is_sparse, reduced_form_solve

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
    and total effects of every draw, :func:`bayes_ccd.spatial.effects.effects_from_draws`; error
    models use ``rho = 0``).
    """
    rho, beta, sigma2 = draws["rho"], draws["beta"], draws["sigma2"]
    chains, n_draws = rho.shape
    spatial = rho if design.spec.is_lag else np.zeros_like(rho)
    beta_x, theta = _split_coefficients(design, beta)
    effects = np.stack(effects_from_draws(spatial, beta_x, theta, design.spectrum), axis=2)
    sample = ("chain", "draw")
    dataset = xr.Dataset(
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
    if is_sparse(design.W):
        dataset.attrs["effects_error"] = json.dumps(
            _effects_error(design, spatial, beta_x, theta, effects)
        )
    return dataset


def _effects_error(
    design: SpatialPanelDesign,
    spatial: np.ndarray,
    beta: np.ndarray,
    theta: np.ndarray | None,
    effects: np.ndarray,
) -> dict[str, Any]:
    """Error bound of the posterior mean effects of a large panel, against their sd.

    Warns (:class:`~bayes_ccd.exceptions.NumericalWarning`) when a bound exceeds
    :data:`~bayes_ccd.spatial.effects.APPROXIMATION_TOLERANCE` of the posterior sd.
    """
    bound = approximation_error(spatial, beta, theta, design.spectrum)
    sd = effects.reshape(-1, *effects.shape[2:]).std(axis=0, ddof=1)
    ratio = np.divide(bound, sd, out=np.full_like(bound, np.inf), where=sd > 0)
    worst = np.unravel_index(np.argmax(ratio), ratio.shape)
    if ratio[worst] > APPROXIMATION_TOLERANCE:
        warn(
            f"the {EFFECT_KINDS[worst[0]]} effect of {design.data.x_names[worst[1]]} may be "
            f"off by {ratio[worst]:.1%} of its posterior sd (Monte Carlo traces of W^k); "
            "more trace probes reduce it",
            NumericalWarning,
        )
    return {
        "bound": bound.tolist(),
        "ratio_to_sd": ratio.tolist(),
        "effects": list(EFFECT_KINDS),
        "covariates": list(design.data.x_names),
        "traces": design.spectrum.facts(),
    }


def observed_dataset(design: SpatialPanelDesign) -> xr.Dataset:
    """Return the transformed-space observations the posterior conditions on (demeaned layout)."""
    return xr.Dataset(
        {"y": ((PERIOD, UNIT), design.y)},
        coords={PERIOD: list(design.data.periods), UNIT: list(design.data.units)},
    )


#: Replicated values the posterior predictive check holds at once (256 MB): a panel of
#: N = 100,000 units and T = 12 periods gets 27 draws.
PPC_ELEMENTS: Final = 2**25

#: Replicated values computed at once (32 MB): draws go through the reduced form in
#: blocks of this size, so that only the result is of size PPC_ELEMENTS.
PPC_BLOCK_ELEMENTS: Final = 2**22


def posterior_predictive(
    design: SpatialPanelDesign,
    posterior: xr.Dataset,
    *,
    n_draws: int,
    seed: int,
    nu: float | None = None,
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
    check compares the two. With Student-t errors (``nu`` given, or a ``nu`` variable in
    the posterior) the errors are ``sigma t_nu`` instead. Panels too large for
    ``n_draws`` replications of ``T N`` values within :data:`PPC_ELEMENTS` use fewer
    draws, said in the dataset's ``draws_note``.

    Returns
    -------
    xarray.Dataset
        ``y`` with dims ``(chain, draw, period, unit)``; ``draw`` holds the indices of the
        posterior draws used.
    """
    rng = np.random.default_rng(seed)
    chains, total = posterior.sizes["chain"], posterior.sizes["draw"]
    t, n = design.y.shape
    requested = n_draws
    # Large panels: as many draws as PPC_ELEMENTS replicated values allow (recorded).
    n_draws = min(n_draws, max(chains, PPC_ELEMENTS // (t * n)))
    per_chain = max(1, min(total, math.ceil(n_draws / chains)))
    index = np.unique(np.linspace(0, total - 1, per_chain).round().astype(int))
    post = posterior.isel(draw=index)
    name = design.spec.spatial_parameter
    spatial = post[name].to_numpy().reshape(-1)
    beta = post["beta"].to_numpy().reshape(spatial.size, -1)
    sigma = post["sigma"].to_numpy().reshape(-1)
    dof = post["nu"].to_numpy().reshape(-1) if "nu" in post.data_vars else None
    projected = np.empty((spatial.size, t, n))
    block = max(1, PPC_BLOCK_ELEMENTS // (t * n))
    # Blocks draw the errors in the order one call for all draws would: same seed, same data.
    for start in range(0, spatial.size, block):
        part = slice(start, start + block)
        size = spatial[part].size
        mean = np.einsum("tnk,dk->dtn", design.X, beta[part])
        if dof is not None:
            draws = rng.standard_t(dof[part, None, None], (size, t, n))
        elif nu is not None:
            draws = rng.standard_t(nu, (size, t, n))
        else:
            draws = rng.standard_normal((size, t, n))
        noise = sigma[part, None, None] * draws
        if design.spec.is_lag:
            replicated = reduced_form_solve(design.W, spatial[part], mean + noise)
        else:
            replicated = mean + reduced_form_solve(design.W, spatial[part], noise)
        projected[part] = np.moveaxis(design.project(np.moveaxis(replicated, 0, -1)), -1, 0)
    dataset = xr.Dataset(
        {"y": (("chain", "draw", PERIOD, UNIT), projected.reshape(chains, index.size, t, n))},
        coords={
            "chain": post["chain"].to_numpy(),
            "draw": index,
            PERIOD: list(design.data.periods),
            UNIT: list(design.data.units),
        },
    )
    if n_draws < requested:
        dataset.attrs["draws_note"] = (
            f"{n_draws} of the {requested} draws asked for: {n:,} units x {t} periods per "
            f"draw, at most {PPC_ELEMENTS:,} replicated values held"
        )
    return dataset


def _moran(values: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Return Moran's I of each period's values, averaged over periods.

    The result is ``(...)`` for ``(..., T, N)`` values. Each period is centred across
    units, as Moran's I requires (transformed values are centred already only under time
    effects).
    """
    values = values - values.mean(axis=-1, keepdims=True)
    if is_sparse(W):
        flat = values.reshape(-1, values.shape[-1])
        lagged = np.asarray(W @ flat.T).T.reshape(values.shape)
    else:
        lagged = values @ W.T
    n = values.shape[-1]
    num = np.sum(values * lagged, axis=-1)
    den = np.sum(values * values, axis=-1)
    return (n / W.sum()) * np.mean(num / den, axis=-1)


def ppc_statistics(
    design: SpatialPanelDesign, replicated: xr.Dataset
) -> dict[str, tuple[float, np.ndarray]]:
    """Return the test statistics ``T`` of the observed and of every replicated ``y``.

    ``name -> (T(y), T(y_rep) of every replicate)``: ``sd``, the standard deviation of
    the demeaned ``y``, and ``moran_i``, its Moran's I averaged across periods.
    """
    t, n = design.y.shape
    rep = replicated["y"].to_numpy().reshape(-1, t, n)
    observed = design.y
    block = max(1, PPC_BLOCK_ELEMENTS // (t * n))  # bounds the temporaries of large panels
    blocks = [rep[start : start + block] for start in range(0, rep.shape[0], block)]
    return {
        "sd": (float(np.std(observed)), np.concatenate([np.std(b, axis=(-2, -1)) for b in blocks])),
        "moran_i": (
            float(_moran(observed, design.W)),
            np.concatenate([_moran(b, design.W) for b in blocks]),
        ),
    }


def ppc_pvalues(design: SpatialPanelDesign, replicated: xr.Dataset) -> dict[str, float]:
    """Compute posterior predictive p-values ``P(T(y_rep) >= T(y))`` (Gelman et al. 2013, ch. 6).

    The statistics ``T`` are those of :func:`ppc_statistics`; values near 0 or 1 flag a
    feature the model does not reproduce.
    """
    stats = ppc_statistics(design, replicated)
    return {key: float(np.mean(rep >= obs)) for key, (obs, rep) in stats.items()}


# --- summaries ----------------------------------------------------------------------------


def _quantity_frame(stats: Mapping[str, xr.DataArray]) -> pd.DataFrame:
    data = xr.Dataset(dict(stats))
    if not data.dims:
        return pd.DataFrame({key: [float(value)] for key, value in data.data_vars.items()})
    return data.to_dataframe().reset_index()


def summarise_variable(
    posterior: xr.Dataset | xr.DataTree,
    var: str,
    *,
    prob: float = INTERVAL_PROB,
    convergence: Mapping[str, xr.DataArray] | None = None,
) -> pd.DataFrame:
    """Posterior summary of one variable of a posterior group, one row per element.

    Columns: the variable's dimensions, then :data:`POSTERIOR_COLUMNS`: mean, sd, the
    central (equal-tailed) interval ``lower``/``upper`` and the HDI at ``prob``, the
    posterior probability of a positive value, Monte Carlo standard errors of the mean and
    sd, rank-normalised split R-hat and bulk/tail ESS (Vehtari et al. 2021; see
    :func:`bayes_ccd.spatial.diagnostics.convergence_statistics`, computed here unless
    ``convergence`` gives them). Elements that are constant across draws (SEM spillovers
    fixed at zero) have NaN diagnostics.
    """
    import arviz_stats as azs

    from bayes_ccd.spatial.diagnostics import convergence_statistics

    draws = posterior[var]
    sub = xr.DataTree.from_dict({"posterior": xr.Dataset({var: draws})})
    eti = azs.eti(sub, prob=prob)[var]
    hdi = azs.hdi(sub, prob=prob)[var]
    stats = {
        "mean": draws.mean(("chain", "draw")),
        "sd": draws.std(("chain", "draw"), ddof=1),
        "lower": eti.sel(ci_bound="lower", drop=True),
        "upper": eti.sel(ci_bound="upper", drop=True),
        "hdi_lower": hdi.sel(ci_bound="lower", drop=True),
        "hdi_upper": hdi.sel(ci_bound="upper", drop=True),
        "prob_positive": (draws > 0).mean(("chain", "draw")),
        **(convergence if convergence is not None else convergence_statistics(draws)),
    }
    return _quantity_frame({k: v.reset_coords(drop=True) for k, v in stats.items()})


def coefficient_table(
    posterior: xr.Dataset,
    *,
    prob: float = INTERVAL_PROB,
    convergence: Mapping[str, Mapping[str, xr.DataArray]] | None = None,
) -> pd.DataFrame:
    """Summarise the posterior of every coefficient, in the rows of the MLE table.

    Columns are ``term`` (design columns, then the spatial parameter and ``sigma2``, the
    rows of the MLE table) followed by :data:`POSTERIOR_COLUMNS`.
    """
    stats = convergence or {}
    spatial = next(v for v in ("rho", "lambda") if v in posterior.data_vars)
    beta = summarise_variable(posterior, "beta", prob=prob, convergence=stats.get("beta"))
    scalars = [
        summarise_variable(posterior, name, prob=prob, convergence=stats.get(name)).assign(
            term=name
        )
        for name in (spatial, "sigma2")
    ]
    table = pd.concat([beta.rename(columns={TERM: "term"}), *scalars], ignore_index=True)
    return table[list(BAYES_COEFFICIENT_COLUMNS)]


def effect_table(
    posterior: xr.Dataset,
    *,
    prob: float = INTERVAL_PROB,
    convergence: Mapping[str, Mapping[str, xr.DataArray]] | None = None,
) -> pd.DataFrame:
    """Summarise the posterior of the direct, indirect and total effects (the MLE layout).

    Columns are ``variable, effect`` followed by :data:`POSTERIOR_COLUMNS`, variable by
    variable, each with its direct, indirect and total effect.
    """
    stats = convergence or {}
    effects = summarise_variable(posterior, "effects", prob=prob, convergence=stats.get("effects"))
    order = pd.MultiIndex.from_product(
        [list(posterior[COVARIATE].to_numpy()), list(EFFECT_KINDS)],
        names=["variable", "effect"],
    )
    effects = effects.rename(columns={COVARIATE: "variable", EFFECT: "effect"})
    effects = effects.set_index(["variable", "effect"]).loc[order].reset_index()
    return effects[list(BAYES_EFFECT_COLUMNS)]
