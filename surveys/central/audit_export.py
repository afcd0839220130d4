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
import struct
import tempfile
import threading
import time
import zipfile
import zlib
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
    complete: set[str] = field(default_factory=set)
    """``__id``s whose rows have all arrived (the next submission's rows began): their log
    can be taken while the rest of the export still downloads."""
    redo: set[str] = field(default_factory=set)
    """``__id``s found complete that turned out not to be (rows again later, or a stream
    that could not be checked): a log taken from them early is to be taken again."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
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

    def arrived(self, central_id: str) -> bool:
        """Whether all the rows of ``central_id`` have arrived (export still downloading)."""
        return central_id in self.complete

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
        self._partial: AuditExport | None = None
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
                self._client,
                form_id,
                filter,
                self.margin,
                on_start=answered,
                on_index=lambda export: setattr(self, "_partial", export),
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

    def partial(self) -> AuditExport | None:
        """The export being indexed as it downloads (its :attr:`AuditExport.complete` logs
        can be taken already), or None before its audit CSV begins."""
        return self._partial

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the download to end; whether it has."""
        self._thread.join(seconds)
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
    on_index: Callable[[AuditExport], None] | None = None,
) -> AuditExport | None:
    """Download the form's export with attachments (filtered by ``filter``) and index its
    combined audit CSV as it streams in (``on_index`` gets the export being indexed, whose
    complete logs can be read before the download ends). None when Central cannot give it
    (an old Central, an error, a broken zip, no ``Date``): the caller then downloads each
    log. When the stream cannot be read as it comes (a zip laid out otherwise), the audit
    CSV is extracted from the whole zip afterwards, as before."""
    folder = Path(tempfile.mkdtemp(prefix="popsurvey-export-"))
    target = folder / "audit.csv"
    export = AuditExport(target, datetime.min, ["instance ID"], margin=margin)
    try:
        with tempfile.TemporaryFile(dir=folder) as archive, open(target, "wb") as sink:
            indexer = _Indexer(export, sink)
            tap = _ZipTap(form_id, indexer.feed)
            if on_index is not None:
                on_index(export)
            taken_at = client.submissions.export(
                form_id, _Tee(archive, tap), filter=filter, on_start=on_start
            )
            if taken_at is None:
                raise CentralError("no Date header")
            export.taken_at = taken_at
            archive.seek(0)
            if tap.read_whole and indexer.finish():
                with zipfile.ZipFile(archive):  # the zip's directory is sound
                    return export
            with export.lock:  # read again from the whole zip: nothing early is trusted
                export.redo |= export.complete
                export.complete.clear()
                export.spans.clear()
            sink.close()
            header = _extract_audit_csv(archive, form_id, target)
        export.header = header or ["instance ID"]
        export.rows = 0
        if header:
            _index(export)
        export.complete.update(export.spans)
        return export
    except (CentralError, zipfile.BadZipFile, OSError, UnicodeDecodeError, csv.Error):
        shutil.rmtree(folder, ignore_errors=True)
        return None


class _Tee:
    """Writes the export to its file and to the zip tap."""

    def __init__(self, sink: BinaryIO, tap: _ZipTap) -> None:
        self.sink, self.tap = sink, tap

    def write(self, chunk: bytes) -> None:
        self.sink.write(chunk)
        self.tap.write(chunk)


class _ZipTap:
    """Finds the combined audit CSV in Central's zip while it streams in (local file
    headers, deflated or stored entries, data descriptors as archiver writes them) and hands
    its bytes on as they inflate. Anything else in the layout stops it: the audit CSV is
    then read from the whole zip (:attr:`read_whole` false)."""

    def __init__(self, form_id: str, on_data: Callable[[bytes], None]) -> None:
        self.form_id = form_id
        self.on_data = on_data
        self.buffer = b""
        self.state = "header"
        self.failed = False
        self.found = False
        self.ended = False  # the audit CSV entry was read to its end and its CRC checked
        self.stopped = False  # past the local entries (the zip's directory began)
        self._wanted = False
        self._flags = 0
        self._left = 0
        self._crc = 0
        self._inflate: Any = None

    @property
    def read_whole(self) -> bool:
        """Whether the stream was read as it came: the audit CSV whole (CRC checked), or
        every entry seen and none was it."""
        return not self.failed and (self.ended or (self.stopped and not self.found))

    def write(self, chunk: bytes) -> None:
        if self.failed or self.stopped:
            return
        self.buffer += chunk
        try:
            while self._step():
                pass
        except (zlib.error, struct.error, ValueError):
            self.failed = True

    def _step(self) -> bool:
        """Consume what the buffer allows; whether to go on."""
        buf = self.buffer
        if self.state == "header":
            if len(buf) < 30:
                return False
            if buf[:4] != b"PK\x03\x04":
                self.stopped = True  # the central directory: no more entries
                return False
            flags, method = struct.unpack("<HH", buf[6:10])
            size = struct.unpack("<I", buf[18:22])[0]
            name_length, extra_length = struct.unpack("<HH", buf[26:30])
            if len(buf) < 30 + name_length + extra_length:
                return False
            name = buf[30 : 30 + name_length].decode("utf-8", "replace")
            self.buffer = buf[30 + name_length + extra_length :]
            self._wanted = not self.found and "/" not in name and name.endswith(" - audit.csv")
            self.found = self.found or self._wanted
            self._flags, self._crc = flags, 0
            if method == 8:
                self._inflate, self.state = zlib.decompressobj(-15), "deflate"
            elif method == 0 and not flags & 8:
                self._left, self.state = size, "stored"
            else:
                self.failed = True
                return False
            return True
        if self.state == "deflate":
            out = self._inflate.decompress(buf)
            self.buffer = b""
            self._emit(out)
            if not self._inflate.eof:
                return False
            self.buffer = self._inflate.unused_data
            self.state = "descriptor" if self._flags & 8 else "header"
            if self.state == "header" and self._wanted:
                self.failed = True  # no descriptor: the CRC is in the header (not archiver's)
            return True
        if self.state == "stored":
            part = buf[: self._left]
            self.buffer = buf[len(part) :]
            self._left -= len(part)
            self._emit(part)
            if self._left:
                return False
            self.state = "header"
            if self._wanted:
                self.failed = True  # not archiver's layout: read from the whole zip
            return True
        # data descriptor: [signature] crc32, sizes (4 or 8 bytes each)
        if len(buf) < 28:
            return False
        start = 4 if buf[:4] == b"PK\x07\x08" else 0
        crc = struct.unpack("<I", buf[start : start + 4])[0]
        for sizes in (8, 16):
            after = start + 4 + sizes
            if buf[after : after + 4] in (b"PK\x03\x04", b"PK\x01\x02"):
                break
        else:
            self.failed = True
            return False
        if self._wanted:
            if crc != self._crc:
                self.failed = True
                return False
            self.ended = True
        self.buffer = buf[after:]
        self.state = "header"
        return True

    def _emit(self, data: bytes) -> None:
        if self._wanted and data:
            self._crc = zlib.crc32(data, self._crc)
            self.on_data(data)


class _Indexer:
    """Writes the combined audit CSV to its file and indexes it as it arrives: byte ranges
    of each ``__id``'s rows (Central writes a submission's rows together, ordered by
    submission version), an ``__id`` complete once the next one's rows begin."""

    def __init__(self, export: AuditExport, sink: BinaryIO) -> None:
        self.export = export
        self.sink = sink
        self.pending = b""  # the bytes of a record not yet ended
        self.position = 0
        self.start = 0
        self.header = False
        self.bad = False
        self.last: str | None = None
        self.seen: set[tuple[str, ...]] = set()
        self.doubled: set[str] = set()
        self.done: set[str | None] = set()  # ``__id``s whose rows were followed by others

    def feed(self, data: bytes) -> None:
        """Take the next bytes of the CSV; index every record they end."""
        if self.bad:
            return
        buffer = self.pending + data
        end = _records_end(buffer)
        self.pending = buffer[end:]
        if end:
            self.sink.write(buffer[:end])
            self._records(buffer[:end])

    def finish(self) -> bool:
        """Index what is left (the last ``__id`` is complete); False when the CSV could
        not be indexed (not an audit CSV), True when indexed or absent."""
        if self.pending:
            self.sink.write(self.pending)
            self._records(self.pending)
            self.pending = b""
        if self.bad:
            return False
        self._close(self.last)
        self.sink.flush()
        return True

    def _records(self, chunk: bytes) -> None:
        export = self.export

        def lines() -> Iterator[str]:
            pieces = chunk.split(b"\n")
            last = pieces.pop()  # after the final line end: empty, or a record without one
            for line in [piece + b"\n" for piece in pieces] + ([last] if last else []):
                self.position += len(line)
                yield line.decode("utf-8-sig" if self.position == len(line) else "utf-8")

        reader = csv.reader(lines())
        if not self.header:
            header = next(reader, None)
            if header is None:
                return
            if header[0] not in AUDIT_ID_COLUMNS:
                self.bad = True
                return
            export.header, self.header, self.start = header, True, self.position
        closed = []
        for row in reader:
            end = self.position  # the reader has consumed exactly this row's lines
            if not row or not any(row[1:]):
                self.start = end  # a blank line, or the empty row of a log never uploaded
                continue
            central_id = row[0]
            if central_id != self.last:
                self.seen.clear()
                closed.append(self.last)
                self.done.add(self.last)
                if central_id in self.done:  # rows again, apart from the first ones
                    with export.lock:
                        export.complete.discard(central_id)
                        export.redo.add(central_id)
            if tuple(row) in self.seen:
                self.doubled.add(central_id)
            self.seen.add(tuple(row))
            spans = export.spans.setdefault(central_id, [])
            if central_id == self.last and spans:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((self.start, end))
            self.last = central_id
            self.start = end
            export.rows += 1
        self.sink.flush()  # before any log is read from the file
        for central_id in closed:
            self._close(central_id)

    def _close(self, central_id: str | None) -> None:
        if central_id is None:
            return
        export = self.export
        with export.lock:
            if central_id in self.doubled:
                export.spans.pop(central_id, None)
                export.complete.discard(central_id)
            elif central_id not in export.redo:
                export.complete.add(central_id)


def _records_end(buffer: bytes) -> int:
    """Where the last whole CSV record of ``buffer`` ends (after a line end outside
    quotes; ``buffer`` starts at a record's start), 0 when none does."""
    quotes = buffer.count(b'"')
    end = buffer.rfind(b"\n")
    while end >= 0:
        if (quotes - buffer.count(b'"', end)) % 2 == 0:
            return end + 1
        end = buffer.rfind(b"\n", 0, end)
    return 0


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
