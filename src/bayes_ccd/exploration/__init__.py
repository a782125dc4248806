"""Spatio-temporal exploration: kernel density evolution, global and local Moran's I, maps.

Modules: :mod:`~bayes_ccd.exploration.stage` (:func:`~bayes_ccd.exploration.stage.explore`, the
whole stage, and :func:`~bayes_ccd.exploration.stage.read_ccd`),
:mod:`~bayes_ccd.exploration.result` (:class:`~bayes_ccd.exploration.result.ExplorationResult`:
tables, figures on demand, summary, writer), :mod:`~bayes_ccd.exploration.density` (kernel
densities), :mod:`~bayes_ccd.exploration.moran` (Moran's I by esda) and
:mod:`~bayes_ccd.exploration.maps` (tile grid and boundary choropleths).

Nothing is imported here, so that importing one module (e.g. ``moran``) does not pull in
the others, and the name ``explore`` stays this package, not the function.
"""
