"""Two fits of the same data and model, side by side.

Any two fits compare: a posterior with a maximum-likelihood fit, two posteriors (two
priors, normal and Student-t errors, the exact sampler and NUTS, two W's with
``force``), or two maximum-likelihood fits. For every coefficient and effect the table
puts each fit's estimate, spread and interval side by side, with the shift of the
centres in units of one fit's spread, the ratio of the spreads and flags.

**Posterior versus maximum likelihood.** Both share one likelihood (Lee & Yu 2010), so
with weak priors their point estimates agree to ``O(1/n)`` and the posterior sd agrees
with the asymptotic standard error when the likelihood is close to normal (the
Bernstein-von Mises theorem; Gelman et al. 2013, *Bayesian Data Analysis*, 3rd ed.,
ch. 4). Where they disagree the normal approximation behind the MLE's standard errors
and Wald intervals is poor: small (regional) samples, a spatial parameter near a bound
of its interval, effects that are ratios such as ``beta/(1 - rho)``. In either order,
the columns are :data:`COMPARISON_COLUMNS` with

    shift_in_sd = (posterior mean - MLE) / posterior sd,
    sd_ratio    = posterior sd / MLE standard error.

Note that ``sigma2`` is expected to shift: the MLE ``e'e/n`` is biased downwards by
about ``K/n``, the posterior mean is not.

**Posterior versus posterior** (:data:`POSTERIOR_PAIR_COLUMNS`) and **MLE versus MLE**
(:data:`MLE_PAIR_COLUMNS`). The first fit is the reference (the base specification of
a robustness check), the second the alternative:

    shift_in_sd = (second mean - first mean) / first sd,
    sd_ratio    = second sd / first sd

(estimates and standard errors for two MLEs). The first fit's sd is the unit rather
than the pooled ``sqrt((sd_1^2 + sd_2^2)/2)``: the question is whether the alternative
moves the estimate by much relative to what the reference already leaves uncertain,
and a much wider alternative (a vague prior, a small sample) would inflate a pooled
unit and hide the move it caused. The price is asymmetry: swapping the fits changes
``shift_in_sd`` by the factor ``first sd / second sd`` (``sd_ratio`` says how much).
For posteriors the table also gives each one's probability of a positive value,
``P(value > 0 | y)``, the share of its draws above zero.

Flags: ``shift`` when ``|shift_in_sd| > SHIFT_FLAG`` (0.5) and ``spread`` when
``sd_ratio`` is outside ``SD_RATIO_RANGE`` (0.8 to 1.25). They are a screening aid,
not a test.

Fits of different data, model, fixed effects, transformation or sample are refused
naming the difference (:func:`check_comparable`); a different W only with ``force``.
What the fits may differ in on purpose (prior, error distribution, sampler, draws,
seed, effect inference; W with ``force``) is stated in the notes of every table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.report.figures import save_figure, stamp_notice
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


#: Centres this many units (see the module docstring) apart are flagged ``shift``.
SHIFT_FLAG: Final = 0.5
#: A ratio of spreads outside this range is flagged ``spread``.
SD_RATIO_RANGE: Final = (0.8, 1.25)

_KEYS: Final = ("kind", "term", "effect")
_STATISTICS: Final = ("shift_in_sd", "sd_ratio", "flag")


@dataclass(frozen=True)
class PairLayout:
    """How one pair of estimators is tabulated.

    Attributes
    ----------
    estimators
        The estimators of the first and the second fit.
    first, second
        Column of each fit's ``coefficients()``/``effects()`` -> column of the comparison.
    centre, spread
        The comparison's columns of each fit's estimate and of its sd (standard error).
    unit
        The comparison's column the shift is measured in.
    title
        What is compared with what.
    names
        The two fits in the legend and the headline (e.g. ``MLE``, ``posterior``).
    shift_words
        The shift in words, for the headline: ``|<shift_words>| = 0.42 <unit_words>``.
    unit_words
        The unit of the shift in words.
    """

    estimators: tuple[str, str]
    first: Mapping[str, str]
    second: Mapping[str, str]
    centre: tuple[str, str]
    spread: tuple[str, str]
    unit: str
    title: str
    names: tuple[str, str]
    shift_words: str
    unit_words: str

    @property
    def columns(self) -> tuple[str, ...]:
        """The comparison's columns, in order."""
        return (*_KEYS, *self.first.values(), *self.second.values(), *_STATISTICS)

    @property
    def notes(self) -> str:
        """The definitions stated under every table."""
        a, b = self.names
        ratio = f"sd_ratio = {b} {self._spread_word(1)}/{a} {self._spread_word(0)}"
        return (
            f"shift_in_sd = ({self.shift_words})/{self.unit_words}; {ratio}; flags: shift "
            f"|shift_in_sd| > {SHIFT_FLAG}, spread sd_ratio outside {SD_RATIO_RANGE}."
        )

    def _spread_word(self, side: int) -> str:
        return "sd" if self.estimators[side] == "bayes" else "standard error"


_MLE_SIDE: Final = {n: n for n in ("estimate", "std_error", "lower", "upper")}
_POST_SIDE: Final = {n: n for n in ("mean", "sd", "lower", "upper")}


def _prefixed(columns: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {source: f"{prefix}_{target}" for source, target in columns.items()}


#: Posterior versus maximum likelihood (either order; the MLE comes first).
MLE_BAYES: Final = PairLayout(
    estimators=("mle", "bayes"),
    first=_prefixed(_MLE_SIDE, "mle"),
    second=_prefixed({**_POST_SIDE, "hdi_lower": "hdi_lower", "hdi_upper": "hdi_upper"}, "post"),
    centre=("mle_estimate", "post_mean"),
    spread=("mle_std_error", "post_sd"),
    unit="post_sd",
    title="Posterior versus maximum likelihood",
    names=("MLE", "posterior"),
    shift_words="posterior mean - MLE",
    unit_words="posterior sd",
)
#: Two posteriors: the first is the reference.
BAYES_BAYES: Final = PairLayout(
    estimators=("bayes", "bayes"),
    first=_prefixed({**_POST_SIDE, "prob_positive": "prob_positive"}, "first"),
    second=_prefixed({**_POST_SIDE, "prob_positive": "prob_positive"}, "second"),
    centre=("first_mean", "second_mean"),
    spread=("first_sd", "second_sd"),
    unit="first_sd",
    title="Posterior versus posterior",
    names=("first posterior", "second posterior"),
    shift_words="second mean - first mean",
    unit_words="first posterior sd",
)
#: Two maximum-likelihood fits: the first is the reference.
MLE_MLE: Final = PairLayout(
    estimators=("mle", "mle"),
    first=_prefixed({**_MLE_SIDE, "p_value": "p_value"}, "first"),
    second=_prefixed({**_MLE_SIDE, "p_value": "p_value"}, "second"),
    centre=("first_estimate", "second_estimate"),
    spread=("first_std_error", "second_std_error"),
    unit="first_std_error",
    title="Maximum likelihood versus maximum likelihood",
    names=("first MLE", "second MLE"),
    shift_words="second estimate - first estimate",
    unit_words="first standard error",
)
#: The layouts by pair of estimators.
LAYOUTS: Final = {layout.estimators: layout for layout in (MLE_BAYES, BAYES_BAYES, MLE_MLE)}

#: Columns of a posterior-versus-MLE comparison: ``kind`` (``coefficient`` or
#: ``effect``), ``term`` (the coefficient, or the effect's variable), ``effect``
#: (direct/indirect/total, empty for coefficients), the MLE's estimate, standard error
#: and Wald interval, the posterior mean, sd, central interval and HDI, ``shift_in_sd``,
#: ``sd_ratio`` and ``flag``.
COMPARISON_COLUMNS: Final = MLE_BAYES.columns
#: Columns of a posterior-versus-posterior comparison: the keys of
#: :data:`COMPARISON_COLUMNS`, then for each posterior (``first_``, ``second_``) its mean,
#: sd, central interval and probability of a positive value, then ``shift_in_sd``,
#: ``sd_ratio`` and ``flag``.
POSTERIOR_PAIR_COLUMNS: Final = BAYES_BAYES.columns
#: Columns of an MLE-versus-MLE comparison: as :data:`POSTERIOR_PAIR_COLUMNS` with each
#: fit's estimate, standard error, Wald interval and p-value.
MLE_PAIR_COLUMNS: Final = MLE_MLE.columns


def check_comparable(first: SpatialFit, second: SpatialFit, *, force: bool = False) -> list[str]:
    """Refuse to compare fits of different things; return what ``force`` let pass.

    Fits are comparable when their fingerprints agree: the same data (values, variables,
    units, periods), the same spatial weights, model, fixed effects, transformation and
    sample. With ``force`` a difference in the weights alone is allowed (and returned, to
    be stated with the comparison); nothing else is. How the fits were made (estimator,
    prior, errors, sampler; :meth:`~bayes_ccd.spatial.results.SpatialFit.estimation_facts`)
    is not part of the fingerprint: it may differ.

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


def estimation_differences(first: SpatialFit, second: SpatialFit) -> list[str]:
    """Say how two fits of one estimator were made differently, e.g. ``prior 'a' vs 'b'``.

    The facts are those of
    :meth:`~bayes_ccd.spatial.results.SpatialFit.estimation_facts`; fits of two
    estimators differ in their estimator, which the comparison's title says.
    """
    if first.estimator != second.estimator:
        return []
    a, b = first.estimation_facts(), second.estimation_facts()
    return [f"{name} {a[name]!r} vs {b.get(name)!r}" for name in a if a[name] != b.get(name)]


def compare_estimates(first: SpatialFit, second: SpatialFit) -> pd.DataFrame:
    """Tabulate side by side one sample fitted twice.

    The layout follows the estimators (:data:`LAYOUTS`; a posterior and an MLE in
    either order give :data:`COMPARISON_COLUMNS`). See :func:`pair_table`; the caller
    checks that the fits are comparable.
    """
    if (first.estimator, second.estimator) == ("bayes", "mle"):
        first, second = second, first
    layout = LAYOUTS[(first.estimator, second.estimator)]
    return pair_table(_estimates(first), _estimates(second), layout, label=first.label)


def _estimates(fit: SpatialFit) -> dict[str, pd.DataFrame]:
    return {"coefficients": fit.coefficients(), "effects": fit.effects()}


def comparison_table(
    mle: Mapping[str, pd.DataFrame], posterior: Mapping[str, pd.DataFrame], *, label: str
) -> pd.DataFrame:
    """Build the posterior-versus-MLE table of one sample (:data:`COMPARISON_COLUMNS`).

    ``mle`` and ``posterior`` hold the ``coefficients`` and ``effects`` tables of each
    estimator; see :func:`pair_table`.
    """
    return pair_table(mle, posterior, MLE_BAYES, label=label)


def pair_table(
    first: Mapping[str, pd.DataFrame],
    second: Mapping[str, pd.DataFrame],
    layout: PairLayout,
    *,
    label: str,
) -> pd.DataFrame:
    """Build the side-by-side table of one sample (see the module docstring).

    Parameters
    ----------
    first, second
        ``coefficients`` and ``effects`` tables of each fit (MLE: ``estimate,
        std_error, lower, upper, p_value``; posterior: ``mean, sd, lower, upper,
        hdi_lower, hdi_upper, prob_positive``).
    layout
        Which columns of each fit the comparison keeps, and the unit of the shift.
    label
        The sample, for messages.

    Returns
    -------
    pandas.DataFrame
        ``layout.columns``; ``kind`` is ``coefficient`` or ``effect``, ``term`` the
        coefficient or the effect's variable, ``effect`` direct/indirect/total (empty for
        coefficients).

    Raises
    ------
    SpecificationError
        The terms of the two fits differ.
    """
    parts = []
    for kind, attribute, keys in (
        ("coefficient", "coefficients", ["term"]),
        ("effect", "effects", ["variable", "effect"]),
    ):
        left = _side(first[attribute], layout.first, keys)
        right = _side(second[attribute], layout.second, keys)
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
    (centre_a, centre_b), (spread_a, spread_b) = layout.centre, layout.spread
    with np.errstate(divide="ignore", invalid="ignore"):
        table["shift_in_sd"] = np.where(
            table[layout.unit] > 0,
            (table[centre_b] - table[centre_a]) / table[layout.unit],
            np.nan,
        )
        table["sd_ratio"] = np.where(table[spread_a] > 0, table[spread_b] / table[spread_a], np.nan)
    low, high = SD_RATIO_RANGE
    shift = table["shift_in_sd"].abs() > SHIFT_FLAG
    spread = (table["sd_ratio"] < low) | (table["sd_ratio"] > high)
    table["flag"] = [
        ", ".join(name for name, on in (("shift", s), ("spread", p)) if on)
        for s, p in zip(shift, spread, strict=True)
    ]
    return table[list(layout.columns)]


def _side(frame: pd.DataFrame, columns: Mapping[str, str], keys: list[str]) -> pd.DataFrame:
    return frame[[*keys, *columns]].rename(columns=dict(columns))


@dataclass(frozen=True)
class Comparison:
    """Two fits of the same data and model side by side, sample by sample.

    Attributes
    ----------
    tables
        ``label -> table``, national first; the columns are :data:`COMPARISON_COLUMNS`
        (posterior versus MLE), :data:`POSTERIOR_PAIR_COLUMNS` (two posteriors) or
        :data:`MLE_PAIR_COLUMNS` (two MLEs).
    notes
        What the comparison allowed on purpose (how the fits were made differently,
        different weights with ``force``), and samples left out.
    estimators
        The estimators of the first and the second fit (the MLE first for a posterior
        versus an MLE).
    notice
        What every output must say about the data (the bundled panel: synthetic).
    """

    tables: Mapping[str, pd.DataFrame]
    notes: tuple[str, ...] = ()
    estimators: tuple[str, str] = ("mle", "bayes")
    notice: str = ""

    @property
    def layout(self) -> PairLayout:
        """The columns and definitions of the tables (:data:`LAYOUTS`)."""
        return LAYOUTS[self.estimators]

    @property
    def title(self) -> str:
        """What is compared with what, e.g. ``Posterior versus posterior``."""
        return self.layout.title

    def table(self, label: str | None = None) -> pd.DataFrame:
        """Return the table of one sample (default: the national one)."""
        return self.tables[label or main_sample(self.tables)]

    def lines(self) -> list[str]:
        """One line per sample: the largest shift and the flagged estimates."""
        layout = self.layout
        lines = []
        for label, table in self.tables.items():
            flagged = table[table["flag"] != ""]
            names = [
                f"{t}" if k == "coefficient" else f"{e} {t}"
                for k, t, e in zip(flagged["kind"], flagged["term"], flagged["effect"], strict=True)
            ]
            worst = table["shift_in_sd"].abs().max()
            text = f"{label}: largest |{layout.shift_words}| = {worst:.2f} {layout.unit_words}; "
            text += (
                f"{len(flagged)} flagged ({', '.join(names)})" if names else "no estimate flagged"
            )
            lines.append(text)
        return [*lines, *self.notes]

    def summary(self) -> Summary:
        """Summarise the comparison: the lines of :meth:`lines` and the national table."""
        main = main_sample(self.tables)
        return Summary(
            title=self.title,
            facts={"samples": list(self.tables)},
            lines=self.lines(),
            tables=[SummaryTable(self.tables[main], f"Sample {main}", self.layout.notes)],
        )

    def plot(self, label: str | None = None) -> Figure:
        """Draw the forest plot of one sample (:func:`plot_comparison`)."""
        label = label or main_sample(self.tables)
        return plot_comparison(self.tables[label], title=label, layout=self.layout)

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
        notes = " ".join([self.layout.notes, *self.notes])
        written: list[Path] = []
        for label, table in self.tables.items():
            target = sample_directory(directory, label, main)
            written += write_table(
                table,
                target,
                "comparison",
                digits=digits,
                caption=f"{self.title}: {label}",
                notes=notes,
            )
            if figures:
                written += save_figure(
                    stamp_notice(
                        plot_comparison(table, title=label, layout=self.layout), self.notice
                    ),
                    target / "compare_forest",
                )
        if len(self.tables) > 1:
            written.append(directory / "comparison_by_region.csv")
            stack_by_region(self.tables).to_csv(written[-1], index=False)
        if metadata is not None:
            written.append(write_json(dict(metadata), directory / "metadata.json"))
        return written


def compare(
    first: SpatialFit | FitCollection, second: SpatialFit | FitCollection, *, force: bool = False
) -> Comparison:
    """Compare two fits of the same data and model, for every sample both fitted.

    Parameters
    ----------
    first, second
        Two fits (or collections of national and regional fits) by any estimators: a
        posterior and an MLE (in either order), two posteriors or two MLEs. For two fits
        of one estimator the first is the reference the second's shift is measured
        against (see the module docstring).
    force
        Compare fits on different spatial weights on purpose (stated in the notes).

    Returns
    -------
    Comparison
        One table per sample (:data:`COMPARISON_COLUMNS`, :data:`POSTERIOR_PAIR_COLUMNS`
        or :data:`MLE_PAIR_COLUMNS`), with notes stating how the fits were made
        differently (prior, errors, sampler, seed...; different weights with ``force``).

    Raises
    ------
    SpecificationError
        No sample in common, or fits of different data, weights, model, fixed effects,
        transformation or sample (see :func:`check_comparable`).
    """
    a, b = as_collection(first), as_collection(second)
    if (a.estimator, b.estimator) == ("bayes", "mle"):
        a, b = b, a
    layout = LAYOUTS[(a.estimator, b.estimator)]
    common = [label for label in b if label in a]
    if not common:
        x, y = (f"{name} {list(c)}" for name, c in zip(layout.names, (a, b), strict=True))
        raise SpecificationError(f"no sample was fitted by both ({x}, {y})")
    notes: list[str] = []
    alone = [label for label in [*a, *b] if label not in common]
    if alone:  # said, not silently skipped
        by = "one estimator" if a.estimator != b.estimator else "one of the two"
        notes.append(f"not compared (fitted by {by} only): {', '.join(alone)}.")
    tables, differences = {}, {}
    for label in common:
        allowed = check_comparable(a[label], b[label], force=force)
        notes += [f"sample {label}: compared although {d} (force)." for d in allowed]
        for difference in estimation_differences(a[label], b[label]):
            differences.setdefault(difference, []).append(label)
        tables[label] = compare_estimates(a[label], b[label])
    notes += _difference_notes(differences, common, layout.names)
    notice = a[common[0]].design.data.notice
    return Comparison(tables, tuple(notes), layout.estimators, notice)


def _difference_notes(
    differences: Mapping[str, Sequence[str]], samples: Sequence[str], names: tuple[str, str]
) -> list[str]:
    """State each difference of how the fits were made once, with its samples unless all."""
    notes = []
    for difference, labels in differences.items():
        where = "" if list(labels) == list(samples) else f" (samples {', '.join(labels)})"
        notes.append(f"{names[0]} vs {names[1]}: {difference}{where}.")
    return notes


def plot_comparison(
    table: pd.DataFrame, *, title: str = "", layout: PairLayout = MLE_BAYES
) -> Figure:
    """Draw a forest plot overlaying the two fits of every coefficient and effect.

    The first fit is shown as estimate and interval (black squares: an MLE's Wald
    interval, a posterior's central interval), the second likewise (blue circles);
    ``layout`` names the columns (:data:`LAYOUTS`; default posterior versus MLE).

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
    sides = [
        (offset, columns, centre, marker, colour, f"{name} ({_interval_words(estimator)})")
        for offset, columns, centre, marker, colour, name, estimator in zip(
            (0.15, -0.15),
            (layout.first, layout.second),
            layout.centre,
            ("s", "o"),
            ("black", "tab:blue"),
            layout.names,
            layout.estimators,
            strict=True,
        )
    ]
    for ax, kind in zip(axes, kinds, strict=True):
        part = rows[rows["kind"] == kind].reset_index(drop=True)
        y = np.arange(len(part))[::-1].astype(float)
        for offset, columns, centre_column, marker, colour, name in sides:
            centre = part[centre_column]
            lower, upper = part[columns["lower"]], part[columns["upper"]]
            ax.errorbar(
                centre,
                y + offset,
                xerr=[centre - lower, upper - centre],
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


def _interval_words(estimator: str) -> str:
    return "central interval" if estimator == "bayes" else "Wald interval"
