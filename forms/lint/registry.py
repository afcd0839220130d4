"""The lint rule registry: each rule is a small function with a code, a severity and a title.

A rule takes a :class:`LintContext` and yields :class:`forms.issues.Issue` records naming the
sheet and row. Rules register themselves with :func:`rule`; :func:`run_rules` runs them all
(or a chosen subset) and never lets one broken rule hide the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from forms.issues import Issue, Severity
from forms.model import FormModel


@dataclass(frozen=True)
class LintOptions:
    """Survey-level facts the rules need (from survey.toml when there is one)."""

    dont_know_codes: tuple[str, ...] = ()
    refusal_codes: tuple[str, ...] = ()
    max_name_length: int = 32


@dataclass(frozen=True)
class LintContext:
    """What a rule looks at: the FormModel, the raw sheets as read, and the options."""

    form: FormModel
    sheets: dict[str, Any] = field(default_factory=dict)
    options: LintOptions = field(default_factory=LintOptions)

    def issue(
        self,
        code: str,
        message: str,
        *,
        severity: Severity | None = None,
        sheet: str = "survey",
        row: int | None = None,
        variable: str | None = None,
    ) -> Issue:
        """An Issue for rule ``code`` at ``sheet``/``row`` of this form's file."""
        return Issue(
            code=code,
            severity=severity or RULES[code].severity,
            message=message,
            variable=variable,
            sheet=sheet,
            row=row,
            file=self.form.source,
        )


RuleFunction = Callable[[LintContext], Iterable[Issue]]


@dataclass(frozen=True)
class Rule:
    """A registered lint rule."""

    code: str
    severity: Severity
    title: str
    check: RuleFunction


RULES: dict[str, Rule] = {}
"""Every registered rule by code, in registration order."""


def rule(code: str, severity: Severity, title: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register the decorated function as lint rule ``code``."""

    def register(check: RuleFunction) -> RuleFunction:
        if code in RULES and RULES[code].check is not check:
            raise ValueError(f"lint rule {code} is registered twice")
        RULES[code] = Rule(code=code, severity=severity, title=title, check=check)
        return check

    return register


def run_rules(context: LintContext, codes: Iterable[str] | None = None) -> Iterator[Issue]:
    """Run the registered rules (all, or those in ``codes``) and yield their issues.

    A rule that raises is reported as an error issue ``L000`` instead of stopping the run.
    """
    selected = set(codes) if codes is not None else None
    for code, registered in RULES.items():
        if selected is not None and code not in selected:
            continue
        try:
            yield from registered.check(context)
        except Exception as err:  # a buggy rule must not hide the findings of the others
            yield Issue(
                code="L000",
                severity=Severity.ERROR,
                message=f"lint rule {code} failed: {type(err).__name__}: {err}",
                file=context.form.source,
            )
