"""The submission store: SQLAlchemy 2 over SQLite (default) or PostgreSQL, migrated by Alembic.

- :func:`open_store` / :class:`Store`: open (create, upgrade) a store; transactions; locks.
- :mod:`surveys.store.models`: the tables.
- :mod:`surveys.store.writer`: set-based writes of submissions, history, repeats, audits.
- :mod:`surveys.store.frames`: analysis frames (pandas) from stored submissions.
"""

from surveys.store.engine import DB_ENV, Store, display_url, open_store, resolve_url
from surveys.store.errors import StoreBusyError, StoreError

__all__ = [
    "DB_ENV",
    "Store",
    "StoreBusyError",
    "StoreError",
    "display_url",
    "open_store",
    "resolve_url",
]
