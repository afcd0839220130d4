# ruff: noqa: E501  (XLSForm fixtures are markdown tables, one row per line)
"""``popsurvey form check / build / codebook`` through click's CliRunner and a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from forms import FormModel, read_form
from forms.compile import java_available
from surveys.cli import main

CLEAN = """
| settings |
| | form_id | version | instance_name |
| | hh | 3 | concat(${hhid}, '') |
| survey |
| | type | name | label | constraint | constraint_message | parameters |
| | start | start | | | | |
| | end | end | | | | |
| | deviceid | deviceid | | | | |
| | audit | audit | | | | location-priority=balanced location-min-interval=60 location-max-age=120 track-changes=true |
| | text | hhid | Household ID | | | |
| | integer | age | Age | . >= 15 and . <= 60 | 15 to 60 | |
| | select_one yn | folic | Folic acid? | | | |
| choices |
| | list_name | name | label |
| | yn | 1 | Yes |
| | yn | 2 | No |
| | yn | 98 | Don't know |
"""
WARNINGS_ONLY = CLEAN.replace("| 15 to 60 |", "| |")  # L102: constraint without a message
BAD_REFERENCE = CLEAN.replace(
    "| select_one yn | folic | Folic acid? | | | |",
    "| select_one yn | folic | Folic acid? ${agee} | | | |",
)
DUPLICATE_IN_GROUPS = CLEAN.replace(
    "| | select_one yn | folic | Folic acid? | | | |",
    "| | begin group | g | G | | | |\n| | text | AGE | Again | | | |\n| | end group | | | | | |",
)

BAD_MARKDOWN = {
    "duplicate names": (
        "| survey |\n| | type | name | label |\n| | text | a | A |\n| | text | a | A2 |\n",
        "sheet 'survey', row 3",
    ),
    "select on an undefined list": (
        "| survey |\n| | type | name | label |\n| | text | a | A |\n| | select_one nolist | b | B |\n",
        "sheet 'survey', row 3",
    ),
    "unknown type": (
        "| survey |\n| | type | name | label |\n| | text | a | A |\n| | intger | b | B |\n",
        "sheet 'survey', row 3",
    ),
    "no survey sheet": (
        "| choices |\n| | list_name | name | label |\n| | yn | 1 | Yes |\n",
        "sheet 'survey'",
    ),
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def bad_files(tmp_path: Path) -> list[tuple[Path, str]]:
    """(file, expected place) for every kind of bad input, in .md and .xlsx."""
    cases = [
        (write(tmp_path, f"{i}.md", md), place)
        for i, (md, place) in enumerate(BAD_MARKDOWN.values())
    ]
    corrupt = tmp_path / "corrupt.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 this is no workbook" * 50)
    cases.append((corrupt, "not a readable XLSForm"))
    cases.append((write(tmp_path, "notes.txt", "shopping list\n"), "not a readable XLSForm"))
    workbook = openpyxl.Workbook()
    workbook.active.title = "choices"
    workbook.active.append(["list_name", "name", "label"])
    workbook.save(tmp_path / "nosurvey.xlsx")
    cases.append((tmp_path / "nosurvey.xlsx", "sheet 'survey'"))
    workbook = openpyxl.Workbook()
    workbook.active.title = "survey"
    for row in (["type", "name", "label"], ["text", "a", "A"], ["foo", "b", "B"]):
        workbook.active.append(row)
    workbook.save(tmp_path / "unknown.xlsx")
    cases.append((tmp_path / "unknown.xlsx", "sheet 'survey', row 3, column 'type'"))
    return cases


def run(*args: str) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def no_java(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("forms.compile.shutil.which", lambda name: None)


# -- check --------------------------------------------------------------------------------
def test_check_clean_form_exits_0(tmp_path, monkeypatch):
    no_java(monkeypatch)
    result = run("form", "check", write(tmp_path, "hh.md", CLEAN))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(
        "hh.md (form_id hh, version 3): pyxform converted; ODK Validate SKIPPED"
    )
    assert "checked 1 file(s): 0 error(s), 0 warning(s)" in result.output
    assert "ODK Validate was SKIPPED for 1 file(s): Java not found on PATH" in result.output


def test_check_warnings_only_exits_0_and_strict_exits_1(tmp_path):
    path = write(tmp_path, "hh.md", WARNINGS_ONLY)
    result = run("form", "check", "--no-validate", path)
    assert result.exit_code == 0
    assert "warning L102 hh.md: sheet 'survey' row 7: 'age' has the constraint" in result.output
    assert run("form", "check", "--no-validate", "--strict", path).exit_code == 1


def test_check_error_exits_1_and_pyxform_duplicate_is_dropped(tmp_path):
    result = run("form", "check", "--no-validate", write(tmp_path, "hh.md", BAD_REFERENCE))
    assert result.exit_code == 1
    mentions = [line for line in result.output.splitlines() if "agee" in line]
    assert mentions == [
        "error L130 hh.md: sheet 'survey' row 8: label refers to ${agee}, which is not a "
        "question of this form (did you mean ${age}?)"
    ]


def test_check_several_files_one_bad(tmp_path):
    good = write(tmp_path, "hh.md", CLEAN)
    bad = write(tmp_path, "bad.md", BAD_MARKDOWN["unknown type"][0])
    result = run("form", "check", "--no-validate", good, bad)
    assert result.exit_code == 1
    assert (
        "error P000 bad.md: sheet 'survey' row 3: column 'type': unknown question type 'intger'"
        in result.output
    )
    assert "checked 2 file(s): 1 error(s), 0 warning(s); 1 file(s) with errors" in result.output


def test_check_json(tmp_path):
    result = run(
        "form",
        "check",
        "--no-validate",
        "--format",
        "json",
        write(tmp_path, "hh.md", WARNINGS_ONLY),
    )
    report = json.loads(result.output)
    (entry,) = report["files"]
    assert (entry["form_id"], entry["pyxform"], entry["odk_validate"]) == (
        "hh",
        "converted",
        "not run (--no-validate)",
    )
    assert [(i["code"], i["sheet"], i["row"]) for i in entry["issues"]] == [("L102", "survey", 7)]
    assert report["summary"] == {
        "files": 1,
        "errors": 0,
        "warnings": 1,
        "infos": 0,
        "odk_validate_skipped_no_java": 0,
    }


def test_check_missing_value_codes_and_ignore(tmp_path):
    path = write(tmp_path, "hh.md", CLEAN)
    result = run(
        "form", "check", "--no-validate", "--dont-know-code", "-98", "--refusal-code", "99", path
    )
    assert "list 'yn' codes don't know as 98, but the survey declares -98" in result.output
    assert (
        "warning L112 hh.md: sheet 'choices' row 4: the survey declares the refusal (99) code "
        "but no select list of this form offers a refusal option" in result.output
    )
    quiet = run(
        "form",
        "check",
        "--no-validate",
        "--dont-know-code=-98",
        "--refusal-code=99",
        "--ignore",
        "L111,L112",
        path,
    )
    assert "L111" not in quiet.output and "L112" not in quiet.output


def test_check_reads_missing_value_codes_from_survey_toml(tmp_path):
    config = write(tmp_path, "survey.toml", "[codes]\ndont_know = [-98]\nrefused = [-99]\n")
    path = write(tmp_path, "hh.md", CLEAN)
    result = run("form", "check", "--no-validate", "--config", config, path)
    assert "list 'yn' codes don't know as 98, but the survey declares -98" in result.output
    overridden = run(
        "form", "check", "--no-validate", "--config", config, "--dont-know-code", "98", path
    )
    assert "L111" not in overridden.output
    broken = run(
        "form", "check", "--no-validate", "--config", write(tmp_path, "bad.toml", "[codes"), path
    )
    assert broken.exit_code == 1 and len(broken.output.splitlines()) == 1


@pytest.mark.skipif(
    not java_available() and os.environ.get("CI") != "true",
    reason="Java not on PATH: ODK Validate cannot run (CI=true makes this a failure)",
)
def test_check_runs_odk_validate(tmp_path):
    result = run("form", "check", write(tmp_path, "hh.md", CLEAN))
    assert result.exit_code == 0 and "ODK Validate passed" in result.output


# -- bad input ----------------------------------------------------------------------------
def test_bad_input_through_every_command(tmp_path):
    out = tmp_path / "out"
    for path, place in bad_files(tmp_path):
        for args in (
            ("form", "check", "--no-validate", path),
            ("form", "build", "--no-validate", path, "-o", out),
            ("form", "codebook", path),
        ):
            result = run(*args)
            assert result.exit_code == 1, (args, result.output)
            assert "Traceback" not in result.output
            assert result.exception is None or isinstance(result.exception, SystemExit)
            error_lines = [line for line in result.output.splitlines() if path.name in line]
            assert len(error_lines) == 1, (args, result.output)
            line = error_lines[0].replace("' row", "', row").replace(": column", ", column")
            assert place in line, (args, error_lines)
        assert not out.exists()


def test_bad_input_in_a_real_process(tmp_path):
    path, _ = bad_files(tmp_path)[2]  # unknown type
    popsurvey = Path(sys.executable).with_name("popsurvey")
    out = tmp_path / "out"
    done = subprocess.run(
        [str(popsurvey), "form", "build", str(path), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert (
        done.stderr
        == f"Error: {path.name}: sheet 'survey', row 3, column 'type': unknown question type 'intger'\n"
    )
    assert not out.exists()


def test_pyxform_conversion_error_is_one_line_with_the_row(tmp_path):
    markdown = "| survey |\n| | type | name | label | parameters |\n| | text | a | A | |\n| | audit | audit | | location-priority=balanced |\n"
    path = write(tmp_path, "audit.md", markdown)
    result = run("form", "build", "--no-validate", path, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: audit.md: sheet 'survey', row 3: pyxform: To include location"
    )
    assert len(result.output.splitlines()) == 1 and not (tmp_path / "out").exists()


# -- build --------------------------------------------------------------------------------
def test_build_writes_xform_model_and_codebooks(tmp_path, monkeypatch):
    no_java(monkeypatch)
    path = write(tmp_path, "hh.md", CLEAN)
    out = tmp_path / "deep" / "out"
    result = run(
        "form", "build", path, "-o", out, "--codebook-format", "md", "--codebook-format", "xlsx"
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "hh.codebook.md",
        "hh.codebook.xlsx",
        "hh.formmodel.json",
        "hh.xml",
    ]
    assert "ODK Validate was SKIPPED: Java not found on PATH" in result.output
    assert FormModel.from_json((out / "hh.formmodel.json").read_text("utf-8")) == read_form(path)
    assert "<h:html" in (out / "hh.xml").read_text("utf-8")
    assert "folic" in (out / "hh.codebook.md").read_text("utf-8")
    assert (out / "hh.codebook.xlsx").read_bytes()[:2] == b"PK"
    assert not [p for p in (tmp_path / "deep").iterdir() if p.name.startswith(".popsurvey")]


def test_build_writes_itemsets_for_external_choices(tmp_path):
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
    out = tmp_path / "out"
    result = run("form", "build", "--no-validate", write(tmp_path, "ext.md", markdown), "-o", out)
    assert result.exit_code == 0, result.output
    assert "Aba" in (out / "ext-media" / "itemsets.csv").read_text("utf-8")


def test_build_refuses_lint_errors_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run(
        "form", "build", "--no-validate", write(tmp_path, "hh.md", DUPLICATE_IN_GROUPS), "-o", out
    )
    assert result.exit_code == 1
    assert "error L122 hh.md: sheet 'survey' row 9" in result.output
    assert "1 lint error(s); nothing written" in result.output
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_build_several_forms_all_or_nothing(tmp_path):
    good = write(tmp_path, "hh.md", CLEAN)
    other = write(tmp_path, "hh2.md", CLEAN.replace("| | hh | 3 |", "| | hh2 | 3 |"))
    out = tmp_path / "out"
    bad = write(tmp_path, "bad.md", BAD_MARKDOWN["unknown type"][0])
    failed = run("form", "build", "--no-validate", good, bad, "-o", out)
    assert failed.exit_code == 1 and "bad.md" in failed.output and not out.exists()
    same_id = run("form", "build", "--no-validate", good, good, "-o", out)
    assert same_id.exit_code == 1 and "form_id 'hh'" in same_id.output and not out.exists()
    result = run("form", "build", "--no-validate", good, other, "-o", out)
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {
        f"{stem}.{suffix}"
        for stem in ("hh", "hh2")
        for suffix in ("xml", "formmodel.json", "codebook.md")
    }


def test_build_counts_warnings(tmp_path):
    result = run(
        "form",
        "build",
        "--no-validate",
        write(tmp_path, "hh.md", WARNINGS_ONLY),
        "-o",
        tmp_path / "o",
    )
    assert result.exit_code == 0
    assert "1 warning(s); run `popsurvey form check" in result.output


# -- codebook -----------------------------------------------------------------------------
def test_codebook_to_stdout_and_file(tmp_path):
    path = write(tmp_path, "hh.md", CLEAN)
    result = run("form", "codebook", path)
    assert result.exit_code == 0 and "folic" in result.output
    html = run("form", "codebook", path, "--format", "html", "-o", tmp_path / "cb.html")
    assert html.exit_code == 0 and "<html" in (tmp_path / "cb.html").read_text("utf-8").lower()
    xlsx = run("form", "codebook", path, "--format", "xlsx", "-o", tmp_path / "cb.xlsx")
    assert xlsx.exit_code == 0 and (tmp_path / "cb.xlsx").read_bytes()[:2] == b"PK"


def test_codebook_language_choice(tmp_path):
    markdown = """
| survey |
| | type | name | label::English (en) | label::中文 (zh) |
| | integer | age | Age in years | 年龄 |
"""
    path = write(tmp_path, "bi.md", markdown)
    assert "年龄" in run("form", "codebook", path, "--lang", "zh").output
    assert "Age in years" in run("form", "codebook", path, "--lang", "en").output
    unknown = run("form", "codebook", path, "--lang", "fr")
    assert (
        unknown.exit_code == 1 and len(unknown.output.splitlines()) == 1 and "fr" in unknown.output
    )


def test_codebook_xlsx_needs_an_output(tmp_path):
    result = run("form", "codebook", write(tmp_path, "hh.md", CLEAN), "--format", "xlsx")
    assert result.exit_code == 2 and "--format xlsx needs -o PATH" in result.output


def test_every_command_has_help():
    for command in ("check", "build", "codebook"):
        result = run("form", command, "--help")
        assert result.exit_code == 0 and len(result.output.splitlines()) > 5
