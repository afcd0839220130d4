"""forms.codebook: what a statistician reads, in Markdown, HTML and Excel."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from io import BytesIO
from string import Formatter

import pytest
from openpyxl import load_workbook
from xlsform_files import REAL_WORLD_FORMS, fixture_path, fixture_text

from forms import read_form, read_markdown
from forms.codebook import (
    VARIABLE_COLUMNS,
    build_codebook,
    export_columns,
    plain_text,
    render_codebook,
    store_columns,
)
from forms.errors import FormsError, UnknownLanguageError

ROSTER = read_form(fixture_path("household_roster"))
WASH = read_form(fixture_path("wash_food_security"))

MARKUP = """
| survey |
| | type | name | label | hint | relevant | constraint | constraint_message |
| | integer | a_b | Pipes \\| and *stars* and <b>bold</b> & more | Use `ticks` | | . > 0 \\| . < 0 | x \\| y |
| | text | s | <script>alert(1)</script> [site](https://example.org) | | ${a_b} > 1 | | |
| | select_one yn | q | __Strong__ question | | | | |
| choices |
| | list_name | name | label |
| | yn | 1 | Yes \\| oui |
| | yn | 2 | <i>No</i> |
| settings |
| | form_id | form_title |
| | markup | Title with <tags> & ampersands |
"""  # noqa: E501


def md(form, **kwargs) -> str:
    return render_codebook(form, fmt="md", **kwargs).decode("utf-8")


def html(form, **kwargs) -> str:
    return render_codebook(form, fmt="html", **kwargs).decode("utf-8")


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(template) if field}


def variable_block(text: str, name: str) -> str:
    """The Markdown block of one variable: from its anchor to the next one."""
    match = re.search(rf'<a id="var-[^"]*"></a>\n#+ `{re.escape(name)}`', text)
    assert match, f"no block for {name}"
    end = text.find("<a id=", match.end())
    return text[match.start() : end if end > 0 else len(text)]


# -- content --------------------------------------------------------------------------------
def test_markdown_header_names_form_version_and_languages():
    text = md(ROSTER, language="en")
    assert text.startswith("# Codebook: DHS-style household questionnaire\n")
    assert "- **Form ID:** `dhs_household`" in text
    assert "- **Version:** `2024112201`" in text
    assert "- **Languages:** English (en) (default, used here), 中文 (zh)" in text
    assert "- **Instance name:** `concat('hh-', ${cluster}, '-', ${hh_num})`" in text
    assert "- **PII variables:** `hh_head_name, hh_gps, m_name`" in text


def test_a_chinese_codebook_is_written_wholly_in_chinese():
    text = md(ROSTER, language="zh")
    assert text.startswith("# 编码手册: DHS-style household questionnaire\n")
    assert "- **表单 ID:** `dhs_household`" in text
    assert "- **语言:** English (en) (默认), 中文 (zh) (本手册所用)" in text
    assert (
        "| `births` | 每个“活产”一行，关联到循环组 members 中的所属行；行数：`${w_births}` |"
        in text
    )
    age = variable_block(text, "m_age")
    assert "> `${m_name}`几岁？" in age
    assert "- **约束:** `. >= 0 and . <= 110`" in age
    assert "- **约束提示:** 年龄应在0到110之间" in age
    assert "- **必答:** 是" in age
    assert "> 访问开始的日期和时间（自动记录）" in variable_block(text, "start")
    assert "Codebook" not in text and "Relevance" not in text
    from forms.codebook.words import CHINESE, ENGLISH, is_chinese

    assert set(CHINESE) == set(ENGLISH)
    for key, english in ENGLISH.items():  # the same placeholders in both languages
        assert _placeholders(CHINESE[key]) == _placeholders(english), key
    assert is_chinese("中文 (zh)") and is_chinese("Chinese (zh-CN)") and is_chinese("zh")
    assert not is_chinese("English (en)") and not is_chinese(None)


def test_markdown_variable_shows_question_hint_constraint_and_required():
    text = md(ROSTER, language="en")
    age = variable_block(text, "m_age")
    assert "> How old is `${m_name}`?" in age
    assert "- **Type:** `integer`" in age
    assert "- **Hint:** Age in completed years" in age
    assert "- **Constraint:** `. >= 0 and . <= 110`" in age
    assert "- **Constraint message:** Age is between 0 and 110" in age
    assert "- **Required:** yes" in age
    assert "- **XPath:** `/data/members/m_age`" in age
    cluster = variable_block(text, "cluster")
    assert "- **Required message:** Cluster is required" in cluster
    assert "- **Inside:** hh\\_id" in cluster or "- **Inside:** hh_id" in cluster


def test_markdown_value_labels_in_the_chosen_language():
    zh = variable_block(md(ROSTER, language="zh"), "m_educ")
    assert "| `98` | 不知道 |" in zh and "| `0` | 从未上学 |" in zh
    assert "- **询问条件:** `${m_age} >= 6`" in zh
    en = variable_block(md(ROSTER, language="en"), "m_educ")
    assert "| `98` | Don't know |" in en


def test_markdown_marks_the_repeat_a_variable_belongs_to():
    text = md(ROSTER, language="en")
    b_sex = variable_block(text, "b_sex")
    assert (
        "- **Repeat:** in repeat births (one row per “Live birth”, linked to its row of " in b_sex
    )
    assert "number of rows: `${w_births}`" in b_sex
    assert "- **Relevance of woman:** `${m_is_woman} = 1`" in b_sex
    assert "- **Relevance of births:** `${w_births} > 0`" in b_sex
    assert "| `births` | one row per “Live birth”, linked to its row of repeat members" in text
    assert "\n### Repeat `members`: Household member\n" in text
    assert "\n#### Group `woman`: Birth history\n" in text
    assert "\n##### Repeat `births`: Live birth\n" in text
    assert "\n###### `b_sex`\n" in text  # heading depth is capped at 6
    assert "**Asked only if:** `${m_is_woman} = 1`" in text
    assert "| `data` | one row per submission (interview) |" in text


def test_markdown_flags_pii_and_metadata():
    text = md(ROSTER)
    assert "| [`m_name`](#var-members-m_name) (PII) |" in text
    assert "- PII: identifies a person; remove or mask before sharing the data." in text
    audit = variable_block(text, "audit")
    assert "### `audit` (metadata)" in audit
    assert "- **Parameters:** `location-priority=balanced location-min-interval=60" in audit
    assert "> Audit log of the interview" in audit


def test_calculations_selects_from_repeats_and_notes():
    text = md(ROSTER)
    woman = variable_block(text, "m_is_woman")
    assert "> (calculated, not asked)" in woman
    assert "- **Calculation:** `if(${m_sex} = '2' and ${m_age} >= 15" in woman
    respondent = variable_block(text, "respondent")
    assert "the answers to m\\_name in repeat members" in respondent or (
        "the answers to m_name in repeat members" in respondent
    )
    assert "- **Export columns:**" not in variable_block(text, "thanks")


def test_select_multiple_or_other_and_choice_filter():
    text = md(WASH)
    treat = variable_block(text, "water_treat")
    assert "- **Type:** `select_multiple treatment or_other`" in treat
    assert "one 0/1 column per choice (water_treat_0, water_treat_1, water_treat_2, ...)" in treat
    assert "text variable water_treat_other" in treat
    assert "| `other` | Other |" in treat
    assert "`not(selected(., '0') and count-selected(.) > 1)`" in treat
    village = variable_block(text, "village")
    assert "- **Choice filter:** `district=${district} and (urban=${urban_only} or urban='9')`" in (
        village
    )
    assert "> Read aloud: Ask the person who prepares meals." in variable_block(text, "intro")


def test_export_columns():
    assert export_columns(WASH, WASH["water_treat"]) == (
        "water_treat",
        "water_treat_0",
        "water_treat_1",
        "water_treat_2",
        "water_treat_3",
        "water_treat_4",
        "water_treat_other_2",  # the dummy of "other": water_treat_other is the text
        "water_treat_other",
    )
    assert store_columns(WASH, WASH["water_treat"])[-2:] == (
        "water_treat/other",
        "water_treat_other",
    )
    assert export_columns(WASH, WASH["water_main"]) == ("water_main", "water_main_other")
    assert export_columns(ROSTER, ROSTER["hh_gps"]) == (
        "hh_gps_latitude",
        "hh_gps_longitude",
        "hh_gps_altitude",
        "hh_gps_accuracy",
    )
    assert export_columns(ROSTER, ROSTER["thanks"]) == ()
    assert export_columns(ROSTER, ROSTER["members"]) == ()


def test_external_files_search_and_entities():
    form = read_form(fixture_path("facility_external"))
    text = md(form)
    facility = variable_block(text, "facility")
    assert "from the attached file facilities.csv (code column 'facility\\_id'" in facility or (
        "from the attached file facilities.csv (code column 'facility_id'" in facility
    )
    drug = variable_block(text, "tracer_drug")
    assert "drugs.csv by search()" in drug
    assert "| Code |" not in drug  # the list only names the CSV columns
    assert "in the external\\_choices sheet" in variable_block(text, "lga") or (
        "in the external_choices sheet" in variable_block(text, "lga")
    )
    entities = md(read_form(fixture_path("household_followup_entities")))
    assert "- **Entity list:** `households: label concat(" in entities
    assert "- **Saved to entity property:** `households#hh_size`" in entities


# -- language ---------------------------------------------------------------------------------
def test_language_by_code_name_or_default():
    assert "> 这户通常住几个人？" in md(ROSTER, language="zh")
    assert md(ROSTER, language="zh") == md(ROSTER, language="中文 (zh)")
    assert md(ROSTER, language="ZH") == md(ROSTER, language="zh")
    assert md(ROSTER) == md(ROSTER, language="en")  # the form's default language
    three = read_form(fixture_path("maternal_health_3lang"))
    assert "> Una umri gani?" in md(three)
    assert "> Quel âge avez-vous ?" in md(three, language="fr")
    assert "- **Guidance:** Vérifiez avec la carte d'identité" in md(three, language="fr")


def test_unknown_language_is_one_clear_error():
    with pytest.raises(UnknownLanguageError) as err:
        render_codebook(ROSTER, language="fr")
    assert isinstance(err.value, FormsError)
    message = str(err.value)
    assert "\n" not in message
    assert "household_roster.md" in message and "'fr'" in message
    assert "English (en), 中文 (zh)" in message


def test_missing_translation_falls_back_and_says_from_which_language():
    form = read_markdown(
        "| survey |\n| | type | name | label::English (en) | label::中文 (zh) |\n"
        "| | text | a | Name | 姓名 |\n| | text | b | Only English | |\n"
    )
    text = md(form, language="zh")
    assert "> 姓名" in text
    assert "> Only English \\[English (en)\\]" in text


def test_untranslated_form_accepts_no_language_and_default():
    assert md(WASH) == md(WASH, language="default")
    assert "- **Languages:** none declared" in md(WASH)
    with pytest.raises(UnknownLanguageError):
        md(WASH, language="en")


# -- escaping ---------------------------------------------------------------------------------
def test_plain_text_strips_markup():
    assert plain_text('**Read:** <span style="color:red">Ask</span>') == "Read: Ask"
    assert plain_text("# Heading\nline *two*") == "Heading line two"
    assert plain_text("see [site](https://x.org) &amp; more") == "see site & more"
    assert plain_text("${m_name}'s age") == "${m_name}'s age"
    assert plain_text("   ") is None


def test_markdown_escapes_pipes_and_markup():
    text = md(read_markdown(MARKUP))
    a_b = variable_block(text, "a_b")
    assert "> Pipes \\| and stars and bold & more" in a_b
    assert "- **Constraint:** `. > 0 \\| . < 0`" in a_b
    assert "- **Hint:** Use \\`ticks\\`" in a_b
    for line in text.splitlines():
        if line.startswith("| [`"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 5, line  # four cells, intact
    assert "| `1` | Yes \\| oui |" in text
    # not an ODK formatting tag: shown as the text it is, escaped (issue #12: never stripped)
    assert "<script>" not in text and "\\<script\\>alert(1)\\</script\\> site" in text


def test_markdown_question_text_never_turns_into_a_list():
    form = read_markdown(
        "| survey |\n| | type | name | label |\n| | integer | q1 | 1. Age |\n"
        "| | text | q2 | - dash |\n| | text | q3 | A01. 出生年月 |\n"
    )
    text = md(form)
    assert "> 1\\. Age" in text and "> \\- dash" in text and "> A01. 出生年月" in text


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_escaped_utf8():
    page = html(ROSTER, language="zh")
    assert page.startswith('<!DOCTYPE html>\n<html lang="zh">')
    assert '<meta charset="utf-8">' in page
    assert "<style>" in page and "<link" not in page and "<script" not in page
    assert "这户通常住几个人？" in page
    assert '<article class="var" id="var-members-woman-births-b_sex">' in page
    assert "属于循环组 births（每个“活产”一行" in page
    assert "<h2>变量一览</h2>" in page
    odd = html(read_markdown(MARKUP))
    assert "Title with &lt;tags&gt; &amp; ampersands" in odd
    assert "<code>. &gt; 0 | . &lt; 0</code>" in odd
    parser = _TextCollector()
    parser.feed(odd)
    assert "script" not in parser.tags
    assert any("Pipes | and stars and bold & more" in t for t in parser.text)


# -- xlsx -------------------------------------------------------------------------------------
def _workbook(form, **kwargs):
    return load_workbook(BytesIO(render_codebook(form, fmt="xlsx", **kwargs)))


def test_xlsx_has_variables_and_value_labels_sheets():
    book = _workbook(ROSTER, language="zh")
    assert book.sheetnames == ["variables", "value_labels", "form"]
    variables = book["variables"]
    assert variables.freeze_panes == "A2"
    assert book["value_labels"].freeze_panes == "A2"
    header = [c.value for c in variables[1]]
    assert header == list(VARIABLE_COLUMNS)
    rows = [
        dict(zip(header, r, strict=True)) for r in variables.iter_rows(min_row=2, values_only=True)
    ]
    data_questions = [q for q in ROSTER.elements if not q.is_structure]
    assert [r["variable"] for r in rows] == [q.name for q in data_questions]
    b_sex = next(r for r in rows if r["variable"] == "b_sex")
    assert b_sex["repeat"] == "births"
    assert b_sex["question"] == "第${birth_no}个孩子的性别"
    assert b_sex["value_labels"] == "1=男; 2=女"
    assert b_sex["inherited_relevance"] == "woman: ${m_is_woman} = 1; births: ${w_births} > 0"
    assert next(r for r in rows if r["variable"] == "m_name")["pii"] == "yes"
    assert next(r for r in rows if r["variable"] == "start")["metadata"] == "yes"
    assert variables.column_dimensions["F"].width >= 20  # the question column is readable


def test_xlsx_value_labels_carry_filter_columns():
    book = _workbook(WASH)
    labels = book["value_labels"]
    header = [c.value for c in labels[1]]
    assert header == ["list_name", "code", "label", "urban", "used_by"]
    rows = list(labels.iter_rows(min_row=2, values_only=True))
    assert ("village", "510102", "Pixian", "2", "village") in rows
    assert ("treatment", "other", "Other", None, "water_treat") in rows or (
        "treatment",
        "other",
        "Other",
        "",
        "water_treat",
    ) in rows
    yes_no_dk = [r for r in rows if r[0] == "yes_no_dk"]
    assert yes_no_dk[0][4].startswith("toilet_shared, fies_worried")


def test_xlsx_writes_text_never_formulas_or_control_characters():
    form = read_markdown(
        "| survey |\n| | type | name | label | calculation | default |\n"
        "| | calculate | c | =1+1 label | 1 + 1 | |\n"
        '| | text | t | T | | =HYPERLINK("x") |\n'
    )
    book = _workbook(form)
    header = [c.value for c in book["variables"][1]]
    rows = [dict(zip(header, r, strict=True)) for r in book["variables"].iter_rows(min_row=2)]
    assert rows[0]["question"].value == "=1+1 label" and rows[0]["question"].data_type == "s"
    assert rows[1]["default"].value == '=HYPERLINK("x")' and rows[1]["default"].data_type == "s"
    from forms.codebook.workbook import _clean

    assert _clean("a\x00b\x1fc") == "a b c"


# -- determinism and every fixture -------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["md", "html", "xlsx"])
def test_output_is_deterministic(fmt):
    first = render_codebook(ROSTER, language="zh", fmt=fmt)
    again = render_codebook(read_form(fixture_path("household_roster")), language="zh", fmt=fmt)
    assert first == again


@pytest.mark.parametrize("stem", REAL_WORLD_FORMS)
def test_every_fixture_renders_every_variable(stem):
    form = read_form(fixture_path(stem))
    book = build_codebook(form)
    names = [e.name for e in book.entries()]
    assert names == [q.name for q in form.elements if not q.is_structure]
    text = md(form)
    page = html(form)
    for name in names:
        assert f"`{name}`" in text and f"<code>{name}</code>" in page
    assert _workbook(form)["variables"].max_row == len(names) + 1


@pytest.mark.parametrize("language", ["English (en)", "中文 (zh)"])
def test_every_xlsform_type_renders_in_every_format(language):
    form = read_markdown(fixture_text("all_types").replace("| label |", f"| label::{language} |"))
    extra = read_form(fixture_path("field_instruments"))
    for fmt in ("md", "html", "xlsx"):
        assert render_codebook(form, language=language, fmt=fmt)
        assert render_codebook(extra, fmt=fmt)
    book = build_codebook(form, language)
    assert all(entry.type_text for entry in book.entries())


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown codebook format 'pdf'"):
        render_codebook(ROSTER, fmt="pdf")  # type: ignore[arg-type]
