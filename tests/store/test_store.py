"""The store on SQLite and PostgreSQL: migrations, writes with history, sync state, locks."""

from __future__ import annotations

import json
import multiprocessing
import random
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from forms import FormModel
from surveys.store import StoreBusyError, StoreError, open_store, writer
from surveys.store.audit import parse_audit_csv
from tests.fake_central.fixture import edited, household_form, make_submission

EXPECTED_TABLES = {
    "surveys",
    "forms",
    "form_versions",
    "enumerators",
    "sampled_units",
    "assignments",
    "submissions",
    "submission_versions",
    "repeat_rows",
    "audit_events",
    "attachments",
    "sync_state",
    "store_locks",
    "validation_issues",
    "qc_flags",
    "weighting_runs",
    "weights",
    "weighting_design",
    "export_runs",
    "alembic_version",
}


def record(data, updated=None, review=None, version="2026030101"):
    return {
        **data,
        "__id": data["meta"].get("deprecatedID_root", data["meta"]["instanceID"]),
        "__system": {
            "submissionDate": "2026-03-02T01:02:03.456Z",
            "updatedAt": updated,
            "reviewState": review,
            "formVersion": version,
            "edits": 0,
            "submitterId": "5",
            "submitterName": "enum",
            "deviceId": "collect:1",
            "deletedAt": None,
        },
    }


def count(store, table):
    with store.engine.connect() as conn:
        return conn.execute(sa.text(f"select count(*) from {table}")).scalar()


def test_migrations_create_every_table_and_reopen_is_noop(any_store, store_url):
    assert set(sa.inspect(any_store.engine).get_table_names()) >= EXPECTED_TABLES
    again = open_store(store_url)  # already at head: nothing to do, no error
    again.close()


def test_form_version_keeps_formmodel_json(any_store):
    model = household_form()
    with any_store.transaction() as conn:
        pk = writer.ensure_form(conn, "household", model.title)
        writer.save_form_version(conn, pk, model.version, model)
    with any_store.engine.connect() as conn:
        models = writer.form_models(conn, pk)
    assert models[model.version] == model
    assert isinstance(models[model.version], FormModel)


def test_upsert_edit_history_and_repeats(any_store):
    rng = random.Random(5)
    datas = [make_submission(rng) for _ in range(5)]
    with any_store.transaction() as conn:
        pk = writer.ensure_form(conn, "household")
        counts = writer.store_submissions(conn, pk, [record(d) for d in datas], "test")
    assert counts.new == 5
    repeats = sum(1 + len(m["birth"]) for d in datas for m in d["member"])
    assert count(any_store, "repeat_rows") == repeats
    new = edited(datas[0], rng)
    rec = record(new, updated="2026-03-03T00:00:00.000Z", review="edited")
    rec["__id"] = datas[0]["meta"]["instanceID"]
    with any_store.transaction() as conn:
        counts = writer.store_submissions(
            conn,
            pk,
            [
                rec,
                record(datas[1], updated="2026-03-03T00:00:00.001Z", review="approved"),
                record(datas[2]),
            ],
            "test",
        )
    assert (counts.edited, counts.updated, counts.unchanged) == (1, 1, 1)
    with any_store.engine.connect() as conn:
        sub = conn.execute(
            sa.text(
                "select id, instance_id, review_state, updated_at from submissions "
                "where central_id = :c"
            ),
            {"c": datas[0]["meta"]["instanceID"]},
        ).one()
        old = conn.execute(
            sa.text(
                "select instance_id, raw_json from submission_versions where submission_id = :s"
            ),
            {"s": sub.id},
        ).one()
    assert sub.instance_id == new["meta"]["instanceID"] and sub.review_state == "edited"
    assert old.instance_id == datas[0]["meta"]["instanceID"]
    assert json.loads(old.raw_json)["resp"] == datas[0]["resp"]
    repeats += sum(1 + len(m["birth"]) for m in new["member"])
    repeats -= sum(1 + len(m["birth"]) for m in datas[0]["member"])
    assert count(any_store, "repeat_rows") == repeats


def test_deletions_and_restores(any_store):
    rng = random.Random(6)
    datas = [make_submission(rng) for _ in range(3)]
    ids = [d["meta"]["instanceID"] for d in datas]
    with any_store.transaction() as conn:
        pk = writer.ensure_form(conn, "household")
        writer.store_submissions(conn, pk, [record(d) for d in datas], "test")
        when = datetime(2026, 3, 4, tzinfo=UTC)
        assert writer.mark_deleted(conn, pk, {ids[0]: when, ids[1]: when}) == (2, 0)
        assert writer.mark_deleted(conn, pk, {ids[1]: when}) == (0, 1)
        assert writer.remove_missing(conn, pk, {ids[0], ids[1]}) == 1
    with any_store.engine.connect() as conn:
        rows = dict(conn.execute(sa.text("select central_id, deleted from submissions")).all())
    assert {k: bool(v) for k, v in rows.items()} == {ids[0]: False, ids[1]: True}


def test_a_failed_write_rolls_back_whole_transaction(any_store):
    rng = random.Random(7)
    with pytest.raises(RuntimeError), any_store.transaction() as conn:
        pk = writer.ensure_form(conn, "household")
        writer.store_submissions(conn, pk, [record(make_submission(rng))], "test")
        raise RuntimeError("crash mid-page")
    assert count(any_store, "submissions") == 0 and count(any_store, "forms") == 0


def test_sync_state_run_and_watermark(any_store):
    t1 = datetime(2026, 3, 1, 12, tzinfo=UTC)
    t2 = datetime(2026, 3, 2, 12, tzinfo=UTC)
    with any_store.transaction() as conn:
        pk = writer.ensure_form(conn, "household")
        writer.begin_run(conn, pk, None)
        writer.advance_run(conn, pk, t2)
        writer.advance_run(conn, pk, t1)  # never goes back
    with any_store.engine.connect() as conn:
        state = writer.read_sync_state(conn, pk)
    assert state.unfinished and state.run_high == t2 and state.watermark is None
    with any_store.transaction() as conn:
        assert writer.finish_run(conn, pk) == t2
        state = writer.read_sync_state(conn, pk)
    assert not state.unfinished and state.watermark == t2


def test_audit_csv_parsing():
    text = (
        "event,node,start,end,latitude,longitude,accuracy,old-value,new-value\n"
        "form start,,1700000000000,,,,,,\n"
        "question,/data/age,1700000001000,1700000009000,30.5,110.1,4.0,12,21\n"
        "question,/data/sex,notatime,,,,,,\n"
        "form exit,,1700000010000,,,,,,\n"
    )
    events, issues = parse_audit_csv(text.encode(), instance_id="uuid:x")
    assert [e.event for e in events] == ["form start", "question", "form exit"]
    q = events[1]
    assert (q.node, q.start_ms, q.end_ms, q.latitude, q.old_value, q.new_value) == (
        "/data/age",
        1700000001000,
        1700000009000,
        30.5,
        "12",
        "21",
    )
    assert len(issues) == 1 and "line 4" in issues[0].message
    assert issues[0].instance_id == "uuid:x"
    minimal, _ = parse_audit_csv(b"event,node,start,end\nend screen,,1,2\n")
    assert minimal[0].end_ms == 2 and minimal[0].latitude is None


def test_audit_parse_odd_cells():
    """Short and long rows, a column named twice (its last cell counts, as in a dict of
    the row), times written as floats, and numbers too large for a time: an issue for
    that line, never an exception."""
    text = (
        "Event, Node ,start,end,accuracy,start\n"
        "question,/data/a,1,2\n"  # short: the second start is missing, the first counts
        "question,/data/b,1,2,,3.0e3,extra\n"  # long: the extra cell is ignored
        "question,/data/c,1,1e400,,5\n"
        " , ,\n"
        "form exit,,9007199254740993,,inf,9\n"
    )
    events, issues = parse_audit_csv(text.encode(), instance_id="uuid:y")
    assert [(e.node, e.start_ms, e.end_ms, e.accuracy) for e in events] == [
        ("/data/a", 1, 2, None),
        ("/data/b", 3000, 2, None),
        (None, 9, None, float("inf")),
    ]
    assert [e.seq for e in events] == [0, 1, 2]
    assert len(issues) == 1 and "line 4" in issues[0].message and "'end'" in issues[0].message


def _hold_lock(url, seconds, started):
    store = open_store(url)
    with store.lock("pull"):
        started.set()
        time.sleep(seconds)


def test_pull_lock_serialises_processes(any_store, store_url):
    ctx = multiprocessing.get_context("spawn")
    started = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(store_url, 2.0, started))
    holder.start()
    try:
        assert started.wait(30)
        waited_from = time.monotonic()
        with pytest.raises(StoreBusyError), any_store.lock("pull", timeout=0.3):
            pass
        with any_store.lock("pull", timeout=30):  # waits for the holder, then gets it
            assert time.monotonic() - waited_from > 1.0
    finally:
        holder.join(30)


def test_killed_lock_holder_frees_the_lock(any_store, store_url):
    ctx = multiprocessing.get_context("spawn")
    started = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(store_url, 60.0, started))
    holder.start()
    assert started.wait(30)
    holder.kill()
    holder.join()
    with any_store.lock("pull", timeout=10):
        pass


def test_unopenable_store_is_one_line(tmp_path):
    with pytest.raises(StoreError) as err:
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert "\n" not in str(err.value) and "cannot open store" in str(err.value)
