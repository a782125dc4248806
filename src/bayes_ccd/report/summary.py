"""The summary every result returns.

Text in a console, HTML in Jupyter, Markdown and LaTeX for a paper.

A :class:`Summary` is data (a title, facts, headline lines and tables), rendered on
demand: ``print(result.summary())`` in a terminal, the summary as the last expression
of a notebook cell (``_repr_html_``), ``summary.to_markdown()`` or
``summary.to_latex()`` for a report. It is the one shape of "summary" in the package.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bayes_ccd.report.tables import format_number, latex_escape, to_latex, to_markdown


@dataclass(frozen=True)
class SummaryTable:
    """One table of a summary, with what a paper needs around it.

    Attributes
    ----------
    frame
        The table.
    caption, notes
        Shown above and below it.
    index
        Whether the frame's index is part of the table (paper tables: yes).
    digits
        Decimals of floating-point cells.
    """

    frame: pd.DataFrame
    caption: str = ""
    notes: str = ""
    index: bool = False
    digits: int = 3


@dataclass(frozen=True)
class Summary:
    """A result's summary (see the module docstring).

    Attributes
    ----------
    title
        What was fitted or computed.
    facts
        Key facts shown as ``key: value`` (model, sample sizes, fit statistics...).
    lines
        Headline sentences, also used by the run summary (``summary.md``).
    tables
        The main tables.
    notice
        Shown first, e.g. that the data are synthetic.
    sections
        Headline sentences grouped under headings (a run summary: one per stage).
    """

    title: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    lines: Sequence[str] = ()
    tables: Sequence[SummaryTable] = ()
    notice: str = ""
    sections: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        """Render the summary as plain text for a console: title, notice, facts, lines, tables."""
        parts = [self.title, "=" * min(len(self.title), 88)]
        if self.notice:
            parts.append(self.notice)
        if self.facts:
            width = max(len(str(k)) for k in self.facts)
            parts += [f"{k:<{width}}  {_fact(v)}" for k, v in self.facts.items()]
        parts += [f"- {line}" for line in self.lines]
        for heading, lines in self.sections.items():
            parts += ["", heading, *[f"- {line}" for line in lines]]
        for table in self.tables:
            parts.append("")
            if table.caption:
                parts.append(table.caption)
            parts.append(_text_frame(table).to_string(index=table.index))
            if table.notes:
                parts.append(table.notes)
        return "\n".join(parts)

    def __repr__(self) -> str:
        """Return the plain-text rendering, so that a summary shows itself in a REPL."""
        return str(self)

    def _repr_html_(self) -> str:
        out = [f"<div><h4>{html.escape(self.title)}</h4>"]
        if self.notice:
            out.append(f"<p><strong>{html.escape(self.notice)}</strong></p>")
        if self.facts:
            rows = "".join(
                f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                f"<td style='text-align:left'>{html.escape(_fact(v))}</td></tr>"
                for k, v in self.facts.items()
            )
            out.append(f"<table>{rows}</table>")
        if self.lines:
            out.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in self.lines) + "</ul>")
        for heading, lines in self.sections.items():
            out.append(f"<h5>{html.escape(heading)}</h5>")
            out.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in lines) + "</ul>")
        for table in self.tables:
            if table.caption:
                out.append(f"<p><strong>{html.escape(table.caption)}</strong></p>")
            out.append(_text_frame(table).to_html(index=table.index, border=0))
            if table.notes:
                out.append(f"<p><small>{html.escape(table.notes)}</small></p>")
        out.append("</div>")
        return "\n".join(out)

    def to_markdown(self, level: int = 2) -> str:
        """Render the summary as Markdown.

        A heading, the facts and lines as a list, the sections under sub-headings, the
        tables; ``level`` is the depth of the title's heading (``##`` by default).
        """
        out = [f"{'#' * level} {self.title}", ""]
        if self.notice:
            out += [f"> {self.notice}", ""]
        out += [f"- {k}: {_fact(v)}" for k, v in self.facts.items()]
        out += [f"- {line}" for line in self.lines]
        for heading, lines in self.sections.items():
            out += ["", f"{'#' * (level + 1)} {heading}", "", *[f"- {line}" for line in lines]]
        for table in self.tables:
            out.append("")
            if table.caption:
                out += [f"**{table.caption}**", ""]
            out.append(to_markdown(table.frame, digits=table.digits, index=table.index).rstrip())
            if table.notes:
                out += ["", table.notes]
        return "\n".join(out) + "\n"

    def to_latex(self) -> str:
        """Render as LaTeX: the facts as a small table, then every table as a booktabs ``table``."""
        out = []
        if self.facts:
            facts = pd.DataFrame(
                {"": list(self.facts), " ": [_fact(v) for v in self.facts.values()]}
            )
            out.append(to_latex(facts, index=False, caption=self.title, notes=self.notice or None))
        for table in self.tables:
            out.append(
                to_latex(
                    table.frame,
                    digits=table.digits,
                    index=table.index,
                    caption=table.caption or None,
                    notes=table.notes or None,
                )
            )
        groups = {"": self.lines, **self.sections}
        for heading, lines in groups.items():
            if not lines:
                continue
            if heading:
                out.append(rf"\paragraph{{{latex_escape(heading)}}}")
            items = "\n".join(rf"  \item {latex_escape(line)}" for line in lines)
            out.append("\\begin{itemize}\n" + items + "\n\\end{itemize}\n")
        return "\n".join(out)


def _fact(value: Any) -> str:
    if isinstance(value, float):
        return format_number(value, 4)
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) if value else "none"
    return str(value)


def _text_frame(table: SummaryTable) -> pd.DataFrame:
    """Floats rounded to the table's digits (NaN blank), for text and HTML."""
    frame = table.frame.copy()
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            frame[column] = [format_number(v, table.digits) for v in frame[column]]
    return frame
