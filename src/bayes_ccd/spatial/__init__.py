"""Fixed-effects spatial panels: the design, maximum likelihood, Bayesian models,
effects, specification tests, diagnostics and comparison.
"""
