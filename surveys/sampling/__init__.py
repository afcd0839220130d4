"""Sampling: frames, allocation, multistage PPS selection, households, persons, assignment.

The library behind ``popsurvey sample``: :func:`load_frame` reads and checks a frame,
:func:`draw_sample` carries out a :class:`SampleDesign`, :func:`write_sample` /
:func:`read_sample` keep it on disk, :func:`stratum_report` summarises it and
:func:`assign` + :func:`entity_list` prepare it for ODK Central. Selection methods live in
:data:`METHODS` (systematic PPS, Sampford, SRS), each with exact joint probabilities.
"""

from __future__ import annotations

from surveys.sampling.allocation import ALLOCATION_METHODS, StratumTotals, allocate
from surveys.sampling.assignment import assign, entity_list, household_table, workloads
from surveys.sampling.design import (
    HouseholdDesign,
    PersonDesign,
    Sample,
    SampleDesign,
    StageDesign,
    draw_sample,
    load_frame,
    read_listing,
)
from surveys.sampling.errors import AllocationError, DesignError, FrameError, SamplingError
from surveys.sampling.methods import METHODS, get_method
from surveys.sampling.output import read_sample, write_sample
from surveys.sampling.probabilities import inclusion_probabilities
from surveys.sampling.report import stratum_report

__all__ = [
    "ALLOCATION_METHODS",
    "METHODS",
    "AllocationError",
    "DesignError",
    "FrameError",
    "HouseholdDesign",
    "PersonDesign",
    "Sample",
    "SampleDesign",
    "SamplingError",
    "StageDesign",
    "StratumTotals",
    "allocate",
    "assign",
    "draw_sample",
    "entity_list",
    "get_method",
    "household_table",
    "inclusion_probabilities",
    "load_frame",
    "read_listing",
    "read_sample",
    "stratum_report",
    "workloads",
    "write_sample",
]
