"""The whole analysis of a run configuration, stage after stage.

Data flow one way: panel -> entropy weights and indices U1, U2 -> coupling coordination
degree D -> exploration, spatial models, efficiency and configurations -> tables and
figures. Each stage writes into its own sub-directory of the run directory, and the
run directory appears only when every stage has succeeded
(:func:`bayes_ccd.report.output.atomic_output_dir`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_ccd.config import PRIOR_PRESETS
from bayes_ccd.conventions import PERIOD, REGION, UNIT
from bayes_ccd.data.demo import SYNTHETIC_NOTICE, bundled_demo_path
from bayes_ccd.data.factors import transform_factors
from bayes_ccd.data.panel import Panel, read_panel, validate_panel
from bayes_ccd.data.regions import read_regions, regions_for
from bayes_ccd.data.weights import SpatialWeights, read_weights
from bayes_ccd.exceptions import ConfigError
from bayes_ccd.indices.coupling import ccd_by_period, ccd_table, levels_table
from bayes_ccd.indices.entropy import EntropyResult, subsystem_indices
from bayes_ccd.indices.indicators import IndicatorSystem, read_indicator_system
from bayes_ccd.report.output import atomic_output_dir, run_metadata, write_json
from bayes_ccd.report.tables import write_table
from bayes_ccd.spatial.design import ModelSpec

Progress = Callable[[str], None]
BUNDLED_DEMO = "bundled:demo"
#: Columns of the coupling table that a regression or fsQCA may use.
DERIVED = ("U1", "U2", "C", "T", "D")
#: DEA scores that fsQCA may use as outcome or condition.
DEA_SCORES = ("crs", "vrs", "scale")


@dataclass(frozen=True)
class Inputs:
    """Everything a run reads: the validated panel, indicator system, regions, weights."""

    panel: Panel
    system: IndicatorSystem
    regions: pd.Series | None
    weights: SpatialWeights
    synthetic: bool


def panel_path(value: str) -> Path:
    """The panel file of a configuration (``bundled:demo`` is the synthetic panel)."""
    return bundled_demo_path() if value == BUNDLED_DEMO else Path(value)


def required_columns(config: dict[str, Any], system: IndicatorSystem) -> list[str]:
    """Panel columns a run needs: indicators, factors, DEA inputs/outputs and the raw
    (not derived) fsQCA conditions of the enabled stages."""
    columns = [*system.indicator_columns, *system.factor_columns]
    if config["dea"]["enabled"]:
        columns += [*config["dea"]["inputs"], *config["dea"]["outputs"]]
    if config["qca"]["enabled"]:
        columns += [
            c
            for c in [config["qca"]["outcome"], *config["qca"]["conditions"]]
            if c not in {*DERIVED, *DEA_SCORES}
        ]
    return list(dict.fromkeys(columns))


def units_regions(panel: Panel, regions: pd.Series) -> pd.Series | None:
    """Regions of the panel's units, or ``None`` when the table covers none of them
    (e.g. a county panel with the bundled province table). Partial cover is an error."""
    if not any(u in regions.index for u in panel.units):
        return None
    return regions_for(panel.units, regions, source=panel.source)


def load_inputs(config: dict[str, Any]) -> Inputs:
    """Read and validate the panel, indicator system, regions and weights of a run."""
    data = config["data"]
    system = read_indicator_system(config["indicators"]["file"])
    panel = read_panel(
        panel_path(data["panel"]),
        unit=data["unit"],
        time=data["time"],
        columns=required_columns(config, system),
        missing=data["missing"],
    )
    regions = units_regions(
        panel,
        read_regions(
            data["regions"],
            unit=data["region_unit_column"],
            region=data["region_column"],
        ),
    )
    weights = read_weights(
        config["weights"]["source"], transform=config["weights"]["transform"]
    ).aligned(panel.units)
    return Inputs(panel, system, regions, weights, data["panel"] == BUNDLED_DEMO)


def preflight(config: dict[str, Any], inputs: Inputs) -> None:
    """Check, before any stage runs, the settings that depend on the data: the
    regression outcome, the DEA year, the years to map, a prior file."""
    periods = inputs.panel.periods
    where = config["run"].get("config_file", "configuration")
    if config["mle"]["enabled"] or config["bayes"]["enabled"]:
        y = config["regression"]["y"]
        if y not in DERIVED:
            raise ConfigError(f"{where}: [regression] y = {y!r} must be one of {DERIVED}")
    if config["dea"]["enabled"] and config["dea"]["year"] not in periods:
        raise ConfigError(
            f"{where}: [dea] year = {config['dea']['year']} is not a period "
            f"of the panel ({periods[0]}-{periods[-1]})"
        )
    if config["explore"]["enabled"]:
        from bayes_ccd.explore.moran import check_permutation_test

        check_permutation_test(
            config["explore"]["permutations"], "two-sided", config["explore"]["significance"]
        )
        unknown = sorted(set(config["explore"]["years"]) - set(periods))
        if unknown:
            raise ConfigError(
                f"{where}: [explore] years {unknown} are not periods of the "
                f"panel ({periods[0]}-{periods[-1]})"
            )
    qca = config["qca"]
    if qca["enabled"]:
        if not config["dea"]["enabled"]:
            raise ConfigError(
                f"{where}: [qca] runs on the cases of the DEA year; enable [dea] or disable [qca]"
            )
        unknown = sorted(set(qca["anchors"]) - {qca["outcome"], *qca["conditions"]})
        if unknown:
            raise ConfigError(
                f"{where}: [qca] anchors for {unknown}, which are neither the "
                "outcome nor a condition"
            )
        bad = {c: v for c, v in qca["anchors"].items() if not isinstance(v, list) or len(v) != 3}
        if bad:
            raise ConfigError(f"{where}: [qca] anchors must be [full, crossover, non], got {bad}")
    prior = config["bayes"]["prior"]
    if config["bayes"]["enabled"] and prior not in PRIOR_PRESETS and not Path(prior).is_file():
        raise ConfigError(f"{where}: [bayes] prior file {prior} does not exist")


def coupling_stage(
    panel: Panel, system: IndicatorSystem, config: dict[str, Any], regions: pd.Series | None
) -> tuple[EntropyResult, pd.DataFrame]:
    """Entropy weights, indices U1 and U2, and the coupling coordination table."""
    entropy = subsystem_indices(
        panel, system, scope=config["entropy"]["scope"], shift=config["entropy"]["shift"]
    )
    coupling = config["coupling"]
    ccd = ccd_table(
        entropy.indices,
        alpha=coupling["alpha"],
        beta=coupling["beta"],
        formula=coupling["formula"],
        regions=regions,
    )
    return entropy, ccd


def write_coupling_outputs(
    entropy: EntropyResult,
    ccd: pd.DataFrame,
    panel: Panel,
    out_dir: Path,
    *,
    synthetic: bool = False,
) -> list[str]:
    """Write weights, indices, the CCD table, Table 4 and filled cells; return summary
    lines for the run report."""
    note = SYNTHETIC_NOTICE if synthetic else None
    weights = entropy.weights
    write_table(
        weights,
        out_dir,
        "weights",
        digits=4,
        caption="Entropy weights of the indicators",
        notes=note,
    )
    ccd.to_csv(out_dir / "ccd.csv", index=False)
    write_table(
        ccd_by_period(ccd).reset_index(),
        out_dir,
        "ccd_by_period",
        digits=3,
        caption="Coupling coordination degree D by unit and period",
        notes=note,
    )
    write_table(
        levels_table(),
        out_dir,
        "levels",
        formats=("csv", "md"),
        caption="Classification of the coupling coordination degree",
    )
    panel.filled.to_csv(out_dir / "filled_cells.csv", index=False)

    periods = sorted(ccd[PERIOD].unique())
    first, last = periods[0], periods[-1]
    mean_d = ccd.groupby(PERIOD)["D"].mean()
    lines = [
        f"Entropy weights ({entropy.scope}, shift {entropy.shift:g}) for "
        f"{len(weights)} indicator rows; composite indices for {len(ccd)} unit-periods.",
        f"Mean D: {mean_d[first]:.3f} in {first}, {mean_d[last]:.3f} in {last}.",
    ]
    if REGION in ccd:
        by_region = ccd[ccd[PERIOD] == last].groupby(REGION)["D"].mean()
        lines.append(
            f"Mean D in {last} by region: "
            + ", ".join(f"{r} {v:.3f}" for r, v in by_region.items())
            + "."
        )
    top = ccd[ccd[PERIOD] == last].nlargest(1, "D").iloc[0]
    lines.append(f"Highest D in {last}: {top[UNIT]} ({top['D']:.3f}, {top['label']}).")
    if len(panel.filled):
        cells = "; ".join(
            f"{r[UNIT]} {r[PERIOD]} {r['column']} = {r['value']:.6g}"
            for _, r in panel.filled.iterrows()
        )
        lines.append(f"Filled by linear interpolation ({len(panel.filled)} cells): {cells}.")
    return lines


def exploration_stage(
    ccd: pd.DataFrame, inputs: Inputs, config: dict[str, Any], out_dir: Path, progress: Progress
) -> list[str]:
    """Kernel density evolution, global and local Moran's I, maps; summary lines."""
    from bayes_ccd.explore.stage import explore

    settings = config["explore"]
    result = explore(
        ccd,
        inputs.weights,
        inputs.regions,
        out_dir=out_dir,
        variables=settings["variables"],
        years=settings["years"] or None,
        permutations=settings["permutations"],
        seed=config["run"]["seed"],
        bandwidth=settings["bandwidth"],
        significance=settings["significance"],
        boundary=settings["boundary"] or None,
        boundary_id=settings["boundary_id"] or None,
        pdf=settings["pdf"],
        metadata={"run": config["run"]["name"]},
        progress=progress,
    )
    head = result.headline
    lines = []
    for key in ("moran_I_first", "moran_I_last"):
        m = head[key]
        lines.append(
            f"Global Moran's I of {head['variable']} in {m['period']}: "
            f"{m['I']:.4f} (p = {m['p_norm']:.3f} under normality, "
            f"{m['p_perm']:.3f} by permutation)."
        )
    clusters = ", ".join(f"{k} {v}" for k, v in head["lisa_last"].items())
    lines.append(f"Significant LISA units in {head['moran_I_last']['period']}: {clusters}.")
    for key in ("kde_national_first", "kde_national_last"):
        k = head[key]
        lines.append(
            f"National density of {head['variable']} in {k['period']}: main peak at "
            f"{k['peak']:.3f} (height {k['peak_density']:.2f}, {k['n_peaks']} "
            "peak(s))."
        )
    lines += [f"Skipped: {reason}" for reason in result.skipped]
    return lines


def regression_panel(ccd: pd.DataFrame, inputs: Inputs, y: str) -> Panel:
    """The panel of the spatial regressions: ``y`` (a column of the CCD table, ``D`` by
    default) and the transformed influencing factors, per unit-period."""
    factors = transform_factors(inputs.panel, inputs.system.factors)
    frame = ccd[[UNIT, PERIOD, y]].merge(factors, on=[UNIT, PERIOD], how="inner")
    data = validate_panel(frame, unit=UNIT, time=PERIOD, source=inputs.panel.source)
    # Cells filled in the input panel shaped D and the factors: the fits record them.
    return dataclasses.replace(data, filled=inputs.panel.filled)


def model_spec(config: dict[str, Any], inputs: Inputs) -> ModelSpec:
    """The spatial model of a run: ``[regression]`` and ``[mle] transform``."""
    reg = config["regression"]
    return ModelSpec(
        model=reg["model"],
        fe=reg["fe"],
        transform=config["mle"]["transform"],
        y=reg["y"],
        x=tuple(f.name for f in inputs.system.factors),
    )


def mle_stage(data: Panel, inputs: Inputs, config: dict[str, Any], out_dir: Path):
    """National and regional maximum-likelihood fits with effects and tests; returns
    the fit reports and summary lines."""
    from bayes_ccd.spatial.reports import fit_reports, write_fit_outputs

    spec = model_spec(config, inputs)
    regions = inputs.regions if config["regression"]["by_region"] else None
    reports = fit_reports(
        data,
        inputs.weights,
        spec,
        regions=regions,
        n_draws=config["mle"]["effects_draws"],
        seed=config["run"]["seed"],
    )
    write_fit_outputs(
        reports,
        out_dir,
        metadata=run_metadata(
            config, config["run"]["seed"], stage="mle", synthetic_data=inputs.synthetic
        ),
    )
    lines = []
    for label, report in reports.items():
        info = report.info
        spatial = spec.spatial_parameter
        lines.append(
            f"{label}: {info['label']}, N = {info['N']}, T = {info['T']}, "
            f"{spatial} = {info[spatial]:.3f}, log-likelihood {info['loglik']:.1f}"
            + (f"; warnings: {'; '.join(info['warnings'])}" if info["warnings"] else "")
        )
    total = reports[next(iter(reports))].effects.query("effect == 'total'")
    significant = total[total["p_value"] < 0.05]["variable"].tolist()
    lines.append(
        "National total effects significant at 5%: "
        + (", ".join(significant) if significant else "none")
        + "."
    )
    return reports, lines


def bayes_stage(
    data: Panel, inputs: Inputs, config: dict[str, Any], out_dir: Path, progress: Progress
):
    """National and regional Bayesian fits, diagnostics and posterior files; returns
    the fit and summary lines (non-convergence is stated in them)."""
    from bayes_ccd.spatial.bayes.reports import (
        fit_bayes_reports,
        summary_lines,
        write_bayes_outputs,
    )

    regions = inputs.regions if config["regression"]["by_region"] else None
    fit = fit_bayes_reports(
        data,
        inputs.weights,
        model_spec(config, inputs),
        regions=regions,
        config=config,
        progress=progress,
    )
    write_bayes_outputs(
        fit,
        out_dir,
        metadata=run_metadata(
            config, config["run"]["seed"], stage="bayes", synthetic_data=inputs.synthetic
        ),
    )
    return fit, summary_lines(fit)


def comparison_stage(
    mle_reports, bayes_reports, config: dict[str, Any], out_dir: Path
) -> list[str]:
    """Posterior versus maximum likelihood, sample by sample."""
    from bayes_ccd.spatial.compare import (
        compare_reports,
        comparison_summary,
        write_comparison_outputs,
    )

    tables = compare_reports(mle_reports, bayes_reports)
    write_comparison_outputs(
        tables, out_dir, metadata=run_metadata(config, config["run"]["seed"], stage="compare")
    )
    return comparison_summary(tables)


def efficiency_stage(inputs: Inputs, config: dict[str, Any], out_dir: Path):
    """DEA of healthcare resources for the configured year and the Malmquist index
    across all periods; returns the DEA result and summary lines."""
    from bayes_ccd.dea.malmquist import malmquist
    from bayes_ccd.dea.model import dea
    from bayes_ccd.dea.report import (
        dea_summary,
        malmquist_summary,
        summary_markdown,
        write_dea_outputs,
    )

    settings = config["dea"]
    frame = inputs.panel.frame
    year = settings["year"]
    rows = frame[frame[PERIOD] == year].set_index(UNIT)  # preflight checked the year
    result = dea(
        rows[settings["inputs"]],
        rows[settings["outputs"]],
        orientation=settings["orientation"],
        rts=settings["rts"],
        period=year,
    )
    index = malmquist(
        frame,
        unit=UNIT,
        time=PERIOD,
        inputs=settings["inputs"],
        outputs=settings["outputs"],
        orientation=settings["orientation"],
    )
    write_dea_outputs(result, out_dir, malmquist=index, config=settings)
    lines = [
        line[2:]
        for line in summary_markdown(dea_summary(result), year).splitlines()
        if line.startswith("- ")
    ]
    overall = malmquist_summary(index)["overall"]
    lines.append(
        f"Malmquist index {inputs.panel.periods[0]}-{inputs.panel.periods[-1]} (geometric "
        f"mean over units and years, > 1 is growth): TFP change {overall['tfpch']:.4f} = "
        f"efficiency change {overall['effch']:.4f} x technical change "
        f"{overall['techch']:.4f}."
    )
    return result, lines


def configuration_stage(
    efficiency: pd.DataFrame,
    ccd: pd.DataFrame,
    inputs: Inputs,
    config: dict[str, Any],
    out_dir: Path,
) -> list[str]:
    """fsQCA of the configured outcome (by default DEA efficiency) on its conditions, in
    the DEA year: calibration, necessity, truth table, solutions, configuration chart.

    Cases are the units; a condition is a panel column, a coupling-table column (U1,
    U2, C, T, D) or a DEA score (crs, vrs, scale) of that year.
    """
    from bayes_ccd.qca.calibration import Anchors, calibrate_frame, percentile_anchors
    from bayes_ccd.qca.report import solution_lines, write_qca_outputs
    from bayes_ccd.qca.solutions import fsqca

    settings = config["qca"]
    year = config["dea"]["year"]
    frame = inputs.panel.frame
    cases = (
        frame[frame[PERIOD] == year]
        .set_index(UNIT)
        .join(ccd[ccd[PERIOD] == year].set_index(UNIT)[list(DERIVED)])
        .join(efficiency[list(DEA_SCORES)])
    )
    columns = [settings["outcome"], *settings["conditions"]]
    anchors = percentile_anchors(columns) if settings["calibration"] == "percentiles" else {}
    anchors |= {column: Anchors(*values) for column, values in settings["anchors"].items()}
    data = calibrate_frame(cases[columns], anchors)
    result = fsqca(
        data,
        settings["outcome"],
        settings["conditions"],
        incl_cut=settings["incl_cut"],
        n_cut=settings["n_cut"],
        pri_cut=settings["pri_cut"],
        dir_exp=settings["dir_exp"] or None,
    )
    write_qca_outputs(
        result,
        out_dir,
        config={
            **settings,
            "year": year,
            "anchors": {c: [a.full, a.crossover, a.non] for c, a in anchors.items()},
        },
    )
    lines = [
        f"Outcome {settings['outcome']} ({year}, {len(data)} cases), conditions "
        f"{', '.join(settings['conditions'])}; consistency cut-off "
        f"{settings['incl_cut']}, PRI cut-off {settings['pri_cut']}."
    ]
    lines.extend(solution_lines(result))
    return lines


def run_analysis(
    config: dict[str, Any], out_dir: str | Path | None = None, progress: Progress = print
) -> Path:
    """Run every enabled stage of ``config`` and write ``results/<run-name>/``.

    Parameters
    ----------
    config
        A merged run configuration (:func:`bayes_ccd.config.load_run_config`).
    out_dir
        Where to write; default ``<run.output_dir>/<run.name>``.
    progress
        Called with a message at the start of each stage.

    Returns
    -------
    pathlib.Path
        The run directory.
    """
    run = config["run"]
    target = Path(out_dir) if out_dir is not None else Path(run["output_dir"]) / run["name"]
    progress(f"reading inputs of run '{run['name']}'")
    inputs = load_inputs(config)
    preflight(config, inputs)
    summary: dict[str, list[str]] = {}
    inputs_used = [
        run.get("config_file", ""),
        inputs.panel.source,
        inputs.system.source,
        config["weights"]["source"],
        config["data"]["regions"],
    ]
    with atomic_output_dir(target, protect=[p for p in inputs_used if Path(p).exists()]) as staging:
        progress("entropy weights and coupling coordination degree")
        entropy, ccd = coupling_stage(inputs.panel, inputs.system, config, inputs.regions)
        summary["Coupling coordination"] = write_coupling_outputs(
            entropy, ccd, inputs.panel, _stage(staging, "ccd"), synthetic=inputs.synthetic
        )
        if config["explore"]["enabled"]:
            progress("kernel density, Moran's I and maps")
            summary["Spatio-temporal exploration"] = exploration_stage(
                ccd, inputs, config, _stage(staging, "explore"), progress
            )
        mle_reports = None
        if config["mle"]["enabled"] or config["bayes"]["enabled"]:
            data = regression_panel(ccd, inputs, config["regression"]["y"])
        if config["mle"]["enabled"]:
            progress("maximum-likelihood spatial panel models, national and regional")
            mle_reports, summary["Spatial panel model (maximum likelihood)"] = mle_stage(
                data, inputs, config, _stage(staging, "mle")
            )
        if config["bayes"]["enabled"]:
            progress(
                f"Bayesian spatial panel models ({config['bayes']['sampler']} sampler), "
                "national and regional"
            )
            fit, summary["Spatial panel model (Bayesian)"] = bayes_stage(
                data, inputs, config, _stage(staging, "bayes"), progress
            )
            if mle_reports is not None:
                summary["Posterior versus maximum likelihood"] = comparison_stage(
                    mle_reports, fit.reports, config, _stage(staging, "compare")
                )
        if config["dea"]["enabled"]:
            progress(f"DEA efficiency of {config['dea']['year']} and Malmquist index")
            efficiency, summary["Efficiency (DEA)"] = efficiency_stage(
                inputs, config, _stage(staging, "dea")
            )
        if config["qca"]["enabled"]:
            progress("fsQCA: calibration, truth table and Boolean minimisation")
            summary["Configurations (fsQCA)"] = configuration_stage(
                efficiency.efficiency, ccd, inputs, config, _stage(staging, "qca")
            )
        write_run_summary(staging, config, inputs, summary)
        write_json(
            run_metadata(
                config,
                run["seed"],
                synthetic_data=inputs.synthetic,
                weights=inputs.weights.summary(),
            ),
            staging / "metadata.json",
        )
    return target


def _stage(staging: Path, name: str) -> Path:
    directory = staging / name
    directory.mkdir()
    return directory


def write_run_summary(
    directory: Path, config: dict[str, Any], inputs: Inputs, summary: dict[str, list[str]]
) -> Path:
    """``summary.md``: what was run on what, and the headline numbers of each stage."""
    panel = inputs.panel
    lines = [f"# bayes_ccd run '{config['run']['name']}'", ""]
    if inputs.synthetic:
        lines += [f"> {SYNTHETIC_NOTICE}", ""]
    lines += [
        f"- Panel: {panel.source} ({panel.n_units} units x {panel.n_periods} periods, "
        f"{panel.periods[0]}-{panel.periods[-1]})",
        f"- Indicator system: {inputs.system.source}",
        f"- Spatial weights: {inputs.weights.source} ({inputs.weights.transform})",
        f"- Seed: {config['run']['seed']}",
        "",
    ]
    for stage, stage_lines in summary.items():
        lines += [f"## {stage}", "", *[f"- {line}" for line in stage_lines], ""]
    path = directory / "summary.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
