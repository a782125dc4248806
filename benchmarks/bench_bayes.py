"""Benchmark of the Bayesian spatial panels: the exact sampler and NUTS (nutpie).

Cases: the national SDM of the bundled (synthetic) demo, D on the six factors with
two-way fixed effects (N = 31, T = 12, K = 12), fitted nationally and for the east,
central and west regions; and simulated two-way SDMs with two covariates (K = 4), T = 12
and N = 31 (provinces), 300 and 3000 (rook lattices). Settings are those of a run,
the defaults of ``[bayes]`` (:class:`bayes_ccd.BayesSettings`: 4 chains of 2000 draws,
1000 warm-up draws for NUTS), default prior, no posterior predictive check.

First, the demo's national and three regional models in one call of
``SpatialPanel.fit(method="bayes", by_region=True)`` per sampler, as ``bayes-ccd run``
does: wall
time (design, sampling, effects, diagnostics, tables; NUTS includes the one compilation
shared by the four samples) and sampling seconds per sample. Then, for every case, the
seconds of

- ``eig``: the eigenvalues of W (computed once per W, shared with the MLE);
- ``exact``: the exact sampler's whole fit from the design (grid, draws, effects,
  diagnostics), first and repeated call;
- ``compile``: nutpie's compilation (numba), on first use of a model shape in this
  process (0: re-used); nutpie's compiled callbacks are not cached across processes;
- ``nuts``: NUTS sampling alone;

the bulk ESS per second of ``rho`` and of the total effects (the smallest over the
covariates) for each sampler, and the peak memory: ``tracemalloc`` (numpy included) and
the process's maximum resident size (nutpie's Rust allocations are only in the latter).

Run: ``.venv/bin/python benchmarks/bench_bayes.py [--sizes 31,300,3000]
[--skip-nuts-above N]``. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from collections.abc import Callable
from typing import Any

from _common import measured, weights_for

import bayes_ccd as bc
from bayes_ccd.conventions import NATIONAL
from bayes_ccd.exceptions import WeightsWarning
from bayes_ccd.settings import BayesSettings
from bayes_ccd.spatial.bayes.estimator import SpatialPanelBayes
from bayes_ccd.spatial.bayes.nuts import compiled_model
from bayes_ccd.spatial.bayes.priors import prior_parameters
from bayes_ccd.spatial.design import ModelSpec, build_design

N_PERIODS = 12
SETTINGS = {k: bc.BayesSettings.default(k) for k in ("draws", "tune", "chains")}
HEADER = (
    "case",
    "N",
    "K",
    "eig s",
    "exact s 1st/rep",
    "compile s",
    "nuts s",
    "ESS/s rho ex",
    "ESS/s tot ex",
    "ESS/s rho nuts",
    "ESS/s tot nuts",
    "peak MiB",
    "maxrss MiB",
)
ROW = "{:<14} {:>5} {:>3} {:>7} {:>15} {:>10} {:>7} {:>13} {:>13} {:>15} {:>15} {:>9} {:>11}"


def demo_case() -> tuple[bc.SpatialPanel, bc.SpatialWeights, ModelSpec]:
    """The demo's regression: D on the six factors of the indicator system (synthetic)."""
    config = bc.demo_config()
    panel = bc.demo_panel()
    system = bc.read_indicator_system(config.indicators.file)
    weights = bc.province_contiguity()
    ccd = bc.ccd(panel, system, regions=bc.read_regions())
    model = bc.SpatialPanel(data=ccd.panel, weights=weights, y="D", x=list(system.factors))
    return model, weights, model.spec


def ess_rates(result: Any, seconds: float) -> tuple[float, float]:
    """Bulk ESS per second of rho and of the worst total effect."""
    coefficients, effects = result.coefficients(), result.effects()
    rho = coefficients.set_index("term").loc["rho", "ess_bulk"]
    total = effects.loc[effects["effect"] == "total", "ess_bulk"].min()
    return rho / seconds, total / seconds


def fmt(value: float, digits: int = 2) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``step``; return its value and seconds (no tracing)."""
    start = time.perf_counter()
    value = step()
    return value, time.perf_counter() - start


def run_case(
    label: str, data: Any, weights: bc.SpatialWeights, spec: ModelSpec, nuts: bool
) -> None:
    """Times without tracing (the exact fit twice: first and repeated call), then the
    peak memory of each step in a separate traced run."""
    _, eig_seconds = timed(lambda: weights.eigenvalues)
    design = build_design(data, weights, spec)
    exact = SpatialPanelBayes(
        spec, settings=BayesSettings(sampler="exact", ppc_draws=0, **SETTINGS)
    )
    _, exact_first = timed(lambda: exact.sample(design))
    result, exact_seconds = timed(lambda: exact.sample(design))
    _, _, peak = measured(lambda: exact.sample(design))
    rho_ex, total_ex = ess_rates(result, exact_seconds)
    compile_s = nuts_s = rho_nuts = total_nuts = float("nan")
    if nuts:
        sampler = SpatialPanelBayes(
            spec, settings=BayesSettings(sampler="nuts", ppc_draws=0, **SETTINGS)
        )
        _, compile_s = compiled_model(design, prior_parameters(sampler.prior, design))
        fitted = sampler.sample(design)
        nuts_s = fitted.info["timings"]["sampling_seconds"]
        rho_nuts, total_nuts = ess_rates(fitted, nuts_s)
        _, _, nuts_peak = measured(lambda: sampler.sample(design))
        peak = max(peak, nuts_peak)
        if not fitted.diagnostics().converged:
            print(f"  NUTS did not converge for {label}: {fitted.diagnostics().verdict}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        ROW.format(
            label,
            design.n_units,
            design.n_coefficients,
            fmt(eig_seconds),
            f"{exact_first:.2f}/{exact_seconds:.2f}",
            fmt(compile_s, 1),
            fmt(nuts_s),
            fmt(rho_ex, 0),
            fmt(total_ex, 0),
            fmt(rho_nuts, 0),
            fmt(total_nuts, 0),
            fmt(peak, 1),
            fmt(rss, 1),
        ),
        flush=True,
    )


def run_regions(model: bc.SpatialPanel) -> None:
    """National plus the three regions in one call, as `bayes-ccd run` does."""
    for sampler in ("exact", "nuts"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeightsWarning)  # central: two components
            start = time.perf_counter()
            fits = model.fit("bayes", by_region=True, sampler=sampler, ppc_draws=0, **SETTINGS)
            tables = (fits.coefficients(), fits.effects(), fits.diagnostics())
            seconds = time.perf_counter() - start
        parts = []
        for label, fit in fits.items():
            timings = fit.timings
            parts.append(
                f"{label} {timings['sampling_seconds']:.2f}"
                + (
                    f" (+compile {timings['compile_seconds']:.1f})"
                    if timings["compile_seconds"]
                    else ""
                )
            )
        verdicts = {label: fit.diagnostics().converged for label, fit in fits.items()}
        print(
            f"demo {sampler}: national + 3 regions in {seconds:.1f} s wall "
            f"(incl. design, effects, diagnostics, {len(tables)} tables); sampling s: "
            f"{', '.join(parts)}; converged: {verdicts}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="31,300,3000",
        help="comma-separated N of the simulated panels (31, 300, 3000)",
    )
    parser.add_argument(
        "--skip-nuts-above",
        type=int,
        default=None,
        help="skip NUTS for simulated panels with more units than this",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(
        f"Bayesian two-way SDM (Lee-Yu), T = {N_PERIODS}; {SETTINGS['chains']} chains x "
        f"{SETTINGS['draws']} draws (NUTS: + {SETTINGS['tune']} warm-up); default prior"
    )
    model, weights, spec = demo_case()
    # First in the process, so that the NUTS line includes the one compilation of K = 12
    # (and the exact line the one-time imports and JIT of the diagnostics).
    run_regions(model)
    print(ROW.format(*HEADER))
    run_case(f"demo {NATIONAL}", model.arrays, weights, spec, nuts=True)
    for n in sizes:
        nuts = args.skip_nuts_above is None or n <= args.skip_nuts_above
        lattice = weights_for(n)
        data = bc.simulate_panel(
            lattice, n_periods=N_PERIODS, beta=(1.0, -0.5), theta=(0.5, 0.3), spatial=0.4, seed=1
        )
        run_case("simulated", data, lattice, ModelSpec("sdm", "both"), nuts=nuts)
        if not nuts:
            print(f"  NUTS skipped for N = {n} (--skip-nuts-above {args.skip_nuts_above})")


if __name__ == "__main__":
    main()
