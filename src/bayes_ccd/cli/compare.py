"""``bayes-ccd compare``: posterior versus maximum likelihood, side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from bayes_ccd.cli.common import input_paths, progress

NAME = "compare"
HELP = (
    "posterior versus maximum likelihood: side-by-side estimates, intervals and "
    "forest plots of two fit output directories"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``bayes-ccd compare``."""
    parser.add_argument(
        "--mle",
        required=True,
        type=Path,
        help="output directory of `bayes-ccd fit --estimator mle`",
    )
    parser.add_argument(
        "--bayes",
        required=True,
        type=Path,
        help="output directory of `bayes-ccd fit --estimator bayes` (same data, weights, "
        "model and fixed effects: checked)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="compare fits on different spatial weights on purpose (said in the tables)",
    )
    parser.add_argument(
        "--no-figures", action="store_true", help="skip the forest plots overlaying both estimates"
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")


def run(args: argparse.Namespace) -> int:
    """Load both fits, refuse fits of different things, write the comparison."""
    from bayes_ccd.exceptions import ConfigError
    from bayes_ccd.report.output import atomic_output_dir, check_output_early, run_metadata
    from bayes_ccd.spatial.compare import compare
    from bayes_ccd.spatial.load import load
    from bayes_ccd.spatial.results import as_collection

    check_output_early(args.out, input_paths(args))
    progress(f"reading {args.mle} and {args.bayes}")
    fits = {"mle": as_collection(load(args.mle)), "bayes": as_collection(load(args.bayes))}
    for kind, fit in fits.items():
        if fit.estimator != kind:
            raise ConfigError(
                f"expected an MLE fit and a Bayesian fit: --{kind} {getattr(args, kind)} holds "
                f"a {fit.estimator} fit"
            )
    comparison = compare(fits["mle"], fits["bayes"], force=args.force)
    config = {"mle": str(args.mle), "bayes": str(args.bayes), "force": args.force}
    with atomic_output_dir(args.out, protect=input_paths(args)) as staging:
        comparison.write(staging, metadata=run_metadata(config), figures=not args.no_figures)
    print("\n".join(comparison.lines()))
    print(f"Results written to {args.out}/")
    return 0
