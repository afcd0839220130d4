"""Simulated answers in the shape ODK Central's OData returns (``.svc/Submissions?$expand=*``).

Groups are nested objects, repeats lists of objects (each row with its ``__id``),
select_multiple one space-separated string, geopoints GeoJSON, integers and decimals JSON
numbers, calculates strings, dates ``YYYY-MM-DD``; every record has ``__id``, ``__system``
and ``meta``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import numpy as np

from forms.model import FormModel, Question
from forms.xpath.values import number_to_string

NUMERIC = frozenset({"integer", "decimal", "range"})


def _convert(q: Question, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        if q.type == "integer":
            return int(value)
        if q.type in NUMERIC:
            return value
        return number_to_string(value)
    if q.type in ("geopoint", "start-geopoint") and isinstance(value, str):
        parts = value.split()
        lat, lon = float(parts[0]), float(parts[1])
        alt = float(parts[2]) if len(parts) > 2 else 0.0
        point: dict[str, Any] = {"type": "Point", "coordinates": [lon, lat, alt]}
        if len(parts) > 3:
            point["properties"] = {"accuracy": float(parts[3])}
        return point
    return value


def _column_values(q: Question, column: np.ndarray) -> list[Any]:
    """A whole column converted to OData values at once."""
    if q.type == "integer":
        return [None if v != v else int(v) for v in column.tolist()]
    if q.type in NUMERIC:
        return [None if v != v else v for v in column.tolist()]
    if q.type in ("geopoint", "start-geopoint"):
        return [_convert(q, v) for v in column.tolist()]
    values = column.tolist()
    if column.dtype == np.float64:
        return [_convert(q, v) for v in values]
    return values


class RecordBuilder:
    """Builds OData records from the filler's frames (see the module docstring)."""

    def __init__(self, form: FormModel, frames: Any, names: Mapping[str, str]) -> None:
        self.form = form
        self.frames = frames
        self.names = names
        self.children: dict[str, list[Question]] = {}
        for element in form.elements:
            self.children.setdefault(element.parent, []).append(element)
        self._columns: dict[str, list[Any]] = {}
        self._rows_by_parent: dict[str, list[list[int]]] = {}

    def _key(self, element: Question) -> str | None:
        if element.repeat is None:
            return None
        owner = self.form.by_xpath(element.repeat)
        return owner.name if owner is not None else None

    def _frame(self, key: str | None) -> Any:
        return self.frames.main if key is None else self.frames.repeats.get(key)

    def _prepare(self) -> None:
        for element in self.form.elements:
            if element.holds_data:
                frame = self._frame(self._key(element))
                if frame is None:
                    continue
                name = self.names[element.xpath]
                self._columns[element.xpath] = _column_values(element, frame.columns[name])
        for repeat in self.form.repeats:
            frame = self.frames.repeats.get(repeat.name)
            parent = self._frame(self._parent_key(repeat))
            groups: list[list[int]] = [[] for _ in range(parent.n if parent is not None else 0)]
            if frame is not None:
                for row, owner in enumerate(frame.parent.tolist()):
                    groups[owner].append(row)
            self._rows_by_parent[repeat.name] = groups

    def _parent_key(self, repeat: Question) -> str | None:
        if len(repeat.repeats) < 2:
            return None
        owner = self.form.by_xpath(repeat.repeats[-2])
        return owner.name if owner is not None else None

    def build_all(self) -> list[dict[str, Any]]:
        """Every record's answers (no ``__system`` yet; :func:`central_record` adds the
        ids, links and Central's layout).

        Built column-wise: each group's dicts come from zipping its columns, each repeat's
        rows are grouped under their parent row."""
        return self._container(f"/{self.form.root}", None)

    def _container(self, xpath: str, key: str | None) -> list[dict[str, Any]]:
        frame = self._frame(key)
        names: list[str] = []
        columns: list[list[Any]] = []
        for element in self.children.get(xpath, ()):
            if element.is_repeat:
                columns.append(self._repeat_items(element, key))
            elif element.is_group:
                columns.append(self._container(element.xpath, key))
            elif element.holds_data:
                columns.append(_column_values(element, frame.columns[self.names[element.xpath]]))
            else:
                continue
            names.append(element.name)
        if not columns:
            return [{} for _ in range(frame.n)]
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]

    def _repeat_items(self, repeat: Question, parent_key: str | None) -> list[list[dict]]:
        parent = self._frame(parent_key)
        out: list[list[dict[str, Any]]] = [[] for _ in range(parent.n)]
        frame = self.frames.repeats.get(repeat.name)
        if frame is None:
            return out
        items = self._container(repeat.xpath, repeat.name)
        for owner, item in zip(frame.parent.tolist(), items, strict=True):
            out[owner].append(item)
        return out

    def build_one(self, record: int) -> dict[str, Any]:
        """One record's answers so far (for the interpreter fallback)."""
        self._one = True
        return self._fill(f"/{self.form.root}", record)

    _one = False

    def _value(self, element: Question, row: int) -> Any:
        if not self._one:
            column = self._columns.get(element.xpath)
            return column[row] if column is not None else None
        frame = self._frame(self._key(element))
        if frame is None:
            return None
        return _convert(element, frame.columns[self.names[element.xpath]][row])

    def _child_rows(self, repeat: Question, row: int) -> list[int]:
        if not self._one:
            rows = self._rows_by_parent.get(repeat.name)
            return rows[row] if rows else []
        frame = self.frames.repeats.get(repeat.name)
        return [] if frame is None else np.flatnonzero(frame.parent == row).tolist()

    def _fill(self, xpath: str, row: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for element in self.children.get(xpath, ()):
            if element.is_repeat:
                rows = self._child_rows(element, row)
                out[element.name] = [self._fill(element.xpath, child) for child in rows]
            elif element.is_group:
                out[element.name] = self._fill(element.xpath, row)
            elif element.holds_data:
                out[element.name] = self._value(element, row)
        return out


def central_record(form: FormModel, record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` as Central's OData shows it with ``$expand=*``, key order included.

    Central (lib/data/odata.js) writes each container's schema fields first (nulls and
    notes included, groups nested), then at the root ``meta`` (pyxform's last group, the audit
    log's file name in ``meta/audit``), ``__id`` and ``__system``; repeats come after, as a
    ``name@odata.navigationLink`` and the list of rows (each its fields, then ``__id``, then
    its own repeats), and a repeat without rows is left out. Row ids are SHA-1 hashes of
    ``Submissions#<instanceID>%%group#%%repeat#<0-based row>...``."""
    children: dict[str, list[Question]] = {}
    for element in form.elements:
        children.setdefault(element.parent, []).append(element)
    shaper = _Shaper(children, str(record["__id"]))
    root = f"/{form.root}"
    out = shaper.fields(root, record, [], [], with_repeats=False)
    audit = out.pop("audit", None) if "audit" in form else None
    out["meta"] = _meta(form, record.get("meta") or {}, audit)
    out["__id"] = record["__id"]
    out["__system"] = record["__system"]
    shaper.repeats(root, record, [], [], out)
    return out


def _meta(form: FormModel, meta: Mapping[str, Any], audit: Any) -> dict[str, Any]:
    """``meta`` in pyxform's order: audit, instanceID, instanceName."""
    out: dict[str, Any] = {}
    if "audit" in form:
        out["audit"] = meta.get("audit", audit)
    out["instanceID"] = meta.get("instanceID")
    if form.instance_name or meta.get("instanceName") is not None:
        out["instanceName"] = meta.get("instanceName")
    out.update({k: v for k, v in meta.items() if k not in out})
    return out


class _Shaper:
    """Walks one record along the form, as Central's OData writer walks the XML.

    ``parts`` are the hash parts of the container (``group#``, ``repeat#<row>``),
    ``links`` its navigation-link segments (``group``, ``repeat('<row id>')``)."""

    def __init__(self, children: Mapping[str, list[Question]], instance_id: str) -> None:
        self.children = children
        self.instance_id = instance_id

    def fields(
        self, xpath: str, data: Any, parts: list[str], links: list[str], *, with_repeats: bool
    ) -> dict[str, Any]:
        """A container's data frame (fields, groups), then its repeats if asked."""
        data = data if isinstance(data, Mapping) else {}
        out: dict[str, Any] = {}
        for element in self.children.get(xpath, ()):
            if element.is_repeat:
                continue
            if element.is_group:
                out[element.name] = self.fields(
                    element.xpath,
                    data.get(element.name),
                    [*parts, f"{element.name}#"],
                    [*links, element.name],
                    with_repeats=True,
                )
            elif not element.is_structure:  # notes too: Central shows them, as null
                out[element.name] = data.get(element.name)
        if with_repeats:
            self.repeats(xpath, data, parts, links, out)
        return out

    def repeats(
        self, xpath: str, data: Any, parts: list[str], links: list[str], out: dict[str, Any]
    ) -> None:
        """Add the repeats of a container (with rows) to ``out``: link, then rows."""
        data = data if isinstance(data, Mapping) else {}
        for element in self.children.get(xpath, ()):
            items = data.get(element.name) if element.is_repeat else None
            if not items:
                continue
            head = f"Submissions('{quote(self.instance_id, safe=URI_SAFE)}')"
            out[f"{element.name}@odata.navigationLink"] = "/".join([head, *links, element.name])
            rows = []
            for index, item in enumerate(items):
                here = [*parts, f"{element.name}#{index}"]
                row_id = self._hash(here)
                inner = [*links, f"{element.name}('{row_id}')"]
                row = self.fields(element.xpath, item, here, inner, with_repeats=False)
                row["__id"] = row_id
                self.repeats(element.xpath, item, here, inner, row)
                rows.append(row)
            out[element.name] = rows

    def _hash(self, parts: list[str]) -> str:
        text = "%%".join([f"Submissions#{self.instance_id}", *parts])
        return hashlib.sha1(text.encode()).hexdigest()


URI_SAFE = "!'()*-._~"
"""What JavaScript's encodeURIComponent leaves as is."""


def system_block(
    *,
    submission_date: str,
    submitter_id: str,
    submitter_name: str,
    device_id: str,
    form_version: str | None,
    audit: bool,
) -> dict[str, Any]:
    """Central's ``__system`` object for a fresh submission (its key order; ``updatedAt``
    stays null until the submission is edited or reviewed, as in Central)."""
    expected = 1 if audit else 0
    return {
        "submissionDate": submission_date,
        "updatedAt": None,
        "submitterId": submitter_id,
        "submitterName": submitter_name,
        "attachmentsPresent": expected,
        "attachmentsExpected": expected,
        "status": None,
        "reviewState": None,
        "deviceId": device_id,
        "edits": 0,
        "formVersion": form_version or "",
        "deletedAt": None,
    }
