"""Spatial weights: bundled contiguity facts, loaders agree, checks and warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.data.regions import province_table
from bayes_ccd.data.weights import from_dense, from_edges, province_contiguity, read_weights
from bayes_ccd.exceptions import WeightsError, WeightsWarning


@pytest.fixture(scope="module")
def binary():
    return province_contiguity(transform="o")


def test_bundled_contiguity_is_symmetric_connected_and_has_known_borders(binary):
    w = binary.dense
    assert w.shape == (31, 31)
    np.testing.assert_array_equal(w, w.T)
    assert np.all(np.diag(w) == 0)
    assert binary.n_components == 1 and binary.islands == ()
    degree = dict(zip(binary.units, w.sum(axis=1), strict=True))
    # Facts of the map: Inner Mongolia and Shaanxi border eight provinces each; Hainan
    # has no land border and is linked to Guangdong only (module docstring).
    assert degree["Inner Mongolia"] == 8
    assert degree["Shaanxi"] == 8
    assert degree["Hainan"] == 1
    index = {u: k for k, u in enumerate(binary.units)}
    assert w[index["Hainan"], index["Guangdong"]] == 1
    assert w[index["Beijing"], index["Tianjin"]] == 1
    assert w[index["Beijing"], index["Shanghai"]] == 0
    assert int(w.sum()) // 2 == 69


def test_row_standardisation_and_eigenvalues():
    w = province_contiguity()
    assert w.is_row_stochastic
    np.testing.assert_allclose(
        np.sort(w.eigenvalues), np.sort(np.linalg.eigvals(w.dense).real), atol=1e-12
    )
    lo, hi = w.rho_bounds()
    assert hi == pytest.approx(1.0)
    assert lo == pytest.approx(1 / np.linalg.eigvals(w.dense).real.min())
    assert lo < -1  # the valid interval is wider than (-1, 1) for this W


def test_square_edge_list_and_gal_files_give_the_same_matrix(tmp_path, binary):
    units = list(binary.units)
    rng = np.random.default_rng(0)
    shuffled = list(rng.permutation(units))
    square = pd.DataFrame(binary.dense, index=units, columns=units).loc[:, shuffled]
    square.index.name = "province"
    square.to_csv(tmp_path / "w.csv")
    edges = [(units[i], units[j]) for i, j in zip(*np.nonzero(np.triu(binary.dense)), strict=True)]
    pd.DataFrame(edges, columns=["source", "target"]).to_csv(tmp_path / "e.csv", index=False)
    # GAL by hand: header "0 n", then per unit "id k" and a line of its k neighbours.
    # Province names contain spaces, so the GAL file uses their numeric codes.
    codes = dict(
        zip(province_table()["province"], province_table()["code"].astype(str), strict=True)
    )
    lines = [f"0 {len(units)}"]
    for i, u in enumerate(units):
        neighbours = [codes[units[j]] for j in np.flatnonzero(binary.dense[i])]
        lines += [f"{codes[u]} {len(neighbours)}", " ".join(neighbours)]
    (tmp_path / "w.gal").write_text("\n".join(lines) + "\n")
    expected = province_contiguity().dense
    for name in ("w.csv", "e.csv"):
        loaded = read_weights(tmp_path / name).aligned(units)
        np.testing.assert_allclose(loaded.dense, expected, atol=1e-15, err_msg=name)
    gal = read_weights(tmp_path / "w.gal").aligned([codes[u] for u in units])
    np.testing.assert_allclose(gal.dense, expected, atol=1e-15)


def test_aligned_reorders_and_rejects_other_units():
    w = province_contiguity()
    order = sorted(w.units)
    np.testing.assert_array_equal(
        w.aligned(order).dense, pd.DataFrame(w.dense, w.units, w.units).loc[order, order].to_numpy()
    )
    with pytest.raises(WeightsError, match=r"in the data but not in the weights: \['Macau'\]"):
        w.aligned([*w.units[:-1], "Macau"])


def test_subset_is_restandardised_and_reports_components():
    east = province_table().query("region == 'east'")["province"]
    w = province_contiguity().subset(east)
    assert w.n == 11 and w.is_row_stochastic
    # Among central provinces, Jilin-Heilongjiang are cut off from the rest.
    central = province_table().query("region == 'central'")["province"]
    with pytest.warns(WeightsWarning, match="2 disconnected components"):
        province_contiguity().subset(central)


def test_islands_are_warned_with_names_and_keep_a_zero_row():
    edges = pd.DataFrame({"source": ["a", "b"], "target": ["b", "c"]})
    with pytest.warns(WeightsWarning, match=r"without neighbours \['d'\]"):
        w = from_edges(edges, ["a", "b", "c", "d"])
    np.testing.assert_allclose(w.dense.sum(axis=1), [1, 1, 1, 0])
    assert not w.is_row_stochastic


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.ones((2, 3)), "not square"),
        (np.array([[0, -1.0], [1, 0]]), "negative"),
        (np.array([[1.0, 1], [1, 0]]), "its own neighbour"),
        (np.array([[0, np.nan], [1, 0]]), "not a finite"),
    ],
)
def test_bad_matrices(matrix, message):
    with pytest.raises(WeightsError, match=message):
        from_dense(matrix, ["a", "b"][: matrix.shape[0]])


def test_bad_files(tmp_path):
    (tmp_path / "bad.csv").write_text("id,a,b\na,0,x\nb,1,0\n")
    with pytest.raises(WeightsError, match=r"line 2, column 'b': 'x' is not a number"):
        read_weights(tmp_path / "bad.csv")
    (tmp_path / "labels.csv").write_text("id,a,b\na,0,1\nc,1,0\n")
    with pytest.raises(WeightsError, match="row labels .* differ"):
        read_weights(tmp_path / "labels.csv")
    (tmp_path / "loop.csv").write_text("source,target\na,b\nb,b\n")
    with pytest.raises(WeightsError, match="line 3: unit 'b' is linked to itself"):
        read_weights(tmp_path / "loop.csv")
    with pytest.raises(WeightsError, match="does not exist"):
        read_weights(tmp_path / "missing.csv")


def test_weighted_edges_and_conflicting_duplicates(tmp_path):
    (tmp_path / "e.csv").write_text("source,target,weight\na,b,2\nb,c,1\n")
    w = read_weights(tmp_path / "e.csv", transform="o")
    np.testing.assert_allclose(w.dense, [[0, 2, 0], [2, 0, 1], [0, 1, 0]])
    (tmp_path / "c.csv").write_text("source,target,weight\na,b,2\nb,a,3\n")
    with pytest.raises(WeightsError, match="twice with different weights"):
        read_weights(tmp_path / "c.csv")


def test_eigenvalues_from_the_symmetric_similar_matrix_equal_the_general_solver():
    # Symmetric contiguity (fast path), with an island, and an asymmetric W (general path).
    rng = np.random.default_rng(3)
    upper = np.triu(rng.random((40, 40)) < 0.15, 1).astype(float)
    binary = upper + upper.T
    binary[0, :] = binary[:, 0] = 0.0
    with pytest.warns(WeightsWarning):
        symmetric = from_dense(binary, [f"u{i}" for i in range(40)])
    asymmetric_raw = (rng.random((40, 40)) < 0.1).astype(float)
    np.fill_diagonal(asymmetric_raw, 0)
    asymmetric_raw[asymmetric_raw.sum(axis=1) == 0, 1] = 1.0
    asymmetric_raw[1, 1] = 0.0
    asymmetric_raw[1, 2] = 1.0
    asymmetric = from_dense(asymmetric_raw, [f"u{i}" for i in range(40)])
    for w in (symmetric, asymmetric, province_contiguity()):
        general = np.linalg.eigvals(w.dense)
        ours = w.eigenvalues
        key = lambda v: (np.round(v.real, 8), np.round(v.imag, 8))  # noqa: E731
        np.testing.assert_allclose(sorted(ours, key=key), sorted(general, key=key), atol=1e-10)


def test_a_binary_w_with_swapped_labels_is_said_and_symmetry_is_reported(tmp_path):
    path = tmp_path / "W.csv"
    # A path a-b-c-d-e; the rows of a and c are swapped with their numbers left in place.
    path.write_text(
        "unit,a,b,c,d,e\nc,0,1,0,0,0\nb,1,0,1,0,0\na,0,1,0,1,0\nd,0,0,1,0,1\ne,0,0,0,1,0\n",
        encoding="utf-8",
    )
    with pytest.warns(
        WeightsWarning, match=r"binary W is not symmetric \(c -> d is 0 but d -> c is 1; a -> d"
    ):
        w = read_weights(path)
    summary = w.summary()
    assert summary["symmetric"] is False and summary["binary"] is True
    assert summary["asymmetric_pairs"] == len(w.asymmetric_pairs) > 0
    right = tmp_path / "R.csv"
    right.write_text(
        "unit,a,b,c,d,e\na,0,1,0,0,0\nb,1,0,1,0,0\nc,0,1,0,1,0\nd,0,0,1,0,1\ne,0,0,0,1,0\n",
        encoding="utf-8",
    )
    assert read_weights(right).summary()["symmetric"] is True
