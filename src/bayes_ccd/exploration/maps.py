r"""Maps of the coordination degree: a tile grid of China's provinces, or true choropleths.

The seed paper's Figure 2 (D by province for chosen years) and Figure 4 (LISA
clusters) are drawn either

- on the built-in **tile grid** (``data/province_tiles.csv``): each of the 31 provinces
  is one square of a 7 x 8 grid, a standard device for regional maps when shapes would
  mislead (Tibet and Xinjiang dwarf Shanghai) or, as here, no boundary file may be
  shipped; or
- with **geopandas**, when the user gives a boundary file (GeoJSON, shapefile, any
  format ``geopandas.read_file`` opens) with a column holding the unit labels.

How the tiles were placed
-------------------------
Each province started on the cell given by its capital's longitude and latitude
(about 5 degrees per cell) and was then moved by hand, helped by a small local search
that counted contiguous pairs (``data/province_contiguity.csv``) falling on
non-touching tiles, until the count was low while the familiar outline (north-east
corner, Xinjiang and Tibet in the west, the coast on the right, Hainan apart in the
south) was kept. 66 of the 69 contiguous pairs sit on tiles that share an edge or a
corner; the three exceptions are Inner Mongolia-Shaanxi, Inner Mongolia-Gansu (Inner
Mongolia borders eight provinces along a 2,400 km arc, which no single tile can touch)
and Sichuan-Tibet. Tiles are labelled by the ISO 3166-2:CN codes of the provinces.

Units are matched to tiles by English name (case-insensitive), Chinese name, GB/T
2260 code or ISO code. Units that are not China's provinces cannot use the tile grid:
:func:`tile_positions` returns ``None`` and the caller skips the map (or passes a
boundary file).

Colour
------
Values use a sequential map whose lightness rises monotonically (``cividis`` by
default), so the figure survives greyscale printing. LISA types use colour, lightness
and hatching together: High-High dark red ``///``, Low-Low dark blue ``\\\``,
High-Low light red ``xxx``, Low-High light blue ``...``, not significant pale grey.

The plots (:func:`plot_choropleth`, :func:`plot_lisa_map`) return a
:class:`matplotlib.figure.Figure` and write nothing; the stage's writer saves them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.data.regions import province_table
from bayes_ccd.exceptions import ConfigError, DataError
from bayes_ccd.exploration.moran import (
    CLUSTER_TYPES,
    HIGH_HIGH,
    HIGH_LOW,
    LOW_HIGH,
    LOW_LOW,
    NOT_SIGNIFICANT,
)

#: (face colour, hatch, hatch colour) of each LISA type.
LISA_STYLE: dict[str, tuple[str, str, str]] = {
    HIGH_HIGH: ("#b2182b", "///", "white"),
    LOW_LOW: ("#2166ac", "\\\\\\", "white"),
    HIGH_LOW: ("#f4a582", "xxx", "black"),
    LOW_HIGH: ("#92c5de", "...", "black"),
    NOT_SIGNIFICANT: ("#ececec", "", "black"),
}

#: Fill of a tile or area with no data in the plotted table.
_NO_DATA = "white"

#: Side of a tile; the gap to 1 separates neighbouring tiles.
_TILE = 0.94


def province_tiles() -> pd.DataFrame:
    """Read the tile grid of the 31 provinces.

    Returns
    -------
    pandas.DataFrame
        ``province, abbr, col, row, code, name_zh``: ``col`` grows eastwards and ``row``
        southwards; ``abbr`` is the ISO 3166-2:CN code.
    """
    path = resources.files("bayes_ccd.data").joinpath("province_tiles.csv")
    with resources.as_file(path) as file:
        tiles = pd.read_csv(file, dtype={"province": str, "abbr": str, "col": int, "row": int})
    return tiles.merge(province_table()[["province", "code", "name_zh"]], on="province")


def tile_positions(units: Sequence[object]) -> pd.DataFrame | None:
    """Place ``units`` on the province tile grid.

    Parameters
    ----------
    units
        Unit labels: all English names (any case), all Chinese names, all GB/T 2260
        codes or all ISO codes (any case).

    Returns
    -------
    pandas.DataFrame or None
        The tiles of ``units`` (index: the unit labels), or ``None`` if some unit is not
        a province under any one of the identifiers.
    """
    tiles = province_tiles()
    labels = [str(u).strip() for u in units]
    keys = {
        "province": tiles["province"].str.lower(),
        "name_zh": tiles["name_zh"],
        "code": tiles["code"].astype(str),
        "abbr": tiles["abbr"].str.lower(),
    }
    for key, column in keys.items():
        wanted = [u.lower() for u in labels] if key in ("province", "abbr") else labels
        lookup = pd.Series(tiles.index, index=column.to_numpy())
        if all(w in lookup.index for w in wanted):
            chosen = tiles.loc[lookup.loc[wanted].to_numpy()].copy()
            chosen.index = pd.Index(labels, name=UNIT)
            return chosen
    return None


def read_boundary(path: str | Path, id_column: str) -> Any:
    """Read a boundary file (GeoJSON, shapefile, ...) whose ``id_column`` holds the units.

    Parameters
    ----------
    path
        Any file ``geopandas.read_file`` opens.
    id_column
        Column holding the unit labels.

    Returns
    -------
    geopandas.GeoDataFrame
        The shapes, with ``id_column`` renamed ``unit`` (as stripped strings).

    Raises
    ------
    DataError
        Missing or unreadable file, missing id column, empty or repeated ids.
    ConfigError
        geopandas is not installed.
    """
    geopandas = _geopandas()
    path = Path(path)
    if not path.is_file():
        raise DataError("boundary file does not exist", file=path)
    try:
        shapes = geopandas.read_file(path)
    except Exception as error:  # pyogrio raises several unrelated types on bad files
        raise DataError(f"boundary file could not be read ({error})", file=path) from None
    return boundary_units(shapes, id_column, source=path)


def boundary_units(shapes: Any, id_column: str, *, source: str | Path | None = None) -> Any:
    """Check the unit ids of already-read shapes and name their column ``unit``.

    Parameters
    ----------
    shapes
        A GeoDataFrame (e.g. from ``geopandas.read_file``).
    id_column
        Column holding the unit labels.
    source
        File name for error messages (``None`` for shapes built in memory).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``id_column`` renamed ``unit`` (as stripped strings).

    Raises
    ------
    DataError
        Not a GeoDataFrame, missing id column, empty or repeated ids.
    """
    what = "the boundary file" if source is not None else "the boundary shapes"
    if not hasattr(shapes, "geometry") or not hasattr(shapes, "columns"):
        raise DataError(f"{what} must be a GeoDataFrame, not {type(shapes).__name__}")
    if id_column not in shapes.columns:
        columns = [c for c in shapes.columns if c != shapes.geometry.name]
        raise DataError(
            f"the id column '{id_column}' is not in {what} (columns: {columns}); "
            "pass --boundary-id",
            file=source,
        )
    ids = shapes[id_column].astype(str).str.strip()
    if (ids == "").any() or shapes[id_column].isna().any():
        raise DataError("a feature has an empty id", file=source, column=id_column)
    if ids.duplicated().any():
        raise DataError(
            f"id '{ids[ids.duplicated()].iloc[0]}' names two features; dissolve them first",
            file=source,
            column=id_column,
        )
    shapes = shapes.assign(**{UNIT: ids})
    if id_column != UNIT:
        shapes = shapes.drop(columns=id_column)
    return shapes


def _geopandas() -> Any:
    """Import geopandas, an optional dependency, only when a boundary map is asked for."""
    try:
        import geopandas
    except ImportError:
        raise ConfigError("boundary maps need geopandas: pip install 'bayes-ccd[maps]'") from None
    return geopandas


def check_boundary_units(boundary: Any, units: Sequence[str]) -> None:
    """Refuse units that have no shape in the boundary.

    Parameters
    ----------
    boundary
        Shapes with a ``unit`` column (from :func:`read_boundary`).
    units
        The units to map.

    Raises
    ------
    DataError
        Naming the units without a shape.
    """
    absent = sorted(set(units) - set(boundary[UNIT]))
    if absent:
        raise DataError(f"unit(s) {absent} have no shape in the boundary file; check the id column")


def _panel_layout(count: int, max_cols: int = 3) -> tuple[int, int]:
    ncols = min(count, max_cols)
    return math.ceil(count / ncols), ncols


def _text_colour(face: Any) -> str:
    """Black or white, whichever reads better on ``face`` (relative luminance)."""
    r, g, b = to_rgb(face)
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


def _draw_tiles(
    ax: Any,
    tiles: pd.DataFrame,
    faces: dict[str, Any],
    texts: dict[str, str],
    hatches: dict[str, tuple[str, str]] | None = None,
) -> None:
    """Draw every province tile; units absent from ``faces`` are white, outlined."""
    everyone = province_tiles().set_index("province")
    shown = set(tiles["province"])
    for province, tile in everyone.iterrows():
        if province in shown:
            continue
        ax.add_patch(
            Rectangle(
                (tile["col"], -tile["row"]),
                _TILE,
                _TILE,
                facecolor=_NO_DATA,
                edgecolor="0.6",
                linestyle=":",
            )
        )
        ax.text(
            tile["col"] + _TILE / 2,
            -tile["row"] + _TILE / 2,
            tile["abbr"],
            ha="center",
            va="center",
            fontsize=7,
            color="0.5",
        )
    for unit, tile in tiles.iterrows():
        face = faces.get(unit, _NO_DATA)
        hatch, hatch_colour = (hatches or {}).get(unit, ("", "black"))
        ax.add_patch(
            Rectangle(
                (tile["col"], -tile["row"]),
                _TILE,
                _TILE,
                facecolor=face,
                edgecolor="0.25",
                linewidth=0.6,
                hatch=hatch or None,
                hatchcolor=hatch_colour,
            )
        )
        label = f"{tile['abbr']}\n{texts[unit]}" if texts.get(unit) else tile["abbr"]
        ax.text(
            tile["col"] + _TILE / 2,
            -tile["row"] + _TILE / 2,
            label,
            ha="center",
            va="center",
            fontsize=7.5,
            color=_text_colour(face),
            fontweight="bold",
            linespacing=1.1,
            bbox={"facecolor": face, "edgecolor": "none", "pad": 0.6} if hatch else None,
        )
    everyone_cols, everyone_rows = everyone["col"], everyone["row"]
    ax.set_xlim(everyone_cols.min() - 0.1, everyone_cols.max() + 1.04)
    ax.set_ylim(-everyone_rows.max() - 0.1, 1.04 - everyone_rows.min())
    ax.set_aspect("equal")
    ax.set_axis_off()


def _cross_sections(
    frame: pd.DataFrame, column: str, periods: Sequence[int]
) -> dict[int, pd.Series]:
    """``period -> Series(unit -> column)``, checking that every period is present."""
    available = sorted(frame[PERIOD].unique().tolist())
    missing = [p for p in periods if p not in available]
    if missing:
        raise DataError(
            f"period(s) {missing} are not in the data (available: {available[0]}-{available[-1]})"
        )
    return {int(p): frame.loc[frame[PERIOD] == p].set_index(UNIT)[column] for p in periods}


def _layout_for(units: Sequence[str], boundary: Any) -> pd.DataFrame | None:
    """Return tile positions, or ``None`` when a boundary file is used; errors otherwise."""
    if boundary is not None:
        check_boundary_units(boundary, units)
        return None
    tiles = tile_positions(units)
    if tiles is None:
        raise DataError(
            "the units are not China's provinces, so the built-in tile map "
            "cannot place them; pass a boundary file (--boundary FILE "
            "--boundary-id COLUMN)"
        )
    return tiles


def plot_choropleth(
    frame: pd.DataFrame,
    variable: str,
    periods: Sequence[int],
    *,
    boundary: Any = None,
    cmap: str = "cividis",
    digits: int = 2,
) -> Figure:
    """Map ``variable`` by unit for each of ``periods`` (the seed paper's Figure 2).

    One panel per period, one colour scale shared by all panels. Without ``boundary``
    the provinces are drawn as tiles labelled with their code and value; with a
    GeoDataFrame from :func:`read_boundary` the true shapes are filled.

    Parameters
    ----------
    frame
        Long table with ``unit``, ``period`` and ``variable``.
    variable
        The column to map.
    periods
        Periods to map (e.g. first, middle and last year).
    boundary
        Shapes with a ``unit`` column (:func:`read_boundary`), or ``None`` for tiles.
    cmap
        Sequential matplotlib colour map.
    digits
        Decimals of the values printed on the tiles.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (nothing is written; see :func:`bayes_ccd.report.figures.save_figure`).

    Raises
    ------
    DataError
        A period or the variable not in ``frame``, units the tile grid cannot place
        (without ``boundary``) or without a shape in ``boundary``.
    """
    if variable not in frame.columns:
        raise DataError(f"variable {variable!r} is not in the data")
    sections = _cross_sections(frame, variable, periods)
    units = list(dict.fromkeys(frame[UNIT].astype(str)))
    tiles = _layout_for(units, boundary)
    shown = pd.concat(list(sections.values()))
    norm = Normalize(vmin=float(shown.min()), vmax=float(shown.max()))
    colours = mpl.colormaps[cmap]
    nrows, ncols = _panel_layout(len(periods))
    fig = Figure(figsize=(3.4 * ncols + 0.9, 3.7 * nrows + 0.3), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (period, values) in zip(axes, sections.items(), strict=False):
        values = values.set_axis(values.index.astype(str))
        if tiles is None:
            _draw_shapes(ax, boundary, {u: colours(norm(v)) for u, v in values.items()})
        else:
            _draw_tiles(
                ax,
                tiles,
                {u: colours(norm(v)) for u, v in values.items()},
                {u: f"{v:.{digits}f}" for u, v in values.items()},
            )
        ax.set_title(str(period), fontsize=11)
    for ax in axes[len(periods) :]:
        ax.set_axis_off()
    fig.colorbar(
        mpl.cm.ScalarMappable(norm=norm, cmap=colours), ax=list(axes), shrink=0.75, label=variable
    )
    fig.suptitle(f"{variable} by province", fontsize=12)
    return fig


def plot_lisa_map(
    lisa: pd.DataFrame,
    variable: str,
    periods: Sequence[int],
    *,
    boundary: Any = None,
) -> Figure:
    """Map the LISA clusters of ``variable`` for each of ``periods`` (the paper's Figure 4).

    High-High, Low-Low, High-Low, Low-High and not significant units are told apart by
    colour, lightness and hatching; panel titles count each type.

    Parameters
    ----------
    lisa
        Table from :func:`bayes_ccd.exploration.moran.local_moran_panel`.
    variable
        The variable whose clusters are mapped.
    periods
        Periods to map.
    boundary
        Shapes with a ``unit`` column (:func:`read_boundary`), or ``None`` for tiles.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (nothing is written).

    Raises
    ------
    DataError
        As :func:`plot_choropleth`, or no clusters of ``variable`` in ``lisa``.
    """
    rows = lisa[lisa["variable"] == variable]
    if rows.empty:
        raise DataError(f"no local Moran's I computed for variable {variable!r}")
    sections = _cross_sections(rows, "cluster", periods)
    units = list(dict.fromkeys(rows[UNIT].astype(str)))
    tiles = _layout_for(units, boundary)
    nrows, ncols = _panel_layout(len(periods))
    fig = Figure(figsize=(3.4 * ncols, 3.7 * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (period, clusters) in zip(axes, sections.items(), strict=False):
        clusters = clusters.set_axis(clusters.index.astype(str))
        faces = {u: LISA_STYLE[c][0] for u, c in clusters.items()}
        hatches = {u: LISA_STYLE[c][1:] for u, c in clusters.items()}
        if tiles is None:
            _draw_shapes(ax, boundary, faces, hatches)
        else:
            _draw_tiles(ax, tiles, faces, {}, hatches)
        counts = clusters.value_counts()
        summary = ", ".join(f"{_short(c)} {counts.get(c, 0)}" for c in CLUSTER_TYPES[:4])
        ax.set_title(f"{period}\n{summary}", fontsize=9.5)
    for ax in axes[len(periods) :]:
        ax.set_axis_off()
    handles = [
        Patch(
            facecolor=face,
            hatch=hatch or None,
            hatchcolor=hatch_colour,
            edgecolor="0.25",
            label=label,
        )
        for label, (face, hatch, hatch_colour) in LISA_STYLE.items()
    ]
    fig.legend(
        handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9, frameon=False
    )
    fig.suptitle(f"LISA clusters of {variable}", fontsize=12)
    return fig


def _short(cluster: str) -> str:
    """``High-Low`` -> ``HL``."""
    return "".join(part[0] for part in cluster.split("-"))


def _draw_shapes(
    ax: Any, boundary: Any, faces: dict[str, Any], hatches: dict[str, tuple[str, str]] | None = None
) -> None:
    """Fill each shape of ``boundary`` with its unit's colour (white when absent)."""
    units = boundary[UNIT].to_numpy()
    colours = np.array([faces.get(u, _NO_DATA) for u in units], dtype=object)
    styles = [(hatches or {}).get(u, ("", "black")) for u in units]
    for hatch, hatch_colour in dict.fromkeys(styles):
        mask = np.array([s == (hatch, hatch_colour) for s in styles])
        boundary[mask].plot(
            ax=ax,
            color=list(colours[mask]),
            edgecolor="0.25",
            linewidth=0.5,
            hatch=hatch or None,
            hatchcolor=hatch_colour,
        )
    ax.set_aspect("equal")
    ax.set_axis_off()
