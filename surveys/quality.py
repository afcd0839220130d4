"""Quality control from the store: frames, audit events and the sample in, flags and the
enumerators' risk ranking out (tables ``qc_runs``, ``qc_flags``, ``qc_enumerators``).

Re-run after every pull (``popsurvey pull`` does, unless ``--no-qc``): a run whose inputs
(live submissions, their last change, audit events, settings) are unchanged since the last
run is skipped. Otherwise the run is incremental where the checks allow: each submission's
audit-log summary and best near-duplicate match are kept in ``qc_submission_state`` with a
stamp of the submission and its log, so only the audit events of new and changed
submissions are read and summarised, and only they are scanned for near-duplicates against
every interview. The rest is computed over the whole survey again (cheap once those two
are kept): per-enumerator indicators and their comparison with the team depend on every
enumerator (team rates, fences, age-specific expectations), and an enumerator's rank on
all the others. The stored flags are updated in one transaction: a flag raised again keeps
its id, first-seen time and the review state sent to Central; flags no longer raised are
removed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from pandas.api.types import union_categoricals

from forms.files import write_all_or_nothing
from surveys.config import SurveyConfig
from surveys.errors import SurveysError
from surveys.store import bulk, models, stream, writer
from surveys.store.engine import Store
from surveys.store.frames import analysis_frames
from validation.quality import (
    AUDIT_SUMMARY_COLUMNS,
    Codes,
    EarlierResults,
    QualityError,
    QualityInputs,
    QualityReport,
    Roles,
    Thresholds,
    run_quality,
)
from validation.quality.flags import jsonable

AUDIT_CHUNK = 500_000
"""Audit events read per batch (each batch's texts become categories)."""
RUNS = models.QCRun.__table__
FLAGS = models.QCFlag.__table__
RANKING = models.QCEnumerator.__table__
AUDITS = models.AuditEvent.__table__
STATE = models.QCSubmissionState.__table__


class QualityRunError(SurveysError):
    """Quality control cannot run (a bad setting or role, a form not in the store)."""


@dataclass
class QCResult:
    """What :func:`run_store_qc` did: the report (None when skipped as up to date), the
    stored ranking and flags of the form's latest run."""

    form_id: str
    ran: bool
    report: QualityReport | None
    ranking: pd.DataFrame
    flags: pd.DataFrame
    run_id: int
    submissions: int
    recomputed: int | None = None
    """Submissions whose audit log and near-duplicates were re-computed (new or changed
    since the last run); None when everything was (first run, settings changed, or not
    incremental)."""


def settings_of(config: SurveyConfig | None) -> tuple[Thresholds, Codes, Roles]:
    """Thresholds, codes and roles from survey.toml (defaults without one)."""
    if config is None:
        return Thresholds(), Codes(), Roles()
    quality = dataclasses.asdict(config.quality)
    roles = dict(quality.pop("roles", {}) or {})
    try:
        return (
            Thresholds.from_mapping(quality),
            Codes.of(config.codes.dont_know, config.codes.refused),
            Roles.from_mapping(roles),
        )
    except QualityError as err:
        raise QualityRunError(f"{config.path.name}: {err}") from None


def read_sample(config: SurveyConfig | None) -> pd.DataFrame | None:
    """The sampled units with their enumerator and coordinates: the entity list written by
    ``popsurvey sample assign`` (or None without survey.toml or a sample)."""
    if config is None:
        return None
    name = config.central.entity_list if config.central else "households"
    path = config.directory / "sample" / "entities" / f"{name}.csv"
    if not path.exists():
        return None
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "hhid" not in table.columns:
        return None
    out = pd.DataFrame({"unit_id": table["hhid"]})
    for source, target in (("psu", "psu"), ("enumerator", "enumerator"), ("role", "role")):
        if source in table.columns:
            out[target] = table[source]
    for source, target in (("lat", "latitude"), ("lon", "longitude")):
        if source in table.columns:
            out[target] = pd.to_numeric(table[source], errors="coerce")
    return out


def fingerprint(store: Store, form_pk: int, settings: str) -> tuple[str, int]:
    """A digest of what a run reads (live submissions, their latest change, audit events,
    the settings) and the number of live submissions."""
    table = writer.SUBMISSIONS
    with store.engine.connect() as conn:
        count, latest, changed = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.max(table.c.stored_at),
                sa.func.max(table.c.updated_at),
            ).where(table.c.form_id == form_pk, table.c.deleted.is_(False))
        ).one()
        events = conn.execute(
            sa.select(sa.func.count())
            .select_from(AUDITS.join(table, AUDITS.c.submission_id == table.c.id))
            .where(table.c.form_id == form_pk)
        ).scalar()
    text = f"{count}|{latest}|{changed}|{events}|{settings}"
    return hashlib.sha256(text.encode()).hexdigest()[:32], int(count)


def run_store_qc(
    store: Store,
    form_id: str,
    config: SurveyConfig | None = None,
    *,
    force: bool = False,
    checks: list[str] | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    incremental: bool = True,
    workers: int = 2,
) -> QCResult:
    """Run quality control on a stored form unless nothing changed since the last run
    (``force``: run anyway); ``incremental``: reuse what the last run with the same
    settings kept of unchanged submissions (see the module doc), else recompute all;
    ``workers``: 2 runs the near-duplicate scan in a second process meanwhile."""
    thresholds, codes, roles = settings_of(config)
    settings = json.dumps(
        {
            "thresholds": jsonable(dataclasses.asdict(thresholds)),
            "codes": jsonable(dataclasses.asdict(codes)),
            "roles": jsonable(dataclasses.asdict(roles)),
            "checks": checks,
            "fieldwork": _fieldwork(config),
        },
        sort_keys=True,
    )
    form_pk = _form_pk(store, form_id)
    digest, count = fingerprint(store, form_pk, settings)
    last = _last_run(store, form_pk)
    if last is not None and last.fingerprint == digest and not force:
        return QCResult(form_id, False, None, *_stored(store, form_pk), last.id, count)
    started = datetime.now(UTC)
    stamps = _stamps(store, form_pk)
    kept = (
        _kept_state(store, form_pk)
        if incremental and last is not None and last.settings_json == settings
        else None
    )
    changed_pks = None
    if kept is not None and len(kept):
        old_stamp = stamps["submission_id"].map(kept.set_index("submission_id")["stamp"])
        changed_pks = stamps.loc[old_stamp != stamps["stamp"], "submission_id"].tolist()
    frames = analysis_frames(store, form_id)
    earlier = (
        _earlier(frames.main, stamps, kept, set(changed_pks), roles)
        if changed_pks is not None
        else None
    )
    inputs = QualityInputs(
        form=_newest_model(store, form_pk),
        main=frames.main,
        repeats=frames.repeats,
        audit=_audit_events(store, form_pk, changed_pks),
        earlier=earlier,
        sample=read_sample(config),
        codes=codes,
        thresholds=thresholds,
        roles=roles,
        fieldwork=(config.fieldwork.start, config.fieldwork.end)
        if config and config.fieldwork
        else None,
        timezone=config.fieldwork.timezone if config and config.fieldwork else "Asia/Shanghai",
        now=now or _data_now(frames.main),
        forms_by_version=_models(store, form_pk),
    )
    try:
        report = run_quality(inputs, checks, progress, workers)
    except QualityError as err:
        raise QualityRunError(f"quality control of {form_id}: {err}") from None
    run_id = _save(store, form_pk, digest, count, settings, report, inputs, started)
    _save_state(store, form_pk, run_id, stamps, report, inputs, kept)
    recomputed = None if changed_pks is None else len(changed_pks)
    return QCResult(form_id, True, report, *_stored(store, form_pk), run_id, count, recomputed)


def _stamps(store: Store, form_pk: int) -> pd.DataFrame:
    """Per live submission: primary key, instance ID and a stamp that changes when the
    submission is stored again or its audit log is replaced (new event ids)."""
    table = writer.SUBMISSIONS
    last_event = (
        sa.select(AUDITS.c.submission_id, sa.func.max(AUDITS.c.id).label("last_event"))
        .group_by(AUDITS.c.submission_id)
        .subquery()
    )
    query = (
        sa.select(table.c.id, table.c.instance_id, table.c.stored_at, last_event.c.last_event)
        .select_from(table.outerjoin(last_event, last_event.c.submission_id == table.c.id))
        .where(table.c.form_id == form_pk, table.c.deleted.is_(False))
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(
        {
            "submission_id": [r.id for r in rows],
            "instance_id": [r.instance_id for r in rows],
            "stamp": [f"{r.stored_at}|{r.last_event}" for r in rows],
        }
    )


def _kept_state(store: Store, form_pk: int) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.read_sql(sa.select(STATE).where(STATE.c.form_id == form_pk), conn)


def _earlier(
    main: pd.DataFrame, stamps: pd.DataFrame, kept: pd.DataFrame, changed: set, roles: Roles
) -> EarlierResults:
    """What the last run kept, for the checks: unchanged submissions' audit summaries and
    best matches, and which main rows changed."""
    column = roles.instance if roles.instance in main.columns else "__id"
    pk_of = dict(zip(stamps["instance_id"], stamps["submission_id"], strict=True))
    pks = main[column].map(pk_of)
    unchanged = kept[~kept["submission_id"].isin(changed)].set_index("instance_id")
    return EarlierResults(
        changed=(pks.isna() | pks.isin(changed)).to_numpy(dtype=bool),
        audit_summary=unchanged[list(AUDIT_SUMMARY_COLUMNS)],
        best_share=unchanged["best_share"],
        best_match=unchanged["best_match"],
    )


def _save_state(store, form_pk, run_id, stamps, report, inputs, stored=None) -> None:
    """Keep each live submission's stamp, audit summary and best match for the next run,
    writing only the rows that changed since the stored state (``stored``: that state, when
    already read); every row is then the latest run's."""
    from validation.quality.paradata import audit_per_interview

    summary = audit_per_interview(inputs)
    notes = report.notes.get("near_duplicates", {})
    kept = summary.assign(instance_id=inputs.instance_ids).drop_duplicates("instance_id")
    table = stamps.merge(kept, on="instance_id", how="left")
    # -1: compared, no candidate pair at all (kept: such an interview need not be scanned
    # again); missing: not compared (incomplete), scanned when it is
    table["best_share"] = table["instance_id"].map(notes.get("best_share", {}))
    table["best_match"] = table["instance_id"].map(notes.get("best_match", {}))
    table["form_id"] = form_pk
    table["run_id"] = run_id
    columns = [
        "submission_id",
        "form_id",
        "run_id",
        "instance_id",
        "stamp",
        *AUDIT_SUMMARY_COLUMNS,
        "best_share",
        "best_match",
    ]
    table = table[columns]
    if stored is None:
        stored = _kept_state(store, form_pk)
    gone, written = _state_changes(table, stored[columns])
    rows = written.astype(object)
    rows = list(rows.where(rows.notna(), None).itertuples(index=False, name=None))
    with store.engine.begin() as conn:
        bulk.delete_where_in(conn, STATE, "submission_id", [*gone, *written["submission_id"]])
        bulk.insert_rows(conn, STATE, columns, rows)
        conn.execute(STATE.update().where(STATE.c.form_id == form_pk).values(run_id=run_id))


def _state_changes(new: pd.DataFrame, stored: pd.DataFrame) -> tuple[list[int], pd.DataFrame]:
    """The stored state rows to delete (submissions gone) and the new rows to write (new
    submissions and those whose content changed; NULL equals NaN, the run is no content)."""
    gone = stored.loc[~stored["submission_id"].isin(new["submission_id"]), "submission_id"]
    old = new[["submission_id"]].merge(stored, on="submission_id", how="left")
    same = pd.Series(old["submission_id"].isin(stored["submission_id"]).to_numpy())
    for column in new.columns.drop(["submission_id", "run_id"]):
        a, b = new[column].reset_index(drop=True), old[column]
        same &= (a.isna() & b.isna()) | (a.notna() & b.notna() & (a == b))
    return [int(pk) for pk in gone], new[~same.to_numpy()]


def _fieldwork(config: SurveyConfig | None) -> list[str] | None:
    if config is None or config.fieldwork is None:
        return None
    return [config.fieldwork.start.isoformat(), config.fieldwork.end.isoformat()]


def _data_now(main: pd.DataFrame) -> datetime:
    """Now, or the latest submission date when the data are later (simulated fieldwork)."""
    now = datetime.now(UTC)
    if "submission_date" in main.columns and len(main):
        latest = pd.to_datetime(main["submission_date"], errors="coerce", utc=True).max()
        if pd.notna(latest) and latest.to_pydatetime() > now:
            return latest.to_pydatetime()
    return now


def _form_pk(store: Store, form_id: str) -> int:
    with store.engine.connect() as conn:
        pk = conn.execute(
            sa.select(writer.FORMS.c.id).where(writer.FORMS.c.xml_form_id == form_id)
        ).scalar()
    if pk is None:
        raise QualityRunError(f"form {form_id} is not in the store: pull or import it first")
    return int(pk)


def _models(store: Store, form_pk: int) -> dict[str, Any]:
    with store.engine.connect() as conn:
        return writer.form_models(conn, form_pk)


def _newest_model(store: Store, form_pk: int):
    from validation.quality.admin import version_key

    found = _models(store, form_pk)
    if not found:
        raise QualityRunError("no FormModel stored for the form: pull or import with --form")
    return found[max(found, key=version_key)]


def audit_query(form_pk: int) -> sa.Select:
    """The audit events of the form's live submissions (:data:`AUDIT_COLUMNS`, the
    submission's current instance ID first), in each log's order."""
    table = writer.SUBMISSIONS
    return (
        sa.select(
            table.c.instance_id.label("submission_instance"),
            AUDITS.c.event,
            AUDITS.c.node,
            AUDITS.c.start_ms,
            AUDITS.c.end_ms,
            AUDITS.c.old_value,
            AUDITS.c.new_value,
        )
        .select_from(AUDITS.join(table, AUDITS.c.submission_id == table.c.id))
        .where(table.c.form_id == form_pk, table.c.deleted.is_(False))
        .order_by(AUDITS.c.submission_id, AUDITS.c.seq)
    )


def _audit_events(store: Store, form_pk: int, only: list[int] | None = None) -> pd.DataFrame:
    """The audit events of the form's live submissions (of the submissions ``only`` when
    given), in each log's order, texts as categories. Read through the driver's cursor
    (:func:`surveys.store.stream.row_batches`), a batch of ``AUDIT_CHUNK`` rows at a time."""
    query = audit_query(form_pk)
    if only is None:
        queries = [query]
    else:
        queries = [
            query.where(AUDITS.c.submission_id.in_(only[i : i + 5000]))
            for i in range(0, len(only), 5000)
        ]
    parts = []
    with store.engine.connect() as conn:
        for query in queries:
            for rows in stream.row_batches(conn, query, AUDIT_CHUNK):
                parts.append(_audit_chunk(rows))
    if not parts:
        return pd.DataFrame(columns=["instance_id", *AUDIT_COLUMNS[1:]])
    frame = pd.concat(
        [p.drop(columns=["submission_instance", "event", "node"]) for p in parts],
        ignore_index=True,
    )
    for column in ("submission_instance", "event", "node"):  # millions of repeated texts
        frame[column] = union_categoricals([p[column] for p in parts])
    # the submission's current instance ID (an edited submission's log came with it)
    return frame.rename(columns={"submission_instance": "instance_id"})


AUDIT_COLUMNS = ("submission_instance", "event", "node", "start_ms", "end_ms")
AUDIT_COLUMNS += ("old_value", "new_value")
"""The audit events' columns as read (the submission's instance ID first)."""


def _audit_chunk(rows: list[tuple]) -> pd.DataFrame:
    """One batch of audit rows as columns: texts as categories (sorted, as ``astype``
    gives them), times as int64 (float64 with NaN where a time is missing), values as
    objects (None where missing)."""
    table = np.array(rows, dtype=object)
    return pd.DataFrame(
        {
            "submission_instance": _categories(table[:, 0]),
            "event": _categories(table[:, 1]),
            "node": _categories(table[:, 2]),
            "start_ms": _milliseconds(table[:, 3]),
            "end_ms": _milliseconds(table[:, 4]),
            "old_value": table[:, 5].copy(),
            "new_value": table[:, 6].copy(),
        }
    )


def _categories(texts: np.ndarray) -> pd.Categorical:
    codes, categories = pd.factorize(texts, sort=True)
    return pd.Categorical.from_codes(codes, categories)


def _milliseconds(values: np.ndarray) -> np.ndarray:
    as_float = values.astype(float)
    if np.isnan(as_float).any():
        return as_float
    return values.astype(np.int64)


def _last_run(store: Store, form_pk: int):
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(RUNS).where(RUNS.c.form_id == form_pk).order_by(RUNS.c.id.desc()).limit(1)
        ).first()


def _save(store, form_pk, digest, count, settings, report, inputs, started) -> int:
    """Store the run, replace the ranking and update the flags, in one transaction."""
    submission_pk = _submission_keys(store, form_pk)
    finished = datetime.now(UTC)
    summary = {
        "flagged_enumerators": report.flagged_enumerators(),
        "skipped": report.skipped,
        "timings": report.timings,
        "rho_int": report.rho.to_dict("records"),
        "omission_by_area": report.notes.get("omitted_daughters", {}).get("areas", []),
    }
    with store.engine.begin() as conn:
        run_id = conn.execute(
            RUNS.insert().values(
                form_id=form_pk,
                fingerprint=digest,
                submissions=count,
                flags=len(report.flags),
                settings_json=settings,
                summary_json=json.dumps(jsonable(summary), ensure_ascii=False),
                started_at=started,
                finished_at=finished,
            )
        ).inserted_primary_key[0]
        conn.execute(RANKING.delete().where(RANKING.c.form_id == form_pk))
        indicators = report.indicators
        by_enumerator = (
            {e: f for e, f in indicators.groupby("enumerator")} if len(indicators) else {}
        )
        rows = [
            {
                "run_id": run_id,
                "form_id": form_pk,
                "enumerator": r.enumerator,
                "interviews": int(r.interviews),
                "risk": float(r.risk),
                "flagged": bool(r.flagged),
                "rank": int(r.rank),
                "reasons_en": r.reasons_en,
                "reasons_zh": r.reasons_zh,
                "indicators_json": _indicator_json(by_enumerator.get(r.enumerator)),
            }
            for r in report.enumerators.itertuples()
        ]
        if rows:
            conn.execute(RANKING.insert(), rows)
        _update_flags(conn, form_pk, run_id, report, submission_pk, finished)
    return int(run_id)


def _indicator_json(frame: pd.DataFrame | None) -> str:
    if frame is None:
        return "{}"
    records = frame[["indicator", *INDICATOR_FIELDS]].to_dict("records")
    return json.dumps(
        jsonable({r["indicator"]: {c: r[c] for c in INDICATOR_FIELDS} for r in records}),
        ensure_ascii=False,
    )


INDICATOR_FIELDS = ("value", "n", "team", "z", "signal", "flagged")
"""What the ranking keeps of each of an enumerator's indicators (``indicators_json``)."""


def _submission_keys(store: Store, form_pk: int) -> dict[str, int]:
    table = writer.SUBMISSIONS
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.instance_id, table.c.central_id, table.c.id).where(
                table.c.form_id == form_pk
            )
        ).all()
    out = {r.central_id: r.id for r in rows}
    out.update({r.instance_id: r.id for r in rows})
    return out


def _flag_key(code, instance_id, enumerator, variable) -> tuple:
    return (code or "", instance_id or "", enumerator or "", variable or "")


FLAG_CONTENT = ("submission_id", "check", "severity", "value", "message", "details_json")
"""A stored flag's columns that a new run may change (beyond its run)."""


def _update_flags(conn, form_pk, run_id, report, submission_pk, now) -> None:
    """Keep each flag a run finds again (its id, created_at and review state) and move it
    to this run; insert new flags and delete those no longer found. Only the kept flags
    whose content changed are rewritten one by one (a run after a pull finds most again)."""
    columns = [FLAGS.c.id, FLAGS.c.code, FLAGS.c.instance_id, FLAGS.c.enumerator]
    columns += [FLAGS.c.variable, *(FLAGS.c[c] for c in FLAG_CONTENT)]
    existing = {
        _flag_key(r.code, r.instance_id, r.enumerator, r.variable): (
            r.id,
            tuple(getattr(r, c) for c in FLAG_CONTENT),
        )
        for r in conn.execute(sa.select(*columns).where(FLAGS.c.form_id == form_pk))
    }
    from validation.quality.registry import CHECKS

    check_of = {item.code: item.name for item in CHECKS.values()}
    fresh, changed = [], []
    seen: set[tuple] = set()
    for flag in report.flags:
        key = _flag_key(flag.code, flag.instance_id, flag.enumerator, flag.variable)
        if key in seen:
            continue
        seen.add(key)
        values = {
            "submission_id": submission_pk.get(flag.instance_id or ""),
            "check": check_of.get(flag.code)
            or check_of.setdefault(flag.code, _check_name(flag.code)),
            "severity": flag.severity.value,
            "value": flag.value,
            "message": flag.message,
            "details_json": json.dumps(jsonable(flag.evidence), ensure_ascii=False),
        }
        stored = existing.get(key)
        if stored is None:
            fresh.append(
                {
                    **values,
                    "form_id": form_pk,
                    "run_id": run_id,
                    "code": flag.code,
                    "instance_id": flag.instance_id,
                    "enumerator": flag.enumerator,
                    "variable": flag.variable,
                    "created_at": now,
                }
            )
        elif not _same_content(stored[1], tuple(values[c] for c in FLAG_CONTENT)):
            changed.append({"pk": stored[0], **values})
    bulk.delete_where_in(
        conn, FLAGS, "id", [pk for key, (pk, _) in existing.items() if key not in seen]
    )
    conn.execute(FLAGS.update().where(FLAGS.c.form_id == form_pk).values(run_id=run_id))
    if changed:
        update = (
            FLAGS.update()
            .where(FLAGS.c.id == sa.bindparam("pk"))
            .values({k: sa.bindparam(k) for k in FLAG_CONTENT})
        )
        conn.execute(update, changed)
    if fresh:
        conn.execute(FLAGS.insert(), fresh)


def _same_content(stored: tuple, new: tuple) -> bool:
    """Whether a stored flag's content equals a new run's (floats as the database keeps
    them: NaN stored as NULL)."""
    for old, value in zip(stored, new, strict=True):
        if isinstance(value, float) and value != value:
            value = None
        if isinstance(old, float) and old != old:
            old = None
        if old != value:
            return False
    return True


def _check_name(code: str) -> str:
    from validation.quality.registry import CHECKS, selected_checks

    selected_checks()
    prefix = code[:3]
    for item in CHECKS.values():
        if item.code[:3] == prefix:
            return item.name
    return code


def _stored(store: Store, form_pk: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    with store.engine.connect() as conn:
        ranking = pd.read_sql(
            sa.select(RANKING).where(RANKING.c.form_id == form_pk).order_by(RANKING.c.rank), conn
        )
        flags = pd.read_sql(
            sa.select(FLAGS).where(FLAGS.c.form_id == form_pk).order_by(FLAGS.c.id), conn
        )
    return ranking, flags


def write_outputs(result: QCResult, out_dir: Path) -> list[Path]:
    """``<form>.qc.flags.csv`` and ``.json`` (every flag with its evidence) and
    ``<form>.qc.enumerators.csv`` (the ranking with reasons), all or nothing."""
    flags = result.flags.drop(columns=["id", "form_id", "enumerator_id"], errors="ignore")
    for column in ("submission_id", "run_id"):
        if column in flags.columns:
            flags[column] = flags[column].astype("Int64")
    records = []
    for row in flags.to_dict("records"):
        row["evidence"] = json.loads(row.pop("details_json") or "{}")
        records.append(jsonable(row))
    ranking = result.ranking.drop(columns=["id", "form_id"], errors="ignore")
    stem = result.form_id
    return write_all_or_nothing(
        out_dir,
        {
            f"{stem}.qc.flags.csv": flags.to_csv(index=False).encode("utf-8"),
            f"{stem}.qc.flags.json": json.dumps(
                records, ensure_ascii=False, indent=1, default=str
            ).encode("utf-8"),
            f"{stem}.qc.enumerators.csv": ranking.to_csv(index=False).encode("utf-8"),
        },
    )
