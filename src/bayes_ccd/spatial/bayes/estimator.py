"""The Bayesian estimator of a fixed-effects spatial panel.

:class:`SpatialPanelBayes` stores configuration only (model, prior, sampler settings);
:meth:`~SpatialPanelBayes.design` builds the transformed design,
:meth:`~SpatialPanelBayes.build_model` the PyMC model,
:meth:`~SpatialPanelBayes.sample` draws from the posterior (every random step seeded)
and returns a :class:`~bayes_ccd.spatial.bayes.fit.PosteriorFit`, and
:meth:`~SpatialPanelBayes.fit` adds the posterior predictive check.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from bayes_ccd.conventions import DEFAULT_SEED, NATIONAL
from bayes_ccd.data.panel import Panel
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.settings import BayesSettings
from bayes_ccd.spatial.arrays import PanelArrays
from bayes_ccd.spatial.bayes.exact import ExactPosterior
from bayes_ccd.spatial.bayes.fit import PosteriorFit
from bayes_ccd.spatial.bayes.posterior import observed_dataset, posterior_dataset
from bayes_ccd.spatial.bayes.priors import Prior, prior_parameters, resolve_prior
from bayes_ccd.spatial.design import ModelSpec, SpatialPanelDesign, build_design

if TYPE_CHECKING:
    import pymc as pm


class SpatialPanelBayes:
    """Bayesian estimator of a fixed-effects spatial panel.

    Parameters
    ----------
    spec
        Model, fixed effects, transformation and variables.
    prior
        ``"default"``, ``"reference"``, a TOML file, a mapping or a :class:`Prior`.
    settings
        :class:`~bayes_ccd.settings.BayesSettings`; keyword arguments (``sampler=``,
        ``draws=``, ...) override single fields.

    Raises
    ------
    SpecificationError
        The exact sampler is asked for with a prior that is not conjugate, or with
        Student-t errors (``errors="student_t"``, NUTS only).
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        prior: str | Path | Prior | Any = "default",
        settings: BayesSettings | None = None,
        **overrides: Any,
    ) -> None:
        self.spec = spec
        self.settings = (settings or BayesSettings()).replace(**overrides)
        self.prior = resolve_prior(prior)
        if self.settings.sampler == "exact" and not self.prior.conjugate:
            raise SpecificationError(
                f"the prior '{self.prior.name}' is not conjugate (coefficients "
                f"'{self.prior.coefficients.kind}', sigma '{self.prior.sigma.kind}'); "
                "use sampler='nuts'"
            )
        if self.settings.sampler == "exact" and self.settings.errors == "student_t":
            raise SpecificationError(
                "Student-t errors have no conjugate posterior, so the exact sampler cannot "
                "draw from it; use sampler='nuts' with errors='student_t'"
            )

    def design(self, data: Panel | PanelArrays, weights: SpatialWeights) -> SpatialPanelDesign:
        """Build the transformed design of :attr:`spec` on ``data``."""
        return build_design(data, weights, self.spec)

    def build_model(self, design: SpatialPanelDesign) -> pm.Model:
        """Build the PyMC model of ``design`` under :attr:`prior`.

        See :func:`~bayes_ccd.spatial.bayes.nuts.build_pymc_model`, or
        :func:`~bayes_ccd.spatial.bayes.student.build_student_model` with Student-t errors.
        """
        if self.settings.errors == "student_t":
            from bayes_ccd.spatial.bayes.student import build_student_model

            return build_student_model(design, self.prior, self.settings.nu)
        from bayes_ccd.spatial.bayes.nuts import build_pymc_model

        return build_pymc_model(design, self.prior)

    def sample(
        self,
        design: SpatialPanelDesign,
        *,
        seed: int = DEFAULT_SEED,
        label: str = NATIONAL,
        dropped_units: tuple[str, ...] = (),
        notes: tuple[str, ...] = (),
    ) -> PosteriorFit:
        """Draw from the posterior of ``design``; the per-draw effects follow.

        The exact sampler draws independently from the conjugate decomposition
        (:class:`~bayes_ccd.spatial.bayes.exact.ExactPosterior`); NUTS runs nutpie on
        the PyMC model (imported only then). The same seed gives the same draws. With
        Student-t errors the posterior adds ``nu``, ``mu`` and ``alpha`` and the tree a
        ``log_likelihood`` group of pointwise leave-one-out log densities
        (:mod:`bayes_ccd.spatial.bayes.student`).
        """
        settings = self.settings
        params = prior_parameters(self.prior, design)
        groups: dict[str, xr.Dataset] = {}
        start = time.perf_counter()
        if settings.sampler == "exact":
            exact = ExactPosterior(design, params)
            grid, density = exact.grid(settings.grid_size)
            draws = exact.sample(settings.draws, settings.chains, seed, (grid, density))
            groups["spatial_marginal"] = xr.Dataset(
                {"density": ("grid", density)}, coords={"grid": grid}
            )
            timings = {"compile_seconds": 0.0, "sampling_seconds": time.perf_counter() - start}
        elif settings.errors == "student_t":
            from bayes_ccd.spatial.bayes.student import sample_student

            draws, groups["sample_stats"], timings = sample_student(design, params, settings, seed)
        else:
            from bayes_ccd.spatial.bayes.nuts import sample_nuts

            draws, groups["sample_stats"], timings = sample_nuts(design, params, settings, seed)
        start = time.perf_counter()
        groups["posterior"] = posterior_dataset(design, draws)
        groups["observed_data"] = observed_dataset(design)
        timings["effects_seconds"] = time.perf_counter() - start
        if settings.errors == "student_t":
            from bayes_ccd.spatial.bayes.student import log_likelihood_dataset, student_dataset

            groups["posterior"] = groups["posterior"].merge(student_dataset(design, draws))
            start = time.perf_counter()
            groups["log_likelihood"] = log_likelihood_dataset(design, draws)
            timings["loo_seconds"] = time.perf_counter() - start
        tree = xr.DataTree.from_dict({f"/{k}": v for k, v in groups.items()})
        return PosteriorFit(
            design,
            tree,
            self.prior,
            settings,
            seed,
            label,
            tuple(dropped_units),
            tuple(notes),
            timings,
        )

    def fit(
        self,
        data: Panel | PanelArrays,
        weights: SpatialWeights,
        *,
        seed: int = DEFAULT_SEED,
        label: str = NATIONAL,
        dropped_units: tuple[str, ...] = (),
        notes: tuple[str, ...] = (),
    ) -> PosteriorFit:
        """Fit the model: design, posterior draws and the posterior predictive check.

        The predictive check runs with ``settings.ppc_draws > 0``. The diagnostics are
        computed now, so that a failed check is reported (ConvergenceWarning) by this call.
        """
        fit = self.sample(
            self.design(data, weights),
            seed=seed,
            label=label,
            dropped_units=dropped_units,
            notes=notes,
        )
        if self.settings.ppc_draws > 0:
            fit = fit.posterior_predictive()
        fit.diagnostics()
        return fit
