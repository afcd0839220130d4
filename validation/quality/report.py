"""A whole quality-control run: every check, the team comparison, the answer-profile
score, the risk score with its reasons, and rho_int of key variables."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forms.issues import Severity
from validation.quality.answers import comparable_questions
from validation.quality.combined import SOURCE_CHECKS, multiple_anomalies
from validation.quality.flags import Flag, level_frame
from validation.quality.inputs import QualityInputs, text
from validation.quality.registry import run_checks
from validation.quality.team import compare_with_team, interviewer_icc, profile_scores
from validation.quality.words import FLAG_REASONS, reason

REASON_SIGNAL = 2.0
"""Indicators above this signal count in the risk score and may be a reason."""
ENUMERATOR_FLAG_WEIGHT = 3.0
"""Risk points of an enumerator-level flag (clustered GPS points, sex ratio at birth)."""


@dataclass
class QualityReport:
    """The results of :func:`run_quality`."""

    flags: list[Flag]
    indicators: pd.DataFrame
    """Per enumerator and indicator: value, n, team, z, signal, flagged."""
    enumerators: pd.DataFrame
    """Per enumerator: interviews, risk, flagged, rank, reasons (en, zh), flags by code."""
    rho: pd.DataFrame
    """rho_int and deff_int of the key variables."""
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds per check and per later step."""
    cpu_timings: dict[str, float] = field(default_factory=dict)
    """CPU seconds of this process per check and step (what a busy machine does not
    inflate)."""

    def flagged_enumerators(self) -> list[str]:
        """Enumerators the run flags, highest risk first."""
        table = self.enumerators
        return table[table["flagged"]].sort_values("rank")["enumerator"].tolist()


def run_quality(
    inputs: QualityInputs,
    checks: Iterable[str] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int = 1,
) -> QualityReport:
    """Run the checks (all, or ``checks``) and rank the enumerators by risk; ``workers``
    > 1 runs the near-duplicate scan in a second process at the same time. After the
    checks, their per-interview flags give the share of interviews with anomalies of two
    or more kinds (:mod:`validation.quality.combined`), compared with the team like the
    checks' own indicators."""
    cpu: dict[str, float] = {}
    results, timings = run_checks(inputs, checks, progress, cpu, workers)
    flags = [f for r in results.values() for f in r.flags]
    indicator_frames = [r.indicators for r in results.values() if len(r.indicators)]
    started, cpu_started = time.perf_counter(), time.process_time()
    notes = {name: r.notes for name, r in results.items() if r.notes}
    skipped = {name: r.skipped for name, r in results.items() if r.skipped}
    sources = [n for n in SOURCE_CHECKS if n in results and not results[n].skipped]
    if len(sources) >= 2:  # computed from the flags the checks raised, never re-checked
        combined, notes["multiple_anomalies"] = multiple_anomalies(
            flags, inputs.instance_ids, inputs.enumerators, inputs.completed
        )
        notes["multiple_anomalies"]["checks"] = sources
        indicator_frames.append(combined)
    else:
        skipped["multiple_anomalies"] = "fewer than two per-interview checks ran"
    timings["multiple_anomalies"] = time.perf_counter() - started
    cpu["multiple_anomalies"] = time.process_time() - cpu_started
    started, cpu_started = time.perf_counter(), time.process_time()
    profile = profile_scores(
        inputs.main[inputs.completed],
        inputs.enumerators[inputs.completed],
        _profile_variables(inputs),
    )
    if len(profile):
        indicator_frames.append(
            level_frame(
                "profile_score",
                profile["enumerator"],
                profile["score"],
                profile["interviews"],
                direction="high",
            )
        )
    interviews = pd.Series(inputs.enumerators[inputs.completed]).value_counts()
    indicators = pd.concat(indicator_frames, ignore_index=True) if indicator_frames else None
    t = inputs.thresholds
    compared = (
        compare_with_team(indicators, interviews, t.min_interviews, t.team_z)
        if indicators is not None
        else pd.DataFrame()
    )
    timings["team_comparison"] = time.perf_counter() - started
    cpu["team_comparison"] = time.process_time() - cpu_started
    started, cpu_started = time.perf_counter(), time.process_time()
    enumerators = risk_table(compared, flags, inputs, interviews)
    timings["risk"] = time.perf_counter() - started
    cpu["risk"] = time.process_time() - cpu_started
    started, cpu_started = time.perf_counter(), time.process_time()
    rho = rho_table(inputs)
    timings["rho_int"] = time.perf_counter() - started
    cpu["rho_int"] = time.process_time() - cpu_started
    return QualityReport(
        flags=flags,
        indicators=compared,
        enumerators=enumerators,
        rho=rho,
        skipped=skipped,
        notes=notes,
        timings=timings,
        cpu_timings=cpu,
    )


def _profile_variables(inputs: QualityInputs) -> list[str]:
    return [q.name for q in comparable_questions(inputs) if q.type == "select_one"]


def risk_table(
    compared: pd.DataFrame, flags: list[Flag], inputs: QualityInputs, interviews: pd.Series
) -> pd.DataFrame:
    """Per enumerator: risk = sum of weight x (signal - 2) over indicators above 2, plus
    points for enumerator-level flags; flagged when an indicator reaches ``team_z`` or an
    enumerator-level flag was raised; the reasons that drive it in words (en, zh)."""
    everyone = sorted(set(inputs.enumerators) - {""})
    rows = []
    by_enumerator = {e: f for e, f in compared.groupby("enumerator")} if len(compared) else {}
    enumerator_flags: dict[str, list[Flag]] = {}
    counts: dict[str, dict[str, int]] = {}
    for flag in flags:
        if flag.enumerator is None:
            continue
        counts.setdefault(flag.enumerator, {}).setdefault(flag.code, 0)
        counts[flag.enumerator][flag.code] += 1
        if flag.instance_id is None and flag.severity != Severity.INFO:
            enumerator_flags.setdefault(flag.enumerator, []).append(flag)
    submissions = pd.Series(inputs.enumerators).value_counts()
    for enumerator in everyone:
        frame = by_enumerator.get(enumerator)
        strong = (
            frame[(frame["signal"] > REASON_SIGNAL) & (frame["weight"] > 0)]
            if frame is not None
            else pd.DataFrame()
        )
        contribution = (
            (strong["weight"] * (strong["signal"] - REASON_SIGNAL)).to_numpy()
            if len(strong)
            else np.empty(0)
        )
        own_flags = enumerator_flags.get(enumerator, [])
        risk = float(contribution.sum()) + ENUMERATOR_FLAG_WEIGHT * len(own_flags)
        flagged = bool(frame is not None and frame["flagged"].any()) or bool(own_flags)
        order = np.argsort(-contribution, kind="stable")
        en, zh = [], []
        for i in order[:4]:
            item = strong.iloc[int(i)]
            said = (item["indicator"], item["value"], item["team"], int(item["n"]))
            counted = item["successes"]
            en.append(reason(*said, successes=counted))
            zh.append(reason(*said, "zh", successes=counted))
        for flag in own_flags:
            words = FLAG_REASONS.get(flag.code, (flag.message, flag.message))
            en.append(f"{words[0]}: {flag.message}")
            zh.append(f"{words[1]}：{flag.message}")
        rows.append(
            {
                "enumerator": enumerator,
                "interviews": int(interviews.get(enumerator, 0)),
                "submissions": int(submissions.get(enumerator, 0)),
                "risk": round(risk, 3),
                "flagged": flagged,
                "indicators_flagged": (
                    frame.loc[frame["flagged"], "indicator"].tolist() if frame is not None else []
                ),
                "reasons_en": "; ".join(en),
                "reasons_zh": "；".join(zh),
                "flag_counts": counts.get(enumerator, {}),
            }
        )
    table = pd.DataFrame(rows)
    if not len(table):
        return pd.DataFrame(
            columns=[
                "enumerator",
                "interviews",
                "submissions",
                "risk",
                "flagged",
                "indicators_flagged",
                "reasons_en",
                "reasons_zh",
                "flag_counts",
                "rank",
            ]
        )
    table = riskiest_first(table, ["flagged", "risk"])
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def riskiest_first(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``table`` sorted by ``keys`` descending, ties broken by the enumerator's code
    ascending: the same order whatever order the rows came in (a rank never depends on
    how a platform's string type or a groupby happened to order them)."""
    if not len(table):
        return table.reset_index(drop=True)
    columns = [table["enumerator"].astype(str).to_numpy()]
    for key in reversed(keys):
        values = table[key].to_numpy()
        columns.insert(0, -values.astype(float))
    order = np.lexsort(columns[::-1])
    return table.iloc[order].reset_index(drop=True)


def rho_table(inputs: QualityInputs) -> pd.DataFrame:
    """rho_int and deff_int of the key variables (numbers as they are; a choice question
    as the indicator of its most frequent answer), over completed interviews."""
    done = inputs.completed
    names = list(inputs.roles.key_variables) or [
        q.name for q in comparable_questions(inputs) if q.type in ("select_one", "integer")
    ]
    groups = inputs.enumerators[done]
    rows = []
    for name in names:
        if name not in inputs.main.columns:
            continue
        q = inputs.question(name)
        column = inputs.main[name][done]
        if q is not None and q.type == "integer":
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            measure = name
        else:
            codes = text(column)
            if codes.notna().sum() == 0:
                continue
            top = codes.value_counts().index[0]
            values = np.where(codes.isna(), np.nan, (codes == top).astype(float))
            measure = f"{name} = {top}"
        rho, deff, n, k = interviewer_icc(values, groups)
        if not np.isnan(rho):
            rows.append(
                {"variable": measure, "rho_int": rho, "deff_int": deff, "n": n, "interviewers": k}
            )
    return pd.DataFrame(rows, columns=["variable", "rho_int", "deff_int", "n", "interviewers"])
