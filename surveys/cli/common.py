"""Helpers shared by the CLI modules: error translation and output."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from exports.errors import ExportsError
from forms.errors import FormsError
from surveys.config import CONFIG_FILE
from surveys.errors import SurveysError
from weighting.errors import WeightingError

F = TypeVar("F", bound=Callable[..., Any])

LIBRARY_ERRORS: tuple[type[Exception], ...] = (
    FormsError,
    SurveysError,
    WeightingError,
    ExportsError,
)
"""Exception bases that the CLI reports as one line with exit code 1."""

config_option = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=CONFIG_FILE,
    show_default=True,
    help="The survey definition.",
)
"""``-c/--config``: survey.toml, passed as ``config_path``."""
sample_option = click.option(
    "-s",
    "--sample",
    "sample_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Sample directory [default: sample/ next to survey.toml].",
)
"""``-s/--sample``: the drawn sample's directory, passed as ``sample_dir``."""
db_option = click.option(
    "--db", help="Store: SQLite file or SQLAlchemy URL (default $POPSURVEY_DB or popsurvey.db)."
)
"""``--db``: the store."""
timeout_option = click.option(
    "--timeout", default=120.0, show_default=True, help="Read timeout, seconds."
)
"""``--timeout``: read timeout of requests to Central, seconds."""
retries_option = click.option(
    "--retries",
    default=5,
    show_default=True,
    type=click.IntRange(0),
    help="Retries (with backoff) on 429, 5xx and connection errors.",
)
"""``--retries``: retries of requests to Central."""


def optional_config(config_path: Path | None):  # type: ignore[no-untyped-def]
    """The survey definition at ``config_path``, else ./survey.toml when there is one, else
    None (commands that work on the store alone). The one lookup of an optional survey.toml:
    the file read is the result's ``path``, for messages that name it."""
    from surveys.config import load_config

    if config_path is None and Path(CONFIG_FILE).is_file():
        config_path = Path(CONFIG_FILE)
    return load_config(config_path) if config_path is not None else None


def handle_errors(func: F) -> F:
    """Turn popsurvey's library exceptions, and operating-system errors such as a full disk
    or a folder that cannot be written, into ``click.ClickException`` (one line, exit 1)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LIBRARY_ERRORS as err:
            raise click.ClickException(" ".join(str(err).split())) from err
        except OSError as err:  # a full disk, a read-only folder: one line, not a traceback
            where = f"{err.filename}: " if err.filename else ""
            raise click.ClickException(f"{where}{err.strerror or err}") from err

    return wrapper  # type: ignore[return-value]
