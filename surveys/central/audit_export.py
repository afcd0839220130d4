"""Audit logs in bulk: one request for Central's CSV export instead of two per submission.

With ``attachments=true`` Central's export zip (``.../submissions.csv.zip``) holds every
current submission version's audit log in ONE CSV, ``<formId> - audit.csv``: an
``instance ID`` column (the submission's ``__id``) and then
``event,node,start,end,latitude,longitude,accuracy,old-value,new-value,user,change-reason``
(docs/CENTRAL.md says what it holds, measured on a real Central). A pull that needs many
audit logs downloads it once, filtered to the pull's window, and takes each submission's log
from it; what the export does not cover goes through the per-submission requests as before.

The export is a snapshot taken before any OData page of the pull is fetched (its body
downloads in a thread while the pages are fetched and stored). A submission whose
``submissionDate`` and ``updatedAt`` are both older than the snapshot (less a margin for
transactions still open at that moment) is in the same version on the page as in the export,
since every edit and review moves ``updatedAt``; anything newer is fetched per submission.
The log taken from the export is rebuilt by :func:`surveys.importers.csv_zip.rebuild_audit_log`
(its rows back in Collect's order, ``\\n`` line ends, quoted only where needed), which is the
uploaded file byte for byte when Collect wrote that layout (location tracking and
track-changes on, as lint rule L105 asks). Two things in a real export are not the log: the
one empty row of a log expected but never uploaded (skipped), and a log whose events Central
parsed twice (its worker can, when two events name the same attachment: every row comes
twice); a log with a repeated row is downloaded instead, and so is a log whose
rows' order cannot be told (see :func:`surveys.importers.csv_zip.rebuild_audit_log`).
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from forms.model import FormModel
from surveys.central.client import CentralClient
from surveys.central.errors import CentralError
from surveys.importers.csv_zip import AUDIT_ID_COLUMNS, rebuild_audit_log
from surveys.store.records import latest_time

AUDIT_FILE = "audit.csv"
EXPORT_MARGIN = timedelta(minutes=2)
"""Submissions touched this close to the export's snapshot are fetched one by one: an edit
committed just after the snapshot may carry an ``updatedAt`` from just before it."""
LOST_BY_EXPORT = {"identify-user": "true", "track-changes-reasons": "on-form-edit"}
"""Audit parameters that make Collect write the ``user`` / ``change-reason`` columns: the
export has them, but cannot tell an always-empty column Collect wrote from one it did not,
so versions using them keep the per-submission download (the file stays byte for byte)."""


@dataclass
class AuditExport:
    """The combined audit CSV of one export, indexed by ``__id`` (byte ranges in a temporary
    file, so that 200,000 logs cost little memory)."""

    path: Path
    taken_at: datetime
    """The server's clock when it answered the export request."""
    header: list[str]
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    margin: timedelta = EXPORT_MARGIN
    rows: int = 0
    _handle: BinaryIO | None = None

    def covers(self, record: Mapping[str, Any], model: FormModel | None = None) -> bool:
        """Whether the export holds this record's audit log exactly (see
        :func:`may_come_from_export`) and has rows for it."""
        return may_come_from_export(record, model, self.taken_at, self.margin) and self.has(
            str(record.get("__id"))
        )

    def has(self, central_id: str) -> bool:
        """Whether the export has audit rows for the submission ``central_id``."""
        return central_id in self.spans

    def audit_csv(self, central_id: str) -> bytes | None:
        """The submission's audit log rebuilt from the export's rows; None when the order of
        its rows cannot be told (two different events at the same moment that Collect's
        order does not rank): that log is to be downloaded."""
        if self._handle is None:
            self._handle = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        chunks = []
        for start, end in self.spans[central_id]:
            self._handle.seek(start)
            chunks.append(self._handle.read(end - start))
        rows = csv.reader(io.StringIO(b"".join(chunks).decode("utf-8")))
        content, certain = rebuild_audit_log(self.header[1:], (row[1:] for row in rows))
        return content if certain else None

    def close(self) -> None:
        """Remove the temporary file."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        shutil.rmtree(self.path.parent, ignore_errors=True)


def may_come_from_export(
    record: Mapping[str, Any],
    model: FormModel | None,
    taken_at: datetime | None,
    margin: timedelta = EXPORT_MARGIN,
) -> bool:
    """Whether an export taken at ``taken_at`` holds this record's audit log exactly, if it
    has one for it: the record names an ``audit.csv`` under ``meta``, did not change since
    the snapshot, and its form version has no column the export cannot rebuild."""
    meta = record.get("meta")
    if taken_at is None or not isinstance(meta, Mapping) or meta.get("audit") != AUDIT_FILE:
        return False
    touched = latest_time(record)
    if touched is None or touched >= taken_at - margin:
        return False
    return exports_whole_audit(model)


class ExportDownload:
    """Central's export downloading in a thread of its own (on a client of its own). The
    constructor returns once Central has answered (the snapshot is taken), so that pages
    fetched afterwards are newer than it; :meth:`result` waits for the whole download."""

    def __init__(
        self,
        client: CentralClient,
        form_id: str,
        filter: str | None,
        margin: timedelta = EXPORT_MARGIN,
    ) -> None:
        self.margin = margin
        self.taken_at: datetime | None = None
        self.seconds: float | None = None
        """How long the download and indexing took (set when done)."""
        self._answered = threading.Event()
        self._lock = threading.Lock()
        self._discarded = False
        self._export: AuditExport | None = None
        self._client = client.clone()
        self._thread = threading.Thread(
            target=self._run, args=(form_id, filter), name="central-export", daemon=True
        )
        self._thread.start()
        self._answered.wait()

    def _run(self, form_id: str, filter: str | None) -> None:
        def answered(at: datetime | None) -> None:
            self.taken_at = at
            self._answered.set()

        started = time.monotonic()
        try:
            self._export = fetch_audit_export(
                self._client, form_id, filter, self.margin, on_start=answered
            )
        finally:
            self.seconds = time.monotonic() - started
            if self._export is None:
                self.taken_at = None  # nothing will come from it
            self._answered.set()
            self._client.close()
            with self._lock:
                if self._discarded and self._export is not None:
                    self._export.close()

    def may_cover(self, record: Mapping[str, Any], model: FormModel | None) -> bool:
        """Whether the record's audit log is to be taken from this export (if it has it)."""
        return may_come_from_export(record, model, self.taken_at, self.margin)

    def finished(self) -> bool:
        """Whether the download is over (:meth:`result` will not wait)."""
        return not self._thread.is_alive()

    def result(self) -> AuditExport | None:
        """The indexed export once downloaded; None when Central did not give it."""
        self._thread.join()
        return self._export

    def discard(self) -> None:
        """Remove the export's files, now or (still downloading) once it is done; a pull
        that fails does not wait for it."""
        with self._lock:
            self._discarded = True
            if not self._thread.is_alive() and self._export is not None:
                self._export.close()


def exports_whole_audit(model: FormModel | None) -> bool:
    """False when the form's audit question asks Collect for the ``user`` or
    ``change-reason`` column (``identify-user``, ``track-changes-reasons``), whose file the
    export's rows cannot rebuild byte for byte; True without a model."""
    if model is None:
        return True
    for question in model.elements:
        if question.type == "audit":
            return not any(question.parameters.get(k) == v for k, v in LOST_BY_EXPORT.items())
    return True


def fetch_audit_export(
    client: CentralClient,
    form_id: str,
    filter: str | None,
    margin: timedelta = EXPORT_MARGIN,
    *,
    on_start: Callable[[datetime | None], None] | None = None,
) -> AuditExport | None:
    """Download the form's export with attachments (filtered by ``filter``) and index its
    combined audit CSV. None when Central cannot give it (an old Central, an error, a
    broken zip, no ``Date``): the caller then downloads each log."""
    folder = Path(tempfile.mkdtemp(prefix="popsurvey-export-"))
    target = folder / "audit.csv"
    try:
        with tempfile.TemporaryFile(dir=folder) as archive:
            taken_at = client.submissions.export(form_id, archive, filter=filter, on_start=on_start)
            if taken_at is None:
                raise CentralError("no Date header")
            archive.seek(0)
            header = _extract_audit_csv(archive, form_id, target)
        export = AuditExport(target, taken_at, header or ["instance ID"], margin=margin)
        if header:
            _index(export)
        return export
    except (CentralError, zipfile.BadZipFile, OSError, UnicodeDecodeError, csv.Error):
        shutil.rmtree(folder, ignore_errors=True)
        return None


def _extract_audit_csv(archive: BinaryIO, form_id: str, target: Path) -> list[str] | None:
    """Copy ``<formId> - audit.csv`` out of the zip; its header, or None when absent."""
    with zipfile.ZipFile(archive) as zipped:
        names = [n for n in zipped.namelist() if "/" not in n and n.endswith(" - audit.csv")]
        name = f"{form_id} - audit.csv" if f"{form_id} - audit.csv" in names else None
        if name is None and len(names) == 1:  # Central sanitises odd form ids
            name = names[0]
        if name is None:
            return None
        with zipped.open(name) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
    with open(target, encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), None)
    if not header or header[0] not in AUDIT_ID_COLUMNS:
        return None
    return header


def _index(export: AuditExport) -> None:
    """Byte ranges of each ``__id``'s rows (Central writes a submission's rows together)."""
    with open(export.path, "rb") as handle:
        position = 0

        def lines() -> Iterator[str]:
            nonlocal position
            for line in handle:
                position += len(line)
                yield line.decode("utf-8-sig" if position == len(line) else "utf-8")

        reader = csv.reader(lines())
        next(reader, None)  # header
        start = position
        last: str | None = None
        seen: set[tuple[str, ...]] = set()
        doubled: set[str] = set()
        for row in reader:
            end = position  # the reader has consumed exactly this row's lines
            if not row or not any(row[1:]):
                start = end  # a blank line, or the empty row of a log never uploaded
                continue
            central_id = row[0]
            if central_id != last:
                seen.clear()
            if tuple(row) in seen:
                doubled.add(central_id)
            seen.add(tuple(row))
            spans = export.spans.setdefault(central_id, [])
            if central_id == last and spans:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
            last = central_id
            start = end
            export.rows += 1
        for central_id in doubled:
            del export.spans[central_id]
