"""The questionnaires popsurvey ships: the fertility survey and the migrant dynamic monitoring
survey, as bilingual (Chinese / English) XLSForms ready for ODK Central.

The .xlsx files are generated from the Python sources ``fertility.py`` and ``migrants.py``
by ``python -m forms.questionnaires.build``; ``CONVENTIONS.md`` documents the codes.
"""

from __future__ import annotations

from pathlib import Path

from forms.errors import FormsError

_HERE = Path(__file__).resolve().parent
NAMES = ("fertility", "migrants")
"""Names of the bundled questionnaires."""


def bundled_questionnaire(name: str) -> Path:
    """Path of the bundled questionnaire ``name`` (``"fertility"`` or ``"migrants"``)."""
    if name not in NAMES:
        raise FormsError(f"no bundled questionnaire '{name}' (choose from {', '.join(NAMES)})")
    return _HERE / f"{name}.xlsx"


def sample_list() -> Path:
    """Path of the example sample list (``households.csv``) both questionnaires select from."""
    return _HERE / "households.csv"
