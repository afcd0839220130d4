"""What the quality checks read: thresholds, answer codes, variable roles and the data.

Everything is plain: a :class:`forms.FormModel`, pandas frames (the store's analysis frames
or anything shaped like them), an audit-event frame, a sample frame and the numbers of
survey.toml's ``[quality]`` section. Nothing here knows about the store or the CLI.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from forms.model import FormModel, Question
from validation.quality.errors import QualityError


@dataclass(frozen=True)
class Thresholds:
    """The numbers the checks compare with (survey.toml ``[quality]``; defaults follow the
    practice of IPA, DataSure and the DHS: see docs/QUALITY.md)."""

    near_duplicate_share: float = 0.85
    outlier_iqr_multiplier: float = 1.5
    outlier_sd_multiplier: float = 3.0
    duration_iqr_multiplier: float = 1.5
    gps_outlier_sd: float = 2.0
    gps_cluster_km: float = 0.1
    gps_accuracy_m: float = 50.0
    gps_distance_km: float = 1.0
    srb_range: tuple[float, float] = (100.0, 115.0)
    boundary_ages: tuple[int, ...] = (15, 50, 60)
    min_interviews: int = 10
    """An enumerator is compared with the team on an indicator only from this many cases."""
    team_z: float = 3.5
    """Robust z (or binomial z, corrected for over-dispersion) that flags an indicator."""
    omission_look_z: float = 2.98
    """Q806's z (too few daughters) from which an enumerator or area "needs a look" (an
    INFO note, not a flag): the one-sided z of the per-indicator false-positive rate
    1 - 0.95^(1/36) = 0.0014, the 5% of honest enumerators the issue allows shared by the
    36 tests an enumerator faces (docs/QUALITY.md)."""
    night_hours: tuple[int, int] = (22, 6)
    submission_delay_days: float = 7.0
    outlier_min_values: int = 20

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Thresholds:
        """Thresholds from a mapping (survey.toml's ``[quality]``), ignoring other keys."""
        known = {f.name for f in dataclasses.fields(cls)}
        clean = {k: v for k, v in values.items() if k in known}
        for key in ("srb_range", "boundary_ages", "night_hours"):
            if key in clean:
                clean[key] = tuple(clean[key])
        return cls(**clean)


@dataclass(frozen=True)
class Codes:
    """Answer codes: don't know, refused, other (text, as answers are compared as text)."""

    dont_know: tuple[str, ...] = ("98",)
    refused: tuple[str, ...] = ("99",)
    other: tuple[str, ...] = ("96", "other")

    @classmethod
    def of(
        cls, dont_know: Any = ("98",), refused: Any = ("99",), other: Any = ("96", "other")
    ) -> Codes:
        """Codes from any sequences of numbers or names."""
        return cls(
            tuple(_code_text(c) for c in dont_know),
            tuple(_code_text(c) for c in refused),
            tuple(_code_text(c) for c in other),
        )


def _code_text(code: Any) -> str:
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    return str(code)


@dataclass(frozen=True)
class Roles:
    """Which variables play which part. Defaults name the bundled questionnaires' variables;
    a check whose variables are not in the form is skipped (and says so)."""

    enumerator: str = "submitter_name"
    instance: str = "instance_id"
    unit_id: str = "hhid"
    psu: str = "psu"
    outcome: str = "a06_visit_result"
    completed: tuple[str, ...] = ("1",)
    consent: str = "a07_consent"
    gps: str = "a05_gps"
    start: str = "start"
    end: str = "end"
    submission_date: str = "submission_date"
    form_version: str = "form_version"
    ages: tuple[str, ...] = ("c03_age", "b05_w_age", "b_age", "c_age")
    """Age variables (main frame or a repeat) for heaping and boundary displacement."""
    respondent_age: tuple[str, ...] = ("c03_age", "b_age")
    birth_repeat: str = "d_hist"
    birth_year: str = "d11_year"
    birth_month: str = "d12_month"
    birth_sex: str = "d14_sex"
    birth_outcome: str = "d10_outcome"
    live_birth: str = "1"
    male: str = "1"
    female: str = "2"
    children_born: str = "d03_n_live"
    final_result: str = "result"
    ineligible: tuple[str, ...] = ("7",)
    """Final result codes meaning no eligible respondent (screened out)."""
    interview_year: str = "a_int_year"
    interview_month: str = "a_int_month"
    key_variables: tuple[str, ...] = ()
    """Variables for rho_int; empty: every select_one and number of the main frame."""
    area: str = "stratum"
    """The area of a submission (stratum, county) for the area-level omission test."""
    outlier_groups: tuple[str, ...] = ("stratum",)
    batteries: tuple[tuple[str, ...], ...] = ()
    """Question batteries for straight-lining; empty: runs of 4+ select_one questions of one
    choice list in a row."""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Roles:
        """Roles from a mapping (survey.toml's ``[quality.roles]``), lists as tuples."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        clean: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise QualityError(f"quality.roles: unknown role '{key}'")
            if key == "batteries":
                value = tuple(tuple(v) for v in value)
            elif isinstance(value, list | tuple):
                value = tuple(str(v) for v in value)
            clean[key] = value
        return cls(**clean)


AUDIT_SUMMARY_COLUMNS = (
    "questions",
    "median_question_seconds",
    "changes",
    "consent_seconds",
    "audit_minutes",
)
"""What the paradata check needs of a submission's audit log (one row per submission)."""


@dataclass
class EarlierResults:
    """What an earlier run found for submissions that did not change since (an incremental
    run after a pull): checks that allow it reuse these and work on the rest only.

    ``changed``: per main row, new or changed since the earlier run (its audit events are
    in ``QualityInputs.audit``; it is scanned for near-duplicates against every interview).
    ``audit_summary``: per instance ID, the earlier audit summary (columns
    :data:`AUDIT_SUMMARY_COLUMNS`) of submissions whose events are not given again.
    ``best_share`` / ``best_match``: per instance ID, the earlier highest share of
    identical answers and the instance ID it was found with ('' for none)."""

    changed: np.ndarray
    audit_summary: pd.DataFrame
    best_share: pd.Series
    best_match: pd.Series


@dataclass
class QualityInputs:
    """Everything the checks read.

    ``main``: one row per submission (analysis main frame: ``__id``, ``instance_id``,
    ``submitter_name``, ``form_version``, ``submission_date`` and answer columns, geopoints
    split into ``<name>_latitude`` ...); ``repeats``: repeat frames linked by ``__id``;
    ``audit``: one row per audit event (``instance_id, event, node, start_ms, end_ms,
    old_value, new_value``, optionally ``latitude, longitude, accuracy``); ``sample``: the
    sampled units (``unit_id``, optionally ``psu, latitude, longitude, enumerator, role``);
    ``forms_by_version``: the FormModel of each form version (``form`` for missing ones).
    """

    form: FormModel
    main: pd.DataFrame
    repeats: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    audit: pd.DataFrame | None = None
    sample: pd.DataFrame | None = None
    codes: Codes = field(default_factory=Codes)
    thresholds: Thresholds = field(default_factory=Thresholds)
    roles: Roles = field(default_factory=Roles)
    fieldwork: tuple[date, date] | None = None
    timezone: str = "Asia/Shanghai"
    now: datetime | None = None
    forms_by_version: Mapping[str, FormModel] = field(default_factory=dict)
    earlier: EarlierResults | None = None
    """Results of an earlier run kept for unchanged submissions (incremental runs)."""
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    """Results shared between checks (the answer matrix, applicability)."""

    def __post_init__(self) -> None:
        for column in ("__id", self.roles.enumerator):
            if column not in self.main.columns:
                raise QualityError(f"the main frame has no column '{column}'")
        self.main = self.main.reset_index(drop=True)

    # -- per-submission basics ---------------------------------------------------------
    @cached_property
    def enumerators(self) -> np.ndarray:
        """The enumerator of each submission (text; '' when unknown)."""
        return self.main[self.roles.enumerator].fillna("").astype(str).to_numpy(dtype=object)

    @cached_property
    def instance_ids(self) -> np.ndarray:
        """Each submission's instance ID (``__id`` when there is no instance column)."""
        column = self.roles.instance if self.roles.instance in self.main else "__id"
        return self.main[column].fillna("").astype(str).to_numpy(dtype=object)

    @cached_property
    def completed(self) -> np.ndarray:
        """Submissions that are interviews (the outcome says so and consent was not refused);
        every submission when the form has no outcome question."""
        n = len(self.main)
        done = np.ones(n, dtype=bool)
        if self.roles.outcome in self.main:
            done &= text(self.main[self.roles.outcome]).isin(self.roles.completed).to_numpy()
        if self.roles.consent in self.main:
            consent = text(self.main[self.roles.consent])
            done &= ~consent.isin(["2", "0", "no"]).to_numpy()
        return done

    @cached_property
    def screened_out(self) -> np.ndarray:
        """Completed contacts whose final result says no eligible respondent (no eligible
        woman, not a migrant household); all False when the form has no final result."""
        final = self.column(self.roles.final_result)
        if final is None:
            return np.zeros(len(self.main), dtype=bool)
        screened = text(final).isin(self.roles.ineligible).to_numpy(dtype=bool)
        return screened & self.completed

    @cached_property
    def starts(self) -> pd.Series:
        """Interview start as UTC timestamps (NaT when unknown)."""
        return moments(self.main.get(self.roles.start), len(self.main))

    @cached_property
    def ends(self) -> pd.Series:
        """Interview end as UTC timestamps (NaT when unknown)."""
        return moments(self.main.get(self.roles.end), len(self.main))

    @cached_property
    def local_starts(self) -> pd.Series:
        """Interview start in the survey's time zone."""
        return self.starts.dt.tz_convert(self.timezone)

    def column(self, name: str) -> pd.Series | None:
        """A main-frame column, or None when the form has no such variable."""
        return self.main[name] if name in self.main.columns else None

    def frame_with(self, name: str) -> tuple[pd.DataFrame, np.ndarray] | None:
        """The frame holding variable ``name`` and each of its rows' submission row."""
        if name in self.main.columns:
            return self.main, np.arange(len(self.main))
        for frame in self.repeats.values():
            if name in frame.columns:
                return frame, self.submission_rows(frame)
        return None

    def submission_rows(self, frame: pd.DataFrame) -> np.ndarray:
        """For each row of a repeat frame, the row of its submission in ``main``."""
        index = pd.Index(self.main["__id"])
        rows = index.get_indexer(frame["__id"])
        return rows

    def question(self, name: str) -> Question | None:
        """The form's question ``name``."""
        return self.form.get(name)


def text(series: pd.Series) -> pd.Series:
    """Answers as text codes: ``1.0`` -> ``"1"``, missing stays missing (pandas NA)."""
    if series.dtype.kind in "fi":
        values = series.to_numpy(dtype=float, na_value=np.nan)
        out = np.full(len(values), pd.NA, dtype=object)
        ok = ~np.isnan(values)
        whole = ok & (values == np.round(values))
        out[whole] = values[whole].astype(np.int64).astype(str)
        out[ok & ~whole] = values[ok & ~whole].astype(str)
        return pd.Series(out, index=series.index, dtype=object)
    values = series.to_numpy(dtype=object, na_value=pd.NA)
    missing = pd.isna(values)
    out = np.full(len(values), pd.NA, dtype=object)
    present = values[~missing]
    if len(present) and not all(isinstance(v, str) for v in present[:50]):
        present = np.array([v if isinstance(v, str) else _code_text(v) for v in present], object)
    out[~missing] = present
    return pd.Series(out, index=series.index, dtype=object)


def moments(series: pd.Series | None, n: int) -> pd.Series:
    """ISO date-times (any offset) as UTC timestamps; unreadable or missing -> NaT."""
    if series is None:
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
    return pd.to_datetime(series, errors="coerce", utc=True, format="ISO8601")


SPECIAL_CODE = re.compile(r"\.\s*=\s*'?(-?\d+)'?")


def numeric_special_codes(question: Question | None, codes: Codes) -> tuple[set[float], set[float]]:
    """(don't know, refused) codes of a number question: the values its constraint admits
    as codes (``... or . = 999998``) that are survey.toml's codes or look like them
    (9...98 don't know, 9...99 refused). A question without such a clause has none: 98 in
    an age question is an age."""
    dk: set[float] = set()
    refused: set[float] = set()
    if question is None or not question.constraint:
        return dk, refused
    for literal in SPECIAL_CODE.findall(question.constraint):
        digits = literal.lstrip("-")
        nines = len(digits) >= 2 and set(digits[:-1]) == {"9"}
        if literal in codes.dont_know or (nines and digits.endswith("8")):
            dk.add(float(literal))
        elif literal in codes.refused or (nines and digits.endswith("9")):
            refused.add(float(literal))
    return dk, refused
