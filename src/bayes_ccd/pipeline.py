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
from bayes_ccd.data.panel import Panel, read_csv_cells, read_panel
from bayes_ccd.data.regions import read_regions, regions_for
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.data.weights_spec import spec_variable
from bayes_ccd.exceptions import ConfigError, DataWarning, warn
from bayes_ccd.indices.ccd import DERIVED, CCDResult, ccd
from bayes_ccd.indices.indicators import IndicatorSystem, read_indicator_system
from bayes_ccd.report.output import atomic_output_dir, run_metadata, write_json
from bayes_ccd.report.summary import Summary
from bayes_ccd.run_config import RunConfig
from bayes_ccd.settings import PRIOR_PRESETS

if TYPE_CHECKING:
    from bayes_ccd.efficiency.result import Efficiency
    from bayes_ccd.exploration.stage import ExplorationResult
    from bayes_ccd.qca.result import QCAResult
    from bayes_ccd.qca.robustness import QCARobustness
    from bayes_ccd.spatial.compare import Comparison
    from bayes_ccd.spatial.regional_comparison import RegionalComparison
    from bayes_ccd.spatial.results import FitCollection
    from bayes_ccd.spatial.selection import ModelComparison

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
    economic = spec_variable(config.weights.source)
    if economic is not None:
        columns.append(economic)
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


def check_stage_settings(config: RunConfig, system: IndicatorSystem, header: list[str]) -> None:
    """Check that every enabled stage names columns that exist, saying how to switch it off.

    Raises
    ------
    ConfigError
        A DEA without inputs or outputs, an fsQCA without conditions, or columns of a
        stage that are not in the panel (named, with the stage's section).
    """
    where = config.source
    derived = {*DERIVED, *DEA_SCORES}
    stages = {"indicators": (True, [*system.indicator_columns, *system.factor_columns])}
    if config.dea.enabled:
        if not config.dea.inputs or not config.dea.outputs:
            raise ConfigError(
                f"{where}: [dea] needs inputs and outputs (columns of the panel); set "
                "them, or remove the [dea] section (or set enabled = false) to skip the DEA"
            )
        stages["dea"] = (True, [*config.dea.inputs, *config.dea.outputs])
    if config.qca.enabled:
        if not config.qca.conditions:
            raise ConfigError(
                f"{where}: [qca] needs conditions (panel columns, U1..D or DEA scores); set "
                "them, or remove the [qca] section (or set enabled = false) to skip the fsQCA"
            )
        wanted = [config.qca.outcome, *config.qca.conditions]
        stages["qca"] = (True, [c for c in wanted if c not in derived])
    for name, (_, columns) in stages.items():
        absent = [c for c in dict.fromkeys(columns) if c not in header]
        if not absent:
            continue
        if name == "indicators":
            raise ConfigError(
                f"{where}: the indicator system {system.source} names column(s) {absent} "
                f"that are not in the panel {config.data.panel}"
            )
        raise ConfigError(
            f"{where}: [{name}] names column(s) {absent} that are not in the panel "
            f"{config.data.panel} (columns: {[c for c in header][:12]}...); name your own "
            f"columns, or remove the [{name}] section (or set enabled = false) to skip it"
        )


def load_inputs(config: RunConfig) -> Inputs:
    """Read and validate the panel, indicator system, regions and weights of a run."""
    data = config.data
    system = read_indicator_system(config.indicators.file)
    demo = data.panel == BUNDLED_DEMO
    path = bundled_demo_path() if demo else Path(data.panel)
    header = list(read_csv_cells(path, what="panel file").columns)
    check_stage_settings(config, system, header)
    panel = read_panel(
        path,
        unit=data.unit,
        time=data.time,
        columns=required_columns(config, system),
        missing=data.missing,  # type: ignore[arg-type]
        notice=SYNTHETIC_NOTICE if demo else "",
        gaps=data.gaps,  # type: ignore[arg-type]
    )
    if data.exclude_periods:
        panel = panel.without(periods=data.exclude_periods)
    from bayes_ccd.data.builders import weights_from_settings  # imports libpysal

    weights = weights_from_settings(config.weights, panel)
    if data.exclude_units:
        # W of every unit, then cut and re-standardised: as for a region's sub-sample.
        panel = panel.without(units=data.exclude_units)
        weights = weights.subset(panel.units)
    regions = units_regions(
        panel, read_regions(data.regions, unit=data.region_unit_column, region=data.region_column)
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
    regression = config.mle.enabled or config.bayes.enabled or config.model_choice.enabled
    if regression and config.regression.y not in DERIVED:
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
            f"{where}: [qca] runs on the cases of the DEA year; add a [dea] section (or "
            "enable it), or disable [qca]"
        )
    if config.explore.enabled:
        unknown = [v for v in config.explore.variables if v not in DERIVED]
        if unknown:
            raise ConfigError(
                f"{where}: [explore] variables {unknown} are not columns of the coupling "
                f"table ({', '.join(DERIVED)})"
            )
    for section in ("bayes", "model_choice"):
        settings = getattr(config, section)
        prior = settings.prior
        if settings.enabled and prior not in PRIOR_PRESETS and not Path(prior).is_file():
            raise ConfigError(f"{where}: [{section}] prior file {prior} does not exist")


@dataclass(frozen=True)
class RunResult:
    """Every stage's result of one run (``None`` for a stage that is switched off)."""

    config: RunConfig
    inputs: Inputs
    ccd: CCDResult
    exploration: ExplorationResult | None = None
    mle: FitCollection | None = None
    bayes: FitCollection | None = None
    hierarchical: RegionalComparison | None = None
    comparison: Comparison | None = None
    model_choice: ModelComparison | None = None
    efficiency: Efficiency | None = None
    configurations: QCAResult | None = None
    robustness: QCARobustness | None = None

    def stage_lines(self) -> dict[str, list[str]]:
        """Return the headline lines of every stage that ran, by section of ``summary.md``."""
        sections = {}
        for name, attribute in RESULT_FIELDS.items():
            result = getattr(self, attribute)
            if result is not None:
                sections[SECTION_TITLES[name]] = stage_lines(name, result)
        return sections

    def summary(self) -> Summary:
        """Summarise what was run on what, and every stage's headline lines (``summary.md``)."""
        return Summary(
            title=f"bayes_ccd run '{self.config.run.name}'",
            facts=run_facts(self.config, self.inputs),
            sections=self.stage_lines(),
            notice=self.inputs.panel.notice,
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

        with atomic_output_dir(target, protect=protected_inputs(config, inputs)) as staging:
            for name, attribute in RESULT_FIELDS.items():
                result = getattr(self, attribute)
                if result is not None:
                    write_stage(name, result, _stage(staging, name), config, inputs, figures=draw)
            (staging / "summary.md").write_text(
                self.summary().to_markdown(level=1), encoding="utf-8"
            )
            write_json(meta(weights=inputs.weights.summary()), staging / "metadata.json")
        return target


def run_facts(config: RunConfig, inputs: Inputs) -> dict[str, Any]:
    """Return what a run summary states first: panel, indicator system, weights, seed."""
    panel = inputs.panel
    return {
        "Panel": f"{panel.source} ({panel.n_units} units x {panel.n_periods} periods, "
        f"{panel.periods[0]}-{panel.periods[-1]})",
        "Indicator system": inputs.system.source,
        "Spatial weights": f"{inputs.weights.source} ({inputs.weights.transform})",
        "Seed": config.run.seed,
    }


#: The section of ``summary.md`` of each stage.
SECTION_TITLES = {
    "ccd": "Coupling coordination",
    "explore": "Spatio-temporal exploration",
    "mle": "Spatial panel model (maximum likelihood)",
    "bayes": "Spatial panel model (Bayesian)",
    "hierarchical": "Hierarchical model by region versus the sub-samples",
    "compare": "Posterior versus maximum likelihood",
    "model_choice": "Model comparison",
    "dea": "Efficiency (DEA)",
    "qca": "Configurations (fsQCA)",
    "qca_robustness": "Robustness of the configurations",
}


def stage_lines(name: str, result: Any) -> list[str]:
    """Return the headline lines of one stage's result (its section of ``summary.md``)."""
    if name == "mle":
        return _mle_lines(result)
    if name == "compare":
        return list(result.lines())
    if name == "qca_robustness":
        return list(result.headline_lines())
    return list(result.summary().lines)


def protected_inputs(config: RunConfig, inputs: Inputs) -> list[str]:
    """Return the input files of a run, which its output directory may not contain."""
    used = [config.source, inputs.panel.source, inputs.system.source, config.weights.source]
    used += [config.data.regions, config.weights.coordinates, config.weights.contiguity]
    return [p for p in used if Path(p).exists()]


def write_stage(
    name: str,
    result: Any,
    directory: Path,
    config: RunConfig,
    inputs: Inputs,
    *,
    figures: bool,
) -> None:
    """Write one stage's result into its (existing, empty) directory."""
    recorded, seed = config.to_dict(), config.run.seed
    notice = inputs.panel.notice  # on every figure drawn from the data (synthetic demo)

    def meta(**extra: Any) -> dict[str, Any]:
        return run_metadata(recorded, seed, synthetic_data=inputs.synthetic, **extra)

    if name == "ccd":
        result.write(directory)
    elif name == "explore":
        result.write(directory, figures=figures, metadata={"run": config.run.name})
    elif name in ("mle", "bayes", "hierarchical"):
        result.write(directory, figures=figures, metadata=meta(stage=name))
    elif name == "compare":
        result.write(directory, figures=figures, metadata=run_metadata(recorded, seed, stage=name))
    elif name == "model_choice":
        result.write(directory, figures=figures, metadata=meta(stage=name))
    elif name == "dea":
        result.write(directory, config=config.dea.to_dict(), figures=figures, notice=notice)
    elif name == "qca":
        result.write(directory, notice=notice)
    elif name == "qca_robustness":
        result.write(directory, figures=figures, notice=notice)


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


#: The stages of a run, in the order they run, with the stages each one needs.
STAGES: dict[str, tuple[str, ...]] = {
    "ccd": (),
    "explore": ("ccd",),
    "mle": ("ccd",),
    "bayes": ("ccd",),
    "hierarchical": ("ccd",),
    "compare": ("mle", "bayes"),
    "model_choice": ("ccd",),
    "dea": (),
    "qca": ("ccd", "dea"),
    "qca_robustness": ("ccd", "dea", "qca"),
}
#: The :class:`RunResult` field holding each stage's result.
RESULT_FIELDS = {
    "ccd": "ccd",
    "explore": "exploration",
    "mle": "mle",
    "bayes": "bayes",
    "hierarchical": "hierarchical",
    "compare": "comparison",
    "model_choice": "model_choice",
    "dea": "efficiency",
    "qca": "configurations",
    "qca_robustness": "robustness",
}


def enabled_stages(config: RunConfig) -> list[str]:
    """Return the stages a configuration switches on, in run order."""
    on = {
        "ccd": True,
        "explore": config.explore.enabled,
        "mle": config.mle.enabled,
        "bayes": config.bayes.enabled,
        "hierarchical": config.bayes.enabled and config.bayes.hierarchical,
        "compare": config.mle.enabled and config.bayes.enabled,
        "model_choice": config.model_choice.enabled,
        "dea": config.dea.enabled,
        "qca": config.qca.enabled,
        "qca_robustness": config.qca.enabled and config.qca.robustness,
    }
    return [name for name in STAGES if on[name]]


@dataclass(frozen=True)
class Prepared:
    """A validated run: its inputs, the coupling stage (cheap, needed by most) and the model."""

    config: RunConfig
    inputs: Inputs
    ccd: CCDResult
    model: Any = None
    by_region: bool = False


def prepare(config: RunConfig | str | Path) -> Prepared:
    """Read and check everything a run needs before any long stage is computed.

    Inputs, the settings that depend on the data (:func:`validate`), the coupling
    stage, and the regression design of the whole sample and of every region (which
    names factors absorbed by the fixed effects, collinear columns and unusable
    regions). Takes seconds on the demo.

    Raises
    ------
    BayesCCDError
        The first problem, naming the configuration file, the section and what to change.
    """
    if not isinstance(config, RunConfig):
        config = load_run_config(config)
    inputs = load_inputs(config)
    validate(config, inputs)
    coupling = ccd(
        inputs.panel,
        inputs.system,
        regions=inputs.regions,
        entropy=config.entropy,
        coupling=config.coupling,
    )
    model, by_region = None, False
    if config.mle.enabled or config.bayes.enabled or config.model_choice.enabled:
        from bayes_ccd.spatial.design import build_design
        from bayes_ccd.spatial.model import SpatialPanel

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
            logdet=regression.logdet,
        )
        by_region = regression.by_region and inputs.regions is not None
        if regression.by_region and not by_region:
            warn(
                f"[regression] by_region: the region table {config.data.regions} covers none "
                "of the panel's units, so only the whole sample is fitted; give a region "
                "file with columns unit,region ([data] regions)",
                DataWarning,
            )
        model.design()
        if by_region:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the fits report them, once
                samples = model.samples(by_region=True)
            for label, sample in samples.items():
                if label != "national":
                    build_design(sample.data, sample.weights, model.spec)
    return Prepared(config, inputs, coupling, model, by_region)


def compute_stage(name: str, prepared: Prepared, results: dict[str, Any], report: Progress) -> Any:
    """Compute stage ``name`` of a prepared run; ``results`` holds the stages it needs."""
    config, inputs = prepared.config, prepared.inputs
    seed = config.run.seed
    if name == "ccd":
        return prepared.ccd
    if name == "explore":
        from bayes_ccd.exploration.stage import explore

        report("kernel density, Moran's I and maps")
        return explore(
            prepared.ccd.table,
            inputs.weights,
            inputs.regions,
            seed=seed,
            settings=config.explore,
            progress=report,
            notice=inputs.panel.notice,
        )
    if name in ("mle", "bayes"):
        from bayes_ccd.spatial.results import as_collection

        where = "national and regional" if prepared.by_region else "national"
        if name == "mle":
            report(f"maximum-likelihood spatial panel models, {where}")
            fits = prepared.model.fit(
                "ml", by_region=prepared.by_region, seed=seed, settings=config.mle
            )
        else:
            report(f"Bayesian spatial panel models ({config.bayes.sampler} sampler), {where}")
            fits = prepared.model.fit(
                "bayes",
                by_region=prepared.by_region,
                seed=seed,
                settings=config.bayes,
                progress=report,
            )
        return as_collection(fits)
    if name == "hierarchical":
        from bayes_ccd.spatial.regional_comparison import compare_regions

        report("hierarchical model by region (NUTS) and the regional sub-samples")
        return compare_regions(prepared.model, settings=config.bayes, seed=seed, progress=report)
    if name == "compare":
        from bayes_ccd.spatial.compare import compare

        return compare(results["mle"], results["bayes"])
    if name == "model_choice":
        from bayes_ccd.spatial.selection import compare_models

        choice = config.model_choice
        report(f"model comparison: {', '.join(m.upper() for m in choice.models)}")
        return compare_models(
            prepared.model,
            models=choice.models,
            prior=choice.prior,
            prior_weights=choice.prior_weights or None,
            by_region=prepared.by_region,
            seed=seed,
            settings=config.bayes,
            progress=report,
        )
    if name == "dea":
        from bayes_ccd.efficiency.analysis import efficiency_analysis

        report(f"DEA efficiency of {config.dea.year} and Malmquist index")
        if config.dea.bootstrap:
            report(f"bootstrap of the DEA scores ({config.dea.replications} replications)")
        return efficiency_analysis(inputs.panel.frame, config.dea, seed=seed)
    if name == "qca":
        from bayes_ccd.qca.solutions import configuration_analysis

        report("fsQCA: calibration, truth table and Boolean minimisation")
        return configuration_analysis(
            qca_cases(inputs.panel, prepared.ccd, results["dea"], config.dea.year),
            config.qca,
            year=config.dea.year,
        )
    if name == "qca_robustness":
        from bayes_ccd.qca.robustness import qca_robustness

        report("fsQCA robustness to calibration and cut-offs")
        qca = config.qca
        return qca_robustness(
            qca_cases(inputs.panel, prepared.ccd, results["dea"], config.dea.year),
            qca,
            shift=qca.robustness_shift,
            incl_cuts=qca.robustness_incl_cuts or None,
            pri_cuts=qca.robustness_pri_cuts or None,
            n_cuts=qca.robustness_n_cuts or None,
            solution=qca.robustness_solution,
            year=config.dea.year,
        )
    raise ConfigError(f"unknown stage {name!r} (stages: {', '.join(STAGES)})")


def run(config: RunConfig | str | Path, *, progress: Progress | None = None) -> RunResult:
    """Run every enabled stage of a run configuration and return their results.

    Nothing is written: call :meth:`RunResult.write`. (``bayes-ccd run`` writes each
    stage as it finishes instead, see :mod:`bayes_ccd.runner`.)

    Parameters
    ----------
    config
        A :class:`~bayes_ccd.run_config.RunConfig` or the path of a TOML configuration
        (:func:`bayes_ccd.config.load_run_config`).
    progress
        Called with a message at the start of each stage.
    """
    report = progress or (lambda message: None)
    if not isinstance(config, RunConfig):
        config = load_run_config(config)
    report(f"reading and checking the inputs of run '{config.run.name}'")
    prepared = prepare(config)
    report("entropy weights and coupling coordination degree")
    results: dict[str, Any] = {}
    for name in enabled_stages(config):
        results[name] = compute_stage(name, prepared, results, report)
    fields = {RESULT_FIELDS[name]: result for name, result in results.items()}
    return RunResult(config, prepared.inputs, **fields)


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
