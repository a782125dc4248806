"""The written-out density compiled to machine code by numba, for W's eigenvalues.

:class:`~bayes_ccd.spatial.bayes.density.PosteriorDensity` is NumPy called from nutpie's
Rust sampler through Python, about 50 microseconds per gradient, most of it call
overhead: 4-5 s of a default NUTS run (4 chains, 3000 iterations). When the
log-determinant is the eigenvalue sum ``sum_i log|1 - rho lambda_i|`` (N up to
:data:`~bayes_ccd.data.weights.DENSE_SPECTRUM_LIMIT`), the whole density is a loop over
a few arrays, so it is written once more here as a numba C callback that nutpie calls
without Python: a fraction of a microsecond per gradient. numba caches the machine
code on disk (``cache=True``), so only the first process ever compiles it (a few
seconds). The tests hold it to the NumPy density and PyMC's model.

The data are one float64 array: a header (:data:`_HEADER` numbers, see
:func:`packed_data`), then the prior means and precisions, the cross-products ``G`` and
the real and imaginary parts of the eigenvalues.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

import numba
import numpy as np
from numba import types
from nutpie import _lib
from nutpie.sample import CompiledModel

from bayes_ccd.spatial.bayes.density import _Z_MAX, PosteriorDensity, jittered_start

#: Length of the header of :func:`packed_data`.
_HEADER: Final = 12

_POINTER = types.CPointer(types.double)
# nutpie's C interface: (dim, x, gradient out, logp out, user data) -> status, and
# (dim, expanded dim, x, expanded out, user data) -> status; 0 is success.
_LOGP_SIGNATURE = types.int64(types.uint64, _POINTER, _POINTER, _POINTER, _POINTER)
_EXPAND_SIGNATURE = types.int64(types.uint64, types.uint64, _POINTER, _POINTER, _POINTER)


def packed_data(density: PosteriorDensity) -> np.ndarray:
    """Return the float64 array the callbacks read: header, prior, ``G``, eigenvalues."""
    lam = np.asarray(density.logdet.eigenvalues, dtype=complex)
    header = [
        lam.size,
        density.k,
        density.error_model,
        density.lower,
        density.upper,
        density.jacobian_scale,
        density.sigma_exponent,
        density.sigma_rate,
        density.sigma_quadratic,
        density.spatial_a,
        density.spatial_b,
        2.0 * math.log(density.upper - density.lower),
    ]
    parts = [
        np.asarray(header, dtype=float),
        density.mean,
        density.conditional,
        density.independent,
        density.gram.ravel(),
        lam.real,
        lam.imag,
    ]
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float64)


@numba.cfunc(_LOGP_SIGNATURE, cache=True)
def _log_density(dim, x_, gradient_, logp_, data_):
    # The same formula as PosteriorDensity.__call__, in loops.
    header = numba.carray(data_, (_HEADER,))
    n_lam, k = int(header[0]), int(header[1])
    if dim != k + 2:
        return -1
    size = 2 * k + 2
    mean_at = _HEADER
    gram_at = mean_at + 3 * k
    lam_at = gram_at + size * size
    data = numba.carray(data_, (lam_at + 2 * n_lam,))
    x = numba.carray(x_, (dim,))
    gradient = numba.carray(gradient_, (dim,))
    logp = numba.carray(logp_, (1,))
    e, lo, hi = header[2], header[3], header[4]
    z, log_sigma = x[0], x[k + 1]
    if abs(z) > _Z_MAX:
        return 4
    share = 1.0 / (1.0 + math.exp(-z))
    rho = lo + (hi - lo) * share
    below, above = (hi - lo) * share, (hi - lo) * (1.0 - share)
    a = np.zeros(size)
    a[0] = 1.0
    a[1] = -rho
    for j in range(k):
        a[2 + j] = -x[1 + j]
        a[2 + k + j] = e * rho * x[1 + j]
    ga = np.zeros(size)
    quadratic = 0.0
    for i in range(size):
        total = 0.0
        for j in range(size):
            total += data[gram_at + i * size + j] * a[j]
        ga[i] = total
        quadratic += a[i] * total
    inv_s2 = math.exp(-2.0 * log_sigma)
    conditional = independent = 0.0
    for j in range(k):
        dev = x[1 + j] - data[mean_at + j]
        conditional += data[mean_at + k + j] * dev * dev
        independent += data[mean_at + 2 * k + j] * dev * dev
    log_det = d_log_det = 0.0
    for i in range(n_lam):
        re, im = data[lam_at + i], data[lam_at + n_lam + i]
        one = 1.0 - rho * re
        modulus2 = one * one + rho * rho * im * im
        log_det += 0.5 * math.log(modulus2)
        d_log_det += (-one * re + rho * im * im) / modulus2
    jacobian, spatial_a, spatial_b = header[5], header[9], header[10]
    sigma_exponent, sigma_rate, sigma_quadratic = header[6], header[7], header[8]
    spread = quadratic + conditional
    logp[0] = (
        sigma_exponent * log_sigma
        - 0.5 * (spread * inv_s2 + independent)
        - sigma_rate * inv_s2
        - sigma_quadratic / inv_s2
        + jacobian * log_det
        + spatial_a * math.log(below)
        + spatial_b * math.log(above)
        - header[11]
    )
    slope = -ga[1]
    for j in range(k):
        slope += e * ga[2 + k + j] * x[1 + j]
    d_rho = -inv_s2 * slope + jacobian * d_log_det + spatial_a / below - spatial_b / above
    gradient[0] = d_rho * below * above / (hi - lo)
    for j in range(k):
        dev = x[1 + j] - data[mean_at + j]
        precision = inv_s2 * data[mean_at + k + j] + data[mean_at + 2 * k + j]
        gradient[1 + j] = inv_s2 * (ga[2 + j] - e * rho * ga[2 + k + j]) - precision * dev
    gradient[k + 1] = (
        sigma_exponent + (spread + 2.0 * sigma_rate) * inv_s2 - 2.0 * sigma_quadratic / inv_s2
    )
    if not math.isfinite(logp[0]):
        return 4
    for j in range(dim):
        if not math.isfinite(gradient[j]):
            return 3
    return 0


@numba.cfunc(_EXPAND_SIGNATURE, cache=True)
def _expand(dim, expanded, x_, out_, data_):
    header = numba.carray(data_, (_HEADER,))
    if expanded != dim:
        return -1
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (dim,))
    lo, hi = header[3], header[4]
    out[0] = lo + (hi - lo) / (1.0 + math.exp(-x[0]))
    for j in range(1, dim):
        out[j] = x[j]
    return 0


@dataclass(frozen=True)
class EigenDensityModel(CompiledModel):
    """A nutpie model of the compiled density: ``rho`` (or ``lambda``), ``beta``, ``log_sigma``.

    Draws are on the standardised scale, as those of
    :func:`~bayes_ccd.spatial.bayes.nuts.direct_model`; chains start at
    :func:`~bayes_ccd.spatial.bayes.density.jittered_start` from the sampling seed.
    """

    data: np.ndarray = field(repr=False)
    names: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()

    @property
    def n_dim(self) -> int:
        """Number of unconstrained coordinates, ``K + 2``."""
        return len(self.terms) + 2

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the expanded variables."""
        return dict(zip(self.names, [(), (len(self.terms),), ()], strict=True))

    @property
    def coords(self) -> dict[str, Any]:
        """Coordinates of ``beta``."""
        from bayes_ccd.conventions import TERM

        return {TERM: list(self.terms)}

    def _initial_point(self, seed: int) -> np.ndarray:
        return jittered_start(seed, self.n_dim)

    def _make_model(self, init_mean: Any) -> Any:
        address = self.data.ctypes.data
        logp = _lib.LogpFunc(_log_density.address, address, self)
        expand = _lib.ExpandFunc(self.n_dim, self.n_dim, _expand.address, address, self)
        coords = self.coords
        variables = _lib.PyVariable.new_variables(
            list(self.names),
            ["float64"] * 3,
            [(), (len(self.terms),), ()],
            {name: len(values) for name, values in coords.items()},
            self.dims or {},
        )
        return _lib.PyMcModel(
            logp,
            expand,
            variables,
            self.n_dim,
            {name: len(values) for name, values in coords.items()},
            coords,
            self._initial_point,
            None,
        )

    def _make_sampler(self, settings, init_mean, cores, progress_type, *rest) -> Any:
        model = self._make_model(init_mean)
        return _lib.PySampler.from_pymc(settings, cores, model, progress_type, *rest)


def eigen_density_model(density: PosteriorDensity, spatial_name: str) -> EigenDensityModel:
    """Return the nutpie model of ``density`` compiled by numba (eigenvalue log-determinants)."""
    from bayes_ccd.conventions import TERM

    return EigenDensityModel(
        dims={"beta": (TERM,)},
        data=packed_data(density),
        names=(spatial_name, "beta", "log_sigma"),
        terms=tuple(density.names),
    )
