"""The back-check draw: shares per enumerator (more in the first days), every flagged
interview, never a unit already back-checked, reproducible with a seed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from validation.backcheck import BackcheckError, draw_backchecks


def fieldwork(enumerators=3, per_day=4, days=20, flagged_every=17):
    rows = []
    k = 0
    for e in range(enumerators):
        for day in range(days):
            for n in range(per_day):
                k += 1
                rows.append(
                    {
                        "instance_id": f"uuid:{k:05d}",
                        "enumerator": f"e{e}",
                        "unit": f"h{k:05d}",
                        "start": pd.Timestamp(2027, 7, 1) + pd.Timedelta(days=day, hours=9 + n),
                        "flagged": k % flagged_every == 0,
                    }
                )
    return pd.DataFrame(rows)


def test_shares_per_enumerator_and_period():
    interviews = fieldwork(flagged_every=10**9)  # nothing flagged
    drawn = draw_backchecks(interviews, share=0.10, share_max=0.20, first_days=7, seed=5)
    for _, group in drawn.groupby("enumerator"):
        counts = group["period"].value_counts()
        assert counts["early"] == math.ceil(0.20 * 7 * 4)  # 28 interviews in the first week
        assert counts["later"] == math.ceil(0.10 * 13 * 4)  # 52 later
    assert set(drawn["reason"]) == {"random"}


def test_every_flagged_interview_is_included():
    interviews = fieldwork()
    drawn = draw_backchecks(interviews, seed=5)
    flagged = set(interviews.loc[interviews["flagged"], "unit"])
    assert flagged <= set(drawn["unit"])
    assert set(drawn.loc[drawn["reason"] == "flagged", "unit"]) == flagged


def test_flagged_interviews_beyond_the_share_are_all_taken():
    interviews = fieldwork(flagged_every=2)
    drawn = draw_backchecks(interviews, seed=5)
    assert set(drawn["unit"]) == set(interviews.loc[interviews["flagged"], "unit"])


def test_reproducible_with_a_seed_and_stable_per_enumerator():
    interviews = fieldwork()
    first = draw_backchecks(interviews, seed=11)
    again = draw_backchecks(interviews.sample(frac=1, random_state=3), seed=11)
    assert sorted(first["unit"]) == sorted(again["unit"])
    other = draw_backchecks(interviews, seed=12)
    assert sorted(first["unit"]) != sorted(other["unit"])
    # a new enumerator does not change anybody else's draw
    more = pd.concat(
        [
            interviews,
            fieldwork(enumerators=4)
            .query("enumerator == 'e3'")
            .assign(unit=lambda f: "z" + f["unit"], instance_id=lambda f: "z" + f["instance_id"]),
        ]
    )
    bigger = draw_backchecks(more, seed=11)
    assert sorted(bigger.query("enumerator != 'e3'")["unit"]) == sorted(first["unit"])


def test_units_already_back_checked_are_never_drawn_and_count_towards_the_target():
    interviews = fieldwork(enumerators=1, flagged_every=10**9)
    first = draw_backchecks(interviews, seed=1)
    second = draw_backchecks(interviews, seed=1, done_units=first["unit"])
    assert second.empty  # the target is met by the first draw
    # a week later: new interviews only top up
    later = fieldwork(enumerators=1, days=27, flagged_every=10**9)
    topped = draw_backchecks(later, seed=1, done_units=first["unit"])
    assert not set(topped["unit"]) & set(first["unit"])
    assert len(topped) == math.ceil(0.10 * 20 * 4) - math.ceil(0.10 * 13 * 4)


def test_fieldwork_start_moves_the_first_days():
    interviews = fieldwork(enumerators=1, flagged_every=10**9)
    drawn = draw_backchecks(interviews, seed=1, fieldwork_start=pd.Timestamp(2027, 6, 1).date())
    assert set(drawn["period"]) == {"later"}
    assert len(drawn) == math.ceil(0.10 * 80)


def test_bad_parameters():
    with pytest.raises(BackcheckError, match="share"):
        draw_backchecks(fieldwork(), share=0.3, share_max=0.2)
    with pytest.raises(BackcheckError, match="unit"):
        draw_backchecks(fieldwork().drop(columns="unit"))
    assert draw_backchecks(fieldwork().iloc[:0]).empty
    assert np.all(draw_backchecks(fieldwork(), seed=2)["unit"].str.startswith("h"))
