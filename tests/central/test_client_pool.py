"""ClientPool: requests spread over sessions of their own, in order, errors surfaced."""

from __future__ import annotations

import threading

import pytest

from surveys.central import CentralClient, CentralError
from surveys.central.pool import ClientPool
from tests.central.handles import FAST
from tests.fake_central.fixture import household_form, seed


@pytest.fixture
def client(fake):
    model = household_form()
    fake.central.add_form(1, model)
    client = CentralClient(fake.url, "admin@example.org", "correct horse", 1, FAST)
    client.ids = seed(fake.central, 1, model, 16, audit=True)
    return client


def test_results_in_order_from_several_sessions(client, fake):
    seen = set()

    def audit(c, cid):
        seen.add((threading.get_ident(), id(c)))
        return cid, c.attachments.get("household", cid, "audit.csv")[:5]

    with ClientPool(client, 4) as pool:
        got = pool.map(audit, client.ids)
    assert [cid for cid, _ in got] == client.ids
    assert all(head == b"event" for _, head in got)
    clients = {c for _, c in seen}
    assert id(client) not in clients and 1 < len(clients) <= 4  # clones only, one per thread
    assert len({t for t, _ in seen}) == len(clients)


def test_one_worker_runs_inline_on_the_client(client):
    with ClientPool(client, 1) as pool:
        used = pool.map(lambda c, _: (c, threading.get_ident()), range(3))
    assert {u for u, _ in used} == {client} and {t for _, t in used} == {threading.get_ident()}


def test_the_first_error_is_raised(client):
    def get(c, cid):
        return c.attachments.get("household", cid, "audit.csv")

    with ClientPool(client, 3) as pool, pytest.raises(CentralError, match="HTTP 404"):
        pool.map(get, [*client.ids[:5], "uuid:no-such-submission", *client.ids[5:]])
