"""What the report is made from: plain tables, each with a small documented column contract.

The report never reads a store or a config: the caller (``surveys``) hands it pandas frames.

- ``interviews``: one row per interview. Required ``instance_id``, ``enumerator``, ``start``
  (datetime, in the survey's local time); optional ``end``, ``duration_min`` (computed from
  start/end when absent), ``unit``, ``psu``, ``county``, ``lat``, ``lon`` (where the interview
  was done), ``unit_lat``, ``unit_lon`` (the sampled dwelling), ``review_state`` (Central).
- ``flags``: one row per quality flag. ``instance_id`` (empty for an enumerator-level flag),
  ``enumerator``, ``check``, ``severity`` (error, warning, info), ``value``, ``message``.
- ``enumerators``: optional roster. ``enumerator``; optional ``name``, ``team``, ``risk``
  (0-100, when the quality stage computed one) and its reasons as text, ``reasons`` or per
  language ``reasons_zh``/``reasons_en`` (shown instead of the report's own).
- ``indicators``: optional long table ``enumerator``, ``indicator``, ``value`` (the quality
  stage's per-enumerator indicators; the report adds its own from the paradata).
- ``progress``: the sample. ``unit``, ``county``, ``psu``, ``status`` (``complete``,
  ``incomplete`` or ``pending``); optional ``enumerator``.
- ``births``: ``enumerator``, ``sex`` (``male``/``female``, or 1/2) of each live birth;
  optional ``instance_id`` (so that ``since`` applies to it).
- ``ages``: ``enumerator``, ``age`` of each respondent (for heaping); optional
  ``instance_id``.
- ``backchecks``: optional per-enumerator back-check results ``enumerator``, ``error_rate``,
  ``compared`` (from :mod:`validation.backcheck`), which feed the risk score.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from validation.report.errors import ReportError

SEVERITIES = ("error", "warning", "info")
OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
"""A time zone offset at the end of an ISO time: the clock time before it is kept."""
STATUSES = ("complete", "incomplete", "pending")
REQUIRED = {
    "interviews": ("instance_id", "enumerator", "start"),
    "flags": ("instance_id", "enumerator", "check", "severity"),
    "enumerators": ("enumerator",),
    "indicators": ("enumerator", "indicator", "value"),
    "progress": ("unit", "status"),
    "births": ("enumerator", "sex"),
    "ages": ("enumerator", "age"),
    "backchecks": ("enumerator", "error_rate"),
}
OPTIONAL = {
    "interviews": (
        "end",
        "duration_min",
        "unit",
        "psu",
        "county",
        "lat",
        "lon",
        "unit_lat",
        "unit_lon",
        "review_state",
    ),
    "flags": ("value", "message"),
    "enumerators": ("name", "team", "risk", "reasons", "reasons_zh", "reasons_en"),
    "progress": ("county", "psu", "enumerator"),
    "backchecks": ("compared",),
}


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows, as plain tables (see the module doc for the columns)."""

    interviews: pd.DataFrame
    flags: pd.DataFrame = field(default_factory=pd.DataFrame)
    enumerators: pd.DataFrame = field(default_factory=pd.DataFrame)
    indicators: pd.DataFrame = field(default_factory=pd.DataFrame)
    progress: pd.DataFrame = field(default_factory=pd.DataFrame)
    births: pd.DataFrame = field(default_factory=pd.DataFrame)
    ages: pd.DataFrame = field(default_factory=pd.DataFrame)
    backchecks: pd.DataFrame = field(default_factory=pd.DataFrame)
    title: str = "Survey"
    check_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    """Check code -> {language: label}; codes without one are shown as they are."""
    thresholds: dict[str, float] = field(default_factory=dict)
    """``srb_low``, ``srb_high``, ``backcheck_error_rate``, ``gps_km``."""
    generated_at: dt.datetime | None = None
    since: dt.date | None = None


def normalised(inputs: ReportInputs) -> ReportInputs:
    """The inputs with every contract column present and typed; raises :class:`ReportError`
    naming the table and column when a required column is missing."""
    tables = {}
    for name, required in REQUIRED.items():
        frame = getattr(inputs, name)
        if frame is None or (frame.empty and len(frame.columns) == 0):
            frame = pd.DataFrame(columns=list(required))
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise ReportError(f"report input '{name}': missing column(s) {', '.join(missing)}")
        frame = frame.copy()
        for column in OPTIONAL.get(name, ()):
            if column not in frame.columns:
                frame[column] = np.nan
        tables[name] = frame
    tables["interviews"] = _interviews(tables["interviews"])
    tables["flags"] = _flags(tables["flags"])
    tables["progress"] = _progress(tables["progress"])
    tables["births"] = _births(tables["births"])
    tables["ages"]["age"] = pd.to_numeric(tables["ages"]["age"], errors="coerce")
    tables["indicators"]["value"] = pd.to_numeric(tables["indicators"]["value"], errors="coerce")
    for name in ("enumerators", "indicators", "births", "ages", "backchecks"):
        tables[name]["enumerator"] = tables[name]["enumerator"].astype(str)
    inputs = replace(inputs, **tables)
    if inputs.since is not None:
        inputs = _since(inputs)
    return inputs


def _interviews(frame: pd.DataFrame) -> pd.DataFrame:
    frame["instance_id"] = frame["instance_id"].astype(str)
    frame["enumerator"] = frame["enumerator"].fillna("?").astype(str)
    frame["start"] = _local_times(frame["start"])
    frame["end"] = _local_times(frame["end"])
    duration = pd.to_numeric(frame["duration_min"], errors="coerce")
    from_times = (frame["end"] - frame["start"]).dt.total_seconds() / 60
    frame["duration_min"] = duration.fillna(from_times)
    for column in ("lat", "lon", "unit_lat", "unit_lon"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    for column in ("unit", "psu", "county", "review_state"):
        frame[column] = frame[column].astype("object").where(frame[column].notna(), None)
    frame["day"] = frame["start"].dt.normalize()
    frame["hour"] = frame["start"].dt.hour
    frame["gps_km"] = haversine_km(frame["lat"], frame["lon"], frame["unit_lat"], frame["unit_lon"])
    return frame


def _local_times(series: pd.Series) -> pd.Series:
    """Datetimes as naive local clock times (the device's own clock for ODK start/end)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        values = series
    else:
        text = series.astype("object").where(series.notna(), None)
        local = text.map(lambda s: OFFSET.sub("", s) if isinstance(s, str) else s)
        values = pd.to_datetime(local, errors="coerce", format="mixed")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values


def _flags(frame: pd.DataFrame) -> pd.DataFrame:
    frame["instance_id"] = frame["instance_id"].astype("object").where(frame["instance_id"].notna())
    frame["enumerator"] = frame["enumerator"].fillna("?").astype(str)
    frame["check"] = frame["check"].astype(str)
    severity = frame["severity"].fillna("warning").astype(str).str.lower()
    frame["severity"] = severity.where(severity.isin(SEVERITIES), "warning")
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    frame["message"] = frame["message"].fillna("").astype(str)
    return frame


def _progress(frame: pd.DataFrame) -> pd.DataFrame:
    frame["unit"] = frame["unit"].astype(str)
    status = frame["status"].fillna("pending").astype(str)
    frame["status"] = status.where(status.isin(STATUSES), "incomplete")
    frame["county"] = frame["county"].fillna("?").astype(str)
    frame["psu"] = frame["psu"].fillna("?").astype(str)
    return frame


def _births(frame: pd.DataFrame) -> pd.DataFrame:
    sex = frame["sex"].astype(str).str.lower().str.strip()
    sex = sex.replace({"1": "male", "1.0": "male", "m": "male", "2": "female", "2.0": "female"})
    frame["sex"] = sex.replace({"f": "female"})
    return frame[frame["sex"].isin(["male", "female"])]


def _since(inputs: ReportInputs) -> ReportInputs:
    """Interviews started on or after ``since``, the flags on them (enumerator-level flags
    are kept: they describe the enumerator, not one interview), and their births and ages
    when those tables carry ``instance_id``. Progress stays cumulative."""
    start = pd.Timestamp(inputs.since)
    interviews = inputs.interviews[inputs.interviews["start"] >= start]
    kept = set(interviews["instance_id"])
    flags = inputs.flags[
        inputs.flags["instance_id"].isna() | inputs.flags["instance_id"].isin(kept)
    ]
    kept_rows = {}
    for name in ("births", "ages"):
        frame = getattr(inputs, name)
        if "instance_id" in frame.columns:
            kept_rows[name] = frame[frame["instance_id"].isin(kept)]
    return replace(inputs, interviews=interviews, flags=flags, **kept_rows)


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between two sets of points (NaN where one is missing)."""
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
