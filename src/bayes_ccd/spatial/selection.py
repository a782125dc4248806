"""Model choice among SAR, SEM, SDM, SDEM and SLX: Bayesian and frequentist, side by side.

For every sample (national, and each region with ``by_region``) and every model with
the same fixed effects and transformation, :func:`compare_models` reports

- the log marginal likelihood under a conjugate prior
  (:mod:`bayes_ccd.spatial.bayes.evidence`), the posterior model probability under the
  prior model weights (equal by default) and the log Bayes factor against the most
  probable model;
- the exact leave-one-out expected log predictive density ``elpd_loo`` over the
  unit-period cells (:mod:`bayes_ccd.spatial.bayes.loo`; PSIS, Vehtari, Gelman & Gabry
  2017), its standard error, the difference to the best model with the standard error
  of the pointwise differences, ``p_loo`` and the number of cells with Pareto ``k``
  above ArviZ's threshold;
- the maximum-likelihood log-likelihood and AIC, and the tests of the seed paper's
  Table 6 that concern each model: the LM (and robust LM) test of the non-spatial
  model against its spatial term (SAR: lag, SEM: error) and the LR and Wald tests of
  the SDM against it (:mod:`bayes_ccd.spatial.specification`).

The SLX model is the spatial Durbin model at ``rho = 0`` and has no spatial parameter:
its posterior is drawn from the conjugate conditionals at ``rho = 0`` and its maximum
likelihood is least squares (the profile likelihood at ``rho = 0``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import xarray as xr

from bayes_ccd.conventions import DEFAULT_SEED, NATIONAL
from bayes_ccd.exceptions import SpecificationError
from bayes_ccd.report.figures import save_figure, stamp_notice
from bayes_ccd.report.output import run_metadata, write_json
from bayes_ccd.report.summary import Summary, SummaryTable
from bayes_ccd.report.tables import format_number, write_table
from bayes_ccd.settings import MODEL_CHOICES, BayesSettings
from bayes_ccd.spatial.bayes.evidence import (
    SLX,
    Evidence,
    check_evidence_comparable,
    log_marginal_likelihood,
    model_probabilities,
)
from bayes_ccd.spatial.bayes.exact import ExactPosterior
from bayes_ccd.spatial.bayes.loo import (
    high_pareto_k,
    log_likelihood_dataset,
    psis_loo,
    warn_high_pareto_k,
)
from bayes_ccd.spatial.bayes.posterior import observed_dataset, posterior_dataset
from bayes_ccd.spatial.bayes.priors import Prior, prior_parameters, resolve_prior
from bayes_ccd.spatial.design import SpatialPanelDesign, build_design
from bayes_ccd.spatial.ml import concentrated_loglik, estimate
from bayes_ccd.spatial.specification import lm_tests, lr_test, wald_test

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bayes_ccd.spatial.bayes.fit import PosteriorFit
    from bayes_ccd.spatial.model import SpatialPanel

#: Columns of :meth:`ModelComparison.table`.
COMPARISON_COLUMNS: Final = (
    "sample",
    "model",
    "fe",
    "prior",
    "log_marginal_likelihood",
    "quadrature_error",
    "prior_weight",
    "probability",
    "log_bayes_factor",
    "elpd_loo",
    "elpd_se",
    "elpd_diff",
    "diff_se",
    "p_loo",
    "high_pareto_k",
    "mle_loglik",
    "mle_aic",
    "lm",
    "lm_p",
    "robust_lm",
    "robust_lm_p",
    "lr",
    "lr_p",
    "wald",
    "wald_p",
)

_NOTES: Final = (
    "log ML: log marginal likelihood of the transformed observations under the prior "
    "named; P(M|y): posterior model probability under the prior model weights; "
    "elpd_loo: exact leave-one-out expected log predictive density over the unit-period "
    "cells (PSIS), with its SE, and the difference to the best model with the SE of the "
    "pointwise differences; k>{k}: cells whose Pareto k (above min(1 - 1/log10 S, 0.7) for "
    "S draws) makes their LOO estimate unreliable; "
    "LM and robust LM: tests of the non-spatial model against the spatial lag (SAR) or "
    "error (SEM); LR and Wald: tests of the SDM against the model in the row (a small p "
    "rejects the restriction); p-values in parentheses."
)


#: How :meth:`ModelComparison.summary` names the criteria of :meth:`ModelComparison.best`.
_CRITERIA: Final = {
    "probability": "posterior probability",
    "elpd_loo": "elpd_loo",
    "mle_aic": "AIC",
    "tests": "LR tests",
}


@dataclass(frozen=True, eq=False)
class ModelComparison:
    """The result of :func:`compare_models`.

    Attributes
    ----------
    frame
        One row per sample and model (:data:`COMPARISON_COLUMNS`).
    prior
        The prior of the marginal likelihoods and posteriors.
    seed
        Seed of every posterior draw.
    notes
        What the comparison could not do, and why (e.g. no marginal likelihood of a
        non-conjugate fit), and the notes of the samples' weights.
    settings
        The models, draws and chains compared (recorded in ``metadata.json``).
    notice
        What every output must say about the data (the bundled panel: synthetic).
    """

    frame: pd.DataFrame
    prior: str
    seed: int = DEFAULT_SEED
    notes: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    notice: str = ""

    def table(self) -> pd.DataFrame:
        """Return the comparison, one row per sample and model (a copy)."""
        return self.frame.copy()

    def best(self, sample: str = NATIONAL) -> dict[str, str]:
        """Return the model each criterion prefers in ``sample``.

        The criteria are ``probability`` (highest), ``elpd_loo`` (highest), ``mle_aic``
        (lowest) and ``tests`` (:func:`lr_route_choice`); a criterion that was not computed
        is left out.
        """
        rows = self.frame[self.frame["sample"] == sample].set_index("model")
        out = {}
        for column, pick in (
            ("probability", "idxmax"),
            ("elpd_loo", "idxmax"),
            ("mle_aic", "idxmin"),
        ):
            values = rows[column].dropna()
            if not values.empty:
                out[column] = str(getattr(values, pick)())
        choice = lr_route_choice(rows)
        if choice is not None:
            out["tests"] = choice
        return out

    def paper_table(self) -> pd.DataFrame:
        """Return the comparison formatted for a paper (SEs and p-values in parentheses)."""
        f = self.frame

        def cell(value: float, digits: int = 2) -> str:
            return "" if pd.isna(value) else format_number(float(value), digits)

        def paired(value: float, second: float, digits: int = 2) -> str:
            if pd.isna(value):
                return ""
            return f"{cell(value, digits)} ({cell(second, digits if digits > 2 else 3)})"

        return pd.DataFrame(
            {
                "Sample": f["sample"],
                "Model": f["model"].str.upper(),
                "log ML": [cell(v) for v in f["log_marginal_likelihood"]],
                "P(M|y)": [cell(v, 3) for v in f["probability"]],
                "elpd_loo (SE)": [
                    paired(a, b) for a, b in zip(f["elpd_loo"], f["elpd_se"], strict=True)
                ],
                "diff (SE)": [
                    paired(a, b) for a, b in zip(f["elpd_diff"], f["diff_se"], strict=True)
                ],
                "p_loo": [cell(v, 1) for v in f["p_loo"]],
                "k>0.7": [str(int(v)) for v in f["high_pareto_k"]],
                "AIC": [cell(v, 1) for v in f["mle_aic"]],
                "LM (p)": [paired(a, b) for a, b in zip(f["lm"], f["lm_p"], strict=True)],
                "LR (p)": [paired(a, b) for a, b in zip(f["lr"], f["lr_p"], strict=True)],
                "Wald (p)": [paired(a, b) for a, b in zip(f["wald"], f["wald_p"], strict=True)],
            }
        )

    def summary(self) -> Summary:
        """Headline choices per sample and the paper table."""
        lines = []
        for sample in dict.fromkeys(self.frame["sample"]):
            best = self.best(sample)
            said = ", ".join(
                f"{_CRITERIA[name]} -> {model.upper()}" for name, model in best.items()
            )
            lines.append(f"{sample}: {said}")
        return Summary(
            title=f"Model comparison (prior: {self.prior})",
            facts={"prior": self.prior, "seed": self.seed},
            lines=[*lines, *self.notes],
            tables=[
                SummaryTable(
                    self.paper_table(),
                    "Bayesian and frequentist model choice",
                    _NOTES.format(k=0.7),
                )
            ],
        )

    def plot(self) -> Figure:
        """Posterior model probabilities and ``elpd_loo`` differences (+-2 SE) per sample."""
        return plot_model_comparison(self.frame, self.prior)

    def write(
        self,
        directory: str | Path,
        *,
        figures: bool = True,
        metadata: Mapping[str, Any] | None = None,
    ) -> list[Path]:
        """Write the comparison into ``directory``.

        ``model_comparison.csv`` (every column), ``.md`` and ``.tex`` (the paper table),
        the figure (``.png``, ``.pdf``) with ``figures``, and ``metadata.json``: the
        prior, seed, settings and package versions (merged into ``metadata``).
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = [directory / "model_comparison.csv"]
        self.frame.to_csv(paths[0], index=False)
        paths += write_table(
            self.paper_table(),
            directory,
            "model_comparison",
            formats=("md", "tex"),
            caption=f"Model comparison (prior: {self.prior})",
            notes=_NOTES.format(k=0.7),
        )
        if figures:
            import matplotlib.pyplot as plt

            figure = stamp_notice(self.plot(), self.notice)
            try:
                paths += save_figure(figure, directory / "model_comparison", pdf=True)
            finally:
                plt.close(figure)
        recorded = {"prior": self.prior, "settings": self.settings, "notes": list(self.notes)}
        info = dict(metadata) if metadata is not None else run_metadata(seed=self.seed)
        paths.append(write_json(info | {"model_comparison": recorded}, directory / "metadata.json"))
        return paths


def lr_route_choice(rows: pd.DataFrame, level: float = 0.05) -> str | None:
    """Return the model the LR tests of the SDM choose (``None`` without them).

    ``rows`` are indexed by model. The SDM is kept when both of its restrictions, SAR
    (``theta = 0``) and SEM (``theta = -rho beta``), are rejected at ``level``; when
    one is rejected and the other not, the model not rejected; when neither is, the one
    of SAR and SEM with the lower AIC (the specific-to-general-to-specific route of
    Elhorst 2010, "Applied spatial econometrics: raising the bar", *Spatial Economic
    Analysis* 5). SDEM and SLX are never chosen by it.
    """
    if not {"sar", "sem", "sdm"} <= set(rows.index):
        return None
    p = rows.loc[["sar", "sem"], "lr_p"]
    if p.isna().any():
        return None
    sar_rejected, sem_rejected = bool(p["sar"] < level), bool(p["sem"] < level)
    if sar_rejected and sem_rejected:
        return "sdm"
    if sar_rejected != sem_rejected:
        return "sem" if sar_rejected else "sar"
    return str(rows.loc[["sar", "sem"], "mle_aic"].idxmin())


def plot_model_comparison(frame: pd.DataFrame, prior: str) -> Figure:
    """Draw the probabilities (left) and the elpd differences with +-2 SE (right)."""
    import matplotlib.pyplot as plt

    samples = list(dict.fromkeys(frame["sample"]))
    models = list(dict.fromkeys(frame["model"]))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 1.2 + 0.28 * len(models) * len(samples)))
    height = 0.8 / len(samples)
    for j, sample in enumerate(samples):
        rows = frame[frame["sample"] == sample].set_index("model").reindex(models)
        y = np.arange(len(models)) + (j - (len(samples) - 1) / 2) * height
        left.barh(y, rows["probability"].fillna(0.0), height=height, label=sample)
        right.errorbar(
            rows["elpd_diff"],
            y,
            xerr=2 * rows["diff_se"].fillna(0.0),
            fmt="o",
            capsize=3,
            label=sample,
        )
    for ax in (left, right):
        ax.set_yticks(np.arange(len(models)), [m.upper() for m in models])
        ax.invert_yaxis()
    left.set_xlim(0, 1)
    left.set_xlabel(f"posterior model probability (prior: {prior})")
    right.axvline(0.0, color="0.5", lw=0.8)
    right.set_xlabel("elpd_loo difference to the best model (+-2 SE)")
    left.set_title("Marginal likelihood")
    right.set_title("Leave-one-out predictive accuracy")
    if len(samples) > 1:
        left.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    return fig


# --- one model, one sample ---------------------------------------------------------------


def _posterior_tree(
    design: SpatialPanelDesign, prior: Prior, settings: BayesSettings, seed: int, slx: bool
) -> xr.DataTree:
    """Exact posterior draws of ``design`` (at ``rho = 0`` for SLX) with the LOO group."""
    exact = ExactPosterior(design, prior_parameters(prior, design))
    if slx:
        rho = np.zeros((settings.chains, settings.draws))
        draws = {"rho": rho, **exact.sample_conditionals(rho, np.random.default_rng(seed))}
    else:
        grid = exact.grid(settings.grid_size)
        draws = exact.sample(settings.draws, settings.chains, seed, grid)
    posterior = posterior_dataset(design, draws)
    return xr.DataTree.from_dict(
        {
            "/posterior": posterior,
            "/observed_data": observed_dataset(design),
            "/log_likelihood": log_likelihood_dataset(design, posterior, seed),
        }
    )


def _mle_columns(designs: dict[str, SpatialPanelDesign]) -> dict[str, dict[str, float]]:
    """Log-likelihood, AIC and the Table 6 tests of each model (see the module docstring)."""
    out: dict[str, dict[str, float]] = {}
    fits = {}
    for model, design in designs.items():
        if model == SLX:
            n_params = design.n_coefficients + 1
            loglik = float(concentrated_loglik(design, np.zeros(1))[0])
        else:
            fits[model] = estimate(design)
            loglik, n_params = fits[model].loglik, fits[model].n_params
        out[model] = {"mle_loglik": loglik, "mle_aic": 2.0 * n_params - 2.0 * loglik}
    any_design = next(iter(designs.values()))
    lm = {t.test: t for t in lm_tests(any_design.data, any_design.weights, any_design.spec)}
    for model, kind in (("sar", "lag"), ("sem", "error")):
        if model not in out:
            continue
        out[model] |= {
            "lm": lm[f"LM-{kind}"].statistic,
            "lm_p": lm[f"LM-{kind}"].p_value,
            "robust_lm": lm[f"Robust LM-{kind}"].statistic,
            "robust_lm_p": lm[f"Robust LM-{kind}"].p_value,
        }
        if "sdm" in fits:
            lr = lr_test(fits["sdm"], fits[model])
            wald = wald_test(fits["sdm"], model)  # type: ignore[arg-type]
            out[model] |= {
                "lr": lr.statistic,
                "lr_p": lr.p_value,
                "wald": wald.statistic,
                "wald_p": wald.p_value,
            }
    return out


def _sample_rows(
    label: str,
    designs: dict[str, SpatialPanelDesign],
    trees: dict[str, xr.DataTree],
    evidences: dict[str, Evidence],
    prior_name: str,
    weights: Sequence[float] | None,
    mle: bool,
    independent: dict[str, bool],
) -> list[dict[str, Any]]:
    models = list(designs)
    logs = [evidences[m].log_marginal_likelihood if evidences.get(m) else math.nan for m in models]
    known = [m for m, v in zip(models, logs, strict=True) if not math.isnan(v)]
    probabilities = dict.fromkeys(models, math.nan)
    prior_weights = dict(zip(models, weights or [1.0] * len(models), strict=True))
    if known:
        check_evidence_comparable([evidences[m] for m in known])
    # Probabilities and Bayes factors compare every model, or none (a model without a
    # marginal likelihood would otherwise be left out in silence).
    if known == models:
        probs = model_probabilities(
            [evidences[m].log_marginal_likelihood for m in known],
            [prior_weights[m] for m in known],
        )
        probabilities |= dict(zip(known, probs, strict=True))
    best_log = max(logs) if known == models else math.nan
    loos = {m: psis_loo(tree, independent=independent[m]) for m, tree in trees.items()}
    warn_high_pareto_k(label, loos)
    best_loo = max(loos, key=lambda m: loos[m].elpd) if loos else None
    mle_columns = _mle_columns(designs) if mle else {}
    rows = []
    for m in models:
        ev, loo = evidences.get(m), loos.get(m)
        row: dict[str, Any] = dict.fromkeys(COMPARISON_COLUMNS, math.nan)
        row |= {
            "sample": label,
            "model": m,
            "fe": designs[m].spec.fe,
            "prior": prior_name,
            "prior_weight": prior_weights[m],
            "probability": probabilities[m],
            "high_pareto_k": 0,
        }
        if ev is not None:
            row |= {
                "log_marginal_likelihood": ev.log_marginal_likelihood,
                "quadrature_error": ev.quadrature_error,
                "log_bayes_factor": ev.log_marginal_likelihood - best_log,
            }
        if loo is not None and best_loo is not None:
            diff = (loo.elpd_i - loos[best_loo].elpd_i).to_numpy().ravel()
            row |= {
                "elpd_loo": float(loo.elpd),
                "elpd_se": float(loo.se),
                "elpd_diff": float(diff.sum()),
                "diff_se": float(np.sqrt(diff.size * np.var(diff))),
                "p_loo": float(loo.p),
                "high_pareto_k": len(high_pareto_k(loo)),
            }
        row |= mle_columns.get(m, {})
        rows.append(row)
    return rows


# --- the public entry point ---------------------------------------------------------------


def compare_models(
    model: SpatialPanel | Sequence[PosteriorFit],
    *,
    models: Sequence[str] = MODEL_CHOICES,
    prior: str | Path | Prior | None = None,
    prior_weights: Sequence[float] | None = None,
    by_region: bool = False,
    seed: int = DEFAULT_SEED,
    settings: BayesSettings | None = None,
    mle: bool = True,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> ModelComparison:
    """Compare spatial panel models by marginal likelihood, exact LOO and the MLE tests.

    Parameters
    ----------
    model
        A :class:`~bayes_ccd.spatial.model.SpatialPanel` (its data, weights, fixed
        effects, transformation and covariates; every model of ``models`` is fitted by
        the exact sampler), or posterior fits of the same data and sample (their
        fingerprints may differ only in the model; any sampler or error distribution;
        the marginal likelihood is reported where the prior is conjugate).
    models
        Among :data:`MODEL_CHOICES` (SpatialPanel only).
    prior
        A conjugate prior (default ``settings.prior``, i.e. ``"default"``).
    prior_weights
        Prior model probabilities, one per model (normalised; default equal).
    by_region
        Also compare within each region (W cut and re-standardised).
    seed
        Seed of every posterior draw.
    settings
        :class:`~bayes_ccd.settings.BayesSettings` (draws, chains, grid); ``options``
        override single fields.
    mle
        Add the maximum-likelihood columns.
    progress
        Called with a message as each sample starts.

    Raises
    ------
    SpecificationError
        Unknown models, a non-conjugate prior, fits of different data, or marginal
        likelihoods that an improper prior makes incomparable.
    """
    report = progress or (lambda message: None)
    chosen = (settings or BayesSettings()).replace(**options)
    n_models = len(models) if not isinstance(model, Sequence) else len(model)
    if prior_weights is not None and len(prior_weights) != n_models:
        raise SpecificationError(
            f"{len(prior_weights)} prior model weights given for {n_models} models"
        )
    if not isinstance(model, Sequence):
        return _compare_specifications(
            model, models, prior, prior_weights, by_region, seed, chosen, mle, report
        )
    return _compare_fits(list(model), prior_weights, mle)


def _compare_specifications(
    panel: SpatialPanel,
    models: Sequence[str],
    prior: Any,
    prior_weights: Sequence[float] | None,
    by_region: bool,
    seed: int,
    settings: BayesSettings,
    mle: bool,
    report: Callable[[str], None],
) -> ModelComparison:
    unknown = sorted(set(models) - set(MODEL_CHOICES))
    if unknown or not models:
        raise SpecificationError(
            f"unknown model(s) {unknown} to compare; use some of {list(MODEL_CHOICES)}"
        )
    chosen_prior = resolve_prior(settings.prior if prior is None else prior)
    if not chosen_prior.conjugate:
        raise SpecificationError(
            f"the prior '{chosen_prior.name}' is not conjugate: marginal likelihoods are "
            "computed under conjugate priors (normal or flat coefficients, inverse-gamma or "
            "Jeffreys variance); compare NUTS fits with compare_models([fit, ...]) for LOO"
        )
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for label, sample in panel.samples(by_region=by_region).items():
        report(f"model comparison, sample {label}: {', '.join(m.upper() for m in models)}")
        designs = {
            m: build_design(
                sample.data, sample.weights, panel.spec.replace(model="sdm" if m == SLX else m)
            )
            for m in models
        }
        evidences = {
            m: log_marginal_likelihood(d, chosen_prior, slx=m == SLX, grid_size=settings.grid_size)
            for m, d in designs.items()
        }
        check_evidence_comparable(list(evidences.values()))  # before any sampling
        trees = {
            m: _posterior_tree(d, chosen_prior, settings, seed, m == SLX)
            for m, d in designs.items()
        }
        rows += _sample_rows(
            label,
            designs,
            trees,
            evidences,
            chosen_prior.name,
            prior_weights,
            mle,
            dict.fromkeys(designs, True),
        )
        notes += [f"{label}: {n}" for n in sample.notes]
    return ModelComparison(
        pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS)),
        chosen_prior.name,
        seed,
        tuple(notes),
        {"models": list(models), "draws": settings.draws, "chains": settings.chains},
        panel.arrays.notice,
    )


def _compare_fits(
    fits: list[PosteriorFit], prior_weights: Sequence[float] | None, mle: bool
) -> ModelComparison:
    from bayes_ccd.spatial.bayes.fit import PosteriorFit

    if not fits or not all(isinstance(f, PosteriorFit) for f in fits):
        raise SpecificationError("compare_models needs a SpatialPanel or a list of posterior fits")
    first = fits[0].fingerprint
    for fit in fits[1:]:
        differences = [d for d in first.differences(fit.fingerprint) if not d.startswith("model ")]
        if differences:
            raise SpecificationError(
                f"the fits are not of the same data and sample: {'; '.join(differences)}"
            )
    labels = [_fit_label(f) for f in fits]
    if len(set(labels)) != len(labels):
        raise SpecificationError(f"two fits of the same model and errors: {labels}")
    notes = []
    evidences = {}
    for label, fit in zip(labels, fits, strict=True):
        if fit.prior.conjugate and fit.settings.errors == "normal":
            evidences[label] = log_marginal_likelihood(fit.design, fit.prior)
        else:
            notes.append(
                f"{label}: no marginal likelihood (it is computed in closed form only under "
                "conjugate priors with normal errors), so no model probabilities or Bayes "
                "factors; compare by elpd_loo"
            )
    priors = {f.prior.name for f in fits}
    prior_name = priors.pop() if len(priors) == 1 else "mixed"
    if prior_name == "mixed" and evidences:
        raise SpecificationError(
            "the fits use different priors: marginal likelihoods under different priors "
            "answer different questions; refit under one prior"
        )
    designs = dict(zip(labels, (f.design for f in fits), strict=True))
    trees = {label: f.with_log_likelihood().tree for label, f in zip(labels, fits, strict=True)}
    exact = {label: f.settings.sampler == "exact" for label, f in zip(labels, fits, strict=True)}
    rows = _sample_rows(
        fits[0].label, designs, trees, evidences, prior_name, prior_weights, False, exact
    )
    if mle:
        for row, fit in zip(rows, fits, strict=True):
            result = estimate(fit.design)
            row |= {"mle_loglik": result.loglik, "mle_aic": result.aic}
    return ModelComparison(
        pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS)),
        prior_name,
        fits[0].seed,
        tuple(notes),
        notice=fits[0].design.data.notice,
    )


def _fit_label(fit: PosteriorFit) -> str:
    errors = "-t" if fit.settings.errors == "student_t" else ""
    return f"{fit.spec.model}{errors}"
