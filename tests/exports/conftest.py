"""Store fixtures for the export tests: every store test runs on SQLite and PostgreSQL."""

from tests.store.backends import any_store, store_url  # noqa: F401
