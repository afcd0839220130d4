"""Kill test: ``popsurvey pull`` in a subprocess, SIGKILLed at random points many times while
Central changes, then run to completion, leaves the store equal to Central."""

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
from tests.fake_central.fixture import edited, household_form, make_audit_csv, make_submission

ROOT = Path(__file__).resolve().parents[2]
KILLS = 12


def run_pull(url, db, *, kill_after=None):
    env = {
        **os.environ,
        "POPSURVEY_CENTRAL_URL": url,
        "POPSURVEY_CENTRAL_USER": "admin@example.org",
        "POPSURVEY_CENTRAL_PASSWORD": "correct horse",
        "POPSURVEY_CENTRAL_PROJECT": "1",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from surveys.cli import main; main()",
            "pull",
            "household",
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
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        return True
    time.sleep(kill_after)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return finished


def mutate(central, model, rng, live):
    """New submissions, an edit, a review and a deletion, as fieldwork goes on."""
    for _ in range(rng.randrange(20, 80)):
        data = make_submission(rng, audit=rng.random() < 0.2)
        files = {"audit.csv": make_audit_csv(rng, data)} if "audit" in data["meta"] else None
        sub = central.submit(1, "household", data, attachments=files)
        live[sub.central_id] = data
    ids = sorted(live)
    target = rng.choice(ids)
    live[target] = edited(live[target], rng)
    central.submit(1, "household", live[target])
    central.review(1, "household", rng.choice(ids), rng.choice(["approved", "hasIssues"]))
    doomed = rng.choice(ids)
    if doomed != target:
        central.delete(1, "household", doomed)
        del live[doomed]


def test_pull_killed_many_times_ends_equal_to_central(fake, tmp_path):
    rng = random.Random(20260301)
    model = household_form()
    central = fake.central
    central.add_form(1, model)
    live = {}
    for _ in range(1500):
        data = make_submission(rng)
        live[central.submit(1, "household", data).central_id] = data
    db = tmp_path / "kill.db"
    completed_early = 0
    for _ in range(KILLS):
        completed_early += run_pull(fake.url, db, kill_after=rng.uniform(0.3, 2.5))
        mutate(central, model, rng, live)
    run_pull(fake.url, db)

    form = central.projects[1]["household"]
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
    assert len(rows) == len({r.central_id for r in rows})  # none twice
    stored_live = {r.central_id: r for r in rows if not r.deleted}
    assert set(stored_live) == set(live)  # none lost, deletions synced
    for cid, sub in form.submissions.items():
        if sub.deleted_at is not None:
            continue
        row = stored_live[cid]
        assert (row.instance_id, row.review_state) == (sub.current.instance_id, sub.review_state)
        raw = json.loads(row.raw_json)
        assert raw["resp"] == sub.current.data["resp"]
        expected_repeats = sum(1 + len(m["birth"]) for m in sub.current.data["member"])
        assert repeat_counts.get(row.id, 0) == expected_repeats
    with_audit = sum(1 for s in form.submissions.values() if s.deleted_at is None and s.attachments)
    assert audits >= with_audit
    assert state.run_started_at is None and state.watermark is not None
    assert completed_early < KILLS  # the kills really interrupted pulls
