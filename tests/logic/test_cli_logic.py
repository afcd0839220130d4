"""``popsurvey form logic`` and the expression lint rules of ``popsurvey form check``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from forms_fixtures import HOUSEHOLD_MD, household_submission

from surveys.cli import main


@pytest.fixture
def files(tmp_path):
    form = tmp_path / "household.md"
    form.write_text(HOUSEHOLD_MD, encoding="utf-8")
    return tmp_path, form


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def test_clean_submission_exits_0(files):
    tmp, form = files
    sub = tmp / "sub.json"
    sub.write_text(json.dumps(household_submission()), encoding="utf-8")
    result = run("form", "logic", form, sub, "--today", "2024-07-01")
    assert result.exit_code == 0, result.output
    assert "0 finding(s)" in result.output


def test_violations_exit_1_with_one_line_each(files):
    tmp, form = files
    sub = tmp / "sub.json"
    sub.write_text(json.dumps(household_submission(hhsize=25)), encoding="utf-8")
    result = run("form", "logic", form, sub, "--today", "2024-07-01")
    assert result.exit_code == 1
    assert "error X101 /data/hhsize: value '25' violates constraint" in result.output


def test_json_output_and_odata_value_list(files):
    tmp, form = files
    sub = tmp / "subs.json"
    payload = {"value": [household_submission(), household_submission(__id="b", hhsize=0)]}
    sub.write_text(json.dumps(payload), encoding="utf-8")
    result = run("form", "logic", form, sub, "--format", "json", "--today", "2024-07-01")
    data = json.loads(result.output)["submissions"]
    assert [d["instance_id"] for d in data] == ["uuid:0001", "uuid:0001"]
    hhsize = next(r for r in data[1]["results"] if r["name"] == "hhsize")
    assert hhsize["constraint_ok"] is False


def test_broken_json_is_one_line_not_a_traceback(files):
    tmp, form = files
    sub = tmp / "bad.json"
    sub.write_text("{not json", encoding="utf-8")
    result = run("form", "logic", form, sub)
    assert result.exit_code == 1
    assert "not valid JSON" in result.output and "Traceback" not in result.output


def test_form_check_reports_bad_expressions(tmp_path):
    form = tmp_path / "bad.md"
    form.write_text(
        """
| survey |         |      |       |                 |
|        | type    | name | label | relevant        |
|        | integer | a    | A     |                 |
|        | integer | b    | B     | ${a} > 3 and (  |
|        | integer | c    | C     | foo(${a}) = 1   |
""",
        encoding="utf-8",
    )
    result = run("form", "check", "--no-validate", form)
    assert result.exit_code == 1
    assert "L140" in result.output and "b: relevant" in result.output
    assert "L141" in result.output and "unknown function 'foo()'" in result.output


def test_form_check_warns_on_odk_functions_popsurvey_cannot_evaluate(tmp_path):
    form = tmp_path / "pull.md"
    form.write_text(
        """
| survey |           |      |       |                                      |
|        | type      | name | label | calculation                          |
|        | integer   | a    | A     |                                      |
|        | calculate | p    |       | pulldata('hh', 'psu', 'hhid', ${a})  |
""",
        encoding="utf-8",
    )
    result = run("form", "check", "--no-validate", "--format", "json", form)
    codes = {i["code"]: i["severity"] for i in json.loads(result.output)["files"][0]["issues"]}
    assert codes.get("L142") == "warning" and "L141" not in codes


SAMPLE_LIST_MD = """
| survey |
| | type | name | label | calculation |
| | select_one_from_file households.csv | hh | HH | |
| | calculate | psu | | instance('households')/root/item[name=${hh}]/psu |
| | integer | n | N | |
"""


def test_attachments_feed_instance_lookups(tmp_path):
    form = tmp_path / "sample.md"
    form.write_text(SAMPLE_LIST_MD, encoding="utf-8")
    households = tmp_path / "households.csv"
    households.write_text("name,label,psu\nh1,House 1,P01\nh2,House 2,P02\n", encoding="utf-8")
    sub = tmp_path / "sub.json"
    sub.write_text(
        json.dumps({"__id": "uuid:1", "hh": "h2", "psu": "P02", "n": 3}), encoding="utf-8"
    )
    without = run("form", "logic", "--format", "json", form, sub)
    with_list = run("form", "logic", "--format", "json", "--attachment", households, form, sub)
    assert with_list.exit_code == 0, with_list.output
    (checked,) = json.loads(with_list.output)["submissions"]
    psu = next(r for r in checked["results"] if r["name"] == "psu")
    assert not psu["not_evaluated"] and not psu["calculation_mismatch"]
    (unchecked,) = json.loads(without.output)["submissions"]
    psu_without = next(r for r in unchecked["results"] if r["name"] == "psu")
    assert psu_without["not_evaluated"] == [
        "calculation: instance('households') is not available (an attached file or entity "
        "list: pass --attachment households.csv)"
    ]
    text = run("form", "logic", "--all", form, sub).output
    assert "pass --attachment households.csv" in text and "FormLogic(" not in text


def test_json_shape_is_the_same_for_one_submission(files):
    tmp, form = files
    sub = tmp / "one.json"
    sub.write_text(json.dumps(household_submission()), encoding="utf-8")
    data = json.loads(run("form", "logic", form, sub, "--format", "json").output)
    assert list(data) == ["submissions"] and len(data["submissions"]) == 1


REPEAT_MD = """
| survey |              |       |       |              |            |
|        | type         | name  | label | repeat_count | constraint |
|        | integer      | n     | N     |              |            |
|        | begin_repeat | kid   | Kid   | ${n}         |            |
|        | integer      | age   | Age   |              | . < 18     |
|        | end_repeat   |       |       |              |            |
|        | time         | t     | T     |              | . > '12:00:00' |
|        | dateTime     | dt    | DT    |              | 1 = 2      |
"""


def test_repeat_count_label_object_repeat_and_full_times(tmp_path):
    form = tmp_path / "rep.md"
    form.write_text(REPEAT_MD, encoding="utf-8")
    sub = tmp_path / "sub.json"
    sub.write_text(
        json.dumps(
            {
                "__id": "uuid:r",
                "n": 2,
                "kid": {"age": 30},  # one object, not a list: one instance
                "t": "10:30:00.000+08:00",
                "dt": "2024-05-01T22:30:00.000+08:00",
            }
        ),
        encoding="utf-8",
    )
    result = run("form", "logic", form, sub)
    assert result.exit_code == 1
    assert "REPEAT COUNT" in result.output
    assert "1 instance(s), repeat_count gives 2" in result.output
    assert "/data/kid[1]/age: value '30' violates constraint" in result.output
    assert "value '2024-05-01T22:30:00.000+08:00' violates" in result.output
    assert "value '10:30:00.000+08:00' violates" in result.output
    assert "1970-01-01" not in result.output


def test_repeat_sent_as_a_number_is_reported(tmp_path):
    form = tmp_path / "rep.md"
    form.write_text(REPEAT_MD, encoding="utf-8")
    sub = tmp_path / "sub.json"
    sub.write_text(json.dumps({"__id": "uuid:r", "n": 0, "kid": 3}), encoding="utf-8")
    result = run("form", "logic", form, sub)
    assert "sends a int for this repeat instead of a list" in result.output


@pytest.mark.parametrize("function", ["floor(${a})", "ceiling(${a})", "last()", "name()"])
def test_form_check_xpath1_functions_javarosa_lacks_are_errors(tmp_path, function):
    # JavaRosa has no floor/ceiling/last/name...: ODK Validate says "cannot handle function"
    form = tmp_path / "xpath1.md"
    form.write_text(
        f"""
| survey |           |      |       |                   |
|        | type      | name | label | calculation       |
|        | integer   | a    | A     |                   |
|        | calculate | c    |       | {function} + 1    |
""",
        encoding="utf-8",
    )
    result = run("form", "check", "--no-validate", "--format", "json", form)
    codes = {i["code"]: i["severity"] for i in json.loads(result.output)["files"][0]["issues"]}
    assert codes.get("L141") == "error" and "L142" not in codes
    assert result.exit_code == 1
