"""Lint rules on the XPath of the survey sheet: every expression must parse and use only
functions popsurvey (and ODK Collect) can evaluate.

- L140 malformed expression (syntax, wrong number of function arguments);
- L141 function unknown to ODK and popsurvey (error);
- L142 function ODK knows but popsurvey does not evaluate, e.g. ``pulldata`` (warning: data
  checks report those expressions as "not evaluated").

References to missing questions are L130's business (:mod:`forms.lint.references`).
"""

from __future__ import annotations

from collections.abc import Iterator

from forms.errors import ExpressionError
from forms.issues import Issue, Severity
from forms.lint.registry import LintContext, rule
from forms.logic import EXPRESSION_COLUMNS, _column_text, compile_expression
from forms.xpath.ast import Call, walk
from forms.xpath.functions import FUNCTIONS

_LABEL = {"calculation": "calculation", "choice_filter": "choice_filter"}


def _expressions(ctx: LintContext) -> Iterator[tuple[str, int, str, str, object]]:
    """(question, row, column, text, compiled-or-error) for every expression cell."""
    for element in ctx.form.elements:
        for column in EXPRESSION_COLUMNS:
            text = _column_text(element, column)
            if text is None:
                continue
            try:
                compiled: object = compile_expression(text, element.name, column)
            except ExpressionError as err:
                compiled = err
            yield element.name, element.row, column, text, compiled


@rule("L140", Severity.ERROR, "malformed expression")
def malformed_expressions(ctx: LintContext) -> Iterator[Issue]:
    """Expressions that do not parse, or call a function with the wrong arity."""
    for name, row, _column, _text, compiled in _expressions(ctx):
        if isinstance(compiled, ExpressionError):
            yield ctx.issue("L140", f"malformed expression: {compiled}", row=row, variable=name)


# Functions ODK Collect knows but popsurvey's engine does not evaluate: a form using them is
# valid (a warning, not an error), but the data checks report those expressions as
# "not evaluated". XPath 1.0 functions JavaRosa does not implement (floor, ceiling, last,
# name, local-name, lang, id: "cannot handle function" in ODK Validate) are NOT here, so
# L141 reports them as errors.
ODK_FUNCTIONS_NOT_EVALUATED = frozenset(
    {
        "pulldata",
        "jr:itext",
        "extract-signed",
        "encrypt-string",
        "decrypt-string",
    }
)


def _missing_functions(compiled: object) -> list[str]:
    tree = getattr(compiled, "tree", None)
    if tree is None or getattr(compiled, "problem", None) is None:
        return []
    return [n.name for n in walk(tree) if isinstance(n, Call) and n.name not in FUNCTIONS]


@rule("L141", Severity.ERROR, "unknown function")
def unknown_functions(ctx: LintContext) -> Iterator[Issue]:
    """Expressions calling a function that is in neither ODK's nor popsurvey's library."""
    for name, row, column, text, compiled in _expressions(ctx):
        for function in dict.fromkeys(_missing_functions(compiled)):
            if function not in ODK_FUNCTIONS_NOT_EVALUATED:
                yield ctx.issue(
                    "L141",
                    f"{name}: {column}: unknown function '{function}()' in '{text}'",
                    row=row,
                    variable=name,
                )


@rule("L142", Severity.WARNING, "ODK function popsurvey cannot evaluate")
def unevaluated_functions(ctx: LintContext) -> Iterator[Issue]:
    """Expressions using an ODK function popsurvey does not evaluate (e.g. pulldata)."""
    for name, row, column, text, compiled in _expressions(ctx):
        for function in dict.fromkeys(_missing_functions(compiled)):
            if function in ODK_FUNCTIONS_NOT_EVALUATED:
                yield ctx.issue(
                    "L142",
                    f"{name}: {column}: '{function}()' is valid in ODK but popsurvey cannot "
                    f"evaluate it; data checks will report '{text}' as not evaluated",
                    row=row,
                    variable=name,
                )
