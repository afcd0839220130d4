"""``pull`` reads survey.toml's [central] section and asks for the password only once it
knows the server (issue #12, item 16); run on the fake Central."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from surveys.cli import main
from tests.fake_central.fixture import household_form

ENV = (
    "POPSURVEY_CENTRAL_URL",
    "POPSURVEY_CENTRAL_USER",
    "POPSURVEY_CENTRAL_PASSWORD",
    "POPSURVEY_CENTRAL_PROJECT",
    "POPSURVEY_DB",
)


@pytest.fixture
def survey(fake, tmp_path, monkeypatch):
    """A survey folder whose survey.toml names the fake Central; no Central variables."""
    from surveys.example import write_example

    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    fake.central.add_form(1, household_form())
    write_example(tmp_path, force=True)
    toml = tmp_path / "survey.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('url = "https://central.example.org"', f'url = "{fake.url}"', 1)
    text = text.replace("# project_id = 3", "project_id = 1", 1)
    toml.write_text(text, encoding="utf-8")
    return tmp_path


def test_pull_in_a_survey_folder_uses_its_central_section(survey, monkeypatch):
    monkeypatch.chdir(survey)
    monkeypatch.setenv("POPSURVEY_CENTRAL_USER", "admin@example.org")
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", "correct horse")
    form_id = household_form().form_id
    result = CliRunner().invoke(main, ["pull", form_id, "--db", "store.db", "-q"])
    assert result.exit_code == 0, result.output
    assert f"{form_id}: 0 received" in result.output


def test_pull_for_a_survey_folder_with_config_asks_the_password_last(survey, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    form_id = household_form().form_id
    config = ["-c", str(survey / "survey.toml"), "--user", "admin@example.org"]
    result = CliRunner().invoke(
        main,
        ["pull", form_id, *config, "--db", str(elsewhere / "store.db"), "-q"],
        input="correct horse\n",
    )
    assert result.exit_code == 0, result.output
    assert "Central password for admin@example.org at http" in result.output
    assert "correct horse" not in result.output


def test_without_a_url_nothing_is_asked_and_the_error_says_where_to_set_it(tmp_path, monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["pull", "hh", "--user", "a@b.org"], input="secret\n")
    assert result.exit_code == 1
    assert "password" not in result.output.lower()
    assert "Central settings missing: POPSURVEY_CENTRAL_URL (or [central] url in survey.toml)" in (
        result.output
    )
    assert list(tmp_path.iterdir()) == []  # no store created either


def test_missing_settings_name_the_survey_toml_read(survey, tmp_path_factory, monkeypatch):
    """./survey.toml or the one given with -c: read once, and named when it lacks a setting."""
    toml = survey / "survey.toml"
    text = toml.read_text(encoding="utf-8").replace("project_id = 1", "# project_id = 1", 1)
    toml.write_text(text, encoding="utf-8")
    monkeypatch.setenv("POPSURVEY_CENTRAL_USER", "admin@example.org")
    monkeypatch.chdir(survey)
    here = CliRunner().invoke(main, ["pull", "hh", "-q"], input="secret\n")
    assert here.exit_code == 1 and "Traceback" not in here.output
    assert "POPSURVEY_CENTRAL_PROJECT (or [central] project_id in survey.toml)" in here.output
    assert f"({toml} read)" in here.output
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    given = CliRunner().invoke(main, ["pull", "hh", "-q", "-c", str(toml)], input="secret\n")
    assert given.exit_code == 1 and f"({toml} read)" in given.output
    assert "password" not in given.output.lower()


def test_credentials_from_the_pyodk_config_that_survey_toml_names(survey, monkeypatch):
    pyodk = survey / "private" / "pyodk.toml"
    pyodk.parent.mkdir()
    pyodk.write_text(
        '[central]\nbase_url = "http://unused.example"\nusername = "admin@example.org"\n'
        'password = "correct horse"\ndefault_project_id = 9\n',
        encoding="utf-8",
    )
    toml = survey / "survey.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace(
        '# pyodk_config = "~/.config/pyodk/config.toml"', 'pyodk_config = "private/pyodk.toml"'
    )
    toml.write_text(text, encoding="utf-8")
    monkeypatch.chdir(survey)
    result = CliRunner().invoke(main, ["pull", household_form().form_id, "--db", "s.db", "-q"])
    assert result.exit_code == 0, result.output  # survey.toml's url and project win
    assert "password" not in result.output.lower()
