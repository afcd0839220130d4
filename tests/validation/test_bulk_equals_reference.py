"""Property: the column-wise validation finds exactly the issues of the per-record reference
(jsonschema with the form's JSON Schema + FormLogic.check), on valid and corrupted random
submissions of the fixture forms and of both bundled questionnaires; nothing crashes."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest
from fixtures import SURVEY_V1
from forms_fixtures import HOUSEHOLD_MD, NESTED_MD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forms import read_form, read_markdown
from forms.frames import frames_to_submissions, random_frames
from forms.logic import FormLogic
from validation.reference import issue_key, reference_issues
from validation.validate import validate_records

TODAY = date(2024, 7, 1)
QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "forms/questionnaires"
HOUSEHOLDS = [
    {"name": f"hh-{k}-{j}", "enumerator": f"e{k:03d}", "hhid": f"{k}{j:04d}", "psu": str(k)}
    for k in range(1, 6)
    for j in range(1, 4)
]
POOLS = {
    "a01_enum_code": [f"e{k:03d}" for k in range(1, 9)],
    "a02_hh": [r["name"] for r in HOUSEHOLDS],
}

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=8),
    st.sampled_from(["1", "2", "99", "2024-02-30", "2024-06-01", "a b", "1  2", "", "other"]),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _forms():
    out = {
        "household": read_markdown(HOUSEHOLD_MD),
        "nested": read_markdown(NESTED_MD),
        "survey": read_markdown(SURVEY_V1),
    }
    for name in ("migrants", "fertility"):
        path = QUESTIONNAIRES / f"{name}.xlsx"
        if path.exists():
            out[name] = read_form(path)
    return out


FORMS = _forms()


def _slots(node, path=()):
    """Every (container, key) of a record: where a corruption can land."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key
            yield from _slots(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield node, index
            yield from _slots(value, (*path, index))


@st.composite
def corruptions(draw):
    """A list of (record pick, slot pick, action, value)."""
    return draw(
        st.lists(
            st.tuples(
                st.integers(0, 10_000),
                st.integers(0, 10_000),
                st.sampled_from(["replace", "delete", "add", "nest"]),
                JSON_VALUES,
            ),
            max_size=8,
        )
    )


def _corrupt(records, ops):
    records = copy.deepcopy(records)
    for pick, slot_pick, action, value in ops:
        if not records:
            break
        record = records[pick % len(records)]
        slots = list(_slots(record))
        if not slots:
            continue
        container, key = slots[slot_pick % len(slots)]
        if action == "replace":
            container[key] = value
        elif action == "delete" and isinstance(container, dict):
            del container[key]
        elif action == "add" and isinstance(container, dict):
            container[f"x_{slot_pick % 7}"] = value
        elif action == "nest":
            container[key] = {"deep": [{"deeper": [value]}]}
    return records


def _compare(form, records, attachments=None):
    logic = FormLogic(form, attachments=attachments)
    bulk = validate_records(form, records, today=TODAY, logic=logic)
    reference = reference_issues(
        form, records, today=TODAY, logic=FormLogic(form, attachments=attachments)
    )
    got, expected = {issue_key(i) for i in bulk}, {issue_key(i) for i in reference}
    assert got - expected == set() and expected - got == set()
    return got


@pytest.mark.parametrize("name", sorted(FORMS))
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 12),
    empty=st.floats(0.0, 0.6),
    ops=corruptions(),
    attached=st.booleans(),
)
def test_bulk_equals_reference(name, seed, n, empty, ops, attached):
    form = FORMS[name]
    frames = random_frames(form, n, seed=seed, empty_rate=empty, max_repeat=3, text_pools=POOLS)
    records = _corrupt(frames_to_submissions(frames), ops)
    attachments = {"households.csv": HOUSEHOLDS} if attached else None
    _compare(form, records, attachments)


def test_no_records_no_issues():
    assert validate_records(FORMS["survey"], [], today=TODAY) == []
