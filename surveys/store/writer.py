"""Writing to the store: forms, form versions, submissions (with history), repeats, audits.

Every function takes a :class:`sqlalchemy.engine.Connection` already inside a transaction
(see :meth:`surveys.store.engine.Store.transaction`): the caller decides what is atomic.
Writes are set-based (one query per page, not per submission) so that storing keeps up with
fetching.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from forms.model import FormModel
from surveys.store import bulk, models
from surveys.store.audit import AuditEvent
from surveys.store.records import as_utc, instance_id_of, parse_time, repeat_rows

SUBMISSIONS = models.Submission.__table__
VERSIONS = models.SubmissionVersion.__table__
REPEATS = models.RepeatRow.__table__
AUDITS = models.AuditEvent.__table__
ATTACHMENTS = models.Attachment.__table__
FORMS = models.Form.__table__
FORM_VERSIONS = models.FormVersion.__table__
SYNC = models.SyncState.__table__
ENUMERATORS = models.Enumerator.__table__
VALIDATION_TABLES = (models.ValidationIssue.__table__, models.ValidationState.__table__)
QC_TABLES = (models.QCSubmissionState.__table__, models.QCFlag.__table__)
"""What quality control keeps per submission: state and flags, dropped with a purged
submission (the next run sees fewer submissions and recomputes the rest)."""

_CHUNK = bulk.BATCH
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass
class WriteCounts:
    """What one call to :func:`store_submissions` did."""

    new: int = 0
    edited: int = 0
    updated: int = 0
    unchanged: int = 0
    without_answers: int = 0
    """Encrypted submissions stored without answers (none decrypted for them yet)."""
    changed_ids: list[tuple[int, str, str]] = field(default_factory=list)
    """``(submission pk, central id, instance id)`` of new and edited submissions."""

    def add(self, other: WriteCounts) -> None:
        """Accumulate ``other`` into this count."""
        self.new += other.new
        self.edited += other.edited
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.without_answers += other.without_answers


def find_form(conn: Connection, xml_form_id: str) -> int | None:
    """The primary key of form ``xml_form_id``, or None when the store has never seen it."""
    pk = conn.execute(sa.select(FORMS.c.id).where(FORMS.c.xml_form_id == xml_form_id)).scalar()
    return None if pk is None else int(pk)


def ensure_form(conn: Connection, xml_form_id: str, title: str | None = None) -> int:
    """The primary key of form ``xml_form_id``, created when new."""
    pk = conn.execute(sa.select(FORMS.c.id).where(FORMS.c.xml_form_id == xml_form_id)).scalar()
    if pk is None:
        pk = conn.execute(
            sa.insert(FORMS).values(xml_form_id=xml_form_id, title=title).returning(FORMS.c.id)
        ).scalar_one()
    elif title:
        conn.execute(sa.update(FORMS).where(FORMS.c.id == pk).values(title=title))
    return int(pk)


def save_form_version(
    conn: Connection,
    form_pk: int,
    version: str,
    model: FormModel | None = None,
    xform_xml: str | None = None,
    *,
    source: str | None = None,
    replace: bool = False,
) -> None:
    """Record a form version with its FormModel JSON and where it came from (``source``,
    see :class:`surveys.store.models.FormVersion`). A stored model is kept unless
    ``replace``; a lookup without a model (``source`` only) never clears one."""
    row = conn.execute(
        sa.select(
            FORM_VERSIONS.c.id, FORM_VERSIONS.c.model_json, FORM_VERSIONS.c.model_source
        ).where(FORM_VERSIONS.c.form_id == form_pk, FORM_VERSIONS.c.version == version)
    ).first()
    model_json = model.to_json() if model is not None else None
    if row is None:
        conn.execute(
            sa.insert(FORM_VERSIONS).values(
                form_id=form_pk,
                version=version,
                model_json=model_json,
                xform_xml=xform_xml,
                model_source=source,
                created_at=_now(),
            )
        )
    elif model_json and (replace or not row.model_json):
        conn.execute(
            sa.update(FORM_VERSIONS)
            .where(FORM_VERSIONS.c.id == row.id)
            .values(model_json=model_json, xform_xml=xform_xml, model_source=source)
        )
    elif source and not row.model_json and row.model_source != source:
        conn.execute(
            sa.update(FORM_VERSIONS).where(FORM_VERSIONS.c.id == row.id).values(model_source=source)
        )


def looked_up_versions(conn: Connection, form_pk: int) -> set[str]:
    """Versions of a form that need no XLSForm download: those with a stored FormModel and
    those Central was already asked about (it keeps no XLSForm, or it did not read)."""
    rows = conn.execute(
        sa.select(FORM_VERSIONS.c.version).where(
            FORM_VERSIONS.c.form_id == form_pk,
            sa.or_(
                FORM_VERSIONS.c.model_json.is_not(None), FORM_VERSIONS.c.model_source.is_not(None)
            ),
        )
    )
    return {r.version for r in rows}


def form_models(conn: Connection, form_pk: int) -> dict[str, FormModel]:
    """The FormModel of every stored version of a form, by version string."""
    rows = conn.execute(
        sa.select(FORM_VERSIONS.c.version, FORM_VERSIONS.c.model_json).where(
            FORM_VERSIONS.c.form_id == form_pk, FORM_VERSIONS.c.model_json.is_not(None)
        )
    )
    return {r.version: FormModel.from_json(r.model_json) for r in rows}


def store_submissions(
    conn: Connection,
    form_pk: int,
    records: Sequence[Mapping[str, Any]],
    source: str,
    raw: Sequence[str] | None = None,
) -> WriteCounts:
    """Insert or update submissions by Central ``__id`` (de-duplicated within the batch).

    A record whose instanceID differs from the stored one is an edit: the stored version
    goes to ``submission_versions`` and the new one replaces it (repeats rebuilt). A record
    with the same instanceID updates review state, dates and flags (and the repeat rows, if
    its answers changed). An encrypted record, which Central sends without answers, keeps
    the answers a decrypted import stored for the same version. Identical records are
    skipped. ``raw`` gives each record's JSON text as received (encoded here otherwise).
    """
    latest: dict[str, tuple[Mapping[str, Any], str | None]] = {}
    for index, record in enumerate(records):
        latest[str(record["__id"])] = (record, raw[index] if raw is not None else None)
    existing = _existing(conn, form_pk, list(latest))
    counts = WriteCounts()
    inserts, edits, updates = [], [], []
    for central_id, (record, text) in latest.items():
        old = existing.get(central_id)
        if is_encrypted(record):
            kept = _stored_answers(old, record)
            if kept is None:
                counts.without_answers += 1
            else:  # decrypted answers were imported for this version: keep them
                record, text = kept, None
        row = _submission_row(form_pk, record, source, text)
        if old is None:
            inserts.append((row, record))
        elif old.instance_id != row["instance_id"]:
            edits.append((old, row, record))
        elif _differs(old, row):
            updates.append((old, row, record))
        else:
            counts.unchanged += 1
    if inserts:
        _insert_new(conn, inserts, counts)
    if edits:
        _apply_edits(conn, edits, counts)
    if updates:
        _apply_updates(conn, updates, counts)
    return counts


ENCRYPTED_STATUSES = ("notDecrypted", "missingEncryptedFormData")
"""``__system/status`` of an encrypted submission, which Central's OData shows without its
answers (``__id`` and ``__system`` only)."""


def is_encrypted(record: Mapping[str, Any]) -> bool:
    """Whether Central sent ``record`` encrypted, without its answers."""
    return (record.get("__system") or {}).get("status") in ENCRYPTED_STATUSES


def _stored_answers(old: Any, record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The encrypted ``record`` with the answers already stored for the same version (from
    a decrypted import), or None when the store has none."""
    if old is None or old.instance_id != instance_id_of(record) or not old.raw_json:
        return None
    stored = json.loads(old.raw_json)
    if not set(_answers(stored)) - {"__id"}:
        return None
    return {**_answers(stored), "__system": {**stored.get("__system", {}), **record["__system"]}}


def _answers_changed(old_raw: str | None, record: Mapping[str, Any]) -> bool:
    """Whether the record's answers (everything but ``__system``) differ from the stored
    JSON's."""
    try:
        before = json.loads(old_raw) if old_raw else {}
    except ValueError:
        return True
    return _answers(before) != _answers(record)


def _answers(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "__system"}


def sync_enumerators(conn: Connection, records: Iterable[Mapping[str, Any]]) -> int:
    """Record every submitter (Central actor id and display name) as an enumerator; returns
    how many were new. Existing enumerators keep their team and code."""
    seen: dict[str, str | None] = {}
    for record in records:
        system = record.get("__system") or {}
        actor = system.get("submitterId")
        if actor is not None:
            seen[str(actor)] = system.get("submitterName")
    if not seen:
        return 0
    table = ENUMERATORS
    known = {
        r.central_actor_id: r
        for r in conn.execute(
            sa.select(table.c.id, table.c.central_actor_id, table.c.display_name).where(
                table.c.central_actor_id.in_(list(seen))
            )
        )
    }
    new = [
        {"code": name or actor, "central_actor_id": actor, "display_name": name}
        for actor, name in seen.items()
        if actor not in known
    ]
    if new:
        conn.execute(sa.insert(table), new)
    renamed = [
        (known[actor].id, name)
        for actor, name in seen.items()
        if actor in known and name and known[actor].display_name != name
    ]
    bulk.update_rows(conn, table, ["display_name"], renamed)
    return len(new)


def known_versions(
    conn: Connection, form_pk: int, central_ids: Sequence[str]
) -> dict[str, set[str]]:
    """Every instanceID the store holds per ``__id`` (current and earlier versions)."""
    known: dict[str, set[str]] = {}
    for chunk in _chunks(list(central_ids)):
        current = conn.execute(
            sa.select(SUBMISSIONS.c.id, SUBMISSIONS.c.central_id, SUBMISSIONS.c.instance_id).where(
                SUBMISSIONS.c.form_id == form_pk, SUBMISSIONS.c.central_id.in_(chunk)
            )
        ).all()
        by_pk = {r.id: r.central_id for r in current}
        for r in current:
            known.setdefault(r.central_id, set()).add(r.instance_id)
        if by_pk:
            for v in conn.execute(
                sa.select(VERSIONS.c.submission_id, VERSIONS.c.instance_id).where(
                    VERSIONS.c.submission_id.in_(list(by_pk))
                )
            ):
                known[by_pk[v.submission_id]].add(v.instance_id)
    return known


def store_earlier_version(
    conn: Connection, submission_pk: int, instance_id: str, xml: str, created_at: datetime | None
) -> None:
    """Keep an earlier version fetched as XML (one the store never saw as JSON)."""
    exists = conn.execute(
        sa.select(VERSIONS.c.id).where(
            VERSIONS.c.submission_id == submission_pk, VERSIONS.c.instance_id == instance_id
        )
    ).first()
    if exists is None:
        conn.execute(
            sa.insert(VERSIONS).values(
                submission_id=submission_pk,
                instance_id=instance_id,
                raw_xml=xml,
                created_at=created_at,
                replaced_at=_now(),
            )
        )


def mark_deleted(
    conn: Connection, form_pk: int, deleted: Mapping[str, datetime | None]
) -> tuple[int, int]:
    """Flag the given ``__id``s deleted and clear the flag on every other one of the form.

    ``deleted`` maps each deleted ``__id`` to its ``deletedAt``. Returns (newly deleted,
    restored).
    """
    flagged = {
        r.central_id: r.id
        for r in conn.execute(
            sa.select(SUBMISSIONS.c.id, SUBMISSIONS.c.central_id).where(
                SUBMISSIONS.c.form_id == form_pk, SUBMISSIONS.c.deleted.is_(True)
            )
        )
    }
    to_restore = [pk for cid, pk in flagged.items() if cid not in deleted]
    newly = 0
    for chunk in _chunks([cid for cid in deleted if cid not in flagged]):
        rows = [
            (pk, True, deleted[central_id])
            for central_id, pk in _ids_of(conn, form_pk, list(chunk)).items()
        ]
        bulk.update_rows(conn, SUBMISSIONS, ["deleted", "deleted_at"], rows)
        newly += len(rows)
    for chunk in _chunks(to_restore):
        conn.execute(
            sa.update(SUBMISSIONS)
            .where(SUBMISSIONS.c.id.in_(chunk))
            .values(deleted=False, deleted_at=None)
        )
    return newly, len(to_restore)


def remove_missing(conn: Connection, form_pk: int, live_or_deleted: set[str]) -> int:
    """Delete stored submissions of a form that Central no longer has at all (purged)."""
    stored = conn.execute(
        sa.select(SUBMISSIONS.c.id, SUBMISSIONS.c.central_id).where(
            SUBMISSIONS.c.form_id == form_pk
        )
    ).all()
    gone = [r.id for r in stored if r.central_id not in live_or_deleted]
    for chunk in _chunks(gone):
        # PostgreSQL: lock the submissions before deleting what refers to them, so that a
        # validation run writing rows for them meanwhile finishes first (and its rows are
        # deleted here) or waits and skips them (surveys.validate._still_stored)
        conn.execute(
            sa.select(SUBMISSIONS.c.id)
            .where(SUBMISSIONS.c.id.in_(chunk))
            .order_by(SUBMISSIONS.c.id)
            .with_for_update()
        ).all()
        for table in (REPEATS, AUDITS, ATTACHMENTS, VERSIONS, *VALIDATION_TABLES, *QC_TABLES):
            conn.execute(sa.delete(table).where(table.c.submission_id.in_(chunk)))
        conn.execute(sa.delete(SUBMISSIONS).where(SUBMISSIONS.c.id.in_(chunk)))
    return len(gone)


def store_audit(
    conn: Connection, submission_pk: int, instance_id: str, events: Iterable[AuditEvent]
) -> int:
    """Replace the audit events of a submission with ``events``; returns how many."""
    return store_audits(conn, [(submission_pk, instance_id, events)])


_AUDIT_COLUMNS = ("submission_id", "instance_id", *AuditEvent._fields)
"""The audit_events columns written: an event's fields are named as its columns."""


def store_audits(conn: Connection, logs: Sequence[tuple[int, str, Iterable[AuditEvent]]]) -> int:
    """Replace the audit events of many submissions at once: ``logs`` holds
    ``(submission pk, instance id, events)``. Returns how many events were stored.
    (An :class:`AuditEvent` is a tuple in the table's column order.)"""
    if not logs:
        return 0
    bulk.delete_where_in(conn, AUDITS, "submission_id", {pk for pk, _, _ in logs})
    rows = [(pk, instance_id, *e) for pk, instance_id, events in logs for e in events]
    bulk.insert_rows(conn, AUDITS, _AUDIT_COLUMNS, rows)
    return len(rows)


def store_attachment(
    conn: Connection, submission_pk: int, name: str, instance_id: str, content: bytes
) -> None:
    """Keep (or replace) one attachment file of a submission."""
    store_attachments(conn, [(submission_pk, name, instance_id, content)])


def store_attachments(conn: Connection, files: Sequence[tuple[int, str, str, bytes]]) -> None:
    """Keep (or replace) many attachment files: ``(submission pk, name, instance id,
    content)`` each."""
    if not files:
        return
    by_name: dict[str, set[int]] = {}
    for pk, name, _, _ in files:
        by_name.setdefault(name, set()).add(pk)
    for name, pks in by_name.items():
        for chunk in _chunks(sorted(pks)):
            conn.execute(
                sa.delete(ATTACHMENTS).where(
                    ATTACHMENTS.c.name == name, ATTACHMENTS.c.submission_id.in_(chunk)
                )
            )
    rows = [(pk, name, iid, len(content), content) for pk, name, iid, content in files]
    columns = ("submission_id", "name", "instance_id", "size", "content")
    bulk.insert_rows(conn, ATTACHMENTS, columns, rows)


# -- sync state ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncState:
    """Where the incremental pull of one form stands."""

    watermark: datetime | None
    unfinished: bool
    run_since: datetime | None
    run_high: datetime | None


NO_SYNC = SyncState(None, False, None, None)
"""The sync state of a form never pulled."""


def read_sync_state(conn: Connection, form_pk: int) -> SyncState:
    """The sync state of a form (empty for a form never pulled)."""
    row = conn.execute(sa.select(SYNC).where(SYNC.c.form_id == form_pk)).first()
    if row is None:
        return SyncState(None, False, None, None)
    return SyncState(
        as_utc(row.watermark),
        row.run_started_at is not None,
        as_utc(row.run_since),
        as_utc(row.run_high),
    )


def begin_run(conn: Connection, form_pk: int, since: datetime | None) -> None:
    """Record that a pull from ``since`` started (kept until :func:`finish_run`)."""
    values = {"run_started_at": _now(), "run_since": since}
    if conn.execute(sa.select(SYNC.c.form_id).where(SYNC.c.form_id == form_pk)).first():
        conn.execute(sa.update(SYNC).where(SYNC.c.form_id == form_pk).values(**values))
    else:
        conn.execute(sa.insert(SYNC).values(form_id=form_pk, **values))


def advance_run(conn: Connection, form_pk: int, high: datetime | None) -> None:
    """Raise the unfinished run's high-water mark to ``high`` (same transaction as a page)."""
    if high is None:
        return
    current = as_utc(
        conn.execute(sa.select(SYNC.c.run_high).where(SYNC.c.form_id == form_pk)).scalar()
    )
    if current is None or high > current:
        conn.execute(sa.update(SYNC).where(SYNC.c.form_id == form_pk).values(run_high=high))


def finish_run(conn: Connection, form_pk: int) -> datetime | None:
    """Close the run: the watermark becomes the latest time stored. Returns it."""
    state = read_sync_state(conn, form_pk)
    marks = [t for t in (state.watermark, state.run_high) if t is not None]
    watermark = max(marks) if marks else None
    conn.execute(
        sa.update(SYNC)
        .where(SYNC.c.form_id == form_pk)
        .values(
            watermark=watermark,
            run_started_at=None,
            run_since=None,
            run_high=None,
            last_pull_at=_now(),
        )
    )
    return watermark


# -- internals ----------------------------------------------------------------------------


def _existing(conn: Connection, form_pk: int, central_ids: list[str]) -> dict[str, Any]:
    cols = (
        SUBMISSIONS.c.id,
        SUBMISSIONS.c.central_id,
        SUBMISSIONS.c.instance_id,
        SUBMISSIONS.c.form_version,
        SUBMISSIONS.c.review_state,
        SUBMISSIONS.c.updated_at,
        SUBMISSIONS.c.edits,
        SUBMISSIONS.c.deleted,
        SUBMISSIONS.c.raw_json,
    )
    found: dict[str, Any] = {}
    for chunk in _chunks(central_ids):
        query = sa.select(*cols).where(
            SUBMISSIONS.c.form_id == form_pk, SUBMISSIONS.c.central_id.in_(chunk)
        )
        for row in conn.execute(query):
            found[row.central_id] = row
    return found


def _submission_row(
    form_pk: int, record: Mapping[str, Any], source: str, text: str | None = None
) -> dict[str, Any]:
    system = record.get("__system") or {}
    deleted_at = parse_time(system.get("deletedAt"))
    return {
        "form_id": form_pk,
        "central_id": str(record["__id"]),
        "instance_id": instance_id_of(record),
        "form_version": system.get("formVersion"),
        "submitter_id": _str_or_none(system.get("submitterId")),
        "submitter_name": system.get("submitterName"),
        "device_id": system.get("deviceId"),
        "submission_date": parse_time(system.get("submissionDate")),
        "updated_at": parse_time(system.get("updatedAt")),
        "review_state": system.get("reviewState"),
        "edits": int(system.get("edits") or 0),
        "deleted": deleted_at is not None,
        "deleted_at": deleted_at,
        "attachments_present": system.get("attachmentsPresent"),
        "attachments_expected": system.get("attachmentsExpected"),
        "source": source,
        "raw_json": text if text is not None else _dumps(record),
        "stored_at": _now(),
    }


def _differs(old: Any, row: Mapping[str, Any]) -> bool:
    return (
        old.review_state != row["review_state"]
        or as_utc(old.updated_at) != row["updated_at"]
        or old.edits != row["edits"]
        or bool(old.deleted) != row["deleted"]
        or old.form_version != row["form_version"]
        or old.raw_json != row["raw_json"]
    )


def _insert_new(conn: Connection, inserts: list, counts: WriteCounts) -> None:
    rows = [row for row, _ in inserts]
    form_pk = rows[0]["form_id"]
    # Writers of submissions hold the store's "pull" lock, so rows inserted now are exactly
    # those above the current maximum id: a range scan instead of RETURNING or IN lists.
    floor = conn.execute(sa.select(sa.func.max(SUBMISSIONS.c.id))).scalar() or 0
    columns = list(rows[0])
    bulk.insert_rows(conn, SUBMISSIONS, columns, [tuple(row.values()) for row in rows])
    ids = {
        r.central_id: r.id
        for r in conn.execute(
            sa.select(SUBMISSIONS.c.id, SUBMISSIONS.c.central_id).where(
                SUBMISSIONS.c.id > floor, SUBMISSIONS.c.form_id == form_pk
            )
        )
    }
    if len(ids) != len(rows) or any(row["central_id"] not in ids for row in rows):
        ids = _ids_of(conn, form_pk, [row["central_id"] for row in rows])
    repeat_batch: list[tuple] = []
    for row, record in inserts:
        pk = ids[row["central_id"]]
        repeat_batch.extend(_repeat_tuples(pk, record))
        counts.changed_ids.append((pk, row["central_id"], row["instance_id"]))
    _insert_repeats(conn, repeat_batch)
    counts.new += len(rows)


def _ids_of(conn: Connection, form_pk: int, central_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(central_ids):
        query = sa.select(SUBMISSIONS.c.id, SUBMISSIONS.c.central_id).where(
            SUBMISSIONS.c.form_id == form_pk, SUBMISSIONS.c.central_id.in_(chunk)
        )
        found.update({r.central_id: r.id for r in conn.execute(query)})
    return found


_REPEAT_COLUMNS = ("submission_id", "table_name", "row_id", "parent_row_id", "ordinal", "data_json")


def _insert_repeats(conn: Connection, rows: list[tuple]) -> None:
    """Bulk insert repeat rows (COPY on PostgreSQL, executemany on SQLite): repeat rows are
    the most numerous writes of a pull."""
    bulk.insert_rows(conn, REPEATS, _REPEAT_COLUMNS, rows)


def _replace_rows(conn: Connection, changes: list) -> None:
    """Overwrite the stored submissions of ``changes`` (``(old, row, record)`` each) with
    their new rows, in one statement per batch."""
    columns = list(changes[0][1])
    bulk.update_rows(
        conn, SUBMISSIONS, columns, [(old.id, *row.values()) for old, row, _ in changes]
    )


def _rebuild_repeats(conn: Connection, changes: list) -> None:
    """Replace the repeat rows of the submissions of ``changes`` with their records'."""
    bulk.delete_where_in(conn, REPEATS, "submission_id", [old.id for old, _, _ in changes])
    _insert_repeats(conn, [t for old, _, record in changes for t in _repeat_tuples(old.id, record)])


def _apply_edits(conn: Connection, edits: list, counts: WriteCounts) -> None:
    """New versions of stored submissions: each stored version goes to the history (unless
    it is there already), the new one replaces it with its repeat rows."""
    known: set[tuple[int, str]] = set()
    for chunk in _chunks([old.id for old, _, _ in edits]):
        known.update(
            (r.submission_id, r.instance_id)
            for r in conn.execute(
                sa.select(VERSIONS.c.submission_id, VERSIONS.c.instance_id).where(
                    VERSIONS.c.submission_id.in_(chunk)
                )
            )
        )
    now = _now()
    history = [
        (
            old.id,
            old.instance_id,
            old.form_version,
            old.review_state,
            old.updated_at,
            old.raw_json,
            now,
        )
        for old, _, _ in edits
        if (old.id, old.instance_id) not in known
    ]
    columns = (
        "submission_id",
        "instance_id",
        "form_version",
        "review_state",
        "updated_at",
        "raw_json",
        "replaced_at",
    )
    bulk.insert_rows(conn, VERSIONS, columns, history)
    _replace_rows(conn, edits)
    _rebuild_repeats(conn, edits)
    counts.edited += len(edits)
    counts.changed_ids.extend(
        (old.id, row["central_id"], row["instance_id"]) for old, row, _ in edits
    )


def _apply_updates(conn: Connection, updates: list, counts: WriteCounts) -> None:
    """Same versions with new review state, dates or flags; where the answers changed too
    (an encrypted submission decrypted by a CSV import, or another source's rendering of
    it) the repeat rows follow."""
    _replace_rows(conn, updates)
    changed = [u for u in updates if _answers_changed(u[0].raw_json, u[2])]
    if changed:
        _rebuild_repeats(conn, changed)
    counts.updated += len(updates)


def _repeat_tuples(submission_pk: int, record: Mapping[str, Any]) -> list[tuple]:
    return [
        (submission_pk, table, row_id, parent_id, ordinal, _dumps(fields))
        for table, row_id, parent_id, ordinal, fields in repeat_rows(record)
    ]


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _now() -> datetime:
    return datetime.now(UTC)
