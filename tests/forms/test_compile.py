"""XLSForm -> XForm with pyxform and ODK Validate: results, rows of errors, Java handling."""

from __future__ import annotations

import os

import pytest

from forms import XLSFormError, read_markdown
from forms.compile import (
    PYXFORM_ERROR,
    PYXFORM_WARNING,
    VALIDATE_ERROR,
    ValidateStatus,
    compile_form,
    java_available,
    xform_or_raise,
)
from forms.issues import Severity

requires_java = pytest.mark.skipif(
    not java_available() and os.environ.get("CI") != "true",
    reason="Java not on PATH: ODK Validate cannot run (CI=true makes this a failure)",
)

GOOD = """
| survey |
| | type | name | label | calculation |
| | integer | age | Age | |
| | calculate | next_age | | ${age} + 1 |
"""


def compile_markdown(markdown: str, **kwargs):
    """compile_form on markdown text, with the FormModel for row look-ups."""
    data = markdown.encode("utf-8")
    form = read_markdown(markdown, name="t.md")
    return compile_form(data, name="t.md", form=form, **kwargs)


def test_converts_without_validation():
    result = compile_markdown(GOOD, validate=False)
    assert result.ok and result.validate is ValidateStatus.NOT_REQUESTED
    assert "<h:html" in result.xform and 'nodeset="/data/next_age"' in result.xform
    assert result.issues == () and result.itemsets is None


def test_java_absent_is_a_skip_not_a_failure(monkeypatch):
    monkeypatch.setattr("forms.compile.shutil.which", lambda name: None)
    result = compile_markdown(GOOD)
    assert result.ok and result.validate is ValidateStatus.SKIPPED_NO_JAVA


def test_pyxform_error_keeps_sheet_row_and_name():
    result = compile_markdown(GOOD.replace("${age} + 1", "${agee} + 1"), validate=False)
    assert not result.ok and result.xform is None
    (issue,) = result.issues
    assert (issue.code, issue.severity) == (PYXFORM_ERROR, Severity.ERROR)
    assert (issue.file, issue.sheet, issue.row, issue.variable) == ("t.md", "survey", 3, "agee")
    assert "[row" not in issue.message and "\n" not in issue.message


def test_pyxform_error_without_row_gets_the_row_of_the_named_question():
    markdown = "| survey |\n| | type | name | label |\n| | text | a | A |\n| | text | b | |\n"
    (issue,) = compile_markdown(markdown, validate=False).issues
    assert (issue.sheet, issue.row) == ("survey", 3) and "'b'" in issue.message


def test_audit_parameter_error_points_at_the_audit_row():
    markdown = (
        "| survey |\n| | type | name | label | parameters |\n| | text | a | A | |\n"
        "| | audit | audit | | location-priority=balanced |\n"
    )
    (issue,) = compile_markdown(markdown, validate=False).issues
    assert issue.row == 3


def test_multi_line_pyxform_warnings_become_one_issue_per_line():
    markdown = """
| survey |
| | type | name | label::English (en) | label::French (fr) | hint |
| | text | a | A | A | h |
"""
    result = compile_markdown(markdown, validate=False)
    assert result.ok
    warnings = [i for i in result.issues if i.code == PYXFORM_WARNING]
    assert len(warnings) >= 2 and all("\n" not in i.message for i in warnings)


def test_xform_or_raise_gives_one_line_with_file_and_row():
    result = compile_markdown(GOOD.replace("${age} + 1", "${agee} + 1"), validate=False)
    with pytest.raises(XLSFormError) as caught:
        xform_or_raise(result)
    assert str(caught.value).startswith("t.md: sheet 'survey', row 3: pyxform:")
    assert xform_or_raise(compile_markdown(GOOD, validate=False)).startswith("<?xml")


def test_external_choices_give_itemsets():
    markdown = """
| survey |
| | type | name | label | choice_filter |
| | select_one state | state | State | |
| | select_one_external lga | lga | LGA | state=${state} |
| choices |
| | list_name | name | label |
| | state | 1 | Abia |
| external_choices |
| | list_name | name | label | state |
| | lga | 11 | Aba | 1 |
"""
    result = compile_markdown(markdown, validate=False)
    assert result.ok and "Aba" in result.itemsets


def test_pyxform_crash_is_a_readable_error_not_a_bare_key():
    # pyxform raises KeyError('lga') for an external select without a choice_filter
    markdown = """
| survey |
| | type | name | label |
| | select_one_external lga | lga | LGA |
| external_choices |
| | list_name | name | label |
| | lga | 11 | Aba |
"""
    result = compile_markdown(markdown, validate=False)
    assert not result.ok
    message = result.errors[0].message
    assert message.startswith("pyxform could not convert the form (KeyError: ")


def test_unreadable_bytes_are_a_pyxform_error_issue():
    result = compile_form(b"\x00\x01 not a workbook", name="x.xlsx", validate=False)
    assert not result.ok and result.issues[0].file == "x.xlsx"


@requires_java
def test_odk_validate_passes_a_good_form():
    result = compile_markdown(GOOD)
    assert result.validate is ValidateStatus.PASSED and result.ok


@requires_java
def test_odk_validate_error_is_one_clean_line_with_the_row():
    result = compile_markdown(GOOD.replace("${age} + 1", "foo(${age})"))
    assert result.validate is ValidateStatus.FAILED and not result.ok
    (issue,) = [i for i in result.issues if i.code == VALIDATE_ERROR]
    assert issue.row == 3 and "cannot handle function 'foo'" in issue.message
    assert "tmp" not in issue.message and "Result: Invalid" not in issue.message
    with pytest.raises(XLSFormError, match="ODK Validate"):
        xform_or_raise(result)
