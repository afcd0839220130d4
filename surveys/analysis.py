"""Survey weights and indicators from the store: the drawn sample joined to the submissions.

The weights of the fertility survey, built in three steps (each one recorded in the design's
history):

1. **Base weights.** Every sampled (main) household gets ``1 / pi_household``, its overall
   inclusion probability from the sample directory (``households.csv``), whether it
   responded or not, with its stratum and PSU. The household's final submission (highest
   visit number) is joined on the ``hhid`` the questionnaire carries.
2. **Non-response.** The final ``result`` code of each household is classified as
   CONVENTIONS.md says (:data:`OUTCOME_OF_RESULT`); a sampled household with no submission,
   or whose last visit is not final (11), has unknown eligibility.
   :func:`weighting.adjust_nonresponse` spreads the weight of unknown-eligibility households
   over those of known eligibility, then that of eligible non-respondents over respondents,
   within weighting classes (the strata by default).
3. **Selection within the household.** One eligible woman is selected at random from the
   ``n_elig`` eligible women, so the respondent's weight is the household's adjusted weight
   times ``n_elig``.

The non-response adjustment works on household weights, before the within-household factor:
``n_elig`` is unknown for households that refused at the door, so the adjustment classes
compare like with like.

Issues: ``W001`` a submission's household is not a main household of the sample (left out);
``W002`` respondents without interview or birth date (left out of the fertility rates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forms.issues import Issue, Severity
from surveys.errors import SurveysError
from surveys.sampling.output import read_sample
from surveys.store.engine import Store
from surveys.store.frames import AnalysisFrames, analysis_frames
from weighting.design import SurveyDesign, WeightingStep
from weighting.estimate import Estimate, estimates_table, svy_proportion
from weighting.fertility import fertility_rates, no_birth_notes, women_from_tables
from weighting.indicators import contraceptive_prevalence, sex_ratio_at_birth
from weighting.steps import adjust_nonresponse, rake
from weighting.targets import Targets, margin

OUTCOME_OF_RESULT: dict[int, str] = {
    1: "respondent",
    2: "respondent",
    3: "unknown",
    4: "nonrespondent",
    5: "ineligible",
    6: "unknown",
    7: "ineligible",
    8: "nonrespondent",
    9: "unknown",
    10: "unknown",
    11: "unknown",
    96: "unknown",
}
"""Weighting outcome of each final visit result code (CONVENTIONS.md, "Visit outcome")."""

NO_SUBMISSION_OUTCOME = "unknown"
"""A sampled household with no submission at all: eligibility unknown (non-contact)."""

BASE_WEIGHT = "base_weight"
OUTCOME = "outcome"
SUBMITTED = "submitted"


class AnalysisError(SurveysError):
    """The store and the sample cannot be joined into a weighted design."""


@dataclass(frozen=True)
class WeightedSurvey:
    """The household design (every sampled household, base weights), the respondents' design
    (adjusted and selection-weighted), the frames they came from and the join's issues;
    ``left_out``: how many submissions were left out of the weights, by reason."""

    households: SurveyDesign
    respondents: SurveyDesign
    frames: AnalysisFrames
    issues: tuple[Issue, ...] = ()
    left_out: Mapping[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------- the join
def sampled_households(sample_dir: str | Path) -> pd.DataFrame:
    """The main households of a drawn sample: hhid, stratum, psu and ``pi_household``."""
    sample, _ = read_sample(sample_dir)
    households = sample.households
    if "role" in households.columns:
        households = households[households["role"] == "main"]
    needed = ["hhid", "stratum", "psu", "pi_household"]
    missing = [c for c in needed if c not in households.columns]
    if missing:
        raise AnalysisError(f"{sample_dir}: households.csv has no column {missing[0]!r}")
    households = households[needed].reset_index(drop=True)
    bad = ~(households["pi_household"] > 0) | (households["pi_household"] > 1)
    if bad.any():
        row = households.loc[bad.idxmax()]
        raise AnalysisError(
            f"{sample_dir}: households.csv: household {row['hhid']}: "
            f"pi_household {row['pi_household']!r} is not in (0, 1]"
        )
    if households["hhid"].duplicated().any():
        hhid = households.loc[households["hhid"].duplicated().idxmax(), "hhid"]
        raise AnalysisError(f"{sample_dir}: households.csv: household {hhid} is listed twice")
    return households


def final_visits(main: pd.DataFrame, visit: str = "a04_visit_no") -> pd.DataFrame:
    """One submission per household: the one with the highest visit number (then the last)."""
    if "hhid" not in main.columns:
        raise AnalysisError("the submissions carry no 'hhid' column")
    frame = main[main["hhid"].notna()].copy()
    frame["hhid"] = frame["hhid"].astype(str)
    order = pd.to_numeric(frame[visit], errors="coerce") if visit in frame else 0
    frame["_visit_order"] = order
    frame["_row"] = np.arange(len(frame))
    frame = frame.sort_values(["hhid", "_visit_order", "_row"], na_position="first")
    return frame.drop_duplicates("hhid", keep="last").drop(columns=["_visit_order", "_row"])


def outcome_of(result: pd.Series) -> pd.Series:
    """The weighting outcome of each result code (no submission: unknown eligibility)."""
    codes = pd.to_numeric(result, errors="coerce")
    return codes.map(OUTCOME_OF_RESULT).fillna(NO_SUBMISSION_OUTCOME)


def join_sample(
    households: pd.DataFrame, main: pd.DataFrame
) -> tuple[pd.DataFrame, tuple[Issue, ...]]:
    """Every sampled household with its final submission's columns (if any), base weight and
    outcome; submissions of households outside the sample are left out and reported."""
    visits = final_visits(main)
    households = households.assign(hhid=households["hhid"].astype(str))
    outside = visits[~visits["hhid"].isin(households["hhid"])]
    issues = tuple(
        Issue(
            "W001",
            Severity.WARNING,
            f"household {row['hhid']} is not a main household of the sample: "
            "its submission is left out of the weights",
            variable="hhid",
            instance_id=row.get("instance_id"),
            enumerator=row.get("a_enum") or row.get("submitter_name"),
        )
        for row in outside.to_dict("records")
    )
    carried = [c for c in ("stratum", "psu") if c in visits.columns]
    joined = households.merge(
        visits.drop(columns=carried), on="hhid", how="left", indicator=SUBMITTED
    )
    joined[SUBMITTED] = joined[SUBMITTED] == "both"
    joined[BASE_WEIGHT] = 1.0 / joined["pi_household"]
    joined[OUTCOME] = outcome_of(joined["result"] if "result" in joined else pd.Series(dtype=float))
    return joined, issues


def household_design(
    households: pd.DataFrame, main: pd.DataFrame, *, lonely_psu: str = "adjust"
) -> tuple[SurveyDesign, tuple[Issue, ...]]:
    """The design over every sampled household: base weight 1 / pi_household, stratum, PSU."""
    joined, issues = join_sample(households, main)
    design = SurveyDesign.from_frame(
        joined, weights=BASE_WEIGHT, ids="psu", strata="stratum", lonely_psu=lonely_psu
    )
    return design, issues


def respondent_design(
    households: SurveyDesign,
    *,
    classes: str | Sequence[str] | None = "stratum",
    selection: str | None = "n_elig",
) -> SurveyDesign:
    """Adjust the household weights for non-response within ``classes``, keep the responding
    households and multiply by the within-household selection factor ``selection``."""
    codes = {o: o for o in ("respondent", "nonrespondent", "ineligible", "unknown")}
    adjusted = adjust_nonresponse(households, OUTCOME, classes=classes, codes=codes)
    if selection is None:
        return adjusted
    if selection not in adjusted.data.columns:
        raise AnalysisError(f"no selection variable {selection!r} in the submissions")
    factor = pd.to_numeric(adjusted.data[selection], errors="coerce").to_numpy(dtype=float)
    bad = ~(factor >= 1)
    if bad.any():
        row = adjusted.data.iloc[int(np.argmax(bad))]
        raise AnalysisError(
            f"household {row['hhid']} (instance {row.get('instance_id')}): responded but "
            f"{selection} is {row[selection]!r}; a respondent needs at least one eligible person"
        )
    reps = None
    if adjusted.replicates is not None:
        reps = np.array(adjusted.replicates.weights) * factor[:, None]
    step = WeightingStep("selection", {"variable": selection}, details={"max": float(factor.max())})
    return adjusted.evolve(weights=adjusted.weights * factor, step=step, replicate_weights=reps)


def weight_survey(
    store: Store | str,
    form_id: str,
    sample_dir: str | Path,
    *,
    classes: str | Sequence[str] | None = "stratum",
    selection: str | None = "n_elig",
) -> WeightedSurvey:
    """Join the store's submissions of ``form_id`` to the sample and weight them (module doc)."""
    frames = _frames(store, form_id)
    households, issues = household_design(sampled_households(sample_dir), frames.main)
    respondents = respondent_design(households, classes=classes, selection=selection)
    return WeightedSurvey(households, respondents, frames, issues)


def design_from_store(
    store: Store | str,
    form_id: str,
    sample_dir: str | Path,
    *,
    classes: str | Sequence[str] | None = "stratum",
    selection: str | None = "n_elig",
) -> SurveyDesign:
    """The respondents' design of a form: base weights 1 / pi_household from the sample,
    non-response adjustment within ``classes``, times the within-household selection."""
    return weight_survey(
        store, form_id, sample_dir, classes=classes, selection=selection
    ).respondents


def _frames(store: Store | str, form_id: str) -> AnalysisFrames:
    if isinstance(store, Store):
        return analysis_frames(store, form_id)
    from surveys.store import open_store

    with open_store(store) as opened:
        return analysis_frames(opened, form_id)


# ---------------------------------------------------------------------- calibration targets
AGE_GROUP = "age_group"


def age_groups(age: pd.Series, labels: Sequence[str]) -> pd.Series:
    """The group ("15-24", ...) of each age among ``labels`` ("low-high"); others missing."""
    values = pd.to_numeric(age, errors="coerce")
    out = pd.Series([None] * len(values), index=values.index, dtype=object)
    for label in labels:
        low, _, high = str(label).partition("-")
        if not (low.strip().isdigit() and high.strip().isdigit()):
            raise AnalysisError(f"age group {label!r} is not 'low-high'")
        out[(values >= int(low)) & (values <= int(high))] = label
    return out


def _refuse_ungrouped(
    data: pd.DataFrame, groups: pd.Series, age: str, labels: Sequence[str]
) -> None:
    """Raking needs every respondent in a target group: name the ones who are not."""
    outside = groups.isna().to_numpy()
    if not outside.any():
        return
    ids = data["__id"] if "__id" in data.columns else pd.Series(data.index, index=data.index)
    examples = ", ".join(
        f"{i} ({age}={a})" for i, a in zip(ids[outside][:3], data[age][outside][:3], strict=True)
    )
    raise AnalysisError(
        f"{int(outside.sum())} respondent(s) have a {age} outside the target age groups "
        f"{', '.join(map(str, labels))} (e.g. {examples}): fix the ages or widen the groups "
        "in survey.toml [weighting]"
    )


def config_targets(weighting_config: Any, total: float) -> Targets:
    """The margins of a survey.toml ``[weighting]`` section; shares are scaled to the total
    of the first margin given as counts (so that every margin adds up to the same
    population), or to ``total`` when every margin is a share."""
    counts = [t for t in weighting_config.targets if t.kind != "share" and t.margins is not None]
    if counts:
        total = float(sum(counts[0].margins.values()))
    margins = []
    for target in weighting_config.targets:
        if target.margins is not None:
            levels = dict(target.margins)
        else:
            try:
                table = pd.read_csv(target.file, dtype={"category": str})
            except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
                raise AnalysisError(f"{target.file}: cannot read targets: {err}") from err
            if not {"category", "target"} <= set(table.columns):
                raise AnalysisError(f"{target.file}: targets need columns category, target")
            levels = dict(zip(table["category"], table["target"], strict=True))
        if target.kind == "share":
            levels = {k: float(v) * total for k, v in levels.items()}
        margins.append(margin(target.variable, levels))
    return Targets(tuple(margins))


def rake_to_config(
    design: SurveyDesign, weighting_config: Any, *, age: str = "c03_age"
) -> SurveyDesign:
    """Rake to the survey.toml margins (an ``age_group`` margin is derived from ``age``)."""
    for target in weighting_config.targets:
        if target.variable == AGE_GROUP:
            design = with_age_group(design, list(target.margins or {}), age)
    targets = config_targets(weighting_config, float(np.sum(design.weights)))
    return rake(design, targets, epsilon=1e-9, maxit=100)


def with_age_group(design: SurveyDesign, labels: Sequence[str], age: str) -> SurveyDesign:
    """The design with an ``age_group`` column ("15-24", ... among ``labels``) derived from
    ``age``, unless the data have one; an age outside every group is an error naming it."""
    data = design.data
    if AGE_GROUP in data.columns:
        return design
    groups = age_groups(data[age], labels)
    _refuse_ungrouped(data, groups, age, labels)
    return _replace_data(design, data.assign(**{AGE_GROUP: groups.to_numpy()}))


# ---------------------------------------------------------------------- indicators
MARRIED = (2, 3, 6)
"""Currently married or cohabiting (fertility c09_marital)."""


def fertility_estimates(
    women: SurveyDesign, births: pd.DataFrame, *, level: float = 0.95
) -> tuple[pd.DataFrame, tuple[Issue, ...]]:
    """TFR, ASFRs and GFR (DHS method, jackknife SE), sex ratio at birth, contraceptive
    prevalence (currently married women 15-49) and pre-pregnancy check coverage.

    ``women`` is the respondents' design of the fertility form, ``births`` its ``d_hist``
    birth-history frame (live births are ``d10_outcome = 1``, dated by ``d_cmc``).
    """
    data = _numeric(women.data, ["a_cmc_int", "c_cmc_birth", "c03_age", "c09_marital", "e01_use"])
    women = _replace_data(women, data)
    weights = pd.Series(np.asarray(women.weights), index=data.index)
    live = births[pd.to_numeric(births["d10_outcome"], errors="coerce") == 1].copy()
    live = live[live["__id"].isin(data["__id"])]
    rows: list[pd.DataFrame] = []
    issues: list[Issue] = []

    dated = data["a_cmc_int"].notna() & data["c_cmc_birth"].notna()
    if (~dated).any():
        issues.append(
            Issue(
                "W002",
                Severity.WARNING,
                f"{int((~dated).sum())} respondents without interview or birth date are left "
                "out of the fertility rates",
                variable="c_cmc_birth",
            )
        )
    table = data.assign(_w=weights)[dated]
    dhs = women_from_tables(
        table,
        live[live["__id"].isin(table["__id"])].assign(d_cmc=lambda f: pd.to_numeric(f["d_cmc"])),
        woman_id="__id",
        interview_cmc="a_cmc_int",
        birth_cmc="c_cmc_birth",
        weight="_w",
        cluster="psu",
        child_birth_cmc="d_cmc",
    )
    rates = fertility_rates(dhs, level=level)
    rows.append(
        pd.DataFrame(
            {
                "indicator": rates["indicator"],
                "estimate": rates["estimate"],
                "se": rates["se"],
                "ci_low": rates["ci_low"],
                "ci_high": rates["ci_high"],
                "deff": rates["deff"],
                "n": int(np.count_nonzero(dhs.weight)),
                "method": "DHS, births 1-36 months before the interview, cluster jackknife",
                "note": no_birth_notes(rates),
            }
        )
    )

    births_design = _births_design(women, live)
    srb = sex_ratio_at_birth(births_design, "d14_sex", male=1, female=2, level=level)
    rows.append(_table(srb, "SRB", "all live births in the histories, logit interval"))
    if births_design.data[BIRTH_ORDER].notna().any():
        by_order = sex_ratio_at_birth(
            births_design, "d14_sex", male=1, female=2, by=BIRTH_ORDER, level=level
        )
        rows.append(_by_domain(by_order, "SRB birth order", "live births of that order"))

    cpr = contraceptive_prevalence(
        women,
        "e01_use",
        no_method=(2, 98, 99),
        married="c09_marital",
        married_values=MARRIED,
        age="c03_age",
    )
    rows.append(
        _frame(cpr, "CPR", "currently married women 15-49 using any method (DK = not using)")
    )

    if "g03_prepreg" in data.columns:
        check = pd.to_numeric(data["g03_prepreg"], errors="coerce")
        asked = check.notna().to_numpy()
        if asked.sum() >= 2:
            flagged = _replace_data(women, data.assign(_prepreg=check.isin([1, 2]).astype(int)))
            est = svy_proportion(flagged, "_prepreg", 1, subset=asked, level=level)
            rows.append(
                _table(
                    est,
                    "pre-pregnancy check",
                    "women with a birth in the last 5 years who had the free check",
                )
            )
    out = pd.concat(rows, ignore_index=True)
    out["note"] = out["note"].fillna("")
    return out, tuple(issues)


BIRTH_ORDER = "birth_order"


def _births_design(women: SurveyDesign, live: pd.DataFrame) -> SurveyDesign:
    """Live births, each in its mother's row of ``women`` (her weight, stratum, PSU, fpc
    and replicate weights; the variance is the women's design's, calibration included), with
    its order among her live births as "1", "2" or "3+" (from the form's ``d_order``;
    missing when not there)."""
    row_of = pd.Series(np.arange(women.n), index=women.data["__id"].to_numpy())
    births = live[live["__id"].isin(row_of.index)].copy()
    births["d14_sex"] = pd.to_numeric(births["d14_sex"], errors="coerce")
    order = pd.to_numeric(births.get("d_order", pd.Series(index=births.index)), errors="coerce")
    labels = order.clip(upper=3).map({1.0: "1", 2.0: "2", 3.0: "3+"})
    births[BIRTH_ORDER] = labels.astype(object).where(labels.notna(), None)
    return SurveyDesign.nested(women, births, row_of.loc[births["__id"]].to_numpy())


def _table(estimates: list[Estimate], name: str, method: str) -> pd.DataFrame:
    return _frame(estimates_table(estimates), name, method)


def _by_domain(estimates: list[Estimate], name: str, method: str) -> pd.DataFrame:
    """One row per domain, named ``"<name> <domain>"``."""
    table = estimates_table(estimates)
    out = table[["estimate", "se", "ci_low", "ci_high", "deff", "n"]].copy()
    out.insert(0, "indicator", [f"{name} {d}" for d in table["domain"]])
    out["method"] = method
    return out


def _frame(table: pd.DataFrame, name: str, method: str) -> pd.DataFrame:
    columns = [c for c in ("estimate", "se", "ci_low", "ci_high", "deff", "n") if c in table]
    out = table[columns].copy()
    labels = [name] + [f"{name}: {s}" for s in table["statistic"].iloc[1:]]
    out.insert(0, "indicator", labels[: len(out)])
    out["method"] = method
    return out


def _numeric(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    data = data.copy()
    for column in columns:
        if column in data.columns:
            data[column] = pd.to_numeric(data[column], errors="coerce")
    return data


def _replace_data(design: SurveyDesign, data: pd.DataFrame) -> SurveyDesign:
    from dataclasses import replace

    return replace(design, data=data)


# ---------------------------------------------------------------------- migrant indicators
HEALTH_RECORD_YES = 3
"""g01_record: "Yes" (1 and 2 are no; DK and refused count as not having one)."""
FAMILY_DOCTOR_YES = 1
HEALTH_EDUCATION_TOPICS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "96")
"""g02_health_edu choices that are a topic (0 is "none of these", 98/99 DK/refused)."""
PREPREGNANCY_SERVICE = "2"
"""h08_services choice "pre-pregnancy eugenic health check"."""
FEMALE = 2


def migrant_estimates(
    migrants: SurveyDesign, *, level: float = 0.95
) -> tuple[pd.DataFrame, tuple[Issue, ...]]:
    """The migrant survey's basic public health service indicators (DOMAIN.md section 2):
    health-record coverage, family-doctor contracts and health-education coverage among all
    migrant respondents; contraceptive use (currently married women 15-49) and pre-pregnancy
    check coverage (women 15-49) among migrant women. Logit intervals, design effects.

    ``migrants`` is the respondents' design of the migrants form (columns ``g01_record``,
    ``g02_health_edu/<choice>``, ``g03_family_doc``, ``b01_sex``, ``b_age``, ``h06_fp_use``,
    ``h08_services/<choice>``). An indicator whose questions are not in the data is skipped
    and reported (W003).
    """
    data = migrants.data
    numeric = {c: pd.to_numeric(data[c], errors="coerce") for c in data.columns if _codes(c)}
    rows: list[pd.DataFrame] = []
    issues: list[Issue] = []

    def add(name: str, yes: pd.Series, asked: pd.Series, method: str) -> None:
        asked_mask = asked.fillna(False).to_numpy(dtype=bool)
        if asked_mask.sum() < 2:
            issues.append(
                Issue("W003", Severity.WARNING, f"{name}: fewer than 2 respondents were asked")
            )
            return
        flagged = _replace_data(migrants, data.assign(_yes=yes.fillna(False).astype(int)))
        est = svy_proportion(flagged, "_yes", 1, subset=asked_mask, level=level)
        rows.append(_table(est, name, method))

    def missing(name: str, columns: Sequence[str]) -> bool:
        absent = [c for c in columns if c not in data.columns]
        if absent:
            issues.append(
                Issue(
                    "W003",
                    Severity.WARNING,
                    f"{name}: no column {absent[0]!r} in the data: not estimated",
                    variable=absent[0],
                )
            )
        return bool(absent)

    if not missing("health record", ["g01_record"]):
        record = numeric["g01_record"]
        add(
            "health record",
            record == HEALTH_RECORD_YES,
            record.notna(),
            "migrants with a resident health record here (DK/refused = no)",
        )
    if not missing("family doctor", ["g03_family_doc"]):
        doctor = numeric["g03_family_doc"]
        add(
            "family doctor",
            doctor == FAMILY_DOCTOR_YES,
            doctor.notna(),
            "migrants who signed a family doctor contract here",
        )
    topics = [f"g02_health_edu/{c}" for c in HEALTH_EDUCATION_TOPICS]
    present = [c for c in topics if c in data.columns]
    if not missing("health education", ["g02_health_edu"] + ([] if present else topics[:1])):
        any_topic = sum(pd.to_numeric(data[c], errors="coerce").fillna(0) for c in present) > 0
        add(
            "health education",
            any_topic,
            data["g02_health_edu"].notna(),
            "migrants who had health education on any topic here in the past year",
        )
    if not missing("women", ["b01_sex", "b_age"]):
        age = numeric["b_age"]
        women = (numeric["b01_sex"] == FEMALE) & (age >= 15) & (age <= 49)
        if not missing("contraception", ["h06_fp_use"]):
            use = numeric["h06_fp_use"]
            add(
                "migrant women CPR",
                use == 1,
                women & use.notna(),
                "currently married migrant women 15-49 using any method (DK = not using)",
            )
        column = f"h08_services/{PREPREGNANCY_SERVICE}"
        if not missing("pre-pregnancy check", ["h08_services", column]):
            check = pd.to_numeric(data[column], errors="coerce")
            add(
                "migrant women pre-pregnancy check",
                check == 1,
                women & data["h08_services"].notna(),
                "migrant women 15-49 who had the free pre-pregnancy check here in the past year",
            )
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=TABLE_COLUMNS)
    return table, tuple(issues)


TABLE_COLUMNS = ["indicator", "estimate", "se", "ci_low", "ci_high", "deff", "n", "method"]


def _codes(column: str) -> bool:
    return column in ("g01_record", "g03_family_doc", "b01_sex", "b_age", "h06_fp_use")
