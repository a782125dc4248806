"""The machinery of typed settings: :func:`setting`, :class:`Rule` and :class:`Settings`.

A setting is a dataclass field that declares, once, its default, its allowed values or
range and its help text; :class:`Settings` validates every field against its rule on
construction and gives the command line and the documentation their help texts. The
sections themselves live in :mod:`bayes_ccd.settings`. Standard library only.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Self

from bayes_ccd.exceptions import ConfigError

#: Marks a key every run configuration must set.
REQUIRED: Final = "<required>"


@dataclass(frozen=True)
class Rule:
    """What a setting accepts: the help text, the choices or the numeric range."""

    help: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    integer: bool = False
    text: str = ""
    kinds: tuple[type, ...] | None = None


def setting(
    default: Any,
    help: str,
    *,
    choices: tuple[Any, ...] | None = None,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
    integer: bool = False,
    text: str = "",
    kinds: tuple[type, ...] | None = None,
) -> Any:
    """Declare a dataclass field with its validation rule (see :class:`Rule`).

    Parameters
    ----------
    default
        The default value (lists and tables are copied per instance).
    help
        One line for the command line and the documentation.
    choices
        The allowed values of an enumerated setting.
    low, high, open_low, open_high, integer, text
        The interval a number must lie in (closed unless ``open_*``), whether it must be
        an integer, and how the rule reads in a message (``"a positive integer"``).
    kinds
        Accepted types when the default's type is not the only one (e.g. a bandwidth
        that is a rule name or a number).
    """
    rule = Rule(help, choices, low, high, open_low, open_high, integer, text, kinds)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"rule": rule})
    return field(default=default, metadata={"rule": rule})


def _same_kind(default: Any, value: Any) -> bool:
    """Return whether ``value`` has the type a setting with ``default`` needs.

    Numbers are interchangeable, booleans are not numbers, sequences are lists or tuples.
    """
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))


def suggest(word: str, options: Any) -> str:
    """Return `` (did you mean 'x'?)`` for the closest of ``options``, else the known options."""
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (known: {sorted(options)})"


class Settings:
    """Base of every stage's settings: validation, merging and help from the fields."""

    section: ClassVar[str] = ""

    def __post_init__(self) -> None:
        """Validate every field against its rule (lists become tuples), then run :meth:`check`."""
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            rule: Rule = item.metadata["rule"]
            value = getattr(self, item.name)
            if isinstance(value, list):
                object.__setattr__(self, item.name, tuple(value))
                value = tuple(value)
            self._check_value(item, rule, value)
        self.check()

    def _check_value(self, item: dataclasses.Field, rule: Rule, value: Any) -> None:
        where = f"[{self.section}] {item.name} = {value!r}"
        default = _default_of(item)
        if value == REQUIRED:
            return  # RunConfig reports missing required keys with their section
        if default != REQUIRED:
            kinds = rule.kinds
            ok = (
                isinstance(value, kinds) and not isinstance(value, bool)
                if kinds
                else _same_kind(default, value)
            )
            if not ok:
                kind = " or ".join(k.__name__ for k in kinds) if kinds else type(default).__name__
                raise ConfigError(f"{where} should be of type {kind}")
        if rule.choices is not None and value not in rule.choices:
            raise ConfigError(f"{where} is not one of {list(rule.choices)}")
        if rule.low is None and rule.high is None and not rule.integer:
            return
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return  # a rule name (e.g. a bandwidth rule): choices are checked elsewhere
        if rule.integer and value != int(value):
            raise ConfigError(f"{where} must be {rule.text}")
        lo, hi = rule.low, rule.high
        too_low = lo is not None and (value <= lo if rule.open_low else value < lo)
        too_high = hi is not None and (value >= hi if rule.open_high else value > hi)
        if too_low or too_high:
            raise ConfigError(f"{where} must be {rule.text}")

    def check(self) -> None:
        """Check the settings across fields (overridden where a section has such checks)."""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str = "<memory>") -> Self:
        """Return the defaults with ``values`` applied (``defaults | user``).

        Raises
        ------
        ConfigError
            An unknown key (with a suggestion) or a bad value, prefixed by ``source``.
        """
        known = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        for key in values:
            if key not in known:
                raise ConfigError(
                    f"{source}: unknown key '{key}' in [{cls.section}]" + suggest(key, known)
                )
        try:
            return cls(**values)
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from None

    def replace(self, **changes: Any) -> Self:
        """Return a copy with ``changes`` applied.

        ``None`` values (unset command-line flags) keep the current value.
        """
        given = {k: v for k, v in changes.items() if v is not None}
        known = {f.name for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        unknown = sorted(set(given) - known)
        if unknown:
            raise ConfigError(
                f"unknown {self.section} setting(s) {unknown}" + suggest(unknown[0], known)
            )
        return dataclasses.replace(self, **given)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as plain data (lists, not tuples) for JSON and TOML."""
        return {k: _plain(v) for k, v in dataclasses.asdict(self).items()}  # type: ignore[call-overload]

    @classmethod
    def default(cls, name: str) -> Any:
        """Return the default of setting ``name``."""
        return _default_of(_field(cls, name))

    @classmethod
    def rule(cls, name: str) -> Rule:
        """Return the validation rule of setting ``name``."""
        return _field(cls, name).metadata["rule"]

    @classmethod
    def describe(cls, name: str) -> str:
        """Return the help text of setting ``name`` with its default, for ``--help``."""
        default = cls.default(name)
        if isinstance(default, bool):
            shown = "on" if default else "off"
        elif isinstance(default, (list, tuple)):
            shown = ",".join(map(str, default)) or "none"
        else:
            shown = default
        return f"{cls.rule(name).help} (default {shown})"


def _field(cls: type, name: str) -> dataclasses.Field:
    for item in dataclasses.fields(cls):
        if item.name == name:
            return item
    raise KeyError(f"{cls.__name__} has no setting {name!r}")


def _default_of(item: dataclasses.Field) -> Any:
    if item.default is not dataclasses.MISSING:
        return item.default
    return item.default_factory()  # type: ignore[misc]


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
