"""Loading saved fits back as result objects: :func:`load`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bayes_ccd.conventions import REGION
from bayes_ccd.exceptions import DataError
from bayes_ccd.spatial.archive import read_tree
from bayes_ccd.spatial.bayes.fit import PosteriorFit
from bayes_ccd.spatial.mle import MLEFit
from bayes_ccd.spatial.results import FitCollection, SpatialFit, main_sample, sample_directory

#: The NetCDF file of a fit in an output directory, by estimator.
FIT_FILES = {"mle": "fit.nc", "bayes": "posterior.nc"}


def load(path: str | Path) -> SpatialFit | FitCollection:
    """Load a saved fit (a ``.nc`` file) or a fit output directory as result objects.

    Parameters
    ----------
    path
        A file written by ``fit.save(path)`` (:class:`~bayes_ccd.spatial.mle.MLEFit` or
        :class:`~bayes_ccd.spatial.bayes.fit.PosteriorFit`), or a directory written by
        ``write`` / ``bayes-ccd fit`` (a :class:`~bayes_ccd.spatial.results.FitCollection`
        of its samples, national first; the directory of a hierarchical fit gives the
        :class:`~bayes_ccd.spatial.bayes.hierarchical_fit.HierarchicalFit` itself).

    Raises
    ------
    DataError
        The path is neither, or a sample's file is missing or altered.
    """
    path = Path(path)
    if path.is_dir():
        return _load_directory(path)
    kind = read_tree(path).attrs["kind"]
    if kind == "hierarchical":
        from bayes_ccd.spatial.bayes.hierarchical_fit import HierarchicalFit

        return HierarchicalFit.load(path)
    return MLEFit.load(path) if kind == "mle" else PosteriorFit.load(path)


def _load_directory(directory: Path) -> SpatialFit | FitCollection:
    found = [name for name in FIT_FILES.values() if (directory / name).is_file()]
    if not found:
        raise DataError(
            f"no saved fit ({' or '.join(FIT_FILES.values())}) in this directory; is it the "
            "output of bayes-ccd fit (written by bayes_ccd 0.2 or later)?",
            file=directory,
        )
    name = found[0]
    by_region = directory / "coefficients_by_region.csv"
    labels = (
        list(dict.fromkeys(pd.read_csv(by_region)[REGION].astype(str)))
        if by_region.is_file()
        else None
    )
    if labels is None:
        fit = load(directory / name)
        if read_tree(directory / name).attrs["kind"] == "hierarchical":
            return fit  # one fit of every region: a collection's tables do not apply
        return FitCollection({fit.label: fit})  # type: ignore[union-attr]
    main = main_sample(labels)
    fits = {}
    for label in labels:
        file = sample_directory(directory, label, main) / name
        if not file.is_file():
            raise DataError(f"the saved fit of sample {label} is missing", file=file)
        fits[label] = load(file)
    return FitCollection(fits)  # type: ignore[arg-type]
