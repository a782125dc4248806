r"""Coordinates of the units and their distances: great-circle for longitude/latitude.

Coordinates come from a CSV (first column the unit labels, then ``lon,lat`` in decimal
degrees or ``x,y`` in the units of a projection), from a data frame indexed by unit, or,
for the 31 mainland provinces, from the bundled capitals
(``bundled:province-capitals``, :func:`province_capitals`).

Distances between longitude/latitude points are great-circle distances on a sphere of
the mean Earth radius, by the haversine formula (Sinnott 1984),

.. math::

    d_{ij} = 2R \arcsin \sqrt{\sin^2\frac{\varphi_j - \varphi_i}{2}
             + \cos\varphi_i \cos\varphi_j \sin^2\frac{\lambda_j - \lambda_i}{2}},

in kilometres with :data:`EARTH_RADIUS_KM`; projected coordinates have Euclidean
distances in their own units. The sphere's error against the WGS84 ellipsoid is below
0.5 %, well inside what distance-decay weights can tell apart.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.conventions import UNIT
from bayes_ccd.data.panel import read_csv_cells
from bayes_ccd.exceptions import WeightsError

#: Mean Earth radius R1 = (2a + b) / 3 of the IUGG (Moritz 2000, Geodetic Reference
#: System 1980), in kilometres.
EARTH_RADIUS_KM = 6371.0088
BUNDLED_CAPITALS = "bundled:province-capitals"
#: Extensions read as boundary files (polygons) rather than CSV.
BOUNDARY_SUFFIXES = (".geojson", ".json", ".shp", ".gpkg")


def great_circle_distance(
    lon1: np.ndarray | float,
    lat1: np.ndarray | float,
    lon2: np.ndarray | float,
    lat2: np.ndarray | float,
    *,
    radius: float = EARTH_RADIUS_KM,
) -> np.ndarray:
    """Great-circle distance between points given in decimal degrees (haversine formula).

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        Longitudes and latitudes in degrees; arrays broadcast against each other.
    radius
        Radius of the sphere (default the mean Earth radius in km, so distances are km).

    Returns
    -------
    numpy.ndarray
        ``2 R arcsin(sqrt(hav(dphi) + cos phi1 cos phi2 hav(dlambda)))`` (Sinnott 1984,
        "Virtues of the haversine", Sky and Telescope 68(2), 159), in the units of
        ``radius``.
    """
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlam = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
    return 2 * radius * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass(frozen=True)
class Coordinates:
    """Points of an ordered set of units.

    Parameters
    ----------
    units
        Unit labels, the order of :attr:`xy`.
    xy
        ``(n, 2)`` array: longitude and latitude in degrees (``geographic``) or
        projected ``x, y``.
    geographic
        Whether :attr:`xy` are longitude/latitude (great-circle distances in km).
    source
        Where the coordinates came from, for the weights' source.
    """

    units: tuple[str, ...]
    xy: np.ndarray
    geographic: bool
    source: str = "<coordinates>"

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.units)

    @property
    def distance_unit(self) -> str:
        """``"km"`` for longitude/latitude, ``"coordinate units"`` otherwise."""
        return "km" if self.geographic else "coordinate units"

    def aligned(self, units: Sequence[object] | None) -> Coordinates:
        """Return the coordinates of ``units``, in that order (all of them for ``None``).

        Raises
        ------
        WeightsError
            Naming the units that have no coordinates.
        """
        if units is None:
            return self
        wanted = [str(u) for u in units]
        index = pd.Index(self.units)
        missing = [u for u in wanted if u not in index]
        if missing:
            raise WeightsError(
                f"coordinates {self.source} lack unit(s) {missing}; add a row for each "
                "(columns unit,lon,lat or unit,x,y)"
            )
        order = index.get_indexer(wanted)
        return Coordinates(tuple(wanted), self.xy[order], self.geographic, self.source)

    def pair_distances(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Distances between units ``i[k]`` and ``j[k]`` (km or coordinate units)."""
        a, b = self.xy[i], self.xy[j]
        if self.geographic:
            return great_circle_distance(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        return np.hypot(*(a - b).T)

    def tree_points(self) -> np.ndarray:
        """Points whose Euclidean distance orders pairs as :meth:`pair_distances` does.

        Longitude/latitude become points on the sphere of radius
        :data:`EARTH_RADIUS_KM` in three dimensions: their chord ``c`` is monotone in
        the great-circle distance, ``d = 2 R arcsin(c / 2R)``, so a k-d tree over them
        finds the pairs within a great-circle distance exactly.
        """
        if not self.geographic:
            return self.xy
        lon, lat = np.radians(self.xy[:, 0]), np.radians(self.xy[:, 1])
        return EARTH_RADIUS_KM * np.column_stack(
            [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]
        )

    def chord(self, distance: float) -> float:
        """Return the tree-point distance of a distance (a chord for great-circle km)."""
        if not self.geographic:
            return distance
        return 2 * EARTH_RADIUS_KM * np.sin(min(distance / (2 * EARTH_RADIUS_KM), np.pi / 2))

    def to_frame(self) -> pd.DataFrame:
        """Return the coordinates as a frame indexed by unit (columns lon, lat or x, y)."""
        columns = ["lon", "lat"] if self.geographic else ["x", "y"]
        return pd.DataFrame(self.xy, index=pd.Index(self.units, name="unit"), columns=columns)


def read_shapes(boundary: Any, id_column: str) -> Any:
    """Polygons of the units from a boundary file or a GeoDataFrame, indexed by unit.

    Parameters
    ----------
    boundary
        A file ``geopandas.read_file`` opens (GeoJSON, shapefile, GeoPackage) or a
        GeoDataFrame.
    id_column
        The column holding the unit labels.

    Raises
    ------
    WeightsError
        geopandas is not installed, the file is missing or unreadable, or the id column
        is missing, empty or repeated.
    """
    try:
        import geopandas
    except ImportError:
        raise WeightsError(
            "weights from a boundary file need geopandas: pip install 'bayes-ccd[maps]'"
        ) from None
    source = str(boundary) if isinstance(boundary, (str, Path)) else "<GeoDataFrame>"
    if isinstance(boundary, (str, Path)):
        if not Path(boundary).is_file():
            raise WeightsError(f"boundary file {boundary} does not exist")
        try:
            boundary = geopandas.read_file(boundary)
        except Exception as error:  # pyogrio raises several unrelated types on bad files
            raise WeightsError(f"boundary file {source} could not be read ({error})") from None
    if not id_column or id_column not in boundary.columns:
        columns = [str(c) for c in boundary.columns if c != boundary.geometry.name]
        raise WeightsError(
            f"boundary {source}: the unit-id column {id_column!r} is not among {columns}; "
            "set [weights] boundary_id (--boundary-id)"
        )
    ids = boundary[id_column].astype(str).str.strip()
    if (ids == "").any() or ids.duplicated().any():
        raise WeightsError(
            f"boundary {source}: ids in '{id_column}' must be non-empty and distinct "
            f"(repeated: {ids[ids.duplicated()].unique().tolist()}); dissolve them first"
        )
    shapes = boundary.set_index(pd.Index(ids.to_numpy(), name=UNIT))
    shapes.attrs["source"] = source
    return shapes


def boundary_coordinates(boundary: Any, id_column: str) -> Coordinates:
    """Coordinates of the units as the centroids of their polygons.

    Longitude/latitude when the boundary's CRS is geographic (the centroid of the
    polygon in degrees, within a few km of the spherical centroid at provincial scale),
    projected ``x, y`` otherwise.
    """
    shapes = read_shapes(boundary, id_column)
    geographic = shapes.crs is None or bool(shapes.crs.is_geographic)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # geopandas: centroids in a geographic CRS
        centroids = shapes.geometry.centroid
    xy = np.column_stack([centroids.x.to_numpy(), centroids.y.to_numpy()])
    frame = pd.DataFrame(xy, columns=["lon", "lat"] if geographic else ["x", "y"])
    source = f"centroids of {shapes.attrs['source']}"
    return _checked(list(shapes.index), frame, geographic, source)


def province_capitals() -> pd.DataFrame:
    """Return the capitals of the 31 mainland provinces with their coordinates.

    Returns
    -------
    pandas.DataFrame
        Indexed by province (the names of :func:`~bayes_ccd.data.regions.province_table`),
        columns ``capital``, ``lon``, ``lat`` (WGS84 decimal degrees, to 0.01 degree).

    Notes
    -----
    The coordinates are those of the capital as a populated place in the GeoNames
    gazetteer (geonames.org, CC BY 4.0), rounded to 0.01 degree (about 1 km); the
    municipalities Beijing, Tianjin, Shanghai and Chongqing are their own capitals. The
    source is also named in the header of the bundled ``province_capitals.csv``.
    """
    resource = resources.files("bayes_ccd.data").joinpath("province_capitals.csv")
    with resources.as_file(resource) as path:
        table = pd.read_csv(path, comment="#", dtype={"province": str, "capital": str})
    return table.set_index("province")


def read_coordinates(
    path: str | Path, *, geographic: bool | None = None, boundary_id: str = ""
) -> Coordinates:
    """Read coordinates from a CSV: unit labels first, then ``lon,lat`` or ``x,y``.

    Parameters
    ----------
    path
        The CSV file, ``bundled:province-capitals``, or a boundary file (``.geojson``,
        ``.json``, ``.shp``, ``.gpkg``) whose polygons' centroids are the coordinates.
    geographic
        Whether the coordinates are longitude/latitude; ``None`` (default) decides from
        the header (``lon,lat`` geographic, ``x,y`` projected).
    boundary_id
        The unit-id column of a boundary file.

    Raises
    ------
    WeightsError
        Naming the file, line and column of a missing column, a non-number, a repeated
        unit or a longitude/latitude out of range.
    """
    if Path(str(path)).suffix.lower() in BOUNDARY_SUFFIXES:
        return boundary_coordinates(path, boundary_id)
    if str(path) == BUNDLED_CAPITALS:
        table = province_capitals()
        return _checked(table.index.tolist(), table[["lon", "lat"]], True, BUNDLED_CAPITALS)
    frame = read_csv_cells(path, what="coordinates file", error=WeightsError)
    columns, is_lonlat = _columns(frame.columns[1:], str(path))
    units = frame.iloc[:, 0].str.strip().tolist()
    lonlat = is_lonlat if geographic is None else geographic
    return _checked(units, frame[columns], lonlat, str(path), lines=True)


def as_coordinates(
    coordinates: Coordinates | pd.DataFrame | str | Path | None,
    *,
    geographic: bool | None = None,
    source: str | None = None,
    boundary_id: str = "",
) -> Coordinates:
    """Coordinates from a :class:`Coordinates`, a frame, a file or ``None`` (capitals).

    A frame is indexed by unit and has columns ``lon, lat`` or ``x, y`` (any case);
    ``geographic=None`` decides from the column names. A GeoDataFrame or a boundary file
    gives the centroids of its polygons (:func:`boundary_coordinates`), its units in the
    column ``boundary_id``.
    """
    if coordinates is None:
        coordinates = BUNDLED_CAPITALS
    if isinstance(coordinates, Coordinates):
        if geographic is None or geographic == coordinates.geographic:
            return coordinates
        return Coordinates(coordinates.units, coordinates.xy, geographic, coordinates.source)
    if isinstance(coordinates, (str, Path)):
        return read_coordinates(coordinates, geographic=geographic, boundary_id=boundary_id)
    if hasattr(coordinates, "geometry"):  # a GeoDataFrame of the units' polygons
        return boundary_coordinates(coordinates, boundary_id)
    where = source or "<DataFrame>"
    columns, is_lonlat = _columns(coordinates.columns, where)
    units = [str(u).strip() for u in coordinates.index]
    lonlat = is_lonlat if geographic is None else geographic
    return _checked(units, coordinates[columns], lonlat, where)


def _columns(columns: Sequence[object], where: str) -> tuple[list[object], bool]:
    """Return the two coordinate columns (lon/lat or x/y, any case), whether lon/lat."""
    lower = {str(c).strip().lower(): c for c in columns}
    for pair, is_lonlat in ((("lon", "lat"), True), (("x", "y"), False)):
        if all(p in lower for p in pair):
            return [lower[p] for p in pair], is_lonlat
    raise WeightsError(
        f"coordinates {where} need columns lon,lat (degrees) or x,y (projected) after the "
        f"unit column; found {[str(c) for c in columns]}"
    )


def _checked(
    units: list[str], frame: pd.DataFrame, geographic: bool, source: str, *, lines: bool = False
) -> Coordinates:
    values = frame.apply(lambda column: pd.to_numeric(column, errors="coerce"))
    bad = ~np.isfinite(values.to_numpy(dtype=float))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        where = f"line {frame.index[row]}, " if lines else ""
        raise WeightsError(
            f"coordinates {source}, {where}unit '{units[row]}': column "
            f"'{frame.columns[col]}' is {frame.iat[row, col]!r}, not a finite number"
        )
    labels = pd.Index(units)
    if labels.duplicated().any() or "" in units:
        twice = labels[labels.duplicated()].unique().tolist() or ["<empty label>"]
        raise WeightsError(f"coordinates {source}: unit(s) {twice} listed twice or unnamed")
    xy = values.to_numpy(dtype=float)
    if geographic:
        out = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
        if out.any():
            raise WeightsError(
                f"coordinates {source}: unit(s) {labels[out].tolist()} have a longitude "
                "outside [-180, 180] or a latitude outside [-90, 90]; are they projected "
                "(then name the columns x,y)?"
            )
    return Coordinates(tuple(units), np.ascontiguousarray(xy), geographic, source)
