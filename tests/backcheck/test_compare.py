"""Back-check comparison on fixtures with known error rates (bcstats's rules): tolerances,
missing answers, select_multiple as sets, back-checks without an original, reliability."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from validation.backcheck import BackcheckError, BackcheckVariable, compare_backchecks, reliability

VARIABLES = [
    BackcheckVariable("age", 1, tolerance=1),
    BackcheckVariable("owns", 2),
    BackcheckVariable("income", 2, tolerance=0.10, relative=True),
    BackcheckVariable("crops", 3),
]
# unit, enumerator, age, owns, income, crops
ORIGINALS = pd.DataFrame(
    [
        ("u1", "A", 30, "1", 1000, "rice wheat"),
        ("u2", "A", 41, "2", 2000, "rice"),
        ("u3", "A", 25, "1", 1500, None),
        ("u4", "A", 52, None, 800, "maize"),
        ("u5", "B", 33, "1", 1200, "rice"),
        ("u6", "B", 47, "2", 3000, "wheat"),
        ("u7", "B", 60, "1", 900, "rice"),
        ("u8", "B", 28, "2", 2500, "maize"),
    ],
    columns=["unit", "enumerator", "age", "owns", "income", "crops"],
)
# unit, backchecker, age, owns, income, crops
BACKCHECKS = pd.DataFrame(
    [
        ("u1", "X", 31, "1", 1090, "wheat rice"),  # age within 1, income within 10%, same set
        ("u2", "X", 41, "1", 2000, "rice"),  # owns differs (type 2)
        ("u3", "Y", 25, "1", 1800, None),  # income +20% differs; crops both missing
        ("u4", "Y", 52, "1", 800, "maize"),  # owns missing in the original: differs
        ("u5", "X", 38, "2", 1200, "rice"),  # age +5 and owns differ
        ("u6", "Y", 40, "2", 3000, "rice"),  # age -7 differs; crops differs (type 3)
        ("u7", "Y", "60", "1", "900", "rice"),  # numbers given as text: all equal
        ("u9", "X", 30, "1", 100, "rice"),  # no original interview
    ],
    columns=["unit", "backchecker", "age", "owns", "income", "crops"],
)


@pytest.fixture
def result():
    return compare_backchecks(ORIGINALS, BACKCHECKS, VARIABLES, expected_units=["u1", "u8"])


def rates(table, key):
    return table.set_index(key)


def test_enumerator_error_rates_count_types_1_and_2(result):
    table = rates(result.by_enumerator, "enumerator")
    # A: 4 units x 3 type 1-2 variables = 12 comparisons; owns u2, owns u4, income u3
    assert table.loc["A", "compared"] == 12 and table.loc["A", "different"] == 3
    assert table.loc["A", "error_rate"] == pytest.approx(3 / 12)
    # B: 3 units (u8 not back-checked) x 3 = 9; age u5, owns u5, age u6
    assert table.loc["B", "compared"] == 9 and table.loc["B", "different"] == 3
    assert table.loc["B", "error_rate"] == pytest.approx(3 / 9)
    # type 3 is reported but does not count: A compared crops on 3 units (u3 both missing)
    assert table.loc["A", "compared_t3"] == 3 and table.loc["A", "different_t3"] == 0
    assert table.loc["B", "different_t3"] == 1
    assert list(result.enumerator_rates().columns) == ["enumerator", "error_rate", "compared"]


def test_backchecker_error_rates_count_every_type(result):
    table = rates(result.by_backchecker, "backchecker")
    # X: u1, u2, u5 -> 3 x 4 = 12 comparisons; owns u2, age u5, owns u5
    assert (table.loc["X", "compared"], table.loc["X", "different"]) == (12, 3)
    # Y: u3, u4, u6, u7 -> 16 minus crops u3 (both missing) = 15; income u3, owns u4,
    # age u6, crops u6
    assert (table.loc["Y", "compared"], table.loc["Y", "different"]) == (15, 4)


def test_variable_error_rates_and_tolerances(result):
    table = rates(result.by_variable, "variable")
    assert (table.loc["age", "compared"], table.loc["age", "different"]) == (7, 2)
    assert (table.loc["owns", "compared"], table.loc["owns", "different"]) == (7, 3)
    assert (table.loc["income", "compared"], table.loc["income", "different"]) == (7, 1)
    assert (table.loc["crops", "compared"], table.loc["crops", "different"]) == (6, 1)
    assert table.loc["age", "error_rate"] == pytest.approx(2 / 7)


def test_reliability_ratio_against_statistics_module(result):
    survey = [1000, 2000, 1500, 800, 1200, 3000, 900]
    check = [1090, 2000, 1800, 800, 1200, 3000, 900]
    diff = [s - b for s, b in zip(survey, check, strict=True)]
    srv = statistics.variance(diff) / 2
    expected = 1 - srv / statistics.variance(check)
    row = rates(result.by_variable, "variable").loc["income"]
    assert row["srv"] == pytest.approx(srv)
    assert row["reliability"] == pytest.approx(expected)
    assert math.isnan(rates(result.by_variable, "variable").loc["age", "reliability"])  # type 1


def test_missing_and_unmatched_back_checks_are_reported(result):
    codes = sorted((i.code, i.message) for i in result.issues)
    assert ("B001", "back-check of unit u9 has no original interview") in codes
    assert ("B002", "unit u8 was drawn for a back-check and is not back-checked yet") in codes
    assert "u9" not in set(result.comparisons["unit"])


def test_exclude_missing_and_no_difference_codes():
    strict = compare_backchecks(ORIGINALS, BACKCHECKS, VARIABLES, exclude_missing=True)
    owns = rates(strict.by_variable, "variable").loc["owns"]
    assert (owns["compared"], owns["different"]) == (6, 2)  # u4's missing original left out
    lenient = compare_backchecks(ORIGINALS, BACKCHECKS, VARIABLES, no_difference=["2"])
    owns = rates(lenient.by_variable, "variable").loc["owns"]
    assert owns["different"] == 2  # u5's back-check answer "2" is not a difference


def test_duplicate_back_checks_compare_the_last():
    twice = pd.concat([BACKCHECKS, BACKCHECKS.iloc[[1]].assign(owns="2")], ignore_index=True)
    result = compare_backchecks(ORIGINALS, twice, VARIABLES)
    assert any(i.code == "B003" and "u2" in i.message for i in result.issues)
    row = result.comparisons.query("unit == 'u2' and variable == 'owns'").iloc[0]
    assert not row["different"]


def test_bad_inputs_are_clear_errors():
    with pytest.raises(BackcheckError, match="back-checks: missing column\\(s\\) backchecker"):
        compare_backchecks(ORIGINALS, BACKCHECKS.drop(columns="backchecker"), VARIABLES)
    with pytest.raises(BackcheckError, match="no back-check variables"):
        compare_backchecks(ORIGINALS, BACKCHECKS, [])
    with pytest.raises(BackcheckError, match="type 4"):
        BackcheckVariable("x", 4)


def test_reliability_needs_two_numeric_pairs():
    assert all(math.isnan(v) for v in reliability(pd.Series(["a", "b"]), pd.Series([1, 2])))
    srv, ratio = reliability(pd.Series([1.0, 2.0, 3.0]), pd.Series([1.0, 2.0, 3.0]))
    assert srv == 0 and ratio == 1
    assert np.isfinite(ratio)
