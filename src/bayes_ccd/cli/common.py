"""What the commands share.

Progress on stderr, flags made from the settings, list arguments, protected inputs.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bayes_ccd.settings import Settings, WeightsSettings

#: When the command started, for the elapsed time of every progress message.
_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """Report progress of a long step on stderr (stdout stays for results).

    Each message carries the time elapsed since the command started, so that a long
    step (the NUTS compile, the Moran permutations) shows how long it took.
    """
    elapsed = time.perf_counter() - _STARTED
    print(f"[bayes-ccd] [{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)


def input_paths(args: argparse.Namespace) -> list[Path]:
    """Return every existing file or directory an argument other than ``--out`` names.

    The output directory may not contain them (replacing it would delete them).
    """
    values = [v for k, v in vars(args).items() if k != "out" and isinstance(v, (str, Path))]
    values += [
        p for v in vars(args).values() if isinstance(v, list) for p in v if isinstance(p, Path)
    ]
    return [Path(v) for v in values if Path(v).exists()]


def split_list(text: str) -> list[str]:
    """Parse a comma-separated command-line list, ignoring blanks."""
    return [item.strip() for item in text.split(",") if item.strip()]


def add_setting(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    settings: type[Settings],
    name: str,
    *flags: str,
    help: str | None = None,
    dest: str | None = None,
) -> None:
    """Add the command-line flag of setting ``name`` of ``settings`` to ``parser``.

    The flag has default ``None`` (so that the settings fill it in), and its type,
    choices and help (with the default) come from the setting. ``dest`` names the
    argument when two sections of one command share a setting name (``transform`` of
    ``[weights]`` and of ``[regression]``).

    Booleans become ``--name`` (default off) or ``--no-name`` (default on); lists are
    comma-separated.
    """
    dest = dest or name
    default = settings.default(name)
    rule = settings.rule(name)
    text = help or settings.describe(name)
    option = flags or (f"--{name.replace('_', '-')}",)
    if isinstance(default, bool):
        if default:
            option = flags or (f"--no-{name.replace('_', '-')}",)
            text = help or f"switch off: {rule.help} (on by default)"
        parser.add_argument(
            *option, dest=dest, action="store_const", const=not default, default=None, help=text
        )
        return
    if isinstance(default, (list, tuple)):
        kind: Any = split_list
    elif rule.kinds:
        kind = str
    else:
        kind = type(default)
    parser.add_argument(
        *option, dest=dest, type=kind, choices=rule.choices, default=None, help=text
    )


def settings_from[S: Settings](
    args: argparse.Namespace,
    settings: type[S],
    base: S | None = None,
    *,
    fields: Mapping[str, str] | Sequence[str] | None = None,
) -> S:
    """Return ``base`` (default: the defaults) with the given flags of ``settings`` applied.

    ``fields`` names the settings the command exposes (or maps them to their ``dest``);
    by default every setting whose name is an argument of the command.
    """
    if fields is None:
        names = [f.name for f in dataclasses.fields(settings)]  # type: ignore[arg-type]
        fields = {name: name for name in names if hasattr(args, name)}
    elif not isinstance(fields, Mapping):
        fields = {name: name for name in fields}
    return (base or settings()).replace(**{name: getattr(args, d) for name, d in fields.items()})


#: ``[weights]`` settings -> the ``dest`` of their flags (:func:`add_weights_arguments`).
WEIGHTS_FLAGS: dict[str, str] = {
    "source": "weights",
    "transform": "weights_transform",
    "coordinates": "coordinates",
    "contiguity": "contiguity",
    "boundary_id": "boundary_id",
}


def add_weights_arguments(parser: argparse.ArgumentParser, help: str) -> None:
    """Add ``--weights`` (required, described by ``help``) and the flags that build W."""
    parser.add_argument("--weights", required=True, help=help)
    add_setting(
        parser, WeightsSettings, "transform", "--weights-transform", dest="weights_transform"
    )
    for name in ("coordinates", "contiguity", "boundary_id"):
        add_setting(parser, WeightsSettings, name)


def weights_settings_from(args: argparse.Namespace) -> WeightsSettings:
    """Return the ``[weights]`` settings of :func:`add_weights_arguments`' flags."""
    return settings_from(args, WeightsSettings, fields=WEIGHTS_FLAGS)
