"""Exports from the store: the analysis frames, filtered as the survey's contract says, with
the latest weights, handed to :mod:`exports`, and each export recorded in ``export_runs``.

Left out unless asked for (and written in the export's log either way):

- submissions with validation errors: a ``validation_issues`` row with that submission and
  severity ``error``;
- submissions rejected in review: ``submissions.review_state == "rejected"``.

Weights come from the ``weights`` table of a weighting run (the latest unless one is named),
one row per submission and weight name. The run's ``spec_json`` may say which names are
which (``{"weight": ..., "strata": ..., "psu": ..., "fpc": ..., "replicates": [...],
"replicate_type": ...}``); without it the final weight is ``final_weight``, ``weight`` or
the only name, ``strata``/``stratum``, ``psu`` and ``fpc`` are the design variables and
names starting ``repw``/``rep_`` are replicate weights.
"""

from __future__ import annotations

import json
import re
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
from surveys.store.frames import AnalysisFrames, analysis_frames

VALIDATION_ISSUES = models.ValidationIssue.__table__
WEIGHTS = models.Weight.__table__
WEIGHTING_RUNS = models.WeightingRun.__table__
EXPORT_RUNS = models.ExportRun.__table__
_REPLICATE = re.compile(r"^(repw|rep_)", re.IGNORECASE)


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
    design: DesignColumns | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> ExportResult:
    """Export a form's stored submissions (see the module docstring) and record the run.

    ``design`` gives the weights directly (the demo's, just computed) instead of the store's.
    """
    frames = analysis_frames(store, form_id)
    with store.engine.connect() as conn:
        form_pk = conn.execute(
            sa.select(writer.FORMS.c.id).where(writer.FORMS.c.xml_form_id == form_id)
        ).scalar_one()
        models_by_version = writer.form_models(conn, form_pk)
        left_out, filters = _left_out(conn, form_pk, keep_errors, keep_rejected)
        if design is None and not unweighted:
            design = design_from_store(conn, form_pk, weighting_run)
    form = _newest(models_by_version)
    frames = _without(frames, left_out)
    filters["submissions_exported"] = len(frames.main)
    versions = sorted({str(v) for v in frames.main.get("form_version", pd.Series()).dropna()})
    filters["form_versions"] = versions
    if design is None:
        filters["weights"] = "none (export unweighted)" if unweighted else "no weighting run"
    options = replace(options, filters={**options.filters, **filters})
    result = export_frames(
        form, frames.main, frames.repeats, out_dir, options, design, progress=progress
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
    def key(version: str) -> tuple[int, str]:
        return (int(version), version) if version.isdigit() else (0, version)

    return by_version[max(by_version, key=key)]


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


def design_from_store(
    conn: sa.Connection, form_pk: int, run_id: int | None = None
) -> DesignColumns | None:
    """The weights and design variables of a weighting run (the latest when ``run_id`` is
    None) per submission of the form, or None when the form has never been weighted."""
    subs = writer.SUBMISSIONS
    runs = sa.select(WEIGHTING_RUNS).order_by(WEIGHTING_RUNS.c.id.desc())
    if run_id is not None:
        runs = runs.where(WEIGHTING_RUNS.c.id == run_id)
    else:
        used = sa.select(WEIGHTS.c.run_id).join(subs, subs.c.id == WEIGHTS.c.submission_id)
        runs = runs.where(WEIGHTING_RUNS.c.id.in_(used.where(subs.c.form_id == form_pk)))
    run = conn.execute(runs.limit(1)).first()
    if run is None:
        if run_id is not None:
            raise ExportStoreError(f"no weighting run {run_id} in the store")
        return None
    rows = conn.execute(
        sa.select(subs.c.central_id, WEIGHTS.c.weight_name, WEIGHTS.c.value)
        .join(subs, subs.c.id == WEIGHTS.c.submission_id)
        .where(WEIGHTS.c.run_id == run.id, subs.c.form_id == form_pk)
    ).all()
    if not rows:
        raise ExportStoreError(f"weighting run {run.id} has no weights for this form")
    long = pd.DataFrame(rows, columns=["__id", "name", "value"])
    data = long.pivot_table(index="__id", columns="name", values="value", aggfunc="first")
    data = data.reset_index()
    data.columns = [str(c) for c in data.columns]
    spec = json.loads(run.spec_json) if run.spec_json else {}
    return _design_spec(data, spec, {"id": run.id, "name": run.name})


def _design_spec(data: pd.DataFrame, spec: dict, run: dict) -> DesignColumns:
    names = [c for c in data.columns if c != "__id"]
    weight = spec.get("weight") or next(
        (n for n in ("final_weight", "weight") if n in names),
        names[0] if len(names) == 1 else None,
    )
    if weight is None:
        raise ExportStoreError(
            f"weighting run {run['id']}: which weight is final? spec_json names none and the "
            f"weights are {', '.join(names)}"
        )

    def pick(role: str, *candidates: str) -> str | None:
        if role in spec:
            return spec[role]
        return next((c for c in candidates if c in names), None)

    replicates = spec.get("replicates") or [n for n in names if _REPLICATE.match(n)]
    return DesignColumns(
        data=data,
        weight=weight,
        strata=pick("strata", "strata", "stratum"),
        psu=pick("psu", "psu", "cluster"),
        fpc=pick("fpc", "fpc"),
        replicates=tuple(replicates),
        replicate_type=spec.get("replicate_type"),
        replicate_scale=spec.get("replicate_scale"),
        run=run,
    )


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


def design_columns_of(design, run: dict | None = None) -> DesignColumns:
    """A :class:`weighting.SurveyDesign` (keyed by ``__id``) as the exports' design columns:
    its current weight, first-stage strata and PSU, fpc and replicate weights."""
    frame = design.frame()
    columns = design.columns
    ids = list(columns.get("ids") or [])
    fpc = list(columns.get("fpc") or [])
    replicates = tuple(c for c in frame.columns if str(c).startswith("repw_"))
    kinds = {"bootstrap": "bootstrap", "jk1": "jk1", "jkn": "jkn", "brr": "brr", "fay": "fay"}
    kind = kinds.get(design.replicates.kind) if design.replicates is not None else None
    wanted = ["__id", design.weight_column, columns.get("strata"), *ids[:1], *fpc[:1]]
    keep = list(dict.fromkeys(c for c in [*wanted, *replicates] if c))
    return DesignColumns(
        data=frame[keep],
        weight=design.weight_column,
        strata=columns.get("strata"),
        psu=ids[0] if ids else None,
        fpc=fpc[0] if fpc else None,
        replicates=replicates,
        replicate_type=kind,
        run=run or {"name": "in-memory design"},
    )
