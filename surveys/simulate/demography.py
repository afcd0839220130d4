"""Plausible demography for the bundled questionnaires (answer models by variable name).

Each interview gets a latent **persona** drawn column-wise before the form is filled: the
respondent's sex, age, marital status, migration history (migrants) or birth history
(fertility); the answer models then report it, so answers agree across questions.

- Age structure: migrants 15+ concentrated at 20-45; women 15-60 roughly flat, thinning
  after 50.
- Fertility: a standard age-specific fertility schedule scaled to the chosen TFR (births
  per woman per year of age); births at least 12 months apart except twins (1% of births);
  sex of each live birth male with probability SRB / (100 + SRB).
- Migrants: origins weighted towards the big sending provinces, never the survey province
  for "another province"; durations here roughly exponential (mean 5 years, at least one
  month); hukou type mostly agricultural; education falling with age.

Profiles change personas where the planted problem is demographic (age heaping, skewed
sex ratio at birth, screening out eligible people), see :mod:`surveys.simulate.profiles`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from surveys.simulate.engine import Draw

ASFR_SHAPE = np.array([0.02, 0.25, 0.38, 0.23, 0.09, 0.025, 0.005])
"""Share of lifetime births in each 5-year age group 15-19 ... 45-49 (sums to 1)."""
ORIGINS = {
    "41": 14,
    "34": 11,
    "51": 10,
    "43": 8,
    "36": 6,
    "13": 6,
    "42": 6,
    "45": 5,
    "52": 5,
    "50": 5,
    "32": 4,
    "23": 4,
    "62": 3,
    "53": 3,
    "14": 3,
    "61": 3,
    "22": 2,
    "21": 2,
    "35": 2,
    "37": 3,
    "15": 1,
    "64": 1,
    "63": 1,
    "65": 1,
    "46": 1,
    "44": 1,
    "33": 1,
    "11": 0.5,
    "12": 0.5,
    "31": 0.5,
    "54": 0.2,
}


@dataclass(frozen=True)
class DemographyParams:
    """The demographic targets of a simulation."""

    tfr: float = 1.3
    srb: float = 110.0
    twin_share: float = 0.01
    daughter_omission: float = 0.6
    """Share of live-born daughters an ``srb_skew`` enumerator leaves out of the birth
    history and the counts (reported sex ratio at birth about srb / (1 - share))."""


def asfr_per_year(tfr: float) -> np.ndarray:
    """Births per woman per single year of age 15..49 giving total fertility ``tfr``."""
    return np.repeat(ASFR_SHAPE * tfr / 5.0, 5)


def _cmc_parts(cmc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    year = 1900 + (cmc - 1) // 12
    month = (cmc - 1) % 12 + 1
    return year, month


class Personas:
    """Per-record latent attributes, shared by the answer models of one simulation."""

    def __init__(self, n: int, interview_cmc: np.ndarray, rng: np.random.Generator):
        self.n = n
        self.cmc_int = interview_cmc.astype(np.int64)
        self.rng = rng
        self.table: dict[str, np.ndarray] = {}
        self.history: list[list[tuple]] = [[] for _ in range(n)]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.table[name]


def _ages(rng: np.random.Generator, n: int, low: int, high: int, peak: float, spread: float):
    ages = np.floor(rng.normal(peak, spread, n))
    ages = np.where((ages < low) | (ages > high), rng.integers(low, high + 1, n), ages)
    return ages.astype(np.int64)


def _birth_from_age(rng, cmc_int: np.ndarray, ages: np.ndarray) -> np.ndarray:
    """A birth CMC giving completed age ``ages`` at ``cmc_int``."""
    months_extra = rng.integers(0, 12, len(ages))
    return cmc_int - 12 * ages - months_extra


def heap_ages(ages: np.ndarray, mask: np.ndarray, low: int, high: int) -> np.ndarray:
    """Round the masked ages to the nearest multiple of 5 (age heaping on 0 and 5)."""
    heaped = (np.round(ages / 5.0) * 5).astype(np.int64).clip(low, high)
    return np.where(mask, heaped, ages)


# -- migrants --------------------------------------------------------------------------
def migrant_personas(
    n: int,
    cmc_int: np.ndarray,
    rng: np.random.Generator,
    *,
    heaping: np.ndarray,
    screen_out: np.ndarray,
) -> Personas:
    """Migrants aged 15+ (see the module docstring); ``screen_out`` rows are made to look
    ineligible (hukou in this county) although they are not."""
    p = Personas(n, cmc_int, rng)
    sex = np.where(rng.random(n) < 0.55, "1", "2").astype(object)
    ages = heap_ages(_ages(rng, n, 15, 75, 33, 10), heaping, 15, 75)
    birth = _birth_from_age(rng, p.cmc_int, ages)
    here = np.minimum(1 + np.floor(rng.exponential(60, n)), 12 * ages - 1).astype(np.int64)
    here = np.maximum(here, 1)
    place = rng.choice(
        ["5", "4", "2", "1", "3", "6", "98"],
        size=n,
        p=[0.48, 0.30, 0.175, 0.02, 0.02, 0.003, 0.002],
    ).astype(object)
    place[screen_out] = "1"
    codes = np.array(list(ORIGINS), dtype=object)
    weights = np.array(list(ORIGINS.values()), dtype=float)
    married = rng.random(n) < np.clip((ages - 20) / 10.0, 0.05, 0.9)
    marital = np.where(married, "2", "1").astype(object)
    marital[married & (rng.random(n) < 0.05)] = "3"
    marital[~married & (ages > 30) & (rng.random(n) < 0.3)] = "4"
    with_spouse = married & (rng.random(n) < 0.75)
    max_kids = np.clip((ages - 18) // 6, 0, 3)
    kids = np.where(married, np.minimum(rng.poisson(1.2, n), max_kids), 0)
    p.table.update(
        sex=sex,
        age=ages,
        birth_cmc=birth,
        arrival_cmc=p.cmc_int - here,
        place=place,
        origin=codes[rng.choice(len(codes), n, p=weights / weights.sum())],
        marital=marital,
        spouse=with_spouse,
        kids=kids.astype(np.int64),
    )
    return p


def migrant_models(p: Personas, params: DemographyParams) -> dict:
    """Answer models of the migrant questionnaire reading the personas."""
    rng = p.rng
    t = p.table

    def years(cmc):
        return _cmc_parts(cmc)[0].astype(float)

    def months(cmc):
        return _cmc_parts(cmc)[1].astype(float)

    def roster_age_cmc(d: Draw) -> np.ndarray:
        rel = d.value("c02_rel")
        resp = t["birth_cmc"][d.records]
        age_resp = t["age"][d.records]
        spouse = resp + rng.integers(-36, 48, len(d))
        spouse = np.minimum(spouse, p.cmc_int[d.records] - 16 * 12)
        child_age = np.floor(rng.uniform(0, np.maximum(age_resp - 14, 0.5))).astype(np.int64)
        child = np.maximum(
            p.cmc_int[d.records] - 12 * child_age - rng.integers(0, 12, len(d)), resp + 13 * 12
        )
        cmc = np.where(rel == "0", resp, np.where(rel == "1", spouse, child))
        return np.minimum(cmc, p.cmc_int[d.records])

    def remembered_month(key: str):
        def fn(d: Draw):
            cmc = d.recall(key)
            if cmc is None or np.isnan(cmc).any():
                return None
            return months(cmc.astype(np.int64))

        return fn

    def birth_year(d: Draw):
        cmc = roster_age_cmc(d)
        d.remember("member_cmc", cmc)
        return years(cmc)

    def rel(d: Draw):
        pos = d.positions
        spouse = t["spouse"][d.records]
        return np.where(pos == 1, "0", np.where((pos == 2) & spouse, "1", "2")).astype(object)

    def member_sex(d: Draw):
        relation = d.value("c02_rel")
        own = t["sex"][d.records]
        other = np.where(own == "1", "2", "1")
        kid = np.where(rng.random(len(d)) < 0.53, "1", "2")
        return np.where(relation == "0", own, np.where(relation == "1", other, kid)).astype(object)

    def member_marital(d: Draw):
        relation = d.value("c02_rel")
        return np.where(
            relation == "0", t["marital"][d.records], np.where(relation == "1", "2", "1")
        ).astype(object)

    def education(d: Draw):
        age = (
            np.floor((p.cmc_int[d.records] - d.number("c_cmc")) / 12)
            if d.question.repeat
            else t["age"][d.records]
        )
        level = np.clip(np.round(rng.normal(4.2 - (age - 30) / 15.0, 1.0)), 1, 7)
        level = np.where(age < 12, np.clip(np.floor(age / 6) + 1, 1, 3), level)
        return level.astype(int).astype(str).astype(object)

    def hukou_prov_member(d: Draw):
        return d.value("hukou_prov")

    def origin(d: Draw):
        here = d.value("province")
        out = t["origin"][d.records].copy()
        clash = out == here
        out[clash] = "41" if "41" not in set(here[clash]) else "51"
        return out

    def income(d: Draw):
        return np.round(np.exp(rng.normal(np.log(5500), 0.5, len(d))), -2).clip(0, 200000)

    def hh_income(d: Draw):
        own = d.number("e07_income")
        base = np.where(np.isnan(own) | (own >= 999998), 6000, own)
        return np.round(base * rng.uniform(1.0, 2.5, len(d)), -2).clip(0, 500000)

    def spend(d: Draw):
        inc = d.number("e08_hh_income")
        base = np.where(np.isnan(inc) | (inc >= 999998), 8000, inc)
        return np.round(base * rng.uniform(0.3, 0.8, len(d)), -2)

    def housing(d: Draw):
        total = d.number("e09_hh_spend")
        base = np.where(np.isnan(total) | (total >= 999998), 2000, total)
        return np.round(base * rng.uniform(0.1, 0.4, len(d)), -1)

    def n_live(d: Draw):
        age = t["age"][d.records]
        cum = np.array([asfr_per_year(params.tfr)[: max(0, a - 15)].sum() for a in age])
        return np.minimum(rng.poisson(cum), 6).astype(float)

    def fertile_since(records: np.ndarray) -> np.ndarray:
        """The later of arrival here and the mother's 16th birthday."""
        return np.maximum(t["arrival_cmc"][records], t["birth_cmc"][records] + 16 * 12)

    def n_since(d: Draw):
        live = d.number("h01_n_live")
        share = np.clip(p.cmc_int[d.records] - fertile_since(d.records), 0, 240) / 240.0
        return rng.binomial(live.astype(np.int64), share).astype(float)

    def last_year(d: Draw):
        arr = fertile_since(d.records)
        cmc = arr + np.floor(rng.uniform(0, 1, len(d)) * (p.cmc_int[d.records] - arr))
        d.remember("last_cmc", cmc)
        return years(cmc.astype(np.int64))

    def marriage_year(d: Draw):
        birth = t["birth_cmc"][d.records]
        cmc = np.minimum(
            birth + 12 * np.clip(rng.normal(24, 3, len(d)), 17, 40), p.cmc_int[d.records] - 1
        ).astype(np.int64)
        d.remember("mar_cmc", cmc)
        return years(cmc)

    def const(value):
        return lambda d: np.full(len(d), value, dtype=object)

    def pick(codes, probs):
        return lambda d: rng.choice(codes, size=len(d), p=probs).astype(object)

    return {
        "b01_sex": lambda d: t["sex"][d.records],
        "b02_birth_year": lambda d: years(t["birth_cmc"][d.records]),
        "b03_birth_month": lambda d: months(t["birth_cmc"][d.records]),
        "b04_arr_year": lambda d: years(t["arrival_cmc"][d.records]),
        "b05_arr_month": lambda d: months(t["arrival_cmc"][d.records]),
        "b06_hukou_place": lambda d: t["place"][d.records],
        "b07_hukou_prov": origin,
        "b09_other_elig": const("2"),
        "c00_hh_n": lambda d: (1 + t["spouse"][d.records] + t["kids"][d.records]).astype(float),
        "c02_rel": rel,
        "c03_sex": member_sex,
        "c04_birth_year": birth_year,
        "c05_birth_month": remembered_month("member_cmc"),
        "c06_edu": education,
        "c07_marital": member_marital,
        "c08_hukou_type": pick(["1", "2", "3", "5"], [0.68, 0.14, 0.08, 0.10]),
        "c09_hukou_prov": hukou_prov_member,
        "c10_live_now": lambda d: np.where(
            d.positions == 1, "1", np.where(rng.random(len(d)) < 0.9, "1", "2")
        ).astype(object),
        "d01_first_year": lambda d: np.maximum(
            years(t["arrival_cmc"][d.records]) - rng.geometric(0.35, len(d)) + 1,
            years(t["birth_cmc"][d.records]) + 15,
        ).clip(None, years(t["arrival_cmc"][d.records])),
        "d03_reason": pick(["1", "2", "3", "4", "6", "9"], [0.62, 0.14, 0.12, 0.04, 0.04, 0.04]),
        "d04_stay": pick(["1", "2", "98"], [0.7, 0.2, 0.1]),
        "e01_worked": lambda d: np.where(
            rng.random(len(d)) < np.where(t["sex"][d.records] == "1", 0.88, 0.68), "1", "2"
        ).astype(object),
        "e06_hours": lambda d: np.clip(np.round(rng.normal(54, 10, len(d))), 1, 120),
        "e07_income": income,
        "e08_hh_income": hh_income,
        "e09_hh_spend": spend,
        "e10_housing_spend": housing,
        "h00_mar_year": marriage_year,
        "h00_mar_month": remembered_month("mar_cmc"),
        "h01_n_live": n_live,
        "h02_n_since": n_since,
        "h03_last_year": last_year,
        "h04_last_month": remembered_month("last_cmc"),
        "h06_fp_use": pick(["1", "2"], [0.8, 0.2]),
        "h07_method": pick(["3", "2", "7", "5", "1"], [0.5, 0.2, 0.22, 0.05, 0.03]),
    }


# -- fertility -------------------------------------------------------------------------
def fertility_personas(
    n: int,
    cmc_int: np.ndarray,
    rng: np.random.Generator,
    params: DemographyParams,
    *,
    heaping: np.ndarray,
    srb: np.ndarray,
    omit_daughters: np.ndarray | None = None,
) -> Personas:
    """Women 15-60 with a birth history from the TFR schedule; ``srb`` per record.

    ``omit_daughters`` (per record, 0-1) is the chance that each live-born daughter is
    left out of what the woman's interview reports (history and counts alike, as Collect's
    consistency check forces): the births happened, so her later birth intervals keep the
    gap and the sex ratio and births per woman she reports fall. The number left out is in
    ``table["omitted"]``."""
    p = Personas(n, cmc_int, rng)
    ages = heap_ages(rng.integers(15, 61, n), heaping, 15, 60)
    ages = np.where((ages > 50) & (rng.random(n) < 0.3), rng.integers(15, 50, n), ages)
    birth = _birth_from_age(rng, p.cmc_int, ages)
    asfr = asfr_per_year(params.tfr)
    births: list[list[int]] = [[] for _ in range(n)]
    next_ok = birth + 15 * 12
    for age in range(15, 50):
        start = birth + 12 * age
        rate = asfr[age - 15]
        # a birth at this age, at a random month of the year, not before next_ok
        hit = rng.random(n) < rate
        cmc = start + rng.integers(0, 12, n)
        hit &= (cmc >= next_ok) & (cmc <= p.cmc_int)
        for i in np.flatnonzero(hit):
            births[i].append(int(cmc[i]))
        next_ok = np.where(hit, cmc + 12, next_ok)
    p_male = srb / (100.0 + srb)
    omit = np.zeros(n) if omit_daughters is None else np.asarray(omit_daughters, dtype=float)
    omitted = np.zeros(n, dtype=np.int64)
    for i in range(n):
        rows = []
        for cmc in births[i]:
            twins = rng.random() < params.twin_share
            children = []
            for _ in range(2 if twins else 1):
                sex = "1" if rng.random() < p_male[i] else "2"
                alive = rng.random() >= 0.015
                if sex == "2" and omit[i] > 0 and rng.random() < omit[i]:
                    omitted[i] += 1  # a twin left out makes the other a single birth
                    continue
                children.append((sex, alive))
            for sex, alive in children:
                rows.append((1, cmc, len(children), sex, alive))
        low = int(birth[i]) + 16 * 12
        span = int(p.cmc_int[i]) - low
        if span > 0:
            for outcome, count in ((3, rng.poisson(0.15)), (4, rng.poisson(0.25))):
                for _ in range(int(count)):
                    rows.append((outcome, low + int(rng.integers(0, span + 1)), 1, "", True))
        rows.sort(key=lambda r: (r[1], r[0]))
        p.history[i] = rows
    first = np.array([min((r[1] for r in h), default=10**9) for h in p.history])
    married = (first < 10**9) | (rng.random(n) < np.clip((ages - 20) / 8.0, 0.02, 0.92))
    mar = birth + 12 * np.clip(rng.normal(23.5, 2.5, n), 16, 45).astype(np.int64)
    mar = np.minimum(np.minimum(mar, first - rng.integers(3, 24, n)), p.cmc_int - 1)
    mar = np.maximum(mar, birth + 13 * 12 + 1)
    marital = np.where(married, "2", "1").astype(object)
    marital[married & (rng.random(n) < 0.04)] = "4"
    p.table.update(
        age=ages, birth_cmc=birth, married=married, mar_cmc=mar, marital=marital, omitted=omitted
    )
    return p


def fertility_models(p: Personas, params: DemographyParams) -> dict:
    """Answer models of the fertility questionnaire reading the personas."""
    rng = p.rng
    t = p.table

    def hist(d: Draw, field: int, default=None) -> np.ndarray:
        out = np.empty(len(d), dtype=object)
        for i, (rec, pos) in enumerate(zip(d.records, d.positions, strict=True)):
            rows = p.history[rec]
            out[i] = rows[pos - 1][field] if pos - 1 < len(rows) else default
        return out

    def count(outcome, sex=None):
        def fn(d: Draw):
            return np.array(
                [
                    sum(
                        1
                        for r in p.history[rec]
                        if r[0] == outcome and (sex is None or r[3] == sex)
                    )
                    for rec in d.records
                ],
                dtype=float,
            )

        return fn

    def years(cmc):
        return _cmc_parts(np.asarray(cmc, dtype=np.int64))[0].astype(float)

    def months(cmc):
        return _cmc_parts(np.asarray(cmc, dtype=np.int64))[1].astype(float)

    def own_age(d: Draw):
        listed = d.number("b_sel_age")
        return np.where(np.isnan(listed), t["age"][d.records], listed).astype(np.int64)

    def own_birth(d: Draw):
        age = own_age(d)
        cmc_int = p.cmc_int[d.records]
        month = rng.integers(1, 13, len(d))
        _, int_month = _cmc_parts(cmc_int)
        year = 1900 + (cmc_int - 1) // 12 - age - (month > int_month)
        t["birth_cmc"][d.records] = (year - 1900) * 12 + month
        return year.astype(float)

    def pregnant(d: Draw):
        age = t["age"][d.records]
        return np.where(
            (age < 42) & t["married"][d.records] & (rng.random(len(d)) < 0.05), "1", "2"
        ).astype(object)

    def ever(d: Draw):
        return np.where(np.array([len(p.history[r]) > 0 for r in d.records]), "1", "2").astype(
            object
        )

    def intend(d: Draw):
        live = d.number("d03_n_live")
        live = np.where(np.isnan(live), 0, live)
        return np.maximum(live, rng.choice([1, 2, 2, 2, 3], len(d))).astype(float)

    def sel_age(d: Draw):
        return t["age"][d.records].astype(float)

    def n_women(d: Draw):
        return np.where(rng.random(len(d)) < 0.92, 1 + (rng.random(len(d)) < 0.3), 0).astype(float)

    return {
        "b01_hh_size": lambda d: (2 + rng.poisson(1.3, len(d))).astype(float),
        "b02_n_women": n_women,
        "b05_w_age": sel_age,
        "b06_w_rel": lambda d: np.where(d.positions == 1, "2", "3").astype(object),
        "b07_sel_result": lambda d: rng.choice(
            ["1", "2", "3"], len(d), p=[0.94, 0.03, 0.03]
        ).astype(object),
        "c01_birth_year": own_birth,
        "c02_birth_month": lambda d: months(t["birth_cmc"][d.records]),
        "c03_age": lambda d: own_age(d).astype(float),
        "c09_marital": lambda d: t["marital"][d.records],
        "c10_mar_year": lambda d: years(
            np.maximum(t["mar_cmc"][d.records], t["birth_cmc"][d.records] + 157)
        ),
        "c11_mar_month": lambda d: months(
            np.maximum(t["mar_cmc"][d.records], t["birth_cmc"][d.records] + 157)
        ),
        "d01_ever_preg": ever,
        "d02_preg_now": pregnant,
        "d03_n_live": count(1),
        "d04_n_sons": count(1, "1"),
        "d05_n_daus": count(1, "2"),
        "d06_n_still": count(2),
        "d07_n_misc": count(3),
        "d08_n_induced": count(4),
        "d10_outcome": lambda d: hist(d, 0).astype(str).astype(object),
        "d11_year": lambda d: years(hist(d, 1, 0).astype(np.int64)),
        "d12_month": lambda d: months(hist(d, 1, 0).astype(np.int64)),
        "d13_mult": lambda d: hist(d, 2, 1).astype(str).astype(object),
        "d14_sex": lambda d: hist(d, 3, "1"),
        "d15_alive": lambda d: np.where(hist(d, 4, True).astype(bool), "1", "2").astype(object),
        "d16_death_age": lambda d: np.zeros(len(d)),
        "d17_death_mon": lambda d: rng.integers(0, 3, len(d)).astype(float),
        "d19_hist_ok": lambda d: np.full(len(d), "1", dtype=object),
        "e01_use": lambda d: np.where(rng.random(len(d)) < 0.85, "1", "2").astype(object),
        "e02_method": lambda d: rng.choice(
            ["3", "2", "7", "5", "1", "4"], len(d), p=[0.48, 0.22, 0.22, 0.04, 0.02, 0.02]
        ).astype(object),
        "f01_ideal": lambda d: rng.choice([1, 2, 2, 2, 3], len(d)).astype(float),
        "f02_intend": intend,
    }
