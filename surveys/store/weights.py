"""Weighting runs in the store: which submissions to leave out, and the runs' weights.

A run is written in three steps so that a failure never loses the weights in use:
:func:`start_run` records it as ``running``; :func:`finish_run` adds its weights (one row per
submission and weight: ``final``, ``repw_1``...) and the weighted submissions' sampling
design (``weighting_design``: stratum, PSU, fpc), marks it ``finished`` and only then deletes
the earlier runs of the same form and name, all in one transaction; :func:`fail_run` marks it
``failed`` with the error and leaves the previous run in place. :func:`latest_run` gives the
newest finished run with its weights, one column per weight, keyed by the submission's
Central ``__id``, and its design; :func:`finished_run` a finished run named by its id. A
running or failed run is never read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from surveys.store import models, writer
from surveys.store.engine import Store
from surveys.store.errors import StoreError

RUNS = models.WeightingRun.__table__
WEIGHTS = models.Weight.__table__
DESIGN = models.WeightingDesign.__table__
ISSUES = models.ValidationIssue.__table__

RUNNING, FINISHED, FAILED = "running", "finished", "failed"
FINAL = "final"
"""Name of the final weight; replicate weights are ``repw_1``, ``repw_2``..."""
DESIGN_COLUMNS = ("stratum", "psu", "fpc")
"""The design kept per weighted submission (``__id`` + these; None where the run has none)."""

_CHUNK = 1000


@dataclass(frozen=True)
class StoredRun:
    """A finished weighting run: its row's fields and its weights (``__id`` + one column per
    weight name, final first)."""

    id: int
    form_id: str
    name: str
    spec: Mapping[str, Any]
    diagnostics: Mapping[str, Any]
    history: list[Any]
    finished_at: datetime | None
    weights: pd.DataFrame = field(repr=False)
    message: str | None = None
    design: pd.DataFrame | None = field(default=None, repr=False)
    """``__id``, ``stratum``, ``psu`` (text codes as drawn) and ``fpc`` of each weighted
    submission; None for a run stored without its design."""


def submissions_left_out(store: Store, form_id: str) -> dict[str, set[str]]:
    """Central ``__id`` of the form's submissions that weighting leaves out, by reason:
    ``"validation errors"`` (a ``validation_issues`` row with severity ``error``) and
    ``"rejected in review"`` (``review_state == "rejected"``)."""
    subs = writer.SUBMISSIONS
    with store.engine.connect() as conn:
        form_pk = _form_pk(conn, form_id)
        invalid = conn.execute(
            sa.select(subs.c.central_id)
            .where(subs.c.form_id == form_pk)
            .where(
                subs.c.id.in_(sa.select(ISSUES.c.submission_id).where(ISSUES.c.severity == "error"))
            )
        ).scalars()
        invalid = set(invalid)
        rejected = set(
            conn.execute(
                sa.select(subs.c.central_id)
                .where(subs.c.form_id == form_pk)
                .where(subs.c.review_state == "rejected")
            ).scalars()
        )
    return {"validation errors": invalid, "rejected in review": rejected}


def start_run(store: Store, form_id: str, name: str, spec: Mapping[str, Any]) -> int:
    """Record a new run of ``name`` on ``form_id`` as running; its id."""
    with store.transaction() as conn:
        _form_pk(conn, form_id)
        return int(
            conn.execute(
                RUNS.insert().values(
                    name=name,
                    form_id=form_id,
                    status=RUNNING,
                    spec_json=_dumps(spec),
                    created_at=datetime.now(UTC),
                )
            ).inserted_primary_key[0]
        )


def finish_run(
    store: Store,
    run_id: int,
    weights: pd.DataFrame,
    *,
    diagnostics: Mapping[str, Any],
    history: list[Any],
    message: str | None = None,
    spec: Mapping[str, Any] | None = None,
    design: pd.DataFrame | None = None,
) -> int:
    """Store the run's weights (``__id`` and one column per weight name) and ``design``
    (``__id`` and any of :data:`DESIGN_COLUMNS`), mark it finished and delete the earlier
    runs of its form and name; the number of submissions weighted. ``spec`` replaces the
    specification recorded at the start (what only the run learnt, such as the replicates'
    scale)."""
    if "__id" not in weights.columns:
        raise StoreError("weights need the submissions' __id")
    if design is not None and "__id" not in design.columns:
        raise StoreError("the design needs the submissions' __id")
    names = [c for c in weights.columns if c != "__id"]
    subs = writer.SUBMISSIONS
    with store.transaction() as conn:
        run = conn.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).one()
        form_pk = _form_pk(conn, run.form_id)
        pks = dict(
            conn.execute(
                sa.select(subs.c.central_id, subs.c.id).where(subs.c.form_id == form_pk)
            ).all()
        )
        unknown = [i for i in weights["__id"] if i not in pks]
        if unknown:
            raise StoreError(f"weighting run {run_id}: submission {unknown[0]} is not stored")
        rows = [
            {"run_id": run_id, "submission_id": pks[sid], "weight_name": name, "value": float(v)}
            for name in names
            for sid, v in zip(weights["__id"], weights[name], strict=True)
        ]
        for start in range(0, len(rows), _CHUNK):
            conn.execute(WEIGHTS.insert(), rows[start : start + _CHUNK])
        if design is not None:
            _insert_design(conn, run_id, design, pks)
        values = {
            "status": FINISHED,
            "finished_at": datetime.now(UTC),
            "diagnostics_json": _dumps(diagnostics),
            "history_json": _dumps(history),
            "message": message,
        }
        if spec is not None:
            values["spec_json"] = _dumps(spec)
        conn.execute(RUNS.update().where(RUNS.c.id == run_id).values(**values))
        earlier = sa.select(RUNS.c.id).where(
            RUNS.c.form_id == run.form_id,
            RUNS.c.name == run.name,
            RUNS.c.id != run_id,
            RUNS.c.status != RUNNING,
        )
        old = list(conn.execute(earlier).scalars())
        if old:
            conn.execute(WEIGHTS.delete().where(WEIGHTS.c.run_id.in_(old)))
            conn.execute(DESIGN.delete().where(DESIGN.c.run_id.in_(old)))
            conn.execute(RUNS.delete().where(RUNS.c.id.in_(old)))
    return len(weights)


def fail_run(store: Store, run_id: int, message: str) -> None:
    """Mark a run failed with ``message``; the previous finished run stays in use."""
    with store.transaction() as conn:
        conn.execute(
            RUNS.update()
            .where(RUNS.c.id == run_id)
            .values(status=FAILED, finished_at=datetime.now(UTC), message=message[:2000])
        )


def latest_run(store: Store, form_id: str, name: str = "survey") -> StoredRun:
    """The newest finished run of ``name`` on ``form_id``, with its weights and design."""
    with store.engine.connect() as conn:
        run = conn.execute(
            sa.select(RUNS)
            .where(RUNS.c.form_id == form_id, RUNS.c.name == name, RUNS.c.status == FINISHED)
            .order_by(RUNS.c.id.desc())
            .limit(1)
        ).first()
        if run is None:
            raise StoreError(
                f"no finished weighting run of form {form_id} in the store: "
                "run `popsurvey weight --survey DIR` first"
            )
        return _stored(conn, run)


def finished_run(store: Store, form_id: str, run_id: int) -> StoredRun:
    """Weighting run ``run_id`` of ``form_id`` with its weights and design; an error naming
    the status when it is running or failed (its weights are incomplete or stale)."""
    with store.engine.connect() as conn:
        run = conn.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).first()
        if run is None or run.form_id != form_id:
            raise StoreError(f"no weighting run {run_id} of form {form_id} in the store")
        if run.status != FINISHED:
            why = f": {run.message}" if run.message else ""
            raise StoreError(
                f"weighting run {run_id} is {run.status or 'of unknown status'}{why}; "
                "only a finished run can be used"
            )
        return _stored(conn, run)


def _stored(conn: sa.Connection, run: sa.Row) -> StoredRun:
    subs = writer.SUBMISSIONS
    values = conn.execute(
        sa.select(subs.c.central_id, WEIGHTS.c.weight_name, WEIGHTS.c.value)
        .join(subs, subs.c.id == WEIGHTS.c.submission_id)
        .where(WEIGHTS.c.run_id == run.id)
    ).all()
    design_rows = conn.execute(
        sa.select(subs.c.central_id, DESIGN.c.stratum, DESIGN.c.psu, DESIGN.c.fpc)
        .join(subs, subs.c.id == DESIGN.c.submission_id)
        .where(DESIGN.c.run_id == run.id)
    ).all()
    long = pd.DataFrame(values, columns=["__id", "weight_name", "value"])
    wide = long.pivot(index="__id", columns="weight_name", values="value")
    others = sorted((c for c in wide.columns if c != FINAL), key=lambda c: (len(c), c))
    order = [FINAL, *others]
    wide = wide[[c for c in order if c in wide.columns]].reset_index()
    wide.columns.name = None
    design = None
    if design_rows:
        design = pd.DataFrame(design_rows, columns=["__id", *DESIGN_COLUMNS])
        design["fpc"] = design["fpc"].astype(float)
    return StoredRun(
        id=run.id,
        form_id=run.form_id,
        name=run.name,
        spec=json.loads(run.spec_json or "{}"),
        diagnostics=json.loads(run.diagnostics_json or "{}"),
        history=json.loads(run.history_json or "[]"),
        finished_at=run.finished_at,
        weights=wide,
        message=run.message,
        design=design,
    )


def _insert_design(
    conn: sa.Connection, run_id: int, design: pd.DataFrame, pks: Mapping[str, int]
) -> None:
    unknown = [i for i in design["__id"] if i not in pks]
    if unknown:
        raise StoreError(f"weighting run {run_id}: submission {unknown[0]} is not stored")
    if design["__id"].duplicated().any():
        raise StoreError(f"weighting run {run_id}: the design lists a submission twice")
    rows = [
        {
            "run_id": run_id,
            "submission_id": pks[record["__id"]],
            "stratum": _code(record.get("stratum")),
            "psu": _code(record.get("psu")),
            "fpc": None if pd.isna(record.get("fpc", None)) else float(record["fpc"]),
        }
        for record in design.to_dict("records")
    ]
    for start in range(0, len(rows), _CHUNK):
        conn.execute(DESIGN.insert(), rows[start : start + _CHUNK])


def _code(value: Any) -> str | None:
    """A stratum or PSU code as text (whole numbers without a trailing ``.0``)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _form_pk(conn: sa.Connection, form_id: str) -> int:
    pk = conn.execute(
        sa.select(writer.FORMS.c.id).where(writer.FORMS.c.xml_form_id == form_id)
    ).scalar()
    if pk is None:
        raise StoreError(f"form {form_id} is not in the store")
    return int(pk)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    """numpy numbers and other odd values as JSON can hold them."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)
