"""Seconds of the DEA at county scale: 100, 300, 1,000 and 3,000 units (issue 15).

All models of the seed paper's DEA on the units of ``bench_efficiency.random_units``
(4 inputs, 2 outputs on a noisy Cobb-Douglas frontier, seeded): CRS and VRS, each with
its max-slack phase, returns to scale (NIRS) and both Andersen-Petersen
super-efficiencies, input oriented, then the same output oriented. Each size runs in a
fresh process. Printed alongside: the seconds of this DEA before the work of issue 15
and of R's Benchmarking 0.33 doing the same work (input orientation), both as the
issue measured them on this kind of machine.

Usage: ``python benchmarks/bench_dea.py [sizes ...]`` (default 100 300 1000 3000).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings

from bench_efficiency import random_units

from bayes_ccd.efficiency.model import dea

SIZES = (100, 300, 1000, 3000)
#: Wall seconds of R's Benchmarking 0.33 for the same work, input orientation (issue 15).
BENCHMARKING_SECONDS = {100: 0.22, 300: 2.1, 1000: 22.0, 3000: 218.0}
#: Wall seconds of this DEA before issue 15 (one LP per unit), input orientation.
BEFORE_SECONDS = {100: 1.9, 300: 6.2, 1000: 49.0, 3000: 314.0}


def run(n: int) -> dict[str, float]:
    """Wall and CPU seconds of the DEA of ``n`` units in each orientation."""
    inputs, outputs = random_units(n)
    figures: dict[str, float] = {}
    for orientation in ("input", "output"):
        with warnings.catch_warnings():
            # Infeasible VRS super-efficiency of some units is expected, not measured.
            warnings.simplefilter("ignore")
            wall, cpu = time.perf_counter(), time.process_time()
            dea(inputs, outputs, orientation=orientation, rts="both", super_efficiency=True)
            figures[orientation] = time.perf_counter() - wall
            figures[f"{orientation}_cpu"] = time.process_time() - cpu
    return figures


def main(argv: list[str]) -> None:
    """Print the seconds of every size, each measured in a fresh process."""
    if argv[:1] == ["--one"]:
        print(json.dumps(run(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or list(SIZES)
    print(
        "DEA: CRS + VRS with slacks, returns to scale, both super-efficiencies; 4 inputs, 2 outputs"
    )
    print(
        f"{'units':>6} {'input s':>9} {'input cpu':>10} {'output s':>9} {'before s':>9} "
        f"{'R input s':>10}"
    )
    here = os.path.dirname(os.path.abspath(__file__))
    for n in sizes:
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(n)],
            capture_output=True,
            text=True,
            check=True,
            cwd=here,
        )
        r = json.loads(child.stdout)
        before, reference = BEFORE_SECONDS.get(n), BENCHMARKING_SECONDS.get(n)
        shown = "".join(
            f" {value:>{width}.2f}" if value is not None else " " * (width + 1)
            for value, width in ((before, 9), (reference, 10))
        )
        print(
            f"{n:>6} {r['input']:>9.2f} {r['input_cpu']:>10.2f} {r['output']:>9.2f}{shown}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
