"""The data's notice (the bundled panel is synthetic) on every figure of a fit."""

from __future__ import annotations

import bayes_ccd as bc
from bayes_ccd.config import bundled_models_dir


def test_figures_of_a_fit_to_the_synthetic_panel_say_so(tmp_path):
    system = bc.read_indicator_system(bundled_models_dir() / "indicators.toml")
    coupling = bc.ccd(bc.demo_panel(), system)
    model = bc.SpatialPanel(
        data=coupling.panel, weights=bc.province_contiguity(), y="D", x=list(system.factors)
    )
    fit = model.fit("bayes", seed=3, draws=500, chains=2, ppc_draws=0)
    figures = fit.figures()
    assert figures
    for stem, figure in figures.items():
        assert figure._supxlabel.get_text().startswith("SYNTHETIC DATA"), stem
    # The notice travels with the saved fit.
    fit.save(tmp_path / "fit.nc")
    assert bc.load(tmp_path / "fit.nc").design.data.notice == fit.design.data.notice
    comparison = bc.compare(fit, model.fit("ml"))
    assert comparison.notice == fit.design.data.notice
