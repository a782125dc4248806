"""Configuration: typed settings as the one source of defaults, merged in one place, typos
caught; the default indicator system's shape."""

from __future__ import annotations

import argparse

import pytest

from bayes_ccd.cli.common import add_setting, settings_from
from bayes_ccd.config import bundled_models_dir, load_run_config
from bayes_ccd.exceptions import ConfigError
from bayes_ccd.indices.indicators import parse_indicator_system, read_indicator_system
from bayes_ccd.run_config import RunConfig
from bayes_ccd.settings import (
    BayesSettings,
    CouplingSettings,
    EntropySettings,
    MLESettings,
    QCASettings,
)

MINIMAL = {"data": {"panel": "p.csv", "unit": "u", "time": "t"}, "indicators": {"file": "i.toml"}}


def merge_config(user):
    return RunConfig.from_mapping(user)


def test_merge_keeps_defaults_and_applies_user_values():
    merged = merge_config({**MINIMAL, "coupling": {"formula": "revised"}})
    assert merged.coupling == CouplingSettings(formula="revised")
    assert merged.coupling.alpha == 0.5 and merged.coupling.beta == 0.5
    assert merged.entropy == EntropySettings()
    assert CouplingSettings().formula == "classic"  # defaults are not mutated


def test_divergent_defaults_are_one_default_now():
    # pri_cut was 0.0 for `qca` and truth_table() but 0.5 in the run defaults; the MLE's
    # effect draws were 2000 through `fit --draws` and 5000 through `run`.
    assert QCASettings().pri_cut == QCASettings.pri_cut == 0.0
    assert MLESettings().effects_draws == 5000
    import inspect

    from bayes_ccd.qca.truth_table import truth_table
    from bayes_ccd.spatial.effects import DEFAULT_EFFECT_DRAWS

    assert inspect.signature(truth_table).parameters["pri_cut"].default == QCASettings.pri_cut
    assert DEFAULT_EFFECT_DRAWS == MLESettings.effects_draws


def test_the_transformation_moved_to_the_model_section():
    with pytest.raises(ConfigError, match=r"\[mle\] transform has moved to \[regression\]"):
        merge_config({**MINIMAL, "mle": {"transform": "within"}})
    merged = merge_config({**MINIMAL, "regression": {"transform": "within"}})
    assert merged.regression.transform == "within"


def test_command_line_flags_default_to_none_and_are_filled_from_the_settings():
    parser = argparse.ArgumentParser()
    for name in ("draws", "sampler", "ppc_draws"):
        add_setting(parser, BayesSettings, name)
    add_setting(parser, MLESettings, "tests")
    args = parser.parse_args(["--draws", "300"])
    assert args.sampler is None and args.tests is None
    settings = settings_from(args, BayesSettings)
    assert settings == BayesSettings(draws=300)
    assert parser.parse_args(["--no-tests"]).tests is False
    with pytest.raises(ConfigError, match=r"\[bayes\] draws = 0 must be a positive integer"):
        settings_from(parser.parse_args(["--draws", "0"]), BayesSettings)
    assert "(default 2000)" in BayesSettings.describe("draws")
    with pytest.raises(SystemExit):  # choices come from the setting
        parser.parse_args(["--sampler", "gibbs"])


def test_api_overrides_are_validated_like_toml():
    with pytest.raises(ConfigError, match=r"chains = 0 must be an integer from 1 to 64"):
        BayesSettings().replace(chains=0)
    with pytest.raises(ConfigError, match=r"unknown bayes setting\(s\) \['draw'\].*'draws'"):
        BayesSettings().replace(draw=10)
    assert BayesSettings().replace(draws=None) == BayesSettings()


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ({**MINIMAL, "copling": {}}, r"unknown section \[copling\] \(did you mean 'coupling'"),
        (
            {**MINIMAL, "entropy": {"shfit": 1e-3}},
            r"unknown key 'shfit' in \[entropy\] \(did "
            "you mean 'shift'",
        ),
        ({**MINIMAL, "entropy": {"shift": "small"}}, r"\[entropy\] shift = 'small' should be"),
        ({**MINIMAL, "explore": {"enabled": 1}}, r"enabled = 1 should be of type bool"),
        ({"indicators": {"file": "i.toml"}}, r"\[data\] panel is required"),
    ],
)
def test_config_errors(user, message):
    with pytest.raises(ConfigError, match=message):
        merge_config(user)


def test_run_config_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "study.toml"
    path.write_text(
        '[data]\npanel = "../panel.csv"\nunit = "u"\ntime = "t"\n[indicators]\nfile = "ind.toml"\n'
    )
    config = load_run_config(path)
    assert config.run.name == "study"
    assert config.data.panel == str(tmp_path / "sub" / ".." / "panel.csv")
    assert config.indicators.file == str(tmp_path / "sub" / "ind.toml")
    assert config.weights.source == "bundled:province-contiguity"
    assert config.to_dict()["run"]["config_file"] == str(path.resolve())


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[data\n")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_run_config(path)


def test_default_indicator_system_reproduces_the_seed_structure():
    system = read_indicator_system(bundled_models_dir() / "indicators.toml")
    digital, health = system.subsystems
    assert (digital.index, health.index) == ("U1", "U2")
    assert len(digital.indicators) == 11
    assert list(dict.fromkeys(i.dimension for i in digital.indicators)) == [
        "Digital infrastructure",
        "Digital industrialisation",
        "Industrial digitalisation",
        "Digital development environment",
    ]
    assert list(dict.fromkeys(i.dimension for i in health.indicators)) == [
        "Material resources",
        "Human resources",
        "Financial resources",
        "Service output",
        "Service efficiency",
    ]
    assert [f.name for f in system.factors] == [
        "ln_gdp_pc",
        "tertiary",
        "aged65",
        "density",
        "urbanisation",
        "gov_digital",
    ]
    assert system.factors[0].transform == "log"
    assert "-" in health.directions


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"subsystems": {"a": {}}}, "exactly two"),
        (
            {
                "subsystems": {
                    "a": {"index": "U1", "indicators": [{"column": "x"}]},
                    "b": {"index": "U3", "indicators": [{"column": "y"}]},
                }
            },
            r'index = "U2"',
        ),
        (
            {
                "subsystems": {
                    "a": {"index": "U1", "indicators": [{"column": "x", "direction": "up"}]},
                    "b": {"index": "U2", "indicators": [{"column": "y"}]},
                }
            },
            "direction must be",
        ),
        (
            {
                "subsystems": {
                    "a": {"index": "U1", "indicators": [{"column": "x"}]},
                    "b": {"index": "U2", "indicators": [{"column": "x"}]},
                }
            },
            r"\['x'\] listed more than once",
        ),
        (
            {
                "subsystems": {
                    "a": {"index": "U1", "indicators": [{"column": "x"}]},
                    "b": {"index": "U2", "indicators": [{"column": "y"}]},
                },
                "factors": [{"column": "z", "transform": "sqrt"}],
            },
            "transform must be",
        ),
        (
            {
                "subsystems": {
                    "a": {"index": "U1", "indicators": [{"label": "x"}]},
                    "b": {"index": "U2", "indicators": [{"column": "y"}]},
                }
            },
            "'column' is required",
        ),
    ],
)
def test_indicator_system_errors(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_indicator_system(data, "test.toml")


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("entropy", {"scope": "bogus"}, r"\[entropy\] scope = 'bogus' is not one of"),
        ("entropy", {"shift": -1.0}, r"shift = -1.0 must be in \(0, 1\]"),
        ("coupling", {"formula": "x"}, r"formula = 'x' is not one of \['classic'"),
        ("coupling", {"alpha": 0.7}, r"alpha \+ beta must be 1"),
        ("regression", {"model": "slx"}, r"model = 'slx' is not one of"),
        ("bayes", {"chains": 0}, r"chains = 0 must be an integer from 1 to 64"),
        ("bayes", {"draws": 10.5}, r"draws = 10.5 must be a positive integer"),
        ("explore", {"significance": 1.0}, r"significance = 1.0 must be in \(0, 1\)"),
    ],
)
def test_bad_values_are_caught_when_the_configuration_is_read(section, values, message):
    with pytest.raises(ConfigError, match=message):
        merge_config({**MINIMAL, section: values})
