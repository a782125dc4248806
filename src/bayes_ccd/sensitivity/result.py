"""The robustness table, its stability summary and forest figures.

For every specification, effect (direct, indirect, total) and covariate the tidy table
holds the posterior mean, sd, central interval, the probability of a positive effect
and the convergence verdict. The stability summary compares each effect with the base
specification's: an effect is **credible** when its central interval excludes zero; a
specification **changes** the effect when the sign of its posterior mean differs from
the base's, or when it is credible where the base is not or the other way round.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayes_ccd.conventions import INTERVAL_PROB, NATIONAL
from bayes_ccd.report.figures import save_figure, stamp_notice
from bayes_ccd.report.output import write_json
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import write_table
from bayes_ccd.sensitivity.specification import BASE_ID

if TYPE_CHECKING:
    from matplotlib.figure import Figure

EFFECTS = ("direct", "indirect", "total")
#: Columns of :meth:`RobustnessResult.table`.
TABLE_COLUMNS = (
    "specification",
    "dimension",
    "change",
    "sample",
    "effect",
    "variable",
    "mean",
    "sd",
    "lower",
    "upper",
    "prob_positive",
    "r_hat",
    "ess_bulk",
    "converged",
)


def _number(value: float) -> str:
    """Three decimals, or three significant digits for magnitudes below 0.001."""
    if not math.isfinite(value):
        return ""
    if value == 0 or abs(value) >= 1e-3:
        return f"{value:.3f}"
    return f"{value:.2e}"


def _file_part(label: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in label)


def _state(mean: float, credible: bool) -> str:
    sign = "positive" if mean > 0 else "negative"
    return f"{sign}, {'credible' if credible else 'not credible'}"


def _axis_range(rows: pd.DataFrame) -> tuple[float, float]:
    """Return the x range of a forest panel: the intervals of the typical specifications.

    A specification is typical when its interval is at most five times the median width;
    one far wider interval (a weakly identified W, say) would otherwise shrink every
    other to a dot. Zero is always in range.
    """
    width = rows["upper"] - rows["lower"]
    typical = rows[width <= 5 * width.median()]
    lo = min(float(typical["lower"].min()), 0.0)
    hi = max(float(typical["upper"].max()), 0.0)
    pad = 0.05 * (hi - lo) or 1.0
    return lo - pad, hi + pad


@dataclass(frozen=True)
class RobustnessResult:
    """Effects of every robustness specification, and how stable they are.

    Attributes
    ----------
    specifications
        One row per specification: ``id``, ``dimension``, ``change``, ``status``
        (``ok``/``failed``), ``reused`` (from the store), ``seconds``, ``converged``,
        ``verdict``, ``divergences``, the spatial parameter's ``spatial_mean``, ``_sd``,
        ``_lower``, ``_upper``, ``N``, ``T``, ``sampler`` and ``notes`` (warnings, or the
        reason of a failure).
    effects
        The tidy table (:data:`TABLE_COLUMNS`) of the specifications that finished.
    prob
        Probability of the central intervals.
    notice
        What every output must say about the data (the bundled panel: synthetic).
    config
        The base run configuration, as recorded in ``metadata.json``.
    """

    specifications: pd.DataFrame
    effects: pd.DataFrame
    prob: float = INTERVAL_PROB
    notice: str = ""
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> dict[str, str]:
        """The specifications that failed, with their reasons."""
        rows = self.specifications[self.specifications["status"] != "ok"]
        return dict(zip(rows["id"], rows["notes"], strict=True))

    @property
    def samples(self) -> list[str]:
        """The samples of the table: ``national``, then the regions (``by_region``)."""
        return list(dict.fromkeys(self.effects["sample"]))

    def table(self, effect: str | None = None, sample: str | None = None) -> pd.DataFrame:
        """Return the tidy table, optionally of one effect and of one sample."""
        keep = pd.Series(True, index=self.effects.index)
        if effect is not None:
            keep &= self.effects["effect"] == effect
        if sample is not None:
            keep &= self.effects["sample"] == sample
        return self.effects[keep].reset_index(drop=True)

    def stability(self) -> pd.DataFrame:
        """Return, per sample, effect and covariate, how the alternatives compare with the base.

        Columns: ``sample``, ``effect``, ``variable``, ``base`` (sign and credibility),
        ``base_mean``, ``alternatives`` (finished specifications other than the base), ``same_sign``
        and ``same_credibility`` (their shares), and ``changed`` (the ids of the
        specifications that change the effect, see the module docstring).
        """
        frame = self.effects.assign(
            credible=(self.effects["lower"] > 0) | (self.effects["upper"] < 0),
            positive=self.effects["mean"] > 0,
        )
        keys = ["sample", "effect", "variable"]
        base = frame[frame["specification"] == BASE_ID].set_index(keys)
        rows = []
        for (sample, effect, variable), group in frame.groupby(keys, sort=False):
            if (sample, effect, variable) not in base.index:
                continue
            ref = base.loc[(sample, effect, variable)]
            others = group[group["specification"] != BASE_ID]
            same_sign = others["positive"] == ref["positive"]
            same_credible = others["credible"] == ref["credible"]
            changed = others.loc[~(same_sign & same_credible), "specification"]
            n = len(others)
            rows.append(
                {
                    "sample": sample,
                    "effect": effect,
                    "variable": variable,
                    "base": _state(ref["mean"], bool(ref["credible"])),
                    "base_mean": ref["mean"],
                    "alternatives": n,
                    "same_sign": same_sign.mean() if n else np.nan,
                    "same_credibility": same_credible.mean() if n else np.nan,
                    "changed": "; ".join(changed),
                }
            )
        effects = {e: i for i, e in enumerate(EFFECTS)}
        samples = {s: i for i, s in enumerate(self.samples)}
        out = pd.DataFrame(rows)
        out = out.sort_values("effect", key=lambda c: c.map(effects), kind="stable")
        out = out.sort_values("sample", key=lambda c: c.map(samples), kind="stable")
        return out.reset_index(drop=True)

    def headline_lines(self) -> list[str]:
        """One line per effect and covariate: its base state and what changes it."""
        lines = []
        several = len(self.samples) > 1
        for row in self.stability().itertuples(index=False):
            n = row.alternatives
            line = (
                (f"{row.sample}: " if several else "")
                + f"{row.effect.capitalize()} effect of {row.variable}: {row.base} in the base; "
                f"same sign in {round(row.same_sign * n)} of {n} alternatives, same "
                f"credibility in {round(row.same_credibility * n)} of {n}"
            )
            lines.append(line + (f"; changed by {row.changed}." if row.changed else "."))
        for spec_id, reason in self.failed.items():
            lines.append(f"Specification {spec_id} FAILED: {reason}")
        return lines

    def summary(self) -> Summary:
        """Specifications, their verdicts and the stability of every effect."""
        specs = self.specifications
        facts = {
            "Specifications": f"{len(specs)} ({(specs['status'] == 'ok').sum()} finished, "
            f"{specs['reused'].sum()} reused from the store)",
            "Not converged": ", ".join(specs.loc[specs["converged"] == False, "id"])  # noqa: E712
            or "none",
            "Intervals": f"{self.prob:.0%} central (equal-tailed)",
        }
        shown = specs[["id", "change", "status", "verdict", "spatial_mean", "seconds"]]
        return Summary(
            title="Robustness of the spatial effects",
            facts=facts,
            sections={"Stability": self.headline_lines()},
            tables=[SummaryTable(shown, caption="Specifications")],
            notice=self.notice,
        )

    def paper_table(self, effect: str, sample: str = NATIONAL) -> pd.DataFrame:
        """One effect across specifications: posterior mean, interval on the line below."""
        table = self.table(effect, sample)
        variables = list(dict.fromkeys(table["variable"]))
        rows = []
        for _, group in table.groupby("specification", sort=False):
            values = group.set_index("variable")
            change = group["change"].iloc[0]
            rows.append(
                {"specification": change, **{v: _number(values.loc[v, "mean"]) for v in variables}}
            )
            rows.append(
                {
                    "specification": "",
                    **{
                        v: f"[{_number(values.loc[v, 'lower'])}, {_number(values.loc[v, 'upper'])}]"
                        for v in variables
                    },
                }
            )
        return pd.DataFrame(rows, columns=["specification", *variables])

    def plot_forest(self, effect: str = "total", sample: str = NATIONAL) -> Figure:
        """Draw one effect across specifications: a panel per covariate.

        Posterior means with their central intervals; the base in black at the top,
        specifications that change the effect (see :meth:`stability`) as red diamonds,
        the others grey; open markers for specifications that did not converge. The axis
        spans the intervals of the typical specifications (:func:`_axis_range`); a wider
        interval is clipped with an arrowhead, a mean outside is written at the edge.
        """
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        table = self.table(effect, sample)
        variables = list(dict.fromkeys(table["variable"]))
        specs = list(dict.fromkeys(table["specification"]))
        labels = dict(zip(table["specification"], table["change"], strict=False))
        stability = self.stability().set_index(["sample", "effect", "variable"])
        ncols = min(3, len(variables))
        nrows = math.ceil(len(variables) / ncols)
        figure = Figure(
            figsize=(3.0 * ncols + 2.2, nrows * (0.9 + 0.26 * len(specs)) + 0.8),
            layout="constrained",
        )
        axes = figure.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
        for ax in axes[len(variables) :]:
            ax.set_visible(False)
        positions = {s: len(specs) - 1 - i for i, s in enumerate(specs)}
        for ax, variable in zip(axes[: len(variables)], variables, strict=True):
            rows = table[table["variable"] == variable]
            changed = set(stability.loc[(sample, effect, variable), "changed"].split("; "))
            lo, hi = _axis_range(rows)
            for row in rows.itertuples(index=False):
                y = positions[row.specification]
                if row.specification == BASE_ID:
                    colour, marker = "black", "o"
                elif row.specification in changed:
                    colour, marker = "tab:red", "D"
                else:
                    colour, marker = "0.45", "o"
                face = colour if row.converged else "white"
                ax.plot([max(row.lower, lo), min(row.upper, hi)], [y, y], color=colour, lw=1.4)
                for end, edge, head in ((row.lower, lo, "<"), (row.upper, hi, ">")):
                    if (end < edge) if head == "<" else (end > edge):
                        ax.plot(edge, y, marker=head, color=colour, ms=5)
                if lo <= row.mean <= hi:
                    ax.plot(row.mean, y, marker=marker, color=colour, mfc=face, ms=5)
                else:
                    ax.annotate(
                        f"mean {_number(row.mean)}",
                        (lo if row.mean < lo else hi, y),
                        xytext=(0, 4),
                        textcoords="offset points",
                        ha="left" if row.mean < lo else "right",
                        fontsize=7,
                        color=colour,
                    )
            ax.set_xlim(lo, hi)
            ax.axvline(0.0, color="0.6", lw=0.8, ls="--")
            ax.set_title(variable, fontsize=10)
            ax.set_xlabel(f"{effect} effect on {self.config.get('regression', {}).get('y', 'y')}")
            ax.grid(axis="x", color="0.9", lw=0.6)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        axes[0].set_yticks(list(positions.values()), [labels[s] for s in positions])
        axes[0].set_ylim(-0.7, len(specs) - 0.3)
        figure.suptitle(
            f"{effect.capitalize()} effects ({sample}) across {len(specs)} specifications: "
            f"posterior mean and {self.prob:.0%} central interval\n(red diamonds: sign or "
            "credibility differs from the base; open markers: not converged; arrowheads: "
            "interval clipped)",
            fontsize=10,
        )
        return stamp_notice(figure, self.notice)

    def to_dict(self) -> dict[str, Any]:
        """Return the specifications and stability as plain data (``robustness.json``)."""
        return {
            "specifications": self.specifications.to_dict(orient="records"),
            "stability": self.stability().to_dict(orient="records"),
            "interval_prob": self.prob,
            "notice": self.notice,
        }

    def write(self, directory: str | Path, *, figures: bool = True, pdf: bool = True) -> Path:
        """Write the tables (CSV, Markdown, LaTeX), figures (PNG, PDF) and summary.

        ``robustness.csv`` (the tidy table), ``specifications.csv``, ``stability.*``,
        ``effects_<effect>.md/.tex`` (paper tables), ``forest_<effect>.png/.pdf`` (with
        ``_<region>`` for the regional samples) and ``summary.md``.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        note = self.notice + " " if self.notice else ""
        self.effects.to_csv(directory / "robustness.csv", index=False)
        self.specifications.to_csv(directory / "specifications.csv", index=False)
        write_table(
            self.stability(),
            directory,
            "stability",
            caption="Stability of the effects across robustness specifications",
            notes=f"{note}Credible: the {self.prob:.0%} central interval excludes 0. Shares "
            "are over the finished alternatives to the base.",
        )
        for sample in self.samples:
            suffix = "" if sample == NATIONAL else f"_{_file_part(sample)}"
            for effect in EFFECTS:
                if self.table(effect, sample).empty:
                    continue
                write_table(
                    self.paper_table(effect, sample),
                    directory,
                    f"effects_{effect}{suffix}",
                    formats=("md", "tex"),
                    caption=f"{effect.capitalize()} effects ({sample}) across specifications",
                    notes=f"{note}Posterior mean, {self.prob:.0%} central interval beneath.",
                )
                if figures:
                    figure = self.plot_forest(effect, sample)
                    save_figure(figure, directory / f"forest_{effect}{suffix}.png", pdf=pdf)
        (directory / "summary.md").write_text(self.summary().to_markdown(level=1), encoding="utf-8")
        write_json(self.to_dict(), directory / "robustness.json")
        return directory
