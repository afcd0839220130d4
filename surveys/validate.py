"""``popsurvey validate``: every stored submission checked against its own form version.

For each form: the JSON Schema of each stored version (kept in ``form_versions.json_schema``),
then the submissions that are new, changed (their row was rewritten by a pull or import:
edits, new answers, review changes) or whose version's rules changed since they were last
validated -- or all of them with ``everything`` -- are read in batches, checked by
:class:`validation.validate.FormValidator` (schema and form logic, column-wise) and by the
record-level checks (broken JSON, invalid text encodings, unknown form version), and their
issues replace the ones stored before in ``validation_issues`` (a submission purged by a pull
meanwhile is skipped: no row outlives its submission). Submissions are never
dropped: a submission "has validation errors" when it has a row there with severity
``error`` (:func:`surveys.store.issues.submissions_with_errors`).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from forms.issues import Issue
from forms.logic import FormLogic
from forms.model import FormModel
from surveys.errors import SurveysError
from surveys.store import bulk, models, writer
from surveys.store.engine import Store
from validation.codes import SEVERITY
from validation.schema import schema_text
from validation.validate import FormValidator

RULES_VERSION = "1"
"""Bumped when validation itself changes, so that stored results are renewed."""
BATCH = 20_000
"""Submissions validated together (memory grows with it; speed barely)."""

ISSUES = models.ValidationIssue.__table__
STATE = models.ValidationState.__table__
SUBMISSIONS = writer.SUBMISSIONS
FORM_VERSIONS = writer.FORM_VERSIONS

_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    r"|[\ud800-\udfff]"
)


class ValidationRunError(SurveysError):
    """A validation run that cannot start (form unknown, no FormModel stored)."""


@dataclass
class FormSummary:
    """What one validation run found for one form."""

    form_id: str
    stored: int = 0
    validated: int = 0
    unchanged: int = 0
    with_errors: int = 0
    with_warnings: int = 0
    issues: list[tuple[int, Issue, str]] = field(default_factory=list)
    """(submission pk, Issue, version validated against) of the submissions validated now."""

    def line(self) -> str:
        """One line for the terminal."""
        return (
            f"{self.form_id}: {self.validated} submission(s) validated, {self.unchanged} "
            f"unchanged of {self.stored}; {self.with_errors} with errors, "
            f"{self.with_warnings} with warnings; {len(self.issues)} issue(s)"
        )


RULES_PART = 32
"""Hex digits of a rules digest that stand for the rules; the other 32 for the attachments."""
NO_ATTACHMENTS = hashlib.sha256(b"no attachments").hexdigest()[:RULES_PART]


def rules_digest(
    model: FormModel, attachments: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
) -> str:
    """What a validation result depends on: the FormModel and the validator's version (the
    first half), and the attachments the run was given (the second half)."""
    return _digest_of(model.to_json(), _attachments_part(attachments))


def _digest_of(model_json: str, attachments_part: str) -> str:
    rules = hashlib.sha256((RULES_VERSION + model_json).encode("utf-8")).hexdigest()
    return rules[:RULES_PART] + attachments_part


def _attachments_part(attachments: Mapping[str, Sequence[Mapping[str, Any]]] | None) -> str:
    """The attachments' half of a rules digest: lookups and choices from files are checked
    only when the files are given, so a run given other files validates again."""
    if not attachments:
        return NO_ATTACHMENTS
    plain = {str(name): [dict(row) for row in rows] for name, rows in attachments.items()}
    text = json.dumps(plain, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:RULES_PART]


def nearest_version(version: str | None, known: Iterable[str]) -> str:
    """The stored version closest to ``version``: numerically when both are numbers (the
    older one on a tie), else the newest stored version."""
    ordered = sorted(known, key=_version_key)
    if version is not None and version.isdigit():
        numeric = [v for v in ordered if v.isdigit()]
        if numeric:
            return min(numeric, key=lambda v: (abs(int(v) - int(version)), int(v)))
    return ordered[-1]


def _version_key(version: str) -> tuple[int, int, str]:
    return (1, int(version), version) if version.isdigit() else (0, 0, version)


def validate_form(
    store: Store,
    form_id: str,
    *,
    everything: bool = False,
    today: date | None = None,
    attachments: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int = 1,
) -> FormSummary:
    """Validate the new and changed submissions of ``form_id`` (all with ``everything``);
    ``attachments`` are the form's CSV media (``households.csv`` -> rows); ``workers``
    processes read and validate batches side by side (the store is written by this
    process only)."""
    today = today or date.today()
    with store.engine.connect() as conn:
        form_pk = writer.find_form(conn, form_id)
        if form_pk is None:
            raise ValidationRunError(f"form {form_id} is not in the store")
        model_rows = conn.execute(
            sa.select(
                FORM_VERSIONS.c.id,
                FORM_VERSIONS.c.version,
                FORM_VERSIONS.c.model_json,
                FORM_VERSIONS.c.json_schema,
            ).where(FORM_VERSIONS.c.form_id == form_pk, FORM_VERSIONS.c.model_json.is_not(None))
        ).all()
        if not model_rows:
            raise ValidationRunError(
                f"no FormModel stored for form {form_id}: pull with --form FILE or import "
                "with --form FILE first"
            )
        models_by_version = {r.version: FormModel.from_json(r.model_json) for r in model_rows}
        model_jsons = {v: m.to_json() for v, m in models_by_version.items()}
        files = _attachments_part(attachments)
        digests = {v: _digest_of(text, files) for v, text in model_jsons.items()}
        by_files = files != NO_ATTACHMENTS
        stored, pending_rows = _pending(
            conn, form_pk, models_by_version, digests, everything, by_files
        )
    _store_schemas(store, model_rows, models_by_version)
    chosen = {}
    pending: list[int] = []
    for pk, form_version in pending_rows:
        version = form_version if form_version in models_by_version else None
        use = version or nearest_version(form_version, models_by_version)
        chosen[pk] = (use, version is None)
        pending.append(pk)
    summary = FormSummary(form_id, stored=stored, unchanged=stored - len(pending))
    run_id = uuid.uuid4().hex[:12]
    batches = [pending[start : start + BATCH] for start in range(0, len(pending), BATCH)]
    done = validated = 0
    if progress is not None:
        progress(0, len(pending))

    def record(batch: Sequence[int], stamps: Mapping[int, Any], found: list) -> None:
        nonlocal done, validated
        # the rows as read are what was validated: a pull rewriting one meanwhile makes
        # the next run validate it again
        written, kept = _write(store, batch, found, chosen, digests, run_id, stamps)
        summary.issues.extend(kept)
        validated += written
        done += len(batch)
        if progress is not None:
            progress(done, len(pending))

    url = _shared_url(store)
    if workers > 1 and len(batches) > 1 and url is not None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(url, model_jsons, attachments, today),
        ) as pool:
            running = []
            for batch in batches:
                subset = {pk: chosen[pk] for pk in batch}
                running.append((batch, pool.submit(_check_in_worker, batch, subset)))
                while len(running) > workers:
                    first, future = running.pop(0)
                    record(first, *future.result())
            for batch, future in running:
                record(batch, *future.result())
    else:
        checker = _Checker(model_jsons, attachments, today)
        for batch in batches:
            rows = _read_batch(store.engine, batch)
            record(batch, _stamps(rows), checker.check(rows, chosen))
    summary.validated = validated
    severities: dict[int, set[str]] = {}
    for pk, issue, _ in summary.issues:
        severities.setdefault(pk, set()).add(issue.severity.value)
    summary.with_errors = sum(1 for s in severities.values() if "error" in s)
    summary.with_warnings = sum(1 for s in severities.values() if "warning" in s)
    return summary


def _pending(conn, form_pk, models_by_version, digests, everything, by_files):
    """(number of stored submissions, [(pk, form version)] of those to validate): new ones,
    ones whose row changed since they were validated (``stored_at``) and ones validated
    under other rules -- decided by the database, so that an incremental run reads only
    the ids of what it validates, not the state of every stored submission. A run given
    attachments (``by_files``) also takes the ones validated with other attachments or
    none; a run without takes the results of any (it would only check less)."""
    stored = conn.execute(
        sa.select(sa.func.count()).select_from(SUBMISSIONS).where(SUBMISSIONS.c.form_id == form_pk)
    ).scalar_one()
    query = (
        sa.select(SUBMISSIONS.c.id, SUBMISSIONS.c.form_version)
        .select_from(SUBMISSIONS.outerjoin(STATE, STATE.c.submission_id == SUBMISSIONS.c.id))
        .where(SUBMISSIONS.c.form_id == form_pk)
        .order_by(SUBMISSIONS.c.id)
    )
    if not everything:
        versions = [
            v
            for (v,) in conn.execute(
                sa.select(SUBMISSIONS.c.form_version)
                .distinct()
                .where(SUBMISSIONS.c.form_id == form_pk)
            )
        ]

        def digest_of(version: str | None) -> str:
            digest = digests[nearest_version(version, models_by_version)]
            return digest if by_files else digest[:RULES_PART]

        named = {v: digest_of(v) for v in versions if v is not None}
        expected = (
            sa.case(named, value=SUBMISSIONS.c.form_version, else_=digest_of(None))
            if named
            else sa.literal(digest_of(None))
        )
        query = query.where(
            sa.or_(
                STATE.c.submission_id.is_(None),
                STATE.c.stored_at.is_(None),
                STATE.c.rules_digest.is_(None),
                STATE.c.stored_at != SUBMISSIONS.c.stored_at,
                (
                    STATE.c.rules_digest
                    if by_files
                    else sa.func.substr(STATE.c.rules_digest, 1, RULES_PART)
                )
                != expected,
            )
        )
    return stored, [(row.id, row.form_version) for row in conn.execute(query)]


def _shared_url(store: Store) -> str | None:
    """The store's URL for worker processes (None for an in-memory SQLite database, which
    only this process can read)."""
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def _store_schemas(store: Store, model_rows: list, models_by_version: dict) -> None:
    """Keep each version's JSON Schema with it (rewritten when the FormModel changed)."""
    updates = []
    for row in model_rows:
        text = schema_text(models_by_version[row.version])
        if row.json_schema != text:
            updates.append((row.id, text))
    if updates:
        with store.transaction() as conn:
            for pk, text in updates:
                conn.execute(
                    sa.update(FORM_VERSIONS)
                    .where(FORM_VERSIONS.c.id == pk)
                    .values(json_schema=text)
                )


@dataclass(frozen=True)
class _Row:
    """What validation reads of a stored submission (plain, so it travels to workers)."""

    id: int
    instance_id: str
    form_version: str | None
    submitter_id: str | None
    submitter_name: str | None
    raw_json: str | None
    stored_at: Any


def _read_batch(engine: sa.Engine, batch: Sequence[int]) -> list[_Row]:
    """The rows of the submissions ``batch`` (ids), as validation reads them."""
    out: list[_Row] = []
    with engine.connect() as conn:
        for chunk in _chunks(batch, bulk.BATCH):
            rows = conn.execute(
                sa.select(
                    SUBMISSIONS.c.id,
                    SUBMISSIONS.c.instance_id,
                    SUBMISSIONS.c.form_version,
                    SUBMISSIONS.c.submitter_id,
                    SUBMISSIONS.c.submitter_name,
                    SUBMISSIONS.c.raw_json,
                    SUBMISSIONS.c.stored_at,
                ).where(SUBMISSIONS.c.id.in_(chunk))
            ).all()
            out.extend(_Row(*row) for row in rows)
    return out


def _stamps(rows: Sequence[_Row]) -> dict[int, Any]:
    return {row.id: row.stored_at for row in rows}


class _Checker:
    """Validates batches of rows: the validators of each version, built once."""

    def __init__(self, model_jsons: Mapping[str, str], attachments: Any, today: date) -> None:
        self.models = {v: FormModel.from_json(text) for v, text in model_jsons.items()}
        self.attachments = attachments
        self.today = today
        self.validators: dict[str, FormValidator] = {}

    def check(self, rows: list[_Row], chosen: Mapping[int, tuple[str, bool]]):
        """(submission pk, Issue, version validated against) of every issue of ``rows``."""
        # a batch creates millions of objects that live until its end: the cyclic garbage
        # collector would scan them again and again (~15 % of the time); it runs after
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._check(rows, chosen)
        finally:
            if was_enabled:
                gc.enable()

    def _check(self, rows: list[_Row], chosen: Mapping[int, tuple[str, bool]]):
        found: list[tuple[int, Issue, str]] = []
        by_version: dict[str, list[tuple[int, dict]]] = {}
        bad_text = _encoding_problems([r.raw_json or "" for r in rows])
        for index, row in enumerate(rows):
            use, unknown = chosen[row.id]
            who = row.submitter_name or row.submitter_id
            try:
                record = json.loads(row.raw_json)
            except (TypeError, ValueError) as err:
                record = None
                reason = f"the stored JSON cannot be read: {err}"
            else:
                reason = None if isinstance(record, dict) else "the stored JSON is not an object"
            if reason is not None:
                found.append((row.id, _record_issue("V201", reason, row, who), use))
                continue
            if unknown:
                message = (
                    f"form version '{row.form_version}' is not stored; validated against the "
                    f"nearest stored version '{use}'"
                )
                issue = _record_issue("V203", message, row, who, row.form_version)
                found.append((row.id, issue, use))
            if index in bad_text:
                for path in _surrogate_paths(record):
                    issue = _record_issue(
                        "V202",
                        "invalid text encoding: a lone UTF-16 surrogate (bytes lost or mangled "
                        "in transit)",
                        row,
                        who,
                    )
                    found.append((row.id, _replace(issue, variable=path), use))
            by_version.setdefault(use, []).append((row.id, record))
        for version, items in by_version.items():
            validator = self.validators.get(version)
            if validator is None:
                model = self.models[version]
                validator = self.validators[version] = FormValidator(
                    model, FormLogic(model, attachments=self.attachments)
                )
            records = [record for _, record in items]
            for index, issue in validator.validate(records, today=self.today):
                found.append((items[index][0], issue, version))
        return found


_WORKER: tuple[sa.Engine, _Checker] | None = None


def _start_worker(url: str, model_jsons: Mapping[str, str], attachments: Any, today: date) -> None:
    """A worker process: its own connection to the store and the validators."""
    global _WORKER
    from surveys.store.engine import _create_engine

    _WORKER = (_create_engine(url), _Checker(model_jsons, attachments, today))


def _check_in_worker(batch: Sequence[int], chosen: Mapping[int, tuple[str, bool]]):
    """Read and validate one batch: (stored_at by id, issues)."""
    assert _WORKER is not None
    engine, checker = _WORKER
    rows = _read_batch(engine, batch)
    return _stamps(rows), checker.check(rows, chosen)


def _record_issue(code, message, row, who, value=None) -> Issue:
    return Issue(
        code=code,
        severity=SEVERITY[code],
        message=message,
        instance_id=row.instance_id,
        enumerator=str(who) if who is not None else None,
        value=value,
    )


def _replace(issue: Issue, **changes: Any) -> Issue:
    from dataclasses import replace

    return replace(issue, **changes)


def _encoding_problems(texts: list[str]) -> set[int]:
    """Indices of the texts holding a lone surrogate, escaped (``\\ud800``) or not: the
    regex runs only on texts with an escape or a character UTF-8 cannot encode."""
    out = set()
    for index, text in enumerate(texts):
        if ("\\u" in text or not _utf8_encodable(text)) and _LONE_SURROGATE.search(text):
            out.add(index)
    return out


def _utf8_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _surrogate_paths(record: Any, path: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(record, dict):
        for key, value in record.items():
            out.extend(_surrogate_paths(value, f"{path}/{key}"))
    elif isinstance(record, list):
        for index, value in enumerate(record):
            out.extend(_surrogate_paths(value, f"{path}[{index + 1}]"))
    elif isinstance(record, str) and any("\ud800" <= c <= "\udfff" for c in record):
        out.append(path or "/")
    return out or ([] if path else ["/"])


def _clean(text: str | None) -> str | None:
    """Text that any database accepts (lone surrogates escaped)."""
    if text is None:
        return None
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


_ISSUE_COLUMNS = (
    "submission_id",
    "run_id",
    "code",
    "severity",
    "instance_id",
    "enumerator",
    "variable",
    "message",
    "value",
    "form_version",
    "created_at",
)
_STATE_COLUMNS = (
    "submission_id",
    "stored_at",
    "checked_version",
    "rules_digest",
    "run_id",
    "validated_at",
    "errors",
    "warnings",
)


def _write(store, batch, found, chosen, digests, run_id, stamps) -> tuple[int, list]:
    """Replace the issues and the state of the submissions ``batch`` (set-based: one
    DELETE per 5,000 ids, the new rows by executemany or PostgreSQL's COPY). A submission
    purged since it was chosen (not read: no stamp) or since it was read gets no rows: it
    is skipped. Returns how many submissions were written and their issues."""
    now = datetime.now(UTC)
    errors: Counter = Counter()
    warnings: Counter = Counter()
    rows = []
    for pk, issue, version in found:
        severity = issue.severity.value
        if severity == "error":
            errors[pk] += 1
        elif severity == "warning":
            warnings[pk] += 1
        rows.append(
            (
                pk,
                run_id,
                issue.code,
                severity,
                _clean(issue.instance_id),
                _clean(issue.enumerator),
                _clean(issue.variable)[:300] if issue.variable else None,
                _clean(issue.message),
                _clean(issue.value),
                version,
                now,
            )
        )
    states = [
        (
            pk,
            stamps.get(pk),
            chosen[pk][0],
            digests[chosen[pk][0]],
            run_id,
            now,
            errors[pk],
            warnings[pk],
        )
        for pk in batch
    ]
    with store.transaction() as conn:
        present = _still_stored(conn, [pk for pk in batch if pk in stamps])
        bulk.delete_where_in(conn, ISSUES, "submission_id", batch)
        bulk.delete_where_in(conn, STATE, "submission_id", batch)
        if len(present) < len(batch):
            rows = [row for row in rows if row[0] in present]
            states = [state for state in states if state[0] in present]
            found = [item for item in found if item[0] in present]
        bulk.insert_rows(conn, ISSUES, _ISSUE_COLUMNS, rows)
        bulk.insert_rows(conn, STATE, _STATE_COLUMNS, states)
    return len(states), found


def _still_stored(conn, ids: Sequence[int]) -> set[int]:
    """The submissions among ``ids`` still in the store. On PostgreSQL they stay locked
    (FOR KEY SHARE, which edits by a pull do not wait for) until the transaction ends, so a
    purge either went first -- and they are not returned -- or waits and then removes the
    rows written for them (:func:`surveys.store.writer.remove_missing` locks first too);
    SQLite's write lock already orders the two."""
    present: set[int] = set()
    for chunk in _chunks(sorted(ids), bulk.BATCH):
        query = (
            sa.select(SUBMISSIONS.c.id)
            .where(SUBMISSIONS.c.id.in_(chunk))
            .order_by(SUBMISSIONS.c.id)
            .with_for_update(read=True, key_share=True)
        )
        present.update(conn.execute(query).scalars())
    return present


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stored_issues(store: Store, form_id: str | None = None) -> list[dict[str, Any]]:
    """Every stored validation issue (of one form, or all), with the submission's ``__id``
    and form, ordered by form, submission and code."""
    query = (
        sa.select(
            writer.FORMS.c.xml_form_id.label("form_id"),
            SUBMISSIONS.c.central_id,
            ISSUES.c.instance_id,
            ISSUES.c.enumerator,
            ISSUES.c.code,
            ISSUES.c.severity,
            ISSUES.c.variable,
            ISSUES.c.value,
            ISSUES.c.message,
            ISSUES.c.form_version,
        )
        .select_from(
            ISSUES.join(SUBMISSIONS, SUBMISSIONS.c.id == ISSUES.c.submission_id).join(
                writer.FORMS, writer.FORMS.c.id == SUBMISSIONS.c.form_id
            )
        )
        .order_by(writer.FORMS.c.xml_form_id, SUBMISSIONS.c.id, ISSUES.c.code, ISSUES.c.id)
    )
    if form_id is not None:
        query = query.where(writer.FORMS.c.xml_form_id == form_id)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
