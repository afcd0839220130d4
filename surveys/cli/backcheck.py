"""``popsurvey backcheck ...``: draw the back-check sample, generate the back-check form,
compare the back-checks with the original interviews (bcstats's error rates)."""

from __future__ import annotations

from pathlib import Path

import click

from surveys.cli.common import config_option, db_option, handle_errors

out_option = click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("backcheck"),
    show_default=True,
    help="Folder of the back-check entity list and results.",
)


def _library_errors(func):  # type: ignore[no-untyped-def]
    """Back-check library errors as one line, like every library error."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        from validation.backcheck import BackcheckError

        try:
            return func(*args, **kwargs)
        except BackcheckError as err:
            raise click.ClickException(" ".join(str(err).split())) from err

    return wrapper


@click.group()
def backcheck() -> None:
    """Back-checks: draw the sample, generate the form, compare with the originals."""


@backcheck.command("draw")
@config_option
@db_option
@out_option
@click.option(
    "--seed", type=int, default=None, help="Seed of the draw [default: sample.seed or 1]."
)
@click.option(
    "--share",
    type=click.FloatRange(0, 1, min_open=True),
    help="Share of later interviews [quality.backcheck_share].",
)
@click.option(
    "--share-max",
    type=click.FloatRange(0, 1, min_open=True),
    help="Share in the first days [quality.backcheck_share_max].",
)
@click.option(
    "--publish", is_flag=True, help="Also add the drawn units to the entity list on ODK Central."
)
@handle_errors
@_library_errors
def draw(config_path, db, out_dir, seed, share, share_max, publish) -> None:  # type: ignore[no-untyped-def]
    """Draw today's back-checks per enumerator (every flagged interview, 10-20% of the
    others, more in the first days, never a unit drawn or back-checked before) and write the
    cumulative entity list <backcheck_list>.csv."""
    from surveys.config import load_config
    from surveys.reporting.backcheck import draw_sample
    from surveys.reporting.settings import report_settings
    from surveys.store import open_store
    from validation.backcheck import ENTITY_PROPERTIES

    config = load_config(config_path)
    settings = report_settings(config)
    if seed is None:
        seed = config.sample.seed if config.sample and config.sample.seed is not None else 1
    with open_store(db) as store:
        result = draw_sample(
            store, config, settings, out_dir, seed=seed, share=share, share_max=share_max
        )
    click.echo(result.summary())
    if not publish:
        click.echo(
            f"not published: upload {result.path.name} as the entity list "
            f"'{settings.backcheck_list}', or rerun with --publish"
        )
        return
    from surveys.reporting.central_bridge import central_client, publish_entities

    client = central_client(config)
    try:
        added = publish_entities(
            client, settings.backcheck_list, result.entities, ENTITY_PROPERTIES, result.path.name
        )
    finally:
        client.close()
    click.echo(f"published: {added} new entit(y/ies) in '{settings.backcheck_list}' on Central")


@backcheck.command("form")
@config_option
@db_option
@click.option(
    "-o",
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The XLSForm to write [default: <backcheck_form>.xlsx].",
)
@click.option(
    "--version", "form_version", default=None, help="Form version [default: today, YYYYMMDD]."
)
@handle_errors
@_library_errors
def form(config_path, db, out_file, form_version) -> None:  # type: ignore[no-untyped-def]
    """Generate the short back-check XLSForm from the questions marked for back-checks
    (bcheck_type column 1/2/3, or [report] backcheck_variables)."""
    from surveys.config import load_config
    from surveys.reporting.backcheck import write_form
    from surveys.reporting.settings import report_settings
    from surveys.store import open_store

    config = load_config(config_path)
    settings = report_settings(config)
    out_file = out_file or Path(f"{settings.backcheck_form}.xlsx")
    with open_store(db) as store:
        path, issues = write_form(store, settings, out_file, form_version)
    for issue in issues:
        click.echo(issue.one_line(), err=True)
    click.echo(f"wrote {path}")


@backcheck.command("compare")
@config_option
@db_option
@out_option
@handle_errors
@_library_errors
def compare(config_path, db, out_dir) -> None:  # type: ignore[no-untyped-def]
    """Compare the pulled back-checks with the original interviews: error rates by
    enumerator, back-checker and variable (tolerances, reliability ratios), written to
    backcheck.xlsx; the enumerators' rates feed the report's risk score."""
    from surveys.config import load_config
    from surveys.reporting.backcheck import compare as compare_stored
    from surveys.reporting.settings import report_settings
    from surveys.store import open_store

    config = load_config(config_path)
    settings = report_settings(config)
    with open_store(db) as store:
        result, paths = compare_stored(store, settings, out_dir)
    for issue in result.issues[:20]:
        click.echo(issue.one_line(), err=True)
    table = result.by_enumerator
    compared = int(table["backchecks"].sum())
    click.echo(f"{compared} back-check(s) compared; error rates by enumerator (types 1-2):")
    for row in table.itertuples():
        rate = "-" if row.compared == 0 else f"{100 * row.error_rate:.1f}%"
        click.echo(f"  {row.enumerator:<16}{rate:>8}  ({row.different}/{row.compared})")
    for path in paths:
        click.echo(f"wrote {path}")
