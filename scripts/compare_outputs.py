"""Compare the CSV tables of two bayes_ccd output directories, number by number.

Usage: python scripts/compare_outputs.py BEFORE AFTER

Every CSV file present in BEFORE must exist in AFTER with the same header, the same
rows and the same cells: text cells equal, numeric cells equal exactly (the refactors
this guards must not change a single number). Files only in AFTER are listed (new
outputs are allowed). Exits 1 when anything differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd


def compare(before: Path, after: Path) -> list[str]:
    problems = []
    old = {p.relative_to(before) for p in before.rglob("*.csv")}
    new = {p.relative_to(after) for p in after.rglob("*.csv")}
    for missing in sorted(old - new):
        problems.append(f"missing in {after}: {missing}")
    for path in sorted(old & new):
        a = pd.read_csv(before / path, dtype=str, keep_default_na=False)
        b = pd.read_csv(after / path, dtype=str, keep_default_na=False)
        if list(a.columns) != list(b.columns) or a.shape != b.shape:
            problems.append(
                f"{path}: columns/shape {list(a.columns)} {a.shape} -> {list(b.columns)} {b.shape}"
            )
            continue
        differ = a.to_numpy() != b.to_numpy()
        if differ.any():
            x = pd.to_numeric(a.to_numpy()[differ], errors="coerce")
            y = pd.to_numeric(b.to_numpy()[differ], errors="coerce")
            gap = np.nanmax(np.abs(x - y)) if np.isfinite(x).any() else float("nan")
            problems.append(f"{path}: {int(differ.sum())} cells differ (max abs gap {gap:.3g})")
    extra = sorted(new - old)
    if extra:
        print("new CSV files:", ", ".join(map(str, extra)))
    print(f"compared {len(old & new)} CSV files")
    return problems


if __name__ == "__main__":
    found = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(found) or "every CSV cell is identical")
    sys.exit(1 if found else 0)
