"""What a DEA returns: one cross-section, the Malmquist index, and both of a panel.

:func:`~bayes_ccd.efficiency.model.dea` returns a :class:`DEAResult`,
:func:`~bayes_ccd.efficiency.malmquist.malmquist` a :class:`MalmquistIndex`, and
:func:`~bayes_ccd.efficiency.model.dea_panel` and
:func:`~bayes_ccd.efficiency.analysis.efficiency_analysis` an :class:`Efficiency` (the DEA of
one or several periods, the Malmquist index and the cells filled by interpolation).
Each has ``summary()`` (a :class:`~bayes_ccd.report.summary.Summary`); a DEA result
and an :class:`Efficiency` also have ``write(directory)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.report.output import run_metadata, write_json
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import write_table

RTS_LABELS = ("increasing", "constant", "decreasing")
#: The Malmquist index and its parts, in the order of the tables.
MALMQUIST_PARTS = ("effch", "techch", "pech", "sech", "tfpch")
_MODEL_LABELS = {
    "crs": "comprehensive technical efficiency (CRS)",
    "vrs": "pure technical efficiency (VRS)",
}
#: Columns of the efficiency table that a summary shows (slacks and peers are in files).
_SCORE_COLUMNS = ("crs", "vrs", "scale", "rts", "super_crs", "super_vrs")
_TITLE = "Data envelopment analysis"


def _plain(value: Any) -> Any:
    """Return a numpy scalar as the Python value JSON can hold (others unchanged)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class DEAResult:
    """DEA of one cross-section of units.

    Attributes
    ----------
    efficiency
        One row per unit (index ``unit``). Columns, depending on ``rts``:
        ``crs`` (comprehensive technical efficiency, CCR), ``vrs`` (pure technical
        efficiency, BCC), ``scale`` (= crs / vrs), ``rts`` (returns to scale:
        increasing, constant, decreasing), ``nirs`` (the NIRS score behind ``rts``),
        ``crs_efficient`` / ``vrs_efficient`` (score 1 and all max-slack-phase slacks
        zero: efficient in the Pareto-Koopmans sense of Cooper et al. 2007, ch. 3),
        and with super-efficiency ``super_crs``, ``super_crs_feasible``,
        ``super_vrs``, ``super_vrs_feasible``, ``super_vrs_reason``.
    lambdas
        Long table of the intensity weights of the max-slack phase, one row per
        positive weight: ``model`` (crs/vrs), ``unit``, ``peer``, ``lambda``. The peers
        of a unit are its rows.
    slacks
        Per model, a table (unit by input and output) of the max-slack-phase slacks in
        the data's units: input excesses and output shortfalls, both >= 0.
    targets
        Per model, the projection of each unit on the efficient frontier
        (Cooper et al. 2007, ch. 3): input orientation
        ``x* = theta x_o - s-``, ``y* = y_o + s+``; output orientation
        ``x* = x_o - s-``, ``y* = phi y_o + s+``.
    inputs, outputs
        Column names, in order.
    orientation, rts
        As requested.
    config
        How the result was made (options, tolerance, solver), for ``metadata.json``.
    period
        The period of a panel this cross-section belongs to, or ``None``.
    """

    efficiency: pd.DataFrame
    lambdas: pd.DataFrame
    slacks: dict[str, pd.DataFrame]
    targets: dict[str, pd.DataFrame]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    orientation: str
    rts: str
    config: dict[str, Any] = field(default_factory=dict)
    period: Any = None

    @property
    def models(self) -> tuple[str, ...]:
        """The envelopment models solved: ``("crs",)``, ``("vrs",)`` or both."""
        return ("crs", "vrs") if self.rts == "both" else (self.rts,)

    @property
    def units(self) -> list[Any]:
        """The unit labels, in the order of the tables."""
        return list(self.efficiency.index)

    def peers(self, model: str) -> pd.Series:
        """Return the peers of each unit as text, ``"B (0.5000); E (0.5000)"``.

        Parameters
        ----------
        model
            ``"crs"`` or ``"vrs"``.

        Returns
        -------
        pandas.Series
            One entry per unit, named ``<model>_peers``; the lambda of each peer is in
            brackets.
        """
        rows = self.lambdas[self.lambdas["model"] == model]
        text = {
            unit: "; ".join(f"{p} ({v:.4f})" for p, v in zip(g["peer"], g["lambda"], strict=True))
            for unit, g in rows.groupby("unit", sort=False)
        }
        return pd.Series(
            [text.get(u, "") for u in self.units],
            index=self.efficiency.index,
            name=f"{model}_peers",
        )

    def table(self) -> pd.DataFrame:
        """Return the flat table written as ``efficiency.csv``.

        Returns
        -------
        pandas.DataFrame
            The scores, then per model the slacks (``<model>_slack_<variable>``) and
            peers (``<model>_peers``), one row per unit.
        """
        parts = [self.efficiency]
        for model in self.models:
            parts.append(self.slacks[model].add_prefix(f"{model}_slack_"))
            parts.append(self.peers(model).to_frame())
        return pd.concat(parts, axis=1).reset_index()

    def targets_table(self) -> pd.DataFrame:
        """Return the targets of every model side by side, as ``targets.csv`` holds them.

        Returns
        -------
        pandas.DataFrame
            One row per unit, columns ``<model>_target_<variable>``.
        """
        return pd.concat(
            [self.targets[m].add_prefix(f"{m}_target_") for m in self.models], axis=1
        ).reset_index()

    def headline(self) -> dict[str, Any]:
        """Return the headline figures as the seed paper reports them.

        Returns
        -------
        dict
            ``n_units``, ``orientation``, ``rts``, ``efficient_model``; per model
            ``mean_crs`` (mean comprehensive technical efficiency), ``mean_vrs`` (pure
            technical); ``mean_scale``; ``n_efficient`` and ``share_efficient`` (units
            with comprehensive efficiency 1, "DEA efficient" in the seed paper; VRS
            score when only VRS was run), ``n_strongly_efficient`` (of those, units
            with zero slacks too), ``returns_to_scale`` (counts of increasing /
            constant / decreasing) and ``n_super_infeasible``.
        """
        table = self.efficiency
        main = self.models[0]
        n = len(table)
        efficient = int((table[main] == 1.0).sum())
        figures: dict[str, Any] = {
            "n_units": n,
            "orientation": self.orientation,
            "rts": self.rts,
            "efficient_model": main,
        }
        for model in self.models:
            figures[f"mean_{model}"] = float(table[model].mean())
        if "scale" in table:
            figures["mean_scale"] = float(table["scale"].mean())
        figures["n_efficient"] = efficient
        figures["share_efficient"] = efficient / n
        figures["n_strongly_efficient"] = int(table[f"{main}_efficient"].sum())
        if "rts" in table:
            counts = table["rts"].value_counts()
            figures["returns_to_scale"] = {label: int(counts.get(label, 0)) for label in RTS_LABELS}
        feasible = [c for c in table.columns if c.startswith("super_") and c.endswith("_feasible")]
        if feasible:
            figures["n_super_infeasible"] = int((~table[feasible]).any(axis=1).sum())
        return figures

    def summary(self) -> Summary:
        """Return the summary: facts, headline sentences and the table of scores.

        Returns
        -------
        Summary
            As :meth:`Efficiency.summary` of this cross-section alone.
        """
        return Efficiency({self.period: self}).summary()

    def write(
        self, directory: str | Path, *, config: Mapping[str, Any] | None = None
    ) -> list[Path]:
        """Write the tables, summary and metadata of this DEA into ``directory``.

        Parameters
        ----------
        directory
            Where to write (created if needed).
        config
            Extra configuration recorded in ``metadata.json`` (e.g. the data file).

        Returns
        -------
        list of pathlib.Path
            The files written; see :meth:`Efficiency.write`.
        """
        return Efficiency({self.period: self}).write(directory, config=config)


def _headline_lines(figures: Mapping[str, Any]) -> list[str]:
    """Return the headline sentences of :meth:`DEAResult.headline`, one per figure."""
    n = figures["n_units"]
    lines = [f"Units: {n} ({figures['orientation']} orientation)"]
    for model, label in _MODEL_LABELS.items():
        if f"mean_{model}" in figures:
            lines.append(f"Mean {label}: {figures[f'mean_{model}']:.3f}")
    if "mean_scale" in figures:
        lines.append(f"Mean scale efficiency: {figures['mean_scale']:.3f}")
    model = figures["efficient_model"].upper()
    lines.append(
        f"DEA efficient ({model} score = 1): {figures['n_efficient']} of {n} "
        f"({100 * figures['share_efficient']:.1f}%), of which "
        f"{figures['n_strongly_efficient']} with zero slacks"
    )
    if "returns_to_scale" in figures:
        counts = figures["returns_to_scale"]
        lines.append("Returns to scale: " + ", ".join(f"{counts[k]} {k}" for k in RTS_LABELS))
    if figures.get("n_super_infeasible"):
        lines.append(
            f"Super-efficiency infeasible (VRS) for {figures['n_super_infeasible']} "
            "unit(s); see super_vrs_reason"
        )
    return lines


@dataclass(frozen=True)
class MalmquistIndex:
    """The Malmquist productivity index of consecutive periods and its decomposition.

    Attributes
    ----------
    table
        One row per unit and consecutive pair of periods: ``unit``, ``period_from``,
        ``period_to``, ``effch``, ``techch``, ``pech``, ``sech``, ``tfpch``, and the
        efficiencies behind them (see :func:`~bayes_ccd.efficiency.malmquist.malmquist`).
    orientation
        ``"input"`` or ``"output"``.
    periods
        The periods of the panel, in increasing order.
    """

    table: pd.DataFrame
    orientation: str
    periods: tuple[Any, ...]

    def means(self) -> dict[str, Any]:
        """Return the geometric means of the parts per pair of periods and overall.

        Ratios are averaged geometrically, as DEAP reports them (Coelli 1996).

        Returns
        -------
        dict
            ``by_period``: one entry per pair (``period_from``, ``period_to`` and the
            means of :data:`MALMQUIST_PARTS`); ``overall``: the means over every unit
            and pair.
        """

        def geomean(frame: pd.DataFrame) -> dict[str, float]:
            return {c: float(np.exp(np.log(frame[c]).mean())) for c in MALMQUIST_PARTS}

        by_pair = [
            {"period_from": _plain(a), "period_to": _plain(b), **geomean(rows)}
            for (a, b), rows in self.table.groupby(["period_from", "period_to"], sort=True)
        ]
        return {"by_period": by_pair, "overall": geomean(self.table)}

    def headline_line(self) -> str:
        """Return the one-sentence summary of the overall index and its two main parts."""
        overall = self.means()["overall"]
        return (
            f"Malmquist index {self.periods[0]}-{self.periods[-1]} (geometric mean over "
            f"units and years, > 1 is growth): TFP change {overall['tfpch']:.4f} = "
            f"efficiency change {overall['effch']:.4f} x technical change "
            f"{overall['techch']:.4f}."
        )

    def means_table(self) -> SummaryTable:
        """Return the geometric means per pair of periods and overall, as a summary table."""
        means = self.means()
        rows = [
            {
                "periods": f"{m['period_from']}-{m['period_to']}",
                **{c: m[c] for c in MALMQUIST_PARTS},
            }
            for m in means["by_period"]
        ]
        rows.append({"periods": "overall", **means["overall"]})
        return SummaryTable(
            pd.DataFrame(rows),
            caption="Malmquist index (geometric means over units; above 1: growth)",
            digits=4,
        )

    def summary(self) -> Summary:
        """Return the summary: facts, the headline sentence and the table of means.

        Returns
        -------
        Summary
        """
        return Summary(
            "Malmquist productivity index",
            facts={
                "Units": int(self.table[UNIT].nunique()),
                "Periods": f"{self.periods[0]}-{self.periods[-1]} ({len(self.periods)})",
                "Orientation": self.orientation,
            },
            lines=[self.headline_line()],
            tables=[self.means_table()],
        )


@dataclass(frozen=True)
class Efficiency:
    """The DEA of one or several periods, the Malmquist index and the filled cells.

    Attributes
    ----------
    results
        Period (in increasing order; ``None`` for a lone cross-section) to its DEA. With
        one entry the outputs are those of a cross-section; with several, every table
        has a ``period`` column and ``summary.json`` one entry per period.
    malmquist
        The Malmquist index across the periods of the panel, if computed.
    filled
        Cells filled by interpolation (``unit, period, column, value``), listed in the
        summary and written as ``filled_cells.csv``.
    bootstrap
        The :class:`~bayes_ccd.efficiency.bootstrap.DEABootstrap` of the cross-section
        (bias-corrected scores and intervals), if computed; its sentences and table
        join the summary and it writes ``bootstrap.{csv,md,tex}`` and its figure.
    """

    results: Mapping[Any, DEAResult]
    malmquist: MalmquistIndex | None = None
    filled: pd.DataFrame | None = None
    # Any, not DEABootstrap: the bootstrap module builds on the DEA, which returns these.
    bootstrap: Any = None

    def __post_init__(self) -> None:
        """Refuse an empty set of cross-sections (every output describes at least one)."""
        if not self.results:
            raise ValueError("an Efficiency holds the DEA of at least one period")

    @property
    def periods(self) -> list[Any]:
        """The periods of the cross-sections, in order."""
        return list(self.results)

    @property
    def is_panel(self) -> bool:
        """Whether there are several cross-sections (tables get a ``period`` column)."""
        return len(self.results) > 1

    def cross_section(self, period: Any = None) -> DEAResult:
        """Return the DEA of one period.

        Parameters
        ----------
        period
            The period; may be left out when there is only one cross-section.

        Returns
        -------
        DEAResult

        Raises
        ------
        KeyError
            No cross-section of ``period``, or several and no ``period`` given.
        """
        if period is None and not self.is_panel:
            return next(iter(self.results.values()))
        if period not in self.results:
            raise KeyError(f"no DEA of period {period!r}; periods: {self.periods}")
        return self.results[period]

    def _filled_line(self) -> str | None:
        if self.filled is None or not len(self.filled):
            return None
        cells = "; ".join(
            f"{row[UNIT]} {row[PERIOD]} {row['column']}" for _, row in self.filled.iterrows()
        )
        return f"Filled by linear interpolation ({len(self.filled)} cells): {cells}."

    def _stacked(self, make: Callable[[DEAResult], pd.DataFrame]) -> pd.DataFrame:
        """Return ``make(result)``, for a panel stacked with a ``period`` column in front."""
        if not self.is_panel:
            return make(self.cross_section())
        blocks = []
        for period, result in self.results.items():
            block = make(result).copy()  # never modify a result's own tables
            block.insert(0, PERIOD, period)
            blocks.append(block)
        return pd.concat(blocks, ignore_index=True)

    def headline(self) -> dict[str, Any]:
        """Return the headline figures, as ``summary.json`` holds them.

        Returns
        -------
        dict
            :meth:`DEAResult.headline` of a cross-section, or ``by_period`` (a list of
            them with their ``period``) for a panel; ``malmquist``
            (:meth:`MalmquistIndex.means`) and ``n_filled_cells`` when there are any.
        """
        figures: dict[str, Any] = (
            {"by_period": [{PERIOD: _plain(p), **r.headline()} for p, r in self.results.items()]}
            if self.is_panel
            else self.cross_section().headline()
        )
        if self.malmquist is not None:
            figures["malmquist"] = self.malmquist.means()
        if self.filled is not None and len(self.filled):
            figures["n_filled_cells"] = len(self.filled)
        return figures

    def summary(self) -> Summary:
        """Return the summary: facts, headline sentences, scores and Malmquist means.

        Returns
        -------
        Summary
            Its ``lines`` are the headline sentences of every period (prefixed with the
            period in a panel), the Malmquist index and the filled cells; its tables
            the scores (``crs``, ``vrs``, ``scale``, ``rts`` and the super-efficiencies)
            and the Malmquist means.
        """
        first = next(iter(self.results.values()))
        facts: dict[str, Any] = {
            "Units": len(first.efficiency),
            "Orientation": first.orientation,
            "Returns to scale": first.rts,
            "Inputs": list(first.inputs),
            "Outputs": list(first.outputs),
        }
        if self.is_panel:
            facts["Periods"] = [_plain(p) for p in self.periods]
        elif first.period is not None:
            facts["Period"] = _plain(first.period)
        lines = []
        for period, result in self.results.items():
            prefix = f"{period}: " if self.is_panel else ""
            lines += [prefix + line for line in _headline_lines(result.headline())]
        scores = self._stacked(
            lambda r: r.efficiency[[c for c in _SCORE_COLUMNS if c in r.efficiency]].reset_index()
        )
        tables = [
            SummaryTable(
                scores,
                caption=f"DEA efficiency ({first.orientation} orientation)",
                digits=4,
            )
        ]
        if self.malmquist is not None:
            lines.append(self.malmquist.headline_line())
            tables.append(self.malmquist.means_table())
        if self.bootstrap is not None:
            lines += self.bootstrap.headline_lines()
            tables.append(self.bootstrap.summary_table())
        filled = self._filled_line()
        if filled:
            lines.append(filled)
        return Summary(_TITLE, facts=facts, lines=lines, tables=tables)

    def markdown_report(self) -> str:
        """Return the Markdown report written as ``summary.md`` (and printed by the CLI).

        Returns
        -------
        str
            A section of headline sentences per period, the geometric means of the
            Malmquist parts and the filled cells.
        """
        sections = []
        for period, result in self.results.items():
            head = "DEA summary" + (f", period {period}" if self.is_panel else "")
            items = "\n".join(f"- {line}" for line in _headline_lines(result.headline()))
            sections.append(f"## {head}\n\n{items}\n")
        text = f"# {_TITLE}\n\n" + "\n".join(sections)
        if self.malmquist is not None:
            overall = self.malmquist.means()["overall"]
            text += (
                "\n## Malmquist index (geometric means over units and periods)\n\n"
                + "\n".join(f"- {k}: {v:.4f}" for k, v in overall.items())
                + "\n"
            )
        if self.bootstrap is not None:
            text += "\n## Bootstrap (Simar-Wilson 1998)\n\n" + "\n".join(
                f"- {line}" for line in self.bootstrap.headline_lines()
            )
            text += "\n"

        filled = self._filled_line()
        if filled:
            text += f"\n{filled}\n"
        return text

    def write(
        self,
        directory: str | Path,
        *,
        config: Mapping[str, Any] | None = None,
        figures: bool = True,
        notice: str = "",
    ) -> list[Path]:
        """Write the DEA tables, summary and metadata into ``directory``.

        Files: ``efficiency.{csv,md,tex}`` (:meth:`DEAResult.table`; for a panel one
        block per period with a ``period`` column), ``targets.{csv,md,tex}``,
        ``lambdas.csv``, with a Malmquist index ``malmquist.{csv,md,tex}``, with a
        bootstrap ``bootstrap.{csv,md,tex}``, ``rts_test.json`` (both models) and
        (``figures``) ``bootstrap_intervals.png``, when cells
        were filled ``filled_cells.csv``, then ``summary.json`` (:meth:`headline`),
        ``summary.md`` (:meth:`markdown_report`) and ``metadata.json``. Call it inside
        :func:`bayes_ccd.report.output.atomic_output_dir` so that a failure leaves
        nothing behind.

        Parameters
        ----------
        directory
            Where to write (created if needed).
        config
            Extra configuration recorded in ``metadata.json`` (e.g. the data file),
            over the options of the DEA itself.
        figures
            Draw the figure of the bootstrap intervals (tables are always written).
        notice
            What the figures must say about the data (the synthetic demo panel), at
            their foot.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        out = Path(directory)
        first = next(iter(self.results.values()))
        caption = (
            f"DEA efficiency ({first.orientation} orientation): comprehensive (CRS), "
            "pure technical (VRS) and scale efficiency"
        )
        written = write_table(
            self._stacked(DEAResult.table), out, "efficiency", digits=4, caption=caption
        )
        written += write_table(
            self._stacked(DEAResult.targets_table),
            out,
            "targets",
            digits=4,
            caption="DEA targets (projections on the efficient frontier)",
        )
        written += write_table(self._stacked(lambda r: r.lambdas), out, "lambdas", formats=("csv",))
        if self.malmquist is not None:
            written += write_table(
                self.malmquist.table,
                out,
                "malmquist",
                digits=4,
                caption="Malmquist productivity index (above 1: growth) and its decomposition",
            )
        if self.bootstrap is not None:
            written += self.bootstrap.write(out, figures=figures, notice=notice)
        if self.filled is not None and len(self.filled):
            self.filled.to_csv(out / "filled_cells.csv", index=False)
            written.append(out / "filled_cells.csv")
        written.append(write_json(self.headline(), out / "summary.json"))
        (out / "summary.md").write_text(self.markdown_report(), encoding="utf-8")
        written.append(out / "summary.md")
        recorded = {**first.config, **(dict(config) if config else {})}
        if self.is_panel:
            recorded["periods"] = [_plain(p) for p in self.periods]
            recorded.pop("period", None)
        seed = None
        if self.bootstrap is not None:
            recorded["bootstrap"] = self.bootstrap.config
            seed = self.bootstrap.config["seed"]
        written.append(write_json(run_metadata(recorded, seed=seed), out / "metadata.json"))
        return written
