"""What every importer shares: one transaction, the store lock, audits beside submissions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from forms.issues import Issue
from forms.model import FormModel
from surveys.importers.errors import ImportFormatError
from surveys.store import Store, writer
from surveys.store.audit import parse_audit_csv

BATCH = 5_000


@dataclass
class ImportResult:
    """What one import did."""

    form_id: str
    source: str
    counts: writer.WriteCounts = field(default_factory=writer.WriteCounts)
    audit_events: int = 0
    issues: list[Issue] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people."""
        c = self.counts
        return (
            f"{self.form_id} from {self.source}: {c.new} new, {c.edited} edited, "
            f"{c.updated} updated, {c.unchanged} unchanged; {self.audit_events} audit events"
            + (f"; {len(self.issues)} issue(s)" if self.issues else "")
        )


def import_records(
    store: Store,
    form_id: str,
    records: Iterable[Mapping[str, Any]],
    source: str,
    *,
    model: FormModel | None = None,
    audit_for: Callable[[str], bytes | None] = lambda instance_id: None,
    title: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    total: int | None = None,
) -> ImportResult:
    """Store ``records`` (OData-shaped) in ONE transaction: a bad file leaves nothing behind.
    ``audit_for(instanceID)`` gives the audit.csv bytes of a submission, if any;
    ``progress(done, total)`` is called after each batch (``total`` records, if known)."""
    result = ImportResult(form_id, source)
    done = 0
    with store.lock("pull"), store.transaction() as conn:
        form_pk = writer.ensure_form(conn, form_id, title or (model.title if model else None))
        if model is not None and model.version:
            writer.save_form_version(conn, form_pk, model.version, model, source="file")
        batch: list[Mapping[str, Any]] = []

        def flush() -> None:
            nonlocal done
            counts = writer.store_submissions(conn, form_pk, batch, source)
            writer.sync_enumerators(conn, batch)
            result.counts.add(counts)
            store_batch_audits(conn, counts.changed_ids, audit_for, result)
            done += len(batch)
            if progress is not None:
                progress(done, total)
            batch.clear()

        in_batch: set[str] = set()
        for index, record in enumerate(records):
            record = checked_record(record, f"{source}: record {index}")
            if str(record["__id"]) in in_batch:  # an edit of a record in this batch:
                flush()  # store the earlier version first so that it enters the history
                in_batch.clear()
            batch.append(record)
            in_batch.add(str(record["__id"]))
            if len(batch) >= BATCH:
                flush()
                in_batch.clear()
        if batch:
            flush()
    return result


def store_batch_audits(
    conn: Connection,
    changed: Iterable[tuple[int, Any, str]],
    audit_for: Callable[[str], bytes | None],
    result: ImportResult,
) -> None:
    """Store the audit logs of a batch's new and changed submissions (``(pk, __id,
    instanceID)`` each) with the store's bulk writers: one statement for the batch's
    audit.csv files and one for all their events, as a pull does, never one per submission."""
    files, logs = [], []
    latest = {pk: instance_id for pk, _central_id, instance_id in changed}  # once each
    for pk, instance_id in latest.items():
        content = audit_for(instance_id)
        if content is None:
            continue
        files.append((pk, "audit.csv", instance_id, content))
        events, issues = parse_audit_csv(content, instance_id=instance_id)
        logs.append((pk, instance_id, events))
        result.issues.extend(issues)
    writer.store_attachments(conn, files)
    result.audit_events += writer.store_audits(conn, logs)


def checked_record(record: Any, where: str) -> Mapping[str, Any]:
    """``record`` when it can be stored: an object with an ``__id`` (a record without one
    takes its ``meta.instanceID``) and ``__system`` an object if present. Otherwise
    :class:`ImportFormatError` naming ``where`` (file and record) and the problem."""
    if not isinstance(record, Mapping):
        raise ImportFormatError(f"{where}: not a JSON object")
    central_id = record.get("__id")
    if central_id is None or central_id == "":
        meta = record.get("meta")
        instance_id = meta.get("instanceID") if isinstance(meta, Mapping) else None
        if not isinstance(instance_id, str) or not instance_id.strip():
            raise ImportFormatError(f"{where}: no __id and no meta.instanceID")
        record = {**record, "__id": instance_id}
    elif not isinstance(central_id, str | int) or isinstance(central_id, bool):
        raise ImportFormatError(f"{where}: __id is {central_id!r}, not a string")
    system = record.get("__system")
    if system is not None and not isinstance(system, Mapping):
        raise ImportFormatError(
            f"{where} ({record['__id']}): __system is {type(system).__name__}, not an object"
        )
    return record


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    return path.read_bytes() if path.is_file() else None
