"""The authoring kit applies the questionnaire conventions and refuses sources that break them."""

from __future__ import annotations

import pytest

from forms import read_form
from forms.questionnaires.authoring import EN, ZH, FormSpec, SpecError, T, sentinels
from forms.questionnaires.build import workbook_bytes


def spec() -> FormSpec:
    f = FormSpec("demo", T("示例", "Demo"), "1", "concat('D-', ${q1})", partial_switch="z01")
    f.choice_list("yn", [(1, "是", "Yes"), (2, "否", "No")], missing=True)
    return f


def test_sentinels_are_all_nines_at_the_fields_width() -> None:
    assert sentinels(2) == (98, 99)
    assert sentinels(4) == (9998, 9999)
    assert sentinels(6) == (999998, 999999)


def test_an_integer_gets_a_bilingual_range_with_its_sentinels() -> None:
    f = spec()
    f.integer("q1", T("几岁？", "Age?"), 0, 120, unit=T("岁", "years"), dont_know=True)
    row = f.survey[-1]
    assert row["constraint"] == "((. >= 0 and . <= 120)) or . = 998"
    assert row[f"constraint_message::{ZH}"] == "请输入0至120之间的数值（单位：岁）；不知道请填998。"
    assert (
        row[f"constraint_message::{EN}"] == "Enter a value from 0 to 120 years; don't know = 998."
    )
    assert row["required"] == "yes"


def test_a_check_is_skipped_for_sentinels_and_limited_by_sentinels_if() -> None:
    f = spec()
    f.integer(
        "q2",
        T("月", "Month"),
        1,
        12,
        dont_know=True,
        sentinels_if="${q1} > 1",
        check=". != 2",
        check_message=T("不能是2", "Not 2"),
    )
    assert f.survey[-1]["constraint"] == (
        "((. >= 1 and . <= 12) and (. != 2)) or ((. = 98) and (${q1} > 1))"
    )


def test_required_follows_the_partial_switch_once_the_interview_starts() -> None:
    f = spec()
    f.select_one("q3", "yn", T("是否？", "Yes or no?"))
    f.interview_started()
    f.select_one("q4", "yn", T("是否？", "Yes or no?"))
    assert [r["required"] for r in f.survey] == ["yes", "${z01} != 2"]
    assert f.survey[-1][f"required_message::{EN}"].startswith("An answer is required")


def test_dont_know_refused_and_none_are_exclusive_in_multiple_answers() -> None:
    f = spec()
    f.choice_list("topics", [(1, "甲", "A"), (0, "没有", "None")], missing=True)
    f.select_multiple("q5", "topics", T("哪些？", "Which?"))
    constraint = f.survey[-1]["constraint"]
    for code in ("0", "98", "99"):
        assert f"not(selected(., '{code}') and count-selected(.) > 1)" in constraint


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda f: f.text("x" * 33, T("长", "Long")), "longer than 32"),
        (lambda f: (f.text("q", T("一", "One")), f.text("q", T("二", "Two"))), "used twice"),
        (lambda f: f.choice_list("bad", [(1, "甲", "A"), (1, "乙", "B")]), "repeats a code"),
        (lambda f: f.choice_list("yn", [(1, "是", "Yes")]), "defined twice"),
        (lambda f: f.select_one("q", "nolist", T("问", "Q")), "not defined"),
        (lambda f: f.integer("q", T("问", "Q"), 0, 99, dont_know=True), "overlaps the sentinels"),
        (lambda f: f.integer("q", T("问", "Q"), 0, 9, check=". > 1"), "needs a message"),
    ],
)
def test_sources_that_break_the_conventions_are_refused(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError, match=message):
        build(spec())


def test_a_spec_reads_back_as_a_bilingual_form() -> None:
    f = spec()
    with f.group("g", T("组", "Group"), field_list=True):
        f.integer("q1", T("几岁？", "Age?"), 0, 120)
    f.check_closed()
    form = read_form(workbook_bytes(f), name="demo.xlsx")
    assert form.default_language == ZH and set(form.languages) == {ZH, EN}
    assert form["g"].appearance == "field-list"
    assert form["q1"].label == {ZH: "几岁？", EN: "Age?"}
    assert form.choice_lists["yn"].codes == ("1", "2", "98", "99")
