"""The Bayesian estimator of a fixed-effects spatial panel: sampler settings, the
estimator object and its result.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import xarray as xr

from bayes_ccd.conventions import (
    INTERVAL_PROB,
)
from bayes_ccd.data.panel import Panel
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.report.output import json_default
from bayes_ccd.settings import SamplerSettings
from bayes_ccd.spatial.bayes.exact import ExactPosterior
from bayes_ccd.spatial.bayes.nuts import build_pymc_model, sample_nuts
from bayes_ccd.spatial.bayes.posterior import (
    _observed_dataset,
    posterior_dataset,
    posterior_predictive,
    posterior_tables,
    ppc_pvalues,
)
from bayes_ccd.spatial.bayes.priors import Prior, prior_parameters, resolve_prior
from bayes_ccd.spatial.design import ModelSpec, PanelArrays, SpatialPanelDesign, build_design

if TYPE_CHECKING:
    import pymc as pm

    from bayes_ccd.spatial.diagnostics import Diagnostics


# --- the posterior as an xarray DataTree -----------------------------------------------


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
        :class:`bayes_ccd.spatial.diagnostics.Diagnostics` of the posterior.
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
        from bayes_ccd.spatial.diagnostics import diagnose

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
