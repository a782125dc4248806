"""The store of finished specifications: one directory per specification id.

``<directory>/specifications/<id>/`` holds ``effects.csv`` (the fit's effects, full
precision, so a resumed run gives the same table as an uninterrupted one) and
``record.json`` (the specification, its key, status, facts, notes, seconds). Each entry
is written to a temporary sibling and renamed into place, so an entry is complete or
absent even when the run is killed. An entry is reused only when its status is ``ok``
and its key, a digest of the specification's configuration, input files and package
version, is unchanged; failed entries are refitted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from bayes_ccd.report.output import write_json
from bayes_ccd.sensitivity.task import Outcome

if TYPE_CHECKING:
    from bayes_ccd.run_config import RunConfig
    from bayes_ccd.sensitivity.specification import Specification

STORE_DIR = "specifications"
#: The layout of an entry; part of every key, so entries of another layout are refitted.
STORE_FORMAT = 2
RECORD = "record.json"
EFFECTS = "effects.csv"
#: Settings that name the run or where it writes, not what a specification fits.
_NOT_RESULTS = {"run": ("name", "output_dir", "figures", "config_file")}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _file_digest(path: str) -> str:
    sha = hashlib.sha256()
    file = Path(path)
    sha.update(file.read_bytes() if file.is_file() else path.encode())
    return sha.hexdigest()


def specification_key(config: RunConfig) -> str:
    """Return the key of a specification's fit (16 hex digits).

    A SHA-256 digest of its configuration (without ``[robustness]`` and the run's name
    and output directory), of the bytes of its input files, of the package version and
    of the store's layout (:data:`STORE_FORMAT`).
    """
    import bayes_ccd

    settings = config.to_dict()
    settings.pop("robustness")
    for section, keys in _NOT_RESULTS.items():
        for key in keys:
            settings[section].pop(key, None)
    files = [
        config.data.panel,
        config.data.regions,
        config.indicators.file,
        config.weights.source,
        config.weights.coordinates,
        config.weights.contiguity,
        config.bayes.prior,
    ]
    record = {
        "format": STORE_FORMAT,
        "version": bayes_ccd.__version__,
        "settings": settings,
        "inputs": {f: _file_digest(f) for f in files},
    }
    text = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Store:
    """The finished specifications of one robustness directory."""

    directory: Path

    @property
    def root(self) -> Path:
        """The directory of the entries."""
        return self.directory / STORE_DIR

    def finished(self, spec: Specification, key: str) -> Outcome | None:
        """Return the stored outcome of ``spec`` if it finished with key ``key``."""
        entry = self.root / spec.id
        try:
            record = json.loads((entry / RECORD).read_text(encoding="utf-8"))
            if record.get("status") != "ok" or record.get("key") != key:
                return None
            effects = pd.read_csv(entry / EFFECTS)
        except (OSError, ValueError):
            return None
        return Outcome("ok", effects, record["facts"], record["notes"], record["seconds"])

    def put(self, spec: Specification, key: str, outcome: Outcome) -> Path:
        """Write the entry of ``spec``, replacing an older one; return its directory."""
        self.root.mkdir(parents=True, exist_ok=True)
        entry = self.root / spec.id
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{spec.id}."))
        try:
            if outcome.effects is not None:
                outcome.effects.to_csv(staging / EFFECTS, index=False)
            record = {
                "id": spec.id,
                "label": spec.label,
                "changes": [list(c) for c in spec.changes],
                "key": key,
                "status": outcome.status,
                "facts": outcome.facts,
                "notes": outcome.notes,
                "seconds": outcome.seconds,
            }
            write_json(record, staging / RECORD)
            staging.chmod(0o777 & ~_umask())  # mkdtemp's 0o700 would hide the entry
            if entry.exists():
                shutil.rmtree(entry)
            staging.rename(entry)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return entry
