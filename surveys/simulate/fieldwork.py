"""Simulated fieldwork: who visits which household when, what happens, and the answers.

:func:`simulate_fieldwork` is the library entry point (``popsurvey simulate`` and the demo
call it). For every main household of the assignment it plans one visit by its
enumerator on a fieldwork day (local time +08:00), draws the visit outcome at the
stratum's non-response rates, fills the questionnaire through the form logic
(:mod:`surveys.simulate.engine`) with the answer models, applies the enumerators'
behaviour profiles, and returns Central-shaped OData records, audit logs and the ground
truth of the planted problems.
"""

from __future__ import annotations

import copy
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from forms.issues import Issue
from forms.logic import compile_expression
from forms.model import FormModel
from forms.xpath.vectorized import scalar, to_str
from surveys.simulate.audit import audit_logs
from surveys.simulate.demography import (
    DemographyParams,
    fertility_models,
    fertility_personas,
    migrant_models,
    migrant_personas,
)
from surveys.simulate.engine import BatchFiller
from surveys.simulate.models import AnswerModels, Codes
from surveys.simulate.odata import RecordBuilder, central_record, system_block
from surveys.simulate.profiles import Behaviour, Planted, assign_profiles, ground_truth_rows

CHINA = timezone(timedelta(hours=8))
DEFAULT_OUTCOMES = {"1": 0.88, "2": 0.05, "3": 0.04, "4": 0.02, "5": 0.005, "6": 0.005}
"""Visit outcome shares (``a06_visit_result`` codes) when survey.toml gives none."""
PINNED = frozenset(
    {
        "a01_enum_code",
        "a02_hh",
        "a04_visit_no",
        "a05_gps",
        "a06_visit_result",
        "a07_consent",
        "z01_status",
        "b06_hukou_place",
        "b02_n_women",
        "b07_sel_result",
        "b01_sex",
        "b02_birth_year",
        "b03_birth_month",
        "b04_arr_year",
        "b05_arr_month",
        "c00_hh_n",
        "c02_rel",
        "c03_sex",
        "c04_birth_year",
        "c05_birth_month",
        "c01_birth_year",
        "c02_birth_month",
        "c03_age",
        "d01_ever_preg",
        "d03_n_live",
        "d04_n_sons",
        "d05_n_daus",
        "d06_n_still",
        "d07_n_misc",
        "d08_n_induced",
        "d10_outcome",
        "d11_year",
        "d12_month",
        "d13_mult",
        "d14_sex",
        "d19_hist_ok",
        "b05_w_age",
        "c09_hukou_prov",
        "c10_live_now",
        "c07_marital",
        "c09_marital",
    }
)
"""Variables behaviour profiles leave alone (identification, visit, screening, histories)."""


@dataclass(frozen=True)
class Enumerator:
    """Who submits: the app user's id (Collect user name) and display name."""

    id: str
    name: str
    actor_id: str
    device_id: str


@dataclass
class SimulationResult:
    """What one simulation produced (see :func:`simulate_fieldwork`)."""

    form: FormModel
    submissions: list[dict[str, Any]]
    audits: dict[str, str]
    """instanceID -> audit.csv text."""
    profiles: dict[str, str]
    """enumerator id -> behaviour profile."""
    planted: list[Planted]
    changes: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    """Answer changes written into the audit logs: (instance ID, enumerator, node, old
    value, new value)."""
    issues: list[Issue] = field(default_factory=list)
    """Answers that still broke a constraint after the retries (should be none)."""
    interpreted: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase (plan, fill, records, audits)."""

    def ground_truth(self) -> list[dict[str, Any]]:
        """Per enumerator: profile, affected instance IDs and what was planted."""
        return ground_truth_rows(self.profiles, self.planted)

    @property
    def honest_ids(self) -> set[str]:
        """Instance IDs of submissions by honest enumerators."""
        honest = {e for e, p in self.profiles.items() if p == "honest"}
        return {s["__id"] for s in self.submissions if s["__system"]["submitterName"] in honest}


def _household_rows(assignment: pd.DataFrame, survey_id: str) -> pd.DataFrame:
    """The entity rows (name, hhid, psu, stratum, province, urban, address, enumerator...)."""
    table = assignment
    if "role" in table.columns:
        table = table[table["role"].astype(str) == "main"]
    if "name" not in table.columns:
        from surveys.sampling.assignment import entity_list

        extra = [c for c in ("province", "urban", "lat", "lon") if c in table.columns]
        table = entity_list(table, survey_id, properties=extra)
    table = table.reset_index(drop=True)
    for column in ("province", "urban", "address", "psu", "stratum", "hhid"):
        if column not in table.columns:
            table[column] = ""
    return table


def simulate_fieldwork(
    form: FormModel,
    assignment: pd.DataFrame,
    enumerators: Sequence[Any],
    *,
    seed: int,
    start: date,
    end: date,
    survey_id: str = "survey",
    profiles: Mapping[str, float] | None = None,
    profile_of: Mapping[str, str] | None = None,
    outcomes: Mapping[str, Mapping[str, float]] | None = None,
    demography: DemographyParams | None = None,
    codes: Codes | None = None,
    audits: bool = True,
) -> SimulationResult:
    """Simulate one questionnaire's fieldwork over the assigned households.

    ``assignment`` is :func:`surveys.sampling.workflow.assign_configured_sample`'s
    ``assigned`` table (or the entity list itself); ``enumerators`` the roster (objects with
    ``id`` and ``name``); ``profiles`` the share of enumerators per behaviour profile
    (:data:`surveys.simulate.profiles.DEFAULT_SHARES` when None) or ``profile_of`` an
    explicit enumerator -> profile map; ``outcomes`` visit-outcome shares per stratum
    (``{"379902": {"1": 0.9, "3": 0.05, ...}}``, key ``"*"`` for every stratum).
    Everything is reproducible from ``seed``.
    """
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    rng = np.random.default_rng(seed)
    check_outcomes(outcomes or {}, form)
    params = demography or DemographyParams()
    households = _household_rows(assignment, survey_id)
    n = len(households)
    roster = _roster(enumerators, households, seed)
    profile_map = (
        dict(profile_of)
        if profile_of is not None
        else assign_profiles(sorted(roster), profiles, rng)
    )
    for e in roster:
        profile_map.setdefault(e, "honest")
    enum_ids = households["enumerator"].astype(str).to_numpy()
    prof = np.array([profile_map.get(e, "honest") for e in enum_ids], dtype=object)
    plan = _plan_visits(households, enum_ids, prof, start, end, rng, outcomes or {})
    invented = _invent(plan, prof, enum_ids, rng)
    instance_ids = [f"uuid:{uuid.UUID(int=int(x), version=4)}" for x in _uuid_ints(rng, n)]
    planted: list[Planted] = []

    behaviour = Behaviour(n, pinned=PINNED)
    behaviour.heavy_dont_know[:] = prof == "dont_know"
    behaviour.curbstone[:] = (prof == "curbstoner") | invented
    models = AnswerModels(codes=codes or Codes())
    cmc_int = ((plan["day"].dt.year - 1900) * 12 + plan["day"].dt.month).to_numpy()
    heaping = prof == "age_heaping"
    omitted_daughters = None
    screen_out = (prof == "screen_out") & (plan["outcome"].to_numpy() == "1")
    if form.form_id.startswith("migrant") and "b06_hukou_place" in form:
        personas = migrant_personas(n, cmc_int, rng, heaping=heaping, screen_out=screen_out)
        models.update(migrant_models(personas, params))
    elif "d_hist" in form and "c01_birth_year" in form:
        srb = np.full(n, params.srb)
        omit = np.where(prof == "srb_skew", params.daughter_omission, 0.0)
        personas = fertility_personas(
            n, cmc_int, rng, params, heaping=heaping, srb=srb, omit_daughters=omit
        )
        omitted_daughters = personas["omitted"]
        models.update(fertility_models(personas, params))
        if screen_out.any():
            base = models.by_name["b02_n_women"]
            models.register(
                "b02_n_women",
                lambda d: np.where(screen_out[d.records], 0.0, base(d)),
            )
    models.update(_visit_models(plan))
    metadata = _metadata(households, plan, enum_ids, roster, prof, rng, invented)

    filler = BatchFiller(
        form,
        n,
        answer=models.answer,
        generic=models.generic,
        metadata=metadata,
        today=start,
        rng=rng,
        attachments={"households.csv": households.to_dict("records")},
        instance_ids=instance_ids,
    )
    filler.behaviour = behaviour  # type: ignore[attr-defined]
    _per_record_today(filler, plan)
    lap("plan")
    filler.fill()
    lap("fill")

    builder = RecordBuilder(form, filler.frames, filler.names)
    records = builder.build_all()
    names = _instance_names(filler, form)
    submissions = []
    for row, record in enumerate(records):
        e = roster[enum_ids[row]]
        record["__id"] = instance_ids[row]
        record["meta"] = {"instanceID": instance_ids[row]}
        if names is not None and names[row]:
            record["meta"]["instanceName"] = names[row]
        record["__system"] = system_block(
            submission_date=plan["submitted"][row],
            submitter_id=e.actor_id,
            submitter_name=e.id,
            device_id=e.device_id,
            form_version=form.version,
            audit="audit" in form,
        )
        submissions.append(_ordered(record))
    _plant_records(
        submissions, prof, enum_ids, plan, rng, planted, form, filler, invented, omitted_daughters
    )
    lap("records")
    changes: list[tuple[str, str, str, str]] = []
    logs = (
        audit_logs(filler, plan, rng, instance_ids, changes) if audits and "audit" in form else {}
    )
    if logs:
        _reaudit_copies(form, submissions, planted, plan, logs, rng)
    lap("audits")
    return SimulationResult(
        form=form,
        submissions=[central_record(form, record) for record in submissions],
        audits=logs,
        profiles=profile_map,
        planted=planted,
        changes=_change_truth(changes, instance_ids, enum_ids, planted),
        issues=filler.report.issues,
        interpreted=filler.report.interpreted,
        timings=timings,
    )


def _change_truth(changes, instance_ids, enum_ids, planted) -> list[tuple]:
    """(instance ID, enumerator, node, old, new) of the answer changes left in the logs (a
    fabricator's copies got a new log without changes)."""
    if not changes:
        return []
    row_of = {iid: row for row, iid in enumerate(instance_ids)}
    copies = {p.instance_id for p in planted if p.profile == "fabricator"}
    return [
        (iid, str(enum_ids[row_of[iid]]), node, old, new)
        for iid, node, old, new in changes
        if iid not in copies
    ]


def _reaudit_copies(form, submissions, planted, plan, logs, rng) -> None:
    """A fabricator's copies get the audit log of the answers they typed."""
    from surveys.simulate.audit import audit_of_record

    copies = {p.instance_id for p in planted if p.profile == "fabricator"}
    if not copies:
        return
    offset = 8 * 3600 * 1000
    starts = plan["start"].astype("int64").to_numpy() // 1_000_000 - offset
    ends = plan["end"].astype("int64").to_numpy() // 1_000_000 - offset
    for row, record in enumerate(submissions):
        if record["__id"] in copies:
            logs[record["__id"]] = audit_of_record(
                form, record, int(starts[row]), int(ends[row]), rng
            )


def _uuid_ints(rng: np.random.Generator, n: int) -> list[int]:
    high = rng.integers(0, 2**63, n, dtype=np.int64).astype(object)
    low = rng.integers(0, 2**63, n, dtype=np.int64).astype(object)
    return [(int(h) << 64) | int(lo) for h, lo in zip(high, low, strict=True)]


def _roster(enumerators: Sequence[Any], households: pd.DataFrame, seed: int) -> dict:
    roster: dict[str, Enumerator] = {}
    for index, e in enumerate(enumerators):
        roster[str(e.id)] = Enumerator(
            id=str(e.id),
            name=str(getattr(e, "name", e.id)),
            actor_id=str(100 + index),
            device_id=f"collect:{uuid.uuid5(uuid.NAMESPACE_DNS, f'{seed}/{e.id}').hex[:16]}",
        )
    for e in households["enumerator"].astype(str).unique():
        if e not in roster:
            roster[e] = Enumerator(e, e, str(100 + len(roster)), f"collect:{e}")
    return roster


def check_outcomes(outcomes: Mapping[str, Mapping[str, float]], form: FormModel) -> None:
    """Visit-outcome shares must be >= 0 with a positive sum, and name codes of the form's
    ``a06_visit_result`` list when it has one (a ProfileError names the stratum)."""
    from surveys.simulate.profiles import ProfileError

    question = form.get("a06_visit_result")
    choices = form.choices_for(question) if question is not None else None
    known = set(choices.codes) if choices is not None else None
    for stratum, shares in outcomes.items():
        if not isinstance(shares, Mapping) or not shares:
            raise ProfileError(f"outcomes: stratum {stratum}: give code -> share")
        for code, share in shares.items():
            if not isinstance(share, int | float) or share < 0:
                raise ProfileError(f"outcomes: stratum {stratum}: share of {code} must be >= 0")
            if known is not None and str(code) not in known:
                raise ProfileError(
                    f"outcomes: stratum {stratum}: '{code}' is not a visit result code "
                    f"({', '.join(sorted(known))})"
                )
        if sum(shares.values()) <= 0:
            raise ProfileError(f"outcomes: stratum {stratum}: the shares sum to 0")


def _plan_visits(households, enum_ids, prof, start, end, rng, outcomes) -> pd.DataFrame:
    """Day, start time, duration, outcome and upload time of each household's visit."""
    n = len(households)
    days = max((end - start).days + 1, 1)
    order = np.argsort(enum_ids, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    counts = pd.Series(enum_ids).value_counts()
    position = pd.Series(enum_ids[order]).groupby(enum_ids[order]).cumcount().to_numpy()
    rank[order] = position
    per_enum = counts.reindex(enum_ids).to_numpy()
    day_index = np.minimum((rank * days) // np.maximum(per_enum, 1), days - 1)
    day = pd.to_datetime(start) + pd.to_timedelta(day_index, unit="D")
    strata = households["stratum"].astype(str).to_numpy()
    outcome = np.empty(n, dtype=object)
    for stratum in np.unique(strata):
        mask = strata == stratum
        shares = outcomes.get(stratum) or outcomes.get("*") or DEFAULT_OUTCOMES
        codes = [str(c) for c in shares]
        probs = np.array(list(shares.values()), dtype=float)
        outcome[mask] = rng.choice(codes, size=int(mask.sum()), p=probs / probs.sum())
    consent = np.where(rng.random(n) < 0.97, "1", "2").astype(object)
    visit_no = np.where(np.isin(outcome, ["2", "6"]), 3, rng.choice([1, 1, 1, 2], n))
    hour = rng.uniform(9, 19.5, n)
    night = prof == "night"
    hour[night] = (rng.uniform(22, 29, night.sum())) % 24
    talk = (outcome == "1") & (consent == "1")
    minutes = np.where(talk, rng.lognormal(math.log(35), 0.3, n), rng.uniform(1.5, 4, n))
    speed = prof == "speeder"
    minutes[speed] = minutes[speed] / rng.uniform(3, 5, speed.sum())
    starts = day + pd.to_timedelta(hour * 3600, unit="s").round("ms")
    ends = starts + pd.to_timedelta(minutes * 60, unit="s").round("ms")
    uploaded = ends + pd.to_timedelta(rng.uniform(5, 600, n) * 60, unit="s").round("ms")
    return pd.DataFrame(
        {
            "day": day,
            "start": starts,
            "end": ends,
            "minutes": minutes,
            "outcome": outcome,
            "consent": consent,
            "visit_no": visit_no,
            "uploaded": uploaded,
            "submitted": _utc_texts(uploaded),
        }
    )


def _local_texts(moments: pd.Series) -> np.ndarray:
    """``2027-07-08T10:57:12.421+08:00`` for local (China time) moments, column-wise."""
    text = np.datetime_as_string(moments.to_numpy().astype("datetime64[ms]"), unit="ms")
    return np.char.add(text.astype(str), "+08:00").astype(object)


def _utc_texts(moments: pd.Series) -> list[str]:
    """``2027-07-08T02:57:12.421Z`` (UTC) for local (China time) moments, column-wise."""
    utc = moments.to_numpy().astype("datetime64[ms]") - np.timedelta64(8, "h")
    return np.char.add(np.datetime_as_string(utc, unit="ms").astype(str), "Z").tolist()


def _visit_models(plan: pd.DataFrame) -> dict:
    outcome = plan["outcome"].to_numpy()
    consent = plan["consent"].to_numpy()
    visit_no = plan["visit_no"].to_numpy().astype(float)
    return {
        "a02_hh": lambda d: (
            d.filler.attachments["households"]
            and np.array(
                [d.filler.attachments["households"][r]["name"] for r in d.records], dtype=object
            )
        ),
        "a04_visit_no": lambda d: visit_no[d.records],
        "a06_visit_result": lambda d: outcome[d.records],
        "a07_consent": lambda d: consent[d.records],
        "z01_status": lambda d: np.full(len(d), "1", dtype=object),
    }


def _invent(plan: pd.DataFrame, prof: np.ndarray, enum_ids: np.ndarray, rng) -> np.ndarray:
    """Rows a partial fabricator invents at the desk: PARTIAL_SHARE of their interviews
    (at least one), typed in 2-4 times faster than an interview lasts (plan updated)."""
    from surveys.simulate.profiles import PARTIAL_SHARE

    invented = np.zeros(len(plan), dtype=bool)
    talk = ((plan["outcome"] == "1") & (plan["consent"] == "1")).to_numpy()
    for e in np.unique(enum_ids[prof == "partial_fab"]):
        rows = np.flatnonzero((enum_ids == e) & talk)
        count = max(1, round(PARTIAL_SHARE * len(rows))) if len(rows) else 0
        invented[rng.permutation(rows)[:count]] = True
    if invented.any():
        minutes = plan["minutes"].to_numpy().copy()
        minutes[invented] = minutes[invented] / rng.uniform(2, 4, invented.sum())
        plan["minutes"] = minutes
        plan["end"] = plan["start"] + pd.to_timedelta(minutes * 60, unit="s").round("ms")
        late = plan["uploaded"] < plan["end"]
        plan.loc[late, "uploaded"] = plan.loc[late, "end"] + pd.Timedelta(minutes=5)
        plan["submitted"] = _utc_texts(plan["uploaded"])
    return invented


def _metadata(households, plan, enum_ids, roster, prof, rng, invented=None) -> dict[str, Any]:
    lat = pd.to_numeric(households.get("lat"), errors="coerce") if "lat" in households else None
    lon = pd.to_numeric(households.get("lon"), errors="coerce") if "lon" in households else None
    n = len(households)
    lat = (lat.fillna(36.0).to_numpy() if lat is not None else np.full(n, 36.0)) + rng.normal(
        0, 0.004, n
    )
    lon = (lon.fillna(117.0).to_numpy() if lon is not None else np.full(n, 117.0)) + rng.normal(
        0, 0.005, n
    )
    for e in np.unique(enum_ids[prof == "gps_one_place"]):
        mask = enum_ids == e
        lat[mask] = lat[mask][0]
        lon[mask] = lon[mask][0]
    if invented is not None and invented.any():  # typed in at home
        for e in np.unique(enum_ids[invented]):
            mask = enum_ids == e
            home = (lat[mask][0] + 0.03, lon[mask][0] + 0.03)
            lat[mask & invented], lon[mask & invented] = home
    return {
        "start": _local_texts(plan["start"]),
        "end": _local_texts(plan["end"]),
        "today": np.datetime_as_string(
            plan["day"].to_numpy().astype("datetime64[D]"), unit="D"
        ).astype(object),
        "deviceid": np.array([roster[e].device_id for e in enum_ids], dtype=object),
        "username": enum_ids.astype(object),
        "audit": np.full(n, "audit.csv", dtype=object),
        "gps_centre": (lat, lon),
    }


def _per_record_today(filler: BatchFiller, plan: pd.DataFrame) -> None:
    """``today()`` is the interview day; the engine's reference date is the first day."""
    filler.today = plan["day"].min().date() if len(plan) else filler.today


def _instance_names(filler: BatchFiller, form: FormModel) -> np.ndarray | None:
    text = form.instance_name
    if not text:
        return None
    compiled = compile_expression(text, "meta", "instance_name", filler.logic.ref_paths)
    context = next(q for q in form.elements if q.holds_data and q.repeat is None)
    try:
        value = filler.run().evaluate_expression(compiled.tree, context)
        return to_str(scalar(value, None))  # type: ignore[arg-type]
    except Exception:
        return None


def _ordered(record: dict[str, Any]) -> dict[str, Any]:
    """``__id`` first, then the answers, ``meta``, ``__system`` (Central's order)."""
    out = {"__id": record.pop("__id")}
    system = record.pop("__system")
    meta = record.pop("meta")
    out.update(record)
    out["meta"] = meta
    out["__system"] = system
    return out


def _plant_records(
    submissions, prof, enum_ids, plan, rng, planted, form, filler, invented=None, omitted=None
) -> None:
    """Fabricated copies, duplicate IDs, and the ground truth of every planted problem
    (``omitted``: live-born daughters left out of each interview's birth history)."""
    outcome = plan["outcome"].to_numpy()
    consent = plan["consent"].to_numpy()
    interviewed = (outcome == "1") & (consent == "1")
    leaves = _leaf_selects(form)
    seen: dict[str, list[int]] = {}
    for row, sub in enumerate(submissions):
        profile = prof[row]
        e = enum_ids[row]
        iid = sub["__id"]
        if profile == "fabricator" and interviewed[row]:
            earlier = [r for r in seen.get(e, []) if interviewed[r]]
            if len(earlier) >= 2:
                source = earlier[int(rng.integers(0, len(earlier)))]
                changed = _copy_answers(submissions[source], sub, leaves, rng, form, filler)
                recompute_calculations(sub, filler.logic, _record_day(sub, filler.today))
                planted.append(
                    Planted(
                        e,
                        profile,
                        iid,
                        f"copy of {submissions[source]['__id']}"
                        f"{' with ' + ', '.join(changed) + ' changed' if changed else ''}",
                    )
                )
            seen.setdefault(e, []).append(row)
            continue
        if profile == "duplicate_ids" and interviewed[row]:
            what = _duplicate_id(submissions, seen.get(e, []), interviewed, row, rng, form)
            seen.setdefault(e, []).append(row)
            if what is not None:
                recompute_calculations(sub, filler.logic, _record_day(sub, filler.today))
                planted.append(Planted(e, profile, iid, what))
            continue
        seen.setdefault(e, []).append(row)
        what = None
        if profile == "partial_fab" and invented is not None and invented[row]:
            what = f"invented at the desk ({plan['minutes'][row]:.1f} min, GPS at home)"
        elif profile == "speeder":
            what = f"duration {plan['minutes'][row]:.1f} min"
        elif profile == "night":
            what = f"started {plan['start'][row]:%H:%M}"
        elif profile == "gps_one_place":
            what = "GPS at the enumerator's single spot"
        elif profile in ("curbstoner", "dont_know", "age_heaping") and interviewed[row]:
            what = PROFILE_WHAT[profile]
        elif profile == "srb_skew" and interviewed[row] and omitted is not None and omitted[row]:
            what = f"{int(omitted[row])} live-born daughter(s) left out of the birth history"
        elif profile == "screen_out" and interviewed[row]:
            what = "eligible household screened out"
        if what is not None:
            planted.append(Planted(e, profile, iid, what))


PROFILE_WHAT = {
    "curbstoner": "low-variance made-up answers",
    "dont_know": "don't know on ~45% of answers that allow it",
    "age_heaping": "respondent's age rounded to a multiple of 5",
}

KEEP_GROUPS = frozenset({"a_id", "a_visit", "meta", "__system", "__id"})
KEEP_FIELDS = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "username",
        "audit",
        "a_int_year",
        "a_int_month",
        "a_cmc_int",
        "result",
    }
)


ID_FIELDS = ("a02_hh", "hhid", "psu", "stratum", "province", "urban", "address")
"""The household's identification: what a duplicate ID copies."""


def _duplicate_id(submissions, earlier, interviewed, row, rng, form) -> str | None:
    """With DUPLICATE_SHARE chance (from the enumerator's third interview on), record
    ``row`` under the household ID of one of their earlier interviews."""
    from surveys.simulate.profiles import DUPLICATE_SHARE

    earlier = [r for r in earlier if interviewed[r]]
    if len(earlier) < 2 or rng.random() >= DUPLICATE_SHARE:
        return None
    source = submissions[earlier[int(rng.integers(0, len(earlier)))]]
    target = submissions[row]
    copied = []
    for name in ID_FIELDS:
        if name not in form:
            continue
        q = form[name]
        held, into = _holder(source, q), _holder(target, q)
        if held is not None and into is not None and name in held:
            into[name] = copy.deepcopy(held[name])
            copied.append(name)
    if not copied:
        return None
    return f"household ID of {source['__id']} ({', '.join(copied)} copied)"


def _leaf_selects(form: FormModel) -> list[str]:
    """select_one questions outside repeats no expression reads and without constraint."""
    from forms.logic import FormLogic
    from forms.xpath.ast import Ref, walk

    logic = FormLogic(form)
    read = {
        node.name
        for compiled in logic.expressions.values()
        if compiled.tree is not None
        for node in walk(compiled.tree)
        if isinstance(node, Ref)
    }
    return [
        q.name
        for q in form.questions
        if q.type == "select_one"
        and q.repeat is None
        and not q.constraint
        and q.name not in read
        and not q.calculation
    ]


def _copy_answers(source, target, leaves, rng, form, filler) -> list[str]:
    """Overwrite ``target``'s answers with ``source``'s, then change 0-3 leaf answers."""
    for key, value in source.items():
        if key in KEEP_GROUPS or key in KEEP_FIELDS:
            continue
        target[key] = copy.deepcopy(value)
    changed = []
    for name in rng.permutation(leaves)[: int(rng.integers(0, 4))]:
        q = form[name]
        holder = _holder(target, q)
        if holder is None or holder.get(name) is None:
            continue
        choices = form.choices_for(q)
        codes = [
            c
            for c in (choices.codes if choices else ())
            if c != holder[name] and c not in ("96", "98", "99")
        ]
        if codes:
            holder[name] = codes[int(rng.integers(0, len(codes)))]
            changed.append(name)
    return changed


def recompute_calculations(record: dict, logic: Any, today: date) -> None:
    """Collect computes calculations live from the answers on the tablet: a record whose
    answers were copied in (a fabricator's copy of an earlier interview, a duplicate
    household ID) gets its calculations recomputed from its own answers, in form order,
    as the tablet would have stored them (empty where not relevant). Calculations that
    cannot be recomputed (random(), now(), triggers) and expressions that fail keep the
    copied value."""
    from forms.logic import stored_calculation_text
    from forms.xpath.instance import convert_answer
    from forms.xpath.values import EvaluationError

    session = logic.run(record, today=today, strict=True)
    for q in logic.form.elements:
        if not (q.holds_data and q.calculation) or q.trigger:
            continue
        compiled = logic.expressions.get((q.name, "calculation"))
        if compiled is None or not compiled.ok or not compiled.reproducible:
            continue
        for node in session.instance.nodes(q.xpath):
            try:
                relevant = session.relevant(node)
                text = stored_calculation_text(session.value(compiled, node)) if relevant else ""
            except EvaluationError:
                continue
            node.value = convert_answer(q, text or None)
            session.forget()
            _set_answer(record, node.path_text(), text or None)


def _record_day(record: dict, default: date) -> date:
    """The interview day of a record (its ``today``), for today()."""
    text = record.get("today")
    try:
        return date.fromisoformat(text) if isinstance(text, str) else default
    except ValueError:
        return default


def _set_answer(record: dict, path: str, value: Any) -> None:
    """Set the answer at instance path ``/data/grp/rep[2]/q`` of an OData record (nothing
    when the record lacks the enclosing groups or repeat instances)."""
    import re

    parts = path.strip("/").split("/")[1:]
    target: Any = record
    for part in parts[:-1]:
        match = re.fullmatch(r"(.*)\[([0-9]+)\]", part)
        name, index = (match.group(1), int(match.group(2))) if match else (part, None)
        target = target.get(name) if isinstance(target, dict) else None
        if index is not None:
            rows = target if isinstance(target, list) else []
            target = rows[index - 1] if 1 <= index <= len(rows) else None
        if not isinstance(target, dict):
            return
    target[parts[-1]] = value


def _holder(record: dict, q) -> dict | None:
    target = record
    for part in q.xpath.split("/")[2:-1]:
        target = target.get(part)
        if not isinstance(target, dict):
            return None
    return target
