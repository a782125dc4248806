"""Time and peak memory of exact Boolean minimisation for fsQCA (4 to 12 conditions).

Each run is :func:`bayes_ccd.qca.minimise.minimise`: Quine-McCluskey on bitsets, then
enumeration of every minimum cover of the prime implicant chart (capped at
``QCASettings.max_models`` tied models, within ``QCASettings.max_nodes`` search nodes).

Truth tables are random and seeded, in three regimes:

* ``limited``: the limited diversity of real fsQCA data. ``min(2**k, 64)`` observed
  configurations (as from 30-100 cases) are drawn at random, each positive with
  probability 1/2; every other row is a remainder. This is the regime of the seed paper
  (31 provinces, 4-6 conditions) and of the teaching data sets.
* ``dense``: every row coded at random, positive with probability 0.3, negative 0.3
  and remainder 0.4 (the textbook random truth table).
* ``coded``: every row observed and coded, positive with probability 0.3 and negative
  otherwise, so there are no remainders and the conservative and parsimonious solutions
  coincide (only the conservative one is timed). About 150 positive rows at k = 9: the
  case that used to run for more than ten minutes.

For every k the conservative (no remainders) and the parsimonious (remainders as
don't-cares) solution are timed; the table reports the median and maximum seconds over
the replications, the median number of prime implicants and minimal models (``cap``
when enumeration reached the cap), the largest number of search nodes spent (or
``budget`` when a run stopped at ``QCASettings.max_nodes``) and the peak memory traced by
``tracemalloc`` (Python and NumPy allocations) in a second, separate run (tracing slows
Python code down, so it is kept out of the timings).

A last section times the whole analysis, :func:`bayes_ccd.qca.solutions.fsqca` with
directional expectations (truth table, three solutions, fit of every model), on fuzzy
data in which each of the 2**9 rows of a 9-condition truth table holds three cases.

Usage: ``python benchmarks/bench_configurations.py [--reps N] [--max-k K]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

from bayes_ccd.conventions import DEFAULT_SEED
from bayes_ccd.exceptions import EstimationError, NumericalWarning
from bayes_ccd.qca.minimise import BooleanSolution, minimise
from bayes_ccd.qca.solutions import fsqca
from bayes_ccd.qca.truth_table import truth_table
from bayes_ccd.settings import QCASettings

LIMITED_OBSERVED = 64
#: Largest k of the regimes in which every row is coded (their charts grow with 2**k).
DENSE_MAX_K = 10
END_TO_END_K = 9
CASES_PER_ROW = 3


def random_table(
    k: int, regime: str, rng: np.random.Generator
) -> tuple[list[int], list[int], list[int]]:
    """(positive, negative, remainder) row codes of one random truth table."""
    n = 1 << k
    if regime == "limited":
        observed = rng.choice(n, size=min(n, LIMITED_OBSERVED), replace=False)
        positive = observed[rng.random(observed.size) < 0.5]
    elif regime == "dense":
        draw = rng.random(n)
        observed = np.flatnonzero(draw < 0.6)
        positive = np.flatnonzero(draw < 0.3)
    else:
        observed = np.arange(n)
        positive = np.flatnonzero(rng.random(n) < 0.3)
    negative = np.setdiff1d(observed, positive)
    remainders = np.setdiff1d(np.arange(n), observed)
    return positive.tolist(), negative.tolist(), remainders.tolist()


def minimise_quietly(positive: list[int], free: list[int], k: int) -> BooleanSolution:
    """Minimise with the default cap and budget, without the cap's warning."""
    with warnings.catch_warnings():
        # Hitting the model cap is reported in the table ("cap"), not as a warning.
        warnings.simplefilter("ignore", NumericalWarning)
        return minimise(positive, free, k)


def measure(
    positive: list[int], free: list[int], k: int
) -> tuple[float, int, int, bool, int | None, float]:
    """Time one minimisation and trace its memory in a second run.

    Returns
    -------
    tuple
        Seconds, prime implicants, models, whether capped, nodes (None: budget spent)
        and peak MiB.
    """
    start = time.perf_counter()
    try:
        solution = minimise_quietly(positive, free, k)
    except EstimationError:
        return time.perf_counter() - start, 0, 0, False, None, float("nan")
    seconds = time.perf_counter() - start
    tracemalloc.start()
    minimise_quietly(positive, free, k)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return (
        seconds,
        len(solution.prime_implicants),
        len(solution.models),
        solution.truncated,
        solution.nodes,
        peak,
    )


def fuzzy_cases(k: int, rng: np.random.Generator) -> tuple[pd.DataFrame, list[str]]:
    """Draw memberships of ``CASES_PER_ROW`` cases in every row of a k-condition table.

    Rows are consistent with the outcome with probability 0.3.
    """
    n = 1 << k
    positive = rng.random(n) < 0.3
    codes = np.repeat(np.arange(n), CASES_PER_ROW)
    bits = (codes[:, None] >> np.arange(k - 1, -1, -1)) & 1
    strength = rng.uniform(0.8, 1.0, size=bits.shape).round(2)
    x = np.where(bits == 1, strength, 1.0 - strength)
    y = np.where(
        positive[codes], rng.uniform(0.8, 1.0, codes.size), rng.uniform(0.0, 0.2, codes.size)
    ).round(2)
    names = [f"C{j}" for j in range(k)]
    data = pd.DataFrame(
        np.column_stack([x, y]),
        columns=[*names, "Y"],
        index=[f"case{i}" for i in range(codes.size)],
    )
    return data, names


def end_to_end(rng: np.random.Generator) -> None:
    """Time :func:`fsqca` on fuzzy cases in every row of a 9-condition truth table."""
    data, names = fuzzy_cases(END_TO_END_K, rng)
    # Every row's raw consistency is high (a minimum over 9 memberships is small for the
    # cases of other rows), so the cut-off is the 70th percentile: 30% positive rows.
    # Only the raw consistencies are read here, so the default coding does not matter.
    rows = truth_table(data, "Y", names).table["incl"].to_numpy()
    incl_cut = float(np.quantile(rows, 0.7))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)
        result = fsqca(data, "Y", names, incl_cut=incl_cut, dir_exp=names)
    seconds = time.perf_counter() - start
    table = result.truth_table
    counts = ", ".join(f"{name} {len(s.models)}" for name, s in result.solutions.items())
    print(
        f"\nfsqca end to end, k = {END_TO_END_K}, {len(data)} cases, every row coded "
        f"({len(table.positive)} positive, {len(table.negative)} negative, incl_cut "
        f"{incl_cut:.3f}), directional expectations on every condition: "
        f"{seconds:.1f} s; models: {counts}"
    )


def main() -> None:
    """Print the timings of every regime and k, then of the whole analysis."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="tables per k (default 5)")
    parser.add_argument("--max-k", type=int, default=12, help="largest k (default 12)")
    args = parser.parse_args()
    rng = np.random.default_rng(DEFAULT_SEED)
    minimise_quietly([0, 1, 2, 5, 6, 7], [], 3)  # warm-up: lazy imports (scipy.optimize)
    print(
        f"model cap {QCASettings.max_models}; node budget {QCASettings.max_nodes:_}; "
        f"{args.reps} random tables per row; seed {DEFAULT_SEED}"
    )
    header = (
        f"{'regime':8} {'k':>3} {'solution':13} {'median s':>9} {'max s':>8} "
        f"{'PIs':>6} {'models':>7} {'max nodes':>10} {'peak MiB':>9}"
    )
    print(header)
    print("-" * len(header))
    for regime in ("limited", "dense", "coded"):
        top = args.max_k if regime == "limited" else min(args.max_k, DENSE_MAX_K)
        kinds = ("conservative",) if regime == "coded" else ("conservative", "parsimonious")
        for k in range(4, top + 1):
            tables = [random_table(k, regime, rng) for _ in range(args.reps)]
            for kind in kinds:
                runs = [
                    measure(pos, rem if kind == "parsimonious" else [], k) for pos, _, rem in tables
                ]
                seconds = [r[0] for r in runs]
                solved = [r for r in runs if r[4] is not None]
                models = statistics.median(r[2] for r in solved) if solved else 0
                capped = any(r[3] for r in solved)
                nodes = "budget" if len(solved) < len(runs) else f"{max(r[4] for r in solved):_}"
                print(
                    f"{regime:8} {k:>3} {kind:13} {statistics.median(seconds):>9.4f} "
                    f"{max(seconds):>8.3f} "
                    f"{statistics.median(r[1] for r in solved) if solved else 0:>6.0f} "
                    f"{'cap' if capped else f'{models:.0f}':>7} {nodes:>10} "
                    f"{max((r[5] for r in solved), default=float('nan')):>9.1f}",
                    flush=True,
                )
    end_to_end(rng)


if __name__ == "__main__":
    main()
