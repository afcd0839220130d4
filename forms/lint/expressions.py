"""Lint rules on the XPath of the survey sheet: every expression must parse and use only
functions popsurvey (and ODK Collect) can evaluate.

- L140 malformed expression (syntax, wrong number of function arguments);
- L141 function that is not implemented (``popsurvey form logic`` and the data checks
  could not evaluate it: results would be "not evaluated").

References to missing questions are L130's business (:mod:`forms.lint.references`).
"""

from __future__ import annotations

from collections.abc import Iterator

from forms.errors import ExpressionError
from forms.issues import Issue, Severity
from forms.lint.registry import LintContext, rule
from forms.logic import EXPRESSION_COLUMNS, _column_text, compile_expression

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


@rule("L141", Severity.ERROR, "unknown or unsupported function")
def unknown_functions(ctx: LintContext) -> Iterator[Issue]:
    """Expressions calling a function that is not in ODK's (and popsurvey's) library."""
    for name, row, column, text, compiled in _expressions(ctx):
        problem = getattr(compiled, "problem", None)
        if problem:
            yield ctx.issue(
                "L141", f"{name}: {column}: {problem} in '{text}'", row=row, variable=name
            )
