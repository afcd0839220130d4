"""``report --push``: the report's flags become review states with one comment in Central,
on the fake and (when configured) a real Central; a rerun adds no second comment, a
manager's decision is left alone and comes back with the next pull, cleared flags approve.

The write-back goes through the deploy service (``surveys.central.review``); without it the
Central cases skip and the decision logic is still tested."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest
import sqlalchemy as sa

from surveys.central.pull import PullOptions, pull_form
from surveys.reporting.central_bridge import comment_bodies
from surveys.reporting.review import Decision, flag_comment, push_reviews, review_decisions
from surveys.reporting.settings import ReportSettings
from surveys.store.models import QCFlag
from tests.fake_central.fixture import make_submission
from validation.report import ReportInputs, compute_report

FLAGS = pd.DataFrame(
    [
        ("s1", "e1", "gps", "warning", 3.0, "3.0 km from the dwelling"),
        ("s1", "e1", "duration", "error", 4.0, "4 minutes"),
        ("s2", "e1", "duplicate_id", "error", 1.0, "same household as s3"),
        ("s4", "e2", "night", "warning", 23.0, "started 23:10"),
        (None, "e2", "srb", "error", 300.0, "SRB 300"),
    ],
    columns=["instance_id", "enumerator", "check", "severity", "value", "message"],
)


def test_decisions_follow_the_flags_and_respect_the_manager():
    states = {"s1": None, "s2": "edited", "s3": None, "s4": "approved", "s5": "hasIssues",
              "s6": "hasIssues"}  # fmt: skip
    ours = {"s5", "s1"}  # s6 was put in hasIssues by a manager: left alone
    decisions, decided = review_decisions(
        FLAGS, states, ours, language="zh", reject_checks=("duplicate_id",)
    )
    by_id = {d.instance_id: d for d in decisions}
    assert decided == 1 and "s4" not in by_id  # the manager approved s4
    assert by_id["s1"].state == "hasIssues" and by_id["s2"].state == "rejected"
    assert by_id["s1"].comment.splitlines() == [
        "popsurvey 质量检查发现:",
        "- [error] 访问过短: 4 minutes",
        "- [warning] GPS 距离: 3.0 km from the dwelling",
    ]
    assert by_id["s5"] == Decision("s5", "approved", "popsurvey:质量问题已消除。")
    assert "s3" not in by_id and "s6" not in by_id
    again, _ = review_decisions(FLAGS, states, ours, language="zh")
    assert [d.comment for d in again if d.instance_id == "s1"] == [by_id["s1"].comment]


def test_comment_text_is_stable_whatever_the_flag_order():
    forward = flag_comment(FLAGS.iloc[:2], "en", {})
    backward = flag_comment(FLAGS.iloc[:2][::-1], "en", {})
    assert forward == backward
    assert forward.startswith("popsurvey quality checks found:\n- [error] too short: 4 minutes")


def _flag(store, central_id, check, severity, message):
    with store.transaction() as conn:
        sid = conn.execute(
            sa.text("select id from submissions where central_id = :c"), {"c": central_id}
        ).scalar()
        conn.execute(
            QCFlag.__table__.insert(),
            {
                "submission_id": sid,
                "check": check,
                "severity": severity,
                "value": 1.0,
                "details_json": json.dumps({"message": message}),
            },
        )


def _report(store):
    from surveys.reporting.gather import stored_flags

    interviews = pd.DataFrame({"instance_id": ["x"], "enumerator": ["e"], "start": [None]})
    return compute_report(ReportInputs(interviews=interviews, flags=stored_flags(store)))


def test_push_twice_gives_one_comment(central, store, monkeypatch):
    pytest.importorskip("surveys.central.review", reason="needs the deploy service (issue 16)")
    rng = random.Random(17)
    ids = [central.submit(make_submission(rng)) for _ in range(3)]
    central.settle()
    client = central.make_client()
    form_id = central.model.form_id
    pull_form(store, client, form_id, PullOptions())
    _flag(store, ids[0], "gps", "warning", "3.0 km from the dwelling")
    _flag(store, ids[1], "duration", "error", "4 minutes")
    settings = ReportSettings(form=form_id)

    first = push_reviews(store, None, settings, _report(store), "en", client=client)
    assert (first.written.states_set, first.written.comments_added) == (2, 2)
    second = push_reviews(store, None, settings, _report(store), "en", client=client)
    assert (second.written.states_set, second.written.comments_added) == (0, 0)
    for cid in ids[:2]:
        comments = client.submissions.comments(form_id, cid)
        assert len(comments) == 1 and comments[0]["body"].startswith("popsurvey quality checks")
        assert client.submissions.get(form_id, cid)["reviewState"] == "hasIssues"
    assert client.submissions.get(form_id, ids[2])["reviewState"] is None

    # the manager approves the first one in Central: it comes back with the pull and stays
    central.review(ids[0], "approved")
    pull_form(store, client, form_id, PullOptions())
    third = push_reviews(store, None, settings, _report(store), "en", client=client)
    assert third.skipped_decided == 1
    assert client.submissions.get(form_id, ids[0])["reviewState"] == "approved"
    with store.engine.connect() as conn:
        state = conn.execute(
            sa.text("select review_state from submissions where central_id = :c"), {"c": ids[0]}
        ).scalar()
    assert state == "approved"

    # the second one's flag is cleared: approved, with one comment saying so, once
    with store.transaction() as conn:
        conn.execute(sa.text("delete from qc_flags where details_json like '%4 minutes%'"))
    cleared = push_reviews(store, None, settings, _report(store), "en", client=client)
    assert [(d.instance_id, d.state) for d in cleared.decisions] == [(ids[1], "approved")]
    assert client.submissions.get(form_id, ids[1])["reviewState"] == "approved"
    bodies = comment_bodies(client, form_id, ids[1])  # oldest first
    assert bodies[-1] == "popsurvey: the quality flags were cleared." and len(bodies) == 2
    once_more = push_reviews(store, None, settings, _report(store), "en", client=client)
    assert once_more.decisions == []
    assert len(client.submissions.comments(form_id, ids[1])) == 2
    client.close()


def test_cli_push_and_publish_are_idempotent(central, tmp_path, monkeypatch):
    """`report --push` and `backcheck draw --publish` end to end on another form (the
    fixture household form), each run twice."""
    pytest.importorskip("surveys.central.review", reason="needs the deploy service (issue 16)")
    from click.testing import CliRunner

    from surveys.cli import main
    from surveys.store import open_store

    rng = random.Random(23)
    ids = [central.submit(make_submission(rng)) for _ in range(6)]
    central.settle()
    form_id = central.model.form_id
    db = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(db) as store:
        pull_form(store, central.make_client(), form_id, PullOptions(), model=central.model)
        _flag(store, ids[0], "gps", "warning", "3.0 km from the dwelling")
        _flag(store, ids[1], "duration", "error", "4 minutes")
    stamp = random.Random().randrange(10**9)
    config = tmp_path / "survey.toml"
    config.write_text(
        # a survey id of its own: Central keeps entity UUIDs unique across the whole server
        f'id = "push-test-{stamp}"\ntitle = "Push test"\n[central]\nurl = "{central.url}"\n'
        f"project_id = {central.project}\n"
        f'[report]\nform = "{form_id}"\nunit = "hh_id"\nage = "age"\nbirths = "birth"\n'
        f'birth_sex = "bsex"\nlanguage = "en"\nbackcheck_list = "bc_{stamp}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("POPSURVEY_CENTRAL_USER", central.user)
    monkeypatch.setenv("POPSURVEY_CENTRAL_PASSWORD", central.password)

    def invoke(*args):
        result = CliRunner().invoke(main, [*args, "-c", str(config), "--db", db])
        assert result.exit_code == 0, result.output
        return result.output

    first = invoke("report", "--push", "-o", str(tmp_path / "r"))
    assert "2 review state(s) set, 2 comment(s) added" in first
    second = invoke("report", "--push", "-o", str(tmp_path / "r"))
    assert "0 review state(s) set, 0 comment(s) added, 2 already as decided" in second
    client = central.make_client()
    assert len(client.submissions.comments(form_id, ids[1])) == 1

    drawn = invoke("backcheck", "draw", "--publish", "-o", str(tmp_path / "bc"), "--seed", "1")
    assert "2 flagged" in drawn
    added = int(drawn.split("published: ")[1].split()[0])
    assert added == len(pd.read_csv(tmp_path / "bc" / f"bc_{stamp}.csv"))
    again = invoke("backcheck", "draw", "--publish", "-o", str(tmp_path / "bc"), "--seed", "1")
    assert "published: 0 new" in again
    central.settle()
    assert len(list(client.datasets.entity_rows(f"bc_{stamp}"))) == added
    client.close()
