"""Fixtures for the bundled questionnaires' tests: the forms and a violation finder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from forms import read_form
from forms.logic import check_submission
from forms.model import FormModel
from forms.questionnaires import bundled_questionnaire

sys.path.insert(0, str(Path(__file__).parent))

from answers import INTERVIEW_DAY, SAMPLE_ROW, submission

SAMPLE_CALCULATES = frozenset(SAMPLE_ROW) - {"a02_hh"}
"""Calculates Collect reads from the sample list attachment, which popsurvey's logic engine
does not have: it reports them as not evaluated (X199, info), never as passed."""


@pytest.fixture(scope="session")
def fertility() -> FormModel:
    return read_form(bundled_questionnaire("fertility"))


@pytest.fixture(scope="session")
def migrants() -> FormModel:
    return read_form(bundled_questionnaire("migrants"))


def problems(
    form: FormModel, flat: dict[str, Any], rows: dict[str, list[dict[str, Any]]]
) -> set[tuple[str, str, tuple[int, ...]]]:
    """``(code, variable, repeat indices)`` of every violation of the answer set."""
    data = submission(form, flat, rows)
    check = check_submission(form, data, today=INTERVIEW_DAY)
    found = set()
    for issue in check.violations():
        if issue.code == "X199" and issue.variable in SAMPLE_CALCULATES:
            continue
        indices = tuple(int(i) for i in _indices(issue.message))
        found.add((issue.code, issue.variable or "", indices))
    return found


def codes(found: set[tuple[str, str, tuple[int, ...]]]) -> set[tuple[str, str]]:
    """The violations without their repeat indices."""
    return {(code, variable) for code, variable, _ in found}


def value(
    form: FormModel, flat: dict[str, Any], rows: dict[str, list[dict[str, Any]]], name: str
) -> Any:
    """The value of ``name`` (a calculate, say) in the filled-in submission."""
    data = submission(form, flat, rows)
    element = form[name]
    node: Any = data
    for xpath in element.enclosing:
        node = node.get(xpath.rsplit("/", 1)[1], {})
    return node.get(name)


def _indices(message: str) -> list[str]:
    import re

    path = message.split(":", 1)[0]
    return re.findall(r"\[(\d+)\]", path)
