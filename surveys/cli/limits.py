"""``--max-unzipped SIZE``: the option that raises popsurvey's decompression limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def _set_limit(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from forms.archives import parse_size, set_max_unzipped

    if value is None:
        set_max_unzipped(None)  # the default (a previous command in this process may differ)
        return None
    try:
        set_max_unzipped(parse_size(value))
    except ValueError as err:
        raise click.BadParameter(str(err)) from None
    return value


def max_unzipped_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--max-unzipped SIZE`` (not passed on to the command: it sets the process limit)."""
    return click.option(
        "--max-unzipped",
        metavar="SIZE",
        expose_value=False,
        is_eager=True,
        callback=_set_limit,
        envvar="POPSURVEY_MAX_UNZIPPED",
        help="Largest size a zip (.xlsx, CSV export) may unzip to, e.g. 4GB (default 100MiB "
        "for a questionnaire, 1GiB for data; docs/SECURITY.md).",
    )(func)
