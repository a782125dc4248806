"""Coverage of the Simar-Wilson (1998) bootstrap intervals on a known frontier.

Two inputs and one output on the CRS frontier ``y = sqrt(x1 x2)``, inputs uniform on
[1, 10], true input efficiency ``exp(-u)`` with ``u`` half-normal (sd 0.3) independent
of the inputs: the homogeneous case the smoothed bootstrap assumes. For each data set
the 95% intervals of :func:`bayes_ccd.dea_bootstrap` (CRS, input orientation) are
checked against the true efficiencies; the data sets are the independent draws (the
units of one data set share its estimated frontier), so the Monte Carlo standard
error is the between-data-set standard deviation over the square root of their
number. ``tests/test_dea_bootstrap.py`` takes its expected coverage from this study
(data seed 7, bootstrap seeds 7000 + i, which the test does not use).

Usage: ``python benchmarks/study_bootstrap_coverage.py [n [data_sets [replications]]]``
(default 100 24 300; about 8 s per data set of 100 units on one core).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from bayes_ccd.efficiency.bootstrap import dea_bootstrap

DATA_SEED = 7


def coverage_rates(n: int, data_sets: int, replications: int) -> np.ndarray:
    """Share of units whose 95% interval covers the true efficiency, per data set."""
    rng = np.random.default_rng(DATA_SEED)
    rates = []
    for trial in range(data_sets):
        x_frontier = rng.uniform(1, 10, size=(n, 2))
        y = np.sqrt(x_frontier.prod(axis=1))[:, None]
        truth = np.exp(-np.abs(rng.normal(0, 0.3, size=n)))
        x = x_frontier / truth[:, None]
        index = pd.Index([f"u{i}" for i in range(n)], name="unit")
        table = dea_bootstrap(
            pd.DataFrame(x, index=index, columns=["x1", "x2"]),
            pd.DataFrame(y, index=index, columns=["y"]),
            rts="crs",
            replications=replications,
            seed=DATA_SEED * 1000 + trial,
        ).table
        covered = (table["lower"] <= truth) & (truth <= table["upper"])
        rates.append(float(covered.mean()))
        print(f"data set {trial}: coverage {rates[-1]:.2f}", flush=True)
    return np.array(rates)


def main(argv: list[str]) -> None:
    """Print each data set's coverage, then the mean and its Monte Carlo error."""
    n, data_sets, replications = ([int(a) for a in argv] + [100, 24, 300][len(argv) :])[:3]
    rates = coverage_rates(n, data_sets, replications)
    se = rates.std(ddof=1) / np.sqrt(len(rates))
    print(
        f"n = {n}, B = {replications}, {data_sets} data sets: coverage {rates.mean():.3f} "
        f"(MC se {se:.3f}; between-data-set sd {rates.std(ddof=1):.3f}; nominal 0.95)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
