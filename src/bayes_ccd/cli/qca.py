"""``bayes-ccd qca``: fuzzy-set qualitative comparative analysis."""

from __future__ import annotations

import argparse
from pathlib import Path

from bayes_ccd.cli.common import add_setting, input_paths, progress, settings_from, split_list
from bayes_ccd.settings import QCASettings

NAME = "qca"
HELP = (
    "fsQCA: calibration, necessity, truth table, "
    "conservative/parsimonious/intermediate solutions and configuration chart"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``bayes-ccd qca`` to ``parser``.

    Options that are settings of ``[qca]`` default to ``None`` and are filled in by
    :meth:`~bayes_ccd.settings.Settings.replace` in :func:`run`; the outcome and the
    conditions name columns of the data file and must be given.
    """
    parser.add_argument("--data", required=True, type=Path, help="CSV with one row per case")
    parser.add_argument("--case", required=True, help="column holding the case names")
    parser.add_argument(
        "--outcome", required=True, help="outcome column; ~COLUMN analyses its negation"
    )
    parser.add_argument(
        "--conditions", required=True, type=split_list, help="comma-separated condition columns"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--calibrate",
        metavar="FILE|percentiles",
        help="calibrate raw values by Ragin's direct method: 'percentiles' uses the "
        "95th/50th/5th sample percentiles of every column as full membership/"
        "crossover/full non-membership; FILE is a CSV with header "
        "'column,full,crossover,non' (or a TOML file with one [column] table of "
        "full, crossover, non) giving numbers or percentiles such as p95; full < "
        "non makes a decreasing set; unlisted columns must already be memberships",
    )
    source.add_argument(
        "--calibrated", action="store_true", help="the columns are already memberships in [0, 1]"
    )
    for name in ("incl_cut", "n_cut", "pri_cut"):
        add_setting(parser, QCASettings, name)
    add_setting(
        parser,
        QCASettings,
        "dir_exp",
        help=f"{QCASettings.rule('dir_exp').help}, for the intermediate solution; "
        "unlisted conditions carry no expectation",
    )
    for name in ("half_membership", "criterion", "max_models"):
        add_setting(parser, QCASettings, name)
    add_setting(
        parser,
        QCASettings,
        "max_nodes",
        help=QCASettings.describe("max_nodes")
        + "; when it runs out the command stops with an error instead of searching on",
    )
    add_setting(parser, QCASettings, "max_seconds")
    add_setting(parser, QCASettings, "log_odds")
    add_setting(
        parser,
        QCASettings,
        "robustness",
        help="also test the robustness of the solution (Oana-Schneider 2021): re-run over "
        "anchors moved by --robustness-shift of their range and a grid of cut-offs; "
        "writes robustness.{csv,md,tex}, robustness_variants.csv and robustness.png",
    )
    for name in ("robustness_shift", "robustness_solution"):
        add_setting(parser, QCASettings, name)
    parser.add_argument("--pdf", action="store_true", help="also write the chart as PDF")
    parser.add_argument("--out", required=True, type=Path, help="output directory")


def run(args: argparse.Namespace) -> int:
    """Read and calibrate the cases, run fsQCA and write the outputs."""
    from bayes_ccd.exceptions import ConfigError
    from bayes_ccd.qca.calibration import read_anchors, read_cases
    from bayes_ccd.qca.result import solution_lines
    from bayes_ccd.qca.robustness import qca_robustness
    from bayes_ccd.qca.solutions import configuration_analysis
    from bayes_ccd.report.output import atomic_output_dir

    if args.calibrate is None and not args.calibrated:
        raise ConfigError(
            "say whether the data are raw values (--calibrate FILE or "
            "--calibrate percentiles) or already memberships (--calibrated)"
        )
    # An outcome ~Y is the negation of column Y: read and calibrate Y.
    columns = [args.outcome.removeprefix("~").strip(), *args.conditions]
    percentiles = args.calibrate == "percentiles"
    anchors = {}
    if args.calibrate is not None and not percentiles:
        anchors = {c: [a.full, a.crossover, a.non] for c, a in read_anchors(args.calibrate).items()}
        unknown = [c for c in anchors if c not in columns]
        if unknown:
            raise ConfigError(
                f"{args.calibrate}: anchors for {', '.join(unknown)}, which "
                "are neither the outcome nor a condition"
            )
    # --outcome, --conditions and the flags of add_setting carry the settings' names.
    settings = settings_from(args, QCASettings).replace(
        calibration="percentiles" if percentiles else "none", anchors=anchors
    )
    from bayes_ccd.report.output import check_output_early

    check_output_early(args.out, input_paths(args))
    progress(f"reading {args.data}")
    raw = columns if percentiles else list(anchors)
    data = read_cases(
        args.data, args.case, columns, memberships=[c for c in columns if c not in raw]
    )
    progress("truth table and Boolean minimisation")
    result = configuration_analysis(data, settings)
    robustness = None
    if settings.robustness:
        progress("robustness grid of calibrations and cut-offs")
        robustness = qca_robustness(
            data,
            settings,
            shift=settings.robustness_shift,
            solution=settings.robustness_solution,
        )
    with atomic_output_dir(args.out, protect=input_paths(args)) as staging:
        result.write(
            staging,
            config={"data": str(args.data), "case": args.case, "calibrate": args.calibrate},
            pdf=args.pdf,
        )
        if robustness is not None:
            robustness.write(staging, pdf=args.pdf)
    print("\n".join(solution_lines(result)))
    if robustness is not None:
        print("\n".join(robustness.headline_lines()))
    print(f"Results written to {args.out}/")
    return 0
