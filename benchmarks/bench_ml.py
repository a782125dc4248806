"""Benchmark of maximum-likelihood spatial panels against the number of units N.

For N in 31 (the provinces), 100, 300, 1000, 3000 (rook lattices) and T = 12 periods,
fits a two-way fixed-effects SDM (Lee-Yu) with two covariates and prints the seconds
spent on the eigenvalues of W (computed once per W), the fit (likelihood maximisation
and information matrix), the LeSage-Pace effects (2000 simulated draws), the
specification tests (N <= 300: six more fits), and the peak memory traced by
``tracemalloc`` (numpy allocations included) plus the process's maximum resident size.

Run: ``.venv/bin/python benchmarks/bench_ml.py [N ...]``. Not a test: it prints figures.
"""

from __future__ import annotations

import resource
import sys

from _common import measured, weights_for

from bayes_ccd.spatial.design import ModelSpec
from bayes_ccd.spatial.ml import fit_ml
from bayes_ccd.spatial.simulate import simulate_panel
from bayes_ccd.spatial.specification import specification_tests

SIZES = (31, 100, 300, 1000, 3000)
N_PERIODS = 12
TESTS_UP_TO = 300


def main(sizes: tuple[int, ...] = SIZES) -> None:
    print(f"ML two-way fixed-effects SDM (Lee-Yu), T = {N_PERIODS}, 2 covariates")
    header = ("N", "eig s", "fit s", "effects s", "tests s", "peak MiB", "maxrss MiB")
    print("{:>6} {:>9} {:>9} {:>10} {:>9} {:>9} {:>11}".format(*header))
    spec = ModelSpec("sdm", "both")
    for n in sizes:
        weights = weights_for(n)
        data = simulate_panel(
            weights, n_periods=N_PERIODS, beta=(1.0, -0.5), theta=(0.5, 0.3), spatial=0.4, seed=1
        )
        _, eig_seconds, eig_peak = measured(lambda w=weights: w.eigenvalues)
        result, fit_seconds, fit_peak = measured(lambda d=data, w=weights: fit_ml(d, w, spec))
        _, effects_seconds, effects_peak = measured(
            lambda r=result: r.effect_estimates(n_draws=2000)
        )
        tests_seconds = float("nan")
        if n <= TESTS_UP_TO:
            _, tests_seconds, _ = measured(lambda r=result: specification_tests(r))
        peak = max(eig_peak, fit_peak, effects_peak)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(
            f"{n:>6} {eig_seconds:>9.3f} {fit_seconds:>9.3f} {effects_seconds:>10.3f} "
            f"{tests_seconds:>9.3f} {peak:>9.1f} {rss:>11.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
