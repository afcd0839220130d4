"""ASFR, TFR, GFR and their jackknife SEs by the DHS method, against independent references.

References: a two-woman case worked by hand, and a plain loop over women and months with the
DHS pseudo-value jackknife written out, on seeded random birth histories.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from weighting.errors import DataFileError
from weighting.fertility import cmc, fertility_rates, women_from_ir, women_from_tables


def test_cmc_is_months_since_1900():
    assert cmc(1900, 1) == 1
    assert cmc(2017, 7) == 1411


def tables(women: list[dict], births: list[dict]):
    return women_from_tables(
        pd.DataFrame(women),
        pd.DataFrame(births, columns=["id", "b3"]),
        woman_id="id",
        interview_cmc="v008",
        birth_cmc="v011",
        weight="w",
        cluster="c",
        child_birth_cmc="b3",
    )


def test_two_women_by_hand():
    # A: 25 years 6 months old at interview (CMC 1400): 30 months aged 20-24, 6 aged 25-29.
    #    Births at 1380 (age 23) counts, 1399 (age 25) counts, 1400 (interview month) and
    #    1363 (37 months before) do not.
    # B: exactly 30 at interview, weight 2: 36 months aged 25-29, one birth at age 27.
    women = [
        {"id": "A", "v008": 1400, "v011": 1400 - 306, "w": 1.0, "c": 1},
        {"id": "B", "v008": 1400, "v011": 1400 - 360, "w": 2.0, "c": 2},
    ]
    births = [
        {"id": "A", "b3": 1380},
        {"id": "A", "b3": 1399},
        {"id": "A", "b3": 1400},
        {"id": "A", "b3": 1363},
        {"id": "B", "b3": 1370},
    ]
    rates = fertility_rates(tables(women, births)).set_index("indicator")
    assert rates.loc["ASFR 20-24", "estimate"] == pytest.approx(1 / 2.5)
    assert rates.loc["ASFR 25-29", "estimate"] == pytest.approx(3 / 6.5)
    assert rates.loc["TFR", "estimate"] == pytest.approx(5 * (0.4 + 3 / 6.5))
    assert rates.loc["ASFR 25-29", "exposure"] == pytest.approx(0.5 + 2 * 3)
    # without A: TFR = 5 * 2/6; without B: TFR = 5 * (0.4 + 2); jackknife over 2 clusters
    r = 5 * (0.4 + 3 / 6.5)
    deleted = np.array([5 * 2 / 6, 5 * 2.4])
    assert rates.loc["TFR", "se"] == pytest.approx(np.sqrt(0.5 * np.sum((deleted - r) ** 2)))
    assert rates.loc["GFR", "estimate"] == pytest.approx((1 + 1 + 2) / (3 + 2 * 3))


def random_histories(seed: int = 7, n: int = 400, clusters: int = 25):
    rng = np.random.default_rng(seed)
    women, births = [], []
    for i in range(n):
        interview = int(cmc(2017, 7) + rng.integers(0, 4))
        age_months = int(rng.integers(14 * 12, 61 * 12))
        born = interview - age_months
        women.append(
            {
                "id": i,
                "v008": interview,
                "v011": born,
                "w": float(rng.uniform(0.3, 3)),
                "c": int(rng.integers(0, clusters)),
            }
        )
        for _ in range(int(rng.poisson(1.6))):
            b = int(born + rng.integers(14 * 12, max(age_months, 14 * 12 + 1) + 1))
            if b <= interview:
                births.append({"id": i, "b3": b})
    return women, births


def loop_reference(women: list[dict], births: list[dict], drop_cluster=None):
    """DHS rates written plainly: month by month, woman by woman."""
    b_by_age = np.zeros(7)
    e_by_age = np.zeros(7)
    for w in women:
        if w["c"] == drop_cluster:
            continue
        for month in range(w["v008"] - 36, w["v008"]):
            age = (month - w["v011"]) // 12
            if 15 <= age < 50:
                e_by_age[(age - 15) // 5] += w["w"] / 12
        for b in births:
            if b["id"] == w["id"] and w["v008"] - 36 <= b["b3"] <= w["v008"] - 1:
                age = (b["b3"] - w["v011"]) // 12
                if 15 <= age < 50:
                    b_by_age[(age - 15) // 5] += w["w"]
    asfr = np.array([b / e if e > 0 else 0.0 for b, e in zip(b_by_age, e_by_age, strict=True)])
    # GFR as the Guide to DHS Statistics: births to women 15-49 over woman-years 15-44
    return asfr, 5 * asfr.sum(), b_by_age.sum() / e_by_age[:6].sum()


def test_rates_and_jackknife_equal_a_plain_loop():
    women, births = random_histories()
    rates = fertility_rates(tables(women, births)).set_index("indicator")
    asfr, tfr, gfr = loop_reference(women, births)
    got = rates.loc[[f"ASFR {a}-{a + 4}" for a in range(15, 50, 5)], "estimate"].to_numpy()
    np.testing.assert_allclose(got, asfr, rtol=1e-12)
    assert rates.loc["TFR", "estimate"] == pytest.approx(tfr, rel=1e-12)
    assert rates.loc["GFR", "estimate"] == pytest.approx(gfr, rel=1e-12)
    present = sorted({w["c"] for w in women})
    k = len(present)
    pseudo_tfr, pseudo_gfr = [], []
    for c in present:
        _, t_i, g_i = loop_reference(women, births, drop_cluster=c)
        pseudo_tfr.append(k * tfr - (k - 1) * t_i)
        pseudo_gfr.append(k * gfr - (k - 1) * g_i)
    se_tfr = np.sqrt(np.sum((np.array(pseudo_tfr) - tfr) ** 2) / (k * (k - 1)))
    se_gfr = np.sqrt(np.sum((np.array(pseudo_gfr) - gfr) ** 2) / (k * (k - 1)))
    assert rates.loc["TFR", "se"] == pytest.approx(se_tfr, rel=1e-10)
    assert rates.loc["GFR", "se"] == pytest.approx(se_gfr, rel=1e-10)
    assert rates.loc["TFR", "clusters"] == k


def test_dhs_ir_layout_gives_the_same_rates():
    women, births = random_histories(seed=11, n=150)
    frame = pd.DataFrame(
        {
            "v005": [round(w["w"] * 1e6) for w in women],
            "v008": [w["v008"] for w in women],
            "v011": [w["v011"] for w in women],
            "v021": [w["c"] for w in women],
            "v022": [1] * len(women),
        }
    )
    for j in range(1, 21):
        frame[f"b3_{j:02d}"] = np.nan
    for w in women:
        own = sorted((b["b3"] for b in births if b["id"] == w["id"]), reverse=True)
        for j, b in enumerate(own[:20], start=1):
            frame.loc[w["id"], f"b3_{j:02d}"] = b
    for w in women:
        w["w"] = round(w["w"] * 1e6) / 1e6
    ir = fertility_rates(women_from_ir(frame)).set_index("indicator")
    long = fertility_rates(tables(women, births)).set_index("indicator")
    np.testing.assert_allclose(ir["estimate"], long["estimate"], rtol=1e-12)
    np.testing.assert_allclose(ir["se"], long["se"], rtol=1e-10)


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(DataFileError, match="v011"):
        women_from_ir(pd.DataFrame({"v005": [1], "v008": [1400], "v021": [1]}))
    with pytest.raises(DataFileError, match="not in the women table"):
        tables([{"id": 1, "v008": 1400, "v011": 1000, "w": 1.0, "c": 1}], [{"id": 2, "b3": 1390}])


def test_intervals_log_by_default_and_wald_on_request():
    women, births = random_histories(seed=5, n=60)
    log = fertility_rates(tables(women, births)).set_index("indicator")
    wald = fertility_rates(tables(women, births), interval="wald").set_index("indicator")
    rates = log[log["estimate"] > 0]
    assert (rates["ci_low"] > 0).all()  # never below zero, even for a rare age group
    r, se = rates["estimate"], rates["se"]
    z = NormalDist().inv_cdf(0.975)  # 1.95996..., R's qnorm(0.975) as DHS.rates
    np.testing.assert_allclose(rates["ci_low"] * rates["ci_high"], r**2, rtol=1e-12)
    np.testing.assert_allclose(rates["ci_high"], r * np.exp(z * se / r), rtol=1e-12)
    np.testing.assert_allclose(wald["ci_low"], wald["estimate"] - z * wald["se"], rtol=1e-12)
    np.testing.assert_allclose(wald["ci_high"], wald["estimate"] + z * wald["se"], rtol=1e-12)
    assert (wald["ci_low"] < 0).any()  # the symmetric interval does go below zero here
    with pytest.raises(ValueError, match="interval"):
        fertility_rates(tables(women, births), interval="exact")
