"""``popsurvey import``: load Central exports, XML submissions or simulator JSON offline."""

from __future__ import annotations

from pathlib import Path

import click

from surveys.cli.common import db_option, handle_errors
from surveys.cli.limits import max_unzipped_option


@click.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@db_option
@click.option(
    "--form-id", help="Form id (default: from --form, the zip, or every form of the JSON pages)."
)
@click.option(
    "--form",
    "form_file",
    type=click.Path(exists=True, dir_okay=False),
    help="XLSForm: types the XML/CSV values and is stored as the version's model.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "csv-zip", "xml", "json-pages"]),
    default="auto",
    show_default=True,
    help="What SOURCE is; auto tells a .zip, XML files and JSON pages apart.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@max_unzipped_option
@handle_errors
def import_(
    source: Path,
    db: str | None,
    form_id: str | None,
    form_file: str | None,
    fmt: str,
    quiet: bool,
) -> None:
    """Import SOURCE into the store: a Central CSV export zip, a folder of submission XML
    files (audit.csv beside each), or a folder of OData JSON pages
    (pages/<formId>/page-0001.json, audits/<instanceID>/audit.csv).

    The whole import is one transaction: a bad file changes nothing.
    """
    from forms import read_form
    from surveys.cli.progress import progress_bar
    from surveys.importers import (
        ImportFormatError,
        check_pages,
        forms_in,
        import_csv_zip,
        import_json_pages,
        import_xml_dir,
    )
    from surveys.store import open_store

    model = read_form(form_file) if form_file else None
    form_id = form_id or (model.form_id if model else None)
    kind = fmt if fmt != "auto" else _detect(source)
    with open_store(db) as store, progress_bar("import", quiet) as progress:
        if kind == "csv-zip":
            results = [import_csv_zip(store, source, form_id, model, progress=progress)]
        elif kind == "json-pages":
            ids = [form_id] if form_id else forms_in(source)
            if not ids:
                raise ImportFormatError(f"{source}: no pages/<formId>/ folders")
            counts = check_pages(source, ids)  # a bad page anywhere: nothing imported
            results = []
            for f in ids:
                form_model = model if model and model.form_id == f else None
                results.append(
                    import_json_pages(
                        store, source, f, form_model, progress=progress, total=counts[f]
                    )
                )
        else:
            if not form_id:
                raise ImportFormatError(f"{source}: give --form-id or --form for XML files")
            results = [import_xml_dir(store, source, form_id, model, progress=progress)]
    for result in results:
        click.echo(result.summary())
        for issue in result.issues[:20]:
            click.echo(issue.one_line(), err=True)


def _detect(source: Path) -> str:
    if source.is_file():
        return "csv-zip"
    if (source / "pages").is_dir():
        return "json-pages"
    return "xml"
