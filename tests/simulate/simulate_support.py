"""Helpers shared by the simulator tests (fixtures are in conftest.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from forms import read_form
from forms.logic import FormLogic

START, END = date(2027, 7, 1), date(2027, 8, 31)
ROOT = Path(__file__).resolve().parents[2]


def bundled(name: str):
    """A bundled questionnaire's FormModel."""
    return read_form(ROOT / "forms" / "questionnaires" / f"{name}.xlsx")


def checker(form, entities) -> FormLogic:
    """The form's logic with the sample list as its households.csv attachment."""
    return FormLogic(form, attachments={"households.csv": entities.to_dict("records")})
