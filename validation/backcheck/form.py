"""The short back-check questionnaire, generated from the marked questions.

The back-checker picks the unit from the back-check entity list (``select_one_from_file
<list>.csv``: ODK Central links the entity list of that name), the original interview's
enumerator and instance come along as calculations, a yes/no asks whether the respondent
was found, and the marked questions follow in questionnaire order, with their labels in
every language, their choices, constraints and required flags. A question's relevance is
kept when every question it refers to is in the back-check form too (else it is asked
unconditionally). Questions inside repeats cannot be matched to one original answer and
are left out (reported as issues).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import openpyxl

from forms.issues import Issue, Severity
from forms.model import FormModel
from validation.backcheck.errors import BackcheckError
from validation.backcheck.variables import BackcheckVariable

REFERENCE = re.compile(r"\$\{([A-Za-z_][\w.-]*)\}")
LANGUAGE_CODE = re.compile(r"\((\w+)\)\s*$")
WORDS = {
    "bc_unit": {"zh": "复核住户", "en": "Unit to back-check"},
    "bc_info": {
        "zh": "原调查员:${bc_enumerator};原访问日期:${bc_date}",
        "en": "Original enumerator: ${bc_enumerator}; interviewed on ${bc_date}",
    },
    "bc_found": {
        "zh": "是否找到原受访者并同意复核?",
        "en": "Was the original respondent found and willing?",
    },
    "bc_answers": {"zh": "复核问题", "en": "Back-check questions"},
    "yes": {"zh": "是", "en": "Yes"},
    "no": {"zh": "否", "en": "No"},
}
CALCULATED = {
    "bc_orig_unit": "unit",
    "bc_enumerator": "enumerator",
    "bc_instance": "instance_id",
    "bc_date": "interview_date",
}
"""Calculations carrying the original interview's unit, enumerator, instance and date."""
ENTITY_PROPERTIES = ("unit", "enumerator", "instance_id", "interview_date", "psu", "reason")
"""Properties of each back-check entity (besides ``name`` and ``label``)."""


def backcheck_xlsform(
    form: FormModel,
    variables: Sequence[BackcheckVariable],
    *,
    list_name: str = "backcheck_units",
    form_id: str = "backcheck",
    version: str = "1",
) -> tuple[bytes, list[Issue]]:
    """The back-check XLSForm (.xlsx bytes) and the issues met (questions left out)."""
    issues: list[Issue] = []
    wanted = {v.name for v in variables}
    questions = []
    for question in form.questions:
        if question.name not in wanted:
            continue
        if question.repeats:
            issues.append(
                Issue(
                    "B010",
                    Severity.WARNING,
                    f"{question.name} is inside a repeat: left out of the back-check form",
                    variable=question.name,
                )
            )
            continue
        questions.append(question)
    unknown = wanted - {q.name for q in form.questions}
    if unknown:
        raise BackcheckError(f"{form.form_id}: no question named {', '.join(sorted(unknown))}")
    if not questions:
        raise BackcheckError(f"{form.form_id}: no back-check question outside repeats")
    languages = list(form.languages) or ["default"]
    kept = {q.name for q in questions} | {"bc_found"}
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    label_heads = [_label_head("label", lang) for lang in languages]
    hint_heads = [_label_head("hint", lang) for lang in languages]
    message_heads = [_label_head("constraint_message", lang) for lang in languages]
    heads = [
        "type",
        "name",
        *label_heads,
        *hint_heads,
        "required",
        "relevant",
        "constraint",
        *message_heads,
        "appearance",
        "calculation",
        "parameters",
    ]
    survey.append(heads)

    def row(**cells: object) -> None:
        survey.append([cells.get(h) for h in heads])

    row(type="start", name="starttime")
    row(type="end", name="endtime")
    row(type="username", name="backchecker")
    row(
        type=f"select_one_from_file {list_name}.csv",
        name="bc_unit",
        required="yes",
        appearance="search",
        **_texts("label", languages, WORDS["bc_unit"]),
    )
    for name, prop in CALCULATED.items():
        row(
            type="calculate",
            name=name,
            calculation=f"instance('{list_name}')/root/item[name=${{bc_unit}}]/{prop}",
        )
    row(type="note", name="bc_info", **_texts("label", languages, WORDS["bc_info"]))
    row(
        type="select_one bc_yesno",
        name="bc_found",
        required="yes",
        **_texts("label", languages, WORDS["bc_found"]),
    )
    row(
        type="begin_group",
        name="bc_answers",
        relevant="${bc_found} = '1'",
        **_texts("label", languages, WORDS["bc_answers"]),
    )
    lists = []
    for question in questions:
        relevant = question.relevant
        if relevant and not set(REFERENCE.findall(relevant)) <= kept:
            relevant = None
        cells = {
            "type": question.raw_type,
            "name": question.name,
            "required": question.required,
            "relevant": relevant,
            "constraint": question.constraint,
            "appearance": question.appearance,
            "parameters": " ".join(f"{k}={v}" for k, v in question.parameters.items()) or None,
        }
        for column, source in (
            ("label", question.label),
            ("hint", question.hint),
            ("constraint_message", question.constraint_message),
        ):
            for lang in languages:
                cells[_label_head(column, lang)] = source.get(lang) or source.get("default")
        if question.constraint and not set(REFERENCE.findall(question.constraint)) <= kept:
            cells["constraint"] = None
        row(**cells)
        if question.list_name and question.list_name not in lists:
            lists.append(question.list_name)
    row(type="end_group")
    choices = book.create_sheet("choices")
    choice_heads = ["list_name", "name", *label_heads]
    choices.append(choice_heads)
    for code, key in (("1", "yes"), ("2", "no")):
        texts = _texts("label", languages, WORDS[key])
        choices.append(["bc_yesno", code, *(texts[h] for h in label_heads)])
    for name in lists:
        choice_list = form.choice_lists.get(name)
        if choice_list is None:
            continue
        for choice in choice_list.choices:
            choices.append(
                [
                    name,
                    choice.name,
                    *(choice.label.get(lang) or choice.label.get("default") for lang in languages),
                ]
            )
    settings = book.create_sheet("settings")
    settings.append(["form_id", "form_title", "version", "default_language"])
    title = f"{form.title} · back-check" if form.title else "back-check"
    settings.append([form_id, title, version, form.default_language or languages[0]])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), issues


def _label_head(column: str, language: str) -> str:
    return column if language == "default" else f"{column}::{language}"


def _texts(column: str, languages: list[str], words: dict[str, str]) -> dict[str, str]:
    """The back-check form's own texts in each of the questionnaire's languages (Chinese for
    a ``(zh)`` language, English otherwise)."""
    out = {}
    for lang in languages:
        match = LANGUAGE_CODE.search(lang)
        code = match.group(1) if match else ("zh" if "中文" in lang else "en")
        out[_label_head(column, lang)] = words.get(code, words["en"])
    return out
