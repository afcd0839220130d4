"""``popsurvey deploy``, ``status`` and review write-back end to end, with the errors a
survey manager meets (wrong password, missing project, an XLSForm Central rejects, no
network): one line, exit 1, no secret in any output."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from surveys.central.review import ReviewDecision, write_reviews
from surveys.cli import main
from tests.central.deploy_support import submit_as


@pytest.fixture
def survey(deploy_target, tmp_path, monkeypatch):
    for name, value in deploy_target.env().items():
        monkeypatch.setenv(name, value)
    return deploy_target.survey(tmp_path / "survey")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_deploy_says_where_the_codes_are_and_never_prints_a_secret(deploy_target, survey):
    result = invoke("deploy", survey.folder)
    assert result.exit_code == 0, result.output
    folder = survey.folder / "deploy"
    assert f"QR codes and team sheets: {folder}/" in result.output
    assert "publish form" in result.output and "create app user e1" in result.output
    tokens = [line.split(",")[1] for line in (folder / "tokens.csv").read_text().split()[1:]]
    assert len(tokens) == 3
    for secret in [*tokens, deploy_target.password]:
        assert secret not in result.output
    again = invoke("deploy", survey.folder / "survey.toml")
    assert again.exit_code == 0, again.output
    assert "deploy did: nothing to change" in again.output


def test_dry_run_prints_the_plan_and_writes_nothing(deploy_target, survey):
    result = invoke("deploy", survey.folder, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"would create project '{deploy_target.project_name}'" in result.output
    assert "would publish form" in result.output
    assert "deploy would do: " in result.output and "2 publish" in result.output
    assert not (survey.folder / "deploy").exists()
    assert deploy_target.project_name not in [
        p["name"] for p in deploy_target.client().projects.list()
    ]


def test_status_shows_central_store_entities_and_app_users(
    deploy_target, survey, tmp_path, monkeypatch
):
    assert invoke("deploy", survey.folder, "-q").exit_code == 0
    client = deploy_target.client()
    client.project_id = next(
        p["id"] for p in client.projects.list() if p["name"] == deploy_target.project_name
    )
    token = next(u["token"] for u in client.app_users.list() if u["displayName"] == "e2")
    version = client.forms.get(survey.visit_id)["version"]
    url = f"{deploy_target.url}/v1/key/{token}/projects/{client.project_id}"
    submit_as(url, survey.visit_id, version, {"village": "v1", "note": "n"})
    db = tmp_path / "store.db"
    before = invoke("status", survey.folder, "--db", db)
    assert before.exit_code == 0, before.output
    assert "store: none yet" in before.output and not db.exists()  # status creates nothing
    e2 = next(line for line in before.output.splitlines() if line.startswith("e2 "))
    assert e2.split()[1:] == ["active", "0/0", "1/0"]
    monkeypatch.setenv("POPSURVEY_CENTRAL_URL", deploy_target.url)
    monkeypatch.setenv("POPSURVEY_CENTRAL_PROJECT", str(client.project_id))
    pulled = invoke("pull", survey.visit_id, "--db", db, "-q")
    assert pulled.exit_code == 0, pulled.output
    result = invoke("status", survey.folder, "--db", db)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"project {client.project_id} '{deploy_target.project_name}'")
    e2 = next(line for line in lines if line.startswith("e2 "))
    assert e2.split()[1:] == ["active", "0/0", "1/1"]
    visit = next(line for line in lines if line.startswith(survey.visit_id + " "))
    assert visit.split()[2:4] == ["1", "1"] and "never" not in visit
    assert "entities: 5 open, 0 closed (visit_status)" in lines
    assert "app users: 3 active, 0 revoked" in lines


def test_review_write_back_is_idempotent(deploy_target, survey):
    assert invoke("deploy", survey.folder, "-q").exit_code == 0
    client = deploy_target.client()
    client.project_id = next(
        p["id"] for p in client.projects.list() if p["name"] == deploy_target.project_name
    )
    token = next(u["token"] for u in client.app_users.list() if u["displayName"] == "e1")
    version = client.forms.get(survey.visit_id)["version"]
    url = f"{deploy_target.url}/v1/key/{token}/projects/{client.project_id}"
    for note in ("a", "b"):
        submit_as(url, survey.visit_id, version, {"village": "v1", "note": note})
    ids = sorted(r["instanceId"] for r in client.get_json(
        client.project_path("forms", survey.visit_id, "submissions")))  # fmt: skip
    decisions = [
        ReviewDecision(ids[0], "hasIssues", "GPS 3 km from the dwelling (Q105)"),
        ReviewDecision(ids[1], "approved"),
    ]
    first = write_reviews(client, survey.visit_id, decisions)  # four sessions side by side
    assert (first.states_set, first.comments_added, first.unchanged) == (2, 1, 0)
    deploy_target.writes.clear()
    second = write_reviews(client, survey.visit_id, decisions, workers=1)  # writes counted
    assert (second.states_set, second.comments_added, second.unchanged) == (0, 0, 2)
    assert deploy_target.writes == []
    third = write_reviews(client, survey.visit_id, decisions)
    assert (third.states_set, third.comments_added, third.unchanged) == (0, 0, 2)
    comments = client.submissions.comments(survey.visit_id, ids[0])
    assert [c["body"] for c in comments] == ["GPS 3 km from the dwelling (Q105)"]
    states = {i: client.submissions.get(survey.visit_id, i)["reviewState"] for i in ids}
    assert states == {ids[0]: "hasIssues", ids[1]: "approved"}


def test_wrong_password_is_one_line_without_the_password(deploy_target, survey, monkeypatch):
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", "not-the-Password-42")
    result = invoke("deploy", survey.folder)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert "refused the login" in result.output and "not-the-Password-42" not in result.output


def test_missing_project_is_a_clear_error(deploy_target, survey):
    text = survey.toml.read_text().replace(
        f'project_name = "{survey.project_name}"', "project_id = 99999"
    )
    survey.toml.write_text(text)
    result = invoke("deploy", survey.folder)
    assert result.exit_code == 1
    assert "Central project 99999 does not exist" in result.output
    assert result.output.count("\n") == 1


def test_central_rejecting_an_xlsform_says_why(deploy_target, survey):
    from surveys.central import CentralError
    from surveys.deployment import XLSX

    client = deploy_target.client()
    client.project_id = client.projects.create(deploy_target.project_name)["id"]
    with pytest.raises(CentralError) as caught:
        client.forms.create(b"PK\x03\x04 not a workbook", XLSX, fallback_id="broken")
    message = str(caught.value)
    assert "(400.15)" in message and "XLSForm" in message and "\n" not in message


def test_unreachable_central_is_one_line(survey):
    text = survey.toml.read_text().replace(survey.url, "http://127.0.0.1:9")
    survey.toml.write_text(text)
    result = invoke("deploy", survey.folder, "--retries", "0", "--timeout", "2")
    assert result.exit_code == 1
    assert "cannot reach Central at http://127.0.0.1:9" in result.output
    assert result.output.count("\n") == 1


def test_credentials_from_a_pyodk_config_file(deploy_target, survey, tmp_path, monkeypatch):
    monkeypatch.delenv("POPSURVEY_CENTRAL_USER")
    monkeypatch.delenv("POPSURVEY_CENTRAL_PASSWORD")
    missing = invoke("deploy", survey.folder, "--dry-run")
    assert missing.exit_code == 1 and "no Central account" in missing.output
    config = tmp_path / "pyodk.toml"
    config.write_text(
        f'[central]\nbase_url = "{deploy_target.url}"\nusername = "{deploy_target.user}"\n'
        f'password = "{deploy_target.password}"\ndefault_project_id = 1\n'
    )
    monkeypatch.setenv("PYODK_CONFIG_FILE", str(config))
    result = invoke("deploy", survey.folder, "--dry-run")
    assert result.exit_code == 0, result.output
    assert deploy_target.password not in result.output


def test_revoking_keeps_the_key_out_of_errors_and_logs(deploy_target, survey, caplog):
    if deploy_target.fake is None:
        pytest.skip("needs the fake's fault injection")
    from tests.fake_central import Fault

    assert invoke("deploy", survey.folder, "-q").exit_code == 0
    key = next(u.token for u in deploy_target.fake.field_keys if u.name == "e2")
    survey.roster = [r for r in survey.roster if r[0] != "e2"]
    survey.write()
    deploy_target.fake.inject(Fault("503", path="/v1/sessions/", times=1, retry_after=0))
    with caplog.at_level("DEBUG"):
        result = invoke("deploy", survey.folder, "--retries", "1")
    assert result.exit_code == 0, result.output
    assert "revoke app user e2" in result.output
    assert "Incremented Retry for (url='/v1/sessions/***')" in caplog.text  # urllib3.util.retry
    assert "sessions/***" in caplog.text and key not in caplog.text
    assert key not in result.output
    again = invoke("deploy", survey.folder)  # the key is gone: nothing left to revoke
    assert "revoke" not in again.output
    from surveys.central import CentralClient, CentralError

    client = CentralClient(deploy_target.url, deploy_target.user, deploy_target.password, 1)
    with pytest.raises(CentralError) as caught:
        client.app_users.revoke(key)
    assert key not in str(caught.value) and "sessions/***" in str(caught.value)
