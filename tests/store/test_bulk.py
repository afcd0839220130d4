"""Bulk writes: COPY (PostgreSQL) and executemany (SQLite) keep every value exactly, and a
page of submissions costs a fixed number of statements, not one per row."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event

from surveys.store import bulk, writer
from surveys.store.audit import AuditEvent
from tests.fake_central.fixture import edited, make_submission

AWKWARD = 'tab\there, "quotes", back\\slash, new\nline, \\N, 中文, NUL-free\r\n'


def record(data, review=None, updated=None, deleted_at=None):
    return {
        **data,
        "__id": data["meta"].get("root", data["meta"]["instanceID"]),
        "__system": {
            "submissionDate": "2026-03-02T01:02:03.456Z",
            "updatedAt": updated,
            "reviewState": review,
            "formVersion": "2026030101",
            "edits": 0,
            "submitterId": "5",
            "submitterName": "enum",
            "deviceId": "collect:1",
            "deletedAt": deleted_at,
        },
    }


def test_copy_and_executemany_keep_values_exactly(any_store):
    moment = datetime(2026, 3, 2, 1, 2, 3, 456000, tzinfo=UTC)
    with any_store.transaction() as conn:
        form_pk = writer.ensure_form(conn, "f")
        columns = ("form_id", "central_id", "instance_id", "submission_date", "deleted")
        columns += ("edits", "source", "raw_json", "submitter_name")
        rows = [
            (
                *(form_pk, f"uuid:{i}", f"uuid:{i}", moment + timedelta(seconds=i), i % 2 == 0),
                *(i, "central", AWKWARD * i, None if i == 3 else AWKWARD),
            )
            for i in range(bulk.COPY_MIN + 5)  # enough for PostgreSQL's COPY
        ]
        bulk.insert_rows(conn, writer.SUBMISSIONS, columns, rows)
        pk = conn.execute(
            sa.select(writer.SUBMISSIONS.c.id).where(writer.SUBMISSIONS.c.central_id == "uuid:1")
        ).scalar_one()
        many = bulk.COPY_MIN + 1
        names = [f"f{i}" for i in range(many)]
        writer.store_attachments(conn, [(pk, name, "uuid:1", b"\x00\xff\\N\t\n") for name in names])
        event = AuditEvent(0, "question", AWKWARD, 1, 2**40, 30.1, None, 5.5)
        writer.store_audits(conn, [(pk, "uuid:1", [event] * many)])
    table = writer.SUBMISSIONS
    with any_store.engine.connect() as conn:
        got = conn.execute(sa.select(*(table.c[c] for c in columns)).order_by(table.c.id)).all()
        blobs = conn.execute(sa.select(writer.ATTACHMENTS.c.content, writer.ATTACHMENTS.c.size))
        assert {(b.content, b.size) for b in blobs} == {(b"\x00\xff\\N\t\n", 6)}
        audits = conn.execute(sa.select(writer.AUDITS)).all()
    assert len(audits) == bulk.COPY_MIN + 1
    audit = audits[0]
    for row, want in zip(got, rows, strict=True):
        assert row.submission_date.replace(tzinfo=UTC) == want[3]
        assert tuple(row)[:3] + tuple(row)[4:] == want[:3] + want[4:]
    assert (audit.node, audit.end_ms, audit.latitude, audit.longitude) == (
        AWKWARD,
        2**40,
        30.1,
        None,
    )
    assert (audit.accuracy, audit.user) == (5.5, None)


def test_update_rows_sets_each_row_its_own_values(any_store):
    with any_store.transaction() as conn:
        form_pk = writer.ensure_form(conn, "f")
        rng = random.Random(3)
        writer.store_submissions(
            conn, form_pk, [record(make_submission(rng)) for _ in range(7)], "central"
        )
        ids = [r.id for r in conn.execute(sa.select(writer.SUBMISSIONS.c.id))]
        later = datetime(2026, 4, 1, tzinfo=UTC)
        bulk.update_rows(
            conn,
            writer.SUBMISSIONS,
            ["review_state", "updated_at", "deleted"],
            [(pk, f"s{pk}", later + timedelta(days=pk), pk % 2 == 1) for pk in ids],
        )
    with any_store.engine.connect() as conn:
        rows = conn.execute(sa.select(writer.SUBMISSIONS)).all()
    for row in rows:
        assert row.review_state == f"s{row.id}"
        assert row.updated_at.replace(tzinfo=UTC) == later + timedelta(days=row.id)
        assert row.deleted is (row.id % 2 == 1)


def count_statements(store):
    """A list that grows by one per statement sent to the database (an executemany or a
    COPY counts once)."""
    sent: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    return sent


def test_a_page_costs_a_fixed_number_of_statements(any_store):
    """Storing 120 or 600 submissions (new, then edited and reviewed, with repeats and audit
    events) sends about the same number of statements: nothing is written row by row."""
    sent = count_statements(any_store)
    costs = []
    for n in (120, 600):  # every batch big enough for COPY (a COPY is not an execute)
        rng = random.Random(n)
        datas = [make_submission(rng) for _ in range(n)]
        with any_store.transaction() as conn:
            form_pk = writer.ensure_form(conn, f"form{n}")
            before = len(sent)
            counts = writer.store_submissions(conn, form_pk, [record(d) for d in datas], "central")
            logs = [
                (pk, iid, [AuditEvent(s, "question", "/data/x", s, s + 1) for s in range(5)])
                for pk, _cid, iid in counts.changed_ids
            ]
            writer.store_audits(conn, logs)
            writer.store_attachments(conn, [(pk, "audit.csv", iid, b"x") for pk, iid, _ in logs])
            changed = []
            for i, data in enumerate(datas):
                if i % 2:
                    new = edited(data, rng)
                    new["meta"]["root"] = data["meta"]["instanceID"]
                    changed.append(record(new, review="edited"))
                else:
                    changed.append(record(data, review="approved", updated="2026-03-03T00:00:00Z"))
            again = writer.store_submissions(conn, form_pk, changed, "central")
            costs.append(len(sent) - before)
        assert (counts.new, again.edited, again.updated) == (n, n // 2, n // 2)
    assert costs[1] <= costs[0] + 4, costs  # 5x the rows: at most an UPDATE per batch more
    assert costs[1] < 40
