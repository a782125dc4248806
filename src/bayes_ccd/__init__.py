"""bayes_ccd: coupling coordination of two subsystems across regions and years.

Sub-packages follow the stages of the analysis (see ARCHITECTURE.md): ``data`` (panels,
weights, regions, the synthetic demo data), ``indices`` (entropy weights, coupling
coordination), ``explore`` (kernel densities, Moran's I, maps), ``spatial`` (spatial
panels by maximum likelihood and Bayes, effects, tests, diagnostics, comparison),
``dea`` (data envelopment analysis), ``qca`` (fsQCA), ``report`` (tables, figures,
outputs), ``pipeline`` and ``cli`` (the whole run and the ``bayes-ccd`` command).
"""

from __future__ import annotations

import importlib.metadata

try:
    __version__ = importlib.metadata.version("bayes-ccd")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
