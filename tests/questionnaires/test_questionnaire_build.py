"""The bundled questionnaires: current with their sources, deployable, and following
CONVENTIONS.md (bilingual, integer codes, ranges with messages, names, metadata, sample)."""

from __future__ import annotations

import csv
import os
import re

import pytest

from forms import FormsError, read_form
from forms.check import check_form
from forms.compile import ValidateStatus, java_available
from forms.lint import LintOptions
from forms.questionnaires import NAMES, bundled_questionnaire, sample_list
from forms.questionnaires.authoring import EN, ZH, sentinels
from forms.questionnaires.build import SOURCES, main, stale_files, workbook_bytes, xlsx_path
from forms.questionnaires.common import SAMPLE_COLUMNS

requires_java = pytest.mark.skipif(
    not java_available() and os.environ.get("CI") != "true",
    reason="Java not on PATH: ODK Validate cannot run (CI=true makes this a failure)",
)
TEXT_COLUMNS = ("label", "hint", "constraint_message", "required_message")


@pytest.fixture(scope="module", params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def form(name: str):  # type: ignore[no-untyped-def]
    return read_form(bundled_questionnaire(name))


def test_committed_workbook_matches_its_source(name: str) -> None:
    generated = read_form(workbook_bytes(SOURCES[name]()), name=f"{name}.xlsx")
    committed = read_form(xlsx_path(name))
    assert committed.to_dict() == generated.to_dict(), (
        f"{name}.xlsx is stale: run python -m forms.questionnaires.build"
    )


def test_workbooks_are_deterministic_and_current() -> None:
    spec = SOURCES["fertility"]()
    assert workbook_bytes(spec) == workbook_bytes(SOURCES["fertility"]())
    assert stale_files(codebooks=False) == []


def test_codebooks_are_current() -> None:
    stale = [p for p in stale_files(codebooks=True) if p.suffix == ".md"]
    assert stale == [], "run python -m forms.questionnaires.build --codebooks"


def test_build_check_command_reports_stale_files(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--check"]) == 0
    import forms.questionnaires.build as build

    committed = xlsx_path("migrants").read_bytes()
    monkeypatch.setattr(build, "HERE", tmp_path)
    monkeypatch.setattr(build, "REPO", tmp_path)
    assert main(["--check"]) == 1
    assert "stale: fertility.xlsx" in capsys.readouterr().err
    assert main([]) == 0
    assert main(["--check"]) == 0
    assert (tmp_path / "migrants.xlsx").read_bytes() == committed


def test_bundled_questionnaire_paths() -> None:
    for name in NAMES:
        assert bundled_questionnaire(name).is_file()
    with pytest.raises(FormsError, match="no bundled questionnaire 'census'"):
        bundled_questionnaire("census")


@requires_java
def test_form_check_passes_with_no_errors_or_warnings(name: str) -> None:
    options = LintOptions(dont_know_codes=("98",), refusal_codes=("99",))
    result = check_form(bundled_questionnaire(name), options=options)
    assert result.converted
    assert result.validate is ValidateStatus.PASSED
    problems = [i.one_line() for i in result.issues if i.severity != "info"]
    assert problems == []
    # the only info left is the one CONVENTIONS.md explains (multiplicity has no 98/99)
    for issue in result.issues:
        assert issue.code == "L112" and "'multiplicity'" in issue.message, issue.one_line()


@requires_java
def test_pyxform_converts_and_odk_validate_passes(name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pyxform.xls2xform import convert

    result = convert(xlsform=str(bundled_questionnaire(name)), validate=True)
    assert result.warnings == []
    assert 'instance id="households" src="jr://file-csv/households.csv"' in result.xform


@requires_java
def test_popsurvey_form_check_passes_both() -> None:
    from click.testing import CliRunner

    from surveys.cli import main as cli

    paths = [str(bundled_questionnaire(name)) for name in NAMES]
    args = ["form", "check", *paths, "--dont-know-code", "98", "--refusal-code", "99"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "ODK Validate passed" in result.output
    assert "0 error(s), 0 warning(s)" in result.output.splitlines()[-1]


def test_settings(form) -> None:  # type: ignore[no-untyped-def]
    assert form.default_language == ZH
    assert set(form.languages) == {ZH, EN}
    assert form.version and form.instance_name and "${hhid}" in form.instance_name


def test_every_text_is_bilingual(form) -> None:  # type: ignore[no-untyped-def]
    for element in form.elements:
        for column in TEXT_COLUMNS:
            texts = getattr(element, column)
            if texts:
                assert set(texts) == {ZH, EN}, f"{element.name} {column}: {dict(texts)}"
                assert all(t.strip() for t in texts.values()), element.name
        if element.required and element.type not in ("calculate",):
            assert set(element.required_message) == {ZH, EN}, element.name
        if element.constraint:
            assert set(element.constraint_message) == {ZH, EN}, element.name
    for choice_list in form.choice_lists.values():
        for choice in choice_list.choices:
            assert set(choice.label) == {ZH, EN}, f"{choice_list.name} {choice.name}"


def test_every_code_is_an_integer_with_one_missing_convention(form) -> None:  # type: ignore[no-untyped-def]
    for choice_list in form.choice_lists.values():
        for choice in choice_list.choices:
            assert re.fullmatch(r"\d+", choice.name), f"{choice_list.name}: {choice.name}"
            english = choice.label[EN]
            if english == "Don't know":
                assert choice.name == "98"
            if english == "Refused":
                assert choice.name == "99"
            if choice.name in ("98", "99") and choice_list.name not in ("province",):
                assert english in ("Don't know", "Refused"), f"{choice_list.name} {choice.name}"


def test_every_number_has_a_range_with_a_message(form) -> None:  # type: ignore[no-untyped-def]
    numbers = [q for q in form.questions if q.type in ("integer", "decimal")]
    assert len(numbers) > 10
    for q in numbers:
        assert q.constraint and ". >=" in q.constraint and ". <=" in q.constraint, q.name
        assert set(q.constraint_message) == {ZH, EN}, q.name


def test_sentinels_follow_the_width_rule(form) -> None:  # type: ignore[no-untyped-def]
    for q in (q for q in form.questions if q.type == "integer"):
        declared = re.findall(r"(don't know|refused) = (\d+)", q.constraint_message[EN])
        for kind, value in declared:
            dont_know, refused = sentinels(len(value))
            assert int(value) == (dont_know if kind == "don't know" else refused), q.name
            assert f". = {value}" in q.constraint, q.name


def test_names_are_short_unique_and_prefixed(form) -> None:  # type: ignore[no-untyped-def]
    names = [e.name for e in form.elements]
    assert len(names) == len(set(names))
    design = {
        "start",
        "end",
        "today",
        "deviceid",
        "username",
        "audit",
        *SAMPLE_COLUMNS,
        "result",
        "n_elig",
        "hukou_prov",
    }
    for element in form.elements:
        assert len(element.name) <= 32, element.name
        if element.name not in design:
            assert re.fullmatch(r"[a-jz](\d\d)?_[a-z0-9_]+", element.name), element.name


def test_metadata_audit_and_gps(form) -> None:  # type: ignore[no-untyped-def]
    types = {q.type: q for q in form.questions}
    for kind in ("start", "end", "today", "deviceid", "username", "audit", "geopoint"):
        assert kind in types, kind
    audit = types["audit"].parameters
    assert audit["track-changes"] == "true"
    assert {"location-priority", "location-min-interval", "location-max-age"} <= set(audit)


def test_household_comes_from_the_sample(form) -> None:  # type: ignore[no-untyped-def]
    pick = form["a02_hh"]
    assert pick.type == "select_one_from_file" and pick.file_name == "households.csv"
    assert pick.choice_filter == "enumerator = ${a_enum}"
    for column in ("hhid", "psu", "stratum"):
        assert form[column].calculation == (
            f"instance('households')/root/item[name = ${{a02_hh}}]/{column}"
        )


def test_sample_list_has_the_columns_the_forms_read() -> None:
    with sample_list().open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert {"name", "label", "enumerator", *SAMPLE_COLUMNS} <= set(header)


def test_field_list_pages(form) -> None:  # type: ignore[no-untyped-def]
    pages = [g for g in form.elements if g.is_structure and "field-list" in (g.appearance or "")]
    assert len(pages) >= 6
