"""Posterior versus maximum likelihood, side by side.

The Bayesian and the maximum-likelihood fits share one likelihood (Lee & Yu 2010), so
with weak priors their point estimates agree to ``O(1/n)`` and the posterior sd agrees
with the asymptotic standard error when the likelihood is close to normal (the
Bernstein-von Mises theorem; Gelman et al. 2013, *Bayesian Data Analysis*, 3rd ed.,
ch. 4). Where they disagree the normal approximation behind the MLE's standard errors
and Wald intervals is poor: small (regional) samples, a spatial parameter near a bound
of its interval, effects that are ratios such as ``beta/(1 - rho)``.

For every coefficient and effect :func:`compare_estimates` puts the MLE estimate,
standard error and interval next to the posterior mean, sd, central interval and HDI,
with

    shift_in_sd = (posterior mean - MLE) / posterior sd,
    sd_ratio    = posterior sd / MLE standard error,

and flags ``shift`` when ``|shift_in_sd| > SHIFT_FLAG`` (0.5) and ``spread`` when
``sd_ratio`` is outside ``SD_RATIO_RANGE`` (0.8 to 1.25). The flags are a screening aid,
not a test. Note that ``sigma2`` is expected to shift: the MLE ``e'e/n`` is biased
downwards by about ``K/n``, the posterior mean is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.report.figures import save_figure
from bayes_ccd.report.output import write_json
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import write_table
from bayes_ccd.spatial.results import (
    FitCollection,
    SpatialFit,
    as_collection,
    main_sample,
    sample_directory,
    stack_by_region,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bayes_ccd.spatial.bayes.fit import PosteriorFit
    from bayes_ccd.spatial.mle import MLEFit

#: Posterior mean this many posterior sds away from the MLE is flagged ``shift``.
SHIFT_FLAG: Final = 0.5
#: Posterior sd / MLE standard error outside this range is flagged ``spread``.
SD_RATIO_RANGE: Final = (0.8, 1.25)

COMPARISON_COLUMNS: Final = (
    "kind",
    "term",
    "effect",
    "mle_estimate",
    "mle_std_error",
    "mle_lower",
    "mle_upper",
    "post_mean",
    "post_sd",
    "post_lower",
    "post_upper",
    "post_hdi_lower",
    "post_hdi_upper",
    "shift_in_sd",
    "sd_ratio",
    "flag",
)


def check_comparable(first: SpatialFit, second: SpatialFit, *, force: bool = False) -> list[str]:
    """Refuse to compare fits of different things; return what ``force`` let pass.

    Fits are comparable when their fingerprints agree: the same data (values, variables,
    units, periods), the same spatial weights, model, fixed effects, transformation and
    sample. With ``force`` a difference in the weights alone is allowed (and returned, to
    be stated with the comparison); nothing else is.

    Raises
    ------
    SpecificationError
        The fingerprints differ (the message lists how).
    """
    a, b = first.fingerprint, second.fingerprint
    differences = a.differences(b)
    allowed = [d for d in differences if force and d == "the spatial weights differ"]
    refused = [d for d in differences if d not in allowed]
    if refused:
        hint = (
            "; to compare across weights on purpose pass force=True (--force)"
            if refused == ["the spatial weights differ"]
            else ""
        )
        raise SpecificationError(
            f"sample {first.label}: the {first.estimator} and {second.estimator} fits are not "
            f"of the same data and model: {'; '.join(refused)}; fit both on the same panel, "
            f"weights and model{hint}"
        )
    return allowed


def _side(frame: pd.DataFrame, columns: Mapping[str, str], keys: list[str]) -> pd.DataFrame:
    return frame[[*keys, *columns]].rename(columns=dict(columns))


def compare_estimates(mle: MLEFit, posterior: PosteriorFit) -> pd.DataFrame:
    """Tabulate side by side one sample fitted by both estimators.

    See :func:`comparison_table`; the caller checks that the fits are comparable.
    """
    return comparison_table(
        {"coefficients": mle.coefficients(), "effects": mle.effects()},
        {"coefficients": posterior.coefficients(), "effects": posterior.effects()},
        label=mle.label,
    )


def comparison_table(
    mle: Mapping[str, pd.DataFrame], posterior: Mapping[str, pd.DataFrame], *, label: str
) -> pd.DataFrame:
    """Build the side-by-side table of one sample (see the module docstring).

    Parameters
    ----------
    mle, posterior
        ``coefficients`` and ``effects`` tables of each estimator (MLE: ``estimate,
        std_error, lower, upper``; posterior: ``mean, sd, lower, upper, hdi_lower,
        hdi_upper``).
    label
        The sample, for messages.

    Returns
    -------
    pandas.DataFrame
        :data:`COMPARISON_COLUMNS`; ``kind`` is ``coefficient`` or ``effect``, ``term`` the
        coefficient or the effect's variable, ``effect`` direct/indirect/total (empty for
        coefficients).

    Raises
    ------
    SpecificationError
        The terms of the two fits differ.
    """
    tables = {name: (mle[name], posterior[name]) for name in ("coefficients", "effects")}
    mle_columns = {
        "estimate": "mle_estimate",
        "std_error": "mle_std_error",
        "lower": "mle_lower",
        "upper": "mle_upper",
    }
    post_columns = {
        "mean": "post_mean",
        "sd": "post_sd",
        "lower": "post_lower",
        "upper": "post_upper",
        "hdi_lower": "post_hdi_lower",
        "hdi_upper": "post_hdi_upper",
    }
    parts = []
    for kind, attribute, keys in (
        ("coefficient", "coefficients", ["term"]),
        ("effect", "effects", ["variable", "effect"]),
    ):
        left = _side(tables[attribute][0], mle_columns, keys)
        right = _side(tables[attribute][1], post_columns, keys)
        if sorted(map(tuple, left[keys].to_numpy())) != sorted(map(tuple, right[keys].to_numpy())):
            raise SpecificationError(
                f"sample {label}: the {attribute} of the two fits differ "
                f"({sorted(left[keys[0]].unique())} vs {sorted(right[keys[0]].unique())})"
            )
        merged = left.merge(right, on=keys, how="inner", sort=False)
        if kind == "effect":
            merged = merged.rename(columns={"variable": "term"})
        else:
            merged["effect"] = ""
        parts.append(merged.assign(kind=kind))
    table = pd.concat(parts, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["shift_in_sd"] = np.where(
            table["post_sd"] > 0,
            (table["post_mean"] - table["mle_estimate"]) / table["post_sd"],
            np.nan,
        )
        table["sd_ratio"] = np.where(
            table["mle_std_error"] > 0, table["post_sd"] / table["mle_std_error"], np.nan
        )
    low, high = SD_RATIO_RANGE
    shift = table["shift_in_sd"].abs() > SHIFT_FLAG
    spread = (table["sd_ratio"] < low) | (table["sd_ratio"] > high)
    table["flag"] = [
        ", ".join(name for name, on in (("shift", s), ("spread", p)) if on)
        for s, p in zip(shift, spread, strict=True)
    ]
    return table[list(COMPARISON_COLUMNS)]


@dataclass(frozen=True)
class Comparison:
    """Posterior versus maximum likelihood, sample by sample.

    Attributes
    ----------
    tables
        ``label -> table`` (:data:`COMPARISON_COLUMNS`), national first.
    notes
        What the comparison allowed on purpose (e.g. different weights, ``force``).
    """

    tables: Mapping[str, pd.DataFrame]
    notes: tuple[str, ...] = ()

    def table(self, label: str | None = None) -> pd.DataFrame:
        """Return the table of one sample (default: the national one)."""
        return self.tables[label or main_sample(self.tables)]

    def lines(self) -> list[str]:
        """One line per sample: the largest shift and the flagged estimates."""
        lines = []
        for label, table in self.tables.items():
            flagged = table[table["flag"] != ""]
            names = [
                f"{t}" if k == "coefficient" else f"{e} {t}"
                for k, t, e in zip(flagged["kind"], flagged["term"], flagged["effect"], strict=True)
            ]
            worst = table["shift_in_sd"].abs().max()
            text = f"{label}: largest |posterior mean - MLE| = {worst:.2f} posterior sd; "
            text += (
                f"{len(flagged)} flagged ({', '.join(names)})" if names else "no estimate flagged"
            )
            lines.append(text)
        return [*lines, *self.notes]

    def summary(self) -> Summary:
        """Summarise the comparison: the lines of :meth:`lines` and the national table."""
        main = main_sample(self.tables)
        return Summary(
            title="Posterior versus maximum likelihood",
            facts={"samples": list(self.tables)},
            lines=self.lines(),
            tables=[SummaryTable(self.tables[main], f"Sample {main}", _NOTES)],
        )

    def plot(self, label: str | None = None) -> Figure:
        """Draw the forest plot of one sample (:func:`plot_comparison`)."""
        label = label or main_sample(self.tables)
        return plot_comparison(self.tables[label], title=label)

    def write(
        self,
        directory: str | Path,
        *,
        figures: bool = True,
        metadata: Mapping[str, Any] | None = None,
        digits: int = 3,
    ) -> list[Path]:
        """Write the comparison tables and forest plots of every sample into ``directory``.

        The files are ``comparison.{csv,md,tex}`` and ``compare_forest.png`` of the main
        sample, the same under ``regions/<region>/``, ``comparison_by_region.csv`` with
        several samples, and ``metadata.json`` (call it inside
        :func:`bayes_ccd.report.output.atomic_output_dir`).
        """
        directory = Path(directory)
        main = main_sample(self.tables)
        notes = " ".join([_NOTES, *self.notes])
        written: list[Path] = []
        for label, table in self.tables.items():
            target = sample_directory(directory, label, main)
            written += write_table(
                table,
                target,
                "comparison",
                digits=digits,
                caption=f"Posterior versus maximum likelihood: {label}",
                notes=notes,
            )
            if figures:
                written += save_figure(
                    plot_comparison(table, title=label), target / "compare_forest"
                )
        if len(self.tables) > 1:
            written.append(directory / "comparison_by_region.csv")
            stack_by_region(self.tables).to_csv(written[-1], index=False)
        if metadata is not None:
            written.append(write_json(dict(metadata), directory / "metadata.json"))
        return written


_NOTES: Final = (
    f"shift_in_sd = (posterior mean - MLE)/posterior sd; sd_ratio = posterior sd/MLE "
    f"standard error; flags: shift |shift_in_sd| > {SHIFT_FLAG}, spread sd_ratio outside "
    f"{SD_RATIO_RANGE}."
)


def compare(
    first: SpatialFit | FitCollection, second: SpatialFit | FitCollection, *, force: bool = False
) -> Comparison:
    """Posterior versus maximum likelihood for every sample fitted by both.

    Parameters
    ----------
    first, second
        A maximum-likelihood fit and a Bayesian fit (in either order), or two
        collections of them (national and regional fits).
    force
        Compare fits on different spatial weights on purpose (stated in the notes).

    Raises
    ------
    SpecificationError
        Not one fit of each estimator, no sample in common, or fits of different data,
        weights, model, fixed effects, transformation or sample (see
        :func:`check_comparable`).
    """
    pair = {c.estimator: c for c in (as_collection(first), as_collection(second))}
    if set(pair) != {"mle", "bayes"}:
        kinds = [as_collection(c).estimator for c in (first, second)]
        raise SpecificationError(
            f"expected a maximum-likelihood fit and a Bayesian fit, got {kinds[0]!r} and "
            f"{kinds[1]!r}"
        )
    mle, posterior = pair["mle"], pair["bayes"]
    common = [label for label in posterior if label in mle]
    if not common:
        raise SpecificationError(
            f"no sample was fitted by both estimators (MLE: {list(mle)}, Bayes: {list(posterior)})"
        )
    notes: list[str] = []
    alone = [label for label in [*mle, *posterior] if label not in common]
    if alone:  # said, not silently skipped
        notes.append(f"not compared (fitted by one estimator only): {', '.join(alone)}.")
    tables = {}
    for label in common:
        allowed = check_comparable(mle[label], posterior[label], force=force)
        notes += [f"sample {label}: compared although {d} (force)." for d in allowed]
        tables[label] = compare_estimates(mle[label], posterior[label])  # type: ignore[arg-type]
    return Comparison(tables, tuple(notes))


def plot_comparison(table: pd.DataFrame, *, title: str = "") -> Figure:
    """Draw a forest plot overlaying the MLE and the posterior of every coefficient and effect.

    The MLE is shown as estimate and Wald interval (black squares), the posterior as mean
    and central interval (blue circles).

    Returns a :class:`matplotlib.figure.Figure` (not registered with pyplot).
    """
    from matplotlib.figure import Figure

    rows = table.assign(
        label=[
            t if kind == "coefficient" else f"{e} {t}"
            for kind, t, e in zip(table["kind"], table["term"], table["effect"], strict=True)
        ]
    )
    kinds = [k for k in ("coefficient", "effect") if (rows["kind"] == k).any()]
    heights = [max(2.0, 0.32 * (rows["kind"] == k).sum()) for k in kinds]
    figure = Figure(figsize=(7.5, sum(heights) + 1.0), layout="constrained")
    axes = figure.subplots(len(kinds), 1, height_ratios=heights, squeeze=False)[:, 0]
    for ax, kind in zip(axes, kinds, strict=True):
        part = rows[rows["kind"] == kind].reset_index(drop=True)
        y = np.arange(len(part))[::-1].astype(float)
        for offset, prefix, marker, colour, name in (
            (0.15, "mle", "s", "black", "MLE (Wald interval)"),
            (-0.15, "post", "o", "tab:blue", "posterior (central interval)"),
        ):
            centre = part["mle_estimate" if prefix == "mle" else "post_mean"]
            ax.errorbar(
                centre,
                y + offset,
                xerr=[centre - part[f"{prefix}_lower"], part[f"{prefix}_upper"] - centre],
                fmt=marker,
                color=colour,
                markersize=4,
                capsize=2,
                linewidth=1,
                label=name,
            )
        flagged = part["flag"] != ""
        ax.set_yticks(
            y, [f"{lab} *" if f else lab for lab, f in zip(part["label"], flagged, strict=True)]
        )
        ax.axvline(0.0, color="grey", linewidth=0.6, linestyle=":")
        ax.set_title(f"{kind}s" + (f" - {title}" if title else ""), fontsize=10)
    axes[0].legend(loc="best", fontsize=8)
    axes[-1].set_xlabel("estimate (* flagged: shift or spread)")
    return figure
