"""Real-world-style XLSForms that popsurvey did not design read into the FormModel.

The fixtures in tests/fixtures/forms imitate forms from the field (DHS-style roster with
nested repeats, WASH with or_other and cascading selects, three languages with media,
external selects and search(), entity declarations, field-instrument types). Each must be a
real XLSForm (pyxform converts it, ODK Validate accepts it when Java is present) and read
without error. One more form, a migrant-survey individual questionnaire, is written here as
an .xlsx by openpyxl, the way most users hand one in.
"""

from __future__ import annotations

import os
import shutil

import pytest
from pyxform.xls2xform import convert
from xlsform_files import REAL_WORLD_FORMS, fixture_path, write_xlsx

from forms import FormModel, read_form

# fmt: off
MIGRANT_SHEETS = {
    "survey": [
        ["type", "name", "label::中文 (zh)", "label::English (en)", "hint::中文 (zh)",
         "hint::English (en)", "required", "relevant", "constraint",
         "constraint_message::中文 (zh)", "constraint_message::English (en)", "calculation",
         "choice_filter", "appearance", "pii"],
        ["start", "start"],
        ["end", "end"],
        ["deviceid", "deviceid"],
        ["audit", "audit"],
        ["begin_group", "id", "样本信息", "Sample"],
        ["text", "resp_name", "受访者姓名", "Respondent's name", "", "", "yes", "", "", "", "",
         "", "", "", "yes"],
        ["integer", "birth_year", "出生年份", "Year of birth", "", "", "yes", "",
         ". >= 1950 and . <= 2011", "1950-2011年", "1950 to 2011"],
        ["end_group", ""],
        ["select_one province", "hukou_prov", "户籍所在省", "Province of hukou", "", "", "yes",
         "", "", "", "", "", "", "minimal"],
        ["select_one city", "hukou_city", "户籍所在地市", "City of hukou", "", "", "yes", "", "",
         "", "", "", "prov=${hukou_prov}", "minimal"],
        ["select_one move_range", "move_range", "本次流动范围", "Range of this move", "", "",
         "yes"],
        ["select_multiple reason or_other", "move_reason", "本次流动原因", "Why did you move?",
         "可多选", "Select all that apply", "yes"],
        ["integer", "months_here", "本次流入时长（月）", "Months since arriving", "", "", "yes",
         "", ". >= 1 and . <= 600", "至少1个月", "At least 1 month"],
        ["select_one yes_no", "health_record", "是否建立居民健康档案", "Has a health record?",
         "", "", "yes"],
        ["select_one intention", "stay_intention", "今后是否打算在本地长期居住（5年以上）",
         "Intends to stay 5+ years?", "", "", "yes", "${months_here} >= 1"],
        ["calculate", "age", "", "", "", "", "", "", "", "", "",
         "2026 - ${birth_year}"],
    ],
    "choices": [
        ["list_name", "name", "label::中文 (zh)", "label::English (en)", "prov"],
        ["province", "44", "广东", "Guangdong"],
        ["province", "51", "四川", "Sichuan"],
        ["city", "4401", "广州", "Guangzhou", "44"],
        ["city", "4403", "深圳", "Shenzhen", "44"],
        ["city", "5101", "成都", "Chengdu", "51"],
        ["move_range", "1", "跨省", "Across provinces"],
        ["move_range", "2", "省内跨市", "Across cities within the province"],
        ["move_range", "3", "市内跨县", "Across counties within the city"],
        ["reason", "1", "务工经商", "Work or business"],
        ["reason", "2", "随同流动", "Accompanying family"],
        ["reason", "3", "婚姻嫁娶", "Marriage"],
        ["reason", "4", "拆迁搬家", "Relocation"],
        ["yes_no", "1", "是", "Yes"],
        ["yes_no", "2", "否", "No"],
        ["yes_no", "8", "不清楚", "Don't know"],
        ["intention", "1", "打算", "Yes"],
        ["intention", "2", "不打算", "No"],
        ["intention", "3", "没想好", "Not decided"],
    ],
    "settings": [
        ["form_id", "form_title", "version", "default_language", "instance_name"],
        ["cmds_individual", "流动人口动态监测个人问卷", "2026010101", "中文 (zh)",
         "concat(${resp_name}, '-', ${birth_year})"],
    ],
}
# fmt: on


def _convert(path) -> None:
    warnings: list[str] = []
    result = convert(xlsform=str(path), warnings=warnings)
    assert "<h:html" in result.xform


@pytest.mark.parametrize("stem", REAL_WORLD_FORMS)
def test_fixture_is_a_real_xlsform_and_reads(stem):
    path = fixture_path(stem)
    _convert(path)
    form = read_form(path)
    assert form.elements
    assert FormModel.from_json(form.to_json()) == form


def test_migrant_form_written_as_xlsx_is_a_real_xlsform_and_reads(tmp_path):
    path = write_xlsx(MIGRANT_SHEETS, tmp_path / "cmds_individual.xlsx")
    _convert(path)
    form = read_form(path)
    assert form.form_id == "cmds_individual"
    assert form.title == "流动人口动态监测个人问卷"
    assert form.languages == ("中文 (zh)", "English (en)")
    assert form.default_language == "中文 (zh)"
    assert form["birth_year"].xpath == "/data/id/birth_year"
    assert form["birth_year"].constraint_message["English (en)"] == "1950 to 2011"
    assert form["hukou_city"].choice_filter == "prov=${hukou_prov}"
    assert form.choice_lists["city"].filter_columns == ("prov",)
    assert form["move_reason"].or_other and form["move_reason"].type == "select_multiple"
    assert form["resp_name"].pii
    assert form.version == "2026010101"  # written as a number by openpyxl


def test_nested_repeats_household_members_births():
    form = read_form(fixture_path("household_roster"))
    assert form["births"].repeats == ("/data/members",)
    assert form["b_dob"].repeats == ("/data/members", "/data/members/woman/births")
    assert form["woman"].relevant == "${m_is_woman} = 1"
    assert form["respondent"].list_name == "${m_name}"


def test_or_other_cascades_and_rank():
    form = read_form(fixture_path("wash_food_security"))
    assert form["water_main"].or_other and form["water_treat"].or_other
    assert form["district"].choice_filter == "province=${province}"
    assert form.choice_lists["district"].filter_columns == ()
    assert form["water_problems"].type == "rank"
    assert form["fies"].appearance == "table-list"


def test_entities_and_external_selects():
    entities = read_form(fixture_path("household_followup_entities"))
    assert [e["list_name"] for e in entities.entities] == ["households", "new_members"]
    assert entities["nm_name"].repeat == "/data/new_member"
    external = read_form(fixture_path("facility_external"))
    assert external["lga"].type == "select_one_external"
    assert "search(" in external["tracer_drug"].appearance


def _java_or_skip() -> None:
    if shutil.which("java"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but no Java runtime: ODK Validate cannot run")
    pytest.skip("no Java runtime: ODK Validate (bundled in pyxform) cannot run")


@pytest.mark.java
@pytest.mark.parametrize("stem", REAL_WORLD_FORMS)
def test_fixture_passes_odk_validate(stem):
    _java_or_skip()
    convert(xlsform=str(fixture_path(stem)), validate=True)
