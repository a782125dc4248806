"""Robustness specifications: ids, expansion, configurations, the store, Dask, resuming.

The effects of every specification are checked against a separate fit built with the
public API from the same data and settings (the same seed gives the same draws); the
Dask runs are checked against the in-process run; a killed run is resumed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayes_ccd as bc
from bayes_ccd.config import bundled_models_dir, demo_config, load_run_config
from bayes_ccd.exceptions import ConfigError, DataError
from bayes_ccd.sensitivity.samples import expand_samples, sample_exclusions
from bayes_ccd.sensitivity.specification import (
    Specification,
    specification_config,
    specification_id,
    specifications,
)
from bayes_ccd.sensitivity.store import STORE_DIR

DRAWS, CHAINS = 500, 2
PERIODS = list(range(2012, 2024))
REGIONS = {"east": ["Beijing", "Tianjin"], "west": ["Tibet"]}
BASE = {
    "weights": "bundled:province-contiguity",
    "prior": "default",
    "errors": "normal",
    "fe": "both",
    "model": "sdm",
    "sample": "full",
    "coupling": "classic",
    "entropy": "pooled",
}


def _config_text(robustness: str, *, draws: int = DRAWS) -> str:
    """The demo configuration with absolute paths, few draws and its own [robustness]."""
    models = bundled_models_dir()
    text = (models / "demo.toml").read_text(encoding="utf-8")
    text = text.split("[robustness]")[0].rsplit("\n# Robustness", 1)[0]
    text = text.replace('file = "indicators.toml"', f'file = "{models / "indicators.toml"}"')
    text = text.replace("draws = 2000", f"draws = {draws}").replace(
        "chains = 4", f"chains = {CHAINS}"
    )
    return text + "\n[robustness]\n" + robustness + "\n"


@pytest.fixture
def config_file(tmp_path):
    def _write(robustness: str, name: str = "robust.toml") -> Path:
        path = tmp_path / name
        path.write_text(_config_text(robustness), encoding="utf-8")
        return path

    return _write


# --- specifications -------------------------------------------------------------------


def test_one_at_a_time_varies_one_dimension_around_the_base():
    alternatives = {"weights": ["knn:4", "contiguity:2"], "prior": ["reference", "default"]}
    specs = specifications(BASE, alternatives, design="one-at-a-time")
    # "default" is the base's prior: it is the base itself, not a second specification.
    assert [s.id for s in specs] == [
        "base",
        "weights-knn-4",
        "weights-contiguity-2",
        "prior-reference",
    ]
    assert specs[1].changes == (("weights", "knn:4"),)
    assert specs[1].label == "weights: knn:4"
    assert specs[0].dimension == "base" and specs[3].dimension == "prior"


def test_grid_takes_every_combination_with_stable_ids():
    alternatives = {"weights": ["knn:4"], "fe": ["individual", "time"], "prior": ["wide"]}
    specs = specifications(BASE, alternatives, design="grid")
    assert len(specs) == 2 * 3 * 2
    ids = {s.id for s in specs}
    assert "weights-knn-4+prior-wide+fe-time" in ids
    # The id depends on the changes, not on their order or on the other specifications.
    assert specification_id([("fe", "time"), ("weights", "knn:4"), ("prior", "wide")]) == (
        "weights-knn-4+prior-wide+fe-time"
    )
    assert all(s.dimension == "grid" for s in specs if len(s.changes) > 1)


def test_file_alternatives_get_distinct_ids():
    first = specification_id([("prior", "/a/priors.toml")])
    second = specification_id([("prior", "/b/priors.toml")])
    assert first.startswith("prior-priors-toml-") and first != second


def test_sample_generators_expand_and_exclude():
    values = ["drop-each-period", "drop-first:2", "drop-region:west", "drop-units:Beijing,Tibet"]
    expanded = expand_samples(values, PERIODS, REGIONS)
    assert expanded[:12] == [f"drop-period:{p}" for p in PERIODS]
    assert expanded[12:] == ["drop-first:2", "drop-region:west", "drop-units:Beijing,Tibet"]
    assert sample_exclusions("drop-first:2", PERIODS, REGIONS)["exclude_periods"] == [2012, 2013]
    assert sample_exclusions("drop-last:3", PERIODS, REGIONS)["exclude_periods"] == [
        2021,
        2022,
        2023,
    ]
    assert sample_exclusions("drop-region:east", PERIODS, REGIONS)["exclude_units"] == [
        "Beijing",
        "Tianjin",
    ]
    assert sample_exclusions("drop-units:Beijing, Tibet", PERIODS, REGIONS)["exclude_units"] == [
        "Beijing",
        "Tibet",
    ]
    assert expand_samples(["drop-each-region"], PERIODS, REGIONS) == [
        "drop-region:east",
        "drop-region:west",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("drop-period:1999", "not a period"),
        ("drop-region:north", "unknown region"),
        ("drop-first:11", "at least two"),
        ("leave-one-out", "not a sub-sample"),
    ],
)
def test_bad_sample_is_a_config_error(value, message):
    with pytest.raises(ConfigError, match=message):
        expand_samples([value], PERIODS, REGIONS)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"errors": ["cauchy"]}, r"\[robustness\] errors: unknown \['cauchy'\]"),
        ({"fe": ["unit"]}, r"\[robustness\] fe"),
        ({"samples": ["drop-every-other"]}, "not a sub-sample"),
        ({"weights": ["knn:0"]}, r"\[robustness\] weights 'knn:0'"),
        ({"design": "factorial"}, "design"),
    ],
)
def test_bad_robustness_settings_are_named(section, message):
    with pytest.raises(ConfigError, match=message):
        bc.RunConfig.from_mapping(
            {
                "data": {"panel": "p.csv", "unit": "u", "time": "t"},
                "indicators": {"file": "i.toml"},
                "robustness": section,
            }
        )


def test_specification_config_changes_only_its_settings():
    config = demo_config()
    spec = Specification("x", (("errors", "student_t"), ("sample", "drop-last:2")))
    changed = specification_config(config, spec, PERIODS, REGIONS)
    assert changed.bayes.errors == "student_t" and changed.bayes.sampler == "nuts"
    assert changed.bayes.draws == config.robustness.nuts_draws
    assert list(changed.data.exclude_periods) == [2022, 2023]
    assert changed.weights == config.weights and changed.coupling == config.coupling
    assert not changed.regression.by_region and not changed.mle.enabled
    assert not (changed.dea.enabled or changed.qca.enabled or changed.explore.enabled)


def test_prior_presets_tight_and_wide_scale_the_default():
    from bayes_ccd.spatial.bayes.priors import DEFAULT_PRIOR, resolve_prior

    tight, wide = resolve_prior("tight"), resolve_prior("wide")
    assert tight.coefficients.scale == 1.0 and wide.coefficients.scale == 10.0
    assert tight.sigma == DEFAULT_PRIOR.sigma and wide.spatial == DEFAULT_PRIOR.spatial


def test_panel_without_leaves_out_units_and_periods():
    panel = bc.demo_panel()
    smaller = panel.without(["Hubei"], [2020, 2021])
    assert smaller.n_units == 30 and smaller.periods == [
        p for p in PERIODS if p not in (2020, 2021)
    ]
    assert "Hubei" not in smaller.units
    # Hubei's filled 2020 cells leave with Hubei.
    assert len(panel.filled) > 0 and len(smaller.filled) == 0
    with pytest.raises(DataError, match=r"exclude_periods: \[1999\]"):
        panel.without(periods=[1999])


# --- fits -----------------------------------------------------------------------------


def _separate_fit(config, *, weights=None, panel=None, fe="both", prior=None):
    """The fit a researcher would make by hand with the public API."""
    system = bc.read_indicator_system(config.indicators.file)
    panel = panel if panel is not None else bc.demo_panel()
    coupling = bc.ccd(panel, system)
    model = bc.SpatialPanel(
        data=coupling.panel,
        weights=weights if weights is not None else bc.province_contiguity().subset(panel.units),
        y="D",
        x=list(system.factors),
        fe=fe,
    )
    options = {"prior": prior} if prior else {}
    return model.fit(
        "bayes", seed=config.run.seed, draws=DRAWS, chains=CHAINS, ppc_draws=0, **options
    )


def _assert_same_effects(result, spec_id, fit):
    table = result.table().query("specification == @spec_id").set_index(["effect", "variable"])
    expected = fit.effects().set_index(["effect", "variable"])
    assert len(table) == len(expected) > 0
    columns = ["mean", "sd", "lower", "upper", "prob_positive"]
    np.testing.assert_allclose(
        table.loc[expected.index, columns].to_numpy(), expected[columns].to_numpy(), rtol=1e-12
    )


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory):
    directory = tmp_path_factory.mktemp("robustness")
    path = directory / "robust.toml"
    path.write_text(
        _config_text(
            'weights = ["knn:4"]\npriors = ["reference"]\nfe = ["individual"]\n'
            'samples = ["drop-period:2015", "drop-region:west"]\n'
        ),
        encoding="utf-8",
    )
    config = load_run_config(path)
    return config, bc.robustness(config, directory / "out")


def test_each_specification_equals_a_separate_fit(demo_result):
    config, result = demo_result
    assert list(result.specifications["status"]) == ["ok"] * 6
    _assert_same_effects(result, "base", _separate_fit(config))
    knn = bc.knn_weights(k=4, units=bc.demo_panel().units)
    _assert_same_effects(result, "weights-knn-4", _separate_fit(config, weights=knn))
    _assert_same_effects(result, "prior-reference", _separate_fit(config, prior="reference"))
    _assert_same_effects(result, "fe-individual", _separate_fit(config, fe="individual"))
    full = bc.demo_panel()
    frame = full.frame[full.frame["period"] != 2015].reset_index(drop=True)
    without_2015 = bc.Panel(frame, full.source, full.filled, full.notice)
    _assert_same_effects(
        result, "sample-drop-period-2015", _separate_fit(config, panel=without_2015)
    )
    regions = bc.read_regions()
    east_and_central = [u for u in full.units if regions[u] != "west"]
    _assert_same_effects(
        result,
        "sample-drop-region-west",
        _separate_fit(
            config,
            panel=full.subset(east_and_central),
            weights=bc.province_contiguity().subset(east_and_central),
        ),
    )


def test_stability_counts_sign_and_credibility_changes(demo_result):
    _, result = demo_result
    table = result.table()
    stability = result.stability()
    assert len(stability) == table.groupby(["effect", "variable"]).ngroups
    for row in stability.itertuples(index=False):
        rows = table[(table["effect"] == row.effect) & (table["variable"] == row.variable)]
        base = rows[rows["specification"] == "base"].iloc[0]
        others = rows[rows["specification"] != "base"]
        credible = lambda r: (r["lower"] > 0) | (r["upper"] < 0)  # noqa: E731
        same_sign = np.sign(others["mean"]) == np.sign(base["mean"])
        same_credible = credible(others) == credible(base)
        assert row.same_sign == pytest.approx(same_sign.mean())
        assert row.same_credibility == pytest.approx(same_credible.mean())
        assert set(filter(None, row.changed.split("; "))) == set(
            others.loc[~(same_sign & same_credible), "specification"]
        )


def test_outputs_are_written_and_marked_synthetic(demo_result):
    _, result = demo_result
    figure = result.plot_forest("total")
    texts = [t.get_text() for t in figure.texts] + [figure._supxlabel.get_text()]
    assert any("SYNTHETIC" in t for t in texts)
    assert "95% central interval" in figure._suptitle.get_text()
    labels = [ax.get_xlabel() for ax in figure.axes if ax.get_visible()]
    assert labels and all(label == "total effect on D" for label in labels)
    summary = result.summary().to_markdown()
    assert "SYNTHETIC" in summary and "Total effect of ln_gdp_pc" in summary


def test_written_files(demo_result, tmp_path):
    _, result = demo_result
    result.write(tmp_path / "w")
    names = {p.name for p in (tmp_path / "w").iterdir()}
    for stem in ("forest_total.png", "forest_direct.pdf", "robustness.csv", "stability.tex"):
        assert stem in names
    table = pd.read_csv(tmp_path / "w" / "robustness.csv")
    assert set(table["specification"]) == set(result.specifications["id"])


def test_a_failing_specification_is_reported_and_the_others_complete(config_file, tmp_path):
    path = config_file('weights = ["economic:no_such_column"]\nfe = ["individual"]\n')
    result = bc.robustness(path, tmp_path / "out")
    status = dict(zip(result.specifications["id"], result.specifications["status"], strict=True))
    assert status == {
        "base": "ok",
        "weights-economic-no-such-column": "failed",
        "fe-individual": "ok",
    }
    assert "no_such_column" in result.failed["weights-economic-no-such-column"]
    assert "FAILED" in result.summary().to_markdown()
    # The failure is stored but not reused: a re-run tries it again.
    again = bc.robustness(path, tmp_path / "out")
    assert list(again.specifications["reused"]) == [True, False, True]


def test_a_missing_prior_file_is_refused_before_any_fit(config_file, tmp_path):
    path = config_file('priors = ["no-such-prior.toml"]\n')
    with pytest.raises(ConfigError, match="no-such-prior.toml"):
        bc.robustness(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_local_cluster_with_two_worker_processes_gives_the_same_table(config_file, tmp_path):
    from distributed import LocalCluster

    path = config_file('design = "grid"\npriors = ["reference"]\nfe = ["individual"]\n')
    sequential = bc.robustness(path)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        distributed = bc.robustness(path, tmp_path / "out", scheduler=cluster.scheduler_address)
    assert len(sequential.specifications) == 4
    pd.testing.assert_frame_equal(sequential.table(), distributed.table())
    # The tasks really ran in the worker processes.
    assert os.getpid() not in set(distributed.specifications.get("pid", []))


@pytest.mark.slow
def test_a_killed_run_resumes_with_what_finished(config_file, tmp_path):
    path = config_file('samples = ["drop-each-period"]\n')
    out = tmp_path / "out"
    command = [sys.executable, "-m", "bayes_ccd", "robustness", str(path), "--out", str(out)]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    first = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    store = out / STORE_DIR
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and first.poll() is None:
        if store.is_dir() and len([p for p in store.iterdir() if not p.name.startswith(".")]) >= 2:
            break
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    finished = sorted(p.name for p in store.iterdir() if not p.name.startswith("."))
    assert 2 <= len(finished) < 13, finished
    assert not (out / "robustness.csv").exists()

    second = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert second.returncode == 0, second.stderr
    assert (
        f"{len(finished)} finished earlier and reused, {13 - len(finished)} to fit" in second.stderr
    )
    resumed = pd.read_csv(out / "robustness.csv")
    uninterrupted = bc.robustness(path).table()
    pd.testing.assert_frame_equal(resumed, uninterrupted, check_dtype=False)


def test_command_line_overrides_the_alternatives(config_file, tmp_path, capsys):
    from bayes_ccd.cli import main

    path = config_file('weights = ["contiguity:2"]\n')
    out = tmp_path / "out"
    code = main(["robustness", str(path), "--weights", "knn:4", "--no-figures", "--out", str(out)])
    assert code == 0
    table = pd.read_csv(out / "specifications.csv")
    assert list(table["id"]) == ["base", "weights-knn-4"]
    assert not (out / "forest_total.png").exists()
    assert "Total effect of ln_gdp_pc" in capsys.readouterr().out


def test_command_line_bad_sample_writes_nothing(config_file, tmp_path, capsys):
    from bayes_ccd.cli import main

    path = config_file("")
    out = tmp_path / "out"
    code = main(["robustness", str(path), "--samples", "drop-period:1999", "--out", str(out)])
    assert code == 2
    assert "1999 is not a period" in capsys.readouterr().err
    assert not out.exists()


def test_by_region_adds_each_region_s_fit(config_file, tmp_path):
    path = config_file('by_region = true\nfe = ["individual"]\n')
    result = bc.robustness(path, tmp_path / "out", figures=True)
    assert result.samples == ["national", "east", "central", "west"]
    config = load_run_config(path)
    system = bc.read_indicator_system(config.indicators.file)
    coupling = bc.ccd(bc.demo_panel(), system)
    model = bc.SpatialPanel(
        data=coupling.panel,
        weights=bc.province_contiguity(),
        y="D",
        x=list(system.factors),
        regions=bc.read_regions(),
    )
    with pytest.warns(bc.WeightsWarning):  # the central region's W has two components
        fits = model.fit(
            "bayes", by_region=True, seed=config.run.seed, draws=DRAWS, chains=CHAINS, ppc_draws=0
        )
    for region in ("east", "central", "west"):
        expected = fits[region].effects().set_index(["effect", "variable"])
        table = result.table(sample=region).query("specification == 'base'")
        table = table.set_index(["effect", "variable"]).loc[expected.index]
        np.testing.assert_allclose(table["mean"], expected["mean"], rtol=1e-12)
    stability = result.stability()
    assert set(stability["sample"]) == set(result.samples)
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"forest_total_east.png", "effects_direct_west.tex", "effects_total.md"} <= names


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_tables_compile_and_fit_the_page(demo_result, tmp_path):
    from test_latex_tables import assert_fits, compile_table

    _, result = demo_result
    result.write(tmp_path / "w", figures=False)
    tables = sorted((tmp_path / "w").glob("*.tex"))
    assert {t.name for t in tables} >= {"stability.tex", "effects_total.tex"}
    for tex in tables:
        assert_fits(compile_table(tex, tmp_path), tex.name)
