"""Demographic checks: age heaping (Whipple, Myers), digit preference in other numbers,
displacement across eligibility and module boundaries, the sex ratio at birth per
enumerator from the birth histories with its confidence interval, births per woman."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forms.issues import Severity
from validation.quality.applicability import asked_questions
from validation.quality.flags import (
    CheckResult,
    Flag,
    level_indicator,
    share_indicator,
    tested_frame,
)
from validation.quality.inputs import QualityInputs, numeric_special_codes, text
from validation.quality.registry import check

Z95 = 1.959963984540054


def whipple_index(ages: np.ndarray) -> float:
    """Whipple's index over ages 23-62: 100 x observed / expected ages ending in 0 or 5
    (100 no heaping, 500 every age ends in 0 or 5; NaN without ages in range)."""
    ages = ages[(ages >= 23) & (ages <= 62)]
    if not len(ages):
        return float("nan")
    return float(500.0 * np.isin(ages % 5, [0]).sum() / len(ages))


def myers_index(ages: np.ndarray, low: int = 10, high: int = 89) -> float:
    """Myers' blended index over ages ``low``..``high``: half the sum over terminal digits
    of |blended share - 10%| (0 no preference, 90 every age ends in one digit)."""
    ages = ages[~np.isnan(ages)].astype(int)
    a = np.zeros(10)
    b = np.zeros(10)
    for digit in range(10):
        a[digit] = ((ages >= low) & (ages <= high - 10) & (ages % 10 == digit)).sum()
        b[digit] = ((ages >= low + 10) & (ages <= high) & (ages % 10 == digit)).sum()
    digits = np.arange(10)
    blended = a * (digits + 1) + b * (9 - digits)
    if blended.sum() == 0:
        return float("nan")
    share = 100 * blended / blended.sum()
    return float(0.5 * np.abs(share - 10).sum())


def srb_interval(boys: float, girls: float) -> tuple[float, float, float]:
    """Sex ratio at birth (boys per 100 girls) and its 95% interval (Wilson interval of the
    share of boys, transformed); NaN without births."""
    n = boys + girls
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    p = boys / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    low, high = max(centre - half, 0.0), min(centre + half, 1.0)
    return _ratio(p), _ratio(low), _ratio(high)


def _ratio(share_of_boys: float) -> float:
    """Boys per 100 girls from the share of boys."""
    return math.inf if share_of_boys >= 1 else 100 * share_of_boys / (1 - share_of_boys)


def _ages(inputs: QualityInputs) -> tuple[np.ndarray, np.ndarray]:
    """All ages of the age variables (main frame and repeats) and their submission rows."""
    values, owners = [], []
    for name in inputs.roles.ages:
        located = inputs.frame_with(name)
        if located is None:
            continue
        frame, owner = located
        age = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        dk, refused = numeric_special_codes(inputs.question(name), inputs.codes)
        keep = ~np.isnan(age) & ~np.isin(age, list(dk | refused)) & (owner >= 0)
        keep &= inputs.completed[np.maximum(owner, 0)]
        values.append(age[keep])
        owners.append(owner[keep])
    if not values:
        return np.empty(0), np.empty(0, dtype=np.int64)
    return np.concatenate(values), np.concatenate(owners)


@check("Q801", "age_heaping")
def age_heaping(inputs: QualityInputs) -> CheckResult:
    """Ages ending in 0 or 5 (Whipple, ages 23-62) and Myers' index, per enumerator."""
    ages, owners = _ages(inputs)
    if not len(ages):
        return CheckResult(skipped="no age variable in the form")
    who = inputs.enumerators[owners]
    in_range = (ages >= 23) & (ages <= 62)
    heaped = in_range & (ages % 5 == 0)
    result = CheckResult()
    result.indicators = share_indicator("age_heaping_share", who, heaped, in_range, weight=1.5)
    order = np.argsort(who.astype(str), kind="stable")
    names, starts = np.unique(who[order].astype(str), return_index=True)
    per_enumerator = {
        name: {"whipple": whipple_index(chunk), "myers": myers_index(chunk)}
        for name, chunk in zip(names, np.split(ages[order], starts[1:]), strict=True)
    }
    result.notes = {
        "whipple": whipple_index(ages),
        "myers": myers_index(ages),
        "per_enumerator": per_enumerator,
    }
    return result


@check("Q802", "digit_preference")
def digit_preference(inputs: QualityInputs) -> CheckResult:
    """Numbers (other than ages) ending in 0 or 5, per enumerator, against the team."""
    hits: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for q in asked_questions(inputs.form):
        if q.type not in ("integer", "decimal") or q.name in inputs.roles.ages:
            continue
        located = inputs.frame_with(q.name)
        if located is None:
            continue
        frame, owner = located
        values = pd.to_numeric(frame[q.name], errors="coerce").to_numpy(dtype=float)
        dk, refused = numeric_special_codes(q, inputs.codes)
        ok = ~np.isnan(values) & ~np.isin(values, list(dk | refused)) & (values >= 10)
        ok &= owner >= 0
        if ok.sum() < inputs.thresholds.outlier_min_values or np.median(values[ok]) < 20:
            continue  # small counts: the last digit carries information, not rounding
        hits.append(values[ok] % 5 == 0)
        owners.append(owner[ok])
    if not hits:
        return CheckResult(skipped="no number questions with large values")
    rows = np.concatenate(owners)
    result = CheckResult()
    result.indicators = share_indicator(
        "round_number_share", inputs.enumerators[rows], np.concatenate(hits), weight=0.5
    )
    return result


@check("Q803", "boundary_displacement")
def boundary_displacement(inputs: QualityInputs) -> CheckResult:
    """Excess of ages just across an eligibility or module boundary (14/15, 49/50, 59/60 by
    default) and of births just before 3 and 5 years before the interview."""
    ages, owners = _ages(inputs)
    result = CheckResult()
    frames = []
    if len(ages):
        outside = np.zeros(len(ages), dtype=bool)
        near = np.zeros(len(ages), dtype=bool)
        for boundary in inputs.thresholds.boundary_ages:
            pair = (ages == boundary - 1) | (ages == boundary)
            near |= pair
            outside |= pair & (ages == _outside_age(boundary))
        frames.append(
            share_indicator(
                "age_boundary_share",
                inputs.enumerators[owners],
                outside,
                near,
                direction="high",
            )
        )
    births = _births(inputs)
    if births is not None:
        months, owner = births["months"], births["owner"]
        outside = ((months >= 36) & (months < 48)) | ((months >= 60) & (months < 72))
        near = (months >= 24) & (months < 72)
        frames.append(
            share_indicator(
                "birth_boundary_share", inputs.enumerators[owner], outside, near, direction="high"
            )
        )
    if not frames:
        return CheckResult(skipped="no age variable or birth history")
    result.indicators = pd.concat(frames, ignore_index=True)
    return result


def _outside_age(boundary: int) -> int:
    """The age on the far side of a boundary: 14 for a lower limit of 15 (the youngest
    eligible age), else the boundary itself (50: out of the 15-49 modules)."""
    return boundary - 1 if boundary <= 20 else boundary


def _births(inputs: QualityInputs) -> dict[str, np.ndarray] | None:
    """Live births of the birth history: months before the interview, boy/girl, owner."""
    r = inputs.roles
    frame = inputs.repeats.get(r.birth_repeat)
    if frame is None or r.birth_year not in frame.columns:
        return None
    owner = inputs.submission_rows(frame)
    keep = owner >= 0
    if r.birth_outcome in frame.columns:
        keep &= text(frame[r.birth_outcome]).eq(r.live_birth).fillna(False).to_numpy(dtype=bool)
    year = pd.to_numeric(frame[r.birth_year], errors="coerce").to_numpy(dtype=float)
    month = (
        pd.to_numeric(frame[r.birth_month], errors="coerce").to_numpy(dtype=float)
        if r.birth_month in frame.columns
        else np.full(len(frame), 6.0)
    )
    month = np.where((month >= 1) & (month <= 12), month, 6.0)
    start = inputs.local_starts
    int_year = start.dt.year.to_numpy(dtype=float, na_value=np.nan)
    int_month = start.dt.month.to_numpy(dtype=float, na_value=np.nan)
    if r.interview_year in inputs.main.columns:
        given = pd.to_numeric(inputs.main[r.interview_year], errors="coerce").to_numpy(float)
        int_year = np.where(np.isnan(int_year), given, int_year)
    if r.interview_month in inputs.main.columns:
        given = pd.to_numeric(inputs.main[r.interview_month], errors="coerce").to_numpy(float)
        int_month = np.where(np.isnan(int_month), given, int_month)
    safe = np.maximum(owner, 0)
    months = (int_year[safe] * 12 + int_month[safe]) - (year * 12 + month)
    keep &= ~np.isnan(months) & inputs.completed[safe]
    sex = text(frame[r.birth_sex]) if r.birth_sex in frame.columns else None
    boy = sex.eq(r.male).fillna(False).to_numpy(dtype=bool) if sex is not None else None
    girl = sex.eq(r.female).fillna(False).to_numpy(dtype=bool) if sex is not None else None
    return {
        "months": months[keep],
        "owner": owner[keep],
        "boy": boy[keep] if boy is not None else None,
        "girl": girl[keep] if girl is not None else None,
    }


@check("Q804", "sex_ratio_at_birth")
def sex_ratio_at_birth(inputs: QualityInputs) -> CheckResult:
    """Sex ratio at birth per enumerator from the birth histories, with its 95% interval;
    flagged when the interval lies outside the expected range."""
    births = _births(inputs)
    if births is None or births["boy"] is None:
        return CheckResult(skipped="no birth history with the child's sex")
    low_ok, high_ok = inputs.thresholds.srb_range
    who = inputs.enumerators[births["owner"]]
    sexed = births["boy"] | births["girl"]
    result = CheckResult()
    table = pd.DataFrame({"e": who[sexed], "boy": births["boy"][sexed]})
    counts = table.groupby("e")["boy"].agg(["sum", "count"])
    for enumerator, row in counts.iterrows():
        boys, girls = float(row["sum"]), float(row["count"] - row["sum"])
        srb, low, high = srb_interval(boys, girls)
        if low > high_ok or high < low_ok:
            result.flags.append(
                Flag(
                    "Q804",
                    Severity.INFO,  # 1 in 20 honest intervals misses: evidence, not a verdict
                    f"sex ratio at birth {srb:.0f} (95% CI {low:.0f}-{high:.0f}) from "
                    f"{int(boys)} boys and {int(girls)} girls, outside {low_ok:g}-{high_ok:g}",
                    enumerator=str(enumerator),
                    variable=inputs.roles.birth_sex,
                    value=srb,
                    evidence={"boys": boys, "girls": girls, "ci": [low, high]},
                )
            )
    result.indicators = share_indicator(
        "boy_share", who, births["boy"], sexed, direction="both", weight=1.0
    )
    return result


@check("Q805", "births_per_woman")
def births_per_woman(inputs: QualityInputs) -> CheckResult:
    """Children ever born reported per interviewed eligible woman, against the team."""
    column = inputs.column(inputs.roles.children_born)
    if column is None:
        return CheckResult(skipped=f"no variable '{inputs.roles.children_born}'")
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    dk, refused = numeric_special_codes(inputs.question(inputs.roles.children_born), inputs.codes)
    women = interviewed_women(inputs)
    # a woman never pregnant skips the question: she has no live birth
    values = np.where(np.isnan(values) & women, 0.0, values)
    values = np.where(np.isin(values, list(dk | refused)), np.nan, values)
    result = CheckResult()
    result.indicators = level_indicator(
        "births_per_woman", inputs.enumerators[women], values[women], how="mean", direction="both"
    )
    return result


def interviewed_women(inputs: QualityInputs) -> np.ndarray:
    """Submissions with an interviewed eligible respondent: completed contacts not screened
    out and, when the form has a respondent-age variable, with her age given (a household
    without an eligible woman, or whose selected woman refused or was away, has no births
    to report; they are counted by the screened-out share, not as women with none)."""
    women = inputs.completed & ~inputs.screened_out
    age = _respondent_age(inputs)
    if age is not None:
        women &= ~np.isnan(age)
    return women


AGE_GROUP_YEARS = 5
"""Width of the age groups of the team's expected sons and daughters per woman."""


@check("Q806", "omitted_daughters")
def omitted_daughters(inputs: QualityInputs) -> CheckResult:
    """Daughters reported per enumerator against those expected from the women's ages and
    the sons the same enumerator reported (births of girls left out of the histories).

    Each interviewed woman is expected the team's mean number of live-born sons and
    daughters of her age group; an enumerator's women are expected ``E_b`` sons and ``E_g``
    daughters. Their fertility may differ from the team's by a factor theta (area, cohort)
    with a gamma spread ``tau2`` estimated robustly from the team's total births (Var T =
    E + tau2 E^2, :func:`births_spread`). Sons are what an omitting enumerator keeps, so
    given her ``B`` sons the daughters she should report are negative binomial with size
    ``1/tau2 + B`` and mean ``E_g (1/tau2 + B) / (1/tau2 + E_b)`` (Poisson ``E_g`` when
    tau2 = 0; the sex-ratio test conditional on all births when tau2 is large). The z of
    the lower tail is the evidence; it combines the sex ratio at birth with births per
    woman, so it detects omission that neither shows alone on a few dozen births.

    An enumerator whose z is at or below ``-omission_look_z`` (the per-indicator share of
    the 5% false-positive budget) gets an INFO note "needs a look" with her counts: most
    omitters at the bench's workload lie between that and the flag (bench/README.md). The
    same test per area (``roles.area``) is in the notes (``areas``)."""
    births = _births(inputs)
    if births is None or births["boy"] is None:
        return CheckResult(skipped="no birth history with the child's sex")
    women = np.flatnonzero(interviewed_women(inputs))
    age = _respondent_age(inputs)
    if age is None:
        return CheckResult(skipped="no respondent age")
    age_w = age[women]
    known = ~np.isnan(age_w)
    women, age_w = women[known], age_w[known]
    if len(women) < 2:
        return CheckResult(skipped="too few interviews with the respondent's age")
    row_of = np.full(len(inputs.main), -1, dtype=np.int64)
    row_of[women] = np.arange(len(women))
    where = row_of[births["owner"]]
    ok = where >= 0
    sons = np.bincount(where[ok & births["boy"]], minlength=len(women)).astype(float)
    daughters = np.bincount(where[ok & births["girl"]], minlength=len(women)).astype(float)
    group = (age_w // AGE_GROUP_YEARS).astype(np.int64)
    group -= group.min()
    sizes = np.bincount(group).astype(float)
    per_group = np.maximum(sizes, 1.0)
    expected_sons = (np.bincount(group, weights=sons) / per_group)[group]
    expected_daughters = (np.bincount(group, weights=daughters) / per_group)[group]
    per_woman = np.stack([sons, daughters, expected_sons, expected_daughters])
    names, (b, g, e_b, e_g), counts = _summed(inputs.enumerators[women], per_woman)
    tau2 = births_spread(b + g, e_b + e_g, counts)
    z, predicted = daughters_z(b, g, e_b, e_g, tau2)
    result = CheckResult()
    result.indicators = tested_frame(
        "daughters_per_woman",
        names,
        g / counts,
        counts,
        predicted / counts,
        z,
        direction="low",
        weight=1.5,
    )
    t = inputs.thresholds
    look = (z <= -t.omission_look_z) & (counts >= t.min_interviews)
    for i in np.flatnonzero(look):
        result.flags.append(
            Flag(
                "Q806",
                Severity.INFO,  # below the flag: a lead for a back-check, not a verdict
                f"needs a look: {g[i]:.0f} daughters reported by {counts[i]} women vs "
                f"{predicted[i]:.1f} expected from their ages and the {b[i]:.0f} sons "
                f"(z {z[i]:.1f})",
                enumerator=str(names[i]),
                variable=inputs.roles.birth_sex,
                value=float(z[i]),
                evidence={
                    "women": int(counts[i]),
                    "sons": b[i],
                    "daughters": g[i],
                    "expected_daughters": predicted[i],
                    "z": z[i],
                },
            )
        )
    result.notes = {"tau2": tau2, "areas": _areas(inputs, women, per_woman)}
    return result


def _summed(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Names, the rows of ``values`` summed per name, and the number of cases per name."""
    names, index = np.unique(keys.astype(str), return_inverse=True)
    sums = np.stack([np.bincount(index, weights=row, minlength=len(names)) for row in values])
    return names, sums, np.bincount(index, minlength=len(names))


def _areas(inputs: QualityInputs, women: np.ndarray, per_woman: np.ndarray) -> list[dict]:
    """The omission test of Q806 on all the women of each area (``roles.area``: stratum,
    county): an area's births are numerous enough to show a practice of the area or of
    its supervisor (the work plans treat suspicious swings of the sex ratio as
    disqualifying a unit) that no single enumerator's few births can. The spread between
    areas is estimated like that between enumerators. [] without the area variable."""
    column = inputs.column(inputs.roles.area)
    if column is None:
        return []
    area = text(column).to_numpy(dtype=object)[women]
    known = pd.notna(area)
    if known.sum() < 2:
        return []
    names, (b, g, e_b, e_g), counts = _summed(area[known], per_woman[:, known])
    z, predicted = daughters_z(b, g, e_b, e_g, births_spread(b + g, e_b + e_g, counts))
    t = inputs.thresholds
    return [
        {
            "area": str(names[i]),
            "women": int(counts[i]),
            "sons": float(b[i]),
            "daughters": float(g[i]),
            "expected_daughters": float(predicted[i]),
            "sex_ratio_at_birth": _ratio(b[i] / (b[i] + g[i])) if b[i] + g[i] else float("nan"),
            "z": float(z[i]),
            "flagged": bool(z[i] <= -t.team_z and counts[i] >= t.min_interviews),
            "needs_a_look": bool(z[i] <= -t.omission_look_z and counts[i] >= t.min_interviews),
        }
        for i in range(len(names))
    ]


def _respondent_age(inputs: QualityInputs) -> np.ndarray | None:
    """The respondent's age per submission (the first respondent-age variable present)."""
    for name in inputs.roles.respondent_age:
        if name in inputs.main.columns:
            age = pd.to_numeric(inputs.main[name], errors="coerce").to_numpy(dtype=float)
            dk, refused = numeric_special_codes(inputs.question(name), inputs.codes)
            return np.where(np.isin(age, list(dk | refused)), np.nan, age)
    return None


SPREAD_CUT = 3.0
"""Enumerators beyond this many standard deviations are left out of the spread estimate."""


def _inside_variance(cut: float) -> float:
    """Variance of a standard normal truncated to +-cut (0.973 at 3)."""
    inside = math.erf(cut / math.sqrt(2))
    return 1 - 2 * cut * math.exp(-(cut**2) / 2) / math.sqrt(2 * math.pi) / inside


def births_spread(
    total: np.ndarray,
    expected: np.ndarray,
    women: np.ndarray,
    min_women: int = 10,
    cut: float = SPREAD_CUT,
) -> float:
    """Estimate of tau2, the squared coefficient of variation of enumerators' fertility
    beyond Poisson noise (Var T = E + tau2 E^2), over enumerators with at least
    ``min_women`` women, leaving out those whose total is beyond ``cut`` standard
    deviations under the estimate (iterated); 0 when the spread is Poisson's or less.

    The plain moment estimate (:func:`moment_births_spread`) lets the few enumerators whose
    births are wildly off (copied or invented interviews) widen everyone's expected range,
    and so hides the very enumerators the test looks for (on the detection benchmark:
    0.009 by moments, 0 from the honest enumerators alone). The cut-off variance is
    divided by the share of a normal variance left inside +-cut (0.97 at 3)."""
    keep = (women >= min_women) & (expected > 0)
    if keep.sum() < 3:
        return 0.0
    t, e = total[keep], expected[keep]
    inside = np.ones(len(t), dtype=bool)
    tau2 = 0.0
    for _ in range(20):
        tau2 = _moment_spread(t[inside], e[inside]) / _inside_variance(cut)
        z = (t - e) / np.sqrt(e + tau2 * e**2)
        now = np.abs(z) <= cut
        if (now == inside).all() or now.sum() < 3:
            break
        inside = now
    return tau2


def _moment_spread(t: np.ndarray, e: np.ndarray) -> float:
    return max(0.0, float(((t - e) ** 2 - e).sum() / (e**2).sum()))


def moment_births_spread(
    total: np.ndarray, expected: np.ndarray, women: np.ndarray, min_women: int = 10
) -> float:
    """The moment estimate of tau2, sum((T - E)^2 - E) / sum(E^2) (what Q806 used before
    :func:`births_spread`; kept for the benchmark's comparison)."""
    keep = (women >= min_women) & (expected > 0)
    if keep.sum() < 3:
        return 0.0
    return _moment_spread(total[keep], expected[keep])


def daughters_z(
    sons: np.ndarray,
    daughters: np.ndarray,
    expected_sons: np.ndarray,
    expected_daughters: np.ndarray,
    tau2: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Signed z of the daughters reported against the negative binomial (Poisson when
    ``tau2`` is 0) predicted from the women's ages and the sons reported, and the
    predicted mean; z < 0 for too few daughters (lower tail), > 0 for too many.

    The tails are mid-p values, P(X < g) + P(X = g) / 2 (Lancaster 1961): the exact tail
    P(X <= g) of a count near 18 has a size of about half the nominal rate (z 3.5: 0.00012
    against 0.00023), a loss of power for nothing; the mid-p's size is the nominal rate on
    average (0.00021 on the detection benchmark's expected counts, bench/README.md)."""
    from scipy import stats

    if tau2 > 0:
        k = 1.0 / tau2
        size = k + sons
        prob = (k + expected_sons) / (k + expected_sons + expected_daughters)
        predicted = size * (1 - prob) / prob
        dist = stats.nbinom(size, prob)
    else:
        predicted = expected_daughters.astype(float)
        dist = stats.poisson(predicted)
    at = 0.5 * dist.pmf(daughters)
    low = dist.cdf(daughters - 1) + at
    high = dist.sf(daughters) + at
    z_low = stats.norm.isf(np.clip(low, 1e-300, 1.0))
    z_high = stats.norm.isf(np.clip(high, 1e-300, 1.0))
    z = np.where(z_low >= z_high, -np.maximum(z_low, 0), np.maximum(z_high, 0))
    z = np.where(predicted > 0, z, 0.0)
    return z, predicted
