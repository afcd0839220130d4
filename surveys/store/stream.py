"""Reading millions of rows through the driver's own cursor, a batch at a time.

``pandas.read_sql`` over SQLAlchemy builds a Row per row and converts every value twice;
for the store's largest table (audit events: 12 million rows in a national survey) that
costs more than the query. Here the driver's cursor hands over plain tuples: SQLite's
in-process cursor, and on PostgreSQL a psycopg server-side (named) cursor, so the server
keeps the result and the client holds one batch at a time, never every tuple at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.engine import Connection


def row_batches(
    conn: Connection, sql: str, params: Sequence[Any] = (), size: int = 100_000
) -> Iterator[list[tuple]]:
    """The rows of ``sql`` (``?`` markers, replaced by the driver's own) in lists of at most
    ``size`` tuples, read inside ``conn``'s transaction."""
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cursor = raw.cursor(name=f"popsurvey_{uuid.uuid4().hex[:12]}")
        cursor.itersize = size
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(sql, tuple(params))
        while rows := cursor.fetchmany(size):
            yield rows
    finally:
        cursor.close()
