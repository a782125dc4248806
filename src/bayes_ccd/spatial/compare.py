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

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from bayes_ccd.conventions import NATIONAL
from bayes_ccd.exceptions import DataError, SpecificationError
from bayes_ccd.report.figures import save_figure
from bayes_ccd.report.output import write_json
from bayes_ccd.report.tables import write_table
from bayes_ccd.spatial.reports import FitReport, main_sample, sample_directory, write_by_region
from bayes_ccd.spatial.specification import TEST_COLUMNS

#: Posterior mean this many posterior sds away from the MLE is flagged ``shift``.
SHIFT_FLAG: Final = 0.5
#: Posterior sd / MLE standard error outside this range is flagged ``spread``.
SD_RATIO_RANGE: Final = (0.8, 1.25)
#: Facts of ``fit.json`` that must agree for two fits to be comparable.
_SAME: Final = ("model", "fe", "transform", "y", "x", "N", "T")

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


def _check_comparable(mle: FitReport, bayes: FitReport, label: str) -> None:
    if mle.info.get("estimator", "mle") != "mle" or bayes.info.get("estimator") != "bayes":
        raise SpecificationError(
            f"sample {label}: expected an MLE fit and a Bayesian fit, got "
            f"'{mle.info.get('estimator')}' and '{bayes.info.get('estimator')}'"
        )
    differ = [k for k in _SAME if mle.info.get(k) != bayes.info.get(k)]
    if differ:
        details = ", ".join(f"{k}: {mle.info.get(k)!r} vs {bayes.info.get(k)!r}" for k in differ)
        raise SpecificationError(
            f"sample {label}: the MLE and Bayesian fits are of different models or data "
            f"({details}); fit both with the same data, model and fixed effects"
        )
    probs = {mle.info.get("interval_prob"), bayes.info.get("interval_prob")}
    if len(probs) > 1:
        raise SpecificationError(
            f"sample {label}: intervals at different probabilities {sorted(probs)}"
        )


def _side(frame: pd.DataFrame, columns: Mapping[str, str], keys: list[str]) -> pd.DataFrame:
    return frame[[*keys, *columns]].rename(columns=dict(columns))


def compare_estimates(mle: FitReport, bayes: FitReport, *, label: str = NATIONAL) -> pd.DataFrame:
    """The side-by-side table of one sample (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        :data:`COMPARISON_COLUMNS`; ``kind`` is ``coefficient`` or ``effect``, ``term`` the
        coefficient or the effect's variable, ``effect`` direct/indirect/total (empty for
        coefficients).

    Raises
    ------
    SpecificationError
        The fits are of different models or data, or their terms differ.
    """
    _check_comparable(mle, bayes, label)
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
        left = _side(getattr(mle, attribute), mle_columns, keys)
        right = _side(getattr(bayes, attribute), post_columns, keys)
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


def compare_reports(
    mle: Mapping[str, FitReport], bayes: Mapping[str, FitReport]
) -> dict[str, pd.DataFrame]:
    """:func:`compare_estimates` for every sample fitted by both estimators (national
    first, then regions in the Bayesian order)."""
    common = [label for label in bayes if label in mle]
    if not common:
        raise SpecificationError(
            f"no sample was fitted by both estimators (MLE: {list(mle)}, Bayes: {list(bayes)})"
        )
    return {label: compare_estimates(mle[label], bayes[label], label=label) for label in common}


# --- reading fit directories --------------------------------------------------------------


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path} is missing; is this a fit output directory?", file=path)
    return pd.read_csv(path, keep_default_na=True)


def _read_sample(directory: Path) -> FitReport:
    info_path = directory / "fit.json"
    if not info_path.is_file():
        raise DataError(f"{info_path} is missing; is this a fit output directory?", file=info_path)
    info = json.loads(info_path.read_text(encoding="utf-8"))
    effects = _read_csv(directory / "effects.csv")
    effects["effect"] = effects["effect"].astype(str)
    return FitReport(
        _read_csv(directory / "coefficients.csv"),
        effects,
        pd.DataFrame(columns=list(TEST_COLUMNS)),
        info,
    )


def read_fit_directory(directory: str | Path) -> dict[str, FitReport]:
    """The fits written by ``bayes-ccd fit`` (any estimator) in ``directory``: the main
    sample at its root and, when ``coefficients_by_region.csv`` is present, every region
    from ``regions/<region>/``.

    Raises
    ------
    DataError
        A file of the layout is missing.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"fit output directory {directory} does not exist", file=directory)
    by_region = directory / "coefficients_by_region.csv"
    if not by_region.is_file():
        return {NATIONAL: _read_sample(directory)}
    labels = list(dict.fromkeys(pd.read_csv(by_region)["region"].astype(str)))
    main = main_sample(labels)
    return {label: _read_sample(sample_directory(directory, label, main)) for label in labels}


# --- output ------------------------------------------------------------------------------


def plot_comparison(table: pd.DataFrame, *, title: str = "") -> Any:
    """Forest plot overlaying the MLE (estimate and Wald interval, black squares) and the
    posterior (mean and central interval, blue circles) of every coefficient and effect.

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


def comparison_summary(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """One line per sample: how many rows are flagged and which."""
    lines = []
    for label, table in tables.items():
        flagged = table[table["flag"] != ""]
        names = [
            f"{t}" if k == "coefficient" else f"{e} {t}"
            for k, t, e in zip(flagged["kind"], flagged["term"], flagged["effect"], strict=True)
        ]
        worst = table["shift_in_sd"].abs().max()
        text = f"{label}: largest |posterior mean - MLE| = {worst:.2f} posterior sd; "
        text += f"{len(flagged)} flagged ({', '.join(names)})" if names else "no estimate flagged"
        lines.append(text)
    return lines


def write_comparison_outputs(
    tables: Mapping[str, pd.DataFrame],
    directory: str | Path,
    *,
    metadata: Mapping[str, Any] | None = None,
    digits: int = 3,
    figures: bool = True,
) -> list[Path]:
    """Write the comparison into ``directory`` (inside
    :func:`bayes_ccd.report.output.atomic_output_dir`): ``comparison.{csv,md,tex}`` and
    ``compare_forest.png`` of the main sample, the same under ``regions/<region>/``,
    ``comparison_by_region.csv`` (long, with a ``region`` column) with several samples,
    and ``metadata.json``."""
    directory = Path(directory)
    main = main_sample(tables)
    notes = (
        f"shift_in_sd = (posterior mean - MLE)/posterior sd; sd_ratio = posterior sd/MLE "
        f"standard error; flags: shift |shift_in_sd| > {SHIFT_FLAG}, spread sd_ratio outside "
        f"{SD_RATIO_RANGE}."
    )
    written: list[Path] = []
    for label, table in tables.items():
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
            written += save_figure(plot_comparison(table, title=label), target / "compare_forest")
    if len(tables) > 1:
        written.append(write_by_region(tables, directory / "comparison_by_region.csv"))
    if metadata is not None:
        written.append(write_json(dict(metadata), directory / "metadata.json"))
    return written


__all__ = [
    "COMPARISON_COLUMNS",
    "SD_RATIO_RANGE",
    "SHIFT_FLAG",
    "compare_estimates",
    "compare_reports",
    "comparison_summary",
    "plot_comparison",
    "read_fit_directory",
    "write_comparison_outputs",
]
