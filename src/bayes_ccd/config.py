"""Configuration: the indicator system and the run configuration, both TOML.

The defaults of every stage live in :data:`DEFAULTS`, and :func:`load_run_config`
merges a user's file over them in one place (``defaults | user``, section by section).
Unknown sections or keys are errors (a typo must not silently fall back to a default),
and the merged configuration is what every output records in ``metadata.json``.

Paths inside a configuration file are relative to that file; ``bundled:...`` names
data shipped with the package.
"""

from __future__ import annotations

import copy
import difflib
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from bayes_ccd.conventions import DEFAULT_SEED
from bayes_ccd.exceptions import ConfigError

#: Named prior sets of the Bayesian models; anything else is a TOML file of priors.
PRIOR_PRESETS = ("default", "reference")

#: Marks a key every configuration must set.
REQUIRED = "<required>"

#: Defaults of every stage. A run configuration overrides any of them.
DEFAULTS: dict[str, dict[str, Any]] = {
    "run": {
        "name": "",  # default: the configuration file's stem
        "seed": DEFAULT_SEED,
        "output_dir": "results",  # relative to the working directory
    },
    "data": {
        "panel": REQUIRED,  # CSV path, or "bundled:demo" for the synthetic demo panel
        "unit": REQUIRED,
        "time": REQUIRED,
        "missing": "error",  # or "linear": interpolate interior gaps within each unit
        "regions": "bundled:provinces",  # CSV with columns unit,region
        "region_unit_column": "unit",
        "region_column": "region",
    },
    "indicators": {"file": REQUIRED},
    "weights": {
        "source": "bundled:province-contiguity",  # square CSV, edge list CSV or GAL
        "transform": "r",  # "r" row-standardised, "o" as given
    },
    "entropy": {
        "scope": "pooled",  # pooled over all unit-periods, or "per-period"
        "shift": 1e-4,  # added to standardised values so that p*log(p) is defined
    },
    "coupling": {
        "alpha": 0.5,  # weight of U1 in T = alpha*U1 + beta*U2
        "beta": 0.5,
        "formula": "classic",  # or "revised" (Wang et al. 2021)
    },
    "explore": {
        "enabled": True,
        "variables": ["D", "U1", "U2"],
        "years": [],  # years to map; empty: first, middle and last
        "permutations": 999,
        "bandwidth": "silverman",
        "significance": 0.05,
        "boundary": "",  # optional GeoJSON/shapefile for true choropleths
        "boundary_id": "",
        "pdf": False,
    },
    "regression": {
        "y": "D",
        "model": "sdm",
        "fe": "both",
        "by_region": True,
    },
    "mle": {
        "enabled": True,
        "transform": "lee-yu",  # or "within" (uncorrected, for comparison)
        "effects_draws": 5000,
    },
    "bayes": {
        "enabled": True,
        "sampler": "exact",  # or "nuts"
        "prior": "default",  # "default", "reference" or a TOML file of priors
        "draws": 2000,
        "tune": 1000,
        "chains": 4,
        "target_accept": 0.8,  # NUTS; raise (e.g. 0.95) after divergences
        "ppc_draws": 200,  # posterior draws replicated for the predictive check; 0: none
    },
    "dea": {
        "enabled": True,
        "year": 2021,
        "inputs": ["beds", "physicians", "nurses", "health_expenditure"],
        "outputs": ["outpatient_visits", "discharges"],
        "orientation": "input",
        "rts": "both",
    },
    "qca": {
        "enabled": True,
        "outcome": "crs",
        "conditions": [
            "U1",
            "gdp_per_capita",
            "urbanisation_rate",
            "urban_density",
            "tertiary_share",
        ],
        "calibration": "percentiles",  # 95/50/5 sample percentiles, or "none"
        # per-column [full, crossover, non] anchors (numbers or "p95"-style percentiles)
        "anchors": {},
        "incl_cut": 0.8,
        "n_cut": 1,
        "pri_cut": 0.5,
        "dir_exp": [],  # directional expectations, e.g. ["U1", "~urban_density"]
    },
}


#: Allowed values of the enumerated settings.
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("data", "missing"): ("error", "linear"),
    ("weights", "transform"): ("r", "o"),
    ("entropy", "scope"): ("pooled", "per-period"),
    ("coupling", "formula"): ("classic", "revised"),
    ("regression", "model"): ("sdm", "sar", "sem", "sdem"),
    ("regression", "fe"): ("both", "individual", "time", "none"),
    ("mle", "transform"): ("lee-yu", "within"),
    ("bayes", "sampler"): ("exact", "nuts"),
    ("dea", "orientation"): ("input", "output"),
    ("dea", "rts"): ("crs", "vrs", "both"),
    ("qca", "calibration"): ("percentiles", "none"),
}

#: Numeric settings and the interval they must lie in (closed unless noted).
RANGES: dict[tuple[str, str], tuple[float, float, str]] = {
    ("run", "seed"): (0, 2**32 - 1, "an integer in [0, 2^32)"),
    ("entropy", "shift"): (0, 1, "in (0, 1]"),
    ("coupling", "alpha"): (0, 1, "in [0, 1]"),
    ("coupling", "beta"): (0, 1, "in [0, 1]"),
    ("explore", "permutations"): (1, 1e6, "a positive integer"),
    ("explore", "significance"): (0, 1, "in (0, 1)"),
    ("mle", "effects_draws"): (1, 1e7, "a positive integer"),
    ("bayes", "draws"): (1, 1e7, "a positive integer"),
    ("bayes", "tune"): (0, 1e7, "a non-negative integer"),
    ("bayes", "chains"): (1, 64, "an integer from 1 to 64"),
    ("bayes", "target_accept"): (0, 1, "in (0, 1)"),
    ("bayes", "ppc_draws"): (0, 1e6, "a non-negative integer"),
    ("qca", "incl_cut"): (0, 1, "in (0, 1]"),
    ("qca", "n_cut"): (1, 1e6, "a positive integer"),
    ("qca", "pri_cut"): (0, 1, "in [0, 1]"),
}
_OPEN_BELOW = {
    ("entropy", "shift"),
    ("explore", "significance"),
    ("bayes", "target_accept"),
    ("qca", "incl_cut"),
}
_OPEN_ABOVE = {("explore", "significance"), ("bayes", "target_accept")}
_INTEGERS = {
    ("run", "seed"),
    ("explore", "permutations"),
    ("mle", "effects_draws"),
    ("bayes", "draws"),
    ("bayes", "tune"),
    ("bayes", "chains"),
    ("bayes", "ppc_draws"),
    ("qca", "n_cut"),
}


def check_settings(config: Mapping[str, Mapping[str, Any]], source: str = "<memory>") -> None:
    """Check the values of the settings present in ``config``: enumerated choices,
    numeric ranges, ``alpha + beta = 1``. Raises :class:`ConfigError` naming the key,
    so that a bad value stops a run before any stage starts."""
    for section, values in config.items():
        for key, value in values.items():
            where = f"{source}: [{section}] {key} = {value!r}"
            choices = CHOICES.get((section, key))
            if choices is not None and value not in choices:
                raise ConfigError(f"{where} is not one of {list(choices)}")
            bounds = RANGES.get((section, key))
            if bounds is None:
                continue
            lo, hi, text = bounds
            integer = (section, key) in _INTEGERS
            if integer and (isinstance(value, bool) or value != int(value)):
                raise ConfigError(f"{where} must be {text}")
            too_low = value <= lo if (section, key) in _OPEN_BELOW else value < lo
            too_high = value >= hi if (section, key) in _OPEN_ABOVE else value > hi
            if too_low or too_high:
                raise ConfigError(f"{where} must be {text}")
    coupling = config.get("coupling", {})
    if (
        "alpha" in coupling
        and "beta" in coupling
        and abs(coupling["alpha"] + coupling["beta"] - 1) > 1e-9
    ):
        raise ConfigError(
            f"{source}: [coupling] alpha + beta must be 1 (got "
            f"{coupling['alpha']} + {coupling['beta']})"
        )


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; errors name the file and TOML's own line/column message."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"configuration file {path} does not exist")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def merge_config(
    user: Mapping[str, Any],
    source: str = "<memory>",
    defaults: Mapping[str, Mapping[str, Any]] = DEFAULTS,
) -> dict[str, Any]:
    """``defaults | user`` for each section; unknown sections/keys and missing required
    keys raise :class:`ConfigError` with a suggestion."""
    merged = copy.deepcopy(dict(defaults))
    for section, values in user.items():
        if section not in defaults:
            raise ConfigError(
                f"{source}: unknown section [{section}]" + _suggest(section, defaults)
            )
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: [{section}] must be a table")
        for key, value in values.items():
            if key not in defaults[section]:
                raise ConfigError(
                    f"{source}: unknown key '{key}' in [{section}]"
                    + _suggest(key, defaults[section])
                )
            default = defaults[section][key]
            if default != REQUIRED and not _same_kind(default, value):
                raise ConfigError(
                    f"{source}: [{section}] {key} = {value!r} should be of "
                    f"type {type(default).__name__}"
                )
        merged[section] = {**merged[section], **values}
    for section, values in merged.items():
        for key, value in values.items():
            if value == REQUIRED:
                raise ConfigError(f"{source}: [{section}] {key} is required")
    check_settings(merged, source)
    return merged


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _suggest(word: str, options: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (known: {sorted(options)})"


def resolve_path(value: str, base: Path) -> str | Path:
    """A path from a configuration: ``bundled:...`` as is, else relative to ``base``."""
    if not value or value.startswith("bundled:"):
        return value
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path)


def load_run_config(path: str | Path) -> dict[str, Any]:
    """Read a run configuration, merge it over :data:`DEFAULTS`, resolve its paths.

    The result also holds ``run.config_file``, the configuration's absolute path.
    """
    path = Path(path)
    merged = merge_config(read_toml(path), source=str(path))
    base = path.resolve().parent
    merged["run"]["config_file"] = str(path.resolve())
    if not merged["run"]["name"]:
        merged["run"]["name"] = path.stem
    for section, key in (
        ("data", "panel"),
        ("data", "regions"),
        ("indicators", "file"),
        ("weights", "source"),
        ("explore", "boundary"),
    ):
        merged[section][key] = str(resolve_path(merged[section][key], base))
    if merged["bayes"]["prior"] not in PRIOR_PRESETS:
        merged["bayes"]["prior"] = str(resolve_path(merged["bayes"]["prior"], base))
    return merged


def bundled_models_dir() -> Path:
    """The directory of the bundled TOML configurations.

    In a wheel ``models/`` is installed inside the package; in a source checkout
    (editable install) it is the repository's top-level ``models/``.
    """
    packaged = resources.files("bayes_ccd").joinpath("models")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "models"
