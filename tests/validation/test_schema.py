# ruff: noqa: E501
"""The JSON Schema of a form's submissions: every rule, checked by jsonschema and by the
column-wise path, issue by issue."""

from __future__ import annotations

import copy
from datetime import date

import jsonschema
import pytest
from fixtures import SURVEY_V1, SURVEY_V2, valid_submission

from forms import read_markdown
from validation.reference import issue_key, reference_issues
from validation.schema import submission_schema, validator
from validation.validate import validate_records

TODAY = date(2024, 7, 1)


@pytest.fixture(scope="module")
def form():
    return read_markdown(SURVEY_V1)


def _both(form, record):
    bulk = validate_records(form, [record], today=TODAY)
    reference = reference_issues(form, [record], today=TODAY)
    assert {issue_key(i) for i in bulk} == {issue_key(i) for i in reference}
    return {(i.code, i.variable) for i in bulk}


def test_schema_is_valid_draft_2020_12(form):
    schema = submission_schema(form)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    props = schema["properties"]
    assert props["hhsize"]["type"] == "integer"  # required: not nullable
    assert props["dwelling"]["properties"]["rent"]["type"] == ["number", "null"]
    assert props["province"]["enum"] == ["11", "44"]
    assert props["dwelling"]["properties"]["amenities"]["pattern"].startswith("^(")
    assert props["member"]["type"] == "array"
    child = props["member"]["items"]["properties"]["child"]["items"]
    # required, but its repeat has a relevance: not unconditionally required
    assert child["properties"]["kage"]["type"] == ["integer", "null"]
    assert "required" not in child
    assert "mname" in props["member"]["items"]["required"]
    assert props["visit"]["format"] == "date"
    assert props["start"]["format"] == "date-time"
    assert {"__id", "__system", "meta"} <= set(props)
    assert schema["required"][0] == "__id"
    assert schema["additionalProperties"] is False


def test_valid_submission_has_no_issue(form):
    assert list(validator(form).iter_errors(valid_submission())) == []
    assert _both(form, valid_submission()) == set()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.update(hhsize="2"), ("V101", "/data/hhsize")),
        (lambda r: r.update(hhsize=2.5), ("V101", "/data/hhsize")),
        (lambda r: r.update(hhsize=True), ("V101", "/data/hhsize")),
        (lambda r: r.update(hhsize=None), ("V105", "/data/hhsize")),
        (lambda r: r.pop("hhsize"), ("V105", "/data/hhsize")),
        (lambda r: r.update(province="99"), ("V102", "/data/province")),
        (lambda r: r.update(province=11), ("V102", "/data/province")),
        (
            lambda r: r["dwelling"].update(amenities="water  toilet"),
            ("V103", "/data/dwelling/amenities"),
        ),
        (
            lambda r: r["dwelling"].update(amenities="water pool"),
            ("V103", "/data/dwelling/amenities"),
        ),
        (lambda r: r.update(visit="15/06/2024"), ("V103", "/data/visit")),
        (lambda r: r.update(visit="2024-02-30"), ("V104", "/data/visit")),
        (lambda r: r.update(appointment="2024-06-15T09:00:00"), ("V103", "/data/appointment")),
        (lambda r: r.update(visit_time="25:00:00"), ("V104", "/data/visit_time")),
        (
            lambda r: r["dwelling"].update(gps={"type": "Point", "coordinates": [200, 1]}),
            ("V107", "/data/dwelling/gps"),
        ),
        (lambda r: r["dwelling"].update(gps="39.9 116.4 0 5"), ("V101", "/data/dwelling/gps")),
        (lambda r: r.update(bogus=1), ("V106", "/data/bogus")),
        (
            lambda r: r["member"][0]["child"][0].update(kage="three"),
            ("V101", "/data/member[1]/child[1]/kage"),
        ),
        (lambda r: r["member"][1].pop("mname"), ("V105", "/data/member[2]/mname")),
        (lambda r: r["member"][1].update(extra="x"), ("V106", "/data/member[2]/extra")),
        (lambda r: r.update(member={"mname": "x"}), ("V101", "/data/member")),
        (lambda r: r["member"].append(7), ("V101", "/data/member[3]")),
        (lambda r: r.update(dwelling=None), ("V105", "/data/dwelling")),
        (lambda r: r.update(dwelling=[1]), ("V101", "/data/dwelling")),
        (lambda r: r.pop("__id"), ("V105", "/data/__id")),
        (
            lambda r: r["__system"].update(reviewState="maybe"),
            ("V102", "/data/__system/reviewState"),
        ),
        (lambda r: r["meta"].update(other=1), ("V106", "/data/meta/other")),
    ],
)
def test_each_schema_rule(form, change, expected):
    record = copy.deepcopy(valid_submission())
    change(record)
    assert expected in _both(form, record)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.update(hhsize=30), ("X101", "/data/hhsize")),
        (lambda r: r["member"][0].update(mname=None), ("X102", "/data/member[1]/mname")),
        (
            lambda r: r["dwelling"].update(rent=5.0) or r.update(hhsize=1, member=r["member"][:1]),
            ("X103", "/data/dwelling/rent"),
        ),
        (lambda r: r.update(nmembers="5"), ("X104", "/data/nmembers")),
        (lambda r: r.update(city="4401"), ("X105", "/data/city")),
        (lambda r: r.update(hhsize=3), ("X106", "/data/member")),
        (lambda r: r["member"][0].update(nkids=2), ("X106", "/data/member[1]/child")),
        (
            lambda r: r["member"][0]["child"][0].update(kbirth="2025-01-01"),
            ("X101", "/data/member[1]/child[1]/kbirth"),
        ),
        (lambda r: r.update(member="oops"), ("X199", "/data/member")),
        (
            lambda r: r.pop("member") and r.update({"member@odata.navigationLink": "x"}),
            ("X199", "/data/member"),
        ),
    ],
)
def test_each_logic_code(form, change, expected):
    record = copy.deepcopy(valid_submission())
    change(record)
    assert expected in _both(form, record)


def test_field_added_in_a_later_version():
    v1, v2 = read_markdown(SURVEY_V1), read_markdown(SURVEY_V2)
    record = valid_submission(phone="13800000000")
    assert ("V106", "/data/phone") in _both(v1, record)
    assert _both(v2, record) == set()
    assert "phone" in submission_schema(v2)["properties"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.update(hhsize=30), ("X101", "/data/hhsize", "30")),
        (lambda r: r["member"][0].update(mname=None), ("X102", "/data/member[1]/mname", None)),
        (
            lambda r: r["dwelling"].update(rent=5.0) or r.update(hhsize=1, member=r["member"][:1]),
            ("X103", "/data/dwelling/rent", "5.0"),
        ),
        (lambda r: r.update(nmembers="5"), ("X104", "/data/nmembers", "5")),
        (lambda r: r.update(city="4401"), ("X105", "/data/city", "4401")),
        (lambda r: r.update(hhsize=3), ("X106", "/data/member", "2")),
        (
            lambda r: r["member"][0]["child"][0].update(kbirth="2025-01-01"),
            ("X101", "/data/member[1]/child[1]/kbirth", "2025-01-01"),
        ),
    ],
)
def test_logic_issues_carry_the_stored_value_in_both_paths(form, change, expected):
    record = copy.deepcopy(valid_submission())
    change(record)
    bulk = validate_records(form, [record], today=TODAY)
    reference = reference_issues(form, [record], today=TODAY)
    assert {issue_key(i) for i in bulk} == {issue_key(i) for i in reference}
    assert expected in {(i.code, i.variable, i.value) for i in bulk}


UNREADABLE_MD = """
| survey |             |      |       |                                                  |                                          |
|        | type        | name | label | relevant                                         | constraint                               |
|        | integer     | n    | N     |                                                  |                                          |
|        | begin_group | g    | G     | count(instance('absent')/root/item) > 0 or ${n} > 1 |                                       |
|        | integer     | x    | X     |                                                  | count(instance('absent')/root/item) > 0  |
|        | end_group   |      |       |                                                  |                                          |
"""


def test_each_reason_not_evaluated_is_an_issue_of_its_own():
    form = read_markdown(UNREADABLE_MD)
    record = {"__id": "uuid:1", "n": 1, "g": {"x": 4}}
    bulk = validate_records(form, [record], today=TODAY)
    reference = reference_issues(form, [record], today=TODAY)
    assert {issue_key(i) for i in bulk} == {issue_key(i) for i in reference}
    reasons = sorted(i.message for i in bulk if i.code == "X199" and i.variable == "/data/g/x")
    assert len(reasons) == 2
    assert reasons[0].startswith("not evaluated: constraint: instance('absent')")
    assert reasons[1].startswith("not evaluated: g: relevant: instance('absent')")
