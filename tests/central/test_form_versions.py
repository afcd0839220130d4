"""Pull stores the FormModel of every form version seen in submissions, read from the
XLSForm Central keeps for it; a version uploaded as XForm XML gets a warning, not a crash.

Each test runs on the fake and, when ``POPSURVEY_CENTRAL_*`` is set, on a real Central
(which converts uploaded XLSForms with pyxform-http), with a fresh form id there. Requests
are counted by spying on the client, so the same checks hold on both.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from surveys.central import CentralClient
from surveys.central.form_sources import fetch_version_model
from surveys.central.pull import pull_form
from surveys.cli import main
from surveys.store import models, writer
from surveys.store.frames import analysis_frames
from tests.central.handles import XLS, XLSX, CentralHandle
from tests.fake_central.fixture import household_form, household_xlsx, make_submission

REAL_VARS = (
    "POPSURVEY_CENTRAL_URL",
    "POPSURVEY_CENTRAL_USER",
    "POPSURVEY_CENTRAL_PASSWORD",
    "POPSURVEY_CENTRAL_PROJECT",
)
FAKE_ENV = ("admin@example.org", "correct horse", "1")
ROSTER_XLS = Path(__file__).parents[1] / "fixtures" / "forms" / "household_roster.xls"


@dataclass
class Site:
    """A Central (fake or real) and the id of a form not created on it yet."""

    handle: CentralHandle
    form_id: str
    env: dict[str, str]
    """``POPSURVEY_CENTRAL_*`` for the CLI."""

    @property
    def is_fake(self) -> bool:
        """Whether this is the in-process fake."""
        return self.handle.fake is not None


@pytest.fixture(params=["fake", "real"])
def site(request, fake) -> Site:
    """The fake with form id ``household``, or a real Central (skipped with the reason
    when not configured) with a form id of its own."""
    if request.param == "fake":
        handle = CentralHandle(fake.url, *FAKE_ENV[:2], 1)
        handle.fake = fake.central
        return Site(handle, "household", dict(zip(REAL_VARS, (fake.url, *FAKE_ENV), strict=True)))
    missing = [v for v in REAL_VARS if not os.environ.get(v)]
    if missing:
        pytest.skip("real ODK Central not configured: set " + ", ".join(missing))
    env = {v: os.environ[v] for v in REAL_VARS}
    handle = CentralHandle(*(env[v] for v in REAL_VARS[:3]), int(env[REAL_VARS[3]]))
    return Site(handle, f"popsurvey_fv_{time.time_ns()}", env)


def publish(site: Site, version: str, *, extra: int = 0, xlsx: bool = True, **kw: Any) -> bytes:
    """Publish ``version`` (from an .xlsx, or as XForm XML only); the bytes uploaded."""
    model = household_form(extra=extra, form_id=site.form_id, version=version)
    xlsform = household_xlsx(extra=extra, form_id=site.form_id, version=version) if xlsx else None
    site.handle.publish_version(model, xlsform, **kw)
    return xlsform or b""


def submit(handle: CentralHandle, rng: random.Random, n: int, *, extra: int = 0) -> dict:
    """``n`` submissions on the handle's current version: ``{__id: data}``."""
    out = {}
    for _ in range(n):
        data = make_submission(rng, extra=extra)
        out[handle.submit(data)] = data
    return out


def spied_client(site: Site) -> tuple[CentralClient, list[str]]:
    """A fresh client and the list of XLSForm files (``1.xlsx``...) it will have asked for."""
    client = site.handle.make_client()
    asked: list[str] = []
    request = client.request

    def spy(method: str, path: str, **kwargs: Any):
        if path.endswith((".xlsx", ".xls")):
            asked.append(path.rsplit("/", 1)[-1])
        return request(method, path, **kwargs)

    client.request = spy  # type: ignore[method-assign]
    return client, asked


def version_rows(store):
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(models.FormVersion)).all()
    return {r.version: r for r in rows}


def stored_models(store, form_id):
    with store.engine.connect() as conn:
        return writer.form_models(conn, writer.find_form(conn, form_id))


def get(site: Site, path: str):
    """GET a path of the form's (``.xlsx``, ``/versions/1.xls``...): the raw response."""
    client = site.handle.client
    url = client.session.urljoin(client.project_path("forms", site.form_id) + path)
    return client.session.get(url)


@pytest.fixture
def two_versions(site):
    """Submissions on v1, then on v2 which adds question ``x0`` (both uploaded as .xlsx)."""
    rng = random.Random(61)
    publish(site, "1")
    old = submit(site.handle, rng, 3)
    publish(site, "2", extra=1)
    new = submit(site.handle, rng, 2, extra=1)
    return site, old, new


def test_pull_stores_the_model_of_each_version(store, two_versions):
    site, old, new = two_versions
    client, asked = spied_client(site)
    result = pull_form(store, client, site.form_id)
    assert result.issues == []
    rows = version_rows(store)
    assert {v: r.model_source for v, r in rows.items()} == {
        "1": "central-xlsx",
        "2": "central-xlsx",
    }
    stored = stored_models(store, site.form_id)
    assert "x0" not in {e.name for e in stored["1"].elements}
    assert "x0" in {e.name for e in stored["2"].elements}

    frames = analysis_frames(store, site.form_id).main.set_index("__id")
    assert set(frames.index) == set(old) | set(new)
    assert frames.loc[list(old), "x0"].isna().all()  # v1 has no such question
    for central_id, data in new.items():
        assert frames.loc[central_id, "form_version"] == "2"
        assert frames.loc[central_id, "x0"] == data["more"]["x0"]
    assert sorted(asked) == ["1.xlsx", "2.xlsx"]  # one .xlsx per version

    pull_form(store, client, site.form_id)
    assert len(asked) == 2  # stored models are not fetched again


def test_form_option_overrides_centrals_xlsform(store, two_versions):
    site, _old, _new = two_versions
    pull_form(store, site.handle.make_client(), site.form_id)
    own = household_form(extra=3, form_id=site.form_id, version="1")  # the user's file for v1
    pull_form(store, site.handle.make_client(), site.form_id, model=own)
    assert version_rows(store)["1"].model_source == "file"
    main = analysis_frames(store, site.form_id).main
    assert "x2" in main and main["x2"].isna().all()


def test_xml_only_version_warns_once_and_falls_back(site, store):
    rng = random.Random(62)
    publish(site, "1", xlsx=False)  # uploaded as XForm XML: Central keeps no XLSForm
    old = submit(site.handle, rng, 2)
    publish(site, "2", extra=1)
    new = submit(site.handle, rng, 2, extra=1)

    client, asked = spied_client(site)
    result = pull_form(store, client, site.form_id)
    assert [i.code for i in result.issues] == ["F001"]
    line = result.issues[0].one_line()
    assert "\n" not in line and f"{site.form_id} version 1" in line and "XForm XML" in line
    rows = version_rows(store)
    assert rows["1"].model_json is None and rows["1"].model_source == "no-xlsform"
    assert rows["2"].model_source == "central-xlsx"
    assert sorted(asked) == ["1.xls", "1.xlsx", "2.xlsx"]  # both extensions for v1

    main = analysis_frames(store, site.form_id).main.set_index("__id")  # v1 rows read with v2
    assert set(main.index) == set(old) | set(new)
    assert main.loc[list(old), "x0"].isna().all()

    again = pull_form(store, client, site.form_id)
    assert again.issues == []  # recorded: not asked again
    assert len(asked) == 3


def test_xlsform_endpoints_follow_central(site):
    """Each published version's own file, byte for byte, at the extension of the content
    type it was uploaded with, named after the form; 404 for a version sent as XML."""
    first = publish(site, "1")
    publish(site, "2", extra=1, xlsx=False)
    third = publish(site, "3", extra=2, xls=True)  # .xlsx bytes sent as application/vnd.ms-excel
    forms = site.handle.make_client().forms
    assert [v["version"] for v in forms.versions(site.form_id)] == ["3", "2", "1"]
    assert forms.xlsform(site.form_id, "1") == (first, "xlsx")
    assert forms.xlsform(site.form_id, "2") is None  # XML only: 404 to .xlsx and .xls
    assert forms.xlsform(site.form_id, "3") == (third, "xls")  # .xlsx 404s for it
    assert forms.xlsform(site.form_id) == (third, "xls")  # the published (newest) version

    for path, extension, content_type in (("/versions/1.xlsx", "xlsx", XLSX), (".xls", "xls", XLS)):
        response = get(site, path)
        assert response.status_code == 200 and response.headers["Content-Type"] == content_type
        name = f"{site.form_id}.{extension}"  # not the version's name: the form's
        assert response.headers["Content-Disposition"] == (
            f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
        )
    missing = get(site, "/versions/2.xlsx")
    assert missing.status_code == 404 and missing.json()["code"] == 404.1

    found = fetch_version_model(site.handle.make_client(), site.form_id, "3")
    assert found.issue is None and found.source == "central-xls"  # read as what it is
    assert "x1" in {e.name for e in found.model.elements}


def test_version_renumbered_on_publish_keeps_the_drafts_xlsform(site, store):
    """``draft/publish?version=3`` keeps the draft's spreadsheet, whose settings say 2:
    the stored model is that of version 3 all the same."""
    rng = random.Random(64)
    publish(site, "1")
    uploaded = publish(site, "2", extra=1, as_version="3")
    assert [v["version"] for v in site.handle.client.forms.versions(site.form_id)] == ["3", "1"]
    assert site.handle.client.forms.xlsform(site.form_id, "3") == (uploaded, "xlsx")
    new = submit(site.handle, rng, 2, extra=1)

    assert pull_form(store, site.handle.make_client(), site.form_id).issues == []
    stored = stored_models(store, site.form_id)
    assert set(stored) == {"3"} and stored["3"].version == "3"
    main = analysis_frames(store, site.form_id).main.set_index("__id")
    assert (main.loc[list(new), "form_version"] == "3").all()
    assert "x0" in main


def test_draft_xlsform_is_served_only_as_the_draft(site):
    """A draft's spreadsheet is at ``.../draft.xlsx`` only: ``versions/{v}.xlsx`` 404s until
    it is published, and the form's own ``.xlsx`` stays the published one."""
    if site.is_fake:
        pytest.skip("the fake has no form drafts (pull never reads one)")
    first = publish(site, "1")
    draft = household_xlsx(extra=1, form_id=site.form_id, version="2")
    client = site.handle.client
    client.request(
        "POST",
        client.project_path("forms", site.form_id, "draft"),
        data=draft,
        headers={"Content-Type": XLSX, "X-XlsForm-FormId-Fallback": site.form_id},
    )
    assert get(site, "/draft.xlsx").content == draft
    assert get(site, "/versions/2.xlsx").status_code == 404
    assert client.forms.xlsform(site.form_id) == (first, "xlsx")
    client.request("POST", client.project_path("forms", site.form_id, "draft", "publish"))
    assert client.forms.xlsform(site.form_id, "2") == (draft, "xlsx")
    assert get(site, "/draft.xlsx").status_code == 404  # no draft any more


def test_legacy_xls_is_read(fake):
    """An OLE2 .xls (what pyxform-http converts as .xls) reads into its model. Fake only:
    the fixture's form id is fixed, and a real Central keeps every id it was given."""
    content = ROSTER_XLS.read_bytes()
    fake.central.add_form(
        1, None, form_id="dhs_household", version="7", xlsform=content, xlsform_type="xls"
    )
    client = CentralHandle(fake.url, *FAKE_ENV[:2], 1).make_client()
    found = fetch_version_model(client, "dhs_household", "7")
    assert found.issue is None and found.source == "central-xls"
    assert found.model.form_id == "dhs_household" and found.model.version == "7"


def test_cli_pull_of_two_versions_prints_the_warning(site, tmp_path, monkeypatch):
    rng = random.Random(63)
    publish(site, "1", xlsx=False)
    submit(site.handle, rng, 2)
    publish(site, "2", extra=1)
    submit(site.handle, rng, 3, extra=1)
    for name, value in site.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POPSURVEY_DB", str(tmp_path / "cli.db"))
    result = CliRunner().invoke(main, ["pull", site.form_id, "-q"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning F001")]
    assert len(warnings) == 1 and f"{site.form_id} version 1" in warnings[0]
    assert "Traceback" not in result.output and site.env[REAL_VARS[2]] not in result.output
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(models.FormVersion)).all()
    engine.dispose()
    assert {r.version: r.model_source for r in rows} == {"1": "no-xlsform", "2": "central-xlsx"}
