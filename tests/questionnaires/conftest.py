"""Fixtures for the bundled questionnaires' tests: the two forms, read once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from forms import read_form
from forms.model import FormModel
from forms.questionnaires import bundled_questionnaire

sys.path.insert(0, str(Path(__file__).parent))  # for questionnaire_answers


@pytest.fixture(scope="session")
def fertility() -> FormModel:
    return read_form(bundled_questionnaire("fertility"))


@pytest.fixture(scope="session")
def migrants() -> FormModel:
    return read_form(bundled_questionnaire("migrants"))
