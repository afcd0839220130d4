"""``popsurvey form ...``: check, build and document XLSForm questionnaires."""

from __future__ import annotations

import click


@click.group()
def form() -> None:
    """Check, build and document XLSForm questionnaires."""
