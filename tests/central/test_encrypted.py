"""Encrypted submissions: Central's OData gives their ``__id`` and ``__system`` but no answers.
The pull stores them, says so once with a way out, and a later import of the decrypted
answers (same instanceID) fills them in, repeat rows included."""

from __future__ import annotations

import json

import sqlalchemy as sa

from surveys.central import CentralClient
from surveys.central.pull import ENCRYPTED_CODE, pull_form
from surveys.store import models, writer
from tests.central.handles import FAST
from tests.fake_central.fixture import household_form, seed


def test_encrypted_rows_are_stored_with_a_warning_then_filled_by_import(fake, store):
    model = household_form()
    fake.central.add_form(1, model)
    ids = seed(fake.central, 1, model, 6)
    form = fake.central.projects[1]["household"]
    for cid in ids[:4]:
        form.submissions[cid].encrypted = True
    client = CentralClient(fake.url, "admin@example.org", "correct horse", 1, FAST)
    result = pull_form(store, client, "household", model=model)
    assert result.counts.new == 6 and result.encrypted == 4
    (warning,) = [i for i in result.issues if i.code == ENCRYPTED_CODE]
    assert "4 encrypted submission(s)" in warning.message and "passphrase" in warning.message
    assert "\n" not in warning.message

    target = form.submissions[ids[0]]
    assert set(json.loads(stored_raw(store, ids[0]))) == {"__id", "__system"}
    decrypted = {"__id": ids[0], **target.current.data, "__system": {"status": None}}
    with store.transaction() as conn:
        form_pk = writer.find_form(conn, "household")
        counts = writer.store_submissions(conn, form_pk, [decrypted], "import:csv")
    assert counts.updated == 1
    expected = sum(1 + len(m["birth"]) for m in target.current.data["member"])
    assert repeat_count(store, ids[0]) == expected > 0

    # the overlap window reads the encrypted rows again: the imported answers stay
    again = pull_form(store, client, "household", model=model)
    assert again.encrypted == 3 and "3 encrypted" in again.issues[-1].message
    raw = json.loads(stored_raw(store, ids[0]))
    assert raw["resp"] == target.current.data["resp"]
    assert raw["__system"]["status"] == "notDecrypted"  # Central's metadata is current
    assert repeat_count(store, ids[0]) == expected


def stored_raw(store, central_id):
    """The stored JSON text of a submission."""
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(models.Submission.raw_json).where(models.Submission.central_id == central_id)
        ).scalar()


def repeat_count(store, central_id):
    """How many repeat rows the store holds for a submission."""
    with store.engine.connect() as conn:
        pk = conn.execute(
            sa.select(models.Submission.id).where(models.Submission.central_id == central_id)
        ).scalar()
        return conn.execute(
            sa.select(sa.func.count())
            .select_from(models.RepeatRow)
            .where(models.RepeatRow.submission_id == pk)
        ).scalar()
