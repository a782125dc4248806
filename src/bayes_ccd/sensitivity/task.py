"""One robustness specification fitted: the task a Dask worker runs.

:func:`fit_specification` takes a whole run configuration (picklable, self-contained),
runs the coupling stage and the Bayesian fit of the whole sample exactly as ``bayes-ccd
run`` would (:func:`bayes_ccd.pipeline.prepare`), and returns plain data: the effects
table, the spatial parameter, the convergence verdict and every warning raised on the
way. A specification that fails returns its reason instead of raising, so the others
complete.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from bayes_ccd.conventions import NATIONAL
from bayes_ccd.exceptions import BayesCCDError

if TYPE_CHECKING:
    from bayes_ccd.run_config import RunConfig


@dataclass
class Outcome:
    """What one specification's fit produced (or why it failed).

    Attributes
    ----------
    status
        ``"ok"`` or ``"failed"``.
    effects
        The fit's :meth:`~bayes_ccd.spatial.bayes.fit.PosteriorFit.effects` table.
    facts
        Spatial parameter (name, mean, sd, interval), verdict, divergences, sampler, N, T.
    notes
        Warnings raised while fitting (e.g. rho near its bound), and the failure reason.
    seconds
        Wall time of the fit.
    """

    status: str
    effects: pd.DataFrame | None = None
    facts: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def fit_specification(config: RunConfig) -> Outcome:
    """Fit the Bayesian spatial panel of one specification's run configuration.

    The whole sample, and each region's when ``[regression] by_region`` is on.

    The seed is the run's (``[run] seed``), so a specification refitted anywhere, by
    ``bayes-ccd robustness`` or by a separate ``fit`` with the same settings, gives the
    same draws.
    """
    from bayes_ccd.pipeline import prepare

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            prepared = prepare(config)
            fits = prepared.model.fit(
                "bayes",
                by_region=prepared.by_region,
                seed=config.run.seed,
                settings=config.bayes,
            )
            samples = {label: fits[label] for label in fits} if prepared.by_region else {}
            samples = samples or {NATIONAL: fits}
            effects = pd.concat(
                [
                    fit.effects().assign(sample=label, converged=fit.diagnostics().converged)
                    for label, fit in samples.items()
                ],
                ignore_index=True,
            )
            fit = samples[NATIONAL]
            diagnosis = fit.diagnostics()
            name = fit.spatial_parameter
            spatial = fit.coefficients().set_index("term").loc[name]
        except BayesCCDError as error:
            return Outcome("failed", notes=[str(error)], seconds=time.perf_counter() - start)
        except Exception as error:  # a defect, reported with its place, not a lost run
            where = traceback.extract_tb(error.__traceback__)[-1]
            reason = f"{type(error).__name__}: {error} ({where.filename}:{where.lineno})"
            return Outcome("failed", notes=[reason], seconds=time.perf_counter() - start)
    info = fit.design.facts()
    unconverged = [label for label, f in samples.items() if not f.diagnostics().converged]
    facts: dict[str, object] = {
        "spatial_parameter": name,
        "spatial_mean": float(spatial["mean"]),
        "spatial_sd": float(spatial["sd"]),
        "spatial_lower": float(spatial["lower"]),
        "spatial_upper": float(spatial["upper"]),
        "converged": not unconverged,
        "verdict": "converged" if not unconverged else f"not converged: {', '.join(unconverged)}",
        "divergences": None if diagnosis.divergences is None else int(diagnosis.divergences),
        "sampler": config.bayes.sampler,
        "N": int(info["N"]),
        "T": int(info["T"]),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    return Outcome("ok", effects, facts, notes, time.perf_counter() - start)
