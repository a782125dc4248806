"""Robustness specifications: variations of a run's model, each a configuration with an id.

A robustness check refits the Bayesian spatial panel of a run under alternatives along
eight dimensions. Each dimension is one setting of the run configuration:

============  ==========================  ===============================================
dimension     setting                     alternatives (``[robustness]`` key)
============  ==========================  ===============================================
weights       ``[weights] source``        files or builders (``weights``): ``knn:6``, ...
prior         ``[bayes] prior``           presets or TOML files (``priors``)
errors        ``[bayes] errors``          ``normal``, ``student_t`` (``errors``)
fe            ``[regression] fe``         ``both``, ``individual``, ... (``fe``)
model         ``[regression] model``      ``sdm``, ``sar``, ``sem``, ``sdem`` (``models``)
sample        ``[data] exclude_*``        sub-samples (``samples``, below)
coupling      ``[coupling] formula``      ``classic``, ``revised`` (``coupling``)
entropy       ``[entropy] scope``         ``pooled``, ``per-period`` (``entropy``)
============  ==========================  ===============================================

Sub-samples are ``drop-period:P``, ``drop-region:R``, ``drop-first:K`` and
``drop-last:K`` (the first or last ``K`` periods), ``drop-units:A,B`` and the generators
``drop-each-period`` and ``drop-each-region`` (one sub-sample per period or region). A
sub-sample leaves units or periods out of the whole analysis: the entropy weights,
indices and D are recomputed on it, as a reader who doubts the sample would.

The **base** specification is the run's own. One-at-a-time variations (the default)
change one dimension of the base at a time; a grid takes every combination. A
specification's id names what differs from the base (``weights-knn-6``,
``prior-reference+sample-drop-period-2015`` in a grid), so it is the same in every run
that contains it and names its directory in the store. Errors ``student_t`` sample with
NUTS (the exact sampler needs normal errors).

This module imports only the standard library.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from bayes_ccd.exceptions import ConfigError
from bayes_ccd.sensitivity.samples import FULL_SAMPLE, expand_samples, sample_exclusions

if TYPE_CHECKING:
    from bayes_ccd.run_config import RunConfig
    from bayes_ccd.settings import RobustnessSettings

#: Each dimension: the ``[robustness]`` key of its alternatives and the setting it varies.
DIMENSIONS: Final[dict[str, tuple[str, str, str]]] = {
    "weights": ("weights", "weights", "source"),
    "prior": ("priors", "bayes", "prior"),
    "errors": ("errors", "bayes", "errors"),
    "fe": ("fe", "regression", "fe"),
    "model": ("models", "regression", "model"),
    "sample": ("samples", "data", "exclude"),
    "coupling": ("coupling", "coupling", "formula"),
    "entropy": ("entropy", "entropy", "scope"),
}
BASE_ID: Final = "base"


@dataclass(frozen=True)
class Specification:
    """One robustness specification: what it changes in the base configuration.

    Attributes
    ----------
    id
        Stable identifier (``base``, ``weights-knn-6``, ...), the name of its store entry.
    changes
        ``(dimension, value)`` pairs that differ from the base; empty for the base.
    """

    id: str
    changes: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """Readable description, e.g. ``weights: knn:6``."""
        if not self.changes:
            return "base"
        return "; ".join(f"{dimension}: {value}" for dimension, value in self.changes)

    @property
    def dimension(self) -> str:
        """The dimension varied (``base``, one dimension, or ``grid`` for several)."""
        if not self.changes:
            return BASE_ID
        return self.changes[0][0] if len(self.changes) == 1 else "grid"


def base_values(config: RunConfig) -> dict[str, str]:
    """Return the base specification's value along every dimension."""
    values = {}
    for dimension, (_, section, key) in DIMENSIONS.items():
        values[dimension] = (
            FULL_SAMPLE if dimension == "sample" else str(getattr(getattr(config, section), key))
        )
    return values


def alternatives(
    settings: RobustnessSettings, periods: Sequence[int], regions: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """Return the alternatives of every dimension, sub-sample generators expanded."""
    out = {}
    for dimension, (key, _, _) in DIMENSIONS.items():
        values = [str(v) for v in getattr(settings, key)]
        out[dimension] = (
            expand_samples(values, periods, regions) if dimension == "sample" else values
        )
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _part_id(dimension: str, value: str) -> str:
    # Paths (prior and weights files) are named by their file name; the digest keeps two
    # files of the same name in different directories apart.
    if "/" in value or "\\" in value:
        name = re.split(r"[\\/]", value)[-1]
        digest = hashlib.sha256(value.encode()).hexdigest()[:6]
        return f"{dimension}-{_slug(name)}-{digest}"
    return f"{dimension}-{_slug(value)}"


def specification_id(changes: Sequence[tuple[str, str]]) -> str:
    """Return the stable id of the specification with ``changes`` (``base`` for none)."""
    ordered = sorted(changes, key=lambda change: list(DIMENSIONS).index(change[0]))
    return "+".join(_part_id(d, v) for d, v in ordered) or BASE_ID


def specifications(
    base: Mapping[str, str], alternative: Mapping[str, Sequence[str]], *, design: str
) -> list[Specification]:
    """Return the base and its variations.

    ``one-at-a-time``: the base, then each alternative of each dimension on its own.
    ``grid``: every combination of the base value and the alternatives of each
    dimension. Alternatives equal to the base value are the base itself.
    """
    options = {d: [v for v in alternative.get(d, []) if v != base[d]] for d in DIMENSIONS}
    if design == "one-at-a-time":
        combos: list[tuple[tuple[str, str], ...]] = [()]
        combos += [((d, v),) for d in DIMENSIONS for v in options[d]]
    elif design == "grid":
        axes = [[None, *[(d, v) for v in options[d]]] for d in DIMENSIONS]
        combos = [tuple(c for c in combo if c is not None) for combo in itertools.product(*axes)]
    else:
        raise ConfigError(f"[robustness] design {design!r}: use one-at-a-time or grid")
    out = [Specification(specification_id(c), tuple(c)) for c in combos]
    ids = [s.id for s in out]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ConfigError(f"[robustness]: alternatives {duplicated} are listed twice")
    return out


def specification_config(
    config: RunConfig,
    spec: Specification,
    periods: Sequence[int],
    regions: Mapping[str, Sequence[str]],
) -> RunConfig:
    """Return the run configuration of one specification.

    Only the coupling stage and the Bayesian fit (of the whole sample, and of each
    region with ``[robustness] by_region``) are switched on;
    Student-t errors switch the sampler to NUTS, with ``[robustness] nuts_draws`` draws
    per chain.
    """
    changes: dict[str, dict[str, Any]] = {
        "regression": {"by_region": config.robustness.by_region},
        "mle": {"enabled": False},
        # The table needs the effects, not the posterior predictive check.
        "bayes": {"enabled": True, "ppc_draws": 0, "hierarchical": False},
        "explore": {"enabled": False},
        "model_choice": {"enabled": False},
        "dea": {"enabled": False},
        "qca": {"enabled": False},
    }
    for dimension, value in spec.changes:
        _, section, key = DIMENSIONS[dimension]
        if dimension == "sample":
            changes.setdefault("data", {}).update(sample_exclusions(value, periods, regions))
        else:
            changes.setdefault(section, {})[key] = value
        if dimension == "errors" and value == "student_t":
            changes["bayes"].update(sampler="nuts", draws=config.robustness.nuts_draws)
    sections = {name: getattr(config, name).replace(**values) for name, values in changes.items()}
    return dataclasses.replace(config, **sections)
