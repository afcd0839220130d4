"""``popsurvey deploy`` and ``popsurvey status``: put the survey on ODK Central, and see
where fieldwork stands."""

from __future__ import annotations

from pathlib import Path

import click

from surveys.cli.common import db_option, handle_errors, retries_option, timeout_option
from surveys.cli.progress import progress_bar

survey_dir_argument = click.argument(
    "survey_dir",
    required=False,
    default=".",
    type=click.Path(exists=True, path_type=Path),
)


def _config(survey_dir: Path):  # type: ignore[no-untyped-def]
    """survey.toml in ``survey_dir`` (or ``survey_dir`` itself when it is the file)."""
    from surveys.config import CONFIG_FILE, load_config

    return load_config(survey_dir if survey_dir.is_file() else survey_dir / CONFIG_FILE)


def _client(config, timeout: float = 120.0, retries: int = 5):  # type: ignore[no-untyped-def]
    """A Central client for survey.toml's server, with the account from the environment
    or the pyodk config file (no project chosen yet)."""
    from surveys.central import CentralClient, HttpPolicy
    from surveys.central.credentials import central_credentials
    from surveys.central.errors import DeployError

    if config.central is None:
        raise DeployError(f"{config.path.name}: no [central] section: nowhere to deploy")
    user, password = central_credentials(config.central.pyodk_config)
    policy = HttpPolicy(read_timeout=timeout, retries=retries)
    return CentralClient(config.central.url, user, password, None, policy)


@click.command("deploy")
@survey_dir_argument
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing on Central or disk.")
@click.option(
    "--entities",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Entity list CSV [default: deploy.entities or the sample's entities/<list>.csv].",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for QR codes, team sheets, tokens.csv [default: deploy.output or deploy/].",
)
@timeout_option
@retries_option
@click.option(
    "--revoke-unlisted",
    is_flag=True,
    help="Revoke every app user of the project outside the roster and deploy.keep_app_users,"
    " also those no deployment of this survey made (a project for this survey alone).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no list of changes.")
@handle_errors
def deploy(
    survey_dir: Path,
    dry_run: bool,
    entities: Path | None,
    out: Path | None,
    timeout: float,
    retries: int,
    revoke_unlisted: bool,
    quiet: bool,
) -> None:
    """Make ODK Central hold the survey of SURVEY_DIR/survey.toml: the project, each
    questionnaire (a new version when it changed), the sample as an entity list, an app
    user per enumerator with the forms of its role (revoked when removed from the roster;
    other app users of the project are left alone unless --revoke-unlisted), and write
    each enumerator's ODK Collect QR code and a printable sheet per team.

    Safe to run again: only what differs is changed. The QR codes hold the app users'
    keys: they are written owner-only and never printed. The account comes from
    POPSURVEY_CENTRAL_USER/POPSURVEY_CENTRAL_PASSWORD or a pyodk config.toml.
    """
    from surveys.deployment import deploy_survey

    config = _config(survey_dir)
    client = _client(config, timeout, retries)
    try:
        with progress_bar("deploy", quiet) as progress:
            outcome = deploy_survey(
                config,
                client,
                dry_run=dry_run,
                entities=entities,
                out=out,
                progress=progress,
                revoke_unlisted=revoke_unlisted,
            )
    finally:
        client.close()
    report = outcome.report
    if not quiet or dry_run:
        for action in report.actions:
            click.echo(("would " if dry_run else "") + action.line())
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(report.summary())
    if not dry_run:
        click.echo(
            f"QR codes and team sheets: {outcome.folder}/ (owner-only; {len(outcome.written)}"
            " file(s) written). They let their holder submit as the enumerator: keep them"
            " private."
        )


@click.command("status")
@survey_dir_argument
@db_option
@click.option("--no-store", is_flag=True, help="Central only (do not open the store).")
@handle_errors
def status(survey_dir: Path, db: str | None, no_store: bool) -> None:
    """Per form and enumerator: submissions on Central and in the store, the last pull,
    entities open and closed, app users active."""
    from forms import read_form
    from surveys.central.deploy import locate_project
    from surveys.central.errors import DeployError
    from surveys.status import survey_status

    config = _config(survey_dir)
    client = _client(config)
    try:
        found = locate_project(client, config.central.project_id, config.central.project_name)
        if found is None:
            raise DeployError(
                f"Central has no project '{config.central.project_name}' yet: run"
                " `popsurvey deploy` first"
            )
        client.project_id = found[0]
        form_ids = [read_form(path).form_id for path in config.questionnaires]
        roster = [e.id for e in config.enumerators]
        store = None if no_store else _existing_store(db)
        try:
            result = survey_status(
                client,
                store,
                form_ids,
                roster=roster,
                entity_list=config.central.entity_list,
                project_name=found[1],
            )
        finally:
            if store is not None:
                store.close()
    finally:
        client.close()
    if store is None and not no_store:
        click.echo("store: none yet (run `popsurvey pull`); Central only", err=True)
    for line in result.lines():
        click.echo(line)


def _existing_store(db: str | None):  # type: ignore[no-untyped-def]
    """The store, or None when it is a SQLite file that does not exist yet (``status``
    creates nothing)."""
    import sqlalchemy as sa

    from surveys.store import open_store
    from surveys.store.engine import resolve_url

    url = sa.engine.make_url(resolve_url(db))
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return None
    return open_store(db)
