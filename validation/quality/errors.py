"""The quality package's exceptions (bad parameters; data problems are flags, not errors)."""

from __future__ import annotations


class QualityError(Exception):
    """A quality-control run cannot start: a parameter, threshold or role is wrong."""
