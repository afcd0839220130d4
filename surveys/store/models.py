"""The store's tables as SQLAlchemy 2 declarative models.

The schema is created and upgraded only by the Alembic migrations in
``surveys/store/migrations`` (run on open); these classes describe it for queries.
Timestamps from Central are kept as timezone-aware UTC datetimes; the raw JSON of each
submission is kept exactly as received so that every later stage can be re-run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    """Declarative base of every store table."""


class Survey(Base):
    """A survey: one Central project and its forms, sample and enumerators."""

    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    central_url: Mapped[str | None] = mapped_column(String(500))
    project_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Form(Base):
    """A form (Central ``xmlFormId``), within a survey when one is known."""

    __tablename__ = "forms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id"))
    xml_form_id: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str | None] = mapped_column(String(500))


class FormVersion(Base):
    """One published version of a form with its FormModel as JSON."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    version: Mapped[str] = mapped_column(String(200))
    model_json: Mapped[str | None] = mapped_column(Text)
    xform_xml: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    model_source: Mapped[str | None] = mapped_column(String(40))
    """Where ``model_json`` came from: ``file`` (--form), ``central-xlsx``/``central-xls``
    (the XLSForm Central keeps), ``no-xlsform`` (Central has none: uploaded as XForm XML),
    ``unreadable`` (Central's XLSForm did not read); None when never looked up."""
    json_schema: Mapped[str | None] = mapped_column(Text)
    """The JSON Schema of this version's submissions (written by ``popsurvey validate``)."""


class Enumerator(Base):
    """A data collector: a Central app user or web user (``submitterId``)."""

    __tablename__ = "enumerators"
    __table_args__ = (UniqueConstraint("survey_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id"))
    code: Mapped[str] = mapped_column(String(100))
    central_actor_id: Mapped[str | None] = mapped_column(String(50), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(100))
    supervisor: Mapped[str | None] = mapped_column(String(100))


class SampledUnit(Base):
    """A unit drawn into the sample (household, dwelling) with its design variables."""

    __tablename__ = "sampled_units"
    __table_args__ = (UniqueConstraint("survey_id", "unit_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id"))
    unit_key: Mapped[str] = mapped_column(String(100))
    stratum: Mapped[str | None] = mapped_column(String(100))
    psu: Mapped[str | None] = mapped_column(String(100))
    selection_probability: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    attributes_json: Mapped[str | None] = mapped_column(Text)


class Assignment(Base):
    """A sampled unit given to an enumerator for a form."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("unit_id", "form_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("sampled_units.id"))
    enumerator_id: Mapped[int | None] = mapped_column(ForeignKey("enumerators.id"))
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(Timestamp)
    status: Mapped[str | None] = mapped_column(String(50))


class Submission(Base):
    """The current version of one submission (Central ``__id``) with its raw OData JSON."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("form_id", "central_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    central_id: Mapped[str] = mapped_column(String(100))
    instance_id: Mapped[str] = mapped_column(String(100))
    form_version: Mapped[str | None] = mapped_column(String(200))
    submitter_id: Mapped[str | None] = mapped_column(String(50))
    submitter_name: Mapped[str | None] = mapped_column(String(200))
    device_id: Mapped[str | None] = mapped_column(String(200))
    submission_date: Mapped[datetime | None] = mapped_column(Timestamp)
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    review_state: Mapped[str | None] = mapped_column(String(20))
    edits: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp)
    attachments_present: Mapped[int | None] = mapped_column(Integer)
    attachments_expected: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(50))
    raw_json: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime | None] = mapped_column(Timestamp)


class SubmissionVersion(Base):
    """An earlier version of an edited submission (replaced by a later instanceID).

    ``raw_json`` is the OData JSON when the store held that version itself; versions that
    came and went between two pulls are fetched from Central as submission XML (``raw_xml``).
    """

    __tablename__ = "submission_versions"
    __table_args__ = (UniqueConstraint("submission_id", "instance_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    instance_id: Mapped[str] = mapped_column(String(100))
    form_version: Mapped[str | None] = mapped_column(String(200))
    review_state: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    raw_json: Mapped[str | None] = mapped_column(Text)
    raw_xml: Mapped[str | None] = mapped_column(Text)
    replaced_at: Mapped[datetime | None] = mapped_column(Timestamp)


class RepeatRow(Base):
    """One repetition of a repeat group of a submission's current version."""

    __tablename__ = "repeat_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    table_name: Mapped[str] = mapped_column(String(300))
    """OData table of the repeat, e.g. ``Submissions.member.birth``."""
    row_id: Mapped[str] = mapped_column(String(100))
    parent_row_id: Mapped[str] = mapped_column(String(100))
    ordinal: Mapped[int] = mapped_column(Integer)
    data_json: Mapped[str] = mapped_column(Text)


class AuditEvent(Base):
    """One line of a submission's ODK audit log (``audit.csv``)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    instance_id: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(100))
    node: Mapped[str | None] = mapped_column(String(500))
    start_ms: Mapped[int | None] = mapped_column(BigInteger)
    end_ms: Mapped[int | None] = mapped_column(BigInteger)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    accuracy: Mapped[float | None] = mapped_column(Float)
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    user: Mapped[str | None] = mapped_column(String(200))
    change_reason: Mapped[str | None] = mapped_column(Text)


class Attachment(Base):
    """A file attached to a submission (audit.csv always; media when asked for)."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("submission_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    name: Mapped[str] = mapped_column(String(300))
    instance_id: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)


class SyncState(Base):
    """Incremental pull progress of one form: the watermark and an unfinished run."""

    __tablename__ = "sync_state"
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(Timestamp)
    """Latest submissionDate/updatedAt stored by the last completed pull."""
    run_started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    """Set while a pull is unfinished (killed or failed); None once it completed."""
    run_since: Mapped[datetime | None] = mapped_column(Timestamp)
    """Lower bound of the unfinished pull (None for a full pull)."""
    run_high: Mapped[datetime | None] = mapped_column(Timestamp)
    """Latest timestamp seen by the unfinished pull so far."""
    last_pull_at: Mapped[datetime | None] = mapped_column(Timestamp)


class StoreLock(Base):
    """A named lock row: pulls and imports of one form take it for their whole run."""

    __tablename__ = "store_locks"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    acquired_at: Mapped[datetime | None] = mapped_column(Timestamp)


# -- room for the later stages ------------------------------------------------------------


class ValidationIssue(Base):
    """A schema or logic problem found in a submission (a stored ``forms.Issue``)."""

    __tablename__ = "validation_issues"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    run_id: Mapped[str | None] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(20))
    instance_id: Mapped[str | None] = mapped_column(String(100))
    enumerator: Mapped[str | None] = mapped_column(String(100))
    variable: Mapped[str | None] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    value: Mapped[str | None] = mapped_column(Text)
    """The offending answer as text (None when empty)."""
    form_version: Mapped[str | None] = mapped_column(String(200))
    """The form version the submission was validated against."""


class ValidationState(Base):
    """What ``popsurvey validate`` last checked of a submission: a submission whose row
    changed since (``stored_at``) or whose form version's rules changed is validated again."""

    __tablename__ = "validation_state"
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    stored_at: Mapped[datetime | None] = mapped_column(Timestamp)
    checked_version: Mapped[str | None] = mapped_column(String(200))
    rules_digest: Mapped[str | None] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(100))
    validated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)


Index("ix_validation_issues_code", ValidationIssue.code)


class QCFlag(Base):
    """A quality-control flag on a submission or enumerator, and whether it went to Central."""

    __tablename__ = "qc_flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    enumerator_id: Mapped[int | None] = mapped_column(ForeignKey("enumerators.id"))
    check: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str | None] = mapped_column(String(20))
    value: Mapped[float | None] = mapped_column(Float)
    details_json: Mapped[str | None] = mapped_column(Text)
    review_state_sent: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("qc_runs.id"))
    """The last run that raised the flag (``created_at`` is when one first did)."""
    code: Mapped[str | None] = mapped_column(String(20))
    instance_id: Mapped[str | None] = mapped_column(String(100))
    enumerator: Mapped[str | None] = mapped_column(String(200))
    """The enumerator's code (``submitter_name``), also for enumerator-level flags."""
    variable: Mapped[str | None] = mapped_column(String(300))
    message: Mapped[str | None] = mapped_column(Text)


class QCRun(Base):
    """One quality-control run of a form and the fingerprint of the data it read."""

    __tablename__ = "qc_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(200))
    submissions: Mapped[int | None] = mapped_column(Integer)
    flags: Mapped[int | None] = mapped_column(Integer)
    settings_json: Mapped[str | None] = mapped_column(Text)
    summary_json: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp)


class QCSubmissionState(Base):
    """What the latest quality-control run kept of a submission, so that the next run
    re-computes only new and changed ones: its audit-log summary and best near-duplicate
    match. ``stamp`` tells whether the submission (or its audit log) changed since."""

    __tablename__ = "qc_submission_state"
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("qc_runs.id"))
    instance_id: Mapped[str | None] = mapped_column(String(100))
    stamp: Mapped[str | None] = mapped_column(String(100))
    questions: Mapped[float | None] = mapped_column(Float)
    median_question_seconds: Mapped[float | None] = mapped_column(Float)
    changes: Mapped[float | None] = mapped_column(Float)
    consent_seconds: Mapped[float | None] = mapped_column(Float)
    audit_minutes: Mapped[float | None] = mapped_column(Float)
    best_share: Mapped[float | None] = mapped_column(Float)
    best_match: Mapped[str | None] = mapped_column(String(100))


class QCEnumerator(Base):
    """An enumerator's place in the risk ranking of the latest run of a form."""

    __tablename__ = "qc_enumerators"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("qc_runs.id"))
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    enumerator: Mapped[str] = mapped_column(String(200))
    interviews: Mapped[int | None] = mapped_column(Integer)
    risk: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[bool | None] = mapped_column(Boolean)
    rank: Mapped[int | None] = mapped_column(Integer)
    reasons_en: Mapped[str | None] = mapped_column(Text)
    reasons_zh: Mapped[str | None] = mapped_column(Text)
    indicators_json: Mapped[str | None] = mapped_column(Text)


class WeightingRun(Base):
    """One weighting run (design, non-response, calibration...) with its specification."""

    __tablename__ = "weighting_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    spec_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    form_id: Mapped[str | None] = mapped_column(String(200))
    """The form weighted (its xml form id)."""
    status: Mapped[str | None] = mapped_column(String(20))
    """running, finished or failed; a rerun replaces the previous run once it finished."""
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp)
    diagnostics_json: Mapped[str | None] = mapped_column(Text)
    history_json: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    """Why a failed run failed; what was left out of a finished one."""


class Weight(Base):
    """A weight (final or replicate) of one submission in a weighting run."""

    __tablename__ = "weights"
    __table_args__ = (UniqueConstraint("run_id", "submission_id", "weight_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("weighting_runs.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    weight_name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)


class WeightingDesign(Base):
    """The sampling design of one weighted submission in a weighting run: its stratum and
    PSU codes (as drawn) and the fpc (first-stage units in the stratum's frame)."""

    __tablename__ = "weighting_design"
    __table_args__ = (UniqueConstraint("run_id", "submission_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("weighting_runs.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    stratum: Mapped[str | None] = mapped_column(String(200))
    psu: Mapped[str | None] = mapped_column(String(200))
    fpc: Mapped[float | None] = mapped_column(Float)


class ExportRun(Base):
    """One export of a dataset (.sav, .dta, ...) and what went into it."""

    __tablename__ = "export_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    path: Mapped[str | None] = mapped_column(String(1000))
    params_json: Mapped[str | None] = mapped_column(Text)
    row_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = mapped_column(Timestamp)
    form_id: Mapped[str | None] = mapped_column(String(200))
    form_versions: Mapped[str | None] = mapped_column(String(1000))
    weighting_run_id: Mapped[int | None] = mapped_column(Integer)
    files_json: Mapped[str | None] = mapped_column(Text)
    """File name -> SHA-256 of every file the export wrote."""


Index("ix_submissions_form_updated", Submission.form_id, Submission.updated_at)
Index("ix_repeat_rows_table", RepeatRow.submission_id, RepeatRow.table_name)
