# ruff: noqa: E501
"""The interpreter looks up ``item[column = key]`` predicates and ``column = ${ref}`` choice
filters in an index of the secondary instance instead of walking every item: the results
(values, "not evaluated" reasons) are those of the walk, for text, number and boolean keys,
missing columns, duplicate rows and keys that cannot be evaluated."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forms.logic
import forms.xpath.interpreter as interpreter
from forms import read_markdown
from forms.frames import frames_to_submissions, random_frames
from forms.logic import FormLogic

TODAY = date(2024, 7, 1)

FORM_MD = """
| survey |                      |         |       |                                                                      |                                                                    |                                                        |                    |
|        | type                 | name    | label | constraint                                                           | calculation                                                        | choice_filter                                          | relevant           |
|        | text                 | enum    | E     | count(instance('hh')/root/item[enumerator = current()]) > 0          |                                                                    |                                                        |                    |
|        | integer              | code    | C     | count(instance('hh')/root/item[code = current()]) = 1                |                                                                    |                                                        |                    |
|        | select_one_from_file hh.csv | hh | H   |                                                                      |                                                                    | enumerator = ${enum}                                   |                    |
|        | calculate            | size    |       |                                                                      | instance('hh')/root/item[name = ${hh}]/size                        |                                                        |                    |
|        | calculate            | nocol   |       |                                                                      | count(instance('hh')/root/item[nosuch = ${enum}])                  |                                                        |                    |
|        | calculate            | both    |       |                                                                      | instance('hh')/root/item[enumerator = ${enum}][code = ${code}]/name |                                                        |                    |
|        | select_one region    | region  | R     |                                                                      |                                                                    | zone = ${enum} or zone = ''                            |                    |
|        | select_one town      | town    | T     |                                                                      |                                                                    | region = ${region}                                     |                    |
|        | select_one numeric   | numeric | N     |                                                                      |                                                                    | level = ${code}                                        |                    |
|        | begin_repeat         | kids    | K     |                                                                      |                                                                    |                                                        |                    |
|        | text                 | kname   | KN    | count(instance('hh')/root/item[name = ${hh}][enumerator = current()]) >= 0 |                                                              |                                                        |                    |
|        | select_one town      | ktown   | KT    |                                                                      |                                                                    | region = ${region}                                     |                    |
|        | end_repeat           |         |       |                                                                      |                                                                    |                                                        |                    |
| choices |           |      |       |       |       |
|         | list_name | name | label | zone  | region | level |
|         | region    | n    | North | e1    |        |       |
|         | region    | s    | South | e2    |        |       |
|         | region    | w    | West  |       |        |       |
|         | town      | t1   | T1    |       | n      |       |
|         | town      | t2   | T2    |       | s      |       |
|         | town      | t3   | T3    |       | n      |       |
|         | numeric   | a    | A     |       |        | 1     |
|         | numeric   | b    | B     |       |        | 01    |
|         | numeric   | c    | C     |       |        | 2     |
"""

HH_ROWS = [
    {"name": "h1", "enumerator": "e1", "code": "1", "size": "3"},
    {"name": "h2", "enumerator": "e1", "code": "02", "size": "1"},
    {"name": "h3", "enumerator": "e2", "code": " 3", "size": "5"},
    {"name": "dup", "enumerator": "e2", "code": "4", "size": "2"},
    {"name": "dup", "enumerator": "e3", "code": "x", "size": "4"},
    {"name": "", "enumerator": "", "code": "", "size": ""},
]
POOLS = {
    "enum": ["e1", "e2", "e3", "e9", "", "1"],
    "hh": ["h1", "h2", "h3", "dup", "zz"],
    "region": ["n", "s", "w", "zz"],
    "kname": ["e1", "e2", "x"],
}


@pytest.fixture(scope="module")
def form():
    return read_markdown(FORM_MD)


def _walked(monkeypatch):
    """Turn the index off: every predicate and filter is evaluated item by item."""
    monkeypatch.setattr(interpreter, "indexed_children", lambda *args: None)
    monkeypatch.setattr(forms.logic, "indexed_children", lambda *args: None)


def _checks(form, submissions, attachments):
    logic = FormLogic(form, attachments=attachments)
    return [logic.check(s, today=TODAY).to_dict() for s in submissions]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 25), empty=st.floats(0.0, 0.5))
def test_indexed_lookups_equal_the_walk(form, seed, n, empty):
    frames = random_frames(form, n, seed=seed, empty_rate=empty, text_pools=POOLS, pool_rate=0.8)
    submissions = frames_to_submissions(frames)
    attachments = {"hh.csv": HH_ROWS}
    indexed = _checks(form, submissions, attachments)
    with pytest.MonkeyPatch.context() as patch:
        _walked(patch)
        walked = _checks(form, submissions, attachments)
    assert indexed == walked


def test_index_is_used_and_agrees_by_hand(form, monkeypatch):
    calls = []
    original = interpreter._build_index

    def counting(*args):
        calls.append(args[1:])
        return original(*args)

    monkeypatch.setattr(interpreter, "_build_index", counting)
    logic = FormLogic(form, attachments={"hh.csv": HH_ROWS})
    submission = {
        "__id": "uuid:1",
        "enum": "e2",
        "code": 4,
        "hh": "dup",
        "region": "n",
        "town": "t2",
        "numeric": "b",
        "kids": [{"kname": "e2", "ktown": "t3"}],
    }
    check = logic.check(submission, today=TODAY)
    assert check.result("hh").choices_offered == ("h3", "dup")
    assert check.result("town").answer_not_offered == ("t2",)
    assert check.result("ktown", 1).choices_offered == ("t1", "t3")
    # a number key compares numbers: level 1 and 01 both equal 1 -> the walk decides
    assert logic.check({**submission, "code": 1}, today=TODAY).result(
        "numeric"
    ).choices_offered == ("a", "b")
    # two items named dup: the lookup's value is "repeated field", as the walk says
    assert any("repeated field" in r for r in check.result("size").not_evaluated)
    # built once per (list, column), not once per submission
    logic.check(submission, today=TODAY)
    assert len(calls) == len(set(calls))
    assert (None, "enumerator") in calls and ("item", "name") in calls


def test_zero_items_never_evaluate_the_key(form):
    logic = FormLogic(form, attachments={"hh.csv": []})
    check = logic.check({"__id": "uuid:1", "enum": "e1", "hh": "h1"}, today=TODAY)
    assert check.result("hh").choices_offered == ()
    assert check.result("enum").constraint_ok is False
