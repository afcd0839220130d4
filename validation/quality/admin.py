"""Administrative checks: submissions on an outdated form version; progress against the
sample (done, pending, non-response outcomes) per enumerator."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forms.issues import Severity
from validation.quality.flags import CheckResult, Flag, level_frame, share_indicator
from validation.quality.inputs import QualityInputs, text
from validation.quality.registry import check


def version_key(version: str) -> tuple[int, int, str]:
    """Sort key of form versions: numbers numerically, then text."""
    return (1, int(version), version) if version.isdigit() else (0, 0, version)


@check("Q901", "form_version")
def form_version(inputs: QualityInputs) -> CheckResult:
    """Submissions made on a form version older than the newest one."""
    column = inputs.column(inputs.roles.form_version)
    if column is None:
        return CheckResult(skipped="no form version column")
    versions = column.fillna("").astype(str).to_numpy(dtype=object)
    known = {v for v in versions if v} | set(inputs.forms_by_version) | {inputs.form.version or ""}
    known.discard("")
    if not known:
        return CheckResult(skipped="no form versions")
    newest = max(known, key=version_key)
    old = (versions != newest) & (versions != "")
    result = CheckResult()
    for row in np.flatnonzero(old):
        result.flags.append(
            Flag(
                "Q901",
                Severity.WARNING,
                f"submitted on form version {versions[row]}; the newest is {newest}",
                instance_id=str(inputs.instance_ids[row]),
                enumerator=inputs.enumerators[row],
                evidence={"version": versions[row], "newest": newest},
            )
        )
    result.indicators = share_indicator(
        "outdated_version_share", inputs.enumerators, old, weight=0.5
    )
    return result


@check("Q902", "progress")
def progress(inputs: QualityInputs) -> CheckResult:
    """Per enumerator: sampled units assigned, interviewed, visited without an interview
    (by outcome) and not yet visited."""
    sample = inputs.sample
    unit = inputs.column(inputs.roles.unit_id)
    if sample is None or unit is None or "unit_id" not in sample.columns:
        return CheckResult(skipped="no sample with unit IDs")
    units = sample.copy()
    if "role" in units.columns:
        units = units[units["role"].astype(str) == "main"]
    units["unit"] = text(units["unit_id"]).fillna("")
    if "enumerator" not in units.columns:
        units["enumerator"] = ""
    visits = pd.DataFrame(
        {
            "unit": text(unit).fillna("").to_numpy(dtype=object),
            "done": inputs.completed,
            "outcome": (
                text(inputs.main[inputs.roles.outcome]).fillna("").to_numpy(dtype=object)
                if inputs.roles.outcome in inputs.main
                else ""
            ),
            "by": inputs.enumerators,
        }
    )
    per_unit = visits.groupby("unit").agg(done=("done", "max"), outcome=("outcome", "last"))
    units = units.join(per_unit, on="unit")
    units["status"] = np.where(
        units["done"].fillna(False).astype(bool),
        "done",
        np.where(units["outcome"].notna(), "visited", "pending"),
    )
    table = units.groupby("enumerator")["status"].value_counts().unstack(fill_value=0)
    for column in ("done", "visited", "pending"):
        if column not in table.columns:
            table[column] = 0
    table["assigned"] = table[["done", "visited", "pending"]].sum(axis=1)
    outcomes = (
        units[units["status"] == "visited"]
        .groupby(["enumerator", "outcome"])
        .size()
        .unstack(fill_value=0)
    )
    result = CheckResult()
    result.notes = {
        "progress": table.reset_index().to_dict("records"),
        "non_response_outcomes": outcomes.reset_index().to_dict("records"),
    }
    result.indicators = level_frame(
        "share_done",
        table.index,
        (table["done"] / table["assigned"].where(table["assigned"] > 0)).to_numpy(),
        table["assigned"].to_numpy(),
        direction="low",
        weight=0.0,
    )
    pending = units[units["status"] == "pending"]
    if len(pending) and inputs.completed.any():
        result.notes["pending_units"] = pending["unit"].tolist()
    return result
