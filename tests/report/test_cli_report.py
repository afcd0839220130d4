"""``popsurvey report``: the three files, the --since window, one-line errors."""

from __future__ import annotations

from click.testing import CliRunner

from surveys.cli import main


def run(*args):
    return CliRunner().invoke(main, ["report", *args])


def test_report_writes_html_workbook_and_summary(survey, tmp_path):
    config, url = survey
    out = tmp_path / "out"
    result = run("-c", str(config), "--db", url, "-o", str(out))
    assert result.exit_code == 0, result.output
    for suffix in ("html", "xlsx", "txt"):
        assert (out / f"report.zh.{suffix}").stat().st_size > 100  # survey.toml says zh
    summary = (out / "report.zh.txt").read_text(encoding="utf-8")
    assert summary.splitlines()[2].startswith("1. 联系调查员 e2 李强")
    assert "Test survey: 12" not in summary and "12 份访问" in summary
    assert summary in result.output


def test_since_limits_the_interviews(sqlite_survey, tmp_path):
    config, url = sqlite_survey
    result = run(
        "-c", str(config), "--db", url, "-o", str(tmp_path), "--lang", "en", "--since", "2027-07-03"
    )
    assert result.exit_code == 0, result.output
    assert "Test survey: 3 interviews by 3 enumerators" in result.output  # i08, i11, i12


def test_errors_are_one_line(sqlite_survey, tmp_path):
    config, url = sqlite_survey
    result = run("-c", str(tmp_path / "missing.toml"), "--db", url)
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "missing.toml" in result.output
    result = run("-c", str(config), "--db", url, "--since", "July")
    assert result.exit_code == 2 and "July" in result.output
    config.write_text(config.read_text("utf-8").replace('"hhsurvey"', '"nosuchform"'), "utf-8")
    result = run("-c", str(config), "--db", url)
    assert result.exit_code == 1 and "nosuchform" in result.output
    assert "Traceback" not in result.output


def test_push_without_central_settings_is_one_line(sqlite_survey, tmp_path, monkeypatch):
    config, url = sqlite_survey
    monkeypatch.delenv("POPSURVEY_CENTRAL_USER", raising=False)
    monkeypatch.delenv("POPSURVEY_CENTRAL_PASSWORD", raising=False)
    monkeypatch.delenv("PYODK_CONFIG_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no pyodk config file either
    result = run("-c", str(config), "--db", url, "-o", str(tmp_path), "--push")
    assert result.exit_code == 1
    assert "no [central] section" in result.output.splitlines()[-1]
    assert (tmp_path / "report.zh.html").is_file()  # the report is written first
    config.write_text(
        config.read_text("utf-8").replace(
            "[enumerators]", '[central]\nurl = "https://central.example.org"\n\n[enumerators]'
        ),
        "utf-8",
    )
    result = run("-c", str(config), "--db", url, "-o", str(tmp_path), "--push")
    assert result.exit_code == 1 and "Traceback" not in result.output
    last = result.output.splitlines()[-1]
    assert "Central" in last or "central" in last
