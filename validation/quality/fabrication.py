"""Fabrication signatures (Schwanhaeuser et al. 2022; Kuriakose & Robbins 2016): low
variance of an enumerator's answers, few "other"/don't-know answers, routes that skip
follow-up modules (or screen households out) more than the team, straight-lining."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forms.issues import Severity
from validation.quality.applicability import answer_counts, asked_questions
from validation.quality.flags import (
    CheckResult,
    Flag,
    count_indicator,
    level_frame,
    level_indicator,
    share_indicator,
)
from validation.quality.inputs import QualityInputs, text
from validation.quality.registry import check

BATTERY_MIN = 4


@check("Q851", "low_variance")
def low_variance(inputs: QualityInputs) -> CheckResult:
    """Share of an enumerator's answers equal to their own most frequent answer, averaged
    over choice and number questions (high: little variation between interviews)."""
    done = inputs.completed
    codes, names = pd.factorize(inputs.enumerators[done], sort=True)
    top_sum = np.zeros(len(names))
    total_sum = np.zeros(len(names))
    used = 0
    for q in asked_questions(inputs.form):
        if q.repeat is not None or q.type not in ("select_one", "integer"):
            continue
        if q.name not in inputs.main.columns:
            continue
        values, _ = pd.factorize(inputs.main[q.name].to_numpy()[done])
        ok = values >= 0
        levels = int(values.max()) + 1 if ok.any() else 0
        if levels < 2:
            continue  # constant across the team: says nothing about one enumerator
        table = np.bincount(codes[ok] * levels + values[ok], minlength=len(names) * levels).reshape(
            len(names), levels
        )
        top_sum += table.max(axis=1)
        total_sum += table.sum(axis=1)
        used += 1
    if not used:
        return CheckResult(skipped="no choice or number questions")
    mean = pd.Series(
        np.where(total_sum > 0, top_sum / np.maximum(total_sum, 1), np.nan), index=names
    ).dropna()
    interviews = pd.Series(np.bincount(codes, minlength=len(names)), index=names).reindex(
        mean.index
    )
    result = CheckResult()
    result.indicators = level_frame(
        "modal_answer_share",
        mean.index,
        mean.to_numpy(),
        interviews.to_numpy(),
        direction="high",
        weight=1.5,
    )
    return result


@check("Q852", "routes")
def routes(inputs: QualityInputs) -> CheckResult:
    """Few don't-know/other answers, fewer applicable questions (follow-up modules skipped)
    and households screened out as ineligible (too many or too few), against the team."""
    counts = answer_counts(inputs).counts
    done = inputs.completed
    who = inputs.enumerators
    special = (counts["dont_know"] + counts["refused"] + counts["other"]).to_numpy()
    offered = (
        counts["dont_know_offered"] + counts["refused_offered"] + counts["other_offered"]
    ).to_numpy()
    frames = [
        count_indicator(
            "dk_other_rate_low",
            who[done],
            special[done],
            offered[done],
            direction="low",
            weight=0.5,
        ),
        level_indicator(
            "applicable_questions",
            who[done],
            counts["applicable"].to_numpy(dtype=float)[done],
            how="mean",
            direction="low",
        ),
    ]
    if inputs.column(inputs.roles.final_result) is not None:
        frames.append(screened_out_share(inputs))
    result = CheckResult()
    result.indicators = pd.concat(frames, ignore_index=True)
    return result


def screened_out_share(inputs: QualityInputs) -> pd.DataFrame:
    """Share of the households an enumerator contacted (consent not refused) that were
    screened out as having no eligible respondent, against the team in both directions:
    too many is eligible households screened out to shorten the work; too few is
    interviews invented at the desk, which never find a household without an eligible
    woman or migrant. It rests on the contacted households (n)."""
    return share_indicator(
        "screened_out_share",
        inputs.enumerators,
        inputs.screened_out,
        inputs.completed,
        direction="both",
        weight=1.5,
    )


def batteries(inputs: QualityInputs) -> list[tuple[str, ...]]:
    """The question batteries: given in the roles, else runs of at least four select_one
    questions in a row (outside repeats) sharing one choice list."""
    if inputs.roles.batteries:
        return [b for b in inputs.roles.batteries if all(v in inputs.main for v in b)]
    found: list[tuple[str, ...]] = []
    run: list[str] = []
    last_list = None
    for q in inputs.form.questions:
        if not q.holds_data or q.calculation or q.is_metadata:
            continue
        same = q.type == "select_one" and q.repeat is None and q.list_name == last_list
        if same:
            run.append(q.name)
            continue
        if len(run) >= BATTERY_MIN:
            found.append(tuple(run))
        run = [q.name] if q.type == "select_one" and q.repeat is None else []
        last_list = q.list_name if run else None
    if len(run) >= BATTERY_MIN:
        found.append(tuple(run))
    return [b for b in found if all(v in inputs.main for v in b)]


@check("Q853", "straight_lining")
def straight_lining(inputs: QualityInputs) -> CheckResult:
    """Interviews giving the same answer to every question of a battery."""
    groups = batteries(inputs)
    if not groups:
        return CheckResult(skipped="no question battery")
    n = len(inputs.main)
    lined = np.zeros(n, dtype=bool)
    answered = np.zeros(n, dtype=bool)
    result = CheckResult()
    for battery in groups:
        values = pd.DataFrame({v: text(inputs.main[v]) for v in battery})
        complete = values.notna().all(axis=1).to_numpy()
        filled = values.fillna("")
        first = filled.iloc[:, 0].to_numpy(dtype=object)
        same = complete.copy()
        for column in filled.columns[1:]:
            same &= filled[column].to_numpy(dtype=object) == first
        answered |= complete
        lined |= same
        for row in np.flatnonzero(same & inputs.completed):
            result.flags.append(
                Flag(
                    "Q853",
                    Severity.INFO,
                    f"the same answer ({values.iat[row, 0]}) to all {len(battery)} questions "
                    f"{battery[0]}..{battery[-1]}",
                    instance_id=str(inputs.instance_ids[row]),
                    enumerator=inputs.enumerators[row],
                    variable=battery[0],
                    evidence={"battery": list(battery), "answer": values.iat[row, 0]},
                )
            )
    result.indicators = share_indicator(
        "straight_lining_share", inputs.enumerators, lined, answered & inputs.completed
    )
    return result
