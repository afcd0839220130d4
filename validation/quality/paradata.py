"""Paradata: interview duration, time per question and per section, answer changes and
time on consent from the ODK audit log; interviews per day, hour of day and the gaps
between an enumerator's interviews from start and end."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forms.issues import Severity
from validation.quality.flags import (
    CheckResult,
    Flag,
    count_indicator,
    level_frame,
    level_indicator,
    share_indicator,
)
from validation.quality.inputs import AUDIT_SUMMARY_COLUMNS, QualityInputs
from validation.quality.registry import check


def durations_minutes(inputs: QualityInputs) -> np.ndarray:
    """Interview duration in minutes from start and end (NaN when unknown or negative)."""
    minutes = (inputs.ends - inputs.starts).dt.total_seconds().to_numpy(dtype=float) / 60
    return np.where(minutes >= 0, minutes, np.nan)


def audit_per_interview(inputs: QualityInputs) -> pd.DataFrame:
    """Per submission row: question events, seconds on questions (median per question),
    answer changes and seconds on the consent question, from the audit log (NaN/0 when a
    submission has none)."""
    if "audit_summary" in inputs.cache:
        return inputs.cache["audit_summary"]
    n = len(inputs.main)
    out = pd.DataFrame(
        {
            "questions": np.zeros(n),
            "median_question_seconds": np.full(n, np.nan),
            "changes": np.zeros(n),
            "consent_seconds": np.full(n, np.nan),
            "audit_minutes": np.full(n, np.nan),
        }
    )
    audit = inputs.audit
    if audit is not None and len(audit):
        row = _rows_of(audit["instance_id"], inputs.instance_ids)
        known = row >= 0
        row = row[known]
        starts = pd.to_numeric(audit["start_ms"], errors="coerce").to_numpy(float)[known]
        ends = pd.to_numeric(audit["end_ms"], errors="coerce").to_numpy(float)[known]
        seconds = (ends - starts) / 1000.0
        event = _matches(audit["event"], lambda e: e == "question")[known]
        question = event & ~np.isnan(seconds)
        out["questions"] = np.bincount(row[question], minlength=n).astype(float)
        out["median_question_seconds"] = _group_median(row[question], seconds[question], n)
        if "old_value" in audit.columns:
            old = audit["old_value"].to_numpy(dtype=object)[known]
            new = audit["new_value"].to_numpy(dtype=object)[known]
            has_old = ~pd.isna(old)
            changed = has_old.copy()
            changed[has_old] = old[has_old].astype(str) != new[has_old].astype(str)
            out["changes"] = np.bincount(row[changed], minlength=n).astype(float)
        consent = inputs.roles.consent
        on_consent = (
            question
            & _matches(audit["node"], lambda node: str(node).endswith(f"/{consent}"))[known]
        )
        summed = np.bincount(row[on_consent], weights=seconds[on_consent], minlength=n)
        has_consent = np.bincount(row[on_consent], minlength=n) > 0
        out["consent_seconds"] = np.where(has_consent, summed, np.nan)
        span = pd.DataFrame({"row": row, "a": starts, "b": np.where(np.isnan(ends), starts, ends)})
        bounds = span.groupby("row").agg(first=("a", "min"), last=("b", "max"))
        minutes = np.full(n, np.nan)
        minutes[bounds.index.to_numpy()] = ((bounds["last"] - bounds["first"]) / 60000.0).to_numpy()
        out["audit_minutes"] = minutes
    if inputs.earlier is not None:  # submissions whose log was summarised before
        given = np.zeros(n, dtype=bool)
        if audit is not None and len(audit):
            given[np.unique(row)] = True
        stored = inputs.earlier.audit_summary.reindex(inputs.instance_ids)
        take = ~given & stored["questions"].notna().to_numpy()
        for column in AUDIT_SUMMARY_COLUMNS:
            values = out[column].to_numpy(dtype=float, copy=True)
            values[take] = stored[column].to_numpy(dtype=float)[take]
            out[column] = values
    inputs.cache["audit_summary"] = out
    return out


def _matches(column: pd.Series, test) -> np.ndarray:
    """``test`` on each value (evaluated once per category of a categorical column)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        verdict = np.array([bool(test(c)) for c in column.cat.categories] + [False])
        return verdict[column.cat.codes.to_numpy()]  # code -1 (missing) reads the last
    values = column.to_numpy(dtype=object)
    return np.array([v is not None and v == v and bool(test(v)) for v in values], dtype=bool)


def _group_median(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Median of ``values`` per group 0..n-1 (NaN for empty groups)."""
    out = np.full(n, np.nan)
    if not len(groups):
        return out
    medians = pd.Series(values).groupby(groups).median()  # cythonised per-group medians
    out[medians.index.to_numpy()] = medians.to_numpy()
    return out


def _rows_of(instance_ids: pd.Series, known: np.ndarray) -> np.ndarray:
    """Each event's submission row (-1 when unknown); fast for categorical columns."""
    index = pd.Index(known)
    if isinstance(instance_ids.dtype, pd.CategoricalDtype):
        rows = index.get_indexer(instance_ids.cat.categories.astype(str))
        codes = instance_ids.cat.codes.to_numpy()
        return np.where(codes >= 0, rows[codes], -1)
    return index.get_indexer(instance_ids.astype(str))


def section_seconds(inputs: QualityInputs) -> pd.DataFrame:
    """Seconds per top-level section (group) per submission from the audit log: rows are
    instance IDs, columns sections."""
    audit = inputs.audit
    if audit is None or not len(audit):
        return pd.DataFrame()
    questions = audit[audit["event"] == "question"]
    seconds = (
        pd.to_numeric(questions["end_ms"], errors="coerce")
        - pd.to_numeric(questions["start_ms"], errors="coerce")
    ) / 1000
    parts = questions["node"].astype(object).fillna("").astype(str).str.split("/")
    section = parts.map(lambda p: p[2].split("[")[0] if len(p) > 3 else "(top)")
    table = pd.DataFrame({"id": questions["instance_id"], "section": section, "s": seconds})
    return table.pivot_table(index="id", columns="section", values="s", aggfunc="sum")


@check("Q501", "paradata")
def paradata(inputs: QualityInputs) -> CheckResult:
    """Duration, time per question, answer changes, consent time, interviews per day, hour
    of day and gaps between interviews."""
    t = inputs.thresholds
    done = inputs.completed
    who = inputs.enumerators
    minutes = durations_minutes(inputs)
    audit = audit_per_interview(inputs)
    minutes = np.where(np.isnan(minutes), audit["audit_minutes"].to_numpy(), minutes)
    result = CheckResult()
    # speeders: Tukey's lower fence on log duration of completed interviews
    logs = np.log(np.where(minutes > 0, minutes, np.nan))
    ok = done & ~np.isnan(logs)
    short = np.zeros(len(minutes), dtype=bool)
    if ok.sum() >= t.outlier_min_values:
        q1, q3 = np.percentile(logs[ok], [25, 75])
        fence = q1 - t.duration_iqr_multiplier * (q3 - q1)
        typical = np.exp(np.median(logs[ok]))
        short = ok & (logs < fence)
        for row in np.flatnonzero(short):
            result.flags.append(
                Flag(
                    "Q501",
                    Severity.WARNING,
                    f"interview took {minutes[row]:.1f} min, below the fence of "
                    f"{np.exp(fence):.1f} min (median {typical:.1f} min)",
                    instance_id=str(inputs.instance_ids[row]),
                    enumerator=who[row],
                    value=float(minutes[row]),
                    evidence={"minutes": float(minutes[row]), "fence": float(np.exp(fence))},
                )
            )
    hours = inputs.local_starts.dt.hour.to_numpy(dtype=float, na_value=np.nan)
    late, early = t.night_hours
    night = ~np.isnan(hours) & ((hours >= late) | (hours < early))
    for row in np.flatnonzero(night):
        result.flags.append(
            Flag(
                "Q502",
                Severity.WARNING,
                f"interview started at {inputs.local_starts.iat[row]:%H:%M} local time",
                instance_id=str(inputs.instance_ids[row]),
                enumerator=who[row],
                value=float(hours[row]),
                evidence={"start": str(inputs.local_starts.iat[row])},
            )
        )
    gaps, overlap = _gaps(inputs)
    for row in np.flatnonzero(overlap):
        result.flags.append(
            Flag(
                "Q503",
                Severity.WARNING,
                f"interview started {-gaps[row]:.0f} min before the enumerator's previous "
                "one ended",
                instance_id=str(inputs.instance_ids[row]),
                enumerator=who[row],
                value=float(gaps[row]),
                evidence={"gap_minutes": float(gaps[row])},
            )
        )
    changes = audit["changes"].to_numpy()
    questions = audit["questions"].to_numpy()
    has_audit = questions > 0
    per_day = _per_day(inputs)
    result.indicators = pd.concat(
        [
            level_indicator(
                "median_duration", who[done], minutes[done], direction="low", weight=1.5
            ),
            share_indicator("short_interview_share", who, short, ok, weight=1.5),
            level_indicator(
                "median_question_seconds",
                who[done & has_audit],
                audit["median_question_seconds"].to_numpy()[done & has_audit],
                direction="low",
            ),
            count_indicator(
                "answer_change_rate",
                who[done & has_audit],
                changes[done & has_audit],
                questions[done & has_audit],
                direction="both",
                weight=0.5,
            ),
            level_indicator(
                "consent_seconds",
                who[done],
                audit["consent_seconds"].to_numpy()[done],
                direction="low",
                weight=0.5,
            ),
            share_indicator("night_share", who, night, ~np.isnan(hours)),
            share_indicator("overlap_share", who, overlap, ~np.isnan(gaps)),
            level_indicator("median_gap_minutes", who, gaps, direction="low", weight=0.5),
            per_day,
        ],
        ignore_index=True,
    )
    return result


def _gaps(inputs: QualityInputs) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from the end of each enumerator's previous interview (same day) to this one's
    start, and whether they overlap by more than a minute."""
    frame = pd.DataFrame(
        {"e": inputs.enumerators, "s": inputs.starts, "end": inputs.ends}
    ).reset_index()
    frame = frame.dropna(subset=["s", "end"]).sort_values(["e", "s"], kind="stable")
    previous_end = frame.groupby("e")["end"].shift()
    same_day = previous_end.notna() & ((frame["s"] - previous_end).dt.total_seconds() < 86400)
    gap = (frame["s"] - previous_end).dt.total_seconds() / 60
    gaps = np.full(len(inputs.main), np.nan)
    rows = frame["index"].to_numpy()[same_day.to_numpy()]
    gaps[rows] = gap[same_day].to_numpy()
    overlap = ~np.isnan(gaps) & (gaps < -1)
    return gaps, overlap


def _per_day(inputs: QualityInputs) -> pd.DataFrame:
    """Per enumerator: interviews per working day (mean) and the busiest day."""
    day = inputs.local_starts.dt.date
    frame = pd.DataFrame({"e": inputs.enumerators, "d": day})[inputs.completed & day.notna()]
    daily = frame.groupby(["e", "d"]).size()
    per = daily.groupby(level=0).agg(["mean", "max", "count"])
    return level_frame(
        "interviews_per_day", per.index, per["mean"], per["count"], direction="high", weight=0.5
    )
