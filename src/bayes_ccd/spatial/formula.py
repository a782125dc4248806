"""Model formulas: ``"D ~ ln(gdp_per_capita) + 0.01 * tertiary_share + aged65_share"``.

A formula names the dependent variable and the covariates of a spatial panel with the
transformations of an indicator system's ``[[factors]]``: each term is
``transform(scale * column)`` (:class:`~bayes_ccd.data.factors.Factor`). Grammar::

    formula  := response "~" term ("+" term)*
    response := term
    term     := scaled | ("log" | "ln") "(" scaled ")"
    scaled   := column | number "*" column | column "*" number | column "/" number
    column   := a name of letters, digits, "_" and "." (or any text in `back quotes`)

``log`` and ``ln`` are the natural logarithm. A term is named after its column; a
logarithm ``ln_<column>``, as ``bayes-ccd fit --log`` names it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bayes_ccd.data.factors import Factor
from bayes_ccd.exceptions import SpecificationError

_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
_COLUMN = r"`[^`]+`|[A-Za-z_][A-Za-z0-9_.]*"
_SCALED = re.compile(
    rf"^(?:(?P<left>{_NUMBER})\s*\*\s*)?(?P<column>{_COLUMN})"
    rf"(?:\s*(?P<op>[*/])\s*(?P<right>{_NUMBER}))?$"
)
_FUNCTION = re.compile(r"^(?P<name>log|ln)\s*\((?P<inner>.*)\)$")


def parse_term(text: str) -> Factor:
    """One term of a formula as a :class:`~bayes_ccd.data.factors.Factor`.

    Raises
    ------
    SpecificationError
        The term is not of the grammar in the module docstring.
    """
    term = text.strip()
    function = _FUNCTION.match(term)
    inner = function.group("inner").strip() if function else term
    match = _SCALED.match(inner)
    if match is None or (match.group("left") and match.group("right")):
        raise SpecificationError(
            f"formula term {text.strip()!r} is not understood; write a column, a scaled "
            "column (0.01 * x, x / 1000) or ln(...) / log(...) of one"
        )
    column = match.group("column").strip("`")
    scale = 1.0
    if match.group("left"):
        scale = float(match.group("left"))
    elif match.group("right"):
        value = float(match.group("right"))
        scale = value if match.group("op") == "*" else 1.0 / value
    if scale <= 0:
        raise SpecificationError(f"formula term {text.strip()!r}: the scale must be positive")
    log = function is not None
    return Factor(
        name=f"ln_{column}" if log else column,
        column=column,
        transform="log" if log else "none",
        scale=scale,
        label=term,
    )


def parse_formula(formula: str) -> tuple[Factor, tuple[Factor, ...]]:
    """Parse a formula such as ``"y ~ x1 + ln(x2) + 0.01 * x3"`` into response and covariates.

    Raises
    ------
    SpecificationError
        No single ``~``, an empty side, a term outside the grammar, or two terms with
        the same name.
    """
    if formula.count("~") != 1:
        raise SpecificationError(
            f"formula {formula!r} needs exactly one '~' between the dependent variable "
            "and the covariates, e.g. 'D ~ ln(gdp_per_capita) + tertiary_share'"
        )
    left, right = formula.split("~")
    terms = [t for t in right.split("+")]
    if not left.strip() or not right.strip() or any(not t.strip() for t in terms):
        raise SpecificationError(f"formula {formula!r} has an empty side or term")
    response = parse_term(left)
    covariates = tuple(parse_term(t) for t in terms)
    check_names(response, covariates)
    return response, covariates


def as_factor(term: str | Factor) -> Factor:
    """Turn a covariate given as a column name, a formula term or a Factor into a Factor."""
    return term if isinstance(term, Factor) else parse_term(term)


def check_names(response: Factor, covariates: Sequence[Factor]) -> None:
    """Refuse repeated covariate names and a response among the covariates."""
    names = [f.name for f in covariates]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SpecificationError(f"covariate(s) {repeated} appear twice in the model")
    if response.name in names:
        raise SpecificationError(
            f"'{response.name}' is both the dependent variable and a covariate"
        )
