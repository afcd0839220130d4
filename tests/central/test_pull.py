"""Pull tests: the same scenarios on the fake Central and (when configured) a real one."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import sqlalchemy as sa

from surveys.central.pull import PullOptions, PullResult, pull_form
from surveys.store import models
from tests.fake_central.fixture import edited, make_audit_csv, make_submission


def stored(store, form_id):
    """``__id -> (instanceID, reviewState)`` of the live submissions in the store."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(models.Submission)
            .join(models.Form)
            .where(models.Form.xml_form_id == form_id, models.Submission.deleted.is_(False))
        ).all()
    return {r.central_id: (r.instance_id, r.review_state) for r in rows}


def seed(central, n, rng, audit=False):
    ids, datas = [], {}
    for _ in range(n):
        data = make_submission(rng, audit=audit)
        cid = central.submit(data, make_audit_csv(rng, data) if audit else None)
        ids.append(cid)
        datas[cid] = data
    return ids, datas


def test_full_then_incremental_pull_follows_nextlink(central, store):
    rng = random.Random(1)
    seed(central, 25, rng)
    client = central.make_client()
    result = pull_form(store, client, central.model.form_id, PullOptions(page_size=7))
    assert result.pages == 4  # 7 + 7 + 7 + 4: every nextLink followed
    assert result.counts.new == 25
    assert stored(store, central.model.form_id) == central.truth()
    with store.engine.connect() as conn:
        enumerators = conn.execute(sa.select(models.Enumerator)).all()
        submitters = conn.execute(sa.select(models.Submission.submitter_id).distinct()).all()
    assert {e.central_actor_id for e in enumerators} == {s[0] for s in submitters}
    with store.engine.connect() as conn:
        members = conn.execute(sa.select(sa.func.count()).select_from(models.RepeatRow)).scalar()
    assert members > 25  # repeats came inline with $expand=*

    seed(central, 3, rng)
    no_overlap = PullOptions(page_size=7, overlap=timedelta(0))
    again = pull_form(store, client, central.model.form_id, no_overlap)
    assert again.since is not None
    assert again.counts.new == 3
    assert again.received < 25  # only the window, not everything
    assert stored(store, central.model.form_id) == central.truth()


def test_edits_keep_history_and_latest_wins(central, store):
    rng = random.Random(2)
    ids, datas = seed(central, 5, rng)
    client = central.make_client()
    pull_form(store, client, central.model.form_id)
    target = ids[2]
    new = edited(datas[target], rng)
    assert central.submit(new) == target  # __id stays the first instanceID
    pull_form(store, client, central.model.form_id)
    truth = central.truth()
    assert truth[target] == (new["meta"]["instanceID"], "edited")
    assert stored(store, central.model.form_id) == truth
    with store.engine.connect() as conn:
        sub = conn.execute(
            sa.select(models.Submission).where(models.Submission.central_id == target)
        ).one()
        history = conn.execute(
            sa.select(models.SubmissionVersion).where(
                models.SubmissionVersion.submission_id == sub.id
            )
        ).all()
    assert sub.edits == 1
    assert [h.instance_id for h in history] == [datas[target]["meta"]["instanceID"]]
    assert json.loads(sub.raw_json)["resp"]["age"] == new["resp"]["age"]


def test_versions_edited_between_pulls_are_fetched(central, store):
    rng = random.Random(12)
    ids, datas = seed(central, 3, rng)
    client = central.make_client()
    pull_form(store, client, central.model.form_id)
    first = datas[ids[0]]
    middle = edited(first, rng)
    central.submit(middle)
    last = edited(middle, rng)
    central.submit(last)  # two edits between pulls: the middle version is never in OData
    result = pull_form(store, client, central.model.form_id)
    assert result.versions_fetched == 1
    with store.engine.connect() as conn:
        sub = conn.execute(
            sa.select(models.Submission).where(models.Submission.central_id == ids[0])
        ).one()
        history = {
            h.instance_id: h
            for h in conn.execute(
                sa.select(models.SubmissionVersion).where(
                    models.SubmissionVersion.submission_id == sub.id
                )
            )
        }
    assert sub.instance_id == last["meta"]["instanceID"] and sub.edits == 2
    assert set(history) == {first["meta"]["instanceID"], middle["meta"]["instanceID"]}
    assert history[first["meta"]["instanceID"]].raw_json  # seen by the first pull
    kept = history[middle["meta"]["instanceID"]].raw_xml
    assert middle["meta"]["instanceID"] in kept and f"<age>{middle['resp']['age']}</age>" in kept


def test_review_states_and_deletions_sync(central, store):
    rng = random.Random(3)
    ids, _ = seed(central, 6, rng)
    client = central.make_client()
    pull_form(store, client, central.model.form_id)
    central.review(ids[0], "approved")
    central.review(ids[1], "rejected")
    central.delete(ids[2])
    result = pull_form(store, client, central.model.form_id)
    assert result.counts.updated == 2
    assert result.deleted == 1
    assert stored(store, central.model.form_id) == central.truth()
    with store.engine.connect() as conn:
        flagged = conn.execute(
            sa.select(models.Submission.deleted).where(models.Submission.central_id == ids[2])
        ).scalar()
    assert flagged is True  # kept, flagged: raw data is never lost


def test_audit_attachments_downloaded_and_parsed(central, store):
    rng = random.Random(4)
    _ids, _ = seed(central, 3, rng, audit=True)
    result = pull_form(store, central.make_client(), central.model.form_id)
    assert result.attachments == 3
    assert result.audit_events == 3 * 6
    with store.engine.connect() as conn:
        events = conn.execute(
            sa.select(models.AuditEvent).order_by(
                models.AuditEvent.submission_id, models.AuditEvent.seq
            )
        ).all()
    assert events[0].event == "form start"
    question = events[1]
    assert question.node == "/data/hh_id" and question.end_ms > question.start_ms
    assert question.latitude == 30.1 and question.new_value is not None


def test_overlap_window_dedupes(central, store):
    rng = random.Random(5)
    seed(central, 4, rng)
    client = central.make_client()
    pull_form(store, client, central.model.form_id)
    # an overlap wider than the whole history re-reads every row: nothing doubles
    again = pull_form(
        store, client, central.model.form_id, PullOptions(overlap=timedelta(days=3650))
    )
    assert again.received == 4 and again.counts.unchanged == 4
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(models.Submission)).scalar() == 4


def test_stored_changes_counts_every_kind_of_change():
    """Quality control and validation re-run after a pull that changed the store: any
    submission written or removed, or audit events stored; unchanged rows are no change."""
    quiet = PullResult("hh", None, received=5)
    quiet.counts.unchanged = 5
    assert not quiet.stored_changes
    for field in ("new", "edited", "updated"):
        result = PullResult("hh", None)
        setattr(result.counts, field, 1)
        assert result.stored_changes, field
    for field in ("deleted", "restored", "purged", "audit_events"):
        assert PullResult("hh", None, **{field: 1}).stored_changes, field
