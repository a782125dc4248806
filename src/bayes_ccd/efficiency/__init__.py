"""Efficiency of resource use: data envelopment analysis (DEA) and the Malmquist index.

The seed paper measures the efficiency of healthcare resources of the provinces with
DEA: comprehensive (CCR, constant returns), pure technical (BCC, variable returns) and
scale efficiency, and the returns to scale of each province. This module computes

- radial envelopment scores under constant (CRS), variable (VRS) and, for the
  returns-to-scale test, non-increasing (NIRS) returns, input or output oriented
  (Charnes, Cooper & Rhodes 1978; Banker, Charnes & Cooper 1984);
- a second, max-slack phase with peers (lambdas), slacks and targets
  (Cooper, Seiford & Tone 2007, ch. 3);
- scale efficiency and the returns to scale by the NIRS comparison
  (Färe, Grosskopf & Lovell 1985; Coelli et al. 2005);
- super-efficiency (Andersen & Petersen 1993), with infeasibility reported as such;
- the Malmquist productivity index of consecutive periods and its decomposition
  (Färe, Grosskopf, Norris & Zhang 1994).

:func:`~bayes_ccd.efficiency.model.dea` returns a
:class:`~bayes_ccd.efficiency.result.DEAResult`,
:func:`~bayes_ccd.efficiency.malmquist.malmquist` a
:class:`~bayes_ccd.efficiency.result.MalmquistIndex`,
:func:`~bayes_ccd.efficiency.model.dea_panel` and
:func:`~bayes_ccd.efficiency.analysis.efficiency_analysis` (the efficiency stage of a run) an
:class:`~bayes_ccd.efficiency.result.Efficiency`; each has ``summary()``, and the results of a
DEA have ``write(directory)``. Keyword defaults and the allowed options come from
:class:`bayes_ccd.settings.DEASettings`. (The sub-package re-exports nothing: a function
``malmquist`` would hide the module of that name.)

Every score is an *efficiency* in (0, 1] (super-efficiency may exceed 1): the input
orientation reports theta, the output orientation 1/phi, so that 1 is efficient and
larger is better in both. Each unit is one linear programme solved by HiGHS through
``scipy.optimize.linprog``; a solver failure raises :class:`EstimationError` naming the
unit, never a silent number.

Conventions
-----------
Data are ``n`` units with ``m`` inputs ``x_j`` and ``s`` outputs ``y_j``, all strictly
positive. The unit under evaluation is ``o``. Each constraint row of unit ``o`` is
divided by the unit's own value (``x_ij / x_io``, ``y_rj / y_ro``); this changes no
solution but makes every LP well scaled whatever the units of measurement.

References
----------
Andersen, P. & Petersen, N. C. (1993). A procedure for ranking efficient units in data
envelopment analysis. Management Science 39(10), 1261-1264.
Banker, R. D., Charnes, A. & Cooper, W. W. (1984). Some models for estimating technical
and scale inefficiencies in DEA. Management Science 30(9), 1078-1092.
Banker, R. D. & Thrall, R. M. (1992). Estimation of returns to scale using data
envelopment analysis. European Journal of Operational Research 62(1), 74-84.
Charnes, A., Cooper, W. W. & Rhodes, E. (1978). Measuring the efficiency of decision
making units. European Journal of Operational Research 2(6), 429-444.
Coelli, T. J. (1996). A guide to DEAP version 2.1: a data envelopment analysis
(computer) program. CEPA Working Paper 96/08, University of New England.
Coelli, T. J., Rao, D. S. P., O'Donnell, C. J. & Battese, G. E. (2005). An Introduction
to Efficiency and Productivity Analysis, 2nd ed. Springer.
Cooper, W. W., Seiford, L. M. & Tone, K. (2007). Data Envelopment Analysis, 2nd ed.
Springer.
Färe, R., Grosskopf, S. & Lovell, C. A. K. (1985). The Measurement of Efficiency of
Production. Kluwer-Nijhoff.
Färe, R., Grosskopf, S. & Lovell, C. A. K. (1994). Production Frontiers. Cambridge
University Press.
Färe, R., Grosskopf, S., Norris, M. & Zhang, Z. (1994). Productivity growth, technical
progress, and efficiency change in industrialized countries. American Economic Review
84(1), 66-83.
"""
