"""The HTML report opens from the file in headless Chromium: no console errors, no request
leaves the page, and its charts have their data (SVG marks counted against the fixture)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from surveys.cli import main
from tests.report.browser import opened


@pytest.fixture(params=["zh", "en"])
def html_report(request, sqlite_survey, tmp_path):
    config, url = sqlite_survey
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        main, ["report", "-c", str(config), "--db", url, "--lang", request.param, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out / f"report.{request.param}.html", request.param


def test_report_renders_offline_with_its_data(html_report, tmp_path):
    path, language = html_report
    with opened(path) as (page, problems, outside):
        marks = {
            section: page.locator(f"#{section} svg .mark").count()
            for section in ("progress", "durations", "heatmap", "demography")
        }
        interviews_on_maps = page.locator("#map svg .interview").count()
        dwellings_on_maps = page.locator("#map svg .dwelling").count()
        ranking = page.locator("#ranking-table tr.pick").count()
        page.screenshot(path=str(tmp_path / f"report-{language}.png"), full_page=True)
        assert problems == []
        assert outside == []
    assert marks["progress"] == 2 * 3 + 2  # two counties x (complete, incomplete, pending) + 2 PSUs
    assert marks["durations"] == 40 + 1 + 3  # histogram bins; boxes: everyone and each of 3
    assert marks["heatmap"] == 11  # distinct (day, hour) with interviews
    # SRB funnel: e1 and e3 (e2 has no girl: no finite ratio); ages 22..50 (29 bars); 10 digits
    assert marks["demography"] == 2 + 29 + 10
    assert interviews_on_maps == 12 + 5  # every interview; the worst PSU (P2) close up
    assert dwellings_on_maps == 2 + 1
    assert ranking == 3
    assert (tmp_path / f"report-{language}.png").stat().st_size > 10_000


def test_drill_down_shows_one_enumerators_flagged_interviews(html_report):
    path, _ = html_report
    with opened(path) as (page, problems, outside):
        page.locator('#ranking-table tr.pick[data-e="e2"]').click()
        page.wait_for_function("location.hash === '#e=e2'")
        rows = page.locator("#flag-table tr").count() - 1
        heading = page.locator("#detail h3").inner_text()
        marked = page.locator("#indicators svg .pickmark").count()
        page.select_option("#pick", "e3")
        page.wait_for_function("location.hash === '#e=e3'")
        e3_rows = page.locator("#flag-table tr").count() - 1
        assert problems == [] and outside == []
    assert rows == 4  # e2's four duration flags
    assert heading.startswith("e2 李强")
    assert marked > 0  # e2's values marked on the team distributions
    assert e3_rows == 3  # two GPS warnings and the enumerator-level SRB flag


def test_html_is_self_contained(html_report):
    path, _ = html_report
    html = path.read_text(encoding="utf-8")
    for needle in ("<script src", "<link", "@import", "url(", 'src="http', 'href="http'):
        assert needle not in html
