"""A whole run configuration: one settings object per section of the TOML file.

The sections and their settings are those of :mod:`bayes_ccd.settings`;
:class:`RunConfig` merges a user's configuration over their defaults and checks it. Like
the settings, this module imports nothing heavier than the standard library.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from bayes_ccd.exceptions import ConfigError
from bayes_ccd.settings import (
    BayesSettings,
    CouplingSettings,
    DataSettings,
    DEASettings,
    EntropySettings,
    ExploreSettings,
    IndicatorSettings,
    MLESettings,
    ModelChoiceSettings,
    QCASettings,
    RegressionSettings,
    RobustnessSettings,
    RunSettings,
    WeightsSettings,
)
from bayes_ccd.settings_core import REQUIRED, Settings, suggest

#: The sections of a run configuration, in the order of the analysis.
SECTIONS: Final[dict[str, type[Settings]]] = {
    cls.section: cls
    for cls in (
        RunSettings,
        DataSettings,
        IndicatorSettings,
        WeightsSettings,
        EntropySettings,
        CouplingSettings,
        ExploreSettings,
        RegressionSettings,
        MLESettings,
        BayesSettings,
        ModelChoiceSettings,
        DEASettings,
        QCASettings,
        RobustnessSettings,
    )
}

#: Keys that moved, with the message that says where to.
_MOVED: Final = {
    ("mle", "transform"): "[regression] transform (the transformation is part of the model, "
    "shared by the maximum-likelihood and the Bayesian fits)",
}


@dataclass(frozen=True)
class RunConfig:
    """A whole run configuration: one settings object per stage.

    Attributes
    ----------
    source
        The configuration file (absolute path), or ``"<memory>"``.
    """

    run: RunSettings = field(default_factory=RunSettings)
    data: DataSettings = field(default_factory=DataSettings)
    indicators: IndicatorSettings = field(default_factory=IndicatorSettings)
    weights: WeightsSettings = field(default_factory=WeightsSettings)
    entropy: EntropySettings = field(default_factory=EntropySettings)
    coupling: CouplingSettings = field(default_factory=CouplingSettings)
    explore: ExploreSettings = field(default_factory=ExploreSettings)
    regression: RegressionSettings = field(default_factory=RegressionSettings)
    mle: MLESettings = field(default_factory=MLESettings)
    bayes: BayesSettings = field(default_factory=BayesSettings)
    model_choice: ModelChoiceSettings = field(default_factory=ModelChoiceSettings)
    # The DEA and the fsQCA analyse columns of the user's own study: a run configuration
    # switches them on by having a [dea] / [qca] section.
    dea: DEASettings = field(default_factory=lambda: DEASettings(enabled=False))
    qca: QCASettings = field(default_factory=lambda: QCASettings(enabled=False))
    robustness: RobustnessSettings = field(default_factory=RobustnessSettings)
    source: str = "<memory>"

    @classmethod
    def from_mapping(cls, user: Mapping[str, Any], source: str = "<memory>") -> RunConfig:
        """Return ``defaults | user`` for each section of a parsed TOML configuration.

        Raises
        ------
        ConfigError
            Unknown sections or keys (with a suggestion), moved keys (saying where to),
            values of the wrong type or outside their range, missing required keys.
        """
        sections = {}
        for name, values in user.items():
            if name not in SECTIONS:
                raise ConfigError(f"{source}: unknown section [{name}]" + suggest(name, SECTIONS))
            if not isinstance(values, Mapping):
                raise ConfigError(f"{source}: [{name}] must be a table")
            for key in values:
                if (name, key) in _MOVED:
                    raise ConfigError(f"{source}: [{name}] {key} has moved to {_MOVED[name, key]}")
            sections[name] = SECTIONS[name].from_mapping(values, source)
        config = cls(**sections, source=source)
        for name in SECTIONS:
            for key, value in getattr(config, name).to_dict().items():
                if value == REQUIRED:
                    raise ConfigError(f"{source}: [{name}] {key} is required")
        return config

    def replace(self, **sections: Settings) -> RunConfig:
        """Return a copy with whole sections replaced, e.g. ``config.replace(bayes=...)``."""
        return dataclasses.replace(self, **sections)

    def to_dict(self) -> dict[str, Any]:
        """Return every section as plain data, as recorded in ``metadata.json``.

        The ``run`` section also holds ``config_file``.
        """
        out = {name: getattr(self, name).to_dict() for name in SECTIONS}
        out["run"]["config_file"] = self.source
        return out
