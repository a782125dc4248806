"""Outputs a researcher can paste into a paper, written all-or-nothing.

Tables are written as CSV (full precision, for further work), Markdown and LaTeX
(rounded, with significance stars where the table carries p-values). Every output
directory is first assembled in a temporary sibling and renamed into place only when
the whole step succeeded, so a failed run leaves no partial results behind. Each run
records its configuration, seed and package versions in ``metadata.json``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.metadata
import json
import math
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.conventions import STAR_LEVELS
from bayes_ccd.exceptions import OutputError

#: Packages whose versions every run records.
RECORDED_PACKAGES = (
    "bayes-ccd",
    "numpy",
    "pandas",
    "scipy",
    "pymc",
    "pytensor",
    "nutpie",
    "arviz",
    "xarray",
    "libpysal",
    "esda",
    "spreg",
    "matplotlib",
)

TABLE_FORMATS = ("csv", "md", "tex")


#: The file that marks a directory as bayes_ccd output (written by every command).
OUTPUT_MARKER = "metadata.json"


def check_output_target(target: Path, protect: Sequence[str | Path] = ()) -> None:
    """Refuse output targets whose replacement would destroy something.

    A target may be new, empty, or an earlier bayes_ccd output (it holds
    :data:`OUTPUT_MARKER`). It may not be the working directory or one of its parents,
    and it may not contain any path in ``protect`` (the command's input files).

    Raises
    ------
    OutputError
    """
    resolved = target.resolve()
    here = Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise OutputError(
            f"output directory {target} is the working directory or one of "
            "its parents; choose a new directory such as results/<name>"
        )
    for path in protect:
        if resolved in Path(path).resolve().parents:
            raise OutputError(
                f"output directory {target} contains the input {path}, which "
                "replacing it would delete; choose another directory"
            )
    if resolved.is_file():
        raise OutputError(f"output path {target} is a file, not a directory")
    if resolved.is_dir() and any(resolved.iterdir()) and not (resolved / OUTPUT_MARKER).is_file():
        raise OutputError(
            f"output directory {target} already holds files that bayes_ccd "
            f"did not write (no {OUTPUT_MARKER}); choose a new directory or "
            "empty it"
        )


@contextlib.contextmanager
def atomic_output_dir(target: str | Path, *, protect: Sequence[str | Path] = ()) -> Iterator[Path]:
    """Assemble an output directory in a temporary sibling and move it into place.

    On success the temporary directory replaces ``target`` (an existing ``target`` is
    removed only after the new one is complete); on any exception it is deleted and
    ``target`` is left exactly as it was. Targets that cannot be replaced safely are
    refused before anything is written (:func:`check_output_target`); every command
    writes :data:`OUTPUT_MARKER`, so re-running into the same directory works.

    Yields
    ------
    pathlib.Path
        The temporary directory to write into.
    """
    target = Path(target)
    check_output_target(target, protect)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / target.name)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


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


def paper_table(
    frame: pd.DataFrame,
    *,
    row: str | Sequence[str],
    column: str | Sequence[str],
    estimate: str = "estimate",
    std_error: str = "std_error",
    p_value: str = "p_value",
    digits: int = 3,
) -> pd.DataFrame:
    """Reshape long estimates into the layout of regression tables in papers.

    Each cell holds the estimate with stars; the line below holds the standard error
    in parentheses, as in the seed paper's Tables 7-8.

    Parameters
    ----------
    frame
        Long table with one row per estimate.
    row, column
        Columns of ``frame`` that index the table's rows (e.g. ``variable``) and
        columns (e.g. ``effect`` or ``region``).

    Returns
    -------
    pandas.DataFrame
        Index: the row labels with a second level ``""``/``"se"``; columns: the column
        labels. All cells are strings.
    """
    rows = [row] if isinstance(row, str) else list(row)
    cols = [column] if isinstance(column, str) else list(column)
    cell = frame.assign(
        _est=[
            estimate_with_stars(e, p, digits)
            for e, p in zip(frame[estimate], frame[p_value], strict=True)
        ],
        _se=[f"({format_number(s, digits)})" if pd.notna(s) else "" for s in frame[std_error]],
    )
    row_order = list(dict.fromkeys(map(tuple, cell[rows].to_numpy())))
    col_order = list(dict.fromkeys(map(tuple, cell[cols].to_numpy())))
    est = cell.pivot_table(index=rows, columns=cols, values="_est", aggfunc="first")
    se = cell.pivot_table(index=rows, columns=cols, values="_se", aggfunc="first")
    est = est.reindex(
        index=pd.MultiIndex.from_tuples(row_order) if len(rows) > 1 else [r[0] for r in row_order]
    )
    se = se.reindex(index=est.index)
    out_rows: list[pd.Series] = []
    labels: list[tuple[str, str]] = []
    for key in est.index:
        label = " / ".join(map(str, key)) if isinstance(key, tuple) else str(key)
        out_rows.extend([est.loc[key], se.loc[key]])
        labels.extend([(label, ""), (label, "se")])
    table = pd.DataFrame(out_rows)
    table.index = pd.MultiIndex.from_tuples(labels)
    ordered = [c if len(cols) > 1 else c[0] for c in col_order]
    table = table.reindex(columns=ordered).fillna("")
    table.columns = [
        " / ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in table.columns
    ]
    return table


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


def package_versions(names: Sequence[str] = RECORDED_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (``"not installed"`` where absent)."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_metadata(
    config: Mapping[str, Any] | None = None, seed: int | None = None, **extra: Any
) -> dict[str, Any]:
    """What produced an output: configuration, seed, versions, time, platform, command."""
    return {
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "seed": seed,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "config": dict(config) if config is not None else None,
        **extra,
    }


def json_default(value: Any) -> Any:
    """``json.dumps`` ``default`` for numpy scalars and arrays, paths, dates and sets."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (Path, _dt.date)):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def _finite(value: Any) -> Any:
    """Replace non-finite floats by None so the JSON is standard (no NaN tokens)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as indented JSON, numpy scalars and arrays converted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        _finite(json.loads(json.dumps(obj, default=json_default))), indent=2, ensure_ascii=False
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path


def save_figure(figure: Any, path: str | Path, *, pdf: bool = False, dpi: int = 200) -> list[Path]:
    """Write a :class:`matplotlib.figure.Figure` as PNG (and PDF when ``pdf``).

    Figures are built with ``matplotlib.figure.Figure`` rather than ``pyplot``, so no
    global figure registry fills up; this function only writes. Returns the paths.
    """
    path = Path(path).with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    written = [path]
    if pdf:
        figure.savefig(path.with_suffix(".pdf"))
        written.append(path.with_suffix(".pdf"))
    return written
