"""National and regional Bayesian fits as reports, and their output files."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd
import xarray as xr

from bayes_ccd.conventions import (
    EFFECT_KINDS,
    INTERVAL_PROB,
    NATIONAL,
)
from bayes_ccd.data.panel import Panel
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.report.output import json_default, write_json
from bayes_ccd.report.tables import write_table
from bayes_ccd.settings import Sampler, SamplerSettings
from bayes_ccd.spatial.bayes.estimator import SpatialPanelBayes, save_posterior
from bayes_ccd.spatial.bayes.posterior import (
    BAYES_COEFFICIENT_COLUMNS,
    BAYES_EFFECT_COLUMNS,
    posterior_tables,
)
from bayes_ccd.spatial.bayes.priors import PRIOR_PRESETS, Prior, resolve_prior
from bayes_ccd.spatial.design import ModelSpec, PanelArrays, as_arrays
from bayes_ccd.spatial.regions import Islands, Sample, regional_samples
from bayes_ccd.spatial.reports import (
    FitReport,
    main_sample,
    recorded_warnings,
    sample_directory,
    write_by_region,
    write_sample_files,
)

if TYPE_CHECKING:
    pass


def report_from_tree(tree: xr.DataTree, *, prob: float = INTERVAL_PROB) -> FitReport:
    """A :class:`~bayes_ccd.spatial.reports.FitReport` of a posterior (fresh or reloaded): posterior
    tables, an empty test table and ``fit_info`` with posterior means of the spatial
    parameter and ``sigma2`` (keys ``rho``/``lambda`` and ``sigma2``) and the interval
    probability."""
    from bayes_ccd.spatial.specification import TEST_COLUMNS

    coefficients, effects = posterior_tables(tree, prob=prob)
    info = json.loads(tree.attrs["fit_info"])
    means = coefficients.set_index("term")["mean"]
    info |= {
        info["spatial_parameter"]: float(means[info["spatial_parameter"]]),
        "sigma2": float(means["sigma2"]),
        "interval_prob": prob,
    }
    return FitReport(coefficients, effects, pd.DataFrame(columns=list(TEST_COLUMNS)), info)


# --- national and regional runs ----------------------------------------------------------


class BayesFit(NamedTuple):
    """Reports and posteriors of a national (and regional) Bayesian run, keyed by sample
    label (``NATIONAL`` first, then regions)."""

    reports: dict[str, FitReport]
    trees: dict[str, xr.DataTree]


def settings_from_config(
    config: Mapping[str, Any] | None, **overrides: Any
) -> tuple[SamplerSettings, str | Path | Prior]:
    """Sampler settings and prior from a merged run configuration (its ``[bayes]``
    section and ``run.seed``); keyword arguments that are not ``None`` override them.

    A prior file is taken relative to the configuration file."""
    section = dict((config or {}).get("bayes", {}))
    run = (config or {}).get("run", {})
    values: dict[str, Any] = {
        key: section[key]
        for key in ("sampler", "draws", "tune", "chains", "target_accept", "ppc_draws")
        if key in section
    }
    if "seed" in run:
        values["seed"] = run["seed"]
    values |= {k: v for k, v in overrides.items() if v is not None and k != "prior"}
    prior: str | Path | Prior = overrides.get("prior") or section.get("prior", "default")
    if isinstance(prior, str) and prior not in PRIOR_PRESETS and run.get("config_file"):
        prior = resolve_prior(prior, Path(run["config_file"]).parent)
    return SamplerSettings(**values), prior


def fit_bayes_reports(
    data: Panel | PanelArrays,
    weights: SpatialWeights,
    spec: ModelSpec,
    *,
    regions: pd.Series | None = None,
    config: Mapping[str, Any] | None = None,
    prior: str | Path | Prior | None = None,
    sampler: Sampler | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    islands: Islands = "drop",
    prob: float = INTERVAL_PROB,
    progress: Callable[[str], None] | None = None,
) -> BayesFit:
    """National and, with ``regions``, regional Bayesian fits as reports and posteriors.

    The entry point of ``bayes-ccd fit --estimator bayes`` and of ``bayes-ccd run``; pass
    the result to :func:`write_bayes_outputs`. Regional models cut ``W`` to each region
    and re-standardise it (:func:`bayes_ccd.spatial.regions.regional_weights`, units without a
    neighbour in their region dropped); NUTS compiles once and re-uses the compiled model
    for every sample. Every sample uses the same seed.

    Parameters
    ----------
    config
        A merged run configuration (:func:`bayes_ccd.config.load_run_config`): its
        ``[bayes]`` section and ``run.seed``; the keyword arguments override it.
    """
    settings, chosen_prior = settings_from_config(
        config, prior=prior, sampler=sampler, draws=draws, tune=tune, chains=chains, seed=seed
    )
    estimator = SpatialPanelBayes(spec, prior=chosen_prior, settings=settings)
    samples = {NATIONAL: Sample(as_arrays(data, spec), weights)}
    if regions is not None:
        samples |= regional_samples(data, weights, regions, spec, islands)
    reports, trees = {}, {}
    for label, sample in samples.items():
        if progress is not None:
            progress(f"Bayesian {spec.model.upper()} ({settings.sampler}), sample {label}")
        notes = list(sample.notes)
        with recorded_warnings(notes):
            result = estimator.fit(sample.data, sample.weights)
        info = result.info | {
            "sample": label,
            "dropped_units": list(sample.dropped),
            "warnings": list(dict.fromkeys(notes)),
        }
        result.tree.attrs["fit_info"] = json.dumps(info, default=json_default)
        trees[label] = result.tree
        reports[label] = report_from_tree(result.tree, prob=prob)
    return BayesFit(reports, trees)


# --- writing -----------------------------------------------------------------------------


def posterior_paper_table(
    long: pd.DataFrame, *, row: str | list[str], column: str, digits: int = 3
) -> pd.DataFrame:
    """Posterior means with the central interval below them (``[lower, upper]``), in the
    layout of the seed paper's Tables 7-8 (one column per ``column`` value)."""
    rows = [row] if isinstance(row, str) else list(row)
    cells = long.assign(
        _mean=[f"{m:.{digits}f}" for m in long["mean"]],
        _interval=[
            f"[{a:.{digits}f}, {b:.{digits}f}]"
            for a, b in zip(long["lower"], long["upper"], strict=True)
        ],
    )
    row_keys = list(dict.fromkeys(map(tuple, cells[rows].to_numpy())))
    columns = list(dict.fromkeys(cells[column]))
    records, labels = [], []
    for key in row_keys:
        match = (cells[rows] == pd.Series(key, index=rows)).all(axis=1)
        part = cells[match].set_index(column)
        label = " / ".join(map(str, key))
        records.append(part["_mean"].reindex(columns).fillna(""))
        records.append(part["_interval"].reindex(columns).fillna(""))
        labels += [(label, ""), (label, "interval")]
    table = pd.DataFrame(records)
    table.index = pd.MultiIndex.from_tuples(labels, names=[" / ".join(rows), " "])
    table.columns = [str(c) for c in columns]
    return table


def _write_sample(
    report: FitReport, tree: xr.DataTree, directory: Path, *, figures: bool
) -> list[Path]:
    from bayes_ccd.spatial.diagnostics import diagnose, write_diagnostic_plots

    paths = write_sample_files(
        report,
        directory,
        coefficient_columns=BAYES_COEFFICIENT_COLUMNS,
        effect_columns=BAYES_EFFECT_COLUMNS,
    )
    paths.append(save_posterior(tree, directory / "posterior.nc"))
    diagnostics = diagnose(tree, warn=False)
    paths.append(directory / "diagnostics.csv")
    diagnostics.table.to_csv(paths[-1], index=False)
    if figures:
        paths += write_diagnostic_plots(tree, directory)
    return paths


def write_bayes_outputs(
    fit: BayesFit,
    directory: str | Path,
    *,
    metadata: Mapping[str, Any] | None = None,
    digits: int = 3,
    figures: bool = True,
) -> list[Path]:
    """Write a Bayesian run into ``directory`` (inside
    :func:`bayes_ccd.report.output.atomic_output_dir`).

    Layout (the MLE layout of :func:`bayes_ccd.spatial.reports.write_fit_outputs`, with posterior
    columns):

    - ``coefficients.csv`` (``term`` + :data:`POSTERIOR_COLUMNS`), ``effects.csv``
      (``variable, effect`` + :data:`POSTERIOR_COLUMNS`), ``fit.json``, ``posterior.nc``,
      ``diagnostics.csv``, ``filled_cells.csv`` (when the missing-value policy filled
      cells) and (``figures``) ``trace.png``, ``rank.png``, ``effects_forest.png``,
      ``ppc.png`` of the national sample;
    - ``regions/<region>/`` with the same files for each region;
    - ``regression_table`` and ``effects_table`` (``.csv/.md/.tex``): posterior means
      with central intervals, one column per sample (the seed paper's Tables 7-8);
    - with regions: ``coefficients_by_region.csv``, ``effects_by_region.csv`` and
      ``diagnostics_by_region.csv`` (long, with a ``region`` column);
    - ``metadata.json`` when ``metadata`` is given.
    """
    from bayes_ccd.spatial.diagnostics import diagnose

    reports, trees = fit.reports, fit.trees
    directory = Path(directory)
    main = main_sample(reports)
    written = []
    for label, report in reports.items():
        target = sample_directory(directory, label, main)
        written += _write_sample(report, trees[label], target, figures=figures)
    prob = reports[main].info.get("interval_prob", INTERVAL_PROB)
    note = (
        f"Posterior means; {prob:.0%} central posterior intervals below. "
        f"Sampler: {reports[main].info['sampler']}; prior: {reports[main].info['prior']['name']}."
    )
    model = reports[main].info.get("label", "")
    coefficients = pd.concat(
        [r.coefficients.assign(sample=label) for label, r in reports.items()], ignore_index=True
    )
    written += write_table(
        posterior_paper_table(coefficients, row="term", column="sample", digits=digits),
        directory,
        "regression_table",
        index=True,
        digits=digits,
        caption=f"Posterior estimates: {model}",
        notes=note,
    )
    effects = pd.concat(
        [r.effects.assign(sample=label) for label, r in reports.items()], ignore_index=True
    )
    if len(reports) == 1:
        effect_table = posterior_paper_table(
            effects, row="variable", column="effect", digits=digits
        )
    else:
        effects["_order"] = effects["effect"].map({k: i for i, k in enumerate(EFFECT_KINDS)})
        effect_table = posterior_paper_table(
            effects.sort_values("_order", kind="stable"),
            row=["effect", "variable"],
            column="sample",
            digits=digits,
        )
    written += write_table(
        effect_table,
        directory,
        "effects_table",
        index=True,
        digits=digits,
        caption=f"Direct, indirect and total effects (posterior): {model}",
        notes=note,
    )
    if len(reports) > 1:
        by_region = {
            "coefficients": {
                label: r.coefficients[list(BAYES_COEFFICIENT_COLUMNS)]
                for label, r in reports.items()
            },
            "effects": {
                label: r.effects[list(BAYES_EFFECT_COLUMNS)] for label, r in reports.items()
            },
            "diagnostics": {label: diagnose(trees[label], warn=False).table for label in reports},
        }
        for name, tables in by_region.items():
            written.append(write_by_region(tables, directory / f"{name}_by_region.csv"))
    if metadata is not None:
        written.append(write_json(dict(metadata), directory / "metadata.json"))
    return written


def summary_lines(fit: BayesFit) -> list[str]:
    """One line per sample for the CLI and the run summary: the spatial parameter's
    posterior mean and interval, and the convergence verdict (never silent)."""
    lines = []
    for label, report in fit.reports.items():
        info = report.info
        name = info["spatial_parameter"]
        row = report.coefficients.set_index("term").loc[name]
        verdict = "converged" if info["converged"] else "NOT CONVERGED"
        line = (
            f"{label}: N={info['N']}, T={info['T']}, {name}={row['mean']:.4f} "
            f"[{row['lower']:.4f}, {row['upper']:.4f}], sampler {info['sampler']}, "
            f"diagnostics: {verdict}"
        )
        if not info["converged"]:
            line += " (" + "; ".join(info["diagnostic_messages"]) + ")"
        lines.append(line)
    return lines
