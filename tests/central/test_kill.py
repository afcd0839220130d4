"""Kill test: ``popsurvey pull`` in a subprocess, SIGKILLed at random points many times while
Central changes, then run to completion, leaves the store equal to Central: on the fake and
(when configured) on a real Central."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from surveys.store import open_store
from tests.fake_central.fixture import edited, make_audit_csv, make_submission

ROOT = Path(__file__).resolve().parents[2]
KILLS = 12
SEEDED = 1500


def run_pull(central, db, *, kill_after=None):
    """Run ``popsurvey pull`` on the handle's form; SIGKILL it after ``kill_after`` seconds.
    True when it had finished before the kill."""
    env = {
        **os.environ,
        "POPSURVEY_CENTRAL_URL": central.url,
        "POPSURVEY_CENTRAL_USER": central.user,
        "POPSURVEY_CENTRAL_PASSWORD": central.password,
        "POPSURVEY_CENTRAL_PROJECT": str(central.project),
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from surveys.cli import main; main()",
            "pull",
            central.model.form_id,
            "--db",
            str(db),
            "--page-size",
            "150",
            "-q",
            "--overlap",
            "0",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if kill_after is None:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
        return True
    time.sleep(kill_after)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return finished


def submit(central, rng, live):
    """One new submission (a fifth with an audit log), recorded in ``live``."""
    data = make_submission(rng, audit=rng.random() < 0.2)
    audit = make_audit_csv(rng, data) if "audit" in data["meta"] else None
    live[central.submit(data, audit)] = data


def mutate(central, rng, live):
    """New submissions, an edit, a review and a deletion, as fieldwork goes on."""
    for _ in range(rng.randrange(20, 80)):
        submit(central, rng, live)
    ids = sorted(live)
    target = rng.choice(ids)
    live[target] = edited(live[target], rng)
    central.submit(live[target])
    central.review(rng.choice(ids), rng.choice(["approved", "hasIssues"]))
    doomed = rng.choice(ids)
    if doomed != target:
        central.delete(doomed)
        del live[doomed]


def stored_rows(db):
    """The store's submissions, repeat-row counts, submissions with audit events, sync state."""
    with open_store(str(db)) as store, store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select central_id, instance_id, review_state, deleted, raw_json, id "
                "from submissions"
            )
        ).all()
        repeat_counts = dict(
            conn.execute(
                sa.text("select submission_id, count(*) from repeat_rows group by submission_id")
            ).all()
        )
        audits = conn.execute(
            sa.text("select count(distinct submission_id) from audit_events")
        ).scalar()
        state = conn.execute(sa.text("select run_started_at, watermark from sync_state")).one()
    return rows, repeat_counts, audits, state


def test_pull_killed_many_times_ends_equal_to_central(central, tmp_path):
    rng = random.Random(20260301)
    live = {}
    for _ in range(SEEDED):
        submit(central, rng, live)
    db = tmp_path / "kill.db"
    completed_early = 0
    for _ in range(KILLS):
        completed_early += run_pull(central, db, kill_after=rng.uniform(0.3, 2.5))
        mutate(central, rng, live)
    run_pull(central, db)

    rows, repeat_counts, audits, state = stored_rows(db)
    assert len(rows) == len({r.central_id for r in rows})  # none twice
    stored_live = {r.central_id: r for r in rows if not r.deleted}
    truth = central.truth()
    assert set(stored_live) == set(live) == set(truth)  # none lost, deletions synced
    for cid, (instance_id, review_state) in truth.items():
        row, data = stored_live[cid], live[cid]
        assert (row.instance_id, row.review_state) == (instance_id, review_state)
        assert instance_id == data["meta"]["instanceID"]
        assert json.loads(row.raw_json)["resp"] == data["resp"]
        expected_repeats = sum(1 + len(m["birth"]) for m in data["member"])
        assert repeat_counts.get(row.id, 0) == expected_repeats
    assert audits >= sum(1 for cid in truth if "audit" in live[cid]["meta"])
    assert state.run_started_at is None and state.watermark is not None
    assert completed_early < KILLS  # the kills really interrupted pulls
