"""Benchmark of the demo's robustness specifications: in-process versus two workers.

Runs the ``[robustness]`` section of ``models/demo.toml`` (SYNTHETIC demo panel) from
scratch (``restart=True``, a fresh temporary directory) in this process and on a
``LocalCluster`` of two worker processes, and prints the wall time of each, the number
of specifications, the slowest specification and the sum of the fits' own seconds (the
sequential work the workers share). Both runs use the run's seed, so their tables must
be identical; the script checks it.

Run: ``.venv/bin/python benchmarks/bench_robustness.py [--no-student-t]``. Not a test: it
prints figures. ``--no-student-t`` leaves out the NUTS specification, whose compile and
sampling dominate.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import bayes_ccd as bc
from bayes_ccd.config import demo_config


def main() -> None:
    """Run the demo's robustness specifications twice and print the timings."""
    config = demo_config()
    if "--no-student-t" in sys.argv:
        config = dataclasses.replace(config, robustness=config.robustness.replace(errors=[]))
    tables = {}
    print(f"{'where':<22}{'specs':>6}{'wall s':>9}{'sum of fits s':>15}{'slowest':>34}")
    for label, workers in (("in-process", 0), ("2 worker processes", 2)):
        with tempfile.TemporaryDirectory() as directory:
            start = time.perf_counter()
            result = bc.robustness(config, Path(directory) / "out", workers=workers, restart=True)
            wall = time.perf_counter() - start
        specs = result.specifications
        slowest = specs.loc[specs["seconds"].idxmax()]
        print(
            f"{label:<22}{len(specs):>6}{wall:>9.1f}{specs['seconds'].sum():>15.1f}"
            f"{slowest['id'] + f' ({slowest.seconds:.1f} s)':>34}"
        )
        tables[label] = result.table()
    pd.testing.assert_frame_equal(*tables.values())
    print("tables identical: yes")


if __name__ == "__main__":
    main()
