"""The weights specification: one string that names a W for TOML, the CLI and the API.

``[weights] source``, ``--weights`` and :func:`bayes_ccd.weights_from_spec` take either a
file (square CSV, edge list CSV, GAL), ``bundled:province-contiguity``, or a *builder
specification*::

    spec   := kind [":" arg ("," arg)*]
    arg    := value | key "=" value      (the first bare value is the kind's main key)

=================== ================ ==================================================
kind                main key         other keys
=================== ================ ==================================================
``contiguity``      ``order`` (1)    ``cumulative`` (false): orders 1..k together;
                                     ``rook`` (false): a shared edge, not a point
                                     (polygons: a boundary file, ``bundled:china-*``)
``knn``             ``k``            (none)
``inverse-distance`` ``power`` (1)   ``cutoff``: zero weight beyond this distance
``distance-band``   ``threshold``    ``islands`` (``error``/``keep``)
``economic``        ``variable``     ``geo`` (``none``/``contiguity``/``inverse-distance``),
                                     ``power``, ``cutoff`` (of the geographic part)
=================== ================ ==================================================

Examples: ``contiguity:2``, ``contiguity:2,cumulative``, ``contiguity:rook``, ``knn:6``,
``inverse-distance:power=2,cutoff=1000``, ``distance-band:800``,
``economic:gdp_per_capita,geo=inverse-distance``. Distances are great-circle kilometres
for longitude/latitude coordinates and coordinate units for projected ones
(:mod:`bayes_ccd.data.builders`).

This module imports only the standard library: configurations are checked with it
before any numerical library is loaded.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Final

from bayes_ccd.exceptions import ConfigError, WeightsError

#: Allowed values of the enumerated keys.
ISLAND_POLICIES: Final = ("error", "keep")
GEO_PARTS: Final = ("none", "contiguity", "inverse-distance")

#: kind -> (main key, {key: (type, default)}); a default of ``None`` means optional,
#: ``...`` required.
KINDS: Final[dict[str, tuple[str, dict[str, tuple[type, Any]]]]] = {
    "contiguity": (
        "order",
        {"order": (int, 1), "cumulative": (bool, False), "rook": (bool, False)},
    ),
    "knn": ("k", {"k": (int, ...)}),
    "inverse-distance": ("power", {"power": (float, 1.0), "cutoff": (float, None)}),
    "distance-band": ("threshold", {"threshold": (float, ...), "islands": (str, "error")}),
    "economic": (
        "variable",
        {
            "variable": (str, ...),
            "geo": (str, "none"),
            "power": (float, 1.0),
            "cutoff": (float, None),
        },
    ),
}
_SPEC = re.compile(r"[A-Za-z][A-Za-z-]+(:.*)?", re.DOTALL)
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def looks_like_spec(text: str) -> bool:
    """Return whether ``text`` is a builder specification rather than a file.

    A specification is a known kind, or ``word:...`` with a word of two or more letters
    and hyphens that is not ``bundled`` (so ``C:/W.csv`` and ``W.csv`` are files, and a
    mistyped kind such as ``knm:6`` is reported as an unknown kind, not a missing file).
    """
    text = text.strip()
    if text in KINDS:
        return True
    return bool(_SPEC.fullmatch(text)) and ":" in text and not text.startswith("bundled:")


def _suggest(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (known: {sorted(options)})"


def _convert(kind: str, key: str, kind_of: type, value: str) -> Any:
    where = f"weights specification {kind}: {key} = {value!r}"
    if kind_of is bool:
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise WeightsError(f"{where} is not true or false")
    if kind_of is str:
        if not value:
            raise WeightsError(f"{where} is empty")
        return value
    try:
        number = float(value)
    except ValueError:
        raise WeightsError(f"{where} is not a number") from None
    if kind_of is int:
        if number != int(number):
            raise WeightsError(f"{where} is not an integer")
        return int(number)
    return number


@dataclass(frozen=True)
class WeightsSpec:
    """A parsed builder specification: its kind and every key with its value.

    Parameters
    ----------
    kind
        One of :data:`KINDS`.
    options
        ``(key, value)`` pairs of every key of the kind (defaults filled in), in the
        order of :data:`KINDS`.
    """

    kind: str
    options: tuple[tuple[str, Any], ...]

    @classmethod
    def parse(cls, text: str) -> WeightsSpec:
        """Parse ``kind[:arg,...]`` (see the module docstring) and check every value.

        Raises
        ------
        WeightsError
            An unknown kind or key (with a suggestion), a missing main key, or a value of
            the wrong type or range.
        """
        text = text.strip()
        kind, _, rest = text.partition(":")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise WeightsError(
                f"unknown weights kind '{kind}' in {text!r}"
                + _suggest(kind, KINDS)
                + "; or give a weights file or bundled:province-contiguity"
            )
        main, keys = KINDS[kind]
        given: dict[str, Any] = {}
        for position, item in enumerate(a.strip() for a in rest.split(",") if a.strip()):
            key, equals, value = item.partition("=")
            if not equals:
                # a bare word: the main key first, then boolean flags such as "cumulative"
                flag = key.strip().lower()
                if position == 0 and keys[main][0] is not bool and flag not in keys:
                    key, value = main, item
                elif flag in keys and keys[flag][0] is bool:
                    key, value = flag, "true"
                else:
                    raise WeightsError(
                        f"weights specification {text!r}: {item!r} should be key=value"
                        + _suggest(flag, keys)
                    )
            key, value = key.strip().lower(), value.strip()
            if key not in keys:
                raise WeightsError(
                    f"weights specification {text!r}: unknown key '{key}' for {kind}"
                    + _suggest(key, keys)
                )
            if key in given:
                raise WeightsError(f"weights specification {text!r}: '{key}' is given twice")
            given[key] = _convert(kind, key, keys[key][0], value)
        values = {}
        for key, (_, default) in keys.items():
            if key not in given and default is ...:
                raise WeightsError(
                    f"weights specification {text!r} needs its {key}, e.g. "
                    + {"k": "knn:6", "threshold": "distance-band:800"}.get(
                        key, "economic:gdp_per_capita"
                    )
                )
            values[key] = given.get(key, default)
        spec = cls(kind, tuple(values.items()))
        spec.check()
        return spec

    def check(self) -> None:
        """Check the ranges: order and k at least 1, power and distances positive."""
        o = dict(self.options)
        where = f"weights specification {self}"
        if self.kind == "contiguity" and o["order"] < 1:
            raise WeightsError(f"{where}: the order must be an integer >= 1, not {o['order']}")
        if self.kind == "knn" and o["k"] < 1:
            raise WeightsError(f"{where}: k must be an integer >= 1, not {o['k']}")
        if "power" in o and not o["power"] > 0:
            raise WeightsError(f"{where}: the power must be positive, not {o['power']}")
        for key in ("cutoff", "threshold"):
            if o.get(key) is not None and not o[key] > 0:
                raise WeightsError(f"{where}: the {key} must be a positive distance, not {o[key]}")
        if self.kind == "distance-band" and o["islands"] not in ISLAND_POLICIES:
            raise WeightsError(
                f"{where}: islands = {o['islands']!r} is not one of {list(ISLAND_POLICIES)}"
            )
        if self.kind == "economic" and o["geo"] not in GEO_PARTS:
            raise WeightsError(
                f"{where}: geo = {o['geo']!r} is not one of {list(GEO_PARTS)}"
                + _suggest(o["geo"], GEO_PARTS)
            )
        unused = o.get("power", 1.0) != 1.0 or o.get("cutoff") is not None
        if self.kind == "economic" and o["geo"] != "inverse-distance" and unused:
            raise WeightsError(
                f"{where}: power and cutoff belong to the geographic part; add geo=inverse-distance"
            )

    def get(self, key: str) -> Any:
        """Return the value of ``key`` (``KeyError`` if the kind has no such key)."""
        return dict(self.options)[key]

    @property
    def needs_coordinates(self) -> bool:
        """Whether the weights are built from coordinates."""
        return self.kind in ("knn", "inverse-distance", "distance-band") or (
            self.kind == "economic" and self.get("geo") == "inverse-distance"
        )

    @property
    def needs_contiguity(self) -> bool:
        """Whether the weights are built from a binary contiguity."""
        return self.kind == "contiguity" or (
            self.kind == "economic" and self.get("geo") == "contiguity"
        )

    @property
    def variable(self) -> str | None:
        """The panel variable of economic weights (``None`` for other kinds)."""
        return self.get("variable") if self.kind == "economic" else None

    def __str__(self) -> str:
        """Return the canonical form: the main key bare, other non-default keys as key=value."""
        main, keys = KINDS[self.kind]
        parts = []
        for key, value in self.options:
            if key == main:
                parts.append(_show(value))
            elif value != keys[key][1]:
                parts.append(key if value is True else f"{key}={_show(value)}")
        return self.kind + (":" + ",".join(parts) if parts else "")


def _show(value: Any) -> str:
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def spec_variable(source: str) -> str | None:
    """Return the panel variable a weights source needs (economic weights), else ``None``."""
    if not looks_like_spec(source):
        return None
    return WeightsSpec.parse(source).variable


def parse_checked(source: str, where: str) -> WeightsSpec:
    """Parse ``source`` for a configuration: errors become :class:`ConfigError` at ``where``."""
    try:
        return WeightsSpec.parse(source)
    except WeightsError as error:
        raise ConfigError(f"{where}: {error}") from None
