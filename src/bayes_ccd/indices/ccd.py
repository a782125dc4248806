"""From a panel and an indicator system to the coupling coordination degree: :func:`ccd`.

One call runs the seed paper's first two steps: entropy weights and composite indices
U1, U2 (:mod:`bayes_ccd.indices.entropy`), then C, T, D and the ten-level
classification (:mod:`bayes_ccd.indices.coupling`). The result holds the weights, the
indices and the coupling table, and joins them to the panel for the regressions and
the fsQCA that follow (:attr:`CCDResult.panel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bayes_ccd.conventions import PERIOD, REGION, UNIT
from bayes_ccd.data.panel import Panel
from bayes_ccd.exceptions import DataError
from bayes_ccd.indices.coupling import ccd_by_period, ccd_table, levels_table
from bayes_ccd.indices.entropy import EntropyResult, subsystem_indices
from bayes_ccd.indices.indicators import IndicatorSystem
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import write_table
from bayes_ccd.settings import CouplingSettings, EntropySettings

#: Columns of the coupling table that later stages (regressions, fsQCA) may use.
DERIVED = ("U1", "U2", "C", "T", "D")


@dataclass(frozen=True)
class CCDResult:
    """Entropy weights, composite indices and the coupling coordination degree.

    Attributes
    ----------
    entropy
        Weights per indicator and the indices U1, U2 per unit-period.
    table
        One row per unit-period: ``unit, period, [region,] U1, U2, C, T, D, level,
        label`` (``ccd.csv``).
    source
        The panel the indices were computed from.
    entropy_settings, coupling_settings
        How they were computed.
    """

    entropy: EntropyResult
    table: pd.DataFrame
    source: Panel
    entropy_settings: EntropySettings
    coupling_settings: CouplingSettings

    @property
    def weights(self) -> pd.DataFrame:
        """The entropy weights of the indicators."""
        return self.entropy.weights

    def by_period(self, value: str = "D") -> pd.DataFrame:
        """Units by periods of ``value`` with a mean row (the seed paper's Table 4)."""
        return ccd_by_period(self.table, value)

    @property
    def panel(self) -> Panel:
        """The source panel with the columns U1, U2, C, T and D added.

        These are the data of the regressions (``D ~ ...``) and of the fsQCA; filled cells
        are kept.
        """
        clash = [c for c in DERIVED if c in self.source.columns]
        if clash:
            raise DataError(
                f"the panel already has column(s) {clash}, which the coupling stage "
                "computes; rename them",
                file=self.source.source,
            )
        frame = self.source.frame.merge(
            self.table[[UNIT, PERIOD, *DERIVED]], on=[UNIT, PERIOD], how="left"
        )
        return Panel(frame, self.source.source, self.source.filled, self.source.notice)

    def summary(self) -> Summary:
        """Summarise the coupling coordination degree in headline numbers.

        The mean D in the first and last period, by region, the highest D, and the cells
        filled by interpolation.
        """
        ccd = self.table
        periods = sorted(ccd[PERIOD].unique())
        first, last = periods[0], periods[-1]
        mean_d = ccd.groupby(PERIOD)["D"].mean()
        lines = [
            f"Entropy weights ({self.entropy.scope}, shift {self.entropy.shift:g}) for "
            f"{len(self.weights)} indicator rows; composite indices for {len(ccd)} "
            "unit-periods.",
            f"Mean D: {mean_d[first]:.3f} in {first}, {mean_d[last]:.3f} in {last}.",
        ]
        if REGION in ccd:
            by_region = ccd[ccd[PERIOD] == last].groupby(REGION)["D"].mean()
            lines.append(
                f"Mean D in {last} by region: "
                + ", ".join(f"{r} {v:.3f}" for r, v in by_region.items())
                + "."
            )
        top = ccd[ccd[PERIOD] == last].nlargest(1, "D").iloc[0]
        lines.append(f"Highest D in {last}: {top[UNIT]} ({top['D']:.3f}, {top['label']}).")
        filled = self.source.filled
        if len(filled):
            cells = "; ".join(
                f"{r[UNIT]} {r[PERIOD]} {r['column']} = {r['value']:.6g}"
                for _, r in filled.iterrows()
            )
            lines.append(f"Filled by linear interpolation ({len(filled)} cells): {cells}.")
        return Summary(
            title="Coupling coordination degree",
            facts={
                "units x periods": f"{self.source.n_units} x {self.source.n_periods}",
                "entropy weights": self.entropy_settings.scope,
                "coupling formula": self.coupling_settings.formula,
            },
            lines=lines,
            tables=[
                SummaryTable(
                    self.by_period().reset_index(),
                    "Coupling coordination degree D by unit and period",
                    self.source.notice,
                )
            ],
            notice=self.source.notice,
        )

    def write(self, directory: str | Path) -> list[Path]:
        """Write the entropy weights, the CCD tables and the filled cells into ``directory``.

        The files are ``weights``, ``ccd_by_period`` (CSV, Markdown, LaTeX), ``levels``
        (CSV, Markdown), ``ccd.csv`` and ``filled_cells.csv``.
        """
        directory = Path(directory)
        note = self.source.notice or None
        written = write_table(
            self.weights,
            directory,
            "weights",
            digits=4,
            caption="Entropy weights of the indicators",
            notes=note,
        )
        written.append(directory / "ccd.csv")
        self.table.to_csv(written[-1], index=False)
        written += write_table(
            self.by_period().reset_index(),
            directory,
            "ccd_by_period",
            digits=3,
            caption="Coupling coordination degree D by unit and period",
            notes=note,
        )
        written += write_table(
            levels_table(),
            directory,
            "levels",
            formats=("csv", "md"),
            caption="Classification of the coupling coordination degree",
        )
        written.append(directory / "filled_cells.csv")
        self.source.filled.to_csv(written[-1], index=False)
        return written


def ccd(
    panel: Panel,
    system: IndicatorSystem,
    *,
    regions: pd.Series | None = None,
    entropy: EntropySettings | None = None,
    coupling: CouplingSettings | None = None,
    **options: object,
) -> CCDResult:
    """Entropy weights, composite indices U1 and U2, and the coupling coordination degree.

    Parameters
    ----------
    panel
        A validated panel holding every indicator column of ``system``.
    system
        The indicator system (:func:`bayes_ccd.indices.indicators.read_indicator_system`).
    regions
        ``unit -> region``: adds a ``region`` column to the table.
    entropy, coupling
        Settings of the two steps; ``options`` override single fields of either
        (``scope=``, ``shift=``, ``alpha=``, ``beta=``, ``formula=``).

    Returns
    -------
    CCDResult
    """
    entropy = entropy or EntropySettings()
    coupling = coupling or CouplingSettings()
    entropy = entropy.replace(**{k: v for k, v in options.items() if k in ("scope", "shift")})
    coupling = coupling.replace(
        **{k: v for k, v in options.items() if k in ("alpha", "beta", "formula")}
    )
    unknown = sorted(set(options) - {"scope", "shift", "alpha", "beta", "formula"})
    if unknown:
        raise TypeError(f"ccd() got unexpected option(s) {unknown}")
    indices = subsystem_indices(
        panel,
        system,
        scope=entropy.scope,  # type: ignore[arg-type]
        shift=entropy.shift,
    )
    table = ccd_table(
        indices.indices,
        alpha=coupling.alpha,
        beta=coupling.beta,
        formula=coupling.formula,  # type: ignore[arg-type]
        regions=regions,
    )
    return CCDResult(indices, table, panel, entropy, coupling)
