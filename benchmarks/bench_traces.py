"""Traces of W^k for large-N effects: seconds and accuracy.

k = 6 nearest-neighbour weights (row-standardised) over uniformly random points. For each
N: seconds of ``trace_powers`` (one run) (order TRACE_ORDER, TRACE_PROBES probes) and of the
multipliers for 4,000 draws of rho (best of 5). At N = 3,000 also the largest error of ``a`` and
``b`` against the exact dense inverse at rho in {0.2, 0.5, 0.8}, with the reported
standard errors beside it.

    python benchmarks/bench_traces.py
    python benchmarks/bench_traces.py --sizes 3000 10000 100000 300000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from bayes_ccd.spatial.traces import TRACE_ORDER, TRACE_PROBES, TraceSpectrum, trace_powers

SIZES = (3_000, 10_000, 100_000)
K = 6
DRAWS = 4_000
DENSE_MAX = 3_000
CHECK_RHOS = (0.2, 0.5, 0.8)


def knn_weights(n: int, k: int = K, seed: int = 0) -> sp.csr_matrix:
    """Row-standardised k-nearest-neighbour weights of ``n`` uniform points."""
    points = np.random.default_rng(seed).random((n, 2))
    _, idx = cKDTree(points).query(points, k + 1)
    rows = np.repeat(np.arange(n), k)
    return sp.csr_matrix((np.full(n * k, 1.0 / k), (rows, idx[:, 1:].ravel())), shape=(n, n))


def timed(step, repeats: int = 5) -> float:
    """Best of ``repeats`` wall-clock seconds (the machine may be shared)."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best


def dense_errors(W: sp.csr_matrix, spec: TraceSpectrum) -> list[str]:
    """Lines comparing a, b with the dense inverse."""
    dense = W.toarray()
    n = dense.shape[0]
    lines = []
    for rho in CHECK_RHOS:
        A = np.linalg.inv(np.eye(n) - rho * dense)
        truth = np.array([np.trace(A), np.trace(dense @ A)]) / n
        err = np.abs(spec.multipliers(rho)[:2] - truth)
        se = spec.standard_errors(rho)[:2]
        bound = spec.truncation_bound(rho)
        lines.append(
            f"  rho={rho:.1f}  a={truth[0]:.6f} |err a|={err[0]:.2e} (se {se[0]:.2e})  "
            f"b={truth[1]:.6f} |err b|={err[1]:.2e} (se {se[1]:.2e})  trunc<={bound:.1e}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    args = parser.parse_args()
    rho = np.random.default_rng(1).uniform(-0.5, 0.95, DRAWS)
    print(f"order {TRACE_ORDER}, probes {TRACE_PROBES}, k = {K}, {DRAWS} draws of rho")
    print(f"{'N':>9} {'nnz':>9} {'traces s':>9} {'mult ms':>8} {'deriv ms':>9} {'se ms':>7}")
    for n in args.sizes:
        W = knn_weights(n)
        estimate = trace_powers(W)
        spec = TraceSpectrum(estimate, row_stochastic=True)
        mult = timed(lambda spec=spec: spec.multipliers(rho))
        deriv = timed(lambda spec=spec: spec.multipliers(rho, derivative=True))
        se = timed(lambda spec=spec: spec.standard_errors(rho))
        print(
            f"{n:>9} {W.nnz:>9} {estimate.seconds:>9.2f} {1e3 * mult:>8.2f} "
            f"{1e3 * deriv:>9.2f} {1e3 * se:>7.2f}"
        )
        if n <= DENSE_MAX:
            print("\n".join(dense_errors(W, spec)))


if __name__ == "__main__":
    main()
