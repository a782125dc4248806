"""``bayes-ccd explore``: kernel densities, Moran's I and maps of the coordination degree.

The settings flags default to ``None`` and are filled from
:class:`~bayes_ccd.settings.ExploreSettings` (their help texts, defaults and choices
come from there too); numpy, pandas, matplotlib and esda are imported in :func:`run`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bayes_ccd.cli.common import input_paths, progress, split_list
from bayes_ccd.settings import DataSettings, ExploreSettings, RunSettings, WeightsSettings

NAME = "explore"
HELP = "kernel density evolution, global and local Moran's I and maps of the coordination degree"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the flags of ``bayes-ccd explore``.

    Parameters
    ----------
    parser
        The command's parser.
    """
    settings = ExploreSettings
    parser.add_argument(
        "--ccd",
        required=True,
        type=Path,
        help="coupling coordination table (ccd.csv of the ccd stage)",
    )
    parser.add_argument(
        "--unit", default="unit", help="unit column of the table (default unit, as in ccd.csv)"
    )
    parser.add_argument(
        "--time",
        default="period",
        help="period column of the table (default period, as in ccd.csv)",
    )
    parser.add_argument(
        "--weights",
        required=True,
        help="spatial weights: square CSV, edge list CSV, GAL, bundled:province-contiguity, "
        "or a builder: contiguity:2, knn:6, inverse-distance[:power=2,cutoff=1000], "
        "distance-band:800, economic:<explored variable>",
    )
    parser.add_argument("--coordinates", default=None, help=WeightsSettings.describe("coordinates"))
    parser.add_argument("--contiguity", default=None, help=WeightsSettings.describe("contiguity"))
    parser.add_argument(
        "--regions",
        type=Path,
        default=None,
        help="CSV with columns unit,region (default: the region column of the ccd table, if any)",
    )
    parser.add_argument(
        "--variables",
        type=split_list,
        default=None,
        help=f"comma-separated {settings.describe('variables')}",
    )
    parser.add_argument(
        "--years",
        type=split_list,
        default=None,
        # The default is an empty list, which describe() would show as "(default )".
        help=f"comma-separated {settings.rule('years').help}",
    )
    parser.add_argument(
        "--permutations", type=int, default=None, help=settings.describe("permutations")
    )
    parser.add_argument("--seed", type=int, default=None, help=RunSettings.describe("seed"))
    parser.add_argument("--bandwidth", default=None, help=settings.describe("bandwidth"))
    parser.add_argument(
        "--significance",
        type=float,
        default=None,
        help=f"{settings.describe('significance')}; the permutations must be able to reach it",
    )
    parser.add_argument(
        "--alternative",
        choices=settings.rule("alternative").choices,
        default=None,
        help=f"{settings.describe('alternative')}; the smallest attainable p-value is "
        "3/(permutations+1) two-sided and 1/(permutations+1) otherwise; directed is "
        "GeoDa's one-sided value in the observed direction",
    )
    parser.add_argument(
        "--missing",
        choices=DataSettings.rule("missing").choices,
        default=None,
        help=DataSettings.describe("missing"),
    )
    parser.add_argument(
        "--boundary",
        type=Path,
        default=None,
        help=settings.rule("boundary").help,
    )
    parser.add_argument("--boundary-id", default=None, help=settings.rule("boundary_id").help)
    parser.add_argument(
        "--maps",
        choices=settings.rule("maps").choices,
        default=None,
        help=settings.describe("maps"),
    )
    parser.add_argument(
        "--hk-macao-taiwan",
        choices=settings.rule("hk_macao_taiwan").choices,
        default=None,
        help=settings.describe("hk_macao_taiwan"),
    )
    parser.add_argument("--pdf", action="store_true", default=None, help=settings.rule("pdf").help)
    parser.add_argument(
        "--no-figures",
        action="store_true",
        help="write the tables and metadata.json only, no figures",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")


def run(args: argparse.Namespace) -> int:
    """Explore the coupling coordination table and write the stage's outputs.

    Parameters
    ----------
    args
        The parsed flags.

    Returns
    -------
    int
        The exit code (0).
    """
    from bayes_ccd.data.builders import weights_from_settings
    from bayes_ccd.data.regions import read_regions
    from bayes_ccd.exceptions import ConfigError
    from bayes_ccd.exploration.stage import explore, read_ccd
    from bayes_ccd.report.output import atomic_output_dir
    from bayes_ccd.report.tables import to_markdown

    try:
        years = None if args.years is None else [int(y) for y in args.years]
    except ValueError:
        raise ConfigError(
            f"--years must be comma-separated integers, not {','.join(args.years)}"
        ) from None
    # Unset flags (None) keep the defaults; the settings validate every value given.
    settings = ExploreSettings().replace(
        variables=args.variables,
        years=years,
        permutations=args.permutations,
        bandwidth=args.bandwidth,
        significance=args.significance,
        alternative=args.alternative,
        boundary=None if args.boundary is None else str(args.boundary),
        boundary_id=args.boundary_id,
        maps=args.maps,
        hk_macao_taiwan=args.hk_macao_taiwan,
        pdf=args.pdf,
    )
    seed = RunSettings().replace(seed=args.seed).seed  # validated like [run] seed
    missing = DataSettings().replace(missing=args.missing).missing
    from bayes_ccd.report.output import check_output_early

    check_output_early(args.out, input_paths(args))
    progress(f"reading {args.ccd}")
    panel, ccd_regions = read_ccd(
        args.ccd, settings.variables, missing=missing, unit=args.unit, time=args.time
    )
    # Validated like [weights]: a builder specification's kind, keys and values.
    weights_settings = WeightsSettings().replace(
        source=args.weights, coordinates=args.coordinates, contiguity=args.contiguity
    )
    weights = weights_from_settings(weights_settings, panel, boundary_id=settings.boundary_id)
    regions = ccd_regions if args.regions is None else read_regions(args.regions)
    inputs = {
        "ccd": str(args.ccd),
        "weights": str(args.weights),
        "regions": None if args.regions is None else str(args.regions),
        "missing": missing,
    }
    with atomic_output_dir(args.out, protect=input_paths(args)) as staging:
        result = explore(panel, weights, regions, seed=seed, progress=progress, settings=settings)
        progress("writing tables" if args.no_figures else "writing tables and figures")
        result.write(staging, figures=not args.no_figures, metadata={"inputs": inputs})
    headline = result.headline_variable
    print((args.out / f"moran_{headline}.md").read_text(encoding="utf-8"))
    counts = result.cluster_counts
    print(to_markdown(counts[counts["variable"] == headline], index=False))
    for reason in result.skipped:
        print(reason)
    if len(panel.filled):
        print(
            f"{len(panel.filled)} missing cell(s) filled by linear interpolation (filled_cells.csv)"
        )
    print(f"Results written to {args.out}/")
    return 0
