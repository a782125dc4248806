"""Conservative, parsimonious and intermediate solutions of fsQCA.

Every tied model with its fit (Ragin and Sonnett 2005; Ragin 2008, ch. 9; Dusa 2019),
and the configuration stage of a run (:func:`configuration_analysis`).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayes_ccd.exceptions import ConfigError, DataError, EstimationError, NumericalWarning, warn
from bayes_ccd.qca.calibration import (
    Anchors,
    calibrate_frame,
    crisp_threshold,
    percentile_anchors,
)
from bayes_ccd.qca.measures import (
    Implicant,
    consistency,
    coverage,
    format_model,
    format_term,
    necessity,
    parse_expression,
    pri,
    term_membership,
)
from bayes_ccd.qca.minimise import BooleanSolution, Criterion, minimise
from bayes_ccd.qca.result import Model, QCAResult, Solution, TermFit
from bayes_ccd.qca.truth_table import HalfMembershipRule, TruthTable, truth_table
from bayes_ccd.settings import QCASettings

# --------------------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------------------


def parse_directional_expectations(
    expectations: Mapping[str, int | str] | Sequence[str] | str | None,
    conditions: Sequence[str],
) -> tuple[Implicant, ...]:
    """Directional expectations as conjunctions ``(value, mask)`` over ``conditions``.

    Accepts a mapping (values 1/0, ``"present"``/``"absent"``, or ``"-"`` for none), a
    sequence or comma-separated string in R's notation (``"DEV, URB, ~IND"``: listed
    conditions are expected to contribute when present, ``~`` when absent; unlisted ones
    carry no expectation), or ``None`` (no expectations). An entry may be a
    conjunction, ``"~LIT*IND"``: a conjunctural directional expectation (R's QCA
    ``dir.exp = c(DEV, STB, ~LIT*IND)``), the combination expected to
    contribute as a whole (see :func:`easy_counterfactuals`); terms joined by ``+``
    count as separate entries. Each condition belongs to at most one expectation.

    Returns
    -------
    tuple of Implicant
        One conjunction per expectation, in the order given (one literal for a simple
        expectation).

    Raises
    ------
    ConfigError
        An unknown condition, a value other than 1, 0 or ``-``, or a condition in two
        expectations (or twice in one).
    """
    if expectations is None:
        return ()
    k = len(conditions)
    codes = {"1": 1, "present": 1, "0": 0, "absent": 0, "-": None, "": None}
    items: list[tuple[str, int | str]] = []
    terms: list[Implicant] = []
    if isinstance(expectations, Mapping):
        items = list(expectations.items())
    else:
        tokens = expectations.split(",") if isinstance(expectations, str) else expectations
        for token in (t.strip() for t in tokens):
            if "=" in token:
                name, value = (s.strip() for s in token.split("=", 1))
                items.append((name, value))
            elif token:
                terms.extend(t for t in parse_expression(token, conditions) if t[1])
    for name, raw in items:
        if name not in conditions:
            raise ConfigError(
                f"directional expectation for unknown condition '{name}' "
                f"(conditions: {', '.join(conditions)})"
            )
        key = str(raw).strip().lower()
        if key not in codes:
            raise ConfigError(
                f"directional expectation {raw!r} for '{name}': use 1 "
                "(present), 0 (absent) or '-' (none)"
            )
        if codes[key] is not None:
            bit = 1 << (k - 1 - conditions.index(name))
            terms.append((bit if codes[key] else 0, bit))
    claimed = 0
    for term in terms:
        shared = claimed & term[1]
        if shared:
            name = conditions[k - shared.bit_length()]
            raise ConfigError(
                f"two directional expectations for '{name}' (each condition may appear "
                "in one expectation, simple or conjunctural)"
            )
        claimed |= term[1]
    return tuple(terms)


# --------------------------------------------------------------------------------------
# Solutions
# --------------------------------------------------------------------------------------


class _ModelFitter:
    """Parameters of fit of the models of one truth table.

    Terms recur across the tied models of a solution, so each term's memberships and fit
    are computed once.
    """

    def __init__(self, table: TruthTable) -> None:
        self.x, self.y = table.memberships()
        self.conditions = table.conditions
        self.cases = table.data.index.astype(str).to_numpy()
        self._terms: dict[Implicant, tuple[np.ndarray, TermFit]] = {}

    def term(self, implicant: Implicant) -> tuple[np.ndarray, TermFit]:
        """Memberships in the term and its fit (unique coverage still 0)."""
        if implicant not in self._terms:
            m = term_membership(self.x, implicant)
            self._terms[implicant] = (
                m,
                TermFit(
                    term=format_term(implicant, self.conditions),
                    implicant=implicant,
                    consistency=consistency(m, self.y),
                    pri=pri(m, self.y),
                    raw_coverage=coverage(m, self.y),
                    unique_coverage=0.0,
                    cases=tuple(self.cases[m > 0.5]),
                ),
            )
        return self._terms[implicant]

    def fit(self, label: str, model: Sequence[Implicant], **extra: Any) -> Model:
        r"""Return the model with the fit of each term and of the whole.

        Unique coverage of term ``i`` is :math:`\mathrm{cov}(S) - \mathrm{cov}(S
        \setminus T_i)`. Dropping term ``i`` changes a case's membership in the model
        only where term ``i`` is the largest (it falls to the second largest, which may
        tie), so

        .. math::

            \mathrm{cov}(S) - \mathrm{cov}(S \setminus T_i) = \frac{\sum_{c:\,
            \arg\max = i} \left[\min(s_c, y_c) - \min(s^{(2)}_c, y_c)\right]}
            {\sum_c y_c}

        with :math:`s_c` and :math:`s^{(2)}_c` the largest and second largest term
        memberships of case ``c``: one pass over the cases instead of one per term.
        The unique coverage of the term of a one-term model is not applicable (NaN).
        """
        y = self.y
        fitted = [self.term(term) for term in model]
        memberships = np.column_stack([m for m, _ in fitted])
        union = memberships.max(axis=1)
        total = coverage(union, y)
        if len(fitted) > 1:
            second = np.partition(memberships, -2, axis=1)[:, -2]
        else:
            second = np.zeros_like(union)
        loss = np.minimum(union, y) - np.minimum(second, y)
        y_total = y.sum()
        unique = (
            np.bincount(memberships.argmax(axis=1), weights=loss, minlength=len(fitted)) / y_total
            # One term has nothing to be unique against: not applicable, as R's QCA
            # reports it, rather than its raw coverage again.
            if y_total > 0 and len(fitted) > 1
            else np.full(len(fitted), np.nan)
        )
        return Model(
            label=label,
            implicants=tuple(model),
            expression=format_model(model, self.conditions),
            terms=tuple(
                TermFit(
                    fit.term,
                    fit.implicant,
                    fit.consistency,
                    fit.pri,
                    fit.raw_coverage,
                    float(u),
                    fit.cases,
                )
                for (_, fit), u in zip(fitted, unique, strict=True)
            ),
            consistency=consistency(union, y),
            pri=pri(union, y),
            coverage=total,
            **extra,
        )


def _covered_rows(model: Sequence[Implicant], rows: np.ndarray) -> np.ndarray:
    hit = np.zeros(rows.size, dtype=bool)
    for value, mask in model:
        hit |= (rows & mask) == value
    return rows[hit]


def easy_counterfactuals(
    conservative_model: Sequence[Implicant],
    parsimonious_model: Sequence[Implicant],
    remainders: Iterable[int],
    expectations: Sequence[Implicant],
) -> tuple[int, ...]:
    """Remainders that are easy counterfactuals for one conservative/parsimonious pair.

    The procedure of R's QCA package (``minimize`` with ``dir.exp``; Dusa 2019),
    following Ragin and Sonnett (2005): for every conservative term ``c`` and every
    parsimonious term ``p`` that contains it (``p``'s literals are a subset of
    ``c``'s), the literals of ``c`` that ``p`` does not have are compared with each
    directional expectation ``E``:

    * a simple expectation (one condition) drops the literal of its condition when the
      literal contradicts it (e.g. ``~URB`` when URB is expected to contribute when
      present) and keeps it when it agrees;
    * a conjunctural expectation (``~LIT*IND``: the combination is expected to
      contribute) keeps those literals of ``c`` on its conditions when every one of
      them agrees with ``E`` and drops all of them as soon as one contradicts it, as
      R's QCA does with its sum-of-products ``dir.exp`` "to experiment with
      conjunctural directional expectations" (``minimize``; its C routine ``C_getEC``).
      With one condition this is the simple rule.

    Literals of conditions without expectation are kept. The remainders covered by the
    shortened term that are also simplifying assumptions of the parsimonious model are
    easy counterfactuals.

    Every expectation drops its literals, whatever the others do. R's QCA 3.23 C code
    (``C_getEC``) starts the shortened term again from ``c`` for each conjunctural
    expectation, so there, once a conjunctural expectation is given, only the last one
    drops literals and the simple ones drop none; the two agree when the simple
    expectations drop nothing and one conjunctural expectation is given, as in its
    documented Lipset example (``dir.exp = c(DEV, STB, ~LIT*IND)``).

    Parameters
    ----------
    conservative_model, parsimonious_model
        Terms of one model of each solution.
    remainders
        Remainder row codes.
    expectations
        The expectations as conjunctions ``(value, mask)``, conditions in at most one
        (see :func:`parse_directional_expectations`).

    Returns
    -------
    tuple of int
        The easy counterfactual row codes, sorted.
    """
    rows = np.fromiter(remainders, dtype=np.int64)
    assumptions = _covered_rows(parsimonious_model, rows)
    easy: set[int] = set()
    for c_value, c_mask in conservative_model:
        for p_value, p_mask in parsimonious_model:
            if p_mask & ~c_mask or (c_value & p_mask) != p_value:
                continue
            drop = 0
            for e_value, e_mask in expectations:
                extra = c_mask & ~p_mask & e_mask
                if (c_value ^ e_value) & extra:
                    drop |= extra
            shortened = (c_value & ~drop, c_mask & ~drop)
            easy.update(int(r) for r in _covered_rows([shortened], assumptions))
    return tuple(sorted(easy))


#: What to change when a solution's search budget runs out (appended to the error).
_BUDGET_ADVICE = (
    "raise max_nodes or max_seconds (command line: --max-nodes, --max-seconds), lower "
    "max_models, analyse fewer "
    "conditions, or raise n_cut so that rows with few cases become remainders"
)


def solve(
    table: TruthTable,
    *,
    dir_exp: Mapping[str, int | str] | Sequence[str] | str | None = None,
    criterion: Criterion = QCASettings.criterion,
    max_models: int = QCASettings.max_models,
    max_nodes: int = QCASettings.max_nodes,
    max_seconds: float = QCASettings.max_seconds,
) -> QCAResult:
    """Find the conservative, parsimonious and intermediate solutions of a truth table.

    * **Conservative** (complex): minimise the positive rows with no remainders.
    * **Parsimonious**: remainders are don't-cares; each model's simplifying
      assumptions are the remainders it covers.
    * **Intermediate**: for every pair of a conservative and a parsimonious model, the
      positive rows are minimised with the pair's easy counterfactuals (see
      :func:`easy_counterfactuals`) as the only don't-cares, as R's QCA package does.
      Without directional expectations no counterfactual is easy and the intermediate
      models are the conservative models again, once per parsimonious model. Each model
      records its first pair (:attr:`Model.derived_from`, R's ``C1P1`` label) and
      every pair that gives it (:attr:`Model.pair_labels`): two pairs may
      give the same expression, with different core conditions in the configuration
      chart.

    Every model of every solution is reported when models tie (see :func:`minimise`),
    with consistency, PRI, raw and unique coverage of each term and of the model.

    Parameters
    ----------
    table
        From :func:`truth_table`.
    dir_exp
        Directional expectations, see :func:`parse_directional_expectations`.
    criterion, max_models
        See :func:`minimise`.
    max_nodes
        Search budget of each solution (see :func:`minimum_covers`); the intermediate
        solution shares it among its conservative/parsimonious pairs, each pair also
        counting one node.
    max_seconds
        Time limit of all three solutions together, in seconds.

    Returns
    -------
    QCAResult

    Raises
    ------
    ConfigError
        ``criterion``, ``max_models`` or ``max_nodes`` outside what
        :class:`~bayes_ccd.settings.QCASettings` allows.
    EstimationError
        A solution's search needed more than ``max_nodes`` nodes; the message names the
        solution, the size of its prime implicant chart and what to change.
    """
    QCASettings(
        criterion=criterion, max_models=max_models, max_nodes=max_nodes, max_seconds=max_seconds
    )
    deadline = time.monotonic() + max_seconds
    conditions = table.conditions
    k = len(conditions)
    expectations = parse_directional_expectations(dir_exp, conditions)
    expected = [format_term(e, conditions) for e in expectations]
    remainders = table.remainders
    options = {"criterion": criterion, "max_models": max_models}

    def minimised(kind: str, free: Sequence[int], nodes: int) -> BooleanSolution:
        seconds = deadline - time.monotonic()
        if seconds <= 0:
            raise EstimationError(
                f"{kind} solution: the time limit of max_seconds={max_seconds:g} s is spent; "
                f"{_BUDGET_ADVICE}"
            )
        try:
            return minimise(
                table.positive, free, k, max_nodes=nodes, max_seconds=seconds, **options
            )
        except EstimationError as error:
            raise EstimationError(f"{kind} solution: {error}; {_BUDGET_ADVICE}") from None

    conservative = minimised("conservative", (), max_nodes)
    parsimonious = minimised("parsimonious", remainders, max_nodes)

    intermediate_models: list[tuple[tuple[Implicant, ...], int, int, tuple[int, ...]]] = []
    intermediate_primes: dict[Implicant, None] = {}
    truncated = conservative.truncated or parsimonious.truncated
    # Model (and parsimonious model) -> every conservative model whose pair gives it:
    # the model is kept once, every pair listed, as R's QCA lists C1P1, C2P1, ...
    seen: dict[tuple[frozenset[Implicant], int], list[int]] = {}
    # Pairs with the same easy counterfactuals have the same minimisation.
    by_counterfactuals: dict[tuple[int, ...], BooleanSolution] = {}
    spent = 0
    for (ci, c_model), (pi, p_model) in itertools.product(
        enumerate(conservative.models), enumerate(parsimonious.models)
    ):
        spent += 1
        easy = easy_counterfactuals(c_model, p_model, remainders, expectations)
        if easy not in by_counterfactuals:
            if spent >= max_nodes:
                raise EstimationError(
                    f"intermediate solution: the search budget of max_nodes={max_nodes} "
                    f"nodes is spent at pair C{ci + 1}P{pi + 1} of "
                    f"{len(conservative.models)} x {len(parsimonious.models)} "
                    f"conservative/parsimonious pairs; {_BUDGET_ADVICE}"
                )
            pair = minimised(
                f"intermediate (pair C{ci + 1}P{pi + 1}; the pairs share max_nodes={max_nodes})",
                easy,
                max_nodes - spent,
            )
            by_counterfactuals[easy] = pair
            spent += pair.nodes
        pair = by_counterfactuals[easy]
        intermediate_primes.update(dict.fromkeys(pair.prime_implicants))
        for model in pair.models:
            key = (frozenset(model), pi)
            if key not in seen:
                seen[key] = [ci]
                intermediate_models.append((model, ci, pi, easy))
            elif ci not in seen[key]:
                seen[key].append(ci)
        if len(intermediate_models) > max_models:
            warn(
                f"more than {max_models} intermediate models; only the first "
                f"{max_models} are reported",
                NumericalWarning,
            )
            truncated = True
            intermediate_models = intermediate_models[:max_models]
            break

    def primes(implicants: Iterable[Implicant]) -> tuple[str, ...]:
        return tuple(format_term(p, conditions) for p in implicants)

    fitter = _ModelFitter(table)
    remainder_rows = np.asarray(remainders, dtype=np.int64)
    return QCAResult(
        truth_table=table,
        necessity=necessity(table.data, table.outcome, conditions),
        conservative=Solution(
            "conservative",
            primes(conservative.prime_implicants),
            tuple(fitter.fit(f"M{i + 1}", m) for i, m in enumerate(conservative.models)),
            conservative.truncated,
        ),
        parsimonious=Solution(
            "parsimonious",
            primes(parsimonious.prime_implicants),
            tuple(
                fitter.fit(
                    f"M{i + 1}",
                    m,
                    counterfactuals=tuple(int(r) for r in _covered_rows(m, remainder_rows)),
                )
                for i, m in enumerate(parsimonious.models)
            ),
            parsimonious.truncated,
        ),
        intermediate=Solution(
            "intermediate",
            primes(intermediate_primes),
            tuple(
                fitter.fit(
                    f"M{i + 1}",
                    m,
                    counterfactuals=easy,
                    conservative_model=ci,
                    parsimonious_model=pi,
                    pairs=tuple((c, pi) for c in seen[frozenset(m), pi]),
                )
                for i, (m, ci, pi, easy) in enumerate(intermediate_models)
            ),
            truncated,
        ),
        directional_expectations=tuple(expected),
        parsimonious_primes=parsimonious.prime_implicants,
        config={
            "outcome": table.outcome,
            "conditions": list(conditions),
            "incl_cut": table.incl_cut,
            "n_cut": table.n_cut,
            "pri_cut": table.pri_cut,
            "half_membership": table.half_membership,
            "directional_expectations": expected,
            "max_nodes": max_nodes,
            "max_seconds": max_seconds,
            **options,
        },
    )


def negated_outcome(data: pd.DataFrame, outcome: str) -> pd.DataFrame:
    r"""Add the column ``~Y`` (membership 1 - Y) when the outcome is a negation ``~Y``.

    The negation of a fuzzy set is :math:`\mu_{\sim Y} = 1 - \mu_Y` (Ragin 2008, ch. 2);
    an outcome already present as a column, or not negated, leaves ``data`` as it is.
    """
    if not outcome.startswith("~") or outcome in data.columns:
        return data
    base = outcome.removeprefix("~").strip()
    if base not in data.columns:
        raise DataError(
            f"the negated outcome '{outcome}' needs the column '{base}' "
            f"(columns: {', '.join(map(str, data.columns))})"
        )
    return data.assign(**{outcome: 1.0 - data[base].astype(float)})


def fsqca(
    data: pd.DataFrame,
    outcome: str,
    conditions: Sequence[str],
    *,
    incl_cut: float = QCASettings.incl_cut,
    n_cut: int = QCASettings.n_cut,
    pri_cut: float = QCASettings.pri_cut,
    dir_exp: Mapping[str, int | str] | Sequence[str] | str | None = None,
    half_membership: HalfMembershipRule = QCASettings.half_membership,
    criterion: Criterion = QCASettings.criterion,
    max_models: int = QCASettings.max_models,
    max_nodes: int = QCASettings.max_nodes,
    max_seconds: float = QCASettings.max_seconds,
) -> QCAResult:
    """Build the truth table and find all three solutions (:func:`truth_table`, :func:`solve`).

    Keyword defaults are those of :class:`~bayes_ccd.settings.QCASettings` (``pri_cut``
    0, as R's QCA package); :func:`configuration_analysis` also calibrates.

    Parameters
    ----------
    data
        Memberships in [0, 1] (calibrate raw data first with
        :func:`bayes_ccd.qca.calibration.calibrate_frame`), one row per case, indexed by
        case.
    outcome, conditions
        Column names; an outcome ``~Y`` is the negation of column ``Y``
        (:func:`negated_outcome`).
    incl_cut, n_cut, pri_cut, half_membership
        See :func:`truth_table`.
    dir_exp, criterion, max_models, max_nodes, max_seconds
        See :func:`solve`.

    Returns
    -------
    QCAResult

    Examples
    --------
    High DEA efficiency of the provinces on its drivers, calibrated at the 95th, 50th
    and 5th sample percentiles::

        from bayes_ccd.qca.calibration import calibrate_frame, percentile_anchors
        from bayes_ccd.report.output import atomic_output_dir

        columns = ["crs", "U1", "gdp_per_capita", "urbanisation_rate"]
        memberships = calibrate_frame(raw[columns], percentile_anchors(columns))
        result = fsqca(memberships, "crs", columns[1:], incl_cut=0.8, pri_cut=0.5,
                       dir_exp="U1, gdp_per_capita, urbanisation_rate")
        print(result.summary())
        with atomic_output_dir("results/fsqca") as staging:
            result.write(staging)
    """
    data = negated_outcome(data, outcome)
    table = truth_table(
        data,
        outcome,
        conditions,
        incl_cut=incl_cut,
        n_cut=n_cut,
        pri_cut=pri_cut,
        half_membership=half_membership,
    )
    return solve(
        table,
        dir_exp=dir_exp,
        criterion=criterion,
        max_models=max_models,
        max_nodes=max_nodes,
        max_seconds=max_seconds,
    )


def configuration_analysis(
    cases: pd.DataFrame, settings: QCASettings, *, year: int | None = None
) -> QCAResult:
    """Calibrate the raw values of the cases and run :func:`fsqca` as ``settings`` say.

    This is the configuration stage of ``bayes-ccd run``. With ``settings.calibration``
    ``"percentiles"`` every column (outcome and conditions) is calibrated at its 95th,
    50th and 5th sample percentiles, with ``"none"`` no column is; ``settings.anchors``
    then set or replace the anchors of single columns. Columns without anchors must
    already be memberships in [0, 1].

    Parameters
    ----------
    cases
        Raw values, one row per case (index: case names), with the outcome and the
        conditions of ``settings`` among the columns.
    settings
        The ``[qca]`` settings: outcome, conditions, calibration, anchors, cut-offs,
        directional expectations, treatment of 0.5, criterion and search limits.
    year
        The period the cases belong to, named in the summary and recorded in the
        result's configuration.

    Returns
    -------
    QCAResult
        Its ``config`` holds ``settings`` (with the anchors actually used, as
        ``[full, crossover, non]`` per column) and ``year``, so that
        :meth:`QCAResult.write` records them in ``metadata.json``.

    Raises
    ------
    ConfigError
        Anchors that are not strictly monotone (percentile anchors collapse when many
        values are tied).
    DataError
        Missing columns, non-finite raw values, memberships outside [0, 1].
    """
    columns = [settings.outcome.removeprefix("~").strip(), *settings.conditions]
    anchors: dict[str, Any] = (
        percentile_anchors(columns) if settings.calibration == "percentiles" else {}
    )
    anchors |= {
        column: values if crisp_threshold(values) else Anchors(*values)
        for column, values in settings.anchors.items()
    }
    absent = [c for c in columns if c not in cases.columns]
    if absent:
        raise DataError(
            f"columns missing from the cases: {', '.join(absent)} "
            f"(available: {', '.join(map(str, cases.columns))})"
        )
    result = fsqca(
        calibrate_frame(cases[columns], anchors, log_odds=settings.log_odds),
        settings.outcome,
        settings.conditions,
        incl_cut=settings.incl_cut,
        n_cut=settings.n_cut,
        pri_cut=settings.pri_cut,
        dir_exp=list(settings.dir_exp) or None,
        half_membership=settings.half_membership,
        criterion=settings.criterion,
        max_models=settings.max_models,
        max_nodes=settings.max_nodes,
        max_seconds=settings.max_seconds,
    )
    used = {
        column: [a.full, a.crossover, a.non] if isinstance(a, Anchors) else list(a)
        for column, a in anchors.items()
    }
    recorded = {**result.config, **settings.to_dict(), "anchors": used}
    if year is not None:
        recorded["year"] = year
    return dataclasses.replace(result, config=recorded)
