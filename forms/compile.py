"""XLSForm -> XForm with pyxform, then ODK Validate (Java) when a Java runtime is present.

pyxform's errors and warnings and ODK Validate's verdict become :class:`Issue` records
(codes ``P100``/``P101`` for pyxform, ``V100``/``V101`` for ODK Validate) so that
``form check`` can list them with the lint findings. :func:`xform_or_raise` turns a failed
compilation into one :class:`XLSFormError` line for ``form build``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from os import PathLike
from pathlib import Path

from forms.errors import XLSFormError
from forms.issues import Issue, Severity
from forms.model import FormModel

PYXFORM_ERROR = "P100"
PYXFORM_WARNING = "P101"
VALIDATE_ERROR = "V100"
VALIDATE_WARNING = "V101"

JAVA_MISSING = (
    "Java not found on PATH, ODK Validate was skipped (install a Java runtime, e.g. "
    "`apt-get install default-jre-headless`, to run it)"
)


class ValidateStatus(StrEnum):
    """What happened to ODK Validate for one form."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED_NO_JAVA = "skipped: Java not found"
    NOT_REQUESTED = "not run (--no-validate)"
    NOT_RUN = "not run (pyxform failed)"
    UNREADABLE = "not run (file unreadable)"


@dataclass(frozen=True)
class CompileResult:
    """The outcome of converting one XLSForm: the XForm (None when pyxform failed),
    the external itemsets CSV if any, and the problems found."""

    file: str
    xform: str | None
    itemsets: str | None
    issues: tuple[Issue, ...]
    validate: ValidateStatus

    @property
    def errors(self) -> tuple[Issue, ...]:
        """The error issues (pyxform or ODK Validate)."""
        return tuple(i for i in self.issues if i.severity is Severity.ERROR)

    @property
    def ok(self) -> bool:
        """True when the form converted and ODK Validate (if it ran) accepted it."""
        return self.xform is not None and not self.errors


def java_available() -> bool:
    """True when a ``java`` executable is on PATH (ODK Validate needs it)."""
    return shutil.which("java") is not None


def compile_form(
    source: str | PathLike[str] | bytes,
    *,
    name: str | None = None,
    form: FormModel | None = None,
    validate: bool = True,
) -> CompileResult:
    """Convert an XLSForm to an XForm with pyxform and check it with ODK Validate.

    ``name`` labels messages when ``source`` is bytes (its suffix gives the format);
    ``form``, the FormModel of the same file, lets messages that name a question but no row
    point at the row. ODK Validate runs only when ``validate`` and Java is on PATH.
    """
    file_label = name or (Path(source).name if not isinstance(source, bytes) else "form")
    places = _Places(file_label, form)
    try:
        xform, itemsets, warnings = _convert(source, file_label)
    except Exception as err:  # pyxform raises many types for malformed forms
        return CompileResult(
            file_label, None, None, (places.issue(PYXFORM_ERROR, err),), ValidateStatus.NOT_RUN
        )
    issues = [places.issue(PYXFORM_WARNING, text) for text in _split_warnings(warnings)]
    if not validate:
        status = ValidateStatus.NOT_REQUESTED
    elif not java_available():
        status = ValidateStatus.SKIPPED_NO_JAVA
    else:
        validate_issues = _odk_validate(xform, places)
        issues.extend(validate_issues)
        failed = any(i.severity is Severity.ERROR for i in validate_issues)
        status = ValidateStatus.FAILED if failed else ValidateStatus.PASSED
    return CompileResult(file_label, xform, itemsets, tuple(issues), status)


def xform_or_raise(result: CompileResult) -> str:
    """The XForm of a successful compilation; else :class:`XLSFormError` for the first error."""
    if result.xform is not None and not result.errors:
        return result.xform
    first = result.errors[0]
    raise XLSFormError(
        f"{'ODK Validate' if first.code == VALIDATE_ERROR else 'pyxform'}: {first.message}",
        file=first.file,
        sheet=first.sheet,
        row=first.row,
    )


def _convert(source: str | PathLike[str] | bytes, file_label: str) -> tuple[str, str | None, list]:
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    if isinstance(source, bytes):
        suffix = Path(file_label).suffix.lower() or None
        result = convert(source, warnings=warnings, file_type=suffix, pretty_print=True)
    else:
        result = convert(str(source), warnings=warnings, pretty_print=True)
    return result.xform, result.itemsets, warnings


def _split_warnings(warnings: list[str]) -> list[str]:
    """pyxform joins some warnings with newlines; one issue per line."""
    lines: list[str] = []
    for warning in warnings:
        lines.extend(line.strip() for line in str(warning).splitlines() if line.strip())
    return lines


def _odk_validate(xform: str, places: _Places) -> list[Issue]:
    from pyxform.validators.odk_validate import ODKValidateError, check_xform

    with tempfile.TemporaryDirectory(prefix="popsurvey-validate-") as tmp:
        path = Path(tmp, "form.xml")
        path.write_text(xform, encoding="utf-8")
        try:
            warnings = check_xform(str(path))
        except ODKValidateError as err:
            return [places.issue(VALIDATE_ERROR, _clean_validate_output(str(err)))]
        except OSError as err:  # java vanished or cannot start
            return [places.issue(VALIDATE_ERROR, f"could not run ODK Validate: {err}")]
    return [
        places.issue(VALIDATE_WARNING, _clean_validate_output(text))
        for text in warnings
        if _clean_validate_output(text)
    ]


_VALIDATE_NOISE = re.compile(
    r"^(ODK Validate (Errors|Warnings):|>>|Result:|The following files failed validation:|"
    r"\$\{tmp\w*\}\.xml$|\$\{form\}\.xml$|Caused by:|\.\.\. \d+ more|at [\w.$]+\()"
)


def _clean_validate_output(text: str) -> str:
    """ODK Validate's multi-line report without the banner, temp file name and Java stack."""
    kept: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not _VALIDATE_NOISE.match(line) and line not in kept:
            kept.append(line.lstrip(": "))
    return " ".join(kept)


_ROW = re.compile(r"^\[row\s*:\s*(\d+)\]\s*")
_SHEET = re.compile(r"On the '(\w+)' sheet", re.I)
_PYXFORM_CRASHES = (LookupError, TypeError, AttributeError)
"""Exceptions that are pyxform failing on an input it did not foresee, not its messages."""
_NAMED = re.compile(r"(?:named|name|element|field|node) '([^']+)'|\$\{([^}\[]+)\}")


class _Places:
    """Turns a pyxform or ODK Validate message into an Issue with file, sheet and row."""

    def __init__(self, file_label: str, form: FormModel | None) -> None:
        self.file = file_label
        self.form = form

    def issue(self, code: str, error: Exception | str) -> Issue:
        """An Issue for a pyxform exception or message, with the best place it gives."""
        context = getattr(error, "context", None) or {}
        text = " ".join(str(error).split())
        if isinstance(error, _PYXFORM_CRASHES):  # str(KeyError('ext')) is just "'ext'"
            text = f"pyxform could not convert the form ({type(error).__name__}: {text})"
        row = context.get("row")
        match = _ROW.match(text)
        if match:
            row = row or int(match.group(1))
            text = text[match.end() :]
        sheet = context.get("sheet")
        sheet_match = _SHEET.search(text)
        if sheet is None and sheet_match:
            sheet = sheet_match.group(1)
        variable = context.get("q")
        if row is None:
            row, named = self._row_of_named_question(text)
            if row is not None:
                sheet, variable = sheet or "survey", variable or named
        severity = Severity.ERROR if code in (PYXFORM_ERROR, VALIDATE_ERROR) else Severity.WARNING
        return Issue(
            code=code,
            severity=severity,
            message=text or type(error).__name__,
            variable=variable,
            sheet=sheet if sheet else ("survey" if row is not None else None),
            row=int(row) if row is not None else None,
            file=self.file,
        )

    def _row_of_named_question(self, text: str) -> tuple[int | None, str | None]:
        if self.form is None:
            return None, None
        for match in _NAMED.finditer(text):
            name = match.group(1) or match.group(2)
            question = self.form.get(name.strip())
            if question is not None:
                return question.row, question.name
        if "audit" in text.lower():  # pyxform's audit-parameter errors name no question
            audit = next((q for q in self.form.elements if q.type == "audit"), None)
            if audit is not None:
                return audit.row, audit.name
        return None, None
