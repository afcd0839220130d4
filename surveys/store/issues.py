"""What validation left in the store, for the stages after it (weighting, exports, review).

The contract: a submission *has validation errors* when ``validation_issues`` holds a row
with its ``submission_id`` and ``severity == "error"`` (``popsurvey validate`` fills it;
such submissions are kept and marked, never dropped).
"""

from __future__ import annotations

import sqlalchemy as sa

from surveys.store import models, writer
from surveys.store.engine import Store

ISSUES = models.ValidationIssue.__table__
STATE = models.ValidationState.__table__


def submissions_with_errors(store: Store, form_id: str | None = None) -> set[str]:
    """The ``__id`` (Central id, the frames' ``__id`` column) of every submission with a
    validation error, of one form or of all forms."""
    subs = writer.SUBMISSIONS
    query = (
        sa.select(subs.c.central_id)
        .distinct()
        .select_from(ISSUES.join(subs, subs.c.id == ISSUES.c.submission_id))
        .where(ISSUES.c.severity == "error")
    )
    if form_id is not None:
        query = query.join(writer.FORMS, writer.FORMS.c.id == subs.c.form_id).where(
            writer.FORMS.c.xml_form_id == form_id
        )
    with store.engine.connect() as conn:
        return {str(r[0]) for r in conn.execute(query)}


def unvalidated_submissions(store: Store, form_id: str | None = None) -> set[str]:
    """The ``__id`` of every submission ``popsurvey validate`` has not checked in its
    current state (new or changed since the last run)."""
    subs = writer.SUBMISSIONS
    query = sa.select(
        subs.c.central_id, subs.c.stored_at, STATE.c.stored_at.label("seen")
    ).select_from(subs.outerjoin(STATE, STATE.c.submission_id == subs.c.id))
    if form_id is not None:
        query = query.join(writer.FORMS, writer.FORMS.c.id == subs.c.form_id).where(
            writer.FORMS.c.xml_form_id == form_id
        )
    from surveys.store.records import as_utc

    with store.engine.connect() as conn:
        return {
            str(r.central_id)
            for r in conn.execute(query)
            if r.seen is None or as_utc(r.seen) != as_utc(r.stored_at)
        }
