"""The migrant questionnaire's eligibility screening, consistency constraints and skip
patterns, driven through the form logic engine (forms.logic)."""

from __future__ import annotations

from typing import Any

import pytest
from questionnaire_answers import codes, migrants_answers, problems, value

from forms.model import FormModel

Rows = dict[str, list[dict[str, Any]]]
MODULES = ("c0", "d0", "e0", "e1", "f0", "g0", "h0", "i0", "z01")


def answers() -> tuple[dict[str, Any], Rows]:
    return migrants_answers()


def drop(flat: dict[str, Any], *prefixes: str) -> None:
    """Remove the answers whose names start with any of ``prefixes``."""
    for name in [n for n in flat if n.startswith(prefixes)]:
        del flat[name]


def test_the_valid_answer_set_has_no_violations(migrants: FormModel) -> None:
    flat, rows = answers()
    assert problems(migrants, flat, rows) == set()
    assert value(migrants, flat, rows, "result") == "1"
    assert value(migrants, flat, rows, "b_elig") == "1"
    assert value(migrants, flat, rows, "d_range") == "1"  # Anhui hukou, living in Shanghai
    assert value(migrants, flat, rows, "hukou_prov") == "34"


# -- eligibility screening ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "reason", "result"),
    [
        ({"b02_birth_year": 2011, "b03_birth_month": 9}, "1", "7"),  # 14 years old
        ({"b04_arr_year": 2026, "b05_arr_month": 7}, "2", "7"),  # arrived this month
        ({"b06_hukou_place": "1"}, "3", "7"),  # hukou in this county
        ({"b06_hukou_place": "3"}, "4", "7"),  # another district of the same city
        ({"b06_hukou_place": "6"}, "5", "7"),  # abroad
        ({"b06_hukou_place": "98"}, "6", "10"),  # hukou place not known: eligibility unknown
    ],
)
def test_screened_out_people_record_the_reason(
    migrants: FormModel, change: dict[str, Any], reason: str, result: str
) -> None:
    flat, _ = answers()
    drop(flat, *MODULES)
    if "b06_hukou_place" in change:
        del flat["b07_hukou_prov"]
    flat.update(change, b09_other_elig="2")
    assert problems(migrants, flat, {}) == set()
    assert value(migrants, flat, {}, "b_screen_result") == reason
    assert value(migrants, flat, {}, "b_elig") == "0"
    assert value(migrants, flat, {}, "result") == result


def test_eligible_cross_county_and_cross_city_migrants(migrants: FormModel) -> None:
    for place, migration_range in (("2", "3"), ("4", "2")):
        flat, rows = answers()
        flat["b06_hukou_place"] = place
        del flat["b07_hukou_prov"]
        for row in rows["c_roster"]:
            row["c09_hukou_prov"] = "31"
        assert problems(migrants, flat, rows) == set()
        assert value(migrants, flat, rows, "d_range") == migration_range


def test_screening_another_member_is_required_when_one_is_eligible(migrants: FormModel) -> None:
    flat, _ = answers()
    drop(flat, *MODULES)
    flat.update(b06_hukou_place="1", b09_other_elig="1")
    del flat["b07_hukou_prov"]
    assert codes(problems(migrants, flat, {})) == {("X101", "b09_other_elig")}


def test_modules_are_skipped_for_people_screened_out(migrants: FormModel) -> None:
    flat, rows = answers()
    flat.update(b06_hukou_place="1", b09_other_elig="2")
    del flat["b07_hukou_prov"]
    found = codes(problems(migrants, flat, rows))
    assert {("X103", "c00_hh_n"), ("X103", "d01_first_year"), ("X103", "c02_rel")} <= found


def test_arrival_must_be_after_birth_and_not_after_the_interview(migrants: FormModel) -> None:
    flat, rows = answers()
    flat.update(b04_arr_year=2026, b05_arr_month=8)
    assert ("X101", "b05_arr_month") in codes(problems(migrants, flat, rows))


def test_hukou_in_another_province_cannot_be_this_province(migrants: FormModel) -> None:
    flat, rows = answers()
    flat["b07_hukou_prov"] = "31"
    assert ("X101", "b07_hukou_prov") in codes(problems(migrants, flat, rows))


# -- household roster ---------------------------------------------------------------------
def test_row_1_must_be_the_respondent(migrants: FormModel) -> None:
    flat, rows = answers()
    rows["c_roster"][0]["c02_rel"] = "1"
    rows["c_roster"][1]["c02_rel"] = "0"
    found = problems(migrants, flat, rows)
    assert ("X101", "c02_rel", (1,)) in found and ("X101", "c02_rel", (2,)) in found


def test_the_respondents_row_must_match_the_screening(migrants: FormModel) -> None:
    flat, rows = answers()
    rows["c_roster"][0].update(c04_birth_year=1992)
    assert problems(migrants, flat, rows) == {("X101", "c05_birth_month", (1,))}
    flat, rows = answers()
    rows["c_roster"][0]["c03_sex"] = "1"
    assert ("X101", "c03_sex", (1,)) in problems(migrants, flat, rows)
    flat, rows = answers()
    rows["c_roster"][0]["c09_hukou_prov"] = "32"
    assert problems(migrants, flat, rows) == {("X101", "c09_hukou_prov", (1,))}
    flat, rows = answers()
    rows["c_roster"][0]["c10_live_now"] = "2"
    assert problems(migrants, flat, rows) == {("X101", "c10_live_now", (1,))}


def test_at_most_one_spouse_of_the_other_sex(migrants: FormModel) -> None:
    flat, rows = answers()
    rows["c_roster"][2].update(c02_rel="1", c04_birth_year=1991, c07_marital="2")
    found = problems(migrants, flat, rows)
    assert ("X101", "c02_rel", (2,)) in found and ("X101", "c02_rel", (3,)) in found
    flat, rows = answers()
    rows["c_roster"][1]["c03_sex"] = "2"
    assert problems(migrants, flat, rows) == {("X101", "c03_sex", (2,))}


def test_a_spouse_needs_a_married_or_cohabiting_respondent(migrants: FormModel) -> None:
    flat, rows = answers()
    rows["c_roster"][0]["c07_marital"] = "1"
    drop(flat, "h00", "h06", "h07")
    assert problems(migrants, flat, rows) == {("X101", "c02_rel", (2,))}
    rows["c_roster"][0]["c07_marital"] = "6"  # cohabiting: no first-marriage date
    flat.update(h06_fp_use="1", h07_method="7")
    assert problems(migrants, flat, rows) == set()


ROSTER_AGES = [
    # (relation, birth year, month, valid?)
    ("2", 2005, 5, True),  # child born when the respondent was exactly 12
    ("2", 2005, 4, False),  # ... one month earlier
    ("4", 2017, 5, True),  # grandchild: 24 years younger
    ("4", 2016, 1, False),
    ("5", 1981, 5, True),  # parent: 12 years older
    ("5", 1985, 1, False),
    ("6", 1975, 1, True),  # parent-in-law
    ("6", 1990, 1, False),
    ("7", 1969, 5, True),  # grandparent: 24 years older
    ("7", 1975, 1, False),
    ("3", 2010, 1, True),  # child-in-law aged 15+
    ("3", 2012, 1, False),
    ("8", 2000, 1, True),  # sibling: no age rule
]


@pytest.mark.parametrize(("relation", "year", "month", "valid"), ROSTER_AGES)
def test_roster_ages_must_fit_the_relation(
    migrants: FormModel, relation: str, year: int, month: int, valid: bool
) -> None:
    flat, rows = answers()
    flat["c00_hh_n"] = 5
    extra = {
        "c01_name": "某某",
        "c02_rel": relation,
        "c03_sex": "1",
        "c04_birth_year": year,
        "c05_birth_month": month,
        "c08_hukou_type": "1",
        "c09_hukou_prov": "34",
        "c10_live_now": "2",
    }
    age = 2026 - year - (1 if month > 7 else 0)
    if age >= 6:
        extra["c06_edu"] = "3"
    if age >= 15:
        extra["c07_marital"] = "2"
    rows["c_roster"].append(extra)
    found = problems(migrants, flat, rows)
    assert found == (set() if valid else {("X101", "c05_birth_month", (5,))})


def test_a_spouse_must_be_married_or_cohabiting(migrants: FormModel) -> None:
    flat, rows = answers()
    rows["c_roster"][1]["c07_marital"] = "4"
    assert problems(migrants, flat, rows) == {("X101", "c07_marital", (2,))}


def test_roster_rows_must_match_the_household_size(migrants: FormModel) -> None:
    flat, rows = answers()
    flat["c00_hh_n"] = 5
    assert ("X106", "c_roster") in codes(problems(migrants, flat, rows))


def test_education_is_skipped_for_young_children(migrants: FormModel) -> None:
    flat, rows = answers()
    rows["c_roster"][3]["c06_edu"] = "1"  # a 5-year-old
    assert problems(migrants, flat, rows) == {("X103", "c06_edu", (4,))}


# -- migration, work, income -------------------------------------------------------------
def test_first_move_cannot_be_after_this_move(migrants: FormModel) -> None:
    flat, rows = answers()
    flat["d01_first_year"] = 2019
    assert codes(problems(migrants, flat, rows)) == {("X101", "d01_first_year")}


def test_family_income_cannot_be_below_own_income(migrants: FormModel) -> None:
    flat, rows = answers()
    flat["e08_hh_income"] = 5000
    assert codes(problems(migrants, flat, rows)) == {("X101", "e08_hh_income")}
    flat["e07_income"] = 999999  # refused: the check is skipped
    assert problems(migrants, flat, rows) == set()
    flat["e07_income"] = 999997  # neither a plausible income nor a sentinel
    assert ("X101", "e07_income") in codes(problems(migrants, flat, rows))


def test_housing_cost_cannot_exceed_total_spending(migrants: FormModel) -> None:
    flat, rows = answers()
    flat["e10_housing_spend"] = 10000
    assert codes(problems(migrants, flat, rows)) == {("X101", "e10_housing_spend")}
    flat["e09_hh_spend"] = 999998
    assert problems(migrants, flat, rows) == set()


def test_work_questions_are_skipped_without_work(migrants: FormModel) -> None:
    flat, rows = answers()
    drop(flat, "e03", "e04", "e05", "e06", "e07")
    flat.update(e01_worked="2", e02_why_not="1")
    assert problems(migrants, flat, rows) == set()


def test_none_cannot_be_combined_with_an_insurance(migrants: FormModel) -> None:
    flat, rows = answers()
    flat["f02_med_ins"] = "0 4"
    del flat["f03_ins_place"]  # "none" skips where the insurance is
    assert codes(problems(migrants, flat, rows)) == {("X101", "f02_med_ins")}


# -- women 15-49 ---------------------------------------------------------------------------
def test_first_marriage_must_be_after_age_13(migrants: FormModel) -> None:
    flat, rows = answers()
    flat.update(h00_mar_year=2006, h00_mar_month=4)  # she turned 13 in May 2006
    assert codes(problems(migrants, flat, rows)) == {("X101", "h00_mar_month")}
    flat["h00_mar_month"] = 98
    assert problems(migrants, flat, rows) == set()


def test_births_since_arriving_cannot_exceed_all_births(migrants: FormModel) -> None:
    flat, rows = answers()
    flat["h02_n_since"] = 3
    assert codes(problems(migrants, flat, rows)) == {("X101", "h02_n_since")}


def test_last_birth_here_must_be_after_arriving(migrants: FormModel) -> None:
    flat, rows = answers()
    flat.update(h03_last_year=2018, h04_last_month=1)  # arrived March 2018
    assert codes(problems(migrants, flat, rows)) == {("X101", "h04_last_month")}
    flat.update(h03_last_year=2026, h04_last_month=8)  # after the interview
    assert codes(problems(migrants, flat, rows)) == {("X101", "h04_last_month")}


def test_womens_module_is_skipped_for_men(migrants: FormModel) -> None:
    flat, rows = answers()
    flat["b01_sex"] = "1"
    rows["c_roster"][0]["c03_sex"] = "1"
    rows["c_roster"][1]["c03_sex"] = "2"
    found = codes(problems(migrants, flat, rows))
    assert ("X103", "h01_n_live") in found
    drop(flat, "h0")
    assert problems(migrants, flat, rows) == set()


def test_womens_module_is_skipped_after_age_49(migrants: FormModel) -> None:
    flat, rows = answers()
    flat.update(b02_birth_year=1975, d01_first_year=1995)
    rows["c_roster"][0]["c04_birth_year"] = 1975
    rows["c_roster"][1]["c04_birth_year"] = 1972
    drop(flat, "h0")
    assert problems(migrants, flat, rows) == set()


def test_partly_completed_interview(migrants: FormModel) -> None:
    flat, rows = answers()
    drop(flat, "g0", "h0", "i0")
    assert ("X102", "g01_record") in codes(problems(migrants, flat, rows))
    flat["z01_status"] = "2"
    assert problems(migrants, flat, rows) == set()
    assert value(migrants, flat, rows, "result") == "2"
