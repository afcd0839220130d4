"""Reading OData submission records (as Central's ``.svc/Submissions?$expand=*`` gives them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

NAVIGATION_SUFFIX = "@odata.navigationLink"


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``...Z`` or with offset) as an aware UTC datetime, else None."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A datetime read back from the store as aware UTC (SQLite returns naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def odata_time(value: datetime) -> str:
    """``2026-01-02T03:04:05.678Z``: how Central writes and parses timestamps."""
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def instance_id_of(record: Mapping[str, Any]) -> str:
    """The current ``meta/instanceID`` of a record (``__id`` when meta is absent)."""
    meta = record.get("meta")
    if isinstance(meta, Mapping) and meta.get("instanceID"):
        return str(meta["instanceID"])
    return str(record["__id"])


def latest_time(record: Mapping[str, Any]) -> datetime | None:
    """The later of ``__system/submissionDate`` and ``__system/updatedAt``."""
    system = record.get("__system") or {}
    times = [
        t
        for t in (parse_time(system.get("submissionDate")), parse_time(system.get("updatedAt")))
        if t is not None
    ]
    return max(times) if times else None


def repeat_rows(record: Mapping[str, Any]) -> list[tuple[str, str, str, int, dict]]:
    """Every repeat row of an expanded record: ``(table, row id, parent id, ordinal, fields)``.

    ``table`` is Central's OData table name (``Submissions.member.birth``: groups included);
    ``fields`` holds the row's own values (its groups nested, its sub-repeats and navigation
    links left out).
    """
    out: list[tuple[str, str, str, int, dict]] = []
    _walk(record, "Submissions", str(record["__id"]), out)
    return out


def _walk(node: Mapping[str, Any], table: str, parent_id: str, out: list) -> None:
    # The hot loop of storing a page: plain type checks, one pass over each row's keys.
    for key, value in node.items():
        kind = type(value)
        if kind is list:
            if value and type(value[0]) is dict and key[0] != "_":
                _rows(value, f"{table}.{key}", parent_id, key, out)
        elif kind is dict and key[0] != "_" and "coordinates" not in value:
            _walk(value, f"{table}.{key}", parent_id, out)


def _rows(rows: list, table: str, parent_id: str, key: str, out: list) -> None:
    for ordinal, row in enumerate(rows, start=1):
        row_id = str(row.get("__id") or f"{parent_id}/{key}[{ordinal}]")
        fields: dict[str, Any] = {}
        nested = False
        for name, value in row.items():
            kind = type(value)
            if kind is list:  # a sub-repeat (possibly empty): rows of its own table
                nested = nested or bool(value)
                continue
            if kind is dict and "coordinates" not in value:
                nested = True
                value = own_fields(value)
            elif "@" in name:
                continue
            fields[name] = value
        out.append((table, row_id, parent_id, ordinal, fields))
        if nested:
            _walk(row, table, row_id, out)


def own_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A repeat row without its nested repeats and navigation links."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key.endswith(NAVIGATION_SUFFIX):
            continue
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            continue
        if isinstance(value, Mapping) and not _is_geojson(value):
            out[key] = own_fields(value)
        else:
            out[key] = value
    return out


def _is_geojson(value: Mapping[str, Any]) -> bool:
    return "type" in value and "coordinates" in value
