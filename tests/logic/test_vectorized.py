"""Property: the frame-compiled evaluation equals the per-record interpreter."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from forms_fixtures import HOUSEHOLD_MD, household_submission
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forms import read_form, read_markdown
from forms.frames import frames_to_submissions, random_frames, submission_frames
from forms.xpath.vectorized import VectorLogic, differences, per_record_results

MIGRANTS = Path(__file__).resolve().parents[2] / "forms/questionnaires/migrants.xlsx"
TODAY = date(2024, 7, 1)


@pytest.fixture(scope="module")
def household():
    form = read_markdown(HOUSEHOLD_MD)
    return form, VectorLogic(form)


@pytest.fixture(scope="module")
def migrants():
    if not MIGRANTS.exists():
        pytest.skip("forms/questionnaires/migrants.xlsx is not there")
    form = read_form(MIGRANTS)
    return form, VectorLogic(form)


def _same(vector_logic, frames):
    submissions = frames_to_submissions(frames)
    # round trip through the OData shape, as the store would do
    frames = submission_frames(frames.form, submissions)
    vector = vector_logic.evaluate(frames, today=TODAY)
    reference = per_record_results(vector_logic.logic, submissions, today=TODAY)
    return differences(vector, reference), vector


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 40), empty=st.floats(0.0, 0.6))
def test_household_vectorised_equals_interpreter(household, seed, n, empty):
    form, vector_logic = household
    problems, _ = _same(vector_logic, random_frames(form, n, seed=seed, empty_rate=empty))
    assert problems == []


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 30), empty=st.floats(0.0, 0.5))
def test_migrants_vectorised_equals_interpreter(migrants, seed, n, empty):
    form, vector_logic = migrants
    problems, vector = _same(vector_logic, random_frames(form, n, seed=seed, empty_rate=empty))
    assert problems == []
    assert vector.fallbacks == []  # every relevance/constraint/required is compiled


def test_fallback_is_counted_and_identical(household):
    form, vector_logic = household
    frames = submission_frames(form, [household_submission(), household_submission(__id="b")])
    vector = vector_logic.evaluate(frames, today=TODAY, columns=("relevant", "constraint"))
    assert vector.fallbacks == []
    odd = read_markdown(HOUSEHOLD_MD.replace("string-length(.) <= 20", "substr(., 0, 1) != 'x'"))
    odd_logic = VectorLogic(odd)
    odd_frames = submission_frames(odd, [household_submission(), household_submission(__id="b")])
    result = odd_logic.evaluate(odd_frames, today=TODAY)
    assert ("mname", "constraint") in result.fallbacks
    assert result.fallback_records == 2
    reference = per_record_results(odd_logic.logic, frames_to_submissions(odd_frames), today=TODAY)
    assert differences(result, reference) == []


@pytest.fixture(scope="module")
def nested():
    from forms_fixtures import NESTED_MD

    form = read_markdown(NESTED_MD)
    return form, VectorLogic(form)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 25),
    empty=st.floats(0.0, 0.7),
    most=st.integers(0, 4),
)
def test_nested_repeats_vectorised_equals_interpreter(nested, seed, n, empty, most):
    form, vector_logic = nested
    frames = random_frames(form, n, seed=seed, empty_rate=empty, max_repeat=most)
    problems, vector = _same(vector_logic, frames)
    assert problems == []
    # only the substr() constraint is interpreted record by record
    assert vector.fallbacks == [("fallback", "constraint")]


def test_bad_column_types_fall_back_and_stay_identical(household):
    form, vector_logic = household
    submissions = [household_submission(hhsize="many"), household_submission(__id="b")]
    frames = submission_frames(form, submissions)
    result = vector_logic.evaluate(frames, today=TODAY)
    assert ("hhsize", "constraint") in result.fallbacks  # "many" in an integer column
    reference = per_record_results(vector_logic.logic, submissions, today=TODAY)
    assert differences(result, reference) == []
    assert list(result.constraint_ok["hhsize"]) == [False, True]


def test_frame_issues_match_per_submission_violations(nested):
    from forms.logic import FormLogic

    form, vector_logic = nested
    frames = random_frames(form, 30, seed=5, empty_rate=0.3, max_repeat=3)
    submissions = frames_to_submissions(frames)
    vector = vector_logic.evaluate(frames, today=TODAY)
    from_frames = {
        (i.code, i.variable, i.instance_id, i.message.split(":")[0]) for i in vector.issues(frames)
    }
    logic = FormLogic(form)
    from_checks = {
        (i.code, i.variable, i.instance_id, i.message.split(":")[0])
        for s in submissions
        for i in logic.check(s, today=TODAY).violations()
        if i.code in ("X101", "X102", "X103")
    }
    assert from_frames and from_frames == from_checks


MIGRANT_HOUSEHOLDS = [
    {"name": f"hh-{k}-{j}", "enumerator": f"e{k:03d}", "hhid": f"{k}{j:04d}", "psu": str(k)}
    for k in range(1, 6)
    for j in range(1, 4)
] + [{"name": "hh-1-1", "enumerator": "e009", "hhid": "dup", "psu": "9"}]


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 30), empty=st.floats(0.0, 0.5))
def test_migrants_with_households_attachment_vectorised_equals_interpreter(
    migrants, seed, n, empty
):
    form, _ = migrants
    vector_logic = VectorLogic(form, attachments={"households.csv": MIGRANT_HOUSEHOLDS})
    pools = {
        "a01_enum_code": [f"e{k:03d}" for k in range(1, 10)],
        "a02_hh": [r["name"] for r in MIGRANT_HOUSEHOLDS],
    }
    frames = random_frames(form, n, seed=seed, empty_rate=empty, text_pools=pools)
    problems, vector = _same(vector_logic, frames)
    assert problems == []
    assert vector.fallbacks == []
