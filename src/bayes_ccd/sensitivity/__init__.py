"""Robustness checks: the Bayesian spatial panel refitted over variations of its specification.

Specifications (weights, prior, errors, fixed effects, model, sample, coupling formula,
entropy weighting) are configurations with stable ids, fitted as Dask tasks and kept in
a resumable store; the result is one tidy table, forest figures and a stability summary.
"""
