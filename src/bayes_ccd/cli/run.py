"""``bayes-ccd run``: the whole analysis described by a TOML configuration."""

from __future__ import annotations

import argparse
from pathlib import Path

from bayes_ccd.cli.common import progress

NAME = "run"
HELP = "run the whole analysis described by a TOML configuration"


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


def run(args: argparse.Namespace) -> int:
    """Run every enabled stage, write the run directory and print its summary."""
    from bayes_ccd.config import bundled_models_dir, load_run_config
    from bayes_ccd.pipeline import run as run_analysis

    config_path = Path(args.config) if args.config else bundled_models_dir() / "demo.toml"
    result = run_analysis(load_run_config(config_path), progress=progress)
    progress("writing tables" + (" and figures" if args.figures is not False else ""))
    target = result.write(args.out, figures=args.figures)
    print(result.summary().to_markdown(level=1))
    print(f"Results written to {target}/")
    return 0
