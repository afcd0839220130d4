"""Rules on variable names as they will appear in SPSS and Stata files."""

from __future__ import annotations

import re
from collections.abc import Iterator

from forms.issues import Issue, Severity
from forms.lint.registry import LintContext, rule
from forms.model import Question

_STATA_NAME = re.compile(r"^[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_\u00C0-\uFFFF]*$")


def exported_variables(ctx: LintContext) -> list[Question]:
    """Rows that become a variable (or, for repeats, a dataset) once the form is flattened:
    every data-holding question and every repeat, groups dissolved."""
    return [q for q in ctx.form.elements if q.holds_data or q.is_repeat]


def export_names(ctx: LintContext, question: Question) -> tuple[str, ...]:
    """The column names ``question`` becomes (its name, plus ``name_code`` dummies of a
    select_multiple, ``name_latitude``... of a geopoint, ``name_other``); a repeat's name."""
    from forms.naming import candidate_names

    if question.is_repeat:
        return (question.name,)
    return candidate_names(ctx.form, question) or (question.name,)


@rule("L120", Severity.WARNING, "variable name longer than 32 characters")
def long_names(ctx: LintContext) -> Iterator[Issue]:
    """Names over the Stata limit (32 characters; SPSS allows 64 bytes), including the
    columns a question adds when exported (``name_code``, ``name_latitude``...)."""
    limit = ctx.options.max_name_length
    for question in exported_variables(ctx):
        longest = max(export_names(ctx, question), key=len)
        if len(longest) <= limit:
            continue
        what = (
            f"'{question.name}' is {len(longest)} characters long"
            if longest == question.name
            else f"'{question.name}' is exported with the column '{longest}' "
            f"({len(longest)} characters)"
        )
        yield ctx.issue(
            "L120",
            f"{what}; Stata allows {limit}, so the exported variable would be renamed: "
            "shorten the name",
            row=question.row,
            variable=question.name,
        )


@rule("L121", Severity.WARNING, "variable name not valid in Stata or SPSS")
def invalid_export_names(ctx: LintContext) -> Iterator[Issue]:
    """Names with ``-`` or ``.`` (valid in XML, not in Stata; SPSS refuses ``-``)."""
    for question in exported_variables(ctx):
        if not _STATA_NAME.match(question.name):
            yield ctx.issue(
                "L121",
                f"'{question.name}' contains '-' or '.', which Stata and SPSS do not accept "
                "in variable names: use '_' instead",
                row=question.row,
                variable=question.name,
            )


@rule("L122", Severity.ERROR, "variable name not unique once groups are flattened")
def duplicate_flat_names(ctx: LintContext) -> Iterator[Issue]:
    """Two questions (or repeats) with the same name, ignoring case, in different groups, or
    a question whose name equals a column another question adds (``q_1`` of a
    select_multiple ``q``).

    XLSForm allows it, but the exported datasets, ``${name}`` references and every
    popsurvey stage identify a variable by its name alone.
    """
    first_seen: dict[str, tuple[Question, str]] = {}
    for question in exported_variables(ctx):
        for column in export_names(ctx, question):
            first, first_column = first_seen.setdefault(column.lower(), (question, column))
            if first is question:
                continue
            yield ctx.issue(
                "L122",
                f"{_describe(question, column)} clashes with {_describe(first, first_column)} "
                f"at row {first.row} once groups and repeats are flattened: rename one of them",
                row=question.row,
                variable=question.name,
            )
            break


def _describe(question: Question, column: str) -> str:
    if column == question.name:
        return f"'{question.name}' ({question.xpath})"
    return f"the column '{column}' of '{question.name}' ({question.xpath})"
