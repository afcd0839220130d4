"""Rules on ``${name}`` references between questions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from forms.issues import Issue, Severity
from forms.lint.registry import LintContext, rule
from forms.lint.text import expression_cells, references

_SETTINGS_ROW = 2
"""Settings are read from the first data row of the settings sheet."""


def _cells(ctx: LintContext) -> Iterator[tuple[str, int, str | None, str, str]]:
    """``(sheet, row, variable, column, text)`` of every cell that may hold ``${name}``."""
    for question in ctx.form.elements:
        for column, text in expression_cells(question):
            yield "survey", question.row, question.name, column, text
    for choice_list in ctx.form.choice_lists.values():
        for choice in choice_list.choices:
            for language, text in choice.label.items():
                yield choice_list.sheet, choice.row, None, f"label ({language})", text
    if ctx.form.instance_name:
        yield "settings", _SETTINGS_ROW, None, "instance_name", ctx.form.instance_name
    for index, entity in enumerate(ctx.form.entities):
        for column, text in entity.items():
            yield "entities", index + 2, None, column, text


def _suggestion(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean ${{{close[0]}}}?)" if close else ""


@rule("L130", Severity.ERROR, "reference to a question that does not exist")
def undefined_references(ctx: LintContext) -> Iterator[Issue]:
    """A ``${name}`` in a relevance, constraint, calculation, choice_filter, repeat_count,
    default, required, read_only, label/hint, choice label, instance_name or entity column
    that names no question of the form."""
    known = {e.name for e in ctx.form.elements}
    found: dict[tuple[str, int, str], tuple[str | None, list[str]]] = {}
    for sheet, row, variable, column, text in _cells(ctx):
        for name in references(text):
            if name not in known:
                _, columns = found.setdefault((sheet, row, name), (variable, []))
                if column not in columns:
                    columns.append(column)
    for (sheet, row, name), (variable, columns) in found.items():
        yield ctx.issue(
            "L130",
            f"{' and '.join(columns)} refers to ${{{name}}}, which is not a question of this "
            f"form{_suggestion(name, known)}",
            sheet=sheet,
            row=row,
            variable=variable,
        )
