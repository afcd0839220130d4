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


SIDE_CHECKS = ("near_duplicates",)
"""Checks run in a second process when ``workers`` > 1: the survey-wide near-duplicate scan
is the largest single piece of work and shares nothing with the other checks but the
answer matrix, which is built before the fork (the child reads it copy-on-write). Moving
outliers and dates there too evened out the CPU but took the two processes' memory over
4 GB at 200,000 submissions (bench/README.md)."""


def run_checks(
    inputs: QualityInputs,
    names: Iterable[str] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    cpu: dict[str, float] | None = None,
    workers: int = 1,
) -> tuple[dict[str, CheckResult], dict[str, float]]:
    """Run the checks (all, or ``names``): results and seconds per check (wall clock; CPU
    seconds of the process that ran each into ``cpu`` when given). With ``workers`` > 1
    and a platform that forks, :data:`SIDE_CHECKS` run in a forked child process at the
    same time as the others (the results are the same)."""
    checks = selected_checks(names)
    side = [c for c in checks if c.name in SIDE_CHECKS] if workers > 1 and _can_fork() else []
    results: dict[str, CheckResult] = {}
    timings: dict[str, float] = {}
    cpu = {} if cpu is None else cpu
    child = _start_side(inputs, side) if side else None
    mine = [c for c in checks if c not in side]
    for done, item in enumerate(mine):
        if progress is not None:
            progress(done, len(checks))
        results[item.name], timings[item.name], cpu[item.name] = _timed(item, inputs)
    if child is not None:
        for name, (result, wall, used) in _finish_side(*child).items():
            results[name], timings[name], cpu[name] = result, wall, used
    if progress is not None:
        progress(len(checks), len(checks))
    order = [c.name for c in checks]
    return {n: results[n] for n in order}, {n: timings[n] for n in order}


def _timed(item: Check, inputs: QualityInputs) -> tuple[CheckResult, float, float]:
    started, cpu_started = time.perf_counter(), time.process_time()
    result = item.function(inputs)
    return result, time.perf_counter() - started, time.process_time() - cpu_started


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _start_side(inputs: QualityInputs, side: list[Check]):  # type: ignore[no-untyped-def]
    """Fork a child that runs ``side`` and sends back {name: (result, wall, cpu)}."""
    import multiprocessing

    from validation.quality.answers import answer_matrix

    answer_matrix(inputs)  # built once, before the fork: both processes read it
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_side_main, args=(inputs, side, sender), daemon=True)
    process.start()
    sender.close()
    return process, receiver


def _side_main(inputs: QualityInputs, side: list[Check], sender) -> None:  # type: ignore[no-untyped-def]
    try:
        sender.send(("ok", {item.name: _timed(item, inputs) for item in side}))
    except BaseException as err:  # the parent raises it: nothing is lost silently
        sender.send(("error", f"{type(err).__name__}: {err}"))
    finally:
        sender.close()


def _finish_side(process, receiver) -> dict:  # type: ignore[no-untyped-def]
    try:
        status, payload = receiver.recv()
    except EOFError:
        status, payload = "error", f"the check process ended with exit code {process.exitcode}"
    finally:
        receiver.close()
        process.join()
    if status != "ok":
        raise QualityError(f"a check run in a second process failed: {payload}")
    return payload


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
