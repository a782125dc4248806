"""The result contract of every spatial panel estimator, and collections of fits.

Every fit, by maximum likelihood (:class:`~bayes_ccd.spatial.mle.MLEFit`) or Bayes
(:class:`~bayes_ccd.spatial.bayes.fit.PosteriorFit`), answers the same questions in its
own terms:

- ``coefficients(prob=)`` and ``effects(prob=)``: tables of estimates, with intervals at
  ``prob`` (:data:`~bayes_ccd.conventions.INTERVAL_PROB` by default);
- ``summary(prob=)``: a :class:`~bayes_ccd.report.summary.Summary` (text, HTML,
  Markdown, LaTeX);
- ``info``: the facts recorded in ``fit.json``; ``fingerprint``: what was fitted to
  what (:class:`~bayes_ccd.spatial.fingerprint.Fingerprint`);
- ``to_dict()``, ``write(directory)`` and ``save(path)`` (a NetCDF file that
  :func:`bayes_ccd.spatial.storage.load` reads back as the same object);
- ``tests()`` (maximum likelihood) or ``diagnostics()`` (Bayes).

National and regional fits are a :class:`FitCollection` of such fits, keyed by sample
label (``"national"`` first, then the regions), which writes the seed paper's Tables 7-8
with one column per sample.
"""

from __future__ import annotations

import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Final

import pandas as pd

from bayes_ccd.conventions import EFFECT_KINDS, INTERVAL_PROB, NATIONAL, REGION
from bayes_ccd.exceptions import (
    ConvergenceWarning,
    DataWarning,
    NumericalWarning,
    SpecificationError,
    WeightsWarning,
)
from bayes_ccd.report.output import write_json
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import (
    Digits,
    format_number,
    format_readable,
    paper_table,
    write_table,
)
from bayes_ccd.spatial.arrays import FILLED_COLUMNS
from bayes_ccd.spatial.design import ModelSpec, SpatialPanelDesign
from bayes_ccd.spatial.fingerprint import Fingerprint

#: Warnings of the package recorded in ``fit.json`` (third-party ones are only re-issued).
REPORTED_WARNINGS: Final = (ConvergenceWarning, NumericalWarning, WeightsWarning, DataWarning)


@contextmanager
def recorded_warnings(messages: list[str], *, prefix: str = "") -> Iterator[None]:
    """Record the package's warnings raised in a block, and re-issue every warning.

    The messages of :data:`REPORTED_WARNINGS` (each with ``prefix``) are appended to
    ``messages``, so that they reach both ``fit.json`` and the user.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for item in caught:
        warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    messages += [
        prefix + str(w.message) for w in caught if issubclass(w.category, REPORTED_WARNINGS)
    ]


class SpatialFit(ABC):
    """What every fitted spatial panel answers (see the module docstring).

    Subclasses declare their table schema: :attr:`coefficient_columns` and
    :attr:`effect_columns` (the columns of ``coefficients.csv`` and ``effects.csv``),
    :attr:`paper_cells` and :attr:`paper_second` (the two lines of each cell of a paper
    table), :attr:`paper_spread` (the column that sets a row's decimals in Markdown and
    LaTeX) and :attr:`paper_extra` (further lines there, e.g. the probability of a
    positive value).
    """

    estimator: ClassVar[str]
    coefficient_columns: ClassVar[tuple[str, ...]]
    effect_columns: ClassVar[tuple[str, ...]]
    paper_cells: ClassVar[Callable[[pd.DataFrame, Digits], tuple[list[str], ...]]]
    paper_second: ClassVar[str]
    paper_spread: ClassVar[str]
    paper_extra: ClassVar[tuple[tuple[str, str], ...]] = ()

    label: str
    dropped_units: tuple[str, ...]
    #: The transformed design the fit conditions on (a field or property of each fit).
    design: SpatialPanelDesign

    @property
    def spec(self) -> ModelSpec:
        """Model, fixed effects, transformation and variables."""
        return self.design.spec

    @property
    @abstractmethod
    def fingerprint(self) -> Fingerprint:
        """What was fitted to what: data, weights, model, fixed effects, sample."""

    @property
    @abstractmethod
    def info(self) -> dict[str, Any]:
        """Facts of the fit, as written to ``fit.json``."""

    @abstractmethod
    def estimation_facts(self) -> dict[str, str]:
        """How the fit was made: estimator, and its settings that change the estimates.

        These are what two fits of the same data and model may differ in on purpose (a
        prior, an error distribution, a sampler, a seed); a comparison states the
        differences (:func:`bayes_ccd.spatial.compare.compare`).
        """

    @abstractmethod
    def coefficients(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """One row per coefficient, the spatial parameter and ``sigma2``."""

    @abstractmethod
    def effects(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """One row per covariate and effect (direct, indirect, total)."""

    @abstractmethod
    def summary(self, prob: float = INTERVAL_PROB) -> Summary:
        """Summarise the fit in a few facts and tables."""

    @abstractmethod
    def save(self, path: str | Path) -> Path:
        """Write the fit as NetCDF; :func:`bayes_ccd.load` reads it back."""

    @abstractmethod
    def write_sample(self, directory: Path, *, figures: bool = True) -> list[Path]:
        """Write this sample's files into ``directory`` (see :meth:`FitCollection.write`)."""

    def sample_tables(self) -> dict[str, pd.DataFrame]:
        """Return the per-sample tables a collection stacks into ``<name>_by_region.csv``."""
        return {
            "coefficients": self.coefficients().reindex(columns=list(self.coefficient_columns)),
            "effects": self.effects().reindex(columns=list(self.effect_columns)),
        }

    def paper_stats(self) -> dict[str, Any]:
        """Rows below the coefficients of a regression table (label -> value)."""
        return {}

    def paper_sample(self) -> dict[str, Any]:
        """Rows that describe the model and sample, as Stata's ``esttab`` prints them.

        Unit and time fixed effects (yes/no), ``N`` units, ``T`` periods and the
        effective observations the likelihood counts (``N (T - 1)`` after the Lee-Yu
        transformation of unit effects, ``(N - 1)(T - 1)`` with time effects too).
        """
        fe, facts = self.spec.fe, self.design.facts()
        return {
            "Unit fixed effects": "yes" if fe in ("individual", "both") else "no",
            "Time fixed effects": "yes" if fe in ("time", "both") else "no",
            "N (units)": facts["N"],
            "T (periods)": facts["T"],
            "Effective observations": facts["n_effective"],
        }

    @abstractmethod
    def paper_notes(self) -> dict[str, str]:
        """Captions and notes of the paper tables: ``regression``, ``effects``, ``notes``."""

    def to_dict(self, prob: float = INTERVAL_PROB) -> dict[str, Any]:
        """Return the fit as plain data: facts, fingerprint, coefficients and effects."""
        return {
            "label": self.label,
            "estimator": self.estimator,
            "info": self.info,
            "fingerprint": self.fingerprint.to_dict(),
            "coefficients": self.coefficients(prob).to_dict(orient="records"),
            "effects": self.effects(prob).to_dict(orient="records"),
        }

    def write(
        self,
        directory: str | Path,
        *,
        figures: bool = True,
        metadata: Mapping[str, Any] | None = None,
    ) -> list[Path]:
        """Write the fit's output layout (see :meth:`FitCollection.write`)."""
        return FitCollection({self.label: self}).write(
            directory, figures=figures, metadata=metadata
        )

    def _write_common(self, directory: Path) -> list[Path]:
        """Write the files every estimator writes into ``directory``.

        They are ``coefficients.csv``, ``effects.csv``, ``fit.json`` and, when the
        missing-value policy filled cells of the data, ``filled_cells.csv``.
        """
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, table in self.sample_tables().items():
            if name in ("coefficients", "effects"):
                paths.append(directory / f"{name}.csv")
                table.to_csv(paths[-1], index=False)
        info = self.info
        paths.append(write_json(info, directory / "fit.json"))
        if info.get("filled_cells"):
            paths.append(directory / "filled_cells.csv")
            frame = pd.DataFrame(info["filled_cells"], columns=list(FILLED_COLUMNS))
            frame.to_csv(paths[-1], index=False)
        return paths

    def __repr__(self) -> str:
        """Show the fit's class, model and sample, e.g. ``<MLEFit SDM, ..., sample national>``."""
        return f"<{type(self).__name__} {self.spec.label()}, sample {self.label}>"


def main_sample(samples: Collection[str]) -> str:
    """Return the sample written at the root of an output directory.

    It is ``NATIONAL`` when present, else the first.
    """
    if not samples:
        raise SpecificationError("no fitted samples")
    return NATIONAL if NATIONAL in samples else next(iter(samples))


def sample_directory(directory: str | Path, label: str, main: str) -> Path:
    """Return the directory a sample's files go to.

    It is ``directory`` for the main sample, else ``directory/regions/<label>``
    (characters other than letters, digits, ``_.-`` replaced by ``_``).
    """
    if label == main:
        return Path(directory)
    slug = re.sub(r"[^0-9A-Za-z_.-]+", "_", str(label)).strip("_") or "region"
    return Path(directory) / "regions" / slug


def stack_by_region(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Stack the tables of several samples, with the sample label in a leading ``region`` column."""
    long = pd.concat(
        [t.assign(**{REGION: label}) for label, t in tables.items()], ignore_index=True
    )
    return long[[REGION, *long.columns.drop(REGION)]]


class FitCollection(Mapping[str, SpatialFit]):
    """Fits of one model on several samples: the whole panel and each region.

    A mapping ``label -> fit`` (``"national"`` first); every fit is of the same
    estimator and model. Tables are long, with a leading ``region`` column.

    Parameters
    ----------
    fits
        The fits, keyed by sample label.
    """

    def __init__(self, fits: Mapping[str, SpatialFit]) -> None:
        if not fits:
            raise SpecificationError("a collection needs at least one fit")
        kinds = {type(f) for f in fits.values()}
        if len(kinds) > 1:
            raise SpecificationError(
                f"a collection holds fits of one estimator, got {sorted(k.__name__ for k in kinds)}"
            )
        models = {f.spec.label() + str((f.spec.y, f.spec.x)) for f in fits.values()}
        if len(models) > 1:
            raise SpecificationError(
                "a collection holds fits of one model (the same model, fixed effects, "
                "transformation and variables on every sample)"
            )
        self._fits = dict(fits)

    def __getitem__(self, label: str) -> SpatialFit:
        """Return the fit of sample ``label``; the :class:`KeyError` lists the samples."""
        if label not in self._fits:
            raise KeyError(f"no sample {label!r}; the samples are {list(self._fits)}")
        return self._fits[label]

    def __iter__(self) -> Iterator[str]:
        """Iterate over the sample labels."""
        return iter(self._fits)

    def __len__(self) -> int:
        """Return the number of samples."""
        return len(self._fits)

    def __repr__(self) -> str:
        """Show the estimator and the samples, e.g. ``<FitCollection of mle fits: national>``."""
        return f"<FitCollection of {self.estimator} fits: {', '.join(self._fits)}>"

    @property
    def main(self) -> SpatialFit:
        """The whole-sample fit (``"national"``), else the first."""
        return self._fits[main_sample(self._fits)]

    @property
    def estimator(self) -> str:
        """``"mle"`` or ``"bayes"``."""
        return self.main.estimator

    @property
    def spec(self) -> ModelSpec:
        """The model every sample was fitted with."""
        return self.main.spec

    def _long(self, name: str, prob: float) -> pd.DataFrame:
        return stack_by_region({k: getattr(f, name)(prob) for k, f in self._fits.items()})

    def coefficients(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Return the coefficients of every sample, with a leading ``region`` column."""
        return self._long("coefficients", prob)

    def effects(self, prob: float = INTERVAL_PROB) -> pd.DataFrame:
        """Return the effects of every sample, with a leading ``region`` column."""
        return self._long("effects", prob)

    def tests(self) -> pd.DataFrame:
        """Specification tests of every sample (maximum likelihood only)."""
        fits = self._typed("mle", "tests")
        return stack_by_region({k: f.tests() for k, f in fits.items()})

    def diagnostics(self) -> pd.DataFrame:
        """Convergence diagnostics of every sample (Bayes only)."""
        fits = self._typed("bayes", "diagnostics")
        return stack_by_region({k: f.diagnostics().table for k, f in fits.items()})

    def _typed(self, estimator: str, what: str) -> Mapping[str, Any]:
        if self.estimator != estimator:
            raise SpecificationError(
                f"{what}() belongs to {estimator} fits; this collection holds {self.estimator} fits"
            )
        return self._fits

    def _paper_options(self, digits: int, readable: bool) -> dict[str, Any]:
        main = type(self.main)
        options = {"cells": main.paper_cells, "second": main.paper_second, "digits": digits}
        if readable:
            options |= {"spread": main.paper_spread, "extra": main.paper_extra}
        return options

    def regression_table(self, *, digits: int = 3, readable: bool = False) -> pd.DataFrame:
        """Tabulate the coefficients in the layout of the seed paper's Tables 7-8.

        The table has one column per sample, each estimate above its standard error or
        interval, then the fit statistics of the estimator (R-squared, log-likelihood,
        observations). ``digits`` decimals throughout, as ``regression_table.csv`` has
        them; ``readable`` (Markdown, LaTeX, summaries) gives each row the decimals its
        smallest spread needs (scientific notation for ``sigma2`` and other tiny
        values), adds the probability of a positive value under each posterior mean, and
        rows for the fixed effects, ``N``, ``T`` and the effective observations (like
        Stata's ``esttab``).
        """
        long = pd.concat(
            [f.coefficients().assign(sample=label) for label, f in self._fits.items()],
            ignore_index=True,
        )
        table = paper_table(
            long, row="term", column="sample", **self._paper_options(digits, readable)
        )
        fmt = format_readable if readable else format_number
        stats = [
            (f.paper_sample() if readable else {}) | f.paper_stats() for f in self._fits.values()
        ]
        rows = {}
        for label in dict.fromkeys(k for s in stats for k in s):
            values = [s.get(label) for s in stats]
            if any(v is not None for v in values):
                rows[(label, "")] = [fmt(v, digits) for v in values]
        if rows:
            extra = pd.DataFrame(
                list(rows.values()), columns=list(self._fits), index=pd.MultiIndex.from_tuples(rows)
            )
            table = pd.concat([table, extra.reindex(columns=table.columns)])
            table.index.names = ["term", " "]
        return table

    def effects_table(self, *, digits: int = 3, readable: bool = False) -> pd.DataFrame:
        """Tabulate the effects in the layout of the seed paper's Tables 7-8.

        Variables by direct/indirect/total for one sample (Table 7); (effect, variable)
        by sample with several (Table 8). ``readable`` as in :meth:`regression_table`
        (without the rows of the sample).
        """
        long = pd.concat(
            [f.effects().assign(sample=label) for label, f in self._fits.items()],
            ignore_index=True,
        )
        options = self._paper_options(digits, readable)
        if len(self._fits) == 1:
            return paper_table(long, row="variable", column="effect", **options)
        order = long["effect"].map({kind: k for k, kind in enumerate(EFFECT_KINDS)})
        long = long.iloc[order.argsort(kind="stable")]
        return paper_table(long, row=["effect", "variable"], column="sample", **options)

    def summary(self, prob: float = INTERVAL_PROB) -> Summary:
        """Summarise every sample: the regression and effects tables, and one line per sample."""
        notes = self.main.paper_notes()
        lines = [line for f in self._fits.values() for line in f.summary(prob).lines]
        return Summary(
            title=f"{self.spec.label()}: {', '.join(self._fits)}",
            facts={"estimator": self.estimator, "samples": list(self._fits)},
            lines=lines,
            tables=[
                SummaryTable(
                    self.regression_table(readable=True), notes["regression"], notes["notes"], True
                ),
                SummaryTable(
                    self.effects_table(readable=True), notes["effects"], notes["notes"], True
                ),
            ],
        )

    def write(
        self,
        directory: str | Path,
        *,
        figures: bool = True,
        metadata: Mapping[str, Any] | None = None,
        digits: int = 3,
    ) -> list[Path]:
        """Write the output layout of a fit into ``directory``.

        Call it inside :func:`bayes_ccd.report.output.atomic_output_dir` for
        all-or-nothing writing. Layout:

        - the files of the main sample (``national``, else the first) at the root and of
          every other sample in ``regions/<region>/``: ``coefficients.csv``,
          ``effects.csv``, ``fit.json``, the NetCDF file that reloads the fit, and the
          estimator's own files (tests, diagnostics, figures; see ``write_sample``);
        - ``regression_table`` and ``effects_table`` (``.csv``, ``.md``, ``.tex``) in the
          paper layout, one column per sample (Markdown and LaTeX ``readable``, see
          :meth:`regression_table`);
        - with several samples, ``<table>_by_region.csv`` (long, ``region`` first);
        - ``metadata.json`` when ``metadata`` is given.
        """
        directory = Path(directory)
        main = main_sample(self._fits)
        written: list[Path] = []
        for label, fit in self._fits.items():
            written += fit.write_sample(sample_directory(directory, label, main), figures=figures)
        notes = self.main.paper_notes()
        for stem, build, caption in (
            ("regression_table", self.regression_table, notes["regression"]),
            ("effects_table", self.effects_table, notes["effects"]),
        ):
            for formats, readable in ((("csv",), False), (("md", "tex"), True)):
                written += write_table(
                    build(digits=digits, readable=readable),
                    directory,
                    stem,
                    formats=formats,
                    index=True,
                    digits=digits,
                    caption=caption,
                    notes=notes["notes"],
                )
        if len(self._fits) > 1:
            tables = {label: fit.sample_tables() for label, fit in self._fits.items()}
            for name in tables[main]:
                path = directory / f"{name}_by_region.csv"
                stack_by_region({k: t[name] for k, t in tables.items()}).to_csv(path, index=False)
                written.append(path)
        if metadata is not None:
            written.append(write_json(dict(metadata), directory / "metadata.json"))
        return written


def as_collection(result: SpatialFit | FitCollection) -> FitCollection:
    """Return a fit as a one-sample collection; a collection as is."""
    return result if isinstance(result, FitCollection) else FitCollection({result.label: result})
