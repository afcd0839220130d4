"""Set-based writes: many rows per statement, never one round trip per row.

PostgreSQL takes new rows through ``COPY ... FROM STDIN`` (psycopg's copy support) and
updates as one ``UPDATE ... FROM (VALUES ...)`` per batch; SQLite takes both through the
driver's ``executemany`` (in-process, so a statement per row costs no round trip). Both run
inside the caller's transaction, so a page still lands whole or not at all; indexes and
constraints stay in force (COPY checks them as INSERT does).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

BATCH = 5_000
"""Rows per statement for updates and ``IN`` lists (PostgreSQL's bind-parameter limit is
65,535 per statement; SQLite's 32,766)."""
COPY_MIN = 50
"""Fewer rows go to PostgreSQL as a (pipelined) executemany: a COPY costs more to set up."""


def insert_rows(
    conn: Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple]
) -> None:
    """Insert ``rows`` (tuples of Python values in ``columns`` order) into ``table``."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_MIN:
        _copy_rows(conn, table.name, columns, rows)
        return
    processors = _processors(conn, table, columns)
    converted = [(i, p) for i, p in enumerate(processors) if p is not None]
    if converted:  # only the columns whose type converts values (SQLite: datetimes)
        changed = [list(row) for row in rows]
        for row in changed:
            for i, p in converted:
                if row[i] is not None:
                    row[i] = p(row[i])
        rows = [tuple(row) for row in changed]
    marker = _marker(conn)
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({_names(conn, columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})",
        rows,
    )


def update_rows(
    conn: Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple]
) -> None:
    """Set ``columns`` of the rows of ``table`` whose ``id`` is each tuple's first value
    (``rows`` are ``(id, *values)``)."""
    if not rows:
        return
    processors = _processors(conn, table, columns)
    prepared = [
        (
            row[0],
            *(
                v if p is None or v is None else p(v)
                for v, p in zip(row[1:], processors, strict=True)
            ),
        )
        for row in rows
    ]
    if conn.dialect.name != "postgresql":
        marker = _marker(conn)
        sets = ", ".join(f"{_quote(conn, c)} = {marker}" for c in columns)
        conn.exec_driver_sql(
            f"UPDATE {table.name} SET {sets} WHERE id = {marker}",
            [(*row[1:], row[0]) for row in prepared],
        )
        return
    casts = [_pg_type(conn, table.c[c]) for c in columns]
    sets = ", ".join(f"{_quote(conn, c)} = v.{_quote(conn, c)}" for c in columns)
    one = "(" + ", ".join(["%s::integer", *(f"%s::{t}" for t in casts)]) + ")"
    step = max(1, BATCH // (len(columns) + 1))
    for start in range(0, len(prepared), step):
        chunk = prepared[start : start + step]
        values = ", ".join([one] * len(chunk))
        conn.exec_driver_sql(
            f"UPDATE {table.name} AS t SET {sets} "
            f"FROM (VALUES {values}) AS v (id, {_names(conn, columns)}) WHERE t.id = v.id",
            tuple(value for row in chunk for value in row),
        )


def delete_where_in(conn: Connection, table: sa.Table, column: str, keys: Iterable[Any]) -> int:
    """Delete the rows of ``table`` whose ``column`` is one of ``keys``; returns how many."""
    keys = list(keys)
    deleted = 0
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        deleted += conn.execute(sa.delete(table).where(table.c[column].in_(chunk))).rowcount
    return deleted


def _copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    cursor = conn.connection.dbapi_connection.cursor()  # the same transaction as ``conn``
    try:
        with cursor.copy(f"COPY {table} ({_names(conn, columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def _processors(conn: Connection, table: sa.Table, columns: Sequence[str]) -> list[Any]:
    """Each column type's bind processor (what SQLAlchemy applies to a parameter)."""
    return [table.c[c].type._cached_bind_processor(conn.dialect) for c in columns]


def _quote(conn: Connection, column: str) -> str:
    return conn.dialect.identifier_preparer.quote(column)


def _names(conn: Connection, columns: Sequence[str]) -> str:
    return ", ".join(_quote(conn, c) for c in columns)


def _marker(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _pg_type(conn: Connection, column: sa.Column) -> str:
    return column.type.compile(dialect=conn.dialect)
