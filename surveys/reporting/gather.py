"""The report's inputs from the store, survey.toml and the drawn sample.

- interviews: the main form's live submissions (``__id`` identifies an interview across
  edits), with the form's ``start``/``end`` and first geopoint, the sampled unit and its
  dwelling's coordinates from the sample's entity list, and Central's review state (the
  manager's decisions come back with each pull);
- flags: the ``qc_flags`` table as the quality stage stores it (``submission_id``,
  ``enumerator_id``, ``check``, ``severity``, ``value``, ``details_json`` with ``message``);
  enumerator-level flags have no submission;
- progress: every main unit of the sample, ``complete`` when its latest submission's result
  is a complete code, ``incomplete`` when visited otherwise, ``pending`` when never;
- births and ages: the birth history's live births (sex) and the respondents' ages.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from surveys.config import SurveyConfig
from surveys.reporting.settings import ReportSettings
from surveys.store.engine import Store
from surveys.store.frames import AnalysisFrames, analysis_frames
from surveys.store.writer import ENUMERATORS, SUBMISSIONS, find_form, form_models
from validation.report import ReportInputs

QC_EXTRA_COLUMNS = ("form_id", "instance_id", "enumerator", "message")
"""Columns of ``qc_flags`` the quality stage adds (migration 0004), read when present."""
GEO_TYPES = ("geopoint", "start-geopoint")


def report_inputs(
    store: Store,
    config: SurveyConfig | None,
    settings: ReportSettings,
    *,
    sample_dir: Path | None = None,
    since: dt.date | None = None,
    backchecks: pd.DataFrame | None = None,
    now: dt.datetime | None = None,
) -> ReportInputs:
    """Everything the report shows, read from the store (see the module doc)."""
    frames = analysis_frames(store, settings.form)
    fields = _form_fields(store, settings.form)
    enumerator_of = submission_enumerators(store, settings.form)
    main = frames.main
    interviews = _interviews(main, fields, enumerator_of, settings)
    units = sample_units(sample_dir) if sample_dir is not None else pd.DataFrame()
    if not units.empty and "unit" in interviews:
        located = units.drop_duplicates("unit").set_index("unit")
        interviews["unit_lat"] = located["lat"].reindex(interviews["unit"]).to_numpy()
        interviews["unit_lon"] = located["lon"].reindex(interviews["unit"]).to_numpy()
        if "county" in located:
            interviews["county"] = located["county"].reindex(interviews["unit"]).to_numpy()
    ranking, indicators = stored_ranking(store, settings.form)
    quality = config.quality if config is not None else None
    thresholds = {}
    if quality is not None:
        thresholds = {
            "srb_low": quality.srb_range[0],
            "srb_high": quality.srb_range[1],
            "backcheck_error_rate": quality.backcheck_error_rate,
        }
    return ReportInputs(
        interviews=interviews,
        flags=stored_flags(store, settings.form),
        enumerators=_roster(config).merge(ranking, on="enumerator", how="outer"),
        indicators=indicators,
        progress=_progress(units, main, settings),
        births=_births(frames, settings, enumerator_of),
        ages=pd.DataFrame(
            {
                "instance_id": main["__id"],
                "enumerator": main["__id"].map(enumerator_of),
                "age": pd.to_numeric(main.get(settings.age), errors="coerce"),
            }
        ),
        backchecks=backchecks if backchecks is not None else pd.DataFrame(),
        title=config.title if config is not None else settings.form,
        thresholds=thresholds,
        generated_at=now or dt.datetime.now().replace(microsecond=0),
        since=since,
    )


def _form_fields(store: Store, form_id: str) -> dict[str, str | None]:
    """The column names of the form's start, end and first geopoint (newest version)."""
    with store.engine.connect() as conn:
        pk = find_form(conn, form_id)
        models_by_version = form_models(conn, pk) if pk is not None else {}
    found: dict[str, str | None] = {"start": None, "end": None, "gps": None}
    for model in models_by_version.values():
        for question in model.questions:
            if question.type in ("start", "end") and found[question.type] is None:
                found[question.type] = question.name
            if question.type in GEO_TYPES and found["gps"] is None and not question.repeats:
                found["gps"] = question.name
    return found


def submission_enumerators(store: Store, form_id: str) -> dict[str, str]:
    """Each submission's (``__id``) enumerator: the store's enumerator code for its
    submitter, else the submitter's name, else their Central id."""
    with store.engine.connect() as conn:
        pk = find_form(conn, form_id)
        rows = conn.execute(
            sa.select(
                SUBMISSIONS.c.central_id,
                SUBMISSIONS.c.submitter_id,
                SUBMISSIONS.c.submitter_name,
            ).where(SUBMISSIONS.c.form_id == pk)
        ).all()
        codes = dict(
            conn.execute(sa.select(ENUMERATORS.c.central_actor_id, ENUMERATORS.c.code)).all()
        )
    return {
        r.central_id: codes.get(r.submitter_id) or r.submitter_name or str(r.submitter_id or "?")
        for r in rows
    }


def stored_flags(store: Store, form_id: str | None = None) -> pd.DataFrame:
    """The ``qc_flags`` table as report flags: the interview's ``__id``, the enumerator's
    code, check, severity, value and message, of ``form_id`` (every form when None).

    Reads the columns the quality stage adds when they are there (``form_id``,
    ``instance_id``, ``enumerator``, ``message``), else the base ones (the interview from
    ``submission_id``, the enumerator from ``enumerator_id`` or the submitter, the message
    from ``details_json``)."""
    with store.engine.connect() as conn:
        flags = sa.Table("qc_flags", sa.MetaData(), autoload_with=conn)
        extra = [flags.c[c] for c in QC_EXTRA_COLUMNS if c in flags.c]
        query = (
            sa.select(
                flags.c.id,
                SUBMISSIONS.c.central_id,
                SUBMISSIONS.c.submitter_id,
                SUBMISSIONS.c.submitter_name,
                ENUMERATORS.c.code,
                flags.c.check,
                flags.c.severity,
                flags.c.value,
                flags.c.details_json,
                *extra,
            )
            .select_from(
                flags.outerjoin(SUBMISSIONS, flags.c.submission_id == SUBMISSIONS.c.id).outerjoin(
                    ENUMERATORS, flags.c.enumerator_id == ENUMERATORS.c.id
                )
            )
            .order_by(flags.c.id)
        )
        if form_id is not None:
            pk = find_form(conn, form_id)
            own = flags.c.form_id == pk if "form_id" in flags.c else sa.false()
            query = query.where(
                sa.or_(own, SUBMISSIONS.c.form_id == pk, flags.c.submission_id.is_(None))
            )
        rows = [r._mapping for r in conn.execute(query).all()]
        codes = dict(
            conn.execute(sa.select(ENUMERATORS.c.central_actor_id, ENUMERATORS.c.code)).all()
        )
    return pd.DataFrame(
        {
            "flag_id": [r["id"] for r in rows],
            "instance_id": [r["central_id"] or r.get("instance_id") for r in rows],
            "enumerator": [
                r["code"]
                or r.get("enumerator")
                or codes.get(r["submitter_id"])
                or r["submitter_name"]
                or "?"
                for r in rows
            ],
            "check": [r["check"] for r in rows],
            "severity": [r["severity"] for r in rows],
            "value": [r["value"] for r in rows],
            "message": [r.get("message") or _message(r["details_json"]) for r in rows],
        },
        columns=["flag_id", "instance_id", "enumerator", "check", "severity", "value", "message"],
    )


def stored_ranking(store: Store, form_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The quality stage's ranking of ``form_id`` when the store has one (table
    ``qc_enumerators``): (enumerator, risk, reasons_zh, reasons_en) and the indicators as a
    long table (enumerator, indicator, value). Empty tables otherwise."""
    columns = ["enumerator", "risk", "reasons_zh", "reasons_en"]
    empty = (
        pd.DataFrame(columns=columns),
        pd.DataFrame(columns=["enumerator", "indicator", "value"]),
    )
    with store.engine.connect() as conn:
        if not sa.inspect(conn).has_table("qc_enumerators"):
            return empty
        ranking = sa.Table("qc_enumerators", sa.MetaData(), autoload_with=conn)
        pk = find_form(conn, form_id)
        rows = [
            r._mapping
            for r in conn.execute(sa.select(ranking).where(ranking.c.form_id == pk)).all()
        ]
    if not rows:
        return empty
    table = pd.DataFrame(
        {
            "enumerator": [str(r["enumerator"]) for r in rows],
            "risk": [r.get("risk") for r in rows],
            "reasons_zh": [r.get("reasons_zh") for r in rows],
            "reasons_en": [r.get("reasons_en") for r in rows],
        }
    )
    long = [
        (str(r["enumerator"]), name, _indicator_value(value))
        for r in rows
        for name, value in _json_object(r.get("indicators_json")).items()
    ]
    return table, pd.DataFrame(long, columns=["enumerator", "indicator", "value"])


def _json_object(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _indicator_value(value: object) -> float | None:
    """An indicator's value: a number, or the ``value`` of ``{"value": ..., "n": ...}``."""
    if isinstance(value, dict):
        value = value.get("value")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _message(details_json: str | None) -> str:
    """The people-readable message of a flag's details (their JSON when there is none)."""
    if not details_json:
        return ""
    try:
        details = json.loads(details_json)
    except ValueError:
        return details_json
    if isinstance(details, dict):
        return str(details.get("message") or json.dumps(details, ensure_ascii=False))
    return str(details)


def _interviews(
    main: pd.DataFrame,
    fields: dict[str, str | None],
    enumerator_of: dict[str, str],
    settings: ReportSettings,
) -> pd.DataFrame:
    def column(name: str | None) -> pd.Series:
        if name and name in main:
            return main[name]
        return pd.Series(np.nan, index=main.index)

    gps = fields["gps"]
    return pd.DataFrame(
        {
            "instance_id": main["__id"],
            "enumerator": main["__id"].map(enumerator_of),
            "start": column(fields["start"]),
            "end": column(fields["end"]),
            "unit": column(settings.unit)
            .astype("object")
            .map(lambda v: None if pd.isna(v) else str(v)),
            "psu": column("psu"),
            "lat": pd.to_numeric(column(f"{gps}_latitude" if gps else None), errors="coerce"),
            "lon": pd.to_numeric(column(f"{gps}_longitude" if gps else None), errors="coerce"),
            "review_state": main["review_state"],
        }
    )


def sample_units(sample_dir: Path) -> pd.DataFrame:
    """The sample's main units with county, PSU, enumerator and dwelling coordinates, from
    the entity list (``entities/*.csv``) or, without one, ``households.csv``."""
    entity_lists = sorted((sample_dir / "entities").glob("*.csv"))
    path = entity_lists[0] if entity_lists else sample_dir / "households.csv"
    if not path.is_file():
        return pd.DataFrame(columns=["unit", "county", "psu", "enumerator", "lat", "lon"])
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "role" in table:
        table = table[table["role"].isin(["main", ""])]
    county = next((c for c in ("county_name", "county", "stratum") if c in table), None)
    return pd.DataFrame(
        {
            "unit": table["hhid"].astype(str) if "hhid" in table else table.iloc[:, 0],
            "county": table[county] if county else "?",
            "psu": table.get("psu", "?"),
            "enumerator": table.get("enumerator", ""),
            "lat": pd.to_numeric(table.get("lat"), errors="coerce"),
            "lon": pd.to_numeric(table.get("lon"), errors="coerce"),
            "entity": table.get("name", ""),
        }
    ).reset_index(drop=True)


def _progress(units: pd.DataFrame, main: pd.DataFrame, settings: ReportSettings) -> pd.DataFrame:
    if units.empty:
        return pd.DataFrame(columns=["unit", "county", "psu", "status"])
    visited = main[[settings.unit]].copy() if settings.unit in main else pd.DataFrame()
    status = pd.Series("pending", index=units.index)
    if not visited.empty:
        result = (
            main[settings.result]
            if settings.result in main
            else pd.Series(np.nan, index=main.index)
        )
        codes = {str(c) for c in settings.complete_codes}
        done = result.astype("object").map(lambda v: _code(v) in codes)
        by_unit = done.groupby(main[settings.unit].astype(str)).any()
        seen = units["unit"].isin(by_unit.index)
        status[seen] = "incomplete"
        status[units["unit"].map(by_unit).fillna(False).astype(bool)] = "complete"
    return units.assign(status=status)[["unit", "county", "psu", "enumerator", "status"]]


def _code(value: object) -> str:
    """A choice or number code as text (``1.0`` and ``"1"`` are both ``"1"``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _births(
    frames: AnalysisFrames, settings: ReportSettings, enumerator_of: dict[str, str]
) -> pd.DataFrame:
    births = frames.repeats.get(settings.births)
    if births is None or settings.birth_sex not in births:
        return pd.DataFrame(columns=["enumerator", "sex"])
    if settings.live_birth in births:
        live = births[settings.live_birth].map(_code) == _code(settings.live_birth_code)
        births = births[live]
    sex = (
        births[settings.birth_sex]
        .map(_code)
        .map({_code(settings.male): "male", _code(settings.female): "female"})
    )
    table = pd.DataFrame(
        {"instance_id": births["__id"], "enumerator": births["__id"].map(enumerator_of), "sex": sex}
    )
    return table.dropna()


def _roster(config: SurveyConfig | None) -> pd.DataFrame:
    if config is None or not config.enumerators:
        return pd.DataFrame(columns=["enumerator", "name", "team"])
    return pd.DataFrame(
        {
            "enumerator": [e.id for e in config.enumerators],
            "name": [e.name for e in config.enumerators],
            "team": [e.team for e in config.enumerators],
        }
    )
