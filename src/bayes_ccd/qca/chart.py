"""The configuration chart of an intermediate solution: core and peripheral conditions
in the notation of Ragin and Fiss (2008) and Fiss (2011).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.exceptions import (
    ConfigError,
)
from bayes_ccd.qca.measures import Implicant
from bayes_ccd.qca.solutions import Model, QCAResult

#: Configuration-chart symbols (Ragin and Fiss 2008; Fiss 2011): large symbols are core
#: conditions, small ones peripheral; a blank cell is a "don't care".
CORE_PRESENT = "●"
PERIPHERAL_PRESENT = "•"
CORE_ABSENT = "⨂"
PERIPHERAL_ABSENT = "⊗"
CHART_NOTES = (
    f"{CORE_PRESENT} core condition present, {PERIPHERAL_PRESENT} peripheral condition "
    f"present, {CORE_ABSENT} core condition absent, {PERIPHERAL_ABSENT} peripheral "
    "condition absent, blank: don't care. Core conditions are part of the parsimonious "
    "solution term that contains the intermediate configuration (Fiss 2011)."
)


# --------------------------------------------------------------------------------------
# Configuration chart (Ragin and Fiss 2008; Fiss 2011)
# --------------------------------------------------------------------------------------

_FIT_ROWS = ("Consistency", "PRI", "Raw coverage", "Unique coverage")
_SOLUTION_ROWS = ("Solution consistency", "Solution PRI", "Solution coverage")


def _core_mask(model: Model, term: Implicant, result: QCAResult) -> int:
    """Mask of the core conditions of an intermediate term (Fiss 2011): the literals of
    the parsimonious terms that contain it.

    Those are the terms of the paired parsimonious model. One pair's minimisation can
    return tied models with a term that straddles them (it lies inside the union of the
    parsimonious model's terms but in none of them); such a term takes its core from the
    parsimonious prime implicants that contain it, of which there is always one: the term
    covers a positive row and assumes only remainders.
    """
    if model.parsimonious_model is None:
        return 0
    paired = result.parsimonious.models[model.parsimonious_model]
    core = _containing_literals(term, paired.implicants)
    if not core:
        core = _containing_literals(term, result.parsimonious_primes)
    return core


def _containing_literals(term: Implicant, candidates: Iterable[Implicant]) -> int:
    """Union of the masks of the ``candidates`` that contain ``term``."""
    value, mask = term
    core = 0
    for p_value, p_mask in candidates:
        if not p_mask & ~mask and (value & p_mask) == p_value:
            core |= p_mask
    return core


def chart_cells(result: QCAResult, model: int = 0) -> list[dict[str, str]]:
    """Per configuration, ``{condition: "core present" | "peripheral present" |
    "core absent" | "peripheral absent"}`` (don't-care conditions omitted)."""
    chosen = result.intermediate.models[model]
    k = len(result.truth_table.conditions)
    cells = []
    for term in chosen.implicants:
        value, mask = term
        core = _core_mask(chosen, term, result)
        column = {}
        for j, name in enumerate(result.truth_table.conditions):
            bit = 1 << (k - 1 - j)
            if mask & bit:
                kind = "core" if core & bit else "peripheral"
                column[name] = f"{kind} {'present' if value & bit else 'absent'}"
        cells.append(column)
    return cells


def configuration_chart(
    result: QCAResult, model: int = 0, *, label_prefix: str = "H"
) -> pd.DataFrame:
    """The configuration chart of one intermediate model (Ragin and Fiss 2008; Fiss 2011).

    Columns are the configurations (``H1``, ``H2``, ...); rows are the conditions, with
    :data:`CORE_PRESENT` / :data:`PERIPHERAL_PRESENT` for presence,
    :data:`CORE_ABSENT` / :data:`PERIPHERAL_ABSENT` for absence and a blank for "don't
    care", followed by the consistency, PRI, raw and unique coverage of each
    configuration and the solution's consistency, PRI and coverage (first column).
    Core conditions are those of the parsimonious term that contains the intermediate
    term; the others are peripheral (Fiss 2011).
    """
    if not 0 <= model < len(result.intermediate.models):
        raise ConfigError(
            f"no intermediate model {model}; there are {len(result.intermediate.models)}"
        )
    chosen = result.intermediate.models[model]
    symbols = {
        "core present": CORE_PRESENT,
        "peripheral present": PERIPHERAL_PRESENT,
        "core absent": CORE_ABSENT,
        "peripheral absent": PERIPHERAL_ABSENT,
    }
    columns = [f"{label_prefix}{i + 1}" for i in range(len(chosen.terms))]
    rows: dict[str, list[object]] = {
        name: [symbols.get(cells.get(name, ""), "") for cells in chart_cells(result, model)]
        for name in result.truth_table.conditions
    }
    rows["Consistency"] = [t.consistency for t in chosen.terms]
    rows["PRI"] = [t.pri for t in chosen.terms]
    rows["Raw coverage"] = [t.raw_coverage for t in chosen.terms]
    rows["Unique coverage"] = [t.unique_coverage for t in chosen.terms]
    blanks = [""] * (len(columns) - 1)
    rows["Solution consistency"] = [chosen.consistency, *blanks]
    rows["Solution PRI"] = [chosen.pri, *blanks]
    rows["Solution coverage"] = [chosen.coverage, *blanks]
    chart = pd.DataFrame.from_dict(rows, orient="index", columns=columns).astype(object)
    chart.index.name = "Condition"
    return chart


def plot_configuration_chart(result: QCAResult, model: int = 0, *, label_prefix: str = "H") -> Any:
    """The configuration chart as a matplotlib figure (large circles: core conditions).

    Filled circles mark presence and crossed circles absence; large symbols are core,
    small ones peripheral conditions. Consistency, PRI, raw and unique coverage of each
    configuration and the solution totals are printed below.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    chart = configuration_chart(result, model, label_prefix=label_prefix)
    cells = chart_cells(result, model)
    conditions = list(result.truth_table.conditions)
    n_cols = chart.shape[1]
    n_rows = len(conditions) + len(_FIT_ROWS) + len(_SOLUTION_ROWS)
    figure = Figure(figsize=(2.6 + 0.7 * n_cols, 0.42 * n_rows + 1.0))
    ax = figure.add_subplot()
    for i, name in enumerate(conditions):
        for c, column in enumerate(cells):
            kind = column.get(name)
            if kind is None:
                continue
            radius = 0.28 if kind.startswith("core") else 0.14
            centre = (c, -i)
            if kind.endswith("present"):
                ax.add_patch(Circle(centre, radius, color="black"))
            else:
                ax.add_patch(Circle(centre, radius, fill=False, color="black", lw=1.2))
                d = radius / np.sqrt(2.0)
                ax.plot([c - d, c + d], [-i - d, -i + d], color="black", lw=1.2)
                ax.plot([c - d, c + d], [-i + d, -i - d], color="black", lw=1.2)
    offset = len(conditions)
    for r, label in enumerate(_FIT_ROWS):
        for c in range(n_cols):
            ax.text(
                c,
                -(offset + r),
                f"{chart.loc[label].iloc[c]:.3f}",
                ha="center",
                va="center",
                fontsize=9,
            )
    offset += len(_FIT_ROWS)
    for r, label in enumerate(_SOLUTION_ROWS):
        ax.text(
            (n_cols - 1) / 2,
            -(offset + r),
            f"{chart.loc[label].iloc[0]:.3f}",
            ha="center",
            va="center",
            fontsize=9,
        )
    labels = [*conditions, *_FIT_ROWS, *_SOLUTION_ROWS]
    ax.set_yticks([-i for i in range(n_rows)], labels)
    ax.set_xticks(range(n_cols), list(chart.columns))
    ax.xaxis.tick_top()
    ax.set_xlim(-0.6, n_cols - 0.4)
    ax.set_ylim(-(n_rows - 0.5), 0.6)
    ax.set_aspect("equal")
    ax.axhline(-(len(conditions) - 0.5), color="grey", lw=0.6)
    ax.axhline(-(len(conditions) + len(_FIT_ROWS) - 0.5), color="grey", lw=0.6)
    for side in ("right", "bottom", "left", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    figure.text(
        0.01,
        0.01,
        "Large: core; small: peripheral; filled: present; crossed: absent; blank: don't care.",
        fontsize=7,
    )
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure
