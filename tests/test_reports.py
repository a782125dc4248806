"""Output helpers: all-or-nothing directories, stars, paper tables, Markdown and LaTeX."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.exceptions import OutputError
from bayes_ccd.report.output import atomic_output_dir, run_metadata, write_json
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import paper_table, stars, to_latex, to_markdown


def test_atomic_output_dir_publishes_only_on_success(tmp_path):
    target = tmp_path / "out"
    with atomic_output_dir(target) as staging:
        (staging / "metadata.json").write_text("{}")
        (staging / "a.txt").write_text("first")
    assert (target / "a.txt").read_text() == "first"
    with pytest.raises(RuntimeError), atomic_output_dir(target) as staging:
        (staging / "a.txt").write_text("second")
        raise RuntimeError("stage failed")
    # the failed run left the earlier result intact and no staging directory behind
    assert (target / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    # an earlier bayes_ccd output (it holds metadata.json) is replaced as a whole
    with atomic_output_dir(target) as staging:
        (staging / "b.txt").write_text("third")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]


def test_atomic_output_dir_refuses_targets_it_would_destroy(tmp_path, monkeypatch):
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter.tex").write_text("years of work")
    with pytest.raises(OutputError, match="did not write"), atomic_output_dir(foreign):
        pass
    assert (foreign / "chapter.tex").read_text() == "years of work"
    data = tmp_path / "study"
    data.mkdir()
    (data / "metadata.json").write_text("{}")
    (data / "panel.csv").write_text("unit,period\n")
    with (
        pytest.raises(OutputError, match="contains the input"),
        atomic_output_dir(data, protect=[data / "panel.csv"]),
    ):
        pass
    assert (data / "panel.csv").exists()
    monkeypatch.chdir(data)
    with pytest.raises(OutputError, match="working directory"), atomic_output_dir("."):
        pass
    with pytest.raises(OutputError, match="working directory"), atomic_output_dir(tmp_path):
        pass
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file"), atomic_output_dir(tmp_path / "file"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "study", "thesis"]


@pytest.mark.parametrize(
    ("p", "mark"),
    [
        (0.001, "***"),
        (0.0099, "***"),
        (0.01, "**"),
        (0.049, "**"),
        (0.05, "*"),
        (0.0999, "*"),
        (0.1, ""),
        (math.nan, ""),
    ],
)
def test_stars(p, mark):
    assert stars(p) == mark


def test_paper_table_layout():
    long = pd.DataFrame(
        {
            "variable": ["x", "x", "z", "z"],
            "effect": ["direct", "total", "direct", "total"],
            "estimate": [0.1234, -0.5, 2.0, 0.01],
            "std_error": [0.01, 0.3, 1.5, 0.2],
            "p_value": [0.001, 0.09, 0.2, 0.96],
        }
    )
    table = paper_table(long, row="variable", column="effect")
    assert table.columns.tolist() == ["direct", "total"]
    assert table.loc[("x", ""), "direct"] == "0.123***"
    assert table.loc[("x", "se"), "direct"] == "(0.010)"
    assert table.loc[("x", ""), "total"] == "-0.500*"
    assert table.loc[("z", ""), "direct"] == "2.000"
    md = to_markdown(table)
    assert "| x |  | 0.123*** | -0.500* |" in md
    tex = to_latex(table, caption="Effects")
    assert r"0.123$^{***}$" in tex and r"\caption{Effects}" in tex


def test_latex_escapes_special_characters():
    tex = to_latex(pd.DataFrame({"name": ["a_b & 50%"], "v": [1.0]}), index=False)
    assert r"a\_b \& 50\%" in tex


def test_json_has_no_nan_tokens_and_metadata_records_versions(tmp_path):
    path = write_json({"x": math.nan, "y": [1.0, math.inf]}, tmp_path / "m.json")
    assert json.loads(path.read_text()) == {"x": None, "y": [1.0, None]}
    meta = run_metadata({"a": 1}, seed=3)
    assert meta["seed"] == 3 and meta["config"] == {"a": 1}
    assert meta["packages"]["numpy"] != "not installed"


def test_summary_renders_as_text_html_markdown_and_latex():
    frame = pd.DataFrame({"term": ["x<1>", "rho"], "estimate": [0.12345, np.nan]})
    summary = Summary(
        title="Model & data",
        facts={"N": 31, "rho": 0.291234, "warnings": []},
        lines=["one line"],
        sections={"Stage": ["a <b> line"]},
        tables=[SummaryTable(frame, "Coefficients", "Notes 5%.")],
        notice="SYNTHETIC",
    )
    text = str(summary)
    assert text.splitlines()[:3] == ["Model & data", "============", "SYNTHETIC"]
    assert "rho       0.2912" in text and "warnings  none" in text and "0.123" in text
    assert "- a <b> line" in text and repr(summary) == text
    html = summary._repr_html_()
    # every user string is escaped once
    assert "x&lt;1&gt;" in html and "a &lt;b&gt; line" in html and "Model &amp; data" in html
    markdown = summary.to_markdown(level=1)
    assert markdown.startswith("# Model & data\n\n> SYNTHETIC\n\n- N: 31\n")
    assert "\n## Stage\n\n- a <b> line\n" in markdown and "| x<1> | 0.123 |" in markdown
    latex = summary.to_latex()
    assert latex.count(r"\begin{table}") == 2 and r"Model \& data" in latex
    assert r"\paragraph{Stage}" in latex and r"Notes 5\%." in latex
