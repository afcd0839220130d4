"""A file that is not an XLSForm: one line a user can act on, exit 1 (CliRunner)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from surveys.cli import main


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "a,b\n1,2\n",
            "not an XLSForm: no 'survey' sheet found (a CSV XLSForm has sheet names in its "
            "first column; its first column starts with 'a')",
        ),
        (
            "a,b,c\n,type,name\n,text,q\n",
            "not an XLSForm: no 'survey' sheet found (a CSV XLSForm has sheet names in its "
            "first column; its first column starts with 'a')",
        ),
        (
            "survey,,\n,type,name\n,text,q\nfoo,,\n,x,y\n,1,2\n",
            "not an XLSForm: unknown sheet 'foo' (an XLSForm has the sheets survey, choices, "
            "settings, external_choices and entities)",
        ),
    ],
)
def test_csv_that_is_not_an_xlsform_is_one_actionable_line(tmp_path, content, expected):
    form = tmp_path / "people.csv"
    form.write_text(content, encoding="utf-8")
    submission = tmp_path / "sub.json"
    submission.write_text(json.dumps({"__id": "uuid:1"}), encoding="utf-8")
    result = run("form", "logic", form, submission)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines == [f"Error: people.csv: {expected}"]
    assert "TypeError" not in result.output and "DefinitionData" not in result.output
    checked = run("form", "check", "--no-validate", form)
    assert checked.exit_code == 1
    assert f"error P000 people.csv: {expected}" in checked.output
