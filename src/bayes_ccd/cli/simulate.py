"""``bayes-ccd simulate``: a SYNTHETIC spatial panel with known parameters on any W.

For Monte Carlo checks of a design before the data are in, and for the county-level
example (``make demo-county``): the panel is drawn by
:func:`bayes_ccd.spatial.simulate.simulate_panel` on the units of the weights, and the
true parameters and effects go to ``<stem>.meta.json`` next to the CSV.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from bayes_ccd.cli.common import (
    WEIGHTS_FLAGS,
    add_setting,
    add_weights_arguments,
    progress,
    settings_from,
    split_list,
    weights_settings_from,
)
from bayes_ccd.exceptions import ConfigError, OutputError
from bayes_ccd.settings import RegressionSettings, RunSettings

NAME = "simulate"
HELP = "write a SYNTHETIC spatial panel (SDM, SAR, SEM, SDEM) with known parameters on a W"

#: The panel of the large-panel benchmark and the county example: four covariates.
DEFAULT_BETA = "0.5,-0.3,0.2,0.4"
DEFAULT_THETA = "0.2,0.1,-0.2,0.1"


def _floats(text: str) -> list[float]:
    try:
        values = [float(item) for item in split_list(text)]
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {text!r}"
        ) from error
    if not values or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"not a list of finite numbers: {text!r}")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``bayes-ccd simulate``."""
    add_weights_arguments(
        parser,
        "spatial weights whose units the panel has: a weights file, "
        "bundled:province-contiguity, bundled:china-province|prefecture|county, or a "
        "builder with its --coordinates (knn:6, distance-band:800, ...)",
    )
    add_setting(parser, RegressionSettings, "model")
    add_setting(parser, RegressionSettings, "fe")
    parser.add_argument("--periods", type=int, default=12, help="number of periods T (default 12)")
    parser.add_argument(
        "--rho", type=float, default=0.4, help="spatial parameter (rho or lambda; default 0.4)"
    )
    parser.add_argument(
        "--beta", type=_floats, default=_floats(DEFAULT_BETA), help=f"default {DEFAULT_BETA}"
    )
    parser.add_argument(
        "--theta",
        type=_floats,
        default=None,
        help=f"coefficients of W X (SDM, SDEM; default {DEFAULT_THETA})",
    )
    parser.add_argument("--sigma2", type=float, default=1.0, help="error variance (default 1)")
    add_setting(parser, RunSettings, "seed")
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="CSV file to write (unit, period, y, x1..xK; the truth goes to <stem>.meta.json)",
    )


def run(args: argparse.Namespace) -> int:
    """Draw the panel, write it and its truth; refuse to overwrite a file."""
    regression = settings_from(args, RegressionSettings, fields=("model", "fe"))
    weights_settings = weights_settings_from(args)
    seed = settings_from(args, RunSettings, fields=("seed",)).seed
    # The Durbin models of spatial.design, named here so that the check imports no numpy.
    durbin = regression.model in ("sdm", "sdem")
    theta = args.theta if args.theta is not None else (_floats(DEFAULT_THETA) if durbin else None)
    if theta is not None and not durbin:
        raise ConfigError(
            f"--theta belongs to the Durbin models (sdm, sdem), not {regression.model}"
        )
    if theta is not None and len(theta) != len(args.beta):
        raise ConfigError(
            f"--theta has {len(theta)} values and --beta {len(args.beta)}: one each per covariate"
        )
    if args.periods < 2:
        raise ConfigError(f"--periods must be at least 2, got {args.periods}")
    if args.sigma2 <= 0:
        raise ConfigError(f"--sigma2 must be positive, got {args.sigma2}")
    meta_path = args.out.with_name(f"{args.out.stem}.meta.json")
    for path in (args.out, meta_path):
        if path.exists():
            raise OutputError(f"{path} exists; choose a new file name")

    from bayes_ccd.data.builders import weights_from_settings
    from bayes_ccd.report.output import run_metadata, write_json
    from bayes_ccd.spatial.simulate import SIMULATED_NOTICE, simulate_panel, true_effects

    progress(f"building the weights {weights_settings.source}")
    weights = weights_from_settings(weights_settings)
    lower, upper = weights.rho_bounds()
    if not lower < args.rho < upper:
        raise ConfigError(
            f"--rho {args.rho} is outside ({lower:.4g}, {upper:.4g}), where I - rho W is "
            "invertible for this W"
        )
    progress(
        f"drawing {regression.model.upper()} panel: {weights.n:,} units x {args.periods} periods"
    )
    parameters = {
        "model": regression.model,
        "fe": regression.fe,
        "n_periods": args.periods,
        "beta": args.beta,
        "theta": theta,
        "spatial": args.rho,
        "sigma2": args.sigma2,
    }
    arrays = simulate_panel(weights, seed=seed, **parameters)  # type: ignore[arg-type]
    effects = true_effects(
        weights, beta=args.beta, theta=theta, spatial=args.rho, model=regression.model
    )
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k[0] != "_"}
    meta = run_metadata(
        config,
        seed,
        synthetic=True,
        notice=SIMULATED_NOTICE,
        generator="bayes_ccd.spatial.simulate.simulate_panel",
        parameters=parameters,
        true_effects=effects.reset_index().to_dict(orient="records"),
        weights=weights.summary(),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # Both files or neither: write beside the targets, then rename.
    staged = [path.with_name(f".{path.name}.partial") for path in (args.out, meta_path)]
    try:
        arrays.to_frame().to_csv(staged[0], index=False)
        write_json(meta, staged[1])
        os.replace(staged[1], meta_path)
        try:
            os.replace(staged[0], args.out)
        except OSError:
            meta_path.unlink(missing_ok=True)
            raise
    finally:
        for path in staged:
            path.unlink(missing_ok=True)
    x = ",".join(arrays.x_names)
    # The weights flags the user gave, so that the fit builds the same W.
    weights_flags = "".join(
        f" --{dest.replace('_', '-')} {getattr(args, dest)}"
        for dest in list(WEIGHTS_FLAGS.values())[1:]
        if getattr(args, dest)
    )
    print(f"Wrote {args.out} ({weights.n:,} units x {args.periods} periods). {SIMULATED_NOTICE}")
    print("True effects:\n" + effects.round(4).to_string())
    print(
        f"Fit it with: bayes-ccd fit --data {args.out} --unit unit --time period --y y "
        f"--x {x} --weights {weights_settings.source}{weights_flags} --model {regression.model} "
        f"--fe {regression.fe} --estimator bayes --out <directory>"
    )
    return 0
