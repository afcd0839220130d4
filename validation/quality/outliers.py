"""Outliers of number answers: Tukey's fences (Q1 - m IQR, Q3 + m IQR) and the SD rule
(mean +- k SD), over the whole survey and within groups (e.g. strata), with don't-know
and refusal codes left out of the distribution (a 98 or 999998 is a code, not a value)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forms.issues import Severity
from validation.quality.applicability import asked_questions
from validation.quality.flags import CheckResult, Flag, count_indicator
from validation.quality.inputs import QualityInputs, numeric_special_codes, text
from validation.quality.registry import check

NUMBER_TYPES = frozenset({"integer", "decimal", "range"})


def fences(values: np.ndarray, iqr_multiplier: float, sd_multiplier: float) -> dict[str, float]:
    """Tukey's fences and the SD rule's bounds of ``values`` (no NaN, no codes)."""
    q1, q3 = np.percentile(values, [25, 75])
    iqr = q3 - q1
    mean, sd = float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {
        "q1": float(q1),
        "q3": float(q3),
        "tukey_low": float(q1 - iqr_multiplier * iqr),
        "tukey_high": float(q3 + iqr_multiplier * iqr),
        "mean": mean,
        "sd": sd,
        "sd_low": mean - sd_multiplier * sd,
        "sd_high": mean + sd_multiplier * sd,
    }


def outlier_mask(
    values: np.ndarray, iqr_multiplier: float, sd_multiplier: float, min_values: int
) -> tuple[np.ndarray, np.ndarray, dict[str, float] | None]:
    """(outside Tukey's fences, outside mean +- k SD) per value (NaN never outside); the
    rules apply only with ``min_values`` values, Tukey only with a non-zero IQR."""
    ok = ~np.isnan(values)
    tukey = np.zeros(len(values), dtype=bool)
    sd_rule = np.zeros(len(values), dtype=bool)
    if ok.sum() < min_values:
        return tukey, sd_rule, None
    bounds = fences(values[ok], iqr_multiplier, sd_multiplier)
    with np.errstate(invalid="ignore"):
        if bounds["q3"] > bounds["q1"]:
            tukey = ok & ((values < bounds["tukey_low"]) | (values > bounds["tukey_high"]))
        if bounds["sd"] > 0:
            sd_rule = ok & ((values < bounds["sd_low"]) | (values > bounds["sd_high"]))
    return tukey, sd_rule, bounds


@check("Q401", "outliers")
def outliers(inputs: QualityInputs) -> CheckResult:
    """Number answers outside Tukey's fences or mean +- k SD, overall and within groups,
    don't-know and refusal codes excluded."""
    t = inputs.thresholds
    result = CheckResult()
    n = len(inputs.main)
    hits = np.zeros(n, dtype=np.int64)
    answered = np.zeros(n, dtype=np.int64)
    groups = [g for g in inputs.roles.outlier_groups if g in inputs.main.columns]
    for q in asked_questions(inputs.form):
        if q.type not in NUMBER_TYPES:
            continue
        located = inputs.frame_with(q.name)
        if located is None:
            continue
        frame, owner = located
        values = pd.to_numeric(frame[q.name], errors="coerce").to_numpy(dtype=float)
        dk, refused = numeric_special_codes(q, inputs.codes)
        values = np.where(np.isin(values, list(dk | refused)), np.nan, values)
        tukey, sd_rule, bounds = outlier_mask(
            values, t.outlier_iqr_multiplier, t.outlier_sd_multiplier, t.outlier_min_values
        )
        if bounds is None:
            continue
        rules = {"overall": (tukey, sd_rule)}
        for group in groups:
            labels = text(inputs.main[group]).fillna("").to_numpy(dtype=object)[owner]
            g_tukey = np.zeros(len(values), dtype=bool)
            g_sd = np.zeros(len(values), dtype=bool)
            for label in pd.unique(labels):
                rows = np.flatnonzero(labels == label)
                a, b, _ = outlier_mask(
                    values[rows],
                    t.outlier_iqr_multiplier,
                    t.outlier_sd_multiplier,
                    t.outlier_min_values,
                )
                g_tukey[rows], g_sd[rows] = a, b
            rules[f"within {group}"] = (g_tukey, g_sd)
        any_rule = np.zeros(len(values), dtype=bool)
        for a, b in rules.values():
            any_rule |= a | b
        ok = ~np.isnan(values) & (owner >= 0)
        np.add.at(answered, owner[ok], 1)
        np.add.at(hits, owner[ok & any_rule], 1)
        for row in np.flatnonzero(any_rule & (owner >= 0)):
            fired = [
                f"{rule} {'Tukey' if a[row] else ''}{'/' if a[row] and b[row] else ''}"
                f"{'SD' if b[row] else ''}"
                for rule, (a, b) in rules.items()
                if a[row] or b[row]
            ]
            submission = owner[row]
            result.flags.append(
                Flag(
                    "Q401",
                    Severity.INFO,
                    f"{q.name} = {values[row]:g} is an outlier ({'; '.join(fired)}; overall "
                    f"fences {bounds['tukey_low']:g} to {bounds['tukey_high']:g}, "
                    f"mean {bounds['mean']:.4g} SD {bounds['sd']:.4g})",
                    instance_id=str(inputs.instance_ids[submission]),
                    enumerator=inputs.enumerators[submission],
                    variable=q.name,
                    value=float(values[row]),
                    evidence={"rules": fired, **bounds},
                )
            )
    result.indicators = count_indicator(
        "outlier_rate", inputs.enumerators, hits, answered, direction="high", weight=0.5
    )
    return result
