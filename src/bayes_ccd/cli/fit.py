"""``bayes-ccd fit``: spatial panel models by maximum likelihood or Bayes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bayes_ccd.cli.common import (
    add_setting,
    add_weights_arguments,
    input_paths,
    progress,
    settings_from,
    split_list,
    weights_settings_from,
)
from bayes_ccd.exceptions import ConfigError
from bayes_ccd.settings import (
    BayesSettings,
    DataSettings,
    MLESettings,
    RegressionSettings,
    RunSettings,
)

NAME = "fit"
HELP = (
    "spatial panel models (SDM, SAR, SEM, SDEM) with fixed effects: coefficients, "
    "effects, specification tests"
)
#: Settings of each estimator that the command exposes.
ESTIMATOR_SETTINGS: dict[str, tuple[type, tuple[str, ...]]] = {
    "mle": (MLESettings, ("effects_inference", "effects_draws", "fixed_effects", "tests")),
    "bayes": (
        BayesSettings,
        (
            "sampler",
            "prior",
            "draws",
            "chains",
            "tune",
            "target_accept",
            "nuts_model",
            "ppc_draws",
            "errors",
            "nu",
            "hierarchical",
            "pooling_scale",
        ),
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``bayes-ccd fit``."""
    parser.add_argument("--data", required=True, type=Path, help="long panel CSV")
    parser.add_argument("--unit", required=True, help="unit column of the panel")
    parser.add_argument("--time", required=True, help="period column of the panel")
    parser.add_argument("--y", required=True, help="dependent variable column")
    parser.add_argument(
        "--x", required=True, type=split_list, help="comma-separated covariate columns"
    )
    parser.add_argument(
        "--log",
        type=split_list,
        default=[],
        help="comma-separated covariates to log-transform (named ln_<col>)",
    )
    add_weights_arguments(
        parser,
        "spatial weights: square CSV, edge list CSV, GAL, bundled:province-contiguity, "
        "or a builder: contiguity:2, knn:6, inverse-distance[:power=2,cutoff=1000], "
        "distance-band:800, economic:<column>[,geo=contiguity|inverse-distance]",
    )
    for name in ("model", "fe", "transform", "logdet"):
        add_setting(parser, RegressionSettings, name)
    add_setting(parser, DataSettings, "missing")
    add_setting(parser, DataSettings, "gaps")
    parser.add_argument(
        "--regions",
        type=Path,
        default=None,
        help="CSV with a unit column (named as --unit, or 'unit') and a 'region' column; "
        "implies --by-region (default: the bundled east/central/west provinces)",
    )
    parser.add_argument(
        "--by-region",
        action="store_true",
        help="also fit each region's sub-sample (W cut and re-standardised)",
    )
    parser.add_argument(
        "--estimator",
        choices=tuple(ESTIMATOR_SETTINGS),
        default="mle",
        help="maximum likelihood (mle, default) or Bayes",
    )
    mle = parser.add_argument_group("maximum likelihood (--estimator mle)")
    for name in ESTIMATOR_SETTINGS["mle"][1]:
        add_setting(mle, MLESettings, name)
    bayes = parser.add_argument_group("Bayes (--estimator bayes)")
    for name in ESTIMATOR_SETTINGS["bayes"][1]:
        add_setting(bayes, BayesSettings, name)
    add_setting(parser, RunSettings, "seed")
    parser.add_argument(
        "--no-figures",
        dest="figures",
        action="store_false",
        help="write the tables only (Bayes: no diagnostic figures)",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")


def _settings(args: argparse.Namespace) -> Any:
    """Return the chosen estimator's settings; flags of the other estimator are an error."""
    for other, (_, names) in ESTIMATOR_SETTINGS.items():
        given = [n for n in names if getattr(args, n) is not None]
        if other != args.estimator and given:
            flags = ", ".join(f"--{n.replace('_', '-')}" for n in given)
            raise ConfigError(f"{flags} belong(s) to --estimator {other}, not {args.estimator}")
    kind, _ = ESTIMATOR_SETTINGS[args.estimator]
    return settings_from(args, kind)


def _regions(args: argparse.Namespace) -> Any:
    from bayes_ccd.data.panel import read_csv_cells
    from bayes_ccd.data.regions import read_regions

    if args.regions is None:
        return read_regions()
    header = read_csv_cells(args.regions, what="region file").columns
    unit = args.unit if args.unit in header else "unit"
    return read_regions(args.regions, unit=unit)


def run(args: argparse.Namespace) -> int:
    """Fit, write the output layout, print one line per sample."""
    settings = _settings(args)
    regression = settings_from(
        args, RegressionSettings, fields=("model", "fe", "transform", "logdet")
    )
    weights_settings = weights_settings_from(args)
    seed = settings_from(args, RunSettings, fields=("seed",)).seed
    data_settings = settings_from(args, DataSettings, fields=("missing", "gaps"))
    missing = data_settings.missing
    unknown = [c for c in args.log if c not in args.x]
    if unknown:
        raise ConfigError(f"--log names {unknown}, which are not among --x {args.x}")

    from bayes_ccd.data.builders import weights_from_settings
    from bayes_ccd.data.factors import Factor
    from bayes_ccd.data.panel import read_panel
    from bayes_ccd.data.weights_spec import spec_variable
    from bayes_ccd.report.output import atomic_output_dir, run_metadata
    from bayes_ccd.spatial.design import ModelSpec
    from bayes_ccd.spatial.model import SpatialPanel
    from bayes_ccd.spatial.results import as_collection

    covariates = [
        Factor(name=f"ln_{c}", column=c, transform="log")
        if c in args.log
        else Factor(name=c, column=c)
        for c in args.x
    ]
    by_region = args.by_region or args.regions is not None
    hierarchical = args.estimator == "bayes" and bool(settings.hierarchical)
    # The specification checks its variables (repeats, y among x) before any file is read.
    ModelSpec(
        regression.model,  # type: ignore[arg-type]
        regression.fe,  # type: ignore[arg-type]
        regression.transform,  # type: ignore[arg-type]
        args.y,
        tuple(f.name for f in covariates),
    )
    from bayes_ccd.report.output import check_output_early

    check_output_early(args.out, input_paths(args))
    progress(f"reading {args.data}")
    economic = spec_variable(weights_settings.source)
    columns = list(dict.fromkeys([args.y, *args.x, *([economic] if economic else [])]))
    panel = read_panel(
        args.data,
        unit=args.unit,
        time=args.time,
        columns=columns,
        missing=missing,
        gaps=data_settings.gaps,
    )
    weights = weights_from_settings(weights_settings, panel)
    model = SpatialPanel(
        data=panel,
        weights=weights,
        y=Factor(name=args.y, column=args.y),
        x=covariates,
        model=regression.model,
        fe=regression.fe,
        transform=regression.transform,
        regions=_regions(args) if by_region or hierarchical else None,
        logdet=regression.logdet,
    )
    progress(
        f"{model.spec.label()}, estimator {args.estimator}"
        + (", national and by region" if by_region else "")
    )
    method = "ml" if args.estimator == "mle" else "bayes"
    config = {
        key: str(value) if isinstance(value, Path) else value
        for key, value in vars(args).items()
        if not key.startswith("_")
    }
    if method == "bayes" and settings.hierarchical:
        return _run_hierarchical(args, model, settings, seed, config)
    fits = as_collection(
        model.fit(method, by_region=by_region, seed=seed, settings=settings, progress=progress)
    )
    progress("writing tables" + (" and figures" if args.figures and method == "bayes" else ""))
    with atomic_output_dir(args.out, protect=input_paths(args)) as staging:
        fits.write(staging, figures=args.figures, metadata=run_metadata(config, seed))
    print("\n".join(fits.summary().lines))
    filled = fits.main.info["filled_cells"]
    if filled:
        cells = ", ".join(f"{c['unit']} {c['period']} {c['column']}" for c in filled)
        print(
            f"Filled by linear interpolation, {len(filled)} cell(s) (listed in "
            f"filled_cells.csv): {cells}."
        )
    print(f"Results written to {args.out}/")
    return 0


def _run_hierarchical(
    args: argparse.Namespace, model: Any, settings: Any, seed: int, config: dict[str, Any]
) -> int:
    """Fit the hierarchical model and the sub-samples; write them side by side.

    ``--out`` gets the hierarchical fit (effects by region, ``pooling.csv``) and the
    sub-sample MLE and posterior next to it (``regional_<effect>`` tables and figures).
    """
    from bayes_ccd.report.output import atomic_output_dir, run_metadata
    from bayes_ccd.spatial.regional_comparison import compare_regions

    comparison = compare_regions(model, settings=settings, seed=seed, progress=progress)
    progress("writing tables" + (" and figures" if args.figures else ""))
    with atomic_output_dir(args.out, protect=input_paths(args)) as staging:
        comparison.write(staging, figures=args.figures, metadata=run_metadata(config, seed))
    print("\n".join(comparison.summary().lines))
    print(f"Results written to {args.out}/")
    return 0
