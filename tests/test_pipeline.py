"""`bayes-ccd run` end to end on the synthetic demo panel, with reduced settings."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bayes_ccd.cli import main
from bayes_ccd.config import bundled_models_dir
from bayes_ccd.data.demo import SYNTHETIC_NOTICE
from bayes_ccd.exceptions import DataWarning, WeightsWarning

INDICATORS = bundled_models_dir() / "indicators.toml"


BASE = {
    "run": {"name": "small", "seed": 7},
    "data": {"panel": "bundled:demo", "unit": "province", "time": "year", "missing": "linear"},
    "indicators": {"file": str(INDICATORS)},
    "explore": {"permutations": 99, "significance": 0.1},
    "mle": {"effects_draws": 200},
    # exact sampler: 4 x 1000 independent draws, enough for R-hat < 1.01 and ESS > 400
    "bayes": {"draws": 1000, "chains": 4, "ppc_draws": 20},
    # The DEA and the fsQCA run on columns of one's own study, named in the configuration.
    "dea": {
        "inputs": ["beds", "physicians", "nurses", "health_expenditure"],
        "outputs": ["outpatient_visits", "discharges"],
    },
    "qca": {
        "conditions": ["U1", "gdp_per_capita", "urbanisation_rate", "urban_density"],
        "anchors": {"crs": [1.0, 0.98, 0.92]},
    },
}


def _toml(value) -> str:
    """A TOML literal of a string, number, list or (inline) table."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _config(tmp_path, **overrides: dict) -> str:
    """Write BASE with ``overrides`` merged per section as a TOML file."""
    sections = {
        name: {**BASE.get(name, {}), **overrides.get(name, {})} for name in {**BASE, **overrides}
    }
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    path = tmp_path / "small.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.integration
def test_run_writes_every_stage_and_says_the_data_are_synthetic(tmp_path, capsys):
    out = tmp_path / "results" / "small"
    with pytest.warns((WeightsWarning, DataWarning)) as record:
        config = _config(tmp_path, dea={"bootstrap": True, "replications": 20})
        assert main(["run", config, "--out", str(out)]) == 0
    messages = " ".join(str(w.message) for w in record)
    # Jilin and Heilongjiang are cut off from the other central provinces, and the demo's
    # largest province has no VRS super-efficiency: both are reported, not hidden.
    assert "central: the neighbour graph has 2 disconnected components" in messages
    assert "super-efficiency (Andersen-Petersen) has no solution" in messages
    printed = capsys.readouterr().out
    assert SYNTHETIC_NOTICE in printed
    for name in (
        "summary.md",
        "metadata.json",
        "ccd/ccd.csv",
        "ccd/weights.tex",
        "explore/moran_global.csv",
        "explore/lisa.csv",
        "mle/effects.csv",
        "mle/tests.csv",
        "mle/regions/east/coefficients.csv",
        "bayes/posterior.nc",
        "bayes/diagnostics.csv",
        "compare/comparison.csv",
        "dea/efficiency.csv",
        "dea/malmquist.csv",
        "dea/bootstrap.csv",
        "dea/bootstrap_intervals.png",
        "dea/rts_test.json",
        "qca/solutions.json",
        "qca/truth_table.csv",
    ):
        assert (out / name).is_file(), name
    summary = (out / "summary.md").read_text()
    assert SYNTHETIC_NOTICE in summary
    assert "Hubei 2020 outpatient_visits" in summary  # the filled cells are reported
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["seed"] == 7 and meta["synthetic_data"] is True
    assert meta["config"]["explore"]["permutations"] == 99
    assert meta["packages"]["pymc"] != "not installed"
    # The stages agree on the sample: the regression uses every unit-year of the CCD table.
    ccd = pd.read_csv(out / "ccd" / "ccd.csv")
    fit = json.loads((out / "mle" / "fit.json").read_text())
    assert (fit["N"], fit["T"]) == (ccd["unit"].nunique(), ccd["period"].nunique())
    assert [c["column"] for c in fit["filled_cells"]] == ["outpatient_visits", "discharges"]
    effects = pd.read_csv(out / "mle" / "effects_by_region.csv")
    assert set(effects["region"]) == {"national", "east", "central", "west"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dea": {"year": 1999}}, "[dea] year = 1999 is not a period of the panel"),
        ({"regression": {"y": "GDP"}}, "[regression] y = 'GDP' must be one of"),
        ({"bayes": {"prior": "nope.toml"}}, "nope.toml does not exist"),
        ({"explore": {"permutations": 19}}, "smallest attainable two-sided p-value"),
        ({"qca": {"anchors": {"gdp": [1, 2, 3]}}}, "[qca] anchors for ['gdp']"),
        ({"dea": {"enabled": False}}, "[qca] runs on the cases of the DEA year"),
    ],
)
def test_bad_settings_stop_the_run_before_any_stage(tmp_path, capsys, overrides, message):
    out = tmp_path / "results" / "small"
    assert main(["run", _config(tmp_path, **overrides), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "entropy weights" not in err  # stopped before the first stage
    assert not out.exists()


def test_regional_fits_that_cannot_run_are_said_not_skipped(tmp_path):
    import bayes_ccd as bc

    (tmp_path / "regions.csv").write_text("unit,region\nAtlantis,sea\n", encoding="utf-8")
    off = {"enabled": False}
    path = _config(
        tmp_path,
        data={"regions": str(tmp_path / "regions.csv")},
        explore=off,
        bayes=off,
        dea=off,
        qca=off,
        mle={"tests": False},
    )
    with pytest.warns(DataWarning, match="covers none of the panel's units"):
        result = bc.run(path)
    assert list(result.mle) == ["national"]
