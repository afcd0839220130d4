"""check_submission and the FormLogic evaluator on a realistic household form."""

from __future__ import annotations

from datetime import date

import pytest
from forms_fixtures import HOUSEHOLD_MD, household_submission

from forms import read_markdown
from forms.logic import FormLogic, check_submission
from forms.xpath import EvaluationError

TODAY = date(2024, 7, 1)


@pytest.fixture(scope="module")
def form():
    return read_markdown(HOUSEHOLD_MD)


def codes(check):
    return sorted((i.code, i.variable) for i in check.violations())


def test_valid_submission_has_no_violations(form):
    check = check_submission(form, household_submission(), today=TODAY)
    assert codes(check) == []
    assert check.instance_id == "uuid:0001"
    assert check.result("mschool", 1).relevant is False  # 40 years old
    assert check.result("mschool", 2).relevant is True
    assert check.result("city").choices_offered == ("1101", "1102")
    assert check.result("mage", (2,)).instance_path == "/data/member[2]/mage"


def test_violations_carry_codes_instance_and_enumerator(form):
    sub = household_submission(hhsize=25, city="4401", nadults="3")
    sub["member"][0]["mage"] = 150
    sub["member"][1]["mname"] = None
    sub["mig"] = {**sub["mig"], "reason_other": "x", "reasons": "none work"}
    check = check_submission(form, sub, today=TODAY)
    assert codes(check) == [
        ("X101", "hhsize"),
        ("X101", "mage"),
        ("X101", "reasons"),
        ("X102", "mname"),
        ("X103", "income"),  # 'none' among the reasons makes income not relevant
        ("X103", "reason_other"),
        ("X104", "nadults"),
        ("X104", "totage"),
        ("X105", "city"),
    ]
    issue = next(i for i in check.violations() if i.code == "X101")
    assert issue.instance_id == "uuid:0001" and issue.enumerator == "enum01"
    assert check.result("mage", 1).constraint_ok is False
    assert check.result("nadults").calculation_mismatch == ("3", "1")


def test_non_relevant_group_hides_its_questions(form):
    sub = household_submission(hhsize=0)
    check = check_submission(form, sub, today=TODAY)
    assert check.result("income").relevant is False
    # answered although the group is not relevant
    assert ("X103", "income") in codes(check)
    # a non-relevant answer reads as empty: months_here's inputs are "" -> NaN
    assert check.result("stay_years").relevant is False


def test_required_only_when_relevant(form):
    sub = household_submission()
    sub["mig"] = {**sub["mig"], "reasons": "other", "reason_other": None}
    check = check_submission(form, sub, today=TODAY)
    assert check.result("reason_other").required_missing is True
    sub["mig"]["reasons"] = "work"
    assert check_submission(form, sub, today=TODAY).result("reason_other").required_missing is False


def test_unknown_function_is_not_evaluated_never_passed():
    form = read_markdown("""
| survey |         |      |       |                          |
|        | type    | name | label | constraint               |
|        | integer | a    | A     | pulldata('x', 'y', 'z', .) = 1 |
""")
    check = check_submission(form, {"__id": "u1", "a": 3}, today=TODAY)
    result = check.result("a")
    assert result.constraint_ok is None
    assert result.not_evaluated == ("constraint: function 'pulldata()' is not implemented",)
    assert [i.code for i in check.violations()] == ["X199"]


def test_type_error_is_not_evaluated():
    form = read_markdown("""
| survey |         |      |       |                    |
|        | type    | name | label | relevant           |
|        | integer | a    | A     |                    |
|        | text    | b    | B     | selected(${a}, '1') |
""")
    check = check_submission(form, {"__id": "u1", "a": 1, "b": "x"}, today=TODAY)
    assert check.result("b").relevant is True
    assert "relevant" in check.result("b").not_evaluated[0]


def test_repeat_count_mismatch():
    form = read_markdown("""
| survey |              |      |       |              |
|        | type         | name | label | repeat_count |
|        | integer      | n    | N     |              |
|        | begin_repeat | p    | P     | ${n}         |
|        | text         | pn   | Name  |              |
|        | end_repeat   |      |       |              |
""")
    check = check_submission(form, {"__id": "u", "n": 3, "p": [{"pn": "a"}]}, today=TODAY)
    assert [(i.code, i.variable) for i in check.violations()] == [("X106", "p")]
    assert check.result("p").calculation_mismatch == ("1", "3")


def test_form_logic_for_the_simulator(form):
    logic = FormLogic(form)
    partial = {"hhsize": 3, "member": [{"mage": 10}], "mig": {"reasons": "other"}}
    assert logic.is_relevant("mschool", partial, (1,)) is True
    assert logic.is_relevant("reason_other", partial) is True
    assert logic.is_relevant("mschool", partial, (2,)) is False  # a new, empty member
    assert logic.is_required("hhid", partial) is True
    assert logic.constraint_ok("hhsize", 25, partial) is False
    assert logic.constraint_ok("hhsize", 4, partial) is True
    assert logic.constraint_ok("hhsize", None, partial) is None
    assert logic.choices("city", {"province": "44"}) == ("4401", "4403")
    assert logic.calculate("totage", {"member": [{"mage": 10}, {"mage": 32}]}) == "42"
    assert logic.calculate("mpos", {"member": [{}, {}]}, (2,)) == "2"
    assert logic.repeat_count("member", partial) is None
    with pytest.raises(EvaluationError):
        logic.is_relevant("mage", partial)  # which member?


def test_session_fills_a_submission_incrementally(form):
    logic = FormLogic(form)
    session = logic.session(today=TODAY)
    session.set("province", "44")
    assert session.choices_of("city") == ("4401", "4403")
    session.set("city", "4403")
    session.set("hhsize", 2)
    assert session.constraint_ok("hhsize", 30) is False
    assert session.to_odata()["hhsize"] == 2  # a candidate value is not kept
    session.set("mage", 8, (1,))
    assert session.is_relevant("mschool", (1,)) is True
    session.set("mage", 30, (1,))
    assert session.is_relevant("mschool", (1,)) is False  # memo dropped on set()
    session.set("mage", 20, (2,))
    assert session.calculate("totage") == "50"
    assert session.calculate("mpos", (2,)) == "2"
    session.set("reasons", "work other")
    assert session.is_relevant("reason_other") is True
    session.set(
        "gps",
        {"type": "Point", "coordinates": [116.4, 39.9, 50.0], "properties": {"accuracy": 5.0}},
    )
    data = session.to_odata()
    assert data["member"] == [
        {"mname": None, "msex": None, "mage": 30, "mrel": None, "mschool": None, "mpos": None},
        {"mname": None, "msex": None, "mage": 20, "mrel": None, "mschool": None, "mpos": None},
    ]
    assert data["mig"]["reasons"] == "work other"
    assert data["gps"] == {
        "type": "Point",
        "coordinates": [116.4, 39.9, 50.0],
        "properties": {"accuracy": 5.0},
    }
    # what the session built checks like any submission
    check = logic.check(data, today=TODAY)
    assert check.result("mage", 1).value == "30"


CALCULATIONS_MD = """
| survey |           |       |       |                   |
|        | type      | name  | label | calculation       |
|        | integer   | a     | A     |                   |
|        | integer   | b     | B     |                   |
|        | calculate | ratio |       | ${a} div ${b}     |
|        | calculate | big   |       | ${a} > 3          |
|        | calculate | total |       | ${a} * 1000000000 |
|        | calculate | third |       | ${a} div 3        |
"""


@pytest.mark.parametrize(
    ("b", "stored"),
    [
        # JavaRosa stores a NaN result as empty, a boolean as 1/0 (Enketo: true/false),
        # a whole number without decimals even beyond int range, others as Double.toString
        (None, {"ratio": None, "big": "1", "total": "5000000000", "third": "1.6666666666666667"}),
        (None, {"ratio": "", "big": "true", "total": "5000000000", "third": "1.6666666666666667"}),
        (2, {"ratio": "2.5", "big": "1", "total": "5000000000", "third": "1.6666666666666667"}),
    ],
)
def test_stored_calculations_as_odk_collect_writes_them(b, stored):
    form = read_markdown(CALCULATIONS_MD)
    check = check_submission(form, {"__id": "uuid:c", "a": 5, "b": b, **stored})
    assert codes(check) == []
    assert FormLogic(form).calculate("ratio", {"a": 5, "b": None}) == ""
    assert FormLogic(form).calculate("big", {"a": 5}) == "1"


def test_stored_calculation_that_differs_is_still_reported():
    form = read_markdown(CALCULATIONS_MD)
    sub = {"__id": "uuid:c", "a": 5, "b": None, "ratio": "NaN", "big": "0", "total": "5.0E9"}
    assert codes(check_submission(form, sub)) == [
        ("X104", "big"),
        ("X104", "ratio"),
        ("X104", "third"),
        ("X104", "total"),
    ]


DATE_CALCULATIONS_MD = """
| survey |           |       |       |                                         |
|        | type      | name  | label | calculation                             |
|        | date      | d     | D     |                                         |
|        | calculate | next  |       | date(${d} + 1)                          |
|        | calculate | noon  |       | date-time(decimal-date-time(${d}) + 0.5) |
"""


@pytest.mark.parametrize(
    ("next_day", "noon", "expected"),
    [
        # Collect stores a Date result of a string calculation as a full dateTime
        ("2024-02-01T00:00:00.000+08:00", "2024-01-31T12:00:00.000Z", []),
        ("2024-02-01", "2024-01-31T20:00:00.000+08:00", []),
        ("2024-02-02T00:00:00.000+08:00", "2024-01-31T13:00:00.000Z", ["next", "noon"]),
    ],
)
def test_stored_date_calculations(next_day, noon, expected):
    form = read_markdown(DATE_CALCULATIONS_MD)
    sub = {"__id": "uuid:d", "d": "2024-01-31", "next": next_day, "noon": noon}
    assert [name for _, name in codes(check_submission(form, sub))] == expected
