"""Fixed-effects spatial panels.

The design, maximum likelihood, Bayesian models, effects, specification tests,
diagnostics and comparison.
"""
