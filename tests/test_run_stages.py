"""`bayes-ccd run` keeps what finished: validation first, stage by stage, --only, --resume."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from bayes_ccd.cli import main
from bayes_ccd.config import bundled_models_dir
from bayes_ccd.data.demo import bundled_demo_path
from bayes_ccd.exceptions import ConvergenceWarning, DataWarning
from bayes_ccd.runner import STAGE_FILE

MODELS = bundled_models_dir()


def _demo_toml(
    tmp_path, *, edits=(), stages_off=("explore", "mle", "bayes", "model_choice")
) -> str:
    """models/demo.toml with absolute paths, quick stages switched off, text ``edits``."""
    text = (MODELS / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('file = "indicators.toml"', f'file = "{MODELS / "indicators.toml"}"')
    for name in stages_off:
        if f"[{name}]\nenabled = true\n" in text:
            text = text.replace(f"[{name}]\nenabled = true\n", f"[{name}]\nenabled = false\n", 1)
        elif f"[{name}]\n" in text:
            text = text.replace(f"[{name}]\n", f"[{name}]\nenabled = false\n", 1)
        else:
            text += f"\n[{name}]\nenabled = false\n"
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_validate_passes_the_demo_and_writes_nothing(tmp_path, capsys):
    start = time.perf_counter()
    assert main(["run", str(MODELS / "demo.toml"), "--validate"]) == 0
    assert time.perf_counter() - start < 10
    out = capsys.readouterr().out
    stages = (
        "ccd, explore, mle, bayes, hierarchical, compare, model_choice, dea, qca, qca_robustness"
    )
    assert f"valid; stages on: {stages}" in out
    assert not (tmp_path / "results").exists()


def test_validate_finds_a_problem_of_the_last_stage_in_seconds(tmp_path, capsys):
    path = _demo_toml(tmp_path, edits=[('"tertiary_share"]', '"tariffs"]')], stages_off=())
    start = time.perf_counter()
    assert main(["run", path, "--validate"]) == 2
    assert time.perf_counter() - start < 10
    err = capsys.readouterr().err
    assert "[qca] names column(s) ['tariffs'] that are not in the panel" in err


def test_a_factor_absorbed_by_the_fixed_effects_stops_the_run_before_any_stage(tmp_path, capsys):
    panel = pd.read_csv(bundled_demo_path())
    panel["national_rate"] = panel["year"] * 0.1  # the same for every province in a year
    panel.to_csv(tmp_path / "panel.csv", index=False)
    indicators = (MODELS / "indicators.toml").read_text(encoding="utf-8")
    indicators += '\n[[factors]]\nname = "national_rate"\ncolumn = "national_rate"\n'
    (tmp_path / "indicators.toml").write_text(indicators, encoding="utf-8")
    (tmp_path / "c.toml").write_text(
        '[data]\npanel = "panel.csv"\nunit = "province"\ntime = "year"\nmissing = "linear"\n'
        '[indicators]\nfile = "indicators.toml"\n[explore]\nenabled = false\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "c.toml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "design column 'national_rate' has no variation left" in err
    assert "the same for all units in each period" in err
    assert "entropy weights" not in err and not out.exists()


@pytest.mark.integration
def test_a_failed_last_stage_keeps_the_others_and_resume_reuses_them(tmp_path, capsys):
    impossible = [("incl_cut = 0.8", "incl_cut = 1.0"), ("pri_cut = 0.5", "pri_cut = 1.0")]
    path = _demo_toml(tmp_path, edits=impossible)
    out = tmp_path / "run"
    with pytest.warns(DataWarning):
        assert main(["run", path, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    error = [line for line in captured.err.splitlines() if "error:" in line]
    assert len(error) == 1 and "stage(s) qca failed (qca: no positive truth-table row" in error[0]
    assert "the results of ccd, dea are kept" in error[0]
    assert (out / "ccd" / "ccd.csv").is_file() and (out / "dea" / "efficiency.csv").is_file()
    assert not (out / "qca").exists()
    assert "FAILED: no positive truth-table row" in (out / "summary.md").read_text()
    stages = json.loads((out / "metadata.json").read_text())["stages"]
    assert stages["qca"]["status"] == "failed" and stages["dea"]["status"] == "done"
    assert stages["mle"]["status"] == "off"
    dea_key = json.loads((out / "dea" / STAGE_FILE).read_text())["key"]

    # The fix is in the last stage only: --resume reuses the coupling and the DEA.
    _demo_toml(tmp_path)
    before = (out / "dea" / "efficiency.csv").stat().st_mtime_ns
    with pytest.warns(DataWarning):
        assert main(["run", path, "--out", str(out), "--resume"]) == 0
    err = capsys.readouterr().err
    assert "stage ccd: unchanged since its last run, reused" in err
    assert "stage dea: unchanged since its last run, reused" in err
    assert (out / "qca" / "solutions.json").is_file()
    assert (out / "dea" / "efficiency.csv").stat().st_mtime_ns == before
    assert json.loads((out / "dea" / STAGE_FILE).read_text())["key"] == dea_key
    summary = (out / "summary.md").read_text()
    assert "(unchanged since the last run: reused)" in summary and "FAILED" not in summary

    # --only reruns the named stage and nothing else.
    with pytest.warns(DataWarning):
        assert main(["run", path, "--out", str(out), "--only", "dea"]) == 0
    err = capsys.readouterr().err
    assert "DEA efficiency of 2021" in err and "fsQCA" not in err
    assert (out / "dea" / "efficiency.csv").stat().st_mtime_ns != before
    assert (out / "qca" / "solutions.json").is_file()


@pytest.mark.integration
def test_one_chain_in_the_configuration_is_diagnosed_not_a_traceback(tmp_path, capsys):
    edits = [("chains = 4", "chains = 1"), ("draws = 2000", "draws = 300\nppc_draws = 0")]
    edits += [("by_region = true", "by_region = false")]
    edits += [("hierarchical = true", "hierarchical = false")]
    off = ("explore", "mle", "model_choice", "dea", "qca")
    path = _demo_toml(tmp_path, edits=edits, stages_off=off)
    out = tmp_path / "run"
    with pytest.warns(ConvergenceWarning, match="R-hat needs at least two chains"):
        assert main(["run", path, "--out", str(out), "--no-figures"]) == 0
    diagnostics = pd.read_csv(out / "bayes" / "diagnostics.csv")
    assert diagnostics["r_hat"].isna().all() and (diagnostics["ess_bulk"] > 0).all()
