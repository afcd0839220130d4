"""Exports from the store: the analysis frames, filtered as the survey's contract says, with
the latest weights, handed to :mod:`exports`, and each export recorded in ``export_runs``.

Left out unless asked for (and written in the export's log either way):

- submissions with validation errors: a ``validation_issues`` row with that submission and
  severity ``error``;
- submissions rejected in review: ``submissions.review_state == "rejected"``.

Weights and design come from the form's newest *finished* weighting run
(:func:`surveys.store.weights.latest_run`; a finished run named by its id with
``weighting_run``): its final weight, replicate weights and each weighted submission's
stratum, PSU and fpc, exported as ``final_weight``, ``repw_k``, ``design_stratum``,
``design_psu`` and ``design_fpc`` (:data:`DESIGN_NAMES`). A running or failed run is never
exported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from exports import DesignColumns, ExportOptions, ExportResult, export_frames
from exports.options import MissingCodes
from forms.model import FormModel
from surveys.errors import SurveysError
from surveys.store import models, writer
from surveys.store.engine import Store
from surveys.store.errors import StoreError
from surveys.store.frames import AnalysisFrames, analysis_frames
from surveys.store.weights import FINAL, StoredRun, finished_run, latest_run
from surveys.survey_weighting import RUN_NAME

VALIDATION_ISSUES = models.ValidationIssue.__table__
EXPORT_RUNS = models.ExportRun.__table__


class ExportStoreError(SurveysError):
    """The store cannot give what the export needs (no such weighting run, ...)."""


def codes_from_config(config) -> MissingCodes:
    """survey.toml's ``[codes]`` as the exports' missing codes."""
    return MissingCodes(dont_know=config.codes.dont_know, refused=config.codes.refused)


def export_from_store(
    store: Store,
    form_id: str,
    out_dir: str | Path,
    options: ExportOptions,
    *,
    keep_errors: bool = False,
    keep_rejected: bool = False,
    weighting_run: int | None = None,
    unweighted: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> ExportResult:
    """Export a form's stored submissions (see the module docstring) and record the run."""
    frames = analysis_frames(store, form_id, coded=True)  # select_one codes as categoricals
    with store.engine.connect() as conn:
        form_pk = conn.execute(
            sa.select(writer.FORMS.c.id).where(writer.FORMS.c.xml_form_id == form_id)
        ).scalar_one()
        models_by_version = writer.form_models(conn, form_pk)
        left_out, filters = _left_out(conn, form_pk, keep_errors, keep_rejected)
    design = None if unweighted else stored_design(store, form_id, weighting_run)
    form = _newest(models_by_version)
    frames = _without(frames, left_out)
    filters["submissions_exported"] = len(frames.main)
    versions = sorted({str(v) for v in frames.main.get("form_version", pd.Series()).dropna()})
    filters["form_versions"] = versions
    if design is None:
        filters["weights"] = (
            "none (export unweighted)" if unweighted else "no finished weighting run"
        )
    else:
        filters["weights"] = f"weighting run {design.run['id']} ({design.run['name']})"
    options = replace(options, filters={**options.filters, **filters})
    older = [m for m in _newest_first(models_by_version) if m is not form]
    result = export_frames(
        form,
        frames.main,
        frames.repeats,
        out_dir,
        options,
        design,
        progress=progress,
        older=older,
    )
    with store.transaction() as conn:
        conn.execute(
            EXPORT_RUNS.insert().values(
                kind=",".join(options.formats),
                path=str(Path(out_dir).absolute()),
                params_json=json.dumps(result.provenance, ensure_ascii=False),
                row_count=len(frames.main),
                created_at=datetime.now(UTC).replace(tzinfo=None),
                form_id=form_id,
                form_versions=",".join(versions)[:1000],
                weighting_run_id=design.run.get("id") if design is not None else None,
                files_json=json.dumps(result.checksums()),
            )
        )
    return result


def _newest(by_version: dict[str, FormModel]) -> FormModel:
    return _newest_first(by_version)[0]


def _newest_first(by_version: dict[str, FormModel]) -> list[FormModel]:
    def key(version: str) -> tuple[int, str]:
        return (int(version), version) if version.isdigit() else (0, version)

    return [by_version[v] for v in sorted(by_version, key=key, reverse=True)]


def _left_out(
    conn: sa.Connection, form_pk: int, keep_errors: bool, keep_rejected: bool
) -> tuple[set[str], dict[str, object]]:
    subs = writer.SUBMISSIONS
    errors = set(
        conn.execute(
            sa.select(subs.c.central_id)
            .join(VALIDATION_ISSUES, VALIDATION_ISSUES.c.submission_id == subs.c.id)
            .where(subs.c.form_id == form_pk, VALIDATION_ISSUES.c.severity == "error")
            .distinct()
        ).scalars()
    )
    rejected = set(
        conn.execute(
            sa.select(subs.c.central_id).where(
                subs.c.form_id == form_pk, subs.c.review_state == "rejected"
            )
        ).scalars()
    )
    filters: dict[str, object] = {
        "validation_errors": (
            f"{len(errors)} submissions with validation errors "
            + ("KEPT (--keep-errors)" if keep_errors else "left out")
        ),
        "rejected": (
            f"{len(rejected)} submissions rejected in review "
            + ("KEPT (--keep-rejected)" if keep_rejected else "left out")
        ),
    }
    left_out = (set() if keep_errors else errors) | (set() if keep_rejected else rejected)
    return left_out, filters


def _without(frames: AnalysisFrames, left_out: set[str]) -> AnalysisFrames:
    if not left_out:
        return frames
    main = frames.main[~frames.main["__id"].astype(str).isin(left_out)].reset_index(drop=True)
    repeats = {
        name: frame[~frame["__id"].astype(str).isin(left_out)].reset_index(drop=True)
        for name, frame in frames.repeats.items()
    }
    return AnalysisFrames(main, repeats)


DESIGN_NAMES = {
    FINAL: "final_weight",
    "stratum": "design_stratum",
    "psu": "design_psu",
    "fpc": "design_fpc",
}
"""Exported name of each of a run's design columns (replicate weights keep ``repw_k``):
names no questionnaire uses for its own ``stratum`` or ``psu`` questions."""
_REPLICATE_TYPES = {
    "jk1": "jk1",
    "jkn": "jkn",
    "brr": "brr",
    "fay": "fay",
    "bootstrap": "bootstrap",
    "subbootstrap": "bootstrap",
}


def stored_design(store: Store, form_id: str, run_id: int | None = None) -> DesignColumns | None:
    """The weights and design of the form's newest finished weighting run (``run_id``: that
    run, which must have finished) as the exports' design columns; None when the form has no
    finished run. A running or failed run is never exported."""
    try:
        if run_id is None:
            run = latest_run(store, form_id, RUN_NAME)
        else:
            run = finished_run(store, form_id, run_id)
    except StoreError as err:
        if run_id is None:
            return None
        raise ExportStoreError(str(err)) from err
    return design_of_run(run)


def design_of_run(run: StoredRun) -> DesignColumns:
    """A stored weighting run as design columns (:data:`DESIGN_NAMES`), with where each
    comes from for the codebook and the run for the provenance."""
    data = run.weights.rename(columns={FINAL: DESIGN_NAMES[FINAL]})
    replicates = tuple(c for c in run.weights.columns if str(c).startswith("repw_"))
    origins = {DESIGN_NAMES[FINAL]: f"weighting run {run.id}: final weight"}
    origins |= {c: f"weighting run {run.id}: replicate weight {c}" for c in replicates}
    roles: dict[str, str | None] = {"stratum": None, "psu": None, "fpc": None}
    if run.design is not None:
        design = run.design.rename(columns={k: DESIGN_NAMES[k] for k in roles})
        for column in roles:
            if run.design[column].notna().any():
                roles[column] = DESIGN_NAMES[column]
                origins[DESIGN_NAMES[column]] = f"weighting run {run.id}: {_ORIGIN[column]}"
        kept = ["__id", *(c for c in roles.values() if c)]
        data = data.merge(design[kept], on="__id", how="left")
    options = run.spec.get("replicates") or {}
    kind = str(options.get("kind") or options.get("type") or "").lower()
    return DesignColumns(
        data=data,
        weight=DESIGN_NAMES[FINAL],
        strata=roles["stratum"],
        psu=roles["psu"],
        fpc=roles["fpc"],
        replicates=replicates,
        replicate_type=_REPLICATE_TYPES.get(kind) if replicates else None,
        run={
            "id": run.id,
            "name": run.name,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        },
        origins=origins,
    )


_ORIGIN = {
    "stratum": "stratum of the drawn sample",
    "psu": "primary sampling unit of the drawn sample",
    "fpc": "first-stage units in the stratum's frame (sample allocation.csv frame_units)",
}


def only_form(store: Store) -> str:
    """The ID of the store's only form (an error naming them when there are several)."""
    with store.engine.connect() as conn:
        forms = list(conn.execute(sa.select(writer.FORMS.c.xml_form_id)).scalars())
    if len(forms) != 1:
        raise ExportStoreError(
            "name the form with --form: the store has "
            + (", ".join(sorted(forms)) if forms else "no forms")
        )
    return forms[0]
