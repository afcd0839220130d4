"""forms.frames: OData submissions <-> main and repeat frames."""

from __future__ import annotations

import numpy as np
from forms_fixtures import HOUSEHOLD_MD, NESTED_MD, household_submission

from forms import read_markdown
from forms.frames import (
    column_names,
    frames_to_submissions,
    random_frames,
    submission_frames,
)


def test_main_and_repeat_frames():
    form = read_markdown(HOUSEHOLD_MD)
    frames = submission_frames(
        form, [household_submission(), household_submission(__id="uuid:2", member=[])]
    )
    main = frames.main
    assert list(main["__id"]) == ["uuid:0001", "uuid:2"]
    assert main["hhsize"].dtype == np.float64
    assert str(main["interview"].dtype) == "datetime64[ns]"
    assert main.loc[0, "income"] == 5200.5  # flattened out of group 'mig'
    assert main.loc[0, "gps"] == "39.9 116.4 50.0 5"
    member = frames.repeats["member"]
    assert list(member["__parent_row"]) == [0, 0]
    assert list(member["__position"]) == [1, 2]
    assert list(member["mname"]) == ["Li", "Wang"]
    assert frames.frame_of(form["mage"]) is member


def test_bad_values_are_kept_as_text():
    form = read_markdown(HOUSEHOLD_MD)
    frames = submission_frames(form, [household_submission(hhsize="many")])
    assert frames.main["hhsize"].dtype == object
    assert frames.main.loc[0, "hhsize"] == "many"


def test_nested_repeats_round_trip():
    form = read_markdown(NESTED_MD)
    frames = random_frames(form, 20, seed=3, max_repeat=3)
    person = frames.repeats["person"]
    hh = frames.repeats["hh"]
    assert person["__parent_row"].max() < len(hh)
    # a person belongs to a household of the same submission
    assert list(person["__id"]) == list(hh["__id"].to_numpy()[person["__parent_row"]])
    submissions = frames_to_submissions(frames)
    again = submission_frames(form, submissions)
    for name, frame in frames.repeats.items():
        assert list(again.repeats[name]["__parent_row"]) == list(frame["__parent_row"])
    assert frames_to_submissions(again) == submissions


def test_column_names_disambiguate_repeated_names():
    form = read_markdown("""
| survey |             |      |       |
|        | type        | name | label |
|        | begin_group | g1   | G1    |
|        | text        | x    | X     |
|        | end_group   |      |       |
|        | begin_group | g2   | G2    |
|        | text        | x    | X     |
|        | end_group   |      |       |
""")
    assert sorted(column_names(form).values()) == ["g1.x", "g2.x"]
