"""Parse ODK audit logs (``audit.csv``) into event records.

Columns: ``event,node,start,end`` then optionally ``latitude,longitude,accuracy`` (location
tracking), ``old-value,new-value`` (track changes), ``user`` and ``change-reason``. Times are
milliseconds since the epoch. A malformed line becomes an :class:`forms.Issue`, never an
exception, and the rest of the log is kept.
"""

from __future__ import annotations

import csv
import io
from operator import itemgetter
from typing import NamedTuple

from forms.issues import Issue, Severity

KNOWN_COLUMNS = (
    "event",
    "node",
    "start",
    "end",
    "latitude",
    "longitude",
    "accuracy",
    "old-value",
    "new-value",
    "user",
    "change-reason",
)


class AuditEvent(NamedTuple):
    """One audit-log line (a tuple in the store's column order, so that thousands of logs
    go to the bulk writers without a conversion per event)."""

    seq: int
    event: str
    node: str | None
    start_ms: int | None
    end_ms: int | None
    latitude: float | None = None
    longitude: float | None = None
    accuracy: float | None = None
    old_value: str | None = None
    new_value: str | None = None
    user: str | None = None
    change_reason: str | None = None


def parse_audit_csv(
    data: bytes | str, *, instance_id: str | None = None
) -> tuple[list[AuditEvent], list[Issue]]:
    """Events of an audit log, and an Issue per line that cannot be read."""
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None:
        return [], []
    columns = [h.strip().lower() for h in header]
    if not columns or columns[0] != "event":
        return [], [_issue(f"audit log header is not 'event,...': {header[:4]}", instance_id)]
    named = list(dict.fromkeys(columns))
    twice = len(named) < len(columns)  # a column named twice: its last cell counts
    events: list[AuditEvent] = []
    issues: list[Issue] = []
    width = len(named)
    cells = itemgetter(*(named.index(c) if c in named else width for c in KNOWN_COLUMNS))
    for line_no, row in enumerate(rows, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if twice:
            values = dict(zip(columns, row, strict=False))
            row = [values.get(c) for c in named]
        elif len(row) != width:
            row = (row + [None] * width)[:width]
        row.append(None)  # the cell of a column the log does not have
        event, node, start, end, lat, lon, acc, old, new, user, reason = cells(row)
        try:
            events.append(
                AuditEvent(
                    len(events),
                    (event or "").strip(),
                    node or None,
                    _int(start, "start"),
                    _int(end, "end"),
                    _float(lat, "latitude"),
                    _float(lon, "longitude"),
                    _float(acc, "accuracy"),
                    old or None,
                    new or None,
                    user or None,
                    reason or None,
                )
            )
        except ValueError as err:
            issues.append(_issue(f"audit.csv line {line_no}: {err}", instance_id))
    return events, issues


_EXACT = 2**53
"""Integers below this survive the float round trip the parser has always made
(``int(float(text))``), so the direct ``int(text)`` gives the same value."""


def _int(text: str | None, column: str) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
        if -_EXACT < value < _EXACT:
            return value
    except ValueError:
        if not text.strip():
            return None
    try:
        return int(float(text))
    except (ValueError, OverflowError):
        raise ValueError(f"column '{column}' is not a time in ms: {text!r}") from None


def _float(text: str | None, column: str) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        if not text.strip():
            return None
        raise ValueError(f"column '{column}' is not a number: {text!r}") from None


def _issue(message: str, instance_id: str | None) -> Issue:
    return Issue(code="A001", severity=Severity.WARNING, message=message, instance_id=instance_id)
