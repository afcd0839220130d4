"""forms.model: JSON round-trip on every fixture form, pickling, immutability, lookups."""

from __future__ import annotations

import ast
import json
import pickle
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xlsform_files import FIXTURES, REAL_WORLD_FORMS, fixture_path

from forms import FormModel, XLSFormError, read_form, read_markdown
from forms.model import MODEL_FORMAT, Choice, ChoiceList, FrozenDict, Question

TESTS = Path(__file__).resolve().parent.parent


def _inline_markdown_forms() -> list[tuple[str, str]]:
    """Every string constant in the test suite that is a whole markdown XLSForm.

    Forms that do not read (the bad-input cases) are dropped by the caller; f-strings and
    strings built at run time are not constants and are not seen.
    """
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and "| survey |" in node.value
                and "| | type" in node.value
            ):
                found.append((f"{path.relative_to(TESTS)}:{node.lineno}", node.value))
    return found


def _every_fixture_form() -> list[tuple[str, FormModel]]:
    forms = [(p.name, read_form(p)) for p in sorted(FIXTURES.glob("*.md"))]
    forms.append(("household_roster.xls", read_form(fixture_path("household_roster", ".xls"))))
    for where, markdown in _inline_markdown_forms():
        try:
            forms.append((where, read_markdown(markdown)))
        except XLSFormError:
            continue  # a bad-input fixture
    return forms


EVERY_FORM = _every_fixture_form()


def test_the_fixture_collection_sees_files_and_inline_forms():
    names = [name for name, _ in EVERY_FORM]
    assert {f"{stem}.md" for stem in REAL_WORLD_FORMS} <= set(names)
    assert any(".py:" in name for name in names)


@pytest.mark.parametrize(("name", "form"), EVERY_FORM, ids=[n for n, _ in EVERY_FORM])
def test_json_round_trip_is_lossless(name, form):
    text = form.to_json()
    again = FormModel.from_json(text)
    assert again == form
    assert again.to_json() == text
    assert FormModel.from_json(form.to_json(indent=2)) == form
    assert json.loads(text)["format"] == MODEL_FORMAT


@pytest.mark.parametrize(("name", "form"), EVERY_FORM, ids=[n for n, _ in EVERY_FORM])
def test_pickling_keeps_the_model(name, form):
    again = pickle.loads(pickle.dumps(form))
    assert again == form
    assert again.to_json() == form.to_json()
    assert all(isinstance(q.label, FrozenDict) for q in again.elements)


def test_json_keeps_chinese_text_readable():
    form = read_form(fixture_path("household_roster"))
    assert "户主姓名" in form.to_json()


def test_round_trip_rebuilds_frozen_mappings_and_tuples():
    form = FormModel.from_json(read_form(fixture_path("household_roster")).to_json())
    b_sex = form["b_sex"]
    assert isinstance(b_sex.enclosing, tuple) and isinstance(b_sex.repeats, tuple)
    assert isinstance(b_sex.label, FrozenDict) and isinstance(form.settings, FrozenDict)
    assert isinstance(form.choice_lists["sex"].choices, tuple)
    assert hash(form.settings) == hash(FrozenDict(dict(form.settings)))


def test_unknown_json_format_is_refused():
    data = read_form(fixture_path("wash_food_security")).to_dict()
    data["format"] = MODEL_FORMAT + 1
    with pytest.raises(ValueError, match="format"):
        FormModel.from_dict(data)


def test_the_model_is_immutable():
    form = read_form(fixture_path("household_roster"))
    with pytest.raises(FrozenInstanceError):
        form.version = "2"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        form["m_age"].constraint = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        form["m_age"].label["English (en)"] = "changed"  # type: ignore[index]
    with pytest.raises(TypeError):
        form.settings.update({"version": "3"})  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        del form.choice_lists["sex"]  # type: ignore[attr-defined]


def test_lookups():
    form = read_form(fixture_path("household_roster"))
    assert "m_age" in form and "nope" not in form
    assert form.get("nope") is None
    with pytest.raises(KeyError):
        form["nope"]
    assert [q.name for q in form][:3] == ["start", "end", "today"]
    assert all(not q.is_structure for q in form.questions)
    assert form.language("zh") == "中文 (zh)"
    assert form.language("EN") == "English (en)"
    assert form.language("中文 (zh)") == "中文 (zh)"
    assert form.language(None) == "English (en)"
    assert form.language("fr") is None


def test_replace_gives_a_new_model_and_keeps_the_old():
    form = read_form(fixture_path("wash_food_security"))
    changed = replace(form, version="4")
    assert changed.version == "4" and form.version == "3"
    assert changed != form
    assert FormModel.from_json(changed.to_json()) == changed


# -- property: any model the dataclasses can hold survives JSON ---------------------------
_names = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
_texts = st.text(min_size=1, max_size=20)
_optional = st.none() | _texts
_lang_texts = st.dictionaries(st.sampled_from(["default", "中文 (zh)", "English (en)"]), _texts)


@st.composite
def _questions(draw, index: int) -> Question:
    name = f"{draw(_names)}_{index}"
    return Question(
        name=name,
        xpath=f"/data/{name}",
        type=draw(st.sampled_from(["text", "integer", "select_one", "calculate", "geopoint"])),
        raw_type=draw(_texts),
        row=index + 2,
        list_name=draw(st.none() | _names),
        or_other=draw(st.booleans()),
        label=FrozenDict(draw(_lang_texts)),
        hint=FrozenDict(draw(_lang_texts)),
        constraint_message=FrozenDict(draw(_lang_texts)),
        required=draw(_optional),
        constraint=draw(_optional),
        relevant=draw(_optional),
        calculation=draw(_optional),
        parameters=FrozenDict(draw(st.dictionaries(_names, _texts, max_size=3))),
        default=draw(_optional),
        pii=draw(st.booleans()),
        extras=FrozenDict(draw(st.dictionaries(_names, _texts, max_size=2))),
    )


@st.composite
def _models(draw) -> FormModel:
    count = draw(st.integers(min_value=0, max_value=5))
    elements = tuple(draw(_questions(i)) for i in range(count))
    choices = tuple(
        Choice(name=str(i), row=i + 2, label=FrozenDict(draw(_lang_texts)))
        for i in range(draw(st.integers(min_value=0, max_value=4)))
    )
    return FormModel(
        form_id=draw(_names),
        title=draw(_texts),
        version=draw(_optional),
        root="data",
        languages=tuple(draw(st.lists(_texts, max_size=3, unique=True))),
        default_language=draw(_optional),
        instance_name=draw(_optional),
        settings=FrozenDict(draw(st.dictionaries(_names, _texts, max_size=3))),
        elements=elements,
        choice_lists=FrozenDict({"list": ChoiceList(name="list", choices=choices)}),
        entities=tuple(
            FrozenDict(e) for e in draw(st.lists(st.dictionaries(_names, _texts), max_size=2))
        ),
        source=draw(_optional),
    )


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_models())
def test_any_model_survives_json_and_pickle(form):
    assert FormModel.from_json(form.to_json()) == form
    assert FormModel.from_json(form.to_json()).to_json() == form.to_json()
    assert pickle.loads(pickle.dumps(form)) == form
