"""What the benchmark scripts share: test spatial weights of a given size and a
timer that also traces peak memory. Imported as ``_common`` (the scripts run from this
folder, which Python puts first on ``sys.path``)."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from libpysal.weights import lat2W

from bayes_ccd.data.weights import SpatialWeights, from_dense, province_contiguity

#: Rook lattices (rows, columns) standing in for N regions other than the 31 provinces.
LATTICES = {100: (10, 10), 300: (15, 20), 1000: (25, 40), 3000: (50, 60)}


def weights_for(n: int) -> SpatialWeights:
    """Province contiguity for 31, else a row-standardised rook lattice of n cells."""
    if n == 31:
        return province_contiguity()
    rows, cols = LATTICES[n]
    return from_dense(lat2W(rows, cols).full()[0], [f"c{i}" for i in range(n)])


def measured(step: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``step``; return its value, seconds and traced peak memory (MiB)."""
    tracemalloc.start()
    start = time.perf_counter()
    value = step()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, seconds, peak / 2**20
