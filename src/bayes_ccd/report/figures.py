"""Writing matplotlib figures as PNG (and PDF)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def stamp_notice(figure: Any, notice: str, notes: Sequence[str] = ()) -> Any:
    """Write ``notes`` (e.g. a map's sources) and the data's ``notice`` at the foot.

    The text is the figure's ``supxlabel``, so a constrained layout keeps it clear of
    the panels; lines are wrapped to the figure's width. A figure made from the
    synthetic demo panel thus says so wherever it is pasted. Returns the figure.
    """
    parts = [*notes, notice] if notice else list(notes)
    if parts:
        chars = max(40, int(figure.get_figwidth() * 17))
        text = "\n".join(textwrap.fill(part, chars) for part in parts)
        figure.supxlabel(text, fontsize=6.5, color="0.2", linespacing=1.2)
    return figure


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
