"""``popsurvey pull`` end to end against the fake Central."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from surveys.cli import main
from tests.fake_central import Fault
from tests.fake_central.fixture import BASE_FORM, household_form, seed

SECRET = "correct horse"


@pytest.fixture
def env(fake, tmp_path, monkeypatch):
    model = household_form()
    fake.central.add_form(1, model)
    seed(fake.central, 1, model, 30, audit=True)
    monkeypatch.setenv("POPSURVEY_CENTRAL_URL", fake.url)
    monkeypatch.setenv("POPSURVEY_CENTRAL_USER", "admin@example.org")
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", SECRET)
    monkeypatch.setenv("POPSURVEY_CENTRAL_PROJECT", "1")
    monkeypatch.setenv("POPSURVEY_DB", str(tmp_path / "cli.db"))
    form_file = tmp_path / "household.md"
    form_file.write_text(BASE_FORM.format(extra="", form_id="household", version="2026030101"))
    return fake, form_file


def test_pull_prints_progress_and_summary(env):
    _fake, form_file = env
    result = CliRunner().invoke(
        main, ["pull", "household", "--page-size", "10", "--form", str(form_file)]
    )
    assert result.exit_code == 0, result.output
    assert "household: 30 received in 3 page(s); 30 new" in result.output
    assert "pull household: 10/30" in result.output  # progress lines (stderr, not a tty)
    assert "30 audit events" not in result.output and "180 audit events" in result.output
    assert SECRET not in result.output
    again = CliRunner().invoke(main, ["pull", "household", "-q"])
    assert again.exit_code == 0 and "0 new" in again.output


def test_frames_after_pull_with_form(env):
    from surveys.store import open_store
    from surveys.store.frames import analysis_frames

    _, form_file = env
    CliRunner().invoke(main, ["pull", "household", "-q", "--form", str(form_file)])
    import os

    with open_store(os.environ["POPSURVEY_DB"]) as store:
        frames = analysis_frames(store, "household")
    assert len(frames.main) == 30 and "services/folic_acid" in frames.main


def test_errors_are_one_line_without_secrets(env, monkeypatch):
    fake, _ = env
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", "not-the-password-42")
    bad = CliRunner().invoke(main, ["pull", "household"])
    assert bad.exit_code == 1
    assert "refused the login" in bad.output and "not-the-password-42" not in bad.output
    assert "Traceback" not in bad.output
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", SECRET)
    fake.central.inject(Fault("garbage", path=".svc/Submissions"))
    garbage = CliRunner().invoke(main, ["pull", "household", "-q"])
    assert garbage.exit_code == 1
    assert garbage.output.count("\n") == 1 and "not JSON" in garbage.output
    missing = CliRunner().invoke(main, ["pull", "nosuchform", "-q"])
    assert missing.exit_code == 1 and "HTTP 404" in missing.output
