"""The hierarchical model side by side with the regional sub-sample fits.

For each region, covariate and effect (direct, indirect, total) the comparison puts the
sub-sample SDM (``W`` cut at the region's border and re-standardised; maximum
likelihood and posterior, the seed paper's Table 8) next to the hierarchical posterior
on the full ``W`` (:mod:`bayes_ccd.spatial.bayes.hierarchical`). The sub-sample's
indirect effect is the mean off-diagonal row sum of its ``S_k``, so it is compared with
the hierarchical ``indirect_received`` (:mod:`bayes_ccd.spatial.regional_effects`), whose
cross-border part a sub-sample cannot see. One table and one forest figure per effect,
and the posterior of the between-region scales, written with the hierarchical fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from bayes_ccd.conventions import (
    COEFFICIENT,
    DEFAULT_SEED,
    EFFECT_KINDS,
    INTERVAL_PROB,
    NATIONAL,
    REGION,
)
from bayes_ccd.exceptions import ConfigError, DataError, DataWarning, SpecificationError, warn
from bayes_ccd.report.figures import save_figure, stamp_notice
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import format_number, write_table
from bayes_ccd.settings import BayesSettings
from bayes_ccd.spatial.results import FitCollection

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bayes_ccd.spatial.bayes.hierarchical_fit import HierarchicalFit
    from bayes_ccd.spatial.bayes.priors import Prior
    from bayes_ccd.spatial.model import SpatialPanel

#: Estimators of the comparison, in column order.
ESTIMATORS: Final = ("sub-sample MLE", "sub-sample posterior", "hierarchical posterior")
#: The hierarchical effect compared with each sub-sample effect.
_HIERARCHICAL_EFFECT: Final = {
    "direct": "direct",
    "indirect": "indirect_received",
    "total": "total",
}
#: Columns of :attr:`RegionalComparison.table`.
COMPARISON_COLUMNS: Final = (
    REGION,
    "variable",
    "effect",
    "estimator",
    "estimate",
    "lower",
    "upper",
    "width",
)


@dataclass(frozen=True, eq=False)
class RegionalComparison:
    """Regional effects of the sub-sample fits and of the hierarchical model.

    Attributes
    ----------
    table
        Long: :data:`COMPARISON_COLUMNS` (``estimate`` is the MLE or the posterior mean,
        ``lower``/``upper`` the 95% confidence or central posterior interval).
    hierarchical
        The hierarchical fit.
    """

    table: pd.DataFrame
    hierarchical: HierarchicalFit

    def pooling(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Return the posterior of the between-region scales ``tau`` and national means ``mu``."""
        return self.hierarchical.pooling(prob)

    def width_ratios(self) -> pd.DataFrame:
        """Mean interval width of each sub-sample estimator over the hierarchical one.

        One row per effect; values above 1 mean wider sub-sample intervals.
        """
        widths = self.table.pivot_table(
            index=[REGION, "variable", "effect"], columns="estimator", values="width"
        )
        ratios = widths.drop(columns=ESTIMATORS[2]).div(widths[ESTIMATORS[2]], axis=0)
        return ratios.groupby(level="effect").mean().reindex(list(EFFECT_KINDS))

    def summary(self) -> Summary:
        """Summarise: the hierarchical fit, the scales and the interval width ratios."""
        base = self.hierarchical.summary()
        tau = self.pooling().query("parameter == 'tau'")
        lines = [
            *base.lines,
            "Between-region scales (posterior mean of tau): "
            + ", ".join(f"{c} {m:.3g}" for c, m in zip(tau[COEFFICIENT], tau["mean"], strict=True)),
        ]
        ratios = self.width_ratios()
        for estimator in ratios.columns:
            lines.append(
                f"Mean interval width, {estimator} / hierarchical: "
                + ", ".join(f"{e} {r:.2f}" for e, r in ratios[estimator].items())
            )
        tables = [
            SummaryTable(self.effect_table(e), f"{e.capitalize()} effects by region", "")
            for e in EFFECT_KINDS
        ]
        return Summary(
            title=base.title, facts=base.facts, lines=lines, tables=[*base.tables, *tables]
        )

    def effect_table(self, effect: str, *, digits: int = 3) -> pd.DataFrame:
        """One effect in a paper layout: (region, variable) by estimator, ``est [lo, hi]``."""
        if effect not in EFFECT_KINDS:
            raise SpecificationError(f"effect must be one of {list(EFFECT_KINDS)}, got {effect!r}")
        part = self.table[self.table["effect"] == effect]
        cells = part.assign(
            cell=[
                f"{format_number(e, digits)} [{format_number(lo, digits)}, "
                f"{format_number(hi, digits)}]"
                for e, lo, hi in part[["estimate", "lower", "upper"]].itertuples(index=False)
            ]
        )
        wide = cells.pivot(index=[REGION, "variable"], columns="estimator", values="cell")
        order = list(dict.fromkeys(part[REGION])), list(dict.fromkeys(part["variable"]))
        wide = wide.reindex(pd.MultiIndex.from_product(order, names=[REGION, "variable"]))
        return wide.reindex(columns=[e for e in ESTIMATORS if e in wide.columns])

    def plot(self, effect: str) -> Figure:
        """Draw the forest figure of one effect.

        One panel per covariate (each on its own scale), a row per region, one interval per
        estimator.
        """
        from matplotlib.figure import Figure

        part = self.table[self.table["effect"] == effect]
        regions = list(dict.fromkeys(part[REGION]))
        variables = list(dict.fromkeys(part["variable"]))
        estimators = [e for e in ESTIMATORS if e in set(part["estimator"])]
        columns = min(3, len(variables))
        rows = -(-len(variables) // columns)
        height = 0.35 * len(regions) * len(estimators) + 1.0
        figure = Figure(figsize=(3.6 * columns, height * rows + 1.3), layout="constrained")
        data = self.hierarchical.design.data
        label = f"{effect} effect on {data.y_name}" + (
            " (received)" if effect == "indirect" else ""
        )
        grid = figure.subplots(rows, columns, squeeze=False)
        offsets = np.linspace(-0.25, 0.25, len(estimators)) if len(estimators) > 1 else [0.0]
        for axes, variable in zip(grid.flat, variables, strict=False):
            for offset, estimator, marker in zip(offsets, estimators, "os^", strict=False):
                chosen = part[(part["estimator"] == estimator) & (part["variable"] == variable)]
                chosen = chosen.set_index(REGION).reindex(regions)
                axes.errorbar(
                    chosen["estimate"],
                    np.arange(len(regions)) + offset,
                    xerr=[
                        chosen["estimate"] - chosen["lower"],
                        chosen["upper"] - chosen["estimate"],
                    ],
                    fmt=marker,
                    capsize=2,
                    label=estimator,
                )
            axes.axvline(0.0, color="grey", linewidth=0.8)
            axes.set_yticks(np.arange(len(regions)), regions)
            axes.invert_yaxis()
            axes.set_title(variable, fontsize="medium")
            axes.set_xlabel(label, fontsize="small")
        for axes in list(grid.flat)[len(variables) :]:
            axes.set_visible(False)
        # In the first panel: a figure legend outside the panels would collide with the
        # title or with the data's notice at the foot.
        grid.flat[0].legend(fontsize="x-small", loc="best", framealpha=0.9)
        figure.suptitle(
            f"{effect.capitalize()} effects by region: estimate and {INTERVAL_PROB:.0%} interval"
        )
        return stamp_notice(figure, data.notice)

    def plot_probability_map(self, effect: str = "direct") -> Figure:
        """Map, per covariate, each province's posterior probability of a positive effect.

        Every unit takes its region's hierarchical effect (``indirect``: the spillover its
        region's units receive); the colour scale runs from 0 to 1, white at 1/2. Needs
        China's boundaries (the ``china`` extra) and units they match.
        """
        from bayes_ccd.exploration.china_maps import china_map_shapes
        from bayes_ccd.exploration.maps import plot_unit_values

        fit = self.hierarchical
        kind = "indirect_received" if effect == "indirect" else effect
        table = fit.effects()
        table = table[(table[REGION] != NATIONAL) & (table["effect"] == kind)]
        wide = table.pivot(index=REGION, columns="variable", values="prob_positive")
        wide = wide[list(dict.fromkeys(table["variable"]))]
        units = list(fit.design.data.units)
        values = wide.loc[list(fit.membership)].set_axis(units)
        noun = "spillover received" if effect == "indirect" else f"{effect} effect"
        return plot_unit_values(
            values,
            boundary=china_map_shapes(units),
            title=f"Posterior probability of a positive {noun} on "
            f"{fit.design.data.y_name}, by region (hierarchical model)",
            label="P(effect > 0 | data)",
            limits=(0.0, 1.0),
            notice=fit.design.data.notice,
        )

    def write(
        self,
        directory: str | Path,
        *,
        figures: bool = True,
        metadata: dict[str, Any] | None = None,
        digits: int = 3,
    ) -> list[Path]:
        """Write the hierarchical fit and the comparison into ``directory``.

        The fit's files (:meth:`HierarchicalFit.write`: ``effects.csv`` by region,
        ``pooling.csv``, ``posterior.nc``, ...), then ``regional_comparison.csv`` (long)
        and per effect ``regional_<effect>`` tables (``.csv``, ``.md``, ``.tex``) and forest
        figures (``.png``), and for China's provinces ``probability_map_<effect>.png``
        (:meth:`plot_probability_map`).
        """
        directory = Path(directory)
        paths = self.hierarchical.write(
            directory, figures=figures, metadata=metadata, digits=digits
        )
        paths.append(directory / "regional_comparison.csv")
        self.table.to_csv(paths[-1], index=False)
        note = (
            "Sub-sample fits cut W at the region's border and re-standardise it; the "
            "hierarchical posterior uses the full W, and its indirect effect is the "
            "spillover the region's units receive from every other unit, across borders "
            "included."
        )
        for effect in EFFECT_KINDS:
            paths += write_table(
                self.effect_table(effect, digits=digits),
                directory,
                f"regional_{effect}",
                index=True,
                digits=digits,
                caption=f"{effect.capitalize()} effects by region: sub-samples and hierarchical",
                notes=note,
            )
            if figures:
                paths += save_figure(self.plot(effect), directory / f"regional_{effect}", dpi=120)
                paths += self._write_map(directory, effect)
        return paths

    def _write_map(self, directory: Path, effect: str) -> list[Path]:
        """Write ``probability_map_<effect>.png`` when the units are China's provinces."""
        try:
            figure = self.plot_probability_map(effect)
        except DataError:  # not China's provinces: there is no boundary to draw on
            return []
        except ConfigError as error:  # China's provinces, but the china extra is missing
            warn(f"no probability map of the {effect} effects: {error}", DataWarning)
            return []
        return save_figure(figure, directory / f"probability_map_{effect}", dpi=120)


def _subsample_rows(fits: FitCollection, estimator: str) -> pd.DataFrame:
    table = fits.effects()
    table = table[table[REGION] != NATIONAL]
    value = "estimate" if "estimate" in table.columns else "mean"
    return pd.DataFrame(
        {
            REGION: table[REGION],
            "variable": table["variable"],
            "effect": table["effect"],
            "estimator": estimator,
            "estimate": table[value],
            "lower": table["lower"],
            "upper": table["upper"],
        }
    )


def regional_comparison(
    hierarchical: HierarchicalFit,
    *subsamples: FitCollection,
) -> RegionalComparison:
    """Put the sub-sample fits of each region next to the hierarchical posterior.

    Parameters
    ----------
    hierarchical
        The fit of ``SpatialPanel(..., varying="region").fit("bayes")``.
    subsamples
        ``fit(method="ml", by_region=True)`` and/or ``fit(method="bayes",
        by_region=True)`` of the model without ``varying`` (the same regions).
    """
    frames = []
    for fits in subsamples:
        if not isinstance(fits, FitCollection):
            raise SpecificationError("sub-sample fits must be a FitCollection (by_region=True)")
        kind = "sub-sample MLE" if fits.estimator == "mle" else "sub-sample posterior"
        frames.append(_subsample_rows(fits, kind))
    effects = hierarchical.effects()
    effects = effects[effects[REGION] != NATIONAL]
    renamed = {v: k for k, v in _HIERARCHICAL_EFFECT.items()}
    effects = effects[effects["effect"].isin(list(renamed))]
    frames.append(
        pd.DataFrame(
            {
                REGION: effects[REGION],
                "variable": effects["variable"],
                "effect": effects["effect"].map(renamed),
                "estimator": "hierarchical posterior",
                "estimate": effects["mean"],
                "lower": effects["lower"],
                "upper": effects["upper"],
            }
        )
    )
    table = pd.concat(frames, ignore_index=True)
    table["width"] = table["upper"] - table["lower"]
    regions = {r: i for i, r in enumerate(hierarchical.regions)}
    variables = {v: i for i, v in enumerate(hierarchical.covariates)}
    keys = [
        table["estimator"].map({e: i for i, e in enumerate(ESTIMATORS)}),
        table["variable"].map(variables),
        table[REGION].map(regions).fillna(len(regions)),
        table["effect"].map({e: i for i, e in enumerate(EFFECT_KINDS)}),
    ]
    table = table.iloc[np.lexsort(keys)].reset_index(drop=True)
    return RegionalComparison(table[list(COMPARISON_COLUMNS)], hierarchical)


def compare_regions(
    model: SpatialPanel,
    *,
    settings: BayesSettings | None = None,
    prior: str | Path | Prior | None = None,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
) -> RegionalComparison:
    """Fit the hierarchical model and the regional sub-samples of ``model``; compare them.

    The hierarchical model (NUTS) and the sub-sample posteriors (``settings.sampler``)
    share ``settings`` and ``prior``; the sub-sample MLE uses the default
    :class:`~bayes_ccd.settings.MLESettings`. ``model`` is a
    :class:`~bayes_ccd.spatial.model.SpatialPanel` without ``varying`` (its regions are
    used).
    """
    from bayes_ccd.spatial.bayes.hierarchical_fit import fit_hierarchical

    chosen = settings or BayesSettings()
    if prior is not None:
        chosen = chosen.replace(prior=str(getattr(prior, "name", prior)))
    report = progress or (lambda message: None)
    report("hierarchical model by region on the full W (NUTS)")
    hierarchical = fit_hierarchical(
        model.arrays,
        model.weights,
        model.spec,
        model.region_table(),
        prior=chosen.prior if prior is None else prior,
        settings=chosen.replace(hierarchical=True),
        seed=seed,
    )
    chosen = chosen.replace(hierarchical=False)  # the sub-sample fits are not hierarchical
    mle = model.fit("ml", by_region=True, seed=seed, progress=progress)
    bayes = model.fit(
        "bayes", by_region=True, seed=seed, prior=prior, settings=chosen, progress=progress
    )
    return regional_comparison(hierarchical, mle, bayes)  # type: ignore[arg-type]
