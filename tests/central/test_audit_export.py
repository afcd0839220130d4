"""Audit logs in bulk from Central's export: the store after a pull that takes them from the
export equals, row for row, the store after a pull that downloads each one; on the fake
Central and (when configured) a real one, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import csv
import io
import random
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from surveys.central.audit_export import (
    AuditExport,
    ExportDownload,
    _extract_audit_csv,
    _index,
    _Indexer,
    _ZipTap,
    exports_whole_audit,
    fetch_audit_export,
)
from surveys.central.pull import PullOptions, pull_form
from surveys.store import open_store
from tests.fake_central import Fault
from tests.fake_central.fixture import edited, household_form, make_audit_csv, make_submission

EACH = PullOptions(page_size=7, audit_export="never", overlap=timedelta(0))
BULK = replace(EACH, audit_export="always", export_margin=timedelta(0))

# every table a pull writes, without surrogate keys and clock readings; rows that point to
# a submission name it by its __id
SNAPSHOT = {
    "submissions": "select central_id, instance_id, form_version, submitter_id, submitter_name,"
    " device_id, submission_date, updated_at, review_state, edits, deleted, deleted_at,"
    " attachments_present, attachments_expected, source, raw_json from submissions",
    "submission_versions": "select s.central_id, v.instance_id, v.form_version, v.review_state,"
    " v.updated_at, v.created_at, v.raw_json, v.raw_xml from submission_versions v"
    " join submissions s on s.id = v.submission_id",
    "repeat_rows": "select s.central_id, r.table_name, r.row_id, r.parent_row_id, r.ordinal,"
    " r.data_json from repeat_rows r join submissions s on s.id = r.submission_id",
    "audit_events": "select s.central_id, a.instance_id, a.seq, a.event, a.node, a.start_ms,"
    ' a.end_ms, a.latitude, a.longitude, a.accuracy, a.old_value, a.new_value, a."user",'
    " a.change_reason from audit_events a join submissions s on s.id = a.submission_id",
    "attachments": "select s.central_id, a.name, a.instance_id, a.size, a.content"
    " from attachments a join submissions s on s.id = a.submission_id",
    "enumerators": "select code, central_actor_id, display_name from enumerators",
    "form_versions": "select version, model_json, model_source from form_versions",
    "sync_state": "select watermark, run_started_at, run_since, run_high from sync_state",
}


def snapshot(store):
    """Every row of every table a pull writes, sorted, as comparable tuples."""
    with store.engine.connect() as conn:
        return {
            table: sorted((tuple(row) for row in conn.execute(sa.text(query))), key=repr)
            for table, query in SNAPSHOT.items()
        }


@pytest.fixture
def second_store(store_url, tmp_path):
    """Another empty store on the same backend as ``store``."""
    if store_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'second.db'}"
    else:  # a schema of its own beside the first one's
        import uuid

        from tests.store.backends import _pg_engine

        engine = _pg_engine()
        schema = f"popsurvey_test_{uuid.uuid4().hex[:12]}"
        with engine.begin() as conn:
            conn.execute(sa.text(f'create schema "{schema}"'))
        url = store_url.split("?")[0] + f"?options=-csearch_path%3D{schema}"
    store = open_store(url)
    yield store
    store.close()
    if not url.startswith("sqlite"):
        with engine.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        engine.dispose()


def fieldwork(central, rng, n, live):
    """``n`` new submissions (two in three with an audit log, one in ten expecting a log
    that never came), recorded in ``live``."""
    for i in range(n):
        data = make_submission(rng, audit=i % 3 != 2)
        audit = make_audit_csv(rng, data) if i % 3 != 2 and i % 10 != 9 else None
        live[central.submit(data, audit)] = data


EDITS = 1  # by changes()


def changes(central, rng, live):
    """An edit with a new audit log, a review and a deletion."""
    ids = sorted(live)
    target = ids[1]
    new = edited(live[target], rng)
    new["meta"]["audit"] = "audit.csv"
    central.submit(new, make_audit_csv(rng, new))
    live[target] = new
    central.review(ids[2], "approved")
    central.delete(ids[3])
    del live[ids[3]]


@pytest.fixture(params=["early", "late"])
def arrival(request, monkeypatch):
    """The export arrives before the pages are stored (its logs go in with their pages) or
    after the last one (they go in at the end of the run)."""
    if request.param == "late":
        monkeypatch.setattr(ExportDownload, "finished", lambda self: False)
    else:  # wait for it at the first page
        monkeypatch.setattr(ExportDownload, "finished", lambda self: self.result() or True)
    return request.param


def test_bulk_audit_pull_equals_per_submission_pull(central, store, second_store, arrival):
    rng = random.Random(18)
    live = {}
    fieldwork(central, rng, 24, live)
    changes(central, rng, live)
    time.sleep(1.1)  # the export's snapshot time has whole seconds
    form_id, client = central.model.form_id, central.make_client()

    each = pull_form(store, client, form_id, EACH)
    bulk = pull_form(second_store, client, form_id, BULK)
    assert each.audits_from_export == 0
    # a real Central may parse the edit's log twice (the PUT carries the old log forward and
    # the POST of the new one replaces it: two worker jobs, one attachment); such a log has
    # every row twice in the export and is downloaded instead
    assert each.attachments - EDITS <= bulk.audits_from_export <= each.attachments
    assert each.attachments > 10
    assert (bulk.audit_events, bulk.attachments) == (each.audit_events, each.attachments)
    assert snapshot(second_store) == snapshot(store)

    # an incremental pull: the export is filtered to the window
    fieldwork(central, rng, 9, live)
    changes(central, rng, live)
    time.sleep(1.1)
    each = pull_form(store, client, form_id, EACH)
    bulk = pull_form(second_store, client, form_id, BULK)
    assert bulk.since is not None and each.attachments > 0
    assert each.attachments - EDITS <= bulk.audits_from_export <= each.attachments
    assert snapshot(second_store) == snapshot(store)


def test_recent_changes_and_a_missing_export_fall_back_to_downloads(
    central, store, second_store, arrival
):
    rng = random.Random(19)
    live = {}
    fieldwork(central, rng, 12, live)
    form_id, client = central.model.form_id, central.make_client()
    each = pull_form(store, client, form_id, EACH)
    # everything is newer than the export's snapshot less two minutes: one download each
    recent = pull_form(
        second_store, client, form_id, replace(BULK, export_margin=timedelta(minutes=2))
    )
    assert recent.audits_from_export == 0 and recent.attachments == each.attachments
    assert snapshot(second_store) == snapshot(store)
    if central.fake is None:
        return
    # a Central that answers the export with garbage: per-submission downloads, same store
    fieldwork(central, rng, 6, live)
    time.sleep(1.1)
    central.fake.inject(Fault("garbage", path="submissions.csv.zip"))
    pull_form(store, client, form_id, EACH)
    broken = pull_form(second_store, client, form_id, BULK)
    assert broken.audits_from_export == 0 and broken.export_seconds is not None
    assert snapshot(second_store) == snapshot(store)


def test_auto_uses_the_export_only_for_a_large_window(central, store):
    rng = random.Random(20)
    fieldwork(central, rng, 6, {})
    time.sleep(1.1)
    form_id, client = central.model.form_id, central.make_client()
    auto = replace(BULK, audit_export="auto", audit_export_min=7)
    assert pull_form(store, client, form_id, auto).export_seconds is None  # 6 < 7
    fieldwork(central, rng, 1, {})
    time.sleep(1.1)
    full = pull_form(store, client, form_id, replace(auto, full=True))
    assert full.export_seconds is not None and full.audits_from_export > 0


def exported(client, form_id, **kwargs):
    buffer = io.BytesIO()
    client.submissions.export(form_id, buffer, **kwargs)
    return zipfile.ZipFile(buffer)


def test_export_layout_and_filter(central):
    """The export zip as Central lays it out: main CSV, the combined audit CSV keyed by
    ``__id``; ``$filter`` narrows both; without attachments there is no audit CSV."""
    rng = random.Random(21)
    live = {}
    fieldwork(central, rng, 6, live)
    form_id, client = central.model.form_id, central.make_client()
    ids = sorted(live)
    target = ids[0]
    new = edited(live[target], rng)
    new["meta"]["audit"] = "audit.csv"
    central.submit(new, make_audit_csv(rng, new))  # its __id stays; its instanceID changes
    names = exported(client, form_id).namelist()
    assert f"{form_id}.csv" in names and f"{form_id} - audit.csv" in names
    assert f"{form_id} - audit.csv" not in exported(client, form_id, attachments=False).namelist()

    audit = exported(client, form_id).read(f"{form_id} - audit.csv").decode()
    rows = list(csv.reader(io.StringIO(audit)))
    assert rows[0] == ["instance ID", "event", "node", "start", "end", "latitude",
                       "longitude", "accuracy", "old-value", "new-value", "user",
                       "change-reason"]  # fmt: skip
    assert target in {r[0] for r in rows[1:]}  # the __id, not the edit's instanceID
    assert new["meta"]["instanceID"] not in {r[0] for r in rows[1:]}

    one = exported(client, form_id, filter=f"__id eq '{ids[3]}'")
    main = list(csv.DictReader(io.StringIO(one.read(f"{form_id}.csv").decode("utf-8-sig"))))
    assert [r["KEY"] for r in main] == [ids[3]]
    if f"{form_id} - audit.csv" in one.namelist():
        lines = list(csv.reader(io.StringIO(one.read(f"{form_id} - audit.csv").decode())))
        assert {r[0] for r in lines[1:]} == {ids[3]}


def test_export_index_rebuilds_each_log(central, tmp_path):
    rng = random.Random(22)
    logs = {}
    for _ in range(5):
        data = make_submission(rng, audit=True)
        log = make_audit_csv(rng, data)
        logs[central.submit(data, log)] = log
    export = fetch_audit_export(central.make_client(), central.model.form_id, None)
    try:
        assert isinstance(export, AuditExport) and set(export.spans) == set(logs)
        assert export.rows == 5 * 6
        for central_id, log in logs.items():  # written in the export's own layout
            assert export.audit_csv(central_id) == log
    finally:
        export.close()


def test_index_skips_what_is_not_a_log(tmp_path):
    """What a real Central's combined audit CSV holds beside logs: the empty row of a log
    expected but never uploaded (no log), a log whose events Central parsed twice (left to
    the download), and any log's rows out of order (put back in Collect's order)."""
    header = "instance ID,event,node,start,end,latitude,longitude,accuracy,old-value,new-value"
    rows = [
        "uuid:a,form finalize,,30,,,,,,",
        "uuid:a,form exit,,30,,,,,,",
        "uuid:a,question,/data/x,10,30,,,,,5",
        "uuid:a,form start,,10,,,,,,",
        "uuid:tie,location changed,,20,,1,2,3,,",
        "uuid:tie,form resume,,20,,,,,,",
        "uuid:missing,,,,,,,,,",
        "uuid:twice,form start,,10,,,,,,",
        "uuid:twice,form start,,10,,,,,,",
    ]
    path = tmp_path / "audit.csv"
    path.write_text(header + ",user,change-reason\n" + "".join(r + ",,\n" for r in rows))
    export = AuditExport(path, datetime.now(UTC), [*header.split(","), "user", "change-reason"])
    _index(export)
    assert set(export.spans) == {"uuid:a", "uuid:tie"} and not export.has("uuid:missing")
    assert export.audit_csv("uuid:tie") is None  # which came first cannot be told
    assert (
        export.audit_csv("uuid:a")
        == (
            header.removeprefix("instance ID,")
            + "\nform start,,10,,,,,,\nquestion,/data/x,10,30,,,,,5\nform exit,,30,,,,,,\n"
            + "form finalize,,30,,,,,,\n"
        ).encode()
    )
    export.close()


def test_versions_whose_audit_the_export_cuts_short_are_downloaded():
    model = household_form()
    assert exports_whole_audit(model) and exports_whole_audit(None)
    audit = next(q for q in model.elements if q.type == "audit")
    with_user = replace(audit, parameters={"identify-user": "true"})
    elements = tuple(with_user if q is audit else q for q in model.elements)
    assert not exports_whole_audit(replace(model, elements=elements))


KILL_SCRIPT = """
import sys
from datetime import UTC, datetime, timedelta
from surveys.central import CentralClient
from surveys.central.pull import PullOptions, pull_form
from surveys.store import open_store
url, user, password, project, form_id, db, margin = sys.argv[1:]
client = CentralClient(url, user, password, int(project))
options = PullOptions(page_size=100, overlap=timedelta(0), audit_export="always",
                      export_margin=timedelta(seconds=float(margin)))
with open_store(db) as store:
    print(pull_form(store, client, form_id, options).audits_from_export)
"""


def atomic_fieldwork(central, rng, n, live):
    """``n`` submissions (two in three with an audit log) and one edit with a new log,
    review and deletion, each arriving whole as Collect sends them (one request with its
    files; the fake is seeded directly, from another thread than the pull's)."""
    for i in range(n):
        data = make_submission(rng, audit=i % 3 != 2)
        audit = make_audit_csv(rng, data) if i % 3 != 2 else None
        live[central.submit_whole(data, audit)] = data
    ids = sorted(live)
    new = edited(live[ids[1]], rng)
    new["meta"]["audit"] = "audit.csv"
    central.submit_whole(new, make_audit_csv(rng, new))
    live[ids[1]] = new
    central.review(ids[2], "approved")
    central.delete(ids[3])
    del live[ids[3]]


def live_rows(snap, ids):
    """The snapshot's rows of the submissions ``ids`` (a killed pull may have stored one
    since deleted, which a fresh pull never sees)."""
    keyed = ("submissions", "submission_versions", "repeat_rows", "audit_events", "attachments")
    return {t: [r for r in rows if t not in keyed or r[0] in ids] for t, rows in snap.items()}


def test_bulk_pull_killed_during_fieldwork_ends_equal_to_a_per_submission_pull(central, tmp_path):
    """Pulls taking audit logs from the export, SIGKILLed at random points while
    submissions arrive, are edited (with new audit logs), reviewed and deleted, then run to
    completion: the store equals a fresh per-submission pull, row for row. On the fake and,
    when configured, on a real Central (fewer submissions: each is an OpenRosa request)."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    rng = random.Random(2026)
    live = {}
    atomic_fieldwork(central, rng, 1500 if central.fake else 600, live)
    time.sleep(1.1)
    db = tmp_path / "killed.db"
    form_id = central.model.form_id
    args = [central.url, central.user, central.password, str(central.project), form_id, str(db)]
    args.append("1")  # margin: the export's Date header has whole seconds
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    partial = 0
    for _ in range(10):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_SCRIPT, *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_for_a_stored_page(db, proc)
        # fieldwork goes on while the pull runs, and the kill comes soon after the first
        # stored page: on an idle machine a pull ends before a few dozen OpenRosa requests do
        n, delay = rng.randrange(5, 40), rng.uniform(0, 0.5)
        with ThreadPoolExecutor(1) as pool:
            fieldwork = pool.submit(atomic_fieldwork, central, rng, n, live)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            fieldwork.result()  # its errors are the test's
        partial += run_unfinished(db)
    time.sleep(1.1)
    final = subprocess.run([sys.executable, "-c", KILL_SCRIPT, *args], env=env, capture_output=True)
    assert final.returncode == 0, final.stderr.decode()
    assert partial > 0  # some kills left a run half done
    assert int(final.stdout) > 0  # logs came from the export

    with open_store(str(db)) as killed, open_store(str(tmp_path / "each.db")) as fresh:
        pull_form(fresh, central.make_client(), form_id, EACH)
        got, want = snapshot(killed), snapshot(fresh)
    assert got.pop("sync_state")[0][1:] == (None, None, None)  # the run finished
    want.pop("sync_state")
    assert {r[0] for r in got["submissions"] if not r[10]} == set(live)
    got, want = live_rows(got, set(live)), live_rows(want, set(live))
    # a version the killed pulls saw is kept as its JSON, one a fresh pull never saw as its
    # XML: the same versions, in two renderings
    versions = [{r[:2] for r in snap.pop("submission_versions")} for snap in (got, want)]
    assert versions[0] == versions[1]
    assert got == want


def run_unfinished(db) -> bool:
    """Whether the store at ``db`` holds a run that started and did not finish."""
    import sqlite3

    if not db.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            row = conn.execute("select run_started_at from sync_state").fetchone()
    except sqlite3.Error:  # not created yet, or locked by the writer
        return False
    return row is not None and row[0] is not None


def wait_for_a_stored_page(db, proc, timeout: float = 30.0) -> None:
    """Return once the pull in ``proc`` has stored a page (or ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None and not run_unfinished(db):
        time.sleep(0.05)


def test_cli_pull_takes_audit_logs_from_the_export(fake, tmp_path, monkeypatch):
    from datetime import UTC, datetime

    from click.testing import CliRunner

    from surveys.cli import main

    model = household_form()
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    fake.central.add_form(1, model, at=hour_ago - timedelta(minutes=1))
    rng = random.Random(23)
    for i in range(12):
        data = make_submission(rng, audit=True)
        log = {"audit.csv": make_audit_csv(rng, data)}
        fake.central.submit(
            1, model.form_id, data, attachments=log, at=hour_ago + timedelta(seconds=i)
        )
    monkeypatch.setenv("POPSURVEY_CENTRAL_URL", fake.url)
    monkeypatch.setenv("POPSURVEY_CENTRAL_USER", "admin@example.org")
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", "correct horse")
    monkeypatch.setenv("POPSURVEY_CENTRAL_PROJECT", "1")
    monkeypatch.setenv("POPSURVEY_DB", str(tmp_path / "cli.db"))
    result = CliRunner().invoke(main, ["pull", model.form_id, "-q", "--audit-export", "always"])
    assert result.exit_code == 0, result.output
    assert "72 audit events (12 logs from the export)" in result.output
    assert not [p for m, p in fake.central.requests if m == "GET" and "/attachments" in p]


def test_export_logs_with_quoted_cells_are_rebuilt_exactly(tmp_path):
    """A log whose cells need quotes (commas, quotes, line breaks in old/new values) comes
    out of the combined CSV as the same log, by the same path as the plain ones."""
    logs = {
        "uuid:a": 'event,node,start\nquestion,/data/x,1\nquestion,"/data/y, with comma",2\n',
        "uuid:b": 'event,node,start\nquestion,"say ""hi""\nand bye",1\n',
        "uuid:c": "event,node,start\nform start,,1\n",
    }
    combined = io.StringIO()
    out = csv.writer(combined, lineterminator="\n")
    out.writerow(["instance ID", "event", "node", "start"])
    for central_id, log in logs.items():
        for row in list(csv.reader(io.StringIO(log)))[1:]:
            out.writerow([central_id, *row])
    path = tmp_path / "audit.csv"
    path.write_text(combined.getvalue())
    from surveys.central.audit_export import _index

    export = AuditExport(path, datetime.now(UTC), ["instance ID", "event", "node", "start"])
    _index(export)
    assert export.rows == 4 and set(export.spans) == set(logs)
    for central_id, log in logs.items():
        assert export.audit_csv(central_id) == log.encode()
    export.close()


def test_export_indexed_as_it_streams_equals_indexed_whole(tmp_path):
    """The zip read as it arrives, in pieces of any size (data descriptors, as Central's
    archiver writes them; quoted line breaks in cells; a log expected but never uploaded; a
    log with a row twice; an ``__id`` whose rows come again later): the same audit file,
    byte ranges and logs as indexing the whole file; a log counts as complete only once
    the next one begins, and one whose rows came again is marked to be taken again."""
    from tests.fake_central.export import _Stream

    header = ["instance ID", "event", "node", "start", "end", "old-value", "new-value"]
    rows = [
        ["uuid:a", "form start", "", "1", "", "", ""],
        ["uuid:a", "question", "/data/x", "2", "3", "", 'two\nlines, "quoted"'],
        ["uuid:missing", "", "", "", "", "", ""],
        ["uuid:twice", "form start", "", "1", "", "", ""],
        ["uuid:twice", "form start", "", "1", "", "", ""],
        ["uuid:b", "form start", "", "5", "", "", ""],
        ["uuid:c", "question", "/data/y", "6", "7", "", "中文\r\n"],
        ["uuid:b", "form exit", "", "9", "", "", ""],
        ["uuid:d", "form start", "", "10", "", "", ""],
    ]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *rows])
    sink = _Stream()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("f.csv", "SubmissionDate,KEY\n" * 50)
        archive.writestr("media/x - audit.csv", "not the log")
        archive.writestr("f - audit.csv", "\ufeff" + text.getvalue())
    data = sink.getvalue()
    whole = AuditExport(tmp_path / "whole.csv", datetime.now(UTC), ["instance ID"])
    whole.header = _extract_audit_csv(io.BytesIO(data), "f", whole.path)
    _index(whole)
    for size in (1, 7, 4096):
        (tmp_path / str(size)).mkdir()  # close() removes the export's folder
        streamed = AuditExport(tmp_path / str(size) / "a.csv", datetime.now(UTC), ["instance ID"])
        with open(streamed.path, "wb") as out:
            indexer = _Indexer(streamed, out)
            tap = _ZipTap("f", indexer.feed)
            for start in range(0, len(data), size):
                tap.write(data[start : start + size])
                if size == 1 and start == len(data) // 2:
                    assert streamed.complete <= {"uuid:a"}  # nothing before its end
            assert tap.read_whole and indexer.finish()
        assert streamed.path.read_bytes() == whole.path.read_bytes()
        assert (streamed.spans, streamed.rows, streamed.header) == (
            whole.spans,
            whole.rows,
            whole.header,
        )
        assert streamed.complete == {"uuid:a", "uuid:c", "uuid:d"}
        assert streamed.redo == {"uuid:b"}
        for central_id in whole.spans:
            assert streamed.audit_csv(central_id) == whole.audit_csv(central_id)
        streamed.close()
    broken = _ZipTap("f", lambda data: None)
    broken.write(data[:40] + b"\x00" * 400)  # not a deflate stream: read the whole zip
    assert not broken.read_whole
