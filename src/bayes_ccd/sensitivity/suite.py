"""``bc.robustness``: the Bayesian spatial panel refitted over robustness specifications.

The run configuration's ``[robustness]`` section lists alternatives along the
dimensions of :mod:`bayes_ccd.sensitivity.specification`; every specification is a
whole run configuration, fitted as an independent Dask task
(:mod:`bayes_ccd.sensitivity.engine`). With an output directory, finished
specifications are kept in its store (:mod:`bayes_ccd.sensitivity.store`) as they
arrive, a re-run reuses them, and the tables and figures
(:class:`~bayes_ccd.sensitivity.result.RobustnessResult`) are written at the end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_ccd.config import load_run_config
from bayes_ccd.exceptions import ConfigError
from bayes_ccd.report.output import OUTPUT_MARKER, check_output_early, run_metadata, write_json
from bayes_ccd.run_config import RunConfig
from bayes_ccd.sensitivity.engine import run_tasks
from bayes_ccd.sensitivity.result import TABLE_COLUMNS, RobustnessResult
from bayes_ccd.sensitivity.specification import (
    BASE_ID,
    Specification,
    alternatives,
    base_values,
    specification_config,
    specifications,
)
from bayes_ccd.sensitivity.store import Store, specification_key
from bayes_ccd.sensitivity.task import Outcome
from bayes_ccd.settings import PRIOR_PRESETS

Progress = Callable[[str], None]


def default_directory(config: RunConfig) -> Path:
    """Return ``<run.output_dir>/<run.name>-robustness``, next to the run's own outputs."""
    return Path(config.run.output_dir) / f"{config.run.name}-robustness"


def _check_files(config: RunConfig, specs: list[Specification]) -> None:
    """Refuse, before any fit, alternatives that name files that do not exist."""
    from bayes_ccd.data.weights_spec import looks_like_spec
    from bayes_ccd.spatial.bayes.priors import resolve_prior

    for spec in specs:
        for dimension, value in spec.changes:
            if dimension == "prior":
                if value not in PRIOR_PRESETS and not Path(value).is_file():
                    raise ConfigError(f"{config.source}: [robustness] priors: no file {value}")
                resolve_prior(value)  # a bad prior file is an error now, not after an hour
            if dimension == "weights" and not (
                value.startswith("bundled:") or looks_like_spec(value) or Path(value).is_file()
            ):
                raise ConfigError(f"{config.source}: [robustness] weights: no file {value}")


def plan(config: RunConfig) -> tuple[list[Specification], dict[str, RunConfig], Any]:
    """Return the specifications of ``[robustness]``, their configurations and the inputs.

    The base specification is prepared (inputs read, the design built), which checks
    the data and settings every specification shares.
    """
    from bayes_ccd.pipeline import prepare

    base_config = specification_config(config, Specification(BASE_ID), [], {})
    prepared = prepare(base_config)
    inputs = prepared.inputs
    periods = inputs.panel.periods
    regions: dict[str, list[str]] = {}
    if inputs.regions is not None:
        for unit, region in inputs.regions.items():
            regions.setdefault(str(region), []).append(str(unit))
    settings = config.robustness
    specs = specifications(
        base_values(config), alternatives(settings, periods, regions), design=settings.design
    )
    _check_files(config, specs)
    configs = {s.id: specification_config(config, s, periods, regions) for s in specs}
    return specs, configs, inputs


def robustness(
    config: RunConfig | str | Path,
    directory: str | Path | None = None,
    *,
    design: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    restart: bool = False,
    figures: bool | None = None,
    progress: Progress | None = None,
) -> RobustnessResult:
    """Fit the robustness specifications of a run configuration and tabulate their effects.

    Parameters
    ----------
    config
        A :class:`~bayes_ccd.run_config.RunConfig` or the path of a TOML configuration
        whose ``[robustness]`` section lists the alternatives.
    directory
        Where the store of finished specifications and the tables and figures go
        (``bayes-ccd robustness`` uses :func:`default_directory`). ``None``: computed in
        memory, nothing written.
    design, workers, scheduler
        Override ``[robustness]`` ``design`` (``one-at-a-time`` or ``grid``),
        ``workers`` (local Dask worker processes; 0 runs in this process) and
        ``scheduler`` (a Dask distributed scheduler's address).
    restart
        Refit every specification even where the store holds it.
    figures
        Draw the forest figures (default ``[run] figures``).
    progress
        Called with a message per step and per finished specification.

    Returns
    -------
    RobustnessResult
    """
    report = progress or (lambda message: None)
    if not isinstance(config, RunConfig):
        config = load_run_config(config)
    settings = config.robustness.replace(design=design, workers=workers, scheduler=scheduler)
    config = dataclasses.replace(config, robustness=settings)
    report(f"reading the inputs and planning the robustness specifications of '{config.run.name}'")
    specs, configs, inputs = plan(config)
    store = None
    if directory is not None:
        directory = Path(directory)
        check_output_early(directory, protect=_protected(config))
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / OUTPUT_MARKER).is_file():  # marks the directory as ours at once
            write_json(run_metadata(), directory / OUTPUT_MARKER)
        store = Store(directory)
    keys = {spec_id: specification_key(c) for spec_id, c in configs.items()}
    outcomes: dict[str, Outcome] = {}
    reused: set[str] = set()
    if store is not None and not restart:
        for spec in specs:
            stored = store.finished(spec, keys[spec.id])
            if stored is not None:
                outcomes[spec.id] = stored
                reused.add(spec.id)
    by_id = {s.id: s for s in specs}
    todo = {s.id: configs[s.id] for s in specs if s.id not in outcomes}
    place = (
        f"the Dask scheduler at {settings.scheduler}"
        if settings.scheduler
        else f"{settings.workers} local worker processes"
        if settings.workers
        else "this process"
    )
    report(
        f"{len(specs)} specifications ({settings.design}): {len(reused)} finished earlier and "
        f"reused, {len(todo)} to fit on {place}"
    )

    def on_done(spec_id: str, outcome: Outcome) -> None:
        outcomes[spec_id] = outcome
        if store is not None:
            store.put(by_id[spec_id], keys[spec_id], outcome)

    run_tasks(
        todo, on_done, workers=settings.workers, scheduler=settings.scheduler, progress=report
    )
    result = _result(specs, outcomes, reused, config, inputs.panel.notice)
    for spec_id, reason in result.failed.items():
        report(f"specification {spec_id} failed: {reason}")
    if directory is not None:
        draw = config.run.figures if figures is None else figures
        result.write(directory, figures=draw)
        write_json(
            run_metadata(
                config.to_dict(),
                config.run.seed,
                synthetic_data=bool(inputs.panel.notice),
                specifications={s.id: {"label": s.label, "key": keys[s.id]} for s in specs},
            ),
            directory / OUTPUT_MARKER,
        )
    return result


def _protected(config: RunConfig) -> list[str]:
    used = [config.source, config.data.panel, config.indicators.file, config.data.regions]
    used += [config.weights.source, *config.robustness.weights, *config.robustness.priors]
    return [p for p in used if Path(p).exists()]


def _result(
    specs: list[Specification],
    outcomes: dict[str, Outcome],
    reused: set[str],
    config: RunConfig,
    notice: str,
) -> RobustnessResult:
    rows, tables = [], []
    for spec in specs:
        outcome = outcomes[spec.id]
        rows.append(
            {
                "id": spec.id,
                "dimension": spec.dimension,
                "change": spec.label,
                "status": outcome.status,
                "reused": spec.id in reused,
                "seconds": outcome.seconds,
                **outcome.facts,
                "notes": " | ".join(outcome.notes),
            }
        )
        if outcome.status == "ok" and outcome.effects is not None:
            tables.append(
                outcome.effects.assign(
                    specification=spec.id, dimension=spec.dimension, change=spec.label
                )
            )
    effects = (
        pd.concat(tables, ignore_index=True)[list(TABLE_COLUMNS)]
        if tables
        else pd.DataFrame(columns=list(TABLE_COLUMNS))
    )
    return RobustnessResult(
        specifications=pd.DataFrame(rows),
        effects=effects,
        notice=notice,
        config=config.to_dict(),
    )
