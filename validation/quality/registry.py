"""The registry of quality checks: code -> one small function over :class:`QualityInputs`.

A check is registered with :func:`check` and returns a :class:`CheckResult` (flags on
submissions with their evidence, and per-enumerator indicators). :func:`run_checks` runs
the selected ones and times each.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from validation.quality.errors import QualityError
from validation.quality.flags import CheckResult
from validation.quality.inputs import QualityInputs

CheckFn = Callable[[QualityInputs], CheckResult]


@dataclass(frozen=True)
class Check:
    """A registered check: its code prefix, name, one-line description and function."""

    code: str
    name: str
    description: str
    function: CheckFn


CHECKS: dict[str, Check] = {}
"""Check name -> check, in registration order (the order of the report)."""


def check(code: str, name: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``function`` under ``name``; its docstring's first line describes it."""

    def register(function: CheckFn) -> CheckFn:
        doc = (function.__doc__ or "").strip().splitlines()
        CHECKS[name] = Check(code, name, doc[0] if doc else name, function)
        return function

    return register


def selected_checks(names: Iterable[str] | None = None) -> list[Check]:
    """The checks called ``names`` (all when None); an unknown name is a QualityError."""
    _load_all()
    if names is None:
        return list(CHECKS.values())
    names = list(names)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise QualityError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    return [CHECKS[n] for n in names]


def run_checks(
    inputs: QualityInputs,
    names: Iterable[str] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    cpu: dict[str, float] | None = None,
) -> tuple[dict[str, CheckResult], dict[str, float]]:
    """Run the checks (all, or ``names``): results and seconds per check (wall clock; CPU
    seconds of this process into ``cpu`` when given)."""
    checks = selected_checks(names)
    results: dict[str, CheckResult] = {}
    timings: dict[str, float] = {}
    for done, item in enumerate(checks):
        if progress is not None:
            progress(done, len(checks))
        started, cpu_started = time.perf_counter(), time.process_time()
        results[item.name] = item.function(inputs)
        timings[item.name] = time.perf_counter() - started
        if cpu is not None:
            cpu[item.name] = time.process_time() - cpu_started
    if progress is not None:
        progress(len(checks), len(checks))
    return results, timings


CHECK_MODULES = (
    "ids",
    "near_duplicates",
    "rates",
    "outliers",
    "paradata",
    "dates",
    "gps",
    "demography",
    "fabrication",
    "admin",
)
"""The modules that register checks, in the order of the report."""


def _load_all() -> None:
    """Import the modules that register checks (in report order)."""
    import importlib

    for module in CHECK_MODULES:
        importlib.import_module(f"validation.quality.{module}")
