r"""Spatial autocorrelation of the coordination degree: global and local Moran's I.

Both statistics are computed by esda (Rey & Anselin 2010) on each period's
cross-section, with the study's :class:`~bayes_ccd.data.weights.SpatialWeights` used as
given (row-standardised by default), in the seed paper's section "Spatial
autocorrelation analysis".

Global Moran's I (Moran 1950; Cliff & Ord 1981, ch. 1-2)
--------------------------------------------------------
.. math:: I = \frac{n}{S_0} \frac{\sum_i \sum_j w_{ij} z_i z_j}{\sum_i z_i^2},
   \qquad z_i = x_i - \bar x, \quad S_0 = \sum_i \sum_j w_{ij},

with ``E[I] = -1/(n-1)`` and the variance under normality
``(n^2 S_1 - n S_2 + 3 S_0^2) / ((n^2 - 1) S_0^2) - E[I]^2`` (Cliff & Ord 1981,
eq. 2.37), where ``S_1 = 1/2 sum_ij (w_ij + w_ji)^2`` and
``S_2 = sum_i (w_i. + w_.i)^2``; under randomisation the kurtosis of ``z`` enters
(eq. 2.38). ``z = (I - E[I]) / sd(I)``, ``p`` two-sided. The permutation reference
distribution shuffles the values over the units ``permutations`` times.

Local Moran's I (Anselin 1995)
------------------------------
``I_i = (n - 1) z_i sum_j w_ij z_j / sum_j z_j^2`` with ``z`` standardised, tested by
conditional permutation (the value of unit ``i`` is held, the others shuffled over its
neighbours). A unit's quadrant is read from the signs of ``z_i`` and its spatial lag
(High-High, Low-High, Low-Low, High-Low; a zero ``z`` counts as low, as in esda); it is
a cluster of that type when its pseudo p-value is below ``significance`` (default
0.05), otherwise "Not significant".

Permutation p-values and seeds
------------------------------
Pseudo p-values follow esda's ``calculate_significance`` (esda 2.10,
``esda/significance.py``) with ``R`` permutations, reading the observed statistic
against its ``R`` simulated values. ``alternative`` is one of
:data:`~bayes_ccd.settings.ALTERNATIVES`:

- ``"two-sided"`` (default, esda's recommendation): ``p = (M + 1) / (R + 1)``; with
  ``q`` the share of simulated values at or below the observed one, ``M`` counts the
  simulated values at or below their ``min(q, 1 - q)`` quantile plus those at or above
  their ``max(q, 1 - q)`` quantile. Both tails always hold at least one
  simulated value (the smallest and the largest), so ``M >= 2`` and the smallest
  attainable p-value is ``3 / (R + 1)``: 0.06 with 49 permutations, 0.03 with 99,
  0.003 with 999;
- ``"directed"``: the one-sided p-value in the observed direction,
  ``(min(M, R - M) + 1) / (R + 1)`` with ``M`` the simulated values at or above the
  observed one, reported by GeoDa and by esda before 2.6 (use it to reproduce such
  results; it is about half the two-sided value);
- ``"greater"`` / ``"lesser"``: ``(M + 1) / (R + 1)`` with ``M`` the simulated values
  at or above (below) the observed one;
- ``"folded"``: the same after folding the values about the simulated mean.

The last four reach ``1 / (R + 1)``. A unit or year can only be significant at level
``a`` if this smallest p-value is below ``a``; with fewer permutations every result
would be "Not significant" whatever the data, so such settings are refused
(:func:`check_permutation_test`). The defaults (999 permutations, two-sided, level
0.05) are those of :class:`~bayes_ccd.settings.ExploreSettings`.

Every period and variable gets its own seed, derived from the run's seed by
:func:`permutation_seed` and written to the tables, so one year can be re-run alone.
esda's global Moran draws its permutations from NumPy's legacy global generator; it
is seeded for the call and restored afterwards, leaving the caller's stream untouched.
"""

from __future__ import annotations

import contextlib
import math
import zlib
from collections.abc import Iterator, Sequence

import esda
import numpy as np
import pandas as pd
from esda.significance import calculate_significance
from libpysal.graph import Graph

from bayes_ccd.conventions import PERIOD, REGION, UNIT
from bayes_ccd.data.panel import Panel, validate_panel
from bayes_ccd.data.weights import SpatialWeights, check_units
from bayes_ccd.exceptions import ConfigError, DataError
from bayes_ccd.report.tables import estimate_with_stars
from bayes_ccd.settings import ALTERNATIVES, ExploreSettings


def _smallest_p_numerator(alternative: str) -> int:
    """Return ``(R + 1)`` times the smallest pseudo p-value ``R`` permutations can give.

    esda's two-sided p-value counts both tails, each holding at least one simulated
    value, so it is ``3 / (R + 1)`` at best; every other alternative reaches
    ``1 / (R + 1)`` (esda's ``_permutation_significance``; see the module docstring).
    """
    if alternative not in ALTERNATIVES:
        raise ConfigError(f"alternative {alternative!r} is not one of {list(ALTERNATIVES)}")
    return 3 if alternative == "two-sided" else 1


#: Moran's I needs four units: its randomisation variance divides by (n-1)(n-2)(n-3).
MIN_MORAN_UNITS = 4

#: Cluster labels in reporting order; esda's quadrants 1-4 are HH, LH, LL, HL.
HIGH_HIGH, LOW_LOW, HIGH_LOW, LOW_HIGH = "High-High", "Low-Low", "High-Low", "Low-High"
NOT_SIGNIFICANT = "Not significant"
CLUSTER_TYPES = (HIGH_HIGH, LOW_LOW, HIGH_LOW, LOW_HIGH, NOT_SIGNIFICANT)
_QUADRANTS = {1: HIGH_HIGH, 2: LOW_HIGH, 3: LOW_LOW, 4: HIGH_LOW}

#: Purposes that separate the seed streams of the two statistics.
_GLOBAL_STREAM, _LOCAL_STREAM = 0, 1


def permutation_seed(seed: int, variable: str, period: int, local: bool = False) -> int:
    """Derive the seed of one variable-period permutation test from the run seed.

    ``SeedSequence(seed, spawn_key=(crc32(variable), period, 0 or 1))`` gives streams
    that do not overlap between variables, periods and the global/local statistic.

    Parameters
    ----------
    seed
        The run seed.
    variable, period
        The cross-section tested.
    local
        The local statistic's stream (else the global one).

    Returns
    -------
    int
        A 32-bit seed.
    """
    key = (
        zlib.crc32(variable.encode("utf-8")),
        int(period) & 0xFFFFFFFF,
        _LOCAL_STREAM if local else _GLOBAL_STREAM,
    )
    sequence = np.random.SeedSequence(int(seed), spawn_key=key)
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


@contextlib.contextmanager
def _legacy_seed(seed: int) -> Iterator[None]:
    """Seed NumPy's legacy global generator for one call, then restore its state."""
    # esda's global Moran calls np.random.permutation: the legacy generator is the only
    # handle on its draws.
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def smallest_p_value(permutations: int, alternative: str = ExploreSettings.alternative) -> float:
    """Compute the smallest pseudo p-value ``R`` permutations can give.

    Parameters
    ----------
    permutations
        ``R``.
    alternative
        One of :data:`~bayes_ccd.settings.ALTERNATIVES`.

    Returns
    -------
    float
        ``3 / (R + 1)`` two-sided, ``1 / (R + 1)`` otherwise (see the module docstring).
    """
    return _smallest_p_numerator(alternative) / (permutations + 1)


def check_permutation_test(
    permutations: int,
    alternative: str = ExploreSettings.alternative,
    significance: float = ExploreSettings.significance,
) -> None:
    """Refuse permutation settings under which no result could be significant.

    Parameters
    ----------
    permutations, alternative, significance
        The settings of the permutation test and the level its p-values are read at.

    Raises
    ------
    ConfigError
        An unknown ``alternative``, ``permutations`` not a positive integer,
        ``significance`` outside ``(0, 1)``, or a smallest attainable p-value
        (:func:`smallest_p_value`) not below ``significance``; the message gives the
        fewest permutations that would do.
    """
    k = _smallest_p_numerator(alternative)
    if isinstance(permutations, bool) or int(permutations) != permutations or permutations < 1:
        raise ConfigError(f"permutations must be a positive integer, not {permutations}")
    if not 0.0 < significance < 1.0:
        raise ConfigError(f"significance level must lie in (0, 1), not {significance}")
    smallest = smallest_p_value(permutations, alternative)
    if smallest < significance:
        return
    # The fewest R with k / (R + 1) < significance, found with the same float test.
    needed = max(1, math.floor(k / significance) - 1)
    while k / (needed + 1) >= significance:
        needed += 1
    raise ConfigError(
        f"with {permutations} permutations the smallest attainable {alternative} p-value "
        f"is {k}/({permutations}+1) = {smallest:.4g}, not below the significance level "
        f"{significance:g}, so no result could be significant; use at least {needed} "
        "permutations (999 is usual)"
    )


def _cross_section(
    values: pd.Series, weights: SpatialWeights, variable: str, period: object
) -> tuple[pd.Series, Graph]:
    """Reorder the values to the units of ``weights`` and build the esda graph.

    The order is that of the weights, whatever the order of the rows, so that a seed
    gives the same permutations however the input table is sorted.

    Raises
    ------
    DataError
        Fewer than four units, non-finite or constant values.
    WeightsError
        The units differ from those of the weights.
    """
    where = {"column": variable, "period": period}
    if values.size < MIN_MORAN_UNITS:
        raise DataError(
            f"only {values.size} unit(s); Moran's I needs at least {MIN_MORAN_UNITS}", **where
        )
    labels = values.index.astype(str)
    if labels.duplicated().any():
        raise DataError(f"unit '{labels[labels.duplicated()][0]}' appears twice", **where)
    check_units(weights.units, list(labels), weights.source)
    ordered = values.set_axis(labels).loc[list(weights.units)].astype(float)
    y = ordered.to_numpy()
    if not np.all(np.isfinite(y)):
        raise DataError(
            "missing or non-finite value", unit=ordered.index[~np.isfinite(y)][0], **where
        )
    if np.ptp(y) == 0:
        raise DataError(
            f"the variable is constant ({y[0]:.6g}) across units; Moran's I is undefined", **where
        )
    # The matrix is already transformed: esda must use it as is ("O"). Sparse, so that
    # county and tract panels never form an n x n array.
    graph = Graph.from_sparse(weights.sparse, ids=list(weights.units))
    return ordered, graph


def global_moran(
    values: pd.Series,
    weights: SpatialWeights,
    *,
    permutations: int = ExploreSettings.permutations,
    seed: int,
    alternative: str = ExploreSettings.alternative,
    significance: float = ExploreSettings.significance,
    variable: str = "value",
    period: object = None,
) -> dict[str, float]:
    """Compute the global Moran's I of one cross-section.

    Inference is under normality, randomisation and permutation (esda ``Moran``; see
    the module docstring).

    Parameters
    ----------
    values
        One value per unit, indexed by unit label, in any order: they are put in the
        order of ``weights`` (so results do not depend on how rows are sorted).
    weights
        Spatial weights over exactly these units, used with their own transform.
    permutations, seed, alternative
        Permutation test settings; ``seed`` seeds this test alone.
    significance
        The level ``p_perm`` will be read at: settings under which it could never fall
        below it are refused (:func:`check_permutation_test`).
    variable, period
        Names used in error messages.

    Returns
    -------
    dict
        ``n, I, EI, VI_norm, sd_norm, z_norm, p_norm, VI_rand, sd_rand, z_rand,
        p_rand, permutations, EI_perm, VI_perm, sd_perm, z_perm, p_perm, seed``.
    """
    check_permutation_test(permutations, alternative, significance)
    ordered, graph = _cross_section(values, weights, variable, period)
    with _legacy_seed(seed):
        moran = esda.Moran(ordered.to_numpy(), graph, transformation="O", permutations=permutations)
    return {
        "n": int(moran.n),
        "I": float(moran.I),
        "EI": float(moran.EI),
        "VI_norm": float(moran.VI_norm),
        "sd_norm": float(moran.seI_norm),
        "z_norm": float(moran.z_norm),
        "p_norm": float(moran.p_norm),
        "VI_rand": float(moran.VI_rand),
        "sd_rand": float(moran.seI_rand),
        "z_rand": float(moran.z_rand),
        "p_rand": float(moran.p_rand),
        "permutations": int(permutations),
        "EI_perm": float(moran.EI_sim),
        "VI_perm": float(moran.VI_sim),
        "sd_perm": float(moran.seI_sim),
        "z_perm": float(moran.z_sim),
        "p_perm": float(calculate_significance(moran.I, moran.sim, alternative=alternative)),
        "seed": int(seed),
    }


def local_moran(
    values: pd.Series,
    weights: SpatialWeights,
    *,
    permutations: int = ExploreSettings.permutations,
    seed: int,
    significance: float = ExploreSettings.significance,
    alternative: str = ExploreSettings.alternative,
    variable: str = "value",
    period: object = None,
) -> pd.DataFrame:
    """Compute the local Moran's I (LISA) of one cross-section, with cluster types.

    p-values are by conditional permutation (esda ``Moran_Local``; see the module
    docstring).

    Parameters
    ----------
    values, weights
        As in :func:`global_moran`.
    permutations, seed, alternative
        Conditional permutation settings; ``seed`` seeds this test alone.
    significance
        Level below which a unit's pseudo p-value makes it a cluster.
    variable, period
        Names used in error messages.

    Returns
    -------
    pandas.DataFrame
        One row per unit in the order of the weights: ``unit, value, z`` (standardised
        value), ``lag`` (spatial lag of ``z``), ``Ii, EI_perm, z_perm, p_perm,
        quadrant`` (where the unit sits in the Moran scatter plot, whatever its
        significance) and ``cluster`` (the quadrant if ``p_perm < significance``,
        otherwise "Not significant"), plus ``seed``.

    Raises
    ------
    ConfigError
        Permutation settings under which no unit could be significant
        (:func:`check_permutation_test`), e.g. 49 two-sided permutations at 5 %.
    """
    check_permutation_test(permutations, alternative, significance)
    ordered, graph = _cross_section(values, weights, variable, period)
    lisa = esda.Moran_Local(
        ordered.to_numpy(),
        graph,
        transformation="O",
        permutations=permutations,
        seed=seed,
        alternative=alternative,
        n_jobs=1,
    )
    quadrant = pd.Series(lisa.q).map(_QUADRANTS).to_numpy()
    significant = lisa.p_sim < significance
    return pd.DataFrame(
        {
            UNIT: ordered.index,
            "value": ordered.to_numpy(),
            "z": lisa.z,
            "lag": graph.lag(lisa.z),
            "Ii": lisa.Is,
            "EI_perm": lisa.EI_sim,
            "z_perm": lisa.z_sim,
            "p_perm": lisa.p_sim,
            "quadrant": quadrant,
            "cluster": np.where(significant, quadrant, NOT_SIGNIFICANT),
            "seed": int(seed),
        }
    )


def _panel(data: Panel | pd.DataFrame, variables: Sequence[str]) -> Panel:
    """Return a validated panel of ``variables``.

    A :class:`~bayes_ccd.data.panel.Panel` is trusted as validated; a table is validated
    against the panel contract (balanced, numeric) here.
    """
    if isinstance(data, Panel):
        return data
    return validate_panel(data, unit=UNIT, time=PERIOD, columns=list(variables))


def global_moran_panel(
    data: Panel | pd.DataFrame,
    weights: SpatialWeights,
    variables: Sequence[str],
    *,
    permutations: int = ExploreSettings.permutations,
    seed: int,
    alternative: str = ExploreSettings.alternative,
    significance: float = ExploreSettings.significance,
) -> pd.DataFrame:
    """Compute the global Moran's I of each variable in each period (the paper's Table 5).

    Parameters
    ----------
    data
        A validated :class:`~bayes_ccd.data.panel.Panel` holding the variables (used as
        is), or a long table with ``unit``, ``period`` and the variables (validated
        here).
    seed
        Run seed; each variable-period test uses :func:`permutation_seed`.
    permutations, alternative, significance
        As in :func:`global_moran`.

    Returns
    -------
    pandas.DataFrame
        One row per variable and period: ``variable, period`` and the fields of
        :func:`global_moran`.
    """
    check_permutation_test(permutations, alternative, significance)
    frame = _panel(data, variables).frame
    rows = []
    for variable in variables:
        for period, cross in frame.groupby(PERIOD, sort=True):
            values = cross.set_index(UNIT)[variable]
            rows.append(
                {
                    "variable": variable,
                    PERIOD: int(period),
                    **global_moran(
                        values,
                        weights,
                        permutations=permutations,
                        seed=permutation_seed(seed, variable, period),
                        alternative=alternative,
                        significance=significance,
                        variable=variable,
                        period=period,
                    ),
                }
            )
    return pd.DataFrame(rows)


def local_moran_panel(
    data: Panel | pd.DataFrame,
    weights: SpatialWeights,
    variables: Sequence[str],
    *,
    permutations: int = ExploreSettings.permutations,
    seed: int,
    significance: float = ExploreSettings.significance,
    alternative: str = ExploreSettings.alternative,
    regions: pd.Series | None = None,
) -> pd.DataFrame:
    """Compute the local Moran's I of each variable, unit and period (the paper's Figure 4).

    Parameters
    ----------
    data, weights, variables
        As in :func:`global_moran_panel`.
    permutations, seed, significance, alternative
        As in :func:`local_moran`; each variable-period test uses
        :func:`permutation_seed` (the local stream).
    regions
        ``unit -> region``, added as a ``region`` column when given.

    Returns
    -------
    pandas.DataFrame
        ``variable, period, unit`` (and ``region`` when known) followed by the columns
        of :func:`local_moran`.
    """
    check_permutation_test(permutations, alternative, significance)
    frame = _panel(data, variables).frame
    tables = []
    for variable in variables:
        for period, cross in frame.groupby(PERIOD, sort=True):
            table = local_moran(
                cross.set_index(UNIT)[variable],
                weights,
                permutations=permutations,
                seed=permutation_seed(seed, variable, period, local=True),
                significance=significance,
                alternative=alternative,
                variable=variable,
                period=period,
            )
            tables.append(table.assign(variable=variable, **{PERIOD: int(period)}))
    out = pd.concat(tables, ignore_index=True)
    lead = ["variable", PERIOD, UNIT]
    if regions is not None:
        out[REGION] = out[UNIT].map(regions.set_axis(regions.index.astype(str)))
        lead.append(REGION)
    return out[lead + [c for c in out.columns if c not in lead]]


def cluster_counts(lisa: pd.DataFrame) -> pd.DataFrame:
    """Count the units of each LISA cluster type per variable and period.

    Parameters
    ----------
    lisa
        Table from :func:`local_moran_panel`.

    Returns
    -------
    pandas.DataFrame
        ``variable, period`` and one column per type in :data:`CLUSTER_TYPES` order
        (zero where absent).
    """
    counts = (
        lisa.groupby(["variable", PERIOD])["cluster"]
        .value_counts()
        .unstack(fill_value=0)
        .reindex(columns=list(CLUSTER_TYPES), fill_value=0)
    )
    counts.columns.name = None
    order = list(dict.fromkeys(lisa["variable"]))
    counts = counts.reset_index()
    counts["variable"] = pd.Categorical(counts["variable"], categories=order, ordered=True)
    counts = counts.sort_values(["variable", PERIOD]).reset_index(drop=True)
    counts["variable"] = counts["variable"].astype(str)
    return counts


_INFERENCE_COLUMNS = {
    "normality": ("EI", "sd_norm", "z_norm", "p_norm"),
    "randomisation": ("EI", "sd_rand", "z_rand", "p_rand"),
    "permutation": ("EI_perm", "sd_perm", "z_perm", "p_perm"),
}


def moran_paper_table(
    table: pd.DataFrame, variable: str, *, inference: str = "normality"
) -> pd.DataFrame:
    """Lay out the seed paper's Table 5 for ``variable``.

    Per year: Moran's I with significance stars (*** p < 0.01, ** p < 0.05, * p < 0.1),
    E(I), sd(I), z and p under the chosen inference.

    Parameters
    ----------
    table
        Table from :func:`global_moran_panel`.
    variable
        The variable.
    inference
        ``"normality"``, ``"randomisation"`` or ``"permutation"``.

    Returns
    -------
    pandas.DataFrame
        ``Year, Moran's I, E(I), sd(I), z, p-value``.

    Raises
    ------
    ConfigError
        An unknown ``inference``.
    DataError
        No Moran's I of ``variable`` in ``table``.
    """
    if inference not in _INFERENCE_COLUMNS:
        raise ConfigError(f"inference {inference!r} is not one of {tuple(_INFERENCE_COLUMNS)}")
    rows = table[table["variable"] == variable]
    if rows.empty:
        raise DataError(f"no Moran's I computed for variable {variable!r}")
    expectation, sd, z, p = _INFERENCE_COLUMNS[inference]
    return pd.DataFrame(
        {
            "Year": rows[PERIOD].astype(int).to_numpy(),
            "Moran's I": [
                estimate_with_stars(value, pv, 4)
                for value, pv in zip(rows["I"], rows[p], strict=True)
            ],
            "E(I)": rows[expectation].to_numpy(),
            "sd(I)": rows[sd].to_numpy(),
            "z": rows[z].to_numpy(),
            "p-value": rows[p].to_numpy(),
        }
    )
