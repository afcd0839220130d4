"""OpenRosa submission (what Collect and ``popsurvey simulate --central`` send) answers the
same on the fake Central and on a real one: status codes, OpenRosaResponse XML, X-OpenRosa
headers, resubmissions, edits. Seeding and checks go through Central's documented API only:
app users, form assignments, form state, submissions, attachments and OData."""

from __future__ import annotations

import random
from typing import Any

import pytest
import requests

from surveys.simulate.openrosa import SubmitError, app_user_url, post_submission
from tests.fake_central.fixture import edited, make_audit_csv, make_submission
from tests.fake_central.xml import data_to_xml

OPENROSA = {"X-OpenRosa-Version": "1.0"}
CREATED = "full submission upload was successful!"
XML_CONFLICT = (
    "A submission already exists with this ID, but with different XML. Resubmissions to "
    "attach additional multimedia must resubmit an identical xml_submission_file."
)
CLOSED = (
    "This form is not currently accepting submissions. Please talk to your program staff "
    "if this is unexpected."
)
AUTH_FAILED = "Could not authenticate with the provided credentials."
NOT_FOUND = "Could not find the resource you were looking for."


def _response(message: str, nature: str = "error") -> str:
    """Central's OpenRosaResponse body (lib/formats/openrosa.js), byte for byte."""
    return (
        '\n  <OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0">\n'
        f'    <message nature="{nature}">{message}</message>\n  </OpenRosaResponse>'
    )


@pytest.fixture
def posted(central):
    """The household form published, an app user assigned to it, one submission's data,
    XML and audit log, and the app user's OpenRosa submission URL."""
    user = central.add_app_user("enum007")
    rng = random.Random(3)
    data = make_submission(rng, audit=True)
    xml = data_to_xml(data, central.model)
    url = app_user_url(central.url, user["token"], central.project)
    return central, user, data, xml, make_audit_csv(rng, data), url


def _post(url, xml, files=None, headers=OPENROSA):
    parts = {"xml_submission_file": ("submission.xml", xml, "text/xml"), **(files or {})}
    return requests.post(url, files=parts, headers=headers, timeout=10)


def _audit(content: bytes) -> dict:
    return {"audit.csv": ("audit.csv", content, "text/csv")}


def _form_path(central, *parts: str) -> str:
    return central.client.project_path("forms", central.model.form_id, *parts)


def _odata(central) -> list[dict[str, Any]]:
    path = central.client.project_path("forms", central.model.form_id + ".svc", "Submissions")
    return central.client.get_json(path, params={"$expand": "*"})["value"]


def _attachments(central, instance_id: str) -> dict[str, bool]:
    rows = central.client.get_json(_form_path(central, "submissions", instance_id, "attachments"))
    return {row["name"]: row["exists"] for row in rows}


def _attachment(central, instance_id: str, name: str) -> bytes:
    path = _form_path(central, "submissions", instance_id, "attachments", name)
    return central.client.request("GET", path).content


def _answers(value: Any) -> Any:
    """OData record or submission data without ids, links, ``__system`` or empty values."""
    if isinstance(value, dict):
        out = {
            k: _answers(v)
            for k, v in value.items()
            if not k.startswith("__") and not k.endswith("@odata.navigationLink")
        }
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_answers(v) for v in value]
    return value


def _assert_openrosa(answer: requests.Response, status: int, text: str) -> None:
    """Status, body and the headers of Central's openRosa endpoint."""
    assert answer.status_code == status, answer.text
    assert answer.text == text
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert answer.headers["X-OpenRosa-Version"] == "1.0"
    assert answer.headers["X-OpenRosa-Accept-Content-Length"] == "100000000"


def _assert_refused_early(answer: requests.Response, status: int, text: str) -> None:
    """A refusal by Central's preprocessors (header, credentials): no X-OpenRosa headers."""
    assert answer.status_code == status, answer.text
    assert answer.text == text
    assert "X-OpenRosa-Version" not in answer.headers


def test_app_user_submission_is_stored_with_its_audit(posted):
    central, user, data, xml, audit, url = posted
    _assert_openrosa(_post(url, xml, _audit(audit)), 201, _response(CREATED, ""))
    listed = central.client.get_json(_form_path(central, "submissions"))
    assert [(s["instanceId"], s["submitterId"]) for s in listed] == [
        (data["meta"]["instanceID"], user["id"])
    ]
    assert _attachment(central, data["meta"]["instanceID"], "audit.csv") == audit
    [record] = _odata(central)
    assert record["__id"] == data["meta"]["instanceID"]
    system = record["__system"]
    assert system["submitterName"] == "enum007" and system["submitterId"] == str(user["id"])
    assert system["attachmentsPresent"] == 1 and system["attachmentsExpected"] == 1
    assert system["edits"] == 0 and system["reviewState"] is None
    assert record["meta"] == data["meta"]  # audit.csv under meta, as pyxform binds it
    assert _answers(record) == _answers(data)


def test_resubmission_adds_attachments_and_conflicts_are_409(posted):
    central, _, data, xml, audit, url = posted
    iid = data["meta"]["instanceID"]
    assert _post(url, xml).status_code == 201
    assert _attachments(central, iid) == {"audit.csv": False}
    extra = {**_audit(audit), "photo.jpg": ("photo.jpg", b"\xff\xd8", "image/jpeg")}
    _assert_openrosa(_post(url, xml, extra), 201, _response(CREATED, ""))
    assert _attachments(central, iid) == {"audit.csv": True}  # unexpected files ignored
    assert _attachment(central, iid, "audit.csv") == audit
    assert _post(url, xml, _audit(b"event,node\n")).status_code == 201  # replaces it
    assert _attachment(central, iid, "audit.csv") == b"event,node\n"
    changed = xml.replace(b"<hh_id>", b"<hh_id>X")
    _assert_openrosa(_post(url, changed), 409, _response(XML_CONFLICT))
    session = requests.Session()
    with pytest.raises(SubmitError, match="409"):  # a conflict is never counted as sent
        post_submission(session, url, xml=changed, attachments={}, instance_id="i")
    same = {"xml": xml, "attachments": {"audit.csv": audit}, "instance_id": "i"}
    assert post_submission(session, url, **same) == 201  # a re-run of simulate is harmless
    assert len(_odata(central)) == 1


def test_refusals(posted):
    central, _, _, xml, _, url = posted
    header = "An expected header field (X-OpenRosa-Version) did not match the expected format."
    _assert_refused_early(_post(url, xml, headers={}), 400, _response(header))
    malformed = app_user_url(central.url, "nosuchtoken", central.project)
    _assert_refused_early(_post(malformed, xml), 401, _response(AUTH_FAILED))
    unknown_key = app_user_url(central.url, "A" * 64, central.project)
    forbidden = "The authentication you provided does not have rights to perform that action."
    _assert_refused_early(_post(unknown_key, xml), 403, _response(forbidden))
    anonymous = f"{central.url}/v1/projects/{central.project}/submission"
    _assert_refused_early(_post(anonymous, xml), 401, _response(AUTH_FAILED))
    other = central.add_app_user("not assigned", assign=False)
    unassigned = app_user_url(central.url, other["token"], central.project)
    _assert_openrosa(_post(unassigned, xml), 401, _response(AUTH_FAILED))
    form_id = central.model.form_id.encode()
    unknown = xml.replace(b'id="' + form_id + b'"', b'id="nosuchform"')
    _assert_openrosa(_post(url, unknown), 404, _response(NOT_FOUND))
    old = xml.replace(b'version="2026030101"', b'version="1999"')
    version = "The form version specified in this submission &#39;1999&#39; does not exist."
    _assert_openrosa(_post(url, old), 404, _response(version))
    elsewhere = url.replace(f"/projects/{central.project}/", "/projects/987654/")
    _assert_openrosa(_post(elsewhere, xml), 404, _response(NOT_FOUND))
    missing = requests.post(url, files={"other": ("a.xml", xml)}, headers=OPENROSA, timeout=10)
    part = "Required multipart POST field xml_submission_file missing."
    _assert_openrosa(missing, 400, _response(part))
    with pytest.raises(SubmitError, match="401"):
        post_submission(requests.Session(), malformed, xml=xml, attachments={}, instance_id="x")


def test_closed_form_refuses_with_409(posted):
    central, _, _, xml, _, url = posted
    central.set_form_state("closed")
    _assert_openrosa(_post(url, xml), 409, _response(CLOSED))
    central.set_form_state("open")
    assert _post(url, xml).status_code == 201


def test_web_user_session_can_submit(posted):
    central, _, data, xml, _, _ = posted
    login = requests.post(
        f"{central.url}/v1/sessions",
        json={"email": central.user, "password": central.password},
        timeout=10,
    )
    headers = {**OPENROSA, "Authorization": f"Bearer {login.json()['token']}"}
    answer = _post(f"{central.url}/v1/projects/{central.project}/submission", xml, headers=headers)
    _assert_openrosa(answer, 201, _response(CREATED, ""))
    me = central.client.get_json("users/current")
    [record] = _odata(central)
    assert record["__id"] == data["meta"]["instanceID"]
    assert record["__system"]["submitterName"] == me["displayName"]


def test_head_answers_204_with_openrosa_headers(posted):
    central, _, _, _, _, url = posted
    answer = requests.head(url, headers=OPENROSA, timeout=10)
    assert answer.status_code == 204 and answer.headers["X-OpenRosa-Version"] == "1.0"
    assert answer.headers["X-OpenRosa-Accept-Content-Length"] == "100000000"
    assert requests.get(url, headers=OPENROSA, timeout=10).status_code == 204
    assert requests.head(url, timeout=10).status_code == 400  # no X-OpenRosa-Version
    elsewhere = url.replace(f"/projects/{central.project}/", "/projects/987654/")
    assert requests.head(elsewhere, headers=OPENROSA, timeout=10).status_code == 404


def test_edit_through_openrosa_supplants_the_current_version(posted):
    central, _, data, xml, audit, url = posted
    first = data["meta"]["instanceID"]
    assert _post(url, xml, _audit(audit)).status_code == 201
    rng = random.Random(5)
    edit = edited(data, rng)
    edit["meta"]["audit"] = "audit.csv"
    edit_xml = data_to_xml(edit, central.model)
    _assert_openrosa(_post(url, edit_xml), 201, _response(CREATED, ""))
    [record] = _odata(central)
    assert record["__id"] == first  # the submission keeps its first instanceID
    assert record["meta"] == {"instanceID": edit["meta"]["instanceID"], "audit": "audit.csv"}
    assert record["resp"] == edit["resp"]
    system = record["__system"]
    assert system["edits"] == 1 and system["reviewState"] == "edited"
    assert system["updatedAt"] is not None and system["attachmentsPresent"] == 1
    versions = central.client.get_json(_form_path(central, "submissions", first, "versions"))
    assert [(v["instanceId"], v["current"]) for v in versions] == [
        (edit["meta"]["instanceID"], True),
        (first, False),
    ]
    assert _attachment(central, first, "audit.csv") == audit  # carried over from the first
    assert _post(url, edit_xml, _audit(b"event,node\n")).status_code == 201  # same edit again
    assert _attachment(central, first, "audit.csv") == b"event,node\n"
    changed = edit_xml.replace(b"<hh_id>", b"<hh_id>X")
    _assert_openrosa(_post(url, changed), 409, _response(XML_CONFLICT))


def test_edit_refusals(posted):
    central, _, data, xml, _, url = posted
    assert _post(url, xml).status_code == 201
    rng = random.Random(5)
    assert _post(url, data_to_xml(edited(data, rng), central.model)).status_code == 201
    stale = edited(data, rng)  # deprecates the first version, no longer current
    old = data["meta"]["instanceID"]
    message = (
        f"You tried to update a submission, but the copy you were editing ({old}) is now out "
        "of date. Please get the new version that has been submitted, and make your edits "
        "again."
    )
    _assert_openrosa(_post(url, data_to_xml(stale, central.model)), 409, _response(message))
    lost = {**stale, "meta": {**stale["meta"], "deprecatedID": "uuid:nosuch"}}
    message = (
        "You tried to update an existing submission, but we can&#39;t find that submission "
        "to update (uuid:nosuch)"
    )
    _assert_openrosa(_post(url, data_to_xml(lost, central.model)), 404, _response(message))


def test_deleted_submission_cannot_be_resubmitted(posted):
    central, _, data, xml, _, url = posted
    assert _post(url, xml).status_code == 201
    central.delete(data["meta"]["instanceID"])
    deleted = "This submission has been deleted. You may not resubmit it."
    _assert_openrosa(_post(url, xml), 409, _response(deleted))
