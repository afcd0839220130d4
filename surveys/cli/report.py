"""``popsurvey report``: the survey manager's daily report (HTML, Excel workbook, text
summary), and with ``--push`` the flags written back to Central as review states."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from surveys.cli.common import config_option, db_option, handle_errors, sample_option
from surveys.cli.progress import progress_bar


@click.command("report")
@config_option
@db_option
@sample_option
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of the report [default: report.language in survey.toml, else zh].",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only interviews started on or after this date (YYYY-MM-DD).",
)
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Where to write report.<lang>.html, .xlsx and .txt.",
)
@click.option(
    "--backchecks",
    "backcheck_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("backcheck"),
    show_default=True,
    help="Folder of `backcheck compare`: its error rates feed the risk score.",
)
@click.option(
    "--push",
    is_flag=True,
    help="Also write the flags back to ODK Central as review states with a comment.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@handle_errors
def report(
    config_path: Path,
    db: str | None,
    sample_dir: Path | None,
    lang: str | None,
    since: dt.datetime | None,
    out_dir: Path,
    backcheck_dir: Path,
    push: bool,
    quiet: bool,
) -> None:
    """Write the daily quality report: a self-contained HTML page (opens offline), an
    Excel workbook (enumerator summary, one sheet per check) and a short text summary."""
    from surveys.config import load_config
    from surveys.reporting.gather import report_inputs
    from surveys.reporting.settings import report_settings
    from surveys.sampling.workflow import sample_directory
    from surveys.store import open_store
    from validation.report import ReportError, write_report

    config = load_config(config_path)
    settings = report_settings(config)
    language = lang or settings.language
    sample = sample_dir or sample_directory(config)
    with open_store(db) as store:
        inputs = report_inputs(
            store,
            config,
            settings,
            sample_dir=sample if sample.is_dir() else None,
            since=since.date() if since else None,
            backchecks=_stored_backchecks(backcheck_dir),
        )
        with progress_bar("report", quiet) as progress:
            try:
                files = write_report(inputs, out_dir, language, progress=progress)
            except ReportError as err:
                raise click.ClickException(" ".join(str(err).split())) from err
        for path in (files.html, files.workbook, files.summary):
            click.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")
        click.echo(files.summary.read_text(encoding="utf-8"), nl=False)
        if push:
            from surveys.reporting.review import push_reviews

            result = push_reviews(store, config, settings, files.report, language)
            click.echo(result.summary())


def _stored_backchecks(directory: Path):  # type: ignore[no-untyped-def]
    """Per-enumerator back-check error rates saved by ``backcheck compare`` (or None)."""
    from surveys.reporting.backcheck import read_enumerator_rates

    return read_enumerator_rates(directory)
