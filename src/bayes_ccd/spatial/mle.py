"""The result of a maximum-likelihood fit: :class:`MLEFit`.

It wraps the estimates of :func:`bayes_ccd.spatial.ml.estimate` with what a researcher
reports: Wald intervals of the coefficients, the LeSage-Pace effects with simulated (or
delta-method) inference, the specification tests of the seed paper's Table 6 and the
fixed effects, in the result contract of :mod:`bayes_ccd.spatial.results`. Effects and
tests are computed once, on first use, and the warnings they raise are recorded with
the fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Final

import pandas as pd
import xarray as xr

from bayes_ccd.conventions import DEFAULT_SEED, INTERVAL_PROB, NATIONAL, TERM
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import standard_error_cells, write_table
from bayes_ccd.settings import MLESettings
from bayes_ccd.spatial import archive
from bayes_ccd.spatial.design import SpatialPanelDesign
from bayes_ccd.spatial.effects import EffectEstimates
from bayes_ccd.spatial.fingerprint import Fingerprint
from bayes_ccd.spatial.ml import MLResult
from bayes_ccd.spatial.results import SpatialFit, recorded_warnings
from bayes_ccd.spatial.specification import TEST_COLUMNS, specification_tests

#: Columns of ``coefficients.csv`` and ``effects.csv`` of a maximum-likelihood fit.
COEFFICIENT_COLUMNS: Final = ("term", "estimate", "std_error", "z", "p_value", "lower", "upper")
EFFECT_COLUMNS: Final = ("variable", "effect", "estimate", "std_error", "p_value", "lower", "upper")


@dataclass(frozen=True, eq=False)
class MLEFit(SpatialFit):
    """A spatial panel fitted by maximum likelihood.

    Parameters
    ----------
    result
        The estimates (:class:`~bayes_ccd.spatial.ml.MLResult`).
    settings
        Effect inference, specification tests, fixed effects (``[mle]``).
    seed
        Seed of the simulated effect inference.
    label
        The sample: ``"national"`` or a region.
    dropped_units
        Units left out of a regional sample (no neighbour inside the region).
    notes
        Messages about the sample's weights, recorded before the fit.
    """

    estimator: ClassVar[str] = "mle"
    coefficient_columns: ClassVar[tuple[str, ...]] = COEFFICIENT_COLUMNS
    effect_columns: ClassVar[tuple[str, ...]] = EFFECT_COLUMNS
    paper_cells = staticmethod(standard_error_cells)
    paper_second: ClassVar[str] = "se"
    paper_spread: ClassVar[str] = "std_error"

    result: MLResult
    settings: MLESettings = field(default_factory=MLESettings)
    seed: int = DEFAULT_SEED
    label: str = NATIONAL
    dropped_units: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    _recorded: list[str] = field(default_factory=list, repr=False)

    @property
    def design(self) -> SpatialPanelDesign:
        """The transformed design the estimates condition on."""
        return self.result.design

    @cached_property
    def fingerprint(self) -> Fingerprint:
        """What was fitted to what (see :class:`~bayes_ccd.spatial.fingerprint.Fingerprint`)."""
        return Fingerprint.of(self.design, self.label)

    @cached_property
    def effect_estimates(self) -> EffectEstimates:
        """The effects with their inference, computed once (see :meth:`effects`)."""
        with recorded_warnings(self._recorded):
            return self.result.effect_estimates(
                method=self.settings.effects_inference,  # type: ignore[arg-type]
                n_draws=self.settings.effects_draws,
                seed=self.seed,
            )

    @cached_property
    def _tests(self) -> pd.DataFrame:
        self.effect_estimates  # noqa: B018  (its warnings are recorded first)
        with recorded_warnings(self._recorded, prefix="specification tests: "):
            return specification_tests(self.result)

    @property
    def warnings(self) -> list[str]:
        """Every warning of the fit, each once.

        The warnings come from its sample's weights, the estimation, the effects and
        (when enabled) the specification tests.
        """
        self.effect_estimates  # noqa: B018
        if self.settings.tests:
            self._tests  # noqa: B018
        return list(dict.fromkeys([*self.notes, *self.result.warnings, *self._recorded]))

    @property
    def info(self) -> dict[str, Any]:
        """Facts of the fit (``fit.json``)."""
        simulated = self.settings.effects_inference == "simulation"
        return self.result.facts() | {
            "sample": self.label,
            "effects_inference": self.settings.effects_inference,
            "interval_prob": INTERVAL_PROB,
            "effects_draws": self.settings.effects_draws if simulated else None,
            "seed": self.seed,
            "dropped_units": list(self.dropped_units),
            "warnings": self.warnings,
            "fingerprint": self.fingerprint.to_dict(),
        }

    def estimation_facts(self) -> dict[str, str]:
        """Estimator, information matrix and effect inference (draws and seed if simulated)."""
        settings = self.settings
        inference = settings.effects_inference
        if inference == "simulation":
            inference += f" ({settings.effects_draws} draws, seed {self.seed})"
        return {
            "estimator": "maximum likelihood",
            "information": str(self.result.information),
            "effects inference": inference,
        }

    def coefficients(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Return the estimated coefficients with standard errors and Wald intervals at ``prob``.

        Columns are ``term, estimate, std_error, z, p_value, lower, upper``; rows are the
        design columns, then the spatial parameter and ``sigma2``.
        """
        return self.result.coefficients(prob=prob)

    def effects(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Return the LeSage-Pace direct, indirect and total effects at the estimates.

        Columns are ``variable, effect, estimate, std_error, z, p_value, lower, upper``,
        with intervals at ``prob`` (central quantiles of the simulated effects, or
        delta-method Wald intervals).
        """
        return self.effect_estimates.table(prob)

    def tests(self) -> pd.DataFrame:
        """Return the specification tests (the seed paper's Table 6).

        Columns are ``test, statistic, df, p_value``; rows are the LM, LR and Wald tests
        of the model and the LR tests of the fixed effects.
        """
        return self._tests

    def fixed_effects(self) -> pd.DataFrame:
        """``effect, label, estimate``: the estimated fixed effects."""
        return self.result.fixed_effects()

    @property
    def spatial(self) -> float:
        """The estimate of ``rho`` (lag models) or ``lambda`` (error models)."""
        return self.result.spatial

    @property
    def loglik(self) -> float:
        """The maximised log-likelihood of the transformed model."""
        return self.result.loglik

    def summary(self, prob: float = INTERVAL_PROB) -> Summary:
        """Model, sample, estimates, effects and (when enabled) the tests."""
        info = self.result.facts()
        name = self.spec.spatial_parameter
        line = (
            f"{self.label}: {info['label']}, N = {info['N']}, T = {info['T']}, "
            f"{name} = {self.spatial:.3f}, log-likelihood {self.loglik:.1f}"
        )
        warnings = self.warnings
        if warnings:
            line += f"; warnings: {'; '.join(warnings)}"
        tables = [
            SummaryTable(self.coefficients(prob), "Coefficients", f"Wald intervals at {prob:.0%}."),
            SummaryTable(self.effects(prob), "Direct, indirect and total effects"),
        ]
        if self.settings.tests:
            tables.append(SummaryTable(self.tests(), "Specification tests"))
        return Summary(
            title=f"Maximum likelihood: {info['label']}",
            facts={
                "sample": self.label,
                "units x periods": f"{info['N']} x {info['T']}",
                "effective observations": info["n_effective"],
                name: self.spatial,
                "sigma2": self.result.sigma2,
                "log-likelihood": self.loglik,
                "AIC": self.result.aic,
                "BIC": self.result.bic,
                "R-squared": info["r2"],
                "warnings": warnings,
            },
            lines=[line],
            tables=tables,
        )

    def paper_stats(self) -> dict[str, Any]:
        """R-squared, log-likelihood and observations, below the coefficients."""
        info = self.result.facts()
        return {
            "R-squared": info["r2"],
            "Log-likelihood": info["loglik"],
            "Observations": info["n_observations"],
        }

    def paper_notes(self) -> dict[str, str]:
        """Captions and notes of the paper tables."""
        model = self.spec.label()
        return {
            "regression": f"Regression results: {model}",
            "effects": f"Direct, indirect and total effects: {model}",
            "notes": "Standard errors in parentheses; *** p<0.01, ** p<0.05, * p<0.1.",
        }

    def write_sample(self, directory: Path, *, figures: bool = True) -> list[Path]:
        """Write the sample's tables and saved fit into ``directory``.

        The files are ``coefficients.csv``, ``effects.csv``, ``tests.csv`` (empty when
        the tests are off; with them also ``tests.md`` and ``tests.tex``), ``fit.json``,
        ``fit.nc`` (:meth:`save`), and ``fixed_effects.csv`` and ``filled_cells.csv``
        when they apply.
        """
        paths = self._write_common(directory)
        tests = self.tests() if self.settings.tests else pd.DataFrame(columns=list(TEST_COLUMNS))
        paths.append(directory / "tests.csv")
        tests.reindex(columns=list(TEST_COLUMNS)).to_csv(paths[-1], index=False)
        if self.settings.tests:
            paths += write_table(
                tests.reindex(columns=list(TEST_COLUMNS)),
                directory,
                "tests",
                formats=("md", "tex"),
                caption=f"Specification tests: {self.spec.label()}, sample {self.label}",
                notes="LM tests on the model without spatial terms (robust: Anselin et al. "
                "1996); LR and Wald tests of the restrictions of the SDM; LR tests of the "
                "fixed effects.",
            )
        if self.settings.fixed_effects:
            paths.append(directory / "fixed_effects.csv")
            self.fixed_effects().to_csv(paths[-1], index=False)
        paths.append(self.save(directory / "fit.nc"))
        return paths

    def save(self, path: str | Path) -> Path:
        """Write the estimates, the data and the weights as NetCDF.

        :func:`bayes_ccd.load` reads them back as this object, without re-estimating.
        """
        result = self.result
        params = [*self.design.names, self.spec.spatial_parameter, "sigma2"]
        estimates = xr.Dataset(
            {
                "beta": (TERM, result.beta),
                "spatial": ((), result.spatial),
                "sigma2": ((), result.sigma2),
                "loglik": ((), result.loglik),
                "vcov": (("param", "param_"), result.vcov),
            },
            coords={TERM: list(self.design.names), "param": params, "param_": params},
        )
        config = {"estimation_warnings": list(result.warnings), "information": result.information}
        return archive.save_fit(self, "mle", {"/mle": estimates}, config, path)

    @classmethod
    def load(cls, path: str | Path) -> MLEFit:
        """Load the fit saved by :meth:`save`.

        The design is rebuilt from the stored data and weights and checked against the
        fingerprint; estimates are not recomputed.
        """
        tree, config, design = archive.open_fit(path, "mle")
        estimates = tree["mle"].to_dataset()
        result = MLResult(
            design,
            estimates["beta"].to_numpy(),
            float(estimates["spatial"]),
            float(estimates["sigma2"]),
            estimates["vcov"].to_numpy(),
            float(estimates["loglik"]),
            config["information"],
            tuple(config["estimation_warnings"]),
        )
        return cls(
            result,
            MLESettings.from_mapping(config["settings"], source=str(path)),
            int(config["seed"]),
            config["label"],
            tuple(config["dropped_units"]),
            tuple(config["notes"]),
        )
