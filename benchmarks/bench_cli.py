"""Benchmark of the command line: where the seconds of a whole command go.

On a simulated panel the size of Baltagi's cigarette demand data (46 units x 30 years,
three covariates, two-way SDM, rook contiguity of a 23 x 2 lattice), prints for

- ``bayes-ccd --help``,
- ``bayes-ccd fit --estimator mle`` (effects with 5000 simulated draws, the specification
  tests of Table 6),
- ``bayes-ccd fit --estimator bayes --sampler exact`` with ``--no-figures`` and with
  figures (4 chains x 2000 draws, posterior predictive check),

the whole-process wall time (median of ``--repeats`` runs of the installed
``bayes-ccd``), and the share of the steps of the same command timed one by one in a
fresh process: start-up (imports the command needs and argument parsing; interpreter
start is in the whole-process time only), estimation (reading the files and fitting),
diagnostics (MLE: effects and specification tests; Bayes: convergence statistics,
posterior tables, verdict), figures (drawing and saving) and writing (tables, JSON,
NetCDF). Targets of the library-API issue: ``--help`` under 1 s; the exact-sampler
command within 2x of the MLE command without figures and within 3 s of it with figures.

Run: ``.venv/bin/python benchmarks/bench_cli.py [--repeats 3]``. Not a test: it prints
figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = str(Path(sys.executable).with_name("bayes-ccd"))
N_ROWS, N_COLUMNS, N_PERIODS = 23, 2, 30


def write_panel(directory: Path) -> None:
    """The simulated panel (``panel.csv``) and its weights (``W.csv``)."""
    import numpy as np
    import pandas as pd
    from libpysal.weights import lat2W

    import bayes_ccd as bc

    units = [f"s{i:02d}" for i in range(N_ROWS * N_COLUMNS)]
    matrix = lat2W(N_ROWS, N_COLUMNS).full()[0]
    weights = bc.weights_from_array(matrix, units)
    data = bc.simulate_panel(
        weights,
        n_periods=N_PERIODS,
        beta=(1.0, -0.5, 0.3),
        theta=(0.5, 0.2, 0.0),
        spatial=0.3,
        seed=3,
    )
    frame = pd.DataFrame(
        {
            "state": np.tile(data.units, N_PERIODS),
            "year": np.repeat(np.array(data.periods) + 1960, len(units)),
            "y": data.y.ravel(),
            **{name: data.x[..., k].ravel() for k, name in enumerate(data.x_names)},
        }
    )
    frame.to_csv(directory / "panel.csv", index=False)
    pd.DataFrame(matrix, index=units, columns=units).rename_axis("unit").to_csv(directory / "W.csv")


def fit_args(directory: Path, estimator: str, out: str, *extra: str) -> list[str]:
    return [
        "fit",
        "--data",
        str(directory / "panel.csv"),
        "--unit",
        "state",
        "--time",
        "year",
        "--y",
        "y",
        "--x",
        "x1,x2,x3",
        "--weights",
        str(directory / "W.csv"),
        "--estimator",
        estimator,
        "--out",
        str(directory / out),
        *extra,
    ]


COMMANDS = {
    "--help": lambda d, run: ["--help"],
    "fit mle": lambda d, run: fit_args(d, "mle", f"mle{run}"),
    "fit bayes exact, no figures": lambda d, run: fit_args(
        d, "bayes", f"bayes{run}", "--sampler", "exact", "--no-figures"
    ),
    "fit bayes exact, figures": lambda d, run: fit_args(
        d, "bayes", f"figs{run}", "--sampler", "exact"
    ),
}


def whole_process(directory: Path, name: str, repeats: int) -> float:
    """Median wall seconds of the installed command."""
    times = []
    for run in range(repeats):
        start = time.perf_counter()
        subprocess.run([CLI, *COMMANDS[name](directory, run)], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def phases(directory: str, name: str) -> None:
    """In a fresh process: the steps of one command, timed one by one (JSON on stdout)."""
    start = time.perf_counter()
    out: dict[str, float] = {}
    from bayes_ccd.cli import build_parser

    args = build_parser().parse_args(COMMANDS[name](Path(directory), "p"))
    bayes = args.estimator == "bayes"
    import importlib

    import bayes_ccd as bc
    from bayes_ccd.data.factors import Factor
    from bayes_ccd.report.output import atomic_output_dir

    # Everything the command imports on its way, loaded here so that the steps below
    # time computation only: the estimator, ArviZ's statistics for the diagnostics, and
    # matplotlib and ArviZ's plots for the figures.
    needed = ["bayes_ccd.spatial.model", "bayes_ccd.spatial.mle", "bayes_ccd.spatial.specification"]
    if bayes:
        needed += ["bayes_ccd.spatial.bayes.estimator", "arviz_stats"]
        if args.figures:
            needed += ["matplotlib.pyplot", "arviz_plots"]
    for module in needed:
        importlib.import_module(module)
    out["start-up"] = time.perf_counter() - start

    mark = time.perf_counter()
    panel = bc.read_panel(args.data, unit=args.unit, time=args.time, columns=["y", *args.x])
    weights = bc.read_weights(args.weights)
    model = bc.SpatialPanel(
        data=panel, weights=weights, y="y", x=[Factor(name=c, column=c) for c in args.x]
    )
    fit = model.fit("bayes", sampler="exact") if bayes else model.fit("ml")
    out["estimation"] = time.perf_counter() - mark

    mark = time.perf_counter()
    fit.coefficients(), fit.effects()
    fit.diagnostics() if bayes else fit.tests()
    out["diagnostics"] = time.perf_counter() - mark

    if bayes and args.figures:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        mark = time.perf_counter()
        for stem, figure in fit.figures().items():
            figure.savefig(Path(directory) / f"{stem}.png", dpi=120)
            plt.close(figure)
        out["figures"] = time.perf_counter() - mark

    mark = time.perf_counter()
    with atomic_output_dir(args.out) as staging:
        fit.write(staging, figures=False)
    out["writing"] = time.perf_counter() - mark
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per command (median)")
    parser.add_argument("--phases", nargs=2, metavar=("DIR", "COMMAND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phases:
        phases(*args.phases)
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_panel(directory)
        print(
            f"bayes-ccd on a simulated {N_ROWS * N_COLUMNS} x {N_PERIODS} panel (two-way SDM, "
            f"3 covariates); whole-process median of {args.repeats} runs"
        )
        columns = ("start-up", "estimation", "diagnostics", "figures", "writing")
        print(f"{'command':<30} {'seconds':>8}  " + "  ".join(f"{c:>11}" for c in columns))
        results = {}
        for name in COMMANDS:
            seconds = whole_process(directory, name, args.repeats)
            results[name] = seconds
            if name == "--help":
                shares = {"start-up": 1.0}
            else:
                step = subprocess.run(
                    [sys.executable, __file__, "--phases", tmp, name],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                timed = json.loads(step.stdout.strip().splitlines()[-1])
                total = sum(timed.values())
                shares = {k: v / total for k, v in timed.items()}
            cells = [f"{100 * shares[c]:>10.0f}%" if c in shares else f"{'-':>11}" for c in columns]
            print(f"{name:<30} {seconds:>8.2f}  " + "  ".join(cells), flush=True)
        mle = results["fit mle"]
        print(
            f"exact/MLE without figures: {results['fit bayes exact, no figures'] / mle:.2f}x "
            f"(target <= 2); with figures: +{results['fit bayes exact, figures'] - mle:.2f} s "
            f"(target <= 3); --help {results['--help']:.2f} s (target < 1)"
        )


if __name__ == "__main__":
    main()
