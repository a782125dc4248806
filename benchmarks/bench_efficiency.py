"""Time and peak memory of DEA (CRS + VRS + NIRS + super-efficiency, input oriented).

Data: seeded random units with 4 inputs and 2 outputs, the shape of the seed paper's
healthcare DEA (beds, physicians, nurses, expenditure -> outpatient visits,
discharges). Outputs follow a Cobb-Douglas frontier with half-normal inefficiency, so
the frontier is realistic rather than a cloud of points.

Usage: ``python benchmarks/bench_efficiency.py [sizes ...]`` (default 31 100 300 1000 3000).
Each size runs in a fresh process; peak memory is the growth of its peak resident set
size (``resource.getrusage``) during the DEA, which includes HiGHS's C++ memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

from bayes_ccd.conventions import DEFAULT_SEED
from bayes_ccd.efficiency.model import dea

SIZES = (31, 100, 300, 1000, 3000)
INPUTS = ("beds", "physicians", "nurses", "health_expenditure")
OUTPUTS = ("outpatient_visits", "discharges")


def random_units(n: int, seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` units on a noisy Cobb-Douglas technology (seeded)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(1.0, 10.0, size=(n, len(INPUTS)))
    core = np.prod(x ** np.array([0.3, 0.25, 0.25, 0.1]), axis=1)
    inefficiency = np.exp(-np.abs(rng.normal(0.0, 0.3, size=(n, 1))))
    mix = rng.uniform(0.5, 1.5, size=(n, len(OUTPUTS)))
    y = core[:, None] * inefficiency * mix
    index = pd.Index([f"u{i:04d}" for i in range(n)], name="unit")
    return (
        pd.DataFrame(x, index=index, columns=list(INPUTS)),
        pd.DataFrame(y, index=index, columns=list(OUTPUTS)),
    )


def run(n: int) -> dict[str, float]:
    """Seconds, peak-RSS growth (MiB), CRS-efficient units, VRS-super infeasible units.

    Runs in a fresh process (see :func:`main`), so that ``ru_maxrss`` before and after
    the DEA bounds the memory the DEA itself needed, HiGHS's C++ allocations included.
    """
    inputs, outputs = random_units(n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with warnings.catch_warnings():
        # Small n triggers the rule-of-thumb warning and VRS super-efficiency can be
        # infeasible for some units: expected here, and not what is being measured.
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        result = dea(inputs, outputs, orientation="input", rts="both", super_efficiency=True)
        seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    table = result.efficiency
    return {
        "seconds": seconds,
        "peak_mib": (after - before) / 1024,  # ru_maxrss is in KiB on Linux
        "efficient": int((table["crs"] == 1).sum()),
        "infeasible": int((~table["super_vrs_feasible"]).sum()),
    }


def main(argv: list[str]) -> None:
    """Print the timings of every size, each measured in a fresh process."""
    if argv[:1] == ["--one"]:
        print(json.dumps(run(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or list(SIZES)
    print(
        f"DEA, input oriented, CRS + VRS + NIRS + super-efficiency; "
        f"{len(INPUTS)} inputs, {len(OUTPUTS)} outputs; seed {DEFAULT_SEED}"
    )
    print(
        f"{'units':>6} {'seconds':>9} {'ms/unit':>8} {'peak MiB':>9} {'CRS eff.':>9} "
        f"{'AP infeas.':>10}"
    )
    for n in sizes:
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(child.stdout)
        print(
            f"{n:>6} {r['seconds']:>9.2f} {1000 * r['seconds'] / n:>8.2f} "
            f"{r['peak_mib']:>9.1f} {r['efficient']:>9} {r['infeasible']:>10}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
