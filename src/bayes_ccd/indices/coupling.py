"""Coupling coordination degree of two subsystems and its ten-level classification.

For composite indices ``U1, U2`` in [0, 1] (seed paper, "Coupling coordination degree
model"):

- coupling degree ``C = 2 sqrt(U1 U2) / (U1 + U2)`` (classic form);
- comprehensive development index ``T = alpha U1 + beta U2`` (``alpha = beta = 0.5``);
- coupling coordination degree ``D = sqrt(C T)``.

The classic ``C`` crowds towards 1 (for U1 = 0.2, U2 = 0.8 it is still 0.8), which the
recent literature criticises. The revised coupling degree of Wang, Kong, Ren, Zhi and
Dai (2021, "Misconceptions and revision of the coupling coordination degree model",
*Journal of Natural Resources* 36(3): 793-810) is, for two systems,
``C = sqrt((1 - |U1 - U2|) * min(U1, U2) / max(U1, U2))``; choose it with
``formula="revised"``.

When ``U1 = U2 = 0`` neither subsystem has developed and ``C`` is 0/0; it is defined as
0 (no coupling), so that ``D = 0``.

The ten levels split [0, 1] into steps of 0.1, each interval closed below and open
above (``D = 1`` belongs to the top level): extreme imbalance, serious imbalance,
moderate imbalance, mild imbalance, on the verge of imbalance, barely coordinated,
primary, intermediate, good and quality coordination.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from bayes_ccd.conventions import PERIOD, REGION, UNIT
from bayes_ccd.settings import CouplingSettings

Formula = Literal["classic", "revised"]

#: The ten coordination levels, ``(level, lower bound, label)``.
COORDINATION_LEVELS: tuple[tuple[int, float, str], ...] = (
    (1, 0.0, "extreme imbalance"),
    (2, 0.1, "serious imbalance"),
    (3, 0.2, "moderate imbalance"),
    (4, 0.3, "mild imbalance"),
    (5, 0.4, "on the verge of imbalance"),
    (6, 0.5, "barely coordinated"),
    (7, 0.6, "primary coordination"),
    (8, 0.7, "intermediate coordination"),
    (9, 0.8, "good coordination"),
    (10, 0.9, "quality coordination"),
)


def _check_unit_interval(name: str, values: np.ndarray) -> None:
    if np.any(~np.isfinite(values)) or np.any(values < 0) or np.any(values > 1):
        raise ValueError(f"{name} must lie in [0, 1]")


def coupling_degree(
    u1: np.ndarray, u2: np.ndarray, formula: Formula = CouplingSettings.formula
) -> np.ndarray:
    """Coupling degree ``C`` of two subsystems (see module docstring).

    Parameters
    ----------
    u1, u2
        Composite indices in [0, 1], broadcastable arrays.
    formula
        ``"classic"`` ``2 sqrt(U1 U2)/(U1 + U2)`` or ``"revised"`` (Wang et al. 2021).
    """
    u1, u2 = np.broadcast_arrays(np.asarray(u1, dtype=float), np.asarray(u2, dtype=float))
    _check_unit_interval("U1", u1)
    _check_unit_interval("U2", u2)
    total = u1 + u2
    if formula == "classic":
        return np.divide(2.0 * np.sqrt(u1 * u2), total, out=np.zeros_like(total), where=total > 0)
    if formula == "revised":
        ratio = np.divide(
            np.minimum(u1, u2), np.maximum(u1, u2), out=np.zeros_like(total), where=total > 0
        )
        return np.sqrt((1.0 - np.abs(u1 - u2)) * ratio)
    raise ValueError(f"unknown coupling formula {formula!r}; use 'classic' or 'revised'")


def coordination_index(
    u1: np.ndarray,
    u2: np.ndarray,
    alpha: float = CouplingSettings.alpha,
    beta: float = CouplingSettings.beta,
) -> np.ndarray:
    """Comprehensive development index ``T = alpha U1 + beta U2``, ``alpha + beta = 1``."""
    if alpha < 0 or beta < 0 or not np.isclose(alpha + beta, 1.0):
        raise ValueError(f"alpha and beta must be non-negative and sum to 1, got {alpha}, {beta}")
    return alpha * np.asarray(u1, dtype=float) + beta * np.asarray(u2, dtype=float)


def coupling_coordination_degree(
    u1: np.ndarray,
    u2: np.ndarray,
    *,
    alpha: float = CouplingSettings.alpha,
    beta: float = CouplingSettings.beta,
    formula: Formula = CouplingSettings.formula,
) -> dict[str, np.ndarray]:
    """``C``, ``T`` and ``D = sqrt(C T)`` of two subsystems.

    Returns
    -------
    dict
        Arrays ``C``, ``T``, ``D`` of the broadcast shape of ``u1`` and ``u2``.
    """
    c = coupling_degree(u1, u2, formula)
    t = coordination_index(u1, u2, alpha, beta)
    return {"C": c, "T": t, "D": np.sqrt(c * t)}


def coordination_level(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Level (1-10) and label of each coupling coordination degree ``D`` in [0, 1]."""
    d = np.asarray(d, dtype=float)
    _check_unit_interval("D", d)
    bounds = np.array([lower for _, lower, _ in COORDINATION_LEVELS])
    index = np.searchsorted(bounds, d, side="right") - 1
    labels = np.array([label for _, _, label in COORDINATION_LEVELS], dtype=object)
    return index + 1, labels[index]


def levels_table() -> pd.DataFrame:
    """Return the ten-level classification as a table: level, interval and label."""
    rows = []
    for k, (level, lower, label) in enumerate(COORDINATION_LEVELS):
        upper = COORDINATION_LEVELS[k + 1][1] if k + 1 < len(COORDINATION_LEVELS) else 1.0
        closing = "]" if upper == 1.0 else ")"
        rows.append(
            {"level": level, "interval": f"[{lower:.1f}, {upper:.1f}{closing}", "label": label}
        )
    return pd.DataFrame(rows)


def ccd_table(
    indices: pd.DataFrame,
    *,
    alpha: float = CouplingSettings.alpha,
    beta: float = CouplingSettings.beta,
    formula: Formula = CouplingSettings.formula,
    regions: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per unit-period: ``unit, period, [region,] U1, U2, C, T, D, level, label``.

    Parameters
    ----------
    indices
        Table with ``unit``, ``period``, ``U1`` and ``U2``.
    regions
        Optional ``unit -> region`` Series; adds a ``region`` column.
    """
    out = indices[[UNIT, PERIOD, "U1", "U2"]].copy()
    if regions is not None:
        out.insert(2, REGION, out[UNIT].map(regions).to_numpy())
    parts = coupling_coordination_degree(
        out["U1"].to_numpy(), out["U2"].to_numpy(), alpha=alpha, beta=beta, formula=formula
    )
    for name, values in parts.items():
        out[name] = values
    out["level"], out["label"] = coordination_level(out["D"].to_numpy())
    return out


def ccd_by_period(ccd: pd.DataFrame, value: str = "D") -> pd.DataFrame:
    """Tabulate ``value`` by unit and period (the seed paper's Table 4).

    Units are in the order of ``ccd``, with the mean of each period in a last row.
    """
    wide = ccd.pivot(index=UNIT, columns=PERIOD, values=value)
    wide = wide.loc[list(dict.fromkeys(ccd[UNIT]))]
    wide.loc["mean"] = wide.mean(axis=0)
    wide.columns = [str(c) for c in wide.columns]
    return wide
