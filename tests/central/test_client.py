"""The Central client against the fake: sessions, OData paging and filters, faults."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from surveys.central import CentralAuthError, CentralClient, CentralError, CentralResponseError
from surveys.central.http import make_session
from surveys.pull import pull_form
from tests.central.handles import FAST
from tests.fake_central import Fault
from tests.fake_central.fixture import household_form, seed

PASSWORD = "correct horse"


@pytest.fixture
def seeded(fake):
    model = household_form()
    fake.central.add_form(1, model)
    ids = seed(fake.central, 1, model, 12, seed_value=7, audit=True)
    return fake, ids


def first_page(client, form_id, **kwargs):
    """The rows of the first OData page."""
    return next(iter(client.submissions.odata_pages(form_id, **kwargs))).value


def client_for(fake, policy=FAST, password=PASSWORD):
    return CentralClient(fake.url, "admin@example.org", password, 1, policy)


def test_session_token_and_bad_password(seeded, capsys, caplog):
    fake, _ = seeded
    assert client_for(fake).forms.get("household")["xmlFormId"] == "household"
    assert ("POST", "/v1/sessions") in fake.central.requests
    with pytest.raises(CentralAuthError) as err:
        client_for(fake, password="wrong-secret-123").forms.get("household")
    out = capsys.readouterr()
    for text in (str(err.value), out.out, out.err, caplog.text):
        assert "wrong-secret-123" not in text


def test_retry_adapter_on_plain_http():
    session = make_session("http://127.0.0.1:9", "u", "p")
    assert session.get_adapter("http://x").max_retries.total == 5
    assert session.get_adapter("https://x").max_retries.total == 5


def test_paging_count_and_nextlink(seeded):
    fake, ids = seeded
    pages = list(client_for(fake).submissions.odata_pages("household", page_size=5, count=True))
    assert [len(p.value) for p in pages] == [5, 5, 2]
    assert pages[0].count == 12
    assert pages[-1].next_link is None
    got = [r["__id"] for p in pages for r in p.value]
    assert got == list(reversed(ids))  # newest first, nothing repeated or lost


def test_filters_on_system_dates(seeded):
    fake, ids = seeded
    client = client_for(fake)
    rows = [r for p in client.submissions.odata_pages("household") for r in p.value]
    by_id = {r["__id"]: r for r in rows}
    pivot = by_id[ids[5]]["__system"]["submissionDate"]
    later = first_page(client, "household", filter=f"__system/submissionDate gt {pivot}")
    assert {r["__id"] for r in later} == set(ids[6:])
    ge = first_page(client, "household", filter=f"__system/submissionDate ge {pivot}")
    assert len(ge) == len(later) + 1
    fake.central.review(1, "household", ids[0], "approved")
    both = first_page(
        client,
        "household",
        filter=f"__system/submissionDate gt {pivot} or __system/updatedAt gt {pivot}",
    )
    assert {r["__id"] for r in both} == set(ids[6:]) | {ids[0]}
    window = first_page(
        client,
        "household",
        filter=f"__system/submissionDate gt {pivot} and "
        f"__system/submissionDate lt {by_id[ids[8]]['__system']['submissionDate']}",
    )
    assert {r["__id"] for r in window} == {ids[6], ids[7]}
    with pytest.raises(CentralError, match="HTTP 501"):
        list(client.submissions.odata_pages("household", filter="age gt 3"))


def test_expand_repeat_tables_and_wkt(seeded):
    fake, _ = seeded
    client = client_for(fake)
    flat = first_page(client, "household", expand=False)
    assert "member" not in flat[0] and "member@odata.navigationLink" in flat[0]
    expanded = first_page(client, "household")
    members = sum(len(r["member"]) for r in expanded)
    table = [
        r
        for p in client.submissions.odata_pages(
            "household", table="Submissions.member", page_size=4
        )
        for r in p.value
    ]
    assert len(table) == members
    assert all(r["__Submissions-id"] for r in table)
    births = [
        r
        for p in client.submissions.odata_pages("household", table="Submissions.member.birth")
        for r in p.value
    ]
    member_ids = {m["__id"] for r in expanded for m in r["member"]}
    assert all(b["__Submissions-member-id"] in member_ids for b in births)
    wkt = client.get_json(
        client.project_path("forms", "household") + ".svc/Submissions", params={"$wkt": "true"}
    )
    assert wkt["value"][0]["gps"].startswith("POINT (")


def test_deleted_rows_leave_odata_but_filter_on_deletedat_shows_them(seeded):
    fake, ids = seeded
    client = client_for(fake)
    client.request("DELETE", client.project_path("forms", "household", "submissions", ids[3]))
    live = [r["__id"] for p in client.submissions.odata_pages("household") for r in p.value]
    assert ids[3] not in live and len(live) == 11
    gone = list(
        client.submissions.odata_pages(
            "household", filter="__system/deletedAt ne null", select="__id,__system/deletedAt"
        )
    )
    assert [r["__id"] for r in gone[0].value] == [ids[3]]
    with pytest.raises(CentralError, match="HTTP 404"):
        client.attachments.list("household", ids[3])


def test_attachments_listed_and_downloaded(seeded):
    fake, ids = seeded
    client = client_for(fake)
    assert client.attachments.list("household", ids[0]) == [{"name": "audit.csv", "exists": True}]
    assert client.attachments.get("household", ids[0], "audit.csv").startswith(b"event,node")


@pytest.mark.parametrize("kind", ["429", "500", "503"])
def test_retries_on_429_and_5xx(seeded, kind):
    fake, _ = seeded
    fake.central.inject(Fault(kind, path=".svc/Submissions", times=2, retry_after=0))
    pages = list(client_for(fake).submissions.odata_pages("household"))
    assert len(pages[0].value) == 12
    assert sum(".svc/Submissions" in p for _, p in fake.central.requests) == 3


def test_retry_after_is_honoured(seeded):
    import time

    fake, _ = seeded
    fake.central.inject(Fault("429", path=".svc/Submissions", times=1, retry_after=1))
    started = time.monotonic()
    list(client_for(fake).submissions.odata_pages("household"))
    assert time.monotonic() - started >= 0.9


def test_timeouts_are_retried(seeded):
    fake, _ = seeded
    policy = FAST.__class__(connect_timeout=1, read_timeout=0.3, retries=3, backoff=0.01)
    fake.central.inject(Fault("slow", path=".svc/Submissions", times=2, delay=1.0))
    pages = list(client_for(fake, policy).submissions.odata_pages("household"))
    assert len(pages[0].value) == 12


def test_gives_up_with_one_line_after_retries(seeded):
    fake, _ = seeded
    fake.central.inject(Fault("500", path=".svc/Submissions", times=10))
    with pytest.raises(CentralError) as err:
        list(client_for(fake).submissions.odata_pages("household"))
    assert "HTTP 500" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("kind", ["garbage", "badshape"])
def test_garbage_leaves_store_unchanged(seeded, store, kind):
    fake, _ = seeded
    fake.central.inject(Fault(kind, path=".svc/Submissions", times=1))
    with pytest.raises(CentralResponseError) as err:
        pull_form(store, client_for(fake), "household")
    assert "\n" not in str(err.value)
    with store.engine.connect() as conn:
        for table in ("submissions", "forms", "sync_state", "repeat_rows", "enumerators"):
            assert conn.execute(sa.text(f"select count(*) from {table}")).scalar() == 0
    result = pull_form(store, client_for(fake), "household")  # Central healthy again
    assert result.counts.new == 12


def test_garbage_mid_pull_keeps_earlier_pages_and_resumes(seeded, store):
    from surveys.pull import PullOptions

    fake, _ = seeded
    fake.central.inject(Fault("garbage", path="skiptoken", times=1))
    with pytest.raises(CentralResponseError):
        pull_form(store, client_for(fake), "household", PullOptions(page_size=5))
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from submissions")).scalar() == 5
        assert conn.execute(sa.text("select run_started_at from sync_state")).scalar()
    result = pull_form(store, client_for(fake), "household", PullOptions(page_size=5))
    assert result.resumed and result.counts.new == 7
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from submissions")).scalar() == 12
        assert conn.execute(sa.text("select run_started_at from sync_state")).scalar() is None


def test_review_state_patch(seeded):
    fake, ids = seeded
    client = client_for(fake)
    client.submissions.set_review_state("household", ids[1], "hasIssues")
    assert fake.central.projects[1]["household"].submissions[ids[1]].review_state == "hasIssues"
    with pytest.raises(CentralError, match="HTTP 400"):
        client.submissions.set_review_state("household", ids[1], "bogus")


def test_unreachable_central_is_one_line():
    client = CentralClient(
        "http://127.0.0.1:9",
        "a@b.c",
        "pw",
        1,
        FAST.__class__(connect_timeout=0.2, read_timeout=0.2, retries=1, backoff=0.01),
    )
    with pytest.raises(CentralError) as err:
        client.forms.get("x")
    assert "\n" not in str(err.value)
