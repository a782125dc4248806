"""Spatio-temporal exploration of the coordination degree: one call for the whole stage.

:func:`explore` runs, on the coupling coordination table (``ccd.csv``), the kernel
density evolution (:mod:`bayes_ccd.explore.density`), global and local Moran's I
(:mod:`bayes_ccd.explore.moran`) and the maps (:mod:`bayes_ccd.explore.maps`), and writes

====================================  ==================================================
``kde_features.{csv,md,tex}``         peak, height, number of peaks, spread per year
``kde_curves.csv``                    the density curves (to redraw them elsewhere)
``moran_global.csv``                  Moran's I of every variable and year, all fields
``moran_<var>.{csv,md,tex}``          the seed paper's Table 5 for each variable
``lisa.csv``                          local Moran's I per variable, unit and year
``lisa_counts.{csv,md,tex}``          number of units of each cluster type per year
``filled_cells.csv``                  cells filled by interpolation (only if any)
``figures/kde_surface_<var>.png``     3-D density surface (the paper's Figure 3)
``figures/kde_ridgeline_<var>.png``   ridgeline alternative
``figures/map_<var>.png``             choropleth for the chosen years (Figure 2)
``figures/lisa_<var>.png``            LISA cluster map for the chosen years (Figure 4)
``metadata.json``                     configuration, seed, versions, headline numbers
====================================  ==================================================

Maps need the units to be China's provinces (tile grid) or a boundary file; otherwise
they are skipped with a :class:`~bayes_ccd.exceptions.DataWarning` and the reason is
recorded in ``metadata.json``.

Input is checked once, before anything is computed: the panel contract
(:func:`bayes_ccd.data.panel.validate_panel`), the units of the weights, regions and
boundary, the years to map and the permutation settings; the stage functions then
trust the validated :class:`~bayes_ccd.data.panel.Panel`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_ccd.conventions import DEFAULT_SEED, NATIONAL, PERIOD, REGION, UNIT
from bayes_ccd.data.panel import MissingPolicy, Panel, read_csv_cells, validate_panel
from bayes_ccd.data.weights import SpatialWeights, check_units
from bayes_ccd.exceptions import DataError, DataWarning
from bayes_ccd.explore.density import (
    BandwidthRule,
    KernelDensityResult,
    curves_table,
    kernel_density_evolution,
    parse_bandwidth,
    plot_density_ridgeline,
    plot_density_surface,
    resolve_regions,
)
from bayes_ccd.explore.maps import (
    check_boundary_units,
    plot_choropleth,
    plot_lisa_map,
    read_boundary,
    tile_positions,
)
from bayes_ccd.explore.moran import (
    CLUSTER_TYPES,
    NOT_SIGNIFICANT,
    Alternative,
    check_permutation_test,
    cluster_counts,
    global_moran_panel,
    local_moran_panel,
    moran_paper_table,
    smallest_p_value,
)
from bayes_ccd.report.output import run_metadata, write_json
from bayes_ccd.report.tables import write_table

#: Variables explored by default: the coordination degree and the two subsystems.
DEFAULT_VARIABLES = ("D", "U1", "U2")


@dataclass(frozen=True)
class ExplorationResult:
    """Everything :func:`explore` computed, and what it wrote."""

    density: KernelDensityResult
    global_moran: pd.DataFrame
    lisa: pd.DataFrame
    cluster_counts: pd.DataFrame
    config: dict[str, Any]
    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def headline(self) -> dict[str, Any]:
        """A few numbers for a run summary (see :func:`headline_numbers`)."""
        return headline_numbers(self)


def read_ccd(
    path: str | Path,
    variables: Sequence[str] = DEFAULT_VARIABLES,
    *,
    missing: MissingPolicy = "error",
) -> tuple[Panel, pd.Series | None]:
    """Read the coupling coordination table (``ccd.csv``: ``unit, period, region, U1,
    U2, C, T, D, level, label``) as a validated panel of ``variables``, with the units'
    regions when the table has a filled ``region`` column.

    Parameters
    ----------
    path
        The CSV file.
    variables
        Columns to keep (numeric).
    missing
        Missing values: ``"error"`` or ``"linear"`` interpolation within each unit over
        time (cells filled are in the panel's ``filled``).

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
    """First, middle and last period (2012, 2017, 2023 for 2012-2023, as in the paper)."""
    ordered = sorted(set(int(p) for p in periods))
    return list(dict.fromkeys([ordered[0], ordered[(len(ordered) - 1) // 2], ordered[-1]]))


def explore(
    ccd: Panel | pd.DataFrame,
    weights: SpatialWeights,
    regions: pd.Series | None = None,
    *,
    out_dir: str | Path,
    variables: Sequence[str] = DEFAULT_VARIABLES,
    years: Sequence[int] | None = None,
    permutations: int = 999,
    seed: int = DEFAULT_SEED,
    bandwidth: BandwidthRule | str = "silverman",
    significance: float = 0.05,
    alternative: Alternative = "two-sided",
    boundary: str | Path | None = None,
    boundary_id: str | None = None,
    pdf: bool = False,
    metadata: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> ExplorationResult:
    """Run the exploration stage on ``ccd`` and write its tables and figures.

    Parameters
    ----------
    ccd
        A :class:`~bayes_ccd.data.panel.Panel` holding the variables (e.g. from
        :func:`read_ccd`), or a long table with ``unit``, ``period``, the variables and
        optionally ``region`` (validated here).
    weights
        Spatial weights over exactly the units of ``ccd``.
    regions
        ``unit -> region`` for the regional densities (default: a table's ``region``
        column; a Panel without ``regions`` gets national densities only).
    out_dir
        Directory to write into (created). The caller makes the write atomic, e.g.
        with :func:`bayes_ccd.report.output.atomic_output_dir`.
    variables
        Columns to explore.
    years
        Periods to map (default: first, middle and last).
    permutations, seed, significance, alternative
        Permutation inference of Moran's I (see :mod:`bayes_ccd.explore.moran`);
        ``significance`` is the level of the LISA clusters, and settings under which no
        permutation p-value could fall below it are refused.
    bandwidth
        Kernel bandwidth rule or value (see :mod:`bayes_ccd.explore.density`).
    boundary, boundary_id
        Optional boundary file and its unit-id column, for true choropleths.
    pdf
        Also write every figure as PDF.
    metadata
        Extra fields for ``metadata.json`` (e.g. input file names).
    progress
        Called with a short message as each step starts (e.g. the CLI's ``progress``).

    Returns
    -------
    ExplorationResult

    Raises
    ------
    DataError, WeightsError, ConfigError
        Bad input or settings, before anything is computed or written.
    """
    variables = list(variables)
    rule = parse_bandwidth(bandwidth)
    check_permutation_test(permutations, alternative, significance)
    report = progress or (lambda message: None)
    if boundary is not None and not boundary_id:
        raise DataError("a boundary file needs its unit-id column (--boundary-id)", file=boundary)
    if isinstance(ccd, Panel):
        panel = ccd
        membership = resolve_regions(panel.frame, regions, source=panel.source)
    else:
        panel = validate_panel(ccd, unit=UNIT, time=PERIOD, columns=variables)
        membership = resolve_regions(ccd, regions)
    check_units(weights.units, panel.units, weights.source)
    shapes = None if boundary is None else read_boundary(boundary, str(boundary_id))
    if shapes is not None:
        check_boundary_units(shapes, panel.units)
    periods = panel.periods
    map_periods = [int(y) for y in years] if years else default_map_periods(periods)
    absent = [y for y in map_periods if y not in periods]
    if absent:
        raise DataError(
            f"map year(s) {absent} are not in the data (years {periods[0]}-{periods[-1]})"
        )
    report(f"kernel densities of {', '.join(variables)}")
    density = kernel_density_evolution(panel, variables, regions=membership, bandwidth_rule=rule)
    report(f"global Moran's I ({permutations} permutations)")
    moran = global_moran_panel(
        panel,
        weights,
        variables,
        permutations=permutations,
        seed=seed,
        alternative=alternative,
        significance=significance,
    )
    report(f"local Moran's I ({permutations} conditional permutations)")
    lisa = local_moran_panel(
        panel,
        weights,
        variables,
        permutations=permutations,
        seed=seed,
        significance=significance,
        alternative=alternative,
        regions=membership,
    )
    counts = cluster_counts(lisa)
    config = {
        "variables": variables,
        "map_years": map_periods,
        "permutations": int(permutations),
        "seed": int(seed),
        "bandwidth": rule,
        "min_relative_height": density.min_relative_height,
        "significance": significance,
        "alternative": alternative,
        "smallest_p_perm": smallest_p_value(permutations, alternative),
        "weights": weights.summary(),
        "boundary": None if boundary is None else str(boundary),
        "boundary_id": boundary_id,
    }
    out = Path(out_dir)
    report("writing tables and figures")
    files = _write_tables(out, density, moran, lisa, counts, weights, config)
    if len(panel.filled):
        files.append(out / "filled_cells.csv")
        panel.filled.to_csv(files[-1], index=False)
    figures, skipped = _write_figures(
        out / "figures", panel.frame, density, lisa, variables, map_periods, shapes, pdf
    )
    result = ExplorationResult(density, moran, lisa, counts, config, files + figures, skipped)
    extra = dict(metadata or {})
    meta = run_metadata(
        config,
        seed,
        stage="explore",
        headline=result.headline,
        skipped=skipped,
        filled_cells=len(panel.filled),
        **extra,
    )
    result.files.append(write_json(meta, out / "metadata.json"))
    return result


def _write_tables(
    out: Path,
    density: KernelDensityResult,
    moran: pd.DataFrame,
    lisa: pd.DataFrame,
    counts: pd.DataFrame,
    weights: SpatialWeights,
    config: Mapping[str, Any],
) -> list[Path]:
    files = write_table(
        density.features,
        out,
        "kde_features",
        digits=4,
        caption="Kernel density features by variable, region and year",
        notes=(
            f"Gaussian kernel, bandwidth rule: {config['bandwidth']}. peak: location of "
            "the highest mode; n_peaks: local maxima at least "
            f"{config['min_relative_height']:g} of the highest; fwhm: width at half the "
            "highest density."
        ),
    )
    curves = out / "kde_curves.csv"
    curves_table(density).to_csv(curves, index=False)
    files.append(curves)
    moran_csv = out / "moran_global.csv"
    moran.to_csv(moran_csv, index=False)
    files.append(moran_csv)
    transform = "row-standardised" if weights.transform == "r" else "as given"
    for variable in config["variables"]:
        files += write_table(
            moran_paper_table(moran, variable),
            out,
            f"moran_{variable}",
            digits=4,
            caption=f"Global Moran's I of {variable} ({weights.source}, {transform})",
            notes=(
                "*** p < 0.01, ** p < 0.05, * p < 0.1; two-sided p-values under the "
                "normality assumption (Cliff and Ord 1981). Permutation results "
                f"({_permutation_note(config)}) are in moran_global.csv."
            ),
        )
    lisa_csv = out / "lisa.csv"
    lisa.to_csv(lisa_csv, index=False)
    files.append(lisa_csv)
    files += write_table(
        counts,
        out,
        "lisa_counts",
        caption="Number of units by LISA cluster type",
        notes=(
            f"Conditional permutation ({_permutation_note(config)}), significance "
            f"level {config['significance']:g}."
        ),
    )
    return files


def _permutation_note(config: Mapping[str, Any]) -> str:
    """E.g. "999 permutations, two-sided pseudo p-values, smallest attainable 0.003"."""
    return (
        f"{config['permutations']} permutations, {config['alternative']} pseudo "
        f"p-values, smallest attainable {config['smallest_p_perm']:.2g}"
    )


def _write_figures(
    out: Path,
    frame: pd.DataFrame,
    density: KernelDensityResult,
    lisa: pd.DataFrame,
    variables: Sequence[str],
    periods: Sequence[int],
    shapes: Any,
    pdf: bool,
) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    for variable in variables:
        files += plot_density_surface(density, variable, out / f"kde_surface_{variable}", pdf=pdf)
        files += plot_density_ridgeline(
            density, variable, out / f"kde_ridgeline_{variable}", pdf=pdf
        )
    if shapes is None and tile_positions(frame[UNIT].unique()) is None:
        reason = (
            "maps skipped: the units are not China's provinces, so the built-in "
            "tile map cannot place them; pass a boundary file (--boundary FILE "
            "--boundary-id COLUMN) to draw them"
        )
        warnings.warn(reason, DataWarning, stacklevel=3)
        return files, [reason]
    for variable in variables:
        files += plot_choropleth(
            frame, variable, periods, out / f"map_{variable}", boundary=shapes, pdf=pdf
        )
        files += plot_lisa_map(
            lisa, variable, periods, out / f"lisa_{variable}", boundary=shapes, pdf=pdf
        )
    return files, []


def headline_numbers(result: ExplorationResult) -> dict[str, Any]:
    """Numbers for a run summary, for ``D`` (or the first variable explored):
    Moran's I with its normality p-value in the first and last year, significant
    LISA units by type in the last year, and the national main density peak and its
    height in the first and last year."""
    moran = result.global_moran
    variable = "D" if "D" in set(moran["variable"]) else str(moran["variable"].iloc[0])
    rows = moran[moran["variable"] == variable].sort_values(PERIOD)
    first, last = rows.iloc[0], rows.iloc[-1]
    numbers: dict[str, Any] = {"variable": variable}
    for label, row in (("first", first), ("last", last)):
        numbers[f"moran_I_{label}"] = {
            "period": int(row[PERIOD]),
            "I": float(row["I"]),
            "p_norm": float(row["p_norm"]),
            "p_perm": float(row["p_perm"]),
        }
    counts = result.cluster_counts
    final = counts[(counts["variable"] == variable) & (counts[PERIOD] == last[PERIOD])]
    numbers["lisa_last"] = {c: int(final[c].iloc[0]) for c in CLUSTER_TYPES if c != NOT_SIGNIFICANT}
    features = result.density.features
    national = features[
        (features["variable"] == variable) & (features[REGION] == NATIONAL)
    ].sort_values(PERIOD)
    for label, index in (("first", 0), ("last", -1)):
        row = national.iloc[index]
        numbers[f"kde_national_{label}"] = {
            "period": int(row[PERIOD]),
            "peak": float(row["peak"]),
            "peak_density": float(row["peak_density"]),
            "n_peaks": int(row["n_peaks"]),
        }
    return numbers
