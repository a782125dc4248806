"""Tables, JSON and figures of an fsQCA result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_ccd.qca.chart import (
    CHART_NOTES,
    CORE_ABSENT,
    CORE_PRESENT,
    PERIPHERAL_ABSENT,
    PERIPHERAL_PRESENT,
    chart_cells,
    configuration_chart,
    plot_configuration_chart,
)
from bayes_ccd.qca.solutions import Model, QCAResult
from bayes_ccd.qca.truth_table import TruthTable
from bayes_ccd.report.figures import save_figure
from bayes_ccd.report.output import run_metadata, write_json
from bayes_ccd.report.tables import TABLE_FORMATS, to_latex, write_table

# --------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------


_COUNTERFACTUALS = {
    "parsimonious": "simplifying_assumptions",
    "intermediate": "easy_counterfactuals",
}

#: pdfLaTeX forms of the chart symbols (no Unicode, no package beyond LaTeX itself).
LATEX_CHART_SYMBOLS = {
    CORE_PRESENT: r"{\Large$\bullet$}",
    PERIPHERAL_PRESENT: r"$\bullet$",
    CORE_ABSENT: r"{\Large$\otimes$}",
    PERIPHERAL_ABSENT: r"$\otimes$",
}
# ASCII letters that reports.latex_escape leaves alone, swapped for LaTeX afterwards.
_LATEX_PLACEHOLDERS = {
    symbol: f"QCACHARTSYMBOL{i}X" for i, symbol in enumerate(LATEX_CHART_SYMBOLS)
}


def _earlier_twins(models: Sequence[Model]) -> dict[str, str]:
    """``{label: label of the first earlier model with the same expression}``."""
    first: dict[str, str] = {}
    twins = {}
    for model in models:
        if model.expression in first:
            twins[model.label] = first[model.expression]
        else:
            first[model.expression] = model.label
    return twins


def solutions_table(result: QCAResult) -> pd.DataFrame:
    """One row per model of every solution: its expression and fit.

    Columns ``solution``, ``model``, ``derived_from`` (R's ``C{i}P{j}`` pair of an
    intermediate model), ``same_expression_as`` (an earlier intermediate model with the
    same expression but another pair, hence possibly other core conditions),
    ``expression``, ``consistency``, ``PRI`` and ``coverage``.
    """
    records = []
    for name, solution in result.solutions.items():
        twins = _earlier_twins(solution.models)
        for model in solution.models:
            records.append(
                {
                    "solution": name,
                    "model": model.label,
                    "derived_from": model.derived_from,
                    "same_expression_as": twins.get(model.label, ""),
                    "expression": model.expression,
                    "consistency": model.consistency,
                    "PRI": model.pri,
                    "coverage": model.coverage,
                }
            )
    return pd.DataFrame.from_records(
        records,
        columns=[
            "solution",
            "model",
            "derived_from",
            "same_expression_as",
            "expression",
            "consistency",
            "PRI",
            "coverage",
        ],
    )


def _model_dict(model: Model, table: TruthTable, kind: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "label": model.label,
        "expression": model.expression,
        "consistency": model.consistency,
        "pri": model.pri,
        "coverage": model.coverage,
        "terms": [
            {
                "term": t.term,
                "consistency": t.consistency,
                "pri": t.pri,
                "raw_coverage": t.raw_coverage,
                "unique_coverage": t.unique_coverage,
                "cases": list(t.cases),
            }
            for t in model.terms
        ],
    }
    if model.derived_from:
        entry["derived_from"] = model.derived_from
    if kind in _COUNTERFACTUALS:
        entry[_COUNTERFACTUALS[kind]] = [
            {"row": r + 1, "configuration": table.row_label(r)} for r in model.counterfactuals
        ]
    return entry


def result_to_dict(result: QCAResult) -> dict[str, Any]:
    """A JSON-ready description of every model of every solution with its fit.

    Parsimonious models list their ``simplifying_assumptions`` and intermediate models
    their ``easy_counterfactuals`` (truth-table rows numbered as R's QCA package does,
    code + 1), the conservative and parsimonious models they were ``derived_from``
    (``C1P1``, ...), ``same_expression_as`` when an earlier intermediate model (from
    another pair) has the same expression, and their configuration ``chart``
    (core/peripheral conditions, which depend on the pair).
    """
    out: dict[str, Any] = {"config": result.config}
    for name, solution in result.solutions.items():
        twins = _earlier_twins(solution.models)
        models = [_model_dict(m, result.truth_table, name) for m in solution.models]
        for entry in models:
            if entry["label"] in twins:
                entry["same_expression_as"] = twins[entry["label"]]
        out[name] = {
            "prime_implicants": list(solution.prime_implicants),
            "truncated": solution.truncated,
            "models": models,
        }
    for i, entry in enumerate(out["intermediate"]["models"]):
        entry["chart"] = chart_cells(result, i)
    return out


def _joined(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in ("cases", "inconsistent_cases"):
        out[column] = out[column].map(", ".join)
    return out


def configuration_chart_latex(
    result: QCAResult, model: int = 0, *, caption: str | None = None, label: str | None = None
) -> str:
    """The configuration chart as a pdfLaTeX-safe (pure ASCII) booktabs table.

    Symbols as :data:`LATEX_CHART_SYMBOLS`: a large bullet for a core and a small one
    for a peripheral condition present, a large and a small circled times for absence.
    """

    def placeholder(value: object) -> object:
        return _LATEX_PLACEHOLDERS.get(value, value) if isinstance(value, str) else value

    notes = CHART_NOTES
    for symbol, token in _LATEX_PLACEHOLDERS.items():
        notes = notes.replace(symbol, token)
    text = to_latex(
        configuration_chart(result, model).map(placeholder),
        index=True,
        caption=caption,
        label=label,
        notes=notes,
    )
    for symbol, token in _LATEX_PLACEHOLDERS.items():
        text = text.replace(token, LATEX_CHART_SYMBOLS[symbol])
    return text


def solution_lines(result: QCAResult) -> list[str]:
    """One line per model of every solution, for the console and the run summary:
    label (with the C/P pair of an intermediate model), expression, consistency and
    coverage; a solution without models says so."""
    lines = []
    for name, solution in result.solutions.items():
        for model in solution.models:
            pair = f" ({model.derived_from})" if model.derived_from else ""
            lines.append(
                f"{name} {model.label}{pair}: {model.expression} (consistency "
                f"{model.consistency:.3f}, coverage {model.coverage:.3f})"
            )
        if not solution.models:
            lines.append(f"{name}: no configuration passes the cut-offs")
    return lines


def write_qca_outputs(
    result: QCAResult,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = TABLE_FORMATS,
    pdf: bool = False,
    max_charts: int = 10,
    config: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write every fsQCA output into ``out_dir`` (wrap the call in
    :func:`bayes_ccd.report.output.atomic_output_dir` for all-or-nothing writing).

    Files: ``calibrated.csv`` (memberships analysed), ``necessity``, ``truth_table``,
    ``solutions`` (every model with its pair and fit, see :func:`solutions_table`) and
    ``configuration_chart`` tables (CSV, Markdown, LaTeX; the chart's LaTeX uses
    :data:`LATEX_CHART_SYMBOLS`, so it compiles with pdfLaTeX), ``solutions.json``
    (every model of every solution with its fit, see :func:`result_to_dict`),
    ``configuration_chart.png`` (and ``.pdf`` when ``pdf``) and ``metadata.json``.
    With several tied intermediate models the chart files are suffixed ``_M1``,
    ``_M2``, ... for the first ``max_charts`` models; each chart's caption names the
    model's conservative/parsimonious pair (``C1P2``).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = result.truth_table
    written = []
    calibrated = table.data.rename_axis("case").reset_index()
    calibrated.to_csv(out / "calibrated.csv", index=False)
    written.append(out / "calibrated.csv")
    written += write_table(
        result.necessity,
        out,
        "necessity",
        formats=formats,
        caption=f"Analysis of necessity for {table.outcome}",
    )
    written += write_table(
        _joined(table.table),
        out,
        "truth_table",
        formats=formats,
        caption=f"Truth table of {table.outcome} (incl.cut "
        f"{table.incl_cut:g}, n.cut {table.n_cut}, pri.cut "
        f"{table.pri_cut:g})",
    )
    written += write_table(
        solutions_table(result),
        out,
        "solutions",
        formats=formats,
        caption=f"Conservative, parsimonious and intermediate solutions for {table.outcome}",
        notes="derived_from: conservative (C) and parsimonious (P) models of the pair an "
        "intermediate model comes from; same_expression_as: an earlier model with the "
        "same expression from another pair (its core conditions may differ).",
    )
    written.append(write_json(result_to_dict(result), out / "solutions.json"))
    models = result.intermediate.models
    twins = _earlier_twins(models)
    for i in range(min(len(models), max_charts)):
        chosen = models[i]
        single = len(models) == 1
        stem = "configuration_chart" if single else f"configuration_chart_{chosen.label}"
        caption = f"Configurations for {table.outcome}"
        if not single:
            caption += f" (intermediate model {chosen.label}"
            if chosen.derived_from:
                caption += f", from {chosen.derived_from}"
            if chosen.label in twins:
                caption += f"; same expression as {twins[chosen.label]}"
            caption += ")"
        written += write_table(
            configuration_chart(result, i),
            out,
            stem,
            formats=[f for f in formats if f != "tex"],
            index=True,
            caption=caption,
            notes=CHART_NOTES,
        )
        if "tex" in formats:
            path = out / f"{stem}.tex"
            path.write_text(
                configuration_chart_latex(result, i, caption=caption, label=f"tab:{stem}"),
                encoding="utf-8",
            )
            written.append(path)
        written += save_figure(plot_configuration_chart(result, i), out / stem, pdf=pdf)
    settings = {**result.config, **(dict(config) if config else {})}
    written.append(
        write_json(
            run_metadata(
                settings,
                half_membership_cells=[list(c) for c in table.half_membership_cells],
                models={name: len(s.models) for name, s in result.solutions.items()},
            ),
            out / "metadata.json",
        )
    )
    return written
