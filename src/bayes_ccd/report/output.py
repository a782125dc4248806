"""Output directories written all-or-nothing, JSON files, and the metadata of outputs.

The metadata record what produced an output (configuration, seed, package versions).

Every output directory is first assembled in a temporary sibling and renamed into place
only when the whole step succeeded, so a failed run leaves no partial results behind.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.metadata
import json
import math
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bayes_ccd.exceptions import OutputError

#: Packages whose versions every run records.
RECORDED_PACKAGES = (
    "bayes-ccd",
    "numpy",
    "pandas",
    "scipy",
    "pymc",
    "pytensor",
    "nutpie",
    "arviz",
    "xarray",
    "libpysal",
    "esda",
    "spreg",
    "matplotlib",
)


#: The file that marks a directory as bayes_ccd output (written by every command).
OUTPUT_MARKER = "metadata.json"


def check_output_target(target: Path, protect: Sequence[str | Path] = ()) -> None:
    """Refuse output targets whose replacement would destroy something.

    A target may be new, empty, or an earlier bayes_ccd output (it holds
    :data:`OUTPUT_MARKER`). It may not be the working directory or one of its parents,
    and it may not contain any path in ``protect`` (the command's input files).

    Raises
    ------
    OutputError
    """
    resolved = target.resolve()
    here = Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise OutputError(
            f"output directory {target} is the working directory or one of "
            "its parents; choose a new directory such as results/<name>"
        )
    for path in protect:
        if resolved in Path(path).resolve().parents:
            raise OutputError(
                f"output directory {target} contains the input {path}, which "
                "replacing it would delete; choose another directory"
            )
    if resolved.is_file():
        raise OutputError(f"output path {target} is a file, not a directory")
    if resolved.is_dir() and any(resolved.iterdir()) and not (resolved / OUTPUT_MARKER).is_file():
        raise OutputError(
            f"output directory {target} already holds files that bayes_ccd "
            f"did not write (no {OUTPUT_MARKER}); choose a new directory or "
            "empty it"
        )


def check_output_early(target: str | Path, protect: Sequence[str | Path] = ()) -> None:
    """Refuse, before any computing, an output directory that cannot be written.

    The checks of :func:`check_output_target`, and no file in the way of the target's
    parents (``--out results.csv/run``).

    Raises
    ------
    OutputError
    """
    target = Path(target)
    try:
        check_output_target(target, protect)
        blocking = next((p for p in target.parents if p.is_file()), None)
    except OSError as error:
        blocking, problem = None, error.strerror or str(error)
    else:
        problem = None if blocking is None else f"{blocking} is a file, not a directory"
    if problem:
        raise OutputError(
            f"output directory {target} cannot be created ({problem}); "
            "choose a directory you can write to"
        )


def _umask() -> int:
    """Return the process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def make_staging(target: Path) -> Path:
    """Create the temporary sibling of ``target`` with the permissions the umask gives.

    :func:`tempfile.mkdtemp` makes ``drwx------`` whatever the umask; output directories
    are shared with colleagues like any other directory the user creates.

    Raises
    ------
    OSError
        The parent cannot be created or written (read-only place, a file in the way).
    """
    parent = target.parent
    if any(p.is_file() for p in (parent, *parent.parents)):
        blocking = next(p for p in (parent, *parent.parents) if p.is_file())
        raise NotADirectoryError(20, f"{blocking} is a file, not a directory")
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=parent))
    staging.chmod(0o777 & ~_umask())
    return staging


@contextlib.contextmanager
def atomic_output_dir(target: str | Path, *, protect: Sequence[str | Path] = ()) -> Iterator[Path]:
    """Assemble an output directory in a temporary sibling and move it into place.

    On success the temporary directory replaces ``target`` (an existing ``target`` is
    removed only after the new one is complete); on any exception it is deleted and
    ``target`` is left exactly as it was. Targets that cannot be replaced safely are
    refused before anything is written (:func:`check_output_target`); every command
    writes :data:`OUTPUT_MARKER`, so re-running into the same directory works.

    Yields
    ------
    pathlib.Path
        The temporary directory to write into.
    """
    target = Path(target)
    try:
        check_output_target(target, protect)
        staging = make_staging(target)
    except OSError as error:
        raise OutputError(
            f"output directory {target} cannot be created ({error.strerror or error}); "
            "choose a directory you can write to"
        ) from None
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / target.name)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def package_versions(names: Sequence[str] = RECORDED_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (``"not installed"`` where absent)."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_metadata(
    config: Mapping[str, Any] | None = None, seed: int | None = None, **extra: Any
) -> dict[str, Any]:
    """Record what produced an output: configuration, seed, versions, time, platform, command."""
    return {
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "seed": seed,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "config": dict(config) if config is not None else None,
        **extra,
    }


def json_default(value: Any) -> Any:
    """``json.dumps`` ``default`` for numpy scalars and arrays, paths, dates and sets."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (Path, _dt.date)):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def _finite(value: Any) -> Any:
    """Replace non-finite floats by None so the JSON is standard (no NaN tokens)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as indented JSON, numpy scalars and arrays converted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        _finite(json.loads(json.dumps(obj, default=json_default))), indent=2, ensure_ascii=False
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path
