"""Tables a researcher can paste into a paper.

CSV (full precision), Markdown and LaTeX (rounded, with significance stars where the
table carries p-values).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.conventions import STAR_LEVELS

TABLE_FORMATS = ("csv", "md", "tex")


def stars(p_value: float) -> str:
    """Significance stars: ``***`` p < 0.01, ``**`` p < 0.05, ``*`` p < 0.1."""
    if p_value is None or not math.isfinite(p_value):
        return ""
    for level, mark in STAR_LEVELS:
        if p_value < level:
            return mark
    return ""


def format_number(value: Any, digits: int = 3) -> str:
    """Format a number for a paper table; missing values become an empty cell."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return ""
        return f"{value:.{digits}f}"
    return str(value)


def estimate_with_stars(estimate: float, p_value: float, digits: int = 3) -> str:
    """``0.123***``: the estimate rounded, followed by its significance stars."""
    return f"{format_number(estimate, digits)}{stars(p_value)}"


def standard_error_cells(frame: pd.DataFrame, digits: int = 3) -> tuple[list[str], list[str]]:
    """Format maximum-likelihood estimates as paper cells, estimate above standard error.

    A cell pair is ``0.123***`` (stars from ``p_value``) above ``(0.045)`` (the standard
    error), as in the seed paper's Tables 7-8.
    """
    top = [
        estimate_with_stars(e, p, digits)
        for e, p in zip(frame["estimate"], frame["p_value"], strict=True)
    ]
    bottom = [f"({format_number(s, digits)})" if pd.notna(s) else "" for s in frame["std_error"]]
    return top, bottom


def interval_cells(frame: pd.DataFrame, digits: int = 3) -> tuple[list[str], list[str]]:
    """Format posterior summaries as paper cells, mean above interval.

    The posterior mean stands above its central interval ``[lower, upper]``.
    """
    top = [f"{m:.{digits}f}" for m in frame["mean"]]
    bottom = [
        f"[{a:.{digits}f}, {b:.{digits}f}]"
        for a, b in zip(frame["lower"], frame["upper"], strict=True)
    ]
    return top, bottom


def paper_table(
    frame: pd.DataFrame,
    *,
    row: str | Sequence[str],
    column: str,
    cells: Callable[[pd.DataFrame, int], tuple[list[str], list[str]]] = standard_error_cells,
    second: str = "se",
    digits: int = 3,
) -> pd.DataFrame:
    """Reshape long estimates into the layout of regression tables in papers.

    Each estimate takes two lines: the first holds its main cell, the second (labelled
    ``second``) what qualifies it, e.g. a standard error in parentheses
    (:func:`standard_error_cells`) or a posterior interval (:func:`interval_cells`).

    Parameters
    ----------
    frame
        Long table with one row per estimate.
    row, column
        Columns of ``frame`` that index the table's rows (e.g. ``variable``, or
        ``["effect", "variable"]``) and its columns (e.g. ``effect`` or ``region``), in
        order of first appearance.
    cells
        ``cells(frame, digits) -> (first lines, second lines)``, one string per row of
        ``frame``.
    second
        Label of the second line of each row.

    Returns
    -------
    pandas.DataFrame
        Index: the row labels (joined by ``" / "``) with a second level ``""`` or
        ``second``, named after ``row``; columns: the column labels. All cells are
        strings; combinations absent from ``frame`` are blank.
    """
    rows = [row] if isinstance(row, str) else list(row)
    top, bottom = cells(frame, digits)
    table = frame.assign(_top=top, _bottom=bottom)
    keys = list(dict.fromkeys(map(tuple, table[rows].to_numpy())))
    columns = list(dict.fromkeys(table[column]))
    records, labels = [], []
    for key in keys:
        match = (table[rows] == pd.Series(key, index=rows)).all(axis=1)
        part = table[match].set_index(column)
        label = " / ".join(map(str, key))
        records += [
            part["_top"].reindex(columns).fillna(""),
            part["_bottom"].reindex(columns).fillna(""),
        ]
        labels += [(label, ""), (label, second)]
    out = pd.DataFrame(records)
    out.index = pd.MultiIndex.from_tuples(labels, names=[" / ".join(rows), " "])
    out.columns = [str(c) for c in columns]
    return out


def to_markdown(frame: pd.DataFrame, *, digits: int = 3, index: bool = True) -> str:
    """Render a table as GitHub-flavoured Markdown (no extra dependency)."""
    data = frame.reset_index() if index else frame
    if index and isinstance(frame.index, pd.MultiIndex):
        # A repeated outer label reads as clutter in a paper table: blank it.
        first = data.columns[0]
        data[first] = data[first].where(data[first] != data[first].shift(), "")
    header = [str(c) for c in data.columns]
    numeric = [pd.api.types.is_numeric_dtype(data[c]) for c in data.columns]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if is_num else "---" for is_num in numeric) + "|",
    ]
    for values in data.itertuples(index=False):
        cells = [format_number(v, digits).replace("|", "\\|") for v in values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters in a table cell."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(
    frame: pd.DataFrame,
    *,
    digits: int = 3,
    index: bool = True,
    caption: str | None = None,
    label: str | None = None,
    notes: str | None = None,
) -> str:
    """Render a table as a LaTeX ``table`` with booktabs rules.

    Stars are written as ``$^{***}$`` so they typeset as superscripts.
    """
    data = frame.reset_index() if index else frame
    if index and isinstance(frame.index, pd.MultiIndex):
        first = data.columns[0]
        data[first] = data[first].where(data[first] != data[first].shift(), "")
    align = "".join("r" if pd.api.types.is_numeric_dtype(data[c]) else "l" for c in data.columns)

    def cell(value: Any) -> str:
        text = latex_escape(format_number(value, digits))
        stripped = text.rstrip("*")
        n_stars = len(text) - len(stripped)
        return f"{stripped}$^{{{'*' * n_stars}}}$" if n_stars else text

    lines = [r"\begin{table}[htbp]", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{{align}}}", r"\toprule"]
    lines.append(" & ".join(latex_escape(str(c)) for c in data.columns) + r" \\")
    lines.append(r"\midrule")
    for values in data.itertuples(index=False):
        lines.append(" & ".join(cell(v) for v in values) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if notes:
        lines.append(rf"\par\smallskip\footnotesize {latex_escape(notes)}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def write_table(
    frame: pd.DataFrame,
    directory: str | Path,
    stem: str,
    *,
    formats: Sequence[str] = TABLE_FORMATS,
    index: bool = False,
    digits: int = 3,
    caption: str | None = None,
    notes: str | None = None,
) -> list[Path]:
    """Write ``frame`` as ``stem.csv`` (full precision), ``stem.md`` and ``stem.tex``.

    Returns the paths written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = directory / f"{stem}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=index)
        elif fmt == "md":
            text = to_markdown(frame, digits=digits, index=index)
            if caption:
                text = f"**{caption}**\n\n{text}"
            if notes:
                text += f"\n{notes}\n"
            path.write_text(text, encoding="utf-8")
        elif fmt == "tex":
            path.write_text(
                to_latex(
                    frame,
                    digits=digits,
                    index=index,
                    caption=caption,
                    notes=notes,
                    label=f"tab:{stem}",
                ),
                encoding="utf-8",
            )
        else:
            raise ValueError(f"unknown table format {fmt!r}; use one of {TABLE_FORMATS}")
        written.append(path)
    return written
