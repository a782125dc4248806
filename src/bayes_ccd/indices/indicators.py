"""The indicator system, as read from TOML (see ``models/indicators.toml``).

Two subsystems whose indicators make the composite indices U1 and U2, and the
influencing factors of the regression.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bayes_ccd.config import read_toml
from bayes_ccd.data.factors import Factor
from bayes_ccd.exceptions import ConfigError

Direction = Literal["+", "-"]


@dataclass(frozen=True)
class Indicator:
    """One indicator of a subsystem: its column, direction and place in the system."""

    column: str
    direction: Direction
    subsystem: str
    dimension: str
    label: str = ""
    unit: str = ""


@dataclass(frozen=True)
class Subsystem:
    """A subsystem (e.g. digital economy) whose indicators make one composite index."""

    key: str
    index: str  # name of the composite index, "U1" or "U2"
    label: str
    indicators: tuple[Indicator, ...]

    @property
    def columns(self) -> list[str]:
        """Panel columns of the subsystem's indicators, in system order."""
        return [i.column for i in self.indicators]

    @property
    def directions(self) -> list[Direction]:
        """Direction (``"+"`` or ``"-"``) of each indicator, in the order of :attr:`columns`."""
        return [i.direction for i in self.indicators]


@dataclass(frozen=True)
class IndicatorSystem:
    """Two subsystems and the influencing factors, as read from TOML."""

    title: str
    subsystems: tuple[Subsystem, Subsystem]
    factors: tuple[Factor, ...]
    source: str = "<memory>"

    @property
    def indicator_columns(self) -> list[str]:
        """Panel columns of the indicators of both subsystems, U1's first."""
        return [c for s in self.subsystems for c in s.columns]

    @property
    def factor_columns(self) -> list[str]:
        """Panel columns of the influencing factors, each once, in system order."""
        return list(dict.fromkeys(f.column for f in self.factors))

    @property
    def indicators(self) -> list[Indicator]:
        """Indicators of both subsystems, U1's first."""
        return [i for s in self.subsystems for i in s.indicators]


def _require(table: Mapping[str, Any], key: str, where: str, kind: type = str) -> Any:
    if key not in table:
        raise ConfigError(f"{where}: '{key}' is required")
    value = table[key]
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: '{key}' must be a {kind.__name__}, got {value!r}")
    return value


def parse_indicator_system(data: Mapping[str, Any], source: str = "<memory>") -> IndicatorSystem:
    """Build an :class:`IndicatorSystem` from parsed TOML, checking its structure."""
    subsystems_data = data.get("subsystems")
    if not isinstance(subsystems_data, Mapping) or len(subsystems_data) != 2:
        raise ConfigError(
            f"{source}: exactly two [subsystems.<name>] tables are needed "
            "(the two systems whose coupling is measured)"
        )
    subsystems = []
    for key, table in subsystems_data.items():
        where = f"{source} [subsystems.{key}]"
        index = _require(table, "index", where)
        entries = table.get("indicators")
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{where}: no [[subsystems.{key}.indicators]] entries")
        indicators = []
        for k, entry in enumerate(entries, start=1):
            where_i = f"{where} indicator {k}"
            direction = entry.get("direction", "+")
            if direction not in ("+", "-"):
                raise ConfigError(
                    f"{where_i}: direction must be '+' (benefit) or '-' (cost), got {direction!r}"
                )
            indicators.append(
                Indicator(
                    column=_require(entry, "column", where_i),
                    direction=direction,
                    subsystem=key,
                    dimension=str(entry.get("dimension", "")),
                    label=str(entry.get("label", entry["column"])),
                    unit=str(entry.get("unit", "")),
                )
            )
        subsystems.append(Subsystem(key, index, str(table.get("label", key)), tuple(indicators)))
    if sorted(s.index for s in subsystems) != ["U1", "U2"]:
        raise ConfigError(
            f'{source}: the two subsystems need index = "U1" and '
            f'index = "U2", got {[s.index for s in subsystems]}'
        )
    subsystems.sort(key=lambda s: s.index)
    columns = [i.column for s in subsystems for i in s.indicators]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ConfigError(f"{source}: indicator column(s) {repeated} listed more than once")
    factors = []
    for k, entry in enumerate(data.get("factors", []), start=1):
        where_f = f"{source} factor {k}"
        transform = entry.get("transform", "none")
        if transform not in ("none", "log"):
            raise ConfigError(f"{where_f}: transform must be 'none' or 'log', got {transform!r}")
        scale = entry.get("scale", 1.0)
        if not isinstance(scale, (int, float)) or scale <= 0:
            raise ConfigError(f"{where_f}: scale must be a positive number, got {scale!r}")
        column = _require(entry, "column", where_f)
        factors.append(
            Factor(
                name=str(entry.get("name", column)),
                column=column,
                transform=transform,
                scale=float(scale),
                label=str(entry.get("label", column)),
                dimension=str(entry.get("dimension", "")),
            )
        )
    names = [f.name for f in factors]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: factor names must be unique, got {names}")
    return IndicatorSystem(
        str(data.get("title", "")), (subsystems[0], subsystems[1]), tuple(factors), source
    )


def read_indicator_system(path: str | Path) -> IndicatorSystem:
    """Read an indicator system TOML file (see ``models/indicators.toml``)."""
    return parse_indicator_system(read_toml(path), source=str(path))
