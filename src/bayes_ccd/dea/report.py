"""Summaries and output files of a DEA."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.conventions import PERIOD, UNIT
from bayes_ccd.dea.model import RTS_LABELS, DEAResult
from bayes_ccd.report.output import run_metadata, write_json
from bayes_ccd.report.tables import write_table

# --------------------------------------------------------------------------------------
# summaries and output files


def dea_summary(result: DEAResult) -> dict[str, Any]:
    """Headline figures as the seed paper reports them.

    Keys: ``n_units``, ``orientation``, ``rts``; per model ``mean_crs`` (mean
    comprehensive technical efficiency), ``mean_vrs`` (pure technical); ``mean_scale``;
    ``n_efficient`` and ``share_efficient`` (units with comprehensive efficiency 1,
    "DEA efficient" in the seed paper; VRS score when only VRS was run),
    ``n_strongly_efficient`` (of those, units with zero slacks too),
    ``returns_to_scale`` (counts of increasing / constant / decreasing) and
    ``n_super_infeasible``.
    """
    table = result.efficiency
    main = result.models[0]
    n = len(table)
    efficient = int((table[main] == 1.0).sum())
    summary: dict[str, Any] = {
        "n_units": n,
        "orientation": result.orientation,
        "rts": result.rts,
        "efficient_model": main,
    }
    for model in result.models:
        summary[f"mean_{model}"] = float(table[model].mean())
    if "scale" in table:
        summary["mean_scale"] = float(table["scale"].mean())
    summary["n_efficient"] = efficient
    summary["share_efficient"] = efficient / n
    summary["n_strongly_efficient"] = int(table[f"{main}_efficient"].sum())
    if "rts" in table:
        counts = table["rts"].value_counts()
        summary["returns_to_scale"] = {label: int(counts.get(label, 0)) for label in RTS_LABELS}
    feasible = [c for c in table.columns if c.startswith("super_") and c.endswith("_feasible")]
    if feasible:
        summary["n_super_infeasible"] = int((~table[feasible]).any(axis=1).sum())
    return summary


def malmquist_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Geometric means of the Malmquist components per pair of periods and overall
    (ratios are averaged geometrically, as DEAP reports them; Coelli 1996)."""
    columns = ["effch", "techch", "pech", "sech", "tfpch"]

    def geomean(frame: pd.DataFrame) -> dict[str, float]:
        return {c: float(np.exp(np.log(frame[c]).mean())) for c in columns}

    by_pair = [
        {"period_from": _plain(a), "period_to": _plain(b), **geomean(rows)}
        for (a, b), rows in table.groupby(["period_from", "period_to"], sort=True)
    ]
    return {"by_period": by_pair, "overall": geomean(table)}


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON can hold."""
    return value.item() if isinstance(value, np.generic) else value


def summary_markdown(summary: Mapping[str, Any], period: Any = None) -> str:
    """The summary of :func:`dea_summary` as a few Markdown lines."""
    n = summary["n_units"]
    head = "DEA summary" + ("" if period is None else f", period {period}")
    lines = [f"## {head}", "", f"- Units: {n} ({summary['orientation']} orientation)"]
    labels = {
        "crs": "comprehensive technical efficiency (CRS)",
        "vrs": "pure technical efficiency (VRS)",
    }
    for model, label in labels.items():
        if f"mean_{model}" in summary:
            lines.append(f"- Mean {label}: {summary[f'mean_{model}']:.3f}")
    if "mean_scale" in summary:
        lines.append(f"- Mean scale efficiency: {summary['mean_scale']:.3f}")
    model = summary["efficient_model"].upper()
    lines.append(
        f"- DEA efficient ({model} score = 1): {summary['n_efficient']} of {n} "
        f"({100 * summary['share_efficient']:.1f}%), of which "
        f"{summary['n_strongly_efficient']} with zero slacks"
    )
    if "returns_to_scale" in summary:
        counts = summary["returns_to_scale"]
        lines.append("- Returns to scale: " + ", ".join(f"{counts[k]} {k}" for k in RTS_LABELS))
    if summary.get("n_super_infeasible"):
        lines.append(
            f"- Super-efficiency infeasible (VRS) for {summary['n_super_infeasible']} "
            "unit(s); see super_vrs_reason"
        )
    return "\n".join(lines) + "\n"


def _tables(
    by_period: Mapping[Any, DEAResult], make: Callable[[DEAResult], pd.DataFrame]
) -> pd.DataFrame:
    """``make(result)``; with several periods, one block per period stacked with a
    ``period`` column in front."""
    if list(by_period) == [None]:
        return make(by_period[None])
    blocks = []
    for period, result in by_period.items():
        block = make(result).copy()  # never modify a result's own tables
        block.insert(0, PERIOD, period)
        blocks.append(block)
    return pd.concat(blocks, ignore_index=True)


def write_dea_outputs(
    results: DEAResult | Mapping[Any, DEAResult],
    out_dir: str | Path,
    malmquist: pd.DataFrame | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    filled: pd.DataFrame | None = None,
) -> str:
    """Write the DEA tables, summary and metadata into ``out_dir``.

    Files: ``efficiency.{csv,md,tex}`` (:meth:`DEAResult.table`; with several periods
    one block per period with a ``period`` column), ``targets.{csv,md,tex}``,
    ``lambdas.csv``, ``summary.json``, ``summary.md``, ``metadata.json``, when
    ``malmquist`` is given ``malmquist.{csv,md,tex}`` and, when cells were filled by
    interpolation, ``filled_cells.csv``. Call it inside
    :func:`bayes_ccd.report.output.atomic_output_dir` so that a failure leaves nothing
    behind.

    Parameters
    ----------
    results
        One :class:`DEAResult`, or a mapping period -> result (:func:`dea_panel`).
    out_dir
        Directory to write into (created if needed).
    malmquist
        Output of :func:`malmquist`.
    config
        Extra configuration recorded in ``metadata.json`` (e.g. the data file).
    filled
        Cells filled by interpolation (:attr:`DEAData.filled`), listed in the summary.

    Returns
    -------
    str
        The Markdown summary (also written as ``summary.md``), for printing.
    """
    out_dir = Path(out_dir)
    single = isinstance(results, DEAResult)
    by_period: Mapping[Any, DEAResult] = {None: results} if single else results
    first = next(iter(by_period.values()))
    caption = (
        f"DEA efficiency ({first.orientation} orientation): comprehensive (CRS), "
        "pure technical (VRS) and scale efficiency"
    )
    write_table(
        _tables(by_period, DEAResult.table), out_dir, "efficiency", digits=4, caption=caption
    )
    write_table(
        _tables(by_period, _long_targets),
        out_dir,
        "targets",
        digits=4,
        caption="DEA targets (projections on the efficient frontier)",
    )
    write_table(_tables(by_period, lambda r: r.lambdas), out_dir, "lambdas", formats=("csv",))

    summaries = {p: dea_summary(r) for p, r in by_period.items()}
    text = "# Data envelopment analysis\n\n" + "\n".join(
        summary_markdown(s, p) for p, s in summaries.items()
    )
    summary: dict[str, Any] = (
        summaries[None]
        if single
        else {"by_period": [{PERIOD: _plain(p), **s} for p, s in summaries.items()]}
    )
    if malmquist is not None:
        write_table(
            malmquist,
            out_dir,
            "malmquist",
            digits=4,
            caption="Malmquist productivity index (above 1: growth) and its decomposition",
        )
        summary["malmquist"] = malmquist_summary(malmquist)
        overall = summary["malmquist"]["overall"]
        text += (
            "\n## Malmquist index (geometric means over units and periods)\n\n"
            + "\n".join(f"- {k}: {v:.4f}" for k, v in overall.items())
            + "\n"
        )
    if filled is not None and len(filled):
        filled.to_csv(out_dir / "filled_cells.csv", index=False)
        cells = "; ".join(
            f"{row[UNIT]} {row[PERIOD]} {row['column']}" for _, row in filled.iterrows()
        )
        summary["n_filled_cells"] = len(filled)
        text += f"\nFilled by linear interpolation ({len(filled)} cells): {cells}.\n"
    write_json(summary, out_dir / "summary.json")
    (out_dir / "summary.md").write_text(text, encoding="utf-8")
    recorded = {**first.config, **(dict(config) if config else {})}
    if not single:
        recorded["periods"] = [_plain(p) for p in by_period]
        recorded.pop("period", None)
    write_json(run_metadata(recorded, seed=None), out_dir / "metadata.json")
    return text


def _long_targets(result: DEAResult) -> pd.DataFrame:
    """Targets of every model side by side: ``<model>_target_<variable>``."""
    return pd.concat(
        [result.targets[m].add_prefix(f"{m}_target_") for m in result.models], axis=1
    ).reset_index()
