"""The data contract: every bad input gives a clear error naming where it is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_ccd.data.factors import Factor, transform_factors
from bayes_ccd.data.panel import read_panel, validate_panel
from bayes_ccd.data.regions import read_regions
from bayes_ccd.exceptions import DataError, DataWarning

GOOD = """
unit,year,x,y
A,2020,1.0,10
A,2021,2.0,11
B,2020,3.0,12
B,2021,4.0,13
"""


def test_good_panel_is_sorted_and_typed(write_csv):
    panel = read_panel(write_csv(GOOD), unit="unit", time="year")
    assert panel.units == ["A", "B"]
    assert panel.periods == [2020, 2021]
    assert panel.columns == ["x", "y"]
    np.testing.assert_array_equal(panel.matrix("x"), [[1.0, 3.0], [2.0, 4.0]])
    stacked = panel.stack(["x", "y"])
    assert stacked.shape == (2, 2, 2)
    np.testing.assert_array_equal(stacked[..., 1], panel.matrix("y"))
    assert panel.filled.empty


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_panel(tmp_path / "nope.csv", unit="unit", time="year")


def test_duplicate_unit_period_names_both_lines(write_csv):
    path = write_csv(GOOD + "A,2021,5.0,14\n")
    with pytest.raises(DataError) as info:
        read_panel(path, unit="unit", time="year")
    message = str(info.value)
    assert "panel.csv, line 3" in message
    assert "line(s) [6]" in message
    assert "unit 'A', period 2021" in message and "duplicate" in message


def test_unbalanced_panel_names_unit_and_missing_period(write_csv):
    path = write_csv("unit,year,x\nA,2020,1\nA,2021,2\nB,2020,3\n")
    with pytest.raises(DataError, match=r"unit 'B': unbalanced panel.*\[2021\]"):
        read_panel(path, unit="unit", time="year")


def test_unknown_unit_and_period(write_csv):
    path = write_csv(GOOD)
    with pytest.raises(DataError, match=r"line 4, column 'unit', unit 'B': unknown unit"):
        read_panel(path, unit="unit", time="year", units=["A", "C"])
    with pytest.raises(DataError, match=r"unit\(s\) \['C'\] have no rows"):
        read_panel(path, unit="unit", time="year", units=["A", "B", "C"])
    with pytest.raises(
        DataError,
        match=r"line 3, column 'year', unit 'A', period 2021: "
        "unknown period",
    ):
        read_panel(path, unit="unit", time="year", periods=[2020])


def test_expected_period_missing_for_every_unit_is_unbalanced(write_csv):
    with pytest.raises(DataError, match=r"no rows for period\(s\) \[2022\]"):
        read_panel(write_csv(GOOD), unit="unit", time="year", periods=[2020, 2021, 2022])


def test_non_numeric_cell_names_line_column_unit_period(write_csv):
    path = write_csv("unit,year,x\nA,2020,1\nA,2021,two\nB,2020,3\nB,2021,4\n")
    with pytest.raises(DataError) as info:
        read_panel(path, unit="unit", time="year")
    assert str(info.value).endswith(
        "panel.csv, line 3, column 'x', unit 'A', period 2021: 'two' is not a number"
    )


def test_non_integer_period(write_csv):
    path = write_csv("unit,year,x\nA,2020,1\nA,2020.5,2\n")
    with pytest.raises(DataError, match=r"line 3, column 'year', unit 'A': period '2020.5'"):
        read_panel(path, unit="unit", time="year")


def test_missing_value_is_an_error_without_a_policy(write_csv):
    path = write_csv("unit,year,x\nA,2020,1\nA,2021,\nA,2022,3\nB,2020,1\nB,2021,2\nB,2022,3\n")
    with pytest.raises(
        DataError,
        match=r"line 3, column 'x', unit 'A', period 2021: "
        "missing value",
    ):
        read_panel(path, unit="unit", time="year")


def test_linear_interpolation_fills_and_reports_each_cell(write_csv):
    path = write_csv(
        "unit,year,x,y\nA,2020,1,5\nA,2021,NA,NA\nA,2022,5,NA\nA,2023,7,8\n"
        "B,2020,1,1\nB,2021,2,2\nB,2022,3,3\nB,2023,4,4\n"
    )
    panel = read_panel(path, unit="unit", time="year", missing="linear")
    np.testing.assert_allclose(panel.matrix("x")[:, 0], [1, 3, 5, 7])
    np.testing.assert_allclose(panel.matrix("y")[:, 0], [5, 6, 7, 8])
    filled = panel.filled.sort_values(["column", "period"]).reset_index(drop=True)
    expected = pd.DataFrame(
        {
            "unit": ["A", "A", "A"],
            "period": [2021, 2021, 2022],
            "column": ["x", "y", "y"],
            "value": [3.0, 6.0, 7.0],
        }
    )
    pd.testing.assert_frame_equal(filled, expected, check_dtype=False)


def test_interpolation_uses_actual_period_spacing(write_csv):
    # Periods 2000, 2001, 2005: the gap at 2001 lies 1/5 of the way from 2000 to 2005.
    path = write_csv("unit,year,x\nA,2000,0\nA,2001,\nA,2005,10\nB,2000,1\nB,2001,1\nB,2005,2\n")
    with pytest.warns(DataWarning, match=r"not equally spaced .*gaps 2001 -> 2005"):
        panel = read_panel(path, unit="unit", time="year", missing="linear")
    assert panel.matrix("x")[1, 0] == pytest.approx(2.0)


def test_unequally_spaced_periods_are_said_or_refused(write_csv):
    path = write_csv("unit,year,x\nA,2000,0\nA,2001,1\nA,2003,2\nB,2000,1\nB,2001,1\nB,2003,2\n")
    with pytest.raises(DataError, match=r"gaps 2001 -> 2003"):
        read_panel(path, unit="unit", time="year", gaps="error")
    every_other = write_csv("unit,year,x\nA,2000,0\nA,2002,1\nB,2000,1\nB,2002,3\n", "b.csv")
    with pytest.warns(DataWarning, match="periods are 2 apart"):
        read_panel(every_other, unit="unit", time="year")


def test_semicolons_and_decimal_commas_read_like_commas_and_points(write_csv):
    plain = read_panel(
        write_csv("unit,year,x\nA,1,1.5\nA,2,-2.25\nB,1,3e-3\nB,2,4\n"), unit="unit", time="year"
    )
    semi = read_panel(
        write_csv("unit;year;x\nA;1;1,5\nA;2;-2,25\nB;1;3e-3\nB;2;4\n", "s.csv"),
        unit="unit",
        time="year",
    )
    pd.testing.assert_frame_equal(plain.frame, semi.frame)


def test_duplicate_column_names_and_huge_values_are_errors(write_csv):
    with pytest.raises(DataError, match=r"column name\(s\) \['x'\] appear more than once"):
        read_panel(write_csv("unit,year,x,x\nA,1,1,2\nB,1,3,4\n"), unit="unit", time="year")
    with pytest.raises(DataError, match=r"line 3, column 'x', unit 'B', period 1: value 1e\+300"):
        read_panel(write_csv("unit,year,x\nA,1,1\nB,1,1e300\n", "h.csv"), unit="unit", time="year")


def test_edge_gap_cannot_be_interpolated(write_csv):
    path = write_csv("unit,year,x\nA,2020,\nA,2021,2\nB,2020,1\nB,2021,2\n")
    with pytest.raises(
        DataError,
        match=r"line 2, column 'x', unit 'A', period 2020: "
        "missing value at the first or last period",
    ):
        read_panel(path, unit="unit", time="year", missing="linear")


def test_columns_named_in_configuration_but_absent(write_csv):
    with pytest.raises(
        DataError,
        match=r"column\(s\) \['w', 'z'\] named in the "
        "configuration are not in the data",
    ):
        read_panel(write_csv(GOOD), unit="unit", time="year", columns=["x", "w", "z"])
    with pytest.raises(DataError, match="the unit column 'region'"):
        read_panel(write_csv(GOOD), unit="region", time="year")


def test_infinite_value(write_csv):
    with pytest.raises(DataError, match="line 2, column 'x'.*infinite"):
        read_panel(write_csv(GOOD.replace("A,2020,1.0", "A,2020,inf")), unit="unit", time="year")


def test_in_memory_frame_is_located_by_unit_and_period():
    frame = pd.DataFrame(
        {"u": ["A", "A", "B", "B"], "t": [1, 2, 1, 2], "x": [1.0, np.nan, 2.0, 3.0]}
    )
    with pytest.raises(
        DataError, match=r"^<DataFrame>, column 'x', unit 'A', period 2: missing value"
    ):
        validate_panel(frame, unit="u", time="t")


def test_log_factor_on_non_positive_value_names_the_cell():
    frame = pd.DataFrame(
        {
            "u": ["A", "A", "B", "B"],
            "t": [1, 2, 1, 2],
            "gdp": [1.0, 2.0, 0.0, 3.0],
            "share": [10.0, 20, 30, 40],
        }
    )
    panel = validate_panel(frame, unit="u", time="t")
    with pytest.raises(DataError, match=r"column 'gdp', unit 'B', period 1: log transform"):
        transform_factors(panel, [Factor("ln_gdp", "gdp", "log")])
    out = transform_factors(panel, [Factor("share", "share", scale=0.01)])
    np.testing.assert_allclose(out["share"], [0.1, 0.2, 0.3, 0.4])


def test_subset_keeps_requested_order():
    frame = pd.DataFrame({"u": list("AABBCC"), "t": [1, 2] * 3, "x": range(6)})
    panel = validate_panel(frame, unit="u", time="t").subset(["C", "A"])
    assert panel.units == ["C", "A"]
    np.testing.assert_array_equal(panel.matrix("x"), [[4, 0], [5, 1]])


def test_region_file_errors(write_csv):
    assert read_regions()["Hubei"] == "central"
    assert read_regions().value_counts().to_dict() == {"west": 12, "east": 11, "central": 8}
    path = write_csv("unit,region\nA,east\nA,west\n", name="regions.csv")
    with pytest.raises(DataError, match="regions.csv, line 3, column 'unit', unit 'A'"):
        read_regions(path)
    path = write_csv("name,region\nA,east\n", name="regions2.csv")
    with pytest.raises(DataError, match="column 'unit' is not in the region file"):
        read_regions(path)


def test_blank_lines_are_skipped_and_lines_still_counted(write_csv):
    path = write_csv("unit,year,x\nA,2020,1\n\nA,2021,oops\nB,2020,3\nB,2021,4\n\n\n")
    with pytest.raises(DataError, match=r"line 4, column 'x', unit 'A', period 2021"):
        read_panel(path, unit="unit", time="year")


def test_empty_and_header_only_files(write_csv, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty.csv: panel file is empty"):
        read_panel(tmp_path / "empty.csv", unit="unit", time="year")
    with pytest.raises(DataError, match="header but no data rows"):
        read_panel(write_csv("unit,year,x\n"), unit="unit", time="year")


def test_repeated_columns_are_refused(write_csv):
    with pytest.raises(DataError, match=r"\['x'\] requested more than once"):
        read_panel(write_csv(GOOD), unit="unit", time="year", columns=["x", "x"])
    with pytest.raises(DataError, match=r"\['year'\] requested more than once"):
        read_panel(write_csv(GOOD), unit="unit", time="year", columns=["x", "year"])


def test_data_columns_may_not_take_the_internal_key_names():
    frame = pd.DataFrame(
        {"province": ["A", "A", "B", "B"], "year": [1, 2, 1, 2], "period": [5.0, 6, 7, 8]}
    )
    with pytest.raises(DataError, match=r"\['period'\] clash with the names"):
        validate_panel(frame, unit="province", time="year")
    # the key columns themselves may carry those names
    panel = validate_panel(
        frame.rename(columns={"period": "x", "year": "period"}), unit="province", time="period"
    )
    assert panel.periods == [1, 2]
