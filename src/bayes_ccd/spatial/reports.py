"""Fit reports and the output layout every estimator writes."""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from bayes_ccd.conventions import DEFAULT_SEED, EFFECT_KINDS, INTERVAL_PROB, NATIONAL
from bayes_ccd.data.panel import Panel
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import (
    ConvergenceWarning,
    DataWarning,
    NumericalWarning,
    SpecificationError,
    WeightsWarning,
)
from bayes_ccd.report.output import write_json
from bayes_ccd.report.tables import paper_table, write_table
from bayes_ccd.spatial.design import FILLED_COLUMNS, ModelSpec, PanelArrays
from bayes_ccd.spatial.effects import DEFAULT_EFFECT_DRAWS, EffectInference
from bayes_ccd.spatial.ml import Information, MLResult, fit_ml
from bayes_ccd.spatial.regions import Islands, fit_by_region
from bayes_ccd.spatial.specification import TEST_COLUMNS

#: Columns of the coefficient, effect and test tables written by every estimator.
COEFFICIENT_COLUMNS: Final = ("term", "estimate", "std_error", "z", "p_value", "lower", "upper")
EFFECT_COLUMNS: Final = ("variable", "effect", "estimate", "std_error", "p_value", "lower", "upper")


# --- reports --------------------------------------------------------------------------

#: Warnings of the package recorded in ``fit.json`` (third-party ones are only re-issued).
REPORTED_WARNINGS: Final = (ConvergenceWarning, NumericalWarning, WeightsWarning, DataWarning)


@contextmanager
def recorded_warnings(messages: list[str], *, prefix: str = "") -> Iterator[None]:
    """Run a block, append the messages of the package's warnings it raised
    (:data:`REPORTED_WARNINGS`, each with ``prefix``) to ``messages``, and re-issue every
    warning it raised, so that they reach both ``fit.json`` and the user."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for item in caught:
        warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    messages += [
        prefix + str(w.message) for w in caught if issubclass(w.category, REPORTED_WARNINGS)
    ]


@dataclass(frozen=True)
class FitReport:
    """Everything written for one fitted sample, estimator-agnostic.

    Attributes
    ----------
    coefficients
        ``term, estimate, std_error, z, p_value, lower, upper``.
    effects
        ``variable, effect, estimate, std_error, p_value, lower, upper`` (``z`` may
        be present).
    tests
        ``test, statistic, df, p_value`` (may be empty).
    info
        Facts for ``fit.json`` (model, fe, estimator, N, T, log-likelihood, filled
        cells, warnings, ...).
    fixed_effects
        ``effect, label, estimate``, or ``None`` when not requested.
    """

    coefficients: pd.DataFrame
    effects: pd.DataFrame
    tests: pd.DataFrame
    info: dict[str, Any]
    fixed_effects: pd.DataFrame | None = None


def report_from_result(
    result: MLResult,
    *,
    effects_method: EffectInference = "simulation",
    n_draws: int = DEFAULT_EFFECT_DRAWS,
    seed: int = DEFAULT_SEED,
    prob: float = INTERVAL_PROB,
    tests: bool = True,
    fixed_effects: bool = False,
) -> FitReport:
    """Tables of a fitted model: coefficients, effects, specification tests.

    Warnings raised while simulating the effects or refitting the models of the
    specification tests (e.g. simulated ``rho`` outside its interval) are re-issued and
    recorded in ``info["warnings"]`` after those of the fit.
    """
    # specification imports this module (it refits alternatives); import it late.
    from bayes_ccd.spatial.specification import specification_tests

    notes = list(result.warnings)
    with recorded_warnings(notes):
        effects = result.effects(method=effects_method, n_draws=n_draws, seed=seed, prob=prob)
    with recorded_warnings(notes, prefix="specification tests: "):
        test_table = (
            specification_tests(result) if tests else pd.DataFrame(columns=list(TEST_COLUMNS))
        )
    info = result.summary() | {
        "effects_inference": effects_method,
        "interval_prob": prob,
        "effects_draws": n_draws if effects_method == "simulation" else None,
        "seed": seed,
        "warnings": list(dict.fromkeys(notes)),
    }
    return FitReport(
        result.coefficients(prob=prob),
        effects,
        test_table,
        info,
        result.fixed_effects() if fixed_effects else None,
    )


def fit_reports(
    data: Panel | PanelArrays,
    weights: SpatialWeights,
    spec: ModelSpec,
    *,
    regions: pd.Series | None = None,
    effects_method: EffectInference = "simulation",
    n_draws: int = DEFAULT_EFFECT_DRAWS,
    seed: int = DEFAULT_SEED,
    prob: float = INTERVAL_PROB,
    tests: bool = True,
    fixed_effects: bool = False,
    islands: Islands = "drop",
    information: Information = "expected",
) -> dict[str, FitReport]:
    """National (whole-sample) and, with ``regions``, regional fits as reports.

    The entry point of ``bayes-ccd fit --estimator mle`` and of ``bayes-ccd run``:
    pass the result to :func:`write_fit_outputs`.

    Returns
    -------
    dict
        ``{NATIONAL: report, region: report, ...}``.
    """
    options = {
        "effects_method": effects_method,
        "n_draws": n_draws,
        "seed": seed,
        "prob": prob,
        "tests": tests,
        "fixed_effects": fixed_effects,
    }
    results = {NATIONAL: fit_ml(data, weights, spec, information=information)}
    if regions is not None:
        results |= fit_by_region(
            data, weights, regions, spec, islands=islands, information=information
        )
    return {label: report_from_result(result, **options) for label, result in results.items()}


def regression_table(reports: Mapping[str, FitReport], *, digits: int = 3) -> pd.DataFrame:
    """Coefficients in the layout of the seed paper's Tables 7-8: one column per
    sample, estimates with stars, standard errors in parentheses, then R-squared,
    log-likelihood and observations."""
    long = pd.concat(
        [r.coefficients.assign(sample=label) for label, r in reports.items()], ignore_index=True
    )
    table = paper_table(long, row="term", column="sample", digits=digits)
    extra = {}
    for label, key in (
        ("R-squared", "r2"),
        ("Log-likelihood", "loglik"),
        ("Observations", "n_observations"),
    ):
        values = [reports[c].info.get(key) for c in reports]
        if any(v is not None for v in values):
            extra[(label, "")] = [_format_stat(v, digits) for v in values]
    if extra:
        stats_rows = pd.DataFrame(
            list(extra.values()),
            columns=list(reports),
            index=pd.MultiIndex.from_tuples(list(extra)),
        )
        table = pd.concat([table, stats_rows.reindex(columns=table.columns)])
    table.index.names = ["term", " "]
    return table


def _format_stat(value: Any, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.{digits}f}"


def effects_table(reports: Mapping[str, FitReport], *, digits: int = 3) -> pd.DataFrame:
    """Effects in the paper layout: variables by direct/indirect/total for one sample
    (Table 7); (effect, variable) by sample with several (Table 8)."""
    long = pd.concat(
        [r.effects.assign(sample=label) for label, r in reports.items()], ignore_index=True
    )
    long["effect"] = pd.Categorical(long["effect"], categories=list(EFFECT_KINDS), ordered=True)
    if len(reports) == 1:
        table = paper_table(long, row="variable", column="effect", digits=digits)
        table.index.names = ["variable", " "]
        return table
    long = long.sort_values("effect", kind="stable")
    long["effect"] = long["effect"].astype(str)
    table = paper_table(long, row=["effect", "variable"], column="sample", digits=digits)
    table.index.names = ["effect / variable", " "]
    return table


# --- the output layout of every estimator -------------------------------------------------


def main_sample(samples: Collection[str]) -> str:
    """The sample (of labels, or of a mapping keyed by them) written at the root of an
    output directory: ``NATIONAL`` when present, else the first."""
    if not samples:
        raise SpecificationError("no fitted samples to write")
    return NATIONAL if NATIONAL in samples else next(iter(samples))


def sample_directory(directory: str | Path, label: str, main: str) -> Path:
    """Where a sample's files go: ``directory`` for the main sample, else
    ``directory/regions/<label>`` (characters other than letters, digits, ``_.-``
    replaced by ``_``)."""
    if label == main:
        return Path(directory)
    slug = re.sub(r"[^0-9A-Za-z_.-]+", "_", str(label)).strip("_") or "region"
    return Path(directory) / "regions" / slug


def write_sample_files(
    report: FitReport,
    directory: Path,
    *,
    coefficient_columns: Sequence[str] = COEFFICIENT_COLUMNS,
    effect_columns: Sequence[str] = EFFECT_COLUMNS,
) -> list[Path]:
    """The files of one sample that every estimator writes: ``coefficients.csv``,
    ``effects.csv``, ``fit.json`` and, when the missing-value policy filled cells of
    the sample's data (``info["filled_cells"]``), ``filled_cells.csv``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "coefficients.csv", directory / "effects.csv"]
    report.coefficients.reindex(columns=list(coefficient_columns)).to_csv(paths[0], index=False)
    report.effects.reindex(columns=list(effect_columns)).to_csv(paths[1], index=False)
    paths.append(write_json(report.info, directory / "fit.json"))
    filled = report.info.get("filled_cells") or []
    if filled:
        paths.append(directory / "filled_cells.csv")
        pd.DataFrame(filled, columns=list(FILLED_COLUMNS)).to_csv(paths[-1], index=False)
    return paths


def write_by_region(tables: Mapping[str, pd.DataFrame], path: Path) -> Path:
    """The tables of several samples stacked into one CSV, with the sample label in a
    leading ``region`` column."""
    long = pd.concat([t.assign(region=label) for label, t in tables.items()], ignore_index=True)
    long[["region", *long.columns.drop("region")]].to_csv(path, index=False)
    return path


def _write_report(report: FitReport, directory: Path) -> list[Path]:
    paths = write_sample_files(report, directory)
    paths.append(directory / "tests.csv")
    report.tests.reindex(columns=list(TEST_COLUMNS)).to_csv(paths[-1], index=False)
    if report.fixed_effects is not None:
        paths.append(directory / "fixed_effects.csv")
        report.fixed_effects.to_csv(paths[-1], index=False)
    return paths


def write_fit_outputs(
    reports: FitReport | Mapping[str, FitReport],
    directory: str | Path,
    *,
    metadata: Mapping[str, Any] | None = None,
    digits: int = 3,
) -> list[Path]:
    """Write the fit output layout (any estimator) into ``directory``.

    Call it inside :func:`bayes_ccd.report.output.atomic_output_dir`. Layout:

    - ``coefficients.csv``, ``effects.csv``, ``tests.csv``, ``fit.json`` (and
      ``fixed_effects.csv``; ``filled_cells.csv`` when cells were interpolated) of the
      whole sample (``NATIONAL``, else the first report);
    - ``regression_table.{csv,md,tex}`` and ``effects_table.{csv,md,tex}`` in the
      paper layout, one column per sample;
    - with several samples: ``regions/<region>/`` with the same files, and
      ``coefficients_by_region.csv`` / ``effects_by_region.csv`` (long, with a
      ``region`` column);
    - ``metadata.json`` when ``metadata`` is given (:func:`bayes_ccd.report.output.run_metadata`).
    """
    if isinstance(reports, FitReport):
        reports = {NATIONAL: reports}
    directory = Path(directory)
    main = main_sample(reports)
    written = []
    for label, report in reports.items():
        written += _write_report(report, sample_directory(directory, label, main))
    model = reports[main].info.get("label", reports[main].info.get("model", ""))
    notes = "Standard errors in parentheses; *** p<0.01, ** p<0.05, * p<0.1."
    for stem, table, caption in (
        ("regression_table", regression_table(reports, digits=digits), "Regression results"),
        (
            "effects_table",
            effects_table(reports, digits=digits),
            "Direct, indirect and total effects",
        ),
    ):
        written += write_table(
            table,
            directory,
            stem,
            index=True,
            digits=digits,
            caption=f"{caption}: {model}",
            notes=notes,
        )
    if len(reports) > 1:
        for name, columns in (("coefficients", COEFFICIENT_COLUMNS), ("effects", EFFECT_COLUMNS)):
            tables = {
                label: getattr(r, name).reindex(columns=list(columns))
                for label, r in reports.items()
            }
            written.append(write_by_region(tables, directory / f"{name}_by_region.csv"))
    if metadata is not None:
        written.append(write_json(dict(metadata), directory / "metadata.json"))
    return written
