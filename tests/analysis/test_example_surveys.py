"""The example surveys: `popsurvey init --example migrants`, and the seed a survey.toml says."""

from __future__ import annotations

from click.testing import CliRunner

from surveys.cli import main
from surveys.config import load_config
from surveys.example import write_example


def test_init_writes_the_migrant_survey(tmp_path):
    result = CliRunner().invoke(main, ["init", str(tmp_path), "--example", "migrants"])
    assert result.exit_code == 0, result.output
    config = load_config(tmp_path / "survey.toml")
    assert config.id == "qingshan-migrants-2027"
    assert [q.name for q in config.questionnaires] == ["migrants.xlsx"]
    weighting = config.weighting
    assert weighting.form == "migrants" and weighting.selection is None
    assert weighting.age == "b_age"
    assert [t.variable for t in weighting.targets] == ["province", "b01_sex", "age_group"]
    assert config.sample.size == "migrants"


def test_the_fertility_example_says_how_it_is_weighted(tmp_path):
    write_example(tmp_path)
    weighting = load_config(tmp_path / "survey.toml").weighting
    assert (weighting.form, weighting.classes, weighting.selection) == (
        "fertility",
        ("stratum",),
        "n_elig",
    )


def test_the_seed_written_is_the_seed_given(tmp_path):
    write_example(tmp_path, seed=123456)
    assert load_config(tmp_path / "survey.toml").sample.seed == 123456
