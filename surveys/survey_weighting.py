"""The configured weighting of a survey, run on the store, and its estimates from the store.

:func:`weight_configured` runs the steps survey.toml's ``[weighting]`` asks for on the
store's analysis frames: base weights ``1 / pi_household`` from the drawn sample,
replicate weights (when configured, built here so that every later step is repeated on
each replicate), non-response by visit outcome within weighting classes, the
within-household selection factor, raking to the targets and trimming (see
:mod:`surveys.analysis` for the first three). :func:`run_weighting` does that for a form of
the store and keeps the result as a weighting run (:mod:`surveys.store.weights`), with each
respondent's stratum, PSU and fpc (:func:`design_frame`);
:func:`stored_design` rebuilds the respondents' design from the newest finished run and
:func:`survey_indicators` estimates the survey's own indicators on it.

Submissions with validation errors (``validation_issues``, severity ``error``) and those
rejected in review are left out of the weights unless ``keep_invalid``; the count of each is
recorded with the run. Their households count as sampled households without a usable
interview (eligibility unknown).

Estimates from the store use the stored final weights with the sample's strata and PSUs
(Taylor linearisation, lonely PSUs centred on zero as R's ``survey.lonely.psu = "adjust"``)
and are calibration-aware: when the run raked, the raking is recorded again from the run's
history (its margins as used) with :func:`weighting.steps.as_raked`, so the SEs use the
residuals of the raking as R's ``svymean`` on a ``rake``-d design does (R check:
``tests/fixtures/r/weighting/stored_calibration.R``). When the run stored an fpc (an
equal-probability first stage, see :func:`design_frame`), the first stage's variance is
multiplied by ``1 - n_h / N_h`` as with ``svydesign(fpc=)``. With replicate weights
configured, the stored replicates carry every step, raking included, and give the SEs.
The sex ratio at birth takes the women's design too: each birth sits in its mother's row
(:meth:`weighting.design.SurveyDesign.nested`). The fertility rates' SEs are DHS's
delete-one-cluster jackknife on the stored weights, which does not re-rake the replicates.
Trimming after raking is approximated: the trimmed weights stand for the raked ones in the
raking's residuals (R keeps the weights of the raking itself).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forms.issues import Issue
from surveys.analysis import (
    AGE_GROUP,
    AnalysisError,
    WeightedSurvey,
    fertility_estimates,
    final_visits,
    household_design,
    migrant_estimates,
    rake_to_config,
    respondent_design,
    sampled_households,
    with_age_group,
)
from surveys.store.engine import Store
from surveys.store.frames import AnalysisFrames, analysis_frames
from surveys.store.weights import (
    FINAL,
    StoredRun,
    fail_run,
    finish_run,
    latest_run,
    start_run,
    submissions_left_out,
)
from weighting.design import SurveyDesign
from weighting.diagnostics import history_table, kish_deff, weight_summary
from weighting.estimate import domain_index
from weighting.steps import as_raked, trim_weights
from weighting.targets import targets_from_dict

RUN_NAME = "survey"
"""Name of the configured run in ``weighting_runs`` (one per form)."""


def weight_configured(
    frames: AnalysisFrames,
    sample_dir: str | Path,
    weighting: Any,
    *,
    leave_out: set[str] | frozenset[str] = frozenset(),
) -> WeightedSurvey:
    """The configured weights of the respondents in ``frames`` (module doc); ``weighting``
    is survey.toml's ``[weighting]`` (:class:`surveys.config.WeightingConfig`) and
    ``leave_out`` the ``__id`` of submissions to leave out."""
    main = frames.main
    left = int(main["__id"].isin(leave_out).sum()) if "__id" in main.columns else 0
    if left:
        main = main[~main["__id"].isin(leave_out)]
    households, issues = household_design(sampled_households(sample_dir), main)
    if weighting.replicates:
        options = dict(weighting.replicates)
        households = households.with_replicates(
            options["type"], replicates=int(options.get("n", 50)), seed=options.get("seed", 1)
        )
    classes = list(weighting.classes) or None
    women = respondent_design(households, classes=classes, selection=weighting.selection)
    if weighting.targets:
        women = rake_to_config(women, weighting, age=weighting.age)
    if weighting.trim:
        women = trim_weights(women, lower=weighting.trim[0], upper=weighting.trim[1])
    left_out = {"submissions left out": left} if left else {}
    return WeightedSurvey(households, women, frames, issues, left_out)


def weights_frame(design: SurveyDesign) -> pd.DataFrame:
    """The respondents' ``__id`` with the final weight and any replicate weights."""
    out = pd.DataFrame({"__id": design.data["__id"].to_numpy(), FINAL: design.weights})
    if design.replicates is not None:
        reps = np.asarray(design.replicates.weights)
        for j in range(reps.shape[1]):
            out[f"repw_{j + 1}"] = reps[:, j]
    return out


EQUAL_PROBABILITY_METHODS = frozenset({"srs"})
"""First-stage selection methods with equal probabilities within a stratum: the only ones
whose fpc ``1 - n_h / N_h`` is the finite population correction of the design."""


def design_frame(design: SurveyDesign, sample_dir: str | Path) -> pd.DataFrame:
    """The respondents' ``__id`` with their stratum and PSU as drawn and the fpc.

    The fpc is the number of first-stage units in the stratum's frame (``allocation.csv``'s
    ``frame_units``) when the first stage drew them with equal probabilities (``srs``): then
    ``1 - n_h / N_h`` is the first stage's finite population correction, as R's
    ``svydesign(fpc=)`` and Stata's ``svyset, fpc()`` take it. With a PPS first stage
    (``systematic_pps``, ``sampford``: the bundled surveys) it is left empty: ``1 - n_h /
    N_h`` is not the correction of a PPS draw (large units have inclusion probabilities far
    above ``n_h / N_h``, certainty units 1), and the variance is the usual with-replacement
    approximation of the first stage, which is conservative (docs/EXPORTS.md, Design). Empty
    too when the sample does not say how its first stage was drawn, or when a respondent's
    stratum has no ``frame_units``.
    """
    data = design.data
    out = pd.DataFrame({"__id": data["__id"].to_numpy()})
    for column in ("stratum", "psu"):
        out[column] = data[column].astype(str).to_numpy() if column in data else None
    units = (
        _frame_units(sample_dir)
        if _first_stage_method(sample_dir) in EQUAL_PROBABILITY_METHODS
        else {}
    )
    fpc = out["stratum"].map(units).astype(float)
    out["fpc"] = fpc if fpc.notna().all() else np.nan  # all strata or none: one design
    return out


def _first_stage_method(sample_dir: str | Path) -> str | None:
    """The selection method of the sample's first stage, from its sample.json."""
    try:
        meta = json.loads((Path(sample_dir) / "sample.json").read_text(encoding="utf-8"))
        return str(meta["design"]["stages"][0]["method"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def _frame_units(sample_dir: str | Path) -> dict[str, float]:
    path = Path(sample_dir) / "allocation.csv"
    if not path.is_file():
        return {}
    allocation = pd.read_csv(path, dtype={"stratum": str})
    if not {"stratum", "frame_units"} <= set(allocation.columns):
        return {}
    units = pd.to_numeric(allocation["frame_units"], errors="coerce")
    return {s: float(n) for s, n in zip(allocation["stratum"], units, strict=True) if n > 0}


def diagnostics(weighted: WeightedSurvey) -> dict[str, Any]:
    """What a statistician checks after weighting: counts by outcome, the weights' range and
    spread, Kish's design effect due to weighting, and whether every step converged."""
    design = weighted.respondents
    summary = weight_summary(design)
    steps = history_table(design)
    converged = [bool(c) for c in steps["converged"] if c is not None and not pd.isna(c)]
    outcomes = weighted.households.data["outcome"].value_counts()
    return {
        "respondents": design.n,
        "sampled households": weighted.households.n,
        "outcomes": {str(k): int(v) for k, v in outcomes.items()},
        "weight min": summary["min"],
        "weight max": summary["max"],
        "weight total": summary["total"],
        "max/min ratio": summary["max_min_ratio"],
        "cv": summary["cv"],
        "deff due to weighting (Kish)": kish_deff(design.weights),
        "effective n": summary["effective_n"],
        "converged": all(converged),
        "left out": ", ".join(f"{n} {reason}" for reason, n in weighted.left_out.items()),
        "issues": [issue.one_line() for issue in weighted.issues],
    }


def run_weighting(
    store: Store,
    form_id: str,
    sample_dir: str | Path,
    weighting: Any,
    *,
    keep_invalid: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[WeightedSurvey, dict[str, Any]]:
    """Weight ``form_id`` of the store as configured and keep the run (module doc); the
    weighted survey and the run's diagnostics. A failure marks the run failed and leaves
    the previous run in place."""
    excluded = submissions_left_out(store, form_id)
    leave_out: set[str] = set() if keep_invalid else set().union(*excluded.values())
    spec = _spec(sample_dir, weighting, excluded, keep_invalid)
    run_id = start_run(store, form_id, RUN_NAME, spec)
    try:
        frames = analysis_frames(store, form_id)
        _step(progress, 1)
        weighted = weight_configured(frames, sample_dir, weighting, leave_out=leave_out)
        _step(progress, 2)
        reps = weighted.respondents.replicates
        if reps is not None:
            spec["replicates"] = {
                **spec.get("replicates", {}),
                "scale": reps.scale,
                "rscales": list(map(float, reps.rscales)),
                "kind": reps.kind,
            }
        found = diagnostics(weighted)
        found["left out"] = _left_out_message(excluded, keep_invalid)
        history = history_table(weighted.respondents).to_dict("records")
        finish_run(
            store,
            run_id,
            weights_frame(weighted.respondents),
            diagnostics=found,
            history=history,
            message=_left_out_message(excluded, keep_invalid),
            spec=spec,
            design=design_frame(weighted.respondents, sample_dir),
        )
        _step(progress, 3)
    except Exception as err:
        fail_run(store, run_id, " ".join(str(err).split()) or type(err).__name__)
        raise
    return weighted, found


def _step(progress: Callable[[int, int], None] | None, done: int) -> None:
    if progress is not None:
        progress(done, 3)


def _spec(sample_dir, weighting, excluded, keep_invalid) -> dict[str, Any]:
    return {
        "sample": str(sample_dir),
        "classes": list(weighting.classes),
        "selection": weighting.selection,
        "age": weighting.age,
        "targets": [
            {
                "variable": t.variable,
                "kind": t.kind,
                "margins": dict(t.margins) if t.margins is not None else None,
                "file": str(t.file) if t.file is not None else None,
            }
            for t in weighting.targets
        ],
        "trim": list(weighting.trim) if weighting.trim else None,
        "replicates": dict(weighting.replicates) if weighting.replicates else {},
        "keep_invalid": keep_invalid,
        "excluded": {reason: len(ids) for reason, ids in excluded.items()},
    }


def _left_out_message(excluded: dict[str, set[str]], keep_invalid: bool) -> str:
    """What happened to the submissions with validation errors or rejected in review."""
    counts = ", ".join(f"{len(ids)} with {reason}" for reason, ids in excluded.items())
    counts = counts.replace("with rejected", "rejected")
    if keep_invalid:
        return f"kept every submission (--keep-invalid): {counts}"
    return f"left out {counts} (--keep-invalid keeps them)"


# ---------------------------------------------------------------------- from the store
def stored_design(
    store: Store, form_id: str, sample_dir: str | Path, *, name: str = RUN_NAME
) -> tuple[SurveyDesign, StoredRun, AnalysisFrames]:
    """The respondents' design of the newest finished run: their final submissions with the
    sample's stratum and PSU and the stored weights (replicates when the run has them)."""
    run = latest_run(store, form_id, name)
    frames = analysis_frames(store, form_id)
    weighted = frames.main["__id"].isin(run.weights["__id"])  # one per responding household
    visits = final_visits(frames.main[weighted])
    visits = visits.drop(columns=[c for c in ("stratum", "psu") if c in visits.columns])
    households = sampled_households(sample_dir).assign(hhid=lambda f: f["hhid"].astype(str))
    data = visits.merge(households, on="hhid", how="inner").merge(
        run.weights, on="__id", how="inner"
    )
    if len(data) != len(run.weights):
        raise AnalysisError(
            f"weighting run {run.id}: {len(run.weights) - len(data)} weighted submissions are "
            "no longer in the store or the sample: weight again"
        )
    replicate_columns = [c for c in run.weights.columns if c.startswith("repw_")]
    if replicate_columns:
        options = run.spec.get("replicates", {})
        design = SurveyDesign.from_replicate_weights(
            data,
            weights=FINAL,
            replicate_weights=replicate_columns,
            kind=options.get("kind", options.get("type", "bootstrap")),
            scale=float(options["scale"]),
            rscales=options.get("rscales", 1.0),
        )
    else:
        data, fpc = _with_stored_fpc(data, run)
        design = SurveyDesign.from_frame(
            data, weights=FINAL, ids="psu", strata="stratum", fpc=fpc, lonely_psu="adjust"
        )
        design = recorded_raking(design, run)
    return design, run, frames


def variance_note(design: SurveyDesign) -> str:
    """How the SEs of estimates on ``design`` are computed, in one line for people."""
    if design.replicates is not None:
        return (
            f"{design.replicates.count} {design.replicates.kind} replicate weights "
            "(every weighting step repeated on each)"
        )
    parts = ["Taylor linearisation over strata and PSUs"]
    raked = [s for s in design.history if s.method == "rake (recorded)"]
    if raked:
        parts.append(f"raking to {', '.join(raked[-1].targets)} counted")
    fpc = design.columns.get("fpc")
    parts.append("first stage with fpc" if fpc else "first stage with replacement (no fpc)")
    return "; ".join(parts)


FPC_COLUMN = "design_fpc"
"""The stored fpc in the respondents' data (the exports' name for it)."""


def _with_stored_fpc(data: pd.DataFrame, run: StoredRun) -> tuple[pd.DataFrame, str | None]:
    """``data`` with the run's fpc and its column name, when the run stored one for every
    respondent (None otherwise: the first stage is taken with replacement)."""
    if run.design is None or "fpc" not in run.design or run.design["fpc"].isna().all():
        return data, None
    fpc = run.design[["__id", "fpc"]].rename(columns={"fpc": FPC_COLUMN})
    data = data.drop(columns=[FPC_COLUMN], errors="ignore").merge(fpc, on="__id", how="left")
    if data[FPC_COLUMN].isna().any():
        raise AnalysisError(
            f"weighting run {run.id}: {int(data[FPC_COLUMN].isna().sum())} weighted "
            "submissions have no fpc while others have one: weight again"
        )
    return data, FPC_COLUMN


def recorded_raking(design: SurveyDesign, run: StoredRun) -> SurveyDesign:
    """``design`` (the run's stored weights) with the run's last raking recorded for the
    variance (:func:`weighting.steps.as_raked`), its margins as the run's history kept them;
    unchanged when the run did not rake."""
    raked = [step for step in run.history if step.get("method") == "rake"]
    if not raked:
        return design
    targets = raked[-1].get("targets") or "{}"
    targets = targets_from_dict(json.loads(targets) if isinstance(targets, str) else targets)
    for m in targets.margins:
        if m.variables == (AGE_GROUP,):
            labels = [level[0] for level in m.levels]
            design = with_age_group(design, labels, run.spec.get("age") or "c03_age")
    return as_raked(design, targets)


def survey_indicators(
    design: SurveyDesign,
    frames: AnalysisFrames,
    *,
    level: float = 0.95,
    by: str | Sequence[str] | None = None,
) -> tuple[pd.DataFrame, tuple[Issue, ...]]:
    """The survey's own indicators, chosen by what the form asked: the fertility survey's
    (birth history ``d_hist``: TFR, ASFR, GFR, SRB, CPR, pre-pregnancy check) and the
    migrant survey's (``g01_record``: service coverage, migrant women's contraception and
    pre-pregnancy check); with ``by``, in each domain (a leading ``domain`` column).

    A domain keeps the whole design with zero weights outside it, as R's ``subset`` of a
    survey design: PSUs without members still count in the Taylor variance, and the rates'
    jackknife runs over the domain's own clusters (DHS.rates' ``Class``).
    """
    if by is None:
        return _indicators(design, frames, level)
    labels, codes = domain_index(design, by)
    tables, issues = [], []
    for k, label in enumerate(labels):
        inside = codes == k
        table, found = _indicators(_domain(design, inside), frames, level)
        table.insert(0, "domain", label)
        tables.append(table)
        issues += [replace(i, message=f"{label}: {i.message}") for i in found]
    if not tables:
        raise AnalysisError(f"--by {by}: no respondent has a value")
    return pd.concat(tables, ignore_index=True), tuple(issues)


def _domain(design: SurveyDesign, inside: np.ndarray) -> SurveyDesign:
    """The design with zero weights (and replicate weights) outside the domain."""
    reps = design.replicates
    return replace(
        design,
        weights=np.asarray(design.weights) * inside,
        replicates=None
        if reps is None
        else replace(reps, weights=np.asarray(reps.weights) * inside[:, None]),
    )


def _indicators(
    design: SurveyDesign, frames: AnalysisFrames, level: float
) -> tuple[pd.DataFrame, tuple[Issue, ...]]:
    tables, issues = [], []
    if "d_hist" in frames.repeats:
        table, found = fertility_estimates(design, frames.repeats["d_hist"], level=level)
        tables.append(table)
        issues += found
    if "g01_record" in design.data.columns:
        table, found = migrant_estimates(design, level=level)
        tables.append(table)
        issues += found
    if not tables:
        raise AnalysisError(
            "this form has neither a birth history (d_hist) nor the migrant survey's service "
            "questions: estimate with --mean, --proportion, ... instead"
        )
    out = pd.concat(tables, ignore_index=True)
    out["note"] = out["note"].fillna("") if "note" in out else ""
    order = ["indicator", "estimate", "se", "ci_low", "ci_high", "deff", "n", "method", "note"]
    return out[[c for c in order if c in out] + [c for c in out if c not in order]], tuple(issues)


# ---------------------------------------------------------------------- readable tables
INDICATOR_ZH = {
    "TFR": "总和生育率",
    "GFR": "一般生育率",
    "ASFR": "年龄别生育率",
    "SRB birth order": "出生性别比 孩次",
    "SRB": "出生性别比",
    "CPR": "已婚育龄妇女避孕现用率",
    "pre-pregnancy check": "孕前优生健康检查覆盖率",
    "health record": "流动人口健康档案建档率",
    "family doctor": "流动人口家庭医生签约率",
    "health education": "流动人口健康教育覆盖率",
    "migrant women CPR": "流动已婚育龄妇女避孕现用率",
    "migrant women pre-pregnancy check": "流动育龄妇女孕前优生健康检查覆盖率",
}
"""Chinese names of the indicators (longest English prefix first when translating)."""

COLUMNS_ZH = {
    "indicator": "指标",
    "domain": "分组",
    "statistic": "统计量",
    "variable": "变量",
    "estimate": "估计值",
    "se": "标准误",
    "ci_low": "置信区间下限",
    "ci_high": "置信区间上限",
    "deff": "设计效应",
    "n": "样本量",
    "df": "自由度",
    "method": "方法",
    "note": "说明",
}

METHODS_ZH = {
    "DHS, births 1-36 months before the interview, cluster jackknife": (
        "DHS方法，调查前1-36个月的生育，按初级抽样单位刀切法估计标准误"
    ),
    "all live births in the histories, logit interval": "生育史中全部活产，logit置信区间",
    "live births of that order": "该孩次的活产",
    "currently married women 15-49 using any method (DK = not using)": (
        "15-49岁已婚（含同居）妇女中采用任一避孕方法者（不知道计为未采用）"
    ),
    "women with a birth in the last 5 years who had the free check": (
        "近5年有生育的妇女中接受免费孕前优生健康检查者"
    ),
    "migrants with a resident health record here (DK/refused = no)": (
        "在本地建立居民健康档案的流动人口（不知道/拒答计为否）"
    ),
    "migrants who signed a family doctor contract here": "在本地签约家庭医生的流动人口",
    "migrants who had health education on any topic here in the past year": (
        "过去一年在本地接受过任一方面健康教育的流动人口"
    ),
    "currently married migrant women 15-49 using any method (DK = not using)": (
        "15-49岁已婚流动妇女中采用任一避孕方法者（不知道计为未采用）"
    ),
    "migrant women 15-49 who had the free pre-pregnancy check here in the past year": (
        "过去一年在本地接受免费孕前优生健康检查的15-49岁流动妇女"
    ),
}
"""Chinese wording of the indicators' definitions (the ``method`` column)."""

NOTES_ZH = {
    "no births in the window at these ages": "调查前36个月内该年龄组无生育",
    "no exposure: no woman of this age in the window": "调查前36个月内无该年龄组妇女",
}


def in_language(table: pd.DataFrame, language: str) -> pd.DataFrame:
    """The table with Chinese indicator names, notes and headers for ``language == "zh"``;
    unchanged for ``"en"``."""
    if language == "en":
        return table
    if language != "zh":
        raise AnalysisError(f"language must be zh or en, not {language!r}")
    out = table.copy()
    if "indicator" in out:
        out["indicator"] = [_indicator_zh(str(name)) for name in out["indicator"]]
    if "note" in out:
        out["note"] = [NOTES_ZH.get(str(note), note) for note in out["note"]]
    if "method" in out:
        out["method"] = [METHODS_ZH.get(str(method), method) for method in out["method"]]
    return out.rename(columns=COLUMNS_ZH)


def _indicator_zh(name: str) -> str:
    for english in sorted(INDICATOR_ZH, key=len, reverse=True):
        if name == english or name.startswith(english + " ") or name.startswith(english + ":"):
            return INDICATOR_ZH[english] + name[len(english) :]
    return name


def rounded(table: pd.DataFrame, digits: int = 6) -> pd.DataFrame:
    """Floats to ``digits`` significant digits (for CSV files people read)."""
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = [_significant(v, digits) for v in out[column]]
    return out


def _significant(value: float, digits: int) -> float:
    if not np.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{digits}g}")
