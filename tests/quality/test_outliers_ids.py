"""Outliers (Tukey, SD rule, DK codes excluded) and ID checks (blank IDs never paired)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from qc_support import inputs, interviews

from validation.quality.ids import (
    duplicate_instance_ids,
    duplicate_unit_ids,
    units_not_in_sample,
    units_visited_twice,
)
from validation.quality.outliers import fences, outliers

INCOMES = [3000, 3200, 2800, 3500, 4000, 3100, 2900, 3300, 3600, 2700, 3000, 3400]


def _income_frame(extra):
    rows = [{"hhid": f"H{k}", "worked": "1", "income": v} for k, v in enumerate(INCOMES + extra)]
    return interviews(rows)


def test_tukey_fences_use_quartiles_and_the_multiplier():
    values = np.array(INCOMES, dtype=float)
    bounds = fences(values, 1.5, 3.0)
    q1, q3 = np.percentile(values, [25, 75])
    assert bounds["tukey_low"] == q1 - 1.5 * (q3 - q1)
    assert bounds["tukey_high"] == q3 + 1.5 * (q3 - q1)
    assert bounds["sd_high"] == values.mean() + 3 * values.std(ddof=1)


def test_dont_know_codes_are_not_values():
    result = outliers(inputs(_income_frame([999998, 999998, 9000])))
    flagged = {(f.variable, f.value) for f in result.flags}
    assert ("income", 9000.0) in flagged
    assert not any(v == 999998 for _, v in flagged)
    evidence = next(f.evidence for f in result.flags if f.value == 9000.0)
    clean = np.array([*INCOMES, 9000], dtype=float)
    assert evidence["mean"] == clean.mean()  # the distribution leaves the DK codes out
    # with the codes taken as incomes (IPA's mistake) the SD rule could not see 9000:
    with_codes = np.array([*INCOMES, 999998, 999998, 9000], dtype=float)
    assert with_codes.mean() + 3 * with_codes.std(ddof=1) > 9000
    assert clean.mean() + 3 * clean.std(ddof=1) < 9000 or evidence["tukey_high"] < 9000


def test_sd_multiplier_is_applied():
    from validation.quality import Thresholds

    loose = Thresholds(outlier_min_values=5, outlier_sd_multiplier=10, outlier_iqr_multiplier=50)
    assert not outliers(inputs(_income_frame([9000]), thresholds=loose)).flags
    strict = Thresholds(outlier_min_values=5, outlier_sd_multiplier=2, outlier_iqr_multiplier=50)
    assert [f.value for f in outliers(inputs(_income_frame([9000]), thresholds=strict)).flags] == [
        9000.0
    ]


def test_outliers_within_groups():
    rows = [{"worked": "1", "income": v, "stratum": "a"} for v in [*INCOMES, 9000]]
    rows += [{"worked": "1", "income": 10 * v, "stratum": "b"} for v in INCOMES]
    result = outliers(inputs(interviews(rows)))
    rules = {f.value: f.evidence["rules"] for f in result.flags}
    assert 9000.0 in rules  # ordinary in the survey, far out in its stratum
    assert all(rule.startswith("within stratum") for rule in rules[9000.0])


def test_blank_ids_are_never_duplicates_of_each_other():
    frame = interviews(
        [
            {"hhid": "", "age": 30},
            {"hhid": None, "age": 40},
            {"hhid": " ", "age": 50},
            {"hhid": "H1", "age": 30, "worked": "1", "health": "1"},
            {"hhid": "H1", "age": 30, "worked": "2", "health": "1", "e": "e2"},
        ]
    )
    result = duplicate_unit_ids(inputs(frame))
    assert [f.instance_id for f in result.flags] == ["uuid:0005"]
    assert result.flags[0].evidence["first"] == "uuid:0004"
    # answered in either: hhid excluded; a07_consent, age, worked, health -> worked differs
    assert result.flags[0].value == 1 / 4
    visited = units_visited_twice(inputs(frame))
    assert sorted(f.instance_id for f in visited.flags) == ["uuid:0004", "uuid:0005"]
    sample = pd.DataFrame({"unit_id": ["H1", "H2"]})
    outside = units_not_in_sample(inputs(frame, sample=sample))
    assert sorted(f.instance_id for f in outside.flags) == ["uuid:0001", "uuid:0002", "uuid:0003"]


def test_duplicate_instance_ids_but_not_blank_ones():
    frame = interviews([{"iid": "uuid:a"}, {"iid": "uuid:a"}, {"iid": ""}, {"iid": ""}])
    frame["__id"] = ["x1", "x2", "x3", "x4"]
    result = duplicate_instance_ids(inputs(frame))
    assert len(result.flags) == 2 and {f.instance_id for f in result.flags} == {"uuid:a"}
