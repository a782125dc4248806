"""MCMC diagnostics with a verdict, and the diagnostic figures of a posterior.

For every parameter and every effect: rank-normalised split R-hat, bulk and tail
effective sample sizes (Vehtari, Gelman, Simpson, Carpenter & Buerkner 2021, *Bayesian
Analysis* 16, 667-718) and Monte Carlo standard errors of the mean and the sd; for NUTS
also the number of divergent transitions after warm-up and the energy Bayesian fraction
of missing information per chain, E-BFMI (Betancourt 2016, arXiv:1604.00695). A run
*converged* when

- every R-hat is at most :data:`R_HAT_MAX` (1.01, Vehtari et al. 2021),
- every bulk and tail ESS is at least :data:`ESS_MIN` (400, Vehtari et al. 2021: 100
  per chain for four chains),
- there is no divergent transition, and
- every chain's E-BFMI is at least :data:`BFMI_MIN` (0.3, Betancourt 2016).

A failure is never silent: :func:`diagnose` returns a verdict with plain-language
messages and issues a :class:`~bayes_ccd.exceptions.ConvergenceWarning`. Independent
draws (the exact sampler) are diagnosed the same way, arranged as chains so that R-hat
is defined; they have no divergences or energy (reported as not applicable).

Figures use ArviZ's ``arviz_plots`` with the matplotlib backend and are returned, not
written.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import xarray as xr

from bayes_ccd.conventions import COVARIATE, EFFECT, INTERVAL_PROB, TERM
from bayes_ccd.exceptions import ConvergenceWarning
from bayes_ccd.exceptions import warn as warn_user

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Largest acceptable rank-normalised split R-hat.
R_HAT_MAX: Final = 1.01
#: Smallest acceptable bulk and tail effective sample size.
ESS_MIN: Final = 400
#: Smallest acceptable E-BFMI of a chain.
BFMI_MIN: Final = 0.3
#: Variables diagnosed by default (``sigma`` is a monotone function of ``sigma2`` and
#: has the same rank diagnostics; ``nu`` are the Student-t degrees of freedom).
DIAGNOSED: Final = ("rho", "lambda", "beta", "sigma2", "nu", "effects")
#: Columns of :attr:`Diagnostics.table`.
DIAGNOSTIC_COLUMNS: Final = (
    "quantity",
    "r_hat",
    "ess_bulk",
    "ess_tail",
    "mcse_mean",
    "mcse_sd",
    "value",
    "passed",
    "problem",
)
#: Quantities named in a message before "and N more".
_NAMED: Final = 3


def element_labels(array: xr.DataArray) -> list[str]:
    """Label every element of a posterior variable as ``name[label, ...]``.

    The labels omit the sample dimensions (``rho``, ``beta[W*x1]``, ``effects[direct, x1]``).
    """
    dims = [d for d in array.dims if d not in ("chain", "draw")]
    if not dims:
        return [str(array.name)]
    index = pd.MultiIndex.from_product([array[d].to_numpy() for d in dims])
    return [f"{array.name}[{', '.join(map(str, key))}]" for key in index]


def convergence_statistics(draws: xr.DataArray) -> dict[str, xr.DataArray]:
    """Compute R-hat, bulk and tail ESS and the MCSEs of the mean and sd of one variable.

    The posterior variable has dims ``chain, draw, ...``; the statistics are computed
    element by element, NaN for elements constant across draws (e.g. SEM spillovers
    fixed at zero), whose R-hat is undefined.
    """
    import arviz_stats as az

    name = str(draws.name)
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({name: draws})})
    with warnings.catch_warnings():
        # Constant elements divide a zero variance by zero; the NaN is what we report.
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        warnings.filterwarnings("ignore", "divide by zero encountered", RuntimeWarning)
        stats = {
            "r_hat": az.rhat(tree)[name],
            "ess_bulk": az.ess(tree, method="bulk")[name],
            "ess_tail": az.ess(tree, method="tail")[name],
            "mcse_mean": az.mcse(tree, method="mean")[name],
            "mcse_sd": az.mcse(tree, method="sd")[name],
        }
    constant = (draws.max(("chain", "draw")) - draws.min(("chain", "draw"))) == 0
    return {key: value.where(~constant).reset_coords(drop=True) for key, value in stats.items()}


@dataclass(frozen=True)
class Diagnostics:
    """Convergence diagnostics of a posterior and their verdict.

    Attributes
    ----------
    table
        One row per quantity (parameters and effects element by element), then the
        sampler rows ``divergences`` and ``e_bfmi[chain]`` (NUTS); columns
        :data:`DIAGNOSTIC_COLUMNS`, ``passed`` the pass/fail flag and ``problem`` the
        reason of a failure.
    divergences
        Divergent transitions after warm-up (``None`` without sampler statistics).
    bfmi
        E-BFMI of each chain (``None`` without energy statistics).
    messages
        Plain-language explanation of every failed check (empty when converged).
    thresholds
        ``r_hat_max``, ``ess_min``, ``bfmi_min`` applied.
    """

    table: pd.DataFrame
    divergences: int | None
    bfmi: tuple[float, ...] | None
    messages: tuple[str, ...]
    thresholds: dict[str, float]

    @property
    def converged(self) -> bool:
        """Whether every check passed."""
        return not self.messages

    @property
    def verdict(self) -> str:
        """``"converged"`` or ``"not converged: <reasons>"``."""
        return "converged" if self.converged else "not converged: " + " ".join(self.messages)

    def headline(self) -> dict[str, Any]:
        """Headline numbers (for ``fit.json`` and reports)."""
        quantities = self.table[~self.table["quantity"].isin(["divergences"])]
        quantities = quantities[~quantities["quantity"].str.startswith("e_bfmi")]
        return {
            "converged": self.converged,
            "verdict": self.verdict,
            "max_r_hat": _nan_to_none(quantities["r_hat"].max()),
            "min_ess_bulk": _nan_to_none(quantities["ess_bulk"].min()),
            "min_ess_tail": _nan_to_none(quantities["ess_tail"].min()),
            "divergences": self.divergences,
            "min_bfmi": None if self.bfmi is None else min(self.bfmi),
            "thresholds": dict(self.thresholds),
        }


def _nan_to_none(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


def _listing(frame: pd.DataFrame, column: str, *, largest: bool, digits: int) -> str:
    """List the worst quantities of ``frame`` by ``column``, at most :data:`_NAMED` named."""
    ordered = frame.sort_values(column, ascending=not largest)
    shown = [
        f"{q} {v:.{digits}f}" for q, v in zip(ordered["quantity"], ordered[column], strict=True)
    ]
    extra = f" and {len(shown) - _NAMED} more" if len(shown) > _NAMED else ""
    return ", ".join(shown[:_NAMED]) + extra


def _quantity_table(
    posterior: xr.DataTree,
    names: Sequence[str],
    r_hat_max: float,
    ess_min: float,
    statistics: Mapping[str, Mapping[str, xr.DataArray]],
) -> tuple[pd.DataFrame, list[str]]:
    """Per-quantity diagnostics with pass/fail, and the messages of failed checks."""
    frames = []
    for name in names:
        draws = posterior[name]
        stats = statistics.get(name) or convergence_statistics(draws)
        order = [d for d in draws.dims if d not in ("chain", "draw")]
        frame = pd.DataFrame(
            {key: np.ravel(value.transpose(*order)) for key, value in stats.items()}
        )
        frames.append(frame.assign(quantity=element_labels(draws)))
    table = pd.concat(frames, ignore_index=True)
    failed = {
        f"R-hat > {r_hat_max}": table["r_hat"] > r_hat_max,
        f"bulk ESS < {ess_min:g}": table["ess_bulk"] < ess_min,
        f"tail ESS < {ess_min:g}": table["ess_tail"] < ess_min,
    }
    table["problem"] = [
        "; ".join(text for text, bad in zip(failed, row, strict=True) if bad)
        for row in zip(*failed.values(), strict=True)
    ]
    single = posterior.sizes.get("chain", 1) < 2
    constant = table["ess_bulk"].isna() & table["r_hat"].isna()
    if single:
        # R-hat compares chains: with one chain only the single-chain ESS and MCSE exist.
        table["r_hat"] = np.nan
        table["problem"] = table["problem"].where(
            constant | (table["problem"] != ""), "R-hat needs 2 chains (not computed)"
        )
    table["problem"] = table["problem"].where(~constant, "constant across draws (not diagnosed)")
    rhat_bad, bulk_bad, tail_bad = failed.values()
    table["passed"] = ~(rhat_bad | bulk_bad | tail_bad)
    table["value"] = np.nan
    messages = []
    if single:
        messages.append(
            "R-hat needs at least two chains and was not computed (chains = 1); the ESS "
            "and MCSE are those of the single chain; run two or more chains to check "
            "convergence."
        )
    if rhat_bad.any():
        messages.append(
            f"R-hat above {r_hat_max} for {int(rhat_bad.sum())} quantities "
            f"({_listing(table[rhat_bad], 'r_hat', largest=True, digits=3)}): the chains "
            "disagree, so the draws do not yet represent the posterior; run more warm-up "
            "and draws, or check the model."
        )
    low = table[bulk_bad | tail_bad]
    if len(low):
        low = low.assign(ess=np.fmin(low["ess_bulk"], low["ess_tail"]))
        messages.append(
            f"effective sample size below {ess_min:g} for {len(low)} quantities "
            f"({_listing(low, 'ess', largest=False, digits=0)}): too few effective draws "
            "for stable means and intervals; increase the draws (or chains)."
        )
    return table, messages


def _sampler_checks(
    tree: xr.DataTree, bfmi_min: float
) -> tuple[list[dict[str, Any]], list[str], int | None, tuple[float, ...] | None]:
    """Divergences and E-BFMI from ``sample_stats`` (absent for independent draws)."""
    import arviz_stats as az

    rows: list[dict[str, Any]] = []
    messages: list[str] = []
    divergences = bfmi = None
    if "sample_stats" not in tree.children:
        return rows, messages, divergences, bfmi
    stats = tree["sample_stats"]
    if "diverging" in stats.data_vars:
        divergences = int(stats["diverging"].sum())
        rows.append(
            {
                "quantity": "divergences",
                "value": float(divergences),
                "passed": divergences == 0,
                "problem": "" if divergences == 0 else "divergent transitions",
            }
        )
        if divergences:
            messages.append(
                f"{divergences} divergent transitions after warm-up: the sampler could not "
                "explore part of the posterior and the draws may be biased; raise "
                "target_accept (e.g. 0.95) or reparametrise the model."
            )
    if "energy" in stats.data_vars:
        bfmi = tuple(float(v) for v in np.atleast_1d(az.bfmi(tree)["energy"].to_numpy()))
        for chain, value in enumerate(bfmi):
            rows.append(
                {
                    "quantity": f"e_bfmi[{chain}]",
                    "value": value,
                    "passed": value >= bfmi_min,
                    "problem": "" if value >= bfmi_min else f"E-BFMI < {bfmi_min}",
                }
            )
        low = [chain for chain, value in enumerate(bfmi) if value < bfmi_min]
        if low:
            messages.append(
                f"E-BFMI below {bfmi_min} in chain(s) {low}: the sampler explores the "
                "energy distribution poorly (heavy tails or strong curvature), so the "
                "results may be unreliable; run longer or reparametrise."
            )
    return rows, messages, divergences, bfmi


def diagnose(
    tree: xr.DataTree,
    *,
    var_names: Sequence[str] | None = None,
    r_hat_max: float = R_HAT_MAX,
    ess_min: float = ESS_MIN,
    bfmi_min: float = BFMI_MIN,
    warn: bool = True,
    statistics: Mapping[str, Mapping[str, xr.DataArray]] | None = None,
) -> Diagnostics:
    """Diagnose the posterior of ``tree`` and give a verdict.

    Parameters
    ----------
    tree
        A DataTree with a ``posterior`` group (and ``sample_stats`` for NUTS).
    var_names
        Posterior variables to diagnose (default: those of :data:`DIAGNOSED` present).
    r_hat_max, ess_min, bfmi_min
        Thresholds (see the module docstring).
    warn
        Issue a :class:`ConvergenceWarning` with the messages when a check fails.
    statistics
        :func:`convergence_statistics` of the variables, when already computed (a fit
        computes them once for its tables and its diagnostics).
    """
    posterior = tree["posterior"]
    names = [v for v in (var_names or DIAGNOSED) if v in posterior.data_vars]
    table, messages = _quantity_table(posterior, names, r_hat_max, ess_min, statistics or {})
    rows, sampler_messages, divergences, bfmi = _sampler_checks(tree, bfmi_min)
    if rows:
        table = pd.concat([table, pd.DataFrame(rows)], ignore_index=True)
    table = table[list(DIAGNOSTIC_COLUMNS)].astype({"passed": bool})
    messages += sampler_messages
    thresholds = {"r_hat_max": r_hat_max, "ess_min": ess_min, "bfmi_min": bfmi_min}
    result = Diagnostics(table, divergences, bfmi, tuple(messages), thresholds)
    if warn and messages:
        warn_user("MCMC did not converge: " + " ".join(messages), ConvergenceWarning)
    return result


# --- figures ------------------------------------------------------------------------------
# ArviZ's plots draw on pyplot figures: callers that save them close them afterwards.


def _spatial_name(tree: xr.DataTree) -> str:
    return next(v for v in ("rho", "lambda") if v in tree["posterior"].data_vars)


def parameter_groups(tree: xr.DataTree) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """Split the sampled parameters into the groups the trace and rank plots show.

    ``[(title, [(label, draws (chain, draw)), ...]), ...]``: the spatial parameter, the
    error variance (and Student-t ``nu``); the coefficients of the covariates; those of
    their spatial lags ``W*x`` (Durbin models).
    """
    posterior = tree["posterior"]
    first = [_spatial_name(tree), "sigma2", *(["nu"] if "nu" in posterior.data_vars else [])]
    scale = [(name, posterior[name].to_numpy()) for name in first]
    beta = posterior["beta"]
    terms = [str(t) for t in beta[TERM].to_numpy()]
    by_term = {t: beta.sel({TERM: t}).to_numpy() for t in terms}
    groups = [("Spatial parameter and error variance", scale)]
    own = [(t, by_term[t]) for t in terms if not t.startswith("W*")]
    lags = [(t, by_term[t]) for t in terms if t.startswith("W*")]
    groups += [
        (title, part)
        for title, part in (
            ("Coefficients of the covariates", own),
            ("Coefficients of the spatial lags W*x", lags),
        )
        if part
    ]
    return groups


def _chain_colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    return [colormaps["tab10"](c % 10) for c in range(n)]


def plot_trace(tree: xr.DataTree) -> Figure:
    """Trace and per-chain density of every sampled parameter, in panels per group.

    One row per parameter (:func:`parameter_groups`): the density of each chain's
    draws (left) and the draws in sampling order (right, at most 1000 per chain shown);
    chains that mix overlap everywhere. Returns a :class:`~matplotlib.figure.Figure`.
    """
    from matplotlib.figure import Figure
    from scipy.stats import gaussian_kde

    groups = parameter_groups(tree)
    rows = [len(params) for _, params in groups]
    chains = groups[0][1][0][1].shape[0]
    colours = _chain_colours(chains)
    figure = Figure(
        figsize=(10.0, 1.05 * sum(rows) + 0.9 * len(groups) + 0.6), layout="constrained"
    )
    blocks = figure.subfigures(len(groups), 1, height_ratios=[r + 0.9 for r in rows], squeeze=False)
    for block, (title, params) in zip(blocks[:, 0], groups, strict=True):
        axes = block.subplots(len(params), 2, squeeze=False, width_ratios=[1, 2.2])
        for (density_ax, trace_ax), (label, draws) in zip(axes, params, strict=True):
            step = max(1, draws.shape[1] // 1000)
            grid = np.linspace(*np.quantile(draws, [0.001, 0.999]), 200)
            for c in range(chains):
                values = draws[c]
                if np.ptp(values) > 0:
                    density_ax.plot(grid, gaussian_kde(values)(grid), color=colours[c], lw=1)
                trace_ax.plot(
                    np.arange(0, values.size, step),
                    values[::step],
                    color=colours[c],
                    lw=0.5,
                    alpha=0.8,
                    label=f"chain {c}",
                )
            density_ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
            density_ax.set_yticks([])
            for ax in (density_ax, trace_ax):
                ax.tick_params(labelsize=8)
                ax.ticklabel_format(
                    axis="both" if ax is density_ax else "y", style="sci", scilimits=(-3, 4)
                )
        axes[-1, 0].set_xlabel("value", fontsize=9)
        axes[-1, 1].set_xlabel("draw", fontsize=9)
        block.suptitle(title, fontsize=10)
    handles, labels = blocks[0, 0].axes[1].get_legend_handles_labels()
    figure.legend(
        handles, labels, loc="outside lower center", ncol=min(chains, 8), fontsize=8, frameon=False
    )
    figure.suptitle("Trace plots: density by chain (left) and draws (right)", fontsize=11)
    return figure


#: Bins of the rank histograms.
RANK_BINS: Final = 20


def plot_rank(tree: xr.DataTree) -> Figure:
    """Rank histograms of every chain (Vehtari et al. 2021), in panels per group.

    The draws of all chains are ranked together; a chain that mixes with the others has
    ranks spread uniformly, so each chain's histogram (one line per chain) stays in the
    grey band, the central 99% of a bin count under uniformity. Bins outside it by
    chance are about 1% of all: the verdict rests on R-hat and ESS
    (:func:`diagnose`), which summarise the same ranks. Returns a
    :class:`~matplotlib.figure.Figure`.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from scipy.stats import binom, rankdata

    groups = parameter_groups(tree)
    chains, draws_per_chain = groups[0][1][0][1].shape
    colours = _chain_colours(chains)
    columns = 4
    rows = [math.ceil(len(params) / columns) for _, params in groups]
    expected = draws_per_chain / RANK_BINS
    band = binom.ppf([0.005, 0.995], draws_per_chain, 1 / RANK_BINS)
    figure = Figure(figsize=(10.0, 1.9 * sum(rows) + 0.7 * len(groups) + 0.6), layout="constrained")
    blocks = figure.subfigures(
        len(groups), 1, height_ratios=[r + 0.35 for r in rows], squeeze=False
    )
    edges = np.linspace(0, 1, RANK_BINS + 1)
    for block, (title, params), n_rows in zip(blocks[:, 0], groups, rows, strict=True):
        axes = block.subplots(n_rows, columns, squeeze=False, sharex=True)
        for ax in axes.ravel()[len(params) :]:
            ax.set_visible(False)
        for ax, (label, draws) in zip(axes.ravel(), params, strict=False):
            ranks = (rankdata(draws.ravel()).reshape(draws.shape) - 0.5) / draws.size
            ax.axhspan(*band, color="0.88", lw=0)
            ax.axhline(expected, color="0.5", lw=0.8, ls=":")
            counts = np.stack([np.histogram(ranks[c], bins=edges)[0] for c in range(chains)])
            for c in range(chains):
                ax.stairs(
                    counts[c], edges, baseline=None, color=colours[c], lw=1.1, label=f"chain {c}"
                )
            low, high = min(band[0], counts.min()), max(band[1], counts.max())
            ax.set_ylim(low - 0.15 * (high - low), high + 0.15 * (high - low))
            ax.set_title(label, fontsize=9)
            ax.set_yticks([])
            ax.tick_params(labelsize=8)
        for ax in axes[-1]:
            ax.set_xlabel("rank (fraction)", fontsize=8)
        block.suptitle(title, fontsize=10)
    handles, labels = blocks[0, 0].axes[0].get_legend_handles_labels()
    handles.append(Patch(color="0.88"))
    labels.append("99% band of a uniform bin")
    figure.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=min(chains + 1, 8),
        fontsize=8,
        frameon=False,
    )
    figure.suptitle("Rank plots: ranks of each chain among all draws", fontsize=11)
    return figure


def plot_effects_forest(
    tree: xr.DataTree, *, prob: float = INTERVAL_PROB, y_name: str = "y"
) -> Figure:
    """Draw the forest plot of the direct, indirect and total effects, one panel each.

    Every covariate shows its posterior median (circle), 50% central interval (thick)
    and ``prob`` central interval (thin), chains combined; ``y_name`` names the
    dependent variable on the axis. Returns a :class:`~matplotlib.figure.Figure`.
    """
    from matplotlib.figure import Figure

    effects = tree["posterior"]["effects"]
    draws = effects.stack(sample=("chain", "draw")).transpose(EFFECT, COVARIATE, "sample")
    tails = (1 - prob) / 2
    lo, q1, median, q3, hi = np.quantile(
        draws.to_numpy(), [tails, 0.25, 0.5, 0.75, 1 - tails], axis=-1
    )
    kinds = [str(k) for k in effects[EFFECT].to_numpy()]
    covariates = [str(c) for c in effects[COVARIATE].to_numpy()]
    y = np.arange(len(covariates))[::-1].astype(float)
    figure = Figure(figsize=(10.0, 0.42 * len(covariates) + 2.0), layout="constrained")
    axes = figure.subplots(1, len(kinds), sharey=True, squeeze=False)[0]
    for k, (ax, kind) in enumerate(zip(axes, kinds, strict=True)):
        ax.axvline(0.0, color="0.6", linewidth=0.8, linestyle=":")
        ax.hlines(y, lo[k], hi[k], color="tab:blue", linewidth=1.2, label=f"{prob:.0%} interval")
        ax.hlines(y, q1[k], q3[k], color="tab:blue", linewidth=4.0, label="50% interval")
        ax.plot(median[k], y, "o", color="tab:blue", markerfacecolor="white", label="median")
        ax.set_title(f"{kind} effects", fontsize=10)
        ax.set_xlabel(f"effect on {y_name}")
        ax.grid(axis="x", color="0.92")
    axes[0].set_yticks(y, covariates)
    axes[0].set_ylim(-0.7, len(covariates) - 0.3)
    figure.suptitle("Direct, indirect and total effects (LeSage-Pace): posterior", fontsize=11)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(
        handles,
        [f"posterior {label}" if label == "median" else f"{label} (central)" for label in labels],
        loc="outside right upper",
        ncol=1,
        fontsize=8,
        frameon=False,
    )
    return figure


def plot_ppc(
    tree: xr.DataTree,
    *,
    statistics: Mapping[str, tuple[float, np.ndarray]] | None = None,
    y_name: str = "y",
    n_lines: int = 50,
) -> Figure:
    """Plot the posterior predictive check: densities of the observed and replicated ``y``.

    The observed demeaned ``y`` (black) is set against ``n_lines`` replicates from the
    reduced form (blue; see
    :func:`bayes_ccd.spatial.bayes.posterior.posterior_predictive`). With
    ``statistics`` (:func:`~bayes_ccd.spatial.bayes.posterior.ppc_statistics`) a second
    panel shows the replicated Moran's I against the observed one, with the predictive
    p-value ``P(I_rep >= I_obs)``: a spatial model that reproduces the spatial
    dependence of ``y`` puts the observed value inside the replicated ones.
    Returns a :class:`~matplotlib.figure.Figure`.
    """
    from matplotlib.figure import Figure
    from scipy.stats import gaussian_kde

    observed = tree["observed_data"]["y"].to_numpy().ravel()
    replicated = tree["posterior_predictive"]["y"]
    reps = replicated.stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()
    reps = reps.reshape(reps.shape[0], -1)
    shown = reps[np.unique(np.linspace(0, len(reps) - 1, n_lines).round().astype(int))]
    span = np.concatenate([observed, shown.ravel()])
    grid = np.linspace(*np.quantile(span, [0.0005, 0.9995]), 256)
    panels = 2 if statistics is not None and "moran_i" in statistics else 1
    figure = Figure(figsize=(5.2 * panels + 0.6, 3.6), layout="constrained")
    axes = figure.subplots(1, panels, squeeze=False)[0]
    ax = axes[0]
    for k, values in enumerate(shown):
        label = f"replicated ({len(shown)} posterior draws)" if k == 0 else None
        ax.plot(grid, gaussian_kde(values)(grid), color="tab:blue", alpha=0.25, lw=0.8, label=label)
    ax.plot(grid, gaussian_kde(observed)(grid), color="black", linewidth=1.6, label="observed")
    ax.set_xlabel(f"{y_name}, fixed effects removed (transformed)")
    ax.set_ylabel("density")
    ax.set_title("Distribution of the dependent variable", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    if panels == 2:
        obs, rep = statistics["moran_i"]  # type: ignore[index]
        ax = axes[1]
        ax.hist(rep, bins=30, color="tab:blue", alpha=0.6, label=f"replicated ({rep.size})")
        ax.axvline(obs, color="black", linewidth=1.6, label=f"observed I = {obs:.3f}")
        p_value = float(np.mean(rep >= obs))
        ax.set_xlabel(f"Moran's I of {y_name} (mean over periods)")
        ax.set_ylabel("replicates")
        ax.set_title(f"Spatial dependence: P(I_rep >= I_obs) = {p_value:.2f}", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
    figure.suptitle("Posterior predictive check", fontsize=11)
    return figure


def plot_spatial_marginal(tree: xr.DataTree) -> Figure:
    """Plot the exact sampler's marginal posterior of the spatial parameter on its grid.

    A histogram of the draws lies under it (they must agree).
    """
    from matplotlib.figure import Figure

    name = _spatial_name(tree)
    marginal = tree["spatial_marginal"]
    draws = tree["posterior"][name].to_numpy().ravel()
    figure = Figure(figsize=(6.0, 3.4), layout="constrained")
    ax = figure.subplots()
    ax.hist(draws, bins=60, density=True, color="0.8", label=f"{draws.size} draws")
    ax.plot(marginal["grid"], marginal["density"], color="black", label=f"p({name} | y)")
    lo, hi = np.quantile(draws, [0.001, 0.999])
    pad = 0.1 * (hi - lo)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(name)
    ax.set_ylabel("density")
    ax.set_title(f"Marginal posterior of {name} (exact sampler)", fontsize=10)
    ax.legend(fontsize=8)
    return figure


def diagnostic_figures(
    tree: xr.DataTree,
    *,
    prob: float = INTERVAL_PROB,
    y_name: str = "y",
    ppc_statistics: Mapping[str, tuple[float, np.ndarray]] | None = None,
) -> dict[str, Figure]:
    """Draw the diagnostic figures of a posterior, by file stem.

    MCMC draws (with ``sample_stats``) get ``trace`` and ``rank`` plots, which diagnose
    mixing; independent draws of the exact sampler have none to diagnose and get the
    ``spatial_marginal`` instead. Every posterior gets ``effects_forest`` and, with a
    ``posterior_predictive`` group, ``ppc`` (with its Moran's I given
    ``ppc_statistics``). ``y_name`` names the dependent variable on the axes.
    """
    figures = {}
    if "sample_stats" in tree.children:
        figures["trace"] = plot_trace(tree)
        figures["rank"] = plot_rank(tree)
    if "spatial_marginal" in tree.children:
        figures["spatial_marginal"] = plot_spatial_marginal(tree)
    figures["effects_forest"] = plot_effects_forest(tree, prob=prob, y_name=y_name)
    if "posterior_predictive" in tree.children:
        figures["ppc"] = plot_ppc(tree, statistics=ppc_statistics, y_name=y_name)
    return figures
