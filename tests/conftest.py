"""Shared fixtures. Figures are drawn off-screen; seeds are fixed per test."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import matplotlib.image as mpimg
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]


def assert_png(path, min_bytes: int = 20_000) -> None:
    """The file is a readable PNG with real content, not a blank canvas."""
    assert path.suffix == ".png" and path.stat().st_size > min_bytes
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 300 and pixels.shape[1] > 300
    assert pixels[..., :3].std() > 0.05


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root (for models/ and the bundled files)."""
    return REPO


@pytest.fixture
def write_csv(tmp_path):
    """Write CSV text to a file in tmp_path and return its path."""

    def _write(text: str, name: str = "panel.csv") -> Path:
        path = tmp_path / name
        path.write_text(text.strip() + "\n", encoding="utf-8")
        return path

    return _write
