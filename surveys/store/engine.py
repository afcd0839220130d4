"""Opening the store: URL resolution, engine set-up, migrations on open, transactions, locks.

A store is a SQLite file by default (``popsurvey.db``) or any SQLAlchemy URL
(``postgresql+psycopg://user@host/db``), chosen by ``--db`` or ``POPSURVEY_DB``.
Opening a store brings its schema to the newest Alembic revision.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from surveys.store.errors import StoreBusyError, StoreError

DEFAULT_DB = "popsurvey.db"
DB_ENV = "POPSURVEY_DB"
MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_JOURNAL_MODE = "TRUNCATE"
"""A rollback journal: a pull mostly appends, and appended pages need no journal copy,
whereas WAL writes every page twice (log, then checkpoint) and stalls on checkpoints."""


def resolve_url(db: str | None = None) -> str:
    """The SQLAlchemy URL for ``db`` (a URL or a SQLite file path), ``$POPSURVEY_DB`` or the
    default ``popsurvey.db`` in the working directory."""
    value = db or os.environ.get(DB_ENV) or DEFAULT_DB
    if "://" in value:
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value[len("postgresql://") :]
        return value
    return f"sqlite:///{Path(value).expanduser()}"


def display_url(url: str) -> str:
    """``url`` with any password masked, safe to print."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


class Store:
    """An open store: an engine whose schema is migrated, with transactions and locks."""

    def __init__(self, engine: Engine, *, created_file: Path | None = None) -> None:
        self.engine = engine
        self.created_file = created_file
        """The SQLite file this process created on opening (None: it existed, or not SQLite)."""

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in one transaction: committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def lock(self, name: str, timeout: float | None = 600.0) -> Iterator[None]:
        """Hold the store-wide lock ``name`` (pulls and imports serialise on it).

        PostgreSQL: a session advisory lock; SQLite: ``flock`` on ``<db>-<name>.lock`` next to
        the database. Both vanish with the process, so a killed pull never leaves a stale lock.
        Raises :class:`StoreBusyError` when not acquired within ``timeout`` seconds.
        """
        if self.dialect == "postgresql":
            with _advisory_lock(self.engine, name, timeout):
                yield
        elif self.dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            with _file_lock(Path(f"{self.engine.url.database}-{name}.lock"), name, timeout):
                yield
        else:
            yield

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None and self.created_file is not None and self.is_empty():
            self.close()
            _remove_sqlite_files(self.created_file)  # a failed first run leaves no empty store
            return
        self.close()

    def is_empty(self) -> bool:
        """Whether no table but Alembic's holds a row (nothing was ever stored)."""
        try:
            with self.engine.connect() as conn:
                tables = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
                return not any(
                    conn.execute(sa.text(f'SELECT 1 FROM "{t}" LIMIT 1')).first() for t in tables
                )
        except Exception:  # a store we cannot read is not one we may remove
            return False


def open_store(db: str | None = None, *, migrate: bool = True) -> Store:
    """Open (and create or upgrade) the store at ``db`` (see :func:`resolve_url`)."""
    url = resolve_url(db)
    created = _new_sqlite_file(url)
    try:
        engine = _create_engine(url)
        if migrate:
            upgrade(engine)
    except StoreError:
        raise
    except Exception as err:
        if created is not None:
            _remove_sqlite_files(created)
        raise StoreError(f"cannot open store {display_url(url)}: {_first_line(err)}") from err
    return Store(engine, created_file=created)


def _new_sqlite_file(url: str) -> Path | None:
    """The SQLite file of ``url`` when opening will create it (None: it exists, or the store
    is not a SQLite file). Its folder must exist: a typo in ``--db`` must not silently start
    a new, empty store somewhere else."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    if not path.parent.is_dir():
        raise StoreError(
            f"cannot open store {path}: no such folder {path.parent}; create it first "
            "(popsurvey does not create folders for a store)"
        )
    return None if path.exists() else path


def _remove_sqlite_files(path: Path) -> None:
    """Remove a SQLite store this process created, with its journal and lock files."""
    stem = glob.escape(path.name)
    locks = path.parent.glob(f"{stem}-*.lock")
    for leftover in (path, *(path.with_name(f"{path.name}-{s}") for s in _JOURNALS), *locks):
        leftover.unlink(missing_ok=True)


_JOURNALS = ("journal", "wal", "shm")


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (serialised between processes)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # SQLite's BEGIN IMMEDIATE already serialises migrations; PostgreSQL needs a lock.
    serialise = Store(engine).lock("migrate", 120) if engine.dialect.name == "postgresql" else None
    with serialise or contextlib.nullcontext(), engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _create_engine(url: str) -> Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 60})
        _sqlite_real_transactions(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_real_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, open transactions: DDL becomes transactional and every
    write transaction takes the write lock at BEGIN (no lock upgrades, no deadlocks)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA journal_mode={SQLITE_JOURNAL_MODE}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 64 MiB page cache (default 2 MiB): the unique index on (form, __id) takes random
        # inserts, and a store of 200,000 submissions would otherwise read it from disk.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _lock_key(name: str) -> int:
    digest = hashlib.sha256(f"popsurvey:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def _advisory_lock(engine: Engine, name: str, timeout: float | None) -> Iterator[None]:
    key = _lock_key(name)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        deadline = None if timeout is None else time.monotonic() + timeout
        while not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            if deadline is not None and time.monotonic() > deadline:
                raise StoreBusyError(f"store is busy: another process holds the '{name}' lock")
            time.sleep(0.2)
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})


@contextlib.contextmanager
def _file_lock(path: Path, name: str, timeout: float | None) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if deadline is not None and time.monotonic() > deadline:
                    raise StoreBusyError(
                        f"store is busy: another process holds the '{name}' lock"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
