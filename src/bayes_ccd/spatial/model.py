"""The spatial panel a researcher holds: :class:`SpatialPanel`.

::

    import bayes_ccd as bc

    model = bc.SpatialPanel("D ~ ln(gdp_per_capita) + 0.01 * tertiary_share",
                            data=panel, weights=w, model="sdm", fe="both")
    mle = model.fit(method="ml")
    post = model.fit(method="bayes", sampler="exact", prior="reference", draws=2000, seed=1)
    regional = model.fit(method="ml", by_region=True)   # a FitCollection

The constructor stores configuration only; the panel is validated and the design built
on first use, and every fit returns the result contract of
:mod:`bayes_ccd.spatial.results`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from bayes_ccd.conventions import DEFAULT_SEED, NATIONAL, PERIOD, UNIT
from bayes_ccd.data.factors import Factor, transform_factors
from bayes_ccd.data.panel import Panel, validate_panel
from bayes_ccd.data.regions import read_regions
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.settings import BayesSettings, MLESettings
from bayes_ccd.spatial.arrays import PanelArrays
from bayes_ccd.spatial.design import ModelSpec, SpatialPanelDesign, as_arrays, build_design
from bayes_ccd.spatial.formula import as_factor, check_names, parse_formula
from bayes_ccd.spatial.regions import Islands, Sample, regional_samples
from bayes_ccd.spatial.results import FitCollection, SpatialFit, recorded_warnings

if TYPE_CHECKING:
    import pymc as pm

    from bayes_ccd.spatial.bayes.priors import Prior

Method = Literal["ml", "mle", "bayes"]


class SpatialPanel:
    """A fixed-effects spatial panel model of a panel (SDM, SAR, SEM or SDEM).

    Parameters
    ----------
    formula
        ``"y ~ x1 + ln(x2) + 0.01 * x3"`` (see :mod:`bayes_ccd.spatial.formula`); or give
        ``y`` and ``x``.
    data
        A validated :class:`~bayes_ccd.data.panel.Panel`, a long DataFrame (then
        ``unit`` and ``time`` name its columns and it is validated here), or
        :class:`~bayes_ccd.spatial.design.PanelArrays` (e.g. from
        :func:`~bayes_ccd.spatial.simulate.simulate_panel`; then ``y`` and ``x`` default to
        its variables).
    weights
        Spatial weights over the units of the data (any order).
    y, x
        The dependent variable and the covariates: column names, formula terms or
        :class:`~bayes_ccd.data.factors.Factor` objects (e.g. an indicator system's
        factors).
    model, fe, transform
        ``"sdm"``, ``"sar"``, ``"sem"`` or ``"sdem"``; fixed effects ``"both"``,
        ``"individual"``, ``"time"`` or ``"none"``; ``"lee-yu"`` or ``"within"``.
    regions
        ``unit -> region`` (a Series, or a CSV file with columns unit,region) for
        ``fit(by_region=True)``; default: the bundled east/central/west grouping of
        China's provinces.
    unit, time, missing
        For a DataFrame: its unit and period columns and the missing-value policy.
    varying
        ``None`` (default), or ``"region"``: ``fit(method="bayes")`` fits the
        hierarchical model whose coefficients vary by region with partial pooling, on
        the full ``W`` (:mod:`bayes_ccd.spatial.bayes.hierarchical`; a
        :class:`~bayes_ccd.spatial.bayes.hierarchical_fit.HierarchicalFit`).
    """

    def __init__(
        self,
        formula: str | None = None,
        *,
        data: Panel | pd.DataFrame | PanelArrays,
        weights: SpatialWeights,
        y: str | Factor | None = None,
        x: Sequence[str | Factor] | None = None,
        model: str = "sdm",
        fe: str = "both",
        transform: str = "lee-yu",
        regions: pd.Series | str | Path | None = None,
        unit: str = UNIT,
        time: str = PERIOD,
        missing: str = "error",
        varying: str | None = None,
        logdet: str = "auto",
    ) -> None:
        if varying not in (None, "region"):
            raise SpecificationError(f"varying must be None or 'region', got {varying!r}")
        if formula is not None:
            if y is not None or x is not None:
                raise SpecificationError("give either a formula or y= and x=, not both")
            self.response, self.covariates = parse_formula(formula)
        elif isinstance(data, PanelArrays) and y is None and x is None:
            # Arrays (e.g. simulate_panel) name their variables themselves.
            self.response = Factor(name=data.y_name, column=data.y_name)
            self.covariates = tuple(Factor(name=n, column=n) for n in data.x_names)
        else:
            if y is None or not x:
                raise SpecificationError(
                    "name the model: a formula such as 'D ~ x1 + ln(x2)', or y= and x="
                )
            if isinstance(x, (str, Factor)):
                x = [x]
            self.response, self.covariates = as_factor(y), tuple(as_factor(t) for t in x)
            check_names(self.response, self.covariates)
        if not isinstance(weights, SpatialWeights):
            raise SpecificationError(
                "weights must be SpatialWeights (bayes_ccd.read_weights, "
                "bayes_ccd.province_contiguity, bayes_ccd.weights_from_array)"
            )
        self.formula = formula
        self.spec = ModelSpec(
            model,  # type: ignore[arg-type]
            fe,  # type: ignore[arg-type]
            transform,  # type: ignore[arg-type]
            self.response.name,
            tuple(f.name for f in self.covariates),
            logdet,  # type: ignore[arg-type]
        )
        self.data = data
        self.weights = weights
        self.regions = regions
        self.varying = varying
        self._columns = (unit, time, missing)

    def __repr__(self) -> str:
        """Show the model as ``<SpatialPanel y ~ x1 + x2: SDM, ...>``."""
        terms = " + ".join(f.label or f.name for f in self.covariates)
        return f"<SpatialPanel {self.response.name} ~ {terms}: {self.spec.label()}>"

    @cached_property
    def panel(self) -> Panel:
        """The data as a validated panel."""
        if isinstance(self.data, PanelArrays):
            raise SpecificationError("the data are arrays, not a panel; see SpatialPanel.arrays")
        if isinstance(self.data, Panel):
            return self.data
        if not isinstance(self.data, pd.DataFrame):
            raise SpecificationError(
                f"data must be a Panel or a pandas DataFrame, not {type(self.data).__name__}"
            )
        unit, time, missing = self._columns
        columns = list(dict.fromkeys(f.column for f in (self.response, *self.covariates)))
        return validate_panel(self.data, unit=unit, time=time, columns=columns, missing=missing)  # type: ignore[arg-type]

    @cached_property
    def arrays(self) -> PanelArrays:
        """The dependent variable and the covariates, transformed, as arrays.

        The arrays are ``(T, N)`` and ``(T, N, K)``; the cells the missing-value policy
        filled are kept.
        """
        if isinstance(self.data, PanelArrays):
            transformed = [
                f
                for f in (self.response, *self.covariates)
                if f.transform != "none" or f.scale != 1.0
            ]
            if transformed:
                raise SpecificationError(
                    f"terms {[f.label or f.name for f in transformed]} transform variables; "
                    "arrays hold the variables as they enter the model (pass a Panel to "
                    "transform its columns)"
                )
            if self.response.name != self.data.y_name:
                raise SpecificationError(
                    f"the arrays' dependent variable is {self.data.y_name!r}, not "
                    f"{self.response.name!r}"
                )
            return as_arrays(self.data, self.spec)
        panel = self.panel
        frame = transform_factors(panel, [self.response, *self.covariates])
        return PanelArrays.from_panel(
            Panel(frame, panel.source, panel.filled, panel.notice),
            self.spec.y,
            self.spec.x,  # type: ignore[arg-type]
        )

    @cached_property
    def _design(self) -> SpatialPanelDesign:
        return build_design(self.arrays, self.weights, self.spec)

    def design(self) -> SpatialPanelDesign:
        """Return the transformed design of the whole sample (built once)."""
        return self._design

    def build_model(
        self,
        prior: str | Path | Prior = "default",
        *,
        errors: str = BayesSettings.errors,
        nu: float = BayesSettings.nu,
        pooling_scale: float = BayesSettings.pooling_scale,
    ) -> pm.Model:
        """Build the PyMC model of the whole sample under ``prior``.

        Use it to inspect the model, sample its prior predictive, or sample it yourself.
        ``errors="student_t"`` builds the Student-t model
        (:func:`~bayes_ccd.spatial.bayes.student.build_student_model`; ``nu = 0``
        estimates the degrees of freedom). With ``varying="region"`` it is the
        hierarchical model (:func:`~bayes_ccd.spatial.bayes.hierarchical.build_hierarchical_model`)
        with the half-normal scale ``pooling_scale`` of the between-region scales.
        """
        from bayes_ccd.spatial.bayes.priors import prior_parameters, resolve_prior

        settings = BayesSettings(errors=errors, nu=nu, pooling_scale=pooling_scale)
        if self.varying == "region":
            from bayes_ccd.spatial.bayes.hierarchical import (
                build_hierarchical_model,
                hierarchical_design,
            )

            national, regional, membership = hierarchical_design(
                self.arrays, self.weights, self.spec, self.region_table()
            )
            params = prior_parameters(resolve_prior(prior), national)
            regions = list(dict.fromkeys(membership))
            return build_hierarchical_model(
                national, regional, params, regions, settings.pooling_scale
            )
        if settings.errors == "student_t":
            from bayes_ccd.spatial.bayes.student import build_student_model

            return build_student_model(self.design(), resolve_prior(prior), settings.nu)
        from bayes_ccd.spatial.bayes.nuts import build_pymc_model

        return build_pymc_model(self.design(), resolve_prior(prior))

    def samples(self, *, by_region: bool = False, islands: Islands = "drop") -> dict[str, Sample]:
        """Return the whole sample and, with ``by_region``, each region's sub-sample.

        A region's sub-sample has ``W`` cut to the region and re-standardised (see
        :func:`bayes_ccd.spatial.regions.regional_samples`).
        """
        samples = {NATIONAL: Sample(self.arrays, self.weights)}
        if by_region:
            samples |= regional_samples(
                self.arrays, self.weights, self.region_table(), self.spec, islands
            )
        return samples

    def region_table(self) -> pd.Series:
        """Return ``unit -> region``: :attr:`regions`, read if a file, else the bundled table."""
        regions = self.regions
        if regions is None or isinstance(regions, (str, Path)):
            regions = read_regions(regions)
        return regions

    def fit(
        self,
        method: Method = "ml",
        *,
        by_region: bool = False,
        seed: int = DEFAULT_SEED,
        prior: str | Path | Prior | None = None,
        settings: MLESettings | BayesSettings | None = None,
        islands: Islands = "drop",
        progress: Callable[[str], None] | None = None,
        **options: Any,
    ) -> SpatialFit | FitCollection:
        """Fit the model by maximum likelihood or Bayes.

        Parameters
        ----------
        method
            ``"ml"`` (or ``"mle"``) or ``"bayes"``.
        by_region
            Also fit each region (W cut and re-standardised); returns a
            :class:`~bayes_ccd.spatial.results.FitCollection`.
        seed
            Seed of the simulated effects (ML) or of the sampler (Bayes).
        prior
            Bayes: ``"default"``, ``"reference"``, a TOML file or a ``Prior``
            (default: ``settings.prior``).
        settings
            :class:`~bayes_ccd.settings.MLESettings` or
            :class:`~bayes_ccd.settings.BayesSettings`; ``options`` override single
            fields (``effects_draws=``, ``sampler=``, ``draws=``, ``chains=``, ...).
        islands
            Regional samples: drop units without a neighbour inside their region, or keep
            them with a zero spatial lag.
        progress
            Called with a message as each sample starts.

        Returns
        -------
        MLEFit, PosteriorFit (HierarchicalFit with ``varying="region"``) or FitCollection
        """
        report = progress or (lambda message: None)
        if self.varying == "region":
            return self._fit_hierarchical(method, by_region, settings, prior, seed, report, options)
        samples = self.samples(by_region=by_region, islands=islands)
        if method in ("ml", "mle"):
            fits = self._fit_ml(samples, settings, seed, report, options)
        elif method == "bayes":
            fits = self._fit_bayes(samples, settings, prior, seed, report, options)
        else:
            raise SpecificationError(f"unknown method {method!r}; use 'ml' or 'bayes'")
        return FitCollection(fits) if by_region else fits[NATIONAL]

    def _fit_hierarchical(self, method, by_region, settings, prior, seed, report, options):
        from bayes_ccd.spatial.bayes.hierarchical_fit import fit_hierarchical

        if method != "bayes" or by_region:
            raise SpecificationError(
                "a model with varying='region' is fitted by method='bayes' on the whole "
                "sample (its regions share W); compare it with the sub-sample fits of a "
                "model without varying= (bayes_ccd.regional_comparison)"
            )
        chosen = _settings(settings, BayesSettings).replace(**options)
        if prior is not None:
            chosen = chosen.replace(prior=str(getattr(prior, "name", prior)))
        report(f"hierarchical Bayesian {self.spec.model.upper()} by region (NUTS)")
        notes: list[str] = []
        with recorded_warnings(notes):
            fit = fit_hierarchical(
                self.arrays,
                self.weights,
                self.spec,
                self.region_table(),
                prior=chosen.prior if prior is None else prior,
                settings=chosen,
                seed=seed,
            )
        return _with_notes(fit, notes)

    def _fit_ml(self, samples, settings, seed, report, options) -> dict[str, SpatialFit]:
        from bayes_ccd.spatial.ml import estimate
        from bayes_ccd.spatial.mle import MLEFit

        chosen = _settings(settings, MLESettings).replace(**options)
        fits: dict[str, SpatialFit] = {}
        for label, sample in samples.items():
            report(f"maximum likelihood, {self.spec.model.upper()}, sample {label}")
            design = (
                self.design()
                if label == NATIONAL
                else build_design(sample.data, sample.weights, self.spec)
            )
            result = estimate(design, information=chosen.information)  # type: ignore[arg-type]
            fits[label] = MLEFit(result, chosen, seed, label, sample.dropped, sample.notes)
        return fits

    def _fit_bayes(self, samples, settings, prior, seed, report, options) -> dict[str, SpatialFit]:
        from bayes_ccd.spatial.bayes.estimator import SpatialPanelBayes

        chosen = _settings(settings, BayesSettings).replace(**options)
        if prior is not None:  # recorded with the fit: the settings name the prior used
            chosen = chosen.replace(prior=str(getattr(prior, "name", prior)))
        estimator = SpatialPanelBayes(
            self.spec, prior=chosen.prior if prior is None else prior, settings=chosen
        )
        fits: dict[str, SpatialFit] = {}
        for label, sample in samples.items():
            report(f"Bayesian {self.spec.model.upper()} ({chosen.sampler}), sample {label}")
            compiles = chosen.errors == "student_t" or chosen.nuts_model == "pymc"
            if chosen.sampler == "nuts" and compiles and label == next(iter(samples)):
                report("compiling the NUTS model (20-30 s the first time), then sampling")
            notes: list[str] = list(sample.notes)
            with recorded_warnings(notes):
                design = (
                    self.design()
                    if label == NATIONAL
                    else estimator.design(sample.data, sample.weights)
                )
                fit = estimator.sample(design, seed=seed, label=label, dropped_units=sample.dropped)
                if chosen.ppc_draws > 0:
                    fit = fit.posterior_predictive()
            fit = _with_notes(fit, notes)
            fit.diagnostics()  # a failed check is reported now, not when first read
            fits[label] = fit
        return fits


def _settings(given: Any, kind: type) -> Any:
    if given is None:
        return kind()
    if not isinstance(given, kind):
        raise SpecificationError(
            f"settings for this method are {kind.__name__}, not {type(given).__name__}"
        )
    return given


def _with_notes(fit: Any, notes: list[str]) -> Any:
    from dataclasses import replace

    return replace(fit, notes=tuple(notes))
