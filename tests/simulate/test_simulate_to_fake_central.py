"""``popsurvey simulate --central`` end to end: the simulated interviews go over OpenRosa to
the fake Central as the enumerators' app users, ``popsurvey pull`` reads them back into a
SQLite store, and every value and audit log arrives unchanged."""

from __future__ import annotations

import json
import sys
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


@pytest.fixture
def central():
    server = FakeCentralServer(FakeCentral()).start()
    yield server
    server.stop()


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


def _simulate_and_pull(survey, small_entities, central, tmp_path, monkeypatch, form_file, form):
    config, _ = survey
    households = small_entities.groupby("enumerator").head(2).head(8)
    entities = tmp_path / "entities.csv"
    households.to_csv(entities, index=False)
    central.central.add_form(1, form)
    tokens = tmp_path / "tokens.csv"
    enumerators = sorted(households["enumerator"].unique())
    tokens.write_text(
        "enumerator,token\n"
        + "".join(f"{e},{central.central.add_app_user(1, e)}\n" for e in enumerators)
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
            "1",
            "--tokens",
            str(tokens),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{form.form_id}: " in result.output and "submissions sent to" in result.output
    for name, value in {
        "POPSURVEY_CENTRAL_URL": central.url,
        "POPSURVEY_CENTRAL_USER": "admin@example.org",
        "POPSURVEY_CENTRAL_PASSWORD": "correct horse",
        "POPSURVEY_CENTRAL_PROJECT": "1",
    }.items():
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
    """The answers of an OData record, as XML carries them: no ids, links or empty values;
    the audit log's file name under meta (where pyxform binds it, and Central shows it)."""
    record = dict(record)
    if "audit" in record:
        record["meta"] = {**(record.get("meta") or {}), "audit": record.pop("audit")}
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
        assert files[instance_id]["audit.csv"].startswith(b"event,node,start,end")
        assert attachments == files[instance_id], instance_id


def test_inline_form_goes_to_central_and_comes_back(
    survey, small_entities, central, sent, tmp_path, monkeypatch
):
    form_file = tmp_path / "tiny.md"
    form_file.write_text(FORM)
    form = read_markdown(FORM)
    stored = _simulate_and_pull(
        survey, small_entities, central, tmp_path, monkeypatch, form_file, form
    )
    _assert_arrived_unchanged(sent, stored)
    kids = [k for data, _, _ in stored.values() for k in data.get("kid") or []]
    assert kids and all(isinstance(k["kage"], int) for k in kids)


def test_fertility_questionnaire_goes_to_central_and_comes_back(
    survey, small_entities, central, sent, tmp_path, monkeypatch
):
    form_file = ROOT / "forms" / "questionnaires" / "fertility.xlsx"
    stored = _simulate_and_pull(
        survey, small_entities, central, tmp_path, monkeypatch, form_file, read_form(form_file)
    )
    _assert_arrived_unchanged(sent, stored)
