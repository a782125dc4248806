"""Spatial weights: the contiguity of China's provinces, loaders for a user's weights.

Weights are held as a :class:`libpysal.graph.Graph` inside :class:`SpatialWeights`,
which fixes the order of the units (the panel's order), the transformation, and
computes the eigenvalues of ``W`` once for the exact log-determinant
``log|I - rho W| = sum_i log(1 - rho lambda_i)`` (Ord 1975) used by the spatial models.

Bundled weights
---------------
``bundled:province-contiguity`` is first-order contiguity (shared land border) of the 31
mainland provincial-level units. Hainan is an island with no land border; leaving it
an island would drop it from every spatial lag and make row standardisation undefined,
so it is linked to Guangdong, its nearest province across the Qiongzhou Strait (about
20 km, with rail ferry service) and its only economic hinterland. This is the
convention of most provincial studies of China; pass your own file to change it.

File formats
------------
- square CSV: first column the unit labels, header the same labels (any order; both
  are matched by label), cells the weights;
- edge list CSV: columns ``source,target[,weight]``; each pair is made symmetric
  unless ``symmetrize=False``;
- GAL (``.gal``): the GeoDa/PySAL neighbour format.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from bayes_ccd.data.panel import HUGE, read_csv_cells
from bayes_ccd.data.regions import province_table
from bayes_ccd.exceptions import SpecificationError, WeightsError, WeightsWarning, warn

if TYPE_CHECKING:
    from libpysal.graph import Graph

Transform = Literal["r", "o"]
BUNDLED_CONTIGUITY = "bundled:province-contiguity"

#: Imaginary parts below this are rounding noise of a real spectrum.
_IMAG_TOL = 1e-10


def unit_eigenvalue(values: np.ndarray, purpose: str) -> int:
    """Index of the eigenvalue 1 of a row-stochastic W among its eigenvalues ``values``.

    Raises
    ------
    SpecificationError
        No eigenvalue lies within 1e-8 of 1; the message starts with ``purpose``.
    """
    unit = int(np.argmin(np.abs(values - 1.0)))
    if abs(values[unit] - 1.0) > 1e-8:
        raise SpecificationError(
            f"{purpose} needs the eigenvalue 1 of a row-stochastic W; the eigenvalues "
            "given have none"
        )
    return unit


@dataclass(frozen=True)
class SpatialWeights:
    """Spatial weights for an ordered set of units.

    Parameters
    ----------
    raw
        The libpysal graph as given (binary contiguity, or the user's weights).
    units
        The order of rows and columns of :attr:`dense` (the panel's unit order).
    transform
        ``"r"`` row-standardised (each row sums to one) or ``"o"`` as given.
    source
        Where the weights came from (file path or bundled name), for reports.
    """

    raw: Graph
    units: tuple[str, ...]
    transform: Transform = "r"
    source: str = "<memory>"
    notes: tuple[str, ...] = field(default=())

    @cached_property
    def graph(self) -> Graph:
        """The transformed libpysal graph (row-standardised for ``transform="r"``).

        ``transform="o"`` is the raw graph itself: libpysal refuses to transform a
        binary ("B") graph back to "O", and the weights as given need no transform.
        """
        if self.transform != "r":
            return self.raw
        with warnings.catch_warnings():
            # libpysal warns about islands itself; _finish reports them once, with names.
            warnings.simplefilter("ignore")
            return self.raw.transform("R")

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.units)

    def _ordered(self, graph: Graph) -> np.ndarray:
        matrix = graph.sparse.toarray()
        ids = [str(u) for u in graph.unique_ids]
        order = pd.Index(ids).get_indexer(list(self.units))
        return np.ascontiguousarray(matrix[np.ix_(order, order)], dtype=float)

    @cached_property
    def raw_dense(self) -> np.ndarray:
        """The weights as given (before the transform).

        Rows and columns are in :attr:`units` order.
        """
        return self._ordered(self.raw)

    @cached_property
    def dense(self) -> np.ndarray:
        """``W`` as a dense ``(n, n)`` array, rows and columns in :attr:`units` order."""
        return self._ordered(self.graph)

    @cached_property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of ``W``, computed once.

        A row-standardised symmetric matrix ``W = D^{-1} C`` is similar to the symmetric
        ``D^{-1/2} C D^{-1/2}`` (Ord 1975), whose real eigenvalues a symmetric solver
        finds several times faster; any other ``W`` uses the general solver and keeps a
        complex spectrum when it has one.
        """
        if self.transform == "r":
            raw = self.raw_dense
            if np.allclose(raw, raw.T, rtol=0, atol=1e-14):
                degree = raw.sum(axis=1)
                scale = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
                return np.linalg.eigvalsh(scale[:, None] * raw * scale[None, :])
        values = np.linalg.eigvals(self.dense)
        if np.all(np.abs(values.imag) < _IMAG_TOL):
            return np.sort(values.real)
        return values

    @property
    def is_row_stochastic(self) -> bool:
        """Whether every row sums to one (needed by time fixed effects)."""
        return bool(np.allclose(self.dense.sum(axis=1), 1.0, atol=1e-12))

    @cached_property
    def islands(self) -> tuple[str, ...]:
        """Units without any neighbour."""
        return tuple(
            u for u, s in zip(self.units, (self.dense != 0).sum(axis=1), strict=True) if s == 0
        )

    @cached_property
    def n_components(self) -> int:
        """Number of connected components of the neighbour graph."""
        return int(self.graph.n_components)

    def rho_bounds(self) -> tuple[float, float]:
        """Return the interval ``(1/lambda_min, 1/lambda_max)`` of admissible ``rho``.

        On this interval ``I - rho W`` is invertible with a positive determinant
        (LeSage & Pace 2009, sec. 4.3).

        For complex spectra the bounds come from the real eigenvalues, as in
        LeSage & Pace; for a row-stochastic ``W`` the upper bound is exactly 1 (its
        largest eigenvalue, which the solver returns only to rounding).
        """
        values = self.eigenvalues
        real = values.real[np.abs(values.imag) < _IMAG_TOL] if np.iscomplexobj(values) else values
        lo, hi = float(real.min()), float(real.max())
        if lo >= 0 or hi <= 0:
            raise WeightsError(
                f"weights {self.source}: eigenvalues do not straddle zero "
                f"(min {lo:.4g}, max {hi:.4g}); spatial models need a W with zero diagonal "
                "and at least one neighbour pair"
            )
        return 1.0 / lo, 1.0 if self.is_row_stochastic else 1.0 / hi

    def aligned(self, units: Sequence[object]) -> SpatialWeights:
        """Return the same weights with rows in the order of ``units``.

        Raises
        ------
        WeightsError
            If the unit sets differ; the message lists what is missing on each side.
        """
        wanted = [str(u) for u in units]
        check_units(self.units, wanted, self.source)
        return SpatialWeights(self.raw, tuple(wanted), self.transform, self.source, self.notes)

    def subset(
        self, units: Sequence[object], *, transform: Transform | None = None
    ) -> SpatialWeights:
        """Weights cut to ``units`` and re-transformed (re-standardised by default).

        Links to units outside the subset are dropped before row standardisation, so
        each unit's spatial lag is the mean of its neighbours inside the subset. Units
        left without a neighbour are kept, with a zero row, and reported in
        :attr:`islands` and with a :class:`WeightsWarning`.
        """
        wanted = [str(u) for u in units]
        unknown = sorted(set(wanted) - set(self.units))
        if unknown:
            raise WeightsError(f"weights {self.source}: cannot subset to unknown units {unknown}")
        return _finish(
            self.raw.subgraph(wanted),
            wanted,
            transform or self.transform,
            f"{self.source} (subset of {len(wanted)} units)",
        )

    @cached_property
    def asymmetric_pairs(self) -> tuple[tuple[str, str, float, float], ...]:
        """Pairs ``(i, j, w_ij, w_ji)`` of the raw weights with ``w_ij != w_ji``, in unit order."""
        raw = self.raw_dense
        rows, cols = np.nonzero(np.triu(~np.isclose(raw, raw.T, rtol=1e-12, atol=0)))
        return tuple(
            (self.units[i], self.units[j], float(raw[i, j]), float(raw[j, i]))
            for i, j in zip(rows, cols, strict=True)
        )

    @property
    def is_symmetric(self) -> bool:
        """Whether the raw weights (before the transform) are symmetric."""
        return not self.asymmetric_pairs

    @property
    def is_binary(self) -> bool:
        """Whether every raw weight is 0 or 1 (contiguity)."""
        return bool(np.isin(self.raw_dense, (0.0, 1.0)).all())

    def summary(self) -> dict[str, object]:
        """Facts for reports: size, links, islands, components, symmetry, transform, source."""
        links = int((self.dense != 0).sum())
        return {
            "source": self.source,
            "n_units": self.n,
            "n_links": links,
            "mean_neighbours": links / self.n,
            "islands": list(self.islands),
            "n_components": self.n_components,
            "binary": self.is_binary,
            "symmetric": self.is_symmetric,
            "asymmetric_pairs": len(self.asymmetric_pairs),
            "transform": self.transform,
            "notes": list(self.notes),
        }


def check_symmetry(weights: SpatialWeights) -> SpatialWeights:
    """Warn when binary (contiguity) weights read from a file are not symmetric.

    Contiguity is mutual, so an asymmetric 0/1 matrix is almost always a mislabelled
    row or column (two labels swapped with the numbers left in place). The warning
    names the first pairs that disagree; weighted matrices (e.g. k-nearest or
    row-standardised input) may be asymmetric on purpose and are not flagged.
    """
    pairs = weights.asymmetric_pairs
    if pairs and weights.is_binary:
        shown = "; ".join(
            f"{i} -> {j} is {a:g} but {j} -> {i} is {b:g}" for i, j, a, b in pairs[:3]
        )
        more = f" and {len(pairs) - 3} more pair(s)" if len(pairs) > 3 else ""
        warn(
            f"weights {weights.source}: the binary W is not symmetric ({shown}{more}); "
            "contiguity is mutual, so check the row labels (first column) against the "
            "column labels (header)",
            WeightsWarning,
        )
    return weights


def check_units(have: Sequence[str], want: Sequence[str], source: str) -> None:
    """Raise :class:`WeightsError` unless ``have`` and ``want`` hold the same units."""
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"units in the data but not in the weights: {missing}")
        if extra:
            parts.append(f"units in the weights but not in the data: {extra}")
        raise WeightsError(f"weights {source} do not match the data; " + "; ".join(parts))


def _finish(
    graph: Graph, units: Sequence[str], transform: Transform, source: str, notes: Sequence[str] = ()
) -> SpatialWeights:
    """Wrap ``graph`` with its transform; warn about islands and components."""
    if transform not in ("r", "o"):
        raise WeightsError(
            f"unknown weights transform {transform!r}; use 'r' (row standardised) or 'o' (as given)"
        )
    weights = SpatialWeights(graph, tuple(units), transform, source, tuple(notes))
    if weights.islands:
        warn(
            f"weights {source}: {len(weights.islands)} unit(s) without neighbours "
            f"{list(weights.islands)}; their spatial lag is zero",
            WeightsWarning,
        )
    if weights.n_components > 1 + len(weights.islands):
        warn(
            f"weights {source}: the neighbour graph has {weights.n_components} "
            "disconnected components; spillovers cannot cross between them",
            WeightsWarning,
        )
    return weights


def from_dense(
    matrix: np.ndarray,
    units: Sequence[object],
    *,
    transform: Transform = "r",
    source: str = "<array>",
) -> SpatialWeights:
    """Weights from a dense ``(n, n)`` array whose rows and columns follow ``units``."""
    matrix = np.asarray(matrix, dtype=float)
    ids = [str(u) for u in units]
    _validate_matrix(matrix, ids, source)
    # libpysal takes seconds to import: only when weights are built, not to check a run.
    from libpysal.graph import Graph

    return _finish(Graph.from_dense(matrix, ids=ids), ids, transform, source)


def from_edges(
    edges: pd.DataFrame,
    units: Sequence[object] | None = None,
    *,
    transform: Transform = "r",
    symmetrize: bool = True,
    source: str = "<edges>",
) -> SpatialWeights:
    """Weights from an edge list with columns ``source``, ``target`` and optional ``weight``.

    Units listed in ``units`` but absent from every edge become islands. Errors report
    the row's index label as its line (:func:`read_weights` indexes rows by file line).
    """
    missing = {"source", "target"} - set(edges.columns)
    if missing:
        raise WeightsError(
            f"edge list {source} lacks column(s) {sorted(missing)}; expected source,target[,weight]"
        )
    frame = edges.assign(
        source=edges["source"].astype(str).str.strip(),
        target=edges["target"].astype(str).str.strip(),
    )
    empty = frame.index[(frame["source"] == "") | (frame["target"] == "")]
    if len(empty):
        raise WeightsError(f"edge list {source}, line {empty[0]}: empty unit label")
    frame["weight"] = pd.to_numeric(frame["weight"], errors="coerce") if "weight" in frame else 1.0
    bad = frame.index[frame["weight"].isna() | ~np.isfinite(frame["weight"])]
    if len(bad):
        raise WeightsError(f"edge list {source}, line {bad[0]}: weight is not a finite number")
    loops = frame.index[frame["source"] == frame["target"]]
    if len(loops):
        raise WeightsError(
            f"edge list {source}, line {loops[0]}: unit "
            f"'{frame.at[loops[0], 'source']}' is linked to itself; W must "
            "have a zero diagonal"
        )
    if symmetrize:
        frame = pd.concat([frame, frame.rename(columns={"source": "target", "target": "source"})])
    duplicated = frame.duplicated(["source", "target"], keep=False)
    if duplicated.any():
        conflicting = frame[duplicated].groupby(["source", "target"])["weight"].nunique()
        if (conflicting > 1).any():
            pair = conflicting[conflicting > 1].index[0]
            raise WeightsError(
                f"edge list {source}: link {pair[0]} -> {pair[1]} is given "
                "twice with different weights"
            )
        frame = frame.drop_duplicates(["source", "target"])
    ids = list(dict.fromkeys([*frame["source"], *frame["target"]]))
    if units is not None:
        wanted = [str(u) for u in units]
        unknown = sorted(set(ids) - set(wanted))
        if unknown:
            raise WeightsError(
                f"edge list {source} names units that are not in the unit list: {unknown}"
            )
        ids = wanted
    index = pd.Index(ids)
    matrix = np.zeros((len(ids), len(ids)))
    matrix[index.get_indexer(frame["source"]), index.get_indexer(frame["target"])] = frame[
        "weight"
    ].to_numpy()
    return from_dense(matrix, ids, transform=transform, source=source)


def _validate_matrix(matrix: np.ndarray, ids: Sequence[str], source: str) -> None:
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise WeightsError(f"weights {source}: matrix is {matrix.shape}, not square")
    if matrix.shape[0] != len(ids):
        raise WeightsError(f"weights {source}: {matrix.shape[0]} rows but {len(ids)} labels")
    if len(set(ids)) != len(ids):
        dup = pd.Index(ids)[pd.Index(ids).duplicated()].unique().tolist()
        raise WeightsError(f"weights {source}: duplicated unit labels {dup}")
    if not np.all(np.isfinite(matrix)):
        i, j = np.argwhere(~np.isfinite(matrix))[0]
        raise WeightsError(f"weights {source}: cell ({ids[i]}, {ids[j]}) is not a finite number")
    if np.any(np.abs(matrix) > HUGE):
        i, j = np.argwhere(np.abs(matrix) > HUGE)[0]
        raise WeightsError(
            f"weights {source}: cell ({ids[i]}, {ids[j]}) = {matrix[i, j]:.3g} is too large "
            f"to compute with (beyond {HUGE:.0e}); rescale the weights"
        )
    if np.any(matrix < 0):
        i, j = np.argwhere(matrix < 0)[0]
        raise WeightsError(f"weights {source}: cell ({ids[i]}, {ids[j]}) is negative")
    if np.any(np.diag(matrix) != 0):
        i = int(np.flatnonzero(np.diag(matrix))[0])
        raise WeightsError(
            f"weights {source}: unit '{ids[i]}' is its own neighbour; W must have a zero diagonal"
        )


def read_weights(
    path: str | Path, *, transform: Transform = "r", symmetrize: bool = True
) -> SpatialWeights:
    """Read weights from a square CSV, an edge-list CSV or a GAL file.

    ``bundled:province-contiguity`` names the bundled contiguity of the 31 provinces.
    The format is recognised from the extension (``.gal``) or, for CSV, from the header
    (``source,target[,weight]`` is an edge list, anything else a square matrix).
    """
    if str(path) == BUNDLED_CONTIGUITY:
        return province_contiguity(transform=transform)
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist")
    if path.suffix.lower() == ".gal":
        return _read_gal(path, transform)
    frame = read_csv_cells(path, what="weights file", error=WeightsError)
    columns = [c.lower() for c in frame.columns]
    if columns[:2] == ["source", "target"]:
        frame.columns = columns
        return check_symmetry(
            from_edges(frame, transform=transform, symmetrize=symmetrize, source=str(path))
        )
    return _read_square(frame, path, transform)


def _read_square(frame: pd.DataFrame, path: Path, transform: Transform) -> SpatialWeights:
    row_ids = frame.iloc[:, 0].astype(str).str.strip().tolist()
    col_ids = [str(c).strip() for c in frame.columns[1:]]
    if sorted(row_ids) != sorted(col_ids):
        raise WeightsError(
            f"weights file {path}: row labels (first column) and column labels (header) "
            f"differ: only in rows {sorted(set(row_ids) - set(col_ids))}, only in columns "
            f"{sorted(set(col_ids) - set(row_ids))}"
        )
    values = frame.iloc[:, 1:].apply(lambda col: pd.to_numeric(col, errors="coerce"))
    bad = values.isna().to_numpy()
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise WeightsError(
            f"weights file {path}, line {frame.index[i]}, column "
            f"'{col_ids[j]}': '{frame.iat[i, j + 1]}' is not a number"
        )
    matrix = values.to_numpy(dtype=float)
    # Columns may come in another order than rows: reorder them to the row order.
    matrix = matrix[:, pd.Index(col_ids).get_indexer(row_ids)]
    return check_symmetry(from_dense(matrix, row_ids, transform=transform, source=str(path)))


def _read_gal(path: Path, transform: Transform) -> SpatialWeights:
    import libpysal

    handle = libpysal.io.open(str(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = handle.read()
    except Exception as error:  # libpysal raises bare Exceptions on malformed files
        raise WeightsError(f"GAL file {path} could not be read: {error}") from None
    finally:
        handle.close()
    ids = [str(i) for i in w.id_order]
    matrix = np.zeros((len(ids), len(ids)))
    index = {u: k for k, u in enumerate(w.id_order)}
    for unit, neighbours in w.neighbors.items():
        for neighbour, value in zip(neighbours, w.weights[unit], strict=True):
            matrix[index[unit], index[neighbour]] = value
    return check_symmetry(from_dense(matrix, ids, transform=transform, source=str(path)))


def province_contiguity(*, transform: Transform = "r") -> SpatialWeights:
    """Return the first-order contiguity weights of China's 31 mainland provinces.

    Hainan is linked to Guangdong (see the module docstring); the provinces are in the
    order of :func:`province_table`.
    """
    text = resources.files("bayes_ccd.data").joinpath("province_contiguity.csv")
    with resources.as_file(text) as path:
        edges = read_csv_cells(path, what="bundled contiguity", error=WeightsError)
    units = province_table()["province"].tolist()
    return from_edges(edges, units, transform=transform, source=BUNDLED_CONTIGUITY)
