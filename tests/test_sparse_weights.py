"""Sparse weights: large-panel formats and the sparse representation against dense truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.spatial import cKDTree

import bayes_ccd.data.weights as weights_module
from bayes_ccd.data.weights import (
    from_dense,
    from_edges,
    from_sparse,
    province_contiguity,
    read_weights,
)
from bayes_ccd.exceptions import SpecificationError, WeightsError, WeightsWarning


def knn_matrix(n: int, k: int, seed: int) -> sparse.csr_matrix:
    """Binary k-nearest-neighbour links of ``n`` uniform points, made symmetric."""
    points = np.random.default_rng(seed).uniform(size=(n, 2))
    _, neighbours = cKDTree(points).query(points, k + 1)
    rows = np.repeat(np.arange(n), k)
    matrix = sparse.csr_matrix((np.ones(n * k), (rows, neighbours[:, 1:].ravel())), (n, n))
    return ((matrix + matrix.T) > 0).astype(float).tocsr()


def test_sparse_and_dense_construction_agree_cell_by_cell():
    matrix = knn_matrix(300, 5, seed=1)
    units = [f"u{i}" for i in range(300)]
    from_s = from_sparse(matrix, units)
    from_d = from_dense(matrix.toarray(), units)
    assert np.array_equal(from_s.dense, from_d.dense)
    assert np.array_equal(from_s.sparse.toarray(), from_d.dense)
    rows = matrix.toarray() / matrix.toarray().sum(axis=1, keepdims=True)
    np.testing.assert_allclose(from_s.dense, rows, rtol=0, atol=1e-15)
    assert from_s.is_row_stochastic and from_s.is_symmetric and from_s.is_binary
    assert from_s.summary()["n_links"] == matrix.nnz


def test_reordering_units_permutes_the_sparse_matrix():
    weights = province_contiguity()
    order = list(reversed(weights.units))
    aligned = weights.aligned(order)
    index = [weights.units.index(u) for u in order]
    assert np.array_equal(aligned.sparse.toarray(), weights.dense[np.ix_(index, index)])


def test_asymmetric_pairs_match_a_dense_brute_force():
    rng = np.random.default_rng(3)
    dense = knn_matrix(60, 3, seed=2).toarray() * rng.uniform(0.5, 2.0, (60, 60))
    weights = from_dense(dense, range(60), transform="o")
    i, j = np.nonzero(np.triu(dense != dense.T))
    expected = [(str(a), str(b), dense[a, b], dense[b, a]) for a, b in zip(i, j, strict=True)]
    assert list(weights.asymmetric_pairs) == expected
    assert not weights.is_binary


def test_extreme_eigenvalues_equal_those_of_the_whole_spectrum():
    matrix = knn_matrix(400, 6, seed=4)
    for transform in ("r", "o"):
        weights = from_sparse(matrix, range(400), transform=transform)
        values = np.linalg.eigvals(weights.dense).real
        lo, hi = weights.extreme_eigenvalues()
        np.testing.assert_allclose([lo, hi], [values.min(), values.max()], atol=1e-8)


def test_large_panels_take_the_lanczos_bounds(monkeypatch):
    weights = from_sparse(knn_matrix(400, 6, seed=5), range(400))
    exact = weights.rho_bounds()
    monkeypatch.setattr(weights_module, "DENSE_SPECTRUM_LIMIT", 100)
    monkeypatch.setattr(weights_module, "EIGENVALUE_LIMIT", 100)
    fresh = from_sparse(knn_matrix(400, 6, seed=5), range(400))
    np.testing.assert_allclose(fresh.rho_bounds(), exact, rtol=1e-8)
    with pytest.raises(SpecificationError, match="eigenvalues of a W of 400 units"):
        _ = fresh.eigenvalues
    monkeypatch.setattr(weights_module, "DENSE_MATRIX_LIMIT", 100)
    with pytest.raises(WeightsError, match="use SpatialWeights.sparse"):
        _ = from_sparse(knn_matrix(400, 6, seed=5), range(400)).dense


def test_islands_of_a_sparse_graph_are_named():
    matrix = sparse.lil_matrix((4, 4))
    matrix[0, 1] = matrix[1, 0] = matrix[1, 2] = matrix[2, 1] = 1.0
    with pytest.warns(WeightsWarning, match=r"\['d'\]"):
        weights = from_sparse(matrix.tocsr(), ["a", "b", "c", "d"])
    assert weights.islands == ("d",)
    assert np.array_equal(weights.dense[3], np.zeros(4))


@pytest.mark.parametrize(
    ("cell", "value", "message"),
    [((0, 1), -1.0, "is negative"), ((0, 0), 1.0, "own neighbour"), ((1, 2), np.inf, "finite")],
)
def test_bad_sparse_matrices_name_the_cell(cell, value, message):
    matrix = sparse.lil_matrix((3, 3))
    matrix[0, 1] = matrix[1, 0] = matrix[1, 2] = matrix[2, 1] = 1.0
    matrix[cell] = value
    with pytest.raises(WeightsError, match=message):
        from_sparse(matrix.tocsr(), ["a", "b", "c"])


def test_parquet_and_gwt_edges_give_the_matrix_of_the_csv_edge_list(tmp_path):
    matrix = knn_matrix(50, 6, seed=6).tocoo()
    edges = pd.DataFrame(
        {"source": [f"u{i}" for i in matrix.row], "target": [f"u{j}" for j in matrix.col]}
    )
    edges.to_csv(tmp_path / "w.csv", index=False)
    edges.to_parquet(tmp_path / "w.parquet")
    with open(tmp_path / "w.gwt", "w") as handle:
        handle.write("0 50 w unit\n")
        for i, j in zip(matrix.row, matrix.col, strict=True):
            handle.write(f"u{i} u{j} 1.0\n")
    csv = read_weights(tmp_path / "w.csv")
    for name in ("w.parquet", "w.gwt"):
        other = read_weights(tmp_path / name).aligned(csv.units)
        assert np.array_equal(other.dense, csv.dense), name


def test_a_square_csv_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(weights_module, "SQUARE_CSV_LIMIT", 3)
    units = ["a", "b", "c", "d"]
    pd.DataFrame(np.ones((4, 4)) - np.eye(4), index=units, columns=units).to_csv(tmp_path / "w.csv")
    with pytest.raises(WeightsError, match="edge list"):
        read_weights(tmp_path / "w.csv")
    # An edge list of the same units is not a square matrix: it is read.
    from_edges(pd.DataFrame({"source": ["a", "b", "c"], "target": ["b", "c", "d"]}))
