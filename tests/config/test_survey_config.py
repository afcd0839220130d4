"""survey.toml: the example validates; every kind of mistake gives one line naming file and key."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil

import pytest

from surveys.config import (
    SCHEMA_DIR,
    QualityConfig,
    load_config,
    load_schema,
    validate_document,
)
from surveys.errors import ConfigError
from surveys.example import EXAMPLE, write_example

MINIMAL = 'id = "s1"\ntitle = "A survey"\n'


@pytest.fixture
def example(tmp_path):
    write_example(tmp_path)
    return tmp_path / "survey.toml"


def write(tmp_path, text):
    path = tmp_path / "survey.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "\n" not in text
    return text


def test_the_example_written_by_init_is_valid(example):
    config = load_config(example)
    assert config.id == "qingshan-fertility-2027"
    assert config.fieldwork.start == dt.date(2027, 7, 1)
    assert config.fieldwork.timezone == "Asia/Shanghai"
    assert config.codes.dont_know == (98,) and config.codes.refused == (99,)
    assert config.sample.frame == example.parent / "frame" / "qingshan_frame.csv"
    assert config.sample.frame.is_file()
    assert config.sample.stages[0].unit == "village_id"
    assert config.sample.households.reserve == 5
    assert config.sample.persons.method == "kish"
    assert len(config.enumerators) == 40
    assert config.enumerator("enum001").area == "379902"
    assert config.quality == QualityConfig()
    assert config.weighting.targets[0].margins["15-24"] == 0.19
    assert all(q.is_file() for q in config.questionnaires)


def test_example_mentions_every_core_section():
    text = EXAMPLE.read_text(encoding="utf-8")
    for section in load_schema()["properties"]:
        if section not in {"id", "title", "questionnaires"}:
            assert f"[{section}]" in text or f"[[{section}." in text, section


def test_config_is_frozen(example):
    config = load_config(example)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.raw["id"] = "other"  # type: ignore[index]
    assert config.section("quality")["near_duplicate_share"] == 0.85
    assert config.section("nothing") == {}


def test_defaults_follow_the_domain_brief():
    q = QualityConfig()
    assert q.near_duplicate_share == 0.85
    assert (q.outlier_iqr_multiplier, q.outlier_sd_multiplier) == (1.5, 3.0)
    assert q.gps_cluster_km == 0.1
    assert (q.backcheck_share, q.backcheck_share_max, q.backcheck_error_rate) == (0.1, 0.2, 0.1)
    assert (q.birth_interval_months, q.mother_child_age_gap) == (9, 12)
    assert q.srb_range == (100.0, 115.0)


def test_minimal_file(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config.sample is None and config.enumerators == () and config.central is None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'size = "population"',
            'sise = "population"',
            "survey.toml: sample.sise: unknown key (did you mean 'size'?)",
        ),
        ("[codes]", "[kodes]", "survey.toml: kodes: unknown key"),
        ("n = 64 ", 'n = "64" ', "survey.toml: sample.n: expected integer, got string '64'"),
        (
            'allocation = "proportional"',
            'allocation = "optimal"',
            "survey.toml: sample.allocation: 'optimal' is not one of",
        ),
        (
            "start = 2027-07-01",
            'start = "1 July"',
            "survey.toml: fieldwork.start: '1 July' is not a valid date",
        ),
        (
            "end = 2027-08-31",
            "end = 2027-06-30",
            "survey.toml: fieldwork.end: 2027-06-30 is before fieldwork.start",
        ),
        (
            'timezone = "Asia/Shanghai"',
            'timezone = "Asia/Beijing"',
            "survey.toml: fieldwork.timezone: unknown time zone 'Asia/Beijing'",
        ),
        (
            'url = "https://central.example.org"',
            'url = "central.example.org"',
            "survey.toml: central.url: 'central.example.org' does not match",
        ),
        (
            'entity_list = "households"',
            'entity_list = "households"\npassword = "hunter2"',
            "survey.toml: central.password: credentials never go in survey.toml",
        ),
        (
            'method = "systematic_pps"',
            'method = "pps"',
            "survey.toml: sample.stages[0].method: 'pps' is not one of",
        ),
        (
            'unit = "village_id"',
            'unit = "village_id"\nper_unit = 2',
            "survey.toml: sample.stages[0].per_unit: the first stage's size comes from",
        ),
        (
            "srb_range = [100, 115]",
            "srb_range = [115, 100]",
            "survey.toml: quality.srb_range: lower bound must be below upper",
        ),
        (
            "near_duplicate_share = 0.85",
            "near_duplicate_share = 1.5",
            "survey.toml: quality.near_duplicate_share: 1.5 is greater than the maximum of 1",
        ),
        (
            'variable = "age_group"',
            'variable = "age_group"\nfile = "m.csv"',
            "survey.toml: weighting.targets[0]: give either 'margins' or 'file'",
        ),
        (
            'id = "qingshan-fertility-2027"',
            'id = "2027 survey"',
            "survey.toml: id: '2027 survey' does not match",
        ),
        (
            'frame = "frame/qingshan_frame.csv"',
            "",
            "survey.toml: sample.frame: required key is missing",
        ),
        (
            'allocation = "proportional"',
            'allocation = "fixed"',
            "survey.toml: sample.stratum_n: required when allocation = 'fixed'",
        ),
    ],
)
def test_mistakes_name_the_file_and_key(example, old, new, message):
    text = example.read_text(encoding="utf-8")
    assert old in text
    write(example.parent, text.replace(old, new, 1))
    assert error_of(example).startswith(message)


def test_not_toml_and_missing_file(tmp_path):
    assert error_of(write(tmp_path, "id = \n")).startswith("survey.toml: not valid TOML:")
    assert "file not found" in error_of(tmp_path / "none.toml")


def test_roster_problems_name_the_row(tmp_path):
    (tmp_path / "roster.csv").write_text(
        "id,name,team,supervisor,area\nenum1,王芳,t1,s1,A\nenum1,李娜,t1,s1,A\n", encoding="utf-8"
    )
    path = write(tmp_path, MINIMAL + '[enumerators]\nroster = "roster.csv"\n')
    assert error_of(path) == "roster.csv: row 3: duplicate id 'enum1' (first at row 2)"
    (tmp_path / "roster.csv").write_text("id,name,area\nenum 1,王芳,A\n", encoding="utf-8")
    assert error_of(path).startswith("roster.csv: row 2: id 'enum 1' must be letters")


def test_inline_members_and_duplicates(tmp_path):
    member = '[[enumerators.members]]\nid = "e1"\nname = "王芳"\narea = "A"\n'
    config = load_config(write(tmp_path, MINIMAL + member))
    assert config.enumerators[0].name == "王芳"
    assert "duplicate enumerator id 'e1'" in error_of(write(tmp_path, MINIMAL + member * 2))
    broken = member.replace('area = "A"\n', "")
    assert error_of(write(tmp_path, MINIMAL + broken)).startswith(
        "survey.toml: enumerators.members[0].area: required key is missing"
    )


def test_x_keys_are_free(tmp_path):
    config = load_config(write(tmp_path, MINIMAL + "x_local = { anything = 1 }\n"))
    assert config.raw["x_local"]["anything"] == 1


def test_a_later_stage_adds_a_section_by_dropping_in_a_schema(tmp_path):
    schema_dir = tmp_path / "schema"
    shutil.copytree(SCHEMA_DIR, schema_dir)
    (schema_dir / "sections" / "exports.schema.json").write_text(
        json.dumps(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"formats": {"type": "array"}},
            }
        ),
        encoding="utf-8",
    )
    document = {"id": "s", "title": "t", "exports": {"formats": ["sav"]}}
    validate_document(document, "survey.toml", schema_dir)
    with pytest.raises(ConfigError, match=r"survey.toml: exports.format: unknown key"):
        validate_document({**document, "exports": {"format": "sav"}}, "survey.toml", schema_dir)
    with pytest.raises(ConfigError, match="exports: unknown key"):
        validate_document(document, "survey.toml")  # the shipped schema does not know it


def test_type_errors_use_toml_names(example):
    text = example.read_text(encoding="utf-8")
    write(example.parent, text.replace("seed = 20270701", "seed = 1\nstratum_sd = 3", 1))
    assert error_of(example) == (
        "survey.toml: sample.stratum_sd: expected string or table, got integer 3"
    )
