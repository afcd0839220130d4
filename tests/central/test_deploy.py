"""``deploy`` on the fake Central and, when configured, on a real one: idempotent, ordered,
versioned forms, the entity list following the sample, app users following the roster."""

from __future__ import annotations

import uuid

import pytest

from surveys.central.errors import CentralError, DeployError
from surveys.deployment import deploy_survey
from tests.central.deploy_support import submit_as


@pytest.fixture
def setup(deploy_target, tmp_path, monkeypatch):
    for name, value in deploy_target.env().items():
        monkeypatch.setenv(name, value)
    return deploy_target, deploy_target.survey(tmp_path / "survey")


def run(target, survey, **kwargs):
    client = target.client()
    outcome = deploy_survey(survey.config(), client, **kwargs)
    return outcome, client


def entities_on_central(client, dataset="households"):
    return {
        row["__id"]: {"label": row["label"], **{k: row.get(k) for k in ("hhid", "enumerator")}}
        for row in client.datasets.entity_rows(dataset)
    }


def test_deploying_twice_writes_nothing_the_second_time(setup):
    target, survey = setup
    first, client = run(target, survey)
    counts = first.report.counts()
    assert counts["publish"] == 2 and counts["create"] >= 3  # forms, app users, entity list
    assert len(target.writes) >= len(first.report.actions)  # a bulk create may take several
    assert set(first.report.tokens) == {"e1", "e2", "s1"}
    forms = {f["xmlFormId"]: f for f in client.forms.list()}
    assert forms[survey.household_id]["publishedAt"] is not None
    linked = {a["name"]: a for a in client.forms.attachments(survey.household_id)}
    assert linked["households.csv"]["datasetExists"]
    visit = {a["name"]: a for a in client.forms.attachments(survey.visit_id)}
    assert visit["villages.csv"]["exists"] and not visit["villages.csv"]["datasetExists"]
    assert len(entities_on_central(client)) == 5

    target.writes.clear()
    second, _ = run(target, survey)
    assert target.writes == []
    assert second.report.actions == []
    assert second.written == []  # QR codes, sheets and tokens.csv unchanged on disk
    assert second.report.tokens == first.report.tokens
    assert "nothing to change" in second.report.summary()


def test_changed_form_gets_exactly_one_new_version(setup):
    target, survey = setup
    first, client = run(target, survey)
    before = first.report.versions[survey.household_id]
    survey.extra = "| | text | remark | Remark | |\n"
    survey.write()
    target.writes.clear()
    second, _ = run(target, survey)
    publishes = [a for a in second.report.actions if a.kind == "publish"]
    assert [a.target for a in publishes] == [f"form {survey.household_id}"]
    after = second.report.versions[survey.household_id]
    assert after != before
    versions = [v["version"] for v in client.forms.versions(survey.household_id)]
    assert versions.count(after) == 1 and len(versions) == 2
    assert client.forms.get(survey.household_id)["version"] == after
    assert second.report.versions[survey.visit_id] == first.report.versions[survey.visit_id]
    # the new version still serves the entity list
    linked = {a["name"]: a for a in client.forms.attachments(survey.household_id)}
    assert linked["households.csv"]["datasetExists"]


def test_a_version_central_holds_for_other_content_is_a_clear_error(setup):
    target, survey = setup
    survey.versions = {survey.household_id: "v1"}
    survey.write()
    run(target, survey)
    target.writes.clear()
    again, _ = run(target, survey)  # same explicit version, same content: unchanged
    assert again.report.actions == [] and target.writes == []
    survey.extra = "| | text | remark | Remark | |\n"
    survey.write()
    with pytest.raises(DeployError, match=r"version 'v1' with other content \(409\.6\)"):
        run(target, survey)


def test_entity_list_follows_a_changed_sample(setup):
    target, survey = setup
    _, client = run(target, survey)
    dropped = survey.entities.pop(0)
    replaced = survey.entities[0]
    survey.entities[0] = {**replaced, **survey.household(replaced["hhid"], "e2", "New Road 9")}
    survey.entities[0]["name"] = replaced["name"]
    survey.entities.append(survey.household("201", "e1"))
    survey.write()
    second, _ = run(target, survey)
    kinds = sorted((a.kind, a.target.split(" in ")[0].split()[0]) for a in second.report.actions)
    assert kinds == [("create", "1"), ("delete", "entity"), ("update", "entity")]
    on_central = entities_on_central(client)
    assert set(on_central) == {e["name"] for e in survey.entities}
    assert on_central[replaced["name"]]["enumerator"] == "e2"
    assert on_central[replaced["name"]]["label"].endswith("New Road 9")
    # a unit dropped and drawn again comes back under its UUID (restored, not re-created)
    survey.entities.append(dropped)
    survey.write()
    third, _ = run(target, survey)
    assert [a.kind for a in third.report.actions] == ["restore", "update"]
    assert dropped["name"] in entities_on_central(client)
    target.writes.clear()
    run(target, survey)
    assert target.writes == []


def test_fieldwork_visit_status_is_left_alone(setup):
    target, survey = setup
    _, client = run(target, survey)
    uuid = survey.entities[0]["name"]
    version = next(
        r["__system"]["version"]
        for r in client.datasets.entity_rows("households")
        if r["__id"] == uuid
    )
    client.datasets.update_entity("households", uuid, version, data={"visit_status": "done"})
    target.writes.clear()
    run(target, survey)
    assert target.writes == []


def test_removed_enumerators_lose_access(setup):
    target, survey = setup
    first, client = run(target, survey)
    ids = {u["displayName"]: u["id"] for u in client.app_users.list()}
    assert ids["e2"] in client.forms.app_user_ids(survey.household_id)
    assert ids["s1"] not in client.forms.app_user_ids(survey.household_id)
    assert ids["s1"] in client.forms.app_user_ids(survey.visit_id)
    survey.roster = [r for r in survey.roster if r[0] != "e2"]
    survey.roster = [(i, n, t, "supervisor" if i == "e1" else r) for i, n, t, r in survey.roster]
    survey.write()
    second, _ = run(target, survey)
    lines = [a.line() for a in second.report.actions]
    assert "revoke app user e2: no longer in the roster" in lines
    assert f"unassign app user e1: form {survey.household_id}" in lines
    users = {u["displayName"]: u for u in client.app_users.list()}
    assert users["e2"]["token"] is None and users["e1"]["token"]
    assert ids["e1"] not in client.forms.app_user_ids(survey.household_id)
    version = second.report.versions[survey.visit_id]
    base = f"{target.url}/v1/key/{{}}/projects/{first.report.project_id}"
    with pytest.raises(AssertionError, match=r"40[13]"):
        submit_as(base.format(first.report.tokens["e2"]), survey.visit_id, version, {"note": "x"})
    e1 = base.format(first.report.tokens["e1"])
    assert submit_as(e1, survey.visit_id, version, {"note": "x"}) == 201


def test_dry_run_writes_nothing(setup):
    target, survey = setup
    outcome, _ = run(target, survey, dry_run=True)
    assert target.writes == [] and outcome.written == []
    assert not outcome.folder.exists()
    counts = outcome.report.counts()
    assert counts["publish"] == 2 and counts["upload"] == 1  # villages.csv
    assert "link" not in counts  # a new form links households.csv to the dataset itself
    assert counts["assign"] == 5  # e1, e2: both forms; s1: the visit form
    assert any(
        a.line() == f"create project '{target.project_name}'" for a in outcome.report.actions
    )
    done, _ = run(target, survey)
    assert [a.line() for a in done.report.actions] == [a.line() for a in outcome.report.actions]
    survey.entities.append(survey.household("301", "e1"))
    survey.write()
    target.writes.clear()
    planned, _ = run(target, survey, dry_run=True)
    assert target.writes == []
    assert [a.line() for a in planned.report.actions] == ["create 1 entities in 'households'"]
    # the plan for a changed form and roster is what the deployment then does
    survey.extra = "| | text | remark | Remark | |\n"
    survey.roster = [r for r in survey.roster if r[0] != "s1"]
    survey.write()
    planned, _ = run(target, survey, dry_run=True)
    assert target.writes == []
    done, _ = run(target, survey)
    lines = [a.line() for a in done.report.actions]
    assert lines == [a.line() for a in planned.report.actions]
    assert any(line.startswith(f"publish form {survey.household_id}") for line in lines)
    assert "revoke app user s1: no longer in the roster" in lines


def test_the_same_sample_in_a_second_project_is_a_clear_error(setup):
    """Central's entity UUIDs are unique across the server (deleted entities included):
    the sample of one project cannot be created again in another."""
    target, survey = setup
    run(target, survey)
    survey.project_name += " copy"
    survey.write()
    with pytest.raises(DeployError, match=r"unique across the whole server.*survey id of its"):
        run(target, survey)


def test_central_takes_version_4_entity_uuids_only(setup):
    target, survey = setup
    _, client = run(target, survey)
    name_based = str(uuid.uuid5(uuid.NAMESPACE_URL, f"popsurvey-test{survey.suffix}/x"))
    row = {"uuid": name_based, "label": "x", "data": {}}
    with pytest.raises(CentralError, match="valid version 4 UUID") as raised:
        client.datasets.create_entities("households", [row], "test.csv")
    assert raised.value.problem == "400.11"


def test_other_app_users_of_a_shared_project_are_left_alone(setup):
    """Only app users a deployment made (recorded in app-users.csv) are revoked when they
    leave the roster; a shared project's own app users need --revoke-unlisted."""
    target, survey = setup
    first, client = run(target, survey)
    tablet = client.app_users.create("office tablet")
    other_e1 = client.app_users.create("e1")  # someone's own app user of the same name
    target.writes.clear()
    again, _ = run(target, survey)
    assert target.writes == [] and again.report.tokens == first.report.tokens
    assert any(n.startswith("app user office tablet ") for n in again.report.notes)
    record = first.folder / "app-users.csv"
    assert oct(record.stat().st_mode & 0o777) == "0o600"
    assert "office tablet" not in record.read_text()
    survey.roster = [r for r in survey.roster if r[0] != "e2"]
    survey.write()
    target.writes.clear()
    second, _ = run(target, survey)
    assert [a.line() for a in second.report.actions] == [
        "revoke app user e2: no longer in the roster"
    ]
    assert any(n.startswith("app user office tablet ") for n in second.report.notes)
    users = {u["displayName"]: u for u in client.app_users.list()}
    assert users["office tablet"]["token"] == tablet["token"] and users["e1"]["token"]
    # a lost record: a removed enumerator is left alone too, and named
    record.unlink()
    survey.roster = [r for r in survey.roster if r[0] != "s1"]
    survey.write()
    third, _ = run(target, survey)
    assert [a.kind for a in third.report.actions] == []
    assert any(n.startswith("app user s1 ") for n in third.report.notes)
    assert any(n.startswith("several active app users are named e1") for n in third.report.notes)
    assert record.is_file()  # the roster's app users are recorded again
    # the explicit option revokes every app user outside the roster
    fourth, _ = run(target, survey, revoke_unlisted=True)
    assert sorted(a.line() for a in fourth.report.actions) == [
        "revoke app user office tablet: no longer in the roster",
        "revoke app user s1: no longer in the roster",
    ]
    active = {u["id"] for u in client.app_users.list() if u["token"]}
    assert active == {other_e1["id"], second.report.app_user_ids["e1"]}
