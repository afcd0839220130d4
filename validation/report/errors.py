"""The report package's exceptions."""

from __future__ import annotations


class ReportError(Exception):
    """The report's inputs cannot make a report (a missing column, an unknown language)."""
