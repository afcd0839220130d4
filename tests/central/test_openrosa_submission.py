"""The fake Central's OpenRosa submission endpoints answer as central-backend does."""

from __future__ import annotations

import random

import pytest
import requests

from surveys.simulate.openrosa import SubmitError, app_user_url, post_submission
from tests.fake_central.fixture import household_form, make_audit_csv, make_submission
from tests.fake_central.xml import data_to_xml

OPENROSA = {"X-OpenRosa-Version": "1.0"}


@pytest.fixture
def posted(fake):
    """The household form published, an app user, and one submission's XML and audit."""
    model = household_form()
    fake.central.add_form(1, model)
    token = fake.central.add_app_user(1, "enum007")
    rng = random.Random(3)
    data = make_submission(rng, audit=True)
    return fake, model, token, data, data_to_xml(data, model), make_audit_csv(rng, data)


def _post(url, xml, files=None, headers=OPENROSA):
    parts = {"xml_submission_file": ("submission.xml", xml, "text/xml"), **(files or {})}
    return requests.post(url, files=parts, headers=headers, timeout=10)


def test_app_user_submission_is_stored_with_its_audit(posted):
    fake, _, token, data, xml, audit = posted
    url = app_user_url(fake.url, token, 1)
    answer = _post(url, xml, {"audit.csv": ("audit.csv", audit, "text/csv")})
    assert answer.status_code == 201 and answer.headers["X-OpenRosa-Version"] == "1.0"
    assert "full submission upload was successful!" in answer.text
    assert answer.text.startswith('<OpenRosaResponse xmlns="http://openrosa.org/http/response">')
    sub = fake.central.form(1, "household").submissions[data["meta"]["instanceID"]]
    assert sub.submitter_name == "enum007" and sub.current.data["resp"] == data["resp"]
    assert sub.current.data["meta"] == data["meta"]  # audit.csv under meta, as pyxform binds it
    session = requests.Session()
    login = session.post(
        f"{fake.url}/v1/sessions",
        json={"email": "admin@example.org", "password": "correct horse"},
        timeout=10,
    )
    session.headers["Authorization"] = f"Bearer {login.json()['token']}"
    base = f"{fake.url}/v1/projects/1/forms/household"
    got = session.get(f"{base}/submissions/{sub.central_id}/attachments/audit.csv", timeout=10)
    assert got.content == audit
    odata = session.get(f"{base}.svc/Submissions", timeout=10).json()["value"]
    assert odata[0]["__system"]["submitterName"] == "enum007"
    assert odata[0]["__system"]["attachmentsPresent"] == 1
    assert odata[0]["resp"] == data["resp"]


def test_resubmission_adds_missing_attachments_and_conflicts_are_409(posted):
    fake, _, token, data, xml, audit = posted
    url = app_user_url(fake.url, token, 1)
    assert _post(url, xml).status_code == 201
    sub = fake.central.form(1, "household").submissions[data["meta"]["instanceID"]]
    assert sub.attachments == {"audit.csv": None}
    again = _post(url, xml, {"audit.csv": ("audit.csv", audit, "text/csv")})
    assert again.status_code == 201 and sub.attachments == {"audit.csv": audit}
    changed = xml.replace(b"<hh_id>", b"<hh_id>X")
    conflict = _post(url, changed)
    assert conflict.status_code == 409 and "different XML" in conflict.text
    session = requests.Session()
    kwargs = {"xml": changed, "attachments": {}, "instance_id": "i"}
    with pytest.raises(SubmitError, match="409"):  # a conflict is never counted as sent
        post_submission(session, url, **kwargs)
    same = {"xml": xml, "attachments": {"audit.csv": audit}, "instance_id": "i"}
    assert post_submission(session, url, **same) == 201  # a re-run of simulate is harmless


def test_refusals(posted):
    fake, _, token, _, xml, _ = posted
    url = app_user_url(fake.url, token, 1)
    assert _post(url, xml, headers={}).status_code == 400  # no X-OpenRosa-Version
    assert _post(app_user_url(fake.url, "nosuchtoken", 1), xml).status_code == 401
    other = fake.central.add_app_user(2, "elsewhere")
    fake.central.projects.setdefault(2, {})
    assert _post(app_user_url(fake.url, other, 1), xml).status_code == 401
    unknown = xml.replace(b'id="household"', b'id="nosuchform"')
    assert _post(url, unknown).status_code == 404
    old = xml.replace(b'version="2026030101"', b'version="1999"')
    assert _post(url, old).status_code == 404
    bearer = f"{fake.url}/v1/projects/1/submission"
    assert _post(bearer, xml).status_code == 401  # anonymous: 401 on OpenRosa routes
    fake.central.form(1, "household").state = "closed"
    closed = _post(url, xml)
    assert closed.status_code == 409 and "not currently accepting" in closed.text
    assert '<message nature="error">' in closed.text
    with pytest.raises(SubmitError, match="401"):
        post_submission(
            requests.Session(),
            app_user_url(fake.url, "nosuchtoken", 1),
            xml=xml,
            attachments={},
            instance_id="x",
        )


def test_web_user_session_can_submit(posted):
    fake, _, _, data, xml, _ = posted
    token = fake.central.login("admin@example.org", "correct horse")
    headers = {**OPENROSA, "Authorization": f"Bearer {token}"}
    answer = _post(f"{fake.url}/v1/projects/1/submission", xml, headers=headers)
    assert answer.status_code == 201
    sub = fake.central.form(1, "household").submissions[data["meta"]["instanceID"]]
    assert sub.submitter_name == "admin@example.org"


def test_head_answers_204_with_openrosa_headers(posted):
    fake, _, token, *_ = posted
    answer = requests.head(app_user_url(fake.url, token, 1), headers=OPENROSA, timeout=10)
    assert answer.status_code == 204 and answer.headers["X-OpenRosa-Version"] == "1.0"
    assert int(answer.headers["X-OpenRosa-Accept-Content-Length"]) > 0
    missing = requests.head(app_user_url(fake.url, token, 99), timeout=10)
    assert missing.status_code == 404
