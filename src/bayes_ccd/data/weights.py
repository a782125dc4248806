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
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from bayes_ccd.data.panel import HUGE, _delimiter, _header_line, read_csv_cells
from bayes_ccd.data.regions import province_table
from bayes_ccd.exceptions import SpecificationError, WeightsError, WeightsWarning, warn

if TYPE_CHECKING:
    from libpysal.graph import Graph

Transform = Literal["r", "o"]
BUNDLED_CONTIGUITY = "bundled:province-contiguity"

#: Imaginary parts below this are rounding noise of a real spectrum.
_IMAG_TOL = 1e-10
#: Largest panel whose spatial models use the dense ``W`` and its eigenvalues; above it
#: ``W`` stays sparse, with a sparse log-determinant and trace-based effects. Measured on
#: two cores (benchmarks/bench_large_n.py): at 2,000 units the eigenvalues take about
#: 2 s and a dense ``W`` 32 MB, and the sparse path matches the dense one to well under
#: 1% of a posterior sd (tests/test_large_n.py).
DENSE_SPECTRUM_LIMIT: Final = 2_000
#: Above this many units the eigenvalues of ``W`` are refused (hours of ``O(n^3)``).
EIGENVALUE_LIMIT: Final = 20_000
#: Above this many units ``SpatialWeights.dense`` is refused (3 GiB at the limit).
DENSE_MATRIX_LIMIT: Final = 20_000
#: Above this many units a square CSV (``n^2`` cells) is refused: use an edge list.
SQUARE_CSV_LIMIT: Final = 5_000


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

    def _ordered(self, graph: Graph) -> sparse.csr_matrix:
        matrix = sparse.csr_matrix(graph.sparse, dtype=float)
        ids = [str(u) for u in graph.unique_ids]
        order = pd.Index(ids).get_indexer(list(self.units))
        if not np.array_equal(order, np.arange(len(order))):
            matrix = matrix[order][:, order]
        # libpysal stores an island as a zero-weight self-loop: drop such explicit zeros.
        matrix.eliminate_zeros()
        matrix.sort_indices()
        return matrix

    @cached_property
    def raw_sparse(self) -> sparse.csr_matrix:
        """The weights as given (before the transform), CSR in :attr:`units` order."""
        return self._ordered(self.raw)

    @cached_property
    def sparse(self) -> sparse.csr_matrix:
        """``W`` as a sparse CSR matrix, rows and columns in :attr:`units` order.

        The representation of every computation on large panels: memory grows with the
        number of links, not with ``n^2``.
        """
        return self._ordered(self.graph)

    @cached_property
    def raw_dense(self) -> np.ndarray:
        """The weights as given (before the transform), dense, in :attr:`units` order."""
        return self._densify(self.raw_sparse)

    @cached_property
    def dense(self) -> np.ndarray:
        """``W`` as a dense ``(n, n)`` array, rows and columns in :attr:`units` order.

        Raises
        ------
        WeightsError
            More than :data:`DENSE_MATRIX_LIMIT` units (use :attr:`sparse`).
        """
        return self._densify(self.sparse)

    def _densify(self, matrix: sparse.csr_matrix) -> np.ndarray:
        if self.n > DENSE_MATRIX_LIMIT:
            raise WeightsError(
                f"weights {self.source}: a dense {self.n} x {self.n} W would take "
                f"{self.n**2 * 8 / 2**30:.0f} GiB; above {DENSE_MATRIX_LIMIT:,} units "
                "use SpatialWeights.sparse"
            )
        return np.ascontiguousarray(matrix.toarray(), dtype=float)

    @cached_property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of ``W``, computed once.

        A row-standardised symmetric matrix ``W = D^{-1} C`` is similar to the symmetric
        ``D^{-1/2} C D^{-1/2}`` (Ord 1975), whose real eigenvalues a symmetric solver
        finds several times faster; any other ``W`` uses the general solver and keeps a
        complex spectrum when it has one.

        Raises
        ------
        SpecificationError
            More than :data:`EIGENVALUE_LIMIT` units: the ``O(n^3)`` decomposition would
            take hours; large panels use a sparse log-determinant instead
            (:mod:`bayes_ccd.spatial.logdet`).
        """
        if self.n > EIGENVALUE_LIMIT:
            raise SpecificationError(
                f"weights {self.source}: the eigenvalues of a W of {self.n:,} units are "
                f"not computed (above {EIGENVALUE_LIMIT:,} units the dense decomposition "
                "takes too long); use logdet='sparse-lu' or 'chebyshev'"
            )
        if self.transform == "r" and self.raw_is_symmetric:
            raw = self.raw_dense
            degree = raw.sum(axis=1)
            scale = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
            return np.linalg.eigvalsh(scale[:, None] * raw * scale[None, :])
        values = np.linalg.eigvals(self.dense)
        if np.all(np.abs(values.imag) < _IMAG_TOL):
            return np.sort(values.real)
        return values

    @cached_property
    def raw_is_symmetric(self) -> bool:
        """Whether the raw weights equal their transpose to ``1e-14`` in every cell."""
        raw = self.raw_sparse
        difference = abs(raw - raw.T)
        return bool(difference.nnz == 0 or difference.max() <= 1e-14)

    @property
    def is_row_stochastic(self) -> bool:
        """Whether every row sums to one (needed by time fixed effects)."""
        return bool(np.allclose(np.asarray(self.sparse.sum(axis=1)).ravel(), 1.0, atol=1e-12))

    @cached_property
    def islands(self) -> tuple[str, ...]:
        """Units without any neighbour."""
        degree = np.diff(self.sparse.indptr)  # explicit zeros were eliminated
        return tuple(np.asarray(self.units, dtype=object)[degree == 0])

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
        largest eigenvalue, which the solver returns only to rounding). Above
        :data:`DENSE_SPECTRUM_LIMIT` units the extreme eigenvalues come from Lanczos
        iterations (:func:`extreme_eigenvalues`) instead of the whole spectrum.
        """
        if self.n > DENSE_SPECTRUM_LIMIT:
            lo, hi = self.extreme_eigenvalues()
        else:
            values = self.eigenvalues
            real = (
                values.real[np.abs(values.imag) < _IMAG_TOL] if np.iscomplexobj(values) else values
            )
            lo, hi = float(real.min()), float(real.max())
        if lo >= 0 or hi <= 0:
            raise WeightsError(
                f"weights {self.source}: eigenvalues do not straddle zero "
                f"(min {lo:.4g}, max {hi:.4g}); spatial models need a W with zero diagonal "
                "and at least one neighbour pair"
            )
        return 1.0 / lo, 1.0 if self.is_row_stochastic else 1.0 / hi

    def extreme_eigenvalues(self) -> tuple[float, float]:
        """Smallest and largest real eigenvalue of ``W`` without the whole spectrum.

        A row-standardised symmetric ``W`` is similar to ``D^{-1/2} C D^{-1/2}``, whose
        extreme eigenvalues ARPACK's Lanczos iteration finds in ``O(links)`` per step; a
        symmetric ``W`` as given likewise. For any other ``W`` the spectral radius
        ``r`` (Arnoldi) gives the conservative interval ``(-r, r)``; a row-stochastic
        ``W`` has ``r = 1`` and the largest eigenvalue exactly 1.
        """
        from scipy.sparse.linalg import eigs, eigsh

        if self.raw_is_symmetric:
            matrix = self.raw_sparse
            if self.transform == "r":
                degree = np.asarray(matrix.sum(axis=1)).ravel()
                scale = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
                matrix = sparse.diags(scale) @ matrix @ sparse.diags(scale)
            # A fixed start vector keeps ARPACK's answer reproducible.
            start = np.ones(self.n) / np.sqrt(self.n)
            low = eigsh(matrix, k=1, which="SA", v0=start, tol=1e-12, return_eigenvectors=False)
            high = eigsh(matrix, k=1, which="LA", v0=start, tol=1e-12, return_eigenvectors=False)
            return float(low[0]), float(high[0])
        if self.is_row_stochastic:
            return -1.0, 1.0
        radius = eigs(
            self.sparse, k=1, which="LM", v0=np.ones(self.n), tol=1e-12, return_eigenvectors=False
        )
        return -float(abs(radius[0])), float(abs(radius[0]))

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
        raw = self.raw_sparse
        pattern = (abs(raw) + abs(raw.T)).tocoo()
        upper = pattern.row < pattern.col
        rows, cols = pattern.row[upper], pattern.col[upper]
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        forward = np.asarray(raw[rows, cols]).ravel()
        backward = np.asarray(raw[cols, rows]).ravel()
        differ = ~np.isclose(forward, backward, rtol=1e-12, atol=0)
        return tuple(
            (self.units[i], self.units[j], float(a), float(b))
            for i, j, a, b in zip(
                rows[differ], cols[differ], forward[differ], backward[differ], strict=True
            )
        )

    @property
    def is_symmetric(self) -> bool:
        """Whether the raw weights (before the transform) are symmetric."""
        return not self.asymmetric_pairs

    @property
    def is_binary(self) -> bool:
        """Whether every raw weight is 0 or 1 (contiguity)."""
        return bool(np.isin(self.raw_sparse.data, (0.0, 1.0)).all())

    def summary(self) -> dict[str, object]:
        """Facts for reports: size, links, islands, components, symmetry, transform, source."""
        links = int(self.sparse.nnz)
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
    return from_sparse(sparse.csr_matrix(matrix), ids, transform=transform, source=source)


def from_sparse(
    matrix: sparse.spmatrix | sparse.sparray,
    units: Sequence[object],
    *,
    transform: Transform = "r",
    source: str = "<sparse>",
) -> SpatialWeights:
    """Weights from a scipy sparse ``(n, n)`` matrix whose rows and columns follow ``units``.

    The representation for large panels: nothing ``n x n`` is ever formed.

    Raises
    ------
    WeightsError
        Not square, labels not matching, duplicated labels, a non-finite, negative or
        huge weight, or a unit that is its own neighbour (named).
    """
    matrix = sparse.csr_matrix(matrix, dtype=float)
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    ids = [str(u) for u in units]
    _validate_shape(matrix.shape, ids, source)
    coo = matrix.tocoo()
    for bad, text in (
        (~np.isfinite(coo.data), "is not a finite number"),
        (np.abs(coo.data) > HUGE, f"is too large to compute with (beyond {HUGE:.0e}); rescale"),
        (coo.data < 0, "is negative"),
    ):
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise WeightsError(
                f"weights {source}: cell ({ids[coo.row[k]]}, {ids[coo.col[k]]}) = "
                f"{coo.data[k]:.3g} {text}"
            )
    loops = np.flatnonzero(coo.row == coo.col)
    if len(loops):
        raise WeightsError(
            f"weights {source}: unit '{ids[coo.row[loops[0]]]}' is its own neighbour; "
            "W must have a zero diagonal"
        )
    # libpysal takes seconds to import: only when weights are built, not to check a run.
    from libpysal.graph import Graph

    return _finish(Graph.from_sparse(matrix, ids=ids), ids, transform, source)


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
    matrix = sparse.coo_matrix(
        (
            frame["weight"].to_numpy(dtype=float),
            (index.get_indexer(frame["source"]), index.get_indexer(frame["target"])),
        ),
        shape=(len(ids), len(ids)),
    )
    return from_sparse(matrix, ids, transform=transform, source=source)


def _validate_shape(shape: tuple[int, ...], ids: Sequence[str], source: str) -> None:
    if len(shape) != 2 or shape[0] != shape[1]:
        raise WeightsError(f"weights {source}: matrix is {shape}, not square")
    if shape[0] != len(ids):
        raise WeightsError(f"weights {source}: {shape[0]} rows but {len(ids)} labels")
    if len(set(ids)) != len(ids):
        dup = pd.Index(ids)[pd.Index(ids).duplicated()].unique().tolist()
        raise WeightsError(f"weights {source}: duplicated unit labels {dup}")


def _validate_matrix(matrix: np.ndarray, ids: Sequence[str], source: str) -> None:
    _validate_shape(matrix.shape, ids, source)
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
    """Read weights from an edge list (CSV or Parquet), a GAL or GWT file, or a square CSV.

    ``bundled:province-contiguity`` names the bundled contiguity of the 31 provinces.
    The format is recognised from the extension (``.gal``, ``.gwt``, ``.parquet``) or,
    for CSV, from the header (``source,target[,weight]`` is an edge list, anything else
    a square matrix). Edge lists, GAL and GWT are read straight into a sparse matrix,
    the formats for large panels; a square CSV of more than :data:`SQUARE_CSV_LIMIT`
    units is refused (``n^2`` cells).
    """
    if str(path) == BUNDLED_CONTIGUITY:
        return province_contiguity(transform=transform)
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".gal", ".gwt"):
        return _read_libpysal(path, transform)
    if suffix == ".parquet":
        return _read_parquet_edges(path, transform, symmetrize)
    columns = _header_columns(path)
    if columns[:2] != ["source", "target"] and len(columns) - 1 > SQUARE_CSV_LIMIT:
        raise WeightsError(
            f"weights file {path}: a square CSV of {len(columns) - 1:,} units "
            f"({(len(columns) - 1) ** 2:,} cells) is too large; above {SQUARE_CSV_LIMIT:,} "
            "units give the weights as an edge list (CSV or Parquet with columns "
            "source,target[,weight]) or a GAL/GWT file"
        )
    frame = read_csv_cells(path, what="weights file", error=WeightsError)
    if columns[:2] == ["source", "target"]:
        frame.columns = [c.lower() for c in frame.columns]
        return check_symmetry(
            from_edges(frame, transform=transform, symmetrize=symmetrize, source=str(path))
        )
    return _read_square(frame, path, transform)


def _header_columns(path: Path) -> list[str]:
    """Return the lower-cased header fields of a CSV file (none if it has no readable header).

    Read before the file itself, so that a square CSV too large to hold is refused
    before its cells are read; an unreadable file is left to ``read_csv_cells``, which
    names the problem.
    """
    try:
        header = _header_line(path)
    except (OSError, UnicodeDecodeError, pd.errors.EmptyDataError):
        return []
    return [c.strip().strip('"').lower() for c in header.split(_delimiter(header))]


def _read_parquet_edges(path: Path, transform: Transform, symmetrize: bool) -> SpatialWeights:
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises its own error types on malformed files
        raise WeightsError(f"Parquet file {path} could not be read: {error}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    # Index rows by their 1-based position, as CSV rows are by line, for the messages.
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return check_symmetry(
        from_edges(frame, transform=transform, symmetrize=symmetrize, source=str(path))
    )


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


def _read_libpysal(path: Path, transform: Transform) -> SpatialWeights:
    import libpysal

    kind = path.suffix.lower().lstrip(".").upper()
    try:
        handle = libpysal.io.open(str(path))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = handle.read()
        handle.close()
    except Exception as error:  # libpysal raises bare Exceptions on malformed files
        raise WeightsError(f"{kind} file {path} could not be read: {error}") from None
    ids = [str(i) for i in w.id_order]
    # W.sparse is CSR in id_order, built from the neighbour lists without an n x n array.
    return check_symmetry(from_sparse(w.sparse, ids, transform=transform, source=str(path)))


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
