"""Per-interview evidence made enumerator evidence: interviews that show anomalies of two
or more independent kinds at once.

An honest interview now and then has one anomaly (a short visit, a far GPS point, an
outlying number); an interview invented at the desk tends to have several together (short,
typed at home, with made-up numbers, copied from another). Each completed interview's
per-interview flags are grouped into kinds (:data:`KINDS`); the indicator is each
enumerator's share of completed interviews with :data:`MIN_KINDS` or more kinds, compared
with the team like every share (exact one-sided binomial tail, corrected for
over-dispersion; see :mod:`.team`). It reads the flags the checks already raised: nothing
is checked again.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from validation.quality.flags import Flag, count_indicator

INDICATOR = "multiple_anomaly_share"
MIN_KINDS = 2
"""Kinds of anomaly an interview must show at once to count."""
MIN_OUTLYING_VARIABLES = 2
"""Outlying numbers count as an anomaly only in this many variables of one interview (one
outlying number is common in honest interviews)."""

KINDS: dict[str, str] = {
    "Q101": "ids",
    "Q102": "ids",
    "Q103": "ids",
    "Q104": "ids",
    "Q201": "near_duplicate",
    "Q301": "answer_rates",
    "Q302": "answer_rates",
    "Q303": "answer_rates",
    "Q304": "answer_rates",
    "Q401": "outliers",
    "Q501": "short",
    "Q502": "night",
    "Q503": "overlap",
    "Q601": "dates",
    "Q602": "dates",
    "Q603": "dates",
    "Q604": "dates",
    "Q701": "gps_far",
    "Q853": "straight_lining",
}
"""Per-interview flag code -> kind of anomaly. Left out: poor GPS accuracy (Q702, the
device), a late submission (Q605, when the tablet last found a network: a whole batch at
once) and an old form version (Q901, the tablet's update), which say nothing about
whether the interview took place."""

SOURCE_CHECKS = (
    "duplicate_instance_ids",
    "duplicate_unit_ids",
    "units_not_in_sample",
    "units_visited_twice",
    "near_duplicates",
    "answer_rates",
    "outliers",
    "paradata",
    "dates",
    "gps",
    "straight_lining",
)
"""The checks whose flags are counted; the indicator needs at least two of them."""


def interview_kinds(flags: Iterable[Flag]) -> dict[str, set[str]]:
    """Per instance ID, the kinds of anomaly its flags show (outliers only when
    :data:`MIN_OUTLYING_VARIABLES` or more variables are outlying)."""
    kinds: dict[str, set[str]] = {}
    outlying: dict[str, set[str | None]] = {}
    for flag in flags:
        kind = KINDS.get(flag.code)
        if kind is None or flag.instance_id is None:
            continue
        if kind == "outliers":
            outlying.setdefault(flag.instance_id, set()).add(flag.variable)
            continue
        kinds.setdefault(flag.instance_id, set()).add(kind)
    for instance_id, variables in outlying.items():
        if len(variables) >= MIN_OUTLYING_VARIABLES:
            kinds.setdefault(instance_id, set()).add("outliers")
    return kinds


def multiple_anomalies(
    flags: Iterable[Flag],
    instance_ids: np.ndarray,
    enumerators: np.ndarray,
    completed: np.ndarray,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """The ``multiple_anomaly_share`` indicator (completed interviews with anomalies of
    :data:`MIN_KINDS` or more kinds, per enumerator) and notes: the number of such
    interviews per combination of kinds and the team's share."""
    kinds = interview_kinds(flags)
    count = np.fromiter(
        (len(kinds.get(str(i), ())) for i in instance_ids), dtype=np.int64, count=len(instance_ids)
    )
    completed = np.asarray(completed, dtype=bool)
    hits = completed & (count >= MIN_KINDS)
    frame = count_indicator(
        INDICATOR,
        np.asarray(enumerators, dtype=object)[completed],
        hits[completed].astype(float),
        np.ones(int(completed.sum())),
        direction="high",
    )
    combinations: dict[str, int] = {}
    for row in np.flatnonzero(hits):
        key = " + ".join(sorted(kinds[str(instance_ids[row])]))
        combinations[key] = combinations.get(key, 0) + 1
    notes = {
        "min_kinds": MIN_KINDS,
        "interviews": int(hits.sum()),
        "completed": int(completed.sum()),
        "share": float(hits.sum() / completed.sum()) if completed.any() else float("nan"),
        "combinations": dict(sorted(combinations.items(), key=lambda kv: -kv[1])),
    }
    return frame, notes
