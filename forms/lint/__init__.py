"""popsurvey's survey-methodology lint of XLSForms.

Every rule is a small function registered with a code (``L101``...), a severity and a
title (see :mod:`forms.lint.registry` and docs/LINT.md). :func:`lint_form` runs them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from forms.issues import Issue
from forms.lint import (  # noqa: F401  (importing a module registers its rules)
    codes,
    expressions,
    metadata,
    names,
    ranges,
    references,
    translations,
)
from forms.lint.registry import RULES, LintContext, LintOptions, Rule, rule, run_rules
from forms.model import FormModel

__all__ = ["RULES", "LintContext", "LintOptions", "Rule", "lint_form", "rule", "run_rules"]

_SHEET_ORDER = {"settings": 0, "survey": 1, "choices": 2, "external_choices": 3, "entities": 4}


def lint_form(
    form: FormModel,
    *,
    options: LintOptions | None = None,
    sheets: Mapping[str, Any] | None = None,
    ignore: Iterable[str] = (),
) -> list[Issue]:
    """Run every registered lint rule (except the codes in ``ignore``) on ``form``.

    Issues come sorted by sheet and row, so they read like a walk through the workbook.
    """
    context = LintContext(form=form, sheets=dict(sheets or {}), options=options or LintOptions())
    skipped = {code.upper() for code in ignore}
    selected = [code for code in RULES if code not in skipped]
    # dict.fromkeys: a row written out several times (a loop over a choice list) is
    # reported once per finding, not once per copy
    return sorted(dict.fromkeys(run_rules(context, selected)), key=_position)


def _position(issue: Issue) -> tuple[int, int, str]:
    return (_SHEET_ORDER.get(issue.sheet or "", -1), issue.row or 0, issue.code)
