"""Back-checks (re-interviews) as IPA's bcstats does them: draw the sample per enumerator,
generate the short back-check form from the marked questions, compare the answers.

A library with plain inputs (pandas tables and a FormModel); ``surveys`` wires it to the
store, survey.toml and ODK Central.
"""

from __future__ import annotations

from validation.backcheck.compare import BackcheckComparison, compare_backchecks, reliability
from validation.backcheck.draw import draw_backchecks
from validation.backcheck.errors import BackcheckError
from validation.backcheck.form import ENTITY_PROPERTIES, backcheck_xlsform
from validation.backcheck.variables import (
    MARK_COLUMN,
    BackcheckVariable,
    by_type,
    marked_variables,
)

__all__ = [
    "ENTITY_PROPERTIES",
    "MARK_COLUMN",
    "BackcheckComparison",
    "BackcheckError",
    "BackcheckVariable",
    "backcheck_xlsform",
    "by_type",
    "compare_backchecks",
    "draw_backchecks",
    "marked_variables",
    "reliability",
]
