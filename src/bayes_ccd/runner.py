"""A run that keeps what finished: stage by stage, each stage's directory written atomically.

``bayes-ccd run`` checks every stage's inputs and settings first
(:func:`bayes_ccd.pipeline.prepare`, also ``run --validate``), then computes the enabled
stages in order and writes each one's directory as soon as it has finished (inside
:func:`~bayes_ccd.report.output.atomic_output_dir`, so a stage directory is complete or
absent). A stage that fails on bad input is reported with its reason; the stages that do
not need it still run, the ones that do are skipped, and the finished ones stay.

Every stage directory holds ``stage.json`` with a key: a SHA-256 digest of the stage's
settings, of the bytes of every input file of the run, of the keys of the stages it
needs and of the package version. ``--resume`` reuses a finished stage whose key is
unchanged; ``--only STAGES`` runs those stages (and, reused where possible, the stages
they need).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bayes_ccd.exceptions import BayesCCDError, ConfigError, OutputError
from bayes_ccd.pipeline import (
    SECTION_TITLES,
    STAGES,
    Prepared,
    compute_stage,
    enabled_stages,
    prepare,
    protected_inputs,
    run_facts,
    stage_lines,
    write_stage,
)
from bayes_ccd.report.output import (
    OUTPUT_MARKER,
    atomic_output_dir,
    check_output_target,
    run_metadata,
    write_json,
)
from bayes_ccd.report.summary import Summary
from bayes_ccd.run_config import RunConfig

Progress = Callable[[str], None]
#: The record of a finished stage inside its directory.
STAGE_FILE = "stage.json"
#: The sections of the configuration each stage's results depend on.
STAGE_SECTIONS: dict[str, tuple[str, ...]] = {
    "ccd": ("data", "indicators", "entropy", "coupling"),
    "explore": ("weights", "explore"),
    "mle": ("weights", "regression", "mle"),
    "bayes": ("weights", "regression", "bayes"),
    "hierarchical": ("weights", "regression", "mle", "bayes"),
    "compare": (),
    "model_choice": ("weights", "regression", "bayes", "model_choice"),
    "dea": ("data", "dea"),
    "qca": ("qca",),
    "qca_robustness": ("qca",),
}


@dataclass
class StageOutcome:
    """What became of one stage: ``done``, ``reused``, ``failed``, ``skipped`` or ``off``."""

    status: str
    reason: str = ""
    lines: list[str] = field(default_factory=list)


@dataclass
class RunReport:
    """The outcome of every stage of a run and where it was written."""

    target: Path
    outcomes: dict[str, StageOutcome]
    summary: Summary

    @property
    def failed(self) -> dict[str, str]:
        """The failed stages with their reasons."""
        return {n: o.reason for n, o in self.outcomes.items() if o.status == "failed"}


def parse_stages(text: str | Sequence[str]) -> list[str]:
    """Parse ``--only`` (comma-separated stage names) into stages in run order.

    Raises
    ------
    ConfigError
        An unknown stage name.
    """
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in STAGES]
    if unknown or not names:
        raise ConfigError(
            f"--only: unknown stage(s) {unknown or [text]}; stages are {', '.join(STAGES)}"
        )
    return [n for n in STAGES if n in names]


def _file_digest(path: str | Path) -> str:
    sha = hashlib.sha256()
    path = Path(path)
    if path.is_file():
        sha.update(path.read_bytes())
    else:
        sha.update(str(path).encode())  # bundled inputs are named, not files
    return sha.hexdigest()


def stage_keys(prepared: Prepared) -> dict[str, str]:
    """Return the key of every stage (see the module docstring)."""
    import bayes_ccd

    config, inputs = prepared.config, prepared.inputs
    files = [
        inputs.panel.source,
        inputs.system.source,
        config.weights.source,
        config.data.regions,
        config.bayes.prior,
    ]
    digest = {str(f): _file_digest(f) for f in files}
    settings = config.to_dict()
    shared = {"seed": config.run.seed, "figures": config.run.figures}
    keys: dict[str, str] = {}
    for name, needs in STAGES.items():
        record = {
            "stage": name,
            "version": bayes_ccd.__version__,
            "inputs": digest,
            "run": shared,
            "settings": {s: settings[s] for s in STAGE_SECTIONS[name]},
            "needs": {n: keys[n] for n in needs},
        }
        text = json.dumps(record, sort_keys=True, default=str)
        keys[name] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return keys


def _finished(directory: Path, key: str) -> dict[str, Any] | None:
    """Return the record of the finished stage in ``directory`` if its key is ``key``."""
    try:
        record = json.loads((directory / STAGE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if record.get("key") == key else None


def _reuse(name: str, directory: Path, prepared: Prepared, results: dict[str, Any]) -> Any:
    """Bring back the result of a reused stage that a later stage needs."""
    if name == "ccd":
        return prepared.ccd
    if name in ("mle", "bayes"):
        from bayes_ccd.spatial.load import load
        from bayes_ccd.spatial.results import as_collection

        return as_collection(load(directory))
    return compute_stage(name, prepared, results, lambda message: None)


def validate_run(config: RunConfig) -> Prepared:
    """Check every stage's inputs and settings; compute nothing long, write nothing."""
    return prepare(config)


def run_stages(
    config: RunConfig,
    target: Path | None = None,
    *,
    only: Sequence[str] | None = None,
    resume: bool = False,
    figures: bool | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Validate, then compute and write stage by stage (see the module docstring).

    Parameters
    ----------
    config
        The run configuration.
    target
        The run directory (default ``<run.output_dir>/<run.name>``).
    only
        Run only these stages (and, reused where their keys match, those they need).
    resume
        Reuse finished stages whose keys are unchanged.
    figures
        Draw figures (default ``[run] figures``).
    progress
        Called with a message at the start of each step.

    Raises
    ------
    BayesCCDError
        Validation failed (nothing was written), or the run directory cannot be used.
    """
    report = progress or (lambda message: None)
    run_settings = config.run
    target = Path(target or Path(run_settings.output_dir) / run_settings.name)
    draw = run_settings.figures if figures is None else figures
    report(f"reading and checking the inputs of run '{run_settings.name}'")
    prepared = validate_run(config)
    enabled = enabled_stages(config)
    if only is not None:
        off = [n for n in only if n not in enabled]
        if off:
            raise ConfigError(
                f"--only: stage(s) {off} are off in {config.source}; enable them there "
                f"(stages on: {', '.join(enabled)})"
            )
    wanted = set(enabled if only is None else only)
    needed = set(wanted)
    for name in reversed(list(STAGES)):
        if name in needed:
            needed |= set(STAGES[name])
    keys = stage_keys(prepared)
    _open_run_directory(target, protected_inputs(config, prepared.inputs))

    outcomes: dict[str, StageOutcome] = {}
    results: dict[str, Any] = {}
    for name in STAGES:
        directory = target / name
        if name not in enabled:
            outcomes[name] = StageOutcome("off")
            if only is None and (directory / STAGE_FILE).is_file():
                shutil.rmtree(directory)  # an earlier run's results of a stage now off
            continue
        if name not in needed:
            record = _finished(directory, keys[name])
            outcomes[name] = (
                StageOutcome("reused", lines=record.get("lines", []))
                if record
                else StageOutcome("skipped", "not selected by --only")
            )
            continue
        missing = [n for n in STAGES[name] if n not in results]
        if missing:
            failed = [n for n in missing if outcomes[n].status in ("failed", "skipped")]
            outcomes[name] = StageOutcome("skipped", f"needs {', '.join(failed or missing)}")
            report(f"stage {name} skipped: it needs {', '.join(failed or missing)}")
            continue
        record = _finished(directory, keys[name])
        reuse = record is not None and (resume or name not in wanted)
        try:
            if reuse:
                report(f"stage {name}: unchanged since its last run, reused")
                outcomes[name] = StageOutcome("reused", lines=record.get("lines", []))
                if any(name in STAGES[later] for later in needed):
                    results[name] = _reuse(name, directory, prepared, results)
                continue
            result = compute_stage(name, prepared, results, report)
            lines = stage_lines(name, result)
            with atomic_output_dir(directory) as staging:
                write_stage(name, result, staging, config, prepared.inputs, figures=draw)
                if not (staging / OUTPUT_MARKER).is_file():
                    write_json(
                        run_metadata(config.to_dict(), config.run.seed, stage=name),
                        staging / OUTPUT_MARKER,
                    )
                write_json({"stage": name, "key": keys[name], "lines": lines}, staging / STAGE_FILE)
            results[name] = result
            outcomes[name] = StageOutcome("done", lines=lines)
        except BayesCCDError as error:
            outcomes[name] = StageOutcome("failed", str(error))
            report(f"stage {name} failed: {error}")
    summary = _summary(prepared, outcomes)
    _write_text(target / "summary.md", summary.to_markdown(level=1))
    meta = run_metadata(
        config.to_dict(),
        config.run.seed,
        synthetic_data=prepared.inputs.synthetic,
        weights=prepared.inputs.weights.summary(),
        stages={n: {"status": o.status, "reason": o.reason} for n, o in outcomes.items()},
    )
    write_json(meta, target / OUTPUT_MARKER)
    return RunReport(target, outcomes, summary)


def _open_run_directory(target: Path, protect: Sequence[str | Path]) -> None:
    """Refuse a run directory that cannot be used; create it (respecting the umask)."""
    try:
        check_output_target(target, protect)
        blocking = next((p for p in (target, *target.parents) if p.is_file()), None)
        if blocking is not None:
            raise NotADirectoryError(20, f"{blocking} is a file, not a directory")
        target.mkdir(parents=True, exist_ok=True)
        if not (target / OUTPUT_MARKER).is_file():  # marks the directory as ours at once
            write_json(run_metadata(), target / OUTPUT_MARKER)
    except OSError as error:
        raise OutputError(
            f"output directory {target} cannot be created ({error.strerror or error}); "
            "choose a directory you can write to"
        ) from None


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary sibling (never a half-written file)."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(name, 0o666 & ~_mask())
    os.replace(name, path)


def _mask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _summary(prepared: Prepared, outcomes: dict[str, StageOutcome]) -> Summary:
    """``summary.md`` of a run: what ran on what, each stage's lines or what became of it."""
    config, inputs = prepared.config, prepared.inputs
    panel = inputs.panel
    sections = {}
    for name, outcome in outcomes.items():
        if outcome.status == "off":
            continue
        lines = list(outcome.lines)
        if outcome.status == "reused":
            lines.append("(unchanged since the last run: reused)")
        elif outcome.status in ("failed", "skipped"):
            lines = [f"{outcome.status.upper()}: {outcome.reason}"]
        sections[SECTION_TITLES[name]] = lines
    return Summary(
        title=f"bayes_ccd run '{config.run.name}'",
        facts=run_facts(config, inputs),
        sections=sections,
        notice=panel.notice,
    )
