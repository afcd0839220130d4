"""Helpers shared by the CLI modules: error translation and output."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from exports.errors import ExportsError
from forms.errors import FormsError
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
