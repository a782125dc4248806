"""Reading TOML: run configurations and the bundled configuration files.

A run configuration is one TOML file with a section per stage; :func:`load_run_config`
merges it over the defaults of :mod:`bayes_ccd.settings` (``defaults | user``, section
by section) and returns a :class:`~bayes_ccd.run_config.RunConfig`. Unknown sections or
keys are errors (a typo must not silently fall back to a default), and the merged
configuration is what every output records in ``metadata.json``.

Paths inside a configuration file are relative to that file; ``bundled:...`` names
data shipped with the package.
"""

from __future__ import annotations

import dataclasses
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from bayes_ccd.data.weights_spec import looks_like_spec
from bayes_ccd.exceptions import ConfigError
from bayes_ccd.run_config import RunConfig
from bayes_ccd.settings import PRIOR_PRESETS

#: Settings holding paths, resolved relative to the configuration file.
PATH_SETTINGS = (
    ("data", "panel"),
    ("data", "regions"),
    ("indicators", "file"),
    ("weights", "source"),
    ("weights", "coordinates"),
    ("weights", "contiguity"),
    ("explore", "boundary"),
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


def resolve_path(value: str, base: Path) -> str:
    """Resolve a configuration's path relative to ``base``.

    ``bundled:...`` and weights builder specifications (``knn:6``, see
    :mod:`bayes_ccd.data.weights_spec`) are kept as they are.
    """
    if not value or value.startswith("bundled:") or looks_like_spec(value):
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path))


def load_run_config(path: str | Path) -> RunConfig:
    """Read a run configuration, merge it over the defaults and resolve its paths.

    The run's name defaults to the file's stem; a prior file is taken relative to the
    configuration file, as are the panel, region, indicator, weights and boundary files.

    Raises
    ------
    ConfigError
        The file is missing or not TOML, or a section, key or value is invalid.
    """
    path = Path(path)
    source = str(path.resolve())
    config = RunConfig.from_mapping(read_toml(path), source=str(path))
    base = path.resolve().parent
    changes: dict[str, Any] = {}
    for section, key in PATH_SETTINGS:
        values = changes.setdefault(section, {})
        values[key] = resolve_path(getattr(getattr(config, section), key), base)
    for section in ("bayes", "model_choice"):
        prior = getattr(config, section).prior
        if prior not in PRIOR_PRESETS:
            changes.setdefault(section, {})["prior"] = resolve_path(prior, base)
    robustness = config.robustness
    changes["robustness"] = {
        "weights": [resolve_path(w, base) for w in robustness.weights],
        "priors": [p if p in PRIOR_PRESETS else resolve_path(p, base) for p in robustness.priors],
    }
    changes.setdefault("run", {})["name"] = config.run.name or path.stem
    sections = {name: getattr(config, name).replace(**values) for name, values in changes.items()}
    return dataclasses.replace(config, **sections, source=source)


def bundled_models_dir() -> Path:
    """Return the directory of the bundled TOML configurations.

    In a wheel ``models/`` is installed inside the package; in a source checkout
    (editable install) it is the repository's top-level ``models/``.
    """
    packaged = resources.files("bayes_ccd").joinpath("models")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "models"


def demo_config() -> RunConfig:
    """Return the run configuration of the bundled demo (``models/demo.toml``).

    The demo analyses the SYNTHETIC demo panel.
    """
    return load_run_config(bundled_models_dir() / "demo.toml")
