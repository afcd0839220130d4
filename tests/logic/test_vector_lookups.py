# ruff: noqa: E501
"""Lookups into attachments (``instance('hh')/root/item[...]``): compiled as joins over
frames, with the interpreter's results (and its "not evaluated" rows) exactly."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forms import read_markdown
from forms.frames import frames_to_submissions, random_frames, submission_frames
from forms.logic import FormLogic
from forms.xpath.vectorized import VectorLogic, differences, per_record_results

TODAY = date(2024, 7, 1)

LOOKUP_MD = """
| survey |              |            |       |                                                                                           |                                                                                  |
|        | type         | name       | label | relevant                                                                                  | constraint                                                                       |
|        | text         | enum       | E     |                                                                                           | regex(., '^e[0-9]+$') and count(instance('hh')/root/item[enumerator = current()]) > 0 |
|        | integer      | code       | C     |                                                                                           | count(instance('hh')/root/item[code = current()]) = 1 and . < 6                  |
|        | text         | hh         | H     |                                                                                           | instance('hh')/root/item[name = ${hh}]/enumerator = ${enum}                      |
|        | integer      | size       | S     | ${enum} = '' or instance('hh')/root/item[name = ${hh} and enumerator = ${enum}]/size > 2 | . >= instance('hh')/root/item[./name = ${hh}]/size or . = 9                      |
|        | text         | nocol      | N     | instance('hh')/root/item[name = ${hh}]/nosuch = ''                                        | if(. = 'abc', count(instance('hh')/root/item[code = 2]) = 1, true())             |
|        | begin_repeat | kids       | K     |                                                                                           |                                                                                  |
|        | integer      | kage       | A     | count(instance('hh')/root/item[enumerator = ${enum} and code = ${code}]) > 0 or ${kage} > 3 | . < coalesce(instance('hh')/root/item[name = ${hh}]/size, '0') + 10              |
|        | end_repeat   |            |       |                                                                                           |                                                                                  |
"""

HH_ROWS = [
    {"name": "h1", "enumerator": "e1", "code": "1", "size": "3"},
    {"name": "h2", "enumerator": "e1", "code": "02", "size": "1"},
    {"name": "h3", "enumerator": "e2", "code": " 3", "size": "5"},
    {"name": "dup", "enumerator": "e2", "code": "4", "size": "2"},
    {"name": "dup", "enumerator": "e3", "code": "x", "size": "4"},
    {"name": "", "enumerator": "e3", "code": "", "size": ""},
]
POOLS = {"enum": ["e1", "e2", "e3", "e9", "E1"], "hh": ["h1", "h2", "h3", "dup", "zz"]}


@pytest.fixture(scope="module")
def form():
    return read_markdown(LOOKUP_MD)


def _compare(form, attachments, frames):
    submissions = frames_to_submissions(frames)
    frames = submission_frames(form, submissions)
    vector_logic = VectorLogic(form, attachments=attachments)
    vector = vector_logic.evaluate(frames, today=TODAY)
    reference = per_record_results(vector_logic.logic, submissions, today=TODAY)
    return differences(vector, reference), vector


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 40),
    empty=st.floats(0.0, 0.6),
    attached=st.booleans(),
)
def test_lookups_vectorised_equal_interpreter(form, seed, n, empty, attached):
    frames = random_frames(form, n, seed=seed, empty_rate=empty, text_pools=POOLS, pool_rate=0.8)
    attachments = {"hh.csv": HH_ROWS} if attached else {}
    problems, vector = _compare(form, attachments, frames)
    assert problems == []
    assert vector.fallbacks == []  # every lookup is a join, with or without the file


def _one(form, attachments, **answers):
    submission = {"__id": "uuid:1", "enum": None, "code": None, "hh": None, "size": None}
    submission.update(answers)
    frames = submission_frames(form, [submission])
    vector = VectorLogic(form, attachments=attachments).evaluate(frames, today=TODAY)
    reference = per_record_results(
        FormLogic(form, attachments=attachments), [submission], today=TODAY
    )
    assert differences(vector, reference) == []
    assert vector.fallbacks == []
    return vector


def test_lookup_semantics_worked_by_hand(form):
    files = {"hh.csv": HH_ROWS}
    # e3 holds two households, e9 none
    assert _one(form, files, enum="e3").constraint_ok["enum"][0] is True
    assert _one(form, files, enum="e9").constraint_ok["enum"][0] is False
    # a number compares as a number: 2 matches "02", 3 matches " 3", 4 matches "4"
    assert _one(form, files, code=2).constraint_ok["code"][0] is True
    assert _one(form, files, code=3).constraint_ok["code"][0] is True
    assert _one(form, files, code=5).constraint_ok["code"][0] is False
    # a value lookup: h3 belongs to e2
    assert _one(form, files, hh="h3", enum="e2").constraint_ok["hh"][0] is True
    assert _one(form, files, hh="h3", enum="e1").constraint_ok["hh"][0] is False
    # no match: the empty string (h9 has no row; enum empty equals it)
    assert _one(form, files, hh="h9").constraint_ok["hh"][0] is True
    # hh empty matches the item whose name is "" (string equality of "" and ""): it is
    # e3's, with size "" -> NaN > 2 is false, so size is not relevant
    assert not _one(form, files, enum="e3", size=1).relevant["size"][0]
    assert _one(form, files, enum="e2", hh="h3", size=1).relevant["size"][0]  # 5 > 2
    # size >= the household's size (5 for h3)
    assert _one(form, files, enum="e2", hh="h3", size=5).constraint_ok["size"][0] is True
    assert _one(form, files, enum="e2", hh="h3", size=4).constraint_ok["size"][0] is False


def test_several_matches_are_not_evaluated_like_the_interpreter(form):
    vector = _one(form, {"hh.csv": HH_ROWS}, hh="dup", enum="e2")
    assert vector.constraint_ok["hh"][0] is None
    reason = vector.not_evaluated["hh"][0]
    assert reason == (
        "constraint: /root/item/enumerator: a repeated field was used where one value is "
        "expected (2 nodes)"
    )


def test_without_the_attachment_rows_are_not_evaluated_with_short_circuits(form):
    no_files: dict = {}
    # the regex fails, so `and` never reads the instance: a plain violation
    vector = _one(form, no_files, enum="bad code")
    assert vector.constraint_ok["enum"][0] is False
    assert vector.not_evaluated["enum"][0] is None
    # the regex passes: the count needs the file -> not evaluated, never a silent pass
    vector = _one(form, no_files, enum="e1")
    assert vector.constraint_ok["enum"][0] is None
    assert "instance('hh') is not available" in vector.not_evaluated["enum"][0]
    assert vector.not_evaluated["enum"][0].startswith("constraint: ")
    # `or`: ${enum} = '' decides, the lookup is never evaluated
    vector = _one(form, no_files, size=4)
    assert vector.relevant["size"][0]
    assert vector.not_evaluated["size"][0].startswith("constraint: ")  # its constraint needs it
    # otherwise relevance cannot be evaluated: treated as relevant, reason kept
    vector = _one(form, no_files, enum="e1", size=4)
    assert vector.relevant["size"][0]
    assert vector.not_evaluated["size"][0].startswith("relevant: instance('hh')")
    assert "; constraint: instance('hh')" in vector.not_evaluated["size"][0]
    # if(): the untaken branch is not evaluated
    assert _one(form, no_files, nocol="zzz").constraint_ok["nocol"][0] is True
    assert _one(form, no_files, nocol="abc").constraint_ok["nocol"][0] is None


def test_missing_column_reads_empty(form):
    vector = _one(form, {"hh.csv": HH_ROWS}, hh="h1")
    assert vector.relevant["nocol"][0]
    assert np.all(vector.relevant["kids"] == np.array([], dtype=bool))


def test_frame_issues_say_not_evaluated(form):
    submission = {"__id": "uuid:9", "enum": "e1", "code": None, "hh": None, "size": None}
    frames = submission_frames(form, [submission])
    issues = VectorLogic(form).evaluate(frames, today=TODAY).issues(frames)
    x199 = [i for i in issues if i.code == "X199" and i.variable == "enum"]
    assert len(x199) == 1 and x199[0].message.startswith(
        "/data/enum: not evaluated: constraint: instance('hh') is not available"
    )


def test_numbers_match_within_javarosas_tolerance():
    form = read_markdown(
        """
| survey |         |      |       |                                                       |
|        | type    | name | label | constraint                                            |
|        | decimal | x    | X     | count(instance('t')/root/item[v = current() + 0.2]) = 1 |
"""
    )
    rows = {"t.csv": [{"v": "0.3"}, {"v": "7"}]}
    submission = {"__id": "uuid:f", "x": 0.1}  # 0.1 + 0.2 is 0.30000000000000004
    frames = submission_frames(form, [submission])
    vector = VectorLogic(form, attachments=rows).evaluate(frames, today=TODAY)
    reference = per_record_results(FormLogic(form, attachments=rows), [submission], today=TODAY)
    assert differences(vector, reference) == [] and vector.fallbacks == []
    assert vector.constraint_ok["x"][0] is True
