"""Exceptions of the sampling package: input that makes a sample impossible to draw.

Each one's ``str()`` is one line naming the place (file, row, stratum, column). Conditions a
statistician should hear about but that do not stop a draw (a listing shorter than the take)
are :class:`forms.issues.Issue` records returned with the sample instead.
"""

from __future__ import annotations

from surveys.errors import SurveysError


class SamplingError(SurveysError):
    """Base of every exception raised while reading a frame or drawing a sample."""


class FrameError(SamplingError):
    """A sampling frame or household listing that cannot be used (missing column, bad row)."""


class AllocationError(SamplingError):
    """An allocation that cannot be met: sample larger than the frame, unknown strata, ...

    ``key`` names the design setting at fault (``n``, ``stratum_n``, ``stratum_sd``,
    ``min_per_stratum``, ``allocation``) so the CLI can point at the survey.toml key.
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        self.key = key
        super().__init__(message)


class DesignError(SamplingError):
    """A selection asked of a method outside its domain (e.g. inclusion probabilities > 1)."""
