"""Effects by region of a spatial Durbin model whose coefficients vary by region.

With coefficients ``beta_{k,r}`` and ``theta_{k,r}`` of covariate ``k`` in region ``r``
and ``r(i)`` the region of unit ``i``, the reduced form of the hierarchical SDM
(:mod:`bayes_ccd.spatial.bayes.hierarchical`) gives the ``N x N`` effect matrix

    S_k = (I - rho W)^{-1} (diag(beta_{k,r(i)}) + W diag(theta_{k,r(i)})),

``S_k[i, j] = dE[y_i]/dx_{jk}``: the lagged covariate ``theta_{k,r(j)} x_{jk}`` belongs to
the unit ``j`` that sends it. With one region it is LeSage & Pace's (2009, ch. 2)
``S_k(W)`` of :mod:`bayes_ccd.spatial.effects`. For the ``n_q`` units of region ``q``
(sets ``Q``, ``R``; every sum over the units in those sets) the summaries are

    direct                = (1/n_q) sum_{i in Q} S_ii
    indirect_received     = (1/n_q) sum_{i in Q} sum_{j != i} S_ij  (spillovers that the
                            units of q receive from a change of x everywhere else)
    indirect_sent         = (1/n_q) sum_{j in Q} sum_{i != j} S_ij  (spillovers that a
                            change of x in the units of q sends everywhere else)
    cross_border_received = (1/n_q) sum_{i in Q} sum_{j not in Q} S_ij
    cross_border_sent     = (1/n_q) sum_{j in Q} sum_{i not in Q} S_ij
    total                 = direct + indirect_received  (mean row sum over Q)

The national rows are LeSage-Pace's averages over all ``N`` units (``(1/N) tr S_k``,
``(1/N) 1'S_k 1``); received and sent spillovers then coincide.

Computation. Column ``j`` of ``S_k`` is ``beta_{k,r(j)}`` times column ``j`` of ``A =
(I - rho W)^{-1}`` plus ``theta_{k,r(j)}`` times that of ``A W``. With the
eigen-decomposition ``W = V diag(lambda) V^{-1}``, computed once, ``f(W) = V diag(f(lambda))
V^{-1}`` for ``f(l) = 1/(1 - rho l)`` (``A``) and ``l/(1 - rho l)`` (``A W``), so the block
sums and the diagonal sums of any region are

    sum_{i in Q, j in R} f(W)_ij = sum_m (1_Q' V)_m (V^{-1} 1_R)_m f(lambda_m)
    sum_{i in Q} f(W)_ii         = sum_m (sum_{i in Q} V_im V^{-1}_mi) f(lambda_m):

weights of the eigenvalues that depend on ``W`` and the regions alone, so the effects of
``D`` draws cost ``O(D N G^2)`` for ``G`` regions and never an ``N x N`` inverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from bayes_ccd.exceptions import NumericalWarning, warn

#: The regional effects, in reporting order (see the module docstring).
REGIONAL_EFFECT_KINDS: Final = (
    "direct",
    "indirect_received",
    "indirect_sent",
    "cross_border_received",
    "cross_border_sent",
    "total",
)
#: What each regional effect is, for table notes.
REGIONAL_EFFECT_NOTES: Final = {
    "direct": "mean over the region's units of dE[y_i]/dx_i (feedback included)",
    "indirect_received": "mean over the region's units of the effect on y_i of x changing "
    "in every other unit (the national model's indirect effect, by region)",
    "indirect_sent": "mean over the region's units of the effect of x_j on y in every other unit",
    "cross_border_received": "the part of indirect_received that comes from units of other regions",
    "cross_border_sent": "the part of indirect_sent that reaches units of other regions",
    "total": "direct + indirect_received (mean row sum of S_k over the region's units)",
}
#: Draws of the eigenvalue functions held at once (bounds memory for large N).
_CHUNK_ELEMENTS: Final = 2**21
#: Imaginary parts below this are rounding noise.
_IMAG_TOL: Final = 1e-9


@dataclass(frozen=True, eq=False)
class RegionalSpectrum:
    """What the regional effects need of ``W`` and the regions (see the module docstring).

    Attributes
    ----------
    eigenvalues
        ``(N,)`` eigenvalues ``lambda_m`` of ``W``.
    block_weights
        ``(G, G, N)``: ``(1_Q' V)_m (V^{-1} 1_R)_m`` for regions ``Q`` (rows), ``R``.
    diagonal_weights
        ``(G, N)``: ``sum_{i in Q} V_im V^{-1}_mi``.
    sizes
        ``(G,)`` numbers of units ``n_q``.
    """

    eigenvalues: np.ndarray
    block_weights: np.ndarray
    diagonal_weights: np.ndarray
    sizes: np.ndarray

    @property
    def n_regions(self) -> int:
        """Number of regions ``G``."""
        return self.sizes.shape[0]


def regional_spectrum(W: np.ndarray, codes: Sequence[int]) -> RegionalSpectrum:
    """Compute the :class:`RegionalSpectrum` of a dense ``W`` and region codes, once.

    Parameters
    ----------
    W
        ``(N, N)`` weights matrix.
    codes
        ``(N,)`` region of every unit as an integer ``0..G-1`` (every region present).

    Warns
    -----
    NumericalWarning
        ``W``'s eigenvector matrix is ill-conditioned (nearly defective).
    """
    W = np.asarray(W, dtype=float)
    codes = np.asarray(codes, dtype=int)
    n_regions = int(codes.max()) + 1
    values, vectors = np.linalg.eig(W)
    condition = np.linalg.cond(vectors)
    if condition > 1e10:
        warn(
            f"W is nearly defective (eigenvector condition number {condition:.2g}); "
            "regional effects from its eigen-decomposition are inaccurate",
            NumericalWarning,
        )
    inverse = np.linalg.inv(vectors)
    membership = np.zeros((W.shape[0], n_regions))
    membership[np.arange(W.shape[0]), codes] = 1.0
    left = membership.T @ vectors  # (G, N): 1_Q' V
    right = inverse @ membership  # (N, G): V^{-1} 1_R
    blocks = left[:, None, :] * right.T[None, :, :]
    diagonal = membership.T @ (vectors * inverse.T)
    if all(
        np.all(np.abs(a.imag) < _IMAG_TOL * max(1.0, np.abs(a).max()))
        for a in (values, blocks, diagonal)
    ):
        values, blocks, diagonal = values.real, blocks.real, diagonal.real
    return RegionalSpectrum(values, blocks, diagonal, membership.sum(axis=0))


def regional_effects(
    rho: np.ndarray,
    beta: np.ndarray,
    theta: np.ndarray | None,
    spec: RegionalSpectrum,
) -> tuple[np.ndarray, np.ndarray]:
    """Regional and national effects of every draw (see the module docstring).

    Parameters
    ----------
    rho
        ``(...)`` draws of the spatial parameter (zeros for error models).
    beta, theta
        ``(..., K, G)`` coefficients of the covariates and of their lags by region;
        ``theta=None`` for models without ``W X`` (SAR).
    spec
        :func:`regional_spectrum` of ``W`` and the regions.

    Returns
    -------
    regional, national
        ``(..., G, 6, K)`` effects in the order of :data:`REGIONAL_EFFECT_KINDS`, and
        ``(..., 3, K)`` national direct, indirect and total effects.
    """
    rho = np.asarray(rho, dtype=float)
    beta = np.asarray(beta, dtype=float)
    theta = np.zeros_like(beta) if theta is None else np.asarray(theta, dtype=float)
    lead = rho.shape
    flat_rho = rho.reshape(-1)
    b = beta.reshape(flat_rho.size, *beta.shape[-2:])
    t = theta.reshape(flat_rho.size, *theta.shape[-2:])
    g, n = spec.n_regions, spec.eigenvalues.shape[0]
    blocks_a = np.empty((flat_rho.size, g, g))
    blocks_aw = np.empty_like(blocks_a)
    diag_a = np.empty((flat_rho.size, g))
    diag_aw = np.empty_like(diag_a)
    block_weights = spec.block_weights.reshape(g * g, n).T
    chunk = max(1, _CHUNK_ELEMENTS // n)
    for start in range(0, flat_rho.size, chunk):
        part = slice(start, start + chunk)
        inverse = 1.0 / (1.0 - flat_rho[part, None] * spec.eigenvalues)
        lagged = inverse * spec.eigenvalues
        blocks_a[part] = (inverse @ block_weights).real.reshape(-1, g, g)
        blocks_aw[part] = (lagged @ block_weights).real.reshape(-1, g, g)
        diag_a[part] = (inverse @ spec.diagonal_weights.T).real
        diag_aw[part] = (lagged @ spec.diagonal_weights.T).real
    # sum_{i in Q, j in R} S_ij for covariate k: (D, K, Q, R); columns scale by region R.
    block = blocks_a[:, None] * b[:, :, None, :] + blocks_aw[:, None] * t[:, :, None, :]
    diagonal = diag_a[:, None] * b + diag_aw[:, None] * t  # (D, K, G)
    own = np.diagonal(block, axis1=2, axis2=3)  # (D, K, G): within-region blocks
    received = block.sum(axis=3)
    sent = block.sum(axis=2)
    sizes = spec.sizes
    regional = (
        np.stack(
            [
                diagonal,
                received - diagonal,
                sent - diagonal,
                received - own,
                sent - own,
                received,
            ],
            axis=-1,
        )
        / sizes[:, None]
    )  # (D, K, G, 6)
    direct = diagonal.sum(axis=-1) / sizes.sum()
    total = received.sum(axis=-1) / sizes.sum()
    national = np.stack([direct, total - direct, total], axis=1)  # (D, 3, K)
    regional = np.moveaxis(regional, 1, -1)  # (D, G, 6, K)
    return (
        regional.reshape(*lead, *regional.shape[1:]),
        national.reshape(*lead, *national.shape[1:]),
    )
