"""``pull``: bring a form's submissions from ODK Central into the store, exactly once.

The first pull of a form reads everything; later pulls ask only for
``__system/submissionDate gt T or __system/updatedAt gt T`` where T is the stored watermark
less an overlap window (new submissions, edits and review changes all move one of the two),
and rows are de-duplicated on ``__id``. Each OData page is stored in one transaction
together with the run's progress, so a pull killed at any point and run again ends with
exactly Central's rows. The watermark only moves when a run completes; an unfinished run is
resumed from its own lower bound. Deletions are synced from the list of deleted ``__id``s
(Central shows deleted rows only when the filter names ``__system/deletedAt``).
Every form version seen in ``__system/formVersion`` gets its FormModel from the XLSForm
Central keeps for it (see :mod:`surveys.central.form_sources`); ``model`` (``--form``) overrides.
Audit logs come one request pair per submission, or, when the pull's window holds many
submissions, from Central's export in one request (see :mod:`surveys.central.audit_export`).
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from forms.issues import Issue, Severity
from forms.model import FormModel
from surveys.central.audit_export import EXPORT_MARGIN, AuditExport, ExportDownload
from surveys.central.client import CentralClient, ODataPage
from surveys.central.errors import CentralError
from surveys.central.form_sources import FROM_FILE, VersionModel, fetch_version_model, versions_in
from surveys.central.pool import ClientPool
from surveys.store import Store, writer
from surveys.store.audit import parse_audit_csv
from surveys.store.records import instance_id_of, latest_time, odata_time, parse_time

DEFAULT_PAGE_SIZE = 10_000
DEFAULT_OVERLAP = timedelta(minutes=10)
AUDIT_FILE = "audit.csv"

T = TypeVar("T")


@dataclass
class PullProgress:
    """Passed to the progress callback after every stored page."""

    form_id: str
    received: int
    total: int | None
    elapsed: float

    @property
    def rate(self) -> float:
        """Submissions per second so far."""
        return self.received / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class PullResult:
    """What one pull did."""

    form_id: str
    since: datetime | None
    watermark: datetime | None = None
    pages: int = 0
    received: int = 0
    counts: writer.WriteCounts = field(default_factory=writer.WriteCounts)
    deleted: int = 0
    restored: int = 0
    purged: int = 0
    audit_events: int = 0
    attachments: int = 0
    versions_fetched: int = 0
    audits_from_export: int = 0
    """Audit logs taken from Central's export instead of one download each."""
    export_seconds: float | None = None
    """Time spent downloading and indexing Central's export (None: not used)."""
    issues: list[Issue] = field(default_factory=list)
    resumed: bool = False
    encrypted: int = 0
    """Encrypted submissions read without answers (Central's OData cannot decrypt) and with
    none imported for them yet."""

    @property
    def stored_changes(self) -> bool:
        """Whether the pull changed the store: submissions new, edited, updated, deleted,
        restored or purged, or audit events stored (what quality control and validation
        read)."""
        c = self.counts
        changed = c.new + c.edited + c.updated + self.deleted + self.restored + self.purged
        return bool(changed or self.audit_events)

    def summary(self) -> str:
        """One line for people."""
        c = self.counts
        return (
            f"{self.form_id}: {self.received} received in {self.pages} page(s); "
            f"{c.new} new, {c.edited} edited, {c.updated} updated, {c.unchanged} unchanged; "
            f"{self.deleted} deleted, {self.restored} restored"
            + (f", {self.purged} purged" if self.purged else "")
            + f"; {self.audit_events} audit events"
            + (
                f" ({self.audits_from_export} logs from the export)"
                if self.audits_from_export
                else ""
            )
            + (f"; {len(self.issues)} issue(s)" if self.issues else "")
        )


@dataclass(frozen=True)
class PullOptions:
    """How to pull: page size, overlap window, attachments, full re-read, reconciliation."""

    page_size: int = DEFAULT_PAGE_SIZE
    overlap: timedelta = DEFAULT_OVERLAP
    attachments: str = "audit"
    """``"audit"`` (audit.csv only), ``"all"`` (every attachment) or ``"none"``."""
    full: bool = False
    reconcile: bool = False
    """Also list every live ``__id`` and drop stored submissions Central no longer has."""
    lock_timeout: float | None = 600.0
    attachment_workers: int = 4
    """Sessions downloading attachments side by side (1: one at a time)."""
    audit_export: str = "auto"
    """Take audit logs from Central's export: ``"auto"`` when the window holds at least
    ``audit_export_min`` submissions, ``"always"``, or ``"never"`` (one download each)."""
    audit_export_min: int = 500
    export_margin: timedelta = EXPORT_MARGIN
    """Submissions touched this close before the export's snapshot are downloaded one by one."""


def pull_form(
    store: Store,
    client: CentralClient,
    form_id: str,
    options: PullOptions | None = None,
    *,
    model: FormModel | None = None,
    progress: Callable[[PullProgress], None] | None = None,
) -> PullResult:
    """Pull one form into ``store`` (see the module doc). Serialised with other pulls and
    imports on the same store by the store's ``pull`` lock."""
    options = options or PullOptions()
    form_meta = client.forms.get(form_id)
    with store.lock("pull", timeout=options.lock_timeout), _coarse_thread_switching():
        with store.engine.connect() as conn:  # read only: nothing is written before page 1
            known_pk = writer.find_form(conn, form_id)
            state = writer.read_sync_state(conn, known_pk) if known_pk else writer.NO_SYNC
        since = _lower_bound(state, options)
        result = PullResult(form_id, since, resumed=state.unfinished)
        with ClientPool(client, options.attachment_workers) as pool:
            form_pk = _pull_pages(
                store, pool, form_id, known_pk, form_meta, model, options, result, progress
            )
        _sync_deletions(store, client, form_id, form_pk, options, result)
    if result.encrypted:
        result.issues.append(encrypted_warning(form_id, result.encrypted))
    return result


ENCRYPTED_CODE = "F003"


def encrypted_warning(form_id: str, count: int) -> Issue:
    """Encrypted submissions were stored without answers: say how to get them."""
    return Issue(
        code=ENCRYPTED_CODE,
        severity=Severity.WARNING,
        message=(
            f"form {form_id}: {count} encrypted submission(s) came without their answers "
            "(Central's OData cannot decrypt); download the CSV export with the project's "
            "passphrase and read it with `popsurvey import`"
        ),
    )


@contextlib.contextmanager
def _coarse_thread_switching(interval: float = 0.05) -> Iterator[None]:
    """Let the page-fetching thread and the storing thread hand the GIL over every 50 ms
    instead of 5: both are CPU-bound between I/O waits, and fine-grained switching costs
    more than it overlaps."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _lower_bound(state: writer.SyncState, options: PullOptions) -> datetime | None:
    if state.unfinished:
        return state.run_since
    if options.full or state.watermark is None:
        return None
    return state.watermark - options.overlap


def incremental_filter(since: datetime | None) -> str | None:
    """The OData filter of an incremental pull from ``since`` (None for everything)."""
    if since is None:
        return None
    t = odata_time(since)
    return f"__system/submissionDate gt {t} or __system/updatedAt gt {t}"


def _pull_pages(
    store: Store,
    pool: ClientPool,
    form_id: str,
    form_pk: int | None,
    form_meta: dict[str, Any],
    model: FormModel | None,
    options: PullOptions,
    result: PullResult,
    progress: Callable[[PullProgress], None] | None,
) -> int:
    """Store every page, each in one transaction; the form row and the run start go in with
    the first page, so a Central answering garbage at once leaves the store untouched.
    Audit logs due from Central's export are stored once it has arrived, still inside the
    run (a run killed before that re-reads them). Returns the form's primary key."""
    client = pool.client
    started = time.monotonic()
    looked_up = _versions_looked_up(store, form_pk, model)
    export = _start_export(client, form_id, options, result)  # before the pages: see its doc
    models = _version_models(store, form_pk, model) if export is not None else {}
    deferred: list[tuple[int, str, str]] = []
    pager = client.clone()
    try:
        pages = pager.submissions.odata_pages(
            form_id,
            filter=incremental_filter(result.since),
            page_size=options.page_size,
            count=True,
        )
        total: int | None = None
        for page in prefetched(pages):
            if total is None:
                total = page.count
            fetched = _fetch_form_models(client, form_id, page, looked_up)
            models.update((found.version, found.model) for found in fetched)
            files = _download_attachments(
                store, pool, form_id, form_pk, page, options, export, models
            )
            history = _missing_versions(store, client, form_id, form_pk, page)
            with store.transaction() as conn:
                if result.pages == 0:
                    form_pk = writer.ensure_form(conn, form_id, form_meta.get("name"))
                    writer.begin_run(conn, form_pk, result.since)
                    _save_version(conn, form_pk, form_meta, model)
                _store_form_models(conn, form_pk, fetched, result)
                counts = writer.store_submissions(conn, form_pk, page.value, "central", page.raw)
                later = _store_files(conn, counts, files, result)
                _store_history(conn, counts, history, result)
                writer.sync_enumerators(conn, page.value)
                writer.advance_run(conn, form_pk, _page_high(page))
            deferred.extend(later)
            result.pages += 1
            result.received += len(page.value)
            result.encrypted += counts.without_answers
            result.counts.add(counts)
            if progress:
                progress(PullProgress(form_id, result.received, total, time.monotonic() - started))
        if export is not None:
            _store_exported_audits(store, pool, form_id, export, deferred, result)
            result.export_seconds = export.seconds
    finally:
        pager.close()
        if export is not None:
            export.discard()
    if form_pk is None:  # Central always sends a first page; kept safe all the same
        with store.transaction() as conn:
            form_pk = writer.ensure_form(conn, form_id, form_meta.get("name"))
            writer.begin_run(conn, form_pk, result.since)
    return form_pk


def _start_export(
    client: CentralClient, form_id: str, options: PullOptions, result: PullResult
) -> ExportDownload | None:
    """Central's export of the pull's window, when audit logs are wanted and the window
    holds enough submissions to beat one request pair each (``$count`` of the window, one
    small request, decides). Started before the first page so that any submission changed
    after its snapshot shows a newer ``updatedAt`` on its page; it downloads while the
    pages are fetched and stored."""
    if options.attachments == "none" or options.audit_export == "never":
        return None
    window = incremental_filter(result.since)
    if options.audit_export == "auto":
        first = next(
            client.submissions.odata_pages(
                form_id, filter=window, page_size=1, select="__id", count=True
            ),
            None,
        )
        if first is None or (first.count or 0) < options.audit_export_min:
            return None
    return ExportDownload(client, form_id, window, options.export_margin)


def _store_exported_audits(
    store: Store,
    pool: ClientPool,
    form_id: str,
    export: ExportDownload,
    deferred: list[tuple[int, str, str]],
    result: PullResult,
    batch: int = 2_000,
) -> None:
    """The audit logs left for the export (``(pk, __id, instanceID)`` each): from it when it
    has them, else downloaded one by one (a log uploaded after its snapshot, an export that
    failed); a transaction per batch. While the export still downloads, the logs whose rows
    have all arrived are stored already, a batch at a time, so that little is left to do
    when its last byte comes."""
    done: dict[str, tuple[int, str, str]] = {}
    tried: set[str] = set()  # looked at early (a log whose order is uncertain waits)
    pending = deferred
    while pending and not export.wait(0.2):
        partial = export.partial()
        if partial is None:
            continue
        with partial.lock:
            ready = [d for d in pending if d[1] in partial.complete and d[1] not in tried]
        if len(ready) < min(batch, len(pending) - len(tried)):
            continue  # wait for a whole batch (or the end)
        ready = ready[:batch]
        tried.update(d[1] for d in ready)
        taken = _store_audit_batch(store, pool, form_id, partial, ready, result, early=True)
        done.update((d[1], d) for d in taken)
        taken_ids = {d[1] for d in taken}
        pending = [d for d in pending if d[1] not in taken_ids]
    exported = export.result()
    again = [done[c] for c in exported.redo if c in done] if exported is not None else []
    left = pending + again
    for start in range(0, len(left), batch):
        _store_audit_batch(store, pool, form_id, exported, left[start : start + batch], result)


def _store_audit_batch(
    store: Store,
    pool: ClientPool,
    form_id: str,
    exported: AuditExport | None,
    chunk: list[tuple[int, str, str]],
    result: PullResult,
    *,
    early: bool = False,
) -> list[tuple[int, str, str]]:
    """Store the audit logs of ``chunk`` in one transaction: from the export where it has
    them, the others downloaded; with ``early`` (the export still downloading) only those
    the export has, the rest left for later. Returns the entries stored."""

    def download(client: CentralClient, central_id: str) -> bytes | None:
        names = [a["name"] for a in client.attachments.list(form_id, central_id) if a.get("exists")]
        if AUDIT_FILE not in names:
            return None
        return client.attachments.get(form_id, central_id, AUDIT_FILE)

    rebuilt = {  # None: a log whose order the export cannot tell
        c: exported.audit_csv(c) for _, c, _ in chunk if exported and exported.has(c)
    }
    if early:
        chunk = [d for d in chunk if rebuilt.get(d[1]) is not None]
    if not chunk:
        return chunk
    missing = [c for _, c, _ in chunk if rebuilt.get(c) is None]
    fetched = dict(zip(missing, pool.map(download, missing), strict=True))
    files, logs = [], []
    for pk, central_id, instance_id in chunk:
        content = rebuilt.get(central_id)
        if content is None:
            content = fetched[central_id]
        else:
            result.audits_from_export += 1
        if content is None:
            continue
        files.append((pk, AUDIT_FILE, instance_id, content))
        events, issues = parse_audit_csv(content, instance_id=instance_id)
        logs.append((pk, instance_id, events))
        result.issues.extend(issues)
    with store.transaction() as conn:
        writer.store_attachments(conn, files)
        result.audit_events += writer.store_audits(conn, logs)
    result.attachments += len(files)
    return chunk


def _version_models(
    store: Store, form_pk: int | None, model: FormModel | None
) -> dict[str, FormModel | None]:
    """The FormModel of each form version the store knows (``model`` for its own)."""
    models: dict[str, FormModel | None] = {}
    if form_pk is not None:
        with store.engine.connect() as conn:
            models.update(writer.form_models(conn, form_pk))
    if model is not None and model.version:
        models[model.version] = model
    return models


def _save_version(
    conn: Any, form_pk: int, form_meta: dict[str, Any], model: FormModel | None
) -> None:
    version = form_meta.get("version")
    if model is not None and model.version:  # --form overrides what Central gave
        writer.save_form_version(
            conn, form_pk, model.version, model, source=FROM_FILE, replace=True
        )
    if version and (model is None or model.version != version):
        writer.save_form_version(conn, form_pk, version)


def _versions_looked_up(store: Store, form_pk: int | None, model: FormModel | None) -> set[str]:
    """Form versions whose XLSForm need not be fetched: stored with a FormModel, already
    asked of Central, or given with --form."""
    known: set[str] = {model.version} if model is not None and model.version else set()
    if form_pk is not None:
        with store.engine.connect() as conn:
            known |= writer.looked_up_versions(conn, form_pk)
    return known


def _fetch_form_models(
    client: CentralClient, form_id: str, page: ODataPage, looked_up: set[str]
) -> list[VersionModel]:
    """The FormModels of the page's new form versions, from the XLSForms Central keeps;
    fetched before the page's transaction so that no lock is held over the network."""
    fetched = []
    for version in sorted(versions_in(page.value) - looked_up):
        fetched.append(fetch_version_model(client, form_id, version))
        looked_up.add(version)
    return fetched


def _store_form_models(
    conn: Any, form_pk: int, fetched: list[VersionModel], result: PullResult
) -> None:
    for found in fetched:
        writer.save_form_version(conn, form_pk, found.version, found.model, source=found.source)
        if found.issue is not None:
            result.issues.append(found.issue)


def _page_high(page: ODataPage) -> datetime | None:
    times = [t for t in (latest_time(r) for r in page.value) if t is not None]
    return max(times) if times else None


@dataclass
class PageFiles:
    """What a page's submissions get besides their rows."""

    files: dict[str, dict[str, bytes]] = field(default_factory=dict)
    """``__id`` -> attachment name -> content, downloaded now."""
    later: set[str] = field(default_factory=set)
    """``__id``s whose audit log is to come from Central's export once it has arrived."""
    from_export: int = 0
    """How many of ``files``' audit logs came from Central's export."""
    known: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Stored submissions of the same version that still lack their audit log (a run
    killed before the export's logs were in): ``__id`` -> (pk, instanceID)."""


def _download_attachments(
    store: Store,
    pool: ClientPool,
    form_id: str,
    form_pk: int | None,
    page: ODataPage,
    options: PullOptions,
    export: ExportDownload | None = None,
    models: dict[str, FormModel | None] | None = None,
) -> PageFiles:
    """Attachments of the page's new or edited submissions (and audit logs still missing
    for stored ones), fetched before the page's transaction so that no lock is held over
    the network. Audit logs the export may hold are left for it."""
    out = PageFiles()
    if options.attachments == "none":
        return out
    candidates = {
        str(r["__id"]): r
        for r in page.value
        if ((r.get("__system") or {}).get("attachmentsPresent") or 0) > 0
    }
    if not candidates:
        return out
    stored = _stored_instances(store, form_pk, list(candidates))
    todo = []
    for central_id, record in candidates.items():
        pk, instance_id, has_audit = stored.get(central_id, (None, None, False))
        if instance_id != instance_id_of(record):
            todo.append(central_id)  # new, or a new version: its files
        elif _names_audit(record) and not has_audit:
            todo.append(central_id)  # stored, but its audit log never came
            out.known[central_id] = (pk, instance_id)  # type: ignore[assignment]
    now: dict[str, bytes] = {}  # logs from an export already downloaded
    if export is not None:
        arrived = export.result() if export.finished() else None
        for central_id in todo:
            record = candidates[central_id]
            version = (record.get("__system") or {}).get("formVersion")
            if not export.may_cover(record, (models or {}).get(str(version))):
                continue
            if not export.finished():
                out.later.add(central_id)  # stored once the export is in
            elif arrived is not None and arrived.has(central_id):
                content = arrived.audit_csv(central_id)
                if content is not None:  # else its order is not certain: downloaded
                    now[central_id] = content
        out.from_export = len(now)

    def download(client: CentralClient, central_id: str) -> dict[str, bytes]:
        wanted = [
            a["name"]
            for a in client.attachments.list(form_id, central_id)
            if a.get("exists")
            and (options.attachments == "all" or a.get("name") == AUDIT_FILE)
            and not (a.get("name") == AUDIT_FILE and (central_id in out.later or central_id in now))
        ]
        return {name: client.attachments.get(form_id, central_id, name) for name in wanted}

    waiting = out.later | now.keys()
    each = [c for c in todo if options.attachments == "all" or c not in waiting]
    out.files = dict(zip(each, pool.map(download, each), strict=True))
    for central_id, content in now.items():
        out.files.setdefault(central_id, {})[AUDIT_FILE] = content
    return out


def _names_audit(record: Mapping[str, Any]) -> bool:
    """Whether the record names an ``audit.csv`` (Central's client-audit field)."""
    meta = record.get("meta")
    return isinstance(meta, Mapping) and meta.get("audit") == AUDIT_FILE


def _missing_versions(
    store: Store, client: CentralClient, form_id: str, form_pk: int, page: ODataPage
) -> dict[str, list[tuple[str, str, datetime | None]]]:
    """Earlier versions of edited submissions that the store never saw (edited more than
    once between two pulls, or before the first): fetched as XML from Central."""
    edited = {
        str(r["__id"]): r
        for r in page.value
        if int((r.get("__system") or {}).get("edits") or 0) > 0
    }
    if not edited:
        return {}
    with store.engine.connect() as conn:
        known = writer.known_versions(conn, form_pk, list(edited))
    missing: dict[str, list[tuple[str, str, datetime | None]]] = {}
    for central_id, record in edited.items():
        seen = known.get(central_id, set())
        after = seen | {instance_id_of(record)}  # what the store holds once the page is in
        if len(after) >= int(record["__system"]["edits"]) + 1:
            continue  # Central has edits + 1 versions and the store will hold them all
        for version in client.submissions.versions(form_id, central_id):
            vid = version.get("instanceId")
            if version.get("current") or not vid or vid in seen:
                continue
            xml = client.submissions.version_xml(form_id, central_id, vid)
            missing.setdefault(central_id, []).append(
                (vid, xml, parse_time(version.get("createdAt")))
            )
    return missing


def _store_history(
    conn: Any,
    counts: writer.WriteCounts,
    history: dict[str, list[tuple[str, str, datetime | None]]],
    result: PullResult,
) -> None:
    if not history:
        return
    pks = {central_id: pk for pk, central_id, _ in counts.changed_ids}
    for central_id, versions in history.items():
        pk = pks.get(central_id)
        if pk is None:
            continue
        for vid, xml, created in versions:
            writer.store_earlier_version(conn, pk, vid, xml, created)
            result.versions_fetched += 1


def _stored_instances(
    store: Store, form_pk: int | None, central_ids: list[str]
) -> dict[str, tuple[int, str, bool]]:
    """``__id`` -> (pk, instanceID, whether its audit.csv is stored) of stored submissions."""
    if form_pk is None:
        return {}
    table, files = writer.SUBMISSIONS, writer.ATTACHMENTS
    joined = table.outerjoin(
        files, sa.and_(files.c.submission_id == table.c.id, files.c.name == AUDIT_FILE)
    )
    found: dict[str, tuple[int, str, bool]] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(central_ids), 5_000):
            chunk = central_ids[start : start + 5_000]
            rows = conn.execute(
                sa.select(
                    table.c.id, table.c.central_id, table.c.instance_id, files.c.id.label("audit")
                )
                .select_from(joined)
                .where(table.c.form_id == form_pk, table.c.central_id.in_(chunk))
            )
            found.update({r.central_id: (r.id, r.instance_id, r.audit is not None) for r in rows})
    return found


def _store_files(
    conn: Any, counts: writer.WriteCounts, page_files: PageFiles, result: PullResult
) -> list[tuple[int, str, str]]:
    """The page's attachments and parsed audit logs, each table in one bulk write. Returns
    ``(pk, __id, instanceID)`` of the submissions whose audit log the export is to give."""
    targets = {central_id: (pk, iid) for pk, central_id, iid in counts.changed_ids}
    for central_id, known in page_files.known.items():
        targets.setdefault(central_id, known)
    stored, audits = [], []
    for central_id, files in page_files.files.items():
        if central_id not in targets:
            continue
        pk, instance_id = targets[central_id]
        for name, content in files.items():
            stored.append((pk, name, instance_id, content))
            if name == AUDIT_FILE:
                events, issues = parse_audit_csv(content, instance_id=instance_id)
                audits.append((pk, instance_id, events))
                result.issues.extend(issues)
    writer.store_attachments(conn, stored)
    result.attachments += len(stored)
    result.audits_from_export += page_files.from_export
    result.audit_events += writer.store_audits(conn, audits)
    return [(targets[c][0], c, targets[c][1]) for c in sorted(page_files.later) if c in targets]


def _sync_deletions(
    store: Store,
    client: CentralClient,
    form_id: str,
    form_pk: int,
    options: PullOptions,
    result: PullResult,
) -> None:
    deleted: dict[str, datetime | None] = {}
    for page in client.submissions.odata_pages(
        form_id,
        filter="__system/deletedAt ne null",
        select="__id,__system/deletedAt",
        page_size=50_000,
    ):
        for row in page.value:
            deleted[str(row["__id"])] = parse_time((row.get("__system") or {}).get("deletedAt"))
    live: set[str] | None = None
    if options.reconcile:
        live = set()
        for page in client.submissions.odata_pages(form_id, select="__id", page_size=50_000):
            live.update(str(r["__id"]) for r in page.value)
    with store.transaction() as conn:
        result.deleted, result.restored = writer.mark_deleted(conn, form_pk, deleted)
        if live is not None:
            result.purged = writer.remove_missing(conn, form_pk, live | set(deleted))
        result.watermark = writer.finish_run(conn, form_pk)


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Iterate ``items`` with up to ``depth`` items fetched ahead in a background thread,
    so that fetching page n+1 overlaps storing page n. Errors surface in order."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put((done, None))
        except BaseException as err:  # handed to the consumer
            buffer.put((done, err))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            item, err = buffer.get()
            if item is done:
                if err is not None:
                    raise err
                return
            yield item
    finally:
        stop.set()


__all__ = [
    "CentralError",
    "PullOptions",
    "PullProgress",
    "PullResult",
    "incremental_filter",
    "prefetched",
    "pull_form",
]
