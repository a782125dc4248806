"""The posterior sampled by NUTS through nutpie: the log density written out, or a PyMC model.

Under normal errors NUTS samples, by default (``BayesSettings.nuts_model = "direct"``),
the log density and gradient of :class:`~bayes_ccd.spatial.bayes.density.PosteriorDensity`,
written in the ``K + 2`` parameters and the design's log-determinant: no model to
compile, and no eigenvalue needed, so any N the design holds is sampled. With the
eigenvalue log-determinant it runs as numba machine code compiled once ever and cached
on disk (:mod:`~bayes_ccd.spatial.bayes.compiled_density`); with the large-panel ones
as NumPy. ``nuts_model = "pymc"`` samples the same density as the PyMC model of
:func:`build_pymc_model`, compiled by nutpie's numba backend once per process and shape
(:func:`compiled_model`); the model itself (``SpatialPanelBayes.build_model``) is there
to be extended with any prior. nutpie is always called explicitly, never through
``pm.sample``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import xarray as xr

from bayes_ccd.conventions import (
    TERM,
)
from bayes_ccd.settings import BayesSettings
from bayes_ccd.spatial.bayes.density import PosteriorDensity, jittered_start, scaled_data
from bayes_ccd.spatial.bayes.priors import Prior, PriorParameters, prior_parameters
from bayes_ccd.spatial.design import SpatialPanelDesign
from bayes_ccd.spatial.operators import require_dense

if TYPE_CHECKING:
    import pymc as pm


# --- the PyMC model and NUTS --------------------------------------------------------------

#: Compiled nutpie models by (spatial parameter name, number of coefficients).
_COMPILED: dict[tuple[str, int], Any] = {}

#: The module of the numba-compiled density (its import compiles or loads it).
_COMPILED_DENSITY: Final = "bayes_ccd.spatial.bayes.compiled_density"


def model_data(design: SpatialPanelDesign, params: PriorParameters) -> dict[str, Any]:
    """Return the ``pm.Data`` values of :func:`build_pymc_model`.

    Those of :func:`scaled_data` and the eigenvalues of the log-Jacobian (real and
    imaginary parts), which the PyMC models need: a dense W of the ``"eigen"``
    log-determinant.
    """
    require_dense(design.W, "the PyMC model (its log-Jacobian is written in the eigenvalues of W)")
    eig = np.asarray(design.jacobian_eigenvalues, dtype=complex)
    return {
        **scaled_data(design, params),
        "eigenvalues_real": np.ascontiguousarray(eig.real),
        "eigenvalues_imag": np.ascontiguousarray(eig.imag),
    }


def build_pymc_model(design: SpatialPanelDesign, prior: Prior | PriorParameters) -> pm.Model:
    """Build the posterior of ``design`` under ``prior`` as a PyMC model (standardised scale).

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
        add_prior_potentials(data, spatial, beta, log_sigma)
    return model


def add_prior_potentials(data: dict[str, Any], spatial: Any, beta: Any, log_sigma: Any) -> None:
    """Add the log-Jacobian and the three log priors as potentials of the model in context.

    ``data`` holds the ``pm.Data`` of :func:`model_data` (eigenvalues, Jacobian scale,
    bounds, prior parameters); the Student-t model (:mod:`bayes_ccd.spatial.bayes.student`)
    shares them. The log-Jacobian is ``c sum_i log|1 - rho lambda_i|``, ``log|.|`` of
    complex eigenvalues as ``1/2 log((1 - rho Re)^2 + (rho Im)^2)``; the priors are those
    of :class:`PriorParameters`.
    """
    import pymc as pm
    import pytensor.tensor as pt

    inv_sigma2 = pt.exp(-2.0 * log_sigma)
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


def compiled_model(design: SpatialPanelDesign, params: PriorParameters) -> tuple[Any, float]:
    """Return a nutpie-compiled model of :func:`build_pymc_model` with ``design``'s data.

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


def direct_model(design: SpatialPanelDesign, params: PriorParameters) -> tuple[Any, float]:
    """Return a nutpie model of :class:`PosteriorDensity` and the seconds it took to get.

    With the eigenvalue log-determinant the density runs as numba machine code
    (:mod:`~bayes_ccd.spatial.bayes.compiled_density`, compiled once ever and cached on
    disk; the seconds are those of loading or compiling it, zero once loaded in this
    process); otherwise, at any N, as NumPy called back through Python. The unconstrained
    point is ``(z, beta*, log sigma*)`` with ``rho = lo + (hi - lo) s(z)``; the draws are
    ``rho`` (or ``lambda``), ``beta`` and ``log_sigma`` on the standardised scale, as in
    :func:`build_pymc_model`; chains start at
    :func:`~bayes_ccd.spatial.bayes.density.jittered_start` from the sampling seed.
    """
    density = PosteriorDensity(design, params)
    name = design.spec.spatial_parameter
    if design.logdet.method == "eigen":
        start = time.perf_counter()
        loaded = _COMPILED_DENSITY in sys.modules
        from bayes_ccd.spatial.bayes.compiled_density import eigen_density_model

        seconds = 0.0 if loaded else time.perf_counter() - start
        return eigen_density_model(density, name), seconds
    from nutpie.compiled_pyfunc import from_pyfunc

    k = density.k

    def make_logp() -> Any:
        return lambda x, **_: density(x)

    def make_expand(*_: Any) -> Any:
        def expand(x: np.ndarray, **_: Any) -> dict[str, np.ndarray]:
            return {
                name: np.asarray(density.spatial(x[0])),
                "beta": np.array(x[1 : k + 1]),
                "log_sigma": np.asarray(x[k + 1]),
            }

        return expand

    def initial_point(seed: int) -> np.ndarray:
        return jittered_start(seed, density.ndim)

    model = from_pyfunc(
        density.ndim,
        make_logp,
        make_expand,
        [np.dtype("float64")] * 3,
        [(), (k,), ()],
        [name, "beta", "log_sigma"],
        coords={TERM: list(design.names)},
        dims={"beta": (TERM,)},
        make_initial_point_fn=initial_point,
    )
    return model, 0.0


def sample_nuts(
    design: SpatialPanelDesign, params: PriorParameters, settings: BayesSettings, seed: int
) -> tuple[dict[str, np.ndarray], xr.Dataset, dict[str, float]]:
    """Sample the posterior by NUTS through nutpie (``settings.nuts_model``).

    Returns the draws on the data scale, nutpie's sampler statistics and timings
    (``compile_seconds``, zero for the direct model, and ``sampling_seconds``).
    """
    if settings.nuts_model == "direct":
        model, compile_seconds = direct_model(design, params)
        # A density in Python holds the GIL: chains in parallel threads would only wait
        # for each other (measured slower than one thread on two cores).
        cores = 1 if design.logdet.method != "eigen" else None
        trace, sampling_seconds = run_nutpie(model, settings, seed, cores=cores)
    else:
        compiled, compile_seconds = compiled_model(design, params)
        trace, sampling_seconds = run_nutpie(compiled, settings, seed)
    post = trace["posterior"].to_dataset()
    s, s_y = params.column_scale, params.y_scale
    draws = {
        "rho": post[design.spec.spatial_parameter].to_numpy(),
        "beta": post["beta"].to_numpy() * s_y / s,
        "sigma2": (s_y * np.exp(post["log_sigma"].to_numpy())) ** 2,
    }
    timings = {"compile_seconds": compile_seconds, "sampling_seconds": sampling_seconds}
    return draws, sampler_statistics(trace), timings


def run_nutpie(
    compiled: Any, settings: BayesSettings, seed: int, cores: int | None = None
) -> tuple[Any, float]:
    """Sample a nutpie model with ``settings``; return the trace and the seconds.

    ``cores`` defaults to one per chain, up to the machine's.
    """
    import nutpie

    start = time.perf_counter()
    trace = nutpie.sample(
        compiled,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=cores or min(settings.chains, os.cpu_count() or 1),
        seed=seed,
        save_warmup=False,
        progress_bar=False,
        target_accept=settings.target_accept,
    )
    return trace, time.perf_counter() - start


def sampler_statistics(trace: Any) -> xr.Dataset:
    """Return the numeric sampler statistics of a nutpie trace kept in the result."""
    stats = trace["sample_stats"].to_dataset()
    return stats[[v for v in _SAMPLE_STATS if v in stats.data_vars]].drop_attrs()
