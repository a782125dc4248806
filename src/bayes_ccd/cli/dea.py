"""``bayes-ccd dea``: DEA efficiency (CCR/BCC, scale, super-efficiency), bootstrap, Malmquist."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from bayes_ccd.cli.common import add_setting, input_paths, progress, split_list
from bayes_ccd.settings import DataSettings, DEASettings, RunSettings

NAME = "dea"
HELP = "DEA efficiency (CCR/BCC, scale, super-efficiency), Simar-Wilson bootstrap, Malmquist index"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``bayes-ccd dea`` to ``parser``.

    Options that are settings of ``[dea]`` (or ``[data] missing``) default to ``None``
    and are filled in by :meth:`~bayes_ccd.settings.Settings.replace` in :func:`run`.
    """
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        help="CSV with one row per unit (or per unit and period)",
    )
    parser.add_argument("--unit", required=True, help="unit column")
    parser.add_argument(
        "--time",
        default=None,
        help="period column; without --year every period is analysed "
        "and the Malmquist index of consecutive periods is added",
    )
    # Not the [dea] year setting: without --year a panel is analysed period by period.
    parser.add_argument("--year", default=None, help="analyse this period only (needs --time)")
    parser.add_argument(
        "--inputs",
        required=True,
        type=split_list,
        help=f"comma-separated {DEASettings.rule('inputs').help}",
    )
    parser.add_argument(
        "--outputs",
        required=True,
        type=split_list,
        help=f"comma-separated {DEASettings.rule('outputs').help}",
    )
    add_setting(parser, DEASettings, "orientation")
    add_setting(parser, DEASettings, "rts")
    add_setting(
        parser,
        DEASettings,
        "super_efficiency",
        "--no-super",
        help="skip Andersen-Petersen super-efficiency",
    )
    add_setting(parser, DEASettings, "bootstrap")
    add_setting(parser, DEASettings, "replications")
    add_setting(
        parser,
        RunSettings,
        "seed",
        help=f"seed of the bootstrap (default {RunSettings.default('seed')})",
    )
    add_setting(
        parser,
        DataSettings,
        "missing",
        help=DataSettings.describe("missing") + "; interpolation needs --time",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")


def run(args: argparse.Namespace) -> int:
    """Read the data, run the DEA (and Malmquist index of a panel) and write the outputs."""
    from bayes_ccd.efficiency.bootstrap import dea_bootstrap
    from bayes_ccd.efficiency.data import read_dea_table
    from bayes_ccd.efficiency.malmquist import malmquist
    from bayes_ccd.efficiency.model import dea, dea_panel
    from bayes_ccd.efficiency.result import Efficiency
    from bayes_ccd.exceptions import ConfigError, DataError
    from bayes_ccd.report.output import atomic_output_dir

    settings = DEASettings().replace(
        orientation=args.orientation,
        rts=args.rts,
        super_efficiency=args.super_efficiency,
        bootstrap=args.bootstrap,
        replications=args.replications,
    )
    seed = RunSettings().replace(seed=args.seed).seed
    missing = DataSettings().replace(missing=args.missing).missing
    if args.year is not None and args.time is None:
        raise ConfigError("--year selects a period of the --time column; give --time too")
    if settings.bootstrap and args.time is not None and args.year is None:
        raise ConfigError("--bootstrap resamples one cross-section: give --year to pick the period")
    from bayes_ccd.report.output import check_output_early

    check_output_early(args.out, input_paths(args))
    progress(f"reading {args.data}")
    data = read_dea_table(
        args.data,
        unit=args.unit,
        inputs=args.inputs,
        outputs=args.outputs,
        time=args.time,
        period=args.year,
        missing=missing,
    )
    table = data.table
    options = {
        "orientation": settings.orientation,
        "rts": settings.rts,
        "super_efficiency": settings.super_efficiency,
    }
    try:
        if args.time is None or args.year is not None:
            rows = table.set_index(args.unit)
            progress(f"DEA of {len(rows)} units")
            period = None if args.year is None else int(args.year)
            result = dea(rows[args.inputs], rows[args.outputs], **options, period=period)
            bootstrap = None
            if settings.bootstrap:
                progress(f"bootstrap ({settings.replications} replications, seed {seed})")
                bootstrap = dea_bootstrap(
                    rows[args.inputs],
                    rows[args.outputs],
                    orientation=settings.orientation,
                    rts=settings.rts,
                    replications=settings.replications,
                    seed=seed,
                    period=period,
                )
            efficiency = Efficiency({period: result}, filled=data.filled, bootstrap=bootstrap)
        else:
            progress(f"DEA of each period of {args.time}")
            panel = dea_panel(
                table,
                unit=args.unit,
                time=args.time,
                inputs=args.inputs,
                outputs=args.outputs,
                **options,
            )
            progress("Malmquist index of consecutive periods")
            index = malmquist(
                table, args.unit, args.time, args.inputs, args.outputs, settings.orientation
            )
            efficiency = dataclasses.replace(panel, malmquist=index, filled=data.filled)
    except DataError as error:
        raise data.locate(error) from None
    with atomic_output_dir(args.out, protect=input_paths(args)) as staging:
        efficiency.write(
            staging,
            config={
                "data": str(args.data),
                "unit": args.unit,
                "time": args.time,
                "year": args.year,
                "missing": missing,
            },
        )
    print(efficiency.markdown_report())
    print(f"Results written to {args.out}/")
    return 0
