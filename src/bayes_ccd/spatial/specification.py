"""Specification tests for fixed-effects spatial panels (the seed paper's Table 6).

- LM tests on the residuals of the non-spatial fixed-effects model: LM-lag, LM-error
  and their robust versions (Anselin, Bera, Florax & Yoon 1996, *Reg. Sci. Urban
  Econ.* 26, eqs. 8-13; for panels Elhorst 2014, *Spatial Econometrics*, ch. 3, and,
  with the Lee-Yu transformation, Debarsy & Ertur 2010, *Reg. Sci. Urban Econ.* 40).
- LR and Wald tests of the SDM against the SAR (``theta = 0``) and the SEM
  (``theta + rho beta = 0``, a nonlinear Wald test; Burridge 1981).
- LR tests of the joint significance of the individual and of the time fixed effects.

Nested and comparable likelihoods
---------------------------------
An LR test compares two maximised likelihoods *of the same observations*. The SDM,
SAR and SEM under one transformation are likelihoods of the same transformed data
(same ``n_effective``, same Jacobian), and SAR and SEM are restrictions of the SDM.

The Lee-Yu likelihoods of different fixed effects are *not* comparable: a two-way
model is a likelihood of ``(T-1)(N-1)`` transformed observations, a time-effects model
of ``T(N-1)``. :func:`fixed_effects_lr_tests` therefore keeps the effects that are not
tested transformed away in both models and estimates the tested effects as explicit
parameters (dummies, concentrated out by demeaning) in the unrestricted model:

- ``LR_both_time`` (H0: no individual effects): both models use the time-transformed
  data ``Y F_N`` (``T (N-1)`` observations, Jacobian ``T [log|I - rho W| - log(1-rho)]``);
  the unrestricted one adds ``N-1`` individual effects. ``df = N - 1``.
- ``LR_both_ind`` (H0: no time effects): both use the individually transformed data
  ``F_T' Y`` (``(T-1) N`` observations, Jacobian ``(T-1) log|I - rho W|``); the
  unrestricted one adds ``T-1`` time effects. ``df = T - 1``.

Under the within transformation every likelihood is of the ``N T`` raw observations
with the effects as dummies, as in Elhorst (2014, ch. 3), and the same degrees of
freedom follow. A spatial Hausman test (fixed against random effects) needs a
random-effects spatial estimator and is not provided.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd
from scipy import stats

from bayes_ccd.data.panel import Panel
from bayes_ccd.data.weights import SpatialWeights
from bayes_ccd.exceptions import EstimationError, SpecificationError
from bayes_ccd.spatial.arrays import PanelArrays
from bayes_ccd.spatial.design import ModelSpec, SpatialPanelDesign, as_arrays, build_design
from bayes_ccd.spatial.ml import MLResult, SpatialPanelML, fit_ml
from bayes_ccd.spatial.operators import is_sparse, lag_traces, same_operator

Restriction = Literal["sar", "sem"]

#: Columns of a table of tests.
TEST_COLUMNS: Final = ("test", "statistic", "df", "p_value")

#: An LR statistic below ``-_LR_TOLERANCE * (1 + |loglik|)`` means a maximisation
#: failed; above it, a negative value is optimiser rounding and is set to zero.
_LR_TOLERANCE = 1e-7


@dataclass(frozen=True)
class TestResult:
    """One test: statistic, degrees of freedom and p-value (chi-squared)."""

    __test__ = False  # not a pytest test class

    test: str
    statistic: float
    df: int
    p_value: float

    @classmethod
    def chi2(cls, test: str, statistic: float, df: int) -> TestResult:
        """Make a chi-squared test result: ``p = P(chi2_df > statistic)``."""
        return cls(test, float(statistic), int(df), float(stats.chi2.sf(statistic, df)))


def tests_frame(results: list[TestResult]) -> pd.DataFrame:
    """Tests as a table ``test, statistic, df, p_value``."""
    return pd.DataFrame([asdict(r) for r in results], columns=list(TEST_COLUMNS))


def lm_tests(
    data: Panel | PanelArrays, weights: SpatialWeights, spec: ModelSpec
) -> list[TestResult]:
    """LM-lag, LM-error and robust LM tests on the non-spatial fixed-effects model.

    The model ``y = X beta + fixed effects + e`` (``X`` without ``W X``) is estimated
    by least squares on the transformed data of ``spec`` (fixed effects and
    transformation of ``spec``; its model is ignored). With residuals ``e``,
    ``sigma2 = e'e/n``, the block-diagonal ``W`` of the ``c`` transformed periods and
    ``M = I - X(X'X)^{-1}X'`` (Anselin et al. 1996; Elhorst 2014, ch. 3):

        T_W  = c tr(W'W + W W)
        nJ   = (W X b)' M (W X b) / sigma2 + T_W
        LM-lag          = (e'Wy/sigma2)^2 / nJ
        LM-error        = (e'We/sigma2)^2 / T_W
        Robust LM-lag   = (e'Wy/sigma2 - e'We/sigma2)^2 / (nJ - T_W)
        Robust LM-error = (e'We/sigma2 - (T_W/nJ) e'Wy/sigma2)^2 / (T_W (1 - T_W/nJ))

    each chi-squared with 1 df. Under the Lee-Yu transformation ``n = n_effective``,
    ``c`` is the Jacobian scale and ``W`` is ``F_N' W F_N`` when time effects are
    transformed away (Debarsy & Ertur 2010); under ``within`` ``n = N T``, ``c = T``
    and ``W`` is the original matrix (Elhorst's ``LMsarsem_panel``; spreg on the
    demeaned data).
    """
    design = build_design(data, weights, spec.replace(model="sar"))
    return _lm_tests(design)


def _lm_tests(design: SpatialPanelDesign) -> list[TestResult]:
    k = design.n_coefficients
    X = design.X.reshape(-1, k)
    y = design.y.ravel()
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ b
    sigma2 = e @ e / design.n_effective
    lag_score = e @ design.wy.ravel() / sigma2
    error_score = e @ design.lag(e.reshape(design.y.shape)).ravel() / sigma2
    wxb = design.project_transformed(design.lag(design.X @ b)).ravel()
    wxb_residual = wxb - X @ np.linalg.lstsq(X, wxb, rcond=None)[0]
    if is_sparse(design.W):
        trace = design.jacobian_scale * lag_traces(design.W, centred=design.unit_root_correction)
    else:
        W = design.transformed_operator(design.W)
        trace = design.jacobian_scale * (np.sum(W * W.T) + np.sum(W * W))
    nj = wxb_residual @ wxb_residual / sigma2 + trace
    return [
        TestResult.chi2("LM-lag", lag_score**2 / nj, 1),
        TestResult.chi2("LM-error", error_score**2 / trace, 1),
        TestResult.chi2("Robust LM-lag", (lag_score - error_score) ** 2 / (nj - trace), 1),
        TestResult.chi2(
            "Robust LM-error",
            (error_score - trace / nj * lag_score) ** 2 / (trace * (1.0 - trace / nj)),
            1,
        ),
    ]


def _check_nested(unrestricted: MLResult, restricted: MLResult) -> None:
    """Raise unless the two likelihoods are of the same transformed observations."""
    a, b = unrestricted.design, restricted.design
    same_data = (
        a.data.units == b.data.units
        and a.data.periods == b.data.periods
        and np.array_equal(a.data.y, b.data.y)
        and same_operator(a.W, b.W)
    )
    same_transform = (
        a.n_effective == b.n_effective
        and a.jacobian_scale == b.jacobian_scale
        and a.unit_root_correction == b.unit_root_correction
    )
    if not same_data:
        raise SpecificationError("LR test: the two models were fitted to different data or weights")
    if not same_transform:
        raise SpecificationError(
            "LR test: the likelihoods are of differently transformed observations "
            f"(n_effective {a.n_effective} vs {b.n_effective}) and cannot be compared; "
            "see bayes_ccd.spatial.specification.fixed_effects_lr_tests"
        )


def lr_test(
    unrestricted: MLResult, restricted: MLResult, *, name: str | None = None, df: int | None = None
) -> TestResult:
    """Likelihood-ratio test ``LR = 2 (l_u - l_r) ~ chi2(df)``.

    ``df`` defaults to the difference in estimated parameters; give it when the
    models differ in fixed effects (which are not counted as parameters).

    Raises
    ------
    SpecificationError
        The likelihoods are not of the same observations, or ``df < 1``.
    EstimationError
        The restricted likelihood exceeds the unrestricted one beyond rounding (a
        maximisation failed, or the models are not nested).
    """
    _check_nested(unrestricted, restricted)
    df = unrestricted.n_params - restricted.n_params if df is None else df
    if df < 1:
        raise SpecificationError(
            f"LR test needs df >= 1, got {df}; is the first model the unrestricted one?"
        )
    statistic = 2.0 * (unrestricted.loglik - restricted.loglik)
    if statistic < -_LR_TOLERANCE * (1.0 + abs(unrestricted.loglik)):
        raise EstimationError(
            f"LR test: the restricted model has the higher log-likelihood "
            f"({restricted.loglik:.6g} > {unrestricted.loglik:.6g}); the "
            "models are not nested or a maximisation failed"
        )
    label = name or (f"LR {unrestricted.spec.model.upper()}/{restricted.spec.model.upper()}")
    return TestResult.chi2(label, max(statistic, 0.0), df)


def wald_test(result: MLResult, restriction: Restriction, *, name: str | None = None) -> TestResult:
    """Wald test of an SDM against the SAR or the SEM.

    ``"sar"``: ``g = theta``; ``"sem"``: ``g = theta + rho beta`` (common factor,
    Burridge 1981), with Jacobian ``R = dg/d(beta, theta, rho) = [rho I, I, beta]``.
    ``W = g' (R V R')^{-1} g ~ chi2(K)`` with ``V`` the covariance of the estimates.
    """
    if result.spec.model != "sdm":
        raise SpecificationError(f"the Wald tests restrict an SDM; got a {result.spec.model}")
    rho, beta, theta, cov = result.effect_parameters()
    theta = np.zeros_like(beta) if theta is None else theta
    k = beta.size
    if restriction == "sar":
        g = theta
        jacobian = np.hstack([np.zeros((k, k)), np.eye(k), np.zeros((k, 1))])
    elif restriction == "sem":
        g = theta + rho * beta
        jacobian = np.hstack([rho * np.eye(k), np.eye(k), beta[:, None]])
    else:
        raise SpecificationError(f"unknown restriction {restriction!r}; use 'sar' or 'sem'")
    middle = jacobian @ cov @ jacobian.T
    statistic = float(g @ np.linalg.solve(middle, g))
    null = "theta = 0" if restriction == "sar" else "theta = -rho beta"
    return TestResult.chi2(name or f"Wald SDM/{restriction.upper()} (H0: {null})", statistic, k)


def fixed_effects_lr_tests(
    data: Panel | PanelArrays, weights: SpatialWeights, spec: ModelSpec
) -> list[TestResult]:
    """LR tests of the joint significance of the time and of the individual effects.

    ``LR_both_ind`` (H0: no time effects; two-way against individual effects, ``df =
    T - 1``) and ``LR_both_time`` (H0: no individual effects; two-way against time
    effects, ``df = N - 1``), for the model and transformation of ``spec``. See the
    module docstring for how the likelihoods are made nested and comparable.
    """
    arrays = as_arrays(data, spec)
    two_way = spec.replace(fe="both")
    if spec.transform == "within":
        with_time = with_individual = fit_ml(arrays, weights, two_way)
    else:
        with_time = SpatialPanelML(two_way, treatments=("transformed", "dummies")).fit(
            arrays, weights
        )
        with_individual = SpatialPanelML(two_way, treatments=("dummies", "transformed")).fit(
            arrays, weights
        )
    return [
        lr_test(
            with_time,
            fit_ml(arrays, weights, spec.replace(fe="individual")),
            df=arrays.n_periods - 1,
            name="LR_both_ind (H0: no time effects)",
        ),
        lr_test(
            with_individual,
            fit_ml(arrays, weights, spec.replace(fe="time")),
            df=arrays.n_units - 1,
            name="LR_both_time (H0: no individual effects)",
        ),
    ]


def specification_tests(result: MLResult) -> pd.DataFrame:
    """Run the specification tests of the seed paper's Table 6 on a fitted model.

    The tests use the data, weights, fixed effects and transformation of the fitted
    model: LM tests (non-spatial model), LR and Wald tests of the SDM against SAR and
    SEM (the three models are fitted as needed; ``result`` is reused for its own
    model), and the LR tests of the fixed effects (only when ``W`` is row-stochastic,
    which time effects need).

    Returns
    -------
    pandas.DataFrame
        ``test, statistic, df, p_value``.
    """
    design = result.design
    data, weights, spec = design.data, design.weights, result.spec
    fits = {spec.model: result}
    for model in ("sdm", "sar", "sem"):
        if model not in fits:
            fits[model] = fit_ml(data, weights, spec.replace(model=model))
    rows = lm_tests(data, weights, spec)
    rows += [
        lr_test(fits["sdm"], fits["sar"], name="LR SDM/SAR (H0: theta = 0)"),
        lr_test(fits["sdm"], fits["sem"], name="LR SDM/SEM (H0: theta = -rho beta)"),
        wald_test(fits["sdm"], "sar"),
        wald_test(fits["sdm"], "sem"),
    ]
    if weights.is_row_stochastic:
        rows += fixed_effects_lr_tests(data, weights, spec)
    return tests_frame(rows)
