"""``popsurvey init [DIR]``: start a survey from a commented example survey.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from surveys.cli.common import handle_errors
from surveys.config import CONFIG_FILE, load_config
from surveys.data import DATA_DIR, FRAME_CSV, ROSTER_CSV
from surveys.errors import ConfigError

EXAMPLE = DATA_DIR / "survey_example.toml"


def bundled_questionnaires() -> list[Path]:
    """The questionnaires shipped with popsurvey (empty if the forms package has none)."""
    try:
        from forms.questionnaires import NAMES, bundled_questionnaire
    except ImportError:
        return []
    return [p for p in (bundled_questionnaire(n) for n in NAMES) if p.is_file()]


def write_example(directory: Path, *, force: bool = False) -> list[Path]:
    """Write survey.toml, the Qingshan frame, roster and questionnaires into ``directory``."""
    target = directory / CONFIG_FILE
    if target.exists() and not force:
        raise ConfigError(f"{target}: already exists (use --force to overwrite)")
    directory.mkdir(parents=True, exist_ok=True)
    copies = [
        (FRAME_CSV, directory / "frame" / FRAME_CSV.name),
        (ROSTER_CSV, directory / "enumerators.csv"),
        *((q, directory / "questionnaires" / q.name) for q in bundled_questionnaires()),
    ]
    written = []
    for source, destination in copies:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        written.append(destination)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    partial.replace(target)
    written.append(target)
    return written


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing survey.toml.")
@handle_errors
def init(directory: Path, force: bool) -> None:
    """Write a commented example survey.toml (with a synthetic frame and roster) into DIRECTORY.

    The example describes a fertility survey of Qingshan, a fictional prefecture: edit the
    keys, then `popsurvey sample draw`.
    """
    written = write_example(directory, force=force)
    config = load_config(directory / CONFIG_FILE)
    click.echo(f"Wrote {config.path} and:")
    for path in written[:-1]:
        click.echo(f"  {path}")
    click.echo("Next: edit survey.toml, then `popsurvey sample draw`.")
