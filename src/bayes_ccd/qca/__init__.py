"""Fuzzy-set qualitative comparative analysis (fsQCA).

Which configurations of conditions are sufficient for an outcome.

The stages, in the order of the analysis (Ragin 2008; Schneider and Wagemann 2012):

1. **Necessity** of each condition and its negation (:func:`necessity`): consistency,
   coverage and relevance of necessity.
2. **Truth table** (:func:`truth_table`): every case is assigned to the corner of the
   vector space (the configuration) in which it has membership above 0.5; each row gets
   its frequency, raw consistency and PRI and is coded positive ("1"), negative ("0") or
   remainder ("?") from the frequency, consistency and PRI cut-offs.
3. **Boolean minimisation** (:func:`minimise`): exact Quine-McCluskey on bitsets (an
   implicant is a pair of integers ``(value, mask)``) followed by an exact search of the
   prime implicant chart that enumerates *every* minimal cover, so tied models are all
   reported: chart reductions, independent parts, the minimum from the LP relaxation or
   HiGHS's integer program, reduced-cost fixing and branch-and-bound
   (:func:`minimum_covers`). The search has a budget of nodes (``max_nodes``); when it
   runs out, :class:`~bayes_ccd.exceptions.EstimationError` says so instead of the
   search running on.
4. **Solutions** (:func:`solve`): conservative (complex), parsimonious (remainders as
   don't-cares) and intermediate (only easy counterfactuals, Ragin and Sonnett 2005;
   Ragin 2008, ch. 9), each model with consistency, PRI, raw and unique coverage.
5. **Configuration chart** (:func:`configuration_chart`, :func:`plot_configuration_chart`)
   in the notation of Ragin and Fiss (2008) and Fiss (2011): core and peripheral
   conditions of each intermediate configuration.

:func:`~bayes_ccd.qca.solutions.fsqca` runs stages 2 to 4 on memberships,
:func:`~bayes_ccd.qca.solutions.configuration_analysis` (the configuration stage of a
run) calibrates first (:mod:`bayes_ccd.qca.calibration`); both return a
:class:`~bayes_ccd.qca.result.QCAResult` with ``summary()`` and ``write(directory)``.
Keyword defaults and the allowed values come from :class:`bayes_ccd.settings.QCASettings`.
(The sub-package re-exports nothing: functions ``truth_table`` and ``minimise`` would
hide the modules of those names.)

Conventions
-----------
Conditions are numbered in the order given; condition ``j`` of ``k`` is bit
``k - 1 - j`` of a truth-table row code, so the binary digits of a code read as the
conditions in order (``0b10101`` = DEV, ~URB, LIT, ~IND, STB). Row numbers in tables are
``code + 1``, as in R's QCA package. Expressions are written as in R's QCA package:
``~`` negation, ``*`` conjunction, ``+`` disjunction (``DEV*~IND + URB*STB``).

References
----------
Dusa, A. (2019). *QCA with R: A Comprehensive Resource*. Springer.
Fiss, P. C. (2011). Building better causal theories: a fuzzy set approach to typologies in
    organization research. *Academy of Management Journal* 54(2), 393-420.
Huangfu, Q. and Hall, J. A. J. (2018). Parallelizing the dual revised simplex method.
    *Mathematical Programming Computation* 10(1), 119-142. (HiGHS.)
McCluskey, E. J. (1956). Minimization of Boolean functions. *Bell System Technical
    Journal* 35(6), 1417-1444.
Nemhauser, G. L. and Wolsey, L. A. (1988). *Integer and Combinatorial Optimization*.
    Wiley.
Petrick, S. R. (1956). A direct determination of the irredundant forms of a Boolean
    function from the set of prime implicants. AFCRC-TR-56-110.
Ragin, C. C. (2008). *Redesigning Social Inquiry: Fuzzy Sets and Beyond*. University of
    Chicago Press.
Ragin, C. C. and Fiss, P. C. (2008). Net effects analysis versus configurational analysis.
    In Ragin (2008), ch. 11.
Ragin, C. C. and Sonnett, J. (2005). Between complexity and parsimony: limited diversity,
    counterfactual cases, and comparative analysis. In *Vergleichen in der
    Politikwissenschaft*, 180-197. VS Verlag.
Schneider, C. Q. and Wagemann, C. (2012). *Set-Theoretic Methods for the Social Sciences*.
    Cambridge University Press.
"""
