"""The fake Central's CSV export: ``GET .../forms/{f}/submissions.csv.zip``.

Laid out as central-backend writes it (``lib/resources/submissions.js`` ``fullzip``/``csv``,
``lib/data/briefcase.js``, ``lib/data/attachments.js``, ``lib/data/client-audits.js``):

- ``{f}.csv``: one row per live submission: ``SubmissionDate``, the answers (group paths
  joined by ``-``, a geopoint split into ``-Latitude/-Longitude/-Altitude/-Accuracy``),
  ``KEY`` (the ``__id``) and the system columns; repeats in ``{f}-{repeat}.csv`` linked by
  ``PARENT_KEY``/``KEY``. An encrypted submission (no passphrase given) has its system
  columns only.
- with ``attachments`` not ``false``: ``media/{name}`` for every present attachment of the
  current versions except the audit log, names flattened (two submissions' ``photo.jpg``
  collide), and ``{f} - audit.csv``: every current version's audit log, ``instance ID`` (the
  submission's ``__id``) then ``event,node,start,end,latitude,longitude,accuracy,old-value,
  new-value,user,change-reason``; other columns are left out, cells are trimmed, blank lines
  skipped; submissions in creation order, but a log's rows in no particular order (Central
  sorts by submission only, and its sort is not stable: here shuffled, seeded by the
  ``__id``); a log expected but not uploaded gives one row with the ``__id`` only. No audit
  rows: no audit file.
- ``$filter`` as the OData one, deleted submissions never included.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from typing import Any

from tests.fake_central.state import FakeForm, FakeSubmission

AUDIT_HEADERS = [
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
]
SYSTEM = [
    "SubmitterID",
    "SubmitterName",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
]


def export_zip(form: FakeForm, subs: list[FakeSubmission], system: Any, attachments: bool) -> bytes:
    """The zip for ``subs`` (live, filtered, oldest first); ``system(sub)`` gives a
    submission's ``__system`` as OData shows it."""
    tables: dict[str, list[dict[str, Any]]] = {form.xml_form_id: []}
    for sub in subs:
        row: dict[str, Any] = {"SubmissionDate": system(sub)["submissionDate"]}
        if not sub.encrypted:
            _flatten(sub.current.data, "", row, tables, form.xml_form_id, sub.central_id)
        row["KEY"] = sub.central_id
        s = system(sub)
        row.update(
            zip(
                SYSTEM,
                [
                    s["submitterId"],
                    s["submitterName"],
                    s["attachmentsPresent"],
                    s["attachmentsExpected"],
                    s["status"],
                    s["reviewState"],
                    s["deviceId"],
                    s["edits"],
                    s["formVersion"],
                ],
                strict=True,
            )
        )
        tables[form.xml_form_id].append(row)
    out = _Stream()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in tables.items():
            archive.writestr(f"{name}.csv", _csv(rows))
        if attachments:
            _attachments(archive, form, subs)
    return out.getvalue()


class _Stream(io.BytesIO):
    """A sink the zip writer cannot seek in, so that it lays the zip out as Central's
    streaming archiver does: sizes and CRC in a data descriptor after each entry."""

    def seekable(self) -> bool:
        return False

    def seek(self, *args: Any) -> int:
        raise OSError("not seekable")

    def tell(self) -> int:
        raise OSError("not seekable")


def _attachments(archive: zipfile.ZipFile, form: FakeForm, subs: list[FakeSubmission]) -> None:
    audit_rows: list[list[str]] = []
    for sub in subs:
        if sub.encrypted:
            continue  # no passphrase: neither its files nor its audit log
        audit_name = (sub.current.data.get("meta") or {}).get("audit")
        for name, content in sorted(sub.attachments.items()):
            if name == audit_name and content is None:
                audit_rows.append([sub.central_id, *([""] * len(AUDIT_HEADERS))])
            if content is None:
                continue
            if name == audit_name:
                events = _audit_events(content)
                random.Random(sub.central_id).shuffle(events)
                audit_rows.extend([sub.central_id, *r] for r in events)
            else:
                archive.writestr(f"media/{name}", content)
    if audit_rows:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["instance ID", *AUDIT_HEADERS])
        writer.writerows(audit_rows)
        archive.writestr(f"{form.xml_form_id} - audit.csv", buffer.getvalue())


def _audit_events(content: bytes) -> list[list[str]]:
    """An audit log's rows in the export's columns, cells trimmed (csv-parse ``trim``)."""
    rows = [r for r in csv.reader(io.StringIO(content.decode("utf-8-sig"))) if any(r)]
    if not rows:
        return []
    names = [h.strip() for h in rows[0]]
    out = []
    for row in rows[1:]:
        cells = dict(zip(names, (c.strip() for c in row), strict=False))
        out.append([cells.get(h, "") for h in AUDIT_HEADERS])
    return out


def _flatten(
    node: dict[str, Any],
    prefix: str,
    row: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]],
    table: str,
    key: str,
) -> None:
    for name, value in node.items():
        column = f"{prefix}{name}"
        if isinstance(value, list):  # a repeat: its own table, rows keyed below ours
            child = f"{table}-{name}"
            for n, item in enumerate(value, start=1):
                item_key = f"{key}/{name}[{n}]"
                sub_row: dict[str, Any] = {}
                _flatten(item, "", sub_row, tables, child, item_key)
                sub_row.update({"PARENT_KEY": key, "KEY": item_key})
                tables.setdefault(child, []).append(sub_row)
        elif isinstance(value, dict) and value.get("type") == "Point":
            lon, lat, *rest = value["coordinates"] + [None]
            accuracy = (value.get("properties") or {}).get("accuracy")
            for part, number in zip(
                ("Latitude", "Longitude", "Altitude", "Accuracy"),
                (lat, lon, rest[0], accuracy),
                strict=True,
            ):
                row[f"{column}-{part}"] = number
        elif isinstance(value, dict):
            _flatten(value, f"{column}-", row, tables, table, key)
        else:
            row[column] = value


def _csv(rows: list[dict[str, Any]]) -> str:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return buffer.getvalue()
