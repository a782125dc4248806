"""Typed settings of every stage: the single source of defaults and validation."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Final, Literal

from bayes_ccd.conventions import DEFAULT_SEED
from bayes_ccd.exceptions import ConfigError

Sampler = Literal["exact", "nuts"]
SAMPLERS: Final = ("exact", "nuts")
#: Points of the fine grid over the marginal posterior of the spatial parameter.
GRID_SIZE: Final = 2049
#: Default number of posterior draws used for the posterior predictive check.
PPC_DRAWS: Final = 200


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample.

    Parameters
    ----------
    sampler
        ``"exact"`` (conjugate priors only) or ``"nuts"``.
    draws, chains
        Draws per chain and number of chains (independent chains for ``"exact"``).
    tune
        NUTS warm-up draws per chain.
    seed
        Seed of every random step of the fit.
    target_accept
        NUTS target acceptance rate (raise it, e.g. to 0.95, after divergences).
    grid_size
        Points of the fine grid of the exact sampler.
    ppc_draws
        Posterior draws used for the posterior predictive check (0: none).
    """

    sampler: Sampler = "exact"
    draws: int = 2000
    tune: int = 1000
    chains: int = 4
    seed: int = DEFAULT_SEED
    target_accept: float = 0.8
    grid_size: int = GRID_SIZE
    ppc_draws: int = PPC_DRAWS

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"unknown sampler {self.sampler!r}; use one of {list(SAMPLERS)}")
        for name, minimum in (("draws", 1), ("chains", 1), ("tune", 0), ("ppc_draws", 0)):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value < minimum:
                raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
        if not 0.0 < self.target_accept < 1.0:
            raise ConfigError(f"target_accept must be in (0, 1), got {self.target_accept}")
        if self.grid_size < 65:
            raise ConfigError(f"grid_size must be at least 65, got {self.grid_size}")
