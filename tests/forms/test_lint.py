# ruff: noqa: E501  (XLSForm fixtures are markdown tables, one row per line)
"""Every lint rule fires on a form that has its problem and stays quiet on one that does not."""

from __future__ import annotations

import pytest

from forms import Severity, read_markdown
from forms.lint import RULES, LintOptions, lint_form
from forms.lint.ranges import bounds
from forms.lint.registry import LintContext, rule, run_rules
from forms.lint.text import normalise_label, references

# A bilingual form that does everything right: it must give no issue at all.
CLEAN = """
| settings |
| | form_id | version | instance_name | default_language |
| | clean | 2025010101 | concat(${hhid}, '-', ${age}) | English (en) |
| survey |
| | type | name | label::English (en) | label::中文 (zh) | hint::English (en) | hint::中文 (zh) | constraint | constraint_message::English (en) | constraint_message::中文 (zh) | relevant | parameters |
| | start | start | | | | | | | | | |
| | end | end | | | | | | | | | |
| | deviceid | deviceid | | | | | | | | | |
| | audit | audit | | | | | | | | | location-priority=balanced location-min-interval=60 location-max-age=120 track-changes=true |
| | text | hhid | Household ID | 户编号 | Printed on the list | 见名单 | | | | | |
| | integer | age | Age | 年龄 | | | . >= 15 and . <= 60 | 15 to 60 | 15至60岁 | | |
| | select_one sex | sex | Sex | 性别 | | | | | | | |
| | select_one yn | folic | Did you take folic acid? | 您服用过叶酸吗？ | | | | | | ${age} < 50 | |
| | begin repeat | births | Births | 生育 | | | | | | | |
| | integer | birth_year | Year of birth | 出生年份 | | | . >= 1960 and . <= 2025 | 1960-2025 | 1960-2025年 | | |
| | select_one yn | alive | Still alive? | 还活着吗？ | | | | | | | |
| | end repeat | | | | | | | | | | |
| | integer | n_children | How many children? | 孩子数 | | | . >= 0 and . <= 20 | 0-20 | 0-20个 | | |
| choices |
| | list_name | name | label::English (en) | label::中文 (zh) |
| | sex | 1 | Male | 男 |
| | sex | 2 | Female | 女 |
| | yn | 1 | Yes | 是 |
| | yn | 2 | No | 否 |
| | yn | 98 | Don't know | 不知道 |
| | yn | 99 | Refused | 拒绝回答 |
"""

METADATA = """| | start | start | | | |
| | end | end | | | |
| | deviceid | deviceid | | | |
| | audit | audit | | | location-priority=balanced location-min-interval=60 location-max-age=120 track-changes=true |
"""


def small_form(rows: str, choices: str = "", settings: str = "") -> str:
    """A one-language form with complete metadata around the given survey rows."""
    settings = settings or "| settings |\n| | form_id | instance_name |\n| | small | ${a} |\n"
    survey = "| survey |\n| | type | name | label | constraint | parameters |\n" + METADATA + rows
    return (
        settings + survey + (choices and "| choices |\n| | list_name | name | label |\n" + choices)
    )


def issues(markdown: str, code: str | None = None, **options: tuple[str, ...]) -> list:
    """The lint issues of a markdown form (only ``code``'s when given)."""
    found = lint_form(read_markdown(markdown, name="t.md"), options=LintOptions(**options))
    return [i for i in found if code is None or i.code == code]


def rows(found: list) -> list[tuple[str | None, int | None]]:
    return [(i.sheet, i.row) for i in found]


# -- the clean form and the registry ------------------------------------------------------
def test_clean_form_has_no_issue_at_all():
    assert issues(CLEAN, dont_know_codes=("98",), refusal_codes=("99",)) == []


def test_every_rule_has_code_severity_title_and_docs():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "LINT.md").read_text("utf-8")
    for code, registered in RULES.items():
        assert registered.title and registered.check.__doc__, code
        assert f"## {code}" in docs, f"{code} is not documented in docs/LINT.md"


def test_issue_names_file_sheet_and_row():
    issue = issues(CLEAN.replace(". >= 15 and . <= 60", ". >= 15"), "L115")[0]
    assert (issue.file, issue.sheet, issue.row, issue.variable) == ("t.md", "survey", 7, "age")


def test_a_broken_rule_is_reported_not_raised():
    @rule("L999", Severity.WARNING, "broken on purpose")
    def broken(ctx):
        """Always fails."""
        raise RuntimeError("boom")

    try:
        context = LintContext(form=read_markdown(CLEAN))
        found = list(run_rules(context, ["L999"]))
        assert [(i.code, i.severity) for i in found] == [("L000", Severity.ERROR)]
        assert "L999" in found[0].message
    finally:
        del RULES["L999"]


def test_ignore_skips_a_rule():
    form = read_markdown(small_form("| | integer | age | Age | | |\n"))
    assert any(i.code == "L115" for i in lint_form(form))
    assert not any(i.code == "L115" for i in lint_form(form, ignore=["l115"]))


# -- L101 translations --------------------------------------------------------------------
def test_l101_missing_translation_in_one_row():
    markdown = CLEAN.replace("| Did you take folic acid? | 您服用过叶酸吗？ |", "| Folic? | |")
    found = issues(markdown, "L101")
    assert rows(found) == [("survey", 9)]
    assert "label::中文 (zh)" in found[0].message and found[0].severity is Severity.WARNING


def test_l101_missing_choice_label_translation():
    found = issues(CLEAN.replace("| sex | 2 | Female | 女 |", "| sex | 2 | Female | |"), "L101")
    assert rows(found) == [("choices", 3)]


def test_l101_missing_column_is_reported_once():
    markdown = """
| survey |
| | type | name | label::English (en) | label::中文 (zh) | hint::English (en) |
| | text | a | A | 甲 | ha |
| | text | b | B | 乙 | hb |
| | text | c | C | 丙 | hc |
"""
    found = issues(markdown, "L101")
    assert len(found) == 1
    assert "hint::中文 (zh)" in found[0].message and "3 rows" in found[0].message


def test_l101_missing_constraint_message_translation():
    markdown = CLEAN.replace("| 15 to 60 | 15至60岁 |", "| 15 to 60 | |")
    assert rows(issues(markdown, "L101")) == [("survey", 7)]


def test_l101_quiet_for_single_language_and_for_untranslated_rows():
    assert issues(small_form("| | text | a | A | | |\n"), "L101") == []
    # a calculate has no text at all: nothing to translate
    assert issues(CLEAN, "L101") == []


# -- L102 constraint message --------------------------------------------------------------
def test_l102_constraint_without_message():
    found = issues(small_form("| | integer | age | Age | . >= 15 and . <= 60 | |\n"), "L102")
    assert rows(found) == [("survey", 6)]


def test_l102_quiet_with_a_message():
    assert issues(CLEAN, "L102") == []


# -- L103..L106 metadata ------------------------------------------------------------------
def test_l103_missing_start_end():
    markdown = small_form("| | text | a | A | | |\n").replace("| | end | end | | | |\n", "")
    found = issues(markdown, "L103")
    assert len(found) == 1 and "'end'" in found[0].message and "'start'" not in found[0].message


def test_l104_missing_deviceid_or_username():
    markdown = small_form("| | text | a | A | | |\n").replace(
        "| | deviceid | deviceid | | | |\n", ""
    )
    assert len(issues(markdown, "L104")) == 1
    assert (
        issues(
            markdown.replace("| | text | a |", "| | username | user | | | |\n| | text | a |"),
            "L104",
        )
        == []
    )


def test_l105_missing_audit_and_incomplete_parameters():
    no_audit = small_form("| | text | a | A | | |\n").replace(METADATA.splitlines()[3] + "\n", "")
    assert len(issues(no_audit, "L105")) == 1
    partial = small_form("| | text | a | A | | |\n").replace(" track-changes=true", "")
    found = issues(partial, "L105")
    assert rows(found) == [("survey", 5)] and "track-changes=true" in found[0].message


def test_l106_missing_instance_name():
    markdown = small_form(
        "| | text | a | A | | |\n", settings="| settings |\n| | form_id |\n| | s |\n"
    )
    assert rows(issues(markdown, "L106")) == [("settings", None)]


def test_l107_missing_form_id_and_version():
    markdown = small_form("| | text | a | A | | |\n")
    found = issues(markdown, "L107")
    assert len(found) == 1 and "no version" in found[0].message
    with_both = markdown.replace(
        "| | form_id | instance_name |\n| | small |",
        "| | form_id | version | instance_name |\n| | small | 1 |",
    )
    assert issues(with_both, "L107") == []
    no_id = with_both.replace("| | form_id | version |", "| | form_title | version |")
    assert [i.message.split(":")[0] for i in issues(no_id, "L107")] == ["no form_id"]


def test_metadata_rules_quiet_on_complete_metadata():
    found = issues(small_form("| | text | a | A | | |\n"))
    assert not [i for i in found if i.code in ("L103", "L104", "L105", "L106")]


# -- L110 integer codes -------------------------------------------------------------------
def test_l110_non_integer_codes_reported_once_per_list():
    choices = "| | yn | yes | Yes |\n| | yn | no | No |\n"
    found = issues(small_form("| | select_one yn | a | A | | |\n", choices), "L110")
    assert rows(found) == [("choices", 2)] and "'yes', 'no'" in found[0].message


def test_l110_or_other_adds_a_text_code():
    choices = "| | c | 1 | One |\n| | c | 2 | Two |\n"
    found = issues(small_form("| | select_one c or_other | a | A | | |\n", choices), "L110")
    assert rows(found) == [("survey", 6)]


def test_l110_quiet_for_integers_select_multiple_and_unused_lists():
    choices = "| | c | 1 | One |\n| | c | -98 | DK |\n| | m | tv | TV |\n| | unused | x | X |\n"
    rows_ = "| | select_one c | a | A | | |\n| | select_multiple m | b | B | | |\n"
    assert issues(small_form(rows_, choices), "L110") == []


# -- L111 mixed conventions ---------------------------------------------------------------
YES_NO_TWICE = """| | yn | 1 | Yes |
| | yn | 2 | No |
| | yn2 | 1 | Yes |
| | yn2 | 2 | No |
| | yn3 | 1 | 1. Yes |
| | yn3 | 0 | 0. No |
"""
YES_NO_ROWS = (
    "| | select_one yn | a | A | | |\n| | select_one yn2 | b | B | | |\n"
    "| | select_one yn3 | c | C | | |\n"
)


def test_l111_yes_no_coded_differently():
    found = issues(small_form(YES_NO_ROWS, YES_NO_TWICE), "L111")
    assert rows(found) == [("choices", 6)]
    assert "yn3" in found[0].message and "yes=1, no=2" in found[0].message


def test_l111_dont_know_negative_in_one_list_positive_in_another():
    choices = (
        "| | a | 1 | Primary |\n| | a | 2 | Secondary |\n| | a | -98 | Don't know |\n"
        "| | b | 1 | Cash |\n| | b | 2 | Kind |\n| | b | 98 | 不知道 |\n"
        "| | c | 1 | Own |\n| | c | 2 | Rent |\n| | c | -98 | DK |\n"
    )
    rows_ = "".join(f"| | select_one {x} | q{x} | Q | | |\n" for x in "abc")
    found = issues(small_form(rows_, choices), "L111")
    assert rows(found) == [("choices", 7)] and "'b'" in found[0].message


def test_l111_against_declared_codes():
    choices = "| | a | 1 | Primary |\n| | a | 2 | Secondary |\n| | a | 8 | Don't know |\n"
    markdown = small_form("| | select_one a | q | Q | | |\n", choices)
    found = issues(markdown, "L111", dont_know_codes=("-98",))
    assert rows(found) == [("choices", 4)] and "-98" in found[0].message
    assert issues(markdown, "L111", dont_know_codes=("8",)) == []


def test_l111_quiet_for_one_convention_and_width_variants():
    # 8 in a one-digit list and 98 in a two-digit list follow the same (DHS) convention
    choices = (
        "| | a | 1 | Yes |\n| | a | 2 | No |\n| | a | 8 | Don't know |\n"
        "| | b | 1 | Yes |\n| | b | 2 | No |\n| | b | 98 | Don't know |\n"
    )
    rows_ = "| | select_one a | qa | Q | | |\n| | select_one b | qb | Q | | |\n"
    assert issues(small_form(rows_, choices), "L111") == []


def test_l111_refused_in_the_middle_of_a_list_is_an_answer_not_a_code():
    choices = (
        "| | result | 1 | Completed |\n| | result | 2 | Refused |\n| | result | 3 | Not at home |\n"
        "| | result | 4 | Vacant |\n| | result | 5 | Other |\n"
        "| | yn | 1 | Yes |\n| | yn | 2 | No |\n| | yn | 99 | Refused |\n"
    )
    rows_ = "| | select_one result | res | R | | |\n| | select_one yn | q | Q | | |\n"
    assert issues(small_form(rows_, choices), "L111") == []


# -- L112 don't know / refusal options ----------------------------------------------------
EDUC = "| | educ | 1 | Primary |\n| | educ | 2 | Secondary |\n| | educ | 3 | Higher |\n"


def test_l112_no_list_offers_the_declared_options():
    markdown = small_form("| | select_one educ | educ | Education | | |\n", EDUC)
    found = issues(markdown, "L112", dont_know_codes=("98",), refusal_codes=("99",))
    assert rows(found) == [("choices", 4), ("choices", 4)]
    assert [i.severity for i in found] == [Severity.WARNING, Severity.WARNING]
    assert "don't know (98)" in found[0].message and "refusal (99)" in found[1].message
    only_dk = issues(markdown, "L112", dont_know_codes=("98",))
    assert len(only_dk) == 1 and "refusal" not in only_dk[0].message


def test_l112_list_without_the_option_while_others_have_it_is_an_info():
    choices = EDUC + "| | yn | 1 | Yes |\n| | yn | 2 | No |\n| | yn | 98 | Don't know |\n"
    rows_ = "| | select_one educ | educ | Education | | |\n| | select_one yn | q | Q | | |\n"
    found = issues(small_form(rows_, choices), "L112", dont_know_codes=("98",))
    assert rows(found) == [("choices", 4)] and found[0].severity is Severity.INFO
    assert "list 'educ' (used by 'educ')" in found[0].message


def test_l112_quiet_without_declared_codes_or_with_the_options():
    markdown = small_form("| | select_one educ | educ | Education | | |\n", EDUC)
    assert issues(markdown, "L112") == []
    with_codes = small_form(
        "| | select_one educ | educ | Education | | |\n",
        EDUC + "| | educ | 98 | Don't know |\n| | educ | 99 | Refused |\n",
    )
    assert issues(with_codes, "L112", dont_know_codes=("98",), refusal_codes=("99",)) == []


def test_l112_quiet_where_missing_codes_do_not_apply():
    choices = (
        "| | sex | 1 | Male |\n| | sex | 2 | Female |\n"
        "| | prov | 11 | Beijing |\n| | prov | 12 | Tianjin |\n"
        "| | county | 1101 | Dongcheng | 11 |\n| | county | 1201 | Heping | 12 |\n"
        "| | ok | 1 | Agrees |\n| | ok | 2 | Does not agree |\n"
        "| | res | 1 | Completed |\n| | res | 2 | Not at home |\n"
    )
    rows_ = (
        "| | select_one sex | sex | Sex | | |\n"
        "| | select_one prov | prov | Province | | |\n"
        "| | select_one county | county | County | | |\n"
        "| | select_one ok | consent | Do you agree to the interview? | | |\n"
        "| | select_one res | visit_result | Result of the visit | | |\n"
    )
    markdown = small_form(rows_, choices).replace(
        "| | select_one county | county | County | | |",
        "| | select_one county | county | County | | |",
    )
    markdown = markdown.replace(
        "| list_name | name | label |", "| list_name | name | label | prov |"
    )
    markdown = markdown.replace(
        "| survey |\n| | type | name | label | constraint | parameters |",
        "| survey |\n| | type | name | label | constraint | parameters | choice_filter |",
    ).replace("| County | | |", "| County | | | prov=${prov} |")
    assert issues(markdown, "L112", dont_know_codes=("98",), refusal_codes=("99",)) == []


# -- L115 ranges --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "label", "meaning"),
    [
        ("age", "Age", "an age"),
        ("q3", "How old are you?", "an age"),
        ("q4", "您今年几岁？", "an age"),
        ("n_children", "Children", "a count"),
        ("num_rooms", "Rooms", "a count"),
        ("q5", "How many rooms?", "a count"),
        ("q6", "家里有几口人？", "a count"),
        ("marriage_year", "Marriage", "a year"),
        ("q7", "In what year did you move here?", "a year"),
    ],
)
def test_l115_fires_for_ages_counts_and_years(name, label, meaning):
    found = issues(small_form(f"| | integer | {name} | {label} | | |\n"), "L115")
    assert rows(found) == [("survey", 6)] and meaning in found[0].message


def test_l115_one_sided_constraint_is_not_a_range():
    found = issues(small_form("| | integer | age | Age | . >= 15 | |\n"), "L115")
    assert "no upper bound" in found[0].message


@pytest.mark.parametrize(
    "row",
    [
        "| | integer | age | Age | . >= 15 and . <= 60 | |\n",
        "| | integer | age | Age | 60 >= . and 15 <= . | |\n",
        "| | integer | n_kids | Kids | . >= 0 and . < ${a} | |\n",
        "| | integer | plot | Plot number on the map | | |\n",
        "| | integer | house_number | House | | |\n",
        "| | decimal | age_weight | Weight (kg) | | |\n",
        "| | text | age_text | Age in words | | |\n",
        "| | range | age | Age | | start=15 end=60 step=1 |\n",
    ],
)
def test_l115_quiet(row):
    assert issues(small_form(row), "L115") == []


def test_bounds_reads_both_directions():
    assert bounds(". >= 15 and . <= 60") == (True, True)
    assert bounds("60 >= .") == (False, True)
    assert bounds("${x} > 3 and . != 1.5") == (False, False)


# -- L120..L122 names ---------------------------------------------------------------------
def test_l120_long_name():
    name = "q" * 33
    found = issues(small_form(f"| | text | {name} | A | | |\n"), "L120")
    assert rows(found) == [("survey", 6)]
    assert issues(small_form(f"| | text | {'q' * 32} | A | | |\n"), "L120") == []


def test_l121_name_not_valid_in_stata():
    assert rows(issues(small_form("| | text | hh-size | A | | |\n"), "L121")) == [("survey", 6)]
    assert issues(small_form("| | text | hh_size | A | | |\n"), "L121") == []


def test_l122_same_name_in_two_groups_case_insensitive():
    rows_ = (
        "| | begin group | g1 | G1 | | |\n| | text | Name | A | | |\n| | end group | | | | |\n"
        "| | begin repeat | r | R | | |\n| | text | name | B | | |\n| | end repeat | | | | |\n"
    )
    found = issues(small_form(rows_), "L122")
    assert rows(found) == [("survey", 10)] and found[0].severity is Severity.ERROR
    assert "/data/g1/Name" in found[0].message


def test_l120_and_l122_see_the_columns_a_question_adds():
    choices = "| | c | 1 | One |\n| | c | 2 | Two |\n"
    rows_ = "| | select_multiple c | q | Q | | |\n| | text | q_2 | Q2 | | |\n"
    found = issues(small_form(rows_, choices), "L122")
    assert rows(found) == [("survey", 7)] and "the column 'q_2' of 'q'" in found[0].message
    long_geo = issues(small_form(f"| | geopoint | {'g' * 24} | Where | | |\n"), "L120")
    assert rows(long_geo) == [("survey", 6)] and "_longitude" in long_geo[0].message


def test_l122_quiet_for_distinct_names_and_notes():
    rows_ = "| | note | n1 | Hello | | |\n| | text | a | A | | |\n| | text | b | B | | |\n"
    assert issues(small_form(rows_), "L122") == []


# -- L130 references ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "cell"),
    [
        ("relevant", "${agee} > 15"),
        ("constraint", ". < ${agee}"),
        ("calculation", "${agee} + 1"),
        ("choice_filter", "x = ${agee}"),
        ("repeat_count", "${agee}"),
        ("default", "${agee}"),
        ("label", "Is ${agee} right?"),
    ],
)
def test_l130_undefined_reference(header, cell):
    qtype = "begin repeat" if header == "repeat_count" else "text"
    end = "| | end repeat | | |\n" if header == "repeat_count" else ""
    label = cell if header == "label" else "Q"
    other = "" if header == "label" else cell
    markdown = f"""
| survey |
| | type | name | label | {header if header != "label" else "hint"} |
| | integer | age | Age | |
| | {qtype} | q | {label} | {other} |
{end}"""
    found = issues(markdown, "L130")
    assert rows(found) == [("survey", 3)]
    assert found[0].severity is Severity.ERROR and "did you mean ${age}" in found[0].message


def test_l130_instance_name_and_last_saved():
    markdown = small_form(
        "| | text | a | A | | |\n| | text | b | ${last-saved#a} | | |\n",
        settings="| settings |\n| | form_id | instance_name |\n| | s | concat(${zzz}) |\n",
    )
    assert rows(issues(markdown, "L130")) == [("settings", 2)]


def test_l130_quiet_on_defined_references():
    assert issues(CLEAN, "L130") == []


# -- helpers ------------------------------------------------------------------------------
def test_normalise_label_and_references():
    assert normalise_label("98. Don't know") == "dontknow"
    assert normalise_label("拒绝回答（99）") == "拒绝回答"
    assert references("${a} + ${ b } + ${last-saved#c}") == ["a", "b", "c"]
