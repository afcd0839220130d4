"""``popsurvey pull``: incremental pull of submissions from ODK Central into the store."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from surveys.cli.common import (
    LIBRARY_ERRORS,
    db_option,
    handle_errors,
    optional_config,
    retries_option,
    timeout_option,
)

if TYPE_CHECKING:
    from surveys.config import SurveyConfig

PASSWORD_HELP = "Read from POPSURVEY_CENTRAL_PASSWORD, or prompted for (never a CLI argument)."


@click.command("pull")
@click.argument("form_ids", nargs=-1, required=True)
@db_option
@click.option(
    "--url", envvar="POPSURVEY_CENTRAL_URL", help="Central base URL [$POPSURVEY_CENTRAL_URL]."
)
@click.option(
    "--user",
    envvar="POPSURVEY_CENTRAL_USER",
    help="Central web user e-mail [$POPSURVEY_CENTRAL_USER].",
)
@click.option(
    "--project",
    type=int,
    envvar="POPSURVEY_CENTRAL_PROJECT",
    help="Central project id [$POPSURVEY_CENTRAL_PROJECT].",
)
@click.option(
    "--form",
    "form_file",
    type=click.Path(exists=True, dir_okay=False),
    help="XLSForm of a deployed version: its FormModel is stored for that version, replacing"
    " the one downloaded from Central.",
)
@click.option(
    "--page-size",
    default=10_000,
    show_default=True,
    type=click.IntRange(1),
    help="Submissions per OData page ($top); memory grows with it.",
)
@click.option(
    "--overlap",
    "overlap_minutes",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Minutes re-read before the watermark.",
)
@click.option(
    "--attachments",
    type=click.Choice(["audit", "all", "none"]),
    default="audit",
    show_default=True,
    help="Which submission attachments to download.",
)
@click.option(
    "--attachment-workers",
    default=4,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Attachments downloaded side by side (each on a Central session of its own).",
)
@click.option(
    "--audit-export",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Take audit logs from Central's export in one request (auto: when the window holds"
    " 500+ submissions) instead of two requests per submission.",
)
@click.option("--full", is_flag=True, help="Re-read every submission, not only the window.")
@click.option(
    "--reconcile", is_flag=True, help="Also drop stored submissions Central no longer has (purged)."
)
@timeout_option
@retries_option
@click.option(
    "--wait",
    default=600.0,
    show_default=True,
    help="Seconds to wait for another pull on the same store.",
)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="survey.toml whose [central] gives url, project_id and pyodk_config (default: "
    "./survey.toml when there is one; --url/--user/--project and the environment win).",
)
@click.option(
    "--qc/--no-qc",
    "run_qc",
    default=True,
    show_default=True,
    help="After new or changed submissions arrive, re-run quality control (popsurvey qc) "
    "on them: audit logs and near-duplicates of the new ones only, rankings of everyone.",
)
@click.option(
    "--validate/--no-validate",
    "run_validation",
    default=True,
    show_default=True,
    help="After new or changed submissions arrive, validate them (popsurvey validate, "
    "incremental: the new and changed ones only). A run that fails keeps the pulled data "
    "and exits 1; a form without a stored FormModel is not validated (one line).",
)
@click.option(
    "--attachment",
    "attachment_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A CSV the form reads, for that validation (as popsurvey validate --attachment; "
    "give the same files to both, or each re-validates what the other did).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@handle_errors
def pull(
    form_ids: tuple[str, ...],
    db: str | None,
    url: str | None,
    user: str | None,
    project: int | None,
    form_file: str | None,
    page_size: int,
    overlap_minutes: float,
    attachments: str,
    attachment_workers: int,
    audit_export: str,
    full: bool,
    reconcile: bool,
    timeout: float,
    retries: int,
    wait: float,
    config_path: Path | None,
    run_qc: bool,
    run_validation: bool,
    attachment_files: tuple[str, ...],
    quiet: bool,
) -> None:
    """Pull FORM_IDS from ODK Central into the store (first all, then incrementally).

    Central's URL and project come from --url/--project, the POPSURVEY_CENTRAL_* variables,
    or the [central] section of survey.toml (--config, or ./survey.toml); the user and
    password from --user / POPSURVEY_CENTRAL_USER / POPSURVEY_CENTRAL_PASSWORD or the pyodk
    config file that [central] pyodk_config names. The password is asked for last, once
    the server is known; it is never printed or logged. A pull killed at any point can
    simply be run again. A pull that stored anything re-runs quality control and
    validation on it (--no-qc, --no-validate).
    """
    from forms import read_form
    from surveys.central import CentralClient, HttpPolicy
    from surveys.central.pull import PullOptions, pull_form
    from surveys.store import display_url, open_store

    config = optional_config(config_path)
    from surveys.cli.validate import read_attachments

    attachments = read_attachments(attachment_files) if run_validation else {}
    settings = central_settings(config, url=url, user=user, project=project)
    if not settings.get("password"):
        settings["password"] = click.prompt(
            f"Central password for {settings['username']} at {settings['base_url']}",
            hide_input=True,
            err=True,
        )
    policy = HttpPolicy(read_timeout=timeout, retries=retries)
    client = CentralClient.from_env(policy, **settings)
    model = read_form(form_file) if form_file else None
    options = PullOptions(
        page_size=page_size,
        overlap=timedelta(minutes=overlap_minutes),
        attachments=attachments,
        attachment_workers=attachment_workers,
        audit_export=audit_export,
        full=full,
        reconcile=reconcile,
        lock_timeout=wait,
    )
    failed: list[str] = []
    with open_store(db) as store:
        if not quiet:
            click.echo(f"store: {display_url(str(store.engine.url))}", err=True)
        for form_id in form_ids:
            bar = _ProgressBar(form_id) if not quiet and sys.stderr.isatty() else None
            reporter = bar.update if bar else (None if quiet else _line_progress)
            try:
                result = pull_form(
                    store,
                    client,
                    form_id,
                    options,
                    model=model if model and model.form_id == form_id else None,
                    progress=reporter,
                )
            finally:
                if bar:
                    bar.close()
            click.echo(result.summary())
            _echo_issues(result.issues)
            if run_qc and result.stored_changes:
                _quality_after_pull(store, form_id, config)
            if run_validation and result.stored_changes:
                failure = _validation_after_pull(store, form_id, attachments, quiet)
                if failure is not None:
                    failed.append(failure)
    if failed:
        raise click.ClickException(
            "validation after the pull failed: "
            + "; ".join(failed)
            + " (the pulled submissions are stored: run popsurvey validate once fixed, or pull"
            " with --no-validate)"
        )


def _quality_after_pull(store, form_id: str, config) -> None:  # type: ignore[no-untyped-def]
    """Quality control of the pulled form, incremental (``surveys.quality``); a form that
    cannot be checked (no XLSForm stored, a bad setting) is one line on stderr, the pull
    itself stands."""
    from surveys.cli.qc import ranking_text
    from surveys.errors import SurveysError
    from surveys.quality import run_store_qc

    try:
        result = run_store_qc(store, form_id, config)
    except SurveysError as err:  # e.g. no XLSForm stored for the form: qc cannot read it
        click.echo(f"qc {form_id}: not run: {err}", err=True)
        return
    done = (
        f" ({result.recomputed} new or changed submission(s) re-computed)"
        if result.recomputed is not None
        else ""
    )
    click.echo("qc " + ranking_text(result, 0) + done)


def _validation_after_pull(store, form_id: str, attachments: dict, quiet: bool) -> str | None:  # type: ignore[no-untyped-def]
    """Validate the new and changed submissions of the pulled form (``surveys.validate``,
    as ``popsurvey validate --form FORM_ID``) and print its summary line; returns a failure
    of the run as one line (None when it ran). A form that cannot be validated at all (no
    FormModel stored: an XForm uploaded without its XLSForm) is one line on stderr, as for
    quality control. The pull is stored already, whatever happens."""
    from datetime import date

    from surveys.cli.progress import progress_bar
    from surveys.cli.validate import DEFAULT_WORKERS
    from surveys.validate import ValidationRunError, validate_form

    try:
        with progress_bar(f"validate {form_id}", quiet) as progress:
            summary = validate_form(
                store,
                form_id,
                today=date.today(),
                attachments=attachments,
                progress=progress,
                workers=DEFAULT_WORKERS,
            )
    except ValidationRunError as err:  # cannot start: the form's F001 warning says why
        click.echo(f"validate {form_id}: not run: {_one_line(err)}", err=True)
        return None
    except Exception as err:  # any failure of the run: one line and exit 1, the data stays
        return f"{form_id}: {_one_line(err)}"
    click.echo("validate " + summary.line())
    return None


def _one_line(err: Exception) -> str:
    """A library error's message; else the error's type and the first line of its message
    (a database error's: the driver's, without SQLAlchemy's statement and link)."""
    if isinstance(err, LIBRARY_ERRORS):
        return " ".join(str(err).split())
    detail = str(getattr(err, "orig", None) or err).strip()
    return f"{type(err).__name__}: {detail.splitlines()[0]}" if detail else type(err).__name__


def central_settings(
    config: SurveyConfig | None, *, url: str | None, user: str | None, project: int | None
) -> dict[str, Any]:
    """Central's base_url, username, project_id (and password when not to be asked for)
    from the options and environment, else the [central] section of ``config`` (survey.toml,
    see :func:`surveys.cli.common.optional_config`), else the pyodk config file it names.
    Raises :class:`CentralError` naming what is missing and the survey.toml read (before any
    password is asked for)."""
    from surveys.central import CentralError

    values: dict[str, Any] = {
        "base_url": url or os.environ.get("POPSURVEY_CENTRAL_URL"),
        "username": user or os.environ.get("POPSURVEY_CENTRAL_USER"),
        "project_id": project or os.environ.get("POPSURVEY_CENTRAL_PROJECT"),
        "password": os.environ.get("POPSURVEY_CENTRAL_PASSWORD"),
    }
    central = config.central if config is not None else None
    if central is not None:
        values["base_url"] = values["base_url"] or central.url
        values["project_id"] = values["project_id"] or central.project_id
        if central.pyodk_config is not None:
            pyodk = _pyodk_settings(central.pyodk_config)
            for key in ("base_url", "username", "password", "project_id"):
                values[key] = values[key] or pyodk.get(key)
    names = {
        "base_url": "POPSURVEY_CENTRAL_URL (or [central] url in survey.toml)",
        "username": "POPSURVEY_CENTRAL_USER (or --user)",
        "project_id": "POPSURVEY_CENTRAL_PROJECT (or [central] project_id in survey.toml)",
    }
    missing = [names[k] for k in names if values[k] in (None, "")]
    if missing:
        where = f" ({config.path} read)" if config is not None else " (no survey.toml here)"
        raise CentralError("Central settings missing: " + ", ".join(missing) + where)
    return values


def _pyodk_settings(path: Path) -> dict[str, Any]:
    """base_url, username, password and default project of a pyodk config.toml."""
    from surveys.config import read_document

    section = read_document(path).get("central") or {}
    return {
        "base_url": section.get("base_url"),
        "username": section.get("username"),
        "password": section.get("password"),
        "project_id": section.get("default_project_id"),
    }


def _echo_issues(issues: list, limit: int = 20) -> None:
    """Every form-version warning (one per version at most), then up to ``limit`` others."""
    from surveys.central.form_sources import ISSUE_CODES

    versions = [i for i in issues if i.code in ISSUE_CODES]
    others = [i for i in issues if i.code not in ISSUE_CODES]
    for issue in versions + others[:limit]:
        click.echo(issue.one_line(), err=True)
    if len(others) > limit:
        click.echo(f"... and {len(others) - limit} more issue(s)", err=True)


class _ProgressBar:
    """A click progress bar on stderr, sized when the first page tells the total."""

    def __init__(self, form_id: str) -> None:
        self.form_id = form_id
        self.bar = None
        self.done = 0

    def update(self, progress) -> None:  # type: ignore[no-untyped-def]
        if self.bar is None:
            self.bar = click.progressbar(
                length=progress.total or progress.received,
                label=f"pull {self.form_id}",
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda _: f"{self.rate:,.0f}/s",
            )
            self.bar.__enter__()
        self.rate = progress.rate
        self.bar.update(progress.received - self.done, current_item=progress)
        self.done = progress.received

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _line_progress(progress) -> None:  # type: ignore[no-untyped-def]
    total = f"/{progress.total}" if progress.total is not None else ""
    click.echo(
        f"pull {progress.form_id}: {progress.received}{total} ({progress.rate:,.0f}/s)", err=True
    )
