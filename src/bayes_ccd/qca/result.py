"""What fsQCA returns, and its tables, configuration charts, summary and files.

:func:`~bayes_ccd.qca.solutions.solve` (and :func:`~bayes_ccd.qca.solutions.fsqca`,
:func:`~bayes_ccd.qca.solutions.configuration_analysis`) return a :class:`QCAResult`:
the truth table, the analysis of necessity and the conservative, parsimonious and
intermediate :class:`Solution`, each with every tied :class:`Model` and the fit of its
terms (:class:`TermFit`). :meth:`QCAResult.summary` gives a
:class:`~bayes_ccd.report.summary.Summary`, :meth:`QCAResult.write` the files. The
configuration chart (:func:`configuration_chart`, :func:`plot_configuration_chart`)
follows Ragin and Fiss (2008) and Fiss (2011): core and peripheral conditions of each
intermediate configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.exceptions import ConfigError
from bayes_ccd.qca.measures import Implicant
from bayes_ccd.qca.truth_table import TruthTable
from bayes_ccd.report.figures import save_figure, stamp_notice
from bayes_ccd.report.output import run_metadata, write_json
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import TABLE_FORMATS, to_latex, write_table


@dataclass(frozen=True)
class TermFit:
    r"""One term (sufficient configuration) of a model with its parameters of fit.

    ``unique_coverage`` is the coverage lost when the term is dropped from the model:
    :math:`\mathrm{cov}(S) - \mathrm{cov}(S \setminus T)` (Ragin 2008, ch. 3); NaN (not
    applicable) when the term is the model's only one.
    ``cases`` have membership above 0.5 in the term.
    """

    term: str
    implicant: Implicant
    consistency: float
    pri: float
    raw_coverage: float
    unique_coverage: float
    cases: tuple[str, ...]


@dataclass(frozen=True)
class Model:
    """One minimal model (sum of terms) of a solution and its fit.

    Attributes
    ----------
    label
        ``M1``, ``M2``, ... within its solution.
    expression
        The model, e.g. ``DEV*~IND + URB*STB``.
    terms
        Per-term fit.
    consistency, pri, coverage
        Of the whole model (membership = maximum over terms).
    counterfactuals
        Remainder codes the model assumes to be sufficient: the simplifying assumptions
        of a parsimonious model, the easy counterfactuals of an intermediate one.
    conservative_model, parsimonious_model
        For intermediate models: indices of the conservative and parsimonious models
        they were derived from (R's ``C1P1`` labels are ``C{i+1}P{j+1}``).
    pairs
        For intermediate models: every ``(conservative, parsimonious)`` pair of indices
        that gives the model (see :attr:`pair_labels`).
    """

    label: str
    implicants: tuple[Implicant, ...]
    expression: str
    terms: tuple[TermFit, ...]
    consistency: float
    pri: float
    coverage: float
    counterfactuals: tuple[int, ...] = ()
    conservative_model: int | None = None
    parsimonious_model: int | None = None
    pairs: tuple[tuple[int, int], ...] = ()

    @property
    def pair_labels(self) -> str:
        """Every ``C{i}P{j}`` pair that gives this intermediate model, as R lists them.

        Pairs of other conservative models with the same parsimonious model often give
        the same model; it is kept once, with all its pairs (``"C1P1, C2P1"``).
        """
        if not self.pairs:
            return self.derived_from
        return ", ".join(f"C{c + 1}P{p + 1}" for c, p in self.pairs)

    @property
    def derived_from(self) -> str:
        """R's ``C{i}P{j}`` label of the pair an intermediate model comes from.

        The conservative and parsimonious models are numbered from 1; ``""`` for the
        models of the other solutions.
        """
        if self.conservative_model is None or self.parsimonious_model is None:
            return ""
        return f"C{self.conservative_model + 1}P{self.parsimonious_model + 1}"


@dataclass(frozen=True)
class Solution:
    """The conservative, parsimonious or intermediate solution: every tied model."""

    kind: str
    prime_implicants: tuple[str, ...]
    models: tuple[Model, ...]
    truncated: bool = False


@dataclass(frozen=True)
class QCAResult:
    """Everything an fsQCA run produces; see :func:`~bayes_ccd.qca.solutions.solve`.

    Attributes
    ----------
    truth_table
        The coded truth table and the memberships analysed.
    necessity
        The analysis of necessity of each condition and its negation.
    conservative, parsimonious, intermediate
        The three solutions, each with every tied model.
    directional_expectations
        The intermediate solution's directional expectations in R's notation, one
        conjunction each (``("DEV", "~IND", "~LIT*IND")``).
    config
        The configuration that produced the result (cut-offs, expectations, treatment
        of 0.5, criterion, and from
        :func:`~bayes_ccd.qca.solutions.configuration_analysis` the calibration
        anchors used), saved with the outputs.
    parsimonious_primes
        The prime implicants of the parsimonious solution as implicants (they decide
        core conditions).
    """

    truth_table: TruthTable
    necessity: pd.DataFrame
    conservative: Solution
    parsimonious: Solution
    intermediate: Solution
    directional_expectations: tuple[str, ...]
    config: dict[str, Any] = field(default_factory=dict)
    parsimonious_primes: tuple[Implicant, ...] = ()

    @property
    def solutions(self) -> dict[str, Solution]:
        """The three solutions by name."""
        return {
            "conservative": self.conservative,
            "parsimonious": self.parsimonious,
            "intermediate": self.intermediate,
        }

    def design_line(self) -> str:
        """Return one sentence on the analysis: outcome, conditions, cases and cut-offs."""
        table = self.truth_table
        year = self.config.get("year")
        cases = f"{len(table.data)} cases" if year is None else f"{year}, {len(table.data)} cases"
        return (
            f"Outcome {table.outcome} ({cases}), conditions {', '.join(table.conditions)}; "
            f"consistency cut-off {table.incl_cut:g}, PRI cut-off {table.pri_cut:g}."
        )

    def summary(self) -> Summary:
        """Return the summary: the design, one line per model, the truth table and models.

        Returns
        -------
        Summary
            Facts (outcome, conditions, cases, cut-offs, rows by coding, models per
            solution), lines (:meth:`design_line`, then :func:`solution_lines`) and the
            truth table and solutions tables.
        """
        table = self.truth_table
        facts: dict[str, Any] = {
            "Outcome": table.outcome,
            "Conditions": list(table.conditions),
            "Cases": len(table.data),
            "Consistency cut-off (incl_cut)": table.incl_cut,
            "Frequency cut-off (n_cut)": table.n_cut,
            "PRI cut-off (pri_cut)": table.pri_cut,
            "Truth table rows": f"{len(table.positive)} positive, {len(table.negative)} "
            f"negative, {len(table.remainders)} remainders",
            "Directional expectations": list(self.directional_expectations),
            "Models": ", ".join(f"{len(s.models)} {name}" for name, s in self.solutions.items()),
        }
        return Summary(
            f"fsQCA of {table.outcome}",
            facts=facts,
            lines=[self.design_line(), *solution_lines(self)],
            tables=[
                SummaryTable(_joined(table.table), caption=_truth_table_caption(table)),
                SummaryTable(solutions_table(self), caption=_solutions_caption(table)),
            ],
        )

    def write(
        self,
        directory: str | Path,
        *,
        formats: Sequence[str] = TABLE_FORMATS,
        pdf: bool = False,
        max_charts: int = 10,
        config: Mapping[str, Any] | None = None,
        notice: str = "",
    ) -> list[Path]:
        """Write every fsQCA output into ``directory``.

        Files: ``calibrated.csv`` (memberships analysed), ``necessity``,
        ``truth_table``, ``solutions`` (every model with its pair and fit, see
        :func:`solutions_table`) and ``configuration_chart`` tables (CSV, Markdown,
        LaTeX; the chart's LaTeX uses :data:`LATEX_CHART_SYMBOLS`, so it compiles with
        pdfLaTeX), ``solutions.json`` (every model of every solution with its fit, see
        :func:`result_to_dict`), ``configuration_chart.png`` (and ``.pdf`` when
        ``pdf``) and ``metadata.json``. With several tied intermediate models the chart
        files are suffixed ``_M1``, ``_M2``, ... for the first ``max_charts`` models;
        each chart's caption names the model's conservative/parsimonious pair
        (``C1P2``). Wrap the call in :func:`bayes_ccd.report.output.atomic_output_dir`
        for all-or-nothing writing.

        Parameters
        ----------
        directory
            Where to write (created if needed).
        formats
            Table formats among ``csv``, ``md`` and ``tex``.
        pdf
            Also write the charts as PDF.
        max_charts
            Charts of at most this many tied intermediate models.
        config
            Extra configuration recorded in ``metadata.json``, over :attr:`config`.
        notice
            What the figures must say about the data (the synthetic demo panel), at
            their foot.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        table = self.truth_table
        written = []
        calibrated = table.data.rename_axis("case").reset_index()
        calibrated.to_csv(out / "calibrated.csv", index=False)
        written.append(out / "calibrated.csv")
        written += write_table(
            self.necessity,
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
            caption=_truth_table_caption(table),
        )
        written += write_table(
            solutions_table(self),
            out,
            "solutions",
            formats=formats,
            caption=_solutions_caption(table),
            notes="derived_from: conservative (C) and parsimonious (P) models of the pair an "
            "intermediate model comes from; same_expression_as: an earlier model with the "
            "same expression from another pair (its core conditions may differ).",
        )
        written.append(write_json(result_to_dict(self), out / "solutions.json"))
        for i in range(min(len(self.intermediate.models), max_charts)):
            written += self._write_chart(out, i, formats, pdf, notice)
        settings = {**self.config, **(dict(config) if config else {})}
        written.append(
            write_json(
                run_metadata(
                    settings,
                    half_membership_cells=[list(c) for c in table.half_membership_cells],
                    models={name: len(s.models) for name, s in self.solutions.items()},
                ),
                out / "metadata.json",
            )
        )
        return written

    def _write_chart(
        self, out: Path, model: int, formats: Sequence[str], pdf: bool, notice: str
    ) -> list[Path]:
        """Write the chart of one intermediate model as tables and a figure."""
        models = self.intermediate.models
        chosen = models[model]
        twins = _earlier_twins(models)
        single = len(models) == 1
        stem = "configuration_chart" if single else f"configuration_chart_{chosen.label}"
        caption = f"Configurations for {self.truth_table.outcome}"
        if not single:
            caption += f" (intermediate model {chosen.label}"
            if chosen.derived_from:
                caption += f", from {chosen.derived_from}"
            if chosen.label in twins:
                caption += f"; same expression as {twins[chosen.label]}"
            caption += ")"
        written = write_table(
            configuration_chart(self, model),
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
                configuration_chart_latex(self, model, caption=caption, label=f"tab:{stem}"),
                encoding="utf-8",
            )
            written.append(path)
        figure = stamp_notice(plot_configuration_chart(self, model), notice)
        written += save_figure(figure, out / stem, pdf=pdf)
        return written


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
    """Return the mask of the core conditions of an intermediate term (Fiss 2011).

    The core conditions are the literals of the parsimonious terms that contain it.

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
    """Return the kind of each condition of each configuration of an intermediate model.

    Parameters
    ----------
    result
        The fsQCA result.
    model
        Index of the intermediate model.

    Returns
    -------
    list of dict
        Per configuration, ``{condition: "core present" | "peripheral present" |
        "core absent" | "peripheral absent"}`` (don't-care conditions omitted).
    """
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
    """Return the configuration chart of one intermediate model (Ragin and Fiss 2008).

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
    """Draw the configuration chart as a matplotlib figure (large circles: core conditions).

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
    intermediate model), ``pairs`` (every pair that gives it), ``same_expression_as``
    (an earlier intermediate model with the same expression but another parsimonious
    model, hence possibly other core conditions),
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
                    "pairs": model.pair_labels,
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
            "pairs",
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
        entry["pairs"] = model.pair_labels.split(", ")
    if kind in _COUNTERFACTUALS:
        entry[_COUNTERFACTUALS[kind]] = [
            {"row": r + 1, "configuration": table.row_label(r)} for r in model.counterfactuals
        ]
    return entry


def result_to_dict(result: QCAResult) -> dict[str, Any]:
    """Describe every model of every solution with its fit, ready for JSON.

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
    """Write the configuration chart as a pdfLaTeX-safe (pure ASCII) booktabs table.

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


#: Models per solution that :func:`solution_lines` prints; the rest are counted.
SHOWN_MODELS = 10


def solution_lines(result: QCAResult, max_models: int = SHOWN_MODELS) -> list[str]:
    """Return one line per model of every solution, for the console and the run summary.

    Each line has the label (with the C/P pair of an intermediate model), the
    expression, consistency and coverage; a solution without models says so. Beyond
    ``max_models`` tied models of a solution one line counts the others (a thousand
    tied models belong in ``solutions.csv``, not on the terminal).
    """
    lines = []
    for name, solution in result.solutions.items():
        for model in solution.models[:max_models]:
            pair = f" ({model.pair_labels})" if model.derived_from else ""
            lines.append(
                f"{name} {model.label}{pair}: {model.expression} (consistency "
                f"{model.consistency:.3f}, coverage {model.coverage:.3f})"
            )
        hidden = len(solution.models) - max_models
        if hidden > 0:
            distinct = len({m.expression for m in solution.models})
            lines.append(
                f"{name}: ... and {hidden} more tied models ({len(solution.models)} in all, "
                f"{distinct} distinct expressions; every one is in solutions.csv)"
            )
        if not solution.models:
            lines.append(f"{name}: no configuration passes the cut-offs")
    return lines


def _truth_table_caption(table: TruthTable) -> str:
    return (
        f"Truth table of {table.outcome} (incl.cut {table.incl_cut:g}, n.cut "
        f"{table.n_cut}, pri.cut {table.pri_cut:g})"
    )


def _solutions_caption(table: TruthTable) -> str:
    return f"Conservative, parsimonious and intermediate solutions for {table.outcome}"
