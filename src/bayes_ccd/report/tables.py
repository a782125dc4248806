"""Tables a researcher can paste into a paper.

CSV (full precision), Markdown and LaTeX (rounded, with significance stars where the
table carries p-values).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


#: Below this many decimals a number is written in scientific notation.
MAX_DECIMALS = 6


def format_readable(value: Any, digits: int | None = 3) -> str:
    """Format a number for Markdown and LaTeX, never hiding a small value as ``0.000``.

    A float is written with ``digits`` decimals (:func:`format_number`) unless it is
    non-zero and would round to zero, or ``digits`` is ``None``: then in scientific
    notation with three significant digits (``6.63e-05``). Other values as
    :func:`format_number`.
    """
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and value != 0:
        if digits is None or abs(value) < 0.5 * 10.0**-digits:
            return f"{value:.2e}"
    return format_number(value, 3 if digits is None else digits)


def significant_decimals(spreads: Sequence[float], digits: int = 3) -> int | None:
    """Decimals that show the smallest non-zero spread with two significant digits.

    At least ``digits``; ``None`` (scientific notation, :func:`format_readable`) when more
    than :data:`MAX_DECIMALS` would be needed, e.g. a ``sigma2`` of ``6.6e-05`` with
    standard error ``5.0e-06``. Without a non-zero finite spread, ``digits``.
    """
    values = np.abs(np.asarray(spreads, dtype=float))
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return digits
    needed = max(digits, 1 - math.floor(math.log10(values.min())))
    return needed if needed <= MAX_DECIMALS else None


Digits = int | Sequence[int | None]


def _formatters(digits: Digits, n: int) -> list[Callable[[Any], str]]:
    """One number formatter per row: fixed decimals for an int, else readable per row."""
    if isinstance(digits, int):
        return [lambda v: format_number(v, digits)] * n
    return [lambda v, d=d: format_readable(v, d) for d in digits]


def estimate_with_stars(estimate: float, p_value: float, digits: int = 3) -> str:
    """``0.123***``: the estimate rounded, followed by its significance stars."""
    return f"{format_number(estimate, digits)}{stars(p_value)}"


def standard_error_cells(frame: pd.DataFrame, digits: Digits = 3) -> tuple[list[str], ...]:
    """Format maximum-likelihood estimates as paper cells, estimate above standard error.

    A cell pair is ``0.123***`` (stars from ``p_value``) above ``(0.045)`` (the standard
    error), as in the seed paper's Tables 7-8. ``digits`` is the decimals of every
    number (:func:`format_number`), or one entry per row for :func:`format_readable`
    (``None``: scientific notation).
    """
    formats = _formatters(digits, len(frame))
    top = [
        f"{fmt(e)}{stars(p)}"
        for e, p, fmt in zip(frame["estimate"], frame["p_value"], formats, strict=True)
    ]
    bottom = [
        f"({fmt(s)})" if pd.notna(s) else ""
        for s, fmt in zip(frame["std_error"], formats, strict=True)
    ]
    return top, bottom


def interval_cells(frame: pd.DataFrame, digits: Digits = 3) -> tuple[list[str], ...]:
    """Format posterior summaries as paper cells, mean above interval.

    The posterior mean stands above its central interval ``[lower, upper]``; ``digits``
    as in :func:`standard_error_cells`.
    """
    formats = _formatters(digits, len(frame))
    top = [fmt(m) for m, fmt in zip(frame["mean"], formats, strict=True)]
    bottom = [
        f"[{fmt(a)}, {fmt(b)}]"
        for a, b, fmt in zip(frame["lower"], frame["upper"], formats, strict=True)
    ]
    return top, bottom


def paper_table(
    frame: pd.DataFrame,
    *,
    row: str | Sequence[str],
    column: str,
    cells: Callable[[pd.DataFrame, Digits], tuple[list[str], ...]] = standard_error_cells,
    second: str = "se",
    digits: int = 3,
    spread: str | None = None,
    extra: Sequence[tuple[str, str]] = (),
) -> pd.DataFrame:
    """Reshape long estimates into the layout of regression tables in papers.

    Each estimate takes two lines: the first holds its main cell, the second (labelled
    ``second``) what qualifies it, e.g. a standard error in parentheses
    (:func:`standard_error_cells`) or a posterior interval (:func:`interval_cells`);
    then one line per ``extra`` column.

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
        ``frame``; ``digits`` is one number of decimals or one per row.
    second
        Label of the second line of each row.
    digits
        Decimals of every number, or (with ``spread``) the fewest.
    spread
        A column of ``frame`` (standard error, sd): each table row gets the decimals
        that show its smallest spread with two significant digits
        (:func:`significant_decimals`), so that small coefficients stay readable.
    extra
        ``(label, column)`` pairs: further lines, e.g. ``("P(>0)", "prob_positive")``,
        with ``digits`` decimals.

    Returns
    -------
    pandas.DataFrame
        Index: the row labels (joined by ``" / "``) with a second level ``""``,
        ``second`` or the ``extra`` labels, named after ``row``; columns: the column
        labels. All cells are strings; combinations absent from ``frame`` are blank.
    """
    rows = [row] if isinstance(row, str) else list(row)
    key_of = pd.Series(list(map(tuple, frame[rows].to_numpy())), index=frame.index)
    decimals: Digits = digits
    if spread is not None:  # the CSV keeps ``digits`` fixed decimals; papers read this
        by_key = {k: significant_decimals(frame.loc[key_of == k, spread], digits) for k in key_of}
        decimals = [by_key[k] for k in key_of]
    lines = list(cells(frame, decimals))
    lines += [[format_readable(v, digits) for v in frame[name]] for _, name in extra]
    labels_of_lines = ["", second, *(label for label, _ in extra)]
    table = frame.assign(**{f"_line{i}": line for i, line in enumerate(lines)})
    keys = list(dict.fromkeys(key_of))
    columns = list(dict.fromkeys(table[column]))
    records, labels = [], []
    for key in keys:
        part = table[(key_of == key).to_numpy()].set_index(column)
        label = " / ".join(map(str, key))
        for i, name in enumerate(labels_of_lines):
            records.append(part[f"_line{i}"].reindex(columns).fillna(""))
            labels.append((label, name))
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
        cells = [format_readable(v, digits).replace("|", "\\|") for v in values]
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
    # In pdfLaTeX's default OT1 text font these print as inverted marks and a dash.
    "<": r"$<$",
    ">": r"$>$",
    "|": r"$|$",
    # Symbols pdfLaTeX's default input encoding does not typeset.
    "\u00d7": r"$\times$",
    "\u2212": r"$-$",
    "\u2264": r"$\leq$",
    "\u2265": r"$\geq$",
    "\u00b1": r"$\pm$",
    "\u00b2": r"$^{2}$",
    "\u00b3": r"$^{3}$",
    "\u00b0": r"$^{\circ}$",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters in a table cell (pdfLaTeX-safe, see above)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


_SCIENTIFIC = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?)e([+-]?\d+)(?![\w.])")


def _latex_cell(text: str, *, breaks: bool = False) -> str:
    """Escape a cell; numbers ``6.63e-05`` in math mode, stars ``***`` as a superscript.

    With ``breaks`` (a wrapped column) a line may also break after ``*`` and ``/``, as in
    the long products of configurational expressions.
    """
    escaped = latex_escape(text)
    core = escaped.rstrip("*")
    marks = escaped[len(core) :]
    core = _SCIENTIFIC.sub(lambda m: f"${m[1]}\\times10^{{{int(m[2])}}}$", core)
    if breaks:
        core = re.sub(r"([*/])", r"\1\\allowbreak{}", core)
    if not marks:
        return core
    if core.endswith("$"):  # one math group (``$$`` opens display math), no double ``^``
        return f"{core[:-1]}{{}}^{{{marks}}}$"
    return f"{core}$^{{{marks}}}$"


#: Width of the text block the LaTeX tables are laid out for: landscape A4 with 2.5 cm
#: margins (29.7 - 5 cm = 24.7 cm = 703 pt), less a safety margin.
LATEX_TEXT_WIDTH_PT = 680.0
#: Lines of a table part: a landscape A4 text block is 16 cm (455 pt) high, 41 lines of
#: ``\small`` type, of which caption, rules, a one-line header and notes take about
#: nine (a header of more lines takes them from the body).
LATEX_PART_LINES = 32
#: A header longer than its column's cells breaks at ``_`` and spaces into lines of at
#: least this many characters.
_HEADER_CHARS = 10
#: Average width of a character of ``\small`` Computer Modern (9 pt; digits are 4.6 pt),
#: and the padding of a column (``2 \tabcolsep``).
_CHAR_PT = 5.0
_COLUMN_PT = 12.0
#: A text column longer than this (characters) may wrap, to no fewer characters a line.
_WRAP_CHARS = 24
#: Where a wrapped cell may break: spaces, and after ``*`` and ``/`` (``\allowbreak``).
_BREAKS = re.compile(r"[ *]|(?<=/)")


@dataclass(frozen=True)
class _Part:
    """One float of a LaTeX table: its columns, its rows and the columns that wrap."""

    columns: list[int]
    rows: list[int]
    wrap: set[int]


def _column_groups(widths: list[float], keys: list[int], budget: float) -> list[list[int]]:
    """Split the columns after ``keys`` into groups that fit ``budget`` with the keys repeated."""
    rest = [j for j in range(len(widths)) if j not in keys]
    base = sum(widths[j] for j in keys)
    groups: list[list[int]] = [[]]
    used = base
    for j in rest:
        if groups[-1] and used + widths[j] > budget:
            groups.append([])
            used = base
        groups[-1].append(j)
        used += widths[j]
    return [[*keys, *group] for group in groups]


def _wrapping(
    columns: list[int],
    widths: list[float],
    chars: list[int],
    words: list[int],
    text: list[bool],
    budget: float,
) -> tuple[set[int], float] | None:
    """Return the text columns to wrap (tabularx ``X``) so that ``columns`` fit, and their width.

    Nothing wraps when the columns fit as they are; the width is that of each wrapped
    column in characters. ``None`` when the columns do not fit even wrapped (a wrapped
    column is never narrower than its longest word, ``words``).
    """
    if sum(widths[j] for j in columns) <= budget:
        return set(), 0.0
    wrap = {j for j in columns if text[j] and chars[j] > _WRAP_CHARS}
    fixed = sum(widths[j] for j in columns if j not in wrap)
    width = (budget - fixed) / max(len(wrap), 1) - _COLUMN_PT
    if not wrap or width < max(_WRAP_CHARS, *(words[j] for j in wrap)) * _CHAR_PT:
        return None
    return wrap, width / _CHAR_PT


def _header_lines(name: str, cells: list[str]) -> list[str]:
    """Break a column name at ``_`` and spaces into lines no wider than the column's cells.

    Lines are at least :data:`_HEADER_CHARS` characters; a name without a break, or one
    that is not wider than its cells, stays on one line.
    """
    width = max([_HEADER_CHARS, *map(len, cells)])
    if len(name) <= width:
        return [name]
    lines = [""]
    for piece in re.findall(r"[^_ ]+[_ ]?", name):
        if lines[-1] and len(lines[-1]) + len(piece.rstrip("_ ")) > width:
            lines.append("")
        lines[-1] += piece
    return [line.rstrip(" ") for line in lines]


def _latex_header(name: str, cells: list[str], align: str) -> str:
    """Return the header cell: escaped, stacked in a one-column tabular when it breaks."""
    lines = [latex_escape(line) for line in _header_lines(name, cells)]
    if len(lines) == 1:
        return lines[0]
    return rf"\begin{{tabular}}[b]{{@{{}}{align}@{{}}}}{r' \\ '.join(lines)}\end{{tabular}}"


def _latex_parts(
    header: list[str], body: list[list[str]], text: list[bool], keys: int, groups: list[int]
) -> list[_Part]:
    """Lay a table out in parts that fit a landscape A4 text block.

    Long text columns wrap; columns that do not fit even so are split into several parts
    repeating the ``keys`` leading columns; rows are split (at the starts of row
    ``groups``) into parts of at most :data:`LATEX_PART_LINES` lines.
    """
    n = len(header)
    stacked = [_header_lines(header[j], [row[j] for row in body]) for j in range(n)]
    chars = [max([*map(len, stacked[j]), *(len(row[j]) for row in body)]) for j in range(n)]
    words = [max([1, *(len(w) for row in body for w in _BREAKS.split(row[j]))]) for j in range(n)]
    widths = [c * _CHAR_PT + _COLUMN_PT for c in chars]
    budget = LATEX_TEXT_WIDTH_PT
    column_sets = [list(range(n))]
    if _wrapping(column_sets[0], widths, chars, words, text, budget) is None:
        column_sets = _column_groups(widths, list(range(keys)), budget)
    parts = []
    for columns in column_sets:
        wrap, width = _wrapping(columns, widths, chars, words, text, budget) or (set(), 0.0)
        lines = [max([1, *(math.ceil(len(row[j]) / width) for j in wrap)]) for row in body]
        chunk: list[int] = []
        used = 0
        for start, stop in zip(groups, [*groups[1:], len(body)], strict=True):
            size = sum(lines[start:stop])
            if chunk and used + size > LATEX_PART_LINES + 1 - max(len(stacked[j]) for j in columns):
                parts.append(_Part(columns, chunk, wrap))
                chunk, used = [], 0
            chunk += list(range(start, stop))
            used += size
        parts.append(_Part(columns, chunk, wrap))
    return parts


def to_latex(
    frame: pd.DataFrame,
    *,
    digits: int = 3,
    index: bool = True,
    caption: str | None = None,
    label: str | None = None,
    notes: str | None = None,
) -> str:
    r"""Render a table as LaTeX ``table`` floats with booktabs rules, fit for a paper page.

    The preamble needs ``\usepackage{booktabs}`` and ``\usepackage{tabularx}``; the
    output is pure ASCII for pdfLaTeX. Stars are written as ``$^{***}$`` so they typeset
    as superscripts, ``<``, ``>`` and ``|`` in math mode, and numbers too small for
    ``digits`` decimals in scientific notation (:func:`format_readable`,
    ``$6.63\times10^{-5}$``). The table is laid out for a landscape A4 text block
    (:data:`LATEX_TEXT_WIDTH_PT`): long text columns wrap (``tabularx``), a table with too
    many columns is split into parts repeating its key columns (the index, or the
    leading text columns), and a long one into parts of at most
    :data:`LATEX_PART_LINES` lines, each a float captioned "(part i of n)".
    """
    data = frame.reset_index() if index else frame
    n_keys = frame.index.nlevels if index else _leading_text_columns(data)
    first = data.columns[0]
    if index and isinstance(frame.index, pd.MultiIndex):
        starts = (data[first] != data[first].shift()).to_numpy()
        groups = [int(i) for i in np.flatnonzero(starts)]
        data = data.assign(**{first: data[first].where(starts, "")})
    else:
        groups = list(range(len(data))) or [0]
    numeric = [pd.api.types.is_numeric_dtype(data[c]) for c in data.columns]
    header = [str(c) for c in data.columns]
    body = [[format_readable(v, digits) for v in row] for row in data.itertuples(index=False)]
    parts = _latex_parts(header, body, [not x for x in numeric], n_keys, groups)
    floats = []
    for k, part in enumerate(parts):
        lines = [r"\begin{table}[htbp]", r"\centering", r"\small"]
        if caption:
            more = f" (part {k + 1} of {len(parts)})" if len(parts) > 1 else ""
            lines.append(rf"\caption{{{latex_escape(caption)}{more}}}")
        if label and not k:
            lines.append(rf"\label{{{label}}}")
        align = "".join(
            r">{\raggedright\arraybackslash}X" if j in part.wrap else "r" if numeric[j] else "l"
            for j in part.columns
        )
        if part.wrap:
            lines.append(rf"\begin{{tabularx}}{{\linewidth}}{{{align}}}")
        else:
            lines.append(rf"\begin{{tabular}}{{{align}}}")
        lines.append(r"\toprule")
        heads = [
            _latex_header(header[j], [row[j] for row in body], "r" if numeric[j] else "l")
            for j in part.columns
        ]
        lines.append(" & ".join(heads) + r" \\")
        lines.append(r"\midrule")
        for i in part.rows:
            cells = [_latex_cell(body[i][j], breaks=j in part.wrap) for j in part.columns]
            lines.append(" & ".join(cells) + r" \\")
        lines += [r"\bottomrule", r"\end{tabularx}" if part.wrap else r"\end{tabular}"]
        if notes and k == len(parts) - 1:
            lines.append(rf"\par\smallskip\footnotesize {latex_escape(notes)}")
        lines.append(r"\end{table}")
        floats.append("\n".join(lines) + "\n")
    return "\n".join(floats)


def _leading_text_columns(data: pd.DataFrame) -> int:
    """Count the leading text columns that name a row (at most three, e.g. kind, term, effect)."""
    count = 0
    for column in data.columns[:3]:
        if pd.api.types.is_numeric_dtype(data[column]) or pd.api.types.is_bool_dtype(data[column]):
            break
        count += 1
    return max(count, 1)


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
