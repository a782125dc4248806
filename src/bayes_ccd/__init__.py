"""bayes_ccd: coupling coordination of two subsystems across regions and years.

The stages of the analysis, each a module (see ARCHITECTURE.md):

- :mod:`bayes_ccd.config` - TOML configuration, defaults merged in one place
- :mod:`bayes_ccd.panel` - the data contract: loading and validating a long panel
- :mod:`bayes_ccd.demo_data` - the seeded generator of the bundled *synthetic* panel
- :mod:`bayes_ccd.weights` - spatial weights (libpysal), contiguity of the provinces
- :mod:`bayes_ccd.entropy` - entropy weight method and composite indices U1, U2
- :mod:`bayes_ccd.coupling` - coupling coordination degree D and its classification
- :mod:`bayes_ccd.density`, :mod:`bayes_ccd.autocorrelation`, :mod:`bayes_ccd.maps`,
  :mod:`bayes_ccd.exploration` - kernel density evolution, Moran's I, maps
- :mod:`bayes_ccd.spatial_panel`, :mod:`bayes_ccd.ml`, :mod:`bayes_ccd.effects`,
  :mod:`bayes_ccd.specification` - maximum-likelihood spatial panel models
- :mod:`bayes_ccd.bayes`, :mod:`bayes_ccd.diagnostics`, :mod:`bayes_ccd.comparison` -
  the Bayesian spatial panel models, their diagnostics and comparison with the MLE
- :mod:`bayes_ccd.efficiency` - data envelopment analysis
- :mod:`bayes_ccd.calibration`, :mod:`bayes_ccd.configurations` - fuzzy-set qualitative
  comparative analysis: calibration, necessity, truth table, Boolean minimisation
- :mod:`bayes_ccd.reports` - CSV, Markdown and LaTeX tables; atomic output directories
- :mod:`bayes_ccd.pipeline`, :mod:`bayes_ccd.cli` - the whole run and the ``bayes-ccd``
  command
"""

from __future__ import annotations

import importlib.metadata

try:
    __version__ = importlib.metadata.version("bayes-ccd")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
