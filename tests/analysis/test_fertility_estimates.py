"""The demo's indicators from questionnaire variables, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from surveys.analysis import fertility_estimates
from weighting.design import SurveyDesign

INTERVIEW = 1531  # July 2027
BORN = INTERVIEW - 12 * 28 - 6  # aged 25.5 to 28.4 over the 36 months: all in 25-29


def women_and_births():
    women = pd.DataFrame(
        {
            "__id": ["w1", "w2", "w3", "w4"],
            "stratum": ["A", "A", "B", "B"],
            "psu": ["A1", "A2", "B1", "B2"],
            "w": [1.0, 1.0, 2.0, 2.0],
            "a_cmc_int": [str(INTERVIEW)] * 4,  # the store keeps calculates as text
            "c_cmc_birth": [str(BORN)] * 4,
            "c03_age": [28] * 4,
            "c09_marital": ["2", "3", "6", "2"],
            "e01_use": ["1", "2", "98", "1"],  # don't know counts as not using
        }
    )
    births = pd.DataFrame(
        {
            "__id": ["w1", "w3", "w4", "w2"],
            "d10_outcome": ["1", "1", "1", "3"],  # w2's is a miscarriage: not a birth
            "d_cmc": [str(INTERVIEW - 10), str(INTERVIEW - 20), str(INTERVIEW - 50), "1500"],
            "d14_sex": ["1", "2", "1", None],
        }
    )
    design = SurveyDesign.from_frame(women, weights="w", ids="psu", strata="stratum")
    return design, births


def test_rates_ratio_and_prevalence_by_hand():
    design, births = women_and_births()
    table, issues = fertility_estimates(design, births)
    row = table.set_index("indicator")
    # births in the window: w1 (weight 1) and w3 (weight 2); w4's is before it;
    # exposure: 3 woman-years each, weights 1 + 1 + 2 + 2
    assert row.loc["ASFR 25-29", "estimate"] == pytest.approx(3 / 18, rel=1e-12)
    assert row.loc["ASFR 20-24", "estimate"] == 0
    assert row.loc["TFR", "estimate"] == pytest.approx(5 * 3 / 18, rel=1e-12)
    # boys weigh 1 (w1) + 2 (w4), girls 2 (w3)
    assert row.loc["SRB", "estimate"] == pytest.approx(100 * 3 / 2, rel=1e-12)
    # users w1 (1) and w4 (2) among all four currently married women (6)
    assert row.loc["CPR", "estimate"] == pytest.approx(3 / 6, rel=1e-12)
    for name in ("TFR", "SRB", "CPR"):
        assert np.isfinite(row.loc[name, "se"]) and row.loc[name, "se"] > 0
    assert issues == ()


def test_undated_respondents_are_reported_and_left_out_of_the_rates():
    design, births = women_and_births()
    data = design.data.copy()
    data.loc[1, "c_cmc_birth"] = None
    from dataclasses import replace

    table, issues = fertility_estimates(replace(design, data=data), births)
    row = table.set_index("indicator")
    assert row.loc["ASFR 25-29", "estimate"] == pytest.approx(3 / 15, rel=1e-12)
    assert len(issues) == 1 and "1 respondents" in issues[0].message


def test_sex_ratio_by_birth_order():
    design, _ = women_and_births()
    # per woman: first a girl and a boy (twins of order 1 and 2 would be odd; these are
    # successive births), the third and later births mostly boys
    rows = []
    for woman, sexes in {"w1": "21", "w2": "121", "w3": "2112", "w4": "12"}.items():
        for order, sex in enumerate(sexes, start=1):
            rows.append((woman, "1", str(INTERVIEW - 100 + order), sex, str(order)))
    births = pd.DataFrame(rows, columns=["__id", "d10_outcome", "d_cmc", "d14_sex", "d_order"])
    table, _ = fertility_estimates(design, births)
    row = table.set_index("indicator")
    weight = dict(zip(design.data["__id"], design.data["w"], strict=True))
    births["w"] = births["__id"].map(weight)
    births["group"] = np.where(births["d_order"].astype(int) >= 3, "3+", births["d_order"])
    for group, part in births.groupby("group"):
        boys = part.loc[part["d14_sex"] == "1", "w"].sum()
        girls = part.loc[part["d14_sex"] == "2", "w"].sum()
        got = row.loc[f"SRB birth order {group}"]
        assert got["estimate"] == pytest.approx(100 * boys / girls, rel=1e-12)
        assert got["n"] == len(part)
    overall = (
        births.loc[births["d14_sex"] == "1", "w"].sum()
        / births.loc[births["d14_sex"] == "2", "w"].sum()
    )
    assert row.loc["SRB", "estimate"] == pytest.approx(100 * overall, rel=1e-12)
