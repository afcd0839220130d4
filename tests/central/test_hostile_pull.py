"""``pull`` with careless input (issue #12): a failed first pull leaves no empty store."""

from __future__ import annotations

from click.testing import CliRunner

from surveys.cli import main


def test_a_failed_first_pull_leaves_no_empty_store(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("POPSURVEY_CENTRAL_URL", fake.url)
    monkeypatch.setenv("POPSURVEY_CENTRAL_USER", "admin@example.org")
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", "correct horse")
    monkeypatch.setenv("POPSURVEY_CENTRAL_PROJECT", "1")
    db = tmp_path / "store.db"
    result = CliRunner().invoke(main, ["pull", "nosuchform", "--db", str(db), "-q"])
    assert result.exit_code == 1 and "HTTP 404" in result.output
    assert list(tmp_path.iterdir()) == []


def test_pull_refuses_a_db_in_a_missing_folder(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("POPSURVEY_CENTRAL_URL", fake.url)
    monkeypatch.setenv("POPSURVEY_CENTRAL_USER", "admin@example.org")
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", "correct horse")
    monkeypatch.setenv("POPSURVEY_CENTRAL_PROJECT", "1")
    db = tmp_path / "tpyo" / "store.db"
    result = CliRunner().invoke(main, ["pull", "household", "--db", str(db), "-q"])
    assert result.exit_code == 1 and "no such folder" in result.output
    assert list(tmp_path.iterdir()) == []
