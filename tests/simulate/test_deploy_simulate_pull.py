"""End to end through Central: ``popsurvey deploy`` the example survey (bundled
questionnaires, the sample as the entity list, an app user per enumerator), then
``simulate --central`` as the deployed app users with the tokens deploy wrote, then
``pull``: every simulated interview arrives once, attributed to its enumerator. On the fake
Central, and on a real one when POPSURVEY_CENTRAL_URL/_USER/_PASSWORD are set (in a new
project of its own)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time

import pytest
from click.testing import CliRunner
from simulate_support import ROOT

from forms import read_form
from surveys.cli import main
from surveys.sampling.assignment import entity_uuid

sys.path.insert(0, str(ROOT))  # import tests.fake_central

from tests.fake_central import FakeCentral, FakeCentralServer

ACCOUNT = ("POPSURVEY_CENTRAL_URL", "POPSURVEY_CENTRAL_USER", "POPSURVEY_CENTRAL_PASSWORD")


@pytest.fixture(params=["fake", "real"])
def account(request):
    """(url, user, password) of the fake Central, or of the real one when configured."""
    if request.param == "fake":
        server = FakeCentralServer(FakeCentral()).start()
        yield server.url, "admin@example.org", "correct horse"
        server.stop()
        return
    missing = [v for v in ACCOUNT if not os.environ.get(v)]
    if missing:
        pytest.skip("real ODK Central not configured: set " + ", ".join(missing))
    yield tuple(os.environ[v] for v in ACCOUNT)


def test_deploy_then_simulate_then_pull(survey, small_entities, account, tmp_path, monkeypatch):
    config, _ = survey
    url, user, password = account
    folder = tmp_path / "survey"
    shutil.copytree(config.directory, folder)
    project_name = f"popsurvey e2e {int(time.time() * 1000)}"
    households = small_entities.groupby("enumerator").head(2).head(8)
    # a real Central refuses entity UUIDs any entity list on the server holds or held
    # (deleted ones too): this run's households get UUIDs of their own
    households = households.assign(
        name=[entity_uuid(project_name, hhid) for hhid in households["hhid"]]
    )
    households.to_csv(folder / "entities.csv", index=False)
    fertility = ROOT / "forms" / "questionnaires" / "fertility.xlsx"
    form = read_form(fertility)
    text = (folder / "survey.toml").read_text()
    text = re.sub(r'(?m)^url = ".*"$', f'url = "{url}"', text, count=1)
    text = re.sub(r'(?m)^project_name = ".*"$', f'project_name = "{project_name}"', text, count=1)
    text = text.replace('questionnaires = ["questionnaires/fertility.xlsx", ', "questionnaires = [")
    text = text.replace('"questionnaires/migrants.xlsx"]', '"questionnaires/fertility.xlsx"]')
    # simulate submits with the questionnaire file's own version: publish that one
    deploy = f'entities = "entities.csv"\nversions = {{ fertility = "{form.version}" }}\n'
    text = text.replace("\n[deploy]\n", "\n[deploy]\n" + deploy, 1)
    assert deploy in text
    (folder / "survey.toml").write_text(text)
    monkeypatch.setenv("POPSURVEY_CENTRAL_USER", user)
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", password)

    deployed = CliRunner().invoke(main, ["deploy", str(folder), "-q"])
    assert deployed.exit_code == 0, deployed.output
    from surveys.central import CentralClient

    client = CentralClient(url, user, password, None)
    project = next(p["id"] for p in client.projects.list() if p["name"] == project_name)
    client.project_id = project
    assert {a["name"]: a["datasetExists"] for a in client.forms.attachments("fertility")} == {
        "households.csv": True
    }

    simulated = CliRunner().invoke(
        main,
        [
            "simulate", str(folder / "survey.toml"), "--entities", str(folder / "entities.csv"),
            "--form", str(fertility), "--central", url, "--project", str(project),
            "--tokens", str(folder / "deploy" / "tokens.csv"),
        ],
    )  # fmt: skip
    assert simulated.exit_code == 0, simulated.output
    sent = int(re.search(r"fertility: (\d+) submissions sent", simulated.output).group(1))
    assert sent > 0

    monkeypatch.setenv("POPSURVEY_CENTRAL_URL", url)
    monkeypatch.setenv("POPSURVEY_CENTRAL_PROJECT", str(project))
    db = tmp_path / "store.db"
    pulled = CliRunner().invoke(main, ["pull", "fertility", "--db", str(db), "-q"])
    assert pulled.exit_code == 0, pulled.output

    from sqlalchemy import select

    from surveys.store import open_store
    from surveys.store.models import Submission

    with open_store(f"sqlite:///{db}") as store, store.engine.connect() as conn:
        rows = conn.execute(
            select(Submission.instance_id, Submission.submitter_name, Submission.raw_json)
        ).all()
    assert len(rows) == sent and len({r.instance_id for r in rows}) == sent
    owner = dict(zip(households["name"], households["enumerator"], strict=True))
    for row in rows:
        record = json.loads(row.raw_json)
        chosen = next(v for k, v in _leaves(record) if k == "a02_hh")
        assert row.submitter_name == owner[chosen], row.instance_id


def _leaves(record, prefix=""):
    for key, value in record.items():
        if isinstance(value, dict):
            yield from _leaves(value)
        else:
            yield key, value
