"""Exceptions of the offline importers."""

from __future__ import annotations

from surveys.errors import SurveysError


class ImportFormatError(SurveysError):
    """An import file that cannot be read; ``str()`` names the file (and row) in one line."""
