"""The whole analysis of a run configuration, stage after stage.

Data flow one way: panel -> entropy weights and indices U1, U2 -> coupling coordination
degree D -> exploration, spatial models, efficiency and configurations -> tables and
figures. Each stage writes into its own sub-directory of the run directory, and the
run directory appears only when every stage has succeeded
(:func:`bayes_ccd.reports.atomic_output_dir`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_ccd.config import IndicatorSystem, read_indicator_system
from bayes_ccd.conventions import PERIOD, REGION, UNIT
from bayes_ccd.coupling import ccd_by_period, ccd_table, levels_table
from bayes_ccd.demo_data import SYNTHETIC_NOTICE, bundled_demo_path
from bayes_ccd.entropy import EntropyResult, subsystem_indices
from bayes_ccd.exceptions import DataError
from bayes_ccd.panel import Panel, read_panel, read_regions
from bayes_ccd.reports import atomic_output_dir, run_metadata, write_json, write_table
from bayes_ccd.weights import SpatialWeights, read_weights

Progress = Callable[[str], None]
BUNDLED_DEMO = "bundled:demo"


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
        derived = {"U1", "U2", "C", "T", "D", "crs", "vrs", "scale"}
        columns += [c for c in config["qca"]["conditions"] if c not in derived]
    return list(dict.fromkeys(columns))


def units_regions(panel: Panel, regions: pd.Series) -> pd.Series | None:
    """Regions of the panel's units, or ``None`` when the table covers none of them
    (e.g. a county panel with the bundled province table). Partial cover is an error."""
    covered = [u for u in panel.units if u in regions.index]
    if not covered:
        return None
    if len(covered) < panel.n_units:
        absent = [u for u in panel.units if u not in regions.index]
        raise DataError(f"unit(s) {absent} have no region in the region table; add them "
                        "or give a complete region file", file=panel.source)
    return regions.loc[panel.units]


def load_inputs(config: dict[str, Any]) -> Inputs:
    """Read and validate the panel, indicator system, regions and weights of a run."""
    data = config["data"]
    system = read_indicator_system(config["indicators"]["file"])
    panel = read_panel(panel_path(data["panel"]), unit=data["unit"], time=data["time"],
                       columns=required_columns(config, system), missing=data["missing"])
    regions = units_regions(panel, read_regions(
        None if data["regions"] == "bundled:provinces" else data["regions"],
        unit=data["region_unit_column"], region=data["region_column"]))
    weights = read_weights(config["weights"]["source"],
                           transform=config["weights"]["transform"]).aligned(panel.units)
    return Inputs(panel, system, regions, weights, data["panel"] == BUNDLED_DEMO)


def coupling_stage(panel: Panel, system: IndicatorSystem, config: dict[str, Any],
                   regions: pd.Series | None) -> tuple[EntropyResult, pd.DataFrame]:
    """Entropy weights, indices U1 and U2, and the coupling coordination table."""
    entropy = subsystem_indices(panel, system, scope=config["entropy"]["scope"],
                                shift=config["entropy"]["shift"])
    coupling = config["coupling"]
    ccd = ccd_table(entropy.indices, alpha=coupling["alpha"], beta=coupling["beta"],
                    formula=coupling["formula"], regions=regions)
    return entropy, ccd


def write_coupling_outputs(entropy: EntropyResult, ccd: pd.DataFrame, panel: Panel,
                           out_dir: Path, *, synthetic: bool = False) -> list[str]:
    """Write weights, indices, the CCD table, Table 4 and filled cells; return summary
    lines for the run report."""
    note = SYNTHETIC_NOTICE if synthetic else None
    weights = entropy.weights
    write_table(weights, out_dir, "weights", digits=4,
                caption="Entropy weights of the indicators", notes=note)
    ccd.to_csv(out_dir / "ccd.csv", index=False)
    write_table(ccd_by_period(ccd).reset_index(), out_dir, "ccd_by_period", digits=3,
                caption="Coupling coordination degree D by unit and period", notes=note)
    write_table(levels_table(), out_dir, "levels", formats=("csv", "md"),
                caption="Classification of the coupling coordination degree")
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
        lines.append(f"Mean D in {last} by region: "
                     + ", ".join(f"{r} {v:.3f}" for r, v in by_region.items()) + ".")
    top = ccd[ccd[PERIOD] == last].nlargest(1, "D").iloc[0]
    lines.append(f"Highest D in {last}: {top[UNIT]} ({top['D']:.3f}, {top['label']}).")
    if len(panel.filled):
        cells = "; ".join(f"{r[UNIT]} {r[PERIOD]} {r['column']} = {r['value']:.6g}"
                          for _, r in panel.filled.iterrows())
        lines.append(f"Filled by linear interpolation ({len(panel.filled)} cells): {cells}.")
    return lines


def run_analysis(config: dict[str, Any], out_dir: str | Path | None = None,
                 progress: Progress = print) -> Path:
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
    summary: dict[str, list[str]] = {}
    with atomic_output_dir(target) as staging:
        progress("entropy weights and coupling coordination degree")
        entropy, ccd = coupling_stage(inputs.panel, inputs.system, config, inputs.regions)
        stage_dir = staging / "ccd"
        stage_dir.mkdir()
        summary["Coupling coordination"] = write_coupling_outputs(
            entropy, ccd, inputs.panel, stage_dir, synthetic=inputs.synthetic)
        write_run_summary(staging, config, inputs, summary)
        write_json(run_metadata(config, run["seed"], synthetic_data=inputs.synthetic,
                                weights=inputs.weights.summary()),
                   staging / "metadata.json")
    return target


def write_run_summary(directory: Path, config: dict[str, Any], inputs: Inputs,
                      summary: dict[str, list[str]]) -> Path:
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
