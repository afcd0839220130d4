"""From the report's inputs to the numbers every view shows (HTML, workbook, text).

:func:`compute_report` does all the aggregation once, with pandas group-bys, so that the
views only lay numbers out. The risk score, when the quality stage gave none, is the
report's own transparent composite (:func:`risk_scores`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from validation.quality.report import riskiest_first
from validation.report.heaping import (
    WHIPPLE_SPAN,
    last_digit_shares,
    myers,
    sex_ratio,
    whipple,
)
from validation.report.inputs import ReportInputs, normalised

NIGHT_HOURS = frozenset({22, 23, 0, 1, 2, 3, 4, 5, 6})
SEVERITY_WEIGHT = {"error": 1.0, "warning": 0.5, "info": 0.0}
ENUMERATOR_FLAG_WEIGHT = 15.0
"""Risk points per enumerator-level error flag (half for a warning)."""
BACKCHECK_WEIGHT = 100.0
"""Risk points per unit of back-check error rate above the acceptable rate."""
MIN_AGES_FOR_WHIPPLE = 20
DEFAULT_THRESHOLDS = {
    "srb_low": 100.0,
    "srb_high": 115.0,
    "backcheck_error_rate": 0.10,
    "gps_km": 1.0,
}
PARADATA_INDICATORS = (
    "interviews",
    "flagged_share",
    "duration_median",
    "short_share",
    "night_share",
    "gps_median_km",
    "srb",
    "whipple",
    "backcheck_error_rate",
    "rejected_share",
)


@dataclass
class Report:
    """Every number the report shows (see :func:`compute_report`)."""

    inputs: ReportInputs
    thresholds: dict[str, float]
    totals: dict[str, float]
    enumerators: pd.DataFrame
    """One row per enumerator, highest risk first: counts, risk, reasons, indicators."""
    indicators: pd.DataFrame
    """Wide: one row per enumerator, one column per indicator (paradata and given ones)."""
    checks: pd.DataFrame
    """One row per check: flags, interviews, enumerators, worst severity."""
    progress_county: pd.DataFrame
    progress_psu: pd.DataFrame
    heat: pd.DataFrame
    """Interviews by hour of day (rows 0-23) and day (columns)."""
    srb: dict[str, float]
    ages: dict[str, object]
    duration_fences: tuple[float, float]
    reasons: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    given_reasons: dict[str, dict[str, str]] = field(default_factory=dict)
    """Reasons the quality stage gave: enumerator -> {``zh``/``en``/``any``: text}."""


def compute_report(inputs: ReportInputs) -> Report:
    """Normalise the inputs and compute every table of the report."""
    inputs = normalised(inputs)
    thresholds = {**DEFAULT_THRESHOLDS, **inputs.thresholds}
    interviews, flags = inputs.interviews, inputs.flags
    fences = duration_fences(interviews["duration_min"])
    indicators = paradata_indicators(inputs, fences)
    checks = check_table(flags)
    enumerators, reasons = enumerator_table(inputs, indicators, thresholds)
    srb = srb_summary(inputs.births)
    totals = {
        "interviews": len(interviews),
        "enumerators": len(enumerators),
        "flags": len(flags),
        "flagged_interviews": int(flags["instance_id"].dropna().nunique()),
        "units": len(inputs.progress),
        "complete": int((inputs.progress["status"] == "complete").sum()),
        "days": int(interviews["day"].nunique()),
    }
    return Report(
        inputs=inputs,
        thresholds=thresholds,
        totals=totals,
        enumerators=enumerators,
        indicators=indicators,
        checks=checks,
        progress_county=progress_table(inputs.progress, ["county"]),
        progress_psu=progress_table(inputs.progress, ["county", "psu"]),
        heat=heat_table(interviews),
        srb=srb,
        ages=age_summary(inputs.ages),
        duration_fences=fences,
        reasons=reasons,
        given_reasons=given_reasons(inputs.enumerators),
    )


def duration_fences(minutes: pd.Series, k: float = 1.5) -> tuple[float, float]:
    """Tukey fences on log durations (durations are skewed), back in minutes."""
    values = np.log(minutes[minutes > 0].dropna())
    if len(values) < 4:
        return (math.nan, math.nan)
    q1, q3 = np.percentile(values, [25, 75])
    return float(np.exp(q1 - k * (q3 - q1))), float(np.exp(q3 + k * (q3 - q1)))


def paradata_indicators(inputs: ReportInputs, fences: tuple[float, float]) -> pd.DataFrame:
    """Per-enumerator indicators from the interviews, flags, births, ages and back-checks,
    joined to the indicators the quality stage gave (wide; index = enumerator)."""
    interviews = inputs.interviews
    by = interviews.groupby("enumerator", sort=True)
    flagged = interviews["instance_id"].isin(set(inputs.flags["instance_id"].dropna()))
    wide = pd.DataFrame(
        {
            "interviews": by.size(),
            "flagged_share": flagged.groupby(interviews["enumerator"]).mean(),
            "duration_median": by["duration_min"].median(),
            "short_share": (interviews["duration_min"] < fences[0])
            .groupby(interviews["enumerator"])
            .mean(),
            "night_share": interviews["hour"]
            .isin(NIGHT_HOURS)
            .groupby(interviews["enumerator"])
            .mean(),
            "gps_median_km": by["gps_km"].median(),
            "rejected_share": (interviews["review_state"] == "rejected")
            .groupby(interviews["enumerator"])
            .mean(),
        }
    )
    births = inputs.births
    if not births.empty:
        counts = counts_by(births["enumerator"], births["sex"])
        males = counts.get("male", pd.Series(0, index=counts.index))
        females = counts.get("female", pd.Series(0, index=counts.index))
        wide["srb"] = (100 * males / females.replace(0, np.nan)).reindex(wide.index)
        wide["births"] = (males + females).reindex(wide.index)
    else:
        wide["srb"] = np.nan
        wide["births"] = 0
    ages = inputs.ages.dropna(subset=["age"])
    if not ages.empty:
        wide["whipple"] = whipple_by(ages).reindex(wide.index)
    else:
        wide["whipple"] = np.nan
    bc = inputs.backchecks
    wide["backcheck_error_rate"] = (
        bc.groupby("enumerator")["error_rate"].mean().reindex(wide.index)
        if not bc.empty
        else np.nan
    )
    given = inputs.indicators
    if not given.empty:
        extra = given.pivot_table(
            index="enumerator", columns="indicator", values="value", aggfunc="mean"
        )
        extra = extra[[c for c in extra.columns if c not in wide.columns]]
        wide = wide.join(extra, how="outer")
    wide.index.name = "enumerator"
    return wide


def whipple_by(ages: pd.DataFrame) -> pd.Series:
    """Whipple's index per enumerator (NaN with fewer than 20 ages in its span), in one pass:
    the same as :func:`validation.report.heaping.whipple` on each enumerator's ages."""
    values = ages["age"].astype(float)
    whole = values.notna() & (values == np.floor(values))
    inside = whole & (values >= WHIPPLE_SPAN[0]) & (values <= WHIPPLE_SPAN[1])
    part = ages[inside]
    heaped = (part["age"].astype(int) % 5 == 0).groupby(part["enumerator"]).sum()
    count = part.groupby("enumerator").size()
    score = 500.0 * heaped / count
    return score.where(count >= MIN_AGES_FOR_WHIPPLE)


def check_table(flags: pd.DataFrame) -> pd.DataFrame:
    """One row per check: number of flags, interviews and enumerators, worst severity."""
    if flags.empty:
        return pd.DataFrame(columns=["check", "flags", "interviews", "enumerators", "severity"])
    rank = flags["severity"].map({"error": 0, "warning": 1, "info": 2})
    grouped = flags.assign(rank=rank).groupby("check")
    table = pd.DataFrame(
        {
            "flags": grouped.size(),
            "interviews": grouped["instance_id"].nunique(),
            "enumerators": grouped["enumerator"].nunique(),
            "severity": grouped["rank"].min().map({0: "error", 1: "warning", 2: "info"}),
        }
    )
    return table.sort_values(["flags"], ascending=False).reset_index()


def given_reasons(roster: pd.DataFrame) -> dict[str, dict[str, str]]:
    """The non-empty reasons of the roster by enumerator and language (``any``: no language)."""
    out: dict[str, dict[str, str]] = {}
    for column, key in (("reasons", "any"), ("reasons_zh", "zh"), ("reasons_en", "en")):
        if column not in roster:
            continue
        for enumerator, value in zip(roster["enumerator"], roster[column], strict=True):
            if isinstance(value, str) and value.strip():
                out.setdefault(str(enumerator), {})[key] = value.strip()
    return out


def reasons_text(report: Report, enumerator: str, language: str, items: int = 4) -> str:
    """Why an enumerator ranks where they do: the quality stage's reasons in ``language``
    when it gave them, else the report's (checks with their flag counts, back-checks)."""
    given = report.given_reasons.get(enumerator, {})
    if given.get(language) or given.get("any"):
        return given.get(language) or given["any"]
    from validation.report.i18n import check_label

    labels = report.inputs.check_labels
    pairs = report.reasons.get(enumerator, [])[:items]
    return "; ".join(f"{check_label(c, language, labels)} ({n})" for c, n in pairs)


def risk_scores(
    inputs: ReportInputs, indicators: pd.DataFrame, thresholds: dict[str, float]
) -> tuple[pd.Series, dict[str, list[tuple[str, int]]]]:
    """The risk score (0-100) of each enumerator and the checks behind it, worst first.

    When the quality stage gave a ``risk`` it is used as it is. Otherwise the score is:
    100 x the enumerator's interviews' mean flag weight (an interview's worst flag: error
    1, warning 0.5), plus 15 points per enumerator-level error flag (7.5 per warning), plus
    100 x the back-check error rate above the acceptable rate; capped at 100.
    """
    flags, interviews = inputs.flags, inputs.interviews
    weights = flags["severity"].map(SEVERITY_WEIGHT).astype(float).fillna(0.0)
    per_interview = (
        flags.assign(w=weights).dropna(subset=["instance_id"]).groupby("instance_id")["w"].max()
    )
    interview_weight = interviews["instance_id"].map(per_interview).fillna(0.0)
    score = 100 * interview_weight.groupby(interviews["enumerator"]).mean()
    level = flags[flags["instance_id"].isna()]
    level_points = (
        (level["severity"].map(SEVERITY_WEIGHT).astype(float).fillna(0.0) * ENUMERATOR_FLAG_WEIGHT)
        .groupby(level["enumerator"])
        .sum()
    )
    score = score.add(level_points, fill_value=0.0)
    excess = (indicators["backcheck_error_rate"] - thresholds["backcheck_error_rate"]).clip(lower=0)
    score = score.add(BACKCHECK_WEIGHT * excess.fillna(0.0), fill_value=0.0).clip(upper=100.0)
    given = inputs.enumerators.set_index("enumerator")["risk"]
    given = pd.to_numeric(given, errors="coerce").dropna()
    score = given.combine_first(score)
    reasons: dict[str, list[tuple[str, int]]] = {}
    if not flags.empty:
        counts = flags.groupby(["enumerator", "check"]).size()  # sorted by both keys
        for (enumerator, check), n in counts.sort_values(ascending=False, kind="stable").items():
            reasons.setdefault(enumerator, []).append((check, int(n)))
    for enumerator, rate in excess[excess > 0].items():
        reasons.setdefault(enumerator, []).insert(0, ("backcheck", round(100 * rate)))
    return score, reasons


def enumerator_table(
    inputs: ReportInputs, indicators: pd.DataFrame, thresholds: dict[str, float]
) -> tuple[pd.DataFrame, dict[str, list[tuple[str, int]]]]:
    """One row per enumerator (roster, interviews, flags, review states, risk), riskiest first."""
    score, reasons = risk_scores(inputs, indicators, thresholds)
    flags = inputs.flags
    roster = inputs.enumerators.drop_duplicates("enumerator").set_index("enumerator")
    names = sorted(set(indicators.index) | set(roster.index) | set(flags["enumerator"]))
    table = pd.DataFrame(index=pd.Index(names, name="enumerator"))
    table["name"] = roster["name"].reindex(table.index)
    table["team"] = roster["team"].reindex(table.index)
    table["interviews"] = indicators["interviews"].reindex(table.index).fillna(0).astype(int)
    by_severity = counts_by(flags["enumerator"], flags["severity"]) if not flags.empty else None
    for severity in ("error", "warning"):
        column = (
            by_severity[severity]
            if by_severity is not None and severity in by_severity
            else pd.Series(dtype=float)
        )
        table[f"{severity}s"] = column.reindex(table.index).fillna(0).astype(int)
    flagged = flags.dropna(subset=["instance_id"]).groupby("enumerator")["instance_id"].nunique()
    table["flagged"] = flagged.reindex(table.index).fillna(0).astype(int)
    states = inputs.interviews["review_state"].fillna("received")
    review = counts_by(inputs.interviews["enumerator"], states)
    for state in ("approved", "hasIssues", "rejected"):
        column = review[state] if state in review else pd.Series(dtype=float)
        table[state] = column.reindex(table.index).fillna(0).astype(int)
    table["risk"] = score.reindex(table.index).fillna(0.0).round(1)
    table["reasons"] = [
        "; ".join(f"{c} ({n})" for c, n in reasons.get(e, [])[:4]) for e in table.index
    ]
    table = riskiest_first(table.reset_index(), ["risk", "flagged"])
    table.insert(0, "rank", range(1, len(table) + 1))
    return table, reasons


def counts_by(rows: pd.Series, columns: pd.Series) -> pd.DataFrame:
    """How many times each pair occurs: one row per value of ``rows``, one column per value
    of ``columns`` (``pd.crosstab``'s counts, by a faster route)."""
    return pd.DataFrame({"r": rows, "c": columns}).groupby(["r", "c"]).size().unstack(fill_value=0)


def progress_table(progress: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Units by status for each group in ``by``, with the share complete."""
    columns = [*by, "complete", "incomplete", "pending", "total", "pct"]
    if progress.empty:
        return pd.DataFrame(columns=columns)
    table = pd.crosstab([progress[c] for c in by], progress["status"])
    for status in ("complete", "incomplete", "pending"):
        if status not in table:
            table[status] = 0
    table = table[["complete", "incomplete", "pending"]]
    table["total"] = table.sum(axis=1)
    table["pct"] = (100 * table["complete"] / table["total"]).round(1)
    return table.reset_index()[columns]


def heat_table(interviews: pd.DataFrame) -> pd.DataFrame:
    """Interviews by hour (0-23, rows) and day (columns, in date order)."""
    valid = interviews.dropna(subset=["day"])
    if valid.empty:
        return pd.DataFrame(index=range(24))
    table = pd.crosstab(valid["hour"].astype(int), valid["day"].dt.date)
    return table.reindex(range(24), fill_value=0)


def srb_summary(births: pd.DataFrame) -> dict[str, float]:
    """Males, females, the survey's SRB and its 95% interval."""
    males = int((births["sex"] == "male").sum())
    females = int((births["sex"] == "female").sum())
    srb, low, high = sex_ratio(males, females)
    return {"males": males, "females": females, "srb": srb, "low": low, "high": high}


def age_summary(ages: pd.DataFrame) -> dict[str, object]:
    """Single-year age counts, last-digit shares, Whipple's and Myers' indices."""
    values = ages["age"].dropna()
    values = values[(values >= 0) & (values < 130)].astype(int)
    counts = values.value_counts().sort_index()
    return {
        "counts": counts,
        "last_digit": last_digit_shares(values),
        "whipple": whipple(values),
        "myers": myers(values),
        "n": len(values),
    }
