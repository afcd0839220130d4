"""Survey indicators: sex ratio at birth, contraceptive prevalence, migrant service coverage.

The reference is a plain with-replacement cluster variance written out in the test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from weighting.design import SurveyDesign
from weighting.indicators import contraceptive_prevalence, service_coverage, sex_ratio_at_birth


def births_frame(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 600
    cluster = rng.integers(0, 40, n)
    return pd.DataFrame(
        {
            "cluster": cluster,
            "w": rng.uniform(0.5, 2.0, 40)[cluster],
            "sex": rng.choice([1, 2, 9], size=n, p=[0.52, 0.47, 0.01]),
            "order": rng.choice([1, 2, 3], size=n),
        }
    )


def reference_share(y: np.ndarray, w: np.ndarray, cluster: np.ndarray) -> tuple[float, float, int]:
    """Weighted share and its linearised SE, PSU totals by loops."""
    p = np.sum(w * y) / np.sum(w)
    clusters = sorted(set(cluster))
    z = [
        sum(w[i] * (y[i] - p) for i in range(len(y)) if cluster[i] == c) / np.sum(w)
        for c in clusters
    ]
    n = len(clusters)
    var = n / (n - 1) * sum((zc - np.mean(z)) ** 2 for zc in z)
    return p, float(np.sqrt(var)), n


def test_sex_ratio_at_birth_with_logit_interval():
    frame = births_frame()
    design = SurveyDesign.from_frame(frame, weights="w", ids="cluster")
    (srb,) = sex_ratio_at_birth(design, "sex", male=1, female=2)
    known = frame[frame["sex"] != 9]
    y = (known["sex"] == 1).to_numpy(float)
    w = known["w"].to_numpy()
    p, se, n = reference_share(y, w, known["cluster"].to_numpy())
    assert srb.estimate == pytest.approx(100 * p / (1 - p), rel=1e-12)
    assert srb.estimate == pytest.approx(100 * w[y == 1].sum() / w[y == 0].sum(), rel=1e-12)
    t = stats.t.ppf(0.975, n - 1)
    half = t * se / (p * (1 - p))
    logit = np.log(p / (1 - p))
    low, high = 1 / (1 + np.exp(-(logit - half))), 1 / (1 + np.exp(-(logit + half)))
    assert srb.ci_low == pytest.approx(100 * low / (1 - low), rel=1e-10)
    assert srb.ci_high == pytest.approx(100 * high / (1 - high), rel=1e-10)
    by_order = sex_ratio_at_birth(design, "sex", male=1, female=2, by="order")
    assert [e.domain for e in by_order] == ["1", "2", "3"]


def test_sex_ratio_of_a_domain_without_girls_is_infinite_not_a_crash():
    frame = births_frame()
    frame["group"] = np.where(frame["sex"] == 1, "boys", "mixed")
    frame.loc[frame.index[:40], "group"] = "mixed"
    design = SurveyDesign.from_frame(frame, weights="w", ids="cluster")
    by_group = {e.domain: e for e in sex_ratio_at_birth(design, "sex", by="group")}
    assert by_group["boys"].estimate == float("inf") and np.isnan(by_group["boys"].se)
    assert np.isfinite(by_group["mixed"].estimate)


def test_contraceptive_prevalence_among_married_women_15_49():
    rng = np.random.default_rng(5)
    n = 500
    frame = pd.DataFrame(
        {
            "psu": rng.integers(0, 30, n),
            "w": rng.uniform(1, 3, n),
            "age": rng.integers(15, 61, n),
            "married": rng.choice([1, 2], n, p=[0.7, 0.3]),
            "method": rng.choice([0, 1, 2, 5], n, p=[0.2, 0.4, 0.3, 0.1]),  # 1 IUD, 2 sterilisation
        }
    )
    design = SurveyDesign.from_frame(frame, weights="w", ids="psu")
    table = contraceptive_prevalence(
        design, "method", married="married", age="age", long_acting=[1, 2]
    ).set_index("statistic")
    eligible = (frame["married"] == 1) & frame["age"].between(15, 49)
    users = eligible & (frame["method"] != 0)
    cpr = frame.loc[users, "w"].sum() / frame.loc[eligible, "w"].sum()
    la = frame.loc[users & frame["method"].isin([1, 2]), "w"].sum() / frame.loc[users, "w"].sum()
    assert table.loc["contraceptive prevalence", "estimate"] == pytest.approx(cpr, rel=1e-12)
    assert table.loc["long-acting among users", "estimate"] == pytest.approx(la, rel=1e-12)
    ref = reference_share(
        (frame["method"] != 0).to_numpy(float) * eligible.to_numpy(),
        frame["w"].to_numpy() * eligible.to_numpy(),
        frame["psu"].to_numpy(),
    )
    assert table.loc["contraceptive prevalence", "se"] == pytest.approx(ref[1], rel=1e-10)


def test_migrant_service_coverage_against_target():
    rng = np.random.default_rng(9)
    n = 400
    frame = pd.DataFrame(
        {
            "psu": rng.integers(0, 25, n),
            "w": rng.uniform(1, 2, n),
            "health_record": rng.choice([1, 0], n, p=[0.97, 0.03]),
            "family_doctor": rng.choice([1, 0], n, p=[0.6, 0.4]),
        }
    )
    design = SurveyDesign.from_frame(frame, weights="w", ids="psu")
    table = service_coverage(design, ["health_record", "family_doctor"])
    assert list(table["variable"]) == ["health_record=1", "family_doctor=1"]
    assert not table.loc[1, "meets_target"]
    share = np.sum(frame["w"] * frame["health_record"]) / frame["w"].sum()
    assert table.loc[0, "estimate"] == pytest.approx(share, rel=1e-12)
