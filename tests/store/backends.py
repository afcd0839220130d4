"""Store backends for tests: every store test runs on SQLite and on PostgreSQL.

PostgreSQL is the development machine's (``postgresql+psycopg://postgres@127.0.0.1:5432/test``
or ``$POPSURVEY_TEST_PG``); each test gets its own schema, dropped afterwards. When it is not
reachable the PostgreSQL cases skip with the reason, except under CI=true where they fail.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from surveys.store import open_store

PG_URL = os.environ.get("POPSURVEY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_engine():
    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as err:  # unreachable or misconfigured
        engine.dispose()
        reason = f"PostgreSQL not reachable at {PG_URL}: {type(err).__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: PostgreSQL tests are mandatory)")
        pytest.skip(reason)
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A URL of an empty store: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    engine = _pg_engine()
    schema = f"popsurvey_test_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        engine.dispose()


@pytest.fixture
def any_store(store_url):
    """An open, migrated store on SQLite and on PostgreSQL."""
    store = open_store(store_url)
    yield store
    store.close()
