"""Comparing back-checks with the original interviews, as bcstats does.

Each back-check is matched to the original interview of the same unit. For each marked
variable a pair is *compared* unless both answers are missing (or either one, with
``exclude_missing``); it is *different* when the answers differ: numbers are compared as
numbers (``"2"`` equals ``2.0``) and within the variable's tolerance (bcstats's
``okrange``), select_multiple answers as sets, text after trimming and case folding.
Back-check values listed in ``no_difference`` (e.g. a don't-know code) are never counted as
differences (bcstats's ``nodiffnum``).

Error rate = differences / comparisons, by enumerator (types 1 and 2, plus every type
separately), by back-checker, by variable. The reliability ratio of a numeric type 2 or 3
variable is ``1 - SRV / Var(back-check)`` with the simple response variance
``SRV = Var(original - back-check) / 2`` (bcstats; sample variances).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forms.issues import Issue, Severity
from validation.backcheck.errors import BackcheckError
from validation.backcheck.variables import ACCOUNTABLE_TYPES, TYPES, BackcheckVariable


@dataclass
class BackcheckComparison:
    """Every comparison and the error rates (see the module doc)."""

    comparisons: pd.DataFrame
    """One row per (unit, variable): originals and back-check values, compared, different."""
    by_enumerator: pd.DataFrame
    by_backchecker: pd.DataFrame
    by_variable: pd.DataFrame
    issues: list[Issue] = field(default_factory=list)
    """Back-checks without an original, originals drawn but not back-checked, duplicates."""

    def enumerator_rates(self) -> pd.DataFrame:
        """``enumerator``, ``error_rate`` (types 1 and 2), ``compared``: what feeds the risk."""
        return self.by_enumerator[["enumerator", "error_rate", "compared"]]


def compare_backchecks(
    originals: pd.DataFrame,
    backchecks: pd.DataFrame,
    variables: Sequence[BackcheckVariable],
    *,
    unit: str = "unit",
    enumerator: str = "enumerator",
    backchecker: str = "backchecker",
    exclude_missing: bool = False,
    no_difference: Iterable[object] = (),
    expected_units: Iterable[str] | None = None,
) -> BackcheckComparison:
    """Compare ``backchecks`` with ``originals`` on ``variables`` (module doc).

    ``originals`` has ``unit``, ``enumerator`` and the variables; ``backchecks`` has
    ``unit``, ``backchecker`` and the variables. ``expected_units``: the units drawn for
    back-checks, to report the ones not back-checked yet.
    """
    if not variables:
        raise BackcheckError("no back-check variables: mark questions with a bcheck_type column")
    _require(originals, [unit, enumerator, *(v.name for v in variables)], "original interviews")
    _require(backchecks, [unit, backchecker, *(v.name for v in variables)], "back-checks")
    issues: list[Issue] = []
    originals = _unique(originals, unit, "original interview", issues)
    backchecks = _unique(backchecks, unit, "back-check", issues)
    merged = originals.merge(backchecks, on=unit, how="inner", suffixes=("", "__bc"))
    for missing in sorted(set(backchecks[unit]) - set(originals[unit])):
        issues.append(
            Issue(
                "B001",
                Severity.WARNING,
                f"back-check of unit {missing} has no original interview",
                variable=unit,
            )
        )
    if expected_units is not None:
        for missing in sorted({str(u) for u in expected_units} - set(backchecks[unit])):
            issues.append(
                Issue(
                    "B002",
                    Severity.INFO,
                    f"unit {missing} was drawn for a back-check and is not back-checked yet",
                    variable=unit,
                )
            )
    ignore = {_normal(v) for v in no_difference}
    parts = []
    for variable in variables:
        bc_column = variable.name if variable.name not in originals else f"{variable.name}__bc"
        survey, check = merged[variable.name], merged[bc_column]
        compared, different = _differ(survey, check, variable, exclude_missing, ignore)
        parts.append(
            pd.DataFrame(
                {
                    "unit": merged[unit],
                    "enumerator": merged[enumerator].astype(str),
                    "backchecker": merged[backchecker].astype(str),
                    "variable": variable.name,
                    "type": variable.type,
                    "survey": survey.to_numpy(),
                    "backcheck": check.to_numpy(),
                    "compared": compared,
                    "different": different,
                }
            )
        )
    comparisons = pd.concat(parts, ignore_index=True)
    return BackcheckComparison(
        comparisons=comparisons,
        by_enumerator=_rates(comparisons, "enumerator", ACCOUNTABLE_TYPES),
        by_backchecker=_rates(comparisons, "backchecker", TYPES),
        by_variable=_by_variable(comparisons, variables),
        issues=issues,
    )


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise BackcheckError(f"{what}: missing column(s) {', '.join(missing)}")


def _unique(frame: pd.DataFrame, unit: str, what: str, issues: list[Issue]) -> pd.DataFrame:
    """One row per unit (the last); duplicates are reported."""
    frame = frame[frame[unit].notna()].copy()
    frame[unit] = frame[unit].astype(str)
    counts = frame[unit].value_counts()
    for value in sorted(counts[counts > 1].index):
        issues.append(
            Issue(
                "B003",
                Severity.WARNING,
                f"unit {value} has {counts[value]} {what}s: the last is compared",
                variable=unit,
            )
        )
    return frame.drop_duplicates(unit, keep="last")


def _differ(
    survey: pd.Series,
    check: pd.Series,
    variable: BackcheckVariable,
    exclude_missing: bool,
    ignore: set[str],
) -> tuple[np.ndarray, np.ndarray]:
    """(compared, different) for each pair."""
    s_missing = survey.map(_is_missing).to_numpy(dtype=bool)
    b_missing = check.map(_is_missing).to_numpy(dtype=bool)
    compared = ~(s_missing | b_missing) if exclude_missing else ~(s_missing & b_missing)
    s_num = pd.to_numeric(survey, errors="coerce").to_numpy(dtype=float)
    b_num = pd.to_numeric(check, errors="coerce").to_numpy(dtype=float)
    numeric = ~np.isnan(s_num) & ~np.isnan(b_num)
    allowed = variable.tolerance * np.abs(s_num) if variable.relative else variable.tolerance
    with np.errstate(invalid="ignore"):
        number_differs = np.abs(s_num - b_num) > allowed + 1e-9
    text_differs = np.array(
        [_normal(a) != _normal(b) for a, b in zip(survey, check, strict=True)], dtype=bool
    )
    different = np.where(numeric, number_differs, text_differs)
    different &= ~check.map(lambda v: _normal(v) in ignore).to_numpy(dtype=bool)
    return compared, different & compared


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _normal(value: object) -> str:
    """A comparable text: numbers without trailing zeros, select_multiple sorted, case folded."""
    if _is_missing(value):
        return ""
    if isinstance(value, (int, float, np.number)):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    text = " ".join(str(value).split()).casefold()
    try:
        return _normal(float(text))
    except ValueError:
        return " ".join(sorted(text.split(" "))) if " " in text else text


def _rates(comparisons: pd.DataFrame, by: str, types: Sequence[int]) -> pd.DataFrame:
    """Comparisons, differences and error rate per type and over ``types`` for each ``by``."""
    counted = comparisons.assign(
        compared=comparisons["compared"].astype(int), different=comparisons["different"].astype(int)
    )
    table = counted.groupby(by).agg(backchecks=("unit", "nunique"))
    for kind in TYPES:
        part = counted[counted["type"] == kind].groupby(by)[["compared", "different"]].sum()
        table[f"compared_t{kind}"] = part["compared"].reindex(table.index).fillna(0).astype(int)
        table[f"different_t{kind}"] = part["different"].reindex(table.index).fillna(0).astype(int)
        table[f"error_rate_t{kind}"] = table[f"different_t{kind}"] / table[
            f"compared_t{kind}"
        ].replace(0, np.nan)
    table["compared"] = sum(table[f"compared_t{k}"] for k in types)
    table["different"] = sum(table[f"different_t{k}"] for k in types)
    table["error_rate"] = table["different"] / table["compared"].replace(0, np.nan)
    return table.sort_values("error_rate", ascending=False).reset_index()


def _by_variable(comparisons: pd.DataFrame, variables: Sequence[BackcheckVariable]) -> pd.DataFrame:
    rows = []
    for variable in variables:
        part = comparisons[(comparisons["variable"] == variable.name) & comparisons["compared"]]
        n, d = len(part), int(part["different"].sum())
        srv, ratio = (
            reliability(part["survey"], part["backcheck"])
            if variable.type in (2, 3)
            else (math.nan, math.nan)
        )
        rows.append(
            {
                "variable": variable.name,
                "type": variable.type,
                "tolerance": variable.tolerance,
                "compared": n,
                "different": d,
                "error_rate": d / n if n else math.nan,
                "srv": srv,
                "reliability": ratio,
            }
        )
    return pd.DataFrame(rows)


def reliability(survey: pd.Series, backcheck: pd.Series) -> tuple[float, float]:
    """(simple response variance, reliability ratio) of paired numeric answers (NaN when
    not numeric or fewer than two pairs)."""
    s = pd.to_numeric(survey, errors="coerce")
    b = pd.to_numeric(backcheck, errors="coerce")
    both = s.notna() & b.notna()
    if both.sum() < 2:
        return math.nan, math.nan
    s, b = s[both].to_numpy(dtype=float), b[both].to_numpy(dtype=float)
    srv = float(np.var(s - b, ddof=1) / 2)
    variance = float(np.var(b, ddof=1))
    return srv, (1 - srv / variance if variance > 0 else math.nan)
