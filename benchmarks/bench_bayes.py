"""Benchmark of the Bayesian spatial panels: the exact sampler and NUTS (nutpie).

Cases: the national SDM of the bundled (synthetic) demo, D on the six factors with
two-way fixed effects (N = 31, T = 12, K = 12), fitted nationally and for the east,
central and west regions; and simulated two-way SDMs with two covariates (K = 4), T = 12
and N = 31 (provinces), 300 and 3000 (rook lattices). Settings are those of a run,
``[bayes]`` of :data:`bayes_ccd.config.DEFAULTS` (4 chains of 2000 draws, 1000 warm-up
draws for NUTS), default prior, no posterior predictive check.

First, the demo's national and three regional models in one call of
:func:`~bayes_ccd.spatial.bayes.reports.fit_bayes_reports` per sampler, as ``bayes-ccd run``
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

from bayes_ccd.config import DEFAULTS, bundled_models_dir, load_run_config
from bayes_ccd.conventions import NATIONAL, PERIOD, UNIT
from bayes_ccd.data.factors import transform_factors
from bayes_ccd.data.panel import Panel
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import WeightsWarning
from bayes_ccd.pipeline import coupling_stage, load_inputs
from bayes_ccd.settings import SamplerSettings
from bayes_ccd.spatial.bayes.estimator import SpatialPanelBayes
from bayes_ccd.spatial.bayes.nuts import compiled_model
from bayes_ccd.spatial.bayes.priors import prior_parameters
from bayes_ccd.spatial.bayes.reports import fit_bayes_reports
from bayes_ccd.spatial.design import ModelSpec, build_design
from bayes_ccd.spatial.simulate import simulate_panel

N_PERIODS = 12
SETTINGS = {k: DEFAULTS["bayes"][k] for k in ("draws", "tune", "chains")}
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


def demo_case() -> tuple[Panel, SpatialWeights, Any, ModelSpec]:
    """The demo's regression panel: D and the six transformed factors."""
    config = load_run_config(bundled_models_dir() / "demo.toml")
    inputs = load_inputs(config)
    _, ccd = coupling_stage(inputs.panel, inputs.system, config, inputs.regions)
    factors = transform_factors(inputs.panel, inputs.system.factors)
    frame = factors.merge(ccd[[UNIT, PERIOD, "D"]], on=[UNIT, PERIOD])
    names = tuple(f.name for f in inputs.system.factors)
    return (
        Panel(frame, "demo"),
        inputs.weights,
        inputs.regions,
        ModelSpec("sdm", "both", y="D", x=names),
    )


def ess_rates(result: Any, seconds: float) -> tuple[float, float]:
    """Bulk ESS per second of rho and of the worst total effect."""
    coefficients, effects = result.tables()
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


def run_case(label: str, data: Any, weights: SpatialWeights, spec: ModelSpec, nuts: bool) -> None:
    """Times without tracing (the exact fit twice: first and repeated call), then the
    peak memory of each step in a separate traced run."""
    _, eig_seconds = timed(lambda: weights.eigenvalues)
    design = build_design(data, weights, spec)
    exact = SpatialPanelBayes(
        spec, settings=SamplerSettings(sampler="exact", ppc_draws=0, **SETTINGS)
    )
    _, exact_first = timed(lambda: exact.sample(design))
    result, exact_seconds = timed(lambda: exact.sample(design))
    _, _, peak = measured(lambda: exact.sample(design))
    rho_ex, total_ex = ess_rates(result, exact_seconds)
    compile_s = nuts_s = rho_nuts = total_nuts = float("nan")
    if nuts:
        sampler = SpatialPanelBayes(
            spec, settings=SamplerSettings(sampler="nuts", ppc_draws=0, **SETTINGS)
        )
        _, compile_s = compiled_model(design, prior_parameters(sampler.prior, design))
        fitted = sampler.sample(design)
        nuts_s = fitted.info["timings"]["sampling_seconds"]
        rho_nuts, total_nuts = ess_rates(fitted, nuts_s)
        _, _, nuts_peak = measured(lambda: sampler.sample(design))
        peak = max(peak, nuts_peak)
        if not fitted.diagnostics.converged:
            print(f"  NUTS did not converge for {label}: {fitted.diagnostics.verdict}")
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


def run_regions(panel: Panel, weights: SpatialWeights, regions: Any, spec: ModelSpec) -> None:
    """National plus the three regions in one call, as `bayes-ccd run` does."""
    for sampler in ("exact", "nuts"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeightsWarning)  # central: two components
            start = time.perf_counter()
            fit = fit_bayes_reports(
                panel, weights, spec, regions=regions, sampler=sampler, **SETTINGS
            )
            seconds = time.perf_counter() - start
        parts = []
        for label, report in fit.reports.items():
            timings = report.info["timings"]
            parts.append(
                f"{label} {timings['sampling_seconds']:.2f}"
                + (
                    f" (+compile {timings['compile_seconds']:.1f})"
                    if timings["compile_seconds"]
                    else ""
                )
            )
        verdicts = {label: r.info["converged"] for label, r in fit.reports.items()}
        print(
            f"demo {sampler}: national + 3 regions in {seconds:.1f} s wall "
            f"(incl. design, effects, diagnostics, tables); sampling s: {', '.join(parts)}; "
            f"converged: {verdicts}",
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
    panel, weights, regions, spec = demo_case()
    # First in the process, so that the NUTS line includes the one compilation of K = 12
    # (and the exact line the one-time imports and JIT of the diagnostics).
    run_regions(panel, weights, regions, spec)
    print(ROW.format(*HEADER))
    run_case(f"demo {NATIONAL}", panel, weights, spec, nuts=True)
    for n in sizes:
        nuts = args.skip_nuts_above is None or n <= args.skip_nuts_above
        lattice = weights_for(n)
        data = simulate_panel(
            lattice, n_periods=N_PERIODS, beta=(1.0, -0.5), theta=(0.5, 0.3), spatial=0.4, seed=1
        )
        run_case("simulated", data, lattice, ModelSpec("sdm", "both"), nuts=nuts)
        if not nuts:
            print(f"  NUTS skipped for N = {n} (--skip-nuts-above {args.skip_nuts_above})")


if __name__ == "__main__":
    main()
