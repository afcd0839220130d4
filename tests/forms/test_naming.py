"""The naming scheme of exported variables (forms.naming): valid, short enough for Stata and
SPSS, unique ignoring case, deterministic, the same in the codebook and the files."""

from __future__ import annotations

from forms.codebook import build_codebook
from forms.naming import (
    NameRegistry,
    clean_name,
    dataset_columns,
    is_reserved,
    store_column_names,
)
from forms.reader import read_markdown

FORM = read_markdown(
    """
| survey |
| | type | name | label |
| | begin_group | a | A |
| | integer | x | X |
| | select_multiple colours | pick | Pick |
| | end_group | | |
| | begin_group | b | B |
| | integer | x | X again |
| | end_group | | |
| | begin_repeat | people | People |
| | text | name | Name |
| | begin_repeat | visits | Visits |
| | date | when | When |
| | end_repeat | | |
| | end_repeat | | |

| choices |
| | list_name | name | label |
| | colours | red-1 | Red |
| | colours | Red_1 | Also red |
"""
)


def test_clean_names():
    assert clean_name("group.name") == "group_name"
    assert clean_name("q/1") == "q_1"
    assert clean_name("_private") == "v_private"
    assert clean_name("2nd") == "v2nd"
    assert clean_name("x" * 40) == "x" * 32
    chinese = clean_name("长" * 30)
    assert chinese == "长" * 21 and len(chinese.encode()) == 63


def test_registry_unique_ignoring_case_and_reserved_words():
    registry = NameRegistry()
    assert registry.claim("Age") == "Age"
    assert registry.claim("age") == "age_2"
    assert registry.claim("in") == "in_2" and is_reserved("IN") and is_reserved("str12")
    long = "how_many_times_did_you_visit_the_health_centre"
    assert registry.claim(long) == long[:32]
    assert registry.claim(long + "_again") == long[:30] + "_2"


def test_dataset_columns_and_store_sources():
    main = dataset_columns(FORM, None)
    names = [c.name for c in main]
    assert names[0] == "submission_id"
    assert "x" in names and "x_2" in names  # the same name in two groups
    sources = {c.name: c.source for c in main}
    assert sources["x_2"] == "b.x" and store_column_names(FORM)["/data/b/x"] == "b.x"
    assert sources["pick_red_1"] == "pick/red-1"
    assert sources["pick_Red_1_2"] == "pick/Red_1"  # collides with red-1 once cleaned
    visits = [c.name for c in dataset_columns(FORM, "visits")]
    assert visits == ["submission_id", "row_key", "parent_key", "position", "when"]
    assert dataset_columns(FORM, None) == main  # deterministic


def test_codebook_records_both_names():
    entries = {e.question.xpath: e for e in build_codebook(FORM).entries()}
    entry = entries["/data/a/pick"]
    assert entry.export_columns == ("pick", "pick_red_1", "pick_Red_1_2")
    assert entry.store_columns == ("pick", "pick/red-1", "pick/Red_1")
    assert entries["/data/b/x"].export_columns == ("x_2",)
