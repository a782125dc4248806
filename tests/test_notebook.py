"""The walkthrough notebook runs from data to effects (with fewer draws).

Executed with nbclient in a fresh kernel; the notebook reads the number of draws from
``BAYES_CCD_NOTEBOOK_DRAWS``. It compiles one NUTS model, hence ``slow``.
"""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DRAWS = "300"  # per chain: 4 x 300 independent exact draws keep every ESS >= 400


@pytest.mark.slow
@pytest.mark.integration
def test_walkthrough_notebook_runs(repo, tmp_path, monkeypatch) -> None:
    notebook = nbformat.read(repo / "notebooks" / "walkthrough.ipynb", as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown"
    assert "SYNTHETIC DATA" in first.source and "NOT FINDINGS" in first.source
    monkeypatch.setenv("BAYES_CCD_NOTEBOOK_DRAWS", NOTEBOOK_DRAWS)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "verdict: converged" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 6  # trace, rank, forest, ppc, comparison, marginal of rho
