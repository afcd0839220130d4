"""Exceptions of the weighting package.

Problems in the *data* that a statistician should look at (a weighting class without
respondents, a margin missing from the sample) are raised as :class:`WeightingError`
subclasses with a one-line message naming the variable and level; the CLI turns them into a
one-line error. Nothing here is ever a traceback for the user.
"""

from __future__ import annotations


class WeightingError(Exception):
    """Base of every exception raised by the weighting package."""


class DataFileError(WeightingError):
    """A data or targets file that cannot be read, or lacks a named column."""


class DesignError(WeightingError):
    """A survey design that cannot be built (missing weights, clusters not nested, ...)."""


class TargetsError(WeightingError):
    """Population targets that do not match the sample (unknown level, empty cell, ...)."""


class ConvergenceError(WeightingError):
    """A raking or calibration that did not converge (pass ``force=True`` to keep it)."""


class LonelyPSUError(DesignError):
    """A stratum with one PSU under ``lonely_psu="fail"``; ``stratum`` is its internal code
    and ``stage`` the sampling stage (1 = PSUs) when known."""

    def __init__(self, message: str, *, stratum: int | None = None, stage: int = 1) -> None:
        super().__init__(message)
        self.stratum = stratum
        self.stage = stage
