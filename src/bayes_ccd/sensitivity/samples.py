"""Sub-samples of a robustness check: their grammar and the units and periods they leave out.

``drop-period:P``, ``drop-region:R``, ``drop-first:K`` and ``drop-last:K`` (the first or
last ``K`` periods), ``drop-units:A,B``, and the generators ``drop-each-period`` and
``drop-each-region`` (one sub-sample per period or region). Standard library only: the
settings check the grammar when a configuration is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from bayes_ccd.exceptions import ConfigError

#: The base's own sample: nothing left out.
FULL_SAMPLE: Final = "full"
SAMPLE_FORMS: Final = (
    "drop-each-period",
    "drop-each-region",
    "drop-period:P",
    "drop-region:R",
    "drop-first:K",
    "drop-last:K",
    "drop-units:A,B",
)


def parse_sample(value: str) -> tuple[str, str]:
    """Return ``(kind, argument)`` of a sub-sample, or raise :class:`ConfigError`."""
    kind, _, argument = value.partition(":")
    kind = kind.strip()
    argument = argument.strip()
    if kind in ("drop-each-period", "drop-each-region") and not argument:
        return kind, ""
    if kind in ("drop-period", "drop-first", "drop-last") and re.fullmatch(r"\d+", argument):
        return kind, argument
    if kind in ("drop-region", "drop-units") and argument:
        return kind, argument
    raise ConfigError(
        f"[robustness] samples: {value!r} is not a sub-sample; use one of {', '.join(SAMPLE_FORMS)}"
    )


def expand_samples(
    values: Sequence[str], periods: Sequence[int], regions: Mapping[str, Sequence[str]]
) -> list[str]:
    """Expand the sub-sample generators into single sub-samples.

    ``drop-each-period`` becomes ``drop-period:P`` for every period and
    ``drop-each-region`` ``drop-region:R`` for every region (in the order of
    ``regions``). Values that name unknown periods or regions are errors.
    """
    out: list[str] = []
    for value in values:
        kind, argument = parse_sample(value)
        if kind == "drop-each-period":
            out += [f"drop-period:{p}" for p in periods]
        elif kind == "drop-each-region":
            if not regions:
                raise ConfigError(
                    "[robustness] samples: drop-each-region needs a region table ([data] regions)"
                )
            out += [f"drop-region:{r}" for r in regions]
        else:
            if kind == "drop-period" and int(argument) not in periods:
                raise ConfigError(
                    f"[robustness] samples: {value!r}: {argument} is not a period of the panel "
                    f"({periods[0]}-{periods[-1]})"
                )
            if kind == "drop-region" and argument not in regions:
                raise ConfigError(
                    f"[robustness] samples: {value!r}: unknown region {argument!r} "
                    f"(regions: {list(regions)})"
                )
            if kind in ("drop-first", "drop-last") and not 0 < int(argument) < len(periods) - 1:
                raise ConfigError(
                    f"[robustness] samples: {value!r} must leave at least two of the "
                    f"{len(periods)} periods"
                )
            out.append(f"{kind}:{argument}")
    return list(dict.fromkeys(out))


def sample_exclusions(
    value: str, periods: Sequence[int], regions: Mapping[str, Sequence[str]]
) -> dict[str, list[Any]]:
    """Return the ``[data]`` exclusions of one sub-sample (``exclude_units``/``_periods``)."""
    if value == FULL_SAMPLE:
        return {"exclude_units": [], "exclude_periods": []}
    kind, argument = parse_sample(value)
    units: list[str] = []
    dropped: list[int] = []
    if kind == "drop-period":
        dropped = [int(argument)]
    elif kind == "drop-first":
        dropped = list(periods[: int(argument)])
    elif kind == "drop-last":
        dropped = list(periods[-int(argument) :])
    elif kind == "drop-region":
        units = list(regions[argument])
    elif kind == "drop-units":
        units = [u.strip() for u in argument.split(",") if u.strip()]
    return {"exclude_units": units, "exclude_periods": dropped}
