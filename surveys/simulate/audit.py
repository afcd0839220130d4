"""ODK audit logs (``audit.csv``) for simulated submissions, built column-wise.

Columns as Collect writes them with location tracking and track-changes on:
``event,node,start,end,latitude,longitude,accuracy,old-value,new-value``; times in
milliseconds since the epoch (UTC). Each log has ``form start``, a ``location changed``
event at the dwelling's GPS, one ``question`` event per answered question in form order
(node paths with repeat indices, ``/data/c_roster[2]/c01_name``; a few with an earlier
old value, as track-changes records corrections), then ``form save``, ``form exit`` and
``form finalize``. Question times split the interview's start-to-end duration, so
speeders are short in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

HEADER = "event,node,start,end,latitude,longitude,accuracy,old-value,new-value\n"
SKIP = frozenset({"start", "end", "today", "deviceid", "username", "audit", "calculate"})
CHANGE_RATE = 0.01
"""Share of answers logged as a change of an earlier answer."""


def _quote(text: str) -> str:
    if "," in text or '"' in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _texts(question: Any, values: np.ndarray) -> list[str]:
    if values.dtype == np.float64:
        if question.type == "integer":
            return [str(int(v)) for v in values.tolist()]
        return [repr(v) for v in values.tolist()]
    return [_quote(str(v)) for v in values.tolist()]


def _events(filler: Any) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """(record, order key, node, value text) of every answered question."""
    form = filler.form
    index = {e.xpath: i for i, e in enumerate(form.elements)}
    records, orders, nodes, texts = [], [], [], []
    for i, q in enumerate(form.elements):
        if not q.holds_data or q.type in SKIP or q.calculation:
            continue
        key = filler.frame_key(q)
        frame = filler.frames.frame(key)
        column = frame.columns[filler.names[q.xpath]]
        empty = np.isnan(column) if column.dtype == np.float64 else pd.isna(column)
        rows = np.flatnonzero(~empty)
        if not len(rows):
            continue
        records.append(frame.record[rows])
        texts += _texts(q, column[rows])
        if key is None:
            orders.append(np.full(len(rows), float(i)))
            nodes += [q.xpath] * len(rows)
            continue
        repeat = filler.form[key]
        positions = frame.position[rows]
        start = index[repeat.xpath]
        orders.append(start + (positions * 1000 + (i - start)) / 1e7)
        head, tail = repeat.xpath, q.xpath[len(repeat.xpath) :]
        nodes += [f"{head}[{p}]{tail}" for p in positions.tolist()]
    if not records:
        return np.empty(0, np.int64), np.empty(0), [], []
    return np.concatenate(records), np.concatenate(orders), nodes, texts


def audit_logs(
    filler: Any,
    plan: pd.DataFrame,
    rng: np.random.Generator,
    instance_ids: Sequence[str],
    changes: list[tuple[str, str, str, str]] | None = None,
) -> dict[str, str]:
    """instanceID -> audit.csv text for every submission (``plan`` gives start and end);
    each answer change written into a log is appended to ``changes`` as (instance ID,
    node, old value, new value)."""
    n = filler.frames.main.n
    offset = 8 * 3600 * 1000  # plan times are local (+08:00); audit times are UTC epochs
    starts = plan["start"].astype("int64").to_numpy() // 1_000_000 - offset
    ends = plan["end"].astype("int64").to_numpy() // 1_000_000 - offset
    record, order, nodes, texts = _events(filler)
    sort = np.lexsort((order, record))
    record = record[sort]
    weights = rng.gamma(2.0, 1.0, len(record))
    totals = np.bincount(record, weights=weights, minlength=n)
    counts = np.bincount(record, minlength=n)
    cumulative = np.cumsum(weights)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    before = np.zeros(n)
    has = counts > 0
    before[has] = cumulative[first[has]] - weights[first[has]]  # weight sum before the record
    span = np.maximum(ends - starts - 4000, 1)
    share = (cumulative - before[record]) / np.maximum(totals[record], 1e-9)
    stop = starts[record] + 2000 + np.floor(share * span[record]).astype(np.int64)
    begin = np.concatenate([[0], stop[:-1]])
    begin[first[counts > 0]] = starts[counts > 0] + 2000
    changed = rng.random(len(record)) < CHANGE_RATE
    node_sorted = [nodes[i] for i in sort.tolist()]
    text_sorted = [texts[i] for i in sort.tolist()]
    lines = [
        f"question,{node},{b},{e},,,,{_old(t) if c else ''},{t}\n"
        for node, b, e, t, c in zip(
            node_sorted, begin.tolist(), stop.tolist(), text_sorted, changed.tolist(), strict=True
        )
    ]
    if changes is not None:
        for i in np.flatnonzero(changed).tolist():
            changes.append(
                (instance_ids[record[i]], node_sorted[i], _old(text_sorted[i]), text_sorted[i])
            )
    gps = _gps(filler)
    logs: dict[str, str] = {}
    bounds = np.concatenate([[0], np.cumsum(counts)]).tolist()
    for row in range(n):
        t0, t1 = int(starts[row]), int(ends[row])
        location = gps[row]
        head = f"{HEADER}form start,,{t0},,,,,,\n"
        if location:
            head += f"location changed,,{t0 + 1500},,{location},,\n"
        tail = f"form save,,{t1 - 1000},,,,,,\nform exit,,{t1},,,,,,\nform finalize,,{t1},,,,,,\n"
        logs[instance_ids[row]] = head + "".join(lines[bounds[row] : bounds[row + 1]]) + tail
    return logs


def _old(text: str) -> str:
    try:
        return str(int(text) + 1)
    except ValueError:
        return "1" if text != "1" else "2"


def _gps(filler: Any) -> list[str]:
    """``lat,lon,accuracy`` of the first geopoint outside repeats, per record."""
    for q in filler.form.elements:
        if q.type == "geopoint" and q.repeat is None:
            values = filler.frames.main.columns[filler.names[q.xpath]].tolist()
            out = []
            for value in values:
                parts = str(value).split() if value is not None else []
                out.append(f"{parts[0]},{parts[1]},{parts[3]}" if len(parts) >= 4 else "")
            return out
    return [""] * filler.frames.main.n


def audit_of_record(
    form: Any, record: dict[str, Any], start: int, end: int, rng: np.random.Generator
) -> str:
    """The audit log of one OData record (for records changed after filling, such as a
    fabricator's copies: the log shows the answers the enumerator typed)."""
    children: dict[str, list] = {}
    for element in form.elements:
        children.setdefault(element.parent, []).append(element)
    events: list[tuple[str, str]] = []

    def walk(xpath: str, data: Any, path: str) -> None:
        for element in children.get(xpath, ()):
            value = data.get(element.name) if isinstance(data, dict) else None
            if element.is_repeat:
                for index, item in enumerate(value or (), start=1):
                    walk(element.xpath, item, f"{path}/{element.name}[{index}]")
            elif element.is_group:
                walk(element.xpath, value or {}, f"{path}/{element.name}")
            elif _typed(element) and value is not None:
                events.append((f"{path}/{element.name}", _record_text(value)))

    walk(f"/{form.root}", record, f"/{form.root}")
    lines = [HEADER, f"form start,,{start},,,,,,\n"]
    if events:
        weights = rng.gamma(2.0, 1.0, len(events))
        span = max(end - start - 4000, len(events))
        cuts = start + 2000 + np.floor(np.cumsum(weights) / weights.sum() * span).astype(np.int64)
        begin = start + 2000
        for (node, text), stop in zip(events, cuts.tolist(), strict=True):
            lines.append(f"question,{node},{begin},{stop},,,,,{text}\n")
            begin = stop
    lines.append(f"form save,,{end - 1000},,,,,,\nform exit,,{end},,,,,,\n")
    lines.append(f"form finalize,,{end},,,,,,\n")
    return "".join(lines)


def _record_text(value: Any) -> str:
    if isinstance(value, dict):
        lon, lat, *rest = value.get("coordinates", [0, 0])
        accuracy = (value.get("properties") or {}).get("accuracy", "")
        return f"{lat} {lon} {rest[0] if rest else 0} {accuracy}"
    return _quote(str(value))


def _typed(element: Any) -> bool:
    """Questions the enumerator answers (not metadata, not calculated)."""
    return element.holds_data and element.type not in SKIP and not element.calculation
