"""What a check returns: flags on submissions (with their evidence) and per-enumerator
indicators (each with the count it rests on)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forms.issues import Issue, Severity

INDICATOR_COLUMNS = (
    "enumerator",
    "indicator",
    "value",
    "n",
    "successes",
    "kind",
    "direction",
    "weight",
)
"""Columns of an indicator frame. ``kind``: ``share`` (successes of n, compared with a
binomial test against the rest of the team) or ``level`` (a mean, median or index,
compared with a robust z). ``direction``: which side is suspicious (``high``, ``low``,
``both``). ``weight``: how much the indicator counts in the risk score."""


@dataclass(frozen=True)
class Flag:
    """One problem in one submission (or, with no instance ID, one enumerator)."""

    code: str
    severity: Severity
    message: str
    instance_id: str | None = None
    enumerator: str | None = None
    variable: str | None = None
    value: float | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def issue(self) -> Issue:
        """The flag as a :class:`forms.Issue` (without its evidence)."""
        return Issue(
            code=self.code,
            severity=self.severity,
            message=self.message,
            variable=self.variable,
            instance_id=self.instance_id,
            enumerator=self.enumerator,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "instance_id": self.instance_id,
            "enumerator": self.enumerator,
            "variable": self.variable,
            "value": None if self.value is None else float(self.value),
            "message": self.message,
            "evidence": jsonable(self.evidence),
        }


@dataclass
class CheckResult:
    """Flags and indicators of one check (``skipped``: why it could not run, if so)."""

    flags: list[Flag] = field(default_factory=list)
    indicators: pd.DataFrame = field(default_factory=lambda: empty_indicators())
    skipped: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def empty_indicators() -> pd.DataFrame:
    """An indicator frame without rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in INDICATOR_COLUMNS})


def _by_enumerator(enumerators: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(integer code per case, enumerator per code), enumerators sorted."""
    codes, names = pd.factorize(np.asarray(enumerators, dtype=object), sort=True)
    return codes, np.asarray(names, dtype=object)


def _frame(name, names, value, n, successes, kind, direction, weight) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "enumerator": np.asarray(names, dtype=object).astype(str),
            "indicator": name,
            "value": value,
            "n": np.asarray(n).astype(int),
            "successes": successes,
            "kind": kind,
            "direction": direction,
            "weight": weight,
        }
    )


def share_indicator(
    name: str,
    enumerators: np.ndarray,
    hits: np.ndarray,
    eligible: np.ndarray | None = None,
    *,
    direction: str = "high",
    weight: float = 1.0,
) -> pd.DataFrame:
    """Per enumerator: share of ``eligible`` cases where ``hits`` (booleans per case)."""
    eligible = np.ones(len(hits), dtype=bool) if eligible is None else eligible
    return count_indicator(
        name,
        np.asarray(enumerators, dtype=object)[eligible],
        np.asarray(hits)[eligible].astype(float),
        np.ones(int(eligible.sum())),
        direction=direction,
        weight=weight,
    )


def count_indicator(
    name: str,
    enumerators: np.ndarray,
    successes: np.ndarray,
    trials: np.ndarray,
    *,
    direction: str = "high",
    weight: float = 1.0,
) -> pd.DataFrame:
    """Per enumerator: sum of ``successes`` over sum of ``trials`` (e.g. DK answers over
    applicable questions), one pair per case."""
    codes, names = _by_enumerator(enumerators)
    s = np.bincount(codes, weights=np.asarray(successes, dtype=float), minlength=len(names))
    t = np.bincount(codes, weights=np.asarray(trials, dtype=float), minlength=len(names))
    keep = t > 0
    return _frame(
        name, names[keep], s[keep] / t[keep], t[keep], s[keep], "share", direction, weight
    )


def level_indicator(
    name: str,
    enumerators: np.ndarray,
    values: np.ndarray,
    *,
    how: str = "median",
    direction: str = "both",
    weight: float = 1.0,
) -> pd.DataFrame:
    """Per enumerator: the median (or mean) of a per-case value, NaN cases left out."""
    values = np.asarray(values, dtype=float)
    ok = ~np.isnan(values)
    codes, names = _by_enumerator(np.asarray(enumerators, dtype=object)[ok])
    groups = pd.Series(values[ok]).groupby(codes)
    level = groups.median() if how == "median" else groups.mean()  # cythonised, not .agg
    counts = groups.count()
    return level_frame(
        name,
        names[level.index.to_numpy()],
        level.to_numpy(),
        counts.reindex(level.index).to_numpy(),
        direction=direction,
        weight=weight,
    )


def level_frame(
    name: str,
    enumerators: Iterable[Any],
    values: Iterable[float],
    counts: Iterable[int],
    *,
    direction: str = "both",
    weight: float = 1.0,
) -> pd.DataFrame:
    """An indicator frame of given per-enumerator values and counts."""
    enumerators = [str(e) for e in enumerators]
    return pd.DataFrame(
        {
            "enumerator": enumerators,
            "indicator": name,
            "value": np.asarray(list(values), dtype=float),
            "n": np.asarray(list(counts), dtype=int),
            "successes": np.nan,
            "kind": "level",
            "direction": direction,
            "weight": weight,
        }
    )


def tested_frame(
    name: str,
    enumerators: Iterable[Any],
    values: Iterable[float],
    counts: Iterable[int],
    expected: Iterable[float],
    z: Iterable[float],
    *,
    direction: str = "both",
    weight: float = 1.0,
) -> pd.DataFrame:
    """An indicator frame whose check made its own test: the team's (expected) value and
    the z of each enumerator are given, not derived from the others' values."""
    frame = level_frame(name, enumerators, values, counts, direction=direction, weight=weight)
    frame["kind"] = "tested"
    frame["expected"] = np.asarray(list(expected), dtype=float)
    frame["tested_z"] = np.asarray(list(z), dtype=float)
    return frame


def jsonable(value: Any) -> Any:
    """Numbers, strings, lists and dicts only (numpy and pandas values converted)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
