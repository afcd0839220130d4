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
from validation.quality.inputs import QualityInputs
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
        row_of = pd.Index(inputs.instance_ids).get_indexer(audit["instance_id"].astype(str))
        known = row_of >= 0
        events = audit[known].assign(row=row_of[known])
        starts = pd.to_numeric(events["start_ms"], errors="coerce")
        ends = pd.to_numeric(events["end_ms"], errors="coerce")
        seconds = (ends - starts) / 1000.0
        question = (events["event"] == "question").to_numpy() & seconds.notna().to_numpy()
        q = pd.DataFrame({"row": events["row"].to_numpy()[question], "s": seconds[question]})
        grouped = q.groupby("row")["s"]
        out.loc[grouped.size().index, "questions"] = grouped.size().to_numpy()
        out.loc[grouped.median().index, "median_question_seconds"] = grouped.median().to_numpy()
        old = events.get("old_value")
        if old is not None:
            new = events["new_value"]
            changed = old.notna() & (old.astype(str) != new.astype(str))
            counts = events["row"][changed.to_numpy()].value_counts()
            out.loc[counts.index, "changes"] = counts.to_numpy()
        consent = inputs.roles.consent
        nodes = events["node"].astype(object).fillna("").astype(str)
        on_consent = question & nodes.str.endswith(f"/{consent}").to_numpy()
        c = pd.DataFrame({"row": events["row"].to_numpy()[on_consent], "s": seconds[on_consent]})
        summed = c.groupby("row")["s"].sum()
        out.loc[summed.index, "consent_seconds"] = summed.to_numpy()
        span = pd.DataFrame({"row": events["row"], "a": starts, "b": ends.fillna(starts)})
        bounds = span.groupby("row").agg(first=("a", "min"), last=("b", "max"))
        out.loc[bounds.index, "audit_minutes"] = (
            (bounds["last"] - bounds["first"]) / 60000.0
        ).to_numpy()
    inputs.cache["audit_summary"] = out
    return out


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
        short = ok & (logs < fence)
        for row in np.flatnonzero(short):
            result.flags.append(
                Flag(
                    "Q501",
                    Severity.WARNING,
                    f"interview took {minutes[row]:.1f} min, below the fence of "
                    f"{np.exp(fence):.1f} min (median {np.exp(np.median(logs[ok])):.1f} min)",
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
