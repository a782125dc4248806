"""Configuration: defaults merged in one place, typos caught, the default system's shape."""

from __future__ import annotations

import pytest

from bayes_ccd.config import DEFAULTS, bundled_models_dir, load_run_config, merge_config
from bayes_ccd.exceptions import ConfigError
from bayes_ccd.indices.indicators import parse_indicator_system, read_indicator_system

MINIMAL = {"data": {"panel": "p.csv", "unit": "u", "time": "t"}, "indicators": {"file": "i.toml"}}


def test_merge_keeps_defaults_and_applies_user_values():
    merged = merge_config({**MINIMAL, "coupling": {"formula": "revised"}})
    assert merged["coupling"] == {**DEFAULTS["coupling"], "formula": "revised"}
    assert merged["entropy"] == DEFAULTS["entropy"]
    assert DEFAULTS["coupling"]["formula"] == "classic"  # defaults are not mutated


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
    assert config["run"]["name"] == "study"
    assert config["data"]["panel"] == str(tmp_path / "sub" / ".." / "panel.csv")
    assert config["indicators"]["file"] == str(tmp_path / "sub" / "ind.toml")
    assert config["weights"]["source"] == "bundled:province-contiguity"


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
