"""``bayes-ccd robustness``: the Bayesian model refitted over robustness specifications."""

from __future__ import annotations

import argparse
from pathlib import Path

from bayes_ccd.cli.common import add_setting, progress, settings_from
from bayes_ccd.settings import BayesSettings, RobustnessSettings, RunSettings

NAME = "robustness"
HELP = (
    "refit the Bayesian spatial panel of a run configuration over alternative weights, "
    "priors, errors, fixed effects, models, sub-samples, coupling formulas and entropy "
    "weightings ([robustness]), on Dask; one tidy table, forest figures and a stability "
    "summary; a re-run reuses the finished specifications"
)
#: The alternatives' flags; repeated (``--weights knn:6 --weights contiguity:2``) because
#: a value may itself hold commas (``inverse-distance:power=2,cutoff=1000``).
_LISTS = ("weights", "priors", "errors", "fe", "models", "samples", "coupling", "entropy")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``bayes-ccd robustness``."""
    parser.add_argument(
        "config",
        nargs="?",
        default=None,
        help="run configuration (TOML) with a [robustness] section; default: the bundled "
        "demo (SYNTHETIC data)",
    )
    alternatives = parser.add_argument_group(
        "alternatives (each replaces the configuration's list; repeat the flag for several)"
    )
    for name in _LISTS:
        alternatives.add_argument(
            f"--{name}",
            action="append",
            default=None,
            metavar="VALUE",
            help=RobustnessSettings.rule(name).help,
        )
    add_setting(parser, RobustnessSettings, "design")
    add_setting(parser, RobustnessSettings, "workers")
    add_setting(parser, RobustnessSettings, "scheduler")
    for name in ("draws", "chains"):
        add_setting(parser, BayesSettings, name)
    add_setting(parser, RunSettings, "seed")
    parser.add_argument(
        "--restart",
        action="store_true",
        help="refit every specification, also those the output directory holds already",
    )
    parser.add_argument(
        "--no-figures",
        dest="figures",
        action="store_const",
        const=False,
        default=None,
        help="write the tables only",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory, also the store of finished specifications "
        "(default: <run.output_dir>/<run.name>-robustness)",
    )


def run(args: argparse.Namespace) -> int:
    """Plan, fit (reusing finished specifications) and write the robustness outputs."""
    from bayes_ccd.config import bundled_models_dir, load_run_config
    from bayes_ccd.sensitivity.suite import default_directory, robustness

    config_path = Path(args.config) if args.config else bundled_models_dir() / "demo.toml"
    config = load_run_config(config_path)
    lists = {name: getattr(args, name) for name in _LISTS}
    config = config.replace(
        robustness=config.robustness.replace(**lists),
        bayes=settings_from(args, BayesSettings, config.bayes, fields=("draws", "chains")),
        run=settings_from(args, RunSettings, config.run, fields=("seed",)),
    )
    target = args.out or default_directory(config)
    result = robustness(
        config,
        target,
        design=args.design,
        workers=args.workers,
        scheduler=args.scheduler,
        restart=args.restart,
        figures=args.figures,
        progress=progress,
    )
    print(result.summary().to_markdown(level=1))
    print(f"Results written to {target}/")
    return 1 if result.failed else 0
