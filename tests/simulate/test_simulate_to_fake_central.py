"""``popsurvey simulate --central`` end to end: the simulated interviews go over OpenRosa to
the fake Central as the enumerators' app users, ``popsurvey pull`` reads them back into a
SQLite store, and every value and audit log arrives unchanged."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from simulate_support import ROOT

from forms import read_form, read_markdown
from surveys.cli import main

sys.path.insert(0, str(ROOT))  # import tests.fake_central

from tests.fake_central import FakeCentral, FakeCentralServer

FORM = """
| survey |
| | type | name | label | relevant | constraint |
| | start | start | | | |
| | end | end | | | |
| | audit | audit | | | |
| | integer | n_kids | Children | | . >= 0 and . <= 3 |
| | select_one yn | works | Works? | | |
| | decimal | income | Income | ${works} = 'y' | . > 100 and . < 900 |
| | geopoint | gps | Location | | |
| | begin_group | more | More | ${n_kids} > 0 | |
| | select_multiple svc | services | Services | | |
| | end_group | | | | |
| | begin_repeat | kid | Kid | | |
| | text | kname | Name | | |
| | integer | kage | Age | | . >= 0 and . < 18 |
| | end_repeat | | | | |
| choices |
| | list_name | name | label |
| | yn | y | Yes |
| | yn | n | No |
| | svc | x | X |
| | svc | y | Y |
| settings |
| | form_id | version |
| | tiny | 7 |
"""


REAL_VARS = (
    "POPSURVEY_CENTRAL_URL",
    "POPSURVEY_CENTRAL_USER",
    "POPSURVEY_CENTRAL_PASSWORD",
    "POPSURVEY_CENTRAL_PROJECT",
)


class Target:
    """A Central to simulate into, fake or real, seeded over its HTTP API: the form
    published, an app user per enumerator with the app-user role on the form."""

    def __init__(self, url: str, user: str, password: str, project: int, fake=None) -> None:
        from surveys.central import CentralClient

        self.url, self.user, self.password, self.project = url, user, password, project
        self.fake = fake
        self.client = CentralClient(url, user, password, project)

    def publish(self, form, source: Path, files=None) -> None:
        """Publish ``form`` (the fake takes its model; a real Central the XForm pyxform
        makes of ``source``, with ``files`` as the form's attachments)."""
        if self.fake is not None:
            self.fake.add_form(self.project, form)
            return
        from pyxform.xls2xform import convert

        from tests.central.handles import publish_xform

        publish_xform(self.client, convert(xlsform=str(source)).xform, files)

    def app_user_token(self, form_id: str, name: str) -> str:
        """A new app user ``name`` assigned to the form; its token."""
        user = self.client.app_users.create(name)
        self.client.forms.assign(form_id, int(user["id"]))
        return user["token"]

    def env(self) -> dict[str, str]:
        """The POPSURVEY_CENTRAL_* variables ``popsurvey pull`` reads."""
        values = (self.url, self.user, self.password, str(self.project))
        return dict(zip(REAL_VARS, values, strict=True))


@pytest.fixture(params=["fake", "real"])
def central(request):
    """The fake Central, or the real one when POPSURVEY_CENTRAL_* are set (else skipped)."""
    if request.param == "fake":
        server = FakeCentralServer(FakeCentral()).start()
        yield Target(server.url, "admin@example.org", "correct horse", 1, server.central)
        server.stop()
        return
    missing = [v for v in REAL_VARS if not os.environ.get(v)]
    if missing:
        pytest.skip("real ODK Central not configured: set " + ", ".join(missing))
    yield Target(*(os.environ[v] for v in REAL_VARS[:3]), int(os.environ[REAL_VARS[3]]))


@pytest.fixture
def sent(monkeypatch):
    """What the CLI posts: the simulated OData records and the attachments, by instance."""
    import surveys.simulate.openrosa as openrosa

    records, files = {}, {}
    to_xml, post = openrosa.submission_xml, openrosa.post_submission

    def recording_xml(form, record):
        records[record["__id"]] = record
        return to_xml(form, record)

    def recording_post(session, url, *, attachments, instance_id, **kwargs):
        files[instance_id] = dict(attachments)
        return post(session, url, attachments=attachments, instance_id=instance_id, **kwargs)

    monkeypatch.setattr(openrosa, "submission_xml", recording_xml)
    monkeypatch.setattr(openrosa, "post_submission", recording_post)
    return records, files


def _simulate_and_pull(
    survey, small_entities, central, tmp_path, monkeypatch, form_file, form, files=None
):
    config, _ = survey
    households = small_entities.groupby("enumerator").head(2).head(8)
    entities = tmp_path / "entities.csv"
    households.to_csv(entities, index=False)
    central.publish(form, form_file, files)
    tokens = tmp_path / "tokens.csv"
    enumerators = sorted(households["enumerator"].unique())
    tokens.write_text(
        "enumerator,token\n"
        + "".join(f"{e},{central.app_user_token(form.form_id, e)}\n" for e in enumerators)
    )
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            str(config.path),
            "--entities",
            str(entities),
            "--form",
            str(form_file),
            "--central",
            central.url,
            "--project",
            str(central.project),
            "--tokens",
            str(tokens),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{form.form_id}: " in result.output and "submissions sent to" in result.output
    for name, value in central.env().items():
        monkeypatch.setenv(name, value)
    db = tmp_path / "store.db"
    pulled = CliRunner().invoke(main, ["pull", form.form_id, "--db", str(db), "-q"])
    assert pulled.exit_code == 0, pulled.output
    return _stored(db)


def _stored(db: Path) -> dict[str, tuple[dict, str | None, dict[str, bytes]]]:
    """instanceID -> (OData record, submitter name, attachments) as the store holds them."""
    from sqlalchemy import select

    from surveys.store import open_store
    from surveys.store.models import Attachment, Submission

    out = {}
    with open_store(f"sqlite:///{db}") as store, store.engine.connect() as conn:
        for sub in conn.execute(select(Submission)):
            out[sub.instance_id] = (json.loads(sub.raw_json), sub.submitter_name, {})
        for sub_id, name, content in conn.execute(
            select(Submission.instance_id, Attachment.name, Attachment.content).join(
                Submission, Submission.id == Attachment.submission_id
            )
        ):
            out[sub_id][2][name] = content
    return out


def _answers(record: dict) -> dict:
    """The answers of an OData record, as XML carries them: no ids, links or empty values
    (the audit log's file name is under meta, where pyxform binds it and Central shows it)."""
    return _plain({k: v for k, v in record.items() if k not in ("__id", "__system")})


def _plain(value):
    if isinstance(value, dict):
        out = {
            k: _plain(v)
            for k, v in value.items()
            if k != "__id" and not k.endswith("@odata.navigationLink")
        }
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _assert_arrived_unchanged(sent, stored):
    records, files = sent
    assert records and set(stored) == set(records)
    for instance_id, record in records.items():
        data, submitter, attachments = stored[instance_id]
        assert _answers(data) == _answers(record), instance_id
        assert submitter == record["__system"]["submitterName"]  # posted as its app user
        assert data["__system"]["deviceId"] == record["__system"]["deviceId"]
        assert data["meta"]["audit"] == "audit.csv" and "audit" not in data
        assert files[instance_id]["audit.csv"].startswith(b"event,node,start,end")
        assert attachments == files[instance_id], instance_id


def test_inline_form_goes_to_central_and_comes_back(
    survey, small_entities, central, sent, tmp_path, monkeypatch
):
    markdown = FORM
    if central.fake is None:  # a form id of its own on a shared server
        markdown = FORM.replace("| | tiny |", f"| | popsurvey_sim_{int(time.time() * 1000)} |")
    form_file = tmp_path / "tiny.md"
    form_file.write_text(markdown)
    form = read_markdown(markdown)
    stored = _simulate_and_pull(
        survey, small_entities, central, tmp_path, monkeypatch, form_file, form
    )
    _assert_arrived_unchanged(sent, stored)
    kids = [k for data, _, _ in stored.values() for k in data.get("kid") or []]
    assert kids and all(isinstance(k["kage"], int) for k in kids)
    if central.fake is None:
        _assert_central_layout(sent, stored)


def test_fertility_questionnaire_goes_to_central_and_comes_back(
    survey, small_entities, central, sent, tmp_path, monkeypatch
):
    bundled = ROOT / "forms" / "questionnaires"
    form_file = bundled / "fertility.xlsx"
    if central.fake is None:  # a form id of its own on a shared server
        form_file = _renamed_copy(form_file, tmp_path, f"popsurvey_fert_{int(time.time() * 1000)}")
    households = (bundled / "households.csv").read_bytes()  # its select_one_from_file list
    stored = _simulate_and_pull(
        survey,
        small_entities,
        central,
        tmp_path,
        monkeypatch,
        form_file,
        read_form(form_file),
        {"households.csv": (households, "text/csv")},
    )
    _assert_arrived_unchanged(sent, stored)
    births = [b for data, _, _ in stored.values() for b in data.get("d_hist") or []]
    assert births  # the birth-history repeat came back too
    if central.fake is None:
        _assert_central_layout(sent, stored)


def _assert_central_layout(sent, stored):
    """The simulator lays each record out exactly as the real Central's OData shows it:
    values, key order, repeat row ids, navigation links (all but ``__system``)."""
    records, _ = sent
    for instance_id, record in records.items():
        data = stored[instance_id][0]
        same = {k: v for k, v in record.items() if k != "__system"}
        _assert_same_layout(same, {k: v for k, v in data.items() if k != "__system"})


def _assert_same_layout(simulated, central, where="record"):
    """Equal values with keys in the same order, all the way down (ids and links too)."""
    if isinstance(simulated, dict):
        assert isinstance(central, dict) and list(simulated) == list(central), where
        for key in simulated:
            _assert_same_layout(simulated[key], central[key], f"{where}/{key}")
    elif isinstance(simulated, list):
        assert isinstance(central, list) and len(simulated) == len(central), where
        for i, (a, b) in enumerate(zip(simulated, central, strict=True)):
            _assert_same_layout(a, b, f"{where}[{i}]")
    else:
        assert simulated == central, f"{where}: {simulated!r} != {central!r}"


def _renamed_copy(xlsx: Path, folder: Path, form_id: str) -> Path:
    """A copy of an XLSForm whose settings name another form id."""
    import openpyxl

    book = openpyxl.load_workbook(xlsx)
    sheet = book["settings"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("form_id") + 1, value=form_id)
    target = folder / f"{form_id}.xlsx"
    book.save(target)
    return target
