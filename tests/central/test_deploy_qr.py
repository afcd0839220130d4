"""The Collect configuration QR codes deploy writes: read back from the PNG with zxing-cpp,
their settings point at the project with a key that works (a submission goes through as
the enumerator), and the files are private."""

from __future__ import annotations

import stat

import pytest

from surveys.central.collect_qr import decode_settings
from surveys.deployment import deploy_survey
from tests.central.deploy_support import submit_as


def scan(path) -> str:
    """The text of the QR code in a PNG, as a phone would read it."""
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(path))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


@pytest.fixture
def deployed(deploy_target, tmp_path, monkeypatch):
    for name, value in deploy_target.env().items():
        monkeypatch.setenv(name, value)
    survey = deploy_target.survey(tmp_path / "survey")
    client = deploy_target.client()
    outcome = deploy_survey(survey.config(), client)
    return deploy_target, survey, client, outcome


def test_qr_code_settings_point_at_the_project_with_a_working_key(deployed):
    target, survey, client, outcome = deployed
    report = outcome.report
    settings = decode_settings(scan(outcome.folder / "qr" / "e1.png"))
    project = report.project_id
    token = report.tokens["e1"]
    assert settings["general"]["server_url"] == f"{target.url}/v1/key/{token}/projects/{project}"
    assert settings["general"]["form_update_mode"] == "match_exactly"
    assert settings["general"]["metadata_username"] == "e1"
    assert settings["project"] == {"name": target.project_name}
    assert settings["admin"] == {}
    version = report.versions[survey.household_id]
    hh = survey.entities[0]["name"]
    answers = {"enum": "e1", "hh": hh, "members": "3"}
    server_url = settings["general"]["server_url"]
    assert submit_as(server_url, survey.household_id, version, answers) == 201
    rows = [
        r
        for page in client.submissions.odata_pages(survey.household_id, page_size=None)
        for r in page.value
    ]
    assert [(r["hh"], r["__system"]["submitterName"]) for r in rows] == [(hh, "e1")]


def test_qr_files_are_private_and_the_sheets_list_each_team(deployed):
    _, _, _, outcome = deployed
    folder = outcome.folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    expected = {"qr/e1.png", "qr/e2.png", "qr/s1.png", "sheets/t1.html", "sheets/t2.html"}
    written = {str(p.relative_to(folder)) for p in outcome.written}
    assert written == expected | {"tokens.csv", "app-users.csv"}
    for path in outcome.written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    sheet = (folder / "sheets" / "t1.html").read_text()
    assert "王芳" in sheet and "李娜" in sheet and "张伟" not in sheet
    assert sheet.count('src="data:image/png;base64,') == 2
    tokens = (folder / "tokens.csv").read_text().splitlines()
    assert tokens[0] == "enumerator,token" and len(tokens) == 4
