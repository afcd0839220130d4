"""``popsurvey export``: labelled SPSS/Stata (and CSV, Parquet) datasets from the store."""

from __future__ import annotations

from pathlib import Path

import click

from surveys.cli.common import db_option, handle_errors, optional_config
from surveys.cli.progress import progress_bar

FORMAT_CHOICES = ("sav", "zsav", "dta", "csv", "parquet")


@click.command("export")
@click.option("--form", "form_id", help="Form ID in the store (default: the only form).")
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(FORMAT_CHOICES),
    help="File format; repeat for several (default: sav and dta).",
)
@click.option("--lang", help="Language of the labels: a code (zh, en) or the form's name.")
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files.",
)
@db_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="survey.toml for the don't-know/refused codes (default: ./survey.toml if present).",
)
@click.option(
    "--pii",
    type=click.Choice(["hash", "drop", "include"]),
    default="hash",
    show_default=True,
    help="Questions marked pii: salted hash, dropped, or included as collected.",
)
@click.option(
    "--salt",
    envvar="POPSURVEY_PII_SALT",
    help="Salt of the PII hashes [$POPSURVEY_PII_SALT] (default: random, this export only).",
)
@click.option("--wide", multiple=True, help="Reshape this top-level repeat wide (repeatable).")
@click.option(
    "--keep-errors", is_flag=True, help="Keep submissions with validation errors (left out)."
)
@click.option("--keep-rejected", is_flag=True, help="Keep submissions rejected in review.")
@click.option(
    "--weighting-run",
    type=int,
    help="Weights and design of this finished run (default: the newest finished run).",
)
@click.option("--unweighted", is_flag=True, help="Export without weights even when weighted.")
@click.option(
    "--writer",
    type=click.Choice(["auto", "popsurvey", "polars-readstat", "pyreadstat"]),
    default="auto",
    show_default=True,
    help="Writer of .sav/.zsav/.dta: popsurvey's own (auto), or the one named "
    "(polars-readstat writes no .zsav: pyreadstat does).",
)
@click.option(
    "--sav-compression",
    type=click.Choice(["bytecode", "none"]),
    default="bytecode",
    show_default=True,
    help=".sav compression: SPSS's bytecode (as SPSS writes; smaller, as fast) or none.",
)
@click.option("--quiet", is_flag=True, help="No progress bar, summary only.")
@handle_errors
def export(
    form_id: str | None,
    formats: tuple[str, ...],
    lang: str | None,
    out_dir: Path,
    db: str | None,
    config_path: Path | None,
    pii: str,
    salt: str | None,
    wide: tuple[str, ...],
    keep_errors: bool,
    keep_rejected: bool,
    weighting_run: int | None,
    unweighted: bool,
    writer: str,
    sav_compression: str,
    quiet: bool,
) -> None:
    """Export a form's submissions as labelled datasets: the main table and one file per
    repeat (linked by submission_id, row_key, parent_key), with the latest weights and
    design variables, a Stata do-file, SPSS syntax, a codebook, a log and provenance.

    Submissions with validation errors or rejected in review are left out unless
    --keep-errors / --keep-rejected; the log says which were.
    """
    from exports import ExportOptions
    from surveys.exporting import codes_from_config, export_from_store, only_form
    from surveys.store import open_store

    codes = optional_config(config_path)
    options = ExportOptions(
        formats=formats or ("sav", "dta"),
        language=lang,
        pii=pii,
        salt=salt,
        wide=wide,
        writer=writer,
        sav_compression=sav_compression,
        **({"codes": codes_from_config(codes)} if codes is not None else {}),
    )
    with open_store(db) as store:
        form_id = form_id or only_form(store)
        with progress_bar(f"export {form_id}", quiet) as progress:
            result = export_from_store(
                store,
                form_id,
                out_dir,
                options,
                keep_errors=keep_errors,
                keep_rejected=keep_rejected,
                weighting_run=weighting_run,
                unweighted=unweighted,
                progress=progress,
            )
    for dataset, stem, rows, variables in result.datasets:
        click.echo(f"{dataset}: {stem} ({rows} rows, {variables} variables)")
    for line in result.log[1:]:
        if line.startswith(("filter:", "pii:", "wide:", "writer:", "sav compression:")):
            click.echo(line)
    warnings = [i for i in result.issues if i.severity != "info"]
    if warnings:
        click.echo(f"{len(warnings)} warnings (see {form_id}_export.log)")
    click.echo(f"wrote {len(result.files)} files to {out_dir}")
