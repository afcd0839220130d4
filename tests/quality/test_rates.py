"""Missing / don't know / refusal / other rates over the APPLICABLE questions only."""

from __future__ import annotations

from qc_support import interviews

from validation.quality.applicability import answer_counts
from validation.quality.rates import answer_rates


def _frame():
    base = {"hhid": "H", "age": 30, "health": "1", "i01": "1", "i02": "2", "i03": "1", "i04": "3"}
    return interviews(
        [
            {**base, "worked": "1", "hours": 40, "income": 3000},
            {**base, "worked": "1", "hours": 45, "income": None},  # one truly missing answer
            {**base, "worked": "2"},  # hours and income skipped by relevance
            {**base, "worked": "2", "health": "98"},
            {
                **base,
                "worked": "1",
                "hours": 50,
                "income": 999998,
                "health": "96",
                "health_oth": "back pain",
            },
        ]
    )


def test_skipped_questions_are_not_missing():
    # IPA's ipacheckmissing counts empty cells over every question: 5 here (hours and
    # income of the two who did not work, plus the one real gap). Only 1 is missing.
    from qc_support import inputs

    counts = answer_counts(inputs(_frame())).counts
    assert counts["missing"].tolist() == [0, 1, 0, 0, 0]
    per = answer_counts(inputs(_frame())).per_question
    assert per["hours"]["applicable"].tolist() == [1, 1, 0, 0, 1]
    assert per["health_oth"]["applicable"].tolist() == [0, 0, 0, 0, 1]
    # asked: hhid, a07_consent, age, worked, health, i01..i04 (+ hours, income when worked,
    # + health_oth when health is "other"); the frame has no GPS column
    assert counts["applicable"].tolist() == [11, 11, 9, 9, 12]


def test_dont_know_refusal_and_other_counted_over_questions_offering_them():
    from qc_support import inputs

    counts = answer_counts(inputs(_frame())).counts
    assert counts["dont_know"].tolist() == [0, 0, 0, 1, 1]  # health 98; income 999998
    # questions offering don't know: health, i01..i04 (98), income (999998) when worked
    assert counts["dont_know_offered"].tolist() == [6, 6, 5, 5, 6]
    assert counts["other"].tolist() == [0, 0, 0, 0, 1]
    assert counts["other_offered"].tolist() == [1, 1, 1, 1, 1]


def test_rates_per_enumerator():
    from qc_support import inputs

    result = answer_rates(inputs(_frame()))
    rates = result.indicators.set_index("indicator")
    assert rates.loc["missing_rate", "successes"] == 1
    assert rates.loc["missing_rate", "n"] == 11 + 11 + 9 + 9 + 12


def test_straight_lining_in_a_battery_found_from_the_form():
    from qc_support import inputs

    from validation.quality.fabrication import batteries, straight_lining

    frame = _frame()
    frame.loc[2, ["i01", "i02", "i03", "i04"]] = "2"
    frame.loc[3, "i04"] = None  # an incomplete battery is not straight-lined
    assert batteries(inputs(frame)) == [("i01", "i02", "i03", "i04")]
    result = straight_lining(inputs(frame))
    assert [f.instance_id for f in result.flags] == ["uuid:0003"]
    assert result.indicators["successes"].iloc[0] == 1 and result.indicators["n"].iloc[0] == 4
