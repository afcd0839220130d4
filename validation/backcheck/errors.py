"""The back-check package's exceptions."""

from __future__ import annotations


class BackcheckError(Exception):
    """Back-checks cannot be drawn, generated or compared (a missing column, no marked
    question, an unknown variable)."""
