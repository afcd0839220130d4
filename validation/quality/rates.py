"""Missing, don't-know, refusal and "other" rates over the APPLICABLE questions only
(:mod:`validation.quality.applicability`), per interview and per enumerator."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forms.issues import Severity
from validation.quality.applicability import answer_counts
from validation.quality.flags import CheckResult, Flag, count_indicator
from validation.quality.inputs import QualityInputs
from validation.quality.registry import check

RATES = (
    ("missing", "applicable", "Q301", "missing_rate", "missing"),
    ("dont_know", "dont_know_offered", "Q302", "dont_know_rate", "don't know"),
    ("refused", "refused_offered", "Q303", "refusal_rate", "refused"),
    ("other", "other_offered", "Q304", "other_rate", "'other'"),
)
INTERVIEW_SHARE = 0.3
"""An interview is flagged when this share of the applicable questions offering the answer
got it (with at least :data:`INTERVIEW_MIN` such answers)."""
INTERVIEW_MIN = 5


@check("Q301", "answer_rates")
def answer_rates(inputs: QualityInputs) -> CheckResult:
    """Missing, don't know, refusal and "other" answers over the applicable questions."""
    counts = answer_counts(inputs).counts
    done = inputs.completed
    who = inputs.enumerators[done]
    result = CheckResult()
    frames = []
    for numerator, denominator, code, name, words in RATES:
        hits = counts[numerator].to_numpy()
        base = counts[denominator].to_numpy()
        frames.append(count_indicator(name, who, hits[done], base[done], direction="high"))
        share = np.where(base > 0, hits / np.maximum(base, 1), 0.0)
        for row in np.flatnonzero(done & (hits >= INTERVIEW_MIN) & (share >= INTERVIEW_SHARE)):
            result.flags.append(
                Flag(
                    code,
                    Severity.WARNING,
                    f"{words} for {hits[row]} of {base[row]} applicable questions "
                    f"({share[row]:.0%})",
                    instance_id=str(inputs.instance_ids[row]),
                    enumerator=inputs.enumerators[row],
                    value=float(share[row]),
                    evidence={"count": int(hits[row]), "applicable": int(base[row])},
                )
            )
    result.indicators = pd.concat(frames, ignore_index=True)
    return result
