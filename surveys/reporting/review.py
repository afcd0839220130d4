"""``report --push``: the report's flags written back to ODK Central as review states.

For each interview of the main form:

- flagged, and not yet decided by a manager in Central (approved or rejected): the state
  becomes ``hasIssues`` (``rejected`` when a flag's check is in ``[report] reject_checks``)
  with one comment listing the flags in the survey's language; the comment is built the
  same way on every run, so a rerun adds no second comment (the deploy service compares
  comment bodies and leaves states that are already right);
- no longer flagged but in ``hasIssues`` because an earlier push put it there (its comments
  in Central carry popsurvey's header): ``approved``, with a comment saying the flags were
  cleared (Central's own comments are the memory: a QC rerun may replace the flag rows);
- a manager's decision in Central (approved, rejected) is never overridden: it comes back
  with the next pull and the report shows it.

What was sent is also recorded in ``qc_flags.review_state_sent`` of the flags behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from surveys.config import SurveyConfig
from surveys.reporting.central_bridge import (
    Decision,
    central_client,
    comment_bodies,
    write_decisions,
)
from surveys.reporting.settings import ReportSettings
from surveys.store import models
from surveys.store.engine import Store
from surveys.store.writer import SUBMISSIONS, find_form
from validation.report import Report
from validation.report.i18n import check_label

QC_FLAGS = models.QCFlag.__table__
MANAGER_STATES = frozenset({"approved", "rejected"})
HEADER = {"zh": "popsurvey 质量检查发现:", "en": "popsurvey quality checks found:"}
CLEARED = {"zh": "popsurvey:质量问题已消除。", "en": "popsurvey: the quality flags were cleared."}


@dataclass
class PushResult:
    """What a push decided and what Central's write-back did."""

    decisions: list[Decision]
    written: object
    skipped_decided: int

    def summary(self) -> str:
        """One line for people."""
        return (
            f"review write-back: {len(self.decisions)} decision(s), "
            f"{self.skipped_decided} left as the manager decided; "
            f"{self.written.summary() if hasattr(self.written, 'summary') else self.written}"
        )


def review_decisions(
    flags: pd.DataFrame,
    states: dict[str, str | None],
    ours: set[str],
    *,
    language: str,
    labels: dict[str, dict[str, str]] | None = None,
    reject_checks: tuple[str, ...] = (),
) -> tuple[list[Decision], int]:
    """The decisions for each interview (module doc) and how many were left alone because
    a manager decided. ``states``: the current review state of every interview (``__id``);
    ``ours``: interviews an earlier push marked ``hasIssues``."""
    decisions, decided = [], 0
    flagged = flags.dropna(subset=["instance_id"])
    for instance_id, group in flagged.groupby("instance_id", sort=True):
        if instance_id not in states:
            continue
        if states[instance_id] in MANAGER_STATES:
            decided += 1
            continue
        state = "rejected" if set(group["check"]) & set(reject_checks) else "hasIssues"
        decisions.append(Decision(instance_id, state, flag_comment(group, language, labels or {})))
    for instance_id in sorted(cleared_candidates(flags, states) & set(ours)):
        decisions.append(Decision(instance_id, "approved", CLEARED[language]))
    return decisions, decided


def cleared_candidates(flags: pd.DataFrame, states: dict[str, str | None]) -> set[str]:
    """Interviews in ``hasIssues`` that no flag names any more."""
    flagged = set(flags["instance_id"].dropna())
    return {i for i, state in states.items() if state == "hasIssues" and i not in flagged}


def flag_comment(flags: pd.DataFrame, language: str, labels: dict[str, dict[str, str]]) -> str:
    """One comment listing an interview's flags (same text for the same flags)."""
    lines = [HEADER[language]]
    rows = flags.sort_values(["severity", "check", "message"])
    for row in rows.itertuples():
        label = check_label(row.check, language, labels)
        message = f": {row.message}" if row.message else ""
        lines.append(f"- [{row.severity}] {label}{message}")
    return "\n".join(lines)


def push_reviews(
    store: Store,
    config: SurveyConfig,
    settings: ReportSettings,
    report: Report,
    language: str,
    client=None,
) -> PushResult:
    """Decide from the report's flags, write to Central, remember what was sent."""
    states = _states(store, settings.form)
    own = client is None
    client = client or central_client(config)
    try:
        ours = {
            instance_id
            for instance_id in cleared_candidates(report.inputs.flags, states)
            if _pushed_by_us(comment_bodies(client, settings.form, instance_id))
        }
        decisions, decided = review_decisions(
            report.inputs.flags,
            states,
            ours,
            language=language,
            labels=report.inputs.check_labels,
            reject_checks=settings.reject_checks,
        )
        written = write_decisions(client, settings.form, decisions)
    finally:
        if own:
            client.close()
    _remember(store, settings.form, decisions)
    return PushResult(decisions, written, decided)


def _pushed_by_us(bodies: list[str]) -> bool:
    """Whether popsurvey's last comment is a list of flags (not already "cleared")."""
    ours = [b for b in bodies if b.startswith(tuple(HEADER.values())) or b in CLEARED.values()]
    return bool(ours) and ours[-1] not in CLEARED.values()


def _states(store: Store, form_id: str) -> dict[str, str | None]:
    """Each live submission's review state (as of the last pull)."""
    with store.engine.connect() as conn:
        pk = find_form(conn, form_id)
        rows = conn.execute(
            sa.select(SUBMISSIONS.c.central_id, SUBMISSIONS.c.review_state).where(
                SUBMISSIONS.c.form_id == pk, SUBMISSIONS.c.deleted.is_(False)
            )
        ).all()
    return dict(rows)


def _remember(store: Store, form_id: str, decisions: list[Decision]) -> None:
    """Record the state sent on every flag of each decided submission."""
    with store.transaction() as conn:
        pk = find_form(conn, form_id)
        ids = dict(
            conn.execute(
                sa.select(SUBMISSIONS.c.central_id, SUBMISSIONS.c.id).where(
                    SUBMISSIONS.c.form_id == pk
                )
            ).all()
        )
        for decision in decisions:
            submission = ids.get(decision.instance_id)
            if submission is not None:
                conn.execute(
                    QC_FLAGS.update()
                    .where(QC_FLAGS.c.submission_id == submission)
                    .values(review_state_sent=decision.state)
                )
