"""Regions of the units.

The bundled east/central/west grouping of China's provinces, or a user's region table.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import pandas as pd

from bayes_ccd.conventions import REGION
from bayes_ccd.data.panel import read_csv_cells
from bayes_ccd.exceptions import DataError

#: The bundled east/central/west grouping of the provinces.
BUNDLED_REGIONS = "bundled:provinces"


def read_regions(
    path: str | Path | None = None, *, unit: str = "unit", region: str = REGION
) -> pd.Series:
    """Region membership as a Series ``unit -> region``.

    ``None`` (or ``"bundled:provinces"``) gives the bundled east/central/west grouping
    of the 31 provinces (:func:`bayes_ccd.data.regions.province_table`). A user file is a
    CSV with a unit column and a region column.
    """
    if path is None or str(path) == BUNDLED_REGIONS:
        from bayes_ccd.data.regions import province_table

        table = province_table()
        series = pd.Series(
            table["region"].to_numpy(), index=table["province"].astype(str), name=REGION
        )
        series.attrs["source"] = BUNDLED_REGIONS
        return series
    frame = read_csv_cells(path, what="region file")
    for column in (unit, region):
        if column not in frame.columns:
            raise DataError(
                f"column '{column}' is not in the region file (columns: {list(frame.columns)})",
                file=path,
            )
    labels = frame[unit].str.strip()
    names = frame[region].str.strip()
    twice = frame.index[labels.duplicated()]
    if len(twice):
        raise DataError(
            "unit listed twice", file=path, line=int(twice[0]), column=unit, unit=labels[twice[0]]
        )
    empty = frame.index[(labels == "") | (names == "")]
    if len(empty):
        raise DataError(
            "empty unit or region", file=path, line=int(empty[0]), unit=labels[empty[0]] or None
        )
    return pd.Series(names.to_numpy(), index=labels.to_numpy(), name=REGION)


def regions_for(
    units: Sequence[str], regions: pd.Series, *, source: str | None = None
) -> pd.Series:
    """Return the region of every unit in ``units`` (in that order).

    A :class:`DataError` names the units the region table lacks.
    """
    table = pd.Series(regions.to_numpy(), index=regions.index.astype(str), name=REGION)
    units = [str(u) for u in units]
    absent = [u for u in units if u not in table.index]
    if absent:
        shown = f"{absent[:8]} and {len(absent) - 8} more" if len(absent) > 8 else f"{absent}"
        if regions.attrs.get("source") == BUNDLED_REGIONS:
            raise DataError(
                f"unit(s) {shown} have no region: the default regions are the "
                "east/central/west grouping of China's 31 provinces; give your own with "
                "--regions FILE (a CSV with columns unit,region; [data] regions in a run "
                "configuration)",
                file=source,
            )
        raise DataError(
            f"unit(s) {shown} have no region in the region table; add them "
            "or give a region file with columns unit,region",
            file=source,
        )
    return table.loc[units].astype(str)


def province_table() -> pd.DataFrame:
    """Return the 31 mainland provinces: English name, GB/T 2260 code, Chinese name, region.

    Regions are the east/central/west grouping of the National Bureau of Statistics
    used in the seed paper (east 11, central 8, west 12; Guangxi and Inner Mongolia in
    the west since the Western Development programme of 2000).
    """
    with resources.as_file(resources.files("bayes_ccd.data").joinpath("provinces.csv")) as p:
        return pd.read_csv(p, dtype={"province": str, "code": int, "name_zh": str, "region": str})
