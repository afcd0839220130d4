"""The survey manager's daily report: an HTML page, an Excel workbook and a text summary.

A library with plain inputs (:class:`ReportInputs`: pandas tables of interviews, flags,
sample progress, births and ages); ``surveys`` reads them from the store and calls
:func:`write_report`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from forms.files import write_all_or_nothing
from validation.report.compute import Report, compute_report
from validation.report.errors import ReportError
from validation.report.html import render_html
from validation.report.i18n import LANGUAGES, check_language
from validation.report.inputs import ReportInputs
from validation.report.summary import text_summary
from validation.report.workbook import workbook_bytes

__all__ = [
    "LANGUAGES",
    "Report",
    "ReportError",
    "ReportFiles",
    "ReportInputs",
    "compute_report",
    "render_html",
    "text_summary",
    "workbook_bytes",
    "write_report",
]


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote, and the report it computed."""

    html: Path
    workbook: Path
    summary: Path
    report: Report


def write_report(
    inputs: ReportInputs,
    out_dir: str | Path,
    language: str = "zh",
    stem: str = "report",
    progress: Callable[[int, int | None], None] | None = None,
) -> ReportFiles:
    """Compute the report and write ``<stem>.<lang>.html``, ``.xlsx`` and ``.txt`` into
    ``out_dir``, all three or none."""
    check_language(language)
    steps = 4
    _tick(progress, 0, steps)
    report = compute_report(inputs)
    _tick(progress, 1, steps)
    html = render_html(report, language)
    _tick(progress, 2, steps)
    workbook = workbook_bytes(report, language)
    _tick(progress, 3, steps)
    summary = text_summary(report, language).encode("utf-8")
    paths = write_all_or_nothing(
        out_dir,
        {
            f"{stem}.{language}.html": html,
            f"{stem}.{language}.xlsx": workbook,
            f"{stem}.{language}.txt": summary,
        },
    )
    _tick(progress, steps, steps)
    return ReportFiles(paths[0], paths[1], paths[2], report)


def _tick(progress: Callable[[int, int | None], None] | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
