"""The short text summary for the survey managers' messaging group: the five things to act
on today, most urgent first, in the report's language."""

from __future__ import annotations

import math

from validation.report.compute import Report, reasons_text
from validation.report.i18n import check_label, check_language, text
from validation.report.svg import fmt

TOP_ENUMERATORS = 2
"""The riskiest enumerators named first (when their risk is above zero)."""


def text_summary(report: Report, language: str = "zh", items: int = 5) -> str:
    """A few lines: the headline numbers, then up to ``items`` numbered actions."""
    check_language(language)
    t = lambda key, **v: text(key, language, **v)  # noqa: E731
    labels = report.inputs.check_labels
    totals = report.totals
    pct = 100 * totals["complete"] / totals["units"] if totals["units"] else math.nan
    actions: list[str] = []
    risky = report.enumerators[report.enumerators["risk"] > 0]
    for r in risky.head(TOP_ENUMERATORS).itertuples():
        reasons = reasons_text(report, r.enumerator, language, items=3)
        who = f"{r.enumerator} {r.name}" if isinstance(r.name, str) and r.name else r.enumerator
        actions.append(t("todo_risk", who=who, risk=fmt(r.risk), reasons=reasons or "-"))
    srb = report.srb
    low, high = report.thresholds["srb_low"], report.thresholds["srb_high"]
    if srb["males"] + srb["females"] and not low <= srb["srb"] <= high:
        actions.append(t("todo_srb", srb=fmt(srb["srb"]), low=fmt(low), high=fmt(high)))
    unreviewed = _unreviewed_errors(report)
    if unreviewed:
        actions.append(t("todo_review", n=unreviewed))
    if len(risky) > 0:
        worst = risky.iloc[0]
        if worst["flagged"]:
            who = worst["enumerator"]
            actions.append(t("todo_backcheck", who=who, n=int(worst["flagged"])))
    county = report.progress_county
    if not county.empty and county["total"].sum():
        slow = county.sort_values("pct").iloc[0]
        actions.append(
            t(
                "todo_progress",
                county=slow["county"],
                pct=fmt(slow["pct"]),
                done=int(slow["complete"]),
                total=int(slow["total"]),
            )
        )
    if not report.checks.empty:
        top = report.checks.iloc[0]
        actions.append(
            t("todo_check", check=check_label(top["check"], language, labels), n=int(top["flags"]))
        )
    head = t(
        "interviews_done",
        title=report.inputs.title,
        interviews=totals["interviews"],
        enumerators=totals["enumerators"],
        pct=fmt(pct),
    )
    lines = [head, t("todo") + ":"]
    lines += [f"{i}. {a}" for i, a in enumerate(actions[:items], start=1)] or [t("todo_nothing")]
    return "\n".join(lines) + "\n"


def _unreviewed_errors(report: Report) -> int:
    flags = report.inputs.flags
    errors = set(flags.loc[flags["severity"] == "error", "instance_id"].dropna())
    interviews = report.inputs.interviews
    states = interviews.loc[interviews["instance_id"].isin(errors), "review_state"]
    return int(states.isna().sum() + (states == "edited").sum())
