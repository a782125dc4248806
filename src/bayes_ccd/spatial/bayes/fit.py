"""The result of a Bayesian fit: :class:`PosteriorFit`.

It holds the posterior as an ``xarray.DataTree`` (groups ``posterior`` with the
parameters and the per-draw effects, ``observed_data``, ``sample_stats`` for NUTS,
``spatial_marginal`` for the exact sampler, ``posterior_predictive`` when drawn) with
the design, prior, settings and seed that produced it, in the result contract of
:mod:`bayes_ccd.spatial.results`. Convergence statistics are computed once and serve
both the posterior tables and the diagnostics. Saved as NetCDF, it loads back as the
same object (:meth:`PosteriorFit.load`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import pandas as pd
import xarray as xr

from bayes_ccd.conventions import DEFAULT_SEED, INTERVAL_PROB, NATIONAL
from bayes_ccd.exceptions import DataError
from bayes_ccd.report.figures import save_figure, stamp_notice
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import interval_cells
from bayes_ccd.settings import BayesSettings
from bayes_ccd.spatial import archive, diagnostics
from bayes_ccd.spatial.bayes.posterior import (
    BAYES_COEFFICIENT_COLUMNS,
    BAYES_EFFECT_COLUMNS,
    coefficient_table,
    effect_table,
    posterior_predictive,
    ppc_pvalues,
    ppc_statistics,
)
from bayes_ccd.spatial.bayes.priors import Prior
from bayes_ccd.spatial.design import SpatialPanelDesign
from bayes_ccd.spatial.fingerprint import Fingerprint
from bayes_ccd.spatial.results import SpatialFit, recorded_warnings

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True, eq=False)
class PosteriorFit(SpatialFit):
    """A spatial panel fitted by Bayes: the posterior and how it was made.

    Parameters
    ----------
    design
        The transformed design the posterior conditions on.
    tree
        The posterior (see the module docstring).
    prior, settings, seed
        The prior, the sampler settings (``[bayes]``) and the seed of every random step.
    label
        The sample: ``"national"`` or a region.
    dropped_units
        Units left out of a regional sample (no neighbour inside the region).
    notes
        Messages about the sample's weights, recorded before the fit.
    timings
        Seconds spent compiling (NUTS), sampling and computing the effects.
    ppc
        Posterior predictive p-values (:func:`~bayes_ccd.spatial.bayes.posterior.ppc_pvalues`),
        when the check was run.
    """

    estimator: ClassVar[str] = "bayes"
    coefficient_columns: ClassVar[tuple[str, ...]] = BAYES_COEFFICIENT_COLUMNS
    effect_columns: ClassVar[tuple[str, ...]] = BAYES_EFFECT_COLUMNS
    paper_cells = staticmethod(interval_cells)
    paper_second: ClassVar[str] = "interval"
    paper_spread: ClassVar[str] = "sd"
    paper_extra: ClassVar[tuple[tuple[str, str], ...]] = (("P(>0)", "prob_positive"),)

    design: SpatialPanelDesign
    tree: xr.DataTree
    prior: Prior
    settings: BayesSettings = field(default_factory=BayesSettings)
    seed: int = DEFAULT_SEED
    label: str = NATIONAL
    dropped_units: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)
    ppc: Mapping[str, float] | None = None
    _recorded: list[str] = field(default_factory=list, repr=False)

    @property
    def posterior(self) -> xr.Dataset:
        """Draws of the parameters and the effects, dims ``(chain, draw, ...)``."""
        return self.tree["posterior"].to_dataset()

    @cached_property
    def fingerprint(self) -> Fingerprint:
        """What was fitted to what (see :class:`~bayes_ccd.spatial.fingerprint.Fingerprint`)."""
        return Fingerprint.of(self.design, self.label)

    @cached_property
    def convergence(self) -> dict[str, dict[str, xr.DataArray]]:
        """R-hat, ESS and MCSE of every diagnosed variable, computed once.

        See :func:`~bayes_ccd.spatial.diagnostics.convergence_statistics`.
        """
        posterior = self.tree["posterior"]
        return {
            name: diagnostics.convergence_statistics(posterior[name])
            for name in diagnostics.DIAGNOSED
            if name in posterior.data_vars
        }

    @cached_property
    def _diagnostics(self) -> diagnostics.Diagnostics:
        with recorded_warnings(self._recorded):
            return diagnostics.diagnose(self.tree, warn=True, statistics=self.convergence)

    def diagnostics(self) -> diagnostics.Diagnostics:
        """Return the convergence diagnostics and their verdict.

        The diagnostics are R-hat, ESS and MCSE, and divergences and E-BFMI for NUTS. A
        failed check is issued once as a ConvergenceWarning.
        """
        return self._diagnostics

    @property
    def warnings(self) -> list[str]:
        """Every warning of the fit, each once.

        The warnings of its sample's weights come first, then those of sampling and
        diagnosis.
        """
        self._diagnostics  # noqa: B018  (its warning is recorded)
        return list(dict.fromkeys([*self.notes, *self._recorded]))

    @property
    def spatial_parameter(self) -> str:
        """``"rho"`` (lag models) or ``"lambda"`` (error models)."""
        return self.spec.spatial_parameter

    def estimation_facts(self) -> dict[str, str]:
        """Sampler, prior, error distribution, chains x draws and seed."""
        settings = self.settings
        errors = "normal"
        if settings.errors == "student_t":
            errors = (
                f"Student-t (nu = {settings.nu:g})" if settings.nu else "Student-t (nu estimated)"
            )
        return {
            "estimator": "Bayes",
            "sampler": settings.sampler,
            "prior": self.prior.name,
            "errors": errors,
            "chains x draws": f"{settings.chains} x {settings.draws}",
            "seed": str(self.seed),
        }

    def coefficients(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Return the posterior summary of every coefficient.

        Columns are ``term`` then mean, sd, central interval and HDI at ``prob``, the
        probability of a positive value, MCSEs, R-hat and ESS; rows are the design
        columns, then the spatial parameter and ``sigma2``.
        """
        return coefficient_table(self.posterior, prob=prob, convergence=self.convergence)

    def effects(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Return the posterior summary of the LeSage-Pace effects computed for every draw.

        Columns are ``variable, effect`` then the posterior columns of :meth:`coefficients`.
        """
        return effect_table(self.posterior, prob=prob, convergence=self.convergence)

    @property
    def info(self) -> dict[str, Any]:
        """Facts of the fit (``fit.json``)."""
        diagnosis = self.diagnostics()
        settings = self.settings
        means = self.posterior[[self.spatial_parameter, "sigma2"]].mean(("chain", "draw"))
        info = self.design.facts() | {
            "estimator": "bayes",
            "spatial_parameter": self.spatial_parameter,
            "sampler": settings.sampler,
            "draws": settings.draws,
            "chains": settings.chains,
            "tune": settings.tune if settings.sampler == "nuts" else None,
            "nuts_model": self._nuts_model(),
            "seed": self.seed,
            "prior": self.prior.to_dict(),
            "converged": diagnosis.converged,
            "verdict": diagnosis.verdict,
            "divergences": diagnosis.divergences,
            "diagnostic_messages": list(diagnosis.messages),
            "timings": dict(self.timings),
            "dropped_units": list(self.dropped_units),
            "warnings": self.warnings,
            "sample": self.label,
            self.spatial_parameter: float(means[self.spatial_parameter]),
            "sigma2": float(means["sigma2"]),
            "interval_prob": INTERVAL_PROB,
            "fingerprint": self.fingerprint.to_dict(),
        }
        if settings.errors == "student_t":
            posterior = self.posterior
            info["errors"] = settings.errors
            info["nu"] = float(posterior["nu"].mean()) if "nu" in posterior else settings.nu
            info["nu_estimated"] = "nu" in posterior
        if self.ppc is not None:
            info["ppc_pvalues"] = dict(self.ppc)
        return info

    def posterior_predictive(
        self, *, n_draws: int | None = None, seed: int | None = None
    ) -> PosteriorFit:
        """Return the fit with a ``posterior_predictive`` group of replicated data.

        The returned fit also holds the predictive p-values
        (:func:`~bayes_ccd.spatial.bayes.posterior.ppc_pvalues`); ``n_draws`` and ``seed``
        default to ``settings.ppc_draws`` and the fit's seed.
        """
        n_draws = self.settings.ppc_draws if n_draws is None else n_draws
        seed = self.seed if seed is None else seed
        nu = self.settings.nu if self.settings.errors == "student_t" else None
        replicated = posterior_predictive(
            self.design, self.posterior, n_draws=n_draws, seed=seed, nu=nu
        )
        tree = self.tree.copy()
        tree["posterior_predictive"] = xr.DataTree(replicated)
        return _refreshed(self, tree=tree, ppc=ppc_pvalues(self.design, replicated))

    def with_log_likelihood(self, *, seed: int | None = None) -> PosteriorFit:
        """Return the fit with a ``log_likelihood`` group of exact pointwise LOO densities.

        ``log p(y_it | y_{-it}, parameters)`` of every draw and unit-period cell
        (:func:`~bayes_ccd.spatial.bayes.loo.log_likelihood_dataset`; the fixed-effect
        draws are seeded with ``seed``, default the fit's). A fit that has the group
        (e.g. Student-t errors, computed when sampled) is returned unchanged.
        """
        if "log_likelihood" in self.tree.children:
            return self
        from bayes_ccd.spatial.bayes.loo import log_likelihood_dataset

        seed = self.seed if seed is None else seed
        tree = self.tree.copy()
        tree["log_likelihood"] = xr.DataTree(
            log_likelihood_dataset(self.design, self.posterior, seed)
        )
        return _refreshed(self, tree=tree)

    def loo(self) -> Any:
        """Return PSIS-LOO of the fit (ArviZ ``ELPDData``, pointwise values included).

        It reads the ``log_likelihood`` group (:meth:`with_log_likelihood` computes it
        when absent). Cells whose Pareto ``k`` exceeds ArviZ's threshold are reported
        by name in a ConvergenceWarning: their importance-sampling estimate is unreliable.
        """
        from bayes_ccd.spatial.bayes.loo import psis_loo, warn_high_pareto_k

        independent = self.settings.sampler == "exact"
        result = psis_loo(self.with_log_likelihood().tree, independent=independent)
        warn_high_pareto_k(self.label, {self.spec.model: result})
        return result

    # --- figures -----------------------------------------------------------------------

    def plot_trace(self) -> Figure:
        """Trace and marginal densities of the spatial parameter, ``sigma2`` and ``beta``."""
        return self._stamped(diagnostics.plot_trace(self.tree))

    def plot_rank(self) -> Figure:
        """Rank ECDF plots per chain (mixing of MCMC chains)."""
        return self._stamped(diagnostics.plot_rank(self.tree))

    def plot_effects(self, prob: float = INTERVAL_PROB) -> Figure:
        """Forest plot of the direct, indirect and total effects."""
        return self._stamped(
            diagnostics.plot_effects_forest(self.tree, prob=prob, y_name=self.design.data.y_name)
        )

    def plot_ppc(self) -> Figure:
        """Posterior predictive check (needs :meth:`posterior_predictive` first)."""
        if "posterior_predictive" not in self.tree.children:
            raise DataError("no replicated data: call posterior_predictive() first")
        return self._stamped(
            diagnostics.plot_ppc(
                self.tree, statistics=self._ppc_statistics(), y_name=self.design.data.y_name
            )
        )

    def _ppc_statistics(self) -> dict[str, tuple[float, np.ndarray]] | None:
        if "posterior_predictive" not in self.tree.children:
            return None
        return ppc_statistics(self.design, self.tree["posterior_predictive"].to_dataset())

    def plot_spatial_marginal(self) -> Figure:
        """Plot the exact sampler's gridded marginal posterior of the spatial parameter."""
        if "spatial_marginal" not in self.tree.children:
            raise DataError("only the exact sampler grids the marginal of the spatial parameter")
        return self._stamped(diagnostics.plot_spatial_marginal(self.tree))

    def figures(self, prob: float = INTERVAL_PROB) -> dict[str, Figure]:
        """Draw the diagnostic figures written with the fit, by file stem.

        See :func:`~bayes_ccd.spatial.diagnostics.diagnostic_figures`.
        """
        figures = diagnostics.diagnostic_figures(
            self.tree,
            prob=prob,
            y_name=self.design.data.y_name,
            ppc_statistics=self._ppc_statistics(),
        )
        return {stem: self._stamped(figure) for stem, figure in figures.items()}

    def _stamped(self, figure: Figure) -> Figure:
        """Return the figure with the data's notice at its foot (the synthetic demo panel)."""
        return stamp_notice(figure, self.design.data.notice)

    # --- reporting -----------------------------------------------------------------------

    def summary(self, prob: float = INTERVAL_PROB) -> Summary:
        """Model, sampler, prior, verdict, posterior tables and diagnostics."""
        info = self.design.facts()
        name = self.spatial_parameter
        diagnosis = self.diagnostics()
        coefficients = self.coefficients(prob)
        row = coefficients.set_index("term").loc[name]
        verdict = "converged" if diagnosis.converged else "NOT CONVERGED"
        line = (
            f"{self.label}: N={info['N']}, T={info['T']}, {name}={row['mean']:.4f} "
            f"[{row['lower']:.4f}, {row['upper']:.4f}], sampler {self.settings.sampler}, "
            f"diagnostics: {verdict}"
        )
        if not diagnosis.converged:
            line += " (" + "; ".join(diagnosis.messages) + ")"
        columns = ["mean", "sd", "lower", "upper", "prob_positive", "r_hat", "ess_bulk"]
        interval = f"{prob:.0%} central posterior intervals."
        return Summary(
            title=f"Posterior: {info['label']}",
            facts={
                "sample": self.label,
                "units x periods": f"{info['N']} x {info['T']}",
                "sampler": self.settings.sampler,
                "chains x draws": f"{self.settings.chains} x {self.settings.draws}",
                "prior": self.prior.name,
                **({"errors": self._errors_label()} if self.settings.errors == "student_t" else {}),
                "seed": self.seed,
                "verdict": diagnosis.verdict,
                "warnings": self.warnings,
            },
            lines=[line],
            tables=[
                SummaryTable(coefficients[["term", *columns]], "Coefficients", interval),
                SummaryTable(
                    self.effects(prob)[["variable", "effect", *columns]],
                    "Direct, indirect and total effects",
                    interval,
                ),
            ],
        )

    def _nuts_model(self) -> str | None:
        """Return what NUTS sampled: ``direct`` or ``pymc`` (always so for Student-t errors)."""
        if self.settings.sampler != "nuts":
            return None
        return "pymc" if self.settings.errors == "student_t" else self.settings.nuts_model

    def _errors_label(self) -> str:
        """Name the error distribution: ``normal``, ``Student-t (nu = 4.1)`` or fixed ``nu``."""
        if self.settings.errors != "student_t":
            return "normal"
        posterior = self.posterior
        if "nu" in posterior:
            return f"Student-t (posterior mean nu = {float(posterior['nu'].mean()):.3g})"
        return f"Student-t (nu = {self.settings.nu:g}, fixed)"

    def sample_tables(self) -> dict[str, pd.DataFrame]:
        """Coefficients, effects and diagnostics (stacked by region by a collection)."""
        return super().sample_tables() | {"diagnostics": self.diagnostics().table}

    def paper_notes(self) -> dict[str, str]:
        """Captions and notes of the paper tables."""
        model = self.spec.label()
        return {
            "regression": f"Posterior estimates: {model}",
            "effects": f"Direct, indirect and total effects (posterior): {model}",
            "notes": (
                f"Posterior means; {INTERVAL_PROB:.0%} central posterior intervals below; "
                "P(>0): posterior probability of a positive value. "
                f"Sampler: {self.settings.sampler}; prior: {self.prior.name}"
                + (
                    f"; errors: {self._errors_label()}."
                    if self.settings.errors == "student_t"
                    else "."
                )
            ),
        }

    def write_sample(self, directory: Path, *, figures: bool = True) -> list[Path]:
        """Write the sample's tables, posterior and figures into ``directory``.

        The files are ``coefficients.csv``, ``effects.csv``, ``fit.json``, ``posterior.nc``
        (:meth:`save`), ``diagnostics.csv``, ``filled_cells.csv`` when cells were filled,
        and with ``figures`` the diagnostic figures (:meth:`figures`).
        """
        paths = self._write_common(directory)
        paths.append(self.save(directory / "posterior.nc"))
        paths.append(directory / "diagnostics.csv")
        self.diagnostics().table.to_csv(paths[-1], index=False)
        if figures:
            import matplotlib.pyplot as plt

            for stem, figure in self.figures().items():
                try:
                    paths += save_figure(figure, directory / stem, dpi=120)
                finally:
                    plt.close(figure)
        return paths

    def save(self, path: str | Path) -> Path:
        """Write the posterior, the data and the weights as NetCDF.

        :meth:`load` (or :func:`bayes_ccd.load`) reads it back as this object.
        """
        groups = {f"/{name}": node.to_dataset() for name, node in self.tree.children.items()}
        config = {
            "prior": self.prior.to_dict(),
            "timings": dict(self.timings),
            "ppc": None if self.ppc is None else dict(self.ppc),
        }
        return archive.save_fit(self, "posterior", groups, config, path)

    @classmethod
    def load(cls, path: str | Path) -> PosteriorFit:
        """Load the fit saved by :meth:`save`.

        The design is rebuilt from the stored data and weights and checked against the
        fingerprint (the model id).
        """
        return cls.restore(path, "posterior")

    @classmethod
    def restore(cls, path: str | Path, kind: str, extra: tuple[str, ...] = ()) -> Self:
        """Rebuild a saved fit of ``kind``; ``extra`` names constructor fields a subclass adds.

        Those fields are read from the stored configuration as tuples.
        """
        tree, config, design = archive.open_fit(path, kind)
        groups = {f"/{k}": v.to_dataset() for k, v in tree.children.items() if k != "constant_data"}
        return cls(
            design,
            xr.DataTree.from_dict(groups),
            Prior.from_dict(config["prior"]),
            BayesSettings.from_mapping(config["settings"], source=str(path)),
            int(config["seed"]),
            config["label"],
            tuple(config["dropped_units"]),
            tuple(config["notes"]),
            config["timings"],
            config["ppc"],
            **{name: tuple(config[name]) for name in extra},
        )


def _refreshed(fit: PosteriorFit, **changes: Any) -> PosteriorFit:
    """Return a copy of ``fit`` with ``changes``.

    The cached statistics are recomputed on use and the warnings recorded so far are kept.
    """
    return replace(fit, _recorded=list(fit._recorded), **changes)
