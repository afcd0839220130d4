"""Dates: interviews started before fieldwork, in the future, ending before they started,
or submitted long after they ended."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from forms.issues import Severity
from validation.quality.flags import CheckResult, Flag, share_indicator
from validation.quality.inputs import QualityInputs, moments
from validation.quality.registry import check


@check("Q601", "dates")
def dates(inputs: QualityInputs) -> CheckResult:
    """Start before fieldwork or in the future, end before start, submission long after end."""
    t = inputs.thresholds
    start, end = inputs.starts, inputs.ends
    now = pd.Timestamp(inputs.now or datetime.now(UTC))
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    submitted = moments(inputs.column(inputs.roles.submission_date), len(inputs.main))
    local_day = inputs.local_starts.dt.date
    problems: list[tuple[str, np.ndarray, str]] = []
    if inputs.fieldwork is not None:
        first, last = inputs.fieldwork
        before = (local_day < first).fillna(False).to_numpy(dtype=bool)
        problems.append(("Q601", before, f"started before fieldwork began ({first})"))
        after = (local_day > last).fillna(False).to_numpy(dtype=bool)
        problems.append(("Q602", after, f"started after fieldwork ended ({last})"))
    # a device clock ahead of the server: later than the server received it, or than now
    latest = submitted.where(submitted.notna(), now).where(submitted <= now, now)
    slack = pd.Timedelta(minutes=10)
    future = ((start > latest + slack) | (end > latest + slack)).fillna(False).to_numpy(bool)
    problems.append(("Q603", future, "starts or ends in the future (after it was submitted)"))
    backwards = (end < start).fillna(False).to_numpy(dtype=bool)
    problems.append(("Q604", backwards, "ends before it starts"))
    delay = (submitted - end).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan) / 86400
    late = ~np.isnan(delay) & (delay > t.submission_delay_days)
    problems.append(
        ("Q605", late, f"submitted more than {t.submission_delay_days:g} days after it ended")
    )
    result = CheckResult()
    any_problem = np.zeros(len(inputs.main), dtype=bool)
    for _, mask, _ in problems:
        any_problem |= mask
    shown = {
        name: _texts(series, any_problem)
        for name, series in (("start", start), ("end", end), ("submitted", submitted))
    }
    for code, mask, words in problems:
        for row in np.flatnonzero(mask):
            result.flags.append(
                Flag(
                    code,
                    Severity.ERROR if code in ("Q603", "Q604") else Severity.WARNING,
                    f"interview {words} (start {shown['start'][row]}, end {shown['end'][row]}"
                    f", submitted {shown['submitted'][row]})",
                    instance_id=str(inputs.instance_ids[row]),
                    enumerator=inputs.enumerators[row],
                    value=float(delay[row]) if code == "Q605" else None,
                    evidence={
                        "start": shown["start"][row],
                        "end": shown["end"][row],
                        "submitted": shown["submitted"][row],
                    },
                )
            )
    result.indicators = share_indicator("date_problem_share", inputs.enumerators, any_problem)
    return result


def _texts(moments: pd.Series, rows: np.ndarray) -> np.ndarray:
    """ISO texts of the moments on ``rows`` ('?' when unknown), '' elsewhere."""
    out = np.full(len(moments), "", dtype=object)
    chosen = moments[rows]
    out[rows] = np.where(chosen.isna(), "?", chosen.astype(str).to_numpy(dtype=object))
    return out
