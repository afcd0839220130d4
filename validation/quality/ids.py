"""Identification checks: duplicate instance and unit IDs, units not in the sample, units
submitted by more than one enumerator. A blank ID is never a duplicate of another blank
one (IPA's ipacheckids pairs blank IDs: a known flaw)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forms.issues import Severity
from validation.quality.answers import answer_matrix, differing_share
from validation.quality.flags import CheckResult, Flag, share_indicator
from validation.quality.inputs import QualityInputs, text
from validation.quality.registry import check


def _ids(series: pd.Series) -> np.ndarray:
    """IDs as stripped text; '' for blank."""
    values = text(series).fillna("").astype(str).str.strip()
    return values.to_numpy(dtype=object)


@check("Q101", "duplicate_instance_ids")
def duplicate_instance_ids(inputs: QualityInputs) -> CheckResult:
    """The same instance ID in more than one submission (blank IDs are not compared)."""
    ids = inputs.instance_ids
    result = CheckResult()
    groups = _groups(ids)
    for rows in groups:
        for row in rows:
            others = [str(inputs.main["__id"].iat[r]) for r in rows if r != row]
            result.flags.append(
                Flag(
                    "Q101",
                    Severity.ERROR,
                    f"instance ID {ids[row]} is also in submission(s) {', '.join(others)}",
                    instance_id=str(ids[row]),
                    enumerator=inputs.enumerators[row],
                    evidence={"row": int(row), "others": others},
                )
            )
    return result


@check("Q102", "duplicate_unit_ids")
def duplicate_unit_ids(inputs: QualityInputs) -> CheckResult:
    """The same household/unit ID in more than one completed interview, with the share of
    answers that differ between them."""
    column = inputs.column(inputs.roles.unit_id)
    if column is None:
        return CheckResult(skipped=f"no unit ID variable '{inputs.roles.unit_id}'")
    ids = _ids(column)
    done = inputs.completed
    matrix, _ = answer_matrix(inputs)
    result = CheckResult()
    in_duplicate = np.zeros(len(ids), dtype=bool)
    for rows in _groups(np.where(done, ids, "")):
        first = rows[0]
        shares = differing_share(matrix, np.full(len(rows) - 1, first), np.array(rows[1:]))
        in_duplicate[rows] = True
        for row, share in zip(rows[1:], shares, strict=True):
            result.flags.append(
                Flag(
                    "Q102",
                    Severity.ERROR,
                    f"unit {ids[row]} was already interviewed in {inputs.instance_ids[first]} "
                    f"(by {inputs.enumerators[first] or '?'}); {share:.0%} of the answers differ",
                    instance_id=str(inputs.instance_ids[row]),
                    enumerator=inputs.enumerators[row],
                    variable=inputs.roles.unit_id,
                    value=float(share),
                    evidence={
                        "unit_id": ids[row],
                        "first": str(inputs.instance_ids[first]),
                        "differing_share": float(share),
                    },
                )
            )
    result.indicators = share_indicator(
        "duplicate_unit_share", inputs.enumerators, in_duplicate, done, weight=2.0
    )
    return result


@check("Q103", "units_not_in_sample")
def units_not_in_sample(inputs: QualityInputs) -> CheckResult:
    """Submissions whose unit ID is blank or not a unit of the drawn sample."""
    column = inputs.column(inputs.roles.unit_id)
    if column is None:
        return CheckResult(skipped=f"no unit ID variable '{inputs.roles.unit_id}'")
    if inputs.sample is None or "unit_id" not in inputs.sample.columns:
        return CheckResult(skipped="no sample given")
    ids = _ids(column)
    sampled = set(_ids(inputs.sample["unit_id"])) - {""}
    outside = np.array([i == "" or i not in sampled for i in ids], dtype=bool)
    result = CheckResult()
    for row in np.flatnonzero(outside):
        what = "has no unit ID" if ids[row] == "" else f"unit {ids[row]} is not in the sample"
        result.flags.append(
            Flag(
                "Q103",
                Severity.ERROR,
                f"submission {what}",
                instance_id=str(inputs.instance_ids[row]),
                enumerator=inputs.enumerators[row],
                variable=inputs.roles.unit_id,
                evidence={"unit_id": ids[row]},
            )
        )
    result.indicators = share_indicator(
        "not_in_sample_share", inputs.enumerators, outside, weight=2.0
    )
    return result


@check("Q104", "units_visited_twice")
def units_visited_twice(inputs: QualityInputs) -> CheckResult:
    """A sampled unit submitted by more than one enumerator (call-backs by the same
    enumerator with a non-interview outcome are normal and not flagged)."""
    column = inputs.column(inputs.roles.unit_id)
    if column is None:
        return CheckResult(skipped=f"no unit ID variable '{inputs.roles.unit_id}'")
    ids = _ids(column)
    result = CheckResult()
    for rows in _groups(ids):
        who = sorted({inputs.enumerators[r] for r in rows})
        if len(who) < 2:
            continue
        for row in rows:
            result.flags.append(
                Flag(
                    "Q104",
                    Severity.WARNING,
                    f"unit {ids[row]} was submitted by {len(who)} enumerators ({', '.join(who)})",
                    instance_id=str(inputs.instance_ids[row]),
                    enumerator=inputs.enumerators[row],
                    variable=inputs.roles.unit_id,
                    evidence={"unit_id": ids[row], "enumerators": who},
                )
            )
    return result


def _groups(ids: np.ndarray) -> list[list[int]]:
    """Rows sharing a non-blank ID, groups of two or more, in row order."""
    frame = pd.DataFrame({"id": ids})
    frame = frame[frame["id"] != ""]
    dup = frame[frame["id"].duplicated(keep=False)]
    return [list(rows) for _, rows in dup.groupby("id", sort=False).groups.items()]
