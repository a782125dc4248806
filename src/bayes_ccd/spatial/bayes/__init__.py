"""Bayesian fixed-effects spatial panels: SDM, SAR, SEM and SDEM.

The likelihood is the maximum-likelihood one (:mod:`bayes_ccd.spatial.ml`): the Lee & Yu (2010,
*J. Econometrics* 154, 165-185) transformed likelihood of
:mod:`bayes_ccd.spatial.design`, which has eliminated the fixed effects,

    p(y | rho, beta, sigma2) = exp(c log|I - rho W|_*) (2 pi sigma2)^{-n/2}
                               exp(-e'e / (2 sigma2)),

with ``n`` = ``design.n_effective`` (``(N-1)(T-1)`` for two-way effects),
``c log|I - rho W|_*`` = ``design.log_jacobian(rho)`` (``(T-1)(log|I - rho W| -
log(1 - rho))`` for two-way effects and a row-stochastic ``W``), and ``e = y - rho W y -
X beta`` (SAR, SDM; ``X`` holds ``W X`` for the SDM) or ``e = (y - lam W y) - (X - lam W X)
beta`` (SEM, SDEM). Sharing the likelihood is what makes the posterior comparable with
the MLE: under the ``reference`` prior the posterior density is flat in
``(rho, beta, log sigma)``, so its mode *in that parametrisation* is the MLE.

Everything the likelihood needs is a ``(2K+2) x (2K+2)`` matrix of cross-products of
``Z = [y, W y, X, W X]`` (sufficient statistics): ``e = Z a`` with ``a = (1, -rho, -beta,
0)`` (lag models) or ``(1, -lam, -beta, lam beta)`` (error models), so ``e'e = a' Z'Z a``
costs ``O(K^2)`` whatever ``N T``, and the log-determinant costs ``O(N)`` from the
eigenvalues of ``W`` computed once (Ord 1975).

Priors
------
Priors are configuration (:class:`Prior`, TOML files such as ``models/priors.toml``),
scaled to the data through ``s_j``, the root mean square of design column ``j`` over the
``n`` transformed observations, and ``s_y``, that of ``y``:

- coefficients: ``flat``; ``normal`` (conjugate), ``beta_j | sigma2 ~ N(m_j, sigma2
  (scale_j / s_j)^2)``: a one-standard-deviation change of ``x_j`` moves ``y`` by a
  prior standard deviation of ``scale_j`` error standard deviations (Gelman et al.
  2013, *Bayesian Data Analysis*, 3rd ed., ch. 14); ``independent_normal``, ``beta_j ~
  N(m_j, (scale_j s_y / s_j)^2)`` (not conjugate: NUTS only). The intercept of a model
  without fixed effects always has a flat prior.
- error variance: ``jeffreys``, ``p(sigma2) ~ 1/sigma2`` (that is ``p(sigma) ~
  1/sigma``); ``inverse_gamma``, ``sigma2 ~ Scaled-Inv-chi2(nu, s2)`` =
  ``Inv-Gamma(nu/2, nu s2/2)``, by default ``nu = 2`` prior degrees of freedom at
  ``s2 = s_y^2`` (BDA3 ch. 3); ``half_normal``, ``sigma ~ HalfNormal(scale s_y)`` (NUTS
  only).
- spatial parameter: ``uniform`` on its interval ``(1/lambda_min, 1)``, or ``beta``,
  ``(rho - lo)/(hi - lo) ~ Beta(a, b)``; LeSage & Pace (2009, *Introduction to Spatial
  Econometrics*, ch. 5) suggest ``a = b = 1.01``, nearly uniform but vanishing at the
  bounds.

``default`` (:data:`DEFAULT_PRIOR`) is conjugate and weakly informative: normal
coefficients with ``scale = 2.5``, ``Scaled-Inv-chi2(2, s_y^2)`` and ``Beta(1.01, 1.01)``.
``reference`` (:data:`REFERENCE_PRIOR`) has flat coefficients, ``p(sigma) ~ 1/sigma``
and a uniform spatial parameter.

Two samplers
------------
``exact``: under conjugate priors (flat or conditionally normal coefficients,
inverse-gamma or Jeffreys variance) the coefficients and the variance integrate out
(BDA3 ch. 3 and 14; LeSage & Pace 2009, ch. 5). With ``P`` the prior precision
(``diag(s_j^2/scale_j^2)``, zero for flat coefficients), ``k_p`` its number of non-zero
entries, ``Inv-Gamma(a0, b0)`` the variance prior (``a0 = b0 = 0`` for Jeffreys),
``y_rho``/``X_rho`` the filtered ``y`` and ``X``,

    H(rho) = X_rho'X_rho + P,     b(rho) = H^{-1} (X_rho'y_rho + P m),
    S(rho) = y_rho'y_rho + m'P m - b(rho)' H(rho) b(rho),
    log p(rho | y) = log p(rho) + log_jacobian(rho) - 1/2 log|H(rho)|
                     - a_n log(b0 + S(rho)/2) + const,   a_n = a0 + (n - K + k_p)/2,
    sigma2 | rho, y ~ Inv-Gamma(a_n, b0 + S(rho)/2),
    beta | sigma2, rho, y ~ N(b(rho), sigma2 H(rho)^{-1}).

The one-dimensional marginal of ``rho`` is evaluated on a fine grid (refined to where it
has mass), draws of ``rho`` come from its piecewise-linear interpolation by inversion,
then ``sigma2`` and ``beta`` from their conditionals: independent draws in a fraction of
a second, arranged as ``chains`` independent chains so that R-hat is defined.

``nuts``: the same density sampled by NUTS through nutpie (always called explicitly,
never through ``pm.sample``). By default (``nuts_model = "direct"``) the target is the
log density and its gradient written out in NumPy
(:class:`~bayes_ccd.spatial.bayes.density.PosteriorDensity`): a function of the ``K + 2``
parameters, the cross-products and the design's log-determinant, so nothing is compiled
and any N is sampled. ``nuts_model = "pymc"`` samples the PyMC model
(:func:`build_pymc_model`): everything that changes between data sets (cross-products,
eigenvalues, bounds, Jacobian scale, prior parameters) is ``pm.Data``, so one
compilation serves the national model and every region and every prior of the same
number of coefficients (:func:`compiled_model`). Both see ``y`` and ``X`` standardised
by ``s_y`` and ``s_j`` for a well-scaled geometry; draws are transformed back.

Derived quantities
------------------
The LeSage-Pace direct, indirect and total effects are computed per draw from the
eigenvalues (:func:`bayes_ccd.spatial.effects.effects_from_draws`) after sampling and stored in
the posterior next to the parameters; summaries report mean, sd, the central interval
and the HDI at :data:`~bayes_ccd.conventions.INTERVAL_PROB`, the posterior probability
of a positive value, Monte Carlo standard errors, R-hat and ESS (Vehtari et al. 2021,
*Bayesian Analysis* 16, 667-718).
"""
