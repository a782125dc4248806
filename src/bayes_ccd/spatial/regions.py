"""Regional sub-samples of a spatial panel.

W is cut to each region and re-standardised; units without a neighbour inside their
region are dropped or kept (the seed paper's Table 8 fits the east, central and west
regions separately).
"""

from __future__ import annotations

import warnings
from typing import Literal, NamedTuple

import pandas as pd

from bayes_ccd.data.panel import Panel
from bayes_ccd.data.regions import regions_for
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import (
    WeightsWarning,
    warn,
)
from bayes_ccd.spatial.arrays import PanelArrays
from bayes_ccd.spatial.design import ModelSpec, as_arrays

Islands = Literal["drop", "keep"]


def regional_weights(
    weights: SpatialWeights, units: list[str], region: str, islands: Islands = "drop"
) -> tuple[SpatialWeights, list[str], list[str]]:
    """``W`` cut to a region's units and re-standardised.

    Units left without a neighbour inside the region are dropped (``islands="drop"``;
    a zero row would break the row-stochastic ``W`` that time effects need) or kept.

    Returns
    -------
    weights, dropped, notes
        The regional weights, the dropped units and messages about islands and
        disconnected components (each also issued as a :class:`WeightsWarning`).
    """
    notes: list[str] = []
    with warnings.catch_warnings():
        # The generic subset warnings are replaced by region-specific messages below.
        warnings.simplefilter("ignore", WeightsWarning)
        sub = weights.subset(units)
        dropped = list(sub.islands) if islands == "drop" else []
        if dropped:
            sub = weights.subset([u for u in units if u not in dropped])
    if dropped:
        notes.append(
            f"region {region}: unit(s) {dropped} have no neighbour inside the region "
            "and were dropped from the regional model"
        )
    elif sub.islands:
        notes.append(
            f"region {region}: unit(s) {list(sub.islands)} have no neighbour inside "
            "the region; their spatial lags are zero"
        )
    if sub.n_components > 1 + len(sub.islands):
        notes.append(
            f"region {region}: the neighbour graph has {sub.n_components} disconnected "
            "components; spillovers cannot cross between them"
        )
    for note in notes:
        warn(note, WeightsWarning)
    return sub, dropped, notes


class Sample(NamedTuple):
    """One sample of a national or regional fit.

    Its data, its weights (cut to the region and re-standardised), the units dropped
    and the notes about its weights.
    """

    data: PanelArrays
    weights: SpatialWeights
    dropped: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def regional_samples(
    data: Panel | PanelArrays,
    weights: SpatialWeights,
    regions: pd.Series,
    spec: ModelSpec,
    islands: Islands = "drop",
) -> dict[str, Sample]:
    """Return each region's sub-sample, in order of first appearance.

    Each sub-sample has ``W`` cut to the region by :func:`regional_weights` (which warns
    about islands and components).

    Raises
    ------
    DataError
        A unit has no region (:func:`bayes_ccd.data.regions.regions_for`).
    """
    arrays = as_arrays(data, spec)
    membership = regions_for(arrays.units, regions, source=arrays.source)
    _, time = spec.treatments()
    # Time effects need 3 units; any spatial model needs a pair of neighbours.
    needed = 3 if time != "none" else 2
    samples = {}
    for region in dict.fromkeys(membership):
        units = membership.index[membership == region].tolist()
        if len(units) < needed:
            warn(
                f"region {region}: {len(units)} unit(s) {units}; a regional model needs at "
                f"least {needed}, so the region is skipped and the others are fitted",
                WeightsWarning,
            )
            continue
        sub, dropped, notes = regional_weights(weights, units, region, islands)
        if sub.n < needed:
            warn(
                f"region {region}: {sub.n} unit(s) left with a neighbour inside the region "
                f"(dropped {dropped}); a regional model needs at least {needed}, so the "
                "region is skipped and the others are fitted",
                WeightsWarning,
            )
            continue
        samples[region] = Sample(arrays.subset(list(sub.units)), sub, tuple(dropped), tuple(notes))
    return samples
