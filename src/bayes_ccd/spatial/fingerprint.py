"""What a fit was fitted to: a fingerprint of its data, weights, model and sample.

Two fits can be compared only if they are fits of the same thing. Every fit records a
:class:`Fingerprint`: SHA-256 digests of the data (``y``, the covariates, their names,
the units and periods) and of the spatial weights actually used (the transformed ``W``
with its unit labels, in the order of the data), and the model, fixed effects,
transformation and sample label in clear. A saved fit stores it, and loading checks the
reloaded data against it (the model id of pymc-marketing's ``ModelIO`` plays the same
role).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import sparse

from bayes_ccd.data.weights import DENSE_SPECTRUM_LIMIT
from bayes_ccd.spatial.design import SpatialPanelDesign

#: Hex digits kept of each digest (64 bits: collisions are not a practical concern).
_DIGITS = 16


def _digest(*parts: Any) -> str:
    sha = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            array = np.ascontiguousarray(part, dtype=float)
            sha.update(str(array.shape).encode())
            sha.update(array.tobytes())
        else:
            sha.update(repr(part).encode("utf-8"))
        sha.update(b"\x00")
    return sha.hexdigest()[:_DIGITS]


def data_digest(design: SpatialPanelDesign) -> str:
    """Digest of the untransformed panel of a design: values, names, units, periods."""
    data = design.data
    return _digest(data.y, data.x, data.y_name, data.x_names, data.units, data.periods)


def weights_digest(design: SpatialPanelDesign) -> str:
    """Digest of the weights a design uses: ``W`` (transformed, in unit order) and labels.

    Up to :data:`~bayes_ccd.data.weights.DENSE_SPECTRUM_LIMIT` units the dense matrix is
    digested, above it the canonical CSR arrays, whichever form the design holds: fits
    of one panel by the dense and by the sparse path (``ModelSpec.logdet``) are fits of
    the same weights and compare.
    """
    W = design.W
    if W.shape[0] <= DENSE_SPECTRUM_LIMIT:
        return _digest(W.toarray() if sparse.issparse(W) else W, design.data.units)
    csr = sparse.csr_matrix(W)
    csr.eliminate_zeros()
    csr.sum_duplicates()
    csr.sort_indices()
    return _digest(csr.indptr, csr.indices, csr.data, design.data.units)


@dataclass(frozen=True)
class Fingerprint:
    """What a fit was fitted to (see the module docstring).

    Attributes
    ----------
    data, weights
        Digests of the data and of the spatial weights.
    model, fe, transform
        The model, fixed effects and transformation.
    sample
        The sample label (``"national"`` or a region).
    """

    data: str
    weights: str
    model: str
    fe: str
    transform: str
    sample: str

    @classmethod
    def of(cls, design: SpatialPanelDesign, sample: str) -> Fingerprint:
        """Take the fingerprint of a fit of ``design`` on sample ``sample``."""
        spec = design.spec
        return cls(
            data_digest(design),
            weights_digest(design),
            spec.model,
            spec.fe,
            spec.transform,
            sample,
        )

    @classmethod
    def from_dict(cls, values: Mapping[str, str]) -> Fingerprint:
        """Rebuild the fingerprint stored by :meth:`to_dict`."""
        return cls(**{k: str(values[k]) for k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, str]:
        """Return the fingerprint as plain data."""
        return asdict(self)

    def differences(self, other: Fingerprint) -> list[str]:
        """Say in words what differs from ``other`` (empty when the fingerprints agree)."""
        out = []
        if self.data != other.data:
            out.append("the data differ (values, variables, units or periods)")
        if self.weights != other.weights:
            out.append("the spatial weights differ")
        for name in ("model", "fe", "transform", "sample"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                out.append(f"{name} {mine!r} vs {theirs!r}")
        return out
