"""Rules on the texts an enumerator reads: translations and constraint messages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from forms.issues import Issue, Severity
from forms.lint.registry import LintContext, rule
from forms.lint.text import TEXT_COLUMNS, plural
from forms.model import DEFAULT_LANGUAGE


@dataclass(frozen=True)
class _Gap:
    """One translatable cell that is filled in some language but not in ``language``."""

    sheet: str
    row: int
    column: str
    language: str
    variable: str


@rule("L101", Severity.WARNING, "text missing in a declared language")
def missing_translation(ctx: LintContext) -> Iterator[Issue]:
    """A label, hint, guidance, constraint or required message filled in some declared
    languages but not all. A column missing for a whole language is reported once."""
    languages = [lang for lang in ctx.form.languages if lang != DEFAULT_LANGUAGE]
    if not languages:
        return
    gaps = list(_gaps(ctx, languages))
    present = _present_columns(ctx)
    whole_column: dict[tuple[str, str, str], list[_Gap]] = {}
    per_row: dict[tuple[str, int], list[_Gap]] = {}
    for gap in gaps:
        if (gap.sheet, gap.column, gap.language) in present:
            per_row.setdefault((gap.sheet, gap.row), []).append(gap)
        else:
            whole_column.setdefault((gap.sheet, gap.column, gap.language), []).append(gap)
    for (sheet, column, language), column_gaps in whole_column.items():
        rows = [g.row for g in column_gaps]
        yield ctx.issue(
            "L101",
            f"no '{column}::{language}' column, so the {column} of {plural(len(rows), 'row')} "
            f"{_rows_text(rows)} has no {language} text; add the column and translate them",
            sheet=sheet,
            row=rows[0],
        )
    for (sheet, row), row_gaps in sorted(per_row.items()):
        missing = ", ".join(f"{g.column}::{g.language}" for g in row_gaps)
        yield ctx.issue(
            "L101",
            f"'{row_gaps[0].variable}' has no translation in {missing}",
            sheet=sheet,
            row=row,
            variable=row_gaps[0].variable,
        )


def _gaps(ctx: LintContext, languages: list[str]) -> Iterator[_Gap]:
    for question in ctx.form.elements:
        for column in TEXT_COLUMNS:
            texts = getattr(question, column)
            yield from _cell_gaps(texts, languages, "survey", question.row, column, question.name)
    for choice_list in ctx.form.choice_lists.values():
        for choice in choice_list.choices:
            yield from _cell_gaps(
                choice.label,
                languages,
                choice_list.sheet,
                choice.row,
                "label",
                f"{choice_list.name}/{choice.name}",
            )


def _cell_gaps(
    texts: Mapping[str, str],
    languages: Iterable[str],
    sheet: str,
    row: int,
    column: str,
    variable: str,
) -> Iterator[_Gap]:
    if not texts:
        return
    for language in languages:
        if not texts.get(language):
            yield _Gap(sheet, row, column, language, variable)


def _present_columns(ctx: LintContext) -> set[tuple[str, str, str]]:
    """``(sheet, column, language)`` for every translated column used at least once."""
    present: set[tuple[str, str, str]] = set()
    for question in ctx.form.elements:
        for column in TEXT_COLUMNS:
            for language in getattr(question, column):
                present.add(("survey", column, language))
    for choice_list in ctx.form.choice_lists.values():
        for choice in choice_list.choices:
            for language in choice.label:
                present.add((choice_list.sheet, "label", language))
    return present


def _rows_text(rows: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"({shown}{more})"


@rule("L102", Severity.WARNING, "constraint without a message")
def constraint_without_message(ctx: LintContext) -> Iterator[Issue]:
    """A constraint with no constraint message in any language."""
    for question in ctx.form.elements:
        if question.constraint and not any(question.constraint_message.values()):
            yield ctx.issue(
                "L102",
                f"'{question.name}' has the constraint '{question.constraint}' but no "
                "constraint_message: the enumerator will only see 'Sorry, this response is "
                "invalid' and cannot tell what to correct",
                row=question.row,
                variable=question.name,
            )
