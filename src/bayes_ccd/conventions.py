"""Package-wide conventions: dimension names, the interval probability, default seed.

Everything that more than one stage of the analysis agrees on lives here, once.
"""

from __future__ import annotations

from typing import Final

#: Named dimensions used in xarray objects, PyMC models and long tables.
UNIT: Final = "unit"
PERIOD: Final = "period"
REGION: Final = "region"
COVARIATE: Final = "covariate"
EFFECT: Final = "effect"
TERM: Final = "term"
#: A coefficient of the national design pooled across regions (the national means
#: ``mu`` and between-region scales ``tau`` of the hierarchical model).
COEFFICIENT: Final = "coefficient"
#: The effects by region of a model whose coefficients vary by region (direct, received
#: and sent spillovers, their cross-border parts, total).
REGIONAL_EFFECT: Final = "regional_effect"

#: The three effects of the LeSage-Pace decomposition, in reporting order.
EFFECT_KINDS: Final = ("direct", "indirect", "total")

#: Probability of every reported interval (posterior central interval, HDI, confidence
#: interval). ArviZ 1.x defaults to 0.89 equal-tailed intervals; bayes_ccd always passes
#: this value explicitly so that MLE and posterior intervals are comparable.
INTERVAL_PROB: Final = 0.95

#: Seed used when the configuration gives none. Every random step takes a seed.
DEFAULT_SEED: Final = 20240601

#: The label of the whole sample in tables with a region column.
NATIONAL: Final = "national"

#: Significance stars used in paper-style tables: p < 0.01 ***, p < 0.05 **, p < 0.1 *.
STAR_LEVELS: Final = ((0.01, "***"), (0.05, "**"), (0.10, "*"))
