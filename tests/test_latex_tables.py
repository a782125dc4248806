"""Tables that fit the page and compile: readable small numbers, pdfLaTeX-safe text, and
wide or long tables laid out in parts for a landscape A4 text block.

Checked against: hand-counted decimals and cells; pdfLaTeX itself (when it is on the
machine), which must compile every ``.tex`` a demo-like run writes without an error, an
overfull line or a float taller than the page, in a landscape A4 document with 2.5 cm
margins (a 702.78 pt wide text block).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.cli import main
from bayes_ccd.config import bundled_models_dir
from bayes_ccd.exceptions import ConvergenceWarning, DataWarning, WeightsWarning
from bayes_ccd.report.tables import (
    format_readable,
    paper_table,
    significant_decimals,
    to_latex,
    to_markdown,
)

PDFLATEX = shutil.which("pdflatex")
needs_pdflatex = pytest.mark.skipif(
    PDFLATEX is None, reason="pdflatex is not on PATH (apt-get install texlive-latex-recommended)"
)

#: The document every table is compiled in: landscape A4, 2.5 cm margins (the log
#: states the text width).
DOCUMENT = r"""\documentclass{article}
\usepackage[a4paper,landscape,margin=2.5cm]{geometry}
\usepackage{booktabs}
\usepackage{tabularx}
\begin{document}
\typeout{textwidth=\the\textwidth}
\input{%s}
\end{document}
"""


def compile_table(tex: Path, workdir: Path) -> str:
    """Compile ``tex`` inside :data:`DOCUMENT` and return pdfLaTeX's log."""
    document = workdir / f"{tex.stem}_document.tex"
    document.write_text(DOCUMENT % tex.resolve().as_posix(), encoding="ascii")
    run = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", document.name],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = document.with_suffix(".log").read_text(encoding="latin-1")
    assert run.returncode == 0, f"{tex}: {run.stdout[-2000:]}"
    return log


def assert_fits(log: str, name: str) -> None:
    """No line wider than the text block, no float taller than the page, no missing glyph."""
    width = re.search(r"^textwidth=(\d+\.\d+)pt$", log, re.MULTILINE)
    assert width and float(width[1]) == pytest.approx(702.78, abs=0.1), name  # 24.7 cm
    over = re.findall(r"Overfull \\hbox \((\d+\.\d+)pt too wide\)", log)
    assert not over, f"{name}: lines too wide by {over} pt"
    assert "Float too large" not in log, f"{name}: a float is taller than the page"
    assert "Missing character" not in log, name


def test_significant_decimals_by_hand() -> None:
    assert significant_decimals([0.0056, 0.02]) == 4  # 0.0056 needs four decimals
    assert significant_decimals([0.019]) == 3  # 0.019: the default three suffice
    assert significant_decimals([5.0e-6]) is None  # seven decimals: scientific notation
    assert significant_decimals([0.0, np.nan]) == 3
    assert format_readable(6.63e-5) == "6.63e-05" and format_readable(0.0004) == "4.00e-04"
    assert format_readable(0.0005) == "0.001" and format_readable(0.0) == "0.000"
    assert format_readable(6.63e-5, 6) == "0.000066" and format_readable(2.5, None) == "2.50e+00"


def test_readable_paper_table_never_prints_zero_for_a_small_coefficient() -> None:
    long = pd.DataFrame(
        {
            "term": ["density", "sigma2"],
            "estimate": [0.00066, 6.63e-5],
            "std_error": [0.0056, 5.0e-6],
            "p_value": [0.9, 1e-20],
            "sample": "national",
        }
    )
    fixed = paper_table(long, row="term", column="sample")
    assert fixed.loc[("sigma2", ""), "national"] == "0.000***"  # the CSV's layout, kept
    table = paper_table(long, row="term", column="sample", spread="std_error")
    assert table.loc[("density", ""), "national"] == "0.0007"
    assert table.loc[("density", "se"), "national"] == "(0.0056)"
    assert table.loc[("sigma2", ""), "national"] == "6.63e-05***"
    assert table.loc[("sigma2", "se"), "national"] == "(5.00e-06)"
    tex = to_latex(table)
    # one math group ($$ would open display math), no double superscript
    assert r"$6.63\times10^{-5}{}^{***}$" in tex
    assert r"(5.00e-06)" not in tex and r"($5.00\times10^{-6}$)" in tex


def test_posterior_paper_table_has_the_probability_of_a_positive_value() -> None:
    long = pd.DataFrame(
        {
            "variable": ["x"],
            "effect": ["direct"],
            "mean": [0.5],
            "sd": [0.1],
            "lower": [0.3],
            "upper": [0.7],
            "prob_positive": [0.9995],
        }
    )
    from bayes_ccd.report.tables import interval_cells

    table = paper_table(
        long,
        row="variable",
        column="effect",
        cells=interval_cells,
        second="interval",
        spread="sd",
        extra=[("P(>0)", "prob_positive")],
    )
    assert table.index.get_level_values(1).tolist() == ["", "interval", "P(>0)"]
    assert table["direct"].tolist() == ["0.500", "[0.300, 0.700]", "1.000"]
    assert "| | P(>0) | 1.000 |" in to_markdown(table).replace("|  |", "| |")


def test_latex_text_is_pdflatex_safe() -> None:
    frame = pd.DataFrame({"test": ["p<0.01 | a>b", "x \u2264 2 \u00d7 y"], "v": [1.0, 2.0]})
    tex = to_latex(frame, index=False, notes="*** p<0.01, ** p<0.05")
    assert "p$<$0.01 $|$ a$>$b" in tex and r"x $\leq$ 2 $\times$ y" in tex
    assert r"*** p$<$0.01, ** p$<$0.05" in tex
    assert tex.isascii()


def _wide(rows: int = 31) -> pd.DataFrame:
    """Thirty-one units by 24 measures, like the DEA efficiency table."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        rng.uniform(0, 1, (rows, 24)), columns=[f"measure_{j:02d}" for j in range(24)]
    )
    return frame.assign(unit=[f"Province {i}" for i in range(rows)])[["unit", *frame.columns]]


def test_a_wide_table_is_split_into_parts_repeating_its_key_column() -> None:
    tex = to_latex(_wide(rows=20), index=False, caption="Efficiency", label="tab:e")
    parts = tex.split(r"\begin{table}")[1:]
    assert len(parts) > 1
    headers = [p.split(r"\toprule")[1].split(r"\\")[0] for p in parts]
    assert all(h.strip().startswith("unit &") for h in headers)
    shown = [c.strip() for h in headers for c in h.split("&")[1:]]
    assert shown == [f"measure\\_{j:02d}" for j in range(24)]  # each column once, in order
    assert r"(part 1 of" in parts[0] and tex.count(r"\label{tab:e}") == 1


def test_a_long_table_is_split_between_rows_and_keeps_estimate_pairs_together() -> None:
    long = pd.DataFrame(
        {
            "term": [f"x{i}" for i in range(40)],
            "estimate": np.linspace(0.1, 4, 40),
            "std_error": 0.05,
            "p_value": 0.5,
            "sample": "national",
        }
    )
    tex = to_latex(paper_table(long, row="term", column="sample"))
    parts = tex.split(r"\begin{table}")[1:]
    assert len(parts) == 3  # 80 lines in parts of at most 30
    for part in parts:
        body = part.split(r"\midrule")[1].split(r"\bottomrule")[0].strip().splitlines()
        assert len(body) % 2 == 0 and body[1].startswith(" & se")


@needs_pdflatex
def test_wide_long_and_small_tables_compile_within_the_text_block(tmp_path) -> None:
    frames = {
        "wide": to_latex(_wide(), index=False, caption="Wide"),
        "text": to_latex(
            pd.DataFrame(
                {
                    "solution": ["conservative"] * 3,
                    "expression": [" + ".join(["U1*~gdp_per_capita*urbanisation_rate"] * 9)] * 3,
                    "consistency": [0.8, 0.9, 0.95],
                }
            ),
            index=False,
            notes="p<0.01",
        ),
    }
    for name, text in frames.items():
        path = tmp_path / f"{name}.tex"
        path.write_text(text, encoding="ascii")
        assert_fits(compile_table(path, tmp_path), name)


INDICATORS = bundled_models_dir() / "indicators.toml"
SMALL_RUN = f"""
[run]
name = "small"
seed = 7
[data]
panel = "bundled:demo"
unit = "province"
time = "year"
missing = "linear"
regions = "bundled:provinces"
[indicators]
file = "{INDICATORS.as_posix()}"
[explore]
permutations = 99
[regression]
by_region = true
[mle]
effects_draws = 200
[bayes]
draws = 500
chains = 2
ppc_draws = 20
[model_choice]
enabled = true
[dea]
year = 2021
inputs = ["beds", "physicians", "nurses", "health_expenditure"]
outputs = ["outpatient_visits", "discharges"]
bootstrap = true
replications = 20
[qca]
conditions = ["U1", "gdp_per_capita", "urbanisation_rate", "urban_density"]
anchors = {{ crs = [1.0, 0.98, 0.92] }}
robustness = true
"""


@pytest.mark.integration
@needs_pdflatex
def test_every_table_a_run_writes_compiles_and_fits_a_landscape_page(tmp_path) -> None:
    config = tmp_path / "small.toml"
    config.write_text(SMALL_RUN, encoding="utf-8")
    out = tmp_path / "out"
    with pytest.warns((WeightsWarning, DataWarning, ConvergenceWarning)):  # said, not hidden
        assert main(["run", str(config), "--no-figures", "--out", str(out)]) == 0
    tables = sorted(out.rglob("*.tex"))
    names = {p.relative_to(out).as_posix() for p in tables}
    assert {
        "mle/regression_table.tex",
        "mle/tests.tex",
        "bayes/effects_table.tex",
        "compare/comparison.tex",
        "dea/efficiency.tex",
        "qca/solutions.tex",
    } <= names
    build = tmp_path / "latex"
    build.mkdir()
    for tex in tables:
        assert_fits(compile_table(tex, build), tex.relative_to(out).as_posix())
    regression = (out / "mle" / "regression_table.md").read_text()
    assert "0.000***" not in regression and "(0.000)" not in regression
    for row in ("Unit fixed effects", "N (units)", "T (periods)", "Effective observations"):
        assert row in regression
    assert "P(>0)" in (out / "bayes" / "effects_table.md").read_text()
    assert (out / "mle" / "tests.md").read_text().count("LM-") >= 2
