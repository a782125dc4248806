"""The whole analysis of a run configuration.

:func:`run` computes, :meth:`RunResult.write` writes.

Data flow one way: panel -> entropy weights and indices U1, U2 -> coupling coordination
degree D -> exploration, spatial models, efficiency and configurations -> tables and
figures. :func:`run` returns every stage's result object; :meth:`RunResult.write` writes
each stage into its own sub-directory of the run directory, which appears only when
every stage has been written (:func:`bayes_ccd.report.output.atomic_output_dir`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bayes_ccd.config import load_run_config
from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.data.demo import SYNTHETIC_NOTICE, bundled_demo_path
from bayes_ccd.data.factors import Factor
from bayes_ccd.data.panel import Panel, read_panel
from bayes_ccd.data.regions import read_regions, regions_for
from bayes_ccd.data.weights import SpatialWeights, read_weights
from bayes_ccd.exceptions import ConfigError, DataWarning, warn
from bayes_ccd.indices.ccd import DERIVED, CCDResult, ccd
from bayes_ccd.indices.indicators import IndicatorSystem, read_indicator_system
from bayes_ccd.report.output import atomic_output_dir, run_metadata, write_json
from bayes_ccd.report.summary import Summary
from bayes_ccd.settings import PRIOR_PRESETS, RunConfig

if TYPE_CHECKING:
    from bayes_ccd.efficiency.result import Efficiency
    from bayes_ccd.exploration.stage import ExplorationResult
    from bayes_ccd.qca.result import QCAResult
    from bayes_ccd.qca.robustness import QCARobustness
    from bayes_ccd.spatial.compare import Comparison
    from bayes_ccd.spatial.results import FitCollection

Progress = Callable[[str], None]
BUNDLED_DEMO = "bundled:demo"
#: DEA scores that fsQCA may use as outcome or condition.
DEA_SCORES = ("crs", "vrs", "scale")


@dataclass(frozen=True)
class Inputs:
    """Everything a run reads: the validated panel, indicator system, regions, weights."""

    panel: Panel
    system: IndicatorSystem
    regions: pd.Series | None
    weights: SpatialWeights

    @property
    def synthetic(self) -> bool:
        """Whether the panel is the bundled synthetic demo panel."""
        return self.panel.notice == SYNTHETIC_NOTICE


def required_columns(config: RunConfig, system: IndicatorSystem) -> list[str]:
    """Return the panel columns a run needs.

    These are the indicators, factors, DEA inputs/outputs and the raw (not derived)
    fsQCA conditions of the enabled stages.
    """
    columns = [*system.indicator_columns, *system.factor_columns]
    if config.dea.enabled:
        columns += [*config.dea.inputs, *config.dea.outputs]
    if config.qca.enabled:
        columns += [
            c
            for c in [config.qca.outcome.removeprefix("~").strip(), *config.qca.conditions]
            if c not in {*DERIVED, *DEA_SCORES}
        ]
    return list(dict.fromkeys(columns))


def units_regions(panel: Panel, regions: pd.Series) -> pd.Series | None:
    """Return the regions of the panel's units, or ``None`` when the table covers none of them.

    The latter happens e.g. for a county panel with the bundled province table. Partial
    cover is an error.
    """
    if not any(u in regions.index for u in panel.units):
        return None
    return regions_for(panel.units, regions, source=panel.source)


def load_inputs(config: RunConfig) -> Inputs:
    """Read and validate the panel, indicator system, regions and weights of a run."""
    data = config.data
    system = read_indicator_system(config.indicators.file)
    demo = data.panel == BUNDLED_DEMO
    panel = read_panel(
        bundled_demo_path() if demo else Path(data.panel),
        unit=data.unit,
        time=data.time,
        columns=required_columns(config, system),
        missing=data.missing,  # type: ignore[arg-type]
        notice=SYNTHETIC_NOTICE if demo else "",
    )
    regions = units_regions(
        panel, read_regions(data.regions, unit=data.region_unit_column, region=data.region_column)
    )
    weights = read_weights(config.weights.source, transform=config.weights.transform).aligned(  # type: ignore[arg-type]
        panel.units
    )
    return Inputs(panel, system, regions, weights)


def validate(config: RunConfig, inputs: Inputs) -> None:
    """Check, before any stage runs, the settings that depend on the data.

    These are the regression outcome, the DEA year, the years to map, the permutation
    settings, that fsQCA has its DEA scores, and a prior file.

    Raises
    ------
    ConfigError
        Naming the configuration file, the section and what to change.
    """
    periods = inputs.panel.periods
    where = config.source
    if (config.mle.enabled or config.bayes.enabled) and config.regression.y not in DERIVED:
        raise ConfigError(
            f"{where}: [regression] y = {config.regression.y!r} must be one of {DERIVED}"
        )
    if config.dea.enabled and config.dea.year not in periods:
        raise ConfigError(
            f"{where}: [dea] year = {config.dea.year} is not a period "
            f"of the panel ({periods[0]}-{periods[-1]})"
        )
    if config.explore.enabled:
        from bayes_ccd.exploration.moran import check_permutation_test

        check_permutation_test(
            config.explore.permutations, config.explore.alternative, config.explore.significance
        )
        unknown = sorted(set(config.explore.years) - set(periods))
        if unknown:
            raise ConfigError(
                f"{where}: [explore] years {unknown} are not periods of the "
                f"panel ({periods[0]}-{periods[-1]})"
            )
    if config.qca.enabled and not config.dea.enabled:
        raise ConfigError(
            f"{where}: [qca] runs on the cases of the DEA year; enable [dea] or disable [qca]"
        )
    prior = config.bayes.prior
    if config.bayes.enabled and prior not in PRIOR_PRESETS and not Path(prior).is_file():
        raise ConfigError(f"{where}: [bayes] prior file {prior} does not exist")


@dataclass(frozen=True)
class RunResult:
    """Every stage's result of one run (``None`` for a stage that is switched off)."""

    config: RunConfig
    inputs: Inputs
    ccd: CCDResult
    exploration: ExplorationResult | None = None
    mle: FitCollection | None = None
    bayes: FitCollection | None = None
    comparison: Comparison | None = None
    efficiency: Efficiency | None = None
    configurations: QCAResult | None = None
    robustness: QCARobustness | None = None

    def stage_lines(self) -> dict[str, list[str]]:
        """Return the headline lines of every stage that ran, by section of ``summary.md``."""
        sections = {"Coupling coordination": list(self.ccd.summary().lines)}
        if self.exploration is not None:
            sections["Spatio-temporal exploration"] = list(self.exploration.summary().lines)
        if self.mle is not None:
            sections["Spatial panel model (maximum likelihood)"] = _mle_lines(self.mle)
        if self.bayes is not None:
            sections["Spatial panel model (Bayesian)"] = list(self.bayes.summary().lines)
        if self.comparison is not None:
            sections["Posterior versus maximum likelihood"] = self.comparison.lines()
        if self.efficiency is not None:
            sections["Efficiency (DEA)"] = list(self.efficiency.summary().lines)
        if self.configurations is not None:
            sections["Configurations (fsQCA)"] = list(self.configurations.summary().lines)
        if self.robustness is not None:
            sections["Robustness of the configurations"] = self.robustness.headline_lines()
        return sections

    def summary(self) -> Summary:
        """Summarise what was run on what, and every stage's headline lines (``summary.md``)."""
        config, inputs = self.config, self.inputs
        panel = inputs.panel
        return Summary(
            title=f"bayes_ccd run '{config.run.name}'",
            facts={
                "Panel": f"{panel.source} ({panel.n_units} units x {panel.n_periods} periods, "
                f"{panel.periods[0]}-{panel.periods[-1]})",
                "Indicator system": inputs.system.source,
                "Spatial weights": f"{inputs.weights.source} ({inputs.weights.transform})",
                "Seed": config.run.seed,
            },
            sections=self.stage_lines(),
            notice=panel.notice,
        )

    def write(self, directory: str | Path | None = None, *, figures: bool | None = None) -> Path:
        """Write every stage into ``directory``, all or nothing, and return the directory.

        ``directory`` defaults to ``<run.output_dir>/<run.name>``; ``figures`` defaults to
        ``[run] figures``.
        """
        config, inputs = self.config, self.inputs
        run_settings = config.run
        default = Path(run_settings.output_dir) / run_settings.name
        target = default if directory is None else Path(directory)
        draw = run_settings.figures if figures is None else figures
        recorded = config.to_dict()
        seed = run_settings.seed

        def meta(**extra: Any) -> dict[str, Any]:
            return run_metadata(recorded, seed, synthetic_data=inputs.synthetic, **extra)

        used = [config.source, inputs.panel.source, inputs.system.source, config.weights.source]
        used.append(config.data.regions)
        with atomic_output_dir(target, protect=[p for p in used if Path(p).exists()]) as staging:
            self.ccd.write(_stage(staging, "ccd"))
            if self.exploration is not None:
                self.exploration.write(
                    _stage(staging, "explore"), figures=draw, metadata={"run": run_settings.name}
                )
            if self.mle is not None:
                self.mle.write(_stage(staging, "mle"), figures=draw, metadata=meta(stage="mle"))
            if self.bayes is not None:
                self.bayes.write(
                    _stage(staging, "bayes"), figures=draw, metadata=meta(stage="bayes")
                )
            if self.comparison is not None:
                self.comparison.write(
                    _stage(staging, "compare"),
                    figures=draw,
                    metadata=run_metadata(recorded, seed, stage="compare"),
                )
            if self.efficiency is not None:
                self.efficiency.write(
                    _stage(staging, "dea"), config=config.dea.to_dict(), figures=draw
                )
            if self.configurations is not None:
                self.configurations.write(_stage(staging, "qca"))
            if self.robustness is not None:
                self.robustness.write(staging / "qca", figures=draw)
            (staging / "summary.md").write_text(
                self.summary().to_markdown(level=1), encoding="utf-8"
            )
            write_json(meta(weights=inputs.weights.summary()), staging / "metadata.json")
        return target


def _mle_lines(fits: FitCollection) -> list[str]:
    lines = list(fits.summary().lines)
    total = fits.main.effects().query("effect == 'total'")
    significant = total[total["p_value"] < 0.05]["variable"].tolist()
    lines.append(
        "National total effects significant at 5%: "
        + (", ".join(significant) if significant else "none")
        + "."
    )
    return lines


def _stage(staging: Path, name: str) -> Path:
    directory = staging / name
    directory.mkdir()
    return directory


def run(config: RunConfig | str | Path, *, progress: Progress | None = None) -> RunResult:
    """Run every enabled stage of a run configuration and return their results.

    Nothing is written: call :meth:`RunResult.write` (``bayes-ccd run`` does).

    Parameters
    ----------
    config
        A :class:`~bayes_ccd.settings.RunConfig` or the path of a TOML configuration
        (:func:`bayes_ccd.config.load_run_config`).
    progress
        Called with a message at the start of each stage.
    """
    report = progress or (lambda message: None)
    if not isinstance(config, RunConfig):
        config = load_run_config(config)
    report(f"reading inputs of run '{config.run.name}'")
    inputs = load_inputs(config)
    validate(config, inputs)
    seed = config.run.seed
    report("entropy weights and coupling coordination degree")
    coupling = ccd(
        inputs.panel,
        inputs.system,
        regions=inputs.regions,
        entropy=config.entropy,
        coupling=config.coupling,
    )
    results: dict[str, Any] = {}
    if config.explore.enabled:
        from bayes_ccd.exploration.stage import explore

        report("kernel density, Moran's I and maps")
        results["exploration"] = explore(
            coupling.table,
            inputs.weights,
            inputs.regions,
            seed=seed,
            settings=config.explore,
            progress=report,
        )
    if config.mle.enabled or config.bayes.enabled:
        from bayes_ccd.spatial.model import SpatialPanel
        from bayes_ccd.spatial.results import as_collection

        regression = config.regression
        model = SpatialPanel(
            data=coupling.panel,
            weights=inputs.weights,
            y=Factor(name=regression.y, column=regression.y),
            x=list(inputs.system.factors),
            model=regression.model,
            fe=regression.fe,
            transform=regression.transform,
            regions=inputs.regions,
        )
        by_region = regression.by_region and inputs.regions is not None
        if regression.by_region and not by_region:
            warn(
                f"[regression] by_region: the region table {config.data.regions} covers none "
                "of the panel's units, so only the whole sample is fitted; give a region "
                "file with columns unit,region ([data] regions)",
                DataWarning,
            )
        if config.mle.enabled:
            report("maximum-likelihood spatial panel models, national and regional")
            results["mle"] = as_collection(
                model.fit("ml", by_region=by_region, seed=seed, settings=config.mle)
            )
        if config.bayes.enabled:
            report(
                f"Bayesian spatial panel models ({config.bayes.sampler} sampler), "
                "national and regional"
            )
            results["bayes"] = as_collection(
                model.fit(
                    "bayes", by_region=by_region, seed=seed, settings=config.bayes, progress=report
                )
            )
            if "mle" in results:
                from bayes_ccd.spatial.compare import compare

                results["comparison"] = compare(results["mle"], results["bayes"])
    if config.dea.enabled:
        from bayes_ccd.efficiency.analysis import efficiency_analysis

        report(f"DEA efficiency of {config.dea.year} and Malmquist index")
        if config.dea.bootstrap:
            report(f"bootstrap of the DEA scores ({config.dea.replications} replications)")
        results["efficiency"] = efficiency_analysis(
            inputs.panel.frame, config.dea, seed=config.run.seed
        )
    if config.qca.enabled:
        from bayes_ccd.qca.solutions import configuration_analysis

        report("fsQCA: calibration, truth table and Boolean minimisation")
        cases = qca_cases(inputs.panel, coupling, results["efficiency"], config.dea.year)
        results["configurations"] = configuration_analysis(cases, config.qca, year=config.dea.year)
        if config.qca.robustness:
            from bayes_ccd.qca.robustness import qca_robustness

            report("fsQCA robustness to calibration and cut-offs")
            results["robustness"] = qca_robustness(
                cases,
                config.qca,
                shift=config.qca.robustness_shift,
                incl_cuts=config.qca.robustness_incl_cuts or None,
                pri_cuts=config.qca.robustness_pri_cuts or None,
                n_cuts=config.qca.robustness_n_cuts or None,
                solution=config.qca.robustness_solution,
                year=config.dea.year,
            )
    return RunResult(config, inputs, coupling, **results)


def qca_cases(panel: Panel, coupling: CCDResult, efficiency: Efficiency, year: int) -> pd.DataFrame:
    """Assemble the cases of the fsQCA: the units in the DEA year.

    Each case has the panel's columns, the coupling table's U1..D and the DEA scores crs,
    vrs and scale of that year.
    """
    frame = panel.frame
    table = coupling.table
    return (
        frame[frame[PERIOD] == year]
        .set_index(UNIT)
        .join(table[table[PERIOD] == year].set_index(UNIT)[list(DERIVED)])
        .join(efficiency.cross_section().efficiency[list(DEA_SCORES)])
    )
