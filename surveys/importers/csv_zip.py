"""Import Central's CSV export zip: ``<formId>.csv`` and one CSV per repeat
(``<formId>-<repeat>.csv``) linked by ``KEY`` / ``PARENT_KEY``, audits as ``<formId> - audit.csv``
when Central included them. Columns are group paths joined by ``-``; geopoints come split into
``-Latitude/-Longitude/-Altitude/-Accuracy``. Records are rebuilt in OData shape so every later
stage reads them like pulled ones.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from forms.archives import check_zip
from forms.issues import Issue, Severity
from forms.model import FormModel
from surveys.importers.common import ImportResult, import_records
from surveys.importers.errors import ImportFormatError
from surveys.importers.values import geojson_point, typed
from surveys.store import Store

SYSTEM_COLUMNS = {
    "SubmissionDate": "submissionDate",
    "SubmitterID": "submitterId",
    "SubmitterName": "submitterName",
    "AttachmentsPresent": "attachmentsPresent",
    "AttachmentsExpected": "attachmentsExpected",
    "Status": "status",
    "ReviewState": "reviewState",
    "DeviceID": "deviceId",
    "Edits": "edits",
    "FormVersion": "formVersion",
}
GEO_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")
AUDIT_ID_COLUMNS = ("instance ID", "instanceID")
"""The first column of Central's combined audit CSV (``instance ID``, the submission's
``__id``, as Briefcase names it)."""


def import_csv_zip(
    store: Store,
    path: Path,
    form_id: str | None = None,
    model: FormModel | None = None,
    *,
    progress: Callable[[int, int | None], None] | None = None,
) -> ImportResult:
    """Import a Central CSV export zip into ``store`` (``progress(done, total)`` after each
    batch of submissions)."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise ImportFormatError(f"{path}: not a zip file ({err})") from None
    with archive:
        check_zip(archive, str(path))
        tables = {Path(n).name: n for n in archive.namelist() if n.lower().endswith(".csv")}
        form_id = form_id or (model.form_id if model else None) or _guess_form(tables, path)
        main = tables.get(f"{form_id}.csv")
        if main is None:
            raise ImportFormatError(f"{path}: no {form_id}.csv in the zip")
        rows = {
            name: _read_csv(archive, member, path)
            for name, member in tables.items()
            if name.endswith(".csv")
        }
        audits = _audits(rows.pop(f"{form_id} - audit.csv", None))
        builder = _Builder(form_id, model, rows)
        records = list(builder.records(path))
        unread = builder.unread_rows(path)
    result = import_records(
        store,
        form_id,
        records,
        "import:csv",
        model=model,
        audit_for=lambda iid: audits.get(iid),
        progress=progress,
        total=len(records),
    )
    result.issues.extend(unread)
    return result


def _guess_form(tables: dict[str, str], path: Path) -> str:
    mains = [n[:-4] for n in tables if "-" not in n[:-4] and " " not in n[:-4]]
    if len(mains) != 1:
        raise ImportFormatError(f"{path}: cannot tell the main CSV; give the form id")
    return mains[0]


def _read_csv(archive: zipfile.ZipFile, member: str, path: Path) -> list[dict[str, str]]:
    try:
        text = archive.read(member).decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ImportFormatError(f"{path}:{member}: not UTF-8 ({err})") from None
    return list(csv.DictReader(io.StringIO(text)))


def _audits(rows: list[dict[str, str]] | None) -> dict[str, bytes]:
    """Central's combined audit CSV (``instance ID`` column first) split per submission."""
    if not rows:
        return {}
    by_instance: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_instance[row.get("instance ID") or row.get("instanceID") or ""].append(row)
    out = {}
    for instance, lines in by_instance.items():
        columns = [c for c in lines[0] if c not in AUDIT_ID_COLUMNS]
        content = audit_log_csv(columns, ([line.get(c) for c in columns] for line in lines))
        if content is not None:
            out[instance] = content
    return out


OPTIONAL_AUDIT_COLUMNS = ("user", "change-reason")
"""Columns Central's export always has (``lib/data/client-audits.js`` ``headers``) but
Collect writes only with ``identify-user`` / ``track-changes-reasons``."""


def audit_log_csv(columns: list[str], rows: Iterable[list[str | None]]) -> bytes | None:
    """One submission's audit.csv rebuilt from its rows of Central's combined audit CSV (the
    ``instance ID`` column taken off): see :func:`rebuild_audit_log`. None when no row has
    an event (Central writes one empty row for a log that was expected but never uploaded)."""
    return rebuild_audit_log(columns, rows)[0]


def rebuild_audit_log(
    columns: list[str], rows: Iterable[list[str | None]]
) -> tuple[bytes | None, bool]:
    """One submission's audit.csv rebuilt from its rows of Central's combined audit CSV,
    laid out as Collect writes it: a header, commas, ``\\n`` line ends, quotes only where a
    cell needs them; ``user`` and ``change-reason`` only when a row fills them; and whether
    the order of its rows is certain.

    Central's query orders the rows by submission only (its sort is not stable), so a log's
    rows come in no particular order: they are put back in the order Collect writes them,
    each event when it ends (an event without an end when it starts), by start on a tie,
    and ``form save``, ``form exit``, ``form finalize`` in that order at the same moment.
    Two different rows still tied after that leave the order uncertain."""
    table = [["" if cell is None else cell for cell in row] for row in rows]
    table = [row for row in table if any(row)]
    if not table:
        return None, True
    keep = [
        i
        for i, name in enumerate(columns)
        if name not in OPTIONAL_AUDIT_COLUMNS or any(i < len(r) and r[i] for r in table)
    ]
    if len(keep) < len(columns):
        columns = [columns[i] for i in keep]
        table = [[row[i] if i < len(row) else "" for i in keep] for row in table]
    key = _logged_at(columns)
    keyed = sorted(((key(row), row) for row in table), key=lambda pair: pair[0])
    certain = all(a[0] != b[0] or a[1] == b[1] for a, b in itertools.pairwise(keyed))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(row for _, row in keyed)
    return buffer.getvalue().encode(), certain


CLOSING_EVENTS = {"form save": 1, "form exit": 2, "form finalize": 3}
"""The order in which Collect logs the events of closing a form, all at one moment."""


def _logged_at(columns: list[str]) -> Callable[[list[str]], tuple[int, int, int]]:
    """Sort key of an audit row: when Collect logged it (its end, else its start), then its
    start, then the closing events' order; rows without readable times come first."""
    start = columns.index("start") if "start" in columns else None
    end = columns.index("end") if "end" in columns else None
    event = columns.index("event") if "event" in columns else None

    def millis(row: list[str], i: int | None) -> int | None:
        if i is None or i >= len(row):
            return None
        try:
            return int(row[i])
        except ValueError:
            return None

    def key(row: list[str]) -> tuple[int, int, int]:
        begun = millis(row, start)
        ended = millis(row, end)
        logged = ended if ended is not None else begun
        rank = CLOSING_EVENTS.get(row[event], 0) if event is not None and event < len(row) else 0
        return (-1 if logged is None else logged, -1 if begun is None else begun, rank)

    return key


class _Builder:
    """Rebuilds nested OData records from the flat main and repeat CSVs."""

    def __init__(self, form_id: str, model: FormModel | None, rows: dict[str, list]) -> None:
        self.form_id = form_id
        self.model = model
        self.rows = rows
        self.types = {self._column(q): q for q in model.elements} if model else {}
        self.children: dict[str, dict[str, list[dict[str, str]]]] = {}
        self.unknown: dict[str, int] = {}  # CSV name -> rows: neither main nor a repeat
        self.no_parent_key: dict[str, int] = {}  # repeat CSV name -> rows
        for name, table in rows.items():
            if name == f"{form_id}.csv":
                continue
            repeat = name[len(form_id) + 1 : -4]
            if not name.startswith(f"{form_id}-") or not self._is_repeat(repeat):
                self.unknown[name] = len(table)
                continue
            if table and "PARENT_KEY" not in table[0]:
                self.no_parent_key[name] = len(table)
                continue
            grouped: dict[str, list] = defaultdict(list)
            for row in table:
                grouped[row.get("PARENT_KEY", "")].append(row)
            self.children[repeat] = grouped

    def _is_repeat(self, name: str) -> bool:
        """Whether ``name`` is a repeat of the form (any name when there is no FormModel)."""
        if self.model is None:
            return bool(name)
        return any(r.name == name or r.xpath.endswith(f"/{name}") for r in self.model.repeats)

    def unread_rows(self, path: Path) -> list[Issue]:
        """Warnings for every row not imported: CSVs that are no part of the form, repeat
        CSVs without PARENT_KEY, repeat rows whose PARENT_KEY matches no KEY."""
        issues = []
        for name, count in self.unknown.items():
            issues.append(
                _unread(
                    f"{path}:{name}: {count} row(s) not imported: not the main CSV "
                    f"({self.form_id}.csv) nor one of its repeats"
                )
            )
        for name, count in self.no_parent_key.items():
            issues.append(
                _unread(f"{path}:{name}: {count} repeat row(s) not imported: no PARENT_KEY column")
            )
        keys = {row.get("KEY") for row in self.rows[f"{self.form_id}.csv"]}
        for grouped in self.children.values():
            keys.update(row.get("KEY") for rows in grouped.values() for row in rows)
        for repeat, grouped in self.children.items():
            orphans = [k for k in grouped if k not in keys]
            if orphans:
                count = sum(len(grouped[k]) for k in orphans)
                shown = ", ".join(repr(k) for k in orphans[:3]) + (
                    ", ..." if len(orphans) > 3 else ""
                )
                issues.append(
                    _unread(
                        f"{path}:{self.form_id}-{repeat}.csv: {count} repeat row(s) not "
                        f"imported: their PARENT_KEY ({shown}) is no KEY of the export"
                    )
                )
        return issues

    def _column(self, question: Any) -> str:
        """The CSV column of a question: its path below its repeat (or the root), by ``-``."""
        parent = question.repeats[-1] if question.repeats else f"/{self.model.root}"
        return "-".join(question.xpath[len(parent) + 1 :].split("/"))

    def records(self, path: Path) -> Iterator[dict[str, Any]]:
        for line, row in enumerate(self.rows[f"{self.form_id}.csv"], start=2):
            key = row.get("KEY") or row.get("meta-instanceID")
            if not key:
                raise ImportFormatError(f"{path}:{self.form_id}.csv row {line}: no KEY")
            record = self._nest(row, prefix="")
            record.setdefault("meta", {})["instanceID"] = row.get("meta-instanceID") or key
            self._attach_repeats(record, key, repeat_prefix="")
            record["__id"] = key
            record["__system"] = {
                attr: _system_value(attr, row.get(col))
                for col, attr in SYSTEM_COLUMNS.items()
                if col in row
            }
            yield record

    def _nest(self, row: dict[str, str], prefix: str) -> dict[str, Any]:
        """Columns ``a-b-c`` as nested dicts; geopoint parts folded into GeoJSON."""
        out: dict[str, Any] = {}
        geo: dict[str, dict[str, float | None]] = defaultdict(dict)
        for column, text in row.items():
            if column in SYSTEM_COLUMNS or column in ("KEY", "PARENT_KEY", "meta-instanceID"):
                continue
            if column is None or "/" in column:  # split select_multiple columns: derived
                continue
            base, _, part = column.rpartition("-")
            if part in GEO_PARTS and base:
                geo[base][part] = float(text) if text not in (None, "") else None
                continue
            question = self.types.get(prefix + column)
            value = typed(text, question.type if question else None)
            _put(out, column.split("-"), value)
        for base, parts in geo.items():
            if parts.get("Latitude") is None or parts.get("Longitude") is None:
                _put(out, base.split("-"), None)
            else:
                _put(
                    out,
                    base.split("-"),
                    geojson_point(
                        parts["Latitude"],
                        parts["Longitude"],
                        parts.get("Altitude"),
                        parts.get("Accuracy"),
                    ),
                )
        return out

    def _attach_repeats(self, node: dict[str, Any], key: str, repeat_prefix: str) -> None:
        for repeat, grouped in self.children.items():
            rows = grouped.get(key)
            if not rows:
                continue
            items = []
            for row in rows:
                item = self._nest(row, prefix="")
                item["__id"] = row.get("KEY")
                self._attach_repeats(item, row.get("KEY", ""), repeat)
                items.append(item)
            path = self._repeat_path(repeat)
            _put(node, path, items)

    def _repeat_path(self, repeat: str) -> list[str]:
        """Where a repeat sits relative to its parent (groups between them included)."""
        if self.model is not None:
            rep = self.model.get(repeat)
            if rep is not None:
                parent = rep.repeats[-1] if rep.repeats else f"/{self.model.root}"
                return rep.xpath[len(parent) + 1 :].split("/")
        return [repeat]


UNREAD_ROWS_CODE = "I101"


def _unread(message: str) -> Issue:
    """A warning that rows of the export were not imported (with how many)."""
    return Issue(code=UNREAD_ROWS_CODE, severity=Severity.WARNING, message=message)


def _put(node: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _system_value(attr: str, text: str | None) -> Any:
    if text in (None, ""):
        return 0 if attr == "edits" else None
    if attr in ("attachmentsPresent", "attachmentsExpected", "edits"):
        try:
            return int(text)
        except ValueError:
            return text
    return text
