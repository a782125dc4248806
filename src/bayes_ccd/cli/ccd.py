"""``bayes-ccd ccd``: entropy weights and the coupling coordination degree of a panel."""

from __future__ import annotations

import argparse
from pathlib import Path

from bayes_ccd.cli.common import add_setting, input_paths, progress, settings_from
from bayes_ccd.settings import CouplingSettings, DataSettings, EntropySettings

NAME = "ccd"
HELP = "entropy weights and coupling coordination degree of a panel"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``bayes-ccd ccd``."""
    parser.add_argument("--data", required=True, type=Path, help="long panel CSV")
    parser.add_argument(
        "--indicators",
        required=True,
        type=Path,
        help="indicator system TOML (e.g. models/indicators.toml)",
    )
    parser.add_argument("--unit", required=True, help="unit column of the panel")
    parser.add_argument("--time", required=True, help="period column of the panel")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    add_setting(parser, DataSettings, "missing")
    add_setting(parser, DataSettings, "gaps")
    add_setting(parser, EntropySettings, "scope")
    add_setting(parser, EntropySettings, "shift")
    for name in ("alpha", "beta", "formula"):
        add_setting(parser, CouplingSettings, name)
    parser.add_argument(
        "--regions",
        type=Path,
        default=None,
        help="CSV with columns unit,region (default: the bundled "
        "east/central/west provinces, when the units are provinces)",
    )


def run(args: argparse.Namespace) -> int:
    """Compute and write the coupling stage; print its headline lines."""
    entropy = settings_from(args, EntropySettings)
    coupling = settings_from(args, CouplingSettings)
    missing = DataSettings.default("missing") if args.missing is None else args.missing
    DataSettings().replace(missing=missing)

    from bayes_ccd.data.panel import read_panel
    from bayes_ccd.data.regions import read_regions
    from bayes_ccd.indices.ccd import ccd
    from bayes_ccd.indices.indicators import read_indicator_system
    from bayes_ccd.pipeline import units_regions
    from bayes_ccd.report.output import atomic_output_dir, run_metadata, write_json

    system = read_indicator_system(args.indicators)
    from bayes_ccd.report.output import check_output_early

    check_output_early(args.out, input_paths(args))
    progress(f"reading {args.data}")
    panel = read_panel(
        args.data,
        unit=args.unit,
        time=args.time,
        columns=system.indicator_columns,
        missing=missing,
        gaps=settings_from(args, DataSettings, fields=("gaps",)).gaps,
    )
    regions = units_regions(panel, read_regions(args.regions))
    progress("entropy weights and coupling coordination degree")
    result = ccd(panel, system, regions=regions, entropy=entropy, coupling=coupling)
    config = {
        "entropy": entropy.to_dict(),
        "coupling": coupling.to_dict(),
        "data": str(args.data),
        "indicators": str(args.indicators),
    }
    with atomic_output_dir(args.out, protect=input_paths(args)) as staging:
        result.write(staging)
        write_json(run_metadata(config), staging / "metadata.json")
    print("\n".join(result.summary().lines))
    print(f"Results written to {args.out}/")
    return 0
