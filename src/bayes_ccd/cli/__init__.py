"""The ``bayes-ccd`` command line: wires the stages of the analysis together.

Each subcommand has an ``_add_<name>`` function that declares its arguments and a
``_cmd_<name>`` function that runs it; both are registered in ``COMMANDS``. Bad input
ends the command with exit code 2 and a one-line reason; nothing partial is written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bayes_ccd import __version__
from bayes_ccd.exceptions import BayesCCDError

Command = tuple[
    str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]
]


def progress(message: str) -> None:
    """Report progress of a long step on stderr (stdout stays for results)."""
    print(f"[bayes-ccd] {message}", file=sys.stderr, flush=True)


def _input_paths(args: argparse.Namespace) -> list[Path]:
    """Every existing file or directory an argument other than ``--out`` names: the
    output directory may not contain them (replacing it would delete them)."""
    values = [v for k, v in vars(args).items() if k != "out" and isinstance(v, (str, Path))]
    return [Path(v) for v in values if Path(v).exists()]


def _split_list(text: str) -> list[str]:
    """Parse a comma-separated command-line list, ignoring blanks."""
    return [item.strip() for item in text.split(",") if item.strip()]


#: (name, one-line help, add-arguments function, run function); filled below.
COMMANDS: list[Command] = []


def _add_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config",
        nargs="?",
        default=None,
        help="run configuration (TOML); default: the bundled demo, models/demo.toml",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default: <run.output_dir>/<run.name>)",
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from bayes_ccd.config import bundled_models_dir, load_run_config
    from bayes_ccd.pipeline import run_analysis

    config_path = Path(args.config) if args.config else bundled_models_dir() / "demo.toml"
    config = load_run_config(config_path)
    target = run_analysis(config, args.out, progress=progress)
    print((target / "summary.md").read_text(encoding="utf-8"))
    print(f"Results written to {target}/")
    return 0


COMMANDS.append(
    ("run", "run the whole analysis described by a TOML configuration", _add_run, _cmd_run)
)


def _add_ccd(parser: argparse.ArgumentParser) -> None:
    from bayes_ccd.config import CHOICES, DEFAULTS

    entropy, coupling = DEFAULTS["entropy"], DEFAULTS["coupling"]
    parser.add_argument("--data", required=True, type=Path, help="long panel CSV")
    parser.add_argument(
        "--indicators",
        required=True,
        type=Path,
        help="indicator system TOML (e.g. models/indicators.toml)",
    )
    parser.add_argument("--unit", required=True, help="unit column of the panel")
    parser.add_argument("--time", required=True, help="period column of the panel")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument(
        "--missing",
        choices=("error", "linear"),
        default="error",
        help="missing values: an error (default) or linear interpolation "
        "within each unit over time",
    )
    parser.add_argument(
        "--scope",
        choices=CHOICES["entropy", "scope"],
        default=entropy["scope"],
        help="entropy weights from all unit-periods pooled or within each period "
        f"(default {entropy['scope']})",
    )
    parser.add_argument(
        "--shift",
        type=float,
        default=entropy["shift"],
        help=f"entropy shift added to standardised values (default {entropy['shift']:g})",
    )
    parser.add_argument("--alpha", type=float, default=coupling["alpha"], help="weight of U1 in T")
    parser.add_argument("--beta", type=float, default=coupling["beta"], help="weight of U2 in T")
    parser.add_argument(
        "--formula",
        choices=CHOICES["coupling", "formula"],
        default=coupling["formula"],
        help="coupling degree: classic or revised (Wang et al. 2021)",
    )
    parser.add_argument(
        "--regions",
        type=Path,
        default=None,
        help="CSV with columns unit,region (default: the bundled "
        "east/central/west provinces, when the units are provinces)",
    )


def _cmd_ccd(args: argparse.Namespace) -> int:
    from bayes_ccd.config import DEFAULTS, check_settings
    from bayes_ccd.data.panel import read_panel
    from bayes_ccd.data.regions import read_regions
    from bayes_ccd.indices.indicators import read_indicator_system
    from bayes_ccd.pipeline import coupling_stage, units_regions, write_coupling_outputs
    from bayes_ccd.report.output import atomic_output_dir, run_metadata, write_json

    config = {
        "entropy": {**DEFAULTS["entropy"], "scope": args.scope, "shift": args.shift},
        "coupling": {"alpha": args.alpha, "beta": args.beta, "formula": args.formula},
    }
    check_settings(config, "command line")
    system = read_indicator_system(args.indicators)
    progress(f"reading {args.data}")
    panel = read_panel(
        args.data,
        unit=args.unit,
        time=args.time,
        columns=system.indicator_columns,
        missing=args.missing,
    )
    regions = units_regions(panel, read_regions(args.regions))
    progress("entropy weights and coupling coordination degree")
    entropy, ccd = coupling_stage(panel, system, config, regions)
    with atomic_output_dir(args.out, protect=_input_paths(args)) as staging:
        lines = write_coupling_outputs(entropy, ccd, panel, staging)
        write_json(
            run_metadata({**config, "data": str(args.data), "indicators": str(args.indicators)}),
            staging / "metadata.json",
        )
    print("\n".join(lines))
    print(f"Results written to {args.out}/")
    return 0


COMMANDS.append(
    ("ccd", "entropy weights and coupling coordination degree of a panel", _add_ccd, _cmd_ccd)
)


def _add_dea(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        help="CSV with one row per unit (or per unit and period)",
    )
    parser.add_argument("--unit", required=True, help="unit column")
    parser.add_argument(
        "--time",
        default=None,
        help="period column; without --year every period is analysed "
        "and the Malmquist index of consecutive periods is added",
    )
    parser.add_argument("--year", default=None, help="analyse this period only (needs --time)")
    parser.add_argument(
        "--inputs", required=True, type=_split_list, help="comma-separated input columns"
    )
    parser.add_argument(
        "--outputs", required=True, type=_split_list, help="comma-separated output columns"
    )
    parser.add_argument(
        "--orientation",
        choices=("input", "output"),
        default="input",
        help="radial input contraction (default) or output expansion",
    )
    parser.add_argument(
        "--rts",
        choices=("crs", "vrs", "both"),
        default="both",
        help="returns to scale: CCR (crs), BCC (vrs) or both (default; "
        "adds scale efficiency and returns-to-scale classes)",
    )
    parser.add_argument(
        "--no-super", action="store_true", help="skip Andersen-Petersen super-efficiency"
    )
    parser.add_argument(
        "--missing",
        choices=("error", "linear"),
        default="error",
        help="missing values: an error (default) or linear interpolation "
        "within each unit over time (needs --time)",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")


def _cmd_dea(args: argparse.Namespace) -> int:
    from bayes_ccd.dea import data as dea_data
    from bayes_ccd.dea import malmquist as dea_malmquist
    from bayes_ccd.dea import model as dea_model
    from bayes_ccd.dea import report as dea_report
    from bayes_ccd.exceptions import ConfigError, DataError
    from bayes_ccd.report.output import atomic_output_dir

    if args.year is not None and args.time is None:
        raise ConfigError("--year selects a period of the --time column; give --time too")
    progress(f"reading {args.data}")
    data = dea_data.read_dea_table(
        args.data,
        unit=args.unit,
        inputs=args.inputs,
        outputs=args.outputs,
        time=args.time,
        period=args.year,
        missing=args.missing,
    )
    table = data.table
    options = {
        "orientation": args.orientation,
        "rts": args.rts,
        "super_efficiency": not args.no_super,
    }
    malmquist = None
    try:
        if args.time is None or args.year is not None:
            rows = table.set_index(args.unit)
            progress(f"DEA of {len(rows)} units")
            results = dea_model.dea(
                rows[args.inputs],
                rows[args.outputs],
                **options,
                period=None if args.year is None else int(args.year),
            )
        else:
            progress(f"DEA of each period of {args.time}")
            results = dea_model.dea_panel(
                table,
                unit=args.unit,
                time=args.time,
                inputs=args.inputs,
                outputs=args.outputs,
                **options,
            )
            progress("Malmquist index of consecutive periods")
            malmquist = dea_malmquist.malmquist(
                table, args.unit, args.time, args.inputs, args.outputs, args.orientation
            )
    except DataError as error:
        raise data.locate(error) from None
    with atomic_output_dir(args.out, protect=_input_paths(args)) as staging:
        summary = dea_report.write_dea_outputs(
            results,
            staging,
            malmquist,
            filled=data.filled,
            config={
                "data": str(args.data),
                "unit": args.unit,
                "time": args.time,
                "year": args.year,
                "missing": args.missing,
            },
        )
    print(summary)
    print(f"Results written to {args.out}/")
    return 0


COMMANDS.append(
    (
        "dea",
        "DEA efficiency (CCR/BCC, scale, super-efficiency) and Malmquist index",
        _add_dea,
        _cmd_dea,
    )
)


def _add_explore(parser: argparse.ArgumentParser) -> None:
    from bayes_ccd.conventions import DEFAULT_SEED
    from bayes_ccd.explore.moran import ALTERNATIVES

    parser.add_argument(
        "--ccd",
        required=True,
        type=Path,
        help="coupling coordination table (ccd.csv of the ccd stage)",
    )
    parser.add_argument(
        "--weights",
        required=True,
        help="spatial weights: square CSV, edge list CSV, GAL, or bundled:province-contiguity",
    )
    parser.add_argument(
        "--regions",
        type=Path,
        default=None,
        help="CSV with columns unit,region (default: the region column of the ccd table, if any)",
    )
    parser.add_argument(
        "--variables",
        type=_split_list,
        default=["D", "U1", "U2"],
        help="comma-separated columns to explore (default D,U1,U2)",
    )
    parser.add_argument(
        "--years",
        type=_split_list,
        default=None,
        help="comma-separated years to map (default: first, middle, last)",
    )
    parser.add_argument(
        "--permutations",
        type=int,
        default=999,
        help="permutations of the Moran tests (default 999)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"seed of the permutations (default {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--bandwidth",
        default="silverman",
        help="kernel bandwidth: silverman (default), scott, or a number",
    )
    parser.add_argument(
        "--significance",
        type=float,
        default=0.05,
        help="significance level of the LISA clusters (default 0.05); "
        "the permutations must be able to reach it",
    )
    parser.add_argument(
        "--alternative",
        choices=ALTERNATIVES,
        default="two-sided",
        help="permutation p-values: two-sided (default; smallest "
        "attainable 3/(permutations+1)), directed (GeoDa's one-sided "
        "value in the observed direction), greater, lesser or folded "
        "(smallest 1/(permutations+1))",
    )
    parser.add_argument(
        "--missing",
        choices=("error", "linear"),
        default="error",
        help="missing values: an error (default) or linear interpolation "
        "within each unit over time",
    )
    parser.add_argument(
        "--boundary",
        type=Path,
        default=None,
        help="boundary file (GeoJSON, shapefile) for true choropleths "
        "instead of the province tile grid",
    )
    parser.add_argument(
        "--boundary-id", default=None, help="column of the boundary file holding the unit labels"
    )
    parser.add_argument("--pdf", action="store_true", help="also write figures as PDF")
    parser.add_argument("--out", required=True, type=Path, help="output directory")


def _cmd_explore(args: argparse.Namespace) -> int:
    from bayes_ccd.data.regions import read_regions
    from bayes_ccd.data.weights import read_weights
    from bayes_ccd.exceptions import ConfigError
    from bayes_ccd.explore.stage import explore, read_ccd
    from bayes_ccd.report.output import atomic_output_dir
    from bayes_ccd.report.tables import to_markdown

    try:
        years = None if args.years is None else [int(y) for y in args.years]
    except ValueError:
        raise ConfigError(
            f"--years must be comma-separated integers, not {','.join(args.years)}"
        ) from None
    progress(f"reading {args.ccd}")
    panel, ccd_regions = read_ccd(args.ccd, args.variables, missing=args.missing)
    weights = read_weights(args.weights)
    regions = ccd_regions if args.regions is None else read_regions(args.regions)
    inputs = {
        "ccd": str(args.ccd),
        "weights": str(args.weights),
        "regions": None if args.regions is None else str(args.regions),
        "missing": args.missing,
    }
    with atomic_output_dir(args.out, protect=_input_paths(args)) as staging:
        result = explore(
            panel,
            weights,
            regions,
            out_dir=staging,
            variables=args.variables,
            years=years,
            permutations=args.permutations,
            seed=args.seed,
            bandwidth=args.bandwidth,
            significance=args.significance,
            alternative=args.alternative,
            boundary=args.boundary,
            boundary_id=args.boundary_id,
            pdf=args.pdf,
            metadata={"inputs": inputs},
            progress=progress,
        )
    headline = "D" if "D" in args.variables else args.variables[0]
    print((args.out / f"moran_{headline}.md").read_text(encoding="utf-8"))
    counts = result.cluster_counts
    print(to_markdown(counts[counts["variable"] == headline], index=False))
    for reason in result.skipped:
        print(reason)
    if len(panel.filled):
        print(
            f"{len(panel.filled)} missing cell(s) filled by linear interpolation (filled_cells.csv)"
        )
    print(f"Results written to {args.out}/")
    return 0


COMMANDS.append(
    (
        "explore",
        "kernel density evolution, global and local Moran's I and maps of the coordination degree",
        _add_explore,
        _cmd_explore,
    )
)


def _fit_mle(
    args: argparse.Namespace, panel: Any, weights: Any, spec: Any, regions: Any
) -> dict[str, Any]:
    from bayes_ccd.spatial.reports import fit_reports

    return fit_reports(
        panel,
        weights,
        spec,
        regions=regions,
        effects_method=args.effects_inference,
        n_draws=args.draws,
        seed=args.seed,
        tests=not args.no_tests,
        fixed_effects=args.fixed_effects,
    )


def _fit_bayes(args: argparse.Namespace, panel: Any, weights: Any, spec: Any, regions: Any) -> Any:
    from bayes_ccd.spatial.bayes.reports import fit_bayes_reports

    return fit_bayes_reports(
        panel,
        weights,
        spec,
        regions=regions,
        prior=args.prior,
        sampler=args.sampler,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        progress=progress,
    )


def _write_bayes_fit(args: argparse.Namespace, fit: Any, config: dict[str, Any]) -> Any:
    """Write a Bayesian fit (posterior columns, posterior.nc, diagnostics), print one
    line per sample with its convergence verdict and return the reports."""
    from bayes_ccd.report.output import atomic_output_dir, run_metadata
    from bayes_ccd.spatial.bayes.reports import summary_lines, write_bayes_outputs

    with atomic_output_dir(args.out, protect=_input_paths(args)) as staging:
        write_bayes_outputs(fit, staging, metadata=run_metadata(config, args.seed))
    print("\n".join(summary_lines(fit)))
    return fit.reports


def _write_mle_fit(args: argparse.Namespace, reports: Any, config: dict[str, Any]) -> Any:
    """Write maximum-likelihood reports, print one line per sample and return them."""
    from bayes_ccd.report.output import atomic_output_dir, run_metadata
    from bayes_ccd.spatial.reports import write_fit_outputs

    with atomic_output_dir(args.out, protect=_input_paths(args)) as staging:
        write_fit_outputs(reports, staging, metadata=run_metadata(config, args.seed))
    for label, report in reports.items():
        info = report.info
        spatial = "rho" if "rho" in info else "lambda"
        print(
            f"{label}: N={info['N']}, T={info['T']}, {spatial}={info[spatial]:.4f}, "
            f"log-likelihood={info['loglik']:.3f}"
        )
    return reports


#: Estimators of ``bayes-ccd fit``: name -> (fit, write). ``fit(args, panel, weights, spec,
#: regions)`` returns the fits (``{sample: FitReport}`` for ``mle``, a
#: :class:`~bayes_ccd.spatial.bayes.reports.BayesFit` for ``bayes``); ``write(args, fits,
#: config)`` writes
#: them, prints one line per sample and returns ``{sample: FitReport}`` (national first).
#: Register another estimator by adding an entry.
FIT_ESTIMATORS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "mle": (_fit_mle, _write_mle_fit),
    "bayes": (_fit_bayes, _write_bayes_fit),
}


def _add_fit(parser: argparse.ArgumentParser) -> None:
    from bayes_ccd.conventions import DEFAULT_SEED
    from bayes_ccd.spatial.design import FIXED_EFFECTS, MODELS, TRANSFORMS
    from bayes_ccd.spatial.effects import DEFAULT_EFFECT_DRAWS

    parser.add_argument("--data", required=True, type=Path, help="long panel CSV")
    parser.add_argument("--unit", required=True, help="unit column of the panel")
    parser.add_argument("--time", required=True, help="period column of the panel")
    parser.add_argument("--y", required=True, help="dependent variable column")
    parser.add_argument(
        "--x", required=True, type=_split_list, help="comma-separated covariate columns"
    )
    parser.add_argument(
        "--weights",
        required=True,
        help="spatial weights: square CSV, edge list CSV, GAL, or bundled:province-contiguity",
    )
    parser.add_argument(
        "--weights-transform",
        choices=("r", "o"),
        default="r",
        help="row-standardise the weights (r, default) or use them as "
        "given (o; time effects need row sums of one)",
    )
    parser.add_argument(
        "--model",
        choices=MODELS,
        default="sdm",
        help="spatial Durbin (default), lag, error or Durbin error model",
    )
    parser.add_argument(
        "--fe", choices=FIXED_EFFECTS, default="both", help="fixed effects (default both)"
    )
    parser.add_argument(
        "--transform",
        choices=TRANSFORMS,
        default="lee-yu",
        help="remove fixed effects by the Lee-Yu transformation (default) or "
        "by the uncorrected within estimator",
    )
    parser.add_argument(
        "--estimator",
        choices=tuple(FIT_ESTIMATORS),
        default="mle",
        help="estimation method (default mle)",
    )
    parser.add_argument(
        "--sampler",
        choices=("exact", "nuts"),
        default="exact",
        help="bayes: exact independent draws (conjugate priors, default) or NUTS (nutpie)",
    )
    parser.add_argument(
        "--prior",
        default="default",
        help="bayes: prior 'default' (weakly informative), 'reference' "
        "(flat; posterior mode = MLE) or a TOML file (see "
        "models/priors.toml)",
    )
    parser.add_argument("--chains", type=int, default=4, help="bayes: chains (default 4)")
    parser.add_argument(
        "--tune", type=int, default=1000, help="bayes: NUTS warm-up draws per chain (default 1000)"
    )
    parser.add_argument(
        "--missing",
        choices=("error", "linear"),
        default="error",
        help="missing values: an error (default) or linear interpolation "
        "within each unit over time",
    )
    parser.add_argument(
        "--log",
        type=_split_list,
        default=[],
        help="comma-separated covariates to log-transform (named ln_<col>)",
    )
    parser.add_argument(
        "--regions",
        type=Path,
        default=None,
        help="CSV with a unit column (named as --unit, or 'unit') and a "
        "'region' column; implies --by-region (default: the bundled "
        "east/central/west provinces)",
    )
    parser.add_argument(
        "--by-region",
        action="store_true",
        help="also fit each region's sub-sample (W cut and re-standardised)",
    )
    parser.add_argument(
        "--effects-inference",
        choices=("simulation", "delta"),
        default="simulation",
        help="inference on direct/indirect/total effects (default simulation)",
    )
    parser.add_argument(
        "--draws",
        type=int,
        default=DEFAULT_EFFECT_DRAWS,
        help=f"mle: parameter draws for simulated effects; bayes: posterior "
        f"draws per chain (default {DEFAULT_EFFECT_DRAWS})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"seed of the simulation (default {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--fixed-effects",
        action="store_true",
        help="also write the estimated fixed effects (fixed_effects.csv)",
    )
    parser.add_argument(
        "--no-tests", action="store_true", help="skip the specification tests (LM, LR, Wald)"
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")


def _fit_regions(args: argparse.Namespace, panel: Any) -> Any:
    from bayes_ccd.data.panel import read_csv_cells
    from bayes_ccd.data.regions import read_regions, regions_for

    if args.regions is None:
        return regions_for(panel.units, read_regions(), source=panel.source)
    header = read_csv_cells(args.regions, what="region file").columns
    unit = args.unit if args.unit in header else "unit"
    return regions_for(panel.units, read_regions(args.regions, unit=unit), source=panel.source)


def _cmd_fit(args: argparse.Namespace) -> int:
    from bayes_ccd.data.factors import Factor, transform_factors
    from bayes_ccd.data.panel import Panel, read_panel
    from bayes_ccd.data.weights import read_weights
    from bayes_ccd.exceptions import ConfigError
    from bayes_ccd.spatial.design import ModelSpec

    unknown = [c for c in args.log if c not in args.x]
    if unknown:
        raise ConfigError(f"--log names {unknown}, which are not among --x {args.x}")
    factors = [
        Factor(name=f"ln_{c}", column=c, transform="log")
        if c in args.log
        else Factor(name=c, column=c)
        for c in args.x
    ]
    # The specification checks its variables (repeats, y among x) before any file is read.
    spec = ModelSpec(args.model, args.fe, args.transform, args.y, tuple(f.name for f in factors))
    progress(f"reading {args.data}")
    panel = read_panel(
        args.data, unit=args.unit, time=args.time, columns=[args.y, *args.x], missing=args.missing
    )
    frame = transform_factors(panel, [Factor(name=args.y, column=args.y), *factors])
    panel = Panel(frame, panel.source, panel.filled)
    weights = read_weights(args.weights, transform=args.weights_transform)
    regions = _fit_regions(args, panel) if args.by_region or args.regions else None
    progress(
        f"{spec.label()}, estimator {args.estimator}"
        + (", national and by region" if regions is not None else "")
    )
    fit, write = FIT_ESTIMATORS[args.estimator]
    config = {
        key: str(value) if isinstance(value, Path) else value
        for key, value in vars(args).items()
        if not key.startswith("_")
    }
    reports = write(args, fit(args, panel, weights, spec, regions), config)
    filled = next(iter(reports.values())).info["filled_cells"]
    if filled:
        cells = ", ".join(f"{c['unit']} {c['period']} {c['column']}" for c in filled)
        print(
            f"Filled by linear interpolation, {len(filled)} cell(s) (listed in "
            f"filled_cells.csv): {cells}."
        )
    print(f"Results written to {args.out}/")
    return 0


COMMANDS.append(
    (
        "fit",
        "spatial panel models (SDM, SAR, SEM, SDEM) with fixed effects: "
        "coefficients, effects, specification tests",
        _add_fit,
        _cmd_fit,
    )
)


def _add_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mle",
        required=True,
        type=Path,
        help="output directory of `bayes-ccd fit --estimator mle`",
    )
    parser.add_argument(
        "--bayes",
        required=True,
        type=Path,
        help="output directory of `bayes-ccd fit --estimator bayes` (same "
        "data, model and fixed effects)",
    )
    parser.add_argument(
        "--no-figures", action="store_true", help="skip the forest plots overlaying both estimates"
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")


def _cmd_compare(args: argparse.Namespace) -> int:
    from bayes_ccd.report.output import atomic_output_dir, run_metadata
    from bayes_ccd.spatial.compare import (
        compare_reports,
        comparison_summary,
        read_fit_directory,
        write_comparison_outputs,
    )

    progress(f"reading {args.mle} and {args.bayes}")
    tables = compare_reports(read_fit_directory(args.mle), read_fit_directory(args.bayes))
    config = {"mle": str(args.mle), "bayes": str(args.bayes)}
    with atomic_output_dir(args.out, protect=_input_paths(args)) as staging:
        write_comparison_outputs(
            tables, staging, metadata=run_metadata(config), figures=not args.no_figures
        )
    print("\n".join(comparison_summary(tables)))
    print(f"Results written to {args.out}/")
    return 0


COMMANDS.append(
    (
        "compare",
        "posterior versus maximum likelihood: side-by-side estimates, "
        "intervals and forest plots of two fit output directories",
        _add_compare,
        _cmd_compare,
    )
)


def _add_qca(parser: argparse.ArgumentParser) -> None:
    from bayes_ccd.qca.minimise import DEFAULT_MAX_MODELS, DEFAULT_MAX_NODES
    from bayes_ccd.qca.truth_table import HALF_MEMBERSHIP_RULES

    parser.add_argument("--data", required=True, type=Path, help="CSV with one row per case")
    parser.add_argument("--case", required=True, help="column holding the case names")
    parser.add_argument("--outcome", required=True, help="outcome column")
    parser.add_argument(
        "--conditions", required=True, type=_split_list, help="comma-separated condition columns"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--calibrate",
        metavar="FILE|percentiles",
        help="calibrate raw values by Ragin's direct method: 'percentiles' uses the "
        "95th/50th/5th sample percentiles of every column as full membership/"
        "crossover/full non-membership; FILE is a CSV with header "
        "'column,full,crossover,non' (or a TOML file with one [column] table of "
        "full, crossover, non) giving numbers or percentiles such as p95; full < "
        "non makes a decreasing set; unlisted columns must already be memberships",
    )
    source.add_argument(
        "--calibrated", action="store_true", help="the columns are already memberships in [0, 1]"
    )
    parser.add_argument(
        "--incl-cut",
        type=float,
        default=0.8,
        help="raw consistency cut-off of positive rows (default 0.8)",
    )
    parser.add_argument(
        "--n-cut", type=int, default=1, help="minimum cases of a non-remainder row (default 1)"
    )
    parser.add_argument(
        "--pri-cut", type=float, default=0.0, help="PRI cut-off of positive rows (default 0)"
    )
    parser.add_argument(
        "--dir-exp",
        default=None,
        help="directional expectations for the intermediate solution, "
        "e.g. 'DEV,URB,~IND' (~ = contributes when absent; "
        "unlisted = no expectation)",
    )
    parser.add_argument(
        "--half-membership",
        choices=HALF_MEMBERSHIP_RULES,
        default="nudge",
        help="treatment of condition memberships of exactly 0.5 (default "
        "nudge: add 0.001, Fiss 2011)",
    )
    parser.add_argument(
        "--criterion",
        choices=("terms", "literals"),
        default="terms",
        help="minimal models: fewest terms (default, as R's QCA) or "
        "fewest terms then fewest literals",
    )
    parser.add_argument(
        "--max-models",
        type=int,
        default=DEFAULT_MAX_MODELS,
        help=f"cap on tied models per solution (default {DEFAULT_MAX_MODELS})",
    )
    parser.add_argument(
        "--max-nodes",
        type=int,
        default=DEFAULT_MAX_NODES,
        help="search budget of the exact minimisation per solution, in "
        f"branch-and-bound nodes (default {DEFAULT_MAX_NODES:_}); when "
        "it runs out the command stops with an error instead of "
        "searching on",
    )
    parser.add_argument("--pdf", action="store_true", help="also write the chart as PDF")
    parser.add_argument("--out", required=True, type=Path, help="output directory")


def _cmd_qca(args: argparse.Namespace) -> int:
    from bayes_ccd.exceptions import ConfigError
    from bayes_ccd.qca.calibration import (
        calibrate_frame,
        percentile_anchors,
        read_anchors,
        read_cases,
    )
    from bayes_ccd.qca.report import solution_lines, write_qca_outputs
    from bayes_ccd.qca.solutions import fsqca
    from bayes_ccd.report.output import atomic_output_dir

    columns = [args.outcome, *args.conditions]
    anchors = {}
    if args.calibrate is None and not args.calibrated:
        raise ConfigError(
            "say whether the data are raw values (--calibrate FILE or "
            "--calibrate percentiles) or already memberships (--calibrated)"
        )
    if args.calibrate is not None:
        anchors = (
            percentile_anchors(columns)
            if args.calibrate == "percentiles"
            else read_anchors(args.calibrate)
        )
        unknown = [c for c in anchors if c not in columns]
        if unknown:
            raise ConfigError(
                f"{args.calibrate}: anchors for {', '.join(unknown)}, which "
                "are neither the outcome nor a condition"
            )
    progress(f"reading {args.data}")
    data = read_cases(
        args.data, args.case, columns, memberships=[c for c in columns if c not in anchors]
    )
    data = calibrate_frame(data, anchors)
    progress("truth table and Boolean minimisation")
    result = fsqca(
        data,
        args.outcome,
        args.conditions,
        incl_cut=args.incl_cut,
        n_cut=args.n_cut,
        pri_cut=args.pri_cut,
        dir_exp=args.dir_exp,
        half_membership=args.half_membership,
        criterion=args.criterion,
        max_models=args.max_models,
        max_nodes=args.max_nodes,
    )
    config = {
        "data": str(args.data),
        "case": args.case,
        "calibrate": args.calibrate,
        "anchors": {c: [a.full, a.crossover, a.non] for c, a in anchors.items()},
    }
    with atomic_output_dir(args.out, protect=_input_paths(args)) as staging:
        write_qca_outputs(result, staging, config=config, pdf=args.pdf)
    print("\n".join(solution_lines(result)))
    print(f"Results written to {args.out}/")
    return 0


COMMANDS.append(
    (
        "qca",
        "fsQCA: calibration, necessity, truth table, conservative/"
        "parsimonious/intermediate solutions and configuration chart",
        _add_qca,
        _cmd_qca,
    )
)


def _add_demo_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="CSV file to write (its metadata goes to <stem>.meta.json)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the generator (default: the seed of the bundled file)",
    )


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from bayes_ccd.data.demo import DEMO_SEED, SYNTHETIC_NOTICE, write_demo_panel
    from bayes_ccd.exceptions import OutputError

    if args.out.exists():
        raise OutputError(f"{args.out} exists; choose a new file name")
    path = write_demo_panel(args.out, DEMO_SEED if args.seed is None else args.seed)
    print(f"Wrote {path}. {SYNTHETIC_NOTICE}")
    return 0


COMMANDS.append(
    (
        "demo-data",
        "write the SYNTHETIC demo panel (seeded generator) to a CSV file",
        _add_demo_data,
        _cmd_demo_data,
    )
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``bayes-ccd`` with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="bayes-ccd",
        description=(
            "Coupling coordination of two subsystems across regions and years: entropy "
            "weights, coupling coordination degree, spatial exploration, maximum-likelihood "
            "and Bayesian spatial Durbin panels, DEA and fsQCA."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text, add_arguments, run in COMMANDS:
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(command_parser)
        command_parser.set_defaults(_run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bayes-ccd`` console script."""
    import matplotlib

    matplotlib.use("Agg")  # figures are written to files; never open a window
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except BayesCCDError as error:
        print(f"bayes-ccd {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
