"""Exceptions of the report, back-check and review wiring."""

from __future__ import annotations

from surveys.errors import SurveysError


class ReportingError(SurveysError):
    """The report, back-checks or review write-back cannot run with this store or survey."""
