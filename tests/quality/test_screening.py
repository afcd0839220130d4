# ruff: noqa: E501
"""Households screened out (no eligible respondent) against the team in both directions,
and births per woman over interviewed eligible women only: hand-built teams with known
answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forms import read_markdown
from validation.quality import QualityInputs, Roles, Thresholds, run_quality

SCREEN_MD = """
| survey |                    |                  |              |                       |                                  |
|        | type               | name             | label        | relevant              | constraint                       |
|        | start              | start            |              |                       |                                  |
|        | end                | end              |              |                       |                                  |
|        | select_one visit   | a06_visit_result | Visit result |                       |                                  |
|        | select_one yn      | a07_consent      | Consent      | ${a06_visit_result} = 1 |                                |
|        | integer            | b02_n_women      | Women 15-60  | ${a07_consent} = 1    |                                  |
|        | integer            | c03_age          | Her age      | ${b02_n_women} > 0    | . >= 15 and . <= 60              |
|        | select_one yn      | d01_ever_preg    | Ever pregnant | ${c03_age} != ''     |                                  |
|        | integer            | d03_n_live       | Live births  | ${d01_ever_preg} = 1  | (. >= 1 and . <= 20) or . = 98   |
|        | select_one result  | result           | Final result |                       |                                  |
| choices |                   |                  |              |                       |                                  |
|        | list_name          | name             | label        |                       |                                  |
|        | visit              | 1                | Contacted    |                       |                                  |
|        | visit              | 2                | Nobody home  |                       |                                  |
|        | yn                 | 1                | Yes          |                       |                                  |
|        | yn                 | 2                | No           |                       |                                  |
|        | result             | 1                | Complete     |                       |                                  |
|        | result             | 3                | Nobody home  |                       |                                  |
|        | result             | 4                | Refused      |                       |                                  |
|        | result             | 7                | No eligible woman |                  |                                  |
|        | result             | 8                | Woman refused |                      |                                  |
| settings |                  |                  |              |                       |                                  |
|        | form_title         | form_id          | version      |                       |                                  |
|        | Screening          | screening        | 1            |                       |                                  |
"""


def _household(e: str, k: int, kind: str, births: float | None = None) -> dict:
    """One visit: ``woman`` (interviewed; ``births`` None = never pregnant), ``screened``
    (no eligible woman), ``away`` (nobody home), ``refused`` (consent refused),
    ``woman_refused`` (the selected woman refused)."""
    row = {
        "__id": f"uuid:{e}-{k:03d}",
        "instance_id": f"uuid:{e}-{k:03d}",
        "submitter_name": e,
        "start": "2027-07-05T10:00:00.000+08:00",
        "end": "2027-07-05T10:40:00.000+08:00",
        "a06_visit_result": "1",
        "a07_consent": "1",
        "b02_n_women": 1.0,
        "c03_age": np.nan,
        "d01_ever_preg": None,
        "d03_n_live": np.nan,
        "result": "1",
    }
    if kind == "woman":
        row["c03_age"] = 30.0
        row["d01_ever_preg"] = "2" if births is None else "1"
        row["d03_n_live"] = np.nan if births is None else births
    elif kind == "screened":
        row.update(b02_n_women=0.0, result="7")
    elif kind == "away":
        row.update(a06_visit_result="2", a07_consent=None, b02_n_women=np.nan, result="3")
    elif kind == "refused":
        row.update(a07_consent="2", b02_n_women=np.nan, result="4")
    elif kind == "woman_refused":
        row.update(result="8")
    return row


def _inputs(rows: list[dict]) -> QualityInputs:
    return QualityInputs(
        form=read_markdown(SCREEN_MD, name="screening.md"),
        main=pd.DataFrame(rows),
        roles=Roles(respondent_age=("c03_age",), ages=("c03_age",)),
        thresholds=Thresholds(min_interviews=10),
    )


def _screening_team(low: int, high: int, small: int) -> QualityInputs:
    """12 honest enumerators with 40 contacts each, 12 screened out (30%), plus ``lo``
    who screens out ``low`` of 40, ``hi`` ``high`` of 40 and ``new`` with ``small``
    contacts and none screened out; every contact also has two visits without contact."""
    rows = []
    plan = {f"e{i:02d}": (40, 12) for i in range(12)}
    plan.update(lo=(40, low), hi=(40, high), new=(small, 0))
    for e, (contacts, screened) in plan.items():
        for k in range(contacts):
            rows.append(_household(e, k, "screened" if k < screened else "woman", 1.0))
        rows += [_household(e, 100 + k, "away") for k in range(2)]
    return _inputs(rows)


def test_too_few_and_too_many_households_screened_out_are_both_flagged():
    report = run_quality(_screening_team(low=0, high=32, small=9), checks=["routes"])
    table = report.indicators[report.indicators["indicator"] == "screened_out_share"]
    table = table.set_index("enumerator")
    assert table.loc["e00", "team"] == pytest.approx(0.3)  # the typical rate, 12 of 40
    assert table.loc["lo", "n"] == 40  # contacts with consent: visits without contact left out
    # the exact binomial tails under the team's 30%: 0 of 40 and 32 or more of 40
    assert table.loc["lo", "z"] == pytest.approx(-stats.norm.isf(0.7**40))
    assert table.loc["hi", "z"] == pytest.approx(stats.norm.isf(stats.binom.sf(31, 40, 0.3)))
    assert set(table.index[table["flagged"]]) == {"lo", "hi"}
    reasons = report.enumerators.set_index("enumerator")["reasons_en"]
    assert (
        "0% of contacted households screened out (no eligible respondent) vs team 30% (n=40)"
        in reasons["lo"]
    )
    assert "80% of contacted households screened out" in reasons["hi"]


def test_few_contacts_never_flag_a_share_of_none_screened_out():
    report = run_quality(_screening_team(low=12, high=12, small=9), checks=["routes"])
    table = report.indicators[report.indicators["indicator"] == "screened_out_share"]
    row = table.set_index("enumerator").loc["new"]
    assert row["value"] == 0 and row["n"] == 9
    assert not row["eligible"] and row["signal"] == 0 and not row["flagged"]
    assert not table["flagged"].any()


def test_a_lower_share_screened_out_within_chance_is_not_flagged():
    # 8 of 40 against 30%: P(X <= 8) = 0.11, nothing to see
    report = run_quality(_screening_team(low=8, high=16, small=9), checks=["routes"])
    table = report.indicators[report.indicators["indicator"] == "screened_out_share"]
    assert not table["flagged"].any()
    lo = table.set_index("enumerator").loc["lo"]
    assert lo["z"] == pytest.approx(-stats.norm.isf(stats.binom.cdf(8, 40, 0.3)))


def _births_per_woman(rows: list[dict]) -> pd.DataFrame:
    indicators = run_quality(_inputs(rows), checks=["births_per_woman"]).indicators
    return indicators[indicators["indicator"] == "births_per_woman"].set_index("enumerator")


def test_births_per_woman_counts_interviewed_eligible_women_only():
    rows = [
        _household("e1", 0, "woman", 2.0),
        _household("e1", 1, "woman", 1.0),
        _household("e1", 2, "woman", None),  # never pregnant: a woman with 0 births
        _household("e1", 3, "woman", 98.0),  # don't know: left out
        _household("e1", 4, "screened"),  # no eligible woman: not a woman with 0 births
        _household("e1", 5, "screened"),
        _household("e1", 6, "away"),
        _household("e1", 7, "refused"),
        _household("e1", 8, "woman_refused"),  # the selected woman refused: no births known
    ]
    row = _births_per_woman(rows).loc["e1"]
    assert row["value"] == pytest.approx((2 + 1 + 0) / 3)
    assert row["n"] == 3


def test_births_per_woman_of_a_team_does_not_move_with_its_screening():
    """Two enumerators whose women have the same births, one of whom screens out half her
    households: the same births per woman (the old denominator gave 1.0 vs 0.5)."""
    rows = []
    for k in range(20):
        rows.append(_household("a", k, "woman", 1.0))
        rows.append(_household("b", k, "woman" if k < 10 else "screened", 1.0))
    values = _births_per_woman(rows)["value"]
    assert values["a"] == values["b"] == 1.0
