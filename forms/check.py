"""``form check`` as a library call: read, convert, validate and lint one XLSForm."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from forms.compile import PYXFORM_ERROR, PYXFORM_WARNING, ValidateStatus, compile_form
from forms.errors import XLSFormError
from forms.issues import Issue, Severity
from forms.lint import LintOptions, lint_form
from forms.model import FormModel
from forms.reader import read_form

READ_ERROR = "P000"
"""Code of the issue reported when a file cannot be read as an XLSForm at all."""

_MISSING_TRANSLATION_COLUMN = re.compile(r"^Language '.*' is missing the \w+ .+ column\.$")


@dataclass(frozen=True)
class FormCheck:
    """Everything ``form check`` found in one file."""

    file: str
    form: FormModel | None
    issues: tuple[Issue, ...]
    validate: ValidateStatus
    converted: bool

    @property
    def errors(self) -> int:
        """Number of error issues."""
        return sum(1 for i in self.issues if i.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        """Number of warning issues."""
        return sum(1 for i in self.issues if i.severity is Severity.WARNING)

    @property
    def infos(self) -> int:
        """Number of info issues (checklist items, not problems)."""
        return sum(1 for i in self.issues if i.severity is Severity.INFO)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary of the check."""
        return {
            "file": self.file,
            "form_id": self.form.form_id if self.form else None,
            "version": self.form.version if self.form else None,
            "readable": self.form is not None,
            "pyxform": "converted" if self.converted else ("failed" if self.form else "not run"),
            "odk_validate": self.validate.value,
            "errors": self.errors,
            "warnings": self.warnings,
            "infos": self.infos,
            "issues": [i.to_dict() for i in self.issues],
        }


def check_form(
    source: str | PathLike[str] | bytes,
    *,
    name: str | None = None,
    options: LintOptions | None = None,
    ignore: Iterable[str] = (),
    validate: bool = True,
) -> FormCheck:
    """Read, convert (pyxform), validate (ODK Validate, when Java is present) and lint a form.

    An unreadable file gives one ``P000`` error issue and nothing else. Lint runs even when
    pyxform fails, so one pass shows every problem; a pyxform message that repeats a lint
    finding is dropped (the lint one names the row and suggests a fix).
    """
    file_label = name or (Path(source).name if not isinstance(source, bytes) else "form")
    try:
        form = read_form(source, name=name)
    except XLSFormError as err:
        issue = Issue(
            code=READ_ERROR,
            severity=Severity.ERROR,
            message=f"column '{err.column}': {err.message}" if err.column else err.message,
            sheet=err.sheet,
            row=err.row,
            file=err.file or file_label,
        )
        return FormCheck(file_label, None, (issue,), ValidateStatus.UNREADABLE, converted=False)
    compiled = compile_form(source, name=form.source, form=form, validate=validate)
    ignored = {code.upper() for code in ignore}
    lint = lint_form(form, options=options, ignore=ignored)
    pyxform_issues = [
        i for i in compiled.issues if i.code not in ignored and not _repeats_lint(i, lint, ignored)
    ]
    return FormCheck(
        form.source or file_label,
        form,
        tuple(pyxform_issues + lint),
        compiled.validate,
        converted=compiled.xform is not None,
    )


def _repeats_lint(issue: Issue, lint: list[Issue], ignored: set[str]) -> bool:
    if issue.code == PYXFORM_WARNING and "L101" not in ignored:
        return bool(_MISSING_TRANSLATION_COLUMN.match(issue.message))
    if issue.code == PYXFORM_ERROR and issue.variable and issue.row is not None:
        reference = f"${{{issue.variable}}}"
        return any(i.code == "L130" and i.row == issue.row and reference in i.message for i in lint)
    return False
