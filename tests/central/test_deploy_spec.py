"""survey.toml to a deployment plan, without a server: versions, attachments, roles, the
entity list, and the errors a survey manager can fix from the message."""

from __future__ import annotations

import base64
import zlib

import pytest

from surveys.central.collect_qr import collect_settings, decode_settings, encode_settings
from surveys.central.errors import DeployError
from surveys.deployment import survey_spec
from tests.central.deploy_support import Survey


@pytest.fixture
def survey(tmp_path):
    return Survey(tmp_path / "survey", "https://central.example.org", "Test project")


def test_versions_follow_the_content(survey):
    first = {f.form_id: f for f in survey_spec(survey.config()).forms}
    assert first["hh"].version.startswith("2027010101-") and first["hh"].derived
    assert survey_spec(survey.config()).forms == tuple(first.values())  # reproducible
    (survey.folder / "forms" / "villages.csv").write_text("name,label\nv1,Village one\n")
    second = {f.form_id: f for f in survey_spec(survey.config()).forms}
    assert second["visit"].version != first["visit"].version  # an attachment changed
    assert second["hh"].version == first["hh"].version
    survey.versions = {"hh": "2027-a"}
    survey.write()
    third = {f.form_id: f for f in survey_spec(survey.config()).forms}
    assert third["hh"].version == "2027-a" and not third["hh"].derived


def test_attachments_roles_and_entities(survey):
    spec = survey_spec(survey.config())
    forms = {f.form_id: f for f in spec.forms}
    assert forms["hh"].entity_files == {"households.csv"} and not forms["hh"].files
    assert set(forms["visit"].files) == {"villages.csv"}
    assert {u.name: u.forms for u in spec.app_users} == {
        "e1": ("hh", "visit"),
        "e2": ("hh", "visit"),
        "s1": ("visit",),
    }
    assert spec.entities.dataset == "households"
    assert spec.entities.properties[-1] == "visit_status"
    assert {r.data["visit_status"] for r in spec.entities.rows} == {"open"}
    assert spec.project_name == "Test project" and spec.project_id is None


def test_a_missing_attachment_names_the_file(survey):
    (survey.folder / "forms" / "villages.csv").unlink()
    with pytest.raises(DeployError, match=r"visit.md: attachment villages.csv not found"):
        survey_spec(survey.config())


def test_a_missing_entity_list_says_to_assign_the_sample(survey):
    (survey.folder / "entities.csv").unlink()
    with pytest.raises(DeployError, match=r"run `popsurvey sample assign` first"):
        survey_spec(survey.config())


def test_an_unknown_form_in_a_role_is_named(survey):
    survey.toml.write_text(survey.toml.read_text().replace('supervisor = ["visit"]',
                                                           'supervisor = ["visits"]'))  # fmt: skip
    with pytest.raises(DeployError, match=r"deploy.forms.supervisor: 'visits' is not"):
        survey_spec(survey.config())


def test_a_repeated_household_is_refused_with_its_row(survey):
    survey.entities.append(dict(survey.entities[0]))
    survey.write()
    with pytest.raises(DeployError, match=r"entities.csv: row 7: name .* repeated"):
        survey_spec(survey.config())


def test_collect_settings_round_trip_in_centrals_format():
    settings = collect_settings("https://c.example.org/", "TOKEN", 7, "Qingshan", "enum01")
    payload = encode_settings(settings)
    assert zlib.decompress(base64.b64decode(payload)).startswith(b'{"general":')
    assert decode_settings(payload) == settings
    assert settings["general"]["server_url"] == "https://c.example.org/v1/key/TOKEN/projects/7"


def test_entity_names_must_be_uuids(survey):
    survey.entities[2]["name"] = "hh-0003"
    survey.write()
    with pytest.raises(DeployError, match=r"row 4: name 'hh-0003' is not a version 4 UUID"):
        survey_spec(survey.config())
    # Central accepts version 4 UUIDs only (a name-based version 5 one is 400.11)
    survey.entities[2]["name"] = "0b3b3c8d-5d2e-5f5c-9b6a-2f1e6d7c8a90"
    survey.write()
    with pytest.raises(DeployError, match=r"row 4: .* is not a version 4 UUID"):
        survey_spec(survey.config())
