"""What a saved fit stores besides its estimates: the data and weights it was fitted to.

A fit saved as NetCDF (an ``xarray.DataTree``) holds a ``constant_data`` group (the
ArviZ name for inputs that are not modelled) with the untransformed panel (``y`` by
period and unit, the covariates ``x`` by period, unit and covariate) and the spatial
weights as given (the non-zero cells of ``W`` before its transform, with the unit
labels, the transform and the source), so that loading rebuilds the design exactly and
checks it against the stored :class:`~bayes_ccd.spatial.fingerprint.Fingerprint`.
Attributes are JSON strings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from libpysal.graph import Graph
from scipy import sparse

import bayes_ccd
from bayes_ccd.conventions import COVARIATE, PERIOD, UNIT
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import DataError
from bayes_ccd.report.output import json_default
from bayes_ccd.spatial.arrays import FILLED_COLUMNS, PanelArrays
from bayes_ccd.spatial.design import ModelSpec, SpatialPanelDesign, build_design
from bayes_ccd.spatial.fingerprint import Fingerprint, data_digest, weights_digest

#: Dimension of the non-zero cells of a stored weights matrix.
LINK = "link"


def constant_data(design: SpatialPanelDesign) -> xr.Dataset:
    """Build the ``constant_data`` group of a fit of ``design`` (see the module docstring)."""
    data, weights = design.data, design.weights
    raw = weights.raw_sparse.tocoo()  # CSR with sorted indices: row-major cell order
    rows, cols = raw.row, raw.col
    return xr.Dataset(
        {
            "y": ((PERIOD, UNIT), data.y),
            "x": ((PERIOD, UNIT, COVARIATE), data.x),
            "w_row": (LINK, rows.astype(np.int64)),
            "w_col": (LINK, cols.astype(np.int64)),
            "w_value": (LINK, raw.data),
        },
        coords={
            PERIOD: list(data.periods),
            UNIT: list(data.units),
            COVARIATE: list(data.x_names),
        },
        attrs={
            "y_name": data.y_name,
            "source": data.source,
            "notice": data.notice,
            "filled_cells": json.dumps(data.filled_cells(), default=json_default),
            "weights_source": weights.source,
            "weights_transform": weights.transform,
            "weights_notes": json.dumps(list(weights.notes)),
        },
    )


def restore_data(group: xr.Dataset) -> tuple[PanelArrays, SpatialWeights]:
    """Restore the panel arrays and weights stored by :func:`constant_data`."""
    attrs = group.attrs
    units = [str(u) for u in group[UNIT].to_numpy()]
    filled = pd.DataFrame(json.loads(attrs["filled_cells"]), columns=list(FILLED_COLUMNS))
    arrays = PanelArrays(
        group["y"].to_numpy(),
        group["x"].to_numpy(),
        tuple(units),
        tuple(int(p) for p in group[PERIOD].to_numpy()),
        str(attrs["y_name"]),
        tuple(str(c) for c in group[COVARIATE].to_numpy()),
        str(attrs["source"]),
        filled,
        str(attrs.get("notice", "")),  # fits saved by earlier versions carry none
    )
    raw = sparse.csr_matrix(
        (group["w_value"].to_numpy(), (group["w_row"].to_numpy(), group["w_col"].to_numpy())),
        shape=(len(units), len(units)),
    )
    # Built directly, not through from_sparse: its warnings about islands and components
    # were issued, and recorded, when the fit was made.
    weights = SpatialWeights(
        Graph.from_sparse(raw, ids=units),
        tuple(units),
        str(attrs["weights_transform"]),  # type: ignore[arg-type]
        str(attrs["weights_source"]),
        tuple(json.loads(attrs["weights_notes"])),
    )
    return arrays, weights


def check_fingerprint(design: SpatialPanelDesign, stored: Fingerprint, path: Path) -> None:
    """Refuse a saved fit whose data or weights no longer match its fingerprint.

    Raises
    ------
    DataError
        The stored data or weights were changed after the fit was saved.
    """
    changed = []
    if data_digest(design) != stored.data:
        changed.append("data")
    if weights_digest(design) != stored.weights:
        changed.append("spatial weights")
    if changed:
        raise DataError(
            f"the {' and '.join(changed)} stored with the fit do not match its fingerprint; "
            "the file was modified after it was written (or by another version of "
            "bayes_ccd): refit the model",
            file=path,
        )


def spec_to_dict(spec: ModelSpec) -> dict[str, Any]:
    """Convert a model specification to plain data."""
    return {
        "model": spec.model,
        "fe": spec.fe,
        "transform": spec.transform,
        "y": spec.y,
        "x": list(spec.x),
        "logdet": spec.logdet,
    }


def spec_from_dict(values: dict[str, Any]) -> ModelSpec:
    """Rebuild the specification stored by :func:`spec_to_dict`."""
    return ModelSpec(
        values["model"],
        values["fe"],
        values["transform"],
        values["y"],
        tuple(values["x"]),
        values.get("logdet", "auto"),
    )


def save_fit(
    fit: Any,
    kind: str,
    groups: Mapping[str, xr.Dataset],
    config: Mapping[str, Any],
    path: str | Path,
) -> Path:
    """Write a fit's groups, its ``constant_data`` and its attributes as NetCDF.

    Parameters
    ----------
    fit
        An ``MLEFit`` or ``PosteriorFit`` (its design, fingerprint, info, spec, settings,
        seed, label, dropped units and notes are stored).
    kind
        ``"mle"`` or ``"posterior"``: what :func:`open_fit` expects back.
    groups
        The estimator's own groups (``/mle``, or ``/posterior`` and the others).
    config
        What the estimator needs besides the common configuration to rebuild the fit.
    """
    tree = xr.DataTree.from_dict({**groups, "/constant_data": constant_data(fit.design)})
    common = {
        "spec": spec_to_dict(fit.spec),
        "settings": fit.settings.to_dict(),
        "seed": fit.seed,
        "label": fit.label,
        "dropped_units": list(fit.dropped_units),
        "notes": list(fit.notes),
    }
    tree.attrs = {
        "kind": kind,
        "bayes_ccd_version": bayes_ccd.__version__,
        "fingerprint": json.dumps(fit.fingerprint.to_dict()),
        "fit_info": json.dumps(fit.info, default=json_default),
        "config": json.dumps(common | dict(config), default=json_default),
    }
    return write_tree(tree, path)


def open_fit(path: str | Path, kind: str) -> tuple[xr.DataTree, dict[str, Any], SpatialPanelDesign]:
    """Read a fit written by :func:`save_fit`: its groups, configuration and design.

    The design is rebuilt from the stored data and weights and checked against the
    stored fingerprint (the model id).

    Raises
    ------
    DataError
        Not a saved fit, a fit of another kind, or data changed after saving.
    """
    path = Path(path)
    tree = read_tree(path)
    if tree.attrs["kind"] != kind:
        raise DataError(f"this is a saved {tree.attrs['kind']} fit, not a {kind} fit", file=path)
    config = json.loads(tree.attrs["config"])
    arrays, weights = restore_data(tree["constant_data"].to_dataset())
    design = build_design(arrays, weights, spec_from_dict(config["spec"]))
    check_fingerprint(design, Fingerprint.from_dict(json.loads(tree.attrs["fingerprint"])), path)
    return tree, config, design


def read_tree(path: str | Path) -> xr.DataTree:
    """Read a saved fit into memory (the file is closed afterwards).

    Raises
    ------
    DataError
        The file does not exist or is not a NetCDF file written by bayes_ccd.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("saved fit does not exist", file=path)
    try:
        with xr.open_datatree(path, engine="h5netcdf") as tree:
            tree = tree.load()
    except (OSError, ValueError) as error:
        raise DataError(f"not a NetCDF file of a saved fit ({error})", file=path) from None
    if "kind" not in tree.attrs or "constant_data" not in tree.children:
        raise DataError(
            "not a fit saved by bayes_ccd (no 'kind' attribute or constant_data group)",
            file=path,
        )
    return tree


def write_tree(tree: xr.DataTree, path: str | Path) -> Path:
    """Write ``tree`` as NetCDF-4 (h5netcdf)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.to_netcdf(path, engine="h5netcdf")
    return path
