"""Bootstrap of DEA efficiency: bias-corrected scores and confidence intervals.

DEA scores estimate the distance to a frontier that is itself estimated from the data,
so they are biased upwards (the estimated frontier lies inside the true one) and carry
sampling error. Simar and Wilson (1998) bootstrap them by resampling the distances with
a smoothed, reflected kernel estimate of their density, rebuilding pseudo data on the
estimated frontier and re-estimating; this module follows their algorithm as R's
Benchmarking package implements it in ``boot.sw98`` (Bogetoft and Otto 2011, ch. 5),
for CRS and VRS, input or output oriented.

Distances are the reciprocal of the efficiency, ``delta = 1 / efficiency >= 1``: the
Shephard input distance ``1/theta`` in the input orientation and the Farrell output
measure ``phi`` in the output orientation. Results are reported as efficiencies in
(0, 1], like every other score of the package.

References
----------
Bogetoft, P. & Otto, L. (2011). Benchmarking with DEA, SFA, and R. Springer.
Daraio, C. & Simar, L. (2007). Advanced Robust and Nonparametric Methods in
Efficiency Analysis, section 3.4. Springer.
Silverman, B. W. (1986). Density Estimation for Statistics and Data Analysis.
Chapman and Hall.
Simar, L. & Wilson, P. W. (1998). Sensitivity analysis of efficiency scores: how to
bootstrap in nonparametric frontier models. Management Science 44(1), 49-61.
Simar, L. & Wilson, P. W. (2000). A general methodology for bootstrapping in
non-parametric frontier models. Journal of Applied Statistics 27(6), 779-802.
Simar, L. & Wilson, P. W. (2002). Non-parametric tests of returns to scale. European
Journal of Operational Research 139(1), 115-132.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.conventions import DEFAULT_SEED, INTERVAL_PROB, UNIT
from bayes_ccd.efficiency.lp import TOLERANCE, _frontier_candidates, _radial_batch, _to_efficiency
from bayes_ccd.efficiency.model import _check_options, _validated
from bayes_ccd.exceptions import ConfigError, DataError
from bayes_ccd.report.figures import save_figure, stamp_notice
from bayes_ccd.report.output import write_json
from bayes_ccd.report.summary import SummaryTable
from bayes_ccd.report.tables import write_table
from bayes_ccd.settings import DEASettings

#: Columns of :attr:`DEABootstrap.table`, after ``model`` and ``unit``.
BOOTSTRAP_COLUMNS = ("efficiency", "bias_corrected", "bias", "std_error", "lower", "upper")


def normal_reference_bandwidth(delta: np.ndarray) -> float:
    r"""Bandwidth of the reflected kernel density of the distances (normal reference rule).

    With :math:`\hat\delta` the ``n`` distances, the ``n_1`` of inefficient units
    (:math:`\hat\delta > 1`) and their reflection :math:`2 - \hat\delta` form a set of
    ``2 n_1`` values with standard deviation :math:`s_{2}` and interquartile range
    :math:`R_{2}`. Silverman's (1986, eq. 3.31) robust normal reference rule on that set,
    rescaled to the ``n`` distances (Daraio & Simar 2007, eq. 3.26), is

    .. math::
        h = 0.9 \min(s_{2}, R_{2}/1.349)\,(2 n_1)^{-1/5}
            \left(\frac{2 n_1}{n}\right)^{1/5} \frac{s_n}{s_{2}}.

    Efficient units are left out because their mass at 1 is not part of a smooth
    density (they would shrink the bandwidth towards 0).

    Parameters
    ----------
    delta
        Distances :math:`\ge 1`, shape ``(n,)``.

    Returns
    -------
    float

    Raises
    ------
    DataError
        Fewer than two inefficient units, or all at one distance: no density to smooth.
    """
    delta = np.asarray(delta, dtype=float)
    inefficient = delta[delta > 1 + TOLERANCE]
    reflected = np.r_[inefficient, 2 - inefficient]
    if len(inefficient) < 2 or np.ptp(inefficient) == 0:
        raise DataError(
            f"the bootstrap needs at least two inefficient units with different scores "
            f"(found {len(inefficient)} of {len(delta)}): the kernel density of the "
            "distances has nothing to smooth"
        )
    spread = np.std(reflected, ddof=1)
    iqr = np.subtract(*np.quantile(reflected, [0.75, 0.25]))
    scale = min(spread, iqr / 1.349) if iqr > 0 else spread
    h_reflected = 0.9 * scale * len(reflected) ** (-0.2)
    return float(
        h_reflected * (len(reflected) / len(delta)) ** 0.2 * np.std(delta, ddof=1) / spread
    )


def smoothed_distances(
    delta: np.ndarray, h: float, replications: int, rng: np.random.Generator
) -> np.ndarray:
    r"""Draw ``replications`` samples of distances from the smoothed, reflected density.

    Simar & Wilson (1998, section 3; Daraio & Simar 2007, algorithm 3.4.2, steps 2-4):
    draw :math:`\beta^*_i` uniformly from the reflected set
    :math:`\{\hat\delta_1..\hat\delta_n, 2-\hat\delta_1..2-\hat\delta_n\}`, smooth and
    rescale so that the variance is that of the set (:math:`\hat\sigma^2`),

    .. math::
        \tilde\delta^*_i = \bar\beta^* + \frac{\beta^*_i + h\varepsilon^*_i - \bar\beta^*}
        {\sqrt{1 + h^2/\hat\sigma^2}}, \qquad \varepsilon^*_i \sim N(0, 1),

    and reflect back: :math:`\delta^*_i = \tilde\delta^*_i` if it is at least 1, else
    :math:`2 - \tilde\delta^*_i`.

    Returns
    -------
    ndarray, shape (replications, n)
        Distances :math:`\ge 1`.
    """
    n = len(delta)
    reflected = np.r_[delta, 2 - delta]
    beta = rng.choice(reflected, size=(replications, n), replace=True)
    noise = rng.standard_normal((replications, n))
    centre = beta.mean(axis=1, keepdims=True)
    smoothed = centre + (beta + h * noise - centre) / np.sqrt(1 + h**2 / np.var(reflected, ddof=1))
    return np.where(smoothed < 1, 2 - smoothed, smoothed)


def _distances(
    x: np.ndarray, y: np.ndarray, x_ref: np.ndarray, y_ref: np.ndarray, ref_index: Any, **options
) -> np.ndarray:
    """Distances ``1 / efficiency`` of the points ``(x, y)`` against the references."""
    radial, _ = _radial_batch(x_ref, y_ref, x, y, ref_index=ref_index, **options)
    efficiency = _to_efficiency(radial, options["orientation"])
    return 1.0 / np.where(np.abs(efficiency - 1) <= TOLERANCE, 1.0, efficiency)


def _pseudo_frontier(
    x: np.ndarray, y: np.ndarray, delta: np.ndarray, star: np.ndarray, orientation: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo data of each replication on the rays through the estimated frontier.

    Inputs ``(delta*/delta) x`` (input orientation) or outputs ``(delta/delta*) y``
    (output orientation), the other side unchanged; shapes ``(B, n, m)``, ``(B, n, s)``.
    """
    replications = len(star)
    if orientation == "input":
        return x[None] * (star / delta)[:, :, None], np.broadcast_to(y, (replications, *y.shape))
    return np.broadcast_to(x, (replications, *x.shape)), y[None] * (delta / star)[:, :, None]


def _scored_against(
    x: np.ndarray, y: np.ndarray, x_ref: np.ndarray, y_ref: np.ndarray, labels: list, **options
) -> np.ndarray:
    """Distances ``(B, n)`` of the original units against each replication's pseudo data."""
    replications, n = x_ref.shape[:2]
    return _distances(
        np.tile(x, (replications, 1)),
        np.tile(y, (replications, 1)),
        x_ref,
        y_ref,
        np.repeat(np.arange(replications), n),
        labels=labels * replications,
        **options,
    ).reshape(replications, n)


def dea_bootstrap(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    *,
    orientation: str = DEASettings.orientation,
    rts: str = DEASettings.rts,
    replications: int = DEASettings.replications,
    seed: int = DEFAULT_SEED,
    prob: float = INTERVAL_PROB,
    period: Any = None,
) -> DEABootstrap:
    r"""Bootstrap the CRS and/or VRS efficiency of every unit (Simar & Wilson 1998).

    For each model, with :math:`\hat\delta_i = 1/\hat E_i` the distances of the DEA:

    1. the bandwidth :math:`h` by :func:`normal_reference_bandwidth`;
    2. for :math:`b = 1..B`, distances :math:`\delta^*_{ib}` from
       :func:`smoothed_distances`, and pseudo data on rays through the estimated
       frontier: inputs :math:`x^*_{ib} = (\delta^*_{ib}/\hat\delta_i)\,x_i` (input
       orientation) or outputs :math:`y^*_{ib} = (\hat\delta_i/\delta^*_{ib})\,y_i`
       (output orientation), the other side unchanged;
    3. :math:`\hat\delta^*_{ib}`: the distance of the *original* unit ``i`` from the
       frontier of the pseudo data of replication ``b``;
    4. bias :math:`\widehat{\mathrm{bias}}_i = \bar\delta^*_i - \hat\delta_i`,
       bias-corrected :math:`\tilde\delta_i = \hat\delta_i - \widehat{\mathrm{bias}}_i`,
       and the percentile interval of Simar & Wilson (1998, eq. 4.10),
       :math:`[\hat\delta_i - q_{1-\alpha/2},\ \hat\delta_i - q_{\alpha/2}]` with
       :math:`q_p` the quantiles of :math:`\hat\delta^*_{ib} - \hat\delta_i` and
       :math:`1-\alpha` = ``prob``.

    Reported as efficiencies :math:`1/\delta`: ``bias_corrected`` = :math:`1/\tilde\delta`,
    ``bias`` = efficiency - bias-corrected (positive: the DEA score overstates the
    efficiency), ``std_error`` the standard deviation of :math:`1/\hat\delta^*_{ib}`,
    and ``lower``/``upper`` the interval's ends. Simar & Wilson advise using the
    bias-corrected score only where the bias is large against its standard error
    (``|bias| > std_error / sqrt(3)``, recorded as ``correct_bias``).

    Parameters
    ----------
    inputs, outputs
        As for :func:`~bayes_ccd.efficiency.model.dea`.
    orientation, rts
        As for :func:`~bayes_ccd.efficiency.model.dea` (``"both"``: CRS and VRS).
    replications
        Bootstrap replications :math:`B` (Simar & Wilson use 2,000 for intervals).
    seed
        Seed of the random generator: the same seed gives the same draws.
    prob
        Coverage probability of the intervals.
    period
        The period of a panel the cross-section belongs to.

    Returns
    -------
    DEABootstrap

    Raises
    ------
    ConfigError
        Unknown options or ``replications`` outside the range of
        :class:`~bayes_ccd.settings.DEASettings`.
    DataError
        Invalid data, or fewer than two inefficient units in a model.

    Notes
    -----
    The intervals under-cover at the sample sizes of applied work. On data simulated
    from a known CRS frontier (two inputs, one output, half-normal inefficiency
    independent of the inputs, the homogeneous case the method assumes; B = 300,
    ``benchmarks/study_bootstrap_coverage.py``) the 95% intervals cover the true
    efficiency of 0.827 of the units at n = 100 (Monte Carlo standard error 0.029
    over 24 data sets), about 0.77 at n = 50 and 0.80 at n = 200 (20 and 10 data
    sets, standard errors about 0.03 and 0.045) and 0.83 at n = 400 (4 data sets,
    standard error 0.037): no nearer the nominal rate as n grows in this range. The
    rate varies much between data sets (sd 0.14): the intervals are narrow beside
    the error of the estimated frontier, which all units of a data set share, so
    they miss together where the DEA bias of that data set departs from its
    bootstrap estimate. Simar & Wilson (2000) report the same kind of under-coverage
    at small n, worse with more inputs and outputs. This is the method's, not an
    error of this implementation: its steps are those of Benchmarking's ``boot.sw98``
    (bandwidth, reflection, variance correction, pseudo data on the estimated
    frontier, the interval of eq. 4.10), and it agrees with an independent
    one-LP-at-a-time implementation within Monte Carlo error
    (``tests/test_dea_bootstrap.py``).
    """
    _check_options(orientation, rts)
    DEASettings(replications=replications)
    if not 0 < prob < 1:
        raise ConfigError(f"prob = {prob} must be in (0, 1)")
    x, y = _validated(inputs, outputs, period=period, warn=False)
    labels = list(inputs.index)
    models = ("crs", "vrs") if rts == "both" else (rts,)
    rng = np.random.default_rng(seed)
    undominated = _frontier_candidates(x, y)[0]
    n = len(x)
    frames, draws, bandwidths = [], {}, {}
    alpha = 1 - prob
    for model in models:
        options = {
            "orientation": orientation,
            "rts": model,
            "what": f"bootstrap {model.upper()} {orientation}-oriented",
            "period": period,
        }
        delta = _distances(x, y, x[undominated], y[undominated], None, labels=labels, **options)
        h = normal_reference_bandwidth(delta)
        star = smoothed_distances(delta, h, replications, rng)  # (B, n)
        x_ref, y_ref = _pseudo_frontier(x, y, delta, star, orientation)
        boot = _scored_against(x, y, x_ref, y_ref, labels, **options)
        if model == "crs" and rts == "both":
            # The CRS pseudo data are those of the returns-to-scale test under H0.
            vrs_under_crs = _scored_against(x, y, x_ref, y_ref, labels, **{**options, "rts": "vrs"})
            rts_draws = (1 / boot).sum(axis=1) / (1 / vrs_under_crs).sum(axis=1)
        bias = boot.mean(axis=0) - delta
        corrected = delta - bias
        low_q, high_q = np.quantile(boot - delta, [alpha / 2, 1 - alpha / 2], axis=0)
        efficiency = 1 / delta
        frame = pd.DataFrame(
            {
                "model": model,
                UNIT: labels,
                "efficiency": efficiency,
                "bias_corrected": 1 / corrected,
                "bias": efficiency - 1 / corrected,
                "std_error": (1 / boot).std(axis=0, ddof=1),
                "lower": 1 / (delta - low_q),
                "upper": 1 / (delta - high_q),
            }
        )
        frame["correct_bias"] = frame["bias"].abs() > frame["std_error"] / np.sqrt(3)
        frames.append(frame)
        draws[model] = 1 / boot
        bandwidths[model] = h
    config = {
        "method": "Simar-Wilson (1998) smoothed bootstrap with reflection",
        "bandwidth_rule": "normal reference (Silverman 1986, robust), Daraio-Simar rescaling",
        "orientation": orientation,
        "rts": rts,
        "replications": replications,
        "seed": seed,
        "prob": prob,
        "bandwidth": bandwidths,
        "n_units": n,
    }
    if period is not None:
        config["period"] = period
    table = pd.concat(frames, ignore_index=True)
    returns_test = None
    if rts == "both":
        scores = table.groupby("model")["efficiency"].sum()
        returns_test = _rts_result(scores["crs"] / scores["vrs"], rts_draws, orientation, config)
    return DEABootstrap(table, draws, orientation, config, period, returns_test)


def _rts_result(
    statistic: float, draws: np.ndarray, orientation: str, bootstrap: Mapping[str, Any]
) -> RTSTest:
    """Return the :class:`RTSTest` of a statistic and its bootstrap draws under CRS."""
    config = {
        "method": "Simar-Wilson (2002) test of CRS against VRS, smoothed bootstrap under CRS",
        "definition": "S = sum of CRS efficiencies / sum of VRS efficiencies",
        "orientation": orientation,
        **{
            key: bootstrap[key]
            for key in ("replications", "seed", "n_units", "period")
            if key in bootstrap
        },
    }
    return RTSTest(float(statistic), float((draws <= statistic).mean()), draws, config)


def rts_test(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    *,
    orientation: str = DEASettings.orientation,
    replications: int = DEASettings.replications,
    seed: int = DEFAULT_SEED,
    period: Any = None,
) -> RTSTest:
    r"""Test constant against variable returns to scale (Simar & Wilson 2002).

    The statistic is the ratio of the mean CRS to the mean VRS efficiency,
    :math:`S = \sum_i \hat E^{CRS}_i / \sum_i \hat E^{VRS}_i \le 1`
    (the ratio-of-means statistic of Simar & Wilson 2002, on the efficiency scale);
    small values speak against CRS. Its distribution under H0 (CRS) is bootstrapped
    with the smoothed bootstrap of :func:`dea_bootstrap` on the CRS distances: in each
    replication the pseudo data lie on rays through the estimated CRS frontier, the
    original units are scored against them under CRS and under VRS, and
    :math:`S^*_b` is the ratio of the two sums. The p-value is
    :math:`\#\{b: S^*_b \le S\} / B`. :func:`dea_bootstrap` with ``rts="both"``
    runs the same test on its CRS pseudo data (same seed, same draws).

    Parameters
    ----------
    inputs, outputs, orientation, period
        As for :func:`dea_bootstrap`.
    replications
        Bootstrap replications :math:`B`.
    seed
        Seed of the random generator.

    Returns
    -------
    RTSTest

    Raises
    ------
    ConfigError
        Unknown orientation or ``replications`` outside the range of
        :class:`~bayes_ccd.settings.DEASettings`.
    DataError
        Invalid data, or fewer than two CRS-inefficient units.
    """
    _check_options(orientation, "both")
    DEASettings(replications=replications)
    x, y = _validated(inputs, outputs, period=period, warn=False)
    labels = list(inputs.index)
    undominated = _frontier_candidates(x, y)[0]
    rng = np.random.default_rng(seed)
    options = {
        "orientation": orientation,
        "what": f"returns-to-scale test {orientation}-oriented",
        "period": period,
    }
    reference = (x[undominated], y[undominated], None)
    delta = _distances(x, y, *reference, labels=labels, rts="crs", **options)
    delta_vrs = _distances(x, y, *reference, labels=labels, rts="vrs", **options)
    star = smoothed_distances(delta, normal_reference_bandwidth(delta), replications, rng)
    x_ref, y_ref = _pseudo_frontier(x, y, delta, star, orientation)
    crs = 1 / _scored_against(x, y, x_ref, y_ref, labels, rts="crs", **options)
    vrs = 1 / _scored_against(x, y, x_ref, y_ref, labels, rts="vrs", **options)
    config: dict[str, Any] = {"replications": replications, "seed": seed, "n_units": len(x)}
    if period is not None:
        config["period"] = period
    statistic = (1 / delta).sum() / (1 / delta_vrs).sum()
    return _rts_result(statistic, crs.sum(axis=1) / vrs.sum(axis=1), orientation, config)


@dataclass(frozen=True)
class RTSTest:
    """The Simar-Wilson (2002) test of constant returns to scale (:func:`rts_test`).

    Attributes
    ----------
    statistic
        :math:`S`, the sum of the CRS over the sum of the VRS efficiencies.
    p_value
        Share of the bootstrap statistics under CRS at or below ``statistic``.
    draws
        The bootstrap statistics :math:`S^*_b`, shape ``(replications,)``.
    config
        Method, orientation, replications, seed.
    """

    statistic: float
    p_value: float
    draws: np.ndarray
    config: dict[str, Any] = field(default_factory=dict)

    def headline(self) -> str:
        """Return one sentence: the statistic, its p-value and the verdict at 5%."""
        verdict = "rejects" if self.p_value < 0.05 else "does not reject"
        return (
            f"Test of constant returns to scale (Simar-Wilson 2002, "
            f"{self.config.get('replications')} replications): S = {self.statistic:.4f}, "
            f"p = {self.p_value:.3f}; {verdict} CRS at the 5% level"
        )


@dataclass(frozen=True)
class DEABootstrap:
    """Bias-corrected DEA efficiency and confidence intervals (:func:`dea_bootstrap`).

    Attributes
    ----------
    table
        One row per model and unit: ``model``, ``unit``, ``efficiency`` (the DEA
        score), ``bias_corrected``, ``bias`` (efficiency - bias-corrected),
        ``std_error``, ``lower``, ``upper`` (the interval of probability
        ``config["prob"]``) and ``correct_bias`` (``|bias| > std_error / sqrt 3``).
    draws
        Per model, the bootstrap efficiencies, shape ``(replications, n)``.
    orientation
        ``"input"`` or ``"output"``.
    config
        Method, replications, seed, interval probability, bandwidth of each model.
    period
        The period of the cross-section, or ``None``.
    rts_test
        With both models, the Simar-Wilson (2002) test of constant returns to scale on
        the CRS pseudo data (see :func:`rts_test`), else ``None``.
    """

    table: pd.DataFrame
    draws: Mapping[str, np.ndarray]
    orientation: str
    config: dict[str, Any] = field(default_factory=dict)
    period: Any = None
    rts_test: RTSTest | None = None

    @property
    def models(self) -> tuple[str, ...]:
        """The models bootstrapped, ``("crs",)``, ``("vrs",)`` or both."""
        return tuple(self.draws)

    def headline_lines(self) -> list[str]:
        """Return one sentence per model: mean score, bias-corrected score, interval width."""
        prob = self.config.get("prob", INTERVAL_PROB)
        lines = []
        for model, rows in self.table.groupby("model", sort=False):
            lines.append(
                f"Bootstrap {model.upper()} (Simar-Wilson 1998, "
                f"{self.config.get('replications')} replications, seed "
                f"{self.config.get('seed')}): mean efficiency {rows['efficiency'].mean():.3f}, "
                f"bias-corrected {rows['bias_corrected'].mean():.3f}; mean width of the "
                f"{100 * prob:.0f}% intervals {(rows['upper'] - rows['lower']).mean():.3f}"
            )
        if self.rts_test is not None:
            lines.append(self.rts_test.headline())
        return lines

    def summary_table(self) -> SummaryTable:
        """Return the table of original, bias-corrected scores and intervals."""
        prob = self.config.get("prob", INTERVAL_PROB)
        return SummaryTable(
            self.table[["model", UNIT, *BOOTSTRAP_COLUMNS]],
            caption=f"Bootstrap DEA (Simar-Wilson 1998): bias-corrected efficiency and "
            f"{100 * prob:.0f}% intervals ({self.orientation} orientation)",
            digits=4,
        )

    def plot_intervals(self, model: str | None = None) -> Any:
        """Draw the intervals of every unit, ranked by bias-corrected efficiency.

        Parameters
        ----------
        model
            ``"crs"`` or ``"vrs"``; default every model, one panel each.

        Returns
        -------
        matplotlib.figure.Figure
            Per unit the interval (line), the DEA score (open circle) and the
            bias-corrected score (filled dot).
        """
        from matplotlib.figure import Figure

        models = (model,) if model is not None else self.models
        n = self.config.get("n_units", len(self.table) // len(self.models))
        figure = Figure(figsize=(max(6.0, 0.22 * n + 2), 2.8 * len(models)))
        axes = figure.subplots(len(models), 1, squeeze=False)[:, 0]
        for ax, name in zip(axes, models, strict=True):
            rows = self.table[self.table["model"] == name].sort_values("bias_corrected")
            rank = np.arange(len(rows))
            ax.vlines(rank, rows["lower"], rows["upper"], color="0.4", lw=1.2)
            ax.plot(rank, rows["efficiency"], "o", mfc="none", mec="black", ms=4, label="DEA")
            ax.plot(rank, rows["bias_corrected"], "o", color="C3", ms=3, label="bias-corrected")
            ax.set_ylabel(f"{name.upper()} efficiency")
            if len(rows) <= 60:
                ax.set_xticks(rank, rows[UNIT].astype(str), rotation=90, fontsize=6)
            else:
                ax.set_xlabel("units ranked by bias-corrected efficiency")
            ax.legend(fontsize=7, loc="upper left")
        prob = self.config.get("prob", INTERVAL_PROB)
        axes[0].set_title(
            f"Bootstrap DEA ({self.orientation} orientation): {100 * prob:.0f}% intervals, "
            f"{self.config.get('replications')} replications",
            fontsize=9,
        )
        figure.tight_layout()
        return figure

    def write(
        self, directory: str | Path, *, figures: bool = True, pdf: bool = False, notice: str = ""
    ) -> list[Path]:
        """Write ``bootstrap.{csv,md,tex}``, the figure ``bootstrap_intervals.png``, the RTS test.

        ``rts_test.json`` (with both models) holds the statistic, p-value and
        configuration of the returns-to-scale test.

        Parameters
        ----------
        directory
            Where to write (created if needed).
        figures
            Also draw the figure of the intervals.
        pdf
            Also write the figure as PDF.
        notice
            What the figures must say about the data (the synthetic demo panel), at
            their foot.

        Returns
        -------
        list of pathlib.Path
        """
        out = Path(directory)
        table = self.summary_table()
        written = write_table(self.table, out, "bootstrap", digits=4, caption=table.caption)
        if figures:
            figure = stamp_notice(self.plot_intervals(), notice)
            written += save_figure(figure, out / "bootstrap_intervals", pdf=pdf)
        if self.rts_test is not None:
            test = self.rts_test
            summary = {"statistic": test.statistic, "p_value": test.p_value, **test.config}
            written.append(write_json(summary, out / "rts_test.json"))
        return written
