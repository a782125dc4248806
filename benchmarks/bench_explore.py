"""Benchmark of the exploration stage against the number of units N.

For N in 31 (the provinces, synthetic demo CCD table), 300 and 3000 (rook lattices,
spatially smooth random values), prints the seconds spent on the kernel density
evolution (12 periods, one variable), the global Moran's I of one cross-section with
999 permutations, and the local Moran's I (LISA) of one cross-section with 999
conditional permutations, and the peak memory traced by ``tracemalloc``. The first LISA
call of a process also pays esda's numba compilation, reported separately.

Run: ``.venv/bin/python benchmarks/bench_explore.py [N ...]``. Not a test: it prints figures.
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np
import pandas as pd
from _common import weights_for

from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exploration.density import kernel_density_evolution
from bayes_ccd.exploration.moran import global_moran, local_moran

SIZES = (31, 300, 3000)
PERIODS = range(2012, 2024)
SEED = 20240601


def case(n: int) -> tuple[SpatialWeights, pd.DataFrame]:
    """Build the weights and a long table of one smooth variable ``D`` over 12 periods."""
    weights = weights_for(n)
    rng = np.random.default_rng(SEED)
    base = np.linalg.solve(np.eye(n) - 0.6 * weights.dense, rng.standard_normal(n))
    frame = pd.DataFrame(
        {
            "unit": np.repeat(list(weights.units), len(PERIODS)),
            "period": np.tile(list(PERIODS), n),
            "D": np.repeat(base, len(PERIODS)) + 0.1 * rng.standard_normal(n * len(PERIODS)),
        }
    )
    return weights, frame


def timed(step, *args, **kwargs) -> float:
    """Return the seconds ``step(*args, **kwargs)`` takes."""
    start = time.perf_counter()
    step(*args, **kwargs)
    return time.perf_counter() - start


def main(sizes: tuple[int, ...]) -> None:
    """Print the timings and peak memory of each size in ``sizes``."""
    warm, frame = case(31)
    values = frame[frame["period"] == 2012].set_index("unit")["D"]
    compile_s = timed(local_moran, values, warm, permutations=99, seed=SEED)
    print(f"esda numba compilation (first LISA call of the process): {compile_s:.1f} s")
    print(
        f"{'N':>6} {'KDE 12 periods (s)':>19} {'global Moran (s)':>17} {'LISA (s)':>9} "
        f"{'peak MiB':>9}"
    )
    for n in sizes:
        weights, frame = case(n)
        cross_section = frame[frame["period"] == 2012].set_index("unit")["D"]
        tracemalloc.start()
        kde = timed(kernel_density_evolution, frame, ["D"])
        moran = timed(global_moran, cross_section, weights, permutations=999, seed=SEED)
        lisa = timed(local_moran, cross_section, weights, permutations=999, seed=SEED)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{n:>6} {kde:>19.3f} {moran:>17.3f} {lisa:>9.3f} {peak:>9.1f}")


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
