"""Build times and errors of the log-determinant methods on kNN graphs.

Usage: python benchmarks/bench_logdet.py [--sizes 3000 10000 100000]

For each N: a row-standardised k = 6 nearest-neighbour W on uniform random points, the
seconds to build each method ("eigen" only up to EIGEN_LIMIT units) and, where the eigen
method ran, the largest absolute error of "sparse-lu" and "chebyshev" against it.
"""

from __future__ import annotations

import argparse
import time
from typing import Final

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from bayes_ccd.spatial.logdet import CHEBYSHEV_RHO_MAX, log_determinant

K: Final = 6
EIGEN_LIMIT: Final = 3_000


def knn_weights(n: int, seed: int = 0) -> sparse.csr_matrix:
    points = np.random.default_rng(seed).random((n, 2))
    _, neighbours = cKDTree(points).query(points, k=K + 1)
    rows = np.repeat(np.arange(n), K)
    return sparse.csr_matrix(
        (np.full(n * K, 1.0 / K), (rows, neighbours[:, 1:].ravel())), shape=(n, n)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[3_000, 10_000, 100_000])
    args = parser.parse_args()
    header = f"{'N':>8} {'method':>10} {'build s':>9} {'max err':>10} {'|rho|<=.9':>10}"
    print(f"{header} {'est. err':>10}  range")
    for n in args.sizes:
        W = knn_weights(n)
        eigen = None
        if n <= EIGEN_LIMIT:
            start = time.perf_counter()
            lam = np.linalg.eigvals(W.toarray())
            real = lam.real[np.abs(lam.imag) < 1e-9]
            bounds = (1.0 / real.min(), 1.0)
            eigen = log_determinant(W, bounds, method="eigen", eigenvalues=lam)
            print(f"{n:>8} {'eigen':>10} {time.perf_counter() - start:>9.2f}")
        else:
            from scipy.sparse.linalg import eigs

            # The smallest real eigenvalue, as the weights module does for large panels.
            smallest = eigs(W, k=1, which="SR", return_eigenvectors=False)
            bounds = (1.0 / float(smallest.real[0]), 1.0)
        ranges = {
            "sparse-lu": np.linspace(bounds[0] + 1e-3, bounds[1] - 1e-3, 201),
            "chebyshev": np.linspace(-CHEBYSHEV_RHO_MAX, CHEBYSHEV_RHO_MAX, 77),
        }
        for method, grid in ranges.items():
            ld = log_determinant(W, bounds, method=method)
            facts = ld.facts()
            error = interior = ""
            if eigen is not None:
                miss = np.abs(ld(grid) - eigen(grid))
                error = f"{miss.max():10.3g}"
                interior = f"{miss[np.abs(grid) <= 0.9].max():10.3g}"
            print(
                f"{n:>8} {method:>10} {facts['seconds']:>9.2f} {error:>10} {interior:>10} "
                f"{facts['max_error']:10.3g}  [{grid[0]:.3f}, {grid[-1]:.3f}]"
            )


if __name__ == "__main__":
    main()
