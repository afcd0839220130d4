"""Reading millions of rows through the driver's own cursor, a batch at a time.

``pandas.read_sql`` over SQLAlchemy builds a Row per row and converts every value twice;
for the store's largest table (audit events: 12 million rows in a national survey) that
costs more than the query. Here the driver's cursor hands over plain tuples: SQLite's
in-process cursor, and on PostgreSQL a psycopg server-side (named) cursor, so the server
keeps the result and the client holds one batch at a time, never every tuple at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Executable


def row_batches(
    conn: Connection, statement: Executable, size: int = 100_000
) -> Iterator[list[tuple]]:
    """The rows of ``statement`` (compiled for ``conn``'s database, expanding ``IN``
    parameters rendered) in lists of at most ``size`` tuples, read inside ``conn``'s
    transaction."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cursor = raw.cursor(name=f"popsurvey_{uuid.uuid4().hex[:12]}")
        cursor.itersize = size
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(compiled.string, params)
        while rows := cursor.fetchmany(size):
            yield rows
    finally:
        cursor.close()
