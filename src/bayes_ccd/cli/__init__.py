"""The ``bayes-ccd`` command line: one module per command, wiring the stages together.

Each command module declares ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args)``. Building the parser imports only the command modules and
:mod:`bayes_ccd.settings` (standard library only), so ``bayes-ccd --help`` is fast;
numpy, pandas, matplotlib, esda and PyMC are imported inside ``run`` when a command
needs them. Bad input ends the command with exit code 2 and a one-line reason; nothing
partial is written.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

import bayes_ccd
from bayes_ccd.exceptions import BayesCCDError

#: The command modules, in the order ``--help`` lists them.
COMMANDS = (
    "run",
    "ccd",
    "explore",
    "fit",
    "compare",
    "compare_models",
    "robustness",
    "dea",
    "qca",
    "demo_data",
    "simulate",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``bayes-ccd`` with every command."""
    parser = argparse.ArgumentParser(
        prog="bayes-ccd",
        description=(
            "Coupling coordination of two subsystems across regions and years: entropy "
            "weights, coupling coordination degree, spatial exploration, maximum-likelihood "
            "and Bayesian spatial Durbin panels, DEA and fsQCA."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {bayes_ccd.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"bayes_ccd.cli.{name}")
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def _one_line(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, line=None
) -> str:
    """Format a warning for the terminal: its class and message, no source location."""
    return f"[bayes-ccd] {category.__name__}: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bayes-ccd`` console script."""
    args = build_parser().parse_args(argv)
    # Figures are written to files; never open a window (and import nothing to say so).
    os.environ.setdefault("MPLBACKEND", "Agg")
    # A warning is about the user's input: one line, not the package's file and line.
    previous, warnings.formatwarning = warnings.formatwarning, _one_line
    try:
        return int(args._run(args))
    except BayesCCDError as error:
        print(f"bayes-ccd {args.command}: error: {error}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = previous


if __name__ == "__main__":
    sys.exit(main())
