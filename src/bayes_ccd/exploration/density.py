r"""Kernel density evolution of U1, U2 and D across years, nationally and by region.

For every variable, group (the whole sample and each region) and period the
cross-section of units is smoothed with a Gaussian kernel,

.. math:: \hat f(x) = \frac{1}{n h} \sum_{i=1}^{n} \phi\!\left(\frac{x - x_i}{h}\right),

(Silverman 1986, eq. 2.2a), the estimator of the seed paper's section "Kernel density
estimation". No boundary correction is applied: D lies in [0, 1] and a density that
spills past the bounds shows that the sample sits close to them.

Bandwidth rules (``bandwidth=``, :data:`~bayes_ccd.settings.BANDWIDTH_RULES`)
--------------------------------------------------------------------------
- ``"silverman"`` (default): Silverman's rule of thumb
  ``h = 0.9 min(s, IQR / 1.34) n^(-1/5)`` (Silverman 1986, eq. 3.31), with ``s`` the
  sample standard deviation (``ddof=1``); this is R's ``bw.nrd0`` and the default of
  Stata's ``kdensity``. When the IQR is zero ``s`` is used alone.
- ``"scott"``: the normal reference rule ``h = (4/3)^(1/5) s n^(-1/5) ~ 1.06 s n^(-1/5)``
  (Scott 1992, eq. 6.17). Note that SciPy's ``gaussian_kde`` calls this same rule
  ``"silverman"`` and calls ``s n^(-1/5)`` ``"scott"``.
- a positive number: the bandwidth ``h`` itself, in the units of the variable (the
  same ``h`` for every group and year, which makes heights comparable across years).

Features read off the curves (``KernelDensityResult.features``)
----------------------------------------------------------------
The density is evaluated on a grid shared by all groups and years of a variable, from
``min - 3 h_max`` to ``max + 3 h_max``, with ``grid_size`` points or more: at least five
points per smallest bandwidth, so that the narrowest curve is resolved.

- *peaks*: the interior local maxima of the density on the grid
  (``f[k-1] < f[k] >= f[k+1]``) whose height is at least ``min_relative_height`` times
  the highest one (default 0.1, so that tail wiggles are not counted as poles); each
  is refined by maximising the exact density between the neighbouring grid points
  (bounded Brent search), so locations are exact to ``1e-10``, not to the grid step.
  Two modes closer than one grid step would be merged.
- *main peak*: the highest peak (location ``peak``, height ``peak_density``);
  ``n_peaks`` counts all peaks, ``peaks`` lists their locations in increasing order.
- *spread*: the sample standard deviation ``sd``, the interquartile range ``iqr``
  (linear interpolation of order statistics), and ``fwhm``, the length of the connected
  interval around the main peak on which ``f >= peak_density / 2`` (full width at half
  maximum), with the crossings interpolated linearly between grid points.

A rightward shift of the main peak reads as a rising level, a lower and wider main
peak as widening disparities, more than one peak as polarisation (the seed paper's
reading of its Figure 3).

The plots (:func:`plot_density_surface`, :func:`plot_density_ridgeline`) return a
:class:`matplotlib.figure.Figure` and write nothing; the stage's writer saves them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from scipy.optimize import minimize_scalar

from bayes_ccd.conventions import NATIONAL, PERIOD, REGION, UNIT
from bayes_ccd.data.panel import Panel, validate_panel
from bayes_ccd.data.regions import regions_for
from bayes_ccd.exceptions import ConfigError, DataError
from bayes_ccd.settings import BANDWIDTH_RULES, ExploreSettings

#: A bandwidth rule name (one of :data:`~bayes_ccd.settings.BANDWIDTH_RULES`) or the
#: bandwidth itself.
BandwidthRule = str | float

#: Smallest sample for a kernel density: a spread needs at least three values.
MIN_DENSITY_UNITS = 3

#: Silverman's constant for the IQR of a normal distribution (1986, eq. 3.31).
_IQR_NORMAL = 1.34

#: Name of the evaluation-grid dimension of the density curves.
GRID = "x"

#: Upper limit of the grid refinement (a bandwidth below 1/4000 of the range).
_MAX_GRID = 20_001

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class KernelDensityResult:
    """Kernel densities of each variable by group and period, and their features.

    Attributes
    ----------
    curves
        ``variable -> DataArray`` with dims ``(region, period, x)``: the density on the
        variable's grid; ``region`` holds ``"national"`` then the regions.
    features
        One row per variable, region and period: ``n, bandwidth, mean, sd, iqr, peak,
        peak_density, n_peaks, peaks, fwhm`` (see the module docstring).
    bandwidth_rule
        The rule used (``"silverman"``, ``"scott"`` or the fixed bandwidth).
    min_relative_height
        The peak-height threshold used.
    """

    curves: dict[str, xr.DataArray]
    features: pd.DataFrame
    bandwidth_rule: BandwidthRule
    min_relative_height: float

    def groups(self, variable: str) -> list[str]:
        """Return the group labels (``"national"`` first, then the regions) of ``variable``."""
        return [str(g) for g in self.curves[variable][REGION].to_numpy()]


def parse_bandwidth(value: str | float) -> BandwidthRule:
    """Read a bandwidth setting: a rule name or a positive number.

    Parameters
    ----------
    value
        ``"silverman"``, ``"scott"`` (any case, blanks ignored), a positive number or
        its text.

    Returns
    -------
    str or float
        The rule name in lower case, or the bandwidth as a float.

    Raises
    ------
    ConfigError
        For any other value.
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if text in BANDWIDTH_RULES:
            return text
        try:
            value = float(text)
        except ValueError:
            rules = " or ".join(repr(r) for r in BANDWIDTH_RULES)
            raise ConfigError(
                f"bandwidth {value!r} is not understood; use {rules} "
                "or a positive number (the bandwidth itself)"
            ) from None
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ConfigError(f"bandwidth {value!r} must be a positive finite number")
    return number


def bandwidth(values: np.ndarray, rule: BandwidthRule = ExploreSettings.bandwidth) -> float:
    """Compute the kernel bandwidth ``h`` of a sample under ``rule``.

    Parameters
    ----------
    values
        ``(n,)`` sample with at least two distinct values (for the rules).
    rule
        ``"silverman"``, ``"scott"`` (see the module docstring) or a positive number
        returned as is.

    Returns
    -------
    float
        The bandwidth.
    """
    if not isinstance(rule, str):
        return float(rule)
    x = np.asarray(values, dtype=float)
    n = x.size
    sd = float(np.std(x, ddof=1))
    if rule == "scott":
        return (4.0 / 3.0) ** 0.2 * sd * n**-0.2
    if rule == "silverman":
        q1, q3 = np.percentile(x, [25.0, 75.0])
        iqr = float(q3 - q1)
        scale = min(sd, iqr / _IQR_NORMAL) if iqr > 0 else sd
        return 0.9 * scale * n**-0.2
    raise ConfigError(f"unknown bandwidth rule {rule!r}; use one of {list(BANDWIDTH_RULES)}")


def gaussian_kde(values: np.ndarray, points: np.ndarray, h: float) -> np.ndarray:
    """Evaluate a Gaussian kernel density at ``points``.

    ``f(x) = (n h)^-1 sum_i phi((x - x_i) / h)``.

    Parameters
    ----------
    values
        ``(n,)`` sample.
    points
        ``(m,)`` evaluation points.
    h
        Bandwidth (the kernel's standard deviation).

    Returns
    -------
    numpy.ndarray
        ``(m,)`` densities.
    """
    x = np.asarray(values, dtype=float)
    u = (np.asarray(points, dtype=float)[:, None] - x[None, :]) / h
    return np.exp(-0.5 * u * u).sum(axis=1) * (_INV_SQRT_2PI / (x.size * h))


def density_peaks(
    values: np.ndarray,
    h: float,
    grid: np.ndarray,
    density: np.ndarray,
    min_relative_height: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """Find the locations and heights of the peaks of a kernel density.

    Peaks are the local maxima of the module docstring's rule, refined by a bounded
    scalar maximisation of the exact density.

    Parameters
    ----------
    values, h
        The sample and bandwidth that produced ``density``.
    grid, density
        ``(m,)`` increasing grid and the density on it.
    min_relative_height
        Keep local maxima at least this fraction of the highest one.

    Returns
    -------
    locations, heights
        ``(k,)`` arrays in increasing order of location.
    """
    inner = np.flatnonzero((density[1:-1] > density[:-2]) & (density[1:-1] >= density[2:]))
    candidates = inner + 1
    candidates = candidates[density[candidates] >= min_relative_height * density.max()]
    locations = np.empty(candidates.size)
    heights = np.empty(candidates.size)
    for k, index in enumerate(candidates):
        found = minimize_scalar(
            lambda t: -gaussian_kde(values, np.array([t]), h)[0],
            bounds=(grid[index - 1], grid[index + 1]),
            method="bounded",
            options={"xatol": 1e-12},
        )
        locations[k], heights[k] = found.x, -found.fun
    return locations, heights


def half_maximum_width(grid: np.ndarray, density: np.ndarray, peak: float, height: float) -> float:
    """Measure the full width at half maximum of a density peak.

    It is the length of the connected interval around ``peak`` on which
    ``density >= height / 2``, with the crossings interpolated linearly on the grid.

    Parameters
    ----------
    grid, density
        ``(m,)`` increasing grid and the density on it.
    peak, height
        Location and height of the peak.

    Returns
    -------
    float
        The width (NaN if the density never falls below half the height, which a grid
        padded by three bandwidths rules out).
    """
    half = height / 2.0
    start = int(np.clip(np.searchsorted(grid, peak), 1, grid.size - 2))
    below = density < half
    left = np.flatnonzero(below[:start])
    right = np.flatnonzero(below[start:]) + start
    if left.size == 0 or right.size == 0:
        return float("nan")  # cannot happen on a grid padded by three bandwidths
    i, j = left[-1], right[0]
    x_left = np.interp(half, density[i : i + 2], grid[i : i + 2])
    x_right = np.interp(half, density[j - 1 : j + 1][::-1], grid[j - 1 : j + 1][::-1])
    return float(x_right - x_left)


def resolve_regions(
    frame: pd.DataFrame, regions: pd.Series | None, *, source: str | None = None
) -> pd.Series | None:
    """Find the region of every unit, from a region table or the frame's column.

    The regions come from ``regions`` or else the frame's ``region`` column; ``None``
    when neither is given (national curves only).

    Parameters
    ----------
    frame
        Long table with ``unit`` and optionally ``region``.
    regions
        ``unit -> region`` table (:func:`bayes_ccd.data.regions.regions_for` looks units up).
    source
        File name for error messages.

    Returns
    -------
    pandas.Series or None
        ``unit -> region`` in first-appearance order of the units.

    Raises
    ------
    DataError
        If a unit has no region in ``regions``, or two regions in the frame.
    """
    units = frame[UNIT].astype(str).str.strip()
    order = list(dict.fromkeys(units))
    if regions is not None:
        return regions_for(order, regions, source=source)
    if REGION not in frame.columns:
        return None
    pairs = pd.DataFrame({UNIT: units, REGION: frame[REGION].astype(str).str.strip()})
    pairs = pairs.drop_duplicates()
    twice = pairs[UNIT].duplicated()
    if twice.any():
        unit = pairs.loc[twice, UNIT].iloc[0]
        both = sorted(pairs.loc[pairs[UNIT] == unit, REGION])
        raise DataError(
            f"unit has more than one region {both}", file=source, column=REGION, unit=unit
        )
    return pairs.set_index(UNIT)[REGION].loc[order]


def kernel_density_evolution(
    data: Panel | pd.DataFrame,
    variables: Sequence[str],
    *,
    regions: pd.Series | None = None,
    bandwidth_rule: BandwidthRule = ExploreSettings.bandwidth,
    grid_size: int = 512,
    min_relative_height: float = 0.1,
) -> KernelDensityResult:
    """Estimate Gaussian kernel densities of ``variables`` per period and group.

    Groups are the whole sample (``"national"``) and each region.

    Parameters
    ----------
    data
        A validated :class:`~bayes_ccd.data.panel.Panel` holding the variables (used as
        is), or a long table with ``unit``, ``period``, the variables and optionally
        ``region``, one row per unit and period (e.g. ``ccd.csv``; validated here).
    variables
        Columns to smooth (e.g. ``["D", "U1", "U2"]``).
    regions
        ``unit -> region``; default: a table's ``region`` column if any (a Panel has
        none: without ``regions`` its curves are national only).
    bandwidth_rule
        ``"silverman"`` (default), ``"scott"`` or a positive bandwidth.
    grid_size
        Number of grid points per variable.
    min_relative_height
        Peak threshold relative to the highest peak, in ``[0, 1)``.

    Returns
    -------
    KernelDensityResult
        The curves and their features.

    Raises
    ------
    DataError
        A table breaking the panel contract (missing columns, non-numeric or missing
        values, unbalanced), a unit without a region, a group-period with fewer than
        three units, or a constant variable in a group-period (no spread to smooth).
    """
    rule = parse_bandwidth(bandwidth_rule)
    if not 0.0 <= min_relative_height < 1.0:
        raise ConfigError(f"min_relative_height must lie in [0, 1), not {min_relative_height}")
    if grid_size < 16:
        raise ConfigError(f"grid_size must be at least 16, not {grid_size}")
    if isinstance(data, Panel):
        panel = data
        membership = resolve_regions(panel.frame, regions, source=panel.source)
    else:
        panel = validate_panel(data, unit=UNIT, time=PERIOD, columns=list(variables))
        membership = resolve_regions(data, regions)
    frame = panel.frame
    groups: dict[str, np.ndarray] = {NATIONAL: np.ones(len(frame), dtype=bool)}
    if membership is not None:
        unit_region = frame[UNIT].map(membership).to_numpy()
        for label in dict.fromkeys(membership.to_numpy()):
            groups[str(label)] = unit_region == label
    curves: dict[str, xr.DataArray] = {}
    rows: list[dict[str, object]] = []
    for variable in variables:
        samples = {
            (group, period): frame.loc[
                mask & (frame[PERIOD] == period).to_numpy(), variable
            ].to_numpy(dtype=float)
            for group, mask in groups.items()
            for period in panel.periods
        }
        widths = {key: _checked_bandwidth(x, rule, variable, *key) for key, x in samples.items()}
        grid = _grid(frame[variable].to_numpy(dtype=float), list(widths.values()), grid_size)
        cube = np.empty((len(groups), len(panel.periods), grid.size))
        for (g, group), (t, period) in _pairs(list(groups), panel.periods):
            x, h = samples[group, period], widths[group, period]
            cube[g, t] = gaussian_kde(x, grid, h)
            rows.append(
                {
                    "variable": variable,
                    REGION: group,
                    PERIOD: period,
                    **_features(x, h, grid, cube[g, t], min_relative_height),
                }
            )
        curves[variable] = xr.DataArray(
            cube,
            dims=(REGION, PERIOD, GRID),
            coords={REGION: list(groups), PERIOD: panel.periods, GRID: grid},
            name="density",
            attrs={"variable": variable, "bandwidth_rule": str(rule)},
        )
    return KernelDensityResult(curves, pd.DataFrame(rows), rule, min_relative_height)


def _grid(values: np.ndarray, widths: list[float], size: int) -> np.ndarray:
    """Build the grid from ``min - 3 h_max`` to ``max + 3 h_max`` with ``size`` points.

    It is refined to at least five points per smallest bandwidth so that narrow peaks
    are resolved.
    """
    lo, hi = values.min() - 3.0 * max(widths), values.max() + 3.0 * max(widths)
    needed = math.ceil((hi - lo) / (min(widths) / 5.0)) + 1
    return np.linspace(lo, hi, int(min(max(size, needed), _MAX_GRID)))


def _pairs(groups: list[str], periods: list[int]):
    return ((g, t) for g in enumerate(groups) for t in enumerate(periods))


def _checked_bandwidth(
    x: np.ndarray, rule: BandwidthRule, variable: str, group: str, period: int
) -> float:
    where = "nationally" if group == NATIONAL else f"in region '{group}'"
    if x.size < MIN_DENSITY_UNITS:
        raise DataError(
            f"only {x.size} unit(s) {where}; a kernel density needs "
            f"at least {MIN_DENSITY_UNITS} (merge small regions in the region "
            "file)",
            column=variable,
            period=period,
        )
    if np.ptp(x) == 0:
        raise DataError(
            f"the variable is constant ({x[0]:.6g}) {where}; a kernel density needs spread",
            column=variable,
            period=period,
        )
    return bandwidth(x, rule)


def _features(
    x: np.ndarray, h: float, grid: np.ndarray, density: np.ndarray, min_relative_height: float
) -> dict[str, object]:
    locations, heights = density_peaks(x, h, grid, density, min_relative_height)
    main = int(np.argmax(heights))
    q1, q3 = np.percentile(x, [25.0, 75.0])
    return {
        "n": int(x.size),
        "bandwidth": h,
        "mean": float(x.mean()),
        "sd": float(x.std(ddof=1)),
        "iqr": float(q3 - q1),
        "peak": float(locations[main]),
        "peak_density": float(heights[main]),
        "n_peaks": int(locations.size),
        "peaks": ";".join(f"{v:.4f}" for v in locations),
        "fwhm": half_maximum_width(grid, density, locations[main], heights[main]),
    }


def curves_table(result: KernelDensityResult) -> pd.DataFrame:
    """Return all density curves as one long table.

    Parameters
    ----------
    result
        The densities.

    Returns
    -------
    pandas.DataFrame
        Columns ``variable, region, period, x, density``.
    """
    frames = [
        curve.to_dataframe().reset_index().assign(variable=variable)
        for variable, curve in result.curves.items()
    ]
    table = pd.concat(frames, ignore_index=True)
    return table[["variable", REGION, PERIOD, GRID, "density"]]


def _panel_grid(count: int, ncols: int = 2) -> tuple[int, int]:
    ncols = min(ncols, count)
    return math.ceil(count / ncols), ncols


def _title(group: str) -> str:
    return "National" if group == NATIONAL else group.capitalize()


def plot_density_surface(
    result: KernelDensityResult, variable: str, *, cmap: str = "viridis"
) -> Figure:
    """Draw the seed paper's Figure 3: a 3-D surface of density by value and year.

    One panel per group (national, then regions), with each year's curve traced in
    black. Heights are true densities (comparable across panels); colour follows height
    (viridis, readable in greyscale).

    Parameters
    ----------
    result
        The densities.
    variable
        One of the variables of ``result``.
    cmap
        Matplotlib colour map of the surface.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (nothing is written; see :func:`bayes_ccd.report.figures.save_figure`).
    """
    curve = _curve(result, variable)
    groups = result.groups(variable)
    nrows, ncols = _panel_grid(len(groups))
    fig = Figure(figsize=(5.2 * ncols, 4.4 * nrows), layout="constrained")
    grid = curve[GRID].to_numpy()
    periods = curve[PERIOD].to_numpy()
    gx, gy = np.meshgrid(grid, periods)
    for k, group in enumerate(groups):
        ax = fig.add_subplot(nrows, ncols, k + 1, projection="3d", computed_zorder=False)
        z = curve.sel({REGION: group}).to_numpy()
        ax.plot_surface(
            gx,
            gy,
            z,
            cmap=cmap,
            linewidth=0,
            rcount=periods.size,
            ccount=min(grid.size, 300),
            antialiased=False,
            alpha=0.9,
        )
        # Each year's curve at full grid resolution, drawn over the surface (which uses at
        # most 300 columns and could shave a narrow peak).
        for t, period in enumerate(periods):
            ax.plot(grid, np.full(grid.size, period), z[t], color="black", linewidth=0.5, zorder=2)
        ax.set_xlabel(variable, labelpad=6)
        ax.set_ylabel("Year", labelpad=8)
        ax.set_zlabel("Density", labelpad=6)
        ax.set_yticks(_thinned(periods))
        ax.tick_params(labelsize=8)
        ax.set_title(_title(group), fontsize=11)
        ax.view_init(elev=28, azim=-58)
    fig.suptitle(f"Kernel density evolution of {variable}", fontsize=12)
    return fig


def plot_density_ridgeline(
    result: KernelDensityResult, variable: str, *, cmap: str = "viridis"
) -> Figure:
    """Draw the ridgeline alternative to the 3-D surface: one curve per year stacked up.

    One panel per group. Within a panel, heights are scaled so that the tallest curve
    spans 1.8 rows; the panel title gives that tallest density so panels can be
    compared. Fill lightness runs with the year (greyscale-safe), outlines are black.

    Parameters
    ----------
    result
        The densities.
    variable
        One of the variables of ``result``.
    cmap
        Matplotlib colour map of the fills.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (nothing is written).
    """
    import matplotlib as mpl

    curve = _curve(result, variable)
    groups = result.groups(variable)
    periods = curve[PERIOD].to_numpy()
    grid = curve[GRID].to_numpy()
    colours = mpl.colormaps[cmap](np.linspace(0.15, 0.95, periods.size))
    fig = Figure(figsize=(3.3 * len(groups), 0.42 * periods.size + 1.6), layout="constrained")
    axes = fig.subplots(1, len(groups), sharex=True, sharey=True, squeeze=False)[0]
    for ax, group in zip(axes, groups, strict=True):
        z = curve.sel({REGION: group}).to_numpy()
        scale = 1.8 / z.max()
        for t in range(periods.size - 1, -1, -1):
            ax.fill_between(
                grid,
                t,
                t + z[t] * scale,
                color=colours[t],
                alpha=0.9,
                linewidth=0,
                zorder=periods.size - t,
            )
            ax.plot(grid, t + z[t] * scale, color="black", linewidth=0.7, zorder=periods.size - t)
        ax.set_title(f"{_title(group)} (max density {z.max():.3g})", fontsize=10)
        ax.set_xlabel(variable)
        ax.set_yticks(np.arange(periods.size), [str(p) for p in periods], fontsize=8)
        ax.set_xlim(grid[0], grid[-1])
    axes[0].set_ylabel("Year")
    fig.suptitle(f"Kernel densities of {variable} by year", fontsize=12)
    return fig


def _curve(result: KernelDensityResult, variable: str) -> xr.DataArray:
    """Return the curves of ``variable``, or say which variables there are."""
    if variable not in result.curves:
        raise DataError(
            f"no kernel density computed for variable {variable!r} "
            f"(computed: {list(result.curves)})"
        )
    return result.curves[variable]


def _thinned(periods: np.ndarray, most: int = 6) -> np.ndarray:
    """At most ``most`` evenly spaced tick positions from ``periods``, ends included."""
    if periods.size <= most:
        return periods
    return periods[np.unique(np.linspace(0, periods.size - 1, most).round().astype(int))]
