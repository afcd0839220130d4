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
    who = inputs.enumerators[done]
    shares = []
    weights = []
    for q in asked_questions(inputs.form):
        if q.repeat is not None or q.type not in ("select_one", "integer"):
            continue
        if q.name not in inputs.main.columns:
            continue
        values = text(inputs.main[q.name])[done]
        frame = pd.DataFrame({"e": who, "v": values.to_numpy(dtype=object)}).dropna()
        if frame["v"].nunique() < 2:
            continue  # constant across the team: says nothing about one enumerator
        counts = frame.groupby(["e", "v"]).size()
        top = counts.groupby(level=0).max()
        total = counts.groupby(level=0).sum()
        shares.append(top / total)
        weights.append(total)
    if not shares:
        return CheckResult(skipped="no choice or number questions")
    share = pd.concat(shares, axis=1)
    weight = pd.concat(weights, axis=1).fillna(0)
    mean = (share.fillna(0) * weight).sum(axis=1) / weight.sum(axis=1)
    interviews = pd.Series(who).value_counts().reindex(mean.index).fillna(0)
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
    and households screened out as ineligible, each against the team."""
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
    final = inputs.column(inputs.roles.final_result)
    outcome = inputs.column(inputs.roles.outcome)
    if final is not None:
        contacted = (
            text(outcome).isin(inputs.roles.completed).to_numpy(dtype=bool)
            if outcome is not None
            else np.ones(len(final), dtype=bool)
        )
        screened = text(final).isin(inputs.roles.ineligible).to_numpy(dtype=bool)
        frames.append(share_indicator("screened_out_share", who, screened, contacted, weight=1.5))
    result = CheckResult()
    result.indicators = pd.concat(frames, ignore_index=True)
    return result


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
        same = complete & (values.nunique(axis=1, dropna=True) == 1).to_numpy()
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
