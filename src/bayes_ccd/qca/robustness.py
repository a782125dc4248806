"""Robustness of an fsQCA solution to calibration and cut-offs (Oana & Schneider 2021).

A QCA result depends on choices the researcher makes: the calibration anchors and the
consistency, PRI and frequency cut-offs of the truth table. Oana and Schneider's
robustness test protocol re-runs the analysis under alternative choices that are as
defensible as the original ones and asks what survives. :func:`qca_robustness` does so
over a stated grid:

- **calibration**: each anchor (full membership, crossover, full non-membership) of
  each calibrated column moved, one at a time, by ``shift`` times the range of the
  column's raw values, down and up (a move that would break the strict order of the
  anchors is left out and listed);
- **cut-offs**: every combination of the given consistency, PRI and frequency
  cut-offs, at the base calibration.

It reports the share of the grid in which each term and each model of the chosen
solution appears, and the fit of the *base* solution (its first model) evaluated on
every perturbed set: Oana and Schneider's question of whether the original solution
still holds on the alternative data.

References
----------
Oana, I.-E. & Schneider, C. Q. (2021). A robustness test protocol for applied QCA:
theory and R software application. Sociological Methods & Research 53(1), 57-88.
Ragin, C. C. (2008). Redesigning Social Inquiry, ch. 5. University of Chicago Press.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.exceptions import BayesCCDError, ConfigError
from bayes_ccd.qca.calibration import Anchors, percentile_anchors
from bayes_ccd.qca.measures import consistency, coverage, pri, term_membership
from bayes_ccd.qca.result import QCAResult
from bayes_ccd.qca.solutions import configuration_analysis
from bayes_ccd.report.figures import save_figure, stamp_notice
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import write_table
from bayes_ccd.settings import QCASettings

_ANCHOR_NAMES = ("full", "crossover", "non")


def _default_cuts(base: float, step: float, low: float, high: float) -> list[float]:
    """Return ``base - step, base, base + step`` kept within ``[low, high]``."""
    return sorted({round(min(max(v, low), high), 10) for v in (base - step, base, base + step)})


def _base_anchors(cases: pd.DataFrame, settings: QCASettings) -> dict[str, tuple[float, ...]]:
    """Numeric ``(full, crossover, non)`` of every column the base analysis calibrates."""
    columns = [settings.outcome, *settings.conditions]
    anchors = percentile_anchors(columns) if settings.calibration == "percentiles" else {}
    anchors |= {c: Anchors(*v) for c, v in settings.anchors.items()}
    return {
        c: a.resolve(cases[c].to_numpy(dtype=float), name=c)
        for c, a in anchors.items()
        if c in cases.columns
    }


def _monotone(full: float, crossover: float, non: float) -> bool:
    return full > crossover > non or full < crossover < non


def _fit_of(model_terms: Sequence[Any], result: QCAResult) -> dict[str, float]:
    """Consistency, PRI and coverage of a model on the memberships of ``result``."""
    x, y = result.truth_table.memberships()
    union = np.max([term_membership(x, t) for t in model_terms], axis=0)
    return {
        "base_consistency": consistency(union, y),
        "base_pri": pri(union, y),
        "base_coverage": coverage(union, y),
    }


def qca_robustness(
    cases: pd.DataFrame,
    settings: QCASettings,
    *,
    shift: float = QCASettings.robustness_shift,
    incl_cuts: Sequence[float] | None = None,
    pri_cuts: Sequence[float] | None = None,
    n_cuts: Sequence[int] | None = None,
    solution: str = QCASettings.robustness_solution,
    year: int | None = None,
) -> QCARobustness:
    """Re-run fsQCA over a grid of calibrations and cut-offs; report what survives.

    Parameters
    ----------
    cases
        Raw values (as for :func:`~bayes_ccd.qca.solutions.configuration_analysis`).
    settings
        The base analysis.
    shift
        Each anchor moves by ``shift * (max - min)`` of its column's raw values.
    incl_cuts, pri_cuts, n_cuts
        Cut-offs of the grid; default the base value and ``+-0.05`` (consistency, PRI,
        kept in range) and the base and base + 1 (frequency).
    solution
        The solution examined: ``"conservative"``, ``"intermediate"`` or
        ``"parsimonious"``.
    year
        The period of the cases, recorded.

    Returns
    -------
    QCARobustness

    Raises
    ------
    ConfigError
        ``shift`` not in (0, 1), an unknown solution, bad cut-offs.
    SpecificationError, EstimationError
        The *base* analysis has no solution (variants without one are recorded).
    """
    QCASettings(robustness_shift=shift, robustness_solution=solution)
    base = configuration_analysis(cases, settings, year=year)
    base_models = base.solutions[solution].models
    base_terms = base_models[0].implicants if base_models else ()
    incl_cuts = incl_cuts or _default_cuts(settings.incl_cut, 0.05, 0.5, 1.0)
    pri_cuts = pri_cuts or _default_cuts(settings.pri_cut, 0.05, 0.0, 1.0)
    n_cuts = n_cuts or [settings.n_cut, settings.n_cut + 1]
    anchors = _base_anchors(cases, settings)
    numeric = settings.replace(calibration="none", anchors={c: list(v) for c, v in anchors.items()})
    variants: list[tuple[str, str, QCASettings]] = []
    skipped = []
    for column, values in anchors.items():
        span = float(np.ptp(cases[column].to_numpy(dtype=float)))
        for i, name in enumerate(_ANCHOR_NAMES):
            for sign in (-1, 1):
                moved = list(values)
                moved[i] += sign * shift * span
                label = f"{column} {name} {'+' if sign > 0 else '-'}{shift:g} range"
                if not _monotone(*moved):
                    skipped.append(label)
                    continue
                changed = numeric.replace(anchors={**numeric.anchors, column: moved})
                variants.append(("calibration", label, changed))
    for incl, pri_cut, n_cut in itertools.product(incl_cuts, pri_cuts, n_cuts):
        try:
            changed = numeric.replace(
                incl_cut=float(incl), pri_cut=float(pri_cut), n_cut=int(n_cut)
            )
        except ConfigError as error:
            raise ConfigError(f"robustness grid: {error}") from None
        same = (changed.incl_cut, changed.pri_cut, changed.n_cut) == (
            settings.incl_cut,
            settings.pri_cut,
            settings.n_cut,
        )
        if not same:
            label = f"incl {incl:g}, PRI {pri_cut:g}, n {n_cut}"
            variants.append(("cut-offs", label, changed))
    rows = []
    for kind, label, changed in variants:
        row: dict[str, Any] = {"variant": kind, "change": label}
        try:
            result = configuration_analysis(cases, changed, year=year)
        except BayesCCDError as error:
            row |= {"status": f"no solution: {error}", "models": (), "terms": ()}
            rows.append(row)
            continue
        models = result.solutions[solution].models
        row |= {
            "status": "ok" if models else "no solution: no configuration passes the cut-offs",
            "models": tuple(m.expression for m in models),
            "terms": tuple(sorted({t.term for m in models for t in m.terms})),
        }
        if base_terms:
            row |= _fit_of(base_terms, result)
        rows.append(row)
    return QCARobustness(
        base=base,
        solution=solution,
        variants=pd.DataFrame(rows),
        skipped=tuple(skipped),
        config={
            "shift": shift,
            "incl_cuts": list(incl_cuts),
            "pri_cuts": list(pri_cuts),
            "n_cuts": list(n_cuts),
            "solution": solution,
            "design": "calibration one anchor at a time (+-shift * range); cut-offs factorial",
            "anchors": {c: list(v) for c, v in anchors.items()},
        },
    )


@dataclass(frozen=True)
class QCARobustness:
    """How an fsQCA solution survives a grid of calibrations and cut-offs.

    Attributes
    ----------
    base
        The base analysis.
    solution
        The solution examined.
    variants
        One row per perturbed analysis: ``variant`` (calibration or cut-offs),
        ``change``, ``status``, ``models`` and ``terms`` of its solution, and the
        fit of the base solution's first model on its memberships (``base_consistency``,
        ``base_pri``, ``base_coverage``).
    skipped
        Anchor moves left out because they break the order of the anchors.
    config
        The grid.
    """

    base: QCAResult
    solution: str
    variants: pd.DataFrame
    skipped: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """Return the share of the grid in which each term and each model appears.

        Returns
        -------
        pandas.DataFrame
            Columns ``kind`` (term or model), ``expression``, ``in_base`` (part of the
            base solution), ``share`` (of all variants), ``share_calibration`` and
            ``share_cutoffs`` (of each part of the grid); base terms and models first,
            then by share.
        """
        base_models = [m.expression for m in self.base.solutions[self.solution].models]
        base_terms = {t.term for m in self.base.solutions[self.solution].models for t in m.terms}
        variants = self.variants
        rows = []
        for kind, column, base in (("term", "terms", base_terms), ("model", "models", base_models)):
            seen = dict.fromkeys([*sorted(base), *(e for v in variants[column] for e in v)])
            for expression in seen:
                present = variants[column].map(lambda v, e=expression: e in v)
                rows.append(
                    {
                        "kind": kind,
                        "expression": expression,
                        "in_base": expression in base,
                        "share": float(present.mean()),
                        "share_calibration": _share(present, variants, "calibration"),
                        "share_cutoffs": _share(present, variants, "cut-offs"),
                    }
                )
        frame = pd.DataFrame(rows)
        return frame.sort_values(
            ["kind", "in_base", "share"], ascending=[False, False, False], kind="stable"
        ).reset_index(drop=True)

    def fit_ranges(self) -> dict[str, tuple[float, float]]:
        """Return the range (min, max) over the grid of the base solution's fit."""
        out = {}
        for column in ("base_consistency", "base_pri", "base_coverage"):
            if column in self.variants:
                values = self.variants[column].dropna()
                if len(values):
                    out[column] = (float(values.min()), float(values.max()))
        return out

    def headline_lines(self) -> list[str]:
        """Return the sentences of the summary: grid size, survival, fit ranges."""
        table = self.table()
        n = len(self.variants)
        failed = int((self.variants["status"] != "ok").sum())
        lines = [
            f"Robustness ({self.solution} solution): {n} perturbed analyses "
            f"(anchors moved by {self.config.get('shift', 0):g} of the range, "
            f"{len(self.skipped)} moves left out; cut-offs grid), {failed} without a solution."
        ]
        base = table[(table["kind"] == "model") & table["in_base"]]
        for _, row in base.iterrows():
            lines.append(f"Base model {row['expression']} appears in {100 * row['share']:.0f}%.")
        for name, (low, high) in self.fit_ranges().items():
            lines.append(
                f"Base solution {name.removeprefix('base_')} on the grid: {low:.3f}-{high:.3f}"
            )
        return lines

    def summary(self) -> Summary:
        """Return the summary: the lines above and the survival table."""
        return Summary(
            "fsQCA robustness (Oana & Schneider 2021)",
            facts={"Solution": self.solution, "Variants": len(self.variants)},
            lines=self.headline_lines(),
            tables=[SummaryTable(self.table(), caption="Share of the grid", digits=3)],
        )

    def plot(self, max_terms: int = 25) -> Any:
        """Draw the survival of the terms and the base solution's fit over the grid.

        Parameters
        ----------
        max_terms
            Terms shown, those of the base solution first, then by share.

        Returns
        -------
        matplotlib.figure.Figure
            Top: the share of the grid in which each term appears (dark: terms of the
            base solution). Bottom: consistency and coverage of the base solution on
            every perturbed set, with their base values as lines.
        """
        from matplotlib.figure import Figure

        table = self.table()
        terms = table[table["kind"] == "term"].head(max_terms)
        longest = max([len(str(e)) for e in terms["expression"]] + [10])
        figure = Figure(figsize=(4.5 + 0.06 * longest, 0.26 * len(terms) + 4.2))
        top, bottom = figure.subplots(
            2, 1, gridspec_kw={"height_ratios": [max(len(terms), 4) * 0.26, 2.6]}
        )
        colours = ["#333333" if b else "#bbbbbb" for b in terms["in_base"]]
        top.barh(np.arange(len(terms)), terms["share"], color=colours)
        top.set_yticks(np.arange(len(terms)), terms["expression"], fontsize=7)
        top.invert_yaxis()
        top.set_xlim(0, 1)
        top.set_xlabel(f"share of the {len(self.variants)} perturbed analyses with the term")
        top.set_title(
            f"Robustness of the {self.solution} solution (dark: terms of the base solution)",
            fontsize=9,
        )
        base_models = self.base.solutions[self.solution].models
        if base_models and "base_consistency" in self.variants:
            order = np.arange(len(self.variants))
            for name, colour, value in (
                ("consistency", "C0", base_models[0].consistency),
                ("coverage", "C1", base_models[0].coverage),
            ):
                bottom.plot(
                    order, self.variants[f"base_{name}"], "o", ms=3, color=colour, label=name
                )
                bottom.axhline(value, color=colour, lw=0.8)
            calibration = int((self.variants["variant"] == "calibration").sum())
            bottom.axvline(calibration - 0.5, color="0.6", ls=":", lw=0.8)
            bottom.set_xlabel(
                "perturbed analyses: calibration (left of the dotted line), cut-offs (right)"
            )
            bottom.set_ylabel("base solution")
            bottom.legend(fontsize=7)
        figure.tight_layout()
        return figure

    def write(
        self, directory: str | Path, *, figures: bool = True, pdf: bool = False, notice: str = ""
    ) -> list[Path]:
        """Write ``robustness.{csv,md,tex}``, ``robustness_variants.csv`` and the figure.

        The figure carries ``notice`` (what must be said about the data) at its foot.

        Returns
        -------
        list of pathlib.Path
        """
        out = Path(directory)
        written = write_table(
            self.table(),
            out,
            "robustness",
            caption=f"Robustness of the {self.solution} solution: share of the grid",
        )
        variants = self.variants.copy()
        for column in ("models", "terms"):
            if column in variants:
                variants[column] = variants[column].map(
                    lambda v: " | ".join(v) if isinstance(v, tuple) else ""
                )
        variants.to_csv(out / "robustness_variants.csv", index=False)
        written.append(out / "robustness_variants.csv")
        if figures:
            written += save_figure(stamp_notice(self.plot(), notice), out / "robustness", pdf=pdf)
        return written


def _share(present: pd.Series, variants: pd.DataFrame, kind: str) -> float:
    part = variants["variant"] == kind
    return float(present[part].mean()) if part.any() else float("nan")
