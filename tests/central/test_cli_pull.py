"""``popsurvey pull`` end to end against the fake Central and (when configured) a real one."""

from __future__ import annotations

import os
import random

import pytest
from click.testing import CliRunner

from surveys.cli import main
from surveys.store import open_store
from surveys.store.frames import analysis_frames
from surveys.store.issues import unvalidated_submissions
from tests.fake_central import Fault
from tests.fake_central.fixture import BASE_FORM, make_audit_csv, make_submission


@pytest.fixture
def env(central, tmp_path, monkeypatch):
    """30 submissions with audit logs on the handle's form; the CLI's environment; the
    form's markdown source."""
    rng = random.Random(11)
    central.audit_events = 0
    for _ in range(30):
        data = make_submission(rng, audit=True)
        audit = make_audit_csv(rng, data)
        central.submit(data, audit)
        central.audit_events += len(audit.splitlines()) - 1  # one event a line under the header
    monkeypatch.setenv("POPSURVEY_CENTRAL_URL", central.url)
    monkeypatch.setenv("POPSURVEY_CENTRAL_USER", central.user)
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", central.password)
    monkeypatch.setenv("POPSURVEY_CENTRAL_PROJECT", str(central.project))
    monkeypatch.setenv("POPSURVEY_DB", str(tmp_path / "cli.db"))
    form_file = tmp_path / "household.md"
    model = central.model
    form_file.write_text(BASE_FORM.format(extra="", form_id=model.form_id, version=model.version))
    return central, form_file


def test_pull_prints_progress_and_summary(env):
    central, form_file = env
    form_id = central.model.form_id
    result = CliRunner().invoke(
        main, ["pull", form_id, "--page-size", "10", "--form", str(form_file)]
    )
    assert result.exit_code == 0, result.output
    assert f"{form_id}: 30 received in 3 page(s); 30 new" in result.output
    assert f"pull {form_id}: 10/30" in result.output  # progress lines (stderr, not a tty)
    assert f"{central.audit_events} audit events" in result.output
    assert central.password not in result.output
    again = CliRunner().invoke(main, ["pull", form_id, "-q"])
    assert again.exit_code == 0 and "0 new" in again.output


def test_frames_after_pull_with_form(env):
    central, form_file = env
    form_id = central.model.form_id
    CliRunner().invoke(main, ["pull", form_id, "-q", "--form", str(form_file)])
    with open_store(os.environ["POPSURVEY_DB"]) as store:
        frames = analysis_frames(store, form_id)
    assert len(frames.main) == 30 and "services/folic_acid" in frames.main


def test_errors_are_one_line_without_secrets(env, monkeypatch):
    central, _ = env
    form_id = central.model.form_id
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", "not-the-password-42")
    bad = CliRunner().invoke(main, ["pull", form_id])
    assert bad.exit_code == 1
    assert "refused the login" in bad.output and "not-the-password-42" not in bad.output
    assert "Traceback" not in bad.output
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", central.password)
    missing = CliRunner().invoke(main, ["pull", "nosuchform", "-q"])
    assert missing.exit_code == 1 and "HTTP 404" in missing.output
    if central.fake is None:
        return  # only the fake can be made to answer garbage
    central.fake.inject(Fault("garbage", path=".svc/Submissions"))
    garbage = CliRunner().invoke(main, ["pull", form_id, "-q"])
    assert garbage.exit_code == 1
    assert garbage.output.count("\n") == 1 and "not JSON" in garbage.output


def test_pull_reruns_quality_control_on_what_arrived(env):
    """A pull that stores submissions re-runs quality control; the next pull re-computes
    only the new ones; a pull with nothing new leaves it; --no-qc skips it."""
    central, form_file = env
    form_id = central.model.form_id
    first = CliRunner().invoke(main, ["pull", form_id, "-q", "--form", str(form_file)])
    assert first.exit_code == 0, first.output
    assert f"qc {form_id}: 30 submissions checked" in first.output
    rng = random.Random(12)
    for _ in range(5):
        data = make_submission(rng, audit=True)
        central.submit(data, make_audit_csv(rng, data))
    second = CliRunner().invoke(main, ["pull", form_id, "-q"])
    assert second.exit_code == 0, second.output
    assert f"qc {form_id}: 35 submissions checked" in second.output
    assert "(5 new or changed submission(s) re-computed)" in second.output
    nothing = CliRunner().invoke(main, ["pull", form_id, "-q"])
    assert nothing.exit_code == 0 and "qc " not in nothing.output
    data = make_submission(rng, audit=True)
    central.submit(data, make_audit_csv(rng, data))
    skipped = CliRunner().invoke(main, ["pull", form_id, "-q", "--no-qc"])
    assert skipped.exit_code == 0 and "1 new" in skipped.output and "qc " not in skipped.output


def test_pull_validates_what_arrived(env):
    """A pull that stores submissions validates the new and changed ones (one summary
    line); a pull with nothing new does not; --no-validate skips it."""
    central, form_file = env
    form_id = central.model.form_id
    first = CliRunner().invoke(main, ["pull", form_id, "-q", "--form", str(form_file)])
    assert first.exit_code == 0, first.output
    line = f"validate {form_id}: 30 submission(s) validated, 0 unchanged of 30; "
    assert line in first.output
    assert sum(1 for text in first.output.splitlines() if text.startswith("validate ")) == 1
    rng = random.Random(13)
    for _ in range(5):
        central.submit(make_submission(rng, audit=False))
    second = CliRunner().invoke(main, ["pull", form_id, "-q"])
    assert second.exit_code == 0, second.output
    assert f"validate {form_id}: 5 submission(s) validated, 30 unchanged of 35; " in second.output
    nothing = CliRunner().invoke(main, ["pull", form_id, "-q"])
    assert nothing.exit_code == 0 and "validate " not in nothing.output
    last = central.submit(make_submission(rng, audit=False))
    skipped = CliRunner().invoke(main, ["pull", form_id, "-q", "--no-validate"])
    assert skipped.exit_code == 0 and "1 new" in skipped.output
    assert "validate " not in skipped.output
    with open_store(os.environ["POPSURVEY_DB"]) as store:
        assert unvalidated_submissions(store, form_id) == {last}


def test_a_failed_validation_keeps_the_pull_and_exits_1(env, monkeypatch):
    """Validation failing after the pull (here the store failing under it): the pulled
    submissions stay, quality control still ran, one line says what failed, exit 1."""
    import sqlalchemy as sa

    import surveys.validate

    central, form_file = env
    form_id = central.model.form_id

    def broken_write(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO validation_state", {}, "disk I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(surveys.validate, "_write", broken_write)
        failed = CliRunner().invoke(main, ["pull", form_id, "-q", "--form", str(form_file)])
    assert failed.exit_code == 1
    assert f"{form_id}: 30 received in 1 page(s); 30 new" in failed.output
    assert f"qc {form_id}: 30 submissions checked" in failed.output
    errors = [text for text in failed.output.splitlines() if text.startswith("Error:")]
    assert errors == [
        f"Error: validation after the pull failed: {form_id}: OperationalError: disk I/O "
        "error (the pulled submissions are stored: run popsurvey validate once fixed, or pull "
        "with --no-validate)"
    ]
    assert "Traceback" not in failed.output
    with open_store(os.environ["POPSURVEY_DB"]) as store:
        assert len(unvalidated_submissions(store, form_id)) == 30
    again = CliRunner().invoke(main, ["validate", "--form", form_id, "-q"])
    assert again.exit_code == 0 and "30 submission(s) validated" in again.output


def test_a_form_without_a_form_model_is_not_validated(env, monkeypatch):
    """An XForm uploaded without its XLSForm and no --form: no FormModel to validate
    against; one line says so (as for quality control) and the pull succeeds."""
    central, _ = env
    form_id = central.model.form_id
    monkeypatch.setattr("surveys.central.pull.fetch_version_model", _as_if_uploaded_as_xml)
    pulled = CliRunner().invoke(main, ["pull", form_id, "-q", "--no-qc"])
    assert pulled.exit_code == 0, pulled.output
    assert "30 new" in pulled.output
    assert (
        f"validate {form_id}: not run: no FormModel stored for form {form_id}: pull with "
        "--form FILE or import with --form FILE first" in pulled.output.splitlines()
    )


def _as_if_uploaded_as_xml(client, form_id, version):
    """What Central answers for a form version uploaded as XForm XML: no XLSForm."""
    from types import SimpleNamespace

    from surveys.central.form_sources import fetch_version_model

    no_xlsform = SimpleNamespace(forms=SimpleNamespace(xlsform=lambda form, ver: None))
    return fetch_version_model(no_xlsform, form_id, version)


def test_pull_validates_with_the_attachments_given(env, tmp_path):
    """--attachment gives validation after the pull the form's CSVs, as popsurvey validate
    --attachment: a validate given the same files then has nothing to do; a file that does
    not read is one line before anything is pulled."""
    central, form_file = env
    form_id = central.model.form_id
    households = tmp_path / "households.csv"
    households.write_text("name,label,size\nh1,H1,3\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_bytes("name,label\nh1,\u6237\n".encode("gb18030"))
    refused = CliRunner().invoke(main, ["pull", form_id, "-q", "--attachment", str(bad)])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert refused.output.startswith(f"Error: {bad}: not a UTF-8 CSV file")
    assert not os.path.exists(os.environ["POPSURVEY_DB"])
    pull = ["pull", form_id, "-q", "--form", str(form_file), "--attachment", str(households)]
    pulled = CliRunner().invoke(main, pull)
    assert pulled.exit_code == 0, pulled.output
    assert f"validate {form_id}: 30 submission(s) validated" in pulled.output
    same = ["validate", "--form", form_id, "-q", "--attachment", str(households)]
    again = CliRunner().invoke(main, same)
    assert again.exit_code == 0 and "0 submission(s) validated, 30 unchanged" in again.output
