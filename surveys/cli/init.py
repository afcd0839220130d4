"""``popsurvey init [DIR]``: start a survey from a commented example survey.toml."""

from __future__ import annotations

from pathlib import Path

import click

from surveys.cli.common import handle_errors
from surveys.config import CONFIG_FILE, load_config
from surveys.example import write_example


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing survey.toml.")
@click.option(
    "--example",
    type=click.Choice(["fertility", "migrants"]),
    default="fertility",
    show_default=True,
    help="The fertility survey, or the migrant (floating-population) monitoring survey.",
)
@handle_errors
def init(directory: Path, force: bool, example: str) -> None:
    """Write a commented example survey.toml (with a synthetic frame and roster) into DIRECTORY.

    The example describes a fertility survey of Qingshan, a fictional prefecture (or, with
    --example migrants, its migrant monitoring survey): edit the keys, then `popsurvey
    sample draw`.
    """
    written = write_example(directory, force=force, survey=example)
    config = load_config(directory / CONFIG_FILE)
    click.echo(f"Wrote {config.path} and:")
    for path in written[:-1]:
        click.echo(f"  {path}")
    click.echo("Next: edit survey.toml, then `popsurvey sample draw`.")
