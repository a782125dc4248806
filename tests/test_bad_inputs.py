"""The catalogue of bad inputs: one table, every command, exit 2 with one line, nothing written.

Each row of :data:`CATALOGUE` is an input (files written into a fresh directory), a
command, the expected exit code, a phrase the message must contain. Every row also
checks that the message is one line, that there is no traceback and that no output
(directory, or partial sibling) is left behind. :data:`WARNINGS` lists inputs that are
usable but must be said; :func:`test_fuzz` feeds randomly corrupted panels and weights.

Counts: 35 bad inputs in the catalogue (and the read-only ``--out``, simulated), 4
usable inputs that warn, 38 fuzz cases in the fast tier (each of the 19 corruptions
twice) and 300 in the ``slow`` tier.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.cli import main
from bayes_ccd.config import bundled_models_dir
from bayes_ccd.data.demo import bundled_demo_path
from bayes_ccd.exceptions import (
    ConvergenceWarning,
    DataWarning,
    NumericalWarning,
    WeightsWarning,
)

INDICATORS = str(bundled_models_dir() / "indicators.toml")
DEMO_TOML = bundled_models_dir() / "demo.toml"
UNITS = [f"S{i:02d}" for i in range(12)]
PERIODS = list(range(1990, 2000))


# --- inputs ---------------------------------------------------------------------------------


def small_panel(seed: int = 1) -> pd.DataFrame:
    """A 12-state x 10-year panel with y, two covariates (and their names as a user has)."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in PERIODS:
        for i, u in enumerate(UNITS):
            x1, x2 = rng.normal(size=2)
            y = 1 + 0.5 * x1 - 0.3 * x2 + 0.1 * i + rng.normal(scale=0.5)
            rows.append({"state": u, "year": t, "logy": y, "logp": x1, "logi": x2})
    return pd.DataFrame(rows)


def small_weights() -> pd.DataFrame:
    """Symmetric 0/1 contiguity of the 12 states: a ring with chords (every unit has 4)."""
    n = len(UNITS)
    matrix = np.zeros((n, n), dtype=int)
    for i in range(n):
        for step in (1, 3):
            matrix[i, (i + step) % n] = matrix[(i + step) % n, i] = 1
    return pd.DataFrame(matrix, index=pd.Index(UNITS, name="unit"), columns=UNITS)


def write_inputs(
    directory: Path,
    panel: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    weights: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> None:
    """Write p.csv and W.csv (edited by ``panel``/``weights``) into ``directory``."""
    frame = small_panel()
    (panel or (lambda f: f))(frame).to_csv(directory / "p.csv", index=False)
    (weights or (lambda w: w))(small_weights()).to_csv(directory / "W.csv")


def fit_command(directory: Path, *extra: str, data: str = "p.csv") -> list[str]:
    """``bayes-ccd fit`` (MLE, quick settings) on the small panel."""
    return [
        "fit",
        "--data",
        str(directory / data),
        "--unit",
        "state",
        "--time",
        "year",
        "--y",
        "logy",
        "--x",
        "logp,logi",
        "--weights",
        str(directory / "W.csv"),
        "--effects-draws",
        "200",
        "--no-tests",
        *extra,
    ]


def ccd_command(data: Path | str, *extra: str) -> list[str]:
    """``bayes-ccd ccd`` on a copy of the demo panel."""
    return [
        "ccd",
        "--data",
        str(data),
        "--indicators",
        INDICATORS,
        "--unit",
        "province",
        "--time",
        "year",
        *extra,
    ]


def demo_copy(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], list[str]]:
    """An input: the demo panel edited by ``edit``, as d.csv; the command is ``ccd``."""

    def setup(directory: Path) -> list[str]:
        edit(pd.read_csv(bundled_demo_path())).to_csv(directory / "d.csv", index=False)
        return ccd_command(directory / "d.csv", "--missing", "linear")

    return setup


def small(
    panel: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    weights: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    *extra: str,
    data: str = "p.csv",
) -> Callable[[Path], list[str]]:
    """An input: the small panel and weights, edited; the command is ``fit``."""

    def setup(directory: Path) -> list[str]:
        write_inputs(directory, panel, weights)
        return fit_command(directory, *extra, data=data)

    return setup


def command(*args: str) -> Callable[[Path], list[str]]:
    """An input that is only a command line (files named are in the directory)."""
    return lambda directory: [a.replace("{dir}", str(directory)) for a in args]


def run_config(text: str, *extra: str) -> Callable[[Path], list[str]]:
    """An input: a run configuration (``{demo}`` is the bundled models directory)."""

    def setup(directory: Path) -> list[str]:
        path = directory / "c.toml"
        path.write_text(text.replace("{models}", str(bundled_models_dir())), encoding="utf-8")
        return ["run", str(path), *extra]

    return setup


def demo_run(edit: Callable[[str], str], *extra: str) -> Callable[[Path], list[str]]:
    """An input: models/demo.toml edited (paths made absolute), for ``run``."""

    def setup(directory: Path) -> list[str]:
        text = DEMO_TOML.read_text(encoding="utf-8").replace(
            'file = "indicators.toml"', f'file = "{bundled_models_dir() / "indicators.toml"}"'
        )
        path = directory / "demo.toml"
        path.write_text(edit(text), encoding="utf-8")
        return ["run", str(path), *extra]

    return setup


def _set(frame: pd.DataFrame, row: int, column: str, value: object) -> pd.DataFrame:
    frame = frame.astype({column: object})
    frame.loc[row, column] = value
    return frame


def _duplicate_column(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(copy=frame["logp"] * 2)
    frame.columns = ["state", "year", "logy", "logp", "logi", "logp"]
    return frame


MINIMAL = """
[data]
panel = "bundled:demo"
unit = "province"
time = "year"
missing = "linear"
[indicators]
file = "{models}/indicators.toml"
[explore]
enabled = false
[mle]
enabled = false
[bayes]
enabled = false
"""


def _two_fits_on_different_weights(directory: Path) -> list[str]:
    """An MLE on W and a posterior on other weights (a ring with steps 1 and 2)."""
    write_inputs(directory)
    n = len(UNITS)
    other = np.zeros((n, n), dtype=int)
    for i in range(n):
        for step in (1, 2):
            other[i, (i + step) % n] = other[(i + step) % n, i] = 1
    pd.DataFrame(other, index=pd.Index(UNITS, name="unit"), columns=UNITS).to_csv(
        directory / "W2.csv"
    )
    assert main([*fit_command(directory), "--out", str(directory / "mle")]) == 0
    bayes = [*fit_command(directory)[:-3], "--estimator", "bayes", "--draws", "200"]
    bayes[bayes.index(str(directory / "W.csv"))] = str(directory / "W2.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 200 draws: a quick posterior
        assert main([*bayes, "--no-figures", "--out", str(directory / "bayes")]) == 0
    mle, post = str(directory / "mle"), str(directory / "bayes")
    return ["compare", "--mle", mle, "--bayes", post, "--no-figures"]


#: (id, input -> command, expected exit code, phrase of the message[, warning issued first]).
CATALOGUE: list[tuple] = [
    # --- panels (moved from test_cli_foundation) ---
    (
        "missing-value",
        lambda d: ccd_command(bundled_demo_path()),
        2,
        "column 'outpatient_visits', unit 'Hubei', period 2020: missing value",
    ),
    (
        "duplicate-row",
        demo_copy(lambda f: pd.concat([f, f.iloc[[5]]])),
        2,
        "duplicate unit-period row",
    ),
    ("unbalanced", demo_copy(lambda f: f.drop(index=7)), 2, "unbalanced panel"),
    (
        "text-cell",
        demo_copy(lambda f: _set(f, 3, "rd_intensity", "n/a")),
        2,
        "'n/a' is not a number",
    ),
    (
        "absent-column",
        demo_copy(lambda f: f.drop(columns="patents_per_10k")),
        2,
        "['patents_per_10k'] named in the configuration are not in the data",
    ),
    (
        "constant-indicator",
        demo_copy(lambda f: f.assign(firms_with_websites=1.0)),
        2,
        "column 'firms_with_websites': indicator is constant",
    ),
    # --- settings alike on every command (moved from test_cli_foundation) ---
    (
        "explore-seed-negative",
        command("explore", "--ccd", "x.csv", "--weights", "W.csv", "--seed", "-1"),
        2,
        "seed = -1",
    ),
    ("demo-data-seed-2^32", command("demo-data", "--seed", str(2**32)), 2, "in [0, 2^32)"),
    (
        "ccd-shift-0",
        command(*ccd_command("x.csv", "--shift", "0")),
        2,
        "[entropy] shift = 0.0 must be in (0, 1]",
    ),
    (
        "run-typo",
        run_config(MINIMAL + '[entropy]\nsope = "pooled"\n'),
        2,
        "unknown key 'sope' in [entropy] (did you mean 'scope'?)",
    ),
    # --- issue 14: silently wrong before ---
    ("duplicate-column-names", small(_duplicate_column), 2, "['logp'] appear more than once"),
    (
        "period-gap-refused",
        small(lambda f: f[f["year"] != 1994], None, "--gaps", "error"),
        2,
        "periods are not equally spaced (mostly 1 apart; gaps 1993 -> 1995)",
    ),
    (
        "huge-value",
        small(lambda f: _set(f, 5, "logy", 1e300)),
        2,
        "column 'logy', unit 'S05', period 1990: value 1e+300 is too large",
    ),
    ("infinite-value", small(lambda f: _set(f, 5, "logp", "inf")), 2, "value is infinite"),
    # --- issue 14: tracebacks before ---
    ("fit-seed-negative", small(None, None, "--seed", "-1"), 2, "[run] seed = -1 must be"),
    ("fit-seed-2^32", small(None, None, "--seed", str(2**32)), 2, "[run] seed = 4294967296"),
    (
        "run-seed-negative",
        run_config("[run]\nseed = -1\n" + MINIMAL),
        2,
        "[run] seed = -1 must be an integer in [0, 2^32)",
    ),
    (
        "out-parent-is-a-file",
        lambda d: [*small()(d), "--out", str(d / "p.csv" / "fit")],
        2,
        "p.csv is a file, not a directory",
    ),
    (
        "run-out-parent-is-a-file",
        lambda d: [*run_config(MINIMAL)(d), "--out", str(d / "c.toml" / "run")],
        2,
        "c.toml is a file, not a directory",
    ),
    # --- issue 14: defaults of one's own study ---
    (
        "by-region-default-regions",
        small(None, None, "--by-region"),
        2,
        "the default regions are the east/central/west grouping of China's 31 provinces; "
        "give your own with --regions FILE",
    ),
    (
        "island-two-way",
        small(
            lambda f: f,
            lambda w: w.assign(S00=0).T.assign(S00=0).T,
        ),
        2,
        "unit(s) ['S00'] have no neighbours",
        WeightsWarning,  # said first, when the weights are read
    ),
    (
        "dea-without-columns",
        run_config(MINIMAL + "[dea]\nyear = 2021\n"),
        2,
        "[dea] needs inputs and outputs",
    ),
    (
        "qca-absent-columns",
        run_config(
            MINIMAL
            + '[dea]\ninputs = ["beds"]\noutputs = ["discharges"]\n'
            + '[qca]\noutcome = "crs"\nconditions = ["U1", "tariffs"]\n'
        ),
        2,
        "[qca] names column(s) ['tariffs'] that are not in the panel",
    ),
    (
        "explore-user-columns",
        lambda d: [
            "explore",
            "--ccd",
            str(bundled_demo_path()),
            "--weights",
            "bundled:province-contiguity",
        ],
        2,
        "the unit column 'unit' is not in the coupling table",
    ),
    ("run-only-unknown", run_config(MINIMAL, "--only", "ccd,qsa"), 2, "unknown stage(s) ['qsa']"),
    (
        "run-only-off",
        run_config(MINIMAL, "--only", "mle"),
        2,
        "--only: stage(s) ['mle'] are off",
    ),
    # --- weights ---
    (
        "weights-text-cell",
        small(None, lambda w: _set(w, "S03", "S07", "x")),
        2,
        "is not a number",
    ),
    (
        "weights-units-differ",
        small(None, lambda w: w.drop(index="S11", columns="S11")),
        2,
        "units in the data but not in the weights: ['S11']",
    ),
    (
        "weights-self-neighbour",
        small(None, lambda w: w.assign(S04=np.where(w.index == "S04", 1, w["S04"]))),
        2,
        "unit 'S04' is its own neighbour",
    ),
    ("log-not-in-x", small(None, None, "--log", "logz"), 2, "--log names ['logz']"),
    (
        "compare-across-weights",
        lambda d: _two_fits_on_different_weights(d),
        2,
        "the spatial weights differ; fit both on the same panel, weights and model; to "
        "compare across weights on purpose pass force=True (--force)",
    ),
    (
        "compare-no-fit",
        command("compare", "--mle", "{dir}", "--bayes", "{dir}"),
        2,
        "no saved fit",
    ),
    # --- simulate ---
    (
        "simulate-theta-length",
        command("simulate", "--weights", "bundled:province-contiguity", "--theta", "0.1,0.2"),
        2,
        "--theta has 2 values and --beta 4: one each per covariate",
    ),
    (
        "simulate-theta-sar",
        command(
            "simulate",
            "--weights",
            "bundled:province-contiguity",
            "--model",
            "sar",
            "--theta",
            "0.1",
        ),
        2,
        "--theta belongs to the Durbin models (sdm, sdem), not sar",
    ),
    (
        "simulate-rho-outside",
        command("simulate", "--weights", "bundled:province-contiguity", "--rho", "1.0"),
        2,
        "--rho 1.0 is outside (",
    ),
]


@pytest.mark.parametrize(
    ("setup", "code", "phrase", "warning"),
    [(*case[1:], None)[:4] for case in CATALOGUE],
    ids=[case[0] for case in CATALOGUE],
)
def test_bad_input_exits_with_one_line_and_writes_nothing(
    tmp_path, capsys, setup, code, phrase, warning
):
    inputs = tmp_path / "in"
    inputs.mkdir()
    args = setup(inputs)
    out = tmp_path / "out"
    if "--out" not in args:
        args = [*args, "--out", str(out)]
    before = sorted(p.name for p in inputs.iterdir())
    if warning is None:
        assert main(args) == code
    else:
        with pytest.warns(warning):
            assert main(args) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if not line.startswith("[bayes-ccd]")]
    assert len(errors) == 1 and errors[0].startswith(f"bayes-ccd {args[0]}: error: "), err
    assert phrase in errors[0]
    assert not out.exists()
    assert sorted(p.name for p in inputs.iterdir()) == before  # nothing partial beside inputs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_an_out_in_a_place_that_cannot_be_written_is_one_line(tmp_path, capsys, monkeypatch):
    """A read-only place (simulated: the tests may run as root, who may write anywhere)."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    write_inputs(tmp_path)
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    assert main([*fit_command(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "cannot be created (Permission denied)" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_the_catalogue_covers_every_case_of_the_issue():
    assert len(CATALOGUE) == 35 and len(WARNINGS) == 4 and FAST_CASES == 38


# --- usable inputs that must be said --------------------------------------------------------


def _swap_labels(w: pd.DataFrame) -> pd.DataFrame:
    labels = list(w.index)
    labels[0], labels[5] = labels[5], labels[0]  # numbers left in place
    return w.set_axis(pd.Index(labels, name="unit"), axis=0)


#: (id, input -> command, warning category, phrase of the warning); the command succeeds.
WARNINGS: list[tuple] = [
    (
        "swapped-row-labels",
        small(None, _swap_labels),
        WeightsWarning,
        "the binary W is not symmetric (S05 -> S01 is 1 but S01 -> S05 is 0",
    ),
    (
        "period-gap",
        small(lambda f: f[f["year"] != 1994]),
        DataWarning,
        "periods are not equally spaced (mostly 1 apart; gaps 1993 -> 1995)",
    ),
    ("every-other-year", small(lambda f: f[f["year"] % 2 == 0]), DataWarning, "2 apart"),
    (
        "region-of-one-unit",
        lambda d: [
            *small()(d),
            "--regions",
            _regions(d, ["a"] * 6 + ["b"] * 5 + ["c"]),
        ],
        (WeightsWarning, NumericalWarning),  # region b's rho is near its bound
        "region c: 1 unit(s) ['S11']; a regional model needs at least 3, so the region is "
        "skipped and the others are fitted",
    ),
]


def _regions(directory: Path, regions: list[str]) -> str:
    path = directory / "regions.csv"
    pd.DataFrame({"unit": UNITS, "region": regions}).to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    ("setup", "category", "phrase"),
    [case[1:] for case in WARNINGS],
    ids=[case[0] for case in WARNINGS],
)
def test_usable_but_doubtful_inputs_are_said(tmp_path, setup, category, phrase):
    args = [*setup(tmp_path), "--out", str(tmp_path / "out")]
    with pytest.warns(category) as record:
        assert main(args) == 0
    assert any(phrase in str(w.message) for w in record), [str(w.message) for w in record]


def test_semicolons_with_decimal_commas_give_the_same_fit(tmp_path):
    write_inputs(tmp_path)
    small_panel().to_csv(tmp_path / "semi.csv", sep=";", decimal=",", index=False)
    assert main([*fit_command(tmp_path), "--out", str(tmp_path / "a")]) == 0
    assert main([*fit_command(tmp_path, data="semi.csv"), "--out", str(tmp_path / "b")]) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "a" / "coefficients.csv"),
        pd.read_csv(tmp_path / "b" / "coefficients.csv"),
    )


def test_one_chain_of_the_exact_sampler_is_diagnosed_and_written(tmp_path, capsys):
    write_inputs(tmp_path)
    args = ["fit", *fit_command(tmp_path)[1:-3], "--estimator", "bayes", "--chains", "1"]
    args += ["--draws", "300", "--ppc-draws", "0", "--no-figures", "--out", str(tmp_path / "b")]
    with pytest.warns(ConvergenceWarning, match="R-hat needs at least two chains"):
        assert main(args) == 0
    table = pd.read_csv(tmp_path / "b" / "diagnostics.csv")
    assert table["r_hat"].isna().all() and (table["ess_bulk"] > 0).all()
    assert "constant across draws" not in " ".join(table["problem"].fillna(""))
    assert "R-hat needs at least two chains" in capsys.readouterr().out


def test_output_directories_respect_the_umask(tmp_path):
    write_inputs(tmp_path)
    old = os.umask(0o022)
    try:
        assert main([*fit_command(tmp_path), "--out", str(tmp_path / "shared")]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "shared").stat().st_mode & 0o777 == 0o755


def test_explore_takes_the_users_unit_and_period_columns(tmp_path):
    out = tmp_path / "ccd"
    assert main([*ccd_command(bundled_demo_path(), "--missing", "linear"), "--out", str(out)]) == 0
    table = pd.read_csv(out / "ccd.csv").rename(columns={"unit": "province", "period": "year"})
    table.to_csv(tmp_path / "mine.csv", index=False)
    args = ["explore", "--ccd", str(tmp_path / "mine.csv"), "--weights"]
    args += ["bundled:province-contiguity", "--variables", "D", "--permutations", "99"]
    args += ["--no-figures", "--unit", "province", "--time", "year"]
    assert main([*args, "--out", str(tmp_path / "explore")]) == 0
    assert (tmp_path / "explore" / "moran_global.csv").is_file()


# --- fuzz: randomly corrupted panels and weights --------------------------------------------

#: Corruptions of the panel and of the weights: ``True`` when harmless (the fit must give the
#: numbers of the clean input), ``False`` when the command must exit 2 with one line.
CORRUPTIONS: dict[str, bool] = {
    "panel-text": False,
    "panel-nan": False,
    "panel-inf": False,
    "panel-huge": False,
    "panel-drop-row": False,
    "panel-duplicate-row": False,
    "panel-shuffle-rows": True,
    "panel-shuffle-columns": True,
    "panel-semicolon-decimal-comma": True,
    "panel-tab": True,
    "weights-text": False,
    "weights-nan": False,
    "weights-inf": False,
    "weights-huge": False,
    "weights-drop-row": False,
    "weights-duplicate-row": False,
    "weights-permute-labels": True,
    "weights-shuffle-columns": True,
    "weights-semicolon": True,
}
#: Cases of the fast fuzz test (every corruption twice) and of the slow one.
FAST_CASES = 2 * len(CORRUPTIONS)
SLOW_CASES = 300


def corrupt(directory: Path, kind: str, rng: np.random.Generator) -> None:
    """Write p.csv and W.csv into ``directory`` with one corruption ``kind`` at random."""
    panel, weights = small_panel(), small_weights().astype(object)
    sep, wsep, decimal = ",", ",", "."
    row = int(rng.integers(len(panel)))
    cell = (row, str(rng.choice(panel.columns)))
    i, j = (str(u) for u in rng.choice(UNITS, size=2, replace=False))
    bad = {"text": "abc", "nan": "NaN", "inf": "inf", "huge": "1e300"}
    what = kind.split("-", 1)[1]
    if kind.startswith("panel-") and what in bad:
        panel = _set(panel, *cell, bad[what])
    elif kind == "panel-drop-row":
        panel = panel.drop(index=row)
    elif kind == "panel-duplicate-row":
        panel = pd.concat([panel, panel.iloc[[row]]])
    elif kind == "panel-shuffle-rows":
        panel = panel.iloc[rng.permutation(len(panel))]
    elif kind == "panel-shuffle-columns":
        panel = panel[list(rng.permutation(panel.columns))]
    elif kind == "panel-semicolon-decimal-comma":
        sep, decimal = ";", ","
    elif kind == "panel-tab":
        sep = "\t"
    elif kind.startswith("weights-") and what in bad:
        weights.loc[i, j] = bad[what]
    elif kind == "weights-drop-row":
        weights = weights.drop(index=i)
    elif kind == "weights-duplicate-row":
        weights = pd.concat([weights, weights.loc[[i]]])
    elif kind == "weights-permute-labels":
        order = list(rng.permutation(UNITS))
        weights = weights.loc[order, order]
    elif kind == "weights-shuffle-columns":
        weights = weights[list(rng.permutation(UNITS))]
    elif kind == "weights-semicolon":
        wsep = ";"
    panel.to_csv(directory / "p.csv", sep=sep, decimal=decimal, index=False)
    weights.to_csv(directory / "W.csv", sep=wsep)


@pytest.fixture(scope="module")
def clean_fit(tmp_path_factory) -> pd.DataFrame:
    """The coefficients of the uncorrupted small panel and weights."""
    directory = tmp_path_factory.mktemp("clean")
    write_inputs(directory)
    assert main([*fit_command(directory), "--out", str(directory / "out")]) == 0
    return pd.read_csv(directory / "out" / "coefficients.csv")


def _fuzz(case: int, kind: str, clean: pd.DataFrame, tmp_path: Path, capsys) -> None:
    directory = tmp_path / f"case{case}"
    directory.mkdir()
    corrupt(directory, kind, np.random.default_rng(case))
    out = directory / "out"
    capsys.readouterr()
    code = main([*fit_command(directory), "--out", str(out)])  # a traceback fails the test
    err = capsys.readouterr().err
    if CORRUPTIONS[kind]:
        assert code == 0, f"{kind}: {err}"
        fitted = pd.read_csv(out / "coefficients.csv")
        pd.testing.assert_frame_equal(fitted, clean, rtol=1e-8, check_exact=False)
    else:
        assert code == 2, f"{kind}: {err}"
        errors = [line for line in err.splitlines() if not line.startswith("[bayes-ccd]")]
        assert len(errors) == 1 and errors[0].startswith("bayes-ccd fit: error: "), err
        assert not out.exists() and sorted(p.name for p in directory.iterdir()) == [
            "W.csv",
            "p.csv",
        ]


@pytest.mark.parametrize("case", range(FAST_CASES))
def test_fuzz(case, clean_fit, tmp_path, capsys):
    """Every corruption twice, at random places (38 cases)."""
    _fuzz(case, list(CORRUPTIONS)[case % len(CORRUPTIONS)], clean_fit, tmp_path, capsys)


@pytest.mark.slow
def test_fuzz_many(clean_fit, tmp_path, capsys):
    """300 random corruptions of random kinds at random places."""
    rng = np.random.default_rng(14)
    kinds = rng.choice(list(CORRUPTIONS), size=SLOW_CASES)
    for case, kind in enumerate(kinds):
        _fuzz(1000 + case, str(kind), clean_fit, tmp_path, capsys)
