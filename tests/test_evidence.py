"""Log marginal likelihoods against a brute-force integral over every parameter.

The brute force integrates likelihood x prior over ``(rho, log sigma, beta)`` by a
tensor Gauss-Legendre rule; the likelihood is written out from the transformed
observations with a dense log-determinant, and the prior from its documented definition
(scipy densities), so that nothing of the closed form is reused.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

import bayes_ccd as bc
from bayes_ccd.spatial.bayes.evidence import (
    check_evidence_comparable,
    log_marginal_likelihood,
    model_probabilities,
)
from bayes_ccd.spatial.bayes.priors import DEFAULT_PRIOR, REFERENCE_PRIOR
from bayes_ccd.spatial.design import ModelSpec, build_design

N, T = 8, 3
#: Gauss-Legendre nodes per dimension of the brute force.
NODES = 48


def ring_weights(n: int) -> bc.SpatialWeights:
    """A ring with one chord: every unit has two or three neighbours."""
    A = np.zeros((n, n))
    for i in range(n):
        A[i, (i + 1) % n] = A[(i + 1) % n, i] = 1.0
    A[0, n // 2] = A[n // 2, 0] = 1.0
    return bc.weights_from_array(A, [f"u{i}" for i in range(n)])


@pytest.fixture(scope="module")
def problem():
    weights = ring_weights(N)
    data = bc.simulate_panel(
        weights, n_periods=T, beta=[0.8], theta=[0.4], spatial=0.3, sigma2=0.5, seed=7
    )
    return data, weights


def brute_force_log_evidence(design, prior, *, slx: bool = False) -> float:
    """``log int p(y | rho, beta, sigma) p(rho, beta, sigma)`` by tensor Gauss-Legendre."""
    o = design.orthonormal()
    n, k = design.n_effective, design.n_coefficients
    lo, hi = design.rho_bounds
    s = np.sqrt(np.sum(o.X**2, axis=0) / n)
    s_y2 = float(np.sum(o.y**2) / n)
    reference = prior.name == "reference"
    # Limits around a least-squares fit at rho = 0, wide enough that the integrand is
    # negligible beyond them (48 nodes: the rule has converged to 1e-8 on this problem).
    b0, *_ = np.linalg.lstsq(o.X, o.y, rcond=None)
    resid = o.y - o.X @ b0
    log_s0 = 0.5 * math.log(resid @ resid / (n - k))
    se = np.sqrt(np.diag(np.linalg.inv(o.X.T @ o.X)) * math.exp(2 * log_s0))
    nodes, weights = np.polynomial.legendre.leggauss(NODES)

    def rule(left, right):
        half = 0.5 * (right - left)
        return left + half * (nodes + 1.0), half * weights

    rho_nodes, rho_weights = (np.zeros(1), np.ones(1)) if slx else rule(lo + 1e-9, hi - 1e-9)
    axes = [rule(log_s0 - 2.5, log_s0 + 2.0)]
    axes += [rule(b - 14 * e, b + 14 * e) for b, e in zip(b0, se, strict=True)]
    points = np.meshgrid(*[a[0] for a in axes], indexing="ij")
    wts = np.prod(np.meshgrid(*[a[1] for a in axes], indexing="ij"), axis=0).ravel()
    log_sigma = points[0].ravel()
    beta = np.stack([p.ravel() for p in points[1:]], axis=-1)
    sigma2 = np.exp(2 * log_sigma)
    if reference:
        log_prior = np.full(log_sigma.shape, math.log(2.0))
    else:
        c = s**2 / 2.5**2
        log_prior = (
            np.sum(stats.norm.logpdf(beta, 0.0, np.sqrt(sigma2[:, None] / c)), axis=1)
            + stats.invgamma.logpdf(sigma2, 1.0, scale=s_y2)
            + np.log(2 * sigma2)
        )
    eye = np.eye(design.n_units)
    terms = []
    for rho, rho_weight in zip(rho_nodes, rho_weights, strict=True):
        jac = design.jacobian_scale * (
            np.linalg.slogdet(eye - rho * design.W)[1] - math.log(1.0 - rho)
        )
        if design.spec.is_lag:
            e = o.y - rho * o.wy - beta @ o.X.T
        else:
            e = o.y - rho * o.wy - beta @ (o.X - rho * o.WX).T
        log_lik = jac - 0.5 * n * np.log(2 * math.pi * sigma2) - 0.5 * np.sum(e**2, 1) / sigma2
        if slx:
            log_rho = 0.0
        elif reference:
            log_rho = -math.log(hi - lo)
        else:
            log_rho = stats.beta.logpdf((rho - lo) / (hi - lo), 1.01, 1.01) - math.log(hi - lo)
        terms.append(special.logsumexp(log_lik + log_prior, b=wts) + log_rho + math.log(rho_weight))
    return float(special.logsumexp(terms))


@pytest.mark.parametrize("model", ["sar", "sem", "sdm", "sdem", "slx"])
@pytest.mark.parametrize("prior", [DEFAULT_PRIOR, REFERENCE_PRIOR], ids=["default", "reference"])
def test_log_marginal_likelihood_equals_brute_force_integral(problem, model, prior):
    data, weights = problem
    slx = model == "slx"
    design = build_design(data, weights, ModelSpec(model="sdm" if slx else model, fe="both"))
    evidence = log_marginal_likelihood(design, prior, slx=slx)
    brute = brute_force_log_evidence(design, prior, slx=slx)
    assert evidence.log_marginal_likelihood == pytest.approx(brute, abs=1e-3)
    assert evidence.quadrature_error < 1e-4
    assert evidence.model == model


def test_models_of_different_dimension_are_refused_under_the_flat_prior(problem):
    data, weights = problem

    def evidence(model, prior):
        design = build_design(data, weights, ModelSpec(model=model, fe="both"))
        return log_marginal_likelihood(design, prior)

    flat = [evidence("sdm", REFERENCE_PRIOR), evidence("sar", REFERENCE_PRIOR)]
    with pytest.raises(bc.SpecificationError, match="different numbers of flat"):
        check_evidence_comparable(flat)
    # Same dimension stays comparable under the flat prior, any dimension under a proper one.
    check_evidence_comparable([evidence("sdm", REFERENCE_PRIOR), evidence("sdem", REFERENCE_PRIOR)])
    check_evidence_comparable([evidence("sdm", DEFAULT_PRIOR), evidence("sar", DEFAULT_PRIOR)])


def test_model_probabilities_by_hand():
    # Log evidences log 1, log 3 with equal weights: probabilities 1/4 and 3/4; with
    # weights (3, 1): 3 x 1 and 1 x 3, so 1/2 each.
    logs = [0.0, math.log(3.0)]
    np.testing.assert_allclose(model_probabilities(logs), [0.25, 0.75])
    np.testing.assert_allclose(model_probabilities(logs, [3, 1]), [0.5, 0.5])
    with pytest.raises(bc.SpecificationError, match="non-negative"):
        model_probabilities(logs, [-1, 2])
    with pytest.raises(bc.SpecificationError, match="2 models"):
        model_probabilities(logs, [1, 1, 1])
