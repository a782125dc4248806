"""The `ccd` and `run` commands end to end (bad input: tests/test_bad_inputs.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_ccd.cli import main
from bayes_ccd.config import bundled_models_dir
from bayes_ccd.data.demo import bundled_demo_path

INDICATORS = str(bundled_models_dir() / "indicators.toml")


def _ccd_args(data, out, *extra):
    return [
        "ccd",
        "--data",
        str(data),
        "--indicators",
        INDICATORS,
        "--unit",
        "province",
        "--time",
        "year",
        "--out",
        str(out),
        *extra,
    ]


def test_ccd_command_on_the_demo_panel(tmp_path, capsys):
    out = tmp_path / "ccd"
    assert main(_ccd_args(bundled_demo_path(), out, "--missing", "linear")) == 0
    for name in (
        "weights.csv",
        "weights.md",
        "weights.tex",
        "ccd.csv",
        "ccd_by_period.csv",
        "ccd_by_period.tex",
        "filled_cells.csv",
        "metadata.json",
    ):
        assert (out / name).is_file(), name
    ccd = pd.read_csv(out / "ccd.csv")
    assert len(ccd) == 372 and ccd["D"].between(0, 1).all()
    assert ccd.columns.tolist() == [
        "unit",
        "period",
        "region",
        "U1",
        "U2",
        "C",
        "T",
        "D",
        "level",
        "label",
    ]
    # D recomputed by hand from the written U1, U2: sqrt(C T), classic C, T = mean.
    c = 2 * (ccd["U1"] * ccd["U2"]) ** 0.5 / (ccd["U1"] + ccd["U2"])
    assert ((c * (ccd["U1"] + ccd["U2"]) / 2) ** 0.5 - ccd["D"]).abs().max() < 1e-12
    filled = pd.read_csv(out / "filled_cells.csv")
    assert sorted(filled["column"]) == ["discharges", "outpatient_visits"]
    assert "Hubei 2020 outpatient_visits" in capsys.readouterr().out
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["config"]["entropy"]["scope"] == "pooled"


# The bad-input cases of these commands live in the catalogue, tests/test_bad_inputs.py.


def test_revised_formula_and_per_period_scope_options(tmp_path):
    out = tmp_path / "ccd"
    assert (
        main(
            _ccd_args(
                bundled_demo_path(),
                out,
                "--missing",
                "linear",
                "--formula",
                "revised",
                "--scope",
                "per-period",
            )
        )
        == 0
    )
    ccd = pd.read_csv(out / "ccd.csv")
    lo, hi = ccd[["U1", "U2"]].min(axis=1), ccd[["U1", "U2"]].max(axis=1)
    revised = ((1 - (hi - lo)) * lo / hi) ** 0.5
    assert (revised - ccd["C"]).abs().max() < 1e-12
    weights = pd.read_csv(out / "weights.csv")
    assert weights["period"].nunique() == 12
    np.testing.assert_allclose(weights.groupby(["period", "index"])["weight"].sum(), 1.0)


def test_fit_keeps_the_weights_and_the_model_transform_apart(tmp_path):
    """``--transform`` is the model's, ``--weights-transform`` the weights' (one ``dest``
    each, although both settings are called ``transform``)."""
    from bayes_ccd.cli import build_parser

    args = build_parser().parse_args(
        [
            "fit",
            "--data",
            "p",
            "--unit",
            "u",
            "--time",
            "t",
            "--y",
            "y",
            "--x",
            "a",
            "--weights",
            "w",
            "--out",
            "o",
            "--transform",
            "within",
            "--weights-transform",
            "o",
        ]
    )
    assert (args.transform, args.weights_transform) == ("within", "o")


def test_warnings_print_as_one_line_without_source_locations(tmp_path, capsys):
    units = ["a", "b", "c", "d"]
    (tmp_path / "W.csv").write_text(
        "unit,a,b,c,d\na,0,1,0,0\nb,1,0,1,0\nc,0,1,0,0\nd,0,0,0,0\n", encoding="utf-8"
    )
    rows = [f"{u},{t},{i + t},{i * t % 3}" for t in range(1, 4) for i, u in enumerate(units)]
    (tmp_path / "p.csv").write_text("unit,year,y,x\n" + "\n".join(rows) + "\n", encoding="utf-8")
    args = ["fit", "--data", str(tmp_path / "p.csv"), "--unit", "unit", "--time", "year"]
    args += ["--y", "y", "--x", "x", "--weights", str(tmp_path / "W.csv")]
    # In a process of its own, as a user runs it (pytest records warnings, never prints).
    err = subprocess.run(
        [str(Path(sys.executable).with_name("bayes-ccd")), *args, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    ).stderr
    line = next(x for x in err.splitlines() if "Warning" in x)
    assert line.startswith("[bayes-ccd] WeightsWarning: weights ") and "['d']" in line
    assert ".py:" not in err
