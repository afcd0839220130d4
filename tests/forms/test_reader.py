"""forms.reader: every XLSForm column and type into the FormModel, from every file format."""

from __future__ import annotations

from dataclasses import replace

import pytest
from xlsform_files import (
    REAL_WORLD_FORMS,
    fixture_path,
    fixture_text,
    markdown_sheets,
    write_csv,
    write_xlsx,
)

from forms import FormModel, XLSFormError, read_form, read_markdown
from forms.reader import parse_type, repeat_select_source

ALL_TYPES = fixture_text("all_types")

EXPECTED_TYPES = {
    "start": ("start", None, False, None),
    "end": ("end", None, False, None),
    "today": ("today", None, False, None),
    "deviceid": ("deviceid", None, False, None),
    "username": ("username", None, False, None),
    "phonenumber": ("phonenumber", None, False, None),
    "audit": ("audit", None, False, None),
    "t": ("text", None, False, None),
    "i": ("integer", None, False, None),
    "d": ("decimal", None, False, None),
    "r": ("range", None, False, None),
    "s1": ("select_one", "yn", False, None),
    "s1o": ("select_one", "yn", True, None),
    "sm": ("select_multiple", "yn", False, None),
    "smo": ("select_multiple", "yn", True, None),
    "sf": ("select_one_from_file", "places.csv", False, "places.csv"),
    "smf": ("select_multiple_from_file", "regions.xml", False, "regions.xml"),
    "rk": ("rank", "yn", False, None),
    "c": ("calculate", None, False, None),
    "n": ("note", None, False, None),
    "gp": ("geopoint", None, False, None),
    "gt": ("geotrace", None, False, None),
    "gs": ("geoshape", None, False, None),
    "da": ("date", None, False, None),
    "dt": ("dateTime", None, False, None),
    "ti": ("time", None, False, None),
    "im": ("image", None, False, None),
    "au": ("audio", None, False, None),
    "vi": ("video", None, False, None),
    "fi": ("file", None, False, None),
    "bc": ("barcode", None, False, None),
    "g": ("begin_group", None, False, None),
    "rp": ("begin_repeat", None, False, None),
    "inner": ("text", None, False, None),
}


def test_every_xlsform_type_is_parsed_with_list_name_or_other_and_file_name():
    form = read_markdown(ALL_TYPES)
    found = {q.name: (q.type, q.list_name, q.or_other, q.file_name) for q in form.elements}
    assert found == EXPECTED_TYPES
    assert form["audit"].is_metadata and form["start"].is_metadata
    assert not form["t"].is_metadata
    assert form["s1"].is_select and form["rk"].is_select and form["sf"].is_select
    assert form["g"].is_group and form["rp"].is_repeat
    assert not form["n"].holds_data and form["c"].holds_data
    from pyxform.xls2xform import convert

    convert(xlsform=str(fixture_path("all_types")))  # the fixture is a real XLSForm


def test_the_type_cell_is_read_as_pyxform_reads_it():
    assert parse_type("select_one  yn   or_other") == parse_type("select_one yn or_other")
    assert parse_type("select one yn or specify other").or_other
    assert parse_type("select_multiple yn or other").or_other
    assert parse_type("select one from yn").type == "select_one"
    assert parse_type("select all that apply from yn").type == "select_multiple"
    assert parse_type("select_one yn extra words") is None
    assert parse_type("begin_repeat").type == "begin_repeat"
    assert parse_type("end group").end
    assert parse_type("get start time").type == "start"
    assert parse_type("not a type") is None


def test_columns_per_language_and_plain_columns():
    form = read_form(fixture_path("maternal_health_3lang"))
    age = form["resp_age"]
    en, fr, sw = "English (en)", "Français (fr)", "Kiswahili (sw)"
    assert form.languages == (en, fr, sw)
    assert form.default_language == sw
    assert age.label == {en: "How old are you?", fr: "Quel âge avez-vous ?", sw: "Una umri gani?"}
    assert age.hint[fr] == "En années révolues"
    assert age.guidance_hint[en] == "Check against the ID card if one is shown"
    assert age.constraint_message[sw] == "Umri lazima uwe 15 hadi 49"
    assert age.required_message == {
        en: "Age is needed",
        fr: "L'âge est nécessaire",
        sw: "Umri unahitajika",
    }
    assert age.required == "yes" and age.constraint == ". >= 15 and . <= 49"
    assert form["anc_visits"].default == "0"
    birth = form["facility_birth"]
    assert birth.read_only == "yes"
    assert birth.calculation.startswith("if(${delivery_place} = '1'")
    assert form["mother"].relevant == "${consent} = '1'"
    assert age.text("hint", "Français (fr)") == "En années révolues"
    assert age.text("hint", "no such language") == "In completed years"


def test_media_columns_in_both_spellings_are_media_not_extras():
    """Bug fixed: ``media::image::lang`` headers landed in ``extras`` (and in a choice list's
    filter columns) instead of ``media``."""
    form = read_form(fixture_path("maternal_health_3lang"))
    assert form["consent"].media == {
        "image::English (en)": "consent.png",
        "image::Français (fr)": "consentement.png",
        "image::Kiswahili (sw)": "ridhaa.png",
        "audio::Kiswahili (sw)": "ridhaa.mp3",
    }
    assert form["consent"].extras == {}
    places = form.choice_lists["delivery_place"]
    assert places.choices[0].media["image::Français (fr)"] == "hopital.png"
    assert places.filter_columns == ()


def test_a_language_with_only_media_columns_is_a_language_of_the_form():
    """Bug fixed: ``audio::Kiswahili (sw)`` without Kiswahili labels is a translation in
    the XForm (pyxform warns that its labels are missing) but was not among the model's
    languages, so the missing-translation lint could not see it."""
    form = read_markdown(
        "| survey |\n| | type | name | label::English (en) | audio::Kiswahili (sw) | image |\n"
        "| | text | a | A | a.mp3 | a.png |\n"
    )
    assert form.languages == ("English (en)", "Kiswahili (sw)")
    assert form["a"].media == {"audio::Kiswahili (sw)": "a.mp3", "image": "a.png"}


def test_parameters_default_read_only_trigger_and_repeat_count():
    form = read_form(fixture_path("field_instruments"))
    assert form["satisfaction"].parameters == {"start": "0", "end": "10", "step": "1"}
    assert form["soil_ph"].parameters["step"] == "0.5"
    assert form["soil_ph"].default == "7"
    assert form["crop_rank"].parameters == {"randomize": "true", "seed": "${seed}"}
    assert form["audit"].parameters == {
        "location-priority": "high-accuracy",
        "location-min-interval": "20",
        "location-max-age": "60",
        "track-changes": "true",
        "identify-user": "true",
    }
    assert form["plot_area_mu_shown"].read_only == "yes"
    assert form["centre_gps_bg"].trigger == "${plot_centre}"
    assert form["remarks"].default == "Nothing to report"
    assert form["start_gps"].type == "start-geopoint"
    assert form["bg_audio"].type == "background-audio"
    roster = read_form(fixture_path("household_roster"))
    assert roster["members"].repeat_count == "${hh_size}"
    assert roster["births"].repeat_count == "${w_births}"


def test_pii_column():
    form = read_form(fixture_path("household_roster"))
    assert {q.name for q in form.elements if q.pii} == {"hh_head_name", "hh_gps", "m_name"}
    assert read_markdown(ALL_TYPES)["i"].pii is False


def test_choice_lists_with_labels_per_language_and_filter_columns():
    wash = read_form(fixture_path("wash_food_security"))
    villages = wash.choice_lists["village"]
    assert villages.codes == ("110101", "510101", "510102", "513401")
    assert villages.filter_columns == ("urban",)
    assert villages.get("510102").extras == {"urban": "2"}
    assert villages.get("510102").row == 9
    assert (
        wash["village"].choice_filter
        == "district=${district} and (urban=${urban_only} or urban='9')"
    )
    assert wash.choices_for(wash["village"]) is villages
    roster = read_form(fixture_path("household_roster"))
    educ = roster.choice_lists["educ"]
    assert educ.get("98").label == {"English (en)": "Don't know", "中文 (zh)": "不知道"}
    assert educ.get("98").text("中文 (zh)") == "不知道"


def test_external_choices_and_files():
    form = read_form(fixture_path("facility_external"))
    lga = form.external_choice_lists["lga"]
    assert lga.sheet == "external_choices"
    assert lga.filter_columns == ("state",)
    assert form.choices_for(form["lga"]) is lga
    assert form["facility"].file_name == "facilities.csv"
    assert form["facility"].parameters == {"value": "facility_id", "label": "facility_name"}
    assert form["village_served"].file_name == "villages.geojson"
    assert (
        form["tracer_drug"].appearance == "search('drugs', 'matches', 'level', ${facility_level})"
    )
    assert form["staff"].type == "csv-external"
    assert form["catchment"].type == "xml-external"


def test_settings_and_entities():
    roster = read_form(fixture_path("household_roster"))
    assert roster.form_id == "dhs_household"
    assert roster.title == "DHS-style household questionnaire"
    assert roster.version == "2024112201"
    assert roster.instance_name == "concat('hh-', ${cluster}, '-', ${hh_num})"
    assert roster.settings["default_language"] == "English (en)"
    assert roster.root == "data"
    followup = read_form(fixture_path("household_followup_entities"))
    assert [dict(e) for e in followup.entities] == [
        {
            "list_name": "households",
            "label": "concat(${head_name}, ' (', ${hh_size_now}, ')')",
            "entity_id": "${household}",
            "update_if": "${outcome} = '1'",
        },
        {
            "list_name": "new_members",
            "label": "concat(${nm_name}, ' ', ${nm_birth_year})",
            "create_if": "${nm_name} != ''",
        },
    ]
    assert followup["hh_size_now"].extras == {"save_to": "households#hh_size"}
    assert followup["nm_sex"].extras == {"save_to": "new_members#sex"}


def test_settings_name_sets_the_root():
    form = read_markdown(
        "| settings |\n| | form_id | name |\n| | f | survey_root |\n"
        "| survey |\n| | type | name | label |\n| | text | a | A |\n"
    )
    assert form.root == "survey_root"
    assert form["a"].xpath == "/survey_root/a"


def test_enclosing_groups_repeats_and_xpaths():
    form = read_form(fixture_path("household_roster"))
    b_sex = form["b_sex"]
    assert b_sex.xpath == "/data/members/woman/births/b_sex"
    assert b_sex.enclosing == ("/data/members", "/data/members/woman", "/data/members/woman/births")
    assert b_sex.repeats == ("/data/members", "/data/members/woman/births")
    assert b_sex.repeat == "/data/members/woman/births"
    assert b_sex.parent == "/data/members/woman/births"
    assert form["cluster"].enclosing == ("/data/hh_id",) and form["cluster"].repeats == ()
    assert form["n_women"].xpath == "/data/n_women" and form["n_women"].repeat is None
    assert [r.name for r in form.repeats] == ["members", "births"]
    assert [g.name for g in form.groups] == ["hh_id", "woman"]
    assert [c.name for c in form.children("/data/members/woman")] == ["w_births", "births"]
    assert form.by_xpath("/data/members/m_age") is form["m_age"]
    assert form["m_age"].row == 20  # header row 1, then one row per line


def test_select_from_a_repeat_is_read():
    """Bug fixed: ``select_one ${m_name}`` (choices from the answers in a repeat) was
    refused as a select on an undefined choice list."""
    form = read_form(fixture_path("household_roster"))
    respondent = form["respondent"]
    assert respondent.type == "select_one" and respondent.list_name == "${m_name}"
    assert repeat_select_source(respondent) == "m_name"
    assert form.choices_for(respondent) is None


def test_select_from_a_name_outside_any_repeat_is_a_clear_error():
    markdown = (
        "| survey |\n| | type | name | label |\n| | text | a | A |\n| | select_one ${a} | b | B |\n"
    )
    with pytest.raises(XLSFormError) as err:
        read_markdown(markdown, name="bad.md")
    assert str(err.value).startswith("bad.md: sheet 'survey', row 3, column 'type':")
    assert "${a}" in str(err.value)


def test_older_type_spellings_pyxform_accepts_are_read():
    """Bug fixed: ``or specify other`` / ``or other`` and ``select one from LIST`` were
    rejected as unknown types although pyxform converts them."""
    markdown = (
        "| survey |\n| | type | name | label |\n"
        "| | select one from yn | a | A |\n"
        "| | select_one yn or specify other | b | B |\n"
        "| | select all that apply from yn | c | C |\n"
        "| choices |\n| | list_name | name | label |\n| | yn | 1 | Yes |\n"
    )
    form = read_markdown(markdown)
    assert (form["a"].type, form["a"].list_name, form["a"].or_other) == ("select_one", "yn", False)
    assert (form["b"].type, form["b"].or_other) == ("select_one", True)
    assert form["c"].type == "select_multiple"


def test_namespaced_bind_and_control_columns_are_the_plain_columns():
    """Bug fixed: ``bind::relevant``, ``bind::required``, ``control::appearance`` (as older
    tools export them, and as pyxform converts them) were kept as extras, so the model lost
    the question's relevance, constraint and required flag."""
    markdown = (
        "| survey |\n"
        "| | type | name | label | bind::relevant | bind::required | bind::constraint "
        "| bind::jr:constraintMsg | control::appearance | bind::calculate |\n"
        "| | integer | a | A | | yes | . < 10 | Too big | | |\n"
        "| | text | b | B | ${a} > 1 | | | | multiline | |\n"
        "| | calculate | c | | | | | | | ${a} * 2 |\n"
    )
    form = read_markdown(markdown)
    assert (form["a"].required, form["a"].constraint) == ("yes", ". < 10")
    assert form["a"].constraint_message == {"default": "Too big"}
    assert (form["b"].relevant, form["b"].appearance) == ("${a} > 1", "multiline")
    assert form["c"].calculation == "${a} * 2"
    assert all(not q.extras for q in form.elements)
    from pyxform.xls2xform import convert

    assert 'relevant=" /data/a  &gt; 1"' in convert(xlsform=markdown.encode()).xform


# -- the same form from every file format ---------------------------------------------------
def _without_source(form: FormModel) -> FormModel:
    return replace(form, source=None)


@pytest.mark.parametrize("stem", REAL_WORLD_FORMS)
def test_xlsx_and_csv_give_the_model_of_the_markdown(stem, tmp_path):
    from pyxform.xls2xform import convert

    expected = _without_source(read_form(fixture_path(stem)))
    sheets = markdown_sheets(fixture_text(stem))
    xlsx = write_xlsx(sheets, tmp_path / f"{stem}.xlsx")
    csv = write_csv(sheets, tmp_path / f"{stem}.csv")
    assert _without_source(read_form(xlsx)) == expected
    assert _without_source(read_form(csv)) == expected
    convert(xlsform=str(xlsx))  # the written workbook is a real XLSForm too
    assert read_form(xlsx).source == f"{stem}.xlsx"


def test_xls_gives_the_model_of_the_markdown():
    """The legacy .xls is read through pyxform's xlrd backend; the file was made once by
    tests/fixtures/forms/make_xls.py (nothing maintained writes .xls any more)."""
    xls = fixture_path("household_roster", ".xls")
    assert _without_source(read_form(xls)) == _without_source(
        read_form(fixture_path("household_roster"))
    )


def test_bytes_with_a_name_read_like_the_file(tmp_path):
    sheets = markdown_sheets(fixture_text("wash_food_security"))
    path = write_xlsx(sheets, tmp_path / "wash.xlsx")
    from_bytes = read_form(path.read_bytes(), name="wash.xlsx")
    assert from_bytes == read_form(path)
    assert from_bytes.form_id == "wash_fies"


def test_form_id_falls_back_to_the_file_stem(tmp_path):
    path = tmp_path / "my_form.md"
    path.write_text("| survey |\n| | type | name | label |\n| | text | a | A |\n")
    form = read_form(path)
    assert form.form_id == "my_form" and form.title == "my_form" and form.version is None
    assert form.languages == ("default",)
