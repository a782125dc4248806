"""Large panels: seconds and peak memory of every estimator, N = 3,000 ... 1,000,000.

Two-way fixed-effects SDM with T = 12 and 4 covariates, simulated on k-nearest-neighbour
weights (k = 6, row-standardised) over uniformly random points, and on China's 2,842
county-level units (queen contiguity) when the ``china`` extra is installed. Each size
runs in its own process so that the peak resident memory it prints is its own.

    python benchmarks/bench_large_n.py                      # 3,000 ... 100,000
    python benchmarks/bench_large_n.py --sizes 300000 1000000
    python benchmarks/bench_large_n.py --compare 3000       # approximate vs dense path
    python benchmarks/bench_large_n.py --whole-process      # bayes-ccd fit ... --sampler nuts

Columns: ``weights`` (building W), ``design`` (W lags, log-determinant, bounds),
``mle``, ``exact`` (exact sampler, 4 x 1000 draws with effects), ``ppc`` (posterior
predictive, 100 draws), ``nuts_compile`` and ``nuts`` (4 x 1000 draws after 1000 tuning
steps, with effects, of the written-out density: nothing to compile), peak RSS in MB.

``--whole-process`` times the command ``bayes-ccd fit --estimator bayes --sampler nuts``
on the national model of the bundled (synthetic) province panel, start to end, for both
NUTS targets (``--nuts-model direct`` and ``pymc``): the first run of each in fresh
PyTensor and numba caches (a first ever run), then a second run that finds them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SIZES = (3_000, 10_000, 30_000, 100_000)
T = 12
BETA = (0.5, -0.3, 0.2, 0.4)
THETA = (0.2, 0.1, -0.2, 0.1)
RHO = 0.4


def peak_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def knn(n: int, seed: int) -> Any:
    """k = 6 nearest-neighbour weights on ``n`` uniformly random planar points."""
    import bayes_ccd as bc

    rng = np.random.default_rng(seed)
    points = rng.uniform(0, np.sqrt(n), size=(n, 2))
    frame = pd.DataFrame(points, columns=["x", "y"], index=[f"u{i}" for i in range(n)])
    return bc.knn_weights(frame, k=6)


def counties() -> Any:
    """Queen contiguity of China's county-level units (the ``china`` extra)."""
    import bayes_ccd as bc

    return bc.china_weights("contiguity", level="county")


def one(size: str, *, nuts: bool, seed: int, logdet: str) -> dict[str, Any]:
    """Time every stage at one size; return the row."""
    import bayes_ccd as bc

    warnings.simplefilter("ignore")
    row: dict[str, Any] = {"N": size}
    start = time.perf_counter()
    weights = counties() if size == "counties" else knn(int(size), seed)
    row["weights"] = time.perf_counter() - start
    row["N"] = weights.n if size != "counties" else f"counties ({weights.n})"
    arrays = bc.simulate_panel(weights, n_periods=T, beta=BETA, theta=THETA, spatial=RHO, seed=seed)
    model = bc.SpatialPanel(data=arrays, weights=weights, logdet=logdet)
    start = time.perf_counter()
    design = model.design()  # built once, shared by every fit below
    row["design"] = time.perf_counter() - start
    row["logdet"] = design.logdet.method
    row["logdet_error"] = design.logdet.facts()["max_error"]
    start = time.perf_counter()
    mle = model.fit("ml", seed=seed)
    row["mle"] = time.perf_counter() - start
    row["rho_mle"] = float(mle.spatial)
    start = time.perf_counter()
    exact = model.fit("bayes", sampler="exact", draws=1000, chains=4, seed=seed, ppc_draws=0)
    row["exact"] = time.perf_counter() - start
    row["rho_mean"] = float(exact.posterior["rho"].mean())
    errors = json.loads(exact.posterior.attrs.get("effects_error", '{"ratio_to_sd": [0]}'))
    row["effect_error_sd"] = float(np.max(errors["ratio_to_sd"]))
    start = time.perf_counter()
    exact.posterior_predictive(n_draws=100)
    row["ppc"] = time.perf_counter() - start
    if nuts:
        start = time.perf_counter()
        fit = model.fit("bayes", sampler="nuts", draws=1000, chains=4, seed=seed, ppc_draws=0)
        row["nuts"] = time.perf_counter() - start
        row["nuts_compile"] = fit.timings["compile_seconds"]
        row["nuts_sample"] = fit.timings["sampling_seconds"]
        row["nuts_rho_mean"] = float(fit.posterior["rho"].mean())
        row["nuts_divergences"] = fit.diagnostics().divergences
    row["peak_mb"] = peak_mb()
    return row


def compare(size: str, seed: int) -> list[dict[str, Any]]:
    """Approximate log-determinants and trace effects against the dense eigen path."""
    import bayes_ccd as bc

    warnings.simplefilter("ignore")
    weights = counties() if size == "counties" else knn(int(size), seed)
    arrays = bc.simulate_panel(weights, n_periods=T, beta=BETA, theta=THETA, spatial=RHO, seed=seed)
    fits = {}
    for method in ("eigen", "sparse-lu", "chebyshev"):
        model = bc.SpatialPanel(data=arrays, weights=weights, logdet=method)
        mle = model.fit("ml", seed=seed)
        post = model.fit("bayes", sampler="exact", draws=1000, chains=4, seed=seed, ppc_draws=0)
        fits[method] = (mle, post)
    rows = []
    base_mle, base_post = fits["eigen"]
    base_effects = base_post.effects()
    sd = base_effects.set_index(["effect", "variable"])["sd"]
    rho_sd = float(base_post.posterior["rho"].std())
    for method in ("sparse-lu", "chebyshev"):
        mle, post = fits[method]
        effects = post.effects().set_index(["effect", "variable"])
        shift = (effects["mean"] - base_effects.set_index(["effect", "variable"])["mean"]) / sd
        rows.append(
            {
                "N": weights.n,
                "method": method,
                "mle_rho_error": abs(float(mle.spatial) - float(base_mle.spatial)),
                "rho_mean_error_sd": abs(
                    float(post.posterior["rho"].mean()) - float(base_post.posterior["rho"].mean())
                )
                / rho_sd,
                "rho_sd_error_sd": abs(float(post.posterior["rho"].std()) - rho_sd) / rho_sd,
                "max_effect_error_sd": float(np.abs(shift).max()),
            }
        )
    return rows


def whole_process() -> list[dict[str, Any]]:
    """Wall seconds of ``bayes-ccd fit --estimator bayes --sampler nuts``, fresh caches first."""
    from bayes_ccd.data.demo import bundled_demo_path

    cli = [str(Path(sys.executable).with_name("bayes-ccd")), "fit"]
    cli += ["--data", str(bundled_demo_path()), "--unit", "province", "--time", "year"]
    cli += ["--y", "urbanisation_rate", "--missing", "linear"]
    cli += ["--x", "gdp_per_capita,tertiary_share,aged65_share,beds_per_1000"]
    cli += ["--log", "gdp_per_capita", "--weights", "bundled:province-contiguity"]
    cli += ["--estimator", "bayes", "--sampler", "nuts", "--no-figures"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # Fresh compilation caches: what a first ever run finds.
        env = os.environ | {
            "PYTENSOR_FLAGS": f"compiledir={tmp}/pytensor",
            "NUMBA_CACHE_DIR": f"{tmp}/numba",
        }
        for target in ("direct", "pymc"):
            for run in ("first", "second"):
                command = [*cli, "--nuts-model", target, "--out", f"{tmp}/{target}-{run}"]
                start = time.perf_counter()
                subprocess.run(command, env=env, check=True, capture_output=True)
                seconds = time.perf_counter() - start
                facts = json.loads(Path(f"{tmp}/{target}-{run}/fit.json").read_text("utf-8"))
                rows.append(
                    {
                        "nuts_model": target,
                        "run": run,
                        "whole_process": seconds,
                        "compile": facts["timings"]["compile_seconds"],
                        "sampling": facts["timings"]["sampling_seconds"],
                        "rho_mean": facts["rho"],
                    }
                )
    return rows


def main() -> None:
    """Run every size in its own process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="*", default=[*map(str, SIZES[:1]), "counties", *map(str, SIZES[1:])]
    )
    parser.add_argument("--skip-nuts", action="store_true")
    parser.add_argument(
        "--logdet", default="auto", choices=("auto", "eigen", "sparse-lu", "chebyshev")
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--compare", nargs="*", help="sizes to compare with the dense path")
    parser.add_argument("--whole-process", action="store_true", help="time the NUTS command")
    args = parser.parse_args()
    if args.whole_process:
        from bayes_ccd.report.tables import to_markdown

        print(to_markdown(pd.DataFrame(whole_process()), digits=3, index=False))
        return
    if args.one:
        result = (
            compare(args.one, args.seed)
            if args.compare is not None
            else one(args.one, nuts=not args.skip_nuts, seed=args.seed, logdet=args.logdet)
        )
        print("RESULT " + json.dumps(result))
        return
    sizes = args.compare if args.compare else args.sizes
    rows: list[dict[str, Any]] = []
    for size in sizes:
        command = [sys.executable, __file__, "--one", size, "--seed", str(args.seed)]
        command += ["--logdet", args.logdet]
        command += ["--skip-nuts"] if args.skip_nuts else []
        command += ["--compare"] if args.compare else []
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if not lines:
            print(f"N = {size}: failed\n{done.stderr[-2000:]}", flush=True)
            continue
        result = json.loads(lines[-1][7:])
        rows.extend(result if isinstance(result, list) else [result])
        print(pd.DataFrame(rows).to_string(index=False, float_format="%.3g"), flush=True)
    from bayes_ccd.report.tables import to_markdown

    print(to_markdown(pd.DataFrame(rows), digits=3, index=False))


if __name__ == "__main__":
    main()
