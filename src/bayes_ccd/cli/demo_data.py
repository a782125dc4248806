"""``bayes-ccd demo-data``: write the SYNTHETIC demo panel to a CSV file."""

from __future__ import annotations

import argparse
from pathlib import Path

from bayes_ccd.cli.common import add_setting
from bayes_ccd.settings import RunSettings

NAME = "demo-data"
HELP = "write the SYNTHETIC demo panel (seeded generator) to a CSV file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``bayes-ccd demo-data``."""
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="CSV file to write (its metadata goes to <stem>.meta.json)",
    )
    add_setting(
        parser,
        RunSettings,
        "seed",
        help="seed of the generator (default: the seed of the bundled file)",
    )


def run(args: argparse.Namespace) -> int:
    """Write the panel and its metadata; refuse to overwrite a file."""
    if args.seed is not None:
        RunSettings().replace(seed=args.seed)
    from bayes_ccd.data.demo import DEMO_SEED, SYNTHETIC_NOTICE, write_demo_panel
    from bayes_ccd.exceptions import OutputError

    if args.out.exists():
        raise OutputError(f"{args.out} exists; choose a new file name")
    path = write_demo_panel(args.out, DEMO_SEED if args.seed is None else args.seed)
    print(f"Wrote {path}. {SYNTHETIC_NOTICE}")
    return 0
