"""``bayes-ccd compare``: two fits of the same data and model, side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from bayes_ccd.cli.common import input_paths, progress

NAME = "compare"
HELP = (
    "two fits side by side (posterior vs MLE, posterior vs posterior, MLE vs MLE): "
    "estimates, intervals, shifts and forest plots of two fit output directories"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``bayes-ccd compare``."""
    parser.add_argument(
        "fits",
        nargs="*",
        type=Path,
        metavar="FIT",
        help="two output directories of `bayes-ccd fit`, by any estimators (the first is "
        "the reference the second's shift is measured against; same data, weights, model "
        "and fixed effects: checked)",
    )
    parser.add_argument(
        "--mle",
        type=Path,
        help="instead of FIT FIT: the output directory of `bayes-ccd fit --estimator mle`",
    )
    parser.add_argument(
        "--bayes",
        type=Path,
        help="with --mle: the output directory of `bayes-ccd fit --estimator bayes`",
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

    named = {k: getattr(args, k) for k in ("mle", "bayes") if getattr(args, k) is not None}
    if named and (args.fits or len(named) != 2):
        raise ConfigError("give two fit directories, either as FIT FIT or as --mle DIR --bayes DIR")
    if not named and len(args.fits) != 2:
        raise ConfigError(
            f"give two fit directories to compare (FIT FIT), got {len(args.fits)}; "
            "or --mle DIR --bayes DIR"
        )
    paths = list(named.values()) or list(args.fits)
    check_output_early(args.out, input_paths(args))
    progress(f"reading {paths[0]} and {paths[1]}")
    fits = [as_collection(load(path)) for path in paths]
    for kind, fit in zip(named, fits, strict=False):
        if fit.estimator != kind:
            raise ConfigError(
                f"expected an MLE fit and a Bayesian fit: --{kind} {named[kind]} holds "
                f"a {fit.estimator} fit"
            )
    comparison = compare(*fits, force=args.force)
    config = {"first": str(paths[0]), "second": str(paths[1]), "force": args.force}
    if named:
        config = {"mle": str(args.mle), "bayes": str(args.bayes), "force": args.force}
    with atomic_output_dir(args.out, protect=input_paths(args)) as staging:
        comparison.write(staging, metadata=run_metadata(config), figures=not args.no_figures)
    print("\n".join(comparison.lines()))
    print(f"Results written to {args.out}/")
    return 0
