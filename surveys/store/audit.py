"""Parse ODK audit logs (``audit.csv``) into event records.

Columns: ``event,node,start,end`` then optionally ``latitude,longitude,accuracy`` (location
tracking), ``old-value,new-value`` (track changes), ``user`` and ``change-reason``. Times are
milliseconds since the epoch. A malformed line becomes an :class:`forms.Issue`, never an
exception, and the rest of the log is kept.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

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


@dataclass(frozen=True)
class AuditEvent:
    """One audit-log line."""

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
    events: list[AuditEvent] = []
    issues: list[Issue] = []
    for line_no, row in enumerate(rows, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        values = dict(zip(columns, row, strict=False))
        try:
            events.append(_event(len(events), values))
        except ValueError as err:
            issues.append(_issue(f"audit.csv line {line_no}: {err}", instance_id))
    return events, issues


def _event(seq: int, values: dict[str, str]) -> AuditEvent:
    return AuditEvent(
        seq=seq,
        event=values.get("event", "").strip(),
        node=values.get("node") or None,
        start_ms=_int(values.get("start"), "start"),
        end_ms=_int(values.get("end"), "end"),
        latitude=_float(values.get("latitude"), "latitude"),
        longitude=_float(values.get("longitude"), "longitude"),
        accuracy=_float(values.get("accuracy"), "accuracy"),
        old_value=values.get("old-value") or None,
        new_value=values.get("new-value") or None,
        user=values.get("user") or None,
        change_reason=values.get("change-reason") or None,
    )


def _int(text: str | None, column: str) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        return int(float(text))
    except ValueError:
        raise ValueError(f"column '{column}' is not a time in ms: {text!r}") from None


def _float(text: str | None, column: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"column '{column}' is not a number: {text!r}") from None


def _issue(message: str, instance_id: str | None) -> Issue:
    return Issue(code="A001", severity=Severity.WARNING, message=message, instance_id=instance_id)
