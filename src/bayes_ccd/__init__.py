"""bayes_ccd: coupling coordination of two subsystems across regions and years.

The public API, for notebooks and scripts::

    import bayes_ccd as bc

    panel = bc.read_panel("panel.csv", unit="province", time="year")   # or bc.demo_panel()
    w = bc.read_weights("W.csv")                                       # or bc.province_contiguity()
    w = bc.weights_from_spec("knn:6", units=panel.units)               # or bc.knn_weights(k=6)
    w = bc.china_weights("contiguity", "prefecture", units=panel.units)  # real polygons
    ccd = bc.ccd(panel, bc.read_indicator_system("indicators.toml"))
    model = bc.SpatialPanel("D ~ ln(gdp_per_capita) + 0.01 * tertiary_share",
                            data=ccd.panel, weights=w, model="sdm", fe="both")
    mle = model.fit(method="ml")
    post = model.fit(method="bayes", sampler="exact", prior="reference", seed=1)
    mle.summary(); post.effects(); post.diagnostics(); bc.compare(mle, post)
    post.loo(); bc.compare_models(model, by_region=True).table()

Every name below is importable from ``bayes_ccd`` and nothing else is needed. Names are
loaded on first use (PEP 562), so ``import bayes_ccd`` and the ``bayes-ccd`` command's
``--help`` stay fast. Sub-packages follow the stages of the analysis (see
ARCHITECTURE.md): ``data``, ``indices``, ``exploration``, ``spatial``, ``efficiency``
(DEA), ``qca``, ``report``, ``pipeline`` and ``cli``.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public names by the module that defines them.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "bayes_ccd.conventions": ("INTERVAL_PROB", "DEFAULT_SEED", "NATIONAL"),
    "bayes_ccd.exceptions": (
        "BayesCCDError",
        "ConfigError",
        "DataError",
        "WeightsError",
        "SpecificationError",
        "EstimationError",
        "OutputError",
        "DataWarning",
        "WeightsWarning",
        "NumericalWarning",
        "ConvergenceWarning",
    ),
    "bayes_ccd.run_config": ("RunConfig",),
    "bayes_ccd.settings": (
        "RunSettings",
        "DataSettings",
        "WeightsSettings",
        "EntropySettings",
        "CouplingSettings",
        "ExploreSettings",
        "RegressionSettings",
        "MLESettings",
        "BayesSettings",
        "ModelChoiceSettings",
        "RobustnessSettings",
        "DEASettings",
        "QCASettings",
    ),
    "bayes_ccd.config": ("load_run_config", "demo_config", "bundled_models_dir"),
    "bayes_ccd.data.panel": ("Panel", "read_panel", "validate_panel"),
    "bayes_ccd.data.demo": ("demo_panel", "simulate_demo_panel", "SYNTHETIC_NOTICE"),
    "bayes_ccd.data.regions": ("read_regions", "province_table"),
    "bayes_ccd.data.weights": (
        "SpatialWeights",
        "read_weights",
        "province_contiguity",
        "DENSE_SPECTRUM_LIMIT",
    ),
    "bayes_ccd.data.builders": (
        "weights_from_spec",
        "higher_order_contiguity",
        "knn_weights",
        "inverse_distance_weights",
        "distance_band_weights",
        "economic_weights",
        "boundary_contiguity",
        "unit_means",
        "china_weights",
    ),
    "bayes_ccd.data.boundaries": (
        "china_boundaries",
        "match_china_units",
        "china_contiguity",
        "china_centroids",
        "CHINA_ALBERS",
    ),
    "bayes_ccd.data.coordinates": (
        "Coordinates",
        "read_coordinates",
        "boundary_coordinates",
        "province_capitals",
        "great_circle_distance",
        "EARTH_RADIUS_KM",
    ),
    "bayes_ccd.data.weights_spec": ("WeightsSpec",),
    "bayes_ccd.data.factors": ("Factor", "transform_factors"),
    "bayes_ccd.indices.indicators": ("IndicatorSystem", "read_indicator_system"),
    "bayes_ccd.indices.ccd": ("ccd", "CCDResult"),
    "bayes_ccd.indices.entropy": ("entropy_weights", "min_max_standardise"),
    "bayes_ccd.indices.coupling": (
        "coupling_degree",
        "coupling_coordination_degree",
        "coordination_level",
    ),
    "bayes_ccd.spatial.model": ("SpatialPanel",),
    "bayes_ccd.spatial.arrays": ("PanelArrays",),
    "bayes_ccd.spatial.design": ("ModelSpec",),
    "bayes_ccd.spatial.simulate": ("simulate_panel", "true_effects"),
    "bayes_ccd.spatial.effects": ("direct_effects", "indirect_effects", "total_effects"),
    "bayes_ccd.spatial.results": ("FitCollection",),
    "bayes_ccd.spatial.mle": ("MLEFit",),
    "bayes_ccd.spatial.bayes.fit": ("PosteriorFit",),
    "bayes_ccd.spatial.bayes.hierarchical_fit": ("HierarchicalFit", "fit_hierarchical"),
    "bayes_ccd.spatial.regional_effects": ("regional_effects", "regional_spectrum"),
    "bayes_ccd.spatial.regional_comparison": (
        "RegionalComparison",
        "compare_regions",
        "regional_comparison",
    ),
    "bayes_ccd.spatial.bayes.priors": ("Prior", "DEFAULT_PRIOR", "REFERENCE_PRIOR"),
    "bayes_ccd.spatial.diagnostics": ("Diagnostics",),
    "bayes_ccd.spatial.compare": ("compare", "Comparison"),
    "bayes_ccd.spatial.load": ("load",),
    "bayes_ccd.spatial.selection": ("compare_models", "ModelComparison"),
    "bayes_ccd.sensitivity.suite": ("robustness",),
    "bayes_ccd.sensitivity.result": ("RobustnessResult",),
    "bayes_ccd.spatial.bayes.evidence": ("log_marginal_likelihood", "Evidence"),
    "bayes_ccd.exploration.stage": ("explore", "read_ccd"),
    "bayes_ccd.exploration.result": ("ExplorationResult",),
    "bayes_ccd.exploration.density": (
        "kernel_density_evolution",
        "KernelDensityResult",
        "plot_density_surface",
        "plot_density_ridgeline",
    ),
    "bayes_ccd.exploration.moran": (
        "global_moran",
        "local_moran",
        "global_moran_panel",
        "local_moran_panel",
        "moran_paper_table",
    ),
    "bayes_ccd.exploration.maps": ("plot_choropleth", "plot_lisa_map", "read_boundary"),
    "bayes_ccd.exploration.china_maps": ("china_map_shapes",),
    "bayes_ccd.efficiency.model": ("dea", "dea_panel", "returns_to_scale"),
    "bayes_ccd.efficiency.malmquist": ("malmquist",),
    "bayes_ccd.efficiency.bootstrap": ("dea_bootstrap", "DEABootstrap", "rts_test", "RTSTest"),
    "bayes_ccd.efficiency.result": ("Efficiency", "DEAResult", "MalmquistIndex"),
    "bayes_ccd.efficiency.analysis": ("efficiency_analysis",),
    "bayes_ccd.efficiency.data": ("read_dea_table",),
    "bayes_ccd.qca.calibration": (
        "calibrate",
        "calibrate_frame",
        "percentile_anchors",
        "Anchors",
        "read_anchors",
        "read_cases",
    ),
    "bayes_ccd.qca.measures": ("necessity",),
    "bayes_ccd.qca.truth_table": ("truth_table", "TruthTable"),
    "bayes_ccd.qca.solutions": ("fsqca", "configuration_analysis"),
    "bayes_ccd.qca.robustness": ("qca_robustness", "QCARobustness"),
    "bayes_ccd.qca.result": ("QCAResult", "configuration_chart", "plot_configuration_chart"),
    "bayes_ccd.pipeline": ("run", "RunResult"),
    "bayes_ccd.report.summary": ("Summary",),
}

#: Public names that differ from the name in their module: name -> (module, attribute).
_ALIASES: dict[str, tuple[str, str]] = {
    "weights_from_array": ("bayes_ccd.data.weights", "from_dense"),
    "weights_from_edges": ("bayes_ccd.data.weights", "from_edges"),
    "weights_from_sparse": ("bayes_ccd.data.weights", "from_sparse"),
    "read_prior": ("bayes_ccd.spatial.bayes.priors", "read_prior_file"),
}

_LOCATIONS: dict[str, tuple[str, str]] = {
    name: (module, name) for module, names in _EXPORTS.items() for name in names
} | _ALIASES

__all__ = sorted([*_LOCATIONS, "__version__"])


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("bayes-ccd")
        except PackageNotFoundError:  # running from a source tree
            value = "0.0.0+unknown"
    elif name in _LOCATIONS:
        module, attribute = _LOCATIONS[name]
        value = getattr(importlib.import_module(module), attribute)
    else:
        raise AttributeError(f"module 'bayes_ccd' has no attribute {name!r}")
    globals()[name] = value  # the next access is a plain attribute lookup
    return value


def __dir__() -> list[str]:
    return __all__
