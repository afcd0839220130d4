"""Pull stores the FormModel of every form version seen in submissions, read from the
XLSForm Central keeps for it; a version uploaded as XForm XML gets a warning, not a crash."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from surveys.cli import main
from surveys.pull import pull_form
from surveys.store import models, writer
from surveys.store.frames import analysis_frames
from tests.central.handles import CentralHandle
from tests.fake_central.fixture import household_form, household_xlsx, make_submission

FORM = "household"


def handle_for(fake) -> CentralHandle:
    return CentralHandle(fake.url, "admin@example.org", "correct horse", 1)


def publish(fake, handle, version, *, extra=0, xlsx=True):
    """Publish ``version`` on the fake (from an .xlsx, or as XForm XML only)."""
    model = household_form(extra=extra, version=version)
    xlsform = household_xlsx(extra=extra, version=version) if xlsx else None
    fake.central.add_form(1, model, xlsform=xlsform)
    handle.model = model


def submit(handle, rng, n, *, extra=0):
    """``n`` submissions on the handle's current version: ``{__id: data}``."""
    out = {}
    for _ in range(n):
        data = make_submission(rng, extra=extra)
        out[handle.submit(data)] = data
    return out


def version_rows(store):
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(models.FormVersion)).all()
    return {r.version: r for r in rows}


def xlsform_requests(fake):
    return [p for m, p in fake.central.requests if p.endswith((".xlsx", ".xls"))]


@pytest.fixture
def two_versions(fake):
    """Submissions on v1, then on v2 which adds question ``x0`` (both uploaded as .xlsx)."""
    rng = random.Random(61)
    handle = handle_for(fake)
    publish(fake, handle, "1")
    old = submit(handle, rng, 3)
    publish(fake, handle, "2", extra=1)
    new = submit(handle, rng, 2, extra=1)
    return handle, old, new


def test_pull_stores_the_model_of_each_version(fake, store, two_versions):
    handle, old, new = two_versions
    result = pull_form(store, handle.make_client(), FORM)
    assert result.issues == []
    rows = version_rows(store)
    assert {v: r.model_source for v, r in rows.items()} == {
        "1": "central-xlsx",
        "2": "central-xlsx",
    }
    with store.engine.connect() as conn:
        stored = writer.form_models(conn, writer.find_form(conn, FORM))
    assert "x0" not in {e.name for e in stored["1"].elements}
    assert "x0" in {e.name for e in stored["2"].elements}

    frames = analysis_frames(store, FORM).main.set_index("__id")
    assert set(frames.index) == set(old) | set(new)
    assert frames.loc[list(old), "x0"].isna().all()  # v1 has no such question
    for central_id, data in new.items():
        assert frames.loc[central_id, "form_version"] == "2"
        assert frames.loc[central_id, "x0"] == data["more"]["x0"]
    assert len(xlsform_requests(fake)) == 2  # one .xlsx per version

    pull_form(store, handle.make_client(), FORM)
    assert len(xlsform_requests(fake)) == 2  # stored models are not fetched again


def test_form_option_overrides_centrals_xlsform(fake, store, two_versions):
    handle, _old, _new = two_versions
    pull_form(store, handle.make_client(), FORM)
    own = household_form(extra=3, version="1")  # the user's own file for v1
    pull_form(store, handle.make_client(), FORM, model=own)
    assert version_rows(store)["1"].model_source == "file"
    main = analysis_frames(store, FORM).main
    assert "x2" in main and main["x2"].isna().all()


def test_xml_only_version_warns_once_and_falls_back(fake, store):
    rng = random.Random(62)
    handle = handle_for(fake)
    publish(fake, handle, "1", xlsx=False)  # uploaded as XForm XML: Central keeps no XLSForm
    old = submit(handle, rng, 2)
    publish(fake, handle, "2", extra=1)
    new = submit(handle, rng, 2, extra=1)

    result = pull_form(store, handle.make_client(), FORM)
    assert [i.code for i in result.issues] == ["F001"]
    line = result.issues[0].one_line()
    assert "\n" not in line and "household version 1" in line and "XForm XML" in line
    rows = version_rows(store)
    assert rows["1"].model_json is None and rows["1"].model_source == "no-xlsform"
    assert rows["2"].model_source == "central-xlsx"
    # both extensions were asked for v1 (xlsx, then xls), one for v2
    assert sorted(p.rsplit("/", 1)[-1] for p in xlsform_requests(fake)) == [
        "1.xls",
        "1.xlsx",
        "2.xlsx",
    ]

    main = analysis_frames(store, FORM).main.set_index("__id")  # v1 rows read with v2
    assert set(main.index) == set(old) | set(new)
    assert main.loc[list(old), "x0"].isna().all()

    again = pull_form(store, handle.make_client(), FORM)
    assert again.issues == []  # recorded: not asked again
    assert len(xlsform_requests(fake)) == 3


def test_published_form_xlsform_endpoints_follow_central(fake):
    handle = handle_for(fake)
    publish(fake, handle, "1", xlsx=False)
    publish(fake, handle, "2", extra=1)
    forms = handle.make_client().forms
    content, extension = forms.xlsform(FORM)
    assert extension == "xlsx" and content[:2] == b"PK"
    assert forms.xlsform(FORM, "2") == (content, "xlsx")
    assert forms.xlsform(FORM, "1") is None  # XML-only: 404 to .xlsx and .xls
    fake.central.add_form(1, household_form(version="3"), xlsform=b"\xd0\xcf", xlsform_type="xls")
    assert forms.xlsform(FORM, "3") == (b"\xd0\xcf", "xls")  # .xlsx 404s for an .xls upload
    response = handle.client.session.get(
        handle.client.session.urljoin("projects/1/forms/household/versions/3.xls")
    )
    assert response.headers["Content-Type"] == "application/vnd.ms-excel"


def test_cli_pull_prints_the_warning(fake, tmp_path, monkeypatch):
    rng = random.Random(63)
    handle = handle_for(fake)
    publish(fake, handle, "1", xlsx=False)
    submit(handle, rng, 2)
    monkeypatch.setenv("POPSURVEY_CENTRAL_URL", fake.url)
    monkeypatch.setenv("POPSURVEY_CENTRAL_USER", "admin@example.org")
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", "correct horse")
    monkeypatch.setenv("POPSURVEY_CENTRAL_PROJECT", "1")
    monkeypatch.setenv("POPSURVEY_DB", str(tmp_path / "cli.db"))
    result = CliRunner().invoke(main, ["pull", FORM, "-q"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning F001")]
    assert len(warnings) == 1 and "household version 1" in warnings[0]
    assert "Traceback" not in result.output
