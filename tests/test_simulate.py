"""``bayes-ccd simulate``: the panel it writes, the truth it records, the fit it proposes.

The draws themselves are :func:`bayes_ccd.spatial.simulate.simulate_panel`, whose
recovery of known parameters ``tests/test_ml.py`` and ``tests/test_bayes.py`` test; here
the true effects are checked against the dense inverse and the command against the
function it wraps.
"""

from __future__ import annotations

import json
import shlex

import numpy as np
import pandas as pd
import pytest

import bayes_ccd as bc
from bayes_ccd.cli import main

BETA = [0.5, -0.3, 0.2]
THETA = [0.2, 0.1, -0.2]


def dense_effects(W: np.ndarray, rho: float, beta, theta) -> np.ndarray:
    """(K, 3) direct, indirect, total: traces and sums of (I - rho W)^{-1}(beta I + theta W)."""
    n = W.shape[0]
    inverse = np.linalg.inv(np.eye(n) - rho * W)
    rows = []
    for b, t in zip(beta, theta, strict=True):
        S = inverse @ (b * np.eye(n) + t * W)
        direct, total = np.trace(S) / n, S.sum() / n
        rows.append([direct, total - direct, total])
    return np.array(rows)


@pytest.mark.parametrize(("model", "rho"), [("sdm", 0.4), ("sdm", -0.5), ("sar", 0.6)])
def test_true_effects_are_those_of_the_dense_inverse(model, rho):
    weights = bc.province_contiguity()
    theta = THETA if model == "sdm" else None
    observed = bc.true_effects(weights, beta=BETA, theta=theta, spatial=rho, model=model)
    expected = dense_effects(weights.dense, rho, BETA, theta or [0.0] * len(BETA))
    np.testing.assert_allclose(observed.to_numpy(), expected, rtol=1e-10, atol=1e-12)
    assert list(observed.index) == ["x1", "x2", "x3"]


def test_true_effects_of_an_error_model_ignore_lambda():
    """SEM/SDEM: the spatial process is in the error; effects are those of rho = 0."""
    weights = bc.province_contiguity()
    observed = bc.true_effects(weights, beta=BETA, theta=THETA, spatial=0.7, model="sdem")
    expected = dense_effects(weights.dense, 0.0, BETA, THETA)
    np.testing.assert_allclose(observed.to_numpy(), expected, atol=1e-12)


def test_the_command_writes_simulate_panel_and_its_truth(tmp_path, capsys):
    out = tmp_path / "panel.csv"
    args = ["simulate", "--weights", "bundled:province-contiguity", "--periods", "12"]
    args += ["--beta", "0.5,-0.3,0.2", "--theta", "0.2,0.1,-0.2", "--rho", "0.3"]
    assert main([*args, "--seed", "7", "--out", str(out)]) == 0
    printed = capsys.readouterr().out

    weights = bc.province_contiguity()
    expected = bc.simulate_panel(weights, n_periods=12, beta=BETA, theta=THETA, spatial=0.3, seed=7)
    panel = bc.read_panel(out, unit="unit", time="period")
    arrays = bc.PanelArrays.from_panel(panel, "y", ["x1", "x2", "x3"])
    # The CSV holds every float exactly (shortest round-trip representation).
    assert sorted(arrays.units) == sorted(weights.units)
    order = [expected.units.index(u) for u in arrays.units]
    np.testing.assert_array_equal(arrays.y, expected.y[:, order])
    np.testing.assert_array_equal(arrays.x, expected.x[:, order])
    assert panel.notice.startswith("SYNTHETIC")  # read back from panel.meta.json

    meta = json.loads((tmp_path / "panel.meta.json").read_text("utf-8"))
    assert meta["synthetic"] is True and meta["seed"] == 7
    assert meta["parameters"]["spatial"] == 0.3 and meta["parameters"]["theta"] == THETA
    truth = dense_effects(weights.dense, 0.3, BETA, THETA)
    recorded = np.array([[r["direct"], r["indirect"], r["total"]] for r in meta["true_effects"]])
    np.testing.assert_allclose(recorded, truth, rtol=1e-10, atol=1e-12)
    assert "numpy" in meta["packages"]

    # The fit command it prints runs as printed (MLE here, for speed).
    line = next(text for text in printed.splitlines() if text.startswith("Fit it with: "))
    fit = shlex.split(line.removeprefix("Fit it with: bayes-ccd "))
    fit = [a for a in fit if a not in ("--out", "<directory>")]
    fit[fit.index("bayes")] = "mle"
    assert main([*fit, "--no-tests", "--out", str(tmp_path / "fit")]) == 0
    table = pd.read_csv(tmp_path / "fit" / "coefficients.csv").set_index("term")
    # The MLE meets the truth it was drawn from. Over 30 seeds of this design (N = 31,
    # T = 12) z = (rho_hat - 0.3) / se had mean -0.18 and sd 0.82, so |z| < 3 fails
    # only for a wrong panel or fit (at T = 6 the sd of z was 1.18: too few periods).
    assert abs(table.loc["rho", "estimate"] - 0.3) < 3 * table.loc["rho", "std_error"]


@pytest.mark.parametrize("values", ["0.5,nan", "", "0.5,inf", "a,b"])
def test_the_command_refuses_coefficients_that_are_not_finite_numbers(tmp_path, capsys, values):
    args = ["simulate", "--weights", "bundled:province-contiguity", "--beta", values]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--out", str(tmp_path / "p.csv")])
    assert exit_.value.code == 2
    assert "--beta" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_command_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "panel.csv"
    out.write_text("mine\n", encoding="utf-8")
    args = ["simulate", "--weights", "bundled:province-contiguity", "--out", str(out)]
    assert main(args) == 2
    assert "exists; choose a new file name" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["panel.csv"]
