"""The result of the hierarchical model: :class:`HierarchicalFit`, and :func:`fit_hierarchical`.

A :class:`~bayes_ccd.spatial.bayes.fit.PosteriorFit` whose design is the
region-interacted design on the full ``W``
(:func:`~bayes_ccd.spatial.bayes.hierarchical.hierarchical_design`); its posterior adds
the national means ``mu`` and between-region scales ``tau`` (dims ``coefficient``) and
the per-draw regional effects (``region`` x ``regional_effect`` x ``covariate``,
:mod:`bayes_ccd.spatial.regional_effects`); ``effects`` holds the national
LeSage-Pace averages of the region-varying effect matrices. :meth:`HierarchicalFit.effects`
has a leading ``region`` column (``national`` first), :meth:`HierarchicalFit.pooling`
summarises the scales. Saved as NetCDF, it loads back as the same object.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from bayes_ccd.conventions import (
    COEFFICIENT,
    COVARIATE,
    DEFAULT_SEED,
    EFFECT,
    EFFECT_KINDS,
    INTERVAL_PROB,
    NATIONAL,
    REGION,
    REGIONAL_EFFECT,
    TERM,
)
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.report.output import write_json
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import paper_table, write_table
from bayes_ccd.settings import BayesSettings
from bayes_ccd.spatial import archive, diagnostics
from bayes_ccd.spatial.arrays import PanelArrays
from bayes_ccd.spatial.bayes.fit import PosteriorFit
from bayes_ccd.spatial.bayes.hierarchical import hierarchical_design, sample_hierarchical
from bayes_ccd.spatial.bayes.posterior import (
    POSTERIOR_COLUMNS,
    coefficient_table,
    observed_dataset,
    summarise_variable,
)
from bayes_ccd.spatial.bayes.priors import Prior, prior_parameters, resolve_prior
from bayes_ccd.spatial.design import LAG_PREFIX, ModelSpec, SpatialPanelDesign
from bayes_ccd.spatial.regional_effects import (
    REGIONAL_EFFECT_KINDS,
    REGIONAL_EFFECT_NOTES,
    regional_effects,
    regional_spectrum,
)

#: Posterior variables diagnosed (R-hat, ESS) besides the national model's.
_DIAGNOSED = (*diagnostics.DIAGNOSED, "mu", "tau", "regional_effects")
#: Rows of the effect tables: national and regional kinds merged, ``total`` last.
_EFFECT_ORDER = {e: i for i, e in enumerate(("direct", "indirect", *REGIONAL_EFFECT_KINDS[1:]))}
#: Columns of :meth:`HierarchicalFit.effects`.
HIERARCHICAL_EFFECT_COLUMNS = (REGION, "variable", "effect", *POSTERIOR_COLUMNS)


def hierarchical_posterior(
    design: SpatialPanelDesign,
    covariates: tuple[str, ...],
    membership: tuple[str, ...],
    draws: dict[str, np.ndarray],
) -> xr.Dataset:
    """Parameters and per-draw effects as the ``posterior`` group.

    Variables: ``rho``, ``beta`` (``term``: the interacted columns), ``mu`` and ``tau``
    (``coefficient``), ``sigma2``, ``sigma``, ``effects`` (``effect`` x ``covariate``,
    national averages) and ``regional_effects`` (``region`` x ``regional_effect`` x
    ``covariate``).
    """
    regions = list(dict.fromkeys(membership))
    codes = pd.Index(regions).get_indexer(list(membership))
    terms = [*covariates, *(LAG_PREFIX + c for c in covariates if design.spec.is_durbin)]
    blocks = draws["beta"].reshape(*draws["beta"].shape[:-1], len(terms), len(regions))
    beta, theta = _split(blocks, len(covariates), design.spec.is_durbin)
    regional, national = regional_effects(
        draws["rho"], beta, theta, regional_spectrum(design.W, codes)
    )
    sample = ("chain", "draw")
    chains, n_draws = draws["rho"].shape
    return xr.Dataset(
        {
            "rho": (sample, draws["rho"]),
            "beta": ((*sample, TERM), draws["beta"]),
            "mu": ((*sample, COEFFICIENT), draws["mu"]),
            "tau": ((*sample, COEFFICIENT), draws["tau"]),
            "sigma2": (sample, draws["sigma2"]),
            "sigma": (sample, np.sqrt(draws["sigma2"])),
            "effects": ((*sample, EFFECT, COVARIATE), national),
            "regional_effects": ((*sample, REGION, REGIONAL_EFFECT, COVARIATE), regional),
        },
        coords={
            "chain": np.arange(chains),
            "draw": np.arange(n_draws),
            TERM: list(design.names),
            COEFFICIENT: terms,
            EFFECT: list(EFFECT_KINDS),
            COVARIATE: list(covariates),
            REGION: regions,
            REGIONAL_EFFECT: list(REGIONAL_EFFECT_KINDS),
        },
    )


def _split(blocks: np.ndarray, k: int, durbin: bool) -> tuple[np.ndarray, np.ndarray | None]:
    return blocks[..., :k, :], (blocks[..., k : 2 * k, :] if durbin else None)


@dataclass(frozen=True, eq=False)
class HierarchicalFit(PosteriorFit):
    """The hierarchical SDM fitted by NUTS (see the module docstring).

    Parameters
    ----------
    covariates
        The covariates of the national model (``x_k``, before interacting).
    membership
        The region of every unit of the design, in order.
    (others)
        As :class:`~bayes_ccd.spatial.bayes.fit.PosteriorFit`; ``design`` is the
        region-interacted design.
    """

    effect_columns: ClassVar[tuple[str, ...]] = HIERARCHICAL_EFFECT_COLUMNS

    covariates: tuple[str, ...] = ()
    membership: tuple[str, ...] = ()

    @property
    def regions(self) -> list[str]:
        """The regions, in order of first appearance."""
        return list(dict.fromkeys(self.membership))

    @cached_property
    def convergence(self) -> dict[str, dict[str, xr.DataArray]]:
        """R-hat, ESS and MCSE of the diagnosed variables, the pooled ones included."""
        posterior = self.tree["posterior"]
        return {
            name: diagnostics.convergence_statistics(posterior[name])
            for name in _DIAGNOSED
            if name in posterior.data_vars
        }

    @cached_property
    def _diagnostics(self) -> diagnostics.Diagnostics:
        from bayes_ccd.spatial.results import recorded_warnings

        with recorded_warnings(self._recorded):
            return diagnostics.diagnose(
                self.tree, var_names=_DIAGNOSED, warn=True, statistics=self.convergence
            )

    def coefficients(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Posterior of every regional coefficient, ``rho``, ``sigma2``, then ``mu`` and ``tau``.

        Rows ``x1[east]``, ..., ``rho``, ``sigma2``, ``mu[x1]``, ..., ``tau[x1]``, ....
        """
        table = coefficient_table(self.posterior, prob=prob, convergence=self.convergence)
        pooled = [
            summarise_variable(
                self.posterior, name, prob=prob, convergence=self.convergence[name]
            ).assign(term=lambda f, n=name: n + "[" + f[COEFFICIENT] + "]")
            for name in ("mu", "tau")
        ]
        return pd.concat([table, *pooled], ignore_index=True)[list(self.coefficient_columns)]

    def pooling(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Posterior of the between-region scales ``tau`` and national means ``mu``.

        Columns ``coefficient``, ``parameter`` (``tau``, ``mu``), then the posterior columns.
        ``tau_j`` near zero says the data support no regional difference in coefficient
        ``j``; its posterior against the half-normal prior says how much they do.
        """
        frames = [
            summarise_variable(
                self.posterior, name, prob=prob, convergence=self.convergence[name]
            ).assign(parameter=name)
            for name in ("tau", "mu")
        ]
        return pd.concat(frames, ignore_index=True)[[COEFFICIENT, "parameter", *POSTERIOR_COLUMNS]]

    def effects(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Posterior of the national and regional effects, region first.

        The national rows are LeSage-Pace's direct, indirect and total effects of the
        region-varying ``S_k``; each region has the six effects of
        :data:`~bayes_ccd.spatial.regional_effects.REGIONAL_EFFECT_KINDS`.
        """
        post = self.posterior
        national = summarise_variable(
            post, "effects", prob=prob, convergence=self.convergence["effects"]
        ).assign(**{REGION: NATIONAL})
        regional = summarise_variable(
            post, "regional_effects", prob=prob, convergence=self.convergence["regional_effects"]
        ).rename(columns={REGIONAL_EFFECT: "effect"})
        table = pd.concat([national, regional], ignore_index=True)
        table = table.rename(columns={COVARIATE: "variable"})
        order = {
            "region": {r: i for i, r in enumerate([NATIONAL, *self.regions])},
            "variable": {v: i for i, v in enumerate(self.covariates)},
            "effect": _EFFECT_ORDER,
        }
        keys = pd.DataFrame({c: table[c].map(m) for c, m in order.items()})
        table = table.iloc[np.lexsort([keys[c] for c in reversed(list(order))])]
        return table.reset_index(drop=True)[list(HIERARCHICAL_EFFECT_COLUMNS)]

    @property
    def info(self) -> dict[str, Any]:
        """Facts of the fit (``fit.json``), with the regions and the pooling prior."""
        counts = pd.Series(self.membership).value_counts()
        return super().info | {
            "hierarchical": True,
            "covariates": list(self.covariates),
            "regions": {r: int(counts[r]) for r in self.regions},
            "pooling_scale": self.settings.pooling_scale,
        }

    def summary(self, prob: float = INTERVAL_PROB) -> Summary:
        """Model, sampler, verdict, coefficients, the scales and the regional effects."""
        base = super().summary(prob)
        columns = ["mean", "sd", "lower", "upper", "prob_positive", "r_hat", "ess_bulk"]
        interval = f"{prob:.0%} central posterior intervals."
        effects = self.effects(prob)
        return Summary(
            title=f"Hierarchical posterior by region: {self.spec.label()}",
            facts=base.facts | {"regions": self.regions},
            lines=base.lines,
            tables=[
                base.tables[0],
                SummaryTable(
                    self.pooling(prob)[[COEFFICIENT, "parameter", *columns]],
                    "Between-region scales (tau) and national means (mu)",
                    interval,
                ),
                SummaryTable(
                    effects[[REGION, "variable", "effect", *columns]],
                    "Effects by region",
                    interval + " " + effect_note(),
                ),
            ],
        )

    def paper_notes(self) -> dict[str, str]:
        """Captions and notes of the paper tables."""
        notes = super().paper_notes()
        return notes | {
            "effects": "Effects by region (hierarchical posterior on the full W): "
            + self.spec.label(),
            "notes": notes["notes"] + ". " + effect_note(),
        }

    def effects_table(self, *, digits: int = 3) -> pd.DataFrame:
        """Tabulate the effects in a paper layout: (effect, variable) by region."""
        long = self.effects().rename(columns={REGION: "sample"})
        order = long["effect"].map(_EFFECT_ORDER)
        long = long.iloc[order.argsort(kind="stable")]
        return paper_table(
            long,
            row=["effect", "variable"],
            column="sample",
            cells=type(self).paper_cells,
            second=self.paper_second,
            digits=digits,
        )

    def write(
        self,
        directory: str | Path,
        *,
        figures: bool = True,
        metadata: dict[str, Any] | None = None,
        digits: int = 3,
    ) -> list[Path]:
        """Write the fit: the sample's files, ``pooling.csv`` and ``effects_table``.

        The sample's files are those of
        :meth:`~bayes_ccd.spatial.bayes.fit.PosteriorFit.write_sample` (``effects.csv``
        with a region column; ``posterior.nc`` loads back as this object).
        """
        directory = Path(directory)
        paths = self.write_sample(directory, figures=figures)
        paths.append(directory / "pooling.csv")
        self.pooling().to_csv(paths[-1], index=False)
        notes = self.paper_notes()
        paths += write_table(
            self.effects_table(digits=digits),
            directory,
            "effects_table",
            index=True,
            digits=digits,
            caption=notes["effects"],
            notes=notes["notes"],
        )
        if metadata is not None:
            paths.append(write_json(dict(metadata), directory / "metadata.json"))
        return paths

    def save(self, path: str | Path) -> Path:
        """Write the posterior, the data, the weights and the regions as NetCDF."""
        groups = {f"/{name}": node.to_dataset() for name, node in self.tree.children.items()}
        config = {
            "prior": self.prior.to_dict(),
            "timings": dict(self.timings),
            "ppc": None if self.ppc is None else dict(self.ppc),
            "covariates": list(self.covariates),
            "membership": list(self.membership),
        }
        return archive.save_fit(self, "hierarchical", groups, config, path)

    @classmethod
    def load(cls, path: str | Path) -> HierarchicalFit:
        """Load the fit saved by :meth:`save` (data checked against the fingerprint)."""
        return cls.restore(path, "hierarchical", extra=("covariates", "membership"))


def effect_note() -> str:
    """Say which regional effect is which (for table notes)."""
    return "; ".join(f"{k}: {v}" for k, v in REGIONAL_EFFECT_NOTES.items()) + "."


def fit_hierarchical(
    data: PanelArrays,
    weights: SpatialWeights,
    spec: ModelSpec,
    regions: pd.Series,
    *,
    prior: str | Path | Prior | Any = "default",
    settings: BayesSettings | None = None,
    seed: int = DEFAULT_SEED,
    notes: tuple[str, ...] = (),
) -> HierarchicalFit:
    """Fit the hierarchical model by NUTS (see :mod:`bayes_ccd.spatial.bayes.hierarchical`).

    The priors of ``mu``, ``sigma`` and ``rho`` are those of the national model under
    ``prior`` (scaled to the national design); ``settings.pooling_scale`` sets the prior
    of the scales. The sampler is always NUTS (recorded in the settings); with a few
    regions the posterior of ``tau`` spans orders of magnitude and the non-centred
    ``z`` narrow as ``tau`` grows, so use ``target_accept = 0.99`` (on the province W with
    three regions: a few divergences per 4000 draws at 0.95, none or one at 0.99, for
    twice the sampling time; a centred parameterisation diverged far more often).
    With ``settings.ppc_draws > 0`` the posterior predictive check follows.

    Raises
    ------
    SpecificationError
        Student-t errors, an error model, no fixed effects, a region of one unit.
    """
    chosen = (settings or BayesSettings()).replace(sampler="nuts")
    if chosen.errors != "normal":
        raise SpecificationError(
            "the hierarchical model has normal errors; use errors='normal' (Student-t "
            "errors are available for the national and sub-sample models)"
        )
    resolved = resolve_prior(prior)
    national, regional, membership = hierarchical_design(data, weights, spec, regions)
    params = prior_parameters(resolved, national)
    regions_order = list(dict.fromkeys(membership))
    draws, stats, timings = sample_hierarchical(
        national, regional, params, regions_order, chosen, seed
    )
    start = time.perf_counter()
    covariates = tuple(national.data.x_names)
    posterior = hierarchical_posterior(regional, covariates, tuple(membership), draws)
    timings["effects_seconds"] = time.perf_counter() - start
    tree = xr.DataTree.from_dict(
        {
            "/posterior": posterior,
            "/observed_data": observed_dataset(regional),
            "/sample_stats": stats,
        }
    )
    fit = HierarchicalFit(
        regional,
        tree,
        resolved,
        chosen,
        seed,
        NATIONAL,
        (),
        tuple(notes),
        timings,
        covariates=covariates,
        membership=tuple(membership),
    )
    if chosen.ppc_draws > 0:
        fit = fit.posterior_predictive()
    fit.diagnostics()
    return fit
