"""``bayes-ccd compare-models``: SAR, SEM, SDM, SDEM and SLX compared on a run's panel."""

from __future__ import annotations

import argparse
from pathlib import Path

from bayes_ccd.cli.common import add_setting, input_paths, progress, settings_from, split_list
from bayes_ccd.settings import BayesSettings, ModelChoiceSettings, RunSettings

NAME = "compare-models"
HELP = (
    "compare SAR, SEM, SDM, SDEM and SLX on the panel of a run configuration: log marginal "
    "likelihoods and posterior model probabilities, exact leave-one-out, and the MLE's "
    "LM/LR/Wald tests side by side"
)


def _weights(text: str) -> list[float]:
    return [float(value) for value in split_list(text)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``bayes-ccd compare-models``."""
    parser.add_argument(
        "config",
        nargs="?",
        default=None,
        help="run configuration (TOML) whose data, indicators, weights and [regression] "
        "model are used; default: the bundled demo (SYNTHETIC data)",
    )
    add_setting(parser, ModelChoiceSettings, "models")
    add_setting(parser, ModelChoiceSettings, "prior")
    parser.add_argument(
        "--prior-weights",
        type=_weights,
        default=None,
        help="prior model probabilities, comma-separated, one per model (default: equal)",
    )
    by_region = parser.add_mutually_exclusive_group()
    by_region.add_argument(
        "--by-region",
        dest="by_region",
        action="store_const",
        const=True,
        default=None,
        help="also compare within each region (default: [regression] by_region)",
    )
    by_region.add_argument(
        "--national-only",
        dest="by_region",
        action="store_const",
        const=False,
        help="compare on the whole sample only",
    )
    for name in ("draws", "chains", "grid_size"):
        add_setting(parser, BayesSettings, name)
    add_setting(parser, RunSettings, "seed")
    parser.add_argument(
        "--no-figures", dest="figures", action="store_false", help="write the tables only"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default: <run.output_dir>/<run.name>/model_choice)",
    )


def run(args: argparse.Namespace) -> int:
    """Read the run's inputs, compare the models, write the table, figure and metadata."""
    from bayes_ccd.config import bundled_models_dir, load_run_config
    from bayes_ccd.pipeline import run as run_analysis
    from bayes_ccd.report.output import atomic_output_dir, run_metadata

    config_path = Path(args.config) if args.config else bundled_models_dir() / "demo.toml"
    config = load_run_config(config_path)
    choice = settings_from(
        args, ModelChoiceSettings, config.model_choice, fields=("models", "prior", "prior_weights")
    ).replace(enabled=True)
    off = {
        name: getattr(config, name).replace(enabled=False)
        for name in ("explore", "mle", "bayes", "dea", "qca")
    }
    off["bayes"] = settings_from(
        args, BayesSettings, off["bayes"], fields=("draws", "chains", "grid_size")
    )
    config = config.replace(
        **off,
        model_choice=choice,
        regression=config.regression.replace(by_region=args.by_region),
        run=settings_from(args, RunSettings, config.run, fields=("seed",)),
    )
    result = run_analysis(config, progress=progress)
    comparison = result.model_choice
    assert comparison is not None  # enabled above
    target = args.out or Path(config.run.output_dir) / config.run.name / "model_choice"
    metadata = run_metadata(
        config.to_dict(),
        config.run.seed,
        stage="model_choice",
        synthetic_data=result.inputs.synthetic,
    )
    with atomic_output_dir(target, protect=input_paths(args)) as staging:
        comparison.write(staging, figures=args.figures, metadata=metadata)
    if result.inputs.panel.notice:
        print(result.inputs.panel.notice)
    print(comparison.summary().to_markdown(level=1))
    print(f"Results written to {target}/")
    return 0
