"""The Central client under faults only the fake can inject: 429/5xx, timeouts, garbage,
an unreachable server. The API behaviour it relies on is in test_central_api.py, which also
runs against a real Central."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from surveys.central import CentralClient, CentralError, CentralResponseError
from surveys.central.http import make_session
from surveys.central.pull import pull_form
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


def client_for(fake, policy=FAST, password=PASSWORD):
    return CentralClient(fake.url, "admin@example.org", password, 1, policy)


def test_retry_adapter_on_plain_http():
    session = make_session("http://127.0.0.1:9", "u", "p")
    assert session.get_adapter("http://x").max_retries.total == 5
    assert session.get_adapter("https://x").max_retries.total == 5


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
    from surveys.central.pull import PullOptions

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
