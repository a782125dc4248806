"""``bayes-ccd run``: the whole analysis described by a TOML configuration."""

from __future__ import annotations

import argparse
from pathlib import Path

from bayes_ccd.cli.common import progress

NAME = "run"
HELP = "run the whole analysis described by a TOML configuration"
#: The stages of a run (as in bayes_ccd.pipeline.STAGES, which imports pandas).
STAGE_NAMES = (
    "ccd",
    "explore",
    "mle",
    "bayes",
    "compare",
    "model_choice",
    "dea",
    "qca",
    "qca_robustness",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``bayes-ccd run``."""
    parser.add_argument(
        "config",
        nargs="?",
        default=None,
        help="run configuration (TOML); default: the bundled demo, models/demo.toml "
        "(SYNTHETIC data)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default: <run.output_dir>/<run.name>)",
    )
    parser.add_argument(
        "--no-figures",
        dest="figures",
        action="store_const",
        const=False,
        default=None,
        help="write the tables only (default: [run] figures of the configuration, true)",
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="check every stage's inputs and settings, compute nothing long, write nothing",
    )
    parser.add_argument(
        "--only",
        metavar="STAGES",
        default=None,
        help=f"run only these comma-separated stages ({','.join(STAGE_NAMES)}); stages they "
        "need are reused when unchanged, else run too",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="reuse the stages of the output directory whose inputs and settings are unchanged",
    )


def run(args: argparse.Namespace) -> int:
    """Validate, run every enabled stage writing each as it finishes, print the summary."""
    import time

    from bayes_ccd.config import bundled_models_dir, load_run_config
    from bayes_ccd.exceptions import BayesCCDError
    from bayes_ccd.pipeline import enabled_stages
    from bayes_ccd.runner import parse_stages, run_stages, validate_run

    config_path = Path(args.config) if args.config else bundled_models_dir() / "demo.toml"
    config = load_run_config(config_path)
    only = None if args.only is None else parse_stages(args.only)
    if args.validate:
        start = time.perf_counter()
        progress(f"checking the inputs and settings of run '{config.run.name}'")
        validate_run(config)
        print(
            f"{config_path}: valid; stages on: {', '.join(enabled_stages(config))} "
            f"(checked in {time.perf_counter() - start:.1f} s)"
        )
        return 0
    report = run_stages(
        config, args.out, only=only, resume=args.resume, figures=args.figures, progress=progress
    )
    print(report.summary.to_markdown(level=1))
    print(f"Results written to {report.target}/")
    if report.failed:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in report.failed.items())
        kept = [n for n, o in report.outcomes.items() if o.status in ("done", "reused")]
        raise BayesCCDError(
            f"stage(s) {', '.join(report.failed)} failed ({reasons}); the results of "
            f"{', '.join(kept) or 'no stage'} are kept in {report.target}/"
        )
    return 0
