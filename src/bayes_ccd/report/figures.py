"""Writing matplotlib figures as PNG (and PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


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
